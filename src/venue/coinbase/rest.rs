//! Coinbase Advanced Trade order entry and queries over REST as pure code (exchanges.md
//! §4.1, §4.2): each request starts the caller's buffer with a fresh JWT whose `uri` claim
//! names it (`Authorization: Bearer`), followed by its JSON body or query string; answers
//! are mapped into the gateway's `SessionEvent`s. A create-order refusal
//! (`INSUFFICIENT_FUND`, …) is a rejection; 5xx, timeouts and lost answers leave an order's
//! outcome unknown: it is queried, never assumed rejected.
//!
//! Coinbase cancels and fetches orders by its own `order_id`, so the codec remembers the
//! `order_id` of each order it placed (or saw in a query answer). An order whose id is not
//! known yet (its create answer was lost) is found by listing the product's orders and
//! matching `client_order_id`.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::AssetCode;
use crate::types::order::{OrderEvent, OrderKind, TimeInForce};
use crate::types::{ClientOrderId, Side, UnixNanos, VenueOrderId};
use crate::types::{Qty, TradeId};
use crate::venue::order::{OrderSnapshot, PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::pages::{Pager, Step, percent_encode};
use crate::venue::rest::{
    Answer, BearerMint, Class, Inflight, Method, RateHeaders, RatePolicy, RateWindow, RestCodec,
    RestHead, RestPlan, SignedHeaders, unknown_outcome as unknown,
};

use super::jwt::{JwtSigner, KeyError};
use super::private::{self, FailureClass};

/// Order ids remembered by client id; the oldest are forgotten past this (a forgotten one
/// is found again by listing the product's orders).
const KNOWN_IDS: usize = 4096;
/// Orders listed when looking for one by client id, and per page of open orders (Coinbase's
/// page size limit).
const LIST_LIMIT: u32 = 250;
/// Fills per page of one order's fills.
const FILL_LIMIT: usize = 100;

pub const PREFIX: &str = "/api/v3/brokerage";
const ORDERS: &str = "/api/v3/brokerage/orders";
const BATCH_CANCEL: &str = "/api/v3/brokerage/orders/batch_cancel";
const LIST_ORDERS: &str = "/api/v3/brokerage/orders/historical/batch";
const FILLS: &str = "/api/v3/brokerage/orders/historical/fills";
const ACCOUNTS: &str = "/api/v3/brokerage/accounts";
const TIME: &str = "/api/v3/brokerage/time";

/// Mints each request's JWT on the REST worker: `uri` = `"METHOD host/path"`.
#[derive(Debug)]
pub struct CoinbaseMint {
    signer: JwtSigner,
    /// The `host[:port]` the `uri` claim names (`api.coinbase.com`).
    host: String,
}

impl CoinbaseMint {
    pub fn new(signer: JwtSigner, host: &str) -> Self {
        Self {
            signer,
            host: host.to_owned(),
        }
    }
}

impl BearerMint for CoinbaseMint {
    /// Fails only when the OS has no randomness for the nonce: the request then goes
    /// without a token and Coinbase refuses it (401), which is what it is.
    fn mint(&self, method: Method, path: &str, now_s: u64, out: &mut String) -> bool {
        out.clear();
        match self
            .signer
            .rest_token(now_s, method.as_str(), &self.host, path)
        {
            Ok(t) => {
                out.push_str(&t);
                true
            }
            Err(_) => false,
        }
    }
}

/// The REST side of one Coinbase account.
pub struct CoinbaseRest {
    /// The signer's copy the worker mints with (the codec itself never signs).
    mint: Arc<CoinbaseMint>,
    inflight: Inflight,
    policy: RatePolicy,
    /// Coinbase's `order_id` of our orders, by client id, and the order they were learned in.
    ids: HashMap<ClientOrderId, VenueOrderId>,
    learned: VecDeque<ClientOrderId>,
    /// Requests written in the current second (venue ms / 1000), and that second.
    second: u64,
    sent: u32,
    /// Open-order lists and fill lists being paged through (`cursor`/`has_next`).
    open_pages: Pager<OrderSnapshot>,
    fill_pages: Pager<(TradeId, Qty, AssetCode)>,
    /// The order id each fills list is for (its follow-up pages name it again).
    fill_orders: HashMap<ClientOrderId, VenueOrderId>,
}

/// Private REST requests per second per user: the number third-party clients and the
/// retired docs page give (exchanges.md §4.4: unverified on a current page), kept on the
/// engine's side: the codec counts every request it writes in the current second as the window the policy holds
/// sweeps (from 80 %) and queries (from 90 %) back by, until the venue's own
/// `x-ratelimit-*` headers say otherwise.
pub const PRIVATE_REQUESTS_PER_S: u32 = 30;

/// `Retry-After` of a 429, and the window `x-ratelimit-limit`, `x-ratelimit-remaining` and
/// `x-ratelimit-reset` report (SDK `constants.py`; exchanges.md §4.4). The reset's unit is
/// not documented: a value of 10^9 or more is read as a Unix time in seconds, a smaller one
/// as seconds from now (fractions allowed); `now_ms` is when the answer came.
pub fn read_rate_headers(pairs: &[(&str, &[u8])], now_ms: u64) -> RateHeaders {
    let mut h = RateHeaders::default();
    let (mut limit, mut remaining, mut reset) = (None, None, None);
    for &(name, value) in pairs {
        let text = std::str::from_utf8(value).ok().map(str::trim);
        if name.eq_ignore_ascii_case("retry-after") {
            h.retry_after_s = text.and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case("x-ratelimit-limit") {
            limit = text.and_then(|v| v.parse::<u32>().ok());
        } else if name.eq_ignore_ascii_case("x-ratelimit-remaining") {
            remaining = text.and_then(|v| v.parse::<u32>().ok());
        } else if name.eq_ignore_ascii_case("x-ratelimit-reset") {
            reset = text
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0);
        }
    }
    if let (Some(limit), Some(remaining)) = (limit, remaining) {
        let reset_in_ms = match reset {
            Some(t) if t >= 1e9 => ((t * 1000.0) as u64).saturating_sub(now_ms),
            Some(s) => (s * 1000.0) as u64,
            // No reset: the window is taken to be a second.
            None => 1000,
        };
        h.window = Some(RateWindow {
            limit,
            remaining,
            // At most a minute: a misread reset never holds sweeps back for long.
            reset_in_ms: reset_in_ms.min(60_000),
        });
    }
    h
}

fn rate_headers(pairs: &[(&str, &[u8])]) -> RateHeaders {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    read_rate_headers(pairs, now_ms)
}

impl CoinbaseRest {
    /// `host` is the REST base URL's `host[:port]`, as the `uri` claim must name it.
    pub fn new(key_name: &Secret, secret: &Secret, host: &str) -> Result<Self, KeyError> {
        Ok(Self::with_signer(JwtSigner::new(key_name, secret)?, host))
    }

    pub fn with_signer(signer: JwtSigner, host: &str) -> Self {
        Self {
            mint: Arc::new(CoinbaseMint::new(signer, host)),
            inflight: Inflight::default(),
            // No weight is reported, so only 429s hold requests back.
            policy: RatePolicy::new(u32::MAX),
            ids: HashMap::with_capacity(KNOWN_IDS),
            learned: VecDeque::with_capacity(KNOWN_IDS),
            second: 0,
            sent: 0,
            open_pages: Pager::default(),
            fill_pages: Pager::default(),
            fill_orders: HashMap::new(),
        }
    }

    /// Lists given up at the page cap or on a repeated cursor, and follow-up pages sent.
    pub fn paging(&self) -> (u64, u64) {
        (
            self.open_pages.capped + self.fill_pages.capped,
            self.open_pages.followed + self.fill_pages.followed,
        )
    }

    /// The order id Coinbase gave `cid`, if known.
    pub fn order_id(&self, cid: &ClientOrderId) -> Option<VenueOrderId> {
        self.ids.get(cid).copied()
    }

    fn learn(&mut self, cid: ClientOrderId, id: VenueOrderId) {
        if self.ids.insert(cid, id).is_none() {
            if self.learned.len() == KNOWN_IDS
                && let Some(old) = self.learned.pop_front()
            {
                self.ids.remove(&old);
            }
            self.learned.push_back(cid);
        }
    }

    /// The signer's public key (what the simulator and the tests verify with).
    pub fn public_key(&self) -> super::jwt::PublicKey {
        self.mint.signer.public_key()
    }

    /// Counts a request written at `now_ms` against the second's limit (the policy's window
    /// until the venue reports its own).
    fn count(&mut self, now_ms: u64) {
        let second = now_ms / 1000;
        if second != self.second {
            self.second = second;
            self.sent = 0;
        }
        self.sent += 1;
        let at = UnixNanos(now_ms.saturating_mul(1_000_000));
        let own = RateWindow {
            limit: PRIVATE_REQUESTS_PER_S,
            remaining: PRIVATE_REQUESTS_PER_S.saturating_sub(self.sent),
            reset_in_ms: 1000 - now_ms % 1000,
        };
        // The venue's last report wins while it is lower.
        let remaining = match self.policy.window(at) {
            Some((_, left)) => own.remaining.min(left.saturating_sub(1)),
            None => own.remaining,
        };
        let h = RateHeaders {
            window: Some(RateWindow { remaining, ..own }),
            ..RateHeaders::default()
        };
        self.policy.note(200, &h, at);
    }

    fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        now_ms: u64,
    ) -> RestHead {
        self.count(now_ms);
        let id = self.inflight.insert(p);
        RestHead {
            id,
            method,
            path,
            class,
            signed: SignedHeaders::default(),
            bearer: true,
        }
    }

    /// `GET /orders/historical/batch?…` for `purpose`: by order id when known, else the
    /// product's most recent orders (the answer is searched for the client id).
    fn list_for(
        &mut self,
        purpose: Purpose,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        match self.order_id(cid) {
            Some(id) => {
                let _ = write!(Buf(buf), "order_ids={}", id.as_str());
            }
            None => {
                let _ = write!(Buf(buf), "product_ids={symbol}&limit={LIST_LIMIT}");
            }
        }
        self.finish(purpose, Method::Get, LIST_ORDERS, Class::Query, now_ms)
    }
}

impl RestCodec for CoinbaseRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: Vec::new(),
            content_type: "application/json",
            warm_path: TIME,
            keepalive_path: TIME,
            rate_headers,
            bearer: Some(self.mint.clone()),
        }
    }

    /// `POST /orders`: `limit_limit_gtc` (with `post_only` for a maker order),
    /// `limit_limit_fok`, `sor_limit_ioc` or `market_market_ioc` by base size.
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let side = match o.side {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        };
        let conf = match (o.kind, o.tif) {
            (OrderKind::Market, _) => "market_market_ioc",
            (OrderKind::LimitMaker, _) | (OrderKind::Limit, TimeInForce::Gtc) => "limit_limit_gtc",
            (OrderKind::Limit, TimeInForce::Ioc) => "sor_limit_ioc",
            (OrderKind::Limit, TimeInForce::Fok) => "limit_limit_fok",
        };
        let mut n = [0u8; 32];
        let _ = write!(
            Buf(buf),
            r#"{{"client_order_id":"{}","product_id":"{}","side":"{side}","order_configuration":{{"{conf}":{{"base_size":""#,
            o.cid.as_str(),
            o.symbol,
        );
        let k = o.qty.write_fixed(o.qty_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        buf.push(b'"');
        if o.kind != OrderKind::Market {
            buf.extend_from_slice(br#","limit_price":""#);
            let k = o.price.write_fixed(o.price_decimals, &mut n);
            buf.extend_from_slice(&n[..k]);
            buf.push(b'"');
        }
        match conf {
            "limit_limit_gtc" if o.kind == OrderKind::LimitMaker => {
                buf.extend_from_slice(br#","post_only":true"#)
            }
            "limit_limit_gtc" => buf.extend_from_slice(br#","post_only":false"#),
            _ => {}
        }
        buf.extend_from_slice(b"}}}");
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            ORDERS,
            Class::Order,
            now_ms,
        )
    }

    /// `POST /orders/batch_cancel` with the order's id. When the id is not known yet (the
    /// create answer was lost), the order is looked up instead and the cancel answered as
    /// refused, so the gateway learns the order's state and cancels again if still open.
    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let Some(id) = self.order_id(cid) else {
            return self.list_for(Purpose::Cancel(*cid), symbol, cid, now_ms, buf);
        };
        buf.clear();
        let _ = write!(Buf(buf), r#"{{"order_ids":["{}"]}}"#, id.as_str());
        self.finish(
            Purpose::Cancel(*cid),
            Method::Post,
            BATCH_CANCEL,
            Class::Order,
            now_ms,
        )
    }

    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        self.list_for(Purpose::Status(*cid), symbol, cid, now_ms, buf)
    }

    fn trades(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            "order_ids={}&limit={FILL_LIMIT}",
            venue_order_id.as_str()
        );
        self.fill_orders.insert(*cid, venue_order_id);
        self.finish(
            Purpose::Trades(*cid),
            Method::Get,
            FILLS,
            Class::Query,
            now_ms,
        )
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            "order_status=OPEN&product_ids={symbol}&limit={LIST_LIMIT}"
        );
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            LIST_ORDERS,
            Class::Sweep,
            now_ms,
        )
    }

    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        buf.extend_from_slice(b"limit=250");
        self.finish(
            Purpose::Account,
            Method::Get,
            ACCOUNTS,
            Class::Sweep,
            now_ms,
        )
    }

    /// The next page of an open-orders list (same query and the answer's `cursor`) or of an
    /// order's fills.
    fn next_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        buf.clear();
        if let Some((purpose, cursor, token)) = self.open_pages.due() {
            let Purpose::OpenOrders(symbol) = &purpose else {
                return None;
            };
            let _ = write!(
                Buf(buf),
                "order_status=OPEN&product_ids={symbol}&limit={LIST_LIMIT}&cursor="
            );
            percent_encode(&cursor, buf);
            let head = self.finish(purpose, Method::Get, LIST_ORDERS, Class::Sweep, now_ms);
            self.open_pages.sent(head.id, token);
            return Some(head);
        }
        while let Some((purpose, cursor, token)) = self.fill_pages.due() {
            let Purpose::Trades(cid) = &purpose else {
                continue;
            };
            let Some(id) = self.fill_orders.get(cid).copied() else {
                continue;
            };
            let _ = write!(
                Buf(buf),
                "order_ids={}&limit={FILL_LIMIT}&cursor=",
                id.as_str()
            );
            percent_encode(&cursor, buf);
            let head = self.finish(purpose, Method::Get, FILLS, Class::Query, now_ms);
            self.fill_pages.sent(head.id, token);
            return Some(head);
        }
        None
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
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
        let Some(purpose) = self.abandon(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let (status, body) = match answer {
            Answer::Http { status, .. } if status >= 500 || status == 429 => {
                return unknown(purpose, out);
            }
            Answer::Http { status, body, .. } => (status, body),
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => {
                let error = VenueError {
                    code: 429,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                return refused(purpose, FailureClass::Rejected, error, out);
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("not JSON: {e}")));
                return unknown(purpose, out);
            }
        };
        if !(200..300).contains(&status) {
            // 401 (a refused token), 400 (a malformed request), 404: nothing was done.
            let class = if status == 404 {
                FailureClass::NotFound
            } else {
                FailureClass::Rejected
            };
            return refused(purpose, class, private::http_error(status, Some(&v)), out);
        }
        match self.decode(id, &purpose, &v, at) {
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

impl CoinbaseRest {
    /// A 2xx answer to `purpose`.
    fn decode(
        &mut self,
        id: u64,
        purpose: &Purpose,
        v: &Value,
        at: UnixNanos,
    ) -> Result<Vec<SessionEvent>, String> {
        let list = |k: &str| -> Result<&[Value], String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .ok_or_else(|| format!("answer without {k}"))
        };
        Ok(match purpose {
            Purpose::Place(cid) => {
                if let Some((reason, error)) = private::create_failure(v) {
                    let mut out = Vec::new();
                    refused(purpose.clone(), private::classify(&reason), error, &mut out);
                    return Ok(out);
                }
                let id = v
                    .get("success_response")
                    .and_then(|s| s.get("order_id"))
                    .and_then(Value::as_str)
                    .and_then(|s| VenueOrderId::new(s.as_bytes()))
                    .ok_or("create answer without success_response.order_id")?;
                self.learn(*cid, id);
                vec![SessionEvent::Order {
                    cid: *cid,
                    event: OrderEvent::Accepted {
                        venue_order_id: id,
                        at,
                    },
                }]
            }
            Purpose::Cancel(cid) if v.get("results").is_none() => {
                // The order was looked up because its id was not known: say what it is and
                // that the cancel did not go.
                let mut out = self.one_order(*cid, list("orders")?, at)?;
                out.push(SessionEvent::CancelRejected {
                    cid: *cid,
                    error: VenueError {
                        code: 0,
                        msg: "order id not known yet: looked up, cancel not sent".into(),
                    },
                });
                out
            }
            Purpose::Cancel(cid) => {
                let r = list("results")?
                    .first()
                    .ok_or("batch cancel without results")?;
                if r.get("success").and_then(Value::as_bool) == Some(true) {
                    // Accepted: the user channel (or a query) reports the order's end.
                    Vec::new()
                } else {
                    let reason = r
                        .get("failure_reason")
                        .and_then(Value::as_str)
                        .unwrap_or("UNKNOWN_CANCEL_FAILURE_REASON");
                    vec![SessionEvent::CancelRejected {
                        cid: *cid,
                        error: VenueError {
                            code: 0,
                            msg: reason.to_owned(),
                        },
                    }]
                }
            }
            Purpose::Status(cid) => self.one_order(*cid, list("orders")?, at)?,
            Purpose::Trades(cid) => {
                let fills = list("fills")?;
                let trades = private::fill_fees(fills).map_err(|e| e.to_string())?;
                // `has_next` when the answer carries it, else a full page with a cursor.
                let more = match v.get("has_next").and_then(Value::as_bool) {
                    Some(more) => more,
                    None => fills.len() >= FILL_LIMIT,
                };
                match self
                    .fill_pages
                    .page(id, purpose, trades, next_cursor(v, more))
                {
                    Step::Done(trades) => {
                        self.fill_orders.remove(cid);
                        vec![SessionEvent::Trades { cid: *cid, trades }]
                    }
                    Step::More => Vec::new(),
                    Step::Abandoned(why) => {
                        self.fill_orders.remove(cid);
                        abandoned(purpose, why)
                    }
                }
            }
            Purpose::OpenOrders(symbol) => {
                let items = list("orders")?
                    .iter()
                    .map(|o| private::order_item(o).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                for o in &items {
                    if let Some(cid) = o.cid {
                        self.learn(cid, o.order_id);
                    }
                }
                // Orders placed elsewhere (no client id) are not ours to reconcile.
                let orders = items.iter().filter_map(|o| o.snapshot(symbol)).collect();
                let more = v.get("has_next").and_then(Value::as_bool) == Some(true);
                match self
                    .open_pages
                    .page(id, purpose, orders, next_cursor(v, more))
                {
                    Step::Done(orders) => vec![SessionEvent::OpenOrders {
                        symbol: symbol.clone(),
                        orders,
                    }],
                    Step::More => Vec::new(),
                    Step::Abandoned(why) => abandoned(purpose, why),
                }
            }
            Purpose::Account => vec![SessionEvent::Balances(
                private::balances(list("accounts")?).map_err(|e| e.to_string())?,
            )],
            Purpose::Amend(_)
            | Purpose::Subscribe
            | Purpose::Logon
            | Purpose::Positions(_)
            | Purpose::SetLeverage { .. }
            | Purpose::PlaceBatch(_)
            | Purpose::CancelBatch(_) => Vec::new(),
        })
    }

    /// The order `cid` in a list answer, as a snapshot, or `NotFound`.
    fn one_order(
        &mut self,
        cid: ClientOrderId,
        orders: &[Value],
        at: UnixNanos,
    ) -> Result<Vec<SessionEvent>, String> {
        for o in orders {
            let item = private::order_item(o).map_err(|e| e.to_string())?;
            if item.cid != Some(cid) {
                continue;
            }
            self.learn(cid, item.order_id);
            return Ok(vec![SessionEvent::Order {
                cid,
                event: OrderEvent::Snapshot {
                    venue_order_id: item.order_id,
                    status: item.state,
                    cum_qty: item.cum_qty,
                    cum_quote: item.quote_from_avg(),
                    terms: item.price.map(|p| (p, item.qty)),
                    at,
                },
            }]);
        }
        Ok(vec![SessionEvent::NotFound { cid }])
    }
}

fn refused(purpose: Purpose, class: FailureClass, error: VenueError, out: &mut Vec<SessionEvent>) {
    out.push(match purpose {
        Purpose::Place(cid) if class == FailureClass::Unknown => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == FailureClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}

/// The answer's `cursor` when `more` says a next page exists and the cursor is not empty.
fn next_cursor(v: &Value, more: bool) -> Option<String> {
    v.get("cursor")
        .and_then(Value::as_str)
        .filter(|c| more && !c.is_empty())
        .map(str::to_owned)
}

/// A list given up at the page cap or on a repeated cursor: failed (the next sweep or query
/// asks again); nothing for a stale page of a list started again since.
fn abandoned(purpose: &Purpose, why: String) -> Vec<SessionEvent> {
    if why.is_empty() {
        return Vec::new();
    }
    vec![SessionEvent::Failed {
        purpose: purpose.clone(),
        error: VenueError { code: 0, msg: why },
    }]
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
