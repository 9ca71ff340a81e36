//! Binance Spot order entry over REST as pure code: every request encoded and signed into one
//! buffer (the signed bytes are the bytes sent), what each request was for, the venue's
//! answers (HTTP status, rate-limit headers, body) turned into the same `SessionEvent`s the
//! WebSocket API produces, and the request-weight / 429 / 418 policy. No I/O: the gateway's
//! REST worker (`gateway::rest`) moves the bytes.

use crate::types::order::{OrderKind, TimeInForce};
use crate::types::{ClientOrderId, Price, Qty, Side, UnixNanos};

use super::orders::{
    Auth, NewOrder, rest_amend_keep_priority, rest_by_client_id, rest_cancel_replace,
    rest_new_order, rest_signed_symbol,
};
use super::replace;
use super::session::{Purpose, SessionEvent};
use super::sign::{HmacSigner, QueryBuilder};
use super::user::{self, VenueError};
use crate::venue::order::PlaceOrder;
pub use crate::venue::rest::{
    Answer, Class, Hold, Method, RateHeaders, RatePolicy, RestHead, SignedHeaders,
};
use crate::venue::rest::{Inflight, RestCodec, RestPlan, unknown_outcome as unknown};

/// Reads Binance's rate-limit headers from `(name, value)` pairs (any case).
pub fn rate_headers(pairs: &[(&str, &[u8])]) -> RateHeaders {
    let mut h = RateHeaders::default();
    for &(name, value) in pairs {
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

/// The REST side of one venue account: signs requests and maps their answers.
pub struct BinanceRest {
    signer: HmacSigner,
    recv_window_ms: u64,
    inflight: Inflight,
    /// For a cancel-replace in flight (whose purpose is `Place(new)`): its id and the order
    /// it cancels, in a ring beside `inflight`'s.
    replaces: Vec<Option<(u64, ClientOrderId)>>,
    pub policy: RatePolicy,
    /// The API key, sent in the `X-MBX-APIKEY` header.
    api_key: String,
}

impl BinanceRest {
    pub fn new(
        api_key: &crate::config::Secret,
        signer: HmacSigner,
        recv_window_ms: u64,
        weight_limit: u32,
    ) -> Self {
        Self {
            api_key: api_key.expose().to_owned(),
            signer,
            recv_window_ms,
            inflight: Inflight::default(),
            replaces: vec![None; Inflight::SLOTS],
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
            ws: super::orders::WsAuth::Hmac,
        }
    }

    fn begin(&mut self, p: Purpose, method: Method, path: &'static str, class: Class) -> RestHead {
        let id = self.inflight.insert(p);
        RestHead {
            id,
            method,
            path,
            class,
            signed: SignedHeaders::default(),
            bearer: false,
        }
    }

    /// Forgets a request that never left (the worker's queue was full).
    pub fn abandon(&mut self, id: u64) -> Option<Purpose> {
        self.take_replace(id);
        self.inflight.take(id)
    }

    /// The order request `id` cancels, if it is a cancel-replace (forgotten once asked).
    fn take_replace(&mut self, id: u64) -> Option<ClientOrderId> {
        let slot = &mut self.replaces[id as usize & (Inflight::SLOTS - 1)];
        match *slot {
            Some((have, old)) if have == id => {
                *slot = None;
                Some(old)
            }
            _ => None,
        }
    }

    /// `POST /api/v3/order/cancelReplace` (`STOP_ON_FAILURE`, ACK): cancels `old` and places
    /// `o` in one request.
    pub fn cancel_replace(
        &mut self,
        old: &ClientOrderId,
        o: &PlaceOrder<'_>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let n = NewOrder {
            symbol: o.symbol,
            side: o.side,
            kind: o.kind,
            tif: o.tif,
            price: o.price,
            qty: o.qty,
            cid: o.cid,
            price_decimals: o.price_decimals,
            qty_decimals: o.qty_decimals,
        };
        rest_cancel_replace(&n, old, &self.auth(now_ms), buf);
        let head = self.begin(
            Purpose::Place(*o.cid),
            Method::Post,
            "/api/v3/order/cancelReplace",
            Class::Order,
        );
        self.replaces[head.id as usize & (Inflight::SLOTS - 1)] = Some((head.id, *old));
        head
    }

    /// `PUT /api/v3/order/amend/keepPriority`: `o.cid`'s quantity down to `o.qty` (weight 4).
    pub fn amend_keep_priority(
        &mut self,
        o: &PlaceOrder<'_>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        rest_amend_keep_priority(
            o.symbol,
            o.cid,
            o.qty,
            o.qty_decimals,
            &self.auth(now_ms),
            buf,
        );
        self.begin(
            Purpose::Amend(*o.cid),
            Method::Put,
            "/api/v3/order/amend/keepPriority",
            Class::Order,
        )
    }

    /// The answer to a cancel-replace of `old` by `new`: HTTP 200 (both done), 409 (-2021,
    /// one half failed) or 400 (-2022, the cancel failed, nothing placed) with `data`.
    fn on_replace_answer(
        &mut self,
        old: ClientOrderId,
        new: ClientOrderId,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        let (status, body) = match answer {
            Answer::Http { status, body, .. } => (status, body),
            Answer::Timeout | Answer::Transport => {
                return replace::cancel_replace_refused(old, new, not_sent(), true, out);
            }
            Answer::NotSent => {
                return replace::cancel_replace_refused(old, new, not_sent(), false, out);
            }
        };
        if status >= 500 {
            return replace::cancel_replace_refused(old, new, not_sent(), true, out);
        }
        let decoded = if status == 200 {
            serde_json::from_slice::<serde_json::Value>(body)
                .map_err(|e| user::DecodeError::Json(e.to_string()))
                .and_then(|v| replace::cancel_replace_events(old, new, &v, None, at, out))
        } else {
            match user::venue_error(body) {
                Ok(error) => match replace::rest_error_data(body).filter(|d| d.is_object()) {
                    Some(data) => {
                        replace::cancel_replace_events(old, new, &data, Some(&error), at, out)
                    }
                    None => {
                        let uncertain = error.code == -1007;
                        replace::cancel_replace_refused(old, new, error, uncertain, out);
                        Ok(())
                    }
                },
                Err(_) if matches!(status, 429 | 418) => {
                    replace::cancel_replace_refused(old, new, not_sent(), false, out);
                    Ok(())
                }
                Err(e) => Err(e),
            }
        };
        if let Err(e) = decoded {
            out.push(SessionEvent::Undecodable(e.to_string()));
            replace::cancel_replace_refused(old, new, not_sent(), true, out);
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
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        QueryBuilder::new(buf)
            .str("symbol", symbol)
            .str("orderId", venue_order_id.as_str())
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
        let replaces = self.take_replace(id);
        let Some(purpose) = self.abandon(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        if let (Purpose::Place(new), Some(old)) = (&purpose, replaces) {
            return self.on_replace_answer(old, *new, answer, at, out);
        }
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
            if let Purpose::Amend(cid) = purpose {
                out.push(SessionEvent::Order {
                    cid,
                    event: crate::types::order::OrderEvent::AmendRejected {
                        code: error.code,
                        at,
                    },
                });
                return;
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
                    event: crate::types::order::OrderEvent::Accepted {
                        venue_order_id,
                        at: t,
                    },
                })
            }
            Purpose::Amend(cid) => {
                replace::amend_event(&v).map(|event| SessionEvent::Order { cid, event })
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
            Purpose::Logon => Ok(SessionEvent::LoggedIn),
            Purpose::Positions(_)
            | Purpose::SetLeverage { .. }
            | Purpose::PlaceBatch(_)
            | Purpose::CancelBatch(_)
            | Purpose::AmendBatch(_) => Err(crate::venue::binance::user::DecodeError::Field(
                "positions (a spot venue has none)",
            )),
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

impl RestCodec for BinanceRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: vec![("X-MBX-APIKEY", self.api_key.clone())],
            content_type: "application/x-www-form-urlencoded",
            warm_path: "/api/v3/time",
            keepalive_path: "/api/v3/ping",
            rate_headers,
            bearer: None,
        }
    }

    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        BinanceRest::place(
            self,
            o.symbol,
            o.cid,
            o.side,
            o.kind,
            o.tif,
            o.price,
            o.qty,
            o.price_decimals,
            o.qty_decimals,
            now_ms,
            buf,
        )
    }

    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        BinanceRest::cancel(self, symbol, cid, now_ms, buf)
    }

    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        BinanceRest::status(self, symbol, cid, now_ms, buf)
    }

    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        BinanceRest::trades(self, symbol, cid, venue_order_id, now_ms, buf)
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        BinanceRest::open_orders(self, symbol, now_ms, buf)
    }

    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        BinanceRest::account(self, now_ms, buf)
    }

    fn amends_in_place(&self) -> bool {
        true
    }

    fn amend_limits(&self) -> crate::venue::order::AmendLimits {
        crate::venue::order::AmendLimits::QuantityDownOnly
    }

    /// Only a smaller quantity at the same price (keep-priority; see `amend_limits`).
    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        Some(BinanceRest::amend_keep_priority(self, o, now_ms, buf))
    }

    fn cancel_replaces(&self) -> bool {
        true
    }

    fn cancel_replace(
        &mut self,
        old: &ClientOrderId,
        new: &PlaceOrder<'_>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        Some(BinanceRest::cancel_replace(self, old, new, now_ms, buf))
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        BinanceRest::abandon(self, id)
    }

    fn on_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        BinanceRest::on_answer(self, id, answer, at, out)
    }

    fn policy(&self) -> &RatePolicy {
        &self.policy
    }
}

fn not_sent() -> VenueError {
    VenueError {
        code: -1003,
        msg: "not sent: waiting out a rate limit or ban".into(),
    }
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
