//! Two Binance WebSocket API sessions fed the same requests and frames: one decodes on the
//! typed fast path first (the default), the other on the `serde_json::Value` path only.
#![allow(dead_code)]

use mako::config::Secret;
use mako::types::order::{OrderKind, TimeInForce};
use mako::types::{ClientOrderId, Price, Qty, Side, StrategyId, UnixNanos};
use mako::venue::binance::session::{Session, SessionEvent};
use mako::venue::order::PlaceOrder;

pub const SYMBOL: &str = "BTCUSDT";

/// A request whose answer a frame may be.
#[derive(Debug, Clone, Copy)]
pub enum Req {
    Place(ClientOrderId),
    Cancel(ClientOrderId),
    Status(ClientOrderId),
    Amend(ClientOrderId),
    Replace(ClientOrderId, ClientOrderId),
}

pub fn cid(n: u64) -> ClientOrderId {
    ClientOrderId::mint(1_700_000_000_000, StrategyId(0), n).unwrap()
}

/// Every kind of request, for orders `cid(1)` (and `cid(2)` new in a replace).
pub fn all_requests() -> [Req; 5] {
    [
        Req::Place(cid(1)),
        Req::Cancel(cid(1)),
        Req::Status(cid(1)),
        Req::Amend(cid(1)),
        Req::Replace(cid(1), cid(2)),
    ]
}

pub struct Pair {
    pub fast: Session,
    pub slow: Session,
    buf: Vec<u8>,
    slow_buf: Vec<u8>,
    pub fast_events: Vec<SessionEvent>,
    slow_events: Vec<SessionEvent>,
}

impl Pair {
    pub fn new(key: &str, secret: &str) -> Self {
        let fast = Session::new(&Secret::new(key), &Secret::new(secret), 5_000);
        let mut slow = Session::new(&Secret::new(key), &Secret::new(secret), 5_000);
        slow.set_typed_decoder(false);
        Self {
            fast,
            slow,
            buf: Vec::with_capacity(1024),
            slow_buf: Vec::with_capacity(1024),
            fast_events: Vec::with_capacity(16),
            slow_events: Vec::with_capacity(16),
        }
    }

    pub fn test() -> Self {
        Self::new("key", "secret")
    }

    /// Issues `r` on both sessions (the same bytes); returns the request id and the bytes.
    pub fn request(&mut self, r: Req, price: Price, qty: Qty, now_ms: u64) -> (u64, &[u8]) {
        for (s, out) in [
            (&mut self.fast, &mut self.buf),
            (&mut self.slow, &mut self.slow_buf),
        ] {
            out.clear();
            let o = |cid| PlaceOrder {
                symbol: SYMBOL,
                cid,
                side: Side::Buy,
                kind: OrderKind::Limit,
                tif: TimeInForce::Gtc,
                price,
                qty,
                price_decimals: 2,
                qty_decimals: 5,
                reduce_only: false,
            };
            match r {
                Req::Place(c) => s.place(
                    SYMBOL,
                    &c,
                    Side::Buy,
                    OrderKind::Limit,
                    TimeInForce::Gtc,
                    price,
                    qty,
                    2,
                    5,
                    now_ms,
                    out,
                ),
                Req::Cancel(c) => s.cancel(SYMBOL, &c, now_ms, out),
                Req::Status(c) => s.status(SYMBOL, &c, now_ms, out),
                Req::Amend(c) => s.amend_keep_priority(SYMBOL, &c, qty, 5, now_ms, out),
                Req::Replace(old, new) => s.cancel_replace(&old, &o(&new), now_ms, out),
            }
        }
        assert_eq!(
            self.buf, self.slow_buf,
            "both sessions write the same request"
        );
        let v: serde_json::Value = serde_json::from_slice(&self.buf).unwrap();
        let id = v["id"].as_str().unwrap().parse().unwrap();
        (id, &self.buf)
    }

    /// `userDataStream.subscribe.signature` on both sessions.
    pub fn request_subscribe(&mut self, now_ms: u64) -> (u64, &[u8]) {
        self.buf.clear();
        self.slow_buf.clear();
        self.fast.subscribe_user_stream(now_ms, &mut self.buf);
        self.slow.subscribe_user_stream(now_ms, &mut self.slow_buf);
        assert_eq!(self.buf, self.slow_buf);
        let v: serde_json::Value = serde_json::from_slice(&self.buf).unwrap();
        (v["id"].as_str().unwrap().parse().unwrap(), &self.buf)
    }

    /// Feeds `frame` to both sessions and checks they tell the same: events, weight.
    /// Returns whether the fast session decoded it on the typed path.
    pub fn feed(&mut self, frame: &[u8]) -> bool {
        let before = self.fast.typed_frames();
        self.fast_events.clear();
        self.slow_events.clear();
        self.fast
            .on_frame(frame, UnixNanos(42), &mut self.fast_events);
        self.slow
            .on_frame(frame, UnixNanos(42), &mut self.slow_events);
        let text = String::from_utf8_lossy(frame);
        assert_eq!(
            self.fast_events, self.slow_events,
            "events differ for {text}"
        );
        assert_eq!(
            (self.fast.weight_used, self.fast.weight_limit),
            (self.slow.weight_used, self.slow.weight_limit),
            "weights differ for {text}"
        );
        assert_eq!(self.slow.typed_frames(), 0);
        self.fast.typed_frames() > before
    }
}
