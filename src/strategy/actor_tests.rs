//! The strategy host delivers what a strategy subscribed to: its books (top and depth from
//! the cache), trade prints, candles closed by trades and by the clock, its timers, and a gap
//! notice when prints were lost.

use std::sync::{Arc, Mutex};

use super::actor::StrategyActor;
use super::api::{Env, Gap, IntentSink, Strategy, StrategyCtx, StrategyReport, Subscriptions};
use super::candles::Candle;
use crate::book::{BookCache, L2Book};
use crate::gateway::{CidMinter, OrderUpdate};
use crate::risk::KillSwitch;
use crate::runtime::{Actor, Clock, Ctx, FullPolicy, Shutdown, bounded};
use crate::types::{Instrument, InstrumentId, Price, Qty, Side, StrategyId, TradeEvent};
use crate::types::{TradeId, UnixNanos, VenueId};

const S: u64 = 1_000_000_000;
const T0: u64 = 1_800_000_000 * S;

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Tick {
        depth_bids: usize,
        best_bid: Price,
    },
    Trade(Price),
    Candle {
        open_time: u64,
        trades: u32,
        flat: bool,
        incomplete: bool,
    },
    Timer(u32),
    Gap(u64),
}

struct Probe {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Strategy for Probe {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            trades: true,
            candles: vec![S],
        }
    }
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        if !cx.book.valid {
            return;
        }
        if !cx.env.timers.is_set(7) {
            cx.timer_every(7, std::time::Duration::from_millis(500));
        }
        let d = cx.depth(InstrumentId(0)).expect("declared");
        let mut seen = self.seen.lock().unwrap();
        let tick = Seen::Tick {
            depth_bids: d.bid_count,
            best_bid: d.bids[0].price,
        };
        if seen.last() != Some(&tick) {
            seen.push(tick);
        }
    }
    fn on_trade(&mut self, t: &TradeEvent, _cx: &mut StrategyCtx<'_>) {
        self.seen.lock().unwrap().push(Seen::Trade(t.price));
    }
    fn on_candle(&mut self, c: &Candle, _cx: &mut StrategyCtx<'_>) {
        self.seen.lock().unwrap().push(Seen::Candle {
            open_time: (c.open_time.0 - T0) / S,
            trades: c.trades,
            flat: c.flat,
            incomplete: c.incomplete,
        });
    }
    fn on_timer(&mut self, tag: u32, _cx: &mut StrategyCtx<'_>) {
        self.seen.lock().unwrap().push(Seen::Timer(tag));
    }
    fn on_gap(&mut self, g: Gap, _cx: &mut StrategyCtx<'_>) {
        let Gap::Trades(n) = g;
        self.seen.lock().unwrap().push(Seen::Gap(n));
    }
    fn on_order_update(&mut self, _u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {}
    fn on_stop(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn reload(&mut self, _p: &toml::Table) -> Result<(), Vec<(String, String)>> {
        Ok(())
    }
    fn report(&self, _m: Option<Price>) -> StrategyReport {
        StrategyReport::default()
    }
    fn set_paused(&mut self, _p: bool) {}
}

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn trade(at: u64, price: &str) -> TradeEvent {
    TradeEvent {
        venue: VenueId(0),
        instrument: InstrumentId(0),
        trade_id: TradeId::from_u64(at),
        price: px(price),
        qty: Qty::parse("1").unwrap(),
        aggressor: Side::Buy,
        trade_time: UnixNanos(at),
        exchange_ts: UnixNanos(at),
        recv_ts: UnixNanos(at),
    }
}

#[test]
fn books_prints_candles_timers_and_gaps_reach_the_strategy() {
    let inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "SOLUSDT",
        "SOL",
        "USDT",
        px("0.01"),
        Qty::parse("0.001").unwrap(),
    )
    .unwrap();
    let cache = BookCache::new(1);
    let mut writer = cache.writer(InstrumentId(0)).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (itx, _irx) = bounded("intents", 8, FullPolicy::Backpressure);
    let (_utx, urx) = bounded("updates", 8, FullPolicy::Backpressure);
    let (ttx, trx) = bounded("strategy-trades", 4, FullPolicy::DropNewest);
    let sid = StrategyId(0);
    let mut actor = StrategyActor::new(
        "strategy:probe".into(),
        sid,
        VenueId(0),
        InstrumentId(0),
        Box::new(Probe { seen: seen.clone() }),
        cache.reader(),
        None,
        urx,
        IntentSink::new(itx, CidMinter::new(1, sid), sid, InstrumentId(0)),
        KillSwitch::default(),
    )
    .with_env(Env::new(Some(cache.reader()), vec![inst], None))
    .with_trades(trx);
    let (clock, hand) = Clock::manual(UnixNanos(T0));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    actor.start(&mut ctx).unwrap();
    let take = || std::mem::take(&mut *seen.lock().unwrap());

    // A book with three bid levels: the strategy reads the depth and sets its timer.
    let mut book = L2Book::with_capacity(64);
    for (p, q) in [("100", "1"), ("99.99", "2"), ("99.98", "3")] {
        book.apply_level(Side::Buy, px(p), Qty::parse(q).unwrap());
    }
    book.apply_level(Side::Sell, px("100.01"), Qty::parse("1").unwrap());
    writer.publish(&book, UnixNanos(T0), UnixNanos(T0));
    actor.poll(&mut ctx);
    assert_eq!(
        take(),
        vec![Seen::Tick {
            depth_bids: 3,
            best_bid: px("100")
        }]
    );

    // Two prints in second 0, one in second 2: bar 0 closes, bar 1 is flat.
    for t in [
        trade(T0 + 100, "100"),
        trade(T0 + 200, "100.5"),
        trade(T0 + 2 * S, "101"),
    ] {
        ttx.send(t).unwrap();
    }
    actor.poll(&mut ctx);
    assert_eq!(
        take(),
        vec![
            Seen::Trade(px("100")),
            Seen::Trade(px("100.5")),
            Seen::Candle {
                open_time: 0,
                trades: 2,
                flat: false,
                incomplete: false
            },
            Seen::Candle {
                open_time: 1,
                trades: 0,
                flat: true,
                incomplete: false
            },
            Seen::Trade(px("101")),
        ]
    );

    // Time passes with no print: the timer fires every 500 ms, bar 2 closes on the clock
    // (after its end plus the grace), and bar 3 stays open flat.
    hand.set(UnixNanos(T0 + 3 * S + 300_000_000));
    actor.poll(&mut ctx);
    let s = take();
    assert!(
        s.contains(&Seen::Candle {
            open_time: 2,
            trades: 1,
            flat: false,
            incomplete: false
        }),
        "{s:?}"
    );
    assert!(s.contains(&Seen::Timer(7)), "{s:?}");

    // Six prints into a channel of four: two are dropped; the strategy is told, and the bar
    // open meanwhile is marked incomplete.
    for k in 0..6 {
        let _ = ttx.send(trade(T0 + 3 * S + 400_000_000 + k, "102"));
    }
    actor.poll(&mut ctx);
    let s = take();
    assert_eq!(s[0], Seen::Gap(2), "{s:?}");
    assert_eq!(s.iter().filter(|x| matches!(x, Seen::Trade(_))).count(), 4);
    ttx.send(trade(T0 + 4 * S, "103")).unwrap();
    actor.poll(&mut ctx);
    let s = take();
    assert!(
        s.contains(&Seen::Candle {
            open_time: 3,
            trades: 4,
            flat: false,
            incomplete: true
        }),
        "{s:?}"
    );
}

/// Reports entries stopped once `stop` is set.
struct Stopper {
    stop: Arc<Mutex<bool>>,
}

impl Strategy for Stopper {
    fn on_tick(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn on_order_update(&mut self, _u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {}
    fn on_stop(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn reload(&mut self, _p: &toml::Table) -> Result<(), Vec<(String, String)>> {
        Ok(())
    }
    fn report(&self, _m: Option<Price>) -> StrategyReport {
        StrategyReport {
            entries_stopped: (*self.stop.lock().unwrap()).then_some("max_daily_loss reached"),
            ..StrategyReport::default()
        }
    }
    fn set_paused(&mut self, _p: bool) {}
}

#[test]
fn a_strategy_that_stops_entering_is_notified_once() {
    let cache = BookCache::new(1);
    let stop = Arc::new(Mutex::new(false));
    let (itx, _irx) = bounded("intents", 8, FullPolicy::Backpressure);
    let (_utx, urx) = bounded("updates", 8, FullPolicy::Backpressure);
    let (ntx, nrx) = bounded("notices", 8, FullPolicy::DropNewest);
    let sid = StrategyId(3);
    let mut actor = StrategyActor::new(
        "strategy:stopper".into(),
        sid,
        VenueId(0),
        InstrumentId(0),
        Box::new(Stopper { stop: stop.clone() }),
        cache.reader(),
        None,
        urx,
        IntentSink::new(itx, CidMinter::new(1, sid), sid, InstrumentId(0)),
        KillSwitch::default(),
    )
    .with_notices(ntx);
    let (clock, hand) = Clock::manual(UnixNanos(T0));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    actor.start(&mut ctx).unwrap();
    let mut notices = vec![];
    for step in 0..6 {
        *stop.lock().unwrap() = step >= 2;
        hand.advance(S);
        actor.poll(&mut ctx);
        while let Some(n) = nrx.try_recv() {
            notices.push(n);
        }
    }
    assert_eq!(
        notices,
        vec![crate::notify::Notice::EntriesStopped {
            strategy: sid,
            reason: "max_daily_loss reached"
        }]
    );
}

#[test]
fn a_vacant_slot_told_to_flatten_closes_what_a_removed_bot_left_and_nothing_when_flat() {
    use super::actor::StrategyControl;
    use crate::gateway::OrderIntent;
    use crate::risk::{Position, PositionBoard};
    use crate::types::{OrderKind, TimeInForce};
    let inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "SOLUSDT",
        "SOL",
        "USDT",
        px("0.01"),
        Qty::parse("0.001").unwrap(),
    )
    .unwrap();
    let cache = BookCache::new(1);
    let mut writer = cache.writer(InstrumentId(0)).unwrap();
    let mut book = L2Book::with_capacity(8);
    book.apply_level(Side::Buy, px("100"), Qty::parse("5").unwrap());
    book.apply_level(Side::Sell, px("100.01"), Qty::parse("5").unwrap());
    writer.publish(&book, UnixNanos(T0), UnixNanos(T0));
    let board = PositionBoard::new(2, 1, 1);
    let sid = StrategyId(1);
    let (itx, irx) = bounded("intents", 8, FullPolicy::Backpressure);
    let (_utx, urx) = bounded("updates", 8, FullPolicy::Backpressure);
    let (ctx_tx, crx) = bounded("control", 4, FullPolicy::Backpressure);
    let mut actor = StrategyActor::new(
        "strategy:slot-x-SOLUSDT-1".into(),
        sid,
        VenueId(0),
        InstrumentId(0),
        Box::new(crate::strategy::vacant::Vacant),
        cache.reader(),
        None,
        urx,
        IntentSink::new(itx, CidMinter::new(1, sid), sid, InstrumentId(0)),
        KillSwitch::default(),
    )
    .vacant()
    .with_env(Env::new(
        Some(cache.reader()),
        vec![inst],
        Some(board.clone()),
    ))
    .with_control(crx);
    let (clock, _hand) = Clock::manual(UnixNanos(T0));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    actor.start(&mut ctx).unwrap();

    // Flat: nothing is sent.
    ctx_tx.send(StrategyControl::Flatten).unwrap();
    actor.poll(&mut ctx);
    assert!(irx.try_recv().is_none(), "a flat slot sends nothing");

    // 0.0505 SOL left long: a collared IOC sell of what the lot allows (0.05).
    board.set_position(
        sid,
        InstrumentId(0),
        Position {
            qty: 5_050_000,
            ..Position::default()
        },
    );
    ctx_tx.send(StrategyControl::Flatten).unwrap();
    actor.poll(&mut ctx);
    let Some(OrderIntent::New(i)) = irx.try_recv() else {
        panic!("a flatten order");
    };
    assert_eq!(
        (i.strategy, i.side, i.kind, i.tif, i.qty),
        (
            sid,
            Side::Sell,
            OrderKind::Limit,
            TimeInForce::Ioc,
            Qty::parse("0.05").unwrap()
        )
    );
    assert!(i.price < px("100") && i.price.is_positive(), "{}", i.price);
    assert!(irx.try_recv().is_none(), "one order");
}

/// Records the position corrections it is told of.
struct Told {
    told: Arc<Mutex<Vec<(InstrumentId, i64)>>>,
}

impl Strategy for Told {
    fn on_tick(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn on_order_update(&mut self, _u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {}
    fn on_position_corrected(&mut self, instrument: InstrumentId, cx: &mut StrategyCtx<'_>) {
        let held = cx.position_of(instrument).qty;
        self.told.lock().unwrap().push((instrument, held));
    }
    fn on_stop(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn reload(&mut self, _p: &toml::Table) -> Result<(), Vec<(String, String)>> {
        Ok(())
    }
    fn report(&self, _m: Option<Price>) -> StrategyReport {
        StrategyReport::default()
    }
    fn set_paused(&mut self, _p: bool) {}
}

#[test]
fn a_strategy_is_told_once_per_correction_of_its_position_from_the_venue() {
    use crate::risk::{Position, PositionBoard};
    let inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        px("0.1"),
        Qty::parse("0.001").unwrap(),
    )
    .unwrap();
    let cache = BookCache::new(1);
    let board = PositionBoard::new(2, 1, 1);
    let sid = StrategyId(1);
    let told = Arc::new(Mutex::new(vec![]));
    let (itx, _irx) = bounded("intents", 8, FullPolicy::Backpressure);
    let (_utx, urx) = bounded("updates", 8, FullPolicy::Backpressure);
    let mut actor = StrategyActor::new(
        "strategy:told".into(),
        sid,
        VenueId(0),
        InstrumentId(0),
        Box::new(Told { told: told.clone() }),
        cache.reader(),
        None,
        urx,
        IntentSink::new(itx, CidMinter::new(1, sid), sid, InstrumentId(0)),
        KillSwitch::default(),
    )
    .with_env(Env::new(
        Some(cache.reader()),
        vec![inst],
        Some(board.clone()),
    ));
    let (clock, hand) = Clock::manual(UnixNanos(T0));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    actor.start(&mut ctx).unwrap();
    let set = |qty: i64, corrections: u32| {
        board.set_position(
            sid,
            InstrumentId(0),
            Position {
                qty,
                corrections,
                ..Position::default()
            },
        )
    };
    let mut step = |n: usize| {
        for _ in 0..n {
            hand.advance(S);
            actor.poll(&mut ctx);
        }
        told.lock().unwrap().clone()
    };
    // Fills move the position: no correction, nothing told.
    set(2_000_000, 0);
    assert!(step(2).is_empty());
    // The venue's position replaced the engine's (a liquidation to zero): told once.
    set(0, 1);
    assert_eq!(step(3), vec![(InstrumentId(0), 0)]);
    // Another one later: told again.
    set(-1_000_000, 2);
    assert_eq!(
        step(2),
        vec![(InstrumentId(0), 0), (InstrumentId(0), -1_000_000)]
    );
}

/// Records every call the host makes; sets a one-shot timer 10 ms after its first tick.
struct Calls {
    calls: Arc<Mutex<Vec<&'static str>>>,
    timer_set: bool,
}

impl Strategy for Calls {
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        if !self.timer_set {
            self.timer_set = true;
            cx.timer_at(1, cx.now.plus_nanos(10_000_000));
        }
        self.calls.lock().unwrap().push("tick");
    }
    fn on_order_update(&mut self, _u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {
        self.calls.lock().unwrap().push("update");
    }
    fn on_timer(&mut self, _tag: u32, _cx: &mut StrategyCtx<'_>) {
        self.calls.lock().unwrap().push("timer");
    }
    fn on_stop(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn reload(&mut self, _p: &toml::Table) -> Result<(), Vec<(String, String)>> {
        Ok(())
    }
    fn report(&self, _m: Option<Price>) -> StrategyReport {
        StrategyReport::default()
    }
    fn set_paused(&mut self, _p: bool) {}
}

/// A poll that finds nothing new (same books, no update, no timer, tick or report due)
/// calls nothing and counts no work; each new thing wakes the strategy once: a book of
/// either declared instrument (even at the same prices), an order update, a timer, the
/// quiet-book tick.
#[test]
fn a_poll_with_nothing_new_calls_nothing_and_each_new_thing_wakes_it() {
    use crate::book::{Level, TopOfBook};
    let inst = |id: u32, sym: &str| {
        Instrument::new(
            InstrumentId(id),
            VenueId(0),
            sym,
            "X",
            "USDT",
            px("0.01"),
            Qty::parse("0.001").unwrap(),
        )
        .unwrap()
    };
    let cache = BookCache::new(2);
    let mut main = cache.writer(InstrumentId(0)).unwrap();
    let mut other = cache.writer(InstrumentId(1)).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (itx, _irx) = bounded("intents", 8, FullPolicy::Backpressure);
    let (utx, urx) = bounded("updates", 8, FullPolicy::Backpressure);
    let sid = StrategyId(0);
    let mut actor = StrategyActor::new(
        "strategy:calls".into(),
        sid,
        VenueId(0),
        InstrumentId(0),
        Box::new(Calls {
            calls: calls.clone(),
            timer_set: false,
        }),
        cache.reader(),
        None,
        urx,
        IntentSink::new(itx, CidMinter::new(1, sid), sid, InstrumentId(0)),
        KillSwitch::default(),
    )
    .with_env(Env::new(
        Some(cache.reader()),
        vec![inst(0, "AUSDT"), inst(1, "BUSDT")],
        None,
    ));
    let (clock, hand) = Clock::manual(UnixNanos(T0));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    actor.start(&mut ctx).unwrap();
    let top = |at: u64| TopOfBook {
        bid: Level {
            price: px("100"),
            qty: Qty::parse("1").unwrap(),
        },
        ask: Level {
            price: px("100.01"),
            qty: Qty::parse("1").unwrap(),
        },
        recv_ts: UnixNanos(at),
        valid: true,
        ..TopOfBook::default()
    };
    const MS: u64 = 1_000_000;
    // Polls `n` times, `step` apart: what the strategy was called for, and the work counted.
    let mut polls = |n: usize, step: u64| {
        let mut work = 0;
        for _ in 0..n {
            hand.advance(step);
            work += actor.poll(&mut ctx);
        }
        (std::mem::take(&mut *calls.lock().unwrap()), work)
    };
    main.publish_top(top(T0));
    assert_eq!(polls(1, 0).0, ["tick"]);
    assert_eq!(polls(5, MS), (vec![], 0), "nothing new");
    assert_eq!(polls(5, MS).0, ["timer"], "the timer, 10 ms after the tick");
    assert_eq!(polls(3, MS), (vec![], 0));
    utx.send(OrderUpdate {
        cid: crate::types::ClientOrderId::mint(1, sid, 1).unwrap(),
        strategy: sid,
        status: crate::types::OrderStatus::Acked,
        side: Side::Buy,
        price: px("100"),
        qty: Qty::parse("1").unwrap(),
        filled_qty: Qty::ZERO,
        fill: None,
        refused: None,
        fee_correction: None,
        at: UnixNanos(T0),
    })
    .unwrap();
    assert_eq!(polls(3, MS), (vec!["update"], 1));
    main.publish_top(top(T0 + 20 * MS));
    assert_eq!(polls(3, MS).0, ["tick"], "a new book at the same prices");
    other.publish_top(top(T0 + 23 * MS));
    assert_eq!(
        polls(3, MS).0,
        ["tick"],
        "the other declared instrument's book"
    );
    assert_eq!(polls(40, MS), (vec![], 0));
    assert_eq!(polls(10, MS).0, ["tick"], "called at least every 50 ms");
}
