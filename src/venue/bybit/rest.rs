//! Bybit v5 order entry and queries over REST as pure code (exchanges.md §3.4, §3.7–3.9), for
//! one category (spot first): each request's JSON body (POST) or query string (GET) built
//! into the caller's buffer and signed over exactly those bytes (`X-BAPI-SIGN` with
//! `X-BAPI-TIMESTAMP`; `X-BAPI-API-KEY` and `X-BAPI-RECV-WINDOW` on every request), and the
//! answers (`{"retCode","retMsg","result","retExtInfo","time"}`) mapped into the gateway's
//! `SessionEvent`s. The gateways of `bybit-spot` and `bybit-linear` venues send their orders
//! here with `order_transport = "rest"` (the default).
//!
//! Endpoints: `POST /v5/order/create` (`orderLinkId` is the client id), `POST
//! /v5/order/cancel` by `orderLinkId`, `GET /v5/order/realtime` by `orderLinkId` (status) or
//! `openOnly=0` (open orders), `GET /v5/account/wallet-balance?accountType=UNIFIED`, and
//! `GET /v5/execution/list` by `orderId` (its items read as the execution topic's: the
//! reference holds no sample of the answer), and `POST /v5/order/amend` by `orderLinkId`
//! (amends in place: `amend.rs`).
//!
//! Outcomes: `retCode` 0 with an `orderId` accepts; the documented refusals (timestamp, key,
//! sign, permission, balance, symbol, minimums) reject; 10006 ("Too many visits") backs off
//! and leaves the request's outcome unknown; HTTP 403 ("access too frequent", the IP limit)
//! stops every request for 10 minutes, as the docs ask; 10016, any code the reference does
//! not list, a 5xx, a timeout or a lost connection leave the order unknown: it is queried by
//! client id, never assumed rejected.

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::{OrderEvent, OrderKind, SnapshotStatus};
use crate::types::{
    AssetCode, ClientOrderId, Notional, Price, Qty, Rate, Side, TimeInForce, UnixNanos,
    VenueOrderId,
};
use crate::venue::decimal::floor8;
use crate::venue::order::{
    Balance, OrderSnapshot, PlaceOrder, Purpose, SessionEvent, VenueError, VenuePosition,
};
use crate::venue::pages::{Pager, Step, percent_encode};
use crate::venue::rest::{
    Answer, Class, Inflight, Method, RateHeaders, RatePolicy, RestCodec, RestHead, RestPlan,
    SignedHeaders,
};

use super::Category;
use super::amend::unknown;
use super::sign::{BybitSigner, itoa_buf};

/// What a Bybit `retCode` means for the request (exchanges.md §3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Refused, nothing done: timestamp, key, signature, permission, balance, symbol,
    /// minimums.
    Rejected,
    /// The order does not exist (110001 derivatives, 170213 spot).
    NotFound,
    /// Too many visits (10006): the per-UID, per-endpoint limit.
    RateLimited,
    /// Not known to refuse: the request may have been executed (10016 server error, codes
    /// the reference does not list).
    Unknown,
}

pub fn classify(code: i64) -> ErrorClass {
    match code {
        10006 => ErrorClass::RateLimited,
        110001 | 170213 => ErrorClass::NotFound,
        // 110017 (reduce-only rule not satisfied) is from Bybit's error page, not the
        // reference's table.
        10002..=10005
        | 110004
        | 110007
        | 110012
        | 110017
        | 170131
        | 170121
        | 170133
        | 170136
        | 170140 => ErrorClass::Rejected,
        _ => ErrorClass::Unknown,
    }
}

/// "leverage not modified": the symbol already has the leverage asked for.
const LEVERAGE_NOT_MODIFIED: i32 = 110043;

/// How long the IP limit's 403 stops every request: "wait at least 10 minutes".
const IP_BAN_S: u64 = 600;

/// `Retry-After` when sent, and the endpoint's window from `X-Bapi-Limit` (its limit),
/// `X-Bapi-Limit-Status` (requests left in the 1 s window) and `X-Bapi-Limit-Reset-Timestamp`
/// (Unix ms), which the rate policy holds sweeps back by (from 80 % used; orders are held
/// back only by 10006 and 403). The window is the answering endpoint's, applied to every
/// request: conservative for the other endpoints.
fn rate_headers(pairs: &[(&str, &[u8])]) -> RateHeaders {
    let mut h = RateHeaders::default();
    let (mut limit, mut left, mut reset) = (None, None, None);
    for &(name, value) in pairs {
        let v = std::str::from_utf8(value).ok();
        if name.eq_ignore_ascii_case("retry-after") {
            h.retry_after_s = v.and_then(|v| v.trim().parse().ok());
        } else if name.eq_ignore_ascii_case("x-bapi-limit") {
            limit = v;
        } else if name.eq_ignore_ascii_case("x-bapi-limit-status") {
            left = v;
        } else if name.eq_ignore_ascii_case("x-bapi-limit-reset-timestamp") {
            reset = v;
        }
    }
    h.window = super::trade::limit_window(limit, left, reset, super::trade::wall_ms());
    h
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The REST side of one Bybit key, for one category.
/// Open orders asked per page (Bybit's most).
const OPEN_LIMIT: usize = 50;

pub struct BybitRest {
    category: Category,
    signer: BybitSigner,
    recv_window_ms: u64,
    inflight: Inflight,
    policy: RatePolicy,
    /// Open-order lists being paged through (`nextPageCursor`).
    pages: Pager<OrderSnapshot>,
    /// The new terms of amends in flight.
    amends: super::amend::AmendTerms,
}

impl BybitRest {
    pub fn new(category: Category, signer: BybitSigner, recv_window_ms: u64) -> Self {
        Self {
            category,
            signer,
            recv_window_ms: recv_window_ms.max(1),
            inflight: Inflight::default(),
            // Bybit reports no request weight: only 10006s and 403s hold requests back.
            policy: RatePolicy::new(u32::MAX),
            pages: Pager::default(),
            amends: Default::default(),
        }
    }

    /// The rate policy, for the trade WebSocket's answers (`trade.rs`) to note.
    pub(super) fn policy_mut(&mut self) -> &mut RatePolicy {
        &mut self.policy
    }

    /// Open-order lists given up at the page cap or on a repeated cursor, and follow-up
    /// pages sent.
    pub fn paging(&self) -> (u64, u64) {
        (self.pages.capped, self.pages.followed)
    }

    /// Signs the body or query in `buf` at `now_ms` and remembers the request.
    fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        buf: &[u8],
        now_ms: u64,
    ) -> RestHead {
        let sign = self.signer.sign_rest(now_ms, self.recv_window_ms, buf);
        let mut ts = itoa_buf(now_ms);
        let mut signed = SignedHeaders::default();
        signed.push("X-BAPI-SIGN", &sign);
        signed.push("X-BAPI-TIMESTAMP", ts.as_bytes_mut());
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
}

impl RestCodec for BybitRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: vec![
                ("X-BAPI-API-KEY", self.signer.api_key().to_owned()),
                ("X-BAPI-RECV-WINDOW", self.recv_window_ms.to_string()),
            ],
            content_type: "application/json",
            warm_path: "/v5/market/time",
            keepalive_path: "/v5/market/time",
            rate_headers,
            bearer: None,
        }
    }

    /// `POST /v5/order/create`: `orderType` Limit with `timeInForce` GTC, IOC, FOK or
    /// PostOnly, or Market. A spot market buy would spend `qty` of the quote coin by default:
    /// `marketUnit` says `baseCoin`, so `qty` is always the base quantity.
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        place_body(self.category, o, buf);
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            "/v5/order/create",
            Class::Order,
            buf,
            now_ms,
        )
    }

    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"category":"{}","symbol":"{symbol}","orderLinkId":"{}"}}"#,
            self.category.as_str(),
            cid.as_str()
        );
        self.finish(
            Purpose::Cancel(*cid),
            Method::Post,
            "/v5/order/cancel",
            Class::Order,
            buf,
            now_ms,
        )
    }

    /// `GET /v5/order/realtime?category=…&symbol=…&orderLinkId=…`. Whether Bybit returns a
    /// closed order queried by its `orderLinkId` without `openOnly` is unconfirmed against
    /// the live venue (an empty list reads as not found).
    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            "category={}&symbol={symbol}&orderLinkId={}",
            self.category.as_str(),
            cid.as_str()
        );
        self.finish(
            Purpose::Status(*cid),
            Method::Get,
            "/v5/order/realtime",
            Class::Query,
            buf,
            now_ms,
        )
    }

    /// `GET /v5/execution/list?category=…&symbol=…&orderId=…` (not in the reference's table;
    /// its items are read as the `execution` topic's, which is unconfirmed against the venue).
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            "category={}&symbol={symbol}&orderId={venue_order_id}",
            self.category.as_str(),
        );
        self.finish(
            Purpose::Trades(*cid),
            Method::Get,
            "/v5/execution/list",
            Class::Query,
            buf,
            now_ms,
        )
    }

    /// `GET /v5/order/realtime?…&openOnly=0&limit=50`: the open orders, 50 a page; a full
    /// page with a `nextPageCursor` is followed (`next_page`) and the pages merged.
    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            "category={}&symbol={symbol}&openOnly=0&limit={OPEN_LIMIT}",
            self.category.as_str(),
        );
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            "/v5/order/realtime",
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        buf.extend_from_slice(b"accountType=UNIFIED");
        self.finish(
            Purpose::Account,
            Method::Get,
            "/v5/account/wallet-balance",
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    /// `GET /v5/position/list?category=linear&symbol=…` (linear only: spot holds no
    /// positions).
    fn positions(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        if self.category != Category::Linear {
            return None;
        }
        buf.clear();
        let _ = write!(Buf(buf), "category=linear&symbol={symbol}");
        Some(self.finish(
            Purpose::Positions(symbol.to_owned()),
            Method::Get,
            "/v5/position/list",
            Class::Sweep,
            buf,
            now_ms,
        ))
    }

    /// `POST /v5/position/set-leverage` with one leverage for both sides (one-way mode).
    /// 110043 ("leverage not modified") means the symbol already had it.
    fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: Rate,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        if self.category != Category::Linear {
            return None;
        }
        buf.clear();
        let l = leverage;
        let _ = write!(
            Buf(buf),
            r#"{{"category":"linear","symbol":"{symbol}","buyLeverage":"{l}","sellLeverage":"{l}"}}"#
        );
        Some(self.finish(
            Purpose::SetLeverage {
                symbol: symbol.to_owned(),
                leverage,
            },
            Method::Post,
            "/v5/position/set-leverage",
            Class::Query,
            buf,
            now_ms,
        ))
    }

    /// The open orders' next page: the same query with `cursor` (the answer's
    /// `nextPageCursor`, percent-encoded), signed over those bytes.
    fn next_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        let (purpose, cursor, token) = self.pages.due()?;
        let Purpose::OpenOrders(symbol) = &purpose else {
            return None;
        };
        buf.clear();
        let _ = write!(
            Buf(buf),
            "category={}&symbol={symbol}&openOnly=0&limit={OPEN_LIMIT}&cursor=",
            self.category.as_str(),
        );
        percent_encode(&cursor, buf);
        let head = self.finish(
            purpose,
            Method::Get,
            "/v5/order/realtime",
            Class::Sweep,
            buf,
            now_ms,
        );
        self.pages.sent(head.id, token);
        Some(head)
    }

    /// `POST /v5/order/amend` by `orderLinkId` to the new price and total quantity.
    fn amends_in_place(&self) -> bool {
        true
    }

    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        super::amend::amend_body(self.category, o, buf);
        let p = Purpose::Amend(*o.cid);
        let head = self.finish(
            p,
            Method::Post,
            "/v5/order/amend",
            Class::Order,
            buf,
            now_ms,
        );
        self.amends.sent(head.id, o.price, o.qty);
        Some(head)
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        self.amends.take(id);
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
        {
            // The IP limit: HTTP 403 "access too frequent"; stop for 10 minutes.
            let (status, headers) = if status == 403 {
                let h = RateHeaders {
                    retry_after_s: Some(IP_BAN_S),
                    ..headers
                };
                (418, h)
            } else {
                (status, headers)
            };
            if let Some(ms) = self.policy.note(status, &headers, at) {
                out.push(if status == 418 {
                    SessionEvent::Banned
                } else {
                    SessionEvent::RateLimited { retry_after_ms: ms }
                });
            }
        }
        if id == 0 {
            return;
        }
        let terms = self.amends.take(id);
        let Some(purpose) = self.abandon(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let body = match answer {
            Answer::Http { status, .. } if status >= 500 || status == 403 => {
                return unknown(purpose, out);
            }
            Answer::Http { body, .. } => body,
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => {
                let error = VenueError {
                    code: 10006,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                // An amend never sent leaves the order as it was.
                if let Purpose::Amend(cid) = purpose {
                    let event = OrderEvent::AmendRejected { code: 10006, at };
                    return out.push(SessionEvent::Order { cid, event });
                }
                return refused(purpose, error, out);
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return unknown(purpose, out);
            }
        };
        // A missing code is not documented: the outcome is unknown.
        if let Some(error) = ret_error(&v) {
            if classify(i64::from(error.code)) == ErrorClass::RateLimited {
                self.policy.note(429, &RateHeaders::default(), at);
                out.push(SessionEvent::RateLimited {
                    retry_after_ms: 1_000,
                });
                return unknown(purpose, out);
            }
            if let Purpose::Amend(cid) = purpose {
                return super::amend::refused(cid, error, at, out);
            }
            return refused(purpose, error, out);
        }
        let result = v.get("result").unwrap_or(&Value::Null);
        let decoded: Result<Vec<SessionEvent>, String> = match &purpose {
            Purpose::Place(cid) => match result
                .get("orderId")
                .and_then(Value::as_str)
                .and_then(|s| VenueOrderId::new(s.as_bytes()))
            {
                Some(venue_order_id) => Ok(vec![SessionEvent::Order {
                    cid: *cid,
                    event: OrderEvent::Accepted { venue_order_id, at },
                }]),
                None => Ok(vec![SessionEvent::Uncertain { cid: *cid }]),
            },
            // Accepted: the order's end comes from the private stream or a query.
            Purpose::Cancel(_) => Ok(Vec::new()),
            Purpose::Status(cid) => list(result).and_then(|l| {
                let mine = l
                    .iter()
                    .map(order)
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .flatten()
                    .find(|o| o.cid == *cid);
                Ok(vec![match mine {
                    Some(o) => SessionEvent::Order {
                        cid: *cid,
                        event: o.event(at),
                    },
                    None => SessionEvent::NotFound { cid: *cid },
                }])
            }),
            // Read as the execution topic's items (the reference holds no sample of this
            // answer: unconfirmed against the live venue).
            Purpose::Trades(cid) => list(result).and_then(|l| {
                let trades = l
                    .iter()
                    .map(super::session::trade_fee)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(vec![SessionEvent::Trades { cid: *cid, trades }])
            }),
            Purpose::OpenOrders(symbol) => list(result).and_then(|l| {
                let orders = l.iter().map(order).collect::<Result<Vec<_>, _>>()?;
                // A non-empty `nextPageCursor` after a non-empty page: there may be more
                // (whether Bybit sends an empty cursor on the last page is unconfirmed: a
                // cursor there costs one follow-up answered by an empty page).
                let next = result
                    .get("nextPageCursor")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty() && !l.is_empty())
                    .map(str::to_owned);
                let orders = orders.into_iter().flatten().collect();
                Ok(match self.pages.page(id, &purpose, orders, next) {
                    Step::Done(orders) => vec![SessionEvent::OpenOrders {
                        symbol: symbol.clone(),
                        orders,
                    }],
                    Step::More => Vec::new(),
                    Step::Abandoned(why) if why.is_empty() => Vec::new(),
                    Step::Abandoned(msg) => vec![SessionEvent::Failed {
                        purpose: purpose.clone(),
                        error: VenueError { code: 0, msg },
                    }],
                })
            }),
            Purpose::Account => balances(result).map(|b| vec![SessionEvent::Balances(b)]),
            Purpose::Positions(symbol) => list(result).and_then(|l| {
                let mut evs = l
                    .iter()
                    .map(super::session::position)
                    .map(|p| p.map(SessionEvent::Position))
                    .collect::<Result<Vec<_>, _>>()?;
                // A symbol without a position may be left out: it is flat.
                if !evs
                    .iter()
                    .any(|e| matches!(e, SessionEvent::Position(p) if p.symbol == *symbol))
                {
                    evs.push(SessionEvent::Position(VenuePosition {
                        symbol: symbol.clone(),
                        size: 0,
                        entry: None,
                        leverage: None,
                    }));
                }
                Ok(evs)
            }),
            Purpose::SetLeverage { symbol, leverage } => Ok(vec![SessionEvent::LeverageSet {
                symbol: symbol.clone(),
                leverage: *leverage,
            }]),
            Purpose::Amend(cid) => Ok(vec![super::amend::accepted(*cid, terms, at)]),
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

/// The create-order parameters (`POST /v5/order/create`'s body; the trade WebSocket's
/// `order.create` argument is the same object): `orderType` Limit with `timeInForce` GTC,
/// IOC, FOK or PostOnly, or Market. A spot market buy would spend `qty` of the quote coin
/// by default: `marketUnit` says `baseCoin`, so `qty` is always the base quantity.
pub(super) fn place_body(category: Category, o: &PlaceOrder<'_>, buf: &mut Vec<u8>) {
    let side = match o.side {
        Side::Buy => "Buy",
        Side::Sell => "Sell",
    };
    let (kind, tif) = match (o.kind, o.tif) {
        (OrderKind::Market, _) => ("Market", "IOC"),
        (OrderKind::LimitMaker, _) => ("Limit", "PostOnly"),
        (OrderKind::Limit, TimeInForce::Gtc) => ("Limit", "GTC"),
        (OrderKind::Limit, TimeInForce::Ioc) => ("Limit", "IOC"),
        (OrderKind::Limit, TimeInForce::Fok) => ("Limit", "FOK"),
    };
    let mut n = [0u8; 48];
    buf.clear();
    let _ = write!(
        Buf(buf),
        r#"{{"category":"{}","symbol":"{}","side":"{side}","orderType":"{kind}","qty":""#,
        category.as_str(),
        o.symbol,
    );
    let k = o.qty.write_fixed(o.qty_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
    buf.push(b'"');
    if o.kind == OrderKind::Market {
        if category == Category::Spot {
            buf.extend_from_slice(br#","marketUnit":"baseCoin""#);
        }
    } else {
        buf.extend_from_slice(br#","price":""#);
        let k = o.price.write_fixed(o.price_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        buf.push(b'"');
    }
    // Reduce-only exists on derivatives (risk refuses it on spot before it gets here).
    if o.reduce_only && category == Category::Linear {
        buf.extend_from_slice(br#","reduceOnly":true"#);
    }
    let _ = write!(
        Buf(buf),
        r#","timeInForce":"{tif}","orderLinkId":"{}"}}"#,
        o.cid.as_str()
    );
}

fn list(result: &Value) -> Result<&Vec<Value>, String> {
    result
        .get("list")
        .and_then(Value::as_array)
        .ok_or_else(|| "answer without result.list".to_owned())
}

fn text<'v>(d: &'v Value, k: &str) -> Result<&'v str, String> {
    d.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("without {k:?}"))
}

/// A non-negative decimal, cut to 8 places (`cumExecValue` may carry more); `""` is zero.
fn amount(d: &Value, k: &str) -> Result<Qty, String> {
    let s = text(d, k)?;
    if s.is_empty() {
        return Ok(Qty::ZERO);
    }
    floor8(s)
        .filter(|(neg, _)| !neg)
        .map(|(_, q)| q)
        .ok_or_else(|| format!("{k} {s:?}: not a decimal"))
}

/// An order of `/v5/order/realtime`'s `result.list` as a snapshot of the venue's cumulative
/// figures; `Ok(None)` for an order that is not ours (its `orderLinkId` is not one mako
/// could have minted).
fn order(d: &Value) -> Result<Option<OrderSnapshot>, String> {
    let Ok(cid) = ClientOrderId::parse(text(d, "orderLinkId")?) else {
        return Ok(None);
    };
    let status = match text(d, "orderStatus")? {
        "New" | "PartiallyFilled" | "Untriggered" | "Triggered" => SnapshotStatus::Open,
        "Filled" => SnapshotStatus::Filled,
        "Cancelled" | "PartiallyFilledCanceled" | "Deactivated" => SnapshotStatus::Cancelled,
        "Rejected" => SnapshotStatus::Rejected,
        other => return Err(format!("unknown orderStatus {other:?}")),
    };
    Ok(Some(OrderSnapshot {
        cid,
        symbol: text(d, "symbol")?.to_owned(),
        venue_order_id: VenueOrderId::new(text(d, "orderId")?.as_bytes())
            .ok_or("orderId is not an id")?,
        status,
        cum_qty: amount(d, "cumExecQty")?,
        cum_quote: Notional::from_price(Price::from_units(amount(d, "cumExecValue")?.units())),
        price: Price::from_units(amount(d, "price")?.units()),
        orig_qty: amount(d, "qty")?,
        side: match text(d, "side")? {
            "Buy" => Side::Buy,
            "Sell" => Side::Sell,
            other => return Err(format!("unknown side {other:?}")),
        },
    }))
}

/// `/v5/account/wallet-balance`'s `result.list[].coin[]`: `coin`, `walletBalance`, `locked`
/// (spot orders) and, for derivatives, `totalOrderIM` and `totalPositionIM` (margin held by
/// orders and positions); locked is their sum and free the balance less it.
pub(super) fn balances(result: &Value) -> Result<Vec<Balance>, String> {
    let mut out = Vec::new();
    for account in list(result)? {
        let coins = account
            .get("coin")
            .and_then(Value::as_array)
            .ok_or("wallet account without coin")?;
        for c in coins {
            let total = amount(c, "walletBalance")?;
            let mut locked = amount(c, "locked")?;
            for k in ["totalOrderIM", "totalPositionIM"] {
                if c.get(k).is_some() {
                    locked = Qty::from_units(locked.units() + amount(c, k)?.units());
                }
            }
            out.push(Balance {
                asset: AssetCode::new(text(c, "coin")?.as_bytes()).ok_or("coin name too long")?,
                free: total.saturating_sub(locked),
                locked,
            });
        }
    }
    Ok(out)
}

pub(super) fn refused(purpose: Purpose, error: VenueError, out: &mut Vec<SessionEvent>) {
    let class = classify(i64::from(error.code));
    out.push(match purpose {
        Purpose::Place(cid) if class == ErrorClass::Unknown => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == ErrorClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        Purpose::SetLeverage { symbol, leverage } if error.code == LEVERAGE_NOT_MODIFIED => {
            SessionEvent::LeverageSet { symbol, leverage }
        }
        p => SessionEvent::Failed { purpose: p, error },
    });
}

/// A Bybit answer's refusal: its `retCode` (a missing one is not documented and reads as -1,
/// an unknown outcome) and `retMsg`; `None` for `retCode` 0. The REST and trade-socket
/// answers carry the same pair.
pub(super) fn ret_error(v: &Value) -> Option<VenueError> {
    let code = v.get("retCode").and_then(Value::as_i64).unwrap_or(-1);
    (code != 0).then(|| VenueError {
        code: i32::try_from(code).unwrap_or(i32::MIN),
        msg: v
            .get("retMsg")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    })
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
