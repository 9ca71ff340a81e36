//! Latency demo: real measurements on this machine through the real latency room, written
//! as `.hgrm` files for `mako latency-report`.
//!
//! `cargo run --release --example latency_demo -- <out dir> [seconds]`
//!
//! Two local venues, each answered by a `FakeTimeServer` on 127.0.0.1:
//! - `loopback`: the REST probe against a server with no added delay (the machine's own
//!   loopback HTTP round trip), and feed lag of timestamped frames sent over a loopback TCP
//!   connection, recorded on the receiving thread with a `Recorder`.
//! - `delayed`: the REST probe against a server that adds 2 ms (+ up to 1 ms) for the first
//!   third of the run, 40 ms (+ up to 20 ms) for the second, and 2 ms again for the last,
//!   so its band degrades and recovers.
//!
//! Probes and the monitor run as actors on low-priority hosts, exactly as in the engine.
//! Band changes are printed as they are received; the whole-run histograms are written to
//! `<out dir>` when the monitor stops.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mako::config::{BandConfig, LatencyConfig, Statistic, VenueKind};
use mako::latency::fake_time_server::FakeTimeServer;
use mako::latency::{LatencyHub, Measurement};
use mako::runtime::{self, Actor, Clock, HostSpec, IdlePolicy, Shutdown};
use mako::types::VenueId;

fn config() -> LatencyConfig {
    let band = |name: &str, max: Option<Duration>| BandConfig {
        name: name.into(),
        max_latency: max,
        min_spread_bps: 3,
        size_multiplier: 1.0,
        throttle: Duration::from_millis(100),
    };
    LatencyConfig {
        window: Duration::from_secs(5),
        statistic: Statistic::P90,
        evaluate_every: Duration::from_millis(250),
        degrade_after: 2,
        recover_after: 4,
        stale_after: Duration::from_secs(2),
        probe_interval: Duration::from_millis(20),
        bands: vec![
            band("aggressive", Some(Duration::from_millis(1))),
            band("normal", Some(Duration::from_millis(10))),
            band("cautious", Some(Duration::from_millis(50))),
            band("defensive", None),
        ],
    }
}

fn host(
    name: &'static str,
    actor: Box<dyn Actor>,
    clock: &Clock,
    shutdown: &Shutdown,
) -> runtime::HostHandle {
    let spec = HostSpec {
        name,
        core: None,
        idle: IdlePolicy::Park,
        low_priority: true,
        actors: vec![actor],
        stats: Arc::default(),
    };
    runtime::host::spawn(spec, clock.clone(), shutdown.clone()).expect("spawn host")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: latency_demo <out dir> [seconds]");
        std::process::exit(2);
    };
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(30);
    let run_for = Duration::from_secs(secs);

    let near = FakeTimeServer::start(run_for + Duration::from_secs(30)).expect("server");
    let far = FakeTimeServer::start(run_for + Duration::from_secs(30)).expect("server");
    far.set_delay(Duration::from_millis(2), Duration::from_millis(1));

    let cfg = config();
    let mut hub = LatencyHub::new(&cfg, vec!["loopback".into(), "delayed".into()])
        .expect("hub")
        .with_export_dir(out);
    let probe_near = hub
        .probe(VenueId(0), VenueKind::BinanceSpot, &near.url())
        .expect("probe");
    let probe_far = hub
        .probe(VenueId(1), VenueKind::BinanceSpot, &far.url())
        .expect("probe");
    let mut feed_rec = hub
        .recorder(VenueId(0), &[Measurement::FeedLag])
        .expect("recorder");
    let offset = hub.clock_offset(VenueId(0));
    let events = hub.band_changes();
    let board = hub.board();
    let monitor = hub.into_monitor();

    let clock = Clock::live();
    let shutdown = Shutdown::new();
    let hosts = vec![
        host("probe-loopback", Box::new(probe_near), &clock, &shutdown),
        host("probe-delayed", Box::new(probe_far), &clock, &shutdown),
        host("latency", Box::new(monitor), &clock, &shutdown),
    ];

    // Feed lag over loopback TCP: the sender stamps each 16-byte frame with the clock's
    // time; the receiver records receive time minus that stamp.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    let (send_clock, send_stop) = (clock.clone(), Arc::clone(&stop));
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).ok();
        while !send_stop.load(Ordering::Relaxed) {
            let mut frame = [0u8; 16];
            frame[..8].copy_from_slice(&send_clock.now().0.to_le_bytes());
            if s.write_all(&frame).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    });
    let (recv_clock, recv_stop) = (clock.clone(), Arc::clone(&stop));
    let receiver = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_millis(200))).ok();
        feed_rec.start(recv_clock.now());
        let mut frame = [0u8; 16];
        while !recv_stop.load(Ordering::Relaxed) {
            if s.read_exact(&mut frame).is_err() {
                continue;
            }
            let now = recv_clock.now();
            let mut stamp = [0u8; 8];
            stamp.copy_from_slice(&frame[..8]);
            let sent = mako::types::UnixNanos(u64::from_le_bytes(stamp));
            // Both ends read one clock, so the lag needs no offset correction here.
            feed_rec.record(Measurement::FeedLag, now.since(sent));
            feed_rec.maybe_flush(now);
        }
        feed_rec.finish(recv_clock.now());
    });

    let start = Instant::now();
    let mut phase = 0;
    while start.elapsed() < run_for {
        let third = start.elapsed().as_secs_f64() / run_for.as_secs_f64() * 3.0;
        let want = (third as usize).min(2);
        if want != phase {
            phase = want;
            match phase {
                1 => far.set_delay(Duration::from_millis(40), Duration::from_millis(20)),
                _ => far.set_delay(Duration::from_millis(2), Duration::from_millis(1)),
            }
            println!(
                "t={:5.1}s delayed venue: server delay phase {phase}",
                start.elapsed().as_secs_f64()
            );
        }
        events.drain(16, |e| {
            println!(
                "t={:5.1}s band change: {} {} -> {} ({} p90 = {})",
                start.elapsed().as_secs_f64(),
                e.venue_name,
                e.from_name,
                e.to_name,
                e.measurement.map_or("stale", |m| m.as_str()),
                e.statistic_ns
                    .map_or("-".to_string(), |n| format!("{:.3} ms", n as f64 / 1e6)),
            )
        });
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sender.join();
    let _ = receiver.join();
    // Let the monitor take the receiver's last batch before it stops.
    std::thread::sleep(Duration::from_millis(300));
    shutdown.request();
    for h in hosts {
        h.join();
    }
    events.drain(16, |e| {
        println!(
            "band change at shutdown: {} {} -> {}",
            e.venue_name, e.from_name, e.to_name
        )
    });
    for v in 0..2 {
        println!(
            "final band of {}: {}",
            ["loopback", "delayed"][v],
            board.band(VenueId(v as u16)).name
        );
    }
    // The servers stamp serverTime from this machine's clock: the true offset is 0, and the
    // estimate should be within half its RTT plus Binance's 1 ms timestamp resolution.
    match (offset.get(), offset.rtt_ns()) {
        (Some(o), Some(rtt)) => println!(
            "clock offset estimate of loopback: {:.3} ms (true 0; from a probe with rtt {:.3} ms)",
            o as f64 / 1e6,
            rtt as f64 / 1e6
        ),
        _ => println!("no clock offset estimate"),
    }
    println!(
        "probe servers answered {} (loopback) and {} (delayed) requests",
        near.served(),
        far.served()
    );
    println!("histograms written to {out}");
}
