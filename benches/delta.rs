//! Delta Exchange: an `ob_updates` update → applied to the book and its CRC32 checksum of the
//! top 10 levels verified, through the engine's `DeltaMd` (what a feed runs), beside a
//! serde_json baseline (structs with `String` fields, then the same fixed-point parsing, book
//! and a checksum over `format!`ed strings).
//!
//! There is no recorded Delta capture in the repository: the frames are generated in the
//! documented shape (reference/delta.md §3.5 samples): a 100-level-a-side snapshot of BTCUSD
//! (0.5 tick, integer contract sizes), then 1,000 updates of 1–5 levels each with consecutive
//! `seq`, each with the `cs` of the book after it (computed while generating, from the
//! strings sent). Each pass over the updates starts from the snapshot again, out of the timed
//! region. Times are per frame.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::{L2Book, Level};
use mako::types::{InstrumentId, Price, Qty, Side};
use mako::venue::delta::{DeltaMd, Platform};
use mako::venue::md::{Handled, MarketData, SyncEvent, SyncLimits};
use serde::Deserialize;
use serde_json::json;

const ID: InstrumentId = InstrumentId(0);

/// Halves of a dollar → `"60000.5"`.
fn price(halves: i64) -> String {
    format!("{}.{}", halves / 2, if halves % 2 == 0 { 0 } else { 5 })
}

/// A deterministic walk (no RNG crate): a linear congruential step.
fn step(s: &mut u64) -> u64 {
    *s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    *s >> 33
}

struct Corpora {
    snapshot: Vec<u8>,
    updates: Vec<Vec<u8>>,
}

/// The generator's book: price in halves → size string.
fn cs(bids: &BTreeMap<i64, String>, asks: &BTreeMap<i64, String>) -> u32 {
    let a: Vec<String> = asks
        .iter()
        .take(10)
        .map(|(p, q)| format!("{}:{q}", price(*p)))
        .collect();
    let b: Vec<String> = bids
        .iter()
        .rev()
        .take(10)
        .map(|(p, q)| format!("{}:{q}", price(*p)))
        .collect();
    crc32fast::hash(format!("{}|{}", a.join(","), b.join(",")).as_bytes())
}

fn load() -> Corpora {
    let mid = 120_000i64; // 60000.0 in halves
    let mut bids: BTreeMap<i64, String> = (1..=100).map(|k| (mid - k, "500".into())).collect();
    let mut asks: BTreeMap<i64, String> = (1..=100).map(|k| (mid + k, "500".into())).collect();
    let lv = |m: &BTreeMap<i64, String>, rev: bool| -> Vec<[String; 2]> {
        let v: Vec<[String; 2]> = m.iter().map(|(p, q)| [price(*p), q.clone()]).collect();
        if rev {
            v.into_iter().rev().collect()
        } else {
            v
        }
    };
    let snapshot = json!({"action": "snapshot", "a": lv(&asks, false), "b": lv(&bids, true),
        "ts": 1_671_140_718_980_723u64, "seq": 6199, "sy": "BTCUSD", "type": "ob_updates",
        "cs": cs(&bids, &asks)})
    .to_string()
    .into_bytes();
    let mut s = 7u64;
    let mut updates = Vec::new();
    for k in 1..=1000u64 {
        let (mut b, mut a) = (Vec::new(), Vec::new());
        for _ in 0..1 + step(&mut s) % 5 {
            let off = 1 + (step(&mut s) % 60) as i64;
            let qty = match step(&mut s) % 4 {
                0 => "0".to_owned(),
                _ => format!("{}", 1 + step(&mut s) % 3000),
            };
            let (side, list, p) = if step(&mut s).is_multiple_of(2) {
                (&mut bids, &mut b, mid - off)
            } else {
                (&mut asks, &mut a, mid + off)
            };
            if qty == "0" {
                side.remove(&p);
            } else {
                side.insert(p, qty.clone());
            }
            list.push([price(p), qty]);
        }
        updates.push(
            json!({"action": "update", "a": a, "b": b, "seq": 6199 + k, "sy": "BTCUSD",
                "type": "ob_updates", "ts": 1_671_140_769_059_031u64, "cs": cs(&bids, &asks)})
            .to_string()
            .into_bytes(),
        );
    }
    Corpora { snapshot, updates }
}

fn md() -> DeltaMd {
    DeltaMd::new(Platform::India, &[("BTCUSD", ID)], SyncLimits::default())
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
    action: String,
    a: Vec<[String; 2]>,
    b: Vec<[String; 2]>,
    seq: u64,
    sy: String,
    ts: u64,
    cs: u32,
}

fn synced(m: &mut DeltaMd, snapshot: &[u8]) {
    let h = m.on_frame(snapshot);
    debug_assert!(matches!(h, Ok(Handled::Book { .. })));
}

/// The baseline's checksum: the book's top 10 a side `format!`ed with one decimal and
/// integer sizes (what Delta sends for this product).
fn baseline_cs(book: &L2Book, top: &mut [Level; 10]) -> u32 {
    let mut text = String::new();
    for (k, side) in [Side::Sell, Side::Buy].into_iter().enumerate() {
        if k == 1 {
            text.push('|');
        }
        let n = book.top_n(side, top);
        let parts: Vec<String> = top[..n]
            .iter()
            .map(|l| {
                format!(
                    "{}:{}",
                    l.price.to_fixed_string(1),
                    l.qty.to_fixed_string(0)
                )
            })
            .collect();
        text.push_str(&parts.join(","));
    }
    crc32fast::hash(text.as_bytes())
}

fn bench_update(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("delta ob_updates update -> applied + checksum");
    let mut m = md();
    g.bench_function("mako DeltaMd", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.updates,
                iters,
                &mut m,
                |m| synced(m, &k.snapshot),
                |m, f| {
                    let _ = black_box(m.on_frame(f));
                },
            )
        })
    });
    let apply = |book: &mut L2Book, d: &Msg| {
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
    let fresh = |st: &mut (L2Book, [Level; 10])| {
        let m: Msg = serde_json::from_slice(&k.snapshot).expect("json");
        st.0.clear();
        apply(&mut st.0, &m);
    };
    let mut st = (L2Book::with_capacity(8192), [Level::default(); 10]);
    g.bench_function(
        "serde_json String structs + fixed parse, applied, format! checksum",
        |b| {
            b.iter_custom(|iters| {
                walk(&k.updates, iters, &mut st, fresh, |st, f| {
                    let m: Msg = serde_json::from_slice(f).expect("json");
                    black_box((&m.sy, m.ts));
                    apply(&mut st.0, &m);
                    black_box(baseline_cs(&st.0, &mut st.1) == m.cs);
                })
            })
        },
    );
    g.finish();
}

fn all(c: &mut Criterion) {
    let k = load();
    // The walk must really apply and verify every update, or the timings mean nothing.
    let mut m = md();
    synced(&mut m, &k.snapshot);
    for d in &k.updates {
        let h = m.on_frame(d);
        assert!(
            matches!(
                h,
                Ok(Handled::Book {
                    event: SyncEvent::Applied,
                    ..
                })
            ),
            "an update was not applied: {h:?}"
        );
    }
    let c0 = m.sync_counters(ID).unwrap();
    assert_eq!(
        (c0.checksums_verified, c0.checksum_mismatches),
        (1001, 0),
        "every checksum compared and agreed"
    );
    let mut st = (L2Book::with_capacity(8192), [Level::default(); 10]);
    let m0: Msg = serde_json::from_slice(&k.snapshot).unwrap();
    for [p, q] in &m0.b {
        st.0.apply_level(Side::Buy, Price::parse(p).unwrap(), Qty::parse(q).unwrap());
    }
    for [p, q] in &m0.a {
        st.0.apply_level(Side::Sell, Price::parse(p).unwrap(), Qty::parse(q).unwrap());
    }
    assert_eq!(
        baseline_cs(&st.0, &mut st.1),
        m0.cs,
        "the baseline's checksum agrees"
    );
    bench_update(c, &k);
}

criterion_group! {
    name = delta;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(delta);
