//! The replay loop: one thread, one manual clock set to each event's time. Recording frames
//! go through the venue's own feed (`FeedActor::on_frame`: codec, book sync, cache publish,
//! trade prints), the strategies built from the config as the engine builds them are polled
//! as their hosts would poll them, and their intents go through the [`Exchange`] (risk, order
//! state, latency, the queue matcher). Nothing here reads the wall clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::book::{BookCache, CacheReader, CacheWriter};
use crate::config::{Config, StrategyConfig, VenueConfig};
use crate::feed::actor::{FeedOptions, FeedSpec};
use crate::feed::record::RecordReader;
use crate::gateway::{CidMinter, OrderIntent, OrderUpdate};
use crate::net::Connector;
use crate::risk::{KillSwitch, PositionBoard, RiskEngine};
use crate::runtime::{Actor, Clock, Ctx, FullPolicy, ManualClock, Rx, Shutdown, Tx, bounded};
use crate::strategy::Strategy;
use crate::strategy::actor::StrategyActor;
use crate::strategy::api::{Env, IntentSink};
use crate::strategy::registry::{self, BuildArgs};
use crate::types::{InstrumentId, StrategyId, TradeEvent, UnixNanos, VenueId};

use super::accounts::Accounts;
use super::events::{ANNOUNCED, Event, KIND_TICK, KIND_TOP, KIND_TOP_INVALID, KIND_TRADE};
use super::exchange::{Counts, Exchange, FillRow};
pub(crate) use super::feed::{FrameFeed, offline_feed};
use super::queue::QueueMatcher;
use super::settings::Settings;

mod hosts;
use hosts::*;

/// Order channels: as the engine's (never dropped); drained after every step.
const ORDER_CHANNEL: usize = 4096;
/// Trade channels from the feed: drained after every frame, so never full.
const TRADES: usize = 1 << 14;
/// Equity, position and price are sampled this often (recording time).
pub const SAMPLE_NS: u64 = 60_000_000_000;
/// And this often for the plots.
pub const CURVE_NS: u64 = 1_000_000_000;

/// One sample of the run (recording time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: UnixNanos,
    /// Realised plus unrealised at the mid, less fees, quote units.
    pub equity: f64,
    /// Net position from fills, base units.
    pub position: f64,
    pub mid: f64,
    /// The strategies' best resting bid and ask at the venue on the main instrument (NaN
    /// when none rests), for the price plot.
    pub bid_quote: f64,
    pub ask_quote: f64,
}

/// What one replay produced (everything but wall time, which the caller measures).
#[derive(Debug, Clone)]
pub struct Run {
    pub venue: String,
    pub instruments: Vec<String>,
    pub strategies: Vec<String>,
    pub files: Vec<PathBuf>,
    /// Frames replayed.
    pub events: u64,
    /// Lines the reader could not read.
    pub malformed_lines: u64,
    pub first: UnixNanos,
    pub last: UnixNanos,
    pub fills: Vec<FillRow>,
    pub counts: Counts,
    /// Orders refused before sending, by reason.
    pub refusals: std::collections::BTreeMap<&'static str, u64>,
    pub samples: Vec<Sample>,
    /// The same, every second of recording time (the plots).
    pub curve: Vec<Sample>,
    /// Realised PnL before fees, unrealised at the last mid, quote fees; quote units.
    pub realised: f64,
    pub unrealised: f64,
    pub fees: f64,
    /// Perpetuals' funding paid (positive) or received, settlement asset; `None` without a
    /// perpetual.
    pub funding: Option<f64>,
    /// The funding payments (also in `records` when the run keeps them).
    pub funding_rows: Vec<crate::persist::FundingRecord>,
    /// Payments at the recording's rate, at `[backtest] funding_rate`, and funding times
    /// passed unpaid (no rate known).
    pub funding_counts: (u64, u64, u64),
    pub final_position: f64,
    pub last_mid: Option<f64>,
    pub latency_model: String,
    pub latency_kind: &'static str,
    pub queue_model: String,
    pub seed: u64,
    /// Orders the venue still held at the end.
    pub open_at_end: usize,
    /// Every order state and fill, as the live gateway keeps them for the database (only
    /// when `Settings::records`).
    pub records: Vec<crate::persist::Record>,
}

/// Builds a strategy of the config (the registry's kinds by default).
pub type Builder<'a> =
    &'a mut dyn FnMut(&BuildArgs<'_>, &StrategyConfig) -> Result<Box<dyn Strategy>, String>;

/// Replays `files` through the config's venue and strategies.
pub fn run(config: &Config, settings: &Settings, files: &[PathBuf]) -> Result<Run, String> {
    run_with(config, settings, files, &mut registry_build)
}

/// The engine's way: the kind's constructor from the registry.
pub fn registry_build(
    args: &BuildArgs<'_>,
    s: &StrategyConfig,
) -> Result<Box<dyn Strategy>, String> {
    let kind = registry::kind(&s.kind)
        .ok_or_else(|| format!("strategy {}: unknown kind {:?}", s.name, s.kind))?;
    (kind.build)(args).map_err(|errs| {
        let msgs: Vec<String> = errs.into_iter().map(|(k, m)| format!("{k}: {m}")).collect();
        format!("strategy {}: {}", s.name, msgs.join("; "))
    })
}

/// As [`run`], with the strategies built by `build` (a library user's own strategy, or a
/// test's probe), hosted exactly as the registry's are.
pub fn run_with(
    config: &Config,
    settings: &Settings,
    files: &[PathBuf],
    build: Builder<'_>,
) -> Result<Run, String> {
    let mut r = start(config, settings, files, build)?;
    replay_files(r.as_mut(), files)?;
    Ok(r.finish())
}

/// A replay in progress: frames in, the run out.
pub trait Replay {
    /// One recorded frame, received at `recv`.
    fn step(&mut self, recv: UnixNanos, frame: &[u8]);
    /// One event of a converted event file (a frame replay counts it as malformed).
    fn event(&mut self, ev: &Event);
    /// A line of the recording that could not be read.
    fn malformed(&mut self);
    /// Delivers what is still in flight, stops the strategies and sums up.
    fn finish(self: Box<Self>) -> Run;
}

/// Every frame of `files`, in order, into `r`.
pub fn replay_files(r: &mut dyn Replay, files: &[PathBuf]) -> Result<(), String> {
    for f in files {
        let mut reader = RecordReader::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
        while let Some(item) = reader.next() {
            match item {
                Ok(rec) => r.step(rec.recv, rec.frame),
                Err(_) => r.malformed(),
            }
        }
    }
    Ok(())
}

/// One recording read into memory: every frame's bytes back to back, with its receive time
/// and end offset; the lines that could not be read are only counted.
#[derive(Debug, Default)]
pub struct Frames {
    bytes: Vec<u8>,
    index: Vec<(UnixNanos, usize)>,
    pub malformed: u64,
}

impl Frames {
    /// Reads (and inflates) a whole recording.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let mut r = RecordReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut f = Frames::default();
        while let Some(item) = r.next() {
            match item {
                Ok(rec) => {
                    f.bytes.extend_from_slice(rec.frame);
                    f.index.push((rec.recv, f.bytes.len()));
                }
                Err(_) => f.malformed += 1,
            }
        }
        Ok(f)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The first frame's receive time.
    pub fn first(&self) -> Option<UnixNanos> {
        self.index.first().map(|f| f.0)
    }

    /// Every frame into `r`, in order (the lines that could not be read counted too).
    pub fn replay(&self, r: &mut dyn Replay) {
        for _ in 0..self.malformed {
            r.malformed();
        }
        let mut start = 0;
        for &(t, end) in &self.index {
            r.step(t, &self.bytes[start..end]);
            start = end;
        }
    }
}

/// Builds the replay of `files` (read here only for their first receive time, where the
/// simulated clock starts).
pub fn start(
    config: &Config,
    settings: &Settings,
    files: &[PathBuf],
    build: Builder<'_>,
) -> Result<Box<dyn Replay>, String> {
    let first = first_time(files)?;
    start_at(config, settings, first, files, build)
}

/// Builds a replay whose clock starts at `first`; `files` only name the recordings in the
/// report.
pub fn start_at(
    config: &Config,
    settings: &Settings,
    first: UnixNanos,
    files: &[PathBuf],
    build: Builder<'_>,
) -> Result<Box<dyn Replay>, String> {
    let [venue] = config.venues.as_slice() else {
        return Err(format!(
            "a backtest replays one venue's recording; the config has {} venues",
            config.venues.len()
        ));
    };
    if config.strategies.is_empty() {
        return Err("the config has no strategy to backtest".into());
    }
    let at = Start {
        config,
        settings,
        first,
        files,
    };
    Ok(Box::new(Replayer::new(&at, venue, build, None)?))
}

/// Builds the replay of a converted event file (no codec: each event is published to the
/// cache or handed to the matcher and strategies directly). Every instrument the file holds
/// must be in the config.
pub fn start_events(
    config: &Config,
    settings: &Settings,
    file: &super::events::EventFile,
    files: &[PathBuf],
    build: Builder<'_>,
) -> Result<Box<dyn Replay>, String> {
    let [venue] = config.venues.as_slice() else {
        return Err(format!(
            "a backtest replays one venue's recording; the config has {} venues",
            config.venues.len()
        ));
    };
    if config.strategies.is_empty() {
        return Err("the config has no strategy to backtest".into());
    }
    let mut ids = Vec::new();
    for sym in &file.header.instruments {
        let i = config
            .instruments
            .iter()
            .find(|i| i.venue == venue.id && &i.symbol == sym)
            .ok_or_else(|| format!("the event file's instrument {sym} is not in the config"))?;
        ids.push(i.id);
    }
    let first = file.first().ok_or("the event file holds no event")?;
    let at = Start {
        config,
        settings,
        first,
        files,
    };
    Ok(Box::new(Replayer::new(&at, venue, build, Some(ids))?))
}

/// What every replay starts from.
struct Start<'a> {
    config: &'a Config,
    settings: &'a Settings,
    first: UnixNanos,
    files: &'a [PathBuf],
}

/// The receive time of a recording's first readable frame.
fn first_time(files: &[PathBuf]) -> Result<UnixNanos, String> {
    for f in files {
        let mut r = RecordReader::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
        while let Some(item) = r.next() {
            if let Ok(rec) = item {
                return Ok(rec.recv);
            }
        }
    }
    Err("the recordings hold no readable frame".into())
}

/// Everything the loop touches, so the steps can be methods.
struct Loop {
    hand: ManualClock,
    ctx: Ctx,
    strategies: Vec<Hosted>,
    intents: Rx<OrderIntent>,
    ex: Exchange,
}

impl Loop {
    /// Polls every strategy at the clock's time and sends their intents on.
    #[inline]
    fn poll_strategies(&mut self) {
        let now = self.ctx.clock.now();
        for h in &mut self.strategies {
            h.actor.poll(&mut self.ctx);
        }
        // Most polls send nothing: a look at the queue is cheaper than a receive.
        if self.intents.is_empty() {
            return;
        }
        while let Some(i) = self.intents.try_recv() {
            self.ex.on_intent(i, now);
        }
    }

    /// Runs every message due by `t`, each at its own time, the strategies after each.
    #[inline]
    fn run_due(&mut self, t: UnixNanos) {
        while let Some(at) = self.ex.next_due() {
            if at > t {
                break;
            }
            self.hand.set(at);
            self.ex.run_next(at);
            self.ex.flush_held();
            self.poll_strategies();
        }
    }
}

/// The replay of one venue's recording through its feed, the strategies and the exchange.
struct Replayer {
    /// The venue's feed (a frame replay); `None` when events come converted.
    feed: Option<Box<dyn FrameFeed>>,
    /// A converted event file's ends (`None` in a frame replay).
    direct: Option<Direct>,
    lp: Loop,
    funding: super::funding::Funding,
    venue_trades: Rx<TradeEvent>,
    changed: Rx<InstrumentId>,
    reader: CacheReader,
    acc: Accounts,
    strategy_ids: Vec<(StrategyId, InstrumentId)>,
    main: InstrumentId,
    events: u64,
    malformed_lines: u64,
    first: UnixNanos,
    last: UnixNanos,
    venue: String,
    instruments: Vec<String>,
    strategies: Vec<String>,
    files: Vec<PathBuf>,
    latency_model: String,
    latency_kind: &'static str,
    queue_model: String,
    seed: u64,
}

/// What a converted event file's replay writes to: the cache's writers and the strategies'
/// trade channels, by the file's instrument index.
struct Direct {
    venue: VenueId,
    ids: Vec<InstrumentId>,
    writers: Vec<CacheWriter>,
    trades: Vec<Tx<TradeEvent>>,
}

impl Replayer {
    fn new(
        at: &Start<'_>,
        venue: &VenueConfig,
        build: Builder<'_>,
        events: Option<Vec<InstrumentId>>,
    ) -> Result<Self, String> {
        let (config, settings, first) = (at.config, at.settings, at.first);
        let run_start_ms = first.0 / 1_000_000;
        let cache = BookCache::new(config.instruments.len());
        let mine: Vec<_> = config
            .instruments
            .iter()
            .filter(|i| i.venue == venue.id)
            .cloned()
            .collect();
        let writers = mine.iter().filter_map(|i| cache.writer(i.id)).collect();
        let kill = KillSwitch::default();
        let board = PositionBoard::new(
            config.strategies.len(),
            config.instruments.len(),
            config.venues.len(),
        );
        let (intent_tx, intent_rx) =
            bounded("order-intents", ORDER_CHANNEL, FullPolicy::Backpressure);
        let (venue_trades_tx, venue_trades) =
            bounded("backtest-trades", TRADES, FullPolicy::DropNewest);
        let mut trade_txs = vec![venue_trades_tx];
        let (hosted, updates) = build_strategies(
            config,
            &cache,
            &intent_tx,
            &board,
            &kill,
            run_start_ms,
            &mut trade_txs,
            build,
        )?;
        let (changed_tx, changed) = bounded("book-changed", 64, FullPolicy::Conflate);
        let (feed, direct) = match events {
            None => {
                let feed = offline_feed(
                    FeedSpec {
                        venue: super::events::replay_venue(venue),
                        instruments: config.instruments.clone(),
                        connector: Connector::with_public_roots(Duration::from_secs(1))
                            .map_err(|e| e.to_string())?,
                        writers,
                        trades: trade_txs,
                        book_changed: vec![changed_tx],
                        recorder: None,
                        clock_offset: None,
                        record_to: None,
                        options: FeedOptions::default(),
                    },
                    &mine,
                )?;
                (Some(feed), None)
            }
            Some(ids) => {
                let mut writers: Vec<CacheWriter> = writers;
                let mut ordered = Vec::with_capacity(ids.len());
                for id in &ids {
                    let k = writers
                        .iter()
                        .position(|w| w.instrument() == *id)
                        .ok_or("an event file's instrument has no book")?;
                    ordered.push(writers.swap_remove(k));
                }
                // The venue's trades go to the matcher directly; the strategies' through
                // their channels, as the feed sends them.
                trade_txs.remove(0);
                let direct = Direct {
                    venue: venue.id,
                    ids,
                    writers: ordered,
                    trades: trade_txs,
                };
                (None, Some(direct))
            }
        };
        let latency = settings.latency_model(&venue.name)?;
        let (latency_model, latency_kind) = (latency.describe(), latency.kind());
        let risk = venue_risk(config, &kill, &board, first);
        let mut ex = Exchange::new(
            config.instruments.clone(),
            config.strategies.len(),
            risk,
            cache.reader(),
            updates,
            QueueMatcher::new(settings.queue),
            latency,
            config.paper,
            run_start_ms,
        );
        if settings.records {
            ex.keep_records();
        }
        if direct.is_some() {
            ex.tops_only();
        }
        let (clock, hand) = Clock::manual(first);
        let mut lp = Loop {
            hand,
            ctx: Ctx {
                clock,
                shutdown: Shutdown::new(),
                host: "backtest",
            },
            strategies: hosted,
            intents: intent_rx,
            ex,
        };
        for h in &mut lp.strategies {
            h.actor
                .start(&mut lp.ctx)
                .map_err(|e| format!("starting {e}"))?;
        }
        Ok(Self {
            feed,
            direct,
            lp,
            funding: super::funding::Funding::new(&mine, settings.funding_rate, first),
            venue_trades,
            changed,
            reader: cache.reader(),
            acc: Accounts::new(first),
            strategy_ids: config
                .strategies
                .iter()
                .map(|s| (s.id, s.instrument))
                .collect(),
            main: config.strategies[0].instrument,
            events: 0,
            malformed_lines: 0,
            first,
            last: first,
            venue: venue.name.clone(),
            instruments: mine.iter().map(|i| i.symbol.clone()).collect(),
            strategies: config.strategies.iter().map(|s| s.name.clone()).collect(),
            files: at.files.to_vec(),
            latency_model,
            latency_kind,
            queue_model: settings.queue.describe(),
            seed: settings.seed,
        })
    }
}

impl Replayer {
    /// Pays the funding times passed by `t` (perpetuals only), into risk and the records.
    fn settle_funding(&mut self, t: UnixNanos) {
        let ex = &mut self.lp.ex;
        let new = self
            .funding
            .settle(t, ex.risk_mut(), &self.reader, &self.strategy_ids);
        if let Some(rec) = &mut ex.records {
            for r in &self.funding.rows[new] {
                rec.push(crate::persist::Record::Funding(*r));
            }
        }
    }

    /// What follows each event: funding, the strategies, the samples.
    #[inline]
    fn after(&mut self, t: UnixNanos) {
        if self.funding.due(t) {
            self.settle_funding(t);
        }
        let lp = &mut self.lp;
        lp.poll_strategies();
        if t >= self.acc.next_curve {
            self.acc.sample(
                t,
                &lp.ex,
                &self.reader,
                &self.strategy_ids,
                self.main,
                false,
            );
        }
    }

    /// Recording time never runs backwards, even across files; what is due runs first.
    #[inline]
    fn advance(&mut self, recv: UnixNanos) -> UnixNanos {
        let t = recv.max(self.last);
        self.last = t;
        let lp = &mut self.lp;
        lp.run_due(t);
        lp.hand.set(t);
        lp.ex.on_market(t);
        t
    }
}

impl Replay for Replayer {
    #[inline]
    fn step(&mut self, recv: UnixNanos, frame: &[u8]) {
        let Some(feed) = &mut self.feed else {
            self.malformed_lines += 1;
            return;
        };
        let t = recv.max(self.last);
        self.last = t;
        let lp = &mut self.lp;
        lp.run_due(t);
        lp.hand.set(t);
        lp.ex.on_market(t);
        feed.on_frame(frame, t, &lp.ctx);
        self.events += 1;
        while let Some(tr) = self.venue_trades.try_recv() {
            lp.ex.on_print(&tr, t);
        }
        while let Some(id) = self.changed.try_recv() {
            lp.ex.on_book(id, t);
        }
        self.after(t);
    }

    #[inline]
    fn event(&mut self, ev: &Event) {
        let Some(d) = &self.direct else {
            self.malformed_lines += 1;
            return;
        };
        let k = ev.instrument as usize;
        let (Some(&id), venue) = (d.ids.get(k), d.venue) else {
            self.malformed_lines += 1;
            return;
        };
        let t = self.advance(ev.recv);
        let (Some(d), lp) = (&mut self.direct, &mut self.lp) else {
            return;
        };
        match ev.kind {
            KIND_TRADE => {
                // The whole event (its trade id) only for strategies that take trades.
                if !d.trades.is_empty() {
                    let tr = ev.trade(venue, id);
                    for tx in &d.trades {
                        let _ = tx.send(tr);
                    }
                }
                let (price, qty) = ev.print();
                lp.ex.print(id, price, qty, ev.aggressor(), t);
            }
            KIND_TOP_INVALID => d.writers[k].invalidate(),
            KIND_TICK => {}
            KIND_TOP => {
                d.writers[k].publish_top(ev.top());
                if ev.flags & ANNOUNCED != 0 {
                    lp.ex.on_book(id, t);
                }
            }
            _ => {
                self.malformed_lines += 1;
                return;
            }
        }
        self.events += 1;
        self.after(t);
    }

    fn malformed(&mut self) {
        self.malformed_lines += 1;
    }

    fn finish(self: Box<Self>) -> Run {
        self.finish_run()
    }
}

impl Replayer {
    fn finish_run(mut self: Box<Self>) -> Run {
        let last = self.last;
        // What is still in flight arrives, then the strategies stop as the engine stops them.
        self.lp.run_due(last);
        if self.funding.due(last) {
            self.settle_funding(last);
        }
        let lp = &mut self.lp;
        self.acc.sample(
            last,
            &lp.ex,
            &self.reader,
            &self.strategy_ids,
            self.main,
            true,
        );
        for h in &mut lp.strategies {
            h.actor.stop(&mut lp.ctx);
        }
        let (realised, unrealised, fees, funding, position) =
            self.acc.totals(&lp.ex, &self.reader, &self.strategy_ids);
        let top = self.reader.top(self.main);
        Run {
            venue: std::mem::take(&mut self.venue),
            instruments: std::mem::take(&mut self.instruments),
            strategies: std::mem::take(&mut self.strategies),
            files: std::mem::take(&mut self.files),
            events: self.events,
            malformed_lines: self.malformed_lines,
            first: self.first,
            last,
            counts: lp.ex.counts,
            refusals: std::mem::take(&mut lp.ex.refusals),
            open_at_end: lp.ex.resting(),
            fills: std::mem::take(&mut lp.ex.fills),
            samples: std::mem::take(&mut self.acc.samples),
            curve: std::mem::take(&mut self.acc.curve),
            realised,
            unrealised,
            fees,
            funding: self.funding.any().then_some(funding),
            funding_counts: (
                self.funding.recorded,
                self.funding.configured,
                self.funding.skipped,
            ),
            funding_rows: std::mem::take(&mut self.funding.rows),
            final_position: position,
            last_mid: top
                .valid
                .then(|| (top.bid.price.to_f64() + top.ask.price.to_f64()) / 2.0),
            latency_model: std::mem::take(&mut self.latency_model),
            latency_kind: self.latency_kind,
            queue_model: std::mem::take(&mut self.queue_model),
            seed: self.seed,
            records: lp.ex.records.take().unwrap_or_default(),
        }
    }
}
