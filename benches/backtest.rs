//! Backtest replay speed: frames of the Binance Spot fixture through the feed, the spread
//! maker, risk, order state and the queue matcher on one thread, in events per second.
//! The recording is read into memory first (inflating it is not timed); each pass builds a
//! fresh replay (not timed) and steps through every frame (timed).
//!
//! - `all frames`: the whole fixture (depth diffs, snapshot, bookTicker, trades).
//! - `bookTicker + trade`: the frames up to a live book, then only bookTickers and trades
//!   (the issue's ≥ 5 M events/s figure).
//!
//! Baseline: the same frames through `FeedActor::on_frame` alone is `mako bench
//! --throughput` (docs/performance.md); the difference is the strategy, risk and matching.
//!
//! Run: `cargo bench --bench backtest -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mako::backtest::driver::{registry_build, start_at};
use mako::cli::backtest::load;
use mako::feed::record::RecordReader;
use mako::types::UnixNanos;

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";

fn frames() -> Vec<(UnixNanos, Vec<u8>)> {
    let mut r = RecordReader::open(RECORDING).expect("the fixture");
    let mut out = Vec::new();
    while let Some(Ok(rec)) = r.next() {
        out.push((rec.recv, rec.frame.to_vec()));
    }
    out
}

fn is(f: &[u8], stream: &[u8]) -> bool {
    f[..f.len().min(48)]
        .windows(stream.len())
        .any(|w| w == stream)
}

fn bench(c: &mut Criterion) {
    let (config, settings) = load(Path::new("config/backtest-spread.toml")).expect("config");
    let all = frames();
    // The first 200 frames sync the book (snapshot and diffs); then tickers and trades only.
    let sync = 200.min(all.len());
    let lean: Vec<_> = all[..sync]
        .iter()
        .cloned()
        .chain(
            all[sync..]
                .iter()
                .filter(|(_, f)| is(f, b"@bookTicker") || is(f, b"@trade"))
                .cloned(),
        )
        .collect();
    let files = [PathBuf::from(RECORDING)];
    let mut g = c.benchmark_group("backtest");
    g.sample_size(10);
    for (name, set) in [("all frames", &all), ("bookTicker + trade", &lean)] {
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut r = start_at(&config, &settings, set[0].0, &files, &mut registry_build)
                        .expect("replay");
                    let t0 = Instant::now();
                    for (t, f) in set.iter() {
                        r.step(*t, black_box(f));
                    }
                    total += t0.elapsed();
                    black_box(r.finish().fills.len());
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
