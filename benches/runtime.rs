//! Runtime benches: a message hop between two threads over a bounded channel, against the
//! same send and receive on one thread (the channel's own cost, no cache-line transfer).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::runtime::{FullPolicy, bounded};

fn channel_hop(c: &mut Criterion) {
    let mut g = c.benchmark_group("channel");

    g.bench_function("same_thread_send_recv (baseline)", |b| {
        let (tx, rx) = bounded::<u64>("bench", 1024, FullPolicy::Backpressure);
        b.iter(|| {
            tx.send(black_box(7)).ok();
            black_box(rx.try_recv())
        })
    });

    // Round trip: main → echo thread → main, both spinning; one hop is half of it.
    g.bench_function("cross_thread_round_trip", |b| {
        let (ping_tx, ping_rx) = bounded::<u64>("ping", 1024, FullPolicy::Backpressure);
        let (pong_tx, pong_rx) = bounded::<u64>("pong", 1024, FullPolicy::Backpressure);
        let stop = Arc::new(AtomicBool::new(false));
        let echo_stop = Arc::clone(&stop);
        let echo = std::thread::spawn(move || {
            while !echo_stop.load(Ordering::Relaxed) {
                if let Some(v) = ping_rx.try_recv() {
                    while pong_tx.send(v).is_err() {}
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        b.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters {
                while ping_tx.send(i).is_err() {}
                loop {
                    if let Some(v) = pong_rx.try_recv() {
                        black_box(v);
                        break;
                    }
                    std::hint::spin_loop();
                }
            }
            start.elapsed()
        });
        stop.store(true, Ordering::Relaxed);
        echo.join().ok();
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = channel_hop
}
criterion_main!(benches);
