//! Benchmarks of the book room: applying a 10-level diff to a BTCUSDT-sized L2 book, seqlock
//! and cache publish/read, top-of-book reads, and reads while another thread writes. Each
//! group has a baseline measured in the same run.
//!
//! Run: `cargo bench --bench book -- --warm-up-time 1 --measurement-time 3`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::{BookCache, L2Book, Level, SeqLock, TopOfBook};
use mako::types::{InstrumentId, Price, Qty, Side, UnixNanos};

/// 0.01 USDT in price units.
const TICK: i64 = 1_000_000;
/// Best bid of the base book: 61837.63 (best ask one tick above).
const BEST_BID: i64 = 6_183_763_000_000;
/// Levels per side: what Binance's deepest REST snapshot returns.
const LEVELS: usize = 5_000;
/// Distinct diffs cycled through, so branch predictors cannot learn one.
const DIFFS: usize = 512;

/// A small deterministic generator (xorshift64*), so every run benches the same book.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A quantity between 0.00001 and ~5 BTC, on the 0.00001 lot.
    fn qty(&mut self) -> Qty {
        Qty::from_units(1_000 * (1 + self.below(500_000) as i64))
    }
}

/// One side of the base book as (price units, qty), best first: dense near the touch (most
/// ticks filled), sparser further out, like a real BTCUSDT ladder.
fn base_side(rng: &mut Rng, side: Side) -> Vec<(i64, Qty)> {
    let (mut price, dir) = match side {
        Side::Buy => (BEST_BID, -1),
        Side::Sell => (BEST_BID + TICK, 1),
    };
    let mut out = Vec::with_capacity(LEVELS);
    for i in 0..LEVELS {
        out.push((price, rng.qty()));
        let gap = 1 + rng.below(1 + i as u64 / 400) as i64;
        price += dir * gap * TICK;
    }
    out
}

/// A diff: up to 10 (side, price, qty) updates, qty zero deleting.
type Diff = Vec<(Side, Price, Qty)>;

/// `DIFFS` diffs as (forward, undo) pairs flattened in order: applying them in sequence
/// returns the book to its base state after every pair, so the state never drifts. Each
/// forward diff has 10 distinct levels: about half quantity updates, a quarter deletes, a
/// quarter inserts between existing levels; 70% within the top 10 levels of a side, 25%
/// within the top 100, 5% within the top 1000.
fn diffs(rng: &mut Rng, bids: &[(i64, Qty)], asks: &[(i64, Qty)]) -> Vec<Diff> {
    let mut out = Vec::with_capacity(DIFFS);
    while out.len() < DIFFS {
        let mut fwd: Diff = Vec::with_capacity(10);
        let mut undo: Diff = Vec::with_capacity(10);
        while fwd.len() < 10 {
            let (side, ladder) = if rng.below(2) == 0 {
                (Side::Buy, bids)
            } else {
                (Side::Sell, asks)
            };
            let depth = match rng.below(100) {
                0..70 => 10,
                70..95 => 100,
                _ => 1000,
            };
            let i = rng.below(depth) as usize;
            let (price, qty) = ladder[i];
            let (price, new_qty, old_qty) = match rng.below(4) {
                0 | 1 => (price, rng.qty(), qty),
                2 => (price, Qty::ZERO, qty),
                _ => {
                    // Insert in the gap on the far side of level i, if there is one.
                    let next = ladder[i + 1].0;
                    if (next - price).abs() < 2 * TICK {
                        continue;
                    }
                    let p = price + (next - price).signum() * TICK;
                    (p, rng.qty(), Qty::ZERO)
                }
            };
            let price = Price::from_units(price);
            if fwd.iter().any(|&(s, p, _)| s == side && p == price) {
                continue;
            }
            fwd.push((side, price, new_qty));
            undo.push((side, price, old_qty));
        }
        out.push(fwd);
        out.push(undo);
    }
    out
}

fn levels(side: &[(i64, Qty)]) -> impl Iterator<Item = Level> + '_ {
    side.iter().map(|&(p, qty)| Level {
        price: Price::from_units(p),
        qty,
    })
}

/// The baseline book: one ordered map per side.
struct MapBook {
    bids: BTreeMap<Price, Qty>,
    asks: BTreeMap<Price, Qty>,
}

impl MapBook {
    fn apply_level(&mut self, side: Side, price: Price, qty: Qty) {
        let m = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if qty.is_zero() {
            m.remove(&price);
        } else {
            m.insert(price, qty);
        }
    }
}

fn bench_diff_apply(c: &mut Criterion) {
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let bids = base_side(&mut rng, Side::Buy);
    let asks = base_side(&mut rng, Side::Sell);
    let diffs = diffs(&mut rng, &bids, &asks);

    let mut book = L2Book::with_capacity(2 * LEVELS);
    book.apply_snapshot(1, levels(&bids), levels(&asks));
    let mut map = MapBook {
        bids: bids
            .iter()
            .map(|&(p, q)| (Price::from_units(p), q))
            .collect(),
        asks: asks
            .iter()
            .map(|&(p, q)| (Price::from_units(p), q))
            .collect(),
    };

    let mut g = c.benchmark_group("diff10");
    // Baseline: only walking the diff (what any book pays to read its input).
    let mut i = 0;
    g.bench_function("iterate_only", |b| {
        b.iter(|| {
            let d = &diffs[i % DIFFS];
            i += 1;
            let mut acc = 0i64;
            for &(side, price, qty) in d {
                acc = acc.wrapping_add(price.units() ^ qty.units() ^ side.sign());
            }
            black_box(acc)
        })
    });
    let mut map_i = 0;
    g.bench_function("btreemap_book", |b| {
        b.iter(|| {
            let d = &diffs[map_i % DIFFS];
            map_i += 1;
            for &(side, price, qty) in d {
                map.apply_level(side, price, qty);
            }
            black_box(&map);
        })
    });
    // One counter for both benches of `book`: diffs must be applied strictly in order.
    let mut i = 0;
    g.bench_function("l2book", |b| {
        b.iter(|| {
            let d = &diffs[i % DIFFS];
            i += 1;
            for &(side, price, qty) in d {
                book.apply_level(side, price, qty);
            }
            black_box(&book);
        })
    });
    // The feed's whole step: apply, then publish top and depth to the cache.
    let cache = BookCache::new(1);
    let mut writer = cache
        .writer(InstrumentId(0))
        .expect("fresh cache has a writer");
    let mut i = 0;
    g.bench_function("l2book_then_publish", |b| {
        b.iter(|| {
            let d = &diffs[i % DIFFS];
            i += 1;
            for &(side, price, qty) in d {
                book.apply_level(side, price, qty);
            }
            writer.publish(&book, UnixNanos(1), UnixNanos(2));
        })
    });
    g.finish();

    // The diffs undo each other pairwise: after finishing the last pair, both books are back
    // where they started.
    if i % 2 == 1 {
        for &(side, price, qty) in &diffs[i % DIFFS] {
            book.apply_level(side, price, qty);
        }
    }
    if map_i % 2 == 1 {
        for &(side, price, qty) in &diffs[map_i % DIFFS] {
            map.apply_level(side, price, qty);
        }
    }
    assert_eq!(book.depth(Side::Buy), LEVELS);
    assert_eq!(book.depth(Side::Sell), LEVELS);
    assert_eq!(map.bids.len() + map.asks.len(), 2 * LEVELS);
}

fn sample_top(k: u64) -> TopOfBook {
    TopOfBook {
        bid: Level {
            price: Price::from_units(BEST_BID),
            qty: Qty::from_units(k as i64),
        },
        ask: Level {
            price: Price::from_units(BEST_BID + TICK),
            qty: Qty::from_units(7),
        },
        update_id: k,
        exchange_ts: UnixNanos(k),
        recv_ts: UnixNanos(k + 1),
        seq: 0,
        valid: true,
    }
}

fn bench_seqlock_and_cache(c: &mut Criterion) {
    let mut g = c.benchmark_group("seqlock");
    let lock = SeqLock::<8>::new();
    let mut k = 0u64;
    g.bench_function("write8", |b| {
        b.iter(|| {
            k += 1;
            lock.write(black_box(&[k; 8]));
        })
    });
    g.bench_function("read8", |b| b.iter(|| black_box(black_box(&lock).read())));
    g.finish();

    let mut rng = Rng(42);
    let mut book = L2Book::with_capacity(256);
    book.apply_snapshot(
        7,
        levels(&base_side(&mut rng, Side::Buy)[..100]),
        levels(&base_side(&mut rng, Side::Sell)[..100]),
    );
    let cache = BookCache::new(4);
    let id = InstrumentId(2);
    let mut writer = cache.writer(id).expect("fresh cache has a writer");
    writer.publish(&book, UnixNanos(1), UnixNanos(2));
    let reader = cache.reader();

    let mut g = c.benchmark_group("cache");
    g.bench_function("publish_book", |b| {
        b.iter(|| writer.publish(black_box(&book), UnixNanos(1), UnixNanos(2)))
    });
    let mut k = 0u64;
    g.bench_function("publish_top", |b| {
        b.iter(|| {
            k += 1;
            writer.publish_top(black_box(sample_top(k)));
        })
    });
    // Baseline for `top`: copying the same struct from plain memory.
    let plain = sample_top(1);
    g.bench_function("plain_struct_copy", |b| {
        b.iter(|| black_box(*black_box(&plain)))
    });
    g.bench_function("top", |b| b.iter(|| black_box(reader.top(black_box(id)))));
    g.bench_function("seq", |b| b.iter(|| black_box(reader.seq(black_box(id)))));
    g.bench_function("depth", |b| {
        b.iter(|| black_box(reader.depth(black_box(id))))
    });
    g.finish();
}

/// Reads while a writer thread on the other core publishes. Every write moves the slot's cache
/// lines to the writer, so a read that follows one pays a cross-core miss: this measures what
/// a strategy pays per read under a fast feed. The writer either waits at least a microsecond
/// between writes (a busy but real feed; the achieved interval is printed) or writes back to
/// back; the baseline is the same read of another slot while the writer runs.
fn bench_read_under_writes(c: &mut Criterion) {
    let cache = BookCache::new(2);
    let (busy, quiet) = (InstrumentId(0), InstrumentId(1));
    let mut quiet_writer = cache.writer(quiet).expect("fresh cache has a writer");
    quiet_writer.publish_top(sample_top(1));
    let reader = cache.reader();
    let stop = Arc::new(AtomicBool::new(false));

    let run = |c: &mut Criterion, name: &str, pace: Duration| {
        stop.store(false, Ordering::Relaxed);
        let mut writer = cache.writer(busy).expect("writer was given back");
        let stop2 = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let start = Instant::now();
            let mut k = 0u64;
            while !stop2.load(Ordering::Relaxed) {
                k += 1;
                if pace.is_zero() {
                    writer.publish_top(sample_top(k));
                    continue;
                }
                let t = Instant::now();
                writer.publish_top(sample_top(k));
                while t.elapsed() < pace {
                    std::hint::spin_loop();
                }
            }
            (k, start.elapsed())
        });
        let mut g = c.benchmark_group(name);
        g.bench_function("top_other_slot", |b| {
            b.iter(|| black_box(reader.top(black_box(quiet))))
        });
        g.bench_function("top_written_slot", |b| {
            b.iter(|| black_box(reader.top(black_box(busy))))
        });
        g.finish();
        stop.store(true, Ordering::Relaxed);
        let (writes, elapsed) = handle.join().expect("writer thread");
        assert!(writes > 0);
        let ns_per_write = elapsed.as_nanos() as f64 / writes as f64;
        println!("{name}: the writer published every {ns_per_write:.0} ns on average");
    };
    run(c, "under_writes_paced", Duration::from_micros(1));
    run(c, "under_writes_tight", Duration::ZERO);
}

criterion_group!(
    benches,
    bench_diff_apply,
    bench_seqlock_and_cache,
    bench_read_under_writes
);
criterion_main!(benches);
