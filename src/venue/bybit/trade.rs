//! Bybit's trade WebSocket (`/v5/trade`, exchanges.md §3.5–3.6 and Bybit's "WebSocket Trade
//! Guideline") as the order transport of a `bybit-spot` / `bybit-linear` venue with
//! `order_transport = "ws-api"`: new orders (`order.create`), amends in place
//! (`order.amend`) and cancels (`order.cancel`) go over it, one order per request, while
//! queries, sweeps, positions and leverage stay on signed REST (`BybitRest`, wrapped here)
//! and fills keep arriving on the private WebSocket (`session.rs`).
//!
//! The connection is opened by the gateway's REST worker (`gateway/trade_ws.rs`) and logged
//! in with `{"reqId":"auth","op":"auth","args":[api_key, expires, hex HMAC("GET/realtime" +
//! expires)]}` (answer `retCode` 0; 10004 invalid sign, 10001 parameter error, 20001 repeat
//! auth). Each request: `{"reqId":"<id>","header":{"X-BAPI-TIMESTAMP":"<ms>",
//! "X-BAPI-RECV-WINDOW":"<ms>"},"op":"order.create","args":[{…as REST…}]}`; its answer
//! `{"reqId","retCode","retMsg","op","data":{"orderId","orderLinkId"},"header":{
//! "X-Bapi-Limit","X-Bapi-Limit-Status","X-Bapi-Limit-Reset-Timestamp",…}}` is matched by
//! `reqId`. `retCode` 0 accepts (an amend's new terms are applied; its fills follow on the
//! private stream), the documented refusals reject (an amend refused leaves the order as it
//! was), 10006 backs off and leaves the outcome unknown, any other code, a timeout or a lost
//! connection leave the order unknown: it is queried over REST by `orderLinkId`.
//!
//! Unconfirmed against the live venue (read from the docs, never run there): the answer's
//! `header` carrying the `X-Bapi-Limit*` trio for the request's endpoint, read as the REST
//! headers are; `reqId` sent as the request's decimal id; an `order.amend` answered `retCode`
//! 0 meaning the new terms hold (the docs call every acknowledgement "accepted, confirm on
//! the order stream). The batch ops `order.create-batch`, `order.cancel-batch` and
//! `order.amend-batch` are in `trade_batch.rs` (with their own unconfirmed readings).

use std::fmt::Write as _;

use serde_json::Value;

use crate::net::url::Endpoint;
use crate::net::ws::Connector;
use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, Price, Qty, UnixNanos, VenueOrderId};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::rest::{
    Answer, Class, Method, RateHeaders, RatePolicy, RateWindow, RestCodec, RestHead, RestPlan,
    SignedHeaders, unknown_outcome,
};
use crate::venue::trade_ws::{LoginAnswer, TradeSocket};

use super::Category;
use super::rest::{BybitRest, ErrorClass, classify, place_body, refused};
use super::sign::BybitSigner;

/// Ids of requests sent over the trade WebSocket start here (REST's count up from 1).
const WS_IDS: u64 = 1 << 62;
/// The keepalive period the docs recommend (`{"op":"ping"}` every 20 s).
const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(20);
/// How long an auth frame stays valid.
const AUTH_VALID_MS: u64 = 10_000;
/// Requests remembered at most (a ring: an id's slot is reused this many ids later).
const SLOTS: usize = 1024;

/// A request in flight on the trade WebSocket: what for, and an amend's new terms.
#[derive(Debug, Clone)]
struct Sent {
    id: u64,
    purpose: Purpose,
    terms: Option<(Price, Qty)>,
    /// A batch amend's new terms, one per order in the order sent (`trade_batch.rs`).
    batch_terms: Option<Box<batch::Terms>>,
}

/// A Bybit key's order transport over `/v5/trade`, with REST for everything else.
pub struct BybitTrade {
    rest: BybitRest,
    category: Category,
    signer: BybitSigner,
    recv_window_ms: u64,
    socket: (Connector, Endpoint),
    next: u64,
    sent: Vec<Option<Sent>>,
    /// The request's parameters, written before the envelope around them.
    args: Vec<u8>,
    /// One batch item's parameters (`trade_batch.rs`).
    item: Vec<u8>,
    /// Batch requests' client ids, reused.
    batches: crate::venue::order::BatchPool,
    /// Batch amends' new terms, reused. Boxed on purpose: each box moves into a request's
    /// record and back, never its contents.
    #[allow(clippy::vec_box)]
    terms: Vec<Box<batch::Terms>>,
}

impl BybitTrade {
    /// `url`: the trade WebSocket (`wss://stream.bybit.com/v5/trade`).
    pub fn new(
        category: Category,
        signer: BybitSigner,
        recv_window_ms: u64,
        connector: Connector,
        url: &str,
    ) -> Result<Self, String> {
        let ep = Endpoint::parse(url).map_err(|e| format!("trade WebSocket {url}: {e}"))?;
        Ok(Self {
            rest: BybitRest::new(category, signer.clone(), recv_window_ms),
            category,
            signer,
            recv_window_ms: recv_window_ms.max(1),
            socket: (connector, ep),
            next: WS_IDS,
            sent: vec![None; SLOTS],
            args: Vec::with_capacity(256),
            item: Vec::with_capacity(256),
            batches: Default::default(),
            terms: Vec::new(),
        })
    }

    /// Wraps `self.args` into the request frame for `op` in `buf` and remembers it.
    fn frame(
        &mut self,
        op: &str,
        purpose: Purpose,
        terms: Option<(Price, Qty)>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        self.next += 1;
        let id = self.next;
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"reqId":"{id}","header":{{"X-BAPI-TIMESTAMP":"{now_ms}","X-BAPI-RECV-WINDOW":"{}"}},"op":"{op}","args":["#,
            self.recv_window_ms
        );
        buf.extend_from_slice(&self.args);
        buf.extend_from_slice(b"]}");
        self.sent[id as usize % SLOTS] = Some(Sent {
            id,
            purpose,
            terms,
            batch_terms: None,
        });
        RestHead {
            id,
            method: Method::WsText,
            path: "/v5/trade",
            class: Class::Order,
            signed: SignedHeaders::default(),
            bearer: false,
        }
    }

    fn take(&mut self, id: u64) -> Option<Sent> {
        let slot = &mut self.sent[id as usize % SLOTS];
        match slot {
            Some(s) if s.id == id => slot.take(),
            _ => None,
        }
    }

    /// Maps the answer to trade-WebSocket request `id`.
    fn on_ws_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        let Some(sent) = self.take(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown trade WebSocket request {id}"
            )));
            return;
        };
        let body = match answer {
            Answer::Http { body, .. } => body,
            Answer::Timeout | Answer::Transport => {
                self.give_terms(sent.batch_terms);
                return unknown(sent.purpose, out);
            }
            Answer::NotSent => {
                let error = VenueError {
                    code: 10006,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                self.give_terms(sent.batch_terms);
                return refuse(sent.purpose, error, at, out);
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                self.give_terms(sent.batch_terms);
                return unknown(sent.purpose, out);
            }
        };
        if let Some(w) = v.get("header").and_then(header_window) {
            let h = RateHeaders {
                window: Some(w),
                ..RateHeaders::default()
            };
            self.rest.policy_mut().note(200, &h, at);
        }
        if let Some(error) = super::rest::ret_error(&v) {
            if classify(i64::from(error.code)) == ErrorClass::RateLimited {
                self.rest
                    .policy_mut()
                    .note(429, &RateHeaders::default(), at);
                out.push(SessionEvent::RateLimited {
                    retry_after_ms: 1_000,
                });
                self.give_terms(sent.batch_terms);
                return unknown(sent.purpose, out);
            }
            self.give_terms(sent.batch_terms);
            return refuse(sent.purpose, error, at, out);
        }
        if let (Purpose::AmendBatch(ids), Some(terms)) = (&sent.purpose, &sent.batch_terms) {
            batch::amend_batch_answer(ids, terms, &v, at, out);
            self.give_terms(sent.batch_terms);
            return self.recycle(sent.purpose);
        }
        match sent.purpose {
            Purpose::Place(cid) => out.push(
                match v
                    .pointer("/data/orderId")
                    .and_then(Value::as_str)
                    .and_then(|s| VenueOrderId::new(s.as_bytes()))
                {
                    Some(venue_order_id) => SessionEvent::Order {
                        cid,
                        event: OrderEvent::Accepted { venue_order_id, at },
                    },
                    None => SessionEvent::Uncertain { cid },
                },
            ),
            Purpose::Amend(cid) => {
                if let Some((price, qty)) = sent.terms {
                    out.push(SessionEvent::Order {
                        cid,
                        event: OrderEvent::Amended { price, qty, at },
                    });
                }
            }
            p @ (Purpose::PlaceBatch(_) | Purpose::CancelBatch(_)) => {
                if let Purpose::PlaceBatch(ids) | Purpose::CancelBatch(ids) = &p {
                    let cancel = matches!(p, Purpose::CancelBatch(_));
                    batch::batch_answer(ids, cancel, &v, at, out);
                }
                self.recycle(p);
            }
            // Accepted: the order's end comes from the private stream or a query.
            _ => {}
        }
    }
}

/// No answer: an order, cancel or amend is queried (an amend's outcome shows in the
/// order's terms).
fn unknown(purpose: Purpose, out: &mut Vec<SessionEvent>) {
    match purpose {
        Purpose::Amend(cid) => out.push(SessionEvent::Uncertain { cid }),
        Purpose::AmendBatch(ids) => out.extend(
            ids.as_slice()
                .iter()
                .map(|&cid| SessionEvent::Uncertain { cid }),
        ),
        p => unknown_outcome(p, out),
    }
}

/// A refusal: an amend refused leaves the order as it was; the rest as over REST.
fn refuse(purpose: Purpose, error: VenueError, at: UnixNanos, out: &mut Vec<SessionEvent>) {
    match purpose {
        Purpose::Amend(cid) if classify(i64::from(error.code)) == ErrorClass::Unknown => {
            out.push(SessionEvent::Uncertain { cid })
        }
        Purpose::Amend(cid) => out.push(SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: error.code,
                at,
            },
        }),
        Purpose::PlaceBatch(ids) => batch::refuse_each(&ids, false, error, out),
        Purpose::AmendBatch(ids) => {
            for &cid in ids.as_slice() {
                refuse(Purpose::Amend(cid), error.clone(), at, out);
            }
        }
        Purpose::CancelBatch(ids) => batch::refuse_each(&ids, true, error, out),
        p => refused(p, error, out),
    }
}

/// The endpoint's request window from `X-Bapi-Limit` (its limit), `X-Bapi-Limit-Status`
/// (left) and `X-Bapi-Limit-Reset-Timestamp` (Unix ms when it starts again), as text,
/// at `now_ms`; `None` unless the limit and what is left are both there.
pub fn limit_window(
    limit: Option<&str>,
    left: Option<&str>,
    reset_ms: Option<&str>,
    now_ms: u64,
) -> Option<RateWindow> {
    let limit: u32 = limit?.trim().parse().ok()?;
    let remaining: u32 = left?.trim().parse().ok()?;
    // Bybit's per-UID windows are one second long: without a reset time, a second.
    let reset_in_ms = reset_ms
        .and_then(|r| r.trim().parse::<u64>().ok())
        .map_or(1_000, |r| r.saturating_sub(now_ms).min(60_000));
    Some(RateWindow {
        limit,
        remaining,
        reset_in_ms,
    })
}

/// The local clock in Unix ms.
pub(super) fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The window a trade answer's `header` object reports (names in any case).
fn header_window(h: &Value) -> Option<RateWindow> {
    let m = h.as_object()?;
    let get = |name: &str| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    };
    limit_window(
        get("X-Bapi-Limit"),
        get("X-Bapi-Limit-Status"),
        get("X-Bapi-Limit-Reset-Timestamp"),
        wall_ms(),
    )
}

impl RestCodec for BybitTrade {
    fn plan(&self) -> RestPlan {
        self.rest.plan()
    }

    /// `order.create` with the create-order body's parameters.
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        let mut args = std::mem::take(&mut self.args);
        place_body(self.category, o, &mut args);
        self.args = args;
        self.frame("order.create", Purpose::Place(*o.cid), None, now_ms, buf)
    }

    /// `order.cancel` by `orderLinkId`.
    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        self.args.clear();
        let _ = write!(
            Buf(&mut self.args),
            r#"{{"category":"{}","symbol":"{symbol}","orderLinkId":"{}"}}"#,
            self.category.as_str(),
            cid.as_str()
        );
        self.frame("order.cancel", Purpose::Cancel(*cid), None, now_ms, buf)
    }

    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        self.rest.status(symbol, cid, now_ms, buf)
    }

    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        self.rest.trades(symbol, cid, venue_order_id, now_ms, buf)
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        self.rest.open_orders(symbol, now_ms, buf)
    }

    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        self.rest.account(now_ms, buf)
    }

    fn amends_in_place(&self) -> bool {
        true
    }

    /// `order.amend` by `orderLinkId` to the new price and total quantity.
    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        let mut n = [0u8; 48];
        self.args.clear();
        let _ = write!(
            Buf(&mut self.args),
            r#"{{"category":"{}","symbol":"{}","orderLinkId":"{}","qty":""#,
            self.category.as_str(),
            o.symbol,
            o.cid.as_str()
        );
        let k = o.qty.write_fixed(o.qty_decimals, &mut n);
        self.args.extend_from_slice(&n[..k]);
        self.args.extend_from_slice(br#"","price":""#);
        let k = o.price.write_fixed(o.price_decimals, &mut n);
        self.args.extend_from_slice(&n[..k]);
        self.args.extend_from_slice(br#""}"#);
        let terms = Some((o.price, o.qty));
        Some(self.frame("order.amend", Purpose::Amend(*o.cid), terms, now_ms, buf))
    }

    fn batch_limit(&self) -> usize {
        batch::batch_cap(self.category)
    }

    fn batchable(&self, _o: &PlaceOrder<'_>) -> bool {
        true
    }

    /// `order.create-batch` (`trade_batch.rs`).
    fn place_batch(
        &mut self,
        o: &[PlaceOrder<'_>],
        ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        self.create_batch(o, ms, buf)
    }

    /// `order.cancel-batch` by `orderLinkId` (`trade_batch.rs`).
    fn cancel_batch(
        &mut self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        self.cancel_batch_frame(symbol, cids, now_ms, buf)
    }

    /// Over the trade socket only (Bybit's REST batch endpoints are not built).
    fn amends_in_batch(&self) -> bool {
        true
    }

    /// `order.amend-batch` by `orderLinkId` (`trade_batch.rs`).
    fn amend_batch(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        self.amend_batch_frame(orders, now_ms, buf)
    }

    fn positions(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        self.rest.positions(symbol, now_ms, buf)
    }

    fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: crate::types::Rate,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        self.rest.set_leverage(symbol, leverage, now_ms, buf)
    }

    fn trade_socket(&self) -> Option<Box<dyn TradeSocket>> {
        Some(Box::new(BybitTradeSocket {
            connector: self.socket.0.clone(),
            endpoint: self.socket.1.clone(),
            signer: self.signer.clone(),
        }))
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        if id > WS_IDS {
            self.take(id).map(|s| s.purpose)
        } else {
            self.rest.abandon(id)
        }
    }

    fn on_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        if id > WS_IDS {
            self.on_ws_answer(id, answer, at, out)
        } else {
            self.rest.on_answer(id, answer, at, out)
        }
    }

    fn policy(&self) -> &RatePolicy {
        self.rest.policy()
    }
}

/// Where `/v5/trade` is and how it is logged in and kept alive, for the REST worker.
pub struct BybitTradeSocket {
    connector: Connector,
    endpoint: Endpoint,
    signer: BybitSigner,
}

impl TradeSocket for BybitTradeSocket {
    fn endpoint(&self) -> (&Connector, &Endpoint) {
        (&self.connector, &self.endpoint)
    }

    fn login(&self, now_ms: u64, out: &mut String) {
        *out = login_frame(&self.signer, now_ms + AUTH_VALID_MS);
    }

    fn login_answer(&self, frame: &str) -> Option<LoginAnswer> {
        let v: Value = serde_json::from_str(frame).ok()?;
        if v.get("op").and_then(Value::as_str) != Some("auth") {
            return None;
        }
        Some(match v.get("retCode").and_then(Value::as_i64) {
            Some(0) => LoginAnswer::Accepted,
            code => LoginAnswer::Refused(format!(
                "retCode {} {}",
                code.unwrap_or(-1),
                v.get("retMsg").and_then(Value::as_str).unwrap_or("")
            )),
        })
    }

    fn answer_id(&self, frame: &str) -> Option<u64> {
        answer_id(frame)
    }

    fn ping(&self, out: &mut String) {
        out.clear();
        out.push_str(r#"{"op":"ping"}"#);
    }

    fn ping_every(&self) -> std::time::Duration {
        PING_EVERY
    }
}

/// The trade WebSocket's auth frame, valid until `expires_ms`.
pub fn login_frame(signer: &BybitSigner, expires_ms: u64) -> String {
    let sig = signer.sign_ws(expires_ms);
    format!(
        r#"{{"reqId":"auth","op":"auth","args":["{}",{expires_ms},"{}"]}}"#,
        signer.api_key(),
        String::from_utf8_lossy(&sig)
    )
}

/// The `reqId` an answer names, as the request id it was sent with.
pub fn answer_id(frame: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(frame).ok()?;
    v.get("reqId")?.as_str()?.parse().ok()
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// `order.create-batch` and `order.cancel-batch`.
#[path = "trade_batch.rs"]
mod batch;

#[cfg(test)]
#[path = "trade_tests.rs"]
mod tests;
