//! Coinstore's private WebSocket as the gateway's order session, **as the 2022 docs describe
//! it** (exchanges.md §6.5; gone from the 2024 copy): on `wss://ws.coinstore.com/s/ws` (the
//! public URL) a `LOGIN` with the account's user id and the API key as `token`, subscribing
//! `!@order` and `!@account` in the same request. Only the simulator is known to speak this:
//! whether the live venue still serves it is unconfirmed (`super::UNCONFIRMED`).
//!
//! Orders, cancels and every query go over signed REST (`super::rest::CoinstoreRest`):
//! `place` and `cancel` write nothing here and `queries_over_ws` is false. The server pings
//! every 3 minutes and the WebSocket layer answers (`Keepalive::ServerPings`).
//!
//! **Order pushes name no client id**: the docs' push carries `ordId` only. The REST codec and
//! this session share an [`IdBook`] (venue id ↔ client id): the REST codec records an order's
//! `ordId` when its place answer (or a query) tells it, and a push that arrives before that is
//! kept in the book and handed back by the REST codec with the answer. Each push becomes a
//! snapshot of the order's cumulative `execQty` / `execAmt` and its `ordState`; the gateway
//! turns snapshots into fills and asks the match list (REST) for their fees, because a push
//! names its fee's currency by a numeric `feeCurrencyId` the docs do not map to a code.
//! Account pushes carry one currency each: each is a `SessionEvent::BalanceUpdate` for that
//! currency alone (the others kept); the REST account list still gives the whole list. The session sequence `S` is watched: a jump means a message was
//! lost, and the gateway reconciles at once.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use crate::config::Secret;
use crate::types::order::{OrderEvent, SnapshotStatus};
use crate::types::{AssetCode, ClientOrderId, Notional, OrderStatus, UnixNanos, VenueOrderId};
use crate::venue::md::Keepalive;
use crate::venue::order::{
    Balance, OrderLimits, OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError,
};

use super::private::{OrderPush, PrivatePush, decode_private, login_request};

/// The channels the LOGIN subscribes: every order and every currency of the account.
pub const CHANNELS: [&str; 2] = ["!@order", "!@account"];

/// Ids kept before the oldest is forgotten (an order older than this many newer ones is
/// matched by REST queries only).
const MAX_IDS: usize = 65_536;
/// Pushes kept for orders whose place answer has not come yet.
const MAX_EARLY: usize = 1_024;

/// Venue order id ↔ client id, shared by the REST codec (which learns them) and the session
/// (whose pushes name only the venue id); and the pushes that came before their id was known.
#[derive(Default)]
pub struct IdBook {
    by_ord: HashMap<u64, ClientOrderId>,
    by_cid: HashMap<ClientOrderId, u64>,
    order: VecDeque<u64>,
    early: VecDeque<(u64, OrderPush, UnixNanos)>,
}

/// The book both halves hold.
pub type Ids = Arc<Mutex<IdBook>>;

impl IdBook {
    /// Records `ord_id` as order `cid`'s; returns the pushes that were waiting for it, as
    /// events.
    pub fn learn(&mut self, ord_id: u64, cid: ClientOrderId) -> Vec<SessionEvent> {
        if self.by_ord.insert(ord_id, cid).is_none() {
            self.by_cid.insert(cid, ord_id);
            self.order.push_back(ord_id);
            while self.order.len() > MAX_IDS {
                if let Some(old) = self.order.pop_front()
                    && let Some(c) = self.by_ord.remove(&old)
                {
                    self.by_cid.remove(&c);
                }
            }
        }
        let mut out = Vec::new();
        self.early.retain(|(id, push, at)| {
            if *id == ord_id {
                out.push(push_event(cid, push, *at));
                false
            } else {
                true
            }
        });
        out
    }

    pub fn cid_of(&self, ord_id: u64) -> Option<ClientOrderId> {
        self.by_ord.get(&ord_id).copied()
    }

    pub fn ord_of(&self, cid: &ClientOrderId) -> Option<u64> {
        self.by_cid.get(cid).copied()
    }

    /// Keeps a push whose order is not known yet (the oldest goes when full).
    fn keep_early(&mut self, push: OrderPush, at: UnixNanos) {
        if self.early.len() >= MAX_EARLY {
            self.early.pop_front();
        }
        self.early.push_back((push.ord_id, push, at));
    }

    /// Pushes waiting for their order's id.
    pub fn early_len(&self) -> usize {
        self.early.len()
    }
}

/// The engine's snapshot status of an order status the push decoder gives.
fn snapshot_status(s: OrderStatus) -> SnapshotStatus {
    match s {
        OrderStatus::New | OrderStatus::Sent | OrderStatus::Acked => SnapshotStatus::Open,
        OrderStatus::PartiallyFilled => SnapshotStatus::Open,
        OrderStatus::Filled => SnapshotStatus::Filled,
        OrderStatus::Cancelled => SnapshotStatus::Cancelled,
        OrderStatus::Rejected => SnapshotStatus::Rejected,
        OrderStatus::Expired => SnapshotStatus::Expired,
    }
}

/// One order push as a snapshot of the order's cumulative figures. A market order's
/// `ordPrice` is no limit: no terms.
pub(super) fn push_event(cid: ClientOrderId, p: &OrderPush, at: UnixNanos) -> SessionEvent {
    let terms = (p.ord_type != "MARKET").then_some((p.price, p.qty));
    SessionEvent::Order {
        cid,
        event: OrderEvent::Snapshot {
            venue_order_id: VenueOrderId::from_u64(p.ord_id),
            status: snapshot_status(p.status),
            cum_qty: p.exec_qty,
            cum_quote: Notional::from_price(p.exec_amount),
            terms,
            at,
        },
    }
}

pub struct CoinstoreSession {
    user_id: u64,
    api_key: String,
    ids: Ids,
    /// The last `S` seen on this connection (it restarts with each connection).
    last_s: Option<u64>,
    logged_in: bool,
    /// Account pushes seen (each applied as one currency's `BalanceUpdate`).
    pub account_pushes: u64,
}

impl CoinstoreSession {
    pub fn new(user_id: u64, api_key: &Secret, ids: Ids) -> Self {
        Self {
            user_id,
            api_key: api_key.expose().to_owned(),
            ids,
            last_s: None,
            logged_in: false,
            account_pushes: 0,
        }
    }

    /// Watches `S`: a jump past the next number means messages were lost.
    fn check_s(&mut self, v: &Value, out: &mut Vec<SessionEvent>) {
        let Some(s) = v.get("S").and_then(Value::as_u64) else {
            return;
        };
        if let Some(last) = self.last_s
            && s > last + 1
        {
            out.push(SessionEvent::StreamGap(format!(
                "S jumped from {last} to {s}"
            )));
        }
        if self.last_s.is_none_or(|l| s > l) {
            self.last_s = Some(s);
        }
    }
}

impl OrderSession for CoinstoreSession {
    fn venue_kind(&self) -> &'static str {
        "coinstore-spot"
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::ServerPings
    }

    fn on_connected(&mut self, _now_ms: u64, out: &mut Vec<u8>) {
        self.last_s = None;
        self.logged_in = false;
        out.clear();
        out.extend_from_slice(login_request(self.user_id, &self.api_key, &CHANNELS, 1).as_bytes());
    }

    fn place(&mut self, _: &PlaceOrder<'_>, _: u64, out: &mut Vec<u8>) {
        out.clear();
    }

    fn cancel(&mut self, _: &str, _: &ClientOrderId, _: u64, out: &mut Vec<u8>) {
        out.clear();
    }

    fn status(&mut self, _: &str, _: &ClientOrderId, _: u64, _: &mut Vec<u8>) -> bool {
        false
    }

    fn trades(
        &mut self,
        _: &str,
        _: &ClientOrderId,
        _: VenueOrderId,
        _: u64,
        _: &mut Vec<u8>,
    ) -> bool {
        false
    }

    fn open_orders(&mut self, _: &str, _: u64, _: &mut Vec<u8>) -> bool {
        false
    }

    fn account(&mut self, _: u64, _: &mut Vec<u8>) -> bool {
        false
    }

    fn queries_over_ws(&self) -> bool {
        false
    }

    fn reset_inflight(&mut self) -> Vec<Purpose> {
        self.logged_in = false;
        Vec::new()
    }

    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        let Ok(text) = std::str::from_utf8(frame) else {
            out.push(SessionEvent::Undecodable("not UTF-8".into()));
            return;
        };
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("not JSON: {e}")));
                return;
            }
        };
        self.check_s(&v, out);
        match v.get("T").and_then(Value::as_str) {
            Some("resp") => {
                let code = v.get("C").and_then(Value::as_i64).unwrap_or(0);
                let msg = v.get("M").and_then(Value::as_str).unwrap_or("");
                if code != 200 {
                    out.push(SessionEvent::Failed {
                        purpose: Purpose::Logon,
                        error: VenueError {
                            code: i32::try_from(code).unwrap_or(0),
                            msg: msg.to_owned(),
                        },
                    });
                } else if msg.contains("login") && !self.logged_in {
                    // The LOGIN named the channels: logged in is subscribed.
                    self.logged_in = true;
                    out.push(SessionEvent::LoggedIn);
                    out.push(SessionEvent::Subscribed);
                }
                return;
            }
            Some("echo") => return,
            _ => {}
        }
        match decode_private(text) {
            Ok(pushes) if pushes.is_empty() => out.push(SessionEvent::Other(
                "message without order or account".into(),
            )),
            Ok(pushes) => {
                let mut ids = self.ids.lock();
                for p in pushes {
                    match p {
                        PrivatePush::Order(o) => match ids.cid_of(o.ord_id) {
                            Some(cid) => out.push(push_event(cid, &o, at)),
                            None => {
                                ids.keep_early(o, at);
                                out.push(SessionEvent::Other(
                                    "order push before its place answer".into(),
                                ));
                            }
                        },
                        PrivatePush::Account(a) => {
                            self.account_pushes += 1;
                            out.push(match AssetCode::new(a.currency.as_bytes()) {
                                Some(asset) => SessionEvent::BalanceUpdate(Balance {
                                    asset,
                                    free: a.available,
                                    locked: a.frozen,
                                }),
                                None => SessionEvent::Undecodable(format!(
                                    "account push: currency {:?} too long",
                                    a.currency
                                )),
                            });
                        }
                    }
                }
            }
            Err(e) => out.push(SessionEvent::Undecodable(e)),
        }
    }

    /// Requests go over REST, whose codec keeps the budget.
    fn budget_used_percent(&self) -> u32 {
        0
    }

    /// 120 requests per 3 s per user: new orders alone never exceed it.
    fn order_limits(&self) -> OrderLimits {
        OrderLimits {
            per_instrument: None,
            per_account: Some((
                super::rest::USER_REQUESTS_PER_3S,
                std::time::Duration::from_secs(super::rest::WINDOW_S),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Price, Qty};

    fn cid(s: &str) -> ClientOrderId {
        ClientOrderId::parse(s).unwrap()
    }

    const PUSH: &str = r#"{"S":5,"T":"order","version":3,"accountId":1,"ordId":77,"symbol":"BTCUSDT","side":"BUY","ordType":"LIMIT","timeInForce":"GTC","ordPrice":"100","ordQty":"2","ordAmt":"200","ordState":"PARTIAL_FILLED","execQty":"0.5","execAmt":"50","remainingQty":"1.5","matchId":1,"tradeId":9,"matchRole":"MAKER","matchQty":"0.5","matchAmt":"50","feeCurrencyId":3,"fee":"0.001","timestamp":1}"#;

    #[test]
    fn an_account_push_is_one_currencys_balance_update() {
        let (mut s, _) = session();
        let mut ev = Vec::new();
        let push = br#"{"S":1,"T":"account","accountId":1,"currency":"USDT","available":"990.5","frozen":"9.5","timestamp":1}"#;
        s.on_frame(push, UnixNanos(1), &mut ev);
        let updates: Vec<&Balance> = ev
            .iter()
            .filter_map(|e| match e {
                SessionEvent::BalanceUpdate(b) => Some(b),
                _ => None,
            })
            .collect();
        assert_eq!(updates.len(), 1, "{ev:?}");
        assert_eq!(updates[0].asset.as_str(), "USDT");
        assert_eq!(updates[0].free, Qty::parse("990.5").unwrap());
        assert_eq!(updates[0].locked, Qty::parse("9.5").unwrap());
        assert!(!ev.iter().any(|e| matches!(e, SessionEvent::Balances(_))));
        assert_eq!(s.account_pushes, 1);
    }

    fn session() -> (CoinstoreSession, Ids) {
        let ids: Ids = Arc::default();
        (
            CoinstoreSession::new(4930, &Secret::new("key"), ids.clone()),
            ids,
        )
    }

    #[test]
    fn login_names_the_user_key_and_channels_and_its_answer_logs_in_and_subscribes() {
        let (mut s, _) = session();
        let mut out = Vec::new();
        s.on_connected(0, &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["op"], "LOGIN");
        assert_eq!(v["auth"]["user-id"], 4930);
        assert_eq!(v["auth"]["token"], "key");
        assert_eq!(v["channel"], serde_json::json!(["!@order", "!@account"]));
        let mut ev = Vec::new();
        s.on_frame(
            br#"{"S":1,"T":"resp","C":200,"M":"established"}"#,
            UnixNanos(1),
            &mut ev,
        );
        assert!(ev.is_empty(), "{ev:?}");
        s.on_frame(
            br#"{"S":2,"T":"resp","C":200,"M":"login.success"}"#,
            UnixNanos(1),
            &mut ev,
        );
        assert_eq!(ev, vec![SessionEvent::LoggedIn, SessionEvent::Subscribed]);
        ev.clear();
        s.on_frame(
            br#"{"S":3,"T":"resp","C":401,"M":"login.failed"}"#,
            UnixNanos(1),
            &mut ev,
        );
        assert!(
            matches!(&ev[..], [SessionEvent::Failed { purpose: Purpose::Logon, error }] if error.code == 401)
        );
    }

    #[test]
    fn a_push_of_a_known_order_is_a_snapshot_and_an_early_one_waits_for_its_id() {
        let (mut s, ids) = session();
        let mut ev = Vec::new();
        s.on_frame(PUSH.as_bytes(), UnixNanos(7), &mut ev);
        assert!(matches!(&ev[..], [SessionEvent::Other(_)]), "{ev:?}");
        assert_eq!(ids.lock().early_len(), 1);
        let c = cid("mk1abc");
        let late = ids.lock().learn(77, c);
        let want = SessionEvent::Order {
            cid: c,
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::from_u64(77),
                status: SnapshotStatus::Open,
                cum_qty: Qty::parse("0.5").unwrap(),
                cum_quote: Notional::from_price(Price::parse("50").unwrap()),
                terms: Some((Price::parse("100").unwrap(), Qty::parse("2").unwrap())),
                at: UnixNanos(7),
            },
        };
        assert_eq!(late, vec![want.clone()]);
        assert_eq!(ids.lock().early_len(), 0);
        ev.clear();
        s.on_frame(
            PUSH.replace("\"S\":5", "\"S\":6").as_bytes(),
            UnixNanos(7),
            &mut ev,
        );
        assert_eq!(ev, vec![want]);
    }

    #[test]
    fn a_jump_in_s_is_a_gap_and_bad_frames_are_counted_not_panicked_on() {
        let (mut s, _) = session();
        let mut ev = Vec::new();
        s.on_frame(
            br#"{"S":1,"T":"resp","C":200,"M":"established"}"#,
            UnixNanos(1),
            &mut ev,
        );
        s.on_frame(br#"{"S":4,"T":"echo"}"#, UnixNanos(1), &mut ev);
        assert!(matches!(&ev[..], [SessionEvent::StreamGap(_)]), "{ev:?}");
        ev.clear();
        for bad in [&b"\xff"[..], b"{", br#"{"S":5,"T":"order","ordId":1}"#] {
            s.on_frame(bad, UnixNanos(1), &mut ev);
        }
        assert_eq!(ev.len(), 3);
        assert!(
            ev.iter().all(|e| matches!(e, SessionEvent::Undecodable(_))),
            "{ev:?}"
        );
        // A new connection restarts S.
        let mut out = Vec::new();
        s.on_connected(0, &mut out);
        ev.clear();
        s.on_frame(
            br#"{"S":1,"T":"resp","C":200,"M":"established"}"#,
            UnixNanos(1),
            &mut ev,
        );
        assert!(ev.is_empty());
    }
}
