//! Binance Spot order entry over REST as pure code: every request encoded and signed into one
//! buffer (the signed bytes are the bytes sent), what each request was for, the venue's
//! answers (HTTP status, rate-limit headers, body) turned into the same `SessionEvent`s the
//! WebSocket API produces, and the request-weight / 429 / 418 policy. No I/O: the gateway's
//! REST worker (`gateway::rest`) moves the bytes.

use crate::gateway::order::{OrderKind, TimeInForce};
use crate::types::{ClientOrderId, Price, Qty, Side, UnixNanos};

use super::orders::{Auth, NewOrder, rest_by_client_id, rest_new_order, rest_signed_symbol};
use super::session::{Purpose, SessionEvent};
use super::sign::{HmacSigner, QueryBuilder};
use super::user::{self, VenueError};

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// How much a request matters when request weight runs short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Reconciliation sweeps (open orders, balances): first to wait.
    Sweep,
    /// Queries that chase one order (status, trades).
    Query,
    /// New orders and cancels: held back only by a 429 wait or a ban.
    Order,
}

/// Where a signed request goes. The signed query itself is in the caller's buffer: the body
/// of a POST, the query string of a GET or DELETE, byte for byte as signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestHead {
    /// Matches the answer to the request (never 0: 0 is the worker's own keep-alive).
    pub id: u64,
    pub method: Method,
    pub path: &'static str,
    pub class: Class,
}

/// The rate-limit headers of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-MBX-USED-WEIGHT-1M`: the IP's request weight in the current minute.
    pub used_weight_1m: Option<u32>,
    /// `X-MBX-ORDER-COUNT-10S` / `-1D`: the account's unfilled order counts.
    pub order_count_10s: Option<u32>,
    pub order_count_1d: Option<u32>,
    /// `Retry-After`, in seconds (429 and 418).
    pub retry_after_s: Option<u64>,
}

impl RateHeaders {
    /// Reads the headers this module cares about from `(name, value)` pairs (any case).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut h = RateHeaders::default();
        for (name, value) in pairs {
            let num = || {
                std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let small = || num().map(|n| n.min(u64::from(u32::MAX)) as u32);
            if name.eq_ignore_ascii_case("x-mbx-used-weight-1m") {
                h.used_weight_1m = small();
            } else if name.eq_ignore_ascii_case("x-mbx-order-count-10s") {
                h.order_count_10s = small();
            } else if name.eq_ignore_ascii_case("x-mbx-order-count-1d") {
                h.order_count_1d = small();
            } else if name.eq_ignore_ascii_case("retry-after") {
                h.retry_after_s = num();
            }
        }
        h
    }
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// The venue answered.
    Http {
        status: u16,
        headers: RateHeaders,
        body: &'a [u8],
    },
    /// No answer in time: the request may or may not have been executed.
    Timeout,
    /// The connection failed (refused, reset, closed mid-answer): outcome unknown too.
    Transport,
    /// The worker held the request back (a 429 wait or a ban it learned of): never sent.
    NotSent,
}

/// Why a request may not go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The minute's weight is near the limit for this class of request.
    Busy,
    /// A 429 asked us to wait.
    RateLimited,
    /// The IP is banned (418) until then.
    Banned,
}

/// Request weight, order counts and the 429/418 waits as the venue reported them.
#[derive(Debug, Clone)]
pub struct RatePolicy {
    /// The IP's REQUEST_WEIGHT per minute (Binance: 6000).
    pub weight_limit: u32,
    /// Last reported weight, and the minute (ms / 60000) it was reported in.
    weight_used: u32,
    weight_minute: u64,
    pub order_count_10s: Option<u32>,
    pub order_count_1d: Option<u32>,
    quiet_until: UnixNanos,
    banned_until: UnixNanos,
    /// Consecutive 429s without a `Retry-After` (the wait doubles).
    strikes: u32,
}

/// A 429 without `Retry-After` waits 1 s, doubling per consecutive 429, at most this long.
const MAX_429_WAIT_S: u64 = 120;
/// A 418 without `Retry-After` waits this long (Binance bans last 2 minutes to 3 days).
const DEFAULT_BAN_S: u64 = 120;
const MAX_BAN_S: u64 = 3 * 86_400;

impl RatePolicy {
    pub fn new(weight_limit: u32) -> Self {
        Self {
            weight_limit: weight_limit.max(1),
            weight_used: 0,
            weight_minute: 0,
            order_count_10s: None,
            order_count_1d: None,
            quiet_until: UnixNanos::ZERO,
            banned_until: UnixNanos::ZERO,
            strikes: 0,
        }
    }

    /// The weight used in the current minute as far as we know (the venue's counter resets
    /// with the minute).
    pub fn weight_used(&self, now: UnixNanos) -> u32 {
        if now.as_millis() / 60_000 == self.weight_minute {
            self.weight_used
        } else {
            0
        }
    }

    pub fn banned_until(&self, now: UnixNanos) -> Option<UnixNanos> {
        (now < self.banned_until).then_some(self.banned_until)
    }

    /// Whether a request of `class` may go at `now`. Sweeps wait from 80 % of the minute's
    /// weight, queries from 90 %; orders and cancels go until the venue says otherwise.
    pub fn admit(&self, class: Class, now: UnixNanos) -> Result<(), Hold> {
        if now < self.banned_until {
            return Err(Hold::Banned);
        }
        if now < self.quiet_until {
            return Err(Hold::RateLimited);
        }
        let used = u64::from(self.weight_used(now)) * 10;
        let limit = u64::from(self.weight_limit);
        let busy = match class {
            Class::Sweep => used >= limit * 8,
            Class::Query => used >= limit * 9,
            Class::Order => false,
        };
        if busy { Err(Hold::Busy) } else { Ok(()) }
    }

    /// Notes an answer's headers and status; returns the wait a 429 or 418 imposes, in ms.
    pub fn note(&mut self, status: u16, h: &RateHeaders, now: UnixNanos) -> Option<u64> {
        if let Some(w) = h.used_weight_1m {
            self.weight_used = w;
            self.weight_minute = now.as_millis() / 60_000;
        }
        if h.order_count_10s.is_some() {
            self.order_count_10s = h.order_count_10s;
        }
        if h.order_count_1d.is_some() {
            self.order_count_1d = h.order_count_1d;
        }
        match status {
            429 => {
                self.strikes += 1;
                let doubling = 1u64 << (self.strikes - 1).min(7);
                let secs = h.retry_after_s.unwrap_or(doubling).min(MAX_429_WAIT_S);
                let ms = secs.max(1) * 1000;
                self.quiet_until = self.quiet_until.max(now.plus_nanos(ms * 1_000_000));
                Some(ms)
            }
            418 => {
                let secs = h.retry_after_s.unwrap_or(DEFAULT_BAN_S).clamp(1, MAX_BAN_S);
                let ms = secs * 1000;
                self.banned_until = self.banned_until.max(now.plus_nanos(ms * 1_000_000));
                Some(ms)
            }
            _ => {
                self.strikes = 0;
                None
            }
        }
    }
}

/// Size of the ring that remembers requests in flight (a power of two, larger than any
/// queue the worker is given).
const INFLIGHT: usize = 1024;

/// The REST side of one venue account: signs requests and maps their answers.
pub struct RestCodec {
    signer: HmacSigner,
    recv_window_ms: u64,
    next_id: u64,
    inflight: Vec<Option<(u64, Purpose)>>,
    pub policy: RatePolicy,
}

impl RestCodec {
    pub fn new(signer: HmacSigner, recv_window_ms: u64, weight_limit: u32) -> Self {
        Self {
            signer,
            recv_window_ms,
            next_id: 1,
            inflight: vec![None; INFLIGHT],
            policy: RatePolicy::new(weight_limit),
        }
    }

    fn auth(&self, now_ms: u64) -> Auth<'_> {
        Auth {
            // REST sends the key in the X-MBX-APIKEY header, not in the signed query.
            api_key: "",
            signer: &self.signer,
            recv_window_ms: self.recv_window_ms,
            timestamp_ms: now_ms,
        }
    }

    fn begin(&mut self, p: Purpose, method: Method, path: &'static str, class: Class) -> RestHead {
        let id = self.next_id;
        self.next_id += 1;
        self.inflight[id as usize & (INFLIGHT - 1)] = Some((id, p));
        RestHead {
            id,
            method,
            path,
            class,
        }
    }

    /// Forgets a request that never left (the worker's queue was full).
    pub fn abandon(&mut self, id: u64) -> Option<Purpose> {
        let slot = &mut self.inflight[id as usize & (INFLIGHT - 1)];
        match slot {
            Some((have, _)) if *have == id => slot.take().map(|(_, p)| p),
            _ => None,
        }
    }

    /// `POST /api/v3/order` (ACK response); the signed form body is written into `buf`.
    #[allow(clippy::too_many_arguments)]
    pub fn place(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        side: Side,
        kind: OrderKind,
        tif: TimeInForce,
        price: Price,
        qty: Qty,
        price_decimals: u32,
        qty_decimals: u32,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let o = NewOrder {
            symbol,
            side,
            kind,
            tif,
            price,
            qty,
            cid,
            price_decimals,
            qty_decimals,
        };
        rest_new_order(&o, &self.auth(now_ms), buf);
        self.begin(
            Purpose::Place(*cid),
            Method::Post,
            "/api/v3/order",
            Class::Order,
        )
    }

    /// `DELETE /api/v3/order` by client id.
    pub fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        rest_by_client_id(symbol, cid, &self.auth(now_ms), buf);
        self.begin(
            Purpose::Cancel(*cid),
            Method::Delete,
            "/api/v3/order",
            Class::Order,
        )
    }

    /// `GET /api/v3/order` by client id (weight 4).
    pub fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        rest_by_client_id(symbol, cid, &self.auth(now_ms), buf);
        self.begin(
            Purpose::Status(*cid),
            Method::Get,
            "/api/v3/order",
            Class::Query,
        )
    }

    /// `GET /api/v3/myTrades` of one order (weight 5 with `orderId`), for its fees.
    pub fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: u64,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        QueryBuilder::new(buf)
            .str("symbol", symbol)
            .u64("orderId", venue_order_id)
            .u64("recvWindow", self.recv_window_ms)
            .u64("timestamp", now_ms)
            .sign(&self.signer);
        self.begin(
            Purpose::Trades(*cid),
            Method::Get,
            "/api/v3/myTrades",
            Class::Query,
        )
    }

    /// `GET /api/v3/openOrders` for one symbol (weight 6).
    pub fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        rest_signed_symbol(Some(symbol), &self.auth(now_ms), buf);
        self.begin(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            "/api/v3/openOrders",
            Class::Sweep,
        )
    }

    /// `GET /api/v3/account` (weight 20): balances.
    pub fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        rest_signed_symbol(None, &self.auth(now_ms), buf);
        self.begin(
            Purpose::Account,
            Method::Get,
            "/api/v3/account",
            Class::Sweep,
        )
    }

    /// Turns the answer to request `id` into events (appended to `out`). Binance semantics:
    /// a 5xx, a timeout or a broken connection leaves the outcome UNKNOWN, so an order or
    /// cancel in that state is queried by client id, never assumed rejected.
    pub fn on_answer(
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
            return; // the worker's own keep-alive: only its headers matter
        }
        let Some(purpose) = self.abandon(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let (status, body) = match answer {
            Answer::Http { status, body, .. } => (status, body),
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => return refused(purpose, not_sent(), out),
        };
        if status >= 500 {
            return unknown(purpose, out);
        }
        if status != 200 {
            let error = match user::venue_error(body) {
                Ok(e) => e,
                // An error page without a Binance body (a proxy, the WAF): outcome unknown.
                Err(_) if matches!(status, 429 | 418) => not_sent(),
                Err(_) => return unknown(purpose, out),
            };
            // -1007: the backend timed out; execution status unknown.
            if error.code == -1007 {
                return unknown(purpose, out);
            }
            return refused(purpose, error, out);
        }
        let v: serde_json::Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return unknown(purpose, out);
            }
        };
        let decoded = match purpose {
            Purpose::Place(cid) => {
                user::new_order_ack(&v).map(|(_, venue_order_id, t)| SessionEvent::Order {
                    cid,
                    event: crate::gateway::order::OrderEvent::Accepted {
                        venue_order_id,
                        at: t,
                    },
                })
            }
            Purpose::Cancel(cid) | Purpose::Status(cid) => {
                user::order_snapshot(&v).map(|s| SessionEvent::Order {
                    cid,
                    event: s.event(at),
                })
            }
            Purpose::Trades(cid) => {
                user::trade_fees(&v).map(|trades| SessionEvent::Trades { cid, trades })
            }
            Purpose::OpenOrders(ref symbol) => {
                user::order_snapshots(&v).map(|orders| SessionEvent::OpenOrders {
                    symbol: symbol.clone(),
                    orders,
                })
            }
            Purpose::Account => user::account_balances(&v).map(SessionEvent::Balances),
            Purpose::Subscribe => Ok(SessionEvent::Subscribed),
        };
        match decoded {
            Ok(ev) => out.push(ev),
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                unknown(purpose, out);
            }
        }
    }
}

fn not_sent() -> VenueError {
    VenueError {
        code: -1003,
        msg: "not sent: waiting out a rate limit or ban".into(),
    }
}

/// The outcome is unknown: orders and cancels are queried by client id.
fn unknown(purpose: Purpose, out: &mut Vec<SessionEvent>) {
    out.push(match purpose {
        Purpose::Place(cid) | Purpose::Cancel(cid) | Purpose::Status(cid) => {
            SessionEvent::Uncertain { cid }
        }
        p => SessionEvent::Failed {
            purpose: p,
            error: VenueError {
                code: 0,
                msg: "no answer (timeout, 5xx or connection lost)".into(),
            },
        },
    });
}

/// The venue (or the rate-limit hold) refused the request: nothing was done.
fn refused(purpose: Purpose, error: VenueError, out: &mut Vec<SessionEvent>) {
    out.push(match purpose {
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if error.code == -2013 => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
