//! Builds the actors a config names and the channels between them: gateways, strategies,
//! the latency monitor and the status line. Everything is created before any host starts,
//! so a bad key or parameter stops the engine before it trades.

use std::sync::Arc;
use std::time::Duration;

use crate::book::{BookCache, CacheReader};
use crate::config::{ActorName, Config, Mode, Secret};
use crate::feed::actor::TradeEvent;
use crate::gateway::{CidMinter, GatewayOptions, GatewaySpec, OrderIntent, OrderUpdate};
use crate::latency::{board::BandBoard, monitor::LatencyHub};
use crate::net::Connector;
use crate::risk::{KillSwitch, PositionBoard, RiskEngine};
use crate::runtime::{Actor, FullPolicy, Rx, Tx, bounded};
use crate::strategy::actor::{ReportMsg, StrategyActor};
use crate::strategy::api::{Env, IntentSink};
use crate::strategy::registry::{self, BuildArgs};
use crate::types::{Price, StrategyId, UnixNanos};

/// Capacity of every order-intent and order-update channel (never dropped: backpressure).
const ORDER_CHANNEL: usize = 4096;
/// Capacity of the feed → paper gateway trade channel. `DropNewest` when full (counted by the
/// channel): a print the paper gateway misses is a fill it does not make, never a false one.
const PAPER_TRADES: usize = 8192;

/// Capacity of each feed → strategy trade channel. `DropNewest` when full: the drop is counted
/// by the channel, and the strategy is told its series has a hole (`Strategy::on_gap`).
const STRATEGY_TRADES: usize = 8192;

/// One feed → consumer trade channel, each end taken by the actor it goes to.
type PaperTrades = (Option<Tx<TradeEvent>>, Option<Rx<TradeEvent>>);

/// What the actors of one engine share, built once.
pub struct Parts {
    pub cache: Arc<BookCache>,
    pub kill: KillSwitch,
    pub run_start_ms: u64,
    /// Per venue: the intent channel (strategies hold senders, the gateway the receiver).
    intents: Vec<(Tx<OrderIntent>, Option<Rx<OrderIntent>>)>,
    /// Per strategy: the update channel (the gateway holds senders).
    updates: Vec<(Tx<OrderUpdate>, Option<Rx<OrderUpdate>>)>,
    pub reports: (Tx<ReportMsg>, Rx<ReportMsg>),
    /// Each strategy's report from its stop step, for the run report.
    pub final_reports: (Tx<ReportMsg>, Rx<ReportMsg>),
    pub latency: Option<LatencyHub>,
    pub board: Option<BandBoard>,
    /// One REST round-trip probe per venue, each to be placed alone on a low-priority host.
    pub probes: Vec<Box<dyn Actor>>,
    /// Per venue: the feed's latency recorder and the venue's clock offset (made before the
    /// monitor is placed, which consumes the hub).
    feed_latency: Vec<
        Option<(
            crate::latency::recorder::Recorder,
            crate::latency::probe::ClockOffset,
        )>,
    >,
    /// Per venue: the gateway's latency recorder (acks, tick-to-order, its stages).
    gateway_latency: Vec<Option<crate::latency::recorder::Recorder>>,
    /// Per venue: the venue's clock offset, which gateways sign with.
    clock_offsets: Vec<crate::latency::probe::ClockOffset>,
    /// Per strategy: its latency recorder (its decision stage).
    strategy_latency: Vec<Option<crate::latency::recorder::Recorder>>,
    /// The monitor's latest figures (windows, bands, recent band changes), for low-priority
    /// readers: the status line and the run report.
    pub latency_snapshots: crate::latency::SnapshotBoard,
    /// Keys for the in-process simulator's account, when the config runs one.
    /// The in-process simulator's accounts: venue `i` without credentials trades on account
    /// `i` (the last one when there are fewer), so venues can keep their books apart.
    /// Each is (API key, secret, BitMart memo).
    sim_accounts: Vec<(Secret, Secret, Secret)>,
    /// The database (when persistence is on): its writer actor, and one sink per venue's
    /// gateway, created up front so placement order does not matter.
    pub(super) persist: Option<crate::persist::PersistHub>,
    sinks: Vec<Option<crate::persist::PersistSink>>,
    /// Non-final orders of earlier runs, per venue, to reconcile at start.
    recovered: Vec<Vec<crate::types::Order>>,
    pub run_id: Option<i64>,
    /// Gateway events, the notifier and the telemetry actor (see `engine::telemetry`).
    pub telemetry: super::telemetry::TelemetryWiring,
    /// Paper mode, per venue: the feed's trade sender and the paper gateway's receiver.
    paper_trades: Vec<PaperTrades>,
    /// The status and control side's hooks into the actors built here (`engine/status.rs`).
    pub taps: super::status::Taps,
    /// Per strategy: its trade channel when it wants prints or candles (the sender goes to
    /// its venue's feed).
    strategy_trades: Vec<PaperTrades>,
    /// The engine's positions and balances, written by gateways, read by strategies.
    pub positions: PositionBoard,
}

impl Parts {
    pub fn new(
        config: &Config,
        run_start_ms: u64,
        sim_accounts: Vec<(Secret, Secret, Secret)>,
    ) -> Result<Self, String> {
        let intents = config
            .venues
            .iter()
            .map(|_| {
                let (tx, rx) = bounded("order-intents", ORDER_CHANNEL, FullPolicy::Backpressure);
                (tx, Some(rx))
            })
            .collect();
        let updates = config
            .strategies
            .iter()
            .map(|_| {
                let (tx, rx) = bounded("order-updates", ORDER_CHANNEL, FullPolicy::Backpressure);
                (tx, Some(rx))
            })
            .collect();
        let names = config.venues.iter().map(|v| v.name.clone()).collect();
        let latency = LatencyHub::new(&config.latency, names).map_err(|e| e.to_string())?;
        let mut latency = latency.with_export_dir(config.engine.data_dir.join("latency"));
        let board = Some(latency.board());
        let mut feed_latency = Vec::new();
        for v in &config.venues {
            let m = [
                crate::latency::measurement::Measurement::FeedLag,
                crate::latency::measurement::Measurement::StageBook,
            ];
            let r = latency.recorder(v.id, &m).map_err(|e| e.to_string())?;
            feed_latency.push(Some((r, latency.clock_offset(v.id))));
        }
        let mut gateway_latency = Vec::new();
        let clock_offsets = config
            .venues
            .iter()
            .map(|v| latency.clock_offset(v.id))
            .collect();
        for v in &config.venues {
            let m = &crate::gateway::GATEWAY_MEASUREMENTS;
            gateway_latency.push(Some(latency.recorder(v.id, m).map_err(|e| e.to_string())?));
        }
        let mut strategy_latency = Vec::new();
        for s in &config.strategies {
            let m = [crate::latency::measurement::Measurement::StageStrategy];
            strategy_latency.push(Some(
                latency.recorder(s.venue, &m).map_err(|e| e.to_string())?,
            ));
        }
        let latency_snapshots = latency.snapshots();
        let mut probes: Vec<Box<dyn Actor>> = Vec::new();
        if config.engine.mode != Mode::Paper {
            for v in &config.venues {
                let p = latency
                    .probe(v.id, v.kind, &v.rest_url)
                    .map_err(|e| e.to_string())?;
                probes.push(Box::new(p));
            }
        }
        let (mut persist, sinks, recovered, run_id) = open_persistence(config, run_start_ms)?;
        let kill = KillSwitch::default();
        let tele_sink = match persist.as_mut() {
            Some(hub) => Some(hub.sink("telemetry").map_err(|e| e.to_string())?),
            None => None,
        };
        let telemetry = super::telemetry::TelemetryWiring::new(
            config,
            run_id,
            tele_sink,
            &latency,
            kill.clone(),
        )?;
        let paper_trades = config
            .venues
            .iter()
            .map(|_| match config.engine.mode {
                Mode::Paper => {
                    let (tx, rx) = bounded("paper-trades", PAPER_TRADES, FullPolicy::DropNewest);
                    (Some(tx), Some(rx))
                }
                _ => (None, None),
            })
            .collect();
        let venue_names: Vec<String> = config.venues.iter().map(|v| v.name.clone()).collect();
        let strategy_trades = config
            .strategies
            .iter()
            .map(|s| {
                let wants = registry::kind(&s.kind)
                    .and_then(|k| {
                        let inst = config.instruments.get(s.instrument.index())?;
                        let markets: Vec<_> = s
                            .all_markets()
                            .filter_map(|(_, i)| config.instruments.get(i.index()).cloned())
                            .collect();
                        let args = BuildArgs {
                            params: &s.params,
                            instrument: inst,
                            markets: &markets,
                            venues: &venue_names,
                        };
                        (k.build)(&args).ok()
                    })
                    .map(|st| st.subscriptions())
                    .is_some_and(|sub| sub.trades || !sub.candles.is_empty());
                if wants {
                    let (tx, rx) =
                        bounded("strategy-trades", STRATEGY_TRADES, FullPolicy::DropNewest);
                    (Some(tx), Some(rx))
                } else {
                    (None, None)
                }
            })
            .collect();
        Ok(Self {
            strategy_trades,
            positions: PositionBoard::new(
                config.strategies.len(),
                config.instruments.len(),
                config.venues.len(),
            ),
            telemetry,
            paper_trades,
            persist,
            sinks,
            recovered,
            run_id,
            taps: Default::default(),
            cache: BookCache::new(config.instruments.len()),
            kill,
            run_start_ms,
            intents,
            updates,
            reports: bounded("strategy-reports", 64, FullPolicy::DropNewest),
            final_reports: bounded("strategy-final-reports", 1024, FullPolicy::DropNewest),
            latency: Some(latency),
            board,
            probes,
            feed_latency,
            gateway_latency,
            clock_offsets,
            strategy_latency,
            latency_snapshots,
            sim_accounts,
        })
    }

    pub fn reader(&self) -> CacheReader {
        self.cache.reader()
    }

    /// The venue's key, secret and third credential (OKX: the passphrase; BitMart: the
    /// memo, carried in the gateway spec's `passphrase`); without configured credentials, the
    /// in-process simulator's own test account.
    fn credentials(
        &self,
        config: &Config,
        venue: usize,
    ) -> Result<Option<(Secret, Secret, Option<Secret>)>, String> {
        let v = &config.venues[venue];
        match &v.credentials {
            Some(c) => {
                let load = |s: &crate::config::SecretSource| {
                    s.load().map_err(|e| format!("venue {}: {e}", v.name))
                };
                let third = match v.kind {
                    crate::config::VenueKind::BitmartSpot => c.memo.as_ref(),
                    _ => c.passphrase.as_ref(),
                };
                let passphrase = third.map(load).transpose()?;
                Ok(Some((load(&c.api_key)?, load(&c.api_secret)?, passphrase)))
            }
            None => Ok(self
                .sim_accounts
                .get(venue.min(self.sim_accounts.len().saturating_sub(1)))
                .cloned()
                .map(|(k, s, memo)| {
                    let passphrase = match v.kind {
                        crate::config::VenueKind::OkxSpot => {
                            Some(Secret::new(crate::sim::okx_private::OKX_SIM_PASSPHRASE))
                        }
                        crate::config::VenueKind::BitmartSpot => Some(memo),
                        _ => None,
                    };
                    (k, s, passphrase)
                })),
        }
    }

    /// Builds one actor, `Ok(None)` with a reason when this build cannot run it yet.
    pub fn build(
        &mut self,
        config: &Config,
        name: &ActorName,
    ) -> Result<Result<Box<dyn Actor>, &'static str>, String> {
        match name {
            ActorName::Gateway(v) => self.gateway(config, v.index()),
            ActorName::Strategy(s) => self.strategy(config, *s),
            ActorName::Latency => match self.latency.take() {
                Some(hub) => Ok(Ok(Box::new(hub.into_monitor()))),
                None => Ok(Err("the latency monitor was already placed")),
            },
            ActorName::Feed(v) => self.feed(config, v.index()),
            ActorName::Persist => match self.persist.take() {
                Some(hub) => Ok(Ok(Box::new(hub.into_writer()))),
                None => Ok(Err("persistence is disabled")),
            },
            ActorName::Notify => Ok(self.telemetry.notifier()),
            ActorName::Status => Ok(Err(
                "the status actors are built by engine::status::StatusWiring, not here",
            )),
        }
    }

    fn feed(
        &mut self,
        config: &Config,
        venue: usize,
    ) -> Result<Result<Box<dyn Actor>, &'static str>, String> {
        let v = &config.venues[venue];
        let mut writers = Vec::new();
        for i in config.instruments.iter().filter(|i| i.venue == v.id) {
            match self.cache.writer(i.id) {
                Some(w) => writers.push(w),
                None => return Ok(Err("the venue's feed was already placed")),
            }
        }
        let (recorder, offset) = match self.feed_latency.get_mut(venue).and_then(Option::take) {
            Some((r, o)) => (Some(r), Some(o)),
            None => (None, None),
        };
        let spec = crate::feed::actor::FeedSpec {
            venue: v.clone(),
            instruments: config.instruments.clone(),
            connector: Connector::with_public_roots(Duration::from_secs(10))
                .map_err(|e| e.to_string())?,
            writers,
            trades: {
                let mut t: Vec<_> = self
                    .paper_trades
                    .get_mut(venue)
                    .and_then(|t| t.0.take())
                    .into_iter()
                    .collect();
                // Each strategy trading here that wants prints (one channel per strategy,
                // fed by every venue it trades on).
                for (s, st) in config.strategies.iter().zip(&self.strategy_trades) {
                    if s.trades_on(v.id)
                        && let Some(tx) = &st.0
                    {
                        t.push(tx.clone());
                    }
                }
                t
            },
            book_changed: Vec::new(),
            recorder,
            clock_offset: offset,
            record_to: None,
            options: crate::feed::actor::FeedOptions::default(),
        };
        let (feed, stats) =
            super::venues::feed(spec).map_err(|e| format!("feed {}: {e}", v.name))?;
        self.telemetry.watch_feed(&v.name, Arc::clone(&stats));
        self.taps.feed_built(v.id, stats);
        Ok(Ok(feed))
    }

    fn gateway(
        &mut self,
        config: &Config,
        venue: usize,
    ) -> Result<Result<Box<dyn Actor>, &'static str>, String> {
        if config.engine.mode == Mode::Paper {
            return self.paper_gateway(config, venue);
        }
        if !super::venues::order_gateway_built(config.venues[venue].kind) {
            return Ok(Err("this build has no order gateway for the venue's kind"));
        }
        let Some((api_key, api_secret, passphrase)) = self.credentials(config, venue)? else {
            return Ok(Err("the venue has no credentials"));
        };
        let Some(intents) = self.intents[venue].1.take() else {
            return Ok(Err("the venue's gateway was already placed"));
        };
        let v = &config.venues[venue];
        let risk = self.venue_risk(config, venue);
        let updates = config
            .strategies
            .iter()
            .zip(&self.updates)
            .map(|(s, (tx, _))| s.trades_on(v.id).then(|| tx.clone()))
            .collect();
        let cancel_on_stop = config.strategies.iter().map(cancel_on_stop).collect();
        let reader = self.cache.reader();
        let spec = GatewaySpec {
            venue: v.clone(),
            instruments: config.instruments.clone(),
            api_key,
            api_secret,
            passphrase,
            connector: Connector::with_public_roots(Duration::from_secs(10))
                .map_err(|e| e.to_string())?,
            intents,
            updates,
            risk,
            mid: Box::new(move |id| {
                let t = reader.top(id);
                t.valid
                    .then(|| Price::from_units((t.bid.price.units() + t.ask.price.units()) / 2))
            }),
            snapshots: None,
            run_start_ms: self.run_start_ms,
            options: GatewayOptions {
                cancel_on_stop,
                cancel_unknown: v.cancel_unknown_orders,
                ..GatewayOptions::default()
            },
            persist: self.sinks.get_mut(venue).and_then(Option::take),
            recovered: self
                .recovered
                .get_mut(venue)
                .map(std::mem::take)
                .unwrap_or_default(),
        };
        let latency = self.gateway_latency.get_mut(venue).and_then(Option::take);
        let events = self.telemetry.gateway_events();
        let status = self.taps.status.clone();
        let offset = self.clock_offsets.get(venue).cloned();
        let hooks = super::venues::GatewayHooks {
            events,
            clock_offset: offset,
            status,
            latency,
        };
        super::venues::gateway(spec, hooks).map(Ok)
    }

    /// The risk engine of one venue's gateway, publishing positions to the board.
    fn venue_risk(&self, config: &Config, venue: usize) -> RiskEngine {
        let here = config.venues[venue].id;
        venue_risk(
            config,
            here,
            self.kill.clone(),
            UnixNanos(self.run_start_ms * 1_000_000),
        )
        .with_board(self.positions.clone(), here)
    }

    /// Paper mode: the gateway fills orders inside the engine against the book cache and the
    /// feed's trades, with the same risk checks, order records and updates.
    fn paper_gateway(
        &mut self,
        config: &Config,
        venue: usize,
    ) -> Result<Result<Box<dyn Actor>, &'static str>, String> {
        let v = &config.venues[venue];
        let trades_here = config.strategies.iter().any(|s| s.trades_on(v.id));
        if trades_here && !v.streams.contains(&crate::config::StreamKind::Trade) {
            return Err(format!(
                "venue {}: paper mode fills resting orders from public trades; add \"trade\" to its streams",
                v.name
            ));
        }
        let Some(intents) = self.intents[venue].1.take() else {
            return Ok(Err("the venue's gateway was already placed"));
        };
        let Some(trades) = self.paper_trades.get_mut(venue).and_then(|t| t.1.take()) else {
            return Ok(Err("the venue's gateway was already placed"));
        };
        let risk = self.venue_risk(config, venue);
        let mine = |s: &crate::config::StrategyConfig| s.trades_on(v.id);
        let updates = config
            .strategies
            .iter()
            .zip(&self.updates)
            .map(|(s, (tx, _))| mine(s).then(|| tx.clone()))
            .collect();
        let balances = config
            .strategies
            .iter()
            .map(|s| {
                // A strategy on several venues gets its allocation on each (paper accounts).
                let instrument = s.instrument_on(v.id)?;
                let (base, quote) = allocation(s);
                Some((
                    instrument,
                    base,
                    crate::types::Qty::from_units(quote.units()),
                ))
            })
            .collect();
        let spec = crate::gateway::PaperSpec {
            venue: v.clone(),
            instruments: config.instruments.clone(),
            intents,
            trades,
            updates,
            risk,
            book: self.cache.reader(),
            fees: config.paper,
            balances,
            snapshots: None,
            run_start_ms: self.run_start_ms,
            cancel_on_stop: config.strategies.iter().map(cancel_on_stop).collect(),
            snapshot_interval: GatewayOptions::default().snapshot_interval,
            persist: self.sinks.get_mut(venue).and_then(Option::take),
            recovered: self
                .recovered
                .get_mut(venue)
                .map(std::mem::take)
                .unwrap_or_default(),
        };
        let events = self.telemetry.gateway_events();
        let mut g = crate::gateway::PaperGateway::new(spec).with_events(events);
        if let Some(tx) = self.taps.status.clone() {
            g = g.with_status(tx);
        }
        Ok(Ok(Box::new(g)))
    }

    fn strategy(
        &mut self,
        config: &Config,
        id: StrategyId,
    ) -> Result<Result<Box<dyn Actor>, &'static str>, String> {
        let s = &config.strategies[id.index()];
        let kind = registry::kind(&s.kind)
            .ok_or_else(|| format!("strategy {}: unknown kind {:?}", s.name, s.kind))?;
        let instrument = config.instruments[s.instrument.index()].clone();
        let markets: Vec<_> = s
            .all_markets()
            .map(|(_, i)| config.instruments[i.index()].clone())
            .collect();
        let venue_names: Vec<String> = config.venues.iter().map(|v| v.name.clone()).collect();
        let args = BuildArgs {
            params: &s.params,
            instrument: &instrument,
            markets: &markets,
            venues: &venue_names,
        };
        let strategy = (kind.build)(&args).map_err(|errs| {
            let msgs: Vec<String> = errs.into_iter().map(|(k, m)| format!("{k}: {m}")).collect();
            format!("strategy {}: {}", s.name, msgs.join("; "))
        })?;
        let Some(updates) = self.updates[id.index()].1.take() else {
            return Ok(Err("the strategy was already placed"));
        };
        let mut sink = IntentSink::new(
            self.intents[s.venue.index()].0.clone(),
            CidMinter::new(self.run_start_ms, id),
            id,
            s.instrument,
        );
        // One route per venue: a further market on a venue already routed shares its route.
        for (k, (v, i)) in s.markets.iter().enumerate() {
            let routed = s
                .all_markets()
                .take(k + 1)
                .find(|(earlier, _)| earlier == v)
                .map(|(_, first)| first);
            sink = match routed {
                Some(first) => sink.with_market_beside(*i, first),
                None => sink.with_market(*i, self.intents[v.index()].0.clone()),
            };
        }
        // Amends in place where the venue's gateway can (never on paper: paper orders are
        // replaced).
        if config.engine.mode != Mode::Paper {
            for (v, i) in s.all_markets() {
                if let Some(limits) = super::venues::amends_in_place(&config.venues[v.index()]) {
                    sink = sink.with_amend_limits(i, limits);
                }
            }
        }
        let env = Env::new(
            Some(self.cache.reader()),
            markets,
            Some(self.positions.clone()),
        )
        .with_bands(self.board.clone());
        let mut actor = StrategyActor::new(
            format!("strategy:{}", s.name),
            id,
            s.venue,
            s.instrument,
            strategy,
            self.cache.reader(),
            self.board.clone(),
            updates,
            sink,
            self.kill.clone(),
        )
        .with_env(env)
        .with_reports(self.reports.0.clone())
        .with_final_report(self.final_reports.0.clone());
        if let Some(tx) = self.telemetry.notices() {
            actor = actor.with_notices(tx);
        }
        if let Some(tx) = self.telemetry.trade_records() {
            actor = actor.with_trade_records(tx);
        }
        actor = actor.with_status(self.taps.status.clone());
        if s.kind == crate::config::bots::VACANT {
            actor = actor.vacant();
        } else if config.bots.stopped.contains(&s.name) {
            actor = actor.stopped();
        }
        if let Some(rx) = self
            .strategy_trades
            .get_mut(id.index())
            .and_then(|t| t.1.take())
        {
            actor = actor.with_trades(rx);
        }
        actor = match self
            .strategy_latency
            .get_mut(id.index())
            .and_then(Option::take)
        {
            Some(r) => actor.with_latency(r),
            None => actor,
        };
        if let Some(c) = self.taps.controls.as_mut()
            && let Some((rx, acks)) = c.take(id)
        {
            actor = actor
                .with_control(rx)
                .with_reload_acks(acks)
                .with_model_acks(c.model_acks());
        }
        Ok(Ok(Box::new(actor)))
    }
}

impl Parts {
    /// What the status page reads from other rooms: the latency monitor's snapshots, the
    /// database's counters, and the depths of the order channels.
    pub fn status_sources(&self) -> crate::status::StatusSources {
        use crate::status::QueueWatch;
        let mut queues: Vec<QueueWatch> = self
            .intents
            .iter()
            .map(|(tx, _)| QueueWatch::of_tx(tx, ORDER_CHANNEL))
            .collect();
        queues.extend(
            self.updates
                .iter()
                .map(|(tx, _)| QueueWatch::of_tx(tx, ORDER_CHANNEL)),
        );
        crate::status::StatusSources {
            latency: self
                .latency
                .as_ref()
                .map(|h| crate::status::StatusSources::latency_board(h.snapshots())),
            persist: self.persist.as_ref().map(|p| p.stats()),
            notify: None,
            hosts: Vec::new(),
            queues,
        }
    }
}

/// The kind's shutdown rule for one strategy (cancel when in doubt).
fn cancel_on_stop(s: &crate::config::StrategyConfig) -> bool {
    registry::kind(&s.kind).is_none_or(|k| (k.cancel_on_stop)(&s.params))
}

/// The balances allotted to one strategy (`StrategyConfig::allocation`).
pub fn allocation(s: &crate::config::StrategyConfig) -> (crate::types::Qty, Price) {
    s.allocation()
}

type Persistence = (
    Option<crate::persist::PersistHub>,
    Vec<Option<crate::persist::PersistSink>>,
    Vec<Vec<crate::types::Order>>,
    Option<i64>,
);

/// Opens the database (migrating it), records the run, creates one sink per venue and loads
/// the orders earlier runs left open.
fn open_persistence(config: &Config, run_start_ms: u64) -> Result<Persistence, String> {
    use sha2::{Digest, Sha256};
    let n = config.venues.len();
    if !config.persistence.enabled {
        return Ok((
            None,
            (0..n).map(|_| None).collect(),
            vec![Vec::new(); n],
            None,
        ));
    }
    let digest = Sha256::digest(format!("{config:?}").as_bytes());
    let config_hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let info = crate::persist::RunInfo {
        mode: config.engine.mode,
        engine_name: config.engine.name.clone(),
        config_hash,
        started_at: UnixNanos(run_start_ms * 1_000_000),
        catalog: crate::persist::Catalog::of(config),
    };
    let mut hub =
        crate::persist::PersistHub::open(&config.persistence, &config.engine.data_dir, &info)
            .map_err(|e| format!("persistence: {e}"))?;
    let path = if config.persistence.path.is_absolute() {
        config.persistence.path.clone()
    } else {
        config.engine.data_dir.join(&config.persistence.path)
    };
    let conn = crate::persist::schema::open(&path).map_err(|e| format!("persistence: {e}"))?;
    let open =
        crate::persist::load_open_orders(&conn, config.engine.mode, crate::persist::RunScope::All)
            .map_err(|e| format!("persistence: {e}"))?;
    if !open.is_empty() {
        tracing::info!(
            orders = open.len(),
            "orders earlier runs left open: each is queried on the venue at start"
        );
    }
    let mut recovered = vec![Vec::new(); n];
    for o in open {
        if let Some(inst) = config.instruments.get(o.instrument.index()) {
            recovered[inst.venue.index()].push(o);
        }
    }
    let mut sinks = Vec::with_capacity(n);
    for v in &config.venues {
        sinks.push(Some(
            hub.sink(&format!("gateway:{}", v.name))
                .map_err(|e| format!("persistence: {e}"))?,
        ));
    }
    let run_id = Some(hub.run().id);
    Ok((Some(hub), sinks, recovered, run_id))
}

/// The risk engine of venue `here` as the engine builds it (the backtest too): each
/// strategy with its instruments there (the first one its main), the global limits, and how
/// the venue's instruments are valued (contracts, margin).
pub fn venue_risk(
    config: &Config,
    here: crate::types::VenueId,
    kill: crate::risk::KillSwitch,
    start: UnixNanos,
) -> RiskEngine {
    let strategies: Vec<_> = config
        .strategies
        .iter()
        .map(|s| {
            (
                s.risk.clone(),
                s.instrument_on(here).unwrap_or(s.instrument),
            )
        })
        .collect();
    let mut risk = RiskEngine::new(
        config.risk.global.clone(),
        &strategies,
        config.instruments.len(),
        kill,
        start,
    );
    for s in &config.strategies {
        let mine: Vec<_> = s.instruments_on(here).collect();
        risk = risk.with_instruments(s.id, &mine);
    }
    let listed: Vec<_> = config
        .instruments
        .iter()
        .filter(|i| i.venue == here)
        .cloned()
        .collect();
    risk.with_instrument_specs(&listed)
}
