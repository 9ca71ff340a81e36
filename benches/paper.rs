//! Benchmarks of the paper fill rules: an arriving order walking the published depth, and a
//! public print checked against resting paper orders. Baseline: copying the `Depth` the
//! arrival reads (what every arrival pays before matching).
//!
//! Run: `cargo bench --bench paper -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::{CACHE_DEPTH, Depth, Level};
use mako::feed::actor::TradeEvent;
use mako::gateway::CidMinter;
use mako::gateway::paper::matcher::{Matcher, PrintFill, Take};
use mako::types::{InstrumentId, Price, Qty, Side, StrategyId, UnixNanos, VenueId};

const INST: InstrumentId = InstrumentId(0);
const TICK: i64 = 1_000_000;
const BEST_BID: i64 = 6_183_763_000_000;

fn depth() -> Depth {
    let mut d = Depth {
        bid_count: CACHE_DEPTH,
        ask_count: CACHE_DEPTH,
        valid: true,
        seq: 1,
        ..Depth::default()
    };
    for k in 0..CACHE_DEPTH {
        d.bids[k] = Level {
            price: Price::from_units(BEST_BID - k as i64 * TICK),
            qty: Qty::from_units(30_000_000),
        };
        d.asks[k] = Level {
            price: Price::from_units(BEST_BID + (k as i64 + 1) * TICK),
            qty: Qty::from_units(30_000_000),
        };
    }
    d
}

fn bench(c: &mut Criterion) {
    let d = depth();
    let mut g = c.benchmark_group("paper");
    g.bench_function("baseline: copy the published depth", |b| {
        b.iter(|| black_box(*black_box(&d)))
    });
    let mut m = Matcher::new(1);
    let mut out: Vec<Take> = Vec::with_capacity(CACHE_DEPTH);
    // A buy for 1 BTC up to 3 ticks through the ask: walks three 0.3 BTC levels.
    let limit = Some(Price::from_units(BEST_BID + 3 * TICK));
    g.bench_function("arrival: plan a take across 3 levels", |b| {
        b.iter(|| {
            black_box(m.take(
                INST,
                Side::Buy,
                black_box(limit),
                Qty::from_units(100_000_000),
                black_box(&d),
                false,
                &mut out,
            ))
        })
    });
    // Two quotes resting a few ticks off the touch; prints at the touch reach neither (the
    // common case), each print a new trade id.
    let mut minter = CidMinter::new(1_700_000_000_000, StrategyId(0));
    m.rest(
        minter.mint(),
        INST,
        Side::Buy,
        Price::from_units(BEST_BID - 5 * TICK),
        Qty::from_units(100_000),
        &d,
    );
    m.rest(
        minter.mint(),
        INST,
        Side::Sell,
        Price::from_units(BEST_BID + 6 * TICK),
        Qty::from_units(100_000),
        &d,
    );
    let mut fills: Vec<PrintFill> = Vec::with_capacity(16);
    let mut id = 0u64;
    g.bench_function("print: check 2 resting orders", |b| {
        b.iter(|| {
            id += 1;
            let t = TradeEvent {
                venue: VenueId(0),
                instrument: INST,
                trade_id: id.into(),
                price: Price::from_units(BEST_BID),
                qty: Qty::from_units(1_000_000),
                aggressor: Side::Sell,
                trade_time: UnixNanos(id),
                exchange_ts: UnixNanos(id),
                recv_ts: UnixNanos(id),
            };
            m.on_trade(black_box(&t), &mut fills);
            black_box(fills.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
