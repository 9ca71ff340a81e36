//! CoinDCX futures: a `depth-snapshot` Socket.IO frame → applied as the book through the
//! engine's `CoindcxMd` (what a feed runs: Engine.IO/Socket.IO framing, the envelope whose
//! `data` is a JSON string, the price→quantity maps, the `vs` rule, the book replaced), beside
//! a serde_json baseline (the same frame parsed into structs with `String` fields and a map,
//! then the same fixed-point parsing and book).
//!
//! There is no recorded CoinDCX capture in the repository: the frames are generated in the
//! documented shape (exchanges.md §7.5 sample) as the simulator sends them: 1,000 snapshots of
//! 20 levels a side, each with a rising `vs`. Each pass over them starts from a fresh handler,
//! out of the timed region. Times are per frame.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::{L2Book, Level};
use mako::types::{InstrumentId, Price, Qty};
use mako::venue::coindcx::CoindcxMd;
use mako::venue::coindcx::handler::Channels;
use mako::venue::md::{Handled, MarketData, SyncEvent, SyncLimits};
use serde::Deserialize;
use serde_json::{Map, Value, json};

const ID: InstrumentId = InstrumentId(0);
const CHANNEL: &str = "B-BTC_USDT@orderbook@20-futures";

fn price(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A deterministic walk (no RNG crate): a linear congruential step.
fn step(s: &mut u64) -> u64 {
    *s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    *s >> 33
}

fn load() -> Vec<Vec<u8>> {
    let mut s = 11u64;
    let mut mid = 602_480i64; // 60248.0 in tenths
    (1..=1000u64)
        .map(|k| {
            mid += (step(&mut s) % 5) as i64 - 2;
            let side = |sign: i64, s: &mut u64| -> Map<String, Value> {
                (1..=20)
                    .map(|i| {
                        let q = format!("{}.{:03}", step(s) % 9, step(s) % 1000 + 1);
                        (price(mid + sign * i), json!(q))
                    })
                    .collect()
            };
            let payload = json!({"ts": 1_705_913_767_265u64 + k, "vs": 53_727_235 + k,
                "asks": side(1, &mut s), "bids": side(-1, &mut s), "pr": "futures"});
            let arg = json!({"channel": CHANNEL, "event": "depth-snapshot",
                "data": payload.to_string()});
            format!("42{}", json!(["depth-snapshot", arg])).into_bytes()
        })
        .collect()
}

fn md() -> CoindcxMd {
    CoindcxMd::new(
        &[("B-BTC_USDT", ID)],
        Channels::default(),
        SyncLimits::default(),
    )
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
struct Envelope {
    channel: String,
    data: String,
}

#[derive(Deserialize)]
struct Snapshot {
    ts: u64,
    vs: u64,
    asks: HashMap<String, String>,
    bids: HashMap<String, String>,
}

fn bench_snapshot(c: &mut Criterion, frames: &[Vec<u8>]) {
    let mut g = c.benchmark_group("coindcx depth-snapshot -> applied");
    let mut m = md();
    g.bench_function("mako CoindcxMd", |b| {
        b.iter_custom(|iters| {
            walk(
                frames,
                iters,
                &mut m,
                |m| *m = md(),
                |m, f| {
                    let _ = black_box(m.on_frame(f));
                },
            )
        })
    });
    let mut state = (L2Book::with_capacity(8192), 0u64);
    let levels = |map: &HashMap<String, String>| -> Vec<Level> {
        map.iter()
            .map(|(p, q)| Level {
                price: Price::parse(p).unwrap_or_default(),
                qty: Qty::parse(q).unwrap_or_default(),
            })
            .collect()
    };
    g.bench_function("serde_json String structs + fixed parse, applied", |b| {
        b.iter_custom(|iters| {
            walk(
                frames,
                iters,
                &mut state,
                |s| *s = (L2Book::with_capacity(8192), 0),
                |(book, last_vs), f| {
                    let text = std::str::from_utf8(f).expect("utf8");
                    let (name, env): (String, Envelope) =
                        serde_json::from_str(&text[2..]).expect("event");
                    let snap: Snapshot = serde_json::from_str(&env.data).expect("payload");
                    black_box((&name, &env.channel, snap.ts));
                    if snap.vs > *last_vs {
                        *last_vs = snap.vs;
                        book.apply_snapshot(snap.vs, levels(&snap.bids), levels(&snap.asks));
                    }
                    black_box(book.best_bid());
                },
            )
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let frames = load();
    // Every snapshot must really be applied, or the timings mean nothing.
    let mut m = md();
    for f in &frames {
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
    assert_eq!(
        m.book(ID).map(|b| b.depth(mako::types::Side::Buy)),
        Some(20)
    );
    bench_snapshot(c, &frames);
}

criterion_group! {
    name = coindcx;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(coindcx);
