//! The Binance WebSocket API session as a pure state machine: it writes signed requests
//! (orders, cancels, queries, the user data stream subscription) and turns every frame the
//! venue sends back into `SessionEvent`s, remembering what each request id was for.
//! No I/O: the gateway moves the bytes.

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::{OrderEvent, OrderKind, TimeInForce};
use crate::types::{ClientOrderId, Price, Qty, Side, UnixNanos};

use super::orders::{
    Auth, NewOrder, WsAuth, WsScratch, ws_by_client_id, ws_logon, ws_my_trades, ws_new_order,
    ws_signed_simple, ws_unsigned,
};
use super::sign::HmacSigner;
use super::user::{self, VenueError, WsApiMessage};
use crate::venue::order::{OrderSession, PlaceOrder};
pub use crate::venue::order::{Purpose, SessionEvent};

/// Size of the ring that remembers in-flight requests (a power of two).
const INFLIGHT: usize = 4096;

/// Requests in flight, by id, in a fixed ring (no allocation per request).
struct Inflight {
    slots: Vec<Option<(u64, Purpose)>>,
}

impl Inflight {
    fn new() -> Self {
        Self {
            slots: vec![None; INFLIGHT],
        }
    }
    fn put(&mut self, id: u64, p: Purpose) {
        self.slots[id as usize & (INFLIGHT - 1)] = Some((id, p));
    }
    fn take(&mut self, id: u64) -> Option<Purpose> {
        let slot = &mut self.slots[id as usize & (INFLIGHT - 1)];
        match slot {
            Some((have, _)) if *have == id => slot.take().map(|(_, p)| p),
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
        self.id_buf.clear();
        use std::fmt::Write;
        let _ = write!(self.id_buf, "{id}");
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
        for s in self.inflight.slots.iter_mut() {
            if let Some((_, p)) = s.take() {
                lost.push(p);
            }
        }
        lost
    }

    /// Decodes one text frame into events (appended to `out`).
    pub fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
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
            WsApiMessage::Balances(b) => out.push(SessionEvent::Balances(b)),
            WsApiMessage::OtherEvent(t) => out.push(SessionEvent::Other(t)),
            WsApiMessage::Response { id, status, result } => {
                self.note_weight(frame);
                let purpose = id.parse::<u64>().ok().and_then(|n| self.inflight.take(n));
                let Some(purpose) = purpose else {
                    out.push(SessionEvent::Undecodable(format!(
                        "response to unknown request {id:?}"
                    )));
                    return;
                };
                self.on_response(purpose, status, result, at, out);
            }
        }
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
                if status == 418 {
                    out.push(SessionEvent::Banned);
                }
                if status == 429 || error.code == -1003 {
                    out.push(SessionEvent::RateLimited {
                        retry_after_ms: 1_000,
                    });
                }
                // Unknown outcome: the venue may or may not have acted.
                let uncertain =
                    status >= 500 || error.code == -1007 || status == 429 || status == 418;
                out.push(match purpose {
                    Purpose::Place(cid) if uncertain => SessionEvent::Uncertain { cid },
                    Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
                    Purpose::Cancel(cid) if uncertain => SessionEvent::Uncertain { cid },
                    Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
                    Purpose::Status(cid) if error.code == -2013 => SessionEvent::NotFound { cid },
                    Purpose::Status(cid) => SessionEvent::Uncertain { cid },
                    p => SessionEvent::Failed { purpose: p, error },
                });
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
            // An amend is never sent to Binance (its session does not amend in place).
            Purpose::Cancel(cid) | Purpose::Amend(cid) | Purpose::Status(cid) => {
                match user::order_snapshot(&result) {
                    Ok(s) => out.push(SessionEvent::Order {
                        cid,
                        event: s.event(at),
                    }),
                    Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
                }
            }
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
            Purpose::Positions(_) | Purpose::SetLeverage { .. } => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StrategyId;
    use crate::types::order::SnapshotStatus;

    fn session() -> Session {
        Session::new(&Secret::new("key"), &Secret::new("secret"), 5000)
    }

    fn id_of(req: &[u8]) -> String {
        let v: Value = serde_json::from_slice(req).unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    #[test]
    fn answers_are_matched_to_their_requests() {
        let mut s = session();
        let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
        let mut buf = Vec::new();
        s.place(
            "BTCUSDT",
            &cid,
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Gtc,
            Price::from_int(100),
            Qty::from_int(1),
            2,
            5,
            1,
            &mut buf,
        );
        let place_id = id_of(&buf);
        s.status("BTCUSDT", &cid, 2, &mut buf);
        let status_id = id_of(&buf);
        let mut ev = Vec::new();
        let ack = format!(
            r#"{{"id":"{place_id}","status":200,"result":{{"symbol":"BTCUSDT","orderId":5,"orderListId":-1,"clientOrderId":"{cid}","transactTime":7}},"rateLimits":[{{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":12}}]}}"#
        );
        s.on_frame(ack.as_bytes(), UnixNanos(9), &mut ev);
        assert_eq!(
            ev,
            vec![SessionEvent::Order {
                cid,
                event: OrderEvent::Accepted {
                    venue_order_id: 5.into(),
                    at: UnixNanos::from_millis(7)
                }
            }]
        );
        assert_eq!(s.weight_used, 12);
        ev.clear();
        let not_found = format!(
            r#"{{"id":"{status_id}","status":400,"error":{{"code":-2013,"msg":"Order does not exist."}}}}"#
        );
        s.on_frame(not_found.as_bytes(), UnixNanos(9), &mut ev);
        assert_eq!(ev, vec![SessionEvent::NotFound { cid }]);
        ev.clear();
        // A second answer to the same id is not matched to anything.
        s.on_frame(not_found.as_bytes(), UnixNanos(9), &mut ev);
        assert!(matches!(ev[0], SessionEvent::Undecodable(_)));
    }

    #[test]
    fn uncertain_outcomes_and_rejections() {
        let mut s = session();
        let cid = ClientOrderId::mint(1, StrategyId(0), 2).unwrap();
        let mut buf = Vec::new();
        let mut ev = Vec::new();
        s.place(
            "BTCUSDT",
            &cid,
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_int(100),
            Qty::from_int(1),
            2,
            5,
            1,
            &mut buf,
        );
        let id = id_of(&buf);
        s.on_frame(format!(r#"{{"id":"{id}","status":400,"error":{{"code":-2010,"msg":"insufficient balance"}}}}"#).as_bytes(), UnixNanos(1), &mut ev);
        assert!(matches!(&ev[0], SessionEvent::PlaceRejected { error, .. } if error.code == -2010));
        ev.clear();
        s.place(
            "BTCUSDT",
            &cid,
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_int(100),
            Qty::from_int(1),
            2,
            5,
            1,
            &mut buf,
        );
        let id = id_of(&buf);
        s.on_frame(
            format!(r#"{{"id":"{id}","status":503,"error":{{"code":-1007,"msg":"timeout"}}}}"#)
                .as_bytes(),
            UnixNanos(1),
            &mut ev,
        );
        assert_eq!(ev, vec![SessionEvent::Uncertain { cid }]);
        ev.clear();
        s.cancel("BTCUSDT", &cid, 3, &mut buf);
        let id = id_of(&buf);
        let resp = format!(
            r#"{{"id":"{id}","status":200,"result":{{"symbol":"BTCUSDT","origClientOrderId":"{cid}","orderId":4,"orderListId":-1,"clientOrderId":"x","transactTime":1,"price":"100.00","origQty":"1.00000000","executedQty":"0.25000000","origQuoteOrderQty":"0","cummulativeQuoteQty":"25.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT_MAKER","side":"SELL","selfTradePreventionMode":"NONE"}}}}"#
        );
        s.on_frame(resp.as_bytes(), UnixNanos(4), &mut ev);
        match &ev[0] {
            SessionEvent::Order {
                cid: c,
                event:
                    OrderEvent::Snapshot {
                        status, cum_qty, ..
                    },
            } => {
                assert_eq!(
                    (*c, *status, *cum_qty),
                    (cid, SnapshotStatus::Cancelled, Qty::parse("0.25").unwrap())
                );
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(s.reset_inflight(), vec![]);
    }

    /// RFC 8032 §7.1 test 1's seed, as base64: a published test key.
    const ED_SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

    #[test]
    fn an_ed25519_session_logs_on_then_signs_nothing() {
        let mut s = Session::new_ed25519(&Secret::new("key"), &Secret::new(ED_SEED), 5000).unwrap();
        let public = crate::venue::ed25519::signing_key(ED_SEED)
            .unwrap()
            .verifying_key();
        let mut buf = Vec::new();
        // Connected: the first frame is session.logon, signed over apiKey and timestamp.
        s.on_connected(1_700_000_000_000, &mut buf);
        let logon: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(logon["method"], "session.logon");
        assert_eq!(logon["params"]["apiKey"], "key");
        assert_eq!(logon["params"]["timestamp"], 1_700_000_000_000u64);
        let sig = logon["params"]["signature"].as_str().unwrap();
        assert!(crate::venue::ed25519::verify_base64(
            &public,
            b"apiKey=key&timestamp=1700000000000",
            sig
        ));
        // Before the answer an order is signed with the key itself (base64).
        let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
        let place = |s: &mut Session, buf: &mut Vec<u8>| {
            s.place(
                "BTCUSDT",
                &cid,
                Side::Buy,
                OrderKind::Limit,
                TimeInForce::Gtc,
                Price::from_int(100),
                Qty::from_int(1),
                2,
                5,
                1_700_000_000_001,
                buf,
            )
        };
        place(&mut s, &mut buf);
        let early: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(early["params"]["apiKey"], "key");
        assert_eq!(
            early["params"]["signature"].as_str().map(str::len),
            Some(88)
        );
        // The logon is answered: logged in, and the user stream is subscribed unsigned.
        let mut ev = Vec::new();
        let answer = format!(
            r#"{{"id":"{}","status":200,"result":{{"apiKey":"key","authorizedSince":1700000000000,"connectedSince":1700000000000,"returnRateLimits":false,"serverTime":1700000000000}}}}"#,
            logon["id"].as_str().unwrap()
        );
        s.on_frame(answer.as_bytes(), UnixNanos(1), &mut ev);
        assert_eq!(ev, vec![SessionEvent::LoggedIn]);
        assert!(s.logged_on());
        assert!(s.after_login(0, &mut buf));
        let sub: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(sub["method"], "userDataStream.subscribe");
        assert!(sub.get("params").is_none());
        // Logged on: no apiKey, no signature, the rest as before.
        place(&mut s, &mut buf);
        let text = std::str::from_utf8(&buf).unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["method"], "order.place");
        assert!(v["params"].get("apiKey").is_none(), "{text}");
        assert!(v["params"].get("signature").is_none(), "{text}");
        assert_eq!(v["params"]["newClientOrderId"], cid.as_str());
        assert_eq!(v["params"]["timestamp"], 1_700_000_000_001u64);
        // A new connection logs on again.
        s.reset_inflight();
        assert!(!s.logged_on());
        s.on_connected(1_700_000_000_002, &mut buf);
        let again: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(again["method"], "session.logon");
        // A key that is not Ed25519 is refused at start, without showing it.
        let bad = Session::new_ed25519(&Secret::new("key"), &Secret::new("hmac-secret"), 5000);
        assert!(bad.is_err());
    }
}
