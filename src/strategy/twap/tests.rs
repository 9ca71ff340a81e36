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
            // "0": the order ended with no fill.
            fill: q(qty).is_positive().then_some(FillDelta {
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

/// The engine's position of the TWAP (strategy 0) in the instrument, as the gateway writes
/// it: moved by fills, or corrected from the venue's (`corrections` counted).
fn board_position(board: &crate::risk::PositionBoard, qty: &str, corrections: u32) {
    let p = crate::risk::Position {
        qty: q(qty).units(),
        corrections,
        ..Default::default()
    };
    board.set_position(StrategyId(0), InstrumentId(0), p);
}

impl Rig {
    /// The rig with the engine's position board (zero at start).
    fn with_board(mut self) -> (Self, crate::risk::PositionBoard) {
        let board = crate::risk::PositionBoard::new(1, 1, 1);
        self.env = Env::new(None, vec![instrument()], Some(board.clone()));
        (self, board)
    }

    /// The engine tells the TWAP its position in `instrument` was corrected; the orders sent.
    fn corrected(&mut self, instrument: InstrumentId) -> Vec<(Side, Price, Qty)> {
        let mut cx = StrategyCtx {
            now: self.now,
            book: self.book,
            tick_at: UnixNanos::ZERO,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        self.twap.on_position_corrected(instrument, &mut cx);
        let mut out = vec![];
        self.rx.drain(64, |i| {
            if let OrderIntent::New(n) = i {
                out.push((n.side, n.price, n.qty));
            }
        });
        out
    }
}

const FOUR_SLICES: &str = r#"side = "buy"
    quantity = "1"
    duration = "4s"
    slices = 4
    collar_bps = 10"#;

#[test]
fn a_fill_the_engine_missed_is_not_bought_again() {
    let (mut r, board) = rig(FOUR_SLICES).with_board();
    assert!(r.advance(0).is_empty());
    let ioc = |p: &str, qty: &str| (Side::Buy, px(p), q(qty), OrderKind::Limit, TimeInForce::Ioc);
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    // The venue filled the slice but the engine learned no fill: the order ended empty.
    r.fill_last("0", "100.1");
    assert_eq!(r.twap.filled(), q("0"));
    // Another instrument's correction is not the TWAP's.
    board_position(&board, "0.25", 1);
    assert!(r.corrected(InstrumentId(7)).is_empty());
    assert_eq!(r.twap.filled(), q("0"));
    // The venue's position (0.25) corrects the engine's: the 0.25 is executed.
    assert!(r.corrected(InstrumentId(0)).is_empty(), "mid-schedule: the next slice catches up");
    assert_eq!(r.twap.filled(), q("0.25"));
    // Slice 2 brings the total to 0.5, not 0.75.
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    r.fill_last("0.25", "100.1");
    board_position(&board, "0.5", 1);
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    r.fill_last("0.25", "100.1");
    board_position(&board, "0.75", 1);
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    r.fill_last("0.25", "100.1");
    board_position(&board, "1", 1);
    assert!(r.twap.done());
    assert_eq!(r.twap.filled(), q("1"), "the goal, never more");
    assert!(r.advance(5000).is_empty());
}

#[test]
fn a_phantom_fill_is_made_up_even_after_the_last_slice() {
    let (mut r, board) = rig(FOUR_SLICES).with_board();
    assert!(r.advance(0).is_empty());
    let ioc = |p: &str, qty: &str| (Side::Buy, px(p), q(qty), OrderKind::Limit, TimeInForce::Ioc);
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    r.fill_last("0.25", "100.1");
    board_position(&board, "0.25", 0);
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    // The engine heard of a fill of 0.25 the venue never made: the venue holds 0.25.
    r.fill_last("0.25", "100.1");
    assert_eq!(r.twap.filled(), q("0.5"));
    board_position(&board, "0.25", 1);
    assert!(r.corrected(InstrumentId(0)).is_empty());
    assert_eq!(r.twap.filled(), q("0.25"));
    // Slice 3 brings it to 0.75 from 0.25.
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.5")]);
    r.fill_last("0.5", "100.1");
    board_position(&board, "0.75", 1);
    assert_eq!(r.advance(1000), vec![ioc("100.2", "0.25")]);
    r.fill_last("0.25", "100.1");
    board_position(&board, "1", 1);
    assert!(r.twap.done());
    // After the last slice the venue takes 0.1 away (a phantom again): it is bought at once.
    board_position(&board, "0.9", 2);
    assert_eq!(r.corrected(InstrumentId(0)), vec![(Side::Buy, px("100.2"), q("0.1"))]);
    r.fill_last("0.1", "100.1");
    board_position(&board, "1", 2);
    // A venue position past the goal sends nothing (never more than the goal).
    board_position(&board, "1.2", 3);
    assert!(r.corrected(InstrumentId(0)).is_empty());
    assert_eq!(r.twap.filled(), q("1"));
    assert!(r.advance(5000).is_empty());
}

#[test]
fn a_sell_counts_from_the_position_it_started_with() {
    let (mut r, board) = rig(
        r#"side = "sell"
           quantity = "1"
           duration = "2s"
           slices = 2
           collar_bps = 10"#,
    )
    .with_board();
    // It starts holding 3 (bought before): the goal is 2.
    board_position(&board, "3", 0);
    assert!(r.advance(0).is_empty());
    let sell = |p: &str, qty: &str| (Side::Sell, px(p), q(qty), OrderKind::Limit, TimeInForce::Ioc);
    // 100 × 0.999 = 99.9.
    assert_eq!(r.advance(1000), vec![sell("99.9", "0.5")]);
    r.fill_last("0.5", "100");
    // The venue liquidated part of it: 1.5 is left, the goal (2) is passed by 0.5.
    board_position(&board, "1.5", 1);
    assert!(r.corrected(InstrumentId(0)).is_empty());
    assert_eq!(r.twap.filled(), q("1"));
    assert!(r.advance(1000).is_empty(), "nothing more to sell");
    assert!(r.twap.done());
}
