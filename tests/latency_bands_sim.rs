//! The latency band walk end to end: the demo engine (in-process simulator, feed, gateway,
//! strategy, REST probe, latency monitor) runs while the simulator's REST answers are slowed
//! down step by step and then sped up again. The venue's band, driven by the probe's round
//! trip, walks down through every band and back up, and the run report's band-change events
//! list each change in order. The gateway's and the strategy's latencies reach the monitor
//! too (order and cancel acks, tick-to-order, the internal stages).

mod common;

use std::path::Path;
use std::time::Duration;

use mako::engine::{Engine, RunOptions};
use mako::latency::{BandChange, Measurement};
use mako::runtime::{Clock, Shutdown};
use mako::types::VenueId;

/// Small windows and quick evaluations so a band follows the probe within seconds. The
/// bands sit far from the delays the test injects (0, 100, 250, 600 ms on top of a loopback
/// round trip of about a millisecond), so scheduling noise on a busy machine cannot move the
/// p50 across a bound. The window holds several probes even at the slowest step, so the
/// probe (not order acks or feed lag, the fallback drivers) always decides.
const LATENCY: &str = r#"
[latency]
window = "3s"
statistic = "p50"
evaluate_every = "100ms"
degrade_after = 2
recover_after = 3
stale_after = "10s"
probe_interval = "50ms"

[[latency.bands]]
name = "aggressive"
max_latency = "40ms"
min_spread_bps = 2
size_multiplier = 1.0

[[latency.bands]]
name = "normal"
max_latency = "180ms"
min_spread_bps = 3
size_multiplier = 0.9

[[latency.bands]]
name = "cautious"
max_latency = "400ms"
min_spread_bps = 4
size_multiplier = 0.8

[[latency.bands]]
name = "defensive"
min_spread_bps = 5
size_multiplier = 0.5
"#;

/// The injected REST delay of each step and the band the venue must reach in it.
const WALK: [(u64, &str); 7] = [
    (0, "aggressive"),
    (100, "normal"),
    (250, "cautious"),
    (600, "defensive"),
    (250, "cautious"),
    (100, "normal"),
    (0, "aggressive"),
];

fn set_rest_delay(admin: &str, ms: u64) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let body = format!("{{\"slow_response_ms\": {ms}}}");
    let r = agent
        .post(admin)
        .header("content-type", "application/json")
        .send(body.as_str());
    assert!(r.is_ok(), "the simulator took the fault: {r:?}");
}

#[test]
fn the_band_walks_down_and_back_up_as_the_venue_slows_and_recovers() {
    let dir = std::env::temp_dir().join(format!("mako-bands-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml"))
        .unwrap()
        // The simulator on a port the OS picks (the engine points the venues at it).
        .replace("19400", "0")
        .replace("127.0.0.1:8787", "127.0.0.1:0")
        .replace(
            "data_dir = \"data/demo\"",
            &format!("data_dir = {:?}", dir.display().to_string()),
        )
        + LATENCY;
    let config = mako::config::parse(&text, Path::new("demo.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let board = engine.band_board().expect("the latency monitor runs");
    let sim = engine.sim_addr().expect("the simulator runs in-process");
    let names: Vec<String> = board
        .table()
        .bands()
        .iter()
        .map(|b| b.name.clone())
        .collect();
    let index = |name: &str| names.iter().position(|n| n == name).unwrap() as u8;
    let venue = VenueId(0);
    assert_eq!(
        board.band(venue).name,
        "defensive",
        "nothing measured yet: defensive"
    );
    let run = std::thread::spawn(move || {
        engine.run(RunOptions {
            duration: None,
            handle_signals: false,
        })
    });

    let admin = format!("http://{sim}/sim/faults");
    let mut failed = None;
    for (ms, band) in WALK {
        set_rest_delay(&admin, ms);
        let reached = common::wait_for(Duration::from_secs(120), || {
            (board.band(venue).name == band).then_some(())
        });
        if reached.is_none() {
            failed = Some(format!(
                "with {ms} ms of REST delay the band never became {band} (it is {})",
                board.band(venue).name
            ));
            break;
        }
    }
    set_rest_delay(&admin, 0);
    shutdown.request();
    let report = run
        .join()
        .expect("the engine thread did not panic")
        .expect("the engine stops cleanly");
    // The histograms the monitor wrote at shutdown: besides the band's driver, the gateway's
    // and the strategy's figures reached it (each is flushed many times during the run).
    let hgrm = |m: Measurement| {
        mako::latency::read_hgrm(&dir.join(format!("latency/binance.{}.hgrm", m.as_str())))
            .map(|h| h.count())
    };
    let counts: Vec<(Measurement, u64)> = [
        Measurement::RestRtt,
        Measurement::FeedLag,
        Measurement::OrderAck,
        Measurement::CancelAck,
        Measurement::TickToOrder,
        Measurement::StageStrategy,
        Measurement::StageRisk,
        Measurement::StageEncode,
    ]
    .into_iter()
    .map(|m| (m, hgrm(m).unwrap_or(0)))
    .collect();
    std::fs::remove_dir_all(&dir).ok();
    if let Some(f) = failed {
        panic!("{f}; changes: {:#?}", report.band_changes);
    }

    assert!(
        counts.iter().all(|(_, n)| *n > 0),
        "every measurement recorded: {counts:?}"
    );

    // The events chain from the starting band, one change after another.
    let changes: Vec<&BandChange> = report
        .band_changes
        .iter()
        .filter(|c| c.venue == venue)
        .collect();
    let mut at = index("defensive");
    for c in &changes {
        assert_eq!(
            c.from, at,
            "each change starts where the last ended: {changes:#?}"
        );
        assert_ne!(c.from, c.to);
        assert_eq!(
            (c.from_name.as_str(), c.to_name.as_str()),
            (
                names[c.from as usize].as_str(),
                names[c.to as usize].as_str()
            )
        );
        at = c.to;
    }
    assert!(
        changes.windows(2).all(|w| w[0].at <= w[1].at),
        "in order of time"
    );
    // Every step of the walk is among them, in the order it was walked.
    let mut rest = changes.iter().map(|c| c.to);
    for (ms, band) in WALK {
        assert!(
            rest.any(|to| to == index(band)),
            "no change to {band} (at {ms} ms) after the previous steps': {changes:#?}"
        );
    }
    // Each was decided by the REST probe, from a statistic that supports the move: at least
    // as bad as the band it degraded to, at least as good as the band it recovered to.
    for c in &changes {
        let stat = c.statistic_ns.expect("the probe was fresh throughout");
        assert_eq!(c.measurement, Some(Measurement::RestRtt), "{c:#?}");
        let class = board.table().classify(stat);
        if c.to > c.from {
            assert!(class >= c.to, "{c:#?}");
        } else {
            assert!(class <= c.to, "{c:#?}");
        }
    }
}
