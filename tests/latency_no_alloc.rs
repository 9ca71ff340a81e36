//! The hot side of the latency room never allocates in steady state: `Recorder::record`
//! and `maybe_flush` (with histograms cycling through the monitor and back) are checked
//! under a counting global allocator. Its own test binary, so the allocator (`alloc_count`) is its own.

mod alloc_count;

use std::time::Duration;

use mako::config::{BandConfig, LatencyConfig, Statistic};
use mako::latency::{LatencyHub, Measurement};
use mako::runtime::{Actor, Clock, Ctx, Shutdown};
use mako::types::{UnixNanos, VenueId};

use alloc_count::counted;

fn config() -> LatencyConfig {
    LatencyConfig {
        window: Duration::from_secs(10),
        statistic: Statistic::P99,
        evaluate_every: Duration::from_secs(1),
        degrade_after: 1,
        recover_after: 2,
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

#[test]
fn record_and_flush_do_not_allocate_in_steady_state() {
    // The counter itself works: an allocation on this thread is seen.
    let (v, n) = counted(|| std::hint::black_box(vec![0u8; 16]));
    assert!(n >= 1 && v.len() == 16);

    let mut hub = LatencyHub::new(&config(), vec!["v".into()]).unwrap();
    let mut rec = hub
        .recorder(
            VenueId(0),
            &[Measurement::FeedLag, Measurement::TickToOrder],
        )
        .unwrap();
    let mut monitor = hub.into_monitor();
    let (clock, manual) = Clock::manual(UnixNanos(1_000_000_000_000));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    monitor.start(&mut ctx).unwrap();
    rec.start(ctx.clock.now());

    let mut hot_allocs = 0;
    for second in 0..50u64 {
        let ((), n) = counted(|| {
            for i in 0..10_000u64 {
                // Spread over the whole range, including values past the histogram's bound.
                rec.record(Measurement::FeedLag, (i * 7_919 + second) << (i % 40));
                rec.record(Measurement::TickToOrder, i);
                manual.advance(100_000);
                rec.maybe_flush(ctx.clock.now());
            }
        });
        // Counted from the very first second: everything was allocated when the recorder
        // was built.
        hot_allocs += n;
        // The monitor (a low-priority actor) may allocate; it is not counted.
        monitor.poll(&mut ctx);
    }
    assert_eq!(hot_allocs, 0, "the hot side allocated");
    let st = rec.stats();
    assert_eq!(st.samples_flushed, 50 * 20_000);
    assert_eq!(st.flushed, 2 * 50, "both measurements flushed every second");
    assert_eq!(st.deferred_no_spare + st.deferred_channel, 0);
    let w = monitor.window(VenueId(0), Measurement::FeedLag).unwrap();
    assert_eq!(
        w.run().len(),
        50 * 10_000,
        "every interval reached the monitor"
    );
}
