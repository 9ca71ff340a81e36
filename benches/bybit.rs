//! Bybit v5: an `orderbook.50` delta → applied to the book through the engine's `BybitMd`
//! (what a feed runs), beside a serde_json baseline (structs with `String` fields, then the
//! same fixed-point parsing and book).
//!
//! There is no recorded Bybit capture in the repository: the frames are generated in the
//! documented shapes (exchanges.md §3.3 samples): a 50-level snapshot of BTCUSDT, then 1,000
//! deltas of 1–5 levels each with consecutive `u`. Each pass over the deltas starts from the
//! snapshot again, out of the timed region. Times are per frame.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::L2Book;
use mako::types::{InstrumentId, Price, Qty, Side};
use mako::venue::bybit::{BybitMd, Category};
use mako::venue::md::{Handled, MarketData, SyncEvent, SyncLimits};
use serde::Deserialize;
use serde_json::json;

const ID: InstrumentId = InstrumentId(0);

fn price(tenths: i64) -> String {
    format!("{}.{}0", tenths / 10, tenths % 10)
}

/// A deterministic walk (no RNG crate): a linear congruential step.
fn step(s: &mut u64) -> u64 {
    *s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    *s >> 33
}

struct Corpora {
    snapshot: Vec<u8>,
    deltas: Vec<Vec<u8>>,
}

fn load() -> Corpora {
    let mid = 302_480i64; // 30248.0 in tenths
    let side = |sign: i64| -> Vec<[String; 2]> {
        (1..=50)
            .map(|k| [price(mid + sign * k), "0.500".to_owned()])
            .collect()
    };
    let snapshot = json!({"topic": "orderbook.50.BTCUSDT", "type": "snapshot",
        "ts": 1_687_940_967_400u64,
        "data": {"s": "BTCUSDT", "b": side(-1), "a": side(1), "u": 177_400_000u64,
            "seq": 66_544_700_000u64},
        "cts": 1_687_940_967_398u64})
    .to_string()
    .into_bytes();
    let mut s = 7u64;
    let mut deltas = Vec::new();
    for k in 1..=1000u64 {
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for _ in 0..1 + step(&mut s) % 5 {
            let off = 1 + (step(&mut s) % 45) as i64;
            let qty = match step(&mut s) % 4 {
                0 => "0".to_owned(),
                q => format!("{q}.{:03}", step(&mut s) % 1000),
            };
            if step(&mut s).is_multiple_of(2) {
                bids.push([price(mid - off), qty]);
            } else {
                asks.push([price(mid + off), qty]);
            }
        }
        deltas.push(
            json!({"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1_687_940_967_466u64,
                "data": {"s": "BTCUSDT", "b": bids, "a": asks, "u": 177_400_000 + k,
                    "seq": 66_544_700_000 + 3 * k},
                "cts": 1_687_940_967_464u64})
            .to_string()
            .into_bytes(),
        );
    }
    Corpora { snapshot, deltas }
}

fn md() -> BybitMd {
    BybitMd::new(Category::Linear, &[("BTCUSDT", ID)], SyncLimits::default())
}

/// Times `iters` frames of `corpus`, starting each pass over it from `reset` (untimed).
fn walk<S>(
    corpus: &[Vec<u8>],
    iters: u64,
    state: &mut S,
    reset: impl Fn(&mut S),
    mut frame: impl FnMut(&mut S, &[u8]),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        reset(state);
        let n = left.min(corpus.len());
        let t = Instant::now();
        for f in &corpus[..n] {
            frame(state, black_box(f));
        }
        total += t.elapsed();
        left -= n;
    }
    total
}

#[derive(Deserialize)]
struct Msg {
    #[allow(dead_code)]
    topic: String,
    #[allow(dead_code)]
    r#type: String,
    ts: u64,
    data: Book,
}

#[derive(Deserialize)]
struct Book {
    s: String,
    b: Vec<[String; 2]>,
    a: Vec<[String; 2]>,
    u: u64,
    seq: u64,
}

fn synced(m: &mut BybitMd, snapshot: &[u8]) {
    let h = m.on_frame(snapshot);
    debug_assert!(matches!(h, Ok(Handled::Book { .. })));
}

fn bench_delta(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("bybit orderbook delta -> applied");
    let mut m = md();
    g.bench_function("mako BybitMd", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.deltas,
                iters,
                &mut m,
                |m| synced(m, &k.snapshot),
                |m, f| {
                    let _ = black_box(m.on_frame(f));
                },
            )
        })
    });
    let apply = |book: &mut L2Book, d: &Book| {
        for (side, levels) in [(Side::Buy, &d.b), (Side::Sell, &d.a)] {
            for [p, q] in levels {
                book.apply_level(
                    side,
                    Price::parse(p).unwrap_or_default(),
                    Qty::parse(q).unwrap_or_default(),
                );
            }
        }
        book.set_update_id(d.seq);
    };
    let fresh = |book: &mut L2Book| {
        let m: Msg = serde_json::from_slice(&k.snapshot).expect("json");
        book.clear();
        apply(book, &m.data);
    };
    let mut book = L2Book::with_capacity(8192);
    g.bench_function("serde_json String structs + fixed parse, applied", |b| {
        b.iter_custom(|iters| {
            walk(&k.deltas, iters, &mut book, fresh, |book, f| {
                let m: Msg = serde_json::from_slice(f).expect("json");
                black_box((&m.data.s, m.data.u, m.ts));
                apply(book, &m.data);
                black_box(book.best_bid());
            })
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let k = load();
    // The walk must really apply every delta, or the timings mean nothing.
    let mut m = md();
    synced(&mut m, &k.snapshot);
    for d in &k.deltas {
        let h = m.on_frame(d);
        assert!(
            matches!(
                h,
                Ok(Handled::Book {
                    event: SyncEvent::Applied,
                    ..
                })
            ),
            "a delta was not applied: {h:?}"
        );
    }
    bench_delta(c, &k);
}

criterion_group! {
    name = bybit;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(bybit);
