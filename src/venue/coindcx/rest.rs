//! CoinDCX futures order entry and queries over REST as pure code (exchanges.md §7.2, §7.3,
//! §7.6): every request's body is compact JSON starting with `timestamp` (venue ms), built
//! into the caller's buffer and signed over exactly those bytes (`X-AUTH-SIGNATURE`, hex
//! HMAC-SHA256; `X-AUTH-APIKEY` on every request). The venue rejects an order whose
//! `timestamp` is more than 10 s old, so a request is signed when it is encoded, never ahead.
//!
//! Endpoints driven by the gateway (all under `/exchange/v1/derivatives/futures`):
//! `POST /orders/create` (`{"timestamp","order":{side, pair, order_type, price,
//! total_quantity, time_in_force, …}}`), `POST /orders/cancel` (`{"timestamp","id"}`),
//! `POST /orders` (the order list, by `status` and `side`: status, open orders, and an
//! order's cumulative `fee_amount` for its fees) and `GET /wallets` (a signed JSON body on a
//! GET, as the docs' code sends it); for perpetuals `POST /positions/update_leverage` (the
//! configured leverage at start; HTTP 200 read as set, the docs giving no answer body) and
//! `POST /positions` with `pairs` (the sweep's position; a pair not listed is flat); `POST
//! /orders/edit` as the gateway's in-place amend, and the open-orders list followed page by
//! page ([`super::rest_list`]). Encoded here but not driven by the gateway: `POST
//! /positions/cancel_all_open_orders` ([`CoindcxRest::extra`], which also writes the
//! all-pairs positions body).
//!
//! **No client order id.** The reference's create-order has no client id field, so orders are
//! found by their venue id, learned from the create answer, or by their terms when that
//! answer is lost ([`super::ids`]). A cancel of an order whose venue id is not known yet asks
//! the order list instead (a status query): the gateway resends the cancel at its deadline,
//! by then with the id.
//!
//! **Outcomes.** HTTP 200 accepts; 400 ("Insufficient funds", price or size rules), 422
//! (leverage, quantity) and 401 (key or signature; also the simulator's answer to a stale
//! `timestamp`, for which the docs name no code) refuse; 404 to a cancel or query means no
//! such order; 429 backs off (no `Retry-After` documented: 1 s, doubling) and leaves the
//! request's outcome unknown; a 5xx, any other status, a timeout or a lost connection leave
//! an order unknown: it is queried, never assumed rejected. Rate limit: the FAQ's general
//! 16 requests per second (no futures table exists), kept as the session's order limit.

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::{AssetCode, OrderEvent, OrderKind, SnapshotStatus};
use crate::types::{
    ClientOrderId, Notional, OrderStatus, Price, Qty, Side, TimeInForce, TradeId, UnixNanos,
    VenueOrderId,
};
use crate::venue::order::{Balance, OrderSnapshot, PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::pages::Pager;
use crate::venue::rest::{
    Answer, Class, Inflight, Method, RateHeaders, RatePolicy, RestCodec, RestHead, RestPlan,
    SignedHeaders, unknown_outcome as unknown,
};

use super::ids::{Sent, SharedIds};
use super::private::{OrderUpdate, order_updates};
pub use super::rest_list::PAGE_SIZE;
use super::sign::{API_KEY_HEADER, CoindcxSigner, SIGNATURE_HEADER};

#[path = "rest_answers.rs"]
mod answers;
use answers::*;
pub use answers::{balances, order_events, positions, snapshot_of};

/// The futures REST paths.
pub const CREATE: &str = "/exchange/v1/derivatives/futures/orders/create";
pub const CANCEL: &str = "/exchange/v1/derivatives/futures/orders/cancel";
pub const LIST: &str = "/exchange/v1/derivatives/futures/orders";
pub const EDIT: &str = "/exchange/v1/derivatives/futures/orders/edit";
pub const WALLETS: &str = "/exchange/v1/derivatives/futures/wallets";
pub const POSITIONS: &str = "/exchange/v1/derivatives/futures/positions";
pub const LEVERAGE: &str = "/exchange/v1/derivatives/futures/positions/update_leverage";
pub const CANCEL_ALL: &str = "/exchange/v1/derivatives/futures/positions/cancel_all_open_orders";
/// The public order book, asked to open the connection and keep it warm.
pub const WARM: &str = "/exchange/v1/derivatives/futures/data/active_instruments";

/// Every order status the list knows (exchanges.md §7.3).
pub(super) const ALL_STATUSES: &str =
    "open,partially_filled,filled,cancelled,partially_cancelled,rejected,untriggered";
pub(super) const OPEN_STATUSES: &str = "open,partially_filled,untriggered";

/// The FAQ's general limit: 16 requests per second (960 per minute).
pub const REQUESTS_PER_SECOND: u32 = 16;

/// What a CoinDCX HTTP status means for the request (exchanges.md §7.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Accepted,
    /// Refused, nothing done (400, 401, 422).
    Rejected,
    /// No such order (404 to a cancel or a query).
    NotFound,
    /// 429.
    RateLimited,
    /// 5xx and statuses the docs do not list: the request may have been executed.
    Unknown,
}

pub fn classify(status: u16) -> ErrorClass {
    match status {
        200..=299 => ErrorClass::Accepted,
        400 | 401 | 422 => ErrorClass::Rejected,
        404 => ErrorClass::NotFound,
        429 => ErrorClass::RateLimited,
        _ => ErrorClass::Unknown,
    }
}

/// `Retry-After` if a 429 carries one (the docs promise none).
fn rate_headers(pairs: &[(&str, &[u8])]) -> RateHeaders {
    let mut h = RateHeaders::default();
    for &(name, value) in pairs {
        if name.eq_ignore_ascii_case("retry-after") {
            h.retry_after_s = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse().ok());
        }
    }
    h
}

/// `fmt::Write` into a byte buffer.
pub(super) struct Buf<'a>(pub(super) &'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Requests the gateway has no seam for, encoded by [`CoindcxRest::extra`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra<'a> {
    /// `POST /positions`: the margin currency's positions (first page).
    Positions,
    /// `POST /positions/update_leverage` for `pair`.
    Leverage { pair: &'a str, leverage: u32 },
    /// `POST /orders/edit`: a new price and total quantity for venue order `id` (the body the
    /// gateway's amend sends, `rest_list.rs`; unconfirmed).
    Edit {
        id: &'a str,
        price: Price,
        qty: Qty,
        price_decimals: u32,
        qty_decimals: u32,
    },
    /// `POST /positions/cancel_all_open_orders` (not in the reference's table; unconfirmed).
    CancelAll,
}

/// The REST side of one CoinDCX key.
pub struct CoindcxRest {
    api_key: String,
    signer: CoindcxSigner,
    /// `USDT` or `INR`.
    pub(super) margin_currency: String,
    pub(super) ids: SharedIds,
    inflight: Inflight,
    policy: RatePolicy,
    /// The open-orders list's pages (`rest_list.rs`).
    pub(super) pages: Pager<OrderUpdate>,
    /// The page number of each follow-up page request in flight.
    pub(super) list_pages: Vec<(u64, u32)>,
    /// Status and fee queries' next pages to ask (`rest_list.rs`).
    pub(super) query_due: std::collections::VecDeque<(Purpose, u32)>,
    /// Orders asked for per list page.
    pub(super) page_size: u32,
}

impl CoindcxRest {
    pub fn new(
        api_key: &str,
        signer: CoindcxSigner,
        margin_currency: &str,
        ids: SharedIds,
    ) -> Self {
        Self {
            api_key: api_key.to_owned(),
            signer,
            margin_currency: margin_currency.to_owned(),
            ids,
            inflight: Inflight::default(),
            // No request weight is reported: only 429s hold requests back.
            policy: RatePolicy::new(u32::MAX),
            pages: Pager::default(),
            list_pages: Vec::new(),
            query_due: Default::default(),
            page_size: PAGE_SIZE,
        }
    }

    /// The same codec asking for `n` orders per list page (tests; 50 otherwise).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Lists given up (page cap or a repeated page) and follow-up pages sent.
    pub fn page_counts(&self) -> (u64, u64) {
        (self.pages.capped, self.pages.followed)
    }

    /// The signature of `buf` (the body as it will be sent), as the request's header.
    fn signature(&self, buf: &[u8]) -> SignedHeaders {
        let mut signed = SignedHeaders::default();
        signed.push(SIGNATURE_HEADER, &self.signer.sign(buf));
        signed
    }

    pub(super) fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        buf: &[u8],
    ) -> RestHead {
        let signed = self.signature(buf);
        let id = self.inflight.insert(p);
        RestHead {
            id,
            method,
            path,
            class,
            signed,
            bearer: false,
        }
    }

    /// `{"timestamp":…` (the opening every body shares).
    pub(super) fn open(buf: &mut Vec<u8>, now_ms: u64) {
        buf.clear();
        let _ = write!(Buf(buf), r#"{{"timestamp":{now_ms}"#);
    }

    /// The order list body: `status`, an optional `side`, page `page` of `page_size`.
    pub(super) fn list_body(
        &self,
        status: &str,
        side: Option<Side>,
        page: u32,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) {
        Self::open(buf, now_ms);
        let _ = write!(Buf(buf), r#","status":"{status}""#);
        if let Some(s) = side {
            let _ = write!(Buf(buf), r#","side":"{}""#, side_name(s));
        }
        let _ = write!(
            Buf(buf),
            r#","page":"{page}","size":"{}","margin_currency_short_name":["{}"]}}"#,
            self.page_size,
            self.margin_currency
        );
    }

    /// A request the gateway has no seam for: its path, with the body in `buf` and its
    /// signature header. Its answer is not decoded here (see [`positions`] for the list).
    pub fn extra(
        &self,
        req: Extra<'_>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> (&'static str, SignedHeaders) {
        Self::open(buf, now_ms);
        let path = match req {
            Extra::Positions => {
                let _ = write!(
                    Buf(buf),
                    r#","page":"1","size":"{PAGE_SIZE}","margin_currency_short_name":["{}"]}}"#,
                    self.margin_currency
                );
                POSITIONS
            }
            Extra::Leverage { pair, leverage } => {
                let _ = write!(
                    Buf(buf),
                    r#","leverage":"{leverage}","pair":"{pair}","margin_currency_short_name":"{}"}}"#,
                    self.margin_currency
                );
                LEVERAGE
            }
            Extra::Edit {
                id,
                price,
                qty,
                price_decimals,
                qty_decimals,
            } => {
                super::rest_list::write_edit(buf, id, price, qty, price_decimals, qty_decimals);
                EDIT
            }
            Extra::CancelAll => {
                let _ = write!(
                    Buf(buf),
                    r#","margin_currency_short_name":["{}"]}}"#,
                    self.margin_currency
                );
                CANCEL_ALL
            }
        };
        (path, self.signature(buf))
    }
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

impl RestCodec for CoindcxRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: vec![(API_KEY_HEADER, self.api_key.clone())],
            content_type: "application/json",
            warm_path: WARM,
            keepalive_path: WARM,
            rate_headers,
            bearer: None,
        }
    }

    /// `POST /orders/create`: `limit_order` with `good_till_cancel`, `immediate_or_cancel`
    /// or `fill_or_kill`, a post-only limit as `post_only: true`, or `market_order` (no price,
    /// no time in force). The price goes as a string and the quantity as a number, as the
    /// docs' sample sends them; no `leverage` (the position's applies); reduce-only as
    /// `reduce_only: true` (not in the reference: unconfirmed).
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        let market = o.kind == OrderKind::Market;
        self.ids.lock().on_place(Sent {
            cid: *o.cid,
            pair: o.symbol.to_owned(),
            side: o.side,
            price: if market { Price::ZERO } else { o.price },
            qty: o.qty,
            market,
            sent_ms: now_ms,
            venue_id: None,
        });
        let mut n = [0u8; 48];
        Self::open(buf, now_ms);
        let _ = write!(
            Buf(buf),
            r#","order":{{"side":"{}","pair":"{}","order_type":"{}""#,
            side_name(o.side),
            o.symbol,
            if market {
                "market_order"
            } else {
                "limit_order"
            }
        );
        if !market {
            buf.extend_from_slice(br#","price":""#);
            let k = o.price.write_fixed(o.price_decimals, &mut n);
            buf.extend_from_slice(&n[..k]);
            buf.push(b'"');
        }
        buf.extend_from_slice(br#","total_quantity":"#);
        let k = o.qty.write_fixed(o.qty_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        if !market {
            let tif = match (o.kind, o.tif) {
                (_, TimeInForce::Ioc) => "immediate_or_cancel",
                (_, TimeInForce::Fok) => "fill_or_kill",
                _ => "good_till_cancel",
            };
            let _ = write!(Buf(buf), r#","time_in_force":"{tif}""#);
            if o.kind == OrderKind::LimitMaker {
                buf.extend_from_slice(br#","post_only":true"#);
            }
        }
        if o.reduce_only {
            buf.extend_from_slice(br#","reduce_only":true"#);
        }
        let _ = write!(
            Buf(buf),
            r#","notification":"no_notification","margin_currency_short_name":"{}"}}}}"#,
            self.margin_currency
        );
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            CREATE,
            Class::Order,
            buf,
        )
    }

    /// `POST /orders/cancel` by the venue id; while that id is not known, the order list is
    /// asked instead (as a status query), and the gateway resends the cancel at its deadline.
    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let Some(id) = self.ids.lock().venue_id(cid) else {
            return self.status(symbol, cid, now_ms, buf);
        };
        Self::open(buf, now_ms);
        let _ = write!(Buf(buf), r#","id":"{id}"}}"#);
        self.finish(
            Purpose::Cancel(*cid),
            Method::Post,
            CANCEL,
            Class::Order,
            buf,
        )
    }

    /// `POST /orders` with every status, on the order's side: the order is found in the
    /// first page by its venue id, or by its terms ([`super::ids`]).
    fn status(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let side = self.ids.lock().get(cid).map(|s| s.side);
        self.list_body(ALL_STATUSES, side, 1, now_ms, buf);
        self.finish(Purpose::Status(*cid), Method::Post, LIST, Class::Query, buf)
    }

    /// The order's fees: its cumulative `fee_amount` in the order list (the own-trades
    /// endpoint's answer is not in the reference). One entry, named by the order's id.
    fn trades(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        _venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let side = self.ids.lock().get(cid).map(|s| s.side);
        self.list_body(ALL_STATUSES, side, 1, now_ms, buf);
        self.finish(Purpose::Trades(*cid), Method::Post, LIST, Class::Query, buf)
    }

    /// `POST /orders` for the open statuses, page 1; later pages follow (`next_page`).
    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        self.open_list_body(1, now_ms, buf);
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Post,
            LIST,
            Class::Sweep,
            buf,
        )
    }

    /// `GET /wallets` with the signed body `{"timestamp":…}`.
    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        Self::open(buf, now_ms);
        buf.push(b'}');
        self.finish(Purpose::Account, Method::Get, WALLETS, Class::Sweep, buf)
    }

    /// `POST /positions` for `pair` (`pairs` as one string: unconfirmed), first page.
    fn positions(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        Self::open(buf, now_ms);
        let _ = write!(
            Buf(buf),
            r#","page":"1","size":"{PAGE_SIZE}","pairs":"{symbol}","margin_currency_short_name":["{}"]}}"#,
            self.margin_currency
        );
        Some(self.finish(
            Purpose::Positions(symbol.to_owned()),
            Method::Post,
            POSITIONS,
            Class::Sweep,
            buf,
        ))
    }

    /// `POST /positions/update_leverage` `{"timestamp","leverage":"5","pair",
    /// "margin_currency_short_name"}` (the wallet: [`super::margin`]). The answer's body is not
    /// in the reference: HTTP 200 is read as set.
    fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: crate::types::Rate,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        Self::open(buf, now_ms);
        let l = leverage.to_fixed_string(leverage.decimals_needed());
        let _ = write!(
            Buf(buf),
            r#","leverage":"{l}","pair":"{symbol}","margin_currency_short_name":"{}"}}"#,
            self.margin_currency
        );
        Some(self.finish(
            Purpose::SetLeverage {
                symbol: symbol.to_owned(),
                leverage,
            },
            Method::Post,
            LEVERAGE,
            Class::Query,
            buf,
        ))
    }

    /// USDT-margined orders are edited in place (`POST /orders/edit`, `rest_list.rs`).
    fn amends_in_place(&self) -> bool {
        self.edits()
    }

    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        self.edit(o, now_ms, buf)
    }

    fn next_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        self.next_list_page(now_ms, buf)
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        self.list_pages.retain(|&(i, _)| i != id);
        self.inflight.take(id)
    }

    fn on_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        if let Answer::Http {
            status, headers, ..
        } = answer
            && let Some(ms) = self.policy.note(status, &headers, at)
        {
            out.push(SessionEvent::RateLimited { retry_after_ms: ms });
        }
        if id == 0 {
            return;
        }
        let Some(purpose) = self.inflight.take(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let (status, body) = match answer {
            Answer::Http { status, body, .. } => (status, body),
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => {
                let error = VenueError {
                    code: 429,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                return self.refuse(purpose, error, ErrorClass::Rejected, at, out);
            }
        };
        match classify(status) {
            ErrorClass::Accepted => {}
            ErrorClass::RateLimited | ErrorClass::Unknown => return unknown(purpose, out),
            class => return self.refuse(purpose, error_of(status, body), class, at, out),
        }
        let decoded = match &purpose {
            Purpose::Cancel(_) => Ok(Vec::new()),
            Purpose::Account => balances(body).map(|b| vec![SessionEvent::Balances(b)]),
            Purpose::Place(cid) => orders(body).map(|l| self.placed(*cid, &l, at)),
            Purpose::Status(_) | Purpose::Trades(_) => {
                orders(body).map(|l| self.query_page(id, &purpose, &l, at))
            }
            Purpose::OpenOrders(symbol) => orders(body).map(|l| self.open_page(id, symbol, l)),
            Purpose::Positions(symbol) => {
                positions(body).map(|l| position_of(symbol, &self.margin_currency, &l))
            }
            Purpose::SetLeverage { symbol, leverage } => Ok(vec![SessionEvent::LeverageSet {
                symbol: symbol.clone(),
                leverage: *leverage,
            }]),
            Purpose::Amend(cid) => orders(body).map(|l| self.edited(*cid, &l, at)),
            Purpose::Subscribe
            | Purpose::Logon
            | Purpose::PlaceBatch(_)
            | Purpose::CancelBatch(_)
            | Purpose::AmendBatch(_) => Ok(Vec::new()),
        };
        match decoded {
            Ok(evs) => out.extend(evs),
            Err(e) => {
                out.push(SessionEvent::Undecodable(e));
                unknown(purpose, out);
            }
        }
    }

    fn policy(&self) -> &RatePolicy {
        &self.policy
    }
}

impl CoindcxRest {
    /// A request refused ([`refused`]); a create the venue refused gives up its place in the
    /// id book (nothing was placed for it to be matched with).
    fn refuse(
        &self,
        purpose: Purpose,
        error: VenueError,
        class: ErrorClass,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        refused(purpose, error, class, at, out);
        if let Some(SessionEvent::PlaceRejected { cid, .. }) = out.last() {
            self.ids.lock().refused(cid);
        }
    }

    /// The create answer: a list holding the new order, bound to `cid`.
    fn placed(&self, cid: ClientOrderId, l: &[OrderUpdate], at: UnixNanos) -> Vec<SessionEvent> {
        let mine = l.iter().find_map(|u| {
            let id = VenueOrderId::new(u.id.as_bytes())?;
            self.ids.lock().bind(&cid, id).then_some(u)
        });
        match mine {
            Some(u) => order_events(cid, u, at),
            None => vec![SessionEvent::Uncertain { cid }],
        }
    }

    /// A status query's list: the order's snapshot, or that the venue has no such order.
    pub(super) fn found(
        &self,
        cid: ClientOrderId,
        l: &[OrderUpdate],
        at: UnixNanos,
    ) -> Vec<SessionEvent> {
        // Claiming binds any of mako's orders the list shows; the one asked about is kept.
        let items: Vec<&OrderUpdate> = l.iter().collect();
        let cids = self.ids.lock().claim_list(&items);
        let mine = l
            .iter()
            .zip(&cids)
            .find(|(_, c)| **c == Some(cid))
            .map(|(u, _)| u);
        match mine {
            Some(u) => order_events(cid, u, at),
            None => vec![SessionEvent::NotFound { cid }],
        }
    }

    pub(super) fn fees(&self, cid: ClientOrderId, l: &[OrderUpdate]) -> Vec<SessionEvent> {
        let ids = self.ids.lock();
        match l.iter().find(|u| ids.bound(u) == Some(cid)) {
            Some(u) => {
                let mut out = Vec::with_capacity(2);
                fee_events(cid, u, &mut out);
                out
            }
            None => vec![SessionEvent::Failed {
                purpose: Purpose::Trades(cid),
                error: VenueError {
                    code: 404,
                    msg: "the order is not in the order list".into(),
                },
            }],
        }
    }

    pub(super) fn open_list(&self, symbol: &str, l: &[OrderUpdate]) -> Vec<SessionEvent> {
        let mut ids = self.ids.lock();
        let items: Vec<&OrderUpdate> = l
            .iter()
            .filter(|u| u.pair == symbol)
            .filter(|u| super::margin::is_mine(&u.margin_currency, &self.margin_currency))
            .collect();
        // Mako's (bound, fitting a sent order, or adopted from the store), else an order
        // placed elsewhere, under its own id.
        let cids = ids.claim_list(&items);
        let orders = items
            .iter()
            .zip(cids)
            .filter_map(|(u, cid)| {
                let cid = cid.or_else(|| ids.name_foreign(u))?;
                Some(snapshot_of(cid, u))
            })
            .collect();
        vec![SessionEvent::OpenOrders {
            symbol: symbol.to_owned(),
            orders,
        }]
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
