//! The spread maker's tests: quoting, re-quoting, fills, pauses, corrections, and the
//! ticks it answers from what it computed before.

use super::*;
use crate::book::{Level, TopOfBook};
use crate::gateway::{CidMinter, OrderIntent};
use crate::latency::bands::Band;
use crate::runtime::{FullPolicy, Rx, bounded};
use crate::strategy::api::IntentSink;
use crate::types::{FillDelta, OrderStatus};
use crate::types::{InstrumentId, Notional, StrategyId, VenueId};
use std::time::Duration;

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

struct Rig {
    maker: SpreadMaker,
    sink: IntentSink,
    rx: Rx<OrderIntent>,
    band: Band,
    now: UnixNanos,
    env: crate::strategy::api::Env,
}

fn rig() -> Rig {
    let mut inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        px("0.01"),
        q("0.00001"),
    )
    .unwrap();
    inst.min_notional = px("5");
    let params = SpreadParams::from_table(&"order_size = \"0.01\"".parse().unwrap()).unwrap();
    let (tx, rx) = bounded("intents", 64, FullPolicy::Backpressure);
    let sink = IntentSink::new(
        tx,
        CidMinter::new(1, StrategyId(0)),
        StrategyId(0),
        InstrumentId(0),
    );
    let band = Band {
        name: "normal".into(),
        max_latency_ns: None,
        min_spread_bps: 0,
        size_multiplier: 1.0,
        throttle: Duration::ZERO,
    };
    Rig {
        maker: SpreadMaker::new(params, inst, q("1"), px("60000")),
        sink,
        rx,
        band,
        now: UnixNanos(100_000_000_000),
        env: crate::strategy::api::Env::default(),
    }
}

fn book(bid: &str, ask: &str, at: UnixNanos, valid: bool) -> TopOfBook {
    TopOfBook {
        bid: Level {
            price: px(bid),
            qty: q("1"),
        },
        ask: Level {
            price: px(ask),
            qty: q("1"),
        },
        update_id: 1,
        exchange_ts: at,
        recv_ts: at,
        seq: 1,
        valid,
    }
}

impl Rig {
    fn tick(&mut self, bid: &str, ask: &str, valid: bool) -> Vec<OrderIntent> {
        let b = book(bid, ask, self.now, valid);
        let mut cx = StrategyCtx {
            now: self.now,
            book: b,
            tick_at: b.recv_ts,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        self.maker.on_tick(&mut cx);
        let mut out = vec![];
        self.rx.drain(64, |i| out.push(i));
        out
    }
    fn update(
        &mut self,
        cid: ClientOrderId,
        side: Side,
        status: OrderStatus,
        fill: Option<(&str, &str)>,
    ) {
        let fill = fill.map(|(qty, price)| FillDelta {
            side,
            qty: q(qty),
            quote: Notional::of(px(price), q(qty)),
            trade_id: Some(1.into()),
            fee: Qty::ZERO,
            fee_asset: Default::default(),
            is_maker: true,
            fees_complete: true,
            paper: false,
        });
        let u = OrderUpdate {
            cid,
            strategy: StrategyId(0),
            status,
            side,
            price: px("1"),
            qty: q("0.01"),
            filled_qty: Qty::ZERO,
            fill,
            refused: None,
            fee_correction: None,
            at: self.now,
        };
        let b = book("1", "2", self.now, true);
        let mut cx = StrategyCtx {
            now: self.now,
            book: b,
            tick_at: UnixNanos::ZERO,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        self.maker.on_order_update(&u, &mut cx);
    }
}

/// New orders, alone or as a replace's new half.
fn news(v: &[OrderIntent]) -> Vec<(Side, Price)> {
    v.iter()
        .filter_map(|i| match i {
            OrderIntent::New(n) | OrderIntent::Replace { new: n, .. } => {
                Some((n.side, n.price))
            }
            _ => None,
        })
        .collect()
}
/// Cancels, alone or as a replace's cancel half.
fn cancels(v: &[OrderIntent]) -> usize {
    v.iter()
        .filter(|i| matches!(i, OrderIntent::Cancel { .. } | OrderIntent::Replace { .. }))
        .count()
}
fn replaces(v: &[OrderIntent]) -> usize {
    v.iter()
        .filter(|i| matches!(i, OrderIntent::Replace { .. }))
        .count()
}

#[test]
fn quotes_both_sides_then_holds_within_tolerance() {
    let mut r = rig();
    let first = r.tick("59999.99", "60000.01", true);
    assert_eq!(
        news(&first),
        vec![(Side::Buy, px("59400")), (Side::Sell, px("60600"))]
    );
    for i in &first {
        if let OrderIntent::New(n) = i {
            assert_eq!(n.tick_at, r.now, "intents carry the frame's read instant");
        }
    }
    // 0.2 % move: inside the 0.5 % tolerance, nothing to do.
    assert!(r.tick("60119.99", "60120.01", true).is_empty());
    // 1 % move: both quotes are replaced, each by one Replace intent (cancel + new in
    // one, so the gateway can send one cancel-replace request per side).
    let moved = r.tick("60599.99", "60600.01", true);
    assert_eq!((cancels(&moved), news(&moved).len()), (2, 2), "{moved:?}");
    assert_eq!((moved.len(), replaces(&moved)), (2, 2), "{moved:?}");
    let old: Vec<_> = first
        .iter()
        .filter_map(|i| match i {
            OrderIntent::New(n) => Some(n.cid),
            _ => None,
        })
        .collect();
    for i in &moved {
        let OrderIntent::Replace { cid, .. } = i else {
            panic!("{i:?}")
        };
        assert!(old.contains(cid), "a replace names the quote it moves");
    }
}

#[test]
fn never_crosses_its_own_quotes_while_they_are_cancelled() {
    let mut r = rig();
    r.tick("59999.99", "60000.01", true); // ask rests at 60 600
    // The market jumps 2.5 %: the new bid (about 60 880) would cross our old ask.
    let jumped = r.tick("61499.99", "61500.01", true);
    assert_eq!(cancels(&jumped), 2);
    assert_eq!(
        news(&jumped)
            .iter()
            .filter(|(s, _)| *s == Side::Buy)
            .count(),
        0,
        "{jumped:?}"
    );
    // Once the old ask is gone, the bid goes out.
    let old_ask = r
        .maker
        .asks
        .iter()
        .find(|a| a.cancelling)
        .map(|a| a.cid)
        .unwrap();
    r.update(old_ask, Side::Sell, OrderStatus::Cancelled, None);
    let after = r.tick("61499.99", "61500.01", true);
    assert_eq!(
        news(&after).iter().filter(|(s, _)| *s == Side::Buy).count(),
        1,
        "{after:?}"
    );
}

#[test]
fn invalid_or_stale_books_pull_every_quote() {
    let mut r = rig();
    r.tick("59999.99", "60000.01", true);
    let pulled = r.tick("59999.99", "60000.01", false);
    assert_eq!(cancels(&pulled), 2);
    assert!(news(&pulled).is_empty());
    assert!(
        r.tick("59999.99", "60000.01", false).is_empty(),
        "cancels are sent once"
    );
    let mut r = rig();
    r.tick("59999.99", "60000.01", true);
    let b = book(
        "59999.99",
        "60000.01",
        UnixNanos(r.now.0 - 10_000_000_000),
        true,
    );
    let mut cx = StrategyCtx {
        now: r.now,
        book: b,
        tick_at: b.recv_ts,
        band: &r.band,
        halted: false,
        intents: &mut r.sink,
        env: &mut crate::strategy::api::Env::default(),
    };
    r.maker.on_tick(&mut cx);
    let mut out = vec![];
    r.rx.drain(64, |i| out.push(i));
    assert_eq!(cancels(&out), 2, "a book older than max_book_age is stale");
}

#[test]
fn fills_move_inventory_and_ended_quotes_are_replaced() {
    let mut r = rig();
    let first = r.tick("59999.99", "60000.01", true);
    let OrderIntent::New(bid) = first[0] else {
        panic!()
    };
    r.update(
        bid.cid,
        Side::Buy,
        OrderStatus::PartiallyFilled,
        Some(("0.004", "59400")),
    );
    let rep = r.maker.report(Some(px("60000")));
    assert_eq!(rep.base, q("1.004"));
    assert_eq!(rep.quote, px("60000").units() - px("237.6").units());
    assert_eq!(rep.fills, 1);
    assert!(
        r.tick("59999.99", "60000.01", true).is_empty(),
        "a partially filled quote stays"
    );
    r.update(
        bid.cid,
        Side::Buy,
        OrderStatus::Filled,
        Some(("0.006", "59400")),
    );
    let again = r.tick("59999.99", "60000.01", true);
    assert_eq!(news(&again).len(), 1, "the filled bid is replaced");
    assert!(
        (r.maker.report(Some(px("60000"))).pnl - 6.0).abs() < 1e-9,
        "bought 0.01 at 59400, marked 60000"
    );
}

#[test]
fn stop_cancels_everything_and_pause_pulls_quotes() {
    let mut r = rig();
    r.tick("59999.99", "60000.01", true);
    r.maker.set_paused(true);
    assert_eq!(cancels(&r.tick("59999.99", "60000.01", true)), 2);
    let b = book("1", "2", r.now, true);
    let mut cx = StrategyCtx {
        now: r.now,
        book: b,
        tick_at: b.recv_ts,
        band: &r.band,
        halted: false,
        intents: &mut r.sink,
        env: &mut crate::strategy::api::Env::default(),
    };
    r.maker.on_stop(&mut cx);
    let mut out = vec![];
    r.rx.drain(64, |i| out.push(i));
    assert!(matches!(out[..], [OrderIntent::CancelAll { .. }]));
}

#[test]
fn band_throttle_spaces_actions() {
    let mut r = rig();
    r.band.throttle = Duration::from_secs(1);
    r.now = UnixNanos(10_000_000_000);
    assert_eq!(news(&r.tick("59999.99", "60000.01", true)).len(), 2);
    r.now = r.now.plus_nanos(100_000_000);
    assert!(
        r.tick("60599.99", "60600.01", true).is_empty(),
        "within the throttle"
    );
    r.now = r.now.plus_nanos(1_000_000_000);
    assert!(!r.tick("60599.99", "60600.01", true).is_empty());
}

/// The engine's position of the maker (strategy 0) in BTCUSDT, as the gateway writes it:
/// moved by fills, or corrected from the venue's (`corrections` counted).
fn board_position(board: &crate::risk::PositionBoard, qty: &str, corrections: u32) {
    let units = match qty.strip_prefix('-') {
        Some(short) => -q(short).units(),
        None => q(qty).units(),
    };
    let p = crate::risk::Position {
        qty: units,
        corrections,
        ..Default::default()
    };
    board.set_position(StrategyId(0), InstrumentId(0), p);
}

impl Rig {
    fn with_board(mut self) -> (Self, crate::risk::PositionBoard) {
        let board = crate::risk::PositionBoard::new(1, 1, 1);
        let inst = self.maker.instrument.clone();
        self.env = crate::strategy::api::Env::new(None, vec![inst], Some(board.clone()));
        (self, board)
    }

    fn corrected(&mut self, instrument: InstrumentId) -> Vec<OrderIntent> {
        let b = book("59999.99", "60000.01", self.now, true);
        let mut cx = StrategyCtx {
            now: self.now,
            book: b,
            tick_at: b.recv_ts,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        self.maker.on_position_corrected(instrument, &mut cx);
        let mut out = vec![];
        self.rx.drain(64, |i| out.push(i));
        out
    }
}

/// New orders as (side, price, qty).
fn sized(v: &[OrderIntent]) -> Vec<(Side, Price, Qty)> {
    v.iter()
        .filter_map(|i| match i {
            OrderIntent::New(n) | OrderIntent::Replace { new: n, .. } => {
                Some((n.side, n.price, n.qty))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_corrected_position_rebases_the_inventory_and_requotes() {
    let (mut r, board) = rig().with_board();
    // 1 BTC and 60 000 USDT at 60 000: half in base, no skew.
    let first = r.tick("59999.99", "60000.01", true);
    assert_eq!(
        sized(&first),
        vec![
            (Side::Buy, px("59400"), q("0.01")),
            (Side::Sell, px("60600"), q("0.01"))
        ]
    );
    // Another instrument's correction is not the maker's.
    board_position(&board, "0.5", 1);
    assert!(r.corrected(InstrumentId(7)).is_empty());
    assert_eq!(r.maker.report(None).base, q("1"));
    // The venue holds 0.5 BTC more than the maker's fills say (a trade by hand): base is
    // 1.5, and both quotes, sized on 1, are pulled.
    let pulled = r.corrected(InstrumentId(0));
    assert_eq!((cancels(&pulled), news(&pulled).len()), (2, 0), "{pulled:?}");
    assert_eq!(r.maker.report(None).base, q("1.5"));
    // Requoted from 1.5 BTC (60 % of 150 000, 1 000 bp over the target, half the skew's
    // range): the center moves 150 down to 59 850, ±600; the bid halves, the ask grows.
    let requoted = r.tick("59999.99", "60000.01", true);
    assert_eq!(
        sized(&requoted),
        vec![
            (Side::Buy, px("59250"), q("0.005")),
            (Side::Sell, px("60450"), q("0.015"))
        ]
    );
    // A fill the engine's position holds already is counted once.
    let OrderIntent::New(bid) = requoted[0] else {
        panic!("{requoted:?}")
    };
    board_position(&board, "0.504", 1);
    r.update(bid.cid, Side::Buy, OrderStatus::PartiallyFilled, Some(("0.004", "59250")));
    r.tick("59999.99", "60000.01", true);
    assert_eq!(r.maker.report(None).base, q("1.504"));
    // The venue liquidated everything: no base left. No ask (nothing to sell, and the
    // hard limit: 0 % base is 5 000 bp under the target); a bid of twice the size.
    board_position(&board, "-1", 2);
    let pulled = r.corrected(InstrumentId(0));
    assert_eq!(cancels(&pulled), 2, "{pulled:?}");
    assert_eq!(r.maker.report(None).base, q("0"));
    let after = r.tick("59999.99", "60000.01", true);
    assert_eq!(sized(&after), vec![(Side::Buy, px("59700"), q("0.02"))]);
}

/// A book at the same prices gives the same targets (remembered, not recomputed): the
/// quotes stay until they age out (`refresh_interval`, 30 s here), then both are replaced.
#[test]
fn same_prices_hold_the_quotes_until_they_age_out() {
    let mut r = rig();
    assert_eq!(news(&r.tick("59999.99", "60000.01", true)).len(), 2);
    for _ in 0..29 {
        r.now = r.now.plus_nanos(1_000_000_000);
        assert!(r.tick("59999.99", "60000.01", true).is_empty());
    }
    r.now = r.now.plus_nanos(999_999_999);
    assert!(r.tick("59999.99", "60000.01", true).is_empty(), "29.999 s old");
    r.now = r.now.plus_nanos(1);
    let aged = r.tick("59999.99", "60000.01", true);
    assert_eq!((replaces(&aged), news(&aged).len()), (2, 2), "{aged:?}");
    assert!(r.tick("59999.99", "60000.01", true).is_empty(), "fresh again");
}

/// New parameters give new targets at the same book; a fill changes the inventory, and
/// with it the sizes.
#[test]
fn a_reload_or_a_fill_at_the_same_book_is_quoted_anew() {
    let mut r = rig();
    r.tick("59999.99", "60000.01", true);
    assert!(r.tick("59999.99", "60000.01", true).is_empty());
    let wider = "order_size = \"0.01\"\nspread_bps = 400".parse().unwrap();
    r.maker.reload(&wider).unwrap();
    let moved = r.tick("59999.99", "60000.01", true);
    assert_eq!(
        news(&moved),
        vec![(Side::Buy, px("58800")), (Side::Sell, px("61200"))]
    );
    // Both acknowledged; then the ask fills by half: 0.995 BTC, the bid would grow and the
    // ask shrink, but by less than a fifth: both stay.
    let ask = r.maker.asks.iter().find(|a| !a.cancelling).unwrap().cid;
    r.update(ask, Side::Sell, OrderStatus::PartiallyFilled, Some(("0.005", "61200")));
    assert!(r.tick("59999.99", "60000.01", true).is_empty());
    // The rest fills: the ask is replaced at the same book.
    r.update(ask, Side::Sell, OrderStatus::Filled, Some(("0.005", "61200")));
    let after = r.tick("59999.99", "60000.01", true);
    assert_eq!(
        news(&after).iter().filter(|(s, _)| *s == Side::Sell).count(),
        1,
        "{after:?}"
    );
}
