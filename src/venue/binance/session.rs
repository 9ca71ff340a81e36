//! The Binance WebSocket API session as a pure state machine: it writes signed requests
//! (orders, cancels, queries, the user data stream subscription) and turns every frame the
//! venue sends back into `SessionEvent`s, remembering what each request id was for.
//! No I/O: the gateway moves the bytes. A re-quote is one request (`order.cancelReplace`,
//! `STOP_ON_FAILURE`), and a smaller quantity at the same price is an
//! `order.amend.keepPriority` (the order keeps its place in the queue); see `replace`.
//! Frames are decoded on the typed fast path (`typed`: the user-stream events and the order
//! answers, error answers included, allocation-free) and, when it declines, on the
//! `serde_json::Value` path.

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::{OrderEvent, OrderKind, TimeInForce};
use crate::types::{ClientOrderId, Price, Qty, Side, UnixNanos};

use super::errors::{error_events, error_head, replace_refused};
use super::orders::{
    Auth, NewOrder, WsAuth, WsScratch, ws_amend_keep_priority, ws_by_client_id, ws_cancel_replace,
    ws_logon, ws_my_trades, ws_new_order, ws_signed_simple, ws_unsigned,
};
use super::replace;
use super::sign::HmacSigner;
use super::typed::{self, Typed};
use super::user::{self, VenueError, WsApiMessage};
use crate::venue::order::{AmendLimits, OrderSession, PlaceOrder};
pub use crate::venue::order::{Purpose, SessionEvent};

/// Size of the ring that remembers in-flight requests (a power of two).
const INFLIGHT: usize = 4096;

/// Requests in flight, by id, in a fixed ring (no allocation per request).
struct Inflight {
    slots: Vec<Option<(u64, Purpose)>>,
    /// For a cancel-replace (whose slot holds `Purpose::Place(new)`): the order it cancels.
    replaces: Vec<Option<ClientOrderId>>,
}

impl Inflight {
    fn new() -> Self {
        Self {
            slots: vec![None; INFLIGHT],
            replaces: vec![None; INFLIGHT],
        }
    }
    fn put(&mut self, id: u64, p: Purpose) {
        self.slots[id as usize & (INFLIGHT - 1)] = Some((id, p));
        self.replaces[id as usize & (INFLIGHT - 1)] = None;
    }
    /// Marks request `id` (just `put`) as a cancel-replace of `old`.
    fn mark_replace(&mut self, id: u64, old: ClientOrderId) {
        self.replaces[id as usize & (INFLIGHT - 1)] = Some(old);
    }
    /// What `take(id)` would give, without taking it.
    fn peek(&self, id: u64) -> Option<(&Purpose, Option<ClientOrderId>)> {
        let i = id as usize & (INFLIGHT - 1);
        match &self.slots[i] {
            Some((have, p)) if *have == id => Some((p, self.replaces[i])),
            _ => None,
        }
    }
    /// The purpose of request `id`, and the order it cancels if it is a cancel-replace.
    fn take(&mut self, id: u64) -> Option<(Purpose, Option<ClientOrderId>)> {
        let i = id as usize & (INFLIGHT - 1);
        let slot = &mut self.slots[i];
        match slot {
            Some((have, _)) if *have == id => {
                let old = self.replaces[i].take();
                slot.take().map(|(_, p)| (p, old))
            }
            _ => None,
        }
    }
}

/// One authenticated WebSocket API session.
pub struct Session {
    api_key: String,
    signer: HmacSigner,
    /// An Ed25519 key: the session logs on with it (`session.logon`) and, once logged on,
    /// sends requests without signatures.
    ed25519: Option<ed25519_dalek::SigningKey>,
    logged_on: bool,
    recv_window_ms: u64,
    next_id: u64,
    inflight: Inflight,
    scratch: WsScratch,
    id_buf: String,
    /// Last REQUEST_WEIGHT count the venue reported, and its limit.
    pub weight_used: u32,
    pub weight_limit: u32,
    /// Whether frames are tried on the typed fast path first (`typed`); off only to compare
    /// the two paths (tests, benches).
    typed: bool,
    /// Frames the typed fast path decoded (the rest went to the `Value` path).
    typed_frames: u64,
}

impl Session {
    pub fn new(api_key: &Secret, secret: &Secret, recv_window_ms: u64) -> Self {
        Self {
            api_key: api_key.expose().to_owned(),
            signer: HmacSigner::new(secret),
            ed25519: None,
            logged_on: false,
            recv_window_ms,
            next_id: 1,
            inflight: Inflight::new(),
            scratch: WsScratch::default(),
            id_buf: String::with_capacity(24),
            weight_used: 0,
            weight_limit: 6000,
            typed: true,
            typed_frames: 0,
        }
    }

    /// A session whose API key is an Ed25519 key (`secret` its private key, see
    /// `venue::ed25519`): it logs on once per connection and then signs nothing per request.
    pub fn new_ed25519(
        api_key: &Secret,
        secret: &Secret,
        recv_window_ms: u64,
    ) -> Result<Self, crate::venue::ed25519::Ed25519KeyError> {
        let key = crate::venue::ed25519::signing_key(secret.expose())?;
        let mut s = Self::new(api_key, &Secret::new(""), recv_window_ms);
        s.ed25519 = Some(key);
        Ok(s)
    }

    /// Whether the connection is logged on (`session.logon` answered).
    pub fn logged_on(&self) -> bool {
        self.logged_on
    }

    fn begin(&mut self, p: Purpose) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.inflight.put(id, p);
        // The id's digits without `fmt` (a tenth of a request's encoding when it went
        // through `write!`).
        let mut digits = [0u8; 20];
        self.id_buf.clear();
        self.id_buf
            .push_str(super::orders::decimal(id, &mut digits));
        id
    }

    fn auth(&self, now_ms: u64) -> Auth<'_> {
        Auth {
            api_key: &self.api_key,
            signer: &self.signer,
            recv_window_ms: self.recv_window_ms,
            timestamp_ms: now_ms,
            ws: match (&self.ed25519, self.logged_on) {
                (Some(_), true) => WsAuth::Session,
                (Some(k), false) => WsAuth::Ed25519(k),
                (None, _) => WsAuth::Hmac,
            },
        }
    }

    /// `session.logon` with the Ed25519 key.
    fn logon(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.begin(Purpose::Logon);
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_logon(&self.auth(now_ms), &id, &mut scratch, out);
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// `order.place`; the request is written into `out`.
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
        out: &mut Vec<u8>,
    ) {
        self.begin(Purpose::Place(*cid));
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
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_new_order(&o, &self.auth(now_ms), &id, &mut scratch, out);
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// `order.cancel` by client id.
    pub fn cancel(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>) {
        self.by_cid(
            "order.cancel",
            Purpose::Cancel(*cid),
            symbol,
            cid,
            now_ms,
            out,
        );
    }

    /// `order.status` by client id.
    pub fn status(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>) {
        self.by_cid(
            "order.status",
            Purpose::Status(*cid),
            symbol,
            cid,
            now_ms,
            out,
        );
    }

    fn by_cid(
        &mut self,
        method: &str,
        p: Purpose,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) {
        self.begin(p);
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_by_client_id(
            method,
            symbol,
            cid,
            &self.auth(now_ms),
            &id,
            &mut scratch,
            out,
        );
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// `myTrades` of one order (weight 5), for its fees.
    pub fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) {
        self.begin(Purpose::Trades(*cid));
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_my_trades(
            symbol,
            venue_order_id,
            &self.auth(now_ms),
            &id,
            &mut scratch,
            out,
        );
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// `openOrders.status` for one symbol (weight 6).
    pub fn open_orders(&mut self, symbol: &str, now_ms: u64, out: &mut Vec<u8>) {
        self.simple(
            "openOrders.status",
            Purpose::OpenOrders(symbol.to_owned()),
            Some(symbol),
            now_ms,
            out,
        );
    }

    /// `account.status` (balances).
    pub fn account(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.simple("account.status", Purpose::Account, None, now_ms, out);
    }

    /// `userDataStream.subscribe.signature`: works with any key type on any session.
    pub fn subscribe_user_stream(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.simple(
            "userDataStream.subscribe.signature",
            Purpose::Subscribe,
            None,
            now_ms,
            out,
        );
    }

    fn simple(
        &mut self,
        method: &str,
        p: Purpose,
        symbol: Option<&str>,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) {
        self.begin(p);
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_signed_simple(method, symbol, &self.auth(now_ms), &id, &mut scratch, out);
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// Forgets every request in flight (after a reconnect their answers never come; the
    /// reconciliation sweep finds out what happened).
    pub fn reset_inflight(&mut self) -> Vec<Purpose> {
        // A new connection is not logged on.
        self.logged_on = false;
        let mut lost = Vec::new();
        let Inflight { slots, replaces } = &mut self.inflight;
        for (s, r) in slots.iter_mut().zip(replaces.iter_mut()) {
            if let Some((_, p)) = s.take() {
                lost.push(p);
            }
            // A lost cancel-replace leaves its old order's fate unknown too.
            if let Some(old) = r.take() {
                lost.push(Purpose::Cancel(old));
            }
        }
        lost
    }

    /// Whether frames go to the typed fast path first (the default) or only to the
    /// `serde_json::Value` path: both give the same events; off to compare them.
    pub fn set_typed_decoder(&mut self, on: bool) {
        self.typed = on;
    }

    /// How many frames the typed fast path decoded.
    pub fn typed_frames(&self) -> u64 {
        self.typed_frames
    }

    /// Decodes one text frame into events (appended to `out`).
    pub fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        if self.typed && self.on_frame_typed(frame, at, out) {
            return;
        }
        let msg = match user::ws_api_message(frame) {
            Ok(m) => m,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return;
            }
        };
        match msg {
            WsApiMessage::Order(u) => out.push(SessionEvent::Order {
                cid: u.cid,
                event: u.event,
            }),
            // The event lists the assets the change touched: each applied on its own.
            WsApiMessage::Balances(b) => out.extend(b.into_iter().map(SessionEvent::BalanceUpdate)),
            WsApiMessage::Ignored(kind) => out.push(SessionEvent::Ignored(kind)),
            WsApiMessage::OtherEvent(t) => out.push(SessionEvent::Other(t)),
            WsApiMessage::Response { id, status, result } => {
                self.note_weight(frame);
                let purpose = id.parse::<u64>().ok().and_then(|n| self.inflight.take(n));
                let Some((purpose, replaces)) = purpose else {
                    out.push(SessionEvent::Undecodable(format!(
                        "response to unknown request {id:?}"
                    )));
                    return;
                };
                match (purpose, replaces) {
                    (Purpose::Place(new), Some(old)) => {
                        self.on_replace_response(frame, old, new, status, result, at, out)
                    }
                    (purpose, _) => self.on_response(purpose, status, result, at, out),
                }
            }
        }
    }

    /// The typed fast path (`typed`): the order path's events and answers, without a
    /// `serde_json::Value` and without allocating. `false` (nothing done, no state changed):
    /// the frame is for the `Value` path.
    fn on_frame_typed(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) -> bool {
        let (id, status, weight, result) = match typed::decode(frame) {
            None => return false,
            Some(Typed::Order(u)) => {
                out.push(SessionEvent::Order {
                    cid: u.cid,
                    event: u.event,
                });
                self.typed_frames += 1;
                return true;
            }
            Some(Typed::Balances(b)) => {
                out.extend(b.as_slice().iter().map(|b| SessionEvent::BalanceUpdate(*b)));
                self.typed_frames += 1;
                return true;
            }
            Some(Typed::Ignored(kind)) => {
                out.push(SessionEvent::Ignored(kind));
                self.typed_frames += 1;
                return true;
            }
            Some(Typed::Answer {
                id,
                status,
                weight,
                result,
            }) => (id, status, weight, result),
        };
        let Some((purpose, replaces)) = self.inflight.peek(id) else {
            return false;
        };
        let first = out.len();
        let read = match (result.error(), purpose, replaces) {
            (Some(None), ..) => None,
            (None, Purpose::Place(new), Some(old)) => result.replaced(old, *new, at, out),
            (None, Purpose::Place(cid), None) => result.accepted().map(|e| order(out, *cid, e)),
            (None, Purpose::Cancel(cid) | Purpose::Status(cid), _) => {
                result.snapshot(at).map(|e| order(out, *cid, e))
            }
            (None, Purpose::Amend(cid), _) => result.amended().map(|e| order(out, *cid, e)),
            (Some(Some((code, msg))), Purpose::Place(new), Some(old)) => {
                let (new, outer) = (*new, (status, code, msg));
                error_head(outer, out);
                match result.replace_failed(old, new, code, at, out) {
                    Some(true) => Some(()),
                    Some(false) => {
                        replace_refused(old, new, outer, out);
                        Some(())
                    }
                    None => None,
                }
            }
            (
                Some(Some((code, msg))),
                p @ (Purpose::Place(_)
                | Purpose::Cancel(_)
                | Purpose::Status(_)
                | Purpose::Amend(_)),
                _,
            ) => {
                error_events(p.clone(), status, code, msg, at, out);
                Some(())
            }
            _ => None,
        };
        if read.is_none() {
            out.truncate(first);
            return false;
        }
        if let Some((used, limit)) = weight {
            self.weight_used = used;
            self.weight_limit = limit;
        }
        self.inflight.take(id);
        self.typed_frames += 1;
        true
    }

    fn note_weight(&mut self, frame: &[u8]) {
        // Cheap scan: rateLimits entries are small; parse only when present.
        let Ok(v) = serde_json::from_slice::<Value>(frame) else {
            return;
        };
        if let Some(arr) = v.get("rateLimits").and_then(Value::as_array) {
            for l in arr {
                if l.get("rateLimitType").and_then(Value::as_str) == Some("REQUEST_WEIGHT") {
                    self.weight_used = l.get("count").and_then(Value::as_u64).unwrap_or(0) as u32;
                    self.weight_limit =
                        l.get("limit").and_then(Value::as_u64).unwrap_or(6000) as u32;
                }
            }
        }
    }

    /// `order.cancelReplace` (`STOP_ON_FAILURE`): cancels `old` and places `o` in one request.
    pub fn cancel_replace(
        &mut self,
        old: &ClientOrderId,
        o: &PlaceOrder<'_>,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) {
        let req = self.begin(Purpose::Place(*o.cid));
        self.inflight.mark_replace(req, *old);
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
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_cancel_replace(&n, old, &self.auth(now_ms), &id, &mut scratch, out);
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// `order.amend.keepPriority`: `cid`'s quantity down to `qty` (the order's new total).
    pub fn amend_keep_priority(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        qty: Qty,
        qty_decimals: u32,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) {
        self.begin(Purpose::Amend(*cid));
        let id = std::mem::take(&mut self.id_buf);
        let mut scratch = std::mem::take(&mut self.scratch);
        ws_amend_keep_priority(
            symbol,
            cid,
            qty,
            qty_decimals,
            &self.auth(now_ms),
            &id,
            &mut scratch,
            out,
        );
        self.scratch = scratch;
        self.id_buf = id;
    }

    /// The answer to a cancel-replace of `old` by `new`.
    #[allow(clippy::too_many_arguments)]
    fn on_replace_response(
        &mut self,
        frame: &[u8],
        old: ClientOrderId,
        new: ClientOrderId,
        status: u16,
        result: Result<Value, VenueError>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        let decoded = match result {
            Ok(v) => replace::cancel_replace_events(old, new, &v, None, at, out),
            Err(error) => {
                let outer = (status, error.code, error.msg.as_str());
                error_head(outer, out);
                match replace::ws_error_data(frame).filter(|d| d.is_object()) {
                    Some(data) => {
                        replace::cancel_replace_events(old, new, &data, Some(&error), at, out)
                    }
                    None => {
                        replace_refused(old, new, outer, out);
                        Ok(())
                    }
                }
            }
        };
        if let Err(e) = decoded {
            // What happened to either order is not known: both are queried.
            out.push(SessionEvent::Undecodable(e.to_string()));
            out.push(SessionEvent::Uncertain { cid: old });
            out.push(SessionEvent::Uncertain { cid: new });
        }
    }

    fn on_response(
        &mut self,
        purpose: Purpose,
        status: u16,
        result: Result<Value, VenueError>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        let result = match result {
            Ok(v) => v,
            Err(error) => {
                error_events(purpose, status, error.code, &error.msg, at, out);
                return;
            }
        };
        match purpose {
            Purpose::Place(cid) => match user::new_order_ack(&result) {
                Ok((_, venue_order_id, t)) => out.push(SessionEvent::Order {
                    cid,
                    event: OrderEvent::Accepted {
                        venue_order_id,
                        at: t,
                    },
                }),
                Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
            },
            Purpose::Amend(cid) => match super::replace::amend_event(&result) {
                Ok(event) => out.push(SessionEvent::Order { cid, event }),
                Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
            },
            Purpose::Cancel(cid) | Purpose::Status(cid) => match user::order_snapshot(&result) {
                Ok(s) => out.push(SessionEvent::Order {
                    cid,
                    event: s.event(at),
                }),
                Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
            },
            Purpose::Trades(cid) => match user::trade_fees(&result) {
                Ok(trades) => out.push(SessionEvent::Trades { cid, trades }),
                Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
            },
            Purpose::OpenOrders(symbol) => match user::order_snapshots(&result) {
                Ok(orders) => out.push(SessionEvent::OpenOrders { symbol, orders }),
                Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
            },
            Purpose::Account => match user::account_balances(&result) {
                Ok(b) => out.push(SessionEvent::Balances(b)),
                Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
            },
            Purpose::Subscribe => out.push(SessionEvent::Subscribed),
            Purpose::Logon => {
                self.logged_on = true;
                out.push(SessionEvent::LoggedIn);
            }
            // Spot: never asked.
            Purpose::Positions(_)
            | Purpose::SetLeverage { .. }
            | Purpose::PlaceBatch(_)
            | Purpose::CancelBatch(_)
            | Purpose::AmendBatch(_) => {}
        }
    }
}

impl OrderSession for Session {
    fn venue_kind(&self) -> &'static str {
        "binance-spot"
    }

    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.logged_on = false;
        if self.ed25519.is_some() {
            self.logon(now_ms, out);
        } else {
            self.subscribe_user_stream(now_ms, out);
        }
    }

    /// Logged on with the Ed25519 key: the user data stream on this connection, unsigned.
    fn after_login(&mut self, _now_ms: u64, out: &mut Vec<u8>) -> bool {
        self.begin(Purpose::Subscribe);
        ws_unsigned("userDataStream.subscribe", &self.id_buf, out);
        true
    }

    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, out: &mut Vec<u8>) {
        Session::place(
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
            out,
        );
    }

    fn cancel(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>) {
        Session::cancel(self, symbol, cid, now_ms, out);
    }

    fn cancel_replaces(&self) -> bool {
        true
    }

    fn cancel_replace(
        &mut self,
        old: &ClientOrderId,
        new: &PlaceOrder<'_>,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        Session::cancel_replace(self, old, new, now_ms, out);
        true
    }

    fn amends_in_place(&self) -> bool {
        true
    }

    fn amend_limits(&self) -> AmendLimits {
        AmendLimits::QuantityDownOnly
    }

    /// Only a smaller quantity at the same price (keep-priority): the gateway asks for no
    /// other (`amend_limits`).
    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, out: &mut Vec<u8>) -> bool {
        Session::amend_keep_priority(self, o.symbol, o.cid, o.qty, o.qty_decimals, now_ms, out);
        true
    }

    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        Session::status(self, symbol, cid, now_ms, out);
        true
    }

    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        Session::trades(self, symbol, cid, venue_order_id, now_ms, out);
        true
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, out: &mut Vec<u8>) -> bool {
        Session::open_orders(self, symbol, now_ms, out);
        true
    }

    fn account(&mut self, now_ms: u64, out: &mut Vec<u8>) -> bool {
        Session::account(self, now_ms, out);
        true
    }

    fn reset_inflight(&mut self) -> Vec<Purpose> {
        Session::reset_inflight(self)
    }

    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        Session::on_frame(self, frame, at, out);
    }

    fn budget_used_percent(&self) -> u32 {
        (u64::from(self.weight_used) * 100 / u64::from(self.weight_limit.max(1))) as u32
    }
}

/// `SessionEvent::Order` for `cid` into `out`.
fn order(out: &mut Vec<SessionEvent>, cid: ClientOrderId, event: OrderEvent) {
    out.push(SessionEvent::Order { cid, event });
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
