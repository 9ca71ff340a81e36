//! Binance Spot frame → domain object, on the real recording's frames, walked in order:
//! bookTicker → top of book, trade → trade, depth diff → parsed AND applied to a synced book.
//! Baselines in the same run: serde_json into structs with `String` fields (then the same
//! decimal parsing and book code), and mako's own general decoder (simd-json tape).
//! Each iteration handles the next frame of its corpus, so times are per frame.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::Level;
use mako::feed::record::RecordReader;
use mako::types::{InstrumentId, Price, Qty};
use mako::venue::binance::sync::BookSync;
use mako::venue::binance::{MdEvent, MdParser, SymbolTable, TimeUnit};
use mako::venue::md::{SyncEvent, SyncLimits};
use serde::Deserialize;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
);
const BTC: InstrumentId = InstrumentId(0);

struct Corpora {
    tickers: Vec<Vec<u8>>,
    trades: Vec<Vec<u8>>,
    /// Every depth frame in order, including the ones before the snapshot.
    depth: Vec<Vec<u8>>,
    snapshot: Vec<u8>,
}

fn load() -> Corpora {
    let mut c = Corpora {
        tickers: vec![],
        trades: vec![],
        depth: vec![],
        snapshot: vec![],
    };
    let mut r = RecordReader::open(FIXTURE).expect("fixture");
    while let Some(rec) = r.next() {
        let f = rec.expect("fixture line").frame.to_vec();
        if f.starts_with(b"{\"stream\":\"btcusdt@bookTicker\"") {
            c.tickers.push(f);
        } else if f.starts_with(b"{\"stream\":\"btcusdt@trade\"") {
            c.trades.push(f);
        } else if f.starts_with(b"{\"stream\":\"btcusdt@depth") {
            c.depth.push(f);
        } else {
            c.snapshot = f;
        }
    }
    c
}

fn parser() -> MdParser {
    let mut t = SymbolTable::new();
    t.insert("btcusdt", BTC).expect("symbol");
    MdParser::new(t, TimeUnit::Millis, 8192)
}

/// Walks `corpus` one frame per iteration.
fn cycle<'a>(corpus: &'a [Vec<u8>], i: &mut usize) -> &'a [u8] {
    let f = &corpus[*i];
    *i += 1;
    if *i == corpus.len() {
        *i = 0;
    }
    f
}

// ---- serde_json baseline types: owned Strings, as a typical client would write them ----

#[derive(Deserialize)]
struct Frame<T> {
    #[allow(dead_code)]
    stream: String,
    data: T,
}

#[derive(Deserialize)]
struct TickerJson {
    u: u64,
    s: String,
    b: String,
    #[serde(rename = "B")]
    bq: String,
    a: String,
    #[serde(rename = "A")]
    aq: String,
}

#[derive(Deserialize)]
struct TradeJson {
    #[allow(dead_code)]
    e: String,
    #[serde(rename = "E")]
    event_time: u64,
    s: String,
    t: u64,
    p: String,
    q: String,
    #[serde(rename = "T")]
    trade_time: u64,
    m: bool,
}

#[derive(Deserialize)]
struct DepthJson {
    #[allow(dead_code)]
    e: String,
    #[serde(rename = "E")]
    #[allow(dead_code)]
    event_time: u64,
    s: String,
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    b: Vec<[String; 2]>,
    a: Vec<[String; 2]>,
}

fn level(l: &[String; 2]) -> Level {
    Level {
        price: Price::parse(&l[0]).unwrap_or_default(),
        qty: Qty::parse(&l[1]).unwrap_or_default(),
    }
}

fn bench_ticker(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("bookTicker frame -> top of book");
    let mut p = parser();
    let mut i = 0;
    g.bench_function("mako", |b| {
        b.iter(|| match p.parse(black_box(cycle(&k.tickers, &mut i))) {
            Ok(MdEvent::BookTicker(t)) => black_box(t).update_id,
            _ => 0,
        })
    });
    let one = &k.tickers[k.tickers.len() / 2];
    g.bench_function("mako, one frame repeated (hot cache)", |b| {
        b.iter(|| match p.parse(black_box(one)) {
            Ok(MdEvent::BookTicker(t)) => black_box(t).update_id,
            _ => 0,
        })
    });
    let mut i = 0;
    g.bench_function("mako general decoder (simd-json tape)", |b| {
        b.iter(
            || match p.parse_generic(black_box(cycle(&k.tickers, &mut i))) {
                Ok(MdEvent::BookTicker(t)) => black_box(t).update_id,
                _ => 0,
            },
        )
    });
    let mut i = 0;
    g.bench_function("serde_json String structs + fixed parse", |b| {
        b.iter(|| {
            let f: Frame<TickerJson> =
                serde_json::from_slice(black_box(cycle(&k.tickers, &mut i))).expect("json");
            let d = f.data;
            black_box((
                d.u,
                d.s.len(),
                Price::parse(&d.b).unwrap_or_default(),
                Qty::parse(&d.bq).unwrap_or_default(),
                Price::parse(&d.a).unwrap_or_default(),
                Qty::parse(&d.aq).unwrap_or_default(),
            ))
        })
    });
    g.finish();
}

fn bench_trade(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("trade frame -> trade");
    let mut p = parser();
    let mut i = 0;
    g.bench_function("mako", |b| {
        b.iter(|| match p.parse(black_box(cycle(&k.trades, &mut i))) {
            Ok(MdEvent::Trade(t)) => black_box(t).trade_id,
            _ => 0,
        })
    });
    let one = &k.trades[k.trades.len() / 2];
    g.bench_function("mako, one frame repeated (hot cache)", |b| {
        b.iter(|| match p.parse(black_box(one)) {
            Ok(MdEvent::Trade(t)) => black_box(t).trade_id,
            _ => 0,
        })
    });
    let mut i = 0;
    g.bench_function("mako general decoder (simd-json tape)", |b| {
        b.iter(
            || match p.parse_generic(black_box(cycle(&k.trades, &mut i))) {
                Ok(MdEvent::Trade(t)) => black_box(t).trade_id,
                _ => 0,
            },
        )
    });
    let mut i = 0;
    g.bench_function("serde_json String structs + fixed parse", |b| {
        b.iter(|| {
            let f: Frame<TradeJson> =
                serde_json::from_slice(black_box(cycle(&k.trades, &mut i))).expect("json");
            let d = f.data;
            black_box((
                d.event_time,
                d.s.len(),
                d.t,
                Price::parse(&d.p).unwrap_or_default(),
                Qty::parse(&d.q).unwrap_or_default(),
                d.trade_time,
                d.m,
            ))
        })
    });
    g.finish();
}

/// A book synced from the recording's snapshot, and the index of the first depth frame
/// after it.
fn synced(k: &Corpora, p: &mut MdParser) -> (BookSync, usize) {
    let mut s = BookSync::new(BTC, SyncLimits::default());
    let mut n = 0;
    while let Ok(MdEvent::Depth(d)) = p.parse(&k.depth[n]) {
        let _ = s.on_diff(d.first_update_id, d.final_update_id, d.bids, d.asks);
        n += 1;
        if n == 3 {
            break;
        }
    }
    if let Ok(MdEvent::Snapshot(snap)) = p.parse(&k.snapshot) {
        let ev = s.on_snapshot(snap.last_update_id, snap.bids, snap.asks);
        assert!(
            matches!(ev, SyncEvent::SnapshotApplied { live: true, .. }),
            "{ev:?}"
        );
    }
    (s, n)
}

/// Times `step` over the depth frames after the snapshot, in order, continuing where the
/// previous call stopped and re-syncing the book (untimed) each time the corpus wraps.
fn depth_bench<F>(
    k: &Corpora,
    walk: &mut Option<(BookSync, usize)>,
    iters: u64,
    mut step: F,
) -> Duration
where
    F: FnMut(&mut BookSync, usize),
{
    let mut p = parser();
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let (s, pos) = match walk {
            Some((s, pos)) if *pos < k.depth.len() => (s, pos),
            _ => {
                let (s, start) = synced(k, &mut p);
                let w = walk.insert((s, start));
                (&mut w.0, &mut w.1)
            }
        };
        let n = ((iters - done) as usize).min(k.depth.len() - *pos);
        let t = Instant::now();
        for j in *pos..*pos + n {
            step(s, j);
        }
        total += t.elapsed();
        assert_eq!(
            s.counters().gaps + s.counters().resyncs,
            0,
            "bench replay lost sync"
        );
        *pos += n;
        done += n as u64;
    }
    total
}

fn bench_depth(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("depth diff frame -> parsed and applied");
    let mut p = parser();
    let mut walk = None;
    g.bench_function("mako", |b| {
        b.iter_custom(|iters| {
            depth_bench(k, &mut walk, iters, |s, j| {
                if let Ok(MdEvent::Depth(d)) = p.parse(black_box(&k.depth[j])) {
                    let _ =
                        black_box(s.on_diff(d.first_update_id, d.final_update_id, d.bids, d.asks));
                }
            })
        })
    });
    let mut walk = None;
    g.bench_function("mako general decoder (simd-json tape)", |b| {
        b.iter_custom(|iters| {
            depth_bench(k, &mut walk, iters, |s, j| {
                if let Ok(MdEvent::Depth(d)) = p.parse_generic(black_box(&k.depth[j])) {
                    let _ =
                        black_box(s.on_diff(d.first_update_id, d.final_update_id, d.bids, d.asks));
                }
            })
        })
    });
    let (mut bids, mut asks) = (Vec::with_capacity(2048), Vec::with_capacity(2048));
    let mut walk = None;
    g.bench_function("serde_json String structs + fixed parse", |b| {
        b.iter_custom(|iters| {
            depth_bench(k, &mut walk, iters, |s, j| {
                let f: Frame<DepthJson> =
                    serde_json::from_slice(black_box(&k.depth[j])).expect("json");
                let d = f.data;
                black_box(d.s.len());
                bids.clear();
                asks.clear();
                bids.extend(d.b.iter().map(level));
                asks.extend(d.a.iter().map(level));
                let _ = black_box(s.on_diff(d.first, d.u, &bids, &asks));
            })
        })
    });
    // The book work alone: the same diffs pre-parsed.
    let mut p = parser();
    let pre: Vec<(u64, u64, Vec<Level>, Vec<Level>)> = k
        .depth
        .iter()
        .filter_map(|f| match p.parse(f) {
            Ok(MdEvent::Depth(d)) => Some((
                d.first_update_id,
                d.final_update_id,
                d.bids.to_vec(),
                d.asks.to_vec(),
            )),
            _ => None,
        })
        .collect();
    let mut walk = None;
    let mut i = 0;
    g.bench_function("parse only (mako; not a baseline)", |b| {
        b.iter(|| match p.parse(black_box(cycle(&k.depth, &mut i))) {
            Ok(MdEvent::Depth(d)) => black_box(d.bids.len() + d.asks.len()),
            _ => 0,
        })
    });
    g.bench_function("apply only (pre-parsed; not a baseline)", |b| {
        b.iter_custom(|iters| {
            depth_bench(k, &mut walk, iters, |s, j| {
                let (first, last, bids, asks) = &pre[j];
                let _ = black_box(s.on_diff(*first, *last, bids, asks));
            })
        })
    });
    g.finish();
}

/// Apply-only row that bypasses the sync: mako's `L2Book` directly.
fn bench_ladders(c: &mut Criterion, k: &Corpora) {
    use mako::book::L2Book;
    use mako::types::Side;
    let mut p = parser();
    let snap = match p.parse(&k.snapshot) {
        Ok(MdEvent::Snapshot(s)) => (s.last_update_id, s.bids.to_vec(), s.asks.to_vec()),
        _ => return,
    };
    // The diffs the sync applies: those ending after the snapshot, in order.
    let diffs: Vec<(Vec<Level>, Vec<Level>)> = k
        .depth
        .iter()
        .filter_map(|f| match p.parse(f) {
            Ok(MdEvent::Depth(d)) if d.final_update_id > snap.0 => {
                Some((d.bids.to_vec(), d.asks.to_vec()))
            }
            _ => None,
        })
        .collect();
    let mut g = c.benchmark_group("depth diff pre-parsed -> applied (book layout)");
    let fresh_l2 = || {
        let mut b = L2Book::with_capacity(8192);
        b.apply_snapshot(snap.0, snap.1.iter().copied(), snap.2.iter().copied());
        b
    };
    let (mut book, mut pos) = (fresh_l2(), 0usize);
    g.bench_function("mako L2Book (tick window + sorted overflow)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if pos == diffs.len() {
                    (book, pos) = (fresh_l2(), 0);
                }
                let (bids, asks) = &diffs[pos];
                let t = Instant::now();
                for l in bids {
                    book.apply_level(Side::Buy, l.price, l.qty);
                }
                for l in asks {
                    book.apply_level(Side::Sell, l.price, l.qty);
                }
                black_box(book.best_bid());
                total += t.elapsed();
                pos += 1;
            }
            total
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let k = load();
    assert_eq!(
        (k.tickers.len(), k.trades.len(), k.depth.len()),
        (28040, 9757, 3451)
    );
    bench_ticker(c, &k);
    bench_trade(c, &k);
    bench_depth(c, &k);
    bench_ladders(c, &k);
}

criterion_group!(feed, benches);
criterion_main!(feed);
