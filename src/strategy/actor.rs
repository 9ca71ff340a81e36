//! Hosts a `Strategy` as an actor: reads its book from the cache (lock-free), its order
//! updates from the gateway, its venue's band from the latency board, and passes it the
//! clock and an intent sink.

use crate::book::CacheReader;
use crate::gateway::OrderUpdate;
use crate::latency::bands::Band;
use crate::latency::board::BandBoard;
use crate::latency::{Measurement, Recorder};
use crate::risk::KillSwitch;
use crate::runtime::{Actor, Ctx, Rx, StartError, Tx};
use crate::types::{InstrumentId, Price, StrategyId, UnixNanos, VenueId};

use super::api::{IntentSink, Strategy, StrategyCtx, StrategyReport};

/// Operator commands for one strategy (from the status endpoint or a reload).
#[derive(Debug, Clone)]
pub enum StrategyControl {
    Pause,
    Resume,
    Reload(toml::Table),
}

/// A strategy's answer to `StrategyControl::Reload`: the parameters it now runs with, or
/// why it refused them (then nothing changed).
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadAck {
    pub strategy: StrategyId,
    pub result: Result<toml::Table, Vec<(String, String)>>,
}

/// A strategy's latest report, published at a modest rate (DropNewest).
#[derive(Debug, Clone, Copy)]
pub struct ReportMsg {
    pub strategy: StrategyId,
    pub mid: Option<Price>,
    pub report: StrategyReport,
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
    reports: Option<Tx<ReportMsg>>,
    final_report: Option<Tx<ReportMsg>>,
    last_seq: u64,
    next_tick: UnixNanos,
    next_report: UnixNanos,
    /// Records `StageStrategy`: a call for a new book → the intents it sent.
    latency: Option<Recorder>,
}

/// The strategy is called at least this often even when the book is quiet (ages quotes).
const TICK_EVERY_NS: u64 = 50_000_000;
const REPORT_EVERY_NS: u64 = 250_000_000;

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
            reports: None,
            final_report: None,
            last_seq: u64::MAX,
            next_tick: UnixNanos::ZERO,
            next_report: UnixNanos::ZERO,
            latency: None,
        }
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

    pub fn with_reports(mut self, tx: Tx<ReportMsg>) -> Self {
        self.reports = Some(tx);
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
        let mut work = self.sink.flush();
        let book = self.cache.top(self.instrument);
        let halted = self.kill.is_tripped();
        if let Some(rx) = &self.control {
            while let Some(c) = rx.try_recv() {
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
                }
            }
        }
        // Split borrows: the band lives in `bands`/`default_band`, the sink apart from them.
        let band = match &self.bands {
            Some(b) => b.band(self.venue),
            None => &self.default_band,
        };
        while let Some(u) = self.updates.try_recv() {
            work += 1;
            let mut cx = StrategyCtx {
                now,
                book,
                tick_at: UnixNanos::ZERO,
                band,
                halted,
                intents: &mut self.sink,
            };
            self.strategy.on_order_update(&u, &mut cx);
        }
        if book.seq != self.last_seq || now >= self.next_tick {
            // A new book (not just time passing): its frame's read instant starts
            // tick-to-order, and the call's duration is the strategy stage.
            let new_book = book.seq != self.last_seq;
            self.last_seq = book.seq;
            self.next_tick = now.plus_nanos(TICK_EVERY_NS);
            let called_at = match &self.latency {
                Some(_) if new_book => Some(ctx.clock.now()),
                _ => None,
            };
            let sent_before = self.sink.sent;
            let mut cx = StrategyCtx {
                now,
                book,
                tick_at: if new_book {
                    book.recv_ts
                } else {
                    UnixNanos::ZERO
                },
                band,
                halted,
                intents: &mut self.sink,
            };
            self.strategy.on_tick(&mut cx);
            if let (Some(r), Some(t0)) = (&mut self.latency, called_at)
                && self.sink.sent != sent_before
            {
                r.record_between(Measurement::StageStrategy, t0, ctx.clock.now());
            }
            work += 1;
        }
        if now >= self.next_report {
            self.next_report = now.plus_nanos(REPORT_EVERY_NS);
            if let Some(tx) = &self.reports {
                let mid = book.valid.then(|| {
                    Price::from_units((book.bid.price.units() + book.ask.price.units()) / 2)
                });
                let _ = tx.send(ReportMsg {
                    strategy: self.id,
                    mid,
                    report: self.strategy.report(mid),
                });
            }
        }
        work
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        let now = ctx.clock.now();
        let book = self.cache.top(self.instrument);
        let band = self.band().clone();
        // Updates the gateway sent while cancelling at shutdown (it stops first on a shared
        // host) still count: fills change inventory.
        while let Some(u) = self.updates.try_recv() {
            let mut cx = StrategyCtx {
                now,
                book,
                tick_at: UnixNanos::ZERO,
                band: &band,
                halted: true,
                intents: &mut self.sink,
            };
            self.strategy.on_order_update(&u, &mut cx);
        }
        let mut cx = StrategyCtx {
            now,
            book,
            tick_at: UnixNanos::ZERO,
            band: &band,
            halted: true,
            intents: &mut self.sink,
        };
        self.strategy.on_stop(&mut cx);
        if let Some(tx) = &self.final_report {
            let mid = book
                .valid
                .then(|| Price::from_units((book.bid.price.units() + book.ask.price.units()) / 2));
            let _ = tx.send(ReportMsg {
                strategy: self.id,
                mid,
                report: self.strategy.report(mid),
            });
        }
        // The gateway may be busy: give the cancels a moment to find room.
        for _ in 0..100 {
            self.sink.flush();
            if self.sink.pending() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if let Some(r) = &mut self.latency {
            r.finish(ctx.clock.now());
        }
    }
}
