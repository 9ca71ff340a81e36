//! The telemetry actor: everything the engine knows, turned into database rows and
//! notifications on a low-priority thread of its own.
//!
//! ```text
//!  gateways ── GatewayEvent (try_send, drop-newest, counted) ──┐
//!  latency monitor ── BandChange channel, SnapshotBoard ───────┤
//!  kill switch, feed stats (atomics, read here) ───────────────┼─► Telemetry ─┬─► PersistSink: round trips, balances, risk events
//!  engine (start, StopNote) ───────────────────────────────────┘              │   TelemetrySink: latency, band changes, activity
//!                                                                             └─► Notifier inbox (drop-newest)
//! ```
//!
//! Hot actors do one `try_send` of a small event (or nothing: the kill switch and feed
//! counters are read here). Round trips are derived from the fill events (see
//! `round_trips`); a dropped fill event is counted and reported in the activity log, since
//! the round trips of that run are then incomplete (the fills table itself is written by the
//! gateway's never-dropping sink and stays complete).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Mode;
use crate::feed::actor::FeedStats;
use crate::gateway::GatewayEvent;
use crate::latency::{BandChange, SnapshotBoard};
use crate::notify::Notice;
use crate::persist::{Activity, BalanceRecord, Level, PersistSink, Record, RiskAction, RiskEvent};
use crate::risk::{KillReason, KillSwitch};
use crate::runtime::{Actor, Ctx, Rx, StartError, Tx};
use crate::types::AssetCode;
use crate::types::{Instrument, Qty, StrategyTrade, UnixNanos, VenueId};

use super::round_trips::{LateFee, RoundTrips};

#[cfg(test)]
#[path = "telemetry_tests.rs"]
mod tests;

/// Capacity of the gateway event channel (drop-newest, counted).
pub const EVENT_CAPACITY: usize = 16_384;
/// Closed trades waiting to be stored (a strategy holds the rest until there is room).
pub const TRADE_CAPACITY: usize = 1024;
/// Events handled per poll.
const EVENTS_PER_POLL: usize = 512;
/// How often the kill switch and the feeds' counters are read.
const WATCH_EVERY_NS: u64 = 100_000_000;
/// Longest the stop step waits for the gateways' last events.
const STOP_WAIT: Duration = Duration::from_millis(2500);
/// Longest the stop step waits for its records to be committed.
const FINISH_WAIT: Duration = Duration::from_millis(1500);

/// Why the engine stops, set once by the engine just before it requests shutdown; the
/// notifier hears it at once (it stops on another thread) and the activity log at the end.
#[derive(Debug, Clone, Default)]
pub struct StopNote {
    reason: Arc<OnceLock<&'static str>>,
    notify: Option<Tx<Notice>>,
}

impl StopNote {
    pub fn new(notify: Option<Tx<Notice>>) -> Self {
        Self {
            reason: Arc::default(),
            notify,
        }
    }

    /// Records why the engine stops (the first reason wins) and tells the notifier.
    pub fn stopping(&self, reason: &'static str) {
        if self.reason.set(reason).is_ok()
            && let Some(tx) = &self.notify
        {
            let _ = tx.send(Notice::Stopped { reason });
        }
    }

    pub fn reason(&self) -> &'static str {
        self.reason.get().copied().unwrap_or("stopped")
    }
}

/// A feed whose counters are watched for connects, reconnects and resyncs.
pub struct WatchedFeed {
    pub venue: String,
    pub stats: Arc<FeedStats>,
    seen: [u64; 3],
}

impl WatchedFeed {
    pub fn new(venue: String, stats: Arc<FeedStats>) -> Self {
        Self {
            venue,
            stats,
            seen: [0; 3],
        }
    }
}

/// Everything the telemetry actor is built from.
pub struct TelemetrySpec {
    pub mode: Mode,
    pub run_id: Option<i64>,
    /// Indexed by `VenueId`.
    pub venues: Vec<String>,
    /// Indexed by `InstrumentId` (the quote asset decides which fees count).
    pub instruments: Vec<Instrument>,
    pub events: Rx<GatewayEvent>,
    /// Gateways that will send `Stopped`; the stop step waits for them.
    pub gateways: usize,
    pub band_changes: Option<Rx<BandChange>>,
    /// Trades closed by strategies (`strategy_trades`).
    pub trades: Option<Rx<StrategyTrade>>,
    pub latency: Option<SnapshotBoard>,
    /// A latency row set is stored at most this often (and once more at stop).
    pub latency_every: Duration,
    pub kill: KillSwitch,
    pub feeds: Vec<WatchedFeed>,
    pub persist: Option<PersistSink>,
    pub notify: Option<Tx<Notice>>,
    pub stop_note: StopNote,
    /// The status actor, which keeps the latest activity rows for `/activity`.
    pub status: Option<Tx<crate::status::StatusUpdate>>,
}

/// The actor. Place it on a low-priority host of its own: its stop step waits for the
/// gateways' last events and for its records' commit.
pub struct Telemetry {
    spec: TelemetrySpec,
    trips: RoundTrips,
    /// Last stored balance per (venue, asset): only changes are stored.
    balances: HashMap<(VenueId, AssetCode), (Qty, Qty)>,
    gateways_stopped: usize,
    latency_every_ns: u64,
    next_latency: UnixNanos,
    last_latency: UnixNanos,
    next_watch: UnixNanos,
    kill_seen: Option<KillReason>,
    drops_reported: u64,
    writer_gone: bool,
}

impl Telemetry {
    pub fn new(spec: TelemetrySpec) -> Self {
        Self {
            latency_every_ns: spec.latency_every.as_nanos().min(u128::from(u64::MAX)) as u64,
            spec,
            trips: RoundTrips::default(),
            balances: HashMap::new(),
            gateways_stopped: 0,
            next_latency: UnixNanos::ZERO,
            last_latency: UnixNanos::ZERO,
            next_watch: UnixNanos::ZERO,
            kill_seen: None,
            drops_reported: 0,
            writer_gone: false,
        }
    }

    /// Gateway events dropped because the channel was full.
    pub fn events_dropped(&self) -> u64 {
        self.spec.events.stats().dropped.load(Ordering::Relaxed)
    }

    fn store(&mut self, r: Record) {
        let Some(p) = self.spec.persist.as_mut() else {
            return;
        };
        if p.record(r).is_err() && !self.writer_gone {
            self.writer_gone = true;
            tracing::error!("telemetry: the persistence writer is gone; records are not stored");
        }
    }

    fn tell(&self, n: Notice) {
        if let Some(tx) = &self.spec.notify {
            let _ = tx.send(n);
        }
    }

    fn activity(&mut self, level: Level, source: String, message: String, at: UnixNanos) {
        match level {
            Level::Info => tracing::debug!(%source, %message, "activity"),
            _ => tracing::info!(%source, %message, level = level.as_str(), "activity"),
        }
        if let Some(tx) = &self.spec.status {
            let _ = tx.send(crate::status::StatusUpdate::Activity(
                crate::status::ActivityRow {
                    at,
                    level: level.as_str(),
                    source: source.clone(),
                    message: message.clone(),
                },
            ));
        }
        self.store(Record::Activity(Activity {
            level,
            source,
            message,
            at,
        }));
    }

    fn venue(&self, v: VenueId) -> String {
        self.spec
            .venues
            .get(v.index())
            .map_or_else(|| format!("venue{}", v.0), Clone::clone)
    }

    fn on_event(&mut self, ev: GatewayEvent) {
        match ev {
            GatewayEvent::Fill(f) => {
                let quote_fee = match self.spec.instruments.get(f.instrument.index()) {
                    Some(i) if f.fill.fee_asset.as_str() == i.quote => f.fill.fee,
                    _ => Qty::ZERO,
                };
                if let Some(t) = self.trips.apply_order(
                    f.cid,
                    f.strategy,
                    f.instrument,
                    f.fill.side,
                    f.fill.qty,
                    f.fill.quote,
                    quote_fee,
                    f.at,
                ) {
                    self.store(Record::RoundTrip(t));
                }
                self.tell(Notice::Fill(f));
            }
            GatewayEvent::QuoteFee { cid, in_quote, .. } => {
                if let LateFee::Closed(fix) = self.trips.late_fee(cid, in_quote) {
                    self.store(Record::RoundTripFee(fix));
                }
            }
            GatewayEvent::RiskRejected {
                strategy,
                cid,
                rule,
                at,
            } => {
                self.store(Record::Risk(RiskEvent {
                    action: RiskAction::Rejected(rule),
                    strategy: Some(strategy),
                    cid: Some(cid),
                    detail: "pre-trade check refused a new order",
                    at,
                }));
                self.tell(Notice::RiskRejected { rule, strategy });
            }
            GatewayEvent::Balance { venue, balance, at } => {
                let now = (balance.free, balance.locked);
                if self.balances.insert((venue, balance.asset), now) != Some(now) {
                    self.store(Record::Balance(BalanceRecord {
                        venue,
                        asset: balance.asset,
                        free: balance.free,
                        locked: balance.locked,
                        at,
                    }));
                }
            }
            GatewayEvent::Connected { venue, at } => {
                let source = format!("gateway:{}", self.venue(venue));
                self.activity(Level::Info, source, "order connection up".into(), at);
            }
            GatewayEvent::Disconnected { venue, reason, at } => {
                let source = format!("gateway:{}", self.venue(venue));
                let msg = format!("order connection down: {reason}");
                self.activity(Level::Warn, source, msg, at);
            }
            GatewayEvent::Failed {
                venue,
                code,
                message,
                at,
            } => {
                let source = format!("gateway:{}", self.venue(venue));
                let msg = format!("request failed: {code} {message}");
                self.tell(Notice::Error(format!("{source}: {msg}")));
                self.activity(Level::Error, source, msg, at);
            }
            GatewayEvent::PositionDrift {
                venue,
                instrument,
                engine,
                venue_size,
                corrected,
                at,
            } => {
                let source = format!("gateway:{}", self.venue(venue));
                let symbol = self
                    .spec
                    .instruments
                    .get(instrument.index())
                    .map_or("?", |i| i.symbol.as_str());
                let (e, v) = (Qty::from_units(engine), Qty::from_units(venue_size));
                let msg = if corrected {
                    format!(
                        "{symbol}: position {e} differed from the venue's {v}: corrected to the venue's"
                    )
                } else {
                    format!(
                        "{symbol}: position {e} differs from the venue's {v}: not one strategy's, left as it is"
                    )
                };
                self.tell(Notice::Error(format!("{source}: {msg}")));
                self.activity(Level::Error, source, msg, at);
            }
            GatewayEvent::Banned { venue, at } => {
                let source = format!("gateway:{}", self.venue(venue));
                let msg = "the venue banned this key or address (418): no more requests";
                self.tell(Notice::Error(format!("{source}: {msg}")));
                self.activity(Level::Error, source, msg.into(), at);
            }
            GatewayEvent::Stopped { venue, at } => {
                self.gateways_stopped += 1;
                let source = format!("gateway:{}", self.venue(venue));
                self.activity(Level::Info, source, "stopped".into(), at);
            }
        }
    }

    fn on_band(&mut self, c: BandChange) {
        let msg = format!("latency band {} -> {}", c.from_name, c.to_name);
        let (source, at) = (format!("latency:{}", c.venue_name), c.at);
        self.tell(Notice::Band(c.clone()));
        self.store(Record::Band(c));
        self.activity(Level::Info, source, msg, at);
    }

    /// Handles waiting events and band changes; returns how many.
    fn drain(&mut self) -> usize {
        let mut n = 0;
        while n < EVENTS_PER_POLL {
            let Some(ev) = self.spec.events.try_recv() else {
                break;
            };
            self.on_event(ev);
            n += 1;
        }
        while let Some(c) = self.spec.band_changes.as_ref().and_then(Rx::try_recv) {
            self.on_band(c);
            n += 1;
        }
        while let Some(t) = self.spec.trades.as_ref().and_then(Rx::try_recv) {
            self.store(Record::Trade(t));
            n += 1;
        }
        n
    }

    /// Stores the latency monitor's latest snapshot if it is new.
    fn latency(&mut self) -> usize {
        let Some(board) = &self.spec.latency else {
            return 0;
        };
        let s = board.get();
        if s.at == UnixNanos::ZERO || s.at <= self.last_latency || s.summaries.is_empty() {
            return 0;
        }
        self.last_latency = s.at;
        self.store(Record::Latency(s));
        1
    }

    /// Reads the kill switch, the feeds' counters and the drop count; records what changed.
    fn watch(&mut self, now: UnixNanos) -> usize {
        let mut n = 0;
        let kill = self.spec.kill.is_tripped().then(|| self.spec.kill.reason());
        if kill != self.kill_seen {
            n += 1;
            let action = match kill {
                Some(r) => RiskAction::KillTripped(r),
                None => RiskAction::KillReset,
            };
            self.store(Record::Risk(RiskEvent {
                action,
                strategy: None,
                cid: None,
                detail: "kill switch",
                at: now,
            }));
            let msg = match kill {
                Some(r) => {
                    self.tell(Notice::KillSwitch(r));
                    format!("kill switch tripped: {}", r.as_str())
                }
                None => "kill switch reset".to_string(),
            };
            self.activity(Level::Warn, "risk".into(), msg, now);
            self.kill_seen = kill;
        }
        let mut lines = Vec::new();
        for f in &mut self.spec.feeds {
            let s = &f.stats;
            let now_seen = [
                s.connects.load(Ordering::Relaxed),
                s.reconnects.load(Ordering::Relaxed),
                s.resyncs.load(Ordering::Relaxed),
            ];
            let source = format!("feed:{}", f.venue);
            if now_seen[0] > f.seen[0] {
                lines.push((
                    Level::Info,
                    source.clone(),
                    format!("connected ({} so far)", now_seen[0]),
                ));
            }
            if now_seen[1] > f.seen[1] {
                lines.push((
                    Level::Warn,
                    source.clone(),
                    format!("connection lost, reconnecting ({} so far)", now_seen[1]),
                ));
            }
            if now_seen[2] > f.seen[2] {
                let k = now_seen[2] - f.seen[2];
                lines.push((
                    Level::Warn,
                    source,
                    format!("{k} book resync(s) ({} so far)", now_seen[2]),
                ));
            }
            f.seen = now_seen;
        }
        let dropped = self.events_dropped();
        if dropped > self.drops_reported {
            lines.push((
                Level::Warn,
                "telemetry".into(),
                format!(
                    "{} gateway events dropped (queue full); round trips of this run may be incomplete",
                    dropped - self.drops_reported
                ),
            ));
            self.drops_reported = dropped;
        }
        n += lines.len();
        for (level, source, msg) in lines {
            self.activity(level, source, msg, now);
        }
        n
    }
}

impl Actor for Telemetry {
    fn name(&self) -> &str {
        "telemetry"
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        let now = ctx.clock.now();
        let run = self.spec.run_id.unwrap_or(0);
        let msg = format!(
            "engine started (mode {}, run {run})",
            self.spec.mode.as_str()
        );
        self.activity(Level::Info, "engine".into(), msg, now);
        self.tell(Notice::Started { run_id: run });
        self.next_latency = now.plus_nanos(self.latency_every_ns);
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let mut work = self.drain();
        let now = ctx.clock.now();
        if now >= self.next_watch {
            self.next_watch = now.plus_nanos(WATCH_EVERY_NS);
            work += self.watch(now);
        }
        if now >= self.next_latency {
            self.next_latency = now.plus_nanos(self.latency_every_ns);
            work += self.latency();
        }
        if let Some(p) = self.spec.persist.as_mut() {
            let _ = p.pump();
        }
        work
    }

    /// Takes the gateways' last events (bounded wait), stores the last latency snapshot and
    /// the stop, then waits for its records' commit.
    fn stop(&mut self, ctx: &mut Ctx) {
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            let n = self.drain();
            if self.gateways_stopped >= self.spec.gateways && n == 0 {
                break;
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    waiting = self.spec.gateways - self.gateways_stopped.min(self.spec.gateways),
                    "telemetry: gateways did not report their stop in time"
                );
                break;
            }
            if n == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let now = ctx.clock.now();
        self.watch(now);
        self.latency();
        let msg = format!("engine stopped: {}", self.spec.stop_note.reason());
        self.activity(Level::Info, "engine".into(), msg, now);
        if let Some(p) = self.spec.persist.as_mut()
            && !p.finish(FINISH_WAIT)
        {
            tracing::error!("telemetry: records not all committed at stop");
        }
    }
}

/// What the engine's `Parts` holds for telemetry and notifications until every other actor
/// is placed: the gateway event channel, the notifier, and the pieces of the spec.
pub struct TelemetryWiring {
    events_tx: Tx<GatewayEvent>,
    trades_tx: Tx<StrategyTrade>,
    /// `None` when neither persistence nor notifications are on (nobody would listen).
    spec: Option<TelemetrySpec>,
    notifier: Option<crate::notify::Notifier>,
    pub stop_note: StopNote,
}

impl TelemetryWiring {
    /// Builds the channel and the notifier (when `[notifications.telegram]` is set; an unset
    /// bot token fails here, before anything runs). `persist` is the telemetry actor's own
    /// sink; `latency` the hub before it becomes the monitor.
    pub fn new(
        config: &crate::config::Config,
        run_id: Option<i64>,
        persist: Option<PersistSink>,
        latency: &crate::latency::LatencyHub,
        kill: KillSwitch,
    ) -> Result<Self, String> {
        let (events_tx, events) = crate::runtime::bounded(
            "gateway-events",
            EVENT_CAPACITY,
            crate::runtime::FullPolicy::DropNewest,
        );
        // Strategies keep what finds no room and send it again: nothing is dropped.
        let (trades_tx, trades) = crate::runtime::bounded(
            "strategy-trades",
            TRADE_CAPACITY,
            crate::runtime::FullPolicy::Backpressure,
        );
        let notifier = match &config.notifications.telegram {
            Some(t) => Some(
                crate::notify::Notifier::telegram(
                    t,
                    crate::notify::NotifyNames::from_config(config),
                )
                .map_err(|e| format!("notifications: {e}"))?,
            ),
            None => None,
        };
        let notify = notifier.as_ref().map(crate::notify::Notifier::sender);
        let stop_note = StopNote::new(notify.clone());
        let on = persist.is_some() || notify.is_some();
        let spec = on.then(|| TelemetrySpec {
            mode: config.engine.mode,
            run_id,
            venues: config.venues.iter().map(|v| v.name.clone()).collect(),
            instruments: config.instruments.clone(),
            events,
            gateways: 0,
            band_changes: Some(latency.band_changes()),
            trades: Some(trades),
            latency: Some(latency.snapshots()),
            latency_every: config.latency.window,
            kill,
            feeds: Vec::new(),
            persist,
            notify,
            status: None,
            stop_note: stop_note.clone(),
        });
        Ok(Self {
            events_tx,
            trades_tx,
            spec,
            notifier,
            stop_note,
        })
    }

    /// Activity rows also go to the status actor (`/activity`).
    pub fn set_status(&mut self, tx: Tx<crate::status::StatusUpdate>) {
        if let Some(s) = self.spec.as_mut() {
            s.status = Some(tx);
        }
    }

    /// The event sender for one gateway (a silent one when telemetry is off).
    pub fn gateway_events(&mut self) -> crate::gateway::EventSender {
        match self.spec.as_mut() {
            Some(s) => {
                s.gateways += 1;
                crate::gateway::EventSender::new(self.events_tx.clone())
            }
            None => crate::gateway::EventSender::default(),
        }
    }

    /// Where a strategy's closed trades go (`None` when nothing stores them).
    pub fn trade_records(&self) -> Option<Tx<StrategyTrade>> {
        self.spec
            .as_ref()
            .is_some_and(|s| s.persist.is_some())
            .then(|| self.trades_tx.clone())
    }

    /// Watches a feed's counters for connects, reconnects and resyncs.
    pub fn watch_feed(&mut self, venue: &str, stats: Arc<FeedStats>) {
        if let Some(s) = self.spec.as_mut() {
            s.feeds.push(WatchedFeed::new(venue.to_string(), stats));
        }
    }

    /// Where strategies' own notices go (`None` without a notifier).
    pub fn notices(&self) -> Option<Tx<Notice>> {
        self.notifier.as_ref().map(crate::notify::Notifier::sender)
    }

    /// The notifier actor, once.
    pub fn notifier(&mut self) -> Result<Box<dyn Actor>, &'static str> {
        match self.notifier.take() {
            Some(n) => Ok(Box::new(n)),
            None if self.spec.as_ref().is_some_and(|s| s.notify.is_some()) => {
                Err("the notifier was already placed")
            }
            None => Err("[notifications.telegram] is not configured"),
        }
    }

    /// The telemetry actor on a low-priority host of its own (its stop step waits for the
    /// gateways and the writer, so it must not share a thread with either).
    pub fn into_host(mut self) -> Option<crate::runtime::HostSpec> {
        let spec = self.spec.take()?;
        Some(crate::runtime::HostSpec {
            name: "telemetry",
            core: None,
            idle: crate::runtime::IdlePolicy::Park,
            low_priority: true,
            actors: vec![Box::new(Telemetry::new(spec))],
            stats: Arc::default(),
        })
    }
}
