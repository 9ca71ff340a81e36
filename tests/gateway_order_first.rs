//! The gateway's burst (issue 25): one poll's new orders go on the wire before its cancels,
//! and all of the poll's WebSocket requests leave in one write. The venue here is a spy: a
//! session whose requests are plain text naming what they are (`place <cid>`, `cancel
//! <cid>`), over a real WebSocket to a loopback server that records every frame in the order
//! it arrived. Risk counts an order until the venue ends it, so a replacing order that the
//! still open order makes break `max_open_orders` is refused, and its cancel still goes.

mod common;

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::gateway::{
    CidMinter, Gateway, GatewayOptions, GatewaySpec, NewOrderIntent, OrderIntent, OrderUpdate,
    Refusal,
};
use mako::net::Connector;
use mako::risk::{KillSwitch, RiskEngine, Rule};
use mako::runtime::{Actor, Clock, Ctx, FullPolicy, Rx, Shutdown, Tx, bounded};
use mako::types::order::{OrderKind, TimeInForce};
use mako::types::{ClientOrderId, InstrumentId, Price, Qty, Side, StrategyId, UnixNanos, VenueId};
use mako::venue::binance::rest::BinanceRest;
use mako::venue::order::{OrderSession, PlaceOrder, Purpose, SessionEvent};
use tungstenite::Message;

/// A venue session whose requests say what they are; the server's `ready` subscribes it.
struct Spy;

fn say(out: &mut Vec<u8>, what: &str, cid: &ClientOrderId) {
    out.clear();
    out.extend_from_slice(format!("{what} {cid}").as_bytes());
}

impl OrderSession for Spy {
    fn venue_kind(&self) -> &'static str {
        "spy"
    }
    fn on_connected(&mut self, _: u64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(b"hello");
    }
    fn place(&mut self, o: &PlaceOrder<'_>, _: u64, out: &mut Vec<u8>) {
        say(out, "place", o.cid);
    }
    fn cancel(&mut self, _: &str, cid: &ClientOrderId, _: u64, out: &mut Vec<u8>) {
        say(out, "cancel", cid);
    }
    fn status(&mut self, _: &str, cid: &ClientOrderId, _: u64, out: &mut Vec<u8>) -> bool {
        say(out, "status", cid);
        true
    }
    fn trades(
        &mut self,
        _: &str,
        _: &ClientOrderId,
        _: mako::types::VenueOrderId,
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
    fn reset_inflight(&mut self) -> Vec<Purpose> {
        Vec::new()
    }
    fn on_frame(&mut self, frame: &[u8], _: UnixNanos, out: &mut Vec<SessionEvent>) {
        if frame == b"ready" {
            out.push(SessionEvent::Subscribed);
        }
    }
    fn budget_used_percent(&self) -> u32 {
        0
    }
}

struct Rig {
    gw: Gateway<Spy, BinanceRest>,
    ctx: Ctx,
    intents: Tx<OrderIntent>,
    updates: Rx<OrderUpdate>,
    frames: mpsc::Receiver<String>,
    minter: CidMinter,
}

/// A spy gateway connected to a recording loopback server, subscribed, with `limits`.
fn rig(limits: RiskLimits) -> Rig {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, frames) = mpsc::channel();
    std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut ws = tungstenite::accept(s).unwrap();
        ws.send(Message::text("ready")).unwrap();
        while let Ok(m) = ws.read() {
            if let Message::Text(t) = m
                && tx.send(t.to_string()).is_err()
            {
                break;
            }
        }
    });
    let url = format!("ws://127.0.0.1:{port}/spy");
    let venue = VenueConfig {
        id: VenueId(0),
        name: "spy".into(),
        kind: VenueKind::BinanceSpot,
        ws_url: url.clone(),
        rest_url: "http://127.0.0.1:1".into(),
        ws_api_url: Some(url.clone()),
        order_transport: OrderTransport::WsApi,
        streams: vec![StreamKind::BookTicker],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: None,
        demo_trading: false,
        fills_poll: None,
        book_stale_after: None,
        margin_currency: None,
    };
    let (intents_tx, intents_rx) = bounded("intents", 64, FullPolicy::Backpressure);
    let (updates_tx, updates) = bounded("updates", 256, FullPolicy::Backpressure);
    let risk = RiskEngine::new(
        limits.clone(),
        &[(limits, InstrumentId(0))],
        1,
        KillSwitch::default(),
        UnixNanos(0),
    );
    let spec = GatewaySpec {
        venue,
        instruments: vec![common::gateway_rig::instrument()],
        api_key: Secret::new("spy-key"),
        api_secret: Secret::new("spy-secret"),
        passphrase: None,
        connector: Connector::with_public_roots(Duration::from_secs(5)).unwrap(),
        intents: intents_rx,
        updates: vec![Some(updates_tx)],
        risk,
        mid: Box::new(|_| None),
        snapshots: None,
        run_start_ms: 1_700_000_000_123,
        // No query may come in between: the orders stay unacknowledged for the test.
        options: GatewayOptions {
            ack_deadline: Duration::from_secs(600),
            sweep_interval: Duration::from_secs(600),
            ..GatewayOptions::default()
        },
        persist: None,
        recovered: Vec::new(),
    };
    let mut gw = Gateway::new(spec, Spy, &url, None::<BinanceRest>).unwrap();
    let mut ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "test",
    };
    gw.start(&mut ctx).unwrap();
    let up = common::wait_for(Duration::from_secs(20), || {
        gw.poll(&mut ctx);
        let s = gw.snapshot(ctx.clock.now());
        (s.link_up && s.user_stream).then_some(())
    });
    assert!(up.is_some(), "the spy link came up and subscribed");
    let mut r = Rig {
        gw,
        ctx,
        intents: intents_tx,
        updates,
        frames,
        minter: CidMinter::new(1_700_000_000_123, StrategyId(0)),
    };
    assert_eq!(r.next_frames(1), ["hello"]);
    r
}

impl Rig {
    fn new_order(&mut self, side: Side, price: &str) -> NewOrderIntent {
        NewOrderIntent {
            cid: self.minter.mint(),
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            side,
            kind: OrderKind::LimitMaker,
            tif: TimeInForce::Gtc,
            price: Price::parse(price).unwrap(),
            qty: Qty::parse("0.1").unwrap(),
            reduce_only: false,
            tick_at: UnixNanos::ZERO,
        }
    }

    /// The next `n` frames the server recorded, in arrival order.
    fn next_frames(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                self.frames
                    .recv_timeout(Duration::from_secs(20))
                    .expect("a frame reached the server")
            })
            .collect()
    }

    fn writes(&self) -> u64 {
        self.gw.snapshot(self.ctx.clock.now()).counters.ws_writes
    }

    /// Sends `intents` back to back, then lets the gateway take them in one poll.
    fn burst(&mut self, intents: &[OrderIntent]) {
        for i in intents {
            self.intents.send(*i).unwrap();
        }
        self.gw.poll(&mut self.ctx);
    }
}

fn place(c: ClientOrderId) -> String {
    format!("place {c}")
}

fn cancel(c: ClientOrderId) -> String {
    format!("cancel {c}")
}

#[test]
fn a_requote_writes_both_new_orders_before_the_cancels_in_one_write() {
    let mut r = rig(RiskLimits::default());
    let (bid, ask) = (
        r.new_order(Side::Buy, "100.00"),
        r.new_order(Side::Sell, "101.00"),
    );
    let w0 = r.writes();
    r.burst(&[OrderIntent::New(bid), OrderIntent::New(ask)]);
    assert_eq!(r.writes(), w0 + 1, "two orders, one write");
    assert_eq!(r.next_frames(2), [place(bid.cid), place(ask.cid)]);

    // The spread maker's re-quote: replace the bid, replace the ask.
    let (bid2, ask2) = (
        r.new_order(Side::Buy, "100.10"),
        r.new_order(Side::Sell, "100.90"),
    );
    let w1 = r.writes();
    r.burst(&[
        OrderIntent::Replace {
            cid: bid.cid,
            new: bid2,
        },
        OrderIntent::Replace {
            cid: ask.cid,
            new: ask2,
        },
    ]);
    assert_eq!(r.writes(), w1 + 1, "the whole re-quote left in one write");
    assert_eq!(
        r.next_frames(4),
        [
            place(bid2.cid),
            place(ask2.cid),
            cancel(bid.cid),
            cancel(ask.cid)
        ],
        "new orders first, then the cancels they replace, each in the order it came"
    );
    let s = r.gw.snapshot(r.ctx.clock.now());
    assert_eq!(s.counters.orders_sent, 4);
    assert_eq!(s.counters.cancels_sent, 2);
    assert_eq!(s.counters.bursts, 2);
}

#[test]
fn cancel_all_cancels_what_came_before_it_not_the_order_after_it() {
    let mut r = rig(RiskLimits::default());
    let (a, b) = (
        r.new_order(Side::Buy, "100.00"),
        r.new_order(Side::Buy, "99.00"),
    );
    r.burst(&[OrderIntent::New(a)]);
    assert_eq!(r.next_frames(1), [place(a.cid)]);
    r.burst(&[
        OrderIntent::CancelAll {
            strategy: StrategyId(0),
        },
        OrderIntent::New(b),
    ]);
    assert_eq!(r.next_frames(2), [place(b.cid), cancel(a.cid)]);
    let s = r.gw.snapshot(r.ctx.clock.now());
    let open: Vec<_> = s
        .orders
        .iter()
        .filter(|o| !o.cancel_pending)
        .map(|o| o.cid)
        .collect();
    assert_eq!(open, [b.cid], "the order placed after the cancel-all stays");
}

#[test]
fn a_replace_the_open_order_limit_refuses_is_refused_and_its_cancel_still_goes() {
    let limits = RiskLimits {
        max_open_orders: Some(2),
        ..RiskLimits::default()
    };
    let mut r = rig(limits);
    let (bid, ask) = (
        r.new_order(Side::Buy, "100.00"),
        r.new_order(Side::Sell, "101.00"),
    );
    r.burst(&[OrderIntent::New(bid), OrderIntent::New(ask)]);
    assert_eq!(r.next_frames(2), [place(bid.cid), place(ask.cid)]);
    while r.updates.try_recv().is_some() {}

    // Both are still open on the venue until their cancels are confirmed: a third would
    // break max_open_orders = 2, order first or not.
    let bid2 = r.new_order(Side::Buy, "100.10");
    r.burst(&[OrderIntent::Replace {
        cid: bid.cid,
        new: bid2,
    }]);
    assert_eq!(r.next_frames(1), [cancel(bid.cid)], "only the cancel went");
    let refused = std::iter::from_fn(|| r.updates.try_recv())
        .find(|u| u.cid == bid2.cid)
        .expect("the strategy hears of the refusal");
    assert_eq!(refused.refused, Some(Refusal::Risk(Rule::MaxOpenOrders)));
    // Nothing else is on its way to the server.
    r.gw.poll(&mut r.ctx);
    assert!(r.frames.try_recv().is_err());
}
