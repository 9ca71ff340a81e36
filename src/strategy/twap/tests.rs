//! TWAP with literal values: slices on the timer, collared IOC orders, catching up.

use std::time::Duration;

use super::{Twap, TwapParams};
use crate::book::{Level, TopOfBook};
use crate::gateway::{CidMinter, OrderIntent, OrderUpdate};
use crate::latency::bands::Band;
use crate::runtime::{FullPolicy, Rx, bounded};
use crate::strategy::api::{Env, IntentSink, Strategy, StrategyCtx};
use crate::types::{FillDelta, Instrument, InstrumentId, Notional, OrderKind, OrderStatus};
use crate::types::{Price, Qty, Side, StrategyId, TimeInForce, UnixNanos, VenueId};

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

fn instrument() -> Instrument {
    let mut i = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "SOLUSDT",
        "SOL",
        "USDT",
        px("0.01"),
        q("0.001"),
    )
    .unwrap();
    i.min_notional = px("5");
    i
}

struct Rig {
    twap: Twap,
    sink: IntentSink,
    env: Env,
    rx: Rx<OrderIntent>,
    band: Band,
    now: UnixNanos,
    book: TopOfBook,
}

fn rig(params: &str) -> Rig {
    let p = TwapParams::from_table(&params.parse().unwrap()).unwrap();
    let (tx, rx) = bounded("intents", 64, FullPolicy::Backpressure);
    let (bid, ask) = (px("100"), px("100.1"));
    Rig {
        twap: Twap::new(p, instrument()),
        sink: IntentSink::new(tx, CidMinter::new(1, StrategyId(0)), StrategyId(0), InstrumentId(0)),
        env: Env::detached(vec![instrument()]),
        rx,
        band: Band {
            name: "normal".into(),
            max_latency_ns: None,
            min_spread_bps: 0,
            size_multiplier: 1.0,
            throttle: Duration::ZERO,
        },
        now: UnixNanos(1_000_000_000_000),
        book: TopOfBook {
            bid: Level { price: bid, qty: q("10") },
            ask: Level { price: ask, qty: q("10") },
            valid: true,
            seq: 1,
            ..TopOfBook::default()
        },
    }
}

impl Rig {
    /// Moves the clock by `ms`, ticks, and fires due timers as the host would; returns the
    /// new orders sent as (side, price, qty, kind, tif).
    fn advance(&mut self, ms: u64) -> Vec<(Side, Price, Qty, OrderKind, TimeInForce)> {
        self.now = self.now.plus_nanos(ms * 1_000_000);
        let mut cx = StrategyCtx {
            now: self.now,
            book: self.book,
            tick_at: UnixNanos::ZERO,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        self.twap.on_tick(&mut cx);
        while let Some(tag) = cx.env.timers.pop_due(self.now) {
            self.twap.on_timer(tag, &mut cx);
        }
        let mut out = vec![];
        self.rx.drain(64, |i| {
            if let OrderIntent::New(n) = i {
                out.push((n.side, n.price, n.qty, n.kind, n.tif));
            }
        });
        out
    }

    /// The last order sent fills `qty` at `price` and the rest expires (IOC).
    fn fill_last(&mut self, qty: &str, price: &str) {
        let o = *self.sink.open_orders().last().expect("an open order");
        let mut u = OrderUpdate {
            cid: o.cid,
            strategy: StrategyId(0),
            status: OrderStatus::Expired,
            side: o.side,
            price: o.price,
            qty: o.qty,
            filled_qty: q(qty),
            fill: Some(FillDelta {
                side: o.side,
                qty: q(qty),
                quote: Notional::of(px(price), q(qty)),
                trade_id: None,
                fee: Qty::ZERO,
                fee_asset: Default::default(),
                is_maker: false,
                fees_complete: true,
                paper: false,
            }),
            refused: None,
            fee_correction: None,
            at: self.now,
        };
        if q(qty) == o.qty {
            u.status = OrderStatus::Filled;
        }
        self.sink.observe(&u);
        let mut cx = StrategyCtx {
            now: self.now,
            book: self.book,
            tick_at: UnixNanos::ZERO,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        self.twap.on_order_update(&u, &mut cx);
    }
}

#[test]
fn slices_are_collared_ioc_orders_on_the_timer_and_catch_up() {
    let mut r = rig(
        r#"side = "buy"
           quantity = "1"
           duration = "4s"
           slices = 4
           collar_bps = 10"#,
    );
    // The first tick arms the timer; nothing is sent before the first slice is due.
    assert!(r.advance(0).is_empty());
    assert!(r.advance(999).is_empty());
    // Slice 1 at 1 s: 0.25 at most 10 bp through the ask (100.1 × 1.001 = 100.2001 → 100.2).
    let ioc = |p: &str, qty: &str| (Side::Buy, px(p), q(qty), OrderKind::Limit, TimeInForce::Ioc);
    assert_eq!(r.advance(1), vec![ioc("100.2", "0.25")]);
    // Only 0.1 fills; the rest expires. Slice 2 catches up to 0.5.
    r.fill_last("0.1", "100.1");
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.4")]);
    r.fill_last("0.4", "100.1");
    // The book goes invalid for slice 3: nothing is sent; slice 4 sends everything left.
    r.book.valid = false;
    assert!(r.advance(1000).is_empty());
    r.book.valid = true;
    r.book.ask.price = px("101");
    // 101 × 1.001 = 101.101 → 101.1.
    assert_eq!(r.advance(1000), vec![ioc("101.1", "0.5")]);
    r.fill_last("0.5", "101");
    assert!(r.twap.done());
    assert_eq!(r.twap.filled(), q("1"));
    // Done: no more slices.
    assert!(r.advance(5000).is_empty());
    let rep = r.twap.report(None);
    assert_eq!((rep.base, rep.fills), (q("1"), 3));
}

#[test]
fn parameters_are_checked_with_their_keys() {
    let errs = TwapParams::from_table(&"slices = 0\nduration = \"soon\"".parse().unwrap())
        .unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
    for k in ["side", "quantity", "duration", "slices"] {
        assert!(keys.contains(&k), "{k}: {errs:?}");
    }
}
