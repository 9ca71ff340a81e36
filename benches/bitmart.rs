//! BitMart spot: a `spot/depth/increase100` update → applied to the book through the engine's
//! `BitmartMd` (what a feed runs), as text and as the compressed binary frame BitMart sends,
//! beside a serde_json baseline (structs with `String` fields, then the same fixed-point
//! parsing and book); and the cost of inflating one frame: the feed's `Inflater` (one per
//! connection, buffer kept) beside a fresh flate2 `DeflateDecoder` per frame.
//!
//! There is no recorded BitMart capture in the repository: the frames are generated in the
//! documented shapes (exchanges.md §5.6 samples): a 100-level snapshot of BTC_USDT, then
//! 1,000 updates of 1–3 levels each with consecutive versions, compressed as BitMart does
//! (raw DEFLATE). Each pass over the updates starts from the snapshot again, out of the timed
//! region. Times are per frame.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use mako::book::L2Book;
use mako::types::{InstrumentId, Price, Qty, Side};
use mako::venue::bitmart::BitmartMd;
use mako::venue::bitmart::inflate::Inflater;
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

fn deflate(text: &[u8]) -> Vec<u8> {
    let mut z = DeflateEncoder::new(Vec::new(), Compression::default());
    z.write_all(text).expect("deflate");
    z.finish().expect("deflate")
}

struct Corpora {
    snapshot: Vec<u8>,
    updates: Vec<Vec<u8>>,
    compressed: Vec<Vec<u8>>,
}

fn load() -> Corpora {
    let mid = 2_310_500i64; // 23105.00 in cents
    let side = |sign: i64| -> Vec<[String; 2]> {
        (1..=100)
            .map(|k| [price(mid + sign * k), "0.5".to_owned()])
            .collect()
    };
    let snapshot = json!({"data": [{"asks": side(1), "bids": side(-1), "ms_t": 1_698_292_343_610u64,
        "symbol": "BTC_USDT", "type": "snapshot", "version": 4}], "table": "spot/depth/increase100"})
    .to_string()
    .into_bytes();
    let mut s = 7u64;
    let mut updates = Vec::new();
    for v in 5..1005u64 {
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for _ in 0..1 + step(&mut s) % 3 {
            let off = 1 + (step(&mut s) % 90) as i64;
            let qty = match step(&mut s) % 4 {
                0 => "0".to_owned(),
                q => format!("0.{q}1234567"),
            };
            if step(&mut s).is_multiple_of(2) {
                bids.push([price(mid - off), qty]);
            } else {
                asks.push([price(mid + off), qty]);
            }
        }
        updates.push(
            json!({"data": [{"asks": asks, "bids": bids, "ms_t": 1_698_292_358_292u64,
                "symbol": "BTC_USDT", "type": "update", "version": v}], "table": "spot/depth/increase100"})
            .to_string()
            .into_bytes(),
        );
    }
    let compressed = updates.iter().map(|u| deflate(u)).collect();
    Corpora {
        snapshot,
        updates,
        compressed,
    }
}

fn md() -> BitmartMd {
    BitmartMd::new(&[("BTC_USDT", ID)], SyncLimits::default())
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
    table: String,
    data: Vec<Depth>,
}

#[derive(Deserialize)]
struct Depth {
    asks: Vec<[String; 2]>,
    bids: Vec<[String; 2]>,
    ms_t: u64,
    symbol: String,
    #[allow(dead_code)]
    r#type: String,
    version: u64,
}

fn synced(m: &mut BitmartMd, snapshot: &[u8]) {
    let h = m.on_frame(snapshot);
    debug_assert!(matches!(h, Ok(Handled::Book { .. })));
}

fn bench_depth(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("bitmart depth update -> applied");
    let mut m = md();
    g.bench_function("mako, text frame", |b| {
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
    let mut m = md();
    g.bench_function(
        "mako, compressed binary frame (inflate + decode + apply)",
        |b| {
            b.iter_custom(|iters| {
                walk(
                    &k.compressed,
                    iters,
                    &mut m,
                    |m| synced(m, &k.snapshot),
                    |m, f| {
                        let _ = black_box(m.on_binary(f));
                    },
                )
            })
        },
    );
    let apply = |book: &mut L2Book, d: &Depth| {
        for (side, levels) in [(Side::Buy, &d.bids), (Side::Sell, &d.asks)] {
            for [p, q] in levels {
                book.apply_level(
                    side,
                    Price::parse(p).unwrap_or_default(),
                    Qty::parse(q).unwrap_or_default(),
                );
            }
        }
    };
    let fresh = |book: &mut L2Book| {
        let m: Msg = serde_json::from_slice(&k.snapshot).expect("json");
        book.clear();
        apply(book, &m.data[0]);
    };
    let mut book = L2Book::with_capacity(8192);
    g.bench_function(
        "serde_json String structs + fixed parse, applied (text)",
        |b| {
            b.iter_custom(|iters| {
                walk(&k.updates, iters, &mut book, fresh, |book, f| {
                    let m: Msg = serde_json::from_slice(f).expect("json");
                    let d = &m.data[0];
                    black_box((&d.symbol, d.version, d.ms_t));
                    apply(book, d);
                    black_box(book.best_bid());
                })
            })
        },
    );
    g.finish();
}

fn bench_inflate(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("bitmart inflate one update frame");
    let mut z = Inflater::new();
    g.bench_function("mako Inflater (reset per frame, buffer kept)", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.compressed,
                iters,
                &mut z,
                |_| {},
                |z, f| {
                    let _ = black_box(z.inflate(f).map(<[u8]>::len));
                },
            )
        })
    });
    let mut out = String::new();
    g.bench_function("flate2 DeflateDecoder per frame, into a String", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.compressed,
                iters,
                &mut out,
                |_| {},
                |out, f| {
                    out.clear();
                    let _ = black_box(DeflateDecoder::new(f).read_to_string(out));
                },
            )
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let k = load();
    // The walks must really apply every update, or the timings mean nothing.
    for binary in [false, true] {
        let mut m = md();
        synced(&mut m, &k.snapshot);
        for (t, z) in k.updates.iter().zip(&k.compressed) {
            let h = if binary {
                m.on_binary(z)
            } else {
                m.on_frame(t)
            };
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
    }
    bench_depth(c, &k);
    bench_inflate(c, &k);
}

criterion_group! {
    name = bitmart;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(bitmart);
