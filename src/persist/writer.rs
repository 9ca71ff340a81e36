//! The writer and the handles that feed it.
//!
//! ```text
//!  gateway ── PersistSink::keep ──► [must-keep queue, Backpressure] ──┐
//!     │ (backlog when full; admit_order() false)                      ├─► PersistWriter ──► SQLite
//!  anyone ── TelemetrySink::send ─► [telemetry queue, DropNewest] ────┘    batch per window,
//!                                                                           then ack per producer
//! ```
//!
//! Acknowledgement: each sink numbers its must-keep records 1, 2, 3 … (a `Ticket`). After a
//! batch's `COMMIT` returns, the writer stores, per sink, the highest number it committed
//! (`Release`); a sink reads it (`Acquire`) to learn what is durable. A sink sends in order
//! and re-sends a bounced record before any later one, so "committed through n" means every
//! record numbered up to n is in the database.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::config::PersistenceConfig;
use crate::runtime::channel::ChannelStats;
use crate::runtime::{Actor, Ctx, FullPolicy, Rx, SendError, Tx, bounded};
use crate::types::UnixNanos;

use super::PersistError;
use super::record::{Record, RecordClass};
use super::schema;
use super::store::{self, RunInfo, RunMeta};

/// Most sinks (producers of must-keep records) one writer serves.
pub const MAX_PRODUCERS: usize = 64;
/// Most records in one transaction; also bounds what the writer holds while a commit fails.
const MAX_BATCH: usize = 4096;
/// Records taken from each queue per poll.
const DRAIN_PER_POLL: usize = 1024;
/// Longest wait between retries of a failing commit.
const MAX_RETRY: Duration = Duration::from_secs(1);
/// Default time the writer's stop step waits for producers to finish.
const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(3);

/// A must-keep record with its sink and number.
#[derive(Debug)]
pub struct Envelope {
    producer: u16,
    seq: u64,
    record: Record,
}

/// A must-keep record's number within its sink; durable once the sink's committed number
/// reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Counters shared by the writer, its sinks and whoever reports on them. Statistics are
/// `Relaxed`; `committed` is the acknowledgement and uses `Release`/`Acquire`.
#[derive(Debug)]
struct Shared {
    committed: [AtomicU64; MAX_PRODUCERS],
    /// Sinks neither finished nor dropped; the writer's stop step waits for them.
    live_producers: AtomicU64,
    received: AtomicU64,
    records: AtomicU64,
    telemetry: AtomicU64,
    batches: AtomicU64,
    commit_errors: AtomicU64,
    bounced: AtomicU64,
    backlog: AtomicU64,
    orders_refused: AtomicU64,
    last_commit_ns: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            committed: std::array::from_fn(|_| AtomicU64::new(0)),
            live_producers: AtomicU64::new(0),
            received: AtomicU64::new(0),
            records: AtomicU64::new(0),
            telemetry: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            commit_errors: AtomicU64::new(0),
            bounced: AtomicU64::new(0),
            backlog: AtomicU64::new(0),
            orders_refused: AtomicU64::new(0),
            last_commit_ns: AtomicU64::new(0),
        }
    }
}

/// A reading of the persistence counters (status endpoint, metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersistCounters {
    pub run_id: i64,
    /// Must-keep records committed.
    pub records_committed: u64,
    /// Telemetry records committed.
    pub telemetry_committed: u64,
    pub batches: u64,
    pub commit_errors: u64,
    /// Must-keep records waiting in the queue.
    pub queue_depth: u64,
    /// Must-keep records that found the queue full and waited in a sink's backlog.
    pub bounced: u64,
    /// Must-keep records in sinks' backlogs now.
    pub backlog: u64,
    /// New orders refused because persistence was behind.
    pub orders_refused: u64,
    /// Telemetry records dropped because their queue was full.
    pub telemetry_dropped: u64,
    /// Unix ns of the last commit (0: none yet).
    pub last_commit_ns: u64,
}

/// Read-only view of the counters; cheap to clone.
#[derive(Debug, Clone)]
pub struct PersistStats {
    run_id: i64,
    shared: Arc<Shared>,
    keep: Arc<ChannelStats>,
    telemetry: Arc<ChannelStats>,
}

impl PersistStats {
    pub fn read(&self) -> PersistCounters {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let s = &self.shared;
        PersistCounters {
            run_id: self.run_id,
            records_committed: r(&s.records),
            telemetry_committed: r(&s.telemetry),
            batches: r(&s.batches),
            commit_errors: r(&s.commit_errors),
            queue_depth: r(&self.keep.sent).saturating_sub(r(&s.received)),
            bounced: r(&s.bounced),
            backlog: r(&s.backlog),
            orders_refused: r(&s.orders_refused),
            telemetry_dropped: r(&self.telemetry.dropped),
            last_commit_ns: r(&s.last_commit_ns),
        }
    }
}

/// Opens the database and the run, hands out sinks, then becomes the writer actor.
pub struct PersistHub {
    conn: Connection,
    run: RunMeta,
    window: Duration,
    keep_tx: Tx<Envelope>,
    keep_rx: Rx<Envelope>,
    tele_tx: Tx<Record>,
    tele_rx: Rx<Record>,
    shared: Arc<Shared>,
    producers: u16,
    stop_grace: Duration,
}

impl PersistHub {
    /// Opens `config.path` (relative paths under `data_dir`), migrates it and inserts the
    /// run row. Done at start-up, before any host runs, so the run id is known to everyone.
    pub fn open(
        config: &PersistenceConfig,
        data_dir: &Path,
        info: &RunInfo,
    ) -> Result<Self, PersistError> {
        let path = if config.path.is_absolute() {
            config.path.clone()
        } else {
            data_dir.join(&config.path)
        };
        Self::open_path(&path, config.batch_window, config.queue_capacity, info)
    }

    /// As `open`, with the settings given directly.
    pub fn open_path(
        path: &Path,
        batch_window: Duration,
        queue_capacity: usize,
        info: &RunInfo,
    ) -> Result<Self, PersistError> {
        let conn = schema::open(path)?;
        let run = store::start_run(&conn, info)?;
        let capacity = queue_capacity.max(1);
        let (keep_tx, keep_rx) = bounded("persist-keep", capacity, FullPolicy::Backpressure);
        let (tele_tx, tele_rx) = bounded("persist-telemetry", capacity, FullPolicy::DropNewest);
        tracing::info!(path = %path.display(), run_id = run.id, mode = run.mode.as_str(), "database opened");
        Ok(Self {
            conn,
            run,
            window: batch_window,
            keep_tx,
            keep_rx,
            tele_tx,
            tele_rx,
            shared: Arc::default(),
            producers: 0,
            stop_grace: DEFAULT_STOP_GRACE,
        })
    }

    pub fn run(&self) -> RunMeta {
        self.run
    }

    /// How long the writer's stop step waits for sinks to finish (default 3 s); keep it
    /// below `runtime.shutdown_timeout`.
    pub fn with_stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// A sink for one producer of must-keep records (a gateway, a strategy, risk).
    pub fn sink(&mut self, name: &str) -> Result<PersistSink, PersistError> {
        let producer = self.producers;
        if usize::from(producer) >= MAX_PRODUCERS {
            return Err(PersistError::TooManyProducers(MAX_PRODUCERS));
        }
        self.producers += 1;
        self.shared.live_producers.fetch_add(1, Ordering::Relaxed);
        Ok(PersistSink {
            name: name.to_string(),
            producer,
            next_seq: 1,
            tx: self.keep_tx.clone(),
            telemetry: self.telemetry(),
            backlog: VecDeque::with_capacity(64),
            shared: Arc::clone(&self.shared),
            finished: false,
        })
    }

    /// A sender of telemetry records (dropped and counted when the queue is full).
    pub fn telemetry(&self) -> TelemetrySink {
        TelemetrySink {
            tx: self.tele_tx.clone(),
        }
    }

    pub fn stats(&self) -> PersistStats {
        PersistStats {
            run_id: self.run.id,
            shared: Arc::clone(&self.shared),
            keep: Arc::clone(self.keep_tx.stats()),
            telemetry: Arc::clone(self.tele_tx.stats()),
        }
    }

    /// The writer actor; place it on a low-priority host.
    pub fn into_writer(self) -> PersistWriter {
        PersistWriter {
            conn: self.conn,
            run: self.run,
            window: self.window,
            keep_rx: self.keep_rx,
            tele_rx: self.tele_rx,
            pending: Vec::with_capacity(MAX_BATCH),
            pending_tele: Vec::with_capacity(256),
            oldest: None,
            retry_at: None,
            retry_wait: Duration::from_millis(10),
            shared: self.shared,
            stop_grace: self.stop_grace,
        }
    }
}

/// Sends telemetry records; cloneable.
#[derive(Debug, Clone)]
pub struct TelemetrySink {
    tx: Tx<Record>,
}

impl TelemetrySink {
    /// Queues the record, or drops it (counted) when the queue is full or the writer is gone.
    pub fn send(&self, record: Record) {
        debug_assert!(
            record.class() == RecordClass::Telemetry,
            "Invariant: must-keep records go through a PersistSink"
        );
        let _ = self.tx.send(record);
    }
}

/// One producer's handle for must-keep records. Owned by one actor; not cloneable, because
/// its numbering is what makes acknowledgement exact.
#[derive(Debug)]
pub struct PersistSink {
    name: String,
    producer: u16,
    next_seq: u64,
    tx: Tx<Envelope>,
    telemetry: TelemetrySink,
    /// Records that found the queue full, oldest first; re-sent before any newer record.
    /// Preallocated; it grows only while persistence is behind.
    backlog: VecDeque<Envelope>,
    shared: Arc<Shared>,
    finished: bool,
}

impl PersistSink {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues a must-keep record and returns its ticket. Never blocks and never drops: when
    /// the queue is full the record waits in this sink's backlog (see `admit_order`).
    /// `Err` only if the writer is gone; the record is kept in the backlog even then.
    pub fn keep(&mut self, record: Record) -> Result<Ticket, PersistError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let env = Envelope {
            producer: self.producer,
            seq,
            record,
        };
        if self.backlog.is_empty() {
            match self.tx.send(env) {
                Ok(()) => return Ok(Ticket(seq)),
                Err(SendError::Full(env)) => self.hold(env),
                Err(SendError::Disconnected(env)) => {
                    self.hold(env);
                    return Err(PersistError::WriterGone);
                }
            }
        } else {
            self.hold(env);
            self.pump()?;
        }
        Ok(Ticket(seq))
    }

    /// Routes a record by its class: must-keep records get a ticket, telemetry is queued
    /// or dropped.
    pub fn record(&mut self, record: Record) -> Result<Option<Ticket>, PersistError> {
        match record.class() {
            RecordClass::MustKeep => self.keep(record).map(Some),
            RecordClass::Telemetry => {
                self.telemetry.send(record);
                Ok(None)
            }
        }
    }

    fn hold(&mut self, env: Envelope) {
        self.shared.bounced.fetch_add(1, Ordering::Relaxed);
        self.shared.backlog.fetch_add(1, Ordering::Relaxed);
        self.backlog.push_back(env);
    }

    /// Re-sends backlogged records in order while the queue has room; returns how many
    /// went. Call it on every poll of the owning actor (it is a no-op when nothing waits).
    pub fn pump(&mut self) -> Result<usize, PersistError> {
        let mut n = 0;
        while let Some(env) = self.backlog.pop_front() {
            match self.tx.send(env) {
                Ok(()) => {
                    self.shared.backlog.fetch_sub(1, Ordering::Relaxed);
                    n += 1;
                }
                Err(SendError::Full(env)) => {
                    self.backlog.push_front(env);
                    break;
                }
                Err(SendError::Disconnected(env)) => {
                    self.backlog.push_front(env);
                    return Err(PersistError::WriterGone);
                }
            }
        }
        Ok(n)
    }

    /// Whether persistence is behind: records wait in the backlog or the queue is full.
    #[inline]
    pub fn is_behind(&self) -> bool {
        !self.backlog.is_empty() || !self.tx.has_room()
    }

    /// The gate in front of every new order: pumps the backlog, then answers whether a new
    /// order may be sent. A `false` is counted as a refused order.
    #[inline]
    pub fn admit_order(&mut self) -> bool {
        if !self.backlog.is_empty() {
            let _ = self.pump();
        }
        if self.is_behind() {
            self.shared.orders_refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Records numbered up to this one are committed.
    #[inline]
    pub fn committed(&self) -> Ticket {
        Ticket(self.shared.committed[usize::from(self.producer)].load(Ordering::Acquire))
    }

    #[inline]
    pub fn is_durable(&self, t: Ticket) -> bool {
        self.committed() >= t
    }

    /// The ticket of the last record handed to `keep` (zero before the first).
    pub fn last_ticket(&self) -> Ticket {
        Ticket(self.next_seq - 1)
    }

    pub fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Waits (sleeping, for stop steps and tools, never the hot path) until `t` is durable.
    pub fn wait_durable(&mut self, t: Ticket, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let _ = self.pump();
            if self.is_durable(t) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The producer's last step: waits up to `timeout` for everything it sent to be
    /// committed, then tells the writer not to wait for it any more. Returns whether all
    /// of it was committed.
    pub fn finish(&mut self, timeout: Duration) -> bool {
        let all = self.wait_durable(self.last_ticket(), timeout);
        if !all {
            tracing::error!(sink = %self.name, backlog = self.backlog.len(), "persistence: records not committed at stop");
        }
        self.mark_finished();
        all
    }

    fn mark_finished(&mut self) {
        if !self.finished {
            self.finished = true;
            self.shared.live_producers.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for PersistSink {
    fn drop(&mut self) {
        if !self.backlog.is_empty() {
            let _ = self.pump();
        }
        if !self.backlog.is_empty() {
            tracing::error!(sink = %self.name, lost = self.backlog.len(), "persistence: sink dropped with records it could not queue");
        }
        self.shared
            .backlog
            .fetch_sub(self.backlog.len() as u64, Ordering::Relaxed);
        self.mark_finished();
    }
}

/// The writer actor: drains both queues, commits a batch when its oldest record has waited
/// `batch_window` (or the batch is full), then acknowledges it. A failing commit keeps the
/// batch and retries with backoff; meanwhile the must-keep queue fills and new orders are
/// refused, so nothing is lost.
///
/// Its `poll` blocks for the length of one commit (a WAL append, typically well under a
/// millisecond); place it on a low-priority host.
pub struct PersistWriter {
    conn: Connection,
    run: RunMeta,
    window: Duration,
    keep_rx: Rx<Envelope>,
    tele_rx: Rx<Record>,
    pending: Vec<Envelope>,
    pending_tele: Vec<Record>,
    /// When the oldest pending record arrived.
    oldest: Option<Instant>,
    retry_at: Option<Instant>,
    retry_wait: Duration,
    shared: Arc<Shared>,
    stop_grace: Duration,
}

impl PersistWriter {
    pub fn run(&self) -> RunMeta {
        self.run
    }

    /// Takes what waits in the queues into the pending batch; returns how many records.
    fn take(&mut self) -> usize {
        let room = MAX_BATCH.saturating_sub(self.pending.len());
        let pending = &mut self.pending;
        let n_keep = self
            .keep_rx
            .drain(room.min(DRAIN_PER_POLL), |e| pending.push(e));
        self.shared
            .received
            .fetch_add(n_keep as u64, Ordering::Relaxed);
        let room = MAX_BATCH.saturating_sub(self.pending_tele.len());
        let tele = &mut self.pending_tele;
        let n_tele = self
            .tele_rx
            .drain(room.min(DRAIN_PER_POLL), |r| tele.push(r));
        let n = n_keep + n_tele;
        if n > 0 && self.oldest.is_none() {
            self.oldest = Some(Instant::now());
        }
        n
    }

    /// Whether records wait for their batch's commit.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || !self.pending_tele.is_empty()
    }

    fn due(&self, now: Instant) -> bool {
        if !self.has_pending() || self.retry_at.is_some_and(|t| now < t) {
            return false;
        }
        self.pending.len() >= MAX_BATCH
            || self.pending_tele.len() >= MAX_BATCH
            || self
                .oldest
                .is_some_and(|t| now.duration_since(t) >= self.window)
    }

    /// Writes the pending batch in one transaction and acknowledges it.
    fn commit(&mut self, at: UnixNanos) -> Result<(), rusqlite::Error> {
        let tx = self.conn.transaction()?;
        for e in &self.pending {
            store::insert(&tx, self.run, &e.record)?;
        }
        for r in &self.pending_tele {
            store::insert(&tx, self.run, r)?;
        }
        tx.commit()?;
        // Durable now (see `schema::open`): acknowledge per producer.
        for e in &self.pending {
            self.shared.committed[usize::from(e.producer)].fetch_max(e.seq, Ordering::Release);
        }
        let s = &self.shared;
        s.records
            .fetch_add(self.pending.len() as u64, Ordering::Relaxed);
        s.telemetry
            .fetch_add(self.pending_tele.len() as u64, Ordering::Relaxed);
        s.batches.fetch_add(1, Ordering::Relaxed);
        s.last_commit_ns.store(at.0, Ordering::Relaxed);
        self.pending.clear();
        self.pending_tele.clear();
        self.oldest = None;
        Ok(())
    }

    fn try_commit(&mut self, at: UnixNanos) -> bool {
        match self.commit(at) {
            Ok(()) => {
                self.retry_at = None;
                self.retry_wait = Duration::from_millis(10);
                true
            }
            Err(e) => {
                self.shared.commit_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, pending = self.pending.len(), retry_in = ?self.retry_wait, "persistence: commit failed; batch kept");
                self.retry_at = Some(Instant::now() + self.retry_wait);
                self.retry_wait = (self.retry_wait * 2).min(MAX_RETRY);
                false
            }
        }
    }
}

impl Actor for PersistWriter {
    fn name(&self) -> &str {
        "persist"
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let mut work = self.take();
        if self.due(Instant::now()) && self.try_commit(ctx.clock.now()) {
            work += 1;
        }
        work
    }

    /// Commits everything producers still send until each has finished (or been dropped),
    /// within the stop grace, then marks the run stopped.
    fn stop(&mut self, ctx: &mut Ctx) {
        let deadline = Instant::now() + self.stop_grace;
        loop {
            let producers_done = self.shared.live_producers.load(Ordering::Relaxed) == 0;
            let n = self.take();
            if self.has_pending() && !self.try_commit(ctx.clock.now()) {
                std::thread::sleep(self.retry_wait.min(Duration::from_millis(50)));
            }
            let empty = !self.has_pending() && self.keep_rx.is_empty() && self.tele_rx.is_empty();
            if producers_done && empty && n == 0 {
                break;
            }
            if Instant::now() >= deadline {
                tracing::error!(
                    pending = self.pending.len() + self.keep_rx.len(),
                    "persistence: stop grace over with records uncommitted"
                );
                break;
            }
            if n == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if let Err(e) = store::stop_run(&self.conn, self.run, ctx.clock.now(), "stopped") {
            tracing::error!(error = %e, "persistence: could not mark the run stopped");
        }
    }
}
