//! TWAP (`kind = "twap"`): buys or sells a total quantity over a duration in equal slices, each
//! slice a collared market order (IOC at the far touch moved by at most `collar_bps`). The
//! schedule is cumulative: slice k brings the filled quantity up to k/n of the total, so what
//! a slice could not fill (thin book, invalid book, collar) is caught up by the next one.
//! Written only against the strategy seam (timers, collared market orders, open orders): it
//! is this module plus its name on the `kinds!` line.
//!
//! The goal is a position: the strategy's position when it starts plus (buy) or minus (sell)
//! `quantity`. What it has executed is counted from its fills until the engine corrects its
//! position from the venue's (a fill the engine never learned, one it learned that the venue
//! never made, a liquidation, a trade by hand: `on_position_corrected`); from then on every
//! slice reads what is executed from the engine's position against the start (never below
//! zero nor above `quantity`), so a missed fill is not bought again (no over-execution) and
//! a phantom one is made up (no stopping short). A correction after the last slice that
//! leaves part of the goal unexecuted sends one collared order for it at once.

use std::time::Duration;

use crate::gateway::OrderUpdate;
use crate::strategy::api::{Strategy, StrategyCtx, StrategyReport, Subscriptions};
use crate::strategy::params::{ParamErrors, ParamReader};
use crate::strategy::registry::{BuildArgs, Kind, changed_keys};
use crate::types::{Instrument, InstrumentId, Notional, Price, Qty, Side, UnixNanos};

#[cfg(test)]
mod tests;

#[derive(Debug, Clone, PartialEq)]
pub struct TwapParams {
    pub side: Side,
    /// Total base quantity.
    pub quantity: Qty,
    pub duration: Duration,
    pub slices: u32,
    /// How far past the far touch a slice may fill, in basis points.
    pub collar_bps: u32,
}

const KNOWN: &[&str] = &["side", "quantity", "duration", "slices", "collar_bps"];

impl TwapParams {
    pub fn from_table(t: &toml::Table) -> Result<Self, ParamErrors> {
        let mut r = ParamReader::new(t, KNOWN);
        let side = match r.choice("side", &["buy", "sell"]) {
            Some("buy") => Side::Buy,
            Some(_) => Side::Sell,
            None => {
                if !r.has("side") {
                    r.error("side", "is required (buy or sell)");
                }
                Side::Buy
            }
        };
        let quantity = r.qty("quantity");
        if quantity.is_none() && !r.has("quantity") {
            r.error("quantity", "is required (total base quantity)");
        }
        let duration = match t.get("duration") {
            Some(toml::Value::String(s)) => match crate::config::parse_duration(s) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => {
                    r.error("duration", "must be positive");
                    Duration::ZERO
                }
                Err(e) => {
                    r.error("duration", e.to_string());
                    Duration::ZERO
                }
            },
            Some(v) => {
                r.error("duration", format!("must be a duration string like \"10m\", got {v}"));
                Duration::ZERO
            }
            None => {
                r.error("duration", "is required (e.g. \"10m\")");
                Duration::ZERO
            }
        };
        let slices = r.int("slices", 10, 1, 10_000);
        let collar_bps = r.int("collar_bps", 10, 1, 1_000);
        r.finish(Self {
            side,
            quantity: quantity.unwrap_or(Qty::ZERO),
            duration,
            slices,
            collar_bps,
        })
    }
}

/// TWAP in the strategy registry.
pub const KIND: Kind = Kind {
    name: "twap",
    validate: |t| TwapParams::from_table(t).map(|_| ()),
    build: |a: &BuildArgs<'_>| {
        let p = TwapParams::from_table(a.params)?;
        Ok(Box::new(Twap::new(p, a.instrument.clone())))
    },
    // The schedule is fixed when it starts.
    restart_keys: |old, new| changed_keys(KNOWN, old, new),
    cancel_on_stop: |_| true,
    allocation: |_| (Qty::ZERO, Price::ZERO),
    model: None,
};

const SLICE_TIMER: u32 = 1;

pub struct Twap {
    p: TwapParams,
    instrument: Instrument,
    started: Option<UnixNanos>,
    /// Slices whose time has come.
    slices_due: u32,
    filled: Qty,
    quote: Notional,
    fills: u64,
    last_fill: Option<UnixNanos>,
    /// Slices that sent nothing (book invalid, or less than a valid order was missing).
    skipped: u32,
    paused: bool,
    /// The engine's position in the instrument when it started (units at 10^-8).
    start_position: Option<i64>,
    /// The engine corrected the position from the venue's: executed is read from it.
    corrected: bool,
}

impl Twap {
    pub fn new(p: TwapParams, instrument: Instrument) -> Self {
        Self {
            p,
            instrument,
            started: None,
            slices_due: 0,
            filled: Qty::ZERO,
            quote: Notional(0),
            fills: 0,
            last_fill: None,
            skipped: 0,
            paused: false,
            start_position: None,
            corrected: false,
        }
    }

    pub fn filled(&self) -> Qty {
        self.filled
    }

    pub fn done(&self) -> bool {
        self.slices_due >= self.p.slices
    }

    /// What the schedule wants filled after `k` slices.
    fn target(&self, k: u32) -> Qty {
        let q = i128::from(self.p.quantity.units()) * i128::from(k) / i128::from(self.p.slices);
        Qty::from_units(q as i64)
    }

    /// What is executed, from the engine's (corrected) position against the start: between
    /// zero and the quantity.
    fn rebase(&mut self, cx: &StrategyCtx<'_>) {
        if let Some(start) = self.start_position {
            let moved = self.p.side.sign() * (cx.position_of(self.instrument.id).qty - start);
            self.filled = Qty::from_units(moved.clamp(0, self.p.quantity.units()));
        }
    }

    fn slice(&mut self, cx: &mut StrategyCtx<'_>) {
        self.slices_due += 1;
        if self.done() {
            cx.cancel_timer(SLICE_TIMER);
        }
        if cx.halted || self.paused {
            self.skipped += 1;
            return;
        }
        if !self.send_up_to(self.target(self.slices_due), cx) {
            self.skipped += 1;
        }
    }

    /// Sends what brings executed plus in flight up to `goal`; false if nothing went out.
    fn send_up_to(&mut self, goal: Qty, cx: &mut StrategyCtx<'_>) -> bool {
        if self.corrected {
            self.rebase(cx);
        }
        let in_flight: i64 = cx
            .open_orders()
            .iter()
            .map(|o| o.qty.saturating_sub(o.filled).units())
            .sum();
        let want = goal.units() - self.filled.units() - in_flight;
        let qty = Qty::from_units(want.max(0)).floor_to(self.instrument.lot_size);
        let far = cx.book.valid.then_some(match self.p.side {
            Side::Buy => cx.book.ask.price,
            Side::Sell => cx.book.bid.price,
        });
        let sendable = far.is_some_and(|p| self.instrument.check_order(p, qty).is_ok());
        sendable
            && cx
                .market(self.instrument.id, self.p.side, qty, self.p.collar_bps)
                .is_some()
    }
}

impl Strategy for Twap {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions::default()
    }

    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.started.is_none() && cx.book.valid {
            self.started = Some(cx.now);
            self.start_position = Some(cx.position_of(self.instrument.id).qty);
            let every = self.p.duration / self.p.slices;
            cx.timer_every(SLICE_TIMER, every.max(Duration::from_millis(1)));
        }
    }

    fn on_timer(&mut self, tag: u32, cx: &mut StrategyCtx<'_>) {
        if tag == SLICE_TIMER && !self.done() {
            self.slice(cx);
        }
    }

    fn on_order_update(&mut self, u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {
        if let Some(f) = u.fill {
            // After a correction the next slice reads executed from the engine's position.
            self.filled = Qty::from_units(self.filled.units() + f.qty.units());
            self.quote = Notional(self.quote.0 + f.quote.0);
            self.fills += 1;
            self.last_fill = Some(u.at);
        }
    }

    /// Executed is re-read from the corrected position; after the last slice, what the goal
    /// still lacks goes out at once.
    fn on_position_corrected(&mut self, instrument: InstrumentId, cx: &mut StrategyCtx<'_>) {
        if instrument != self.instrument.id || self.start_position.is_none() {
            return;
        }
        self.corrected = true;
        self.rebase(cx);
        if self.done() && !cx.halted && !self.paused {
            self.send_up_to(self.p.quantity, cx);
        }
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        cx.intents.cancel_all();
    }

    fn reload(&mut self, params: &toml::Table) -> Result<(), ParamErrors> {
        self.p = TwapParams::from_table(params)?;
        Ok(())
    }

    fn report(&self, _mark: Option<Price>) -> StrategyReport {
        StrategyReport {
            base: Qty::from_units(self.p.side.sign() * self.filled.units()),
            fills: self.fills,
            last_fill: self.last_fill,
            paused: self.paused,
            ..StrategyReport::default()
        }
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }
}
