//! What delivering trade prints and candles to strategies costs.
//!
//! - `feed_send/*`: the feed's side, per print: handing one print to no strategy (baseline)
//!   and to one strategy's channel (the whole cost the feed pays per subscriber).
//! - `print_to_callback/*`: one print from the channel to the strategy's `on_trade` through
//!   the strategy host's poll; baselines: the same poll with no print waiting (the host's
//!   fixed cost per pass), and calling `on_trade` directly.
//! - `candle_close/*`: a print that closes a 1 s candle, through the host to `on_candle`,
//!   against a print inside the bar (baseline: the same path with no candle closing). The
//!   clock is a manual one held still, so no bar closes on time during the run.
//!
//! Run: `cargo bench --bench strategy_events`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::BookCache;
use mako::gateway::{CidMinter, OrderUpdate};
use mako::risk::KillSwitch;
use mako::runtime::{Actor, Clock, Ctx, FullPolicy, Shutdown, Tx, bounded};
use mako::strategy::actor::StrategyActor;
use mako::strategy::{Candle, Env, IntentSink, Strategy, StrategyCtx, StrategyReport};
use mako::strategy::{Subscriptions, api::Gap};
use mako::types::{Instrument, InstrumentId, Price, Qty, Side, StrategyId, TradeEvent};
use mako::types::{TradeId, UnixNanos, VenueId};

const BTC: InstrumentId = InstrumentId(0);

/// Counts what it is given; does nothing else.
struct Counter {
    trades: Arc<AtomicU64>,
    candles: Arc<AtomicU64>,
    widths: Vec<u64>,
}

impl Strategy for Counter {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            trades: true,
            candles: self.widths.clone(),
        }
    }
    fn on_tick(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn on_trade(&mut self, t: &TradeEvent, _cx: &mut StrategyCtx<'_>) {
        black_box(t);
        self.trades.fetch_add(1, Ordering::Relaxed);
    }
    fn on_candle(&mut self, c: &Candle, _cx: &mut StrategyCtx<'_>) {
        black_box(c);
        self.candles.fetch_add(1, Ordering::Relaxed);
    }
    fn on_gap(&mut self, _g: Gap, _cx: &mut StrategyCtx<'_>) {}
    fn on_order_update(&mut self, _u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {}
    fn on_stop(&mut self, _cx: &mut StrategyCtx<'_>) {}
    fn reload(&mut self, _p: &toml::Table) -> Result<(), Vec<(String, String)>> {
        Ok(())
    }
    fn report(&self, _mark: Option<Price>) -> StrategyReport {
        StrategyReport::default()
    }
    fn set_paused(&mut self, _paused: bool) {}
}

fn instrument() -> Instrument {
    Instrument::new(
        BTC,
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        Price::parse("0.01").expect("tick"),
        Qty::parse("0.00001").expect("lot"),
    )
    .expect("instrument")
}

fn print(at: u64) -> TradeEvent {
    TradeEvent {
        venue: VenueId(0),
        instrument: BTC,
        trade_id: TradeId::from_u64(at),
        price: Price::parse("61837.63").expect("price"),
        qty: Qty::parse("0.02").expect("qty"),
        aggressor: Side::Sell,
        trade_time: UnixNanos(at),
        exchange_ts: UnixNanos(at),
        recv_ts: UnixNanos(at),
    }
}

/// A strategy host with a `Counter` fed by a trade channel; returns the channel's sender.
fn host(
    widths: Vec<u64>,
) -> (
    StrategyActor,
    Tx<TradeEvent>,
    Arc<AtomicU64>,
    Arc<AtomicU64>,
) {
    let cache = BookCache::new(1);
    let (trades, candles) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let counter = Counter {
        trades: trades.clone(),
        candles: candles.clone(),
        widths,
    };
    let (itx, _irx) = bounded("intents", 64, FullPolicy::Backpressure);
    let (_utx, urx) = bounded("updates", 64, FullPolicy::Backpressure);
    let (ttx, trx) = bounded("strategy-trades", 8192, FullPolicy::DropNewest);
    let sid = StrategyId(0);
    let actor = StrategyActor::new(
        "strategy:bench".into(),
        sid,
        VenueId(0),
        BTC,
        Box::new(counter),
        cache.reader(),
        None,
        urx,
        IntentSink::new(itx, CidMinter::new(1, sid), sid, BTC),
        KillSwitch::default(),
    )
    .with_env(Env::new(Some(cache.reader()), vec![instrument()], None))
    .with_trades(trx);
    // Keep `_irx` alive through the sink's channel: intents are never sent by `Counter`.
    std::mem::forget(_irx);
    (actor, ttx, trades, candles)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("feed_send");
    let none: Vec<Tx<TradeEvent>> = Vec::new();
    let t = print(1);
    g.bench_function("no_subscribers", |b| {
        b.iter(|| {
            for tx in black_box(&none) {
                let _ = tx.send(black_box(t));
            }
        })
    });
    let (tx, rx) = bounded::<TradeEvent>("strategy-trades", 8192, FullPolicy::DropNewest);
    let one = vec![tx];
    g.bench_function("one_subscriber", |b| {
        b.iter(|| {
            for tx in black_box(&one) {
                let _ = tx.send(black_box(t));
            }
            // The strategy's side drains, so the channel never fills.
            black_box(rx.try_recv());
        })
    });
    g.finish();

    let mut ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "bench",
    };
    let mut g = c.benchmark_group("print_to_callback");
    let (mut actor, tx, seen, _) = host(Vec::new());
    actor.start(&mut ctx).expect("start");
    g.bench_function("through_the_host", |b| {
        b.iter(|| {
            let _ = tx.send(black_box(t));
            actor.poll(&mut ctx);
        })
    });
    assert!(seen.load(Ordering::Relaxed) > 0, "prints reached on_trade");
    g.bench_function("empty_poll", |b| b.iter(|| actor.poll(&mut ctx)));
    // Baseline: the callback alone, as if the strategy were called in the feed's thread.
    let (itx, _irx) = bounded("intents", 64, FullPolicy::Backpressure);
    let mut sink = IntentSink::new(itx, CidMinter::new(1, StrategyId(0)), StrategyId(0), BTC);
    let mut env = Env::detached(vec![instrument()]);
    let band = mako::latency::bands::Band {
        name: "none".into(),
        max_latency_ns: None,
        min_spread_bps: 0,
        size_multiplier: 1.0,
        throttle: std::time::Duration::ZERO,
    };
    let mut direct = Counter {
        trades: Arc::new(AtomicU64::new(0)),
        candles: Arc::new(AtomicU64::new(0)),
        widths: Vec::new(),
    };
    g.bench_function("direct_call", |b| {
        b.iter(|| {
            let mut cx = StrategyCtx {
                now: UnixNanos(1),
                book: Default::default(),
                tick_at: UnixNanos::ZERO,
                band: &band,
                halted: false,
                intents: &mut sink,
                env: &mut env,
            };
            direct.on_trade(black_box(&t), &mut cx);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("candle_close");
    const S: u64 = 1_000_000_000;
    let start = 1_800_000_000 * S;
    let (clock, _hold) = Clock::manual(UnixNanos(start));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "bench",
    };
    // Prints 1 s apart: every print closes the previous bar.
    let (mut actor, tx, _, candles) = host(vec![S]);
    let mut at = start;
    g.bench_function("print_closing_a_1s_bar", |b| {
        b.iter(|| {
            at += S;
            let _ = tx.send(print(at));
            actor.poll(&mut ctx);
        })
    });
    assert!(
        candles.load(Ordering::Relaxed) > 0,
        "candles reached on_candle"
    );
    // Baseline: prints 1 ns apart, all inside one bar (a run is far shorter than 10^9 prints).
    let (mut actor, tx, _, _) = host(vec![S]);
    let mut at = start;
    g.bench_function("print_inside_the_bar", |b| {
        b.iter(|| {
            at += 1;
            let _ = tx.send(print(at));
            actor.poll(&mut ctx);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
