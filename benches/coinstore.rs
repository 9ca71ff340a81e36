//! Coinstore spot: a `depth@20` snapshot push → the book replaced (what the feed then
//! publishes) through the engine's `CoinstoreMd` (codec, `S` check, snapshot rule), beside a
//! serde_json baseline (structs with `String` fields, then the same fixed-point parsing and
//! book load).
//!
//! There is no recorded Coinstore capture in the repository: the frames are generated in the
//! documented shape (exchanges.md §6.5: `S`, `T`, `channel`, `level`, `instrumentId`,
//! `symbol`, `b` and `a` of `[price, qty]`), 1,000 snapshots of 20 levels a side of BTCUSDT
//! around a drifting mid, with `S` rising by one. Each pass over them starts a new session
//! (out of the timed region). Times are per frame.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::{L2Book, Level};
use mako::types::{InstrumentId, Price, Qty};
use mako::venue::coinstore::CoinstoreMd;
use mako::venue::md::{Handled, MarketData, SyncEvent, SyncLimits};
use serde::Deserialize;
use serde_json::json;

const ID: InstrumentId = InstrumentId(0);

fn price(units: i64) -> String {
    format!("{}.{:02}", units / 100, units % 100)
}

/// A deterministic walk (no RNG crate): a linear congruential step.
fn step(s: &mut u64) -> u64 {
    *s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    *s >> 33
}

fn load() -> Vec<Vec<u8>> {
    let mut mid = 4_199_300i64; // 41993.00 in cents
    let mut s = 11u64;
    (1..=1000u64)
        .map(|seq| {
            mid += (step(&mut s) % 5) as i64 - 2;
            let side = |sign: i64, s: &mut u64| -> Vec<[String; 2]> {
                (1..=20)
                    .map(|k| {
                        [
                            price(mid + sign * (k * 50)),
                            format!("0.{:06}", 1 + step(s) % 999_999),
                        ]
                    })
                    .collect()
            };
            let (b, a) = (side(-1, &mut s), side(1, &mut s));
            json!({"S": seq, "T": "depth", "channel": "btcusdt@depth@20", "level": 20,
                "instrumentId": 4, "symbol": "BTCUSDT", "b": b, "a": a})
            .to_string()
            .into_bytes()
        })
        .collect()
}

fn md() -> CoinstoreMd {
    CoinstoreMd::new(&[("BTCUSDT", ID)], SyncLimits::default())
}

#[derive(Deserialize)]
struct Depth {
    #[serde(rename = "S")]
    seq: u64,
    #[allow(dead_code)]
    #[serde(rename = "T")]
    kind: String,
    #[allow(dead_code)]
    channel: String,
    symbol: String,
    b: Vec<[String; 2]>,
    a: Vec<[String; 2]>,
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

fn all(c: &mut Criterion) {
    let k = load();
    // The walk must really replace the book with every snapshot, or the timings mean nothing.
    let mut m = md();
    for f in &k {
        let h = m.on_frame(f);
        assert!(
            matches!(
                h,
                Ok(Handled::Book {
                    event: SyncEvent::SnapshotApplied { live: true, .. },
                    ..
                })
            ),
            "a snapshot was not applied: {h:?}"
        );
    }
    let mut g = c.benchmark_group("coinstore depth@20 snapshot -> book replaced");
    let mut m = md();
    g.bench_function("mako CoinstoreMd", |b| {
        b.iter_custom(|iters| {
            walk(
                &k,
                iters,
                &mut m,
                |m| m.on_reconnect(),
                |m, f| {
                    let _ = black_box(m.on_frame(f));
                },
            )
        })
    });
    let mut state = (L2Book::with_capacity(8192), Vec::new(), Vec::new());
    g.bench_function(
        "serde_json String structs + fixed parse, book loaded",
        |b| {
            b.iter_custom(|iters| {
                walk(
                    &k,
                    iters,
                    &mut state,
                    |_| {},
                    |(book, bids, asks), f| {
                        let d: Depth = serde_json::from_slice(f).expect("json");
                        black_box((&d.symbol, d.seq));
                        for (out, levels) in [(&mut *bids, &d.b), (&mut *asks, &d.a)] {
                            out.clear();
                            for [p, q] in levels {
                                out.push(Level {
                                    price: Price::parse(p).unwrap_or_default(),
                                    qty: Qty::parse(q).unwrap_or_default(),
                                });
                            }
                        }
                        book.apply_snapshot(d.seq, bids.iter().copied(), asks.iter().copied());
                        black_box(book.best_bid());
                    },
                )
            })
        },
    );
    g.finish();
}

criterion_group! {
    name = coinstore;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(coinstore);
