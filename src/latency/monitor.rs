//! The latency monitor (a low-priority actor) and `LatencyHub`, which wires it to the
//! recorders of hot actors, the REST probes, the band board and the band-change events.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::config::{LatencyConfig, VenueKind};
use crate::runtime::{Actor, Ctx, FullPolicy, Rx, StartError, Tx, bounded};
use crate::types::{UnixNanos, VenueId};

use super::LatencyError;
use super::bands::{BandSelector, BandTable, Observation, statistic_of};
use super::board::BandBoard;
use super::hgrm::{HgrmMeta, write_hgrm};
use super::measurement::{Measurement, new_histogram};
use super::probe::{ClockOffset, RestProbe};
use super::recorder::{HISTOGRAMS_PER_MEASUREMENT, HistBatch, Recorder};
use super::window::RollingWindow;

/// Measurements that drive a venue's band, in order of preference: the first one with a
/// fresh sample in its window is used. The REST probe is the default driver because it runs
/// for every venue, trading or not; order acks and feed lag stand in when it is missing.
pub const DEFAULT_DRIVERS: [Measurement; 3] = [
    Measurement::RestRtt,
    Measurement::OrderAck,
    Measurement::FeedLag,
];

/// Capacity of the batch inbox. Recorders never lose samples when it is full (they keep
/// them and retry at their next flush), so this only bounds memory in flight.
const BATCH_CAPACITY: usize = 1024;
/// Batches handled per poll, so one burst cannot hold the monitor's host.
const BATCHES_PER_POLL: usize = 64;
/// Capacity of the band-change event channel (`DropNewest`, counted).
const EVENT_CAPACITY: usize = 256;
/// Band changes kept in the snapshot for the status endpoint.
pub const RECENT_CHANGES: usize = 32;

/// A venue changed band. Logged by the monitor; persisted and shown by whoever reads the
/// channel from `LatencyHub::band_changes`.
#[derive(Debug, Clone, PartialEq)]
pub struct BandChange {
    pub venue: VenueId,
    pub venue_name: String,
    pub from: u8,
    pub to: u8,
    pub from_name: String,
    pub to_name: String,
    /// The measurement whose statistic decided; `None` when the venue went stale.
    pub measurement: Option<Measurement>,
    /// The statistic over the window, ns; `None` when the venue went stale.
    pub statistic_ns: Option<u64>,
    pub at: UnixNanos,
}

/// Ask the monitor to write every whole-run histogram as `.hgrm` into `dir`.
#[derive(Debug)]
pub struct ExportRequest {
    pub dir: PathBuf,
    /// Where the written paths (or the error) go, if the asker wants to know.
    pub reply: Option<Tx<Result<Vec<PathBuf>, String>>>,
}

/// Percentiles of one histogram, ns.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Stats {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// One (venue, measurement): its rolling window and its whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub venue: VenueId,
    pub measurement: Measurement,
    pub window: Stats,
    pub run: Stats,
    pub last_sample: Option<UnixNanos>,
}

/// A venue's band as of the last evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueBand {
    pub venue: VenueId,
    pub venue_name: String,
    pub band: u8,
    pub band_name: String,
    pub measurement: Option<Measurement>,
    pub statistic_ns: Option<u64>,
}

/// What the status endpoint shows about latency, refreshed at every evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencySnapshot {
    pub at: UnixNanos,
    pub bands: Vec<VenueBand>,
    pub summaries: Vec<Summary>,
    /// Batches received from recorders since the start.
    pub batches: u64,
    /// Times a recorder found the inbox full (its samples were kept and sent later).
    pub inbox_full: u64,
    /// Band-change events dropped because nobody drained the event channel.
    pub events_dropped: u64,
    /// The last `RECENT_CHANGES` band changes, oldest first.
    pub recent_changes: Vec<BandChange>,
}

/// Shared latest snapshot, for low-priority readers (status endpoint). A short mutex held
/// only to swap or clone an `Arc`; never touched by hot threads.
#[derive(Debug, Clone, Default)]
pub struct SnapshotBoard(Arc<parking_lot::Mutex<Arc<LatencySnapshot>>>);

impl SnapshotBoard {
    pub fn get(&self) -> Arc<LatencySnapshot> {
        Arc::clone(&self.0.lock())
    }

    fn set(&self, s: LatencySnapshot) {
        *self.0.lock() = Arc::new(s);
    }
}

/// Builds the latency room for one engine: recorders for hot actors, probes, the board,
/// and finally the monitor actor. Everything is created here, at start.
pub struct LatencyHub {
    config: LatencyConfig,
    venue_names: Vec<String>,
    board: BandBoard,
    batch_tx: Tx<HistBatch>,
    batch_rx: Rx<HistBatch>,
    /// Return channel per recorder id.
    returns: Vec<Tx<Histogram<u64>>>,
    events_tx: Tx<BandChange>,
    events_rx: Rx<BandChange>,
    export_tx: Tx<ExportRequest>,
    export_rx: Rx<ExportRequest>,
    offsets: Vec<ClockOffset>,
    drivers: Vec<Measurement>,
    export_dir: Option<PathBuf>,
    flush_every: Duration,
    snapshot: SnapshotBoard,
}

impl LatencyHub {
    /// `venue_names` is indexed by `VenueId` (config order).
    pub fn new(config: &LatencyConfig, venue_names: Vec<String>) -> Result<Self, LatencyError> {
        if venue_names.len() > usize::from(u16::MAX) {
            return Err(LatencyError::Setup(format!(
                "too many venues: {}",
                venue_names.len()
            )));
        }
        let table = BandTable::from_config(&config.bands)?;
        let board = BandBoard::new(table, venue_names.len());
        let (batch_tx, batch_rx) =
            bounded("latency-batches", BATCH_CAPACITY, FullPolicy::Backpressure);
        let (events_tx, events_rx) =
            bounded("band-changes", EVENT_CAPACITY, FullPolicy::DropNewest);
        let (export_tx, export_rx) = bounded("latency-export", 16, FullPolicy::DropNewest);
        let offsets = venue_names.iter().map(|_| ClockOffset::new()).collect();
        let flush_every = config
            .evaluate_every
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        Ok(Self {
            config: config.clone(),
            venue_names,
            board,
            batch_tx,
            batch_rx,
            returns: Vec::new(),
            events_tx,
            events_rx,
            export_tx,
            export_rx,
            offsets,
            drivers: DEFAULT_DRIVERS.to_vec(),
            export_dir: None,
            flush_every,
            snapshot: SnapshotBoard::default(),
        })
    }

    /// Which measurements drive bands, in order of preference (default `DEFAULT_DRIVERS`).
    pub fn with_drivers(mut self, drivers: &[Measurement]) -> Self {
        self.drivers = drivers.to_vec();
        self
    }

    /// Where the monitor writes the whole-run `.hgrm` files at shutdown.
    pub fn with_export_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.export_dir = Some(dir.into());
        self
    }

    /// How often recorders hand their histograms over (default: `evaluate_every`, kept
    /// within 10 ms..=1 s).
    pub fn with_flush_every(mut self, every: Duration) -> Self {
        self.flush_every = every;
        self
    }

    pub fn flush_every(&self) -> Duration {
        self.flush_every
    }

    /// A recorder for a hot actor measuring `measurements` of `venue`. Allocates its
    /// histograms now; recording and flushing never allocate afterwards.
    pub fn recorder(
        &mut self,
        venue: VenueId,
        measurements: &[Measurement],
    ) -> Result<Recorder, LatencyError> {
        if venue.index() >= self.venue_names.len() {
            return Err(LatencyError::Setup(format!(
                "recorder for unknown venue {venue}"
            )));
        }
        let id = u16::try_from(self.returns.len())
            .map_err(|_| LatencyError::Setup("too many latency recorders".to_string()))?;
        let capacity = (measurements.len() * HISTOGRAMS_PER_MEASUREMENT).max(1);
        let (ret_tx, ret_rx) = bounded("latency-returns", capacity, FullPolicy::DropNewest);
        self.returns.push(ret_tx);
        Ok(Recorder::new(
            id,
            venue,
            measurements,
            self.flush_every,
            self.batch_tx.clone(),
            ret_rx,
        ))
    }

    /// The REST round-trip probe of `venue`, to be placed alone on a low-priority host (it
    /// blocks in `poll` for up to one request timeout). It records `RestRtt` and keeps the
    /// venue's clock offset.
    pub fn probe(
        &mut self,
        venue: VenueId,
        kind: VenueKind,
        rest_url: &str,
    ) -> Result<RestProbe, LatencyError> {
        let recorder = self.recorder(venue, &[Measurement::RestRtt])?;
        let name = format!("probe:{}", self.venue_names[venue.index()]);
        Ok(RestProbe::new(
            name,
            kind,
            rest_url,
            self.config.probe_interval,
            recorder,
            self.clock_offset(venue),
        ))
    }

    /// The published clock offset of `venue` (the feed reads it to correct its lag).
    pub fn clock_offset(&self, venue: VenueId) -> ClockOffset {
        self.offsets.get(venue.index()).cloned().unwrap_or_default()
    }

    /// The current band per venue, for strategies.
    pub fn board(&self) -> BandBoard {
        self.board.clone()
    }

    /// Band-change events (bounded, drop-newest and counted if nobody drains them).
    pub fn band_changes(&self) -> Rx<BandChange> {
        self.events_rx.clone()
    }

    /// Where export requests go.
    pub fn exporter(&self) -> Tx<ExportRequest> {
        self.export_tx.clone()
    }

    /// The latest snapshot, for the status endpoint.
    pub fn snapshots(&self) -> SnapshotBoard {
        self.snapshot.clone()
    }

    /// The monitor actor; place it on a low-priority host.
    pub fn into_monitor(self) -> LatencyMonitor {
        let table = self.board.table().clone();
        let venues = self.venue_names.len();
        let selectors = (0..venues)
            .map(|_| {
                BandSelector::new(&table, self.config.degrade_after, self.config.recover_after)
            })
            .collect();
        LatencyMonitor {
            windows: (0..venues).map(|_| std::array::from_fn(|_| None)).collect(),
            selectors,
            table,
            scratch: new_histogram(),
            next_eval: UnixNanos::ZERO,
            batches: 0,
            unknown_venue: 0,
            recent: VecDeque::with_capacity(RECENT_CHANGES),
            config: self.config,
            venue_names: self.venue_names,
            board: self.board,
            batch_rx: self.batch_rx,
            returns: self.returns,
            events_tx: self.events_tx,
            export_rx: self.export_rx,
            drivers: self.drivers,
            export_dir: self.export_dir,
            snapshot: self.snapshot,
        }
    }
}

/// The monitor: drains histogram batches into rolling windows, evaluates bands every
/// `evaluate_every`, publishes them, and writes `.hgrm` files on request and at stop.
pub struct LatencyMonitor {
    config: LatencyConfig,
    venue_names: Vec<String>,
    table: BandTable,
    board: BandBoard,
    batch_rx: Rx<HistBatch>,
    returns: Vec<Tx<Histogram<u64>>>,
    events_tx: Tx<BandChange>,
    export_rx: Rx<ExportRequest>,
    drivers: Vec<Measurement>,
    export_dir: Option<PathBuf>,
    snapshot: SnapshotBoard,
    /// Per venue, per measurement; created when the first batch arrives.
    windows: Vec<[Option<RollingWindow>; Measurement::COUNT]>,
    selectors: Vec<BandSelector>,
    /// Reused for every window merge.
    scratch: Histogram<u64>,
    next_eval: UnixNanos,
    batches: u64,
    unknown_venue: u64,
    /// The last band changes, for the snapshot.
    recent: VecDeque<BandChange>,
}

impl LatencyMonitor {
    /// Takes one batch into its window and sends the emptied histogram back.
    fn absorb(&mut self, mut b: HistBatch) {
        self.batches += 1;
        match self.windows.get_mut(b.venue.index()) {
            Some(per_venue) => {
                let w = per_venue[b.measurement.index()]
                    .get_or_insert_with(|| RollingWindow::new(self.config.window));
                w.add(b.end, &b.hist);
            }
            None => self.unknown_venue += 1,
        }
        b.hist.reset();
        if let Some(tx) = self.returns.get(usize::from(b.recorder)) {
            // A full or closed return channel only means the recorder has enough spares
            // or is gone; the histogram is then freed here, off the hot path.
            let _ = tx.send(b.hist);
        }
    }

    /// Evaluates every venue's band at `now` and publishes the results.
    pub fn evaluate(&mut self, now: UnixNanos) {
        let mut bands = Vec::with_capacity(self.selectors.len());
        for v in 0..self.selectors.len() {
            let venue = VenueId(v as u16);
            let (obs, measurement) = self.observe(v, now);
            let statistic_ns = match obs {
                Observation::Fresh(ns) => Some(ns),
                Observation::Stale => None,
            };
            let change = self.selectors[v].evaluate(&self.table, obs);
            let current = self.selectors[v].current();
            self.board.publish(venue, current, statistic_ns);
            let band_name = |i: u8| {
                self.table
                    .get(i)
                    .map(|b| b.name.clone())
                    .unwrap_or_default()
            };
            if let Some(t) = change {
                let ev = BandChange {
                    venue,
                    venue_name: self.venue_names[v].clone(),
                    from: t.from,
                    to: t.to,
                    from_name: band_name(t.from),
                    to_name: band_name(t.to),
                    measurement,
                    statistic_ns,
                    at: now,
                };
                tracing::info!(
                    venue = %ev.venue_name,
                    from = %ev.from_name,
                    to = %ev.to_name,
                    measurement = measurement.map_or("none (stale)", |m| m.as_str()),
                    statistic_us = statistic_ns.map(|n| n as f64 / 1e3),
                    "latency band changed"
                );
                // DropNewest: a full channel counts the drop in its stats.
                if self.recent.len() == RECENT_CHANGES {
                    self.recent.pop_front();
                }
                self.recent.push_back(ev.clone());
                let _ = self.events_tx.send(ev);
            }
            bands.push(VenueBand {
                venue,
                venue_name: self.venue_names[v].clone(),
                band: current,
                band_name: band_name(current),
                measurement,
                statistic_ns,
            });
        }
        self.publish_snapshot(now, bands);
    }

    /// The band observation of venue `v`: the configured statistic of the first driver
    /// measurement with a fresh sample, or stale.
    fn observe(&mut self, v: usize, now: UnixNanos) -> (Observation, Option<Measurement>) {
        for &m in &self.drivers {
            let Some(w) = &self.windows[v][m.index()] else {
                continue;
            };
            if !w.is_fresh(now, self.config.stale_after) {
                continue;
            }
            w.merge_window(now, &mut self.scratch);
            if let Some(ns) = statistic_of(&self.scratch, self.config.statistic) {
                return (Observation::Fresh(ns), Some(m));
            }
        }
        (Observation::Stale, None)
    }

    fn publish_snapshot(&mut self, now: UnixNanos, bands: Vec<VenueBand>) {
        let mut summaries = Vec::new();
        for (v, per_venue) in self.windows.iter().enumerate() {
            for (m, w) in Measurement::ALL.iter().zip(per_venue.iter()) {
                let Some(w) = w else { continue };
                w.merge_window(now, &mut self.scratch);
                summaries.push(Summary {
                    venue: VenueId(v as u16),
                    measurement: *m,
                    window: Stats::of(&self.scratch),
                    run: Stats::of(w.run()),
                    last_sample: w.last_sample(),
                });
            }
        }
        self.snapshot.set(LatencySnapshot {
            at: now,
            bands,
            summaries,
            batches: self.batches,
            inbox_full: self.batch_rx.stats().full.load(Ordering::Relaxed),
            events_dropped: self.events_tx.stats().dropped.load(Ordering::Relaxed),
            recent_changes: self.recent.iter().cloned().collect(),
        });
    }

    /// Writes every non-empty whole-run histogram to `dir` as `<venue>.<measurement>.hgrm`.
    pub fn export(&self, dir: &Path) -> Result<Vec<PathBuf>, LatencyError> {
        std::fs::create_dir_all(dir).map_err(|source| LatencyError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let mut written = Vec::new();
        for (v, per_venue) in self.windows.iter().enumerate() {
            for (m, w) in Measurement::ALL.iter().zip(per_venue.iter()) {
                let Some(w) = w else { continue };
                if w.run().is_empty() {
                    continue;
                }
                let venue = &self.venue_names[v];
                let path = dir.join(format!("{}.{}.hgrm", file_token(venue), m.as_str()));
                let meta = HgrmMeta {
                    venue: venue.clone(),
                    measurement: m.as_str().to_string(),
                };
                write_hgrm(&path, w.run(), Some(&meta))?;
                written.push(path);
            }
        }
        Ok(written)
    }

    /// The rolling window of one (venue, measurement), if it has seen a batch.
    pub fn window(&self, venue: VenueId, m: Measurement) -> Option<&RollingWindow> {
        self.windows.get(venue.index())?[m.index()].as_ref()
    }

    /// Drains waiting batches (bounded); returns how many.
    pub fn drain_batches(&mut self) -> usize {
        let mut n = 0;
        while n < BATCHES_PER_POLL {
            let Some(b) = self.batch_rx.try_recv() else {
                break;
            };
            self.absorb(b);
            n += 1;
        }
        n
    }
}

/// A venue name as a file-name part: letters, digits, `-` and `_` kept, the rest `_`.
fn file_token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

impl Actor for LatencyMonitor {
    fn name(&self) -> &str {
        "latency"
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        self.next_eval = ctx
            .clock
            .now()
            .plus_nanos(nanos(self.config.evaluate_every));
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let mut work = self.drain_batches();
        while let Some(req) = self.export_rx.try_recv() {
            work += 1;
            let result = self.export(&req.dir);
            match &result {
                Ok(paths) => {
                    tracing::info!(dir = %req.dir.display(), files = paths.len(), "latency histograms exported")
                }
                Err(e) => tracing::warn!(error = %e, "latency export failed"),
            }
            if let Some(reply) = req.reply {
                let _ = reply.send(result.map_err(|e| e.to_string()));
            }
        }
        let now = ctx.clock.now();
        if now >= self.next_eval {
            self.evaluate(now);
            self.next_eval = now.plus_nanos(nanos(self.config.evaluate_every));
            work += 1;
        }
        work
    }

    fn stop(&mut self, _ctx: &mut Ctx) {
        // Take what recorders flushed on their way out, then write the whole run.
        while self.drain_batches() > 0 {}
        if let Some(dir) = self.export_dir.clone() {
            match self.export(&dir) {
                Ok(paths) => {
                    tracing::info!(dir = %dir.display(), files = paths.len(), "latency histograms written")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not write latency histograms at shutdown")
                }
            }
        }
    }
}
