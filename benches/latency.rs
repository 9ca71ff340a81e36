//! The latency record path on the hot thread: `Recorder::record` (and the per-poll
//! `maybe_flush` check) against an empty loop and a plain counter increment, plus the raw
//! hdrhistogram record it wraps. Target: under 10 ns per sample.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mako::config::{BandConfig, LatencyConfig, Statistic};
use mako::latency::{LatencyHub, Measurement, new_histogram};
use mako::types::{UnixNanos, VenueId};

/// 1024 latencies spread over 1 µs … 10 ms: the bench touches hundreds of buckets (and
/// cache lines of the 220 KB counts array), a pessimistic spread for one hot actor.
fn samples() -> Vec<u64> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let decade = 3 + (x % 4) as u32; // 10^3 .. 10^6 ns
            10u64.pow(decade) + (x >> 8) % (9 * 10u64.pow(decade))
        })
        .collect()
}

fn config() -> LatencyConfig {
    LatencyConfig {
        window: Duration::from_secs(10),
        statistic: Statistic::P90,
        evaluate_every: Duration::from_secs(1),
        degrade_after: 1,
        recover_after: 3,
        stale_after: Duration::from_secs(5),
        probe_interval: Duration::from_secs(1),
        bands: vec![BandConfig {
            name: "only".into(),
            max_latency: None,
            min_spread_bps: 1,
            size_multiplier: 1.0,
            throttle: Duration::ZERO,
        }],
    }
}

fn record_path(c: &mut Criterion) {
    let values = samples();
    let mut g = c.benchmark_group("latency_record");
    g.throughput(Throughput::Elements(1));

    g.bench_function("baseline_empty_loop", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(values[i])
        })
    });

    g.bench_function("baseline_counter_increment", |b| {
        let mut i = 0usize;
        let mut counter = 0u64;
        b.iter(|| {
            i = (i + 1) & 1023;
            counter = black_box(counter).wrapping_add(values[i]);
            black_box(counter)
        })
    });

    g.bench_function("hdrhistogram_saturating_record", |b| {
        let mut h = new_histogram();
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            h.saturating_record(black_box(values[i]));
        });
        black_box(h.len());
    });

    let mut hub = LatencyHub::new(&config(), vec!["bench".into()]).expect("bench config is valid");
    let mut rec = hub
        .recorder(
            VenueId(0),
            &[Measurement::FeedLag, Measurement::TickToOrder],
        )
        .expect("recorder");
    rec.start(UnixNanos(0));

    // Samples clustered as a quiet feed's lag is (20..52 µs): the counts touched stay in
    // a few cache lines, as they do on a real hot thread between flushes.
    let clustered: Vec<u64> = values.iter().map(|v| 20_000 + v % 32_768).collect();
    g.bench_function("recorder_record_clustered", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            rec.record(Measurement::FeedLag, black_box(clustered[i]));
        })
    });

    g.bench_function("recorder_record", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            rec.record(Measurement::FeedLag, black_box(values[i]));
        })
    });

    // The measurement chosen at run time (callers normally pass a constant, as above).
    g.bench_function("recorder_record_runtime_measurement", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            rec.record(black_box(Measurement::FeedLag), black_box(values[i]));
        })
    });

    g.bench_function("recorder_record_and_flush_check", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            rec.record(Measurement::TickToOrder, black_box(values[i]));
            // The interval never ends in this bench: the per-poll check only.
            black_box(rec.maybe_flush(black_box(UnixNanos(1))))
        })
    });
    g.finish();
    black_box(rec.stats());
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = record_path
}
criterion_main!(benches);
