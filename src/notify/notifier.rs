//! The notifier actor: takes notices from a drop-newest inbox, batches them into at most one
//! message per `min_interval`, and hands each message to a worker thread that does the HTTP
//! call, so its `poll` never blocks. A failed message is retried with exponential backoff
//! (or after Telegram's `retry_after`), a bounded number of times, then dropped and counted.
//!
//! Rate limiting and backoff run on the actor's `Clock`, so tests drive them exactly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::TelegramConfig;
use crate::runtime::channel::ChannelStats;
use crate::runtime::{Actor, Ctx, FullPolicy, Rx, StartError, Tx, bounded};
use crate::types::UnixNanos;

use super::NotifyError;
use super::notice::{Notice, NotifyNames};
use super::telegram::{SendFailure, Telegram, Transport, clip};

/// Capacity of the notice inbox (`DropNewest`, counted).
const INBOX_CAPACITY: usize = 1024;
/// Distinct lines held for the next message; more are dropped and counted (the message says
/// how many).
const MAX_LINES: usize = 40;
/// Default first retry delay, doubled per attempt up to `DEFAULT_MAX_BACKOFF`.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(2);
const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(120);
/// Attempts per message before it is dropped.
const DEFAULT_ATTEMPTS: u32 = 6;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest the stop step waits for the last message.
const STOP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
    /// Notices dropped over `MAX_LINES` (the inbox's own drops are in its channel stats).
    overflow: AtomicU64,
    pending: AtomicU64,
}

/// A reading of the notifier's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyCounters {
    /// Messages delivered.
    pub sent: u64,
    /// Messages given up on after every attempt failed.
    pub failed: u64,
    /// Attempts that failed and were retried.
    pub retries: u64,
    /// Notices dropped (inbox full, or more distinct lines than one message holds).
    pub dropped: u64,
    /// Lines waiting for the next message.
    pub pending: u64,
}

/// Read-only view of the counters; cheap to clone.
#[derive(Debug, Clone)]
pub struct NotifyStats {
    counters: Arc<Counters>,
    inbox: Arc<ChannelStats>,
}

impl NotifyStats {
    pub fn read(&self) -> NotifyCounters {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let c = &self.counters;
        NotifyCounters {
            sent: r(&c.sent),
            failed: r(&c.failed),
            retries: r(&c.retries),
            dropped: r(&c.overflow) + r(&self.inbox.dropped),
            pending: r(&c.pending),
        }
    }
}

/// A message being delivered: its text and how many attempts failed so far.
struct InFlight {
    text: String,
    failures: u32,
    /// Waiting for the worker's answer to the current attempt.
    awaiting: bool,
    retry_at: UnixNanos,
}

/// The worker thread that performs the HTTP calls. Its channels are private to this file
/// (one job outstanding at a time), so they are plain crossbeam channels.
struct Worker {
    jobs: crossbeam_channel::Sender<String>,
    results: crossbeam_channel::Receiver<Result<(), SendFailure>>,
    join: JoinHandle<()>,
}

/// Batches notices into messages and delivers them through a worker thread.
pub struct Notifier {
    names: NotifyNames,
    notify_fills: bool,
    min_interval_ns: u64,
    backoff: Duration,
    max_backoff: Duration,
    attempts: u32,
    inbox_tx: Tx<Notice>,
    inbox: Rx<Notice>,
    /// Distinct lines in arrival order, with how many times each came.
    lines: Vec<(String, u32)>,
    overflowed: u64,
    in_flight: Option<InFlight>,
    /// No new message before this (rate limit).
    next_allowed: UnixNanos,
    transport: Option<Box<dyn Transport>>,
    worker: Option<Worker>,
    counters: Arc<Counters>,
}

impl Notifier {
    /// A Telegram notifier. Loads the bot token now; an unset token fails here, at build.
    pub fn telegram(config: &TelegramConfig, names: NotifyNames) -> Result<Self, NotifyError> {
        let token = config
            .bot_token
            .load()
            .map_err(|e| NotifyError::Token(e.to_string()))?;
        let transport = Telegram::new(&config.base_url, &token, &config.chat_id, DEFAULT_TIMEOUT);
        Ok(Self::with_transport(
            Box::new(transport),
            names,
            config.notify_fills,
            config.min_interval,
        ))
    }

    /// A notifier over any transport (tests, other services).
    pub fn with_transport(
        transport: Box<dyn Transport>,
        names: NotifyNames,
        notify_fills: bool,
        min_interval: Duration,
    ) -> Self {
        let (inbox_tx, inbox) = bounded("notify", INBOX_CAPACITY, FullPolicy::DropNewest);
        Self {
            names,
            notify_fills,
            min_interval_ns: min_interval.as_nanos().min(u128::from(u64::MAX)) as u64,
            backoff: DEFAULT_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            attempts: DEFAULT_ATTEMPTS,
            inbox_tx,
            inbox,
            lines: Vec::with_capacity(MAX_LINES),
            overflowed: 0,
            in_flight: None,
            next_allowed: UnixNanos::ZERO,
            transport: Some(transport),
            worker: None,
            counters: Arc::default(),
        }
    }

    /// Retry policy: first delay, cap, and attempts per message (at least 1).
    pub fn with_backoff(mut self, first: Duration, max: Duration, attempts: u32) -> Self {
        self.backoff = first;
        self.max_backoff = max.max(first);
        self.attempts = attempts.max(1);
        self
    }

    /// Where notices go. Sending never blocks; a full inbox drops the notice, counted.
    pub fn sender(&self) -> Tx<Notice> {
        self.inbox_tx.clone()
    }

    pub fn stats(&self) -> NotifyStats {
        NotifyStats {
            counters: Arc::clone(&self.counters),
            inbox: Arc::clone(self.inbox.stats()),
        }
    }

    fn add(&mut self, n: &Notice) {
        if n.is_fill() && !self.notify_fills {
            return;
        }
        let line = self.names.line(n);
        if let Some(l) = self.lines.iter_mut().find(|(l, _)| *l == line) {
            l.1 += 1;
        } else if self.lines.len() < MAX_LINES {
            self.lines.push((line, 1));
        } else {
            self.overflowed += 1;
            self.counters.overflow.fetch_add(1, Ordering::Relaxed);
        }
        self.counters
            .pending
            .store(self.lines.len() as u64, Ordering::Relaxed);
    }

    /// The next message from the pending lines.
    fn compose(&mut self) -> String {
        let mut text = self.names.header();
        for (line, n) in self.lines.drain(..) {
            text.push('\n');
            text.push_str(&line);
            if n > 1 {
                text.push_str(&format!(" (x{n})"));
            }
        }
        if self.overflowed > 0 {
            text.push_str(&format!("\n... and {} more notices", self.overflowed));
            self.overflowed = 0;
        }
        self.counters.pending.store(0, Ordering::Relaxed);
        clip(&mut text);
        text
    }

    fn backoff_after(&self, failures: u32) -> Duration {
        let shift = failures.saturating_sub(1).min(20);
        self.backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff)
    }

    fn dispatch(&mut self, now: UnixNanos) {
        let (Some(w), Some(f)) = (&self.worker, &mut self.in_flight) else {
            return;
        };
        // The job channel holds one message and only one attempt is ever outstanding.
        if w.jobs.try_send(f.text.clone()).is_ok() {
            f.awaiting = true;
            self.next_allowed = now.plus_nanos(self.min_interval_ns);
        }
    }

    fn on_result(&mut self, r: Result<(), SendFailure>, now: UnixNanos) {
        let Some(mut f) = self.in_flight.take() else {
            return;
        };
        f.awaiting = false;
        match r {
            Ok(()) => {
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                f.failures += 1;
                if f.failures >= self.attempts {
                    self.counters.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, attempts = f.failures, "notification dropped after every attempt failed");
                } else {
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = self
                        .backoff_after(f.failures)
                        .max(e.retry_after().unwrap_or_default());
                    tracing::debug!(error = %e, retry_in = ?wait, "notification failed; will retry");
                    f.retry_at = now.plus_nanos(wait.as_nanos().min(u128::from(u64::MAX)) as u64);
                    self.in_flight = Some(f);
                }
            }
        }
    }

    fn start_worker(&mut self) -> std::io::Result<()> {
        let Some(mut transport) = self.transport.take() else {
            return Ok(());
        };
        let (jobs, job_rx) = crossbeam_channel::bounded::<String>(1);
        let (res_tx, results) = crossbeam_channel::bounded(1);
        let join = std::thread::Builder::new()
            .name("mako-notify".into())
            .spawn(move || {
                crate::runtime::affinity::keep_off_hot("notify");
                // Ends when the notifier drops its job sender.
                while let Ok(text) = job_rx.recv() {
                    let r = transport.send(&text);
                    if res_tx.send(r).is_err() {
                        break;
                    }
                }
            })?;
        self.worker = Some(Worker {
            jobs,
            results,
            join,
        });
        Ok(())
    }
}

impl Actor for Notifier {
    fn name(&self) -> &str {
        "notify"
    }

    /// Starts the worker thread (it inherits the host's low priority).
    fn start(&mut self, _ctx: &mut Ctx) -> Result<(), StartError> {
        self.start_worker().map_err(|e| StartError {
            actor: "notify".into(),
            message: format!("cannot start the notification thread: {e}"),
        })
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let mut work = 0;
        while let Some(n) = self.inbox.try_recv() {
            self.add(&n);
            work += 1;
            if work >= 256 {
                break;
            }
        }
        let now = ctx.clock.now();
        if let Some(r) = self.worker.as_ref().and_then(|w| w.results.try_recv().ok()) {
            self.on_result(r, now);
            work += 1;
        }
        match &self.in_flight {
            Some(f) if f.awaiting => {}
            // A retry is the same message again: its backoff, not the rate limit, decides.
            Some(f) => {
                if now >= f.retry_at {
                    self.dispatch(now);
                    work += 1;
                }
            }
            None => {
                if !self.lines.is_empty() && now >= self.next_allowed && self.worker.is_some() {
                    let text = self.compose();
                    self.in_flight = Some(InFlight {
                        text,
                        failures: 0,
                        awaiting: false,
                        retry_at: now,
                    });
                    self.dispatch(now);
                    work += 1;
                }
            }
        }
        work
    }

    /// One last message with whatever is pending (rate limit ignored), waited for up to a
    /// few seconds; then the worker thread ends.
    fn stop(&mut self, _ctx: &mut Ctx) {
        while let Some(n) = self.inbox.try_recv() {
            self.add(&n);
        }
        if let Some(w) = self.worker.take() {
            let deadline = std::time::Instant::now() + STOP_WAIT;
            let mut awaiting = self.in_flight.as_ref().is_some_and(|f| f.awaiting);
            while awaiting && std::time::Instant::now() < deadline {
                if w.results.recv_timeout(Duration::from_millis(50)).is_ok() {
                    awaiting = false;
                }
            }
            if !self.lines.is_empty() && !awaiting {
                let text = self.compose();
                if w.jobs.try_send(text).is_ok() {
                    match w.results.recv_timeout(STOP_WAIT) {
                        Ok(Ok(())) => {
                            self.counters.sent.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            self.counters.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            drop(w.jobs);
            drop(w.results);
            // A worker stuck in a request ends with its timeout; don't wait for it here.
            if w.join.is_finished() {
                let _ = w.join.join();
            }
        }
    }
}
