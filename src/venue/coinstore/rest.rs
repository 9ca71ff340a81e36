//! Coinstore spot order entry and queries over REST as pure code (exchanges.md §6.1–6.3,
//! §6.6): each request's JSON body (POST) or query string (GET) built into the caller's buffer
//! and signed over exactly those bytes (`X-CS-SIGN` with `X-CS-EXPIRES`, the two-step HMAC of
//! `super::sign`, valid inside its 30-second bucket; `X-CS-APIKEY` on every request), and the
//! answers (`{"code": 0 | "0", "message"/"msg", "data"}`) mapped into the gateway's
//! `SessionEvent`s. The gateway of a `coinstore-spot` venue sends its orders here.
//!
//! Endpoints (under `/api`, so `rest_url` is the host, `https://api.coinstore.com`):
//! `POST /api/trade/order/place` (`clOrdId` is the client id), `POST /api/trade/order/cancel`
//! by `ordId` (the docs cancel by venue id only: the id comes from the [`IdBook`] shared with
//! the session, learned from the place answer or a query; an order whose id is not known yet
//! is cancelled by `clOrdId`, a reading the docs do not confirm), `GET
//! /api/v2/trade/order/orderInfo?clOrdId=` (status by client id, as the V2 query allows), `GET
//! /api/v2/trade/order/active?symbol=` (open orders), `GET
//! /api/trade/match/accountMatches?symbol=` (an order's matches with `&ordId=`, for fees; the
//! latest matches without it, polled for fills when there is no private WebSocket:
//! [`RestCodec::recent_fills`], `super::fills`) and `POST
//! /api/spot/accountList` with `{}` (balances: one row per currency and type, 1 available and
//! 4 frozen). Cancel all (`POST /api/trade/order/cancelAll`) is encoded by
//! [`CoinstoreRest::cancel_all`]; the gateway cancels order by order and does not call it.
//!
//! Outcomes: `code` 0 with an `ordId` (or the sample's `order_id`) accepts; the documented
//! refusals (401, 1401, 3005 signature and key, 3011 symbol, 3012–3015 restrictions, 3111
//! duplicate, 3113 insufficient balance) reject; 3103 is "no such order"; HTTP 429 backs off and
//! leaves the request's outcome unknown; any code the docs do not list, a 5xx, a timeout or a
//! lost connection leave the order unknown: it is queried by client id, never assumed rejected.
//!
//! Rate limits: 300 requests per 3 s per IP and 120 per 3 s per user. The venue reports no
//! usage in headers, so the codec counts the requests it signs per minute against 120 per 3 s
//! (2,400 a minute) as `RatePolicy`'s weight, which holds sweeps back from 80 % and queries
//! from 90 %; new orders are held to 120 per 3 s by the session's `order_limits`. Every
//! request also takes a slot in two sliding 3 s windows (`RestCodec::windows`: 120 per user,
//! 300 per IP — one key per engine, so the user's is the one that binds) and is refused
//! before it leaves when either is full (counted as `window_refused`).
//!
//! Unconfirmed readings (listed in `super::UNCONFIRMED`): the match list's fee currency is read
//! as in `super::fills` (`feeCurrencyId` the pair's base or quote id; a `feeCurrency` name
//! wins where present); a market buy is sent with `ordQty` (the docs ask for `ordAmt`,
//! a quote amount mako's orders do not carry), so the venue may refuse it.

use crate::venue::windows::RateWindows;
use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::{OrderEvent, OrderKind, SnapshotStatus};
use crate::types::{
    AssetCode, ClientOrderId, Notional, Price, Qty, Side, TimeInForce, TradeId, UnixNanos,
    VenueOrderId,
};
use crate::venue::decimal::floor8;
use crate::venue::order::{Balance, OrderSnapshot, PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::rest::{
    Answer, Class, Inflight, Method, RateHeaders, RatePolicy, RestCodec, RestHead, RestPlan,
    SignedHeaders, unknown_outcome as unknown,
};

use super::session::Ids;
use super::sign::CoinstoreSigner;

/// What a Coinstore `code` means for the request (exchanges.md §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Refused, nothing done: key, signature, symbol, restrictions, duplicate, balance.
    Rejected,
    /// `order-not-found`.
    NotFound,
    /// Not known to refuse: the request may have been executed.
    Unknown,
}

pub fn classify(code: i64) -> ErrorClass {
    match code {
        3103 => ErrorClass::NotFound,
        401 | 1401 | 3005 | 3011..=3015 | 3111 | 3113 => ErrorClass::Rejected,
        _ => ErrorClass::Unknown,
    }
}

/// The per-user limit: requests in any 3 s, and the same as a minute's weight.
pub const USER_REQUESTS_PER_3S: u32 = 120;
/// The per-IP limit (the codec's own count is per key; an IP shared by keys counts more).
pub const IP_REQUESTS_PER_3S: u32 = 300;
const WEIGHT_PER_MINUTE: u32 = USER_REQUESTS_PER_3S * 20;

/// `Retry-After` when sent (the docs name only HTTP 429).
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

/// A 429 without `Retry-After` waits out the 3-second window the limits count in.
fn window_wait(status: u16, h: RateHeaders) -> RateHeaders {
    if status == 429 && h.retry_after_s.is_none() {
        RateHeaders {
            retry_after_s: Some(WINDOW_S),
            ..h
        }
    } else {
        h
    }
}

/// The limits' window, in seconds.
pub const WINDOW_S: u64 = 3;

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The REST side of one Coinstore key.
pub struct CoinstoreRest {
    api_key: String,
    signer: CoinstoreSigner,
    inflight: Inflight,
    policy: RatePolicy,
    ids: Ids,
    /// Cancel-all requests in flight (their purpose names the symbol).
    cancel_alls: Vec<u64>,
    /// Recent-fills polls in flight (their purpose names the symbol), and the trades given.
    fill_polls: Vec<u64>,
    fills: super::fills::FillBook,
    /// Each traded symbol's base and quote (a match names its fee's currency by number, as
    /// the pair's base or quote id), and the symbol of each trades request in flight.
    pairs: Vec<(String, AssetCode, AssetCode)>,
    trade_symbols: Vec<(u64, String)>,
    /// Requests signed in the current minute (ms / 60000), as the policy's weight.
    minute: u64,
    sent: u32,
    /// 120 per 3 s per user and 300 per 3 s per IP, counted over every request.
    windows: RateWindows,
}

impl CoinstoreRest {
    pub fn new(api_key: &crate::config::Secret, signer: CoinstoreSigner, ids: Ids) -> Self {
        Self {
            api_key: api_key.expose().to_owned(),
            signer,
            inflight: Inflight::default(),
            policy: RatePolicy::new(WEIGHT_PER_MINUTE),
            windows: RateWindows::default()
                .with(None, USER_REQUESTS_PER_3S, 3_000)
                .with(None, IP_REQUESTS_PER_3S, 3_000)
                .orders_on("/api/trade/order/place"),
            ids,
            cancel_alls: Vec::new(),
            fill_polls: Vec::new(),
            fills: super::fills::FillBook::default(),
            pairs: Vec::new(),
            trade_symbols: Vec::new(),
            minute: 0,
            sent: 0,
        }
    }

    /// The base and quote of each symbol traded (a match item's fee currency is a number:
    /// the pair's base or quote id).
    pub fn with_pairs(mut self, pairs: Vec<(String, AssetCode, AssetCode)>) -> Self {
        self.pairs = pairs;
        self
    }

    fn pair(&self, symbol: &str) -> Option<(AssetCode, AssetCode)> {
        self.pairs
            .iter()
            .find(|(s, _, _)| s == symbol)
            .map(|&(_, b, q)| (b, q))
    }

    /// Signs the body or query in `buf` at `now_ms` (`X-CS-EXPIRES`) and remembers the
    /// request.
    fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        buf: &[u8],
        now_ms: u64,
    ) -> RestHead {
        let sign = self.signer.sign(now_ms, buf);
        let mut signed = SignedHeaders::default();
        signed.push("X-CS-SIGN", &sign);
        signed.push("X-CS-EXPIRES", now_ms.to_string().as_bytes());
        let minute = now_ms / 60_000;
        if minute != self.minute {
            self.minute = minute;
            self.sent = 0;
        }
        self.sent += 1;
        let h = RateHeaders {
            used_weight_1m: Some(self.sent),
            ..RateHeaders::default()
        };
        self.policy
            .note(200, &h, UnixNanos(now_ms.saturating_mul(1_000_000)));
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

    /// `POST /api/trade/order/cancelAll` for one symbol (not used by the gateway, which
    /// cancels order by order). Its answer concerns no single order: accepted, it is
    /// `Other("cancel all accepted")` (the orders' ends come from pushes or the next sweep);
    /// refused, `Failed`.
    pub fn cancel_all(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let _ = write!(Buf(buf), r#"{{"symbol":"{symbol}"}}"#);
        let head = self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Post,
            "/api/trade/order/cancelAll",
            Class::Order,
            buf,
            now_ms,
        );
        if self.cancel_alls.len() >= 64 {
            self.cancel_alls.remove(0);
        }
        self.cancel_alls.push(head.id);
        head
    }
}

impl RestCodec for CoinstoreRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: vec![("X-CS-APIKEY", self.api_key.clone())],
            content_type: "application/json",
            warm_path: "/api/v1/market/tickers",
            keepalive_path: "/api/v1/market/tickers",
            rate_headers,
            bearer: None,
        }
    }

    /// `POST /api/trade/order/place`: `ordType` LIMIT (GTC, IOC or FOK), POST_ONLY or
    /// MARKET; prices and quantities as decimal strings; `timestamp` the signing time.
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        let side = match o.side {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        };
        let (kind, tif) = match (o.kind, o.tif) {
            (OrderKind::Market, _) => ("MARKET", "IOC"),
            (OrderKind::LimitMaker, _) => ("POST_ONLY", "GTC"),
            (OrderKind::Limit, TimeInForce::Gtc) => ("LIMIT", "GTC"),
            (OrderKind::Limit, TimeInForce::Ioc) => ("LIMIT", "IOC"),
            (OrderKind::Limit, TimeInForce::Fok) => ("LIMIT", "FOK"),
        };
        let mut n = [0u8; 48];
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"symbol":"{}","side":"{side}","ordType":"{kind}","timeInForce":"{tif}","#,
            o.symbol,
        );
        if o.kind != OrderKind::Market {
            buf.extend_from_slice(br#""ordPrice":""#);
            let k = o.price.write_fixed(o.price_decimals, &mut n);
            buf.extend_from_slice(&n[..k]);
            buf.extend_from_slice(b"\",");
        }
        buf.extend_from_slice(br#""ordQty":""#);
        let k = o.qty.write_fixed(o.qty_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        let _ = write!(
            Buf(buf),
            r#"","clOrdId":"{}","timestamp":{now_ms}}}"#,
            o.cid.as_str()
        );
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            "/api/trade/order/place",
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
        match self.ids.lock().ord_of(cid) {
            Some(ord) => {
                let _ = write!(Buf(buf), r#"{{"symbol":"{symbol}","ordId":{ord}}}"#);
            }
            None => {
                let _ = write!(
                    Buf(buf),
                    r#"{{"symbol":"{symbol}","clOrdId":"{}"}}"#,
                    cid.as_str()
                );
            }
        }
        self.finish(
            Purpose::Cancel(*cid),
            Method::Post,
            "/api/trade/order/cancel",
            Class::Order,
            buf,
            now_ms,
        )
    }

    fn status(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(Buf(buf), "clOrdId={}", cid.as_str());
        self.finish(
            Purpose::Status(*cid),
            Method::Get,
            "/api/v2/trade/order/orderInfo",
            Class::Query,
            buf,
            now_ms,
        )
    }

    /// The order's matches (`ordId` when its venue id is known); the order's are picked out
    /// of the answer by `orderId`.
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(Buf(buf), "symbol={symbol}");
        // The documented `ordId` filter: the order's own matches, not the latest page's.
        if let Some(ord) = venue_order_id.as_u64() {
            let _ = self.ids.lock().learn(ord, *cid);
            let _ = write!(Buf(buf), "&ordId={ord}");
        }
        let head = self.finish(
            Purpose::Trades(*cid),
            Method::Get,
            "/api/trade/match/accountMatches",
            Class::Query,
            buf,
            now_ms,
        );
        if self.trade_symbols.len() >= 256 {
            self.trade_symbols.remove(0);
        }
        self.trade_symbols.push((head.id, symbol.to_owned()));
        head
    }

    /// No private WebSocket: the symbol's recent matches, polled (`super::fills`).
    fn recent_fills(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        buf.clear();
        let _ = write!(Buf(buf), "symbol={symbol}");
        let head = self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            "/api/trade/match/accountMatches",
            Class::Query,
            buf,
            now_ms,
        );
        if self.fill_polls.len() >= 64 {
            self.fill_polls.remove(0);
        }
        self.fill_polls.push(head.id);
        Some(head)
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let _ = write!(Buf(buf), "symbol={symbol}");
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            "/api/v2/trade/order/active",
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        buf.extend_from_slice(b"{}");
        self.finish(
            Purpose::Account,
            Method::Post,
            "/api/spot/accountList",
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        self.fill_polls.retain(|&f| f != id);
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
            && let Some(ms) = self.policy.note(status, &window_wait(status, headers), at)
        {
            out.push(if status == 418 {
                SessionEvent::Banned
            } else {
                SessionEvent::RateLimited { retry_after_ms: ms }
            });
        }
        if id == 0 {
            return;
        }
        let fill_poll = self.fill_polls.contains(&id);
        let trade_symbol = self
            .trade_symbols
            .iter()
            .position(|(t, _)| *t == id)
            .map(|k| self.trade_symbols.remove(k).1);
        let Some(purpose) = self.abandon(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let body = match answer {
            Answer::Http { status, .. } if status >= 500 || status == 429 => {
                return unknown(purpose, out);
            }
            Answer::Http { body, .. } => body,
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => {
                let error = VenueError {
                    code: 429,
                    msg: "not sent: waiting out a rate limit".into(),
                };
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
        // `code` is a number or a string (both in the docs' samples); missing: unknown.
        let code = match v.get("code") {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
            Some(Value::String(s)) => s.parse().unwrap_or(-1),
            _ => -1,
        };
        if code != 0 {
            let msg = ["message", "msg"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .unwrap_or("")
                .to_owned();
            let error = VenueError {
                code: i32::try_from(code).unwrap_or(i32::MIN),
                msg,
            };
            self.cancel_alls.retain(|&c| c != id);
            return refused(purpose, error, out);
        }
        if let Some(k) = self.cancel_alls.iter().position(|&c| c == id) {
            self.cancel_alls.remove(k);
            out.push(SessionEvent::Other("cancel all accepted".into()));
            return;
        }
        let data = v.get("data").unwrap_or(&Value::Null);
        if fill_poll {
            let pair = match &purpose {
                Purpose::OpenOrders(symbol) => self.pair(symbol),
                _ => None,
            };
            let ids = self.ids.lock();
            match self.fills.apply(data, &ids, pair, at) {
                Ok(evs) => out.extend(evs),
                Err(e) => {
                    drop(ids);
                    out.push(SessionEvent::Undecodable(e));
                    unknown(purpose, out);
                }
            }
            return;
        }
        let decoded: Result<Vec<SessionEvent>, String> = match &purpose {
            Purpose::Place(cid) => match ["ordId", "order_id"]
                .iter()
                .find_map(|k| data.get(*k).and_then(id_of))
            {
                Some(ord) => {
                    let mut evs = vec![SessionEvent::Order {
                        cid: *cid,
                        event: OrderEvent::Accepted {
                            venue_order_id: VenueOrderId::from_u64(ord),
                            at,
                        },
                    }];
                    evs.extend(self.ids.lock().learn(ord, *cid));
                    Ok(evs)
                }
                None => Ok(vec![SessionEvent::Uncertain { cid: *cid }]),
            },
            // Accepted: the order's end comes from a push or a query.
            Purpose::Cancel(_) => Ok(Vec::new()),
            Purpose::Status(cid) => order(data).map(|o| match o {
                Some(o) if o.cid == *cid => {
                    let mut evs = vec![SessionEvent::Order {
                        cid: *cid,
                        event: o.event(at),
                    }];
                    if let Some(ord) = o.venue_order_id.as_u64() {
                        evs.extend(self.ids.lock().learn(ord, *cid));
                    }
                    evs
                }
                _ => vec![SessionEvent::NotFound { cid: *cid }],
            }),
            Purpose::Trades(cid) => self
                .trades_of(
                    cid,
                    data,
                    trade_symbol.as_deref().and_then(|s| self.pair(s)),
                )
                .map(|trades| vec![SessionEvent::Trades { cid: *cid, trades }]),
            Purpose::OpenOrders(symbol) => list(data).and_then(|l| {
                let mut orders = Vec::new();
                for d in l {
                    if let Some(o) = order(d)? {
                        if let Some(ord) = o.venue_order_id.as_u64() {
                            out.extend(self.ids.lock().learn(ord, o.cid));
                        }
                        orders.push(o);
                    }
                }
                Ok(vec![SessionEvent::OpenOrders {
                    symbol: symbol.clone(),
                    orders,
                }])
            }),
            Purpose::Account => balances(data).map(|b| vec![SessionEvent::Balances(b)]),
            Purpose::Amend(_)
            | Purpose::Subscribe
            | Purpose::Logon
            | Purpose::Positions(_)
            | Purpose::SetLeverage { .. }
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

    fn windows(&mut self) -> Option<&mut RateWindows> {
        Some(&mut self.windows)
    }
    fn windows_ref(&self) -> Option<&RateWindows> {
        Some(&self.windows)
    }

    fn policy(&self) -> &RatePolicy {
        &self.policy
    }
}

impl CoinstoreRest {
    /// The match list's items of the order `cid` (by its venue id, from the id book).
    fn trades_of(
        &self,
        cid: &ClientOrderId,
        data: &Value,
        pair: Option<(AssetCode, AssetCode)>,
    ) -> Result<Vec<(TradeId, Qty, AssetCode)>, String> {
        let ord = self.ids.lock().ord_of(cid);
        let mut out = Vec::new();
        for d in list(data)? {
            let of = d
                .get("orderId")
                .and_then(id_of)
                .ok_or("match without orderId")?;
            if Some(of) != ord {
                continue;
            }
            let trade = d
                .get("tradeId")
                .and_then(id_of)
                .ok_or("match without tradeId")?;
            let fee_text = decimal_text(d, "fee")?;
            let (neg, fee) = floor8(&fee_text).ok_or_else(|| format!("fee {fee_text:?}"))?;
            let fee = if neg {
                Qty::from_units(-fee.units())
            } else {
                fee
            };
            let asset = super::fills::fee_asset(d, pair)?;
            out.push((TradeId::from_u64(trade), fee, asset));
        }
        Ok(out)
    }
}

/// A whole-number id given as a JSON number or a string of digits.
fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn list(data: &Value) -> Result<&Vec<Value>, String> {
    data.as_array()
        .ok_or_else(|| "answer whose data is not a list".to_owned())
}

fn text<'v>(d: &'v Value, k: &str) -> Result<&'v str, String> {
    d.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("without {k:?}"))
}

/// A decimal as a string or a JSON number (the active-orders sample's `ordPrice` is
/// `9.1E-10`: a number in exponent form is written out to 8 places, rounded).
fn decimal_text(d: &Value, k: &str) -> Result<String, String> {
    match d.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) if n.is_f64() => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| format!("{f:.8}"))
            .ok_or_else(|| format!("{k}: not a finite number")),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("without {k:?}")),
    }
}

/// A non-negative decimal cut to 8 places.
fn amount(d: &Value, k: &str) -> Result<Qty, String> {
    let s = decimal_text(d, k)?;
    floor8(&s)
        .filter(|(neg, _)| !neg)
        .map(|(_, q)| q)
        .ok_or_else(|| format!("{k} {s:?}: not a decimal"))
}

/// An order of the order info or active list (`ordState` or `ordStatus`, `cumQty`,
/// `cumAmt`) as a snapshot; `Ok(None)` for `NOT_FOUND` or an order that is not ours (no
/// client id mako could have minted).
fn order(d: &Value) -> Result<Option<OrderSnapshot>, String> {
    if d.is_null() {
        return Ok(None);
    }
    let state = d
        .get("ordState")
        .or_else(|| d.get("ordStatus"))
        .and_then(Value::as_str)
        .ok_or("order without ordState")?;
    let status = match state {
        "SUBMITTING" | "SUBMITTED" | "PARTIAL_FILLED" | "CANCELING" => SnapshotStatus::Open,
        "FILLED" => SnapshotStatus::Filled,
        "CANCELED" | "STOPPED" => SnapshotStatus::Cancelled,
        "REJECTED" => SnapshotStatus::Rejected,
        "EXPIRED" => SnapshotStatus::Expired,
        "NOT_FOUND" => return Ok(None),
        other => return Err(format!("unknown ordState {other:?}")),
    };
    let Some(cid) = d
        .get("clOrdId")
        .and_then(Value::as_str)
        .and_then(|c| ClientOrderId::parse(c).ok())
    else {
        return Ok(None);
    };
    let ord = d
        .get("ordId")
        .and_then(id_of)
        .ok_or("order without ordId")?;
    let price = match d.get("ordType").and_then(Value::as_str) {
        Some("MARKET") => Price::ZERO,
        _ => Price::from_units(amount(d, "ordPrice")?.units()),
    };
    Ok(Some(OrderSnapshot {
        cid,
        symbol: text(d, "symbol")?.to_owned(),
        venue_order_id: VenueOrderId::from_u64(ord),
        status,
        cum_qty: amount(d, "cumQty")?,
        cum_quote: Notional::from_price(Price::from_units(amount(d, "cumAmt")?.units())),
        price,
        orig_qty: amount(d, "ordQty")?,
        side: match text(d, "side")? {
            "BUY" => Side::Buy,
            "SELL" => Side::Sell,
            other => return Err(format!("unknown side {other:?}")),
        },
    }))
}

/// `/spot/accountList`'s rows: `currency`, `balance`, `type` 1 (AVAILABLE) or 4 (FROZEN),
/// summed per currency into free and locked.
fn balances(data: &Value) -> Result<Vec<Balance>, String> {
    let mut out: Vec<Balance> = Vec::new();
    for row in list(data)? {
        let asset =
            AssetCode::new(text(row, "currency")?.as_bytes()).ok_or("currency name too long")?;
        let v = amount(row, "balance")?;
        let kind = row
            .get("type")
            .and_then(Value::as_u64)
            .ok_or("row without type")?;
        let b = match out.iter_mut().find(|b| b.asset == asset) {
            Some(b) => b,
            None => {
                out.push(Balance {
                    asset,
                    free: Qty::ZERO,
                    locked: Qty::ZERO,
                });
                out.last_mut().ok_or("unreachable")?
            }
        };
        match kind {
            1 => b.free = Qty::from_units(b.free.units() + v.units()),
            4 => b.locked = Qty::from_units(b.locked.units() + v.units()),
            other => return Err(format!("unknown balance type {other}")),
        }
    }
    Ok(out)
}

fn refused(purpose: Purpose, error: VenueError, out: &mut Vec<SessionEvent>) {
    let class = classify(i64::from(error.code));
    out.push(match purpose {
        Purpose::Place(cid) if class == ErrorClass::Rejected => {
            SessionEvent::PlaceRejected { cid, error }
        }
        Purpose::Place(cid) => SessionEvent::Uncertain { cid },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == ErrorClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
