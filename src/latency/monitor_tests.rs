//! Tests of the monitor driven through its actor interface with a manual clock: band
//! changes from recorded samples, driver fallback, histogram reuse, export.

use std::time::Duration;

use crate::config::{BandConfig, LatencyConfig, Statistic};
use crate::runtime::{Actor, Clock, Ctx, FullPolicy, ManualClock, Shutdown, bounded};
use crate::types::{UnixNanos, VenueId};

use super::hgrm::read_hgrm;
use super::measurement::Measurement;
use super::monitor::{BandChange, ExportRequest, LatencyHub, LatencyMonitor};
use super::recorder::Recorder;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// The seed scalper's bands; 10 s window, evaluate every 1 s, p90, degrade after 2,
/// recover after 3, stale after 5 s, probe every 1 s.
pub(crate) fn config() -> LatencyConfig {
    let band = |name: &str, ms: Option<u64>| BandConfig {
        name: name.into(),
        max_latency: ms.map(Duration::from_millis),
        min_spread_bps: 3,
        size_multiplier: 1.0,
        throttle: Duration::from_millis(100),
    };
    LatencyConfig {
        window: Duration::from_secs(10),
        statistic: Statistic::P90,
        evaluate_every: Duration::from_secs(1),
        degrade_after: 2,
        recover_after: 3,
        stale_after: Duration::from_secs(5),
        probe_interval: Duration::from_secs(1),
        bands: vec![
            band("aggressive", Some(40)),
            band("normal", Some(70)),
            band("cautious", Some(85)),
            band("defensive", None),
        ],
    }
}

struct Rig {
    manual: ManualClock,
    ctx: Ctx,
    monitor: LatencyMonitor,
    recorder: Recorder,
    board: super::BandBoard,
    events: crate::runtime::Rx<BandChange>,
    snapshots: super::SnapshotBoard,
}

fn rig(measurements: &[Measurement], venues: usize) -> Rig {
    let mut hub = LatencyHub::new(
        &config(),
        (0..venues).map(|i| format!("venue{i}")).collect(),
    )
    .unwrap();
    let mut recorder = hub.recorder(VenueId(0), measurements).unwrap();
    let board = hub.board();
    let events = hub.band_changes();
    let snapshots = hub.snapshots();
    let mut monitor = hub.into_monitor();
    let (clock, manual) = Clock::manual(UnixNanos(1_000 * S));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    monitor.start(&mut ctx).unwrap();
    recorder.start(ctx.clock.now());
    Rig {
        manual,
        ctx,
        monitor,
        recorder,
        board,
        events,
        snapshots,
    }
}

impl Rig {
    /// One second of life: samples of `ms` (if any) recorded, flushed, and one evaluation.
    fn second(&mut self, m: Measurement, ms: Option<u64>) -> u8 {
        if let Some(ms) = ms {
            for _ in 0..20 {
                self.recorder.record(m, ms * MS);
            }
        }
        self.manual.advance(S);
        self.recorder.maybe_flush(self.ctx.clock.now());
        self.monitor.poll(&mut self.ctx);
        self.board.band_index(VenueId(0))
    }

    fn events(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        self.events.drain(100, |e| v.push((e.from_name, e.to_name)));
        v
    }
}

#[test]
fn bands_follow_scripted_latency_with_hysteresis_and_staleness() {
    let mut r = rig(&[Measurement::RestRtt], 1);
    assert_eq!(
        r.board.band(VenueId(0)).name,
        "defensive",
        "nothing measured yet"
    );
    let m = Measurement::RestRtt;
    // Fast venue: recovers to aggressive on the third agreeing evaluation.
    let got: Vec<u8> = (0..4).map(|_| r.second(m, Some(10))).collect();
    assert_eq!(got, vec![3, 3, 0, 0]);
    assert_eq!(r.events(), vec![("defensive".into(), "aggressive".into())]);
    assert_eq!(r.board.statistic_ns(VenueId(0)).map(|n| n / MS), Some(10));

    // Slow samples enter the 10 s window. One slow second in five is already 20% of the
    // window, so p90 says "normal" at once; the band degrades on the second agreeing
    // evaluation.
    let got: Vec<u8> = (0..3).map(|_| r.second(m, Some(60))).collect();
    assert_eq!(got, vec![0, 1, 1]);
    let ev = r.events();
    assert_eq!(ev, vec![("aggressive".into(), "normal".into())]);

    // The venue stops answering: after stale_after (5 s) it falls to defensive at once.
    let got: Vec<u8> = (0..7).map(|_| r.second(m, None)).collect();
    assert_eq!(got, vec![1, 1, 1, 1, 1, 3, 3]);
    assert_eq!(r.events(), vec![("normal".into(), "defensive".into())]);
    assert_eq!(r.board.statistic_ns(VenueId(0)), None);
    let recent: Vec<(u8, u8)> = r
        .snapshots
        .get()
        .recent_changes
        .iter()
        .map(|e| (e.from, e.to))
        .collect();
    assert_eq!(
        recent,
        vec![(3, 0), (0, 1), (1, 3)],
        "the snapshot keeps the changes for the status page"
    );
}

#[test]
fn band_change_events_carry_the_deciding_measurement_and_statistic() {
    let mut r = rig(&[Measurement::RestRtt], 1);
    for _ in 0..3 {
        r.second(Measurement::RestRtt, Some(20));
    }
    let mut evs = Vec::new();
    r.events.drain(10, |e| evs.push(e));
    assert_eq!(evs.len(), 1);
    let e = &evs[0];
    assert_eq!(
        (e.venue, e.venue_name.as_str(), e.from, e.to),
        (VenueId(0), "venue0", 3, 0)
    );
    assert_eq!(e.measurement, Some(Measurement::RestRtt));
    assert!(e.statistic_ns.unwrap().abs_diff(20 * MS) <= 20 * MS / 1000);
    assert_eq!(e.at, UnixNanos(1_003 * S));
}

#[test]
fn falls_back_to_the_next_driver_and_prefers_rest_rtt_when_fresh() {
    let mut r = rig(&[Measurement::RestRtt, Measurement::FeedLag], 1);
    // Only feed lag, slow-ish (60 ms → normal).
    for _ in 0..3 {
        r.second(Measurement::FeedLag, Some(60));
    }
    assert_eq!(r.board.band(VenueId(0)).name, "normal");
    let snap = r.monitor_snapshot();
    assert_eq!(snap.bands[0].measurement, Some(Measurement::FeedLag));
    // REST round trips arrive and are fast: they drive the band from now on.
    for _ in 0..3 {
        r.recorder.record(Measurement::FeedLag, 60 * MS);
        r.second(Measurement::RestRtt, Some(10));
    }
    assert_eq!(r.board.band(VenueId(0)).name, "aggressive");
    assert_eq!(
        r.monitor_snapshot().bands[0].measurement,
        Some(Measurement::RestRtt)
    );
}

impl Rig {
    fn monitor_snapshot(&self) -> std::sync::Arc<super::LatencySnapshot> {
        self.snapshots.get()
    }
}

#[test]
fn histograms_cycle_between_recorder_and_monitor_without_running_out() {
    let mut r = rig(&[Measurement::TickToOrder], 1);
    let spares = r.recorder.spares();
    for i in 0..200u64 {
        r.recorder.record(Measurement::TickToOrder, 1_000 + i);
        r.second(Measurement::TickToOrder, None);
    }
    let st = r.recorder.stats();
    assert_eq!(st.flushed, 200);
    assert_eq!(st.deferred_no_spare + st.deferred_channel, 0);
    // One histogram is always in flight back to the recorder after a flush.
    assert!(
        r.recorder.spares() + 1 >= spares,
        "{} vs {spares}",
        r.recorder.spares()
    );
    let w = r
        .monitor
        .window(VenueId(0), Measurement::TickToOrder)
        .unwrap();
    assert_eq!(w.run().len(), 200);
}

#[test]
fn exports_on_request_and_at_stop() {
    let dir = std::env::temp_dir().join(format!("mako-latency-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut hub = LatencyHub::new(&config(), vec!["bin ance".into(), "okx".into()])
        .unwrap()
        .with_export_dir(dir.join("at-stop"));
    let mut rec = hub
        .recorder(VenueId(1), &[Measurement::OrderAck, Measurement::CancelAck])
        .unwrap();
    let exporter = hub.exporter();
    let mut monitor = hub.into_monitor();
    let (clock, manual) = Clock::manual(UnixNanos(5 * S));
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    monitor.start(&mut ctx).unwrap();
    rec.start(ctx.clock.now());
    for i in 1..=1000u64 {
        rec.record(Measurement::OrderAck, i * 1_000);
    }
    manual.advance(S);
    rec.maybe_flush(ctx.clock.now());

    let (reply_tx, reply_rx) = bounded("reply", 1, FullPolicy::Backpressure);
    exporter
        .send(ExportRequest {
            dir: dir.join("on-demand"),
            reply: Some(reply_tx),
        })
        .unwrap();
    monitor.poll(&mut ctx);
    let paths = reply_rx.try_recv().expect("a reply").expect("export ok");
    assert_eq!(
        paths,
        vec![dir.join("on-demand").join("okx.order_ack.hgrm")],
        "empty measurements are skipped"
    );
    let h = read_hgrm(&paths[0]).unwrap();
    assert_eq!(h.count(), 1000);
    let meta = h.meta.clone().unwrap();
    assert_eq!(
        (meta.venue.as_str(), meta.measurement.as_str()),
        ("okx", "order_ack")
    );
    assert!(
        (h.value_at(0.5).unwrap() - 500.0).abs() <= 0.5,
        "p50 ≈ 500 µs"
    );

    // At stop, what the recorder flushed last is included.
    rec.record(Measurement::CancelAck, 42_000);
    rec.flush(ctx.clock.now());
    monitor.stop(&mut ctx);
    let mut names: Vec<String> = std::fs::read_dir(dir.join("at-stop"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["okx.cancel_ack.hgrm", "okx.order_ack.hgrm"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn summaries_cover_window_and_run() {
    let mut r = rig(&[Measurement::FeedLag], 2);
    for _ in 0..15 {
        r.second(Measurement::FeedLag, Some(5));
    }
    let snap = r.monitor_snapshot();
    assert_eq!(snap.bands.len(), 2);
    assert_eq!(
        snap.bands[1].band_name, "defensive",
        "venue 1 never measured"
    );
    let s = snap
        .summaries
        .iter()
        .find(|s| s.measurement == Measurement::FeedLag)
        .unwrap();
    assert_eq!(s.run.count, 15 * 20);
    assert_eq!(s.window.count, 10 * 20, "10 s window of 1 s intervals");
    assert!(s.window.p99.abs_diff(5 * MS) <= 5 * MS / 1000);
    assert_eq!(snap.batches, 15);
}
