//! Hosts a `Strategy` as an actor: reads its book from the cache (lock-free), its order
//! updates from the gateway, its trade prints from the feed (building its candles), its
//! venue's band from the latency board, fires its timers, and passes it the clock, an intent
//! sink and its environment (depth, positions, balances, open orders).

use crate::book::CacheReader;
use crate::gateway::OrderUpdate;
use crate::latency::bands::Band;
use crate::latency::board::BandBoard;
use crate::latency::{Measurement, Recorder};
use crate::risk::KillSwitch;
use crate::runtime::{Actor, Ctx, Rx, SendError, StartError, Tx};
use crate::types::{
    InstrumentId, Price, StrategyId, StrategyTrade, TradeEvent, UnixNanos, VenueId,
};

use super::api::{Env, Gap, IntentSink, Strategy, StrategyCtx, StrategyReport};
use super::candles::{Candle, CandleBuilder};

/// Operator commands for one strategy (from the status endpoint or a reload).
#[derive(Debug)]
pub enum StrategyControl {
    Pause,
    Resume,
    Reload(toml::Table),
    /// A model read and checked off the hot path (upload or file change), to swap in
    /// between two predictions.
    Model(std::sync::Arc<super::model::Model>),
    /// Cancel its orders and call it no more (its order updates still reach it) until
    /// `Start`.
    Stop,
    Start,
    /// Put a bot built off the hot path into this (vacant) slot.
    Install(Installed),
    /// Take the bot out: close its position first by a collared market order when
    /// `flatten`, cancel its orders, and leave the slot vacant under `slot`.
    Remove {
        flatten: bool,
        slot: String,
    },
    /// In a vacant slot: close the position a removed bot's flatten left, by another
    /// collared market order.
    Flatten,
}

/// A bot for a slot: built and checked by the control actor.
pub struct Installed {
    pub name: String,
    pub strategy: Box<dyn Strategy>,
    /// Start stopped (the overlay said so).
    pub stopped: bool,
}

impl std::fmt::Debug for Installed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Installed({})", self.name)
    }
}

/// How far past the touch a flattening order may fill (basis points).
const FLATTEN_COLLAR_BPS: u32 = 100;

/// A strategy's answer to `StrategyControl::Reload`: the parameters it now runs with, or
/// why it refused them (then nothing changed).
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadAck {
    pub strategy: StrategyId,
    pub result: Result<toml::Table, Vec<(String, String)>>,
}

/// A strategy's answer to `StrategyControl::Model`: the hash of the model it now predicts
/// with, or why it refused the new one (then the old one keeps running).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAck {
    pub strategy: StrategyId,
    pub result: Result<String, String>,
}

/// A strategy's latest report, published at a modest rate (DropNewest).
#[derive(Debug, Clone, Copy)]
pub struct ReportMsg {
    pub strategy: StrategyId,
    pub mid: Option<Price>,
    pub report: StrategyReport,
    /// Trade prints of its instruments delivered to it (to `on_trade` or its candles).
    pub prints: u64,
    /// Trade prints lost because the strategy fell behind (its series had holes).
    pub prints_lost: u64,
    /// Times it was called for a new book (its decisions).
    pub decisions: u64,
    /// Stopped by the operator (orders cancelled, not called).
    pub stopped: bool,
    /// A vacant slot (no bot in it).
    pub vacant: bool,
}

pub struct StrategyActor {
    name: String,
    id: StrategyId,
    venue: VenueId,
    instrument: InstrumentId,
    strategy: Box<dyn Strategy>,
    cache: CacheReader,
    bands: Option<BandBoard>,
    /// Used when no latency monitor runs: no widening, full size, no throttle.
    default_band: Band,
    updates: Rx<OrderUpdate>,
    sink: IntentSink,
    kill: KillSwitch,
    control: Option<Rx<StrategyControl>>,
    reload_acks: Option<Tx<ReloadAck>>,
    model_acks: Option<Tx<ModelAck>>,
    /// Where closed trades go (the telemetry actor stores them); those the channel had no
    /// room for wait in the strategy's environment for the next poll.
    trades_out: Option<Tx<StrategyTrade>>,
    reports: Option<Tx<ReportMsg>>,
    final_report: Option<Tx<ReportMsg>>,
    /// Where the strategy's own view goes (`Strategy::detail`), about once a second.
    status: Option<Tx<crate::status::StatusUpdate>>,
    next_detail: UnixNanos,
    /// Where a strategy's own notices go (it stopped entering), if a notifier runs.
    notices: Option<Tx<crate::notify::Notice>>,
    /// The last `entries_stopped` reported (a change to `Some` is notified once).
    entries_stopped: Option<&'static str>,
    last_seq: u64,
    next_tick: UnixNanos,
    next_report: UnixNanos,
    /// Records `StageStrategy`: a call for a new book → the intents it sent.
    latency: Option<Recorder>,
    env: Env,
    /// Declared instruments besides the main one.
    extra: Vec<InstrumentId>,
    /// Its venues' trade prints (all instruments; those it declared are delivered).
    trades: Option<Rx<TradeEvent>>,
    /// Deliver prints to `on_trade` (the strategy subscribed), not only to its candles.
    deliver_trades: bool,
    candles: Vec<CandleBuilder>,
    candle_buf: Vec<Candle>,
    /// Prints the trade channel dropped, as last seen (a rise is a hole).
    dropped_seen: u64,
    prints: u64,
    prints_lost: u64,
    decisions: u64,
    /// Per declared instrument (the main one first): the position corrections from the venue
    /// the strategy has been told of.
    corrections: Vec<u32>,
    /// Stopped by the operator.
    stopped: bool,
    vacant: bool,
}

/// The context of one call: the sink and environment borrowed from the host apart from the
/// band (which lives in `bands`/`default_band`).
macro_rules! cx {
    ($s:ident, $now:expr, $book:expr, $tick_at:expr, $band:expr, $halted:expr) => {
        StrategyCtx {
            now: $now,
            book: $book,
            tick_at: $tick_at,
            band: $band,
            halted: $halted,
            intents: &mut $s.sink,
            env: &mut $s.env,
        }
    };
}

mod manage;
mod quiet;

/// Prints handled per poll at most (the rest wait for the next poll, never dropped here).
const TRADES_PER_POLL: usize = 4096;
/// A candle closes on the clock this long after its end when no trade of the next bar came.
const CANDLE_GRACE_NS: u64 = 250_000_000;

/// The strategy is called at least this often even when the book is quiet (ages quotes).
const TICK_EVERY_NS: u64 = 50_000_000;
const REPORT_EVERY_NS: u64 = 250_000_000;
/// How often a strategy's own view is built and sent (it may allocate: seldom).
const DETAIL_EVERY_NS: u64 = 1_000_000_000;

impl StrategyActor {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        id: StrategyId,
        venue: VenueId,
        instrument: InstrumentId,
        strategy: Box<dyn Strategy>,
        cache: CacheReader,
        bands: Option<BandBoard>,
        updates: Rx<OrderUpdate>,
        sink: IntentSink,
        kill: KillSwitch,
    ) -> Self {
        Self {
            name,
            id,
            venue,
            instrument,
            strategy,
            cache,
            bands,
            default_band: Band {
                name: "none".into(),
                max_latency_ns: None,
                min_spread_bps: 0,
                size_multiplier: 1.0,
                throttle: std::time::Duration::ZERO,
            },
            updates,
            sink,
            kill,
            control: None,
            reload_acks: None,
            model_acks: None,
            trades_out: None,
            reports: None,
            final_report: None,
            notices: None,
            entries_stopped: None,
            status: None,
            next_detail: UnixNanos::ZERO,
            last_seq: u64::MAX,
            next_tick: UnixNanos::ZERO,
            next_report: UnixNanos::ZERO,
            latency: None,
            env: Env::default(),
            extra: Vec::new(),
            trades: None,
            deliver_trades: false,
            candles: Vec::new(),
            candle_buf: Vec::with_capacity(64),
            dropped_seen: 0,
            prints: 0,
            prints_lost: 0,
            decisions: 0,
            corrections: Vec::new(),
            stopped: false,
            vacant: false,
        }
    }

    /// A vacant slot (reported as such; the control API may install a bot in it).
    pub fn vacant(mut self) -> Self {
        self.vacant = true;
        self
    }

    /// Starts stopped (the overlay says the operator stopped it).
    pub fn stopped(mut self) -> Self {
        self.stopped = true;
        self.strategy.set_paused(true);
        self
    }

    /// What the strategy reads besides its book (depth, instruments, positions, balances).
    /// Its declared instruments other than the main one also wake it when their books change.
    pub fn with_env(mut self, env: Env) -> Self {
        self.extra = env
            .instruments()
            .iter()
            .map(|i| i.id)
            .filter(|id| *id != self.instrument)
            .collect();
        self.env = env;
        self
    }

    /// Its venue's trade prints, for `on_trade` (if it subscribed) and for its candles.
    pub fn with_trades(mut self, rx: Rx<TradeEvent>) -> Self {
        self.subscribe();
        self.dropped_seen = rx.stats().snapshot().1;
        self.trades = Some(rx);
        self
    }

    /// Sets up prints and candles for the strategy's subscriptions.
    fn subscribe(&mut self) {
        let subs = self.strategy.subscriptions();
        self.deliver_trades = subs.trades;
        self.candles = self
            .env
            .instruments()
            .iter()
            .flat_map(|i| {
                subs.candles
                    .iter()
                    .map(|w| CandleBuilder::new(i.id, *w, CANDLE_GRACE_NS))
            })
            .collect();
    }

    /// Records the strategy's decision time (`Measurement::StageStrategy`) into `recorder`.
    pub fn with_latency(mut self, recorder: Recorder) -> Self {
        self.latency = Some(recorder);
        self
    }

    pub fn with_control(mut self, rx: Rx<StrategyControl>) -> Self {
        self.control = Some(rx);
        self
    }

    /// Where the answers to reloads go (the engine's control actor).
    pub fn with_reload_acks(mut self, tx: Tx<ReloadAck>) -> Self {
        self.reload_acks = Some(tx);
        self
    }

    /// Where the answers to model swaps go (the engine's control actor).
    pub fn with_model_acks(mut self, tx: Tx<ModelAck>) -> Self {
        self.model_acks = Some(tx);
        self
    }

    /// Where the trades the strategy closes go (stored as `strategy_trades`).
    pub fn with_trade_records(mut self, tx: Tx<StrategyTrade>) -> Self {
        self.trades_out = Some(tx);
        self
    }

    pub fn with_reports(mut self, tx: Tx<ReportMsg>) -> Self {
        self.reports = Some(tx);
        self
    }

    /// Sends the strategy's own view (if its kind has one) to the status page.
    pub fn with_status(mut self, tx: Option<Tx<crate::status::StatusUpdate>>) -> Self {
        self.status = tx;
        self
    }

    /// Notifies (through `tx`) when the strategy says it stopped entering.
    pub fn with_notices(mut self, tx: Tx<crate::notify::Notice>) -> Self {
        self.notices = Some(tx);
        self
    }

    /// Where the report goes when the strategy stops (the engine's run report).
    pub fn with_final_report(mut self, tx: Tx<ReportMsg>) -> Self {
        self.final_report = Some(tx);
        self
    }

    fn band(&self) -> &Band {
        match &self.bands {
            Some(b) => b.band(self.venue),
            None => &self.default_band,
        }
    }
}

impl StrategyActor {
    /// Delivers waiting trade prints (and the candles they close), tells the strategy of any
    /// it lost, and closes candles on the clock. Returns the work done.
    #[inline]
    fn pump_trades(
        &mut self,
        now: UnixNanos,
        book: &crate::book::TopOfBook,
        halted: bool,
    ) -> usize {
        if self.trades.is_none() {
            return 0;
        }
        self.deliver_trades(now, *book, halted)
    }

    #[inline(never)]
    fn deliver_trades(
        &mut self,
        now: UnixNanos,
        book: crate::book::TopOfBook,
        halted: bool,
    ) -> usize {
        let Some(rx) = &self.trades else { return 0 };
        let band = match &self.bands {
            Some(b) => b.band(self.venue),
            None => &self.default_band,
        };
        let mut work = 0;
        let dropped = rx.stats().snapshot().1;
        if dropped != self.dropped_seen {
            let lost = dropped - self.dropped_seen;
            self.dropped_seen = dropped;
            self.prints_lost += lost;
            for b in &mut self.candles {
                b.mark_hole();
            }
            tracing::warn!(strategy = %self.name, lost, "trade prints lost: the strategy fell behind");
            let mut cx = cx!(self, now, book, UnixNanos::ZERO, band, halted);
            self.strategy.on_gap(Gap::Trades(lost), &mut cx);
            work += 1;
        }
        for _ in 0..TRADES_PER_POLL {
            let Some(t) = rx.try_recv() else { break };
            if self.env.instrument(t.instrument).is_none() {
                continue;
            }
            work += 1;
            self.prints += 1;
            let buf = &mut self.candle_buf;
            for b in self
                .candles
                .iter_mut()
                .filter(|b| b.instrument() == t.instrument)
            {
                b.on_trade(&t, |c| buf.push(c));
            }
            let mut cx = cx!(self, now, book, t.recv_ts, band, halted);
            for c in self.candle_buf.drain(..) {
                self.strategy.on_candle(&c, &mut cx);
            }
            if self.deliver_trades {
                self.strategy.on_trade(&t, &mut cx);
            }
        }
        let buf = &mut self.candle_buf;
        for b in &mut self.candles {
            b.on_clock(now, |c| buf.push(c));
        }
        if !self.candle_buf.is_empty() {
            let mut cx = cx!(self, now, book, UnixNanos::ZERO, band, halted);
            for c in self.candle_buf.drain(..) {
                work += 1;
                self.strategy.on_candle(&c, &mut cx);
            }
        }
        work
    }

    /// Calls `on_timer` for every timer due.
    #[inline]
    fn fire_timers(
        &mut self,
        now: UnixNanos,
        book: &crate::book::TopOfBook,
        halted: bool,
    ) -> usize {
        if self.env.timers.next_due().is_none_or(|t| t > now) {
            return 0;
        }
        self.fire_due(now, *book, halted)
    }

    #[inline(never)]
    fn fire_due(&mut self, now: UnixNanos, book: crate::book::TopOfBook, halted: bool) -> usize {
        let band = match &self.bands {
            Some(b) => b.band(self.venue),
            None => &self.default_band,
        };
        let mut work = 0;
        while let Some(tag) = self.env.timers.pop_due(now) {
            work += 1;
            let mut cx = cx!(self, now, book, UnixNanos::ZERO, band, halted);
            self.strategy.on_timer(tag, &mut cx);
        }
        work
    }
}

impl StrategyActor {
    /// Sends the trades the strategy closed to be stored, oldest first; those the channel
    /// has no room for wait for the next poll (never dropped while the store runs). With no
    /// store they are let go.
    #[inline(never)]
    fn pass_trades(&mut self) -> usize {
        let id = self.id;
        let closed = self.env.closed_trades();
        let Some(tx) = &self.trades_out else {
            closed.clear();
            return 0;
        };
        let mut sent = 0;
        while !closed.is_empty() {
            let mut t = closed.remove(0);
            t.strategy = id;
            match tx.send(t) {
                Ok(()) => sent += 1,
                Err(SendError::Full(t)) => {
                    closed.insert(0, t);
                    break;
                }
                Err(SendError::Disconnected(_)) => {
                    closed.clear();
                    break;
                }
            }
        }
        sent
    }
}

/// The mid of a valid book.
fn mid_of(book: &crate::book::TopOfBook) -> Option<Price> {
    book.valid
        .then(|| Price::from_units((book.bid.price.units() + book.ask.price.units()) / 2))
}

impl StrategyActor {
    fn report_msg(&self, mid: Option<Price>, report: StrategyReport) -> ReportMsg {
        ReportMsg {
            strategy: self.id,
            mid,
            report,
            prints: self.prints,
            prints_lost: self.prints_lost,
            decisions: self.decisions,
            stopped: self.stopped,
            vacant: self.vacant,
        }
    }

    /// Passes every waiting order update to the strategy (called halted: it may cancel, not
    /// open). Returns how many.
    fn drain_updates(
        &mut self,
        now: UnixNanos,
        book: &crate::book::TopOfBook,
        band: &crate::latency::bands::Band,
    ) -> usize {
        let mut n = 0;
        while let Some(u) = self.updates.try_recv() {
            n += 1;
            if u.fee_correction.is_none() {
                self.sink.observe(&u);
            }
            let mut cx = cx!(self, now, *book, UnixNanos::ZERO, band, true);
            match u.fee_correction {
                Some(fix) => self.strategy.on_fee_correction(&u, fix, &mut cx),
                None => self.strategy.on_order_update(&u, &mut cx),
            }
        }
        n
    }
}

impl Actor for StrategyActor {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        if let Some(r) = &mut self.latency {
            r.start(ctx.clock.now());
        }
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let now = ctx.clock.now();
        if let Some(r) = &mut self.latency {
            r.maybe_flush(now);
        }
        if self.quiet(now) {
            return 0;
        }
        let mut work = self.sink.flush();
        let book = self.cache.top(self.instrument);
        let halted = self.kill.is_tripped();
        while let Some(rx) = &self.control {
            let Some(c) = rx.try_recv() else { break };
            {
                work += 1;
                match c {
                    StrategyControl::Pause => self.strategy.set_paused(true),
                    StrategyControl::Resume => self.strategy.set_paused(false),
                    StrategyControl::Reload(t) => {
                        let result = self.strategy.reload(&t).map(|()| t);
                        match &result {
                            Ok(_) => tracing::info!(strategy = %self.name, "parameters reloaded"),
                            Err(errs) => {
                                for (k, m) in errs {
                                    tracing::error!(strategy = %self.name, key = %k, "reload refused: {m}");
                                }
                            }
                        }
                        if let Some(tx) = &self.reload_acks {
                            let _ = tx.send(ReloadAck {
                                strategy: self.id,
                                result,
                            });
                        }
                    }
                    StrategyControl::Model(m) => {
                        let hash = m.hash().to_owned();
                        let result = self.strategy.swap_model(m).map(|()| hash);
                        match &result {
                            Ok(h) => {
                                tracing::info!(strategy = %self.name, model = %h, "model swapped")
                            }
                            Err(e) => {
                                tracing::error!(strategy = %self.name, "model refused, the old one keeps running: {e}")
                            }
                        }
                        if let Some(tx) = &self.model_acks {
                            let _ = tx.send(ModelAck {
                                strategy: self.id,
                                result,
                            });
                        }
                    }
                    c => self.manage(c, now, &book),
                }
            }
        }
        if self.stopped || self.vacant {
            work += self.idle_poll(now, &book);
            return work;
        }
        work += self.pump_trades(now, &book, halted);
        work += self.fire_timers(now, &book, halted);
        // Split borrows: the band lives in `bands`/`default_band`, the sink apart from them.
        let band = match &self.bands {
            Some(b) => b.band(self.venue),
            None => &self.default_band,
        };
        // Most polls find none: a look at the queue is cheaper than a receive.
        while !self.updates.is_empty() {
            let Some(u) = self.updates.try_recv() else {
                break;
            };
            work += 1;
            if u.fee_correction.is_none() {
                self.sink.observe(&u);
            }
            let mut cx = cx!(self, now, book, UnixNanos::ZERO, band, halted);
            match u.fee_correction {
                Some(fix) => self.strategy.on_fee_correction(&u, fix, &mut cx),
                None => self.strategy.on_order_update(&u, &mut cx),
            }
        }
        // The main book's publish counter, plus the other declared instruments' (a strategy
        // on several markets is called when any of its books changes).
        let (seq, recv_ts) = self
            .extra
            .iter()
            .fold((book.seq, book.recv_ts), |(s, t), id| {
                let top = self.cache.top(*id);
                (s.wrapping_add(top.seq), t.max(top.recv_ts))
            });
        if seq != self.last_seq || now >= self.next_tick {
            // A new book (not just time passing): its frame's read instant starts
            // tick-to-order, and the call's duration is the strategy stage.
            let new_book = seq != self.last_seq;
            self.last_seq = seq;
            self.decisions += u64::from(new_book);
            self.next_tick = now.plus_nanos(TICK_EVERY_NS);
            let called_at = match &self.latency {
                Some(_) if new_book => Some(ctx.clock.now()),
                _ => None,
            };
            let sent_before = self.sink.sent;
            // The call's intents (a re-quote: two replaces) leave together after it, so the
            // gateway takes them in one poll and writes them as one burst.
            self.sink.gather();
            let mut cx = cx!(
                self,
                now,
                book,
                if new_book { recv_ts } else { UnixNanos::ZERO },
                band,
                halted
            );
            self.strategy.on_tick(&mut cx);
            work += self.sink.release();
            if let (Some(r), Some(t0)) = (&mut self.latency, called_at)
                && self.sink.sent != sent_before
            {
                r.record_between(Measurement::StageStrategy, t0, ctx.clock.now());
            }
            work += 1;
        }
        if now >= self.next_report {
            self.next_report = now.plus_nanos(REPORT_EVERY_NS);
            // A position the engine corrected from the venue's: the strategy is told (what it
            // keeps of its own holdings is stale).
            self.corrections.resize(1 + self.extra.len(), 0);
            for k in 0..self.corrections.len() {
                let id = if k == 0 {
                    self.instrument
                } else {
                    self.extra[k - 1]
                };
                let n = self.env.corrections(self.id, id);
                if n != self.corrections[k] {
                    self.corrections[k] = n;
                    work += 1;
                    tracing::warn!(strategy = %self.name, instrument = id.index(),
                        "its position was corrected from the venue's: the strategy is told");
                    let mut cx = cx!(self, now, book, UnixNanos::ZERO, band, halted);
                    self.strategy.on_position_corrected(id, &mut cx);
                }
            }
            let mid = mid_of(&book);
            let report = self.strategy.report(mid);
            if report.entries_stopped != self.entries_stopped {
                self.entries_stopped = report.entries_stopped;
                if let (Some(reason), Some(tx)) = (report.entries_stopped, &self.notices) {
                    let _ = tx.send(crate::notify::Notice::EntriesStopped {
                        strategy: self.id,
                        reason,
                    });
                }
            }
            if now >= self.next_detail
                && let Some(tx) = &self.status
            {
                self.next_detail = now.plus_nanos(DETAIL_EVERY_NS);
                if let Some(detail) = self.strategy.detail() {
                    let _ = tx.send(crate::status::StatusUpdate::Detail {
                        strategy: self.id,
                        detail,
                        at: now,
                    });
                }
            }
            if let Some(tx) = &self.reports {
                let _ = tx.send(self.report_msg(mid, report));
            }
        }
        if !self.env.closed_trades().is_empty() {
            work += self.pass_trades();
        }
        work
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        let now = ctx.clock.now();
        let book = self.cache.top(self.instrument);
        let band = self.band().clone();
        // Updates the gateway sent while cancelling at shutdown (it stops first on a shared
        // host) still count: fills change inventory.
        self.drain_updates(now, &book, &band);
        let mut cx = cx!(self, now, book, UnixNanos::ZERO, &band, true);
        self.strategy.on_stop(&mut cx);
        if let Some(tx) = &self.final_report {
            let mid = mid_of(&book);
            let _ = tx.send(self.report_msg(mid, self.strategy.report(mid)));
        }
        // The gateway may be busy: give the cancels a moment to find room.
        for _ in 0..100 {
            self.sink.flush();
            if self.sink.pending() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        for _ in 0..100 {
            self.pass_trades();
            if self.env.closed_trades().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if let Some(r) = &mut self.latency {
            r.finish(ctx.clock.now());
        }
    }
}
