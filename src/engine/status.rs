//! Wires the status room into the engine: the taps other actors publish through (gateways'
//! status updates, feeds' counters, strategies' control channels), the status actor with its
//! HTTP endpoint, the terminal status line, and the control actor that routes operator
//! commands and reloads.
//!
//! Everything the endpoint serves comes from snapshots published at a modest rate over
//! `DropNewest` channels or from counters read with relaxed atomics; no hot thread ever
//! holds a lock the status side takes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::feed::actor::FeedStats;
use crate::risk::KillSwitch;
use crate::runtime::{Actor, Ctx, FullPolicy, HostStats, Rx, StartError, Tx, bounded};
use crate::status::{
    ConnState, QuoteLevel, StatusHub, StatusSetup, StatusUpdate, StrategyState, StrategyUpdate,
    VenueUpdate,
};
use crate::strategy::actor::ReportMsg;
use crate::types::{Qty, UnixNanos, VenueId};

use super::EngineError;
use super::console;
use super::control::{ControlActor, StrategyControls};
use super::wiring::Parts;

/// Feeds' counters, filled in as feeds are built (the status actor may be placed first).
pub type FeedSlots = Arc<parking_lot::Mutex<Vec<Option<Arc<FeedStats>>>>>;

/// What the other actors need from the status and control side while they are built.
#[derive(Default)]
pub struct Taps {
    /// The status inbox; gateways publish into it (`Gateway::with_status`).
    pub status: Option<Tx<StatusUpdate>>,
    /// Per venue: its feed's counters.
    pub feeds: FeedSlots,
    /// Per strategy: its control channel and where it acknowledges reloads.
    pub controls: Option<StrategyControls>,
}

impl Taps {
    /// Called by the feed's builder with the feed's shared counters.
    pub fn feed_built(&self, venue: VenueId, stats: Arc<FeedStats>) {
        let mut slots = self.feeds.lock();
        if slots.len() <= venue.index() {
            slots.resize(venue.index() + 1, None);
        }
        slots[venue.index()] = Some(stats);
    }
}

/// The status and control side of one engine, built before the hosts.
pub struct StatusWiring {
    hub: Option<StatusHub>,
    addr: Option<SocketAddr>,
    control: Option<ControlActor>,
    /// Report fan-out: the bridge reads strategies' reports and passes them on to the
    /// terminal line (two readers of one channel would steal from each other).
    console_reports: Option<(Tx<ReportMsg>, Rx<ReportMsg>)>,
}

impl StatusWiring {
    /// Binds the endpoint (a taken port fails the build, not the run) and installs the taps
    /// into `parts`.
    pub fn new(
        config: &Config,
        parts: &mut Parts,
        now: UnixNanos,
        hosts: Vec<(&'static str, Arc<HostStats>)>,
    ) -> Result<Self, EngineError> {
        let controls = StrategyControls::new(config.strategies.len());
        let control_sink = match parts.persist.as_mut() {
            Some(h) => Some(
                h.sink("control")
                    .map_err(|e| EngineError::Build(e.to_string()))?,
            ),
            None => None,
        };
        let mut control = ControlActor::new(config, &controls, parts.kill.clone())
            .with_bot_outputs(
                parts.positions.clone(),
                control_sink,
                parts.telemetry.notices(),
            );
        parts.taps.controls = Some(controls);
        let mut hub = None;
        let mut addr = None;
        let mut console_reports = None;
        if config.status.bind.is_some() {
            // Without a database there is no run row; the run's start in ms names it instead.
            let run_id = parts.run_id.unwrap_or(parts.run_start_ms as i64);
            let setup = StatusSetup::from_config(config, run_id, now);
            let mut sources = parts.status_sources();
            sources.hosts = hosts;
            let mut h = StatusHub::new(setup, &config.status)
                .map_err(|e| EngineError::Build(e.to_string()))?
                .with_kill_switch(parts.kill.clone());
            let updates = h.updates();
            sources
                .queues
                .push(crate::status::QueueWatch::of_tx(&updates, 4096));
            h = h.with_sources(sources);
            let replies = h.replies();
            control = control.with_endpoint(h.control(), replies, updates.clone());
            parts.telemetry.set_status(updates.clone());
            parts.taps.status = Some(updates);
            addr = h.local_addr();
            if config.status.console_interval.is_some() {
                console_reports = Some(bounded("console-reports", 64, FullPolicy::DropNewest));
            }
            hub = Some(h);
        }
        Ok(Self {
            hub,
            addr,
            control: Some(control),
            console_reports,
        })
    }

    /// Where the endpoint listens.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The control actor (routes commands, reloads).
    pub fn take_control(&mut self) -> Option<ControlActor> {
        self.control.take()
    }

    /// The actors placed for `status`: the endpoint's bridge and the terminal line, as
    /// configured.
    pub fn actors(
        &mut self,
        config: &Config,
        parts: &Parts,
        hosts: Vec<(&'static str, Arc<HostStats>)>,
    ) -> Vec<Box<dyn Actor>> {
        let mut out: Vec<Box<dyn Actor>> = Vec::new();
        let mut console_rx = parts.reports.1.clone();
        if let Some(hub) = self.hub.take() {
            let fanout = self.console_reports.take();
            if let Some((_, rx)) = &fanout {
                console_rx = rx.clone();
            }
            out.push(Box::new(StatusBridge::new(
                config,
                hub,
                parts,
                fanout.map(|(tx, _)| tx),
            )));
        }
        if let Some(every) = config.status.console_interval {
            let lines = console::StrategyLines::new(config, console_rx, parts.board.clone())
                .with_latency(parts.latency_snapshots.clone());
            out.push(Box::new(
                console::Console::new(every, config.engine.mode.as_str(), hosts)
                    .with_strategies(lines),
            ));
        }
        out
    }
}

/// One feed as the bridge watches it.
struct FeedWatch {
    venue: VenueId,
    stats: Arc<FeedStats>,
    instruments: u64,
    frames: u64,
    last_message: Option<UnixNanos>,
}

/// The status actor plus the translation of what other actors publish in their own terms
/// (strategy reports, feed counters) into status updates, on the same low-priority host.
pub struct StatusBridge {
    inner: crate::status::StatusActor,
    updates: Tx<StatusUpdate>,
    reports: Rx<ReportMsg>,
    console: Option<Tx<ReportMsg>>,
    feeds: FeedSlots,
    watches: Vec<FeedWatch>,
    /// Instruments per venue (a feed with fewer live books is resyncing).
    instruments: Vec<u64>,
    /// Per strategy: its base allocation (position = balance − allocation).
    allocations: Vec<Qty>,
    kill: KillSwitch,
    interval: Duration,
    next: Option<Instant>,
}

impl StatusBridge {
    fn new(config: &Config, hub: StatusHub, parts: &Parts, console: Option<Tx<ReportMsg>>) -> Self {
        let updates = hub.updates();
        let mut instruments = vec![0u64; config.venues.len()];
        for i in &config.instruments {
            if let Some(n) = instruments.get_mut(i.venue.index()) {
                *n += 1;
            }
        }
        Self {
            inner: hub.into_actor(),
            updates,
            reports: parts.reports.1.clone(),
            console,
            feeds: Arc::clone(&parts.taps.feeds),
            watches: Vec::new(),
            instruments,
            allocations: config
                .strategies
                .iter()
                .map(|s| super::wiring::allocation(s).0)
                .collect(),
            kill: parts.kill.clone(),
            interval: config.status.publish_interval,
            next: None,
        }
    }

    fn on_report(&self, m: &ReportMsg, now: UnixNanos) -> StrategyUpdate {
        let r = &m.report;
        let state = if m.stopped {
            StrategyState::Stopped
        } else if r.paused {
            StrategyState::Paused
        } else if self.kill.is_tripped() {
            StrategyState::Stopped
        } else if m.mid.is_none() {
            StrategyState::Waiting
        } else {
            StrategyState::Running
        };
        let level =
            |q: Option<(crate::types::Price, Qty)>| q.map(|(price, qty)| QuoteLevel { price, qty });
        let alloc = self
            .allocations
            .get(m.strategy.index())
            .copied()
            .unwrap_or(Qty::ZERO);
        StrategyUpdate {
            strategy: m.strategy,
            state,
            position: Qty::from_units(r.base.units() - alloc.units()),
            realized_pnl: r.realized_pnl,
            total_pnl: r.pnl,
            trades: r.fills,
            open_orders: u32::from(r.bid.is_some()) + u32::from(r.ask.is_some()),
            bid: level(r.bid),
            ask: level(r.ask),
            mid: m.mid,
            round_trips: r.round_trips,
            last_fill: r.last_fill,
            prints: m.prints,
            prints_lost: m.prints_lost,
            decisions: m.decisions,
            entries_stopped: r.entries_stopped,
            skipped: r.skipped,
            at: now,
        }
    }

    fn feed_updates(&mut self, now: UnixNanos) {
        use std::sync::atomic::Ordering::Relaxed;
        for w in &mut self.watches {
            let s = &w.stats;
            let frames = s.frames.load(Relaxed);
            if frames != w.frames {
                w.frames = frames;
                w.last_message = Some(now);
            }
            let mut v = VenueUpdate::new(w.venue, now);
            v.market_data = Some(if s.connected.load(Relaxed) == 0 {
                if s.connects.load(Relaxed) == 0 {
                    ConnState::Connecting
                } else {
                    ConnState::Down
                }
            } else if s.books_live.load(Relaxed) < w.instruments {
                ConnState::Resyncing
            } else {
                ConnState::Connected
            });
            v.messages = Some(frames);
            v.resyncs = Some(s.resyncs.load(Relaxed));
            v.reconnects = Some(s.reconnects.load(Relaxed));
            v.malformed = Some(s.malformed.load(Relaxed));
            v.last_message = w.last_message;
            v.books = Some(crate::status::BookCounts {
                live: s.books_live.load(Relaxed),
                instruments: w.instruments,
                snapshot_requests: s.snapshot_requests.load(Relaxed),
                snapshots_applied: s.snapshots_applied.load(Relaxed),
                snapshot_failures: s.snapshot_failures.load(Relaxed),
                gaps: s.gaps.load(Relaxed),
                publishes: s.publishes.load(Relaxed),
                invalidations: s.invalidations.load(Relaxed),
            });
            let _ = self.updates.send(StatusUpdate::Venue(v));
        }
    }
}

impl Actor for StatusBridge {
    fn name(&self) -> &str {
        "status"
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        self.watches = self
            .feeds
            .lock()
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let stats = Arc::clone(s.as_ref()?);
                let venue = VenueId(u16::try_from(i).ok()?);
                Some(FeedWatch {
                    venue,
                    stats,
                    instruments: self.instruments.get(i).copied().unwrap_or(0),
                    frames: 0,
                    last_message: None,
                })
            })
            .collect();
        self.inner.start(ctx)
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let now = ctx.clock.now();
        let mut work = 0;
        while let Some(m) = self.reports.try_recv() {
            let u = self.on_report(&m, now);
            let _ = self.updates.send(StatusUpdate::Strategy(u));
            if let Some(tx) = &self.console {
                let _ = tx.send(m);
            }
            work += 1;
        }
        let t = Instant::now();
        if self.next.is_none_or(|n| t >= n) {
            self.next = Some(t + self.interval);
            self.feed_updates(now);
            work += 1;
        }
        work + self.inner.poll(ctx)
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        self.inner.stop(ctx);
    }
}
