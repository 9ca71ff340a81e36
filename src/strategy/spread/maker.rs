//! The spread market maker as a `Strategy`: keeps at most one quote per side resting at the
//! targets of `quote::targets`, replaces a quote when its target moves past the tolerance or
//! it ages out, pulls everything when the book is invalid or stale, and tracks its inventory
//! from fills.
//!
//! When the engine corrects its position from the venue's (`on_position_corrected`: a fill
//! the engine never learned or one the venue never made, a liquidation, a trade by hand),
//! its base inventory is re-based on the corrected position: from then on it is the base
//! allocation plus the engine's position moved since the start, less base-asset fees, read
//! on every tick (the quote inventory stays as its fills made it: what the venue's change
//! cost in quote is not known here). Its quotes, sized and skewed on the old inventory, are
//! cancelled, and the next tick quotes from the new one with the same rules and limits (the
//! skew, the hard inventory limit, what the inventory affords).

use crate::gateway::OrderUpdate;
use crate::strategy::api::{Strategy, StrategyCtx, StrategyReport};
use crate::types::{ClientOrderId, Instrument, InstrumentId, Price, Qty, Side, UnixNanos};

use super::params::SpreadParams;
use super::quote::{self, BandTerms, Inventory, Quote, Targets};

/// A quote the maker has sent and not yet seen end.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Resting {
    cid: ClientOrderId,
    quote: Quote,
    placed_at: UnixNanos,
    filled: Qty,
    /// A cancel was sent; the quote no longer counts as this side's live quote.
    cancelling: bool,
}

pub struct SpreadMaker {
    params: SpreadParams,
    instrument: Instrument,
    /// Up to a few orders per side: the live quote plus any being cancelled.
    bids: Vec<Resting>,
    asks: Vec<Resting>,
    base: i64,
    quote: i64,
    base0: i64,
    quote0: i64,
    fills: u64,
    last_action: UnixNanos,
    paused: bool,
    /// The engine's position in the instrument at the first tick (units at 10^-8).
    start_position: Option<i64>,
    /// Base-asset fees paid since the start.
    base_fees: i64,
    /// Its position was corrected from the venue's: base is read from the engine's.
    rebased: bool,
    /// The last targets and what they were computed from (`quote::targets` is a pure
    /// function of these, the parameters and the instrument): most new books move only
    /// sizes, not the best prices, and then the targets are the same.
    last: Option<Memo>,
    /// Bumped by every change to its quotes (placed, cancelled, updated), its parameters or
    /// its pause: what `manage` decides from besides the targets and the clock.
    changes: u64,
    /// After a tick that left its quotes alone: until when another tick with the same
    /// targets and no change in between leaves them alone too.
    idle: Option<Idle>,
}

/// A tick that changed nothing, with the remembered targets (`last`: any new targets end
/// it): the state it saw (`changes`), and the first instant a live quote ages out
/// (`refresh_interval`), when a tick may act again.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Idle {
    changes: u64,
    until: UnixNanos,
}

/// `quote::targets`' inputs that change between ticks, and its answer for them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Memo {
    bid: Price,
    ask: Price,
    inventory: Inventory,
    band: BandTerms,
    targets: Targets,
}

impl Memo {
    fn answers(&self, bid: Price, ask: Price, inventory: Inventory, band: BandTerms) -> bool {
        self.bid == bid
            && self.ask == ask
            && self.inventory == inventory
            && self.band.min_spread_bps == band.min_spread_bps
            && self.band.size_multiplier.to_bits() == band.size_multiplier.to_bits()
    }
}

/// Orders per side that may be in flight at once (the live one plus cancels).
const MAX_PER_SIDE: usize = 4;

impl SpreadMaker {
    /// `base` and `quote`: the balances allotted to this strategy (its inventory at start).
    pub fn new(params: SpreadParams, instrument: Instrument, base: Qty, quote: Price) -> Self {
        Self {
            params,
            instrument,
            bids: Vec::with_capacity(MAX_PER_SIDE),
            asks: Vec::with_capacity(MAX_PER_SIDE),
            base: base.units(),
            quote: quote.units(),
            base0: base.units(),
            quote0: quote.units(),
            fills: 0,
            last_action: UnixNanos::ZERO,
            paused: false,
            start_position: None,
            base_fees: 0,
            rebased: false,
            last: None,
            changes: 0,
            idle: None,
        }
    }

    /// `quote::targets` for this book, inventory and band into `last`, unless none of them
    /// changed since it was computed; new targets end `idle`.
    fn update_targets(&mut self, bid: Price, ask: Price, band: BandTerms) {
        let inventory = self.inventory();
        if let Some(m) = &self.last
            && m.answers(bid, ask, inventory, band)
        {
            return;
        }
        let targets = quote::targets(&self.params, &self.instrument, bid, ask, inventory, band);
        self.last = Some(Memo {
            bid,
            ask,
            inventory,
            band,
            targets,
        });
        self.idle = None;
    }

    /// Base from the engine's position (corrected from the venue's) since the start.
    fn rebase(&mut self, cx: &StrategyCtx<'_>) {
        if let Some(start) = self.start_position {
            let moved = cx.position_of(self.instrument.id).qty - start;
            self.base = self.base0 + moved - self.base_fees;
        }
    }

    /// When the first live quote ages out (`needs_replace`'s `refresh_interval`): never
    /// before `placed_at + refresh_interval`; the end of time when none rests.
    fn first_refresh(&self) -> UnixNanos {
        let refresh = self.params.refresh_interval.as_nanos() as u64;
        [Self::live(&self.bids), Self::live(&self.asks)]
            .into_iter()
            .flatten()
            .map(|r| {
                if refresh == 0 {
                    UnixNanos::ZERO
                } else {
                    r.placed_at.plus_nanos(refresh)
                }
            })
            .min()
            .unwrap_or(UnixNanos(u64::MAX))
    }

    fn side_mut(&mut self, side: Side) -> &mut Vec<Resting> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn live(list: &[Resting]) -> Option<&Resting> {
        list.iter().find(|r| !r.cancelling)
    }

    fn cancel_everything(&mut self, cx: &mut StrategyCtx<'_>) {
        self.changes += 1;
        for list in [&mut self.bids, &mut self.asks] {
            for r in list.iter_mut().filter(|r| !r.cancelling) {
                r.cancelling = true;
                cx.intents.cancel(r.cid);
            }
        }
    }

    /// Inventory available to quote from: balances plus what our own quotes hold.
    fn inventory(&self) -> Inventory {
        Inventory {
            base: Qty::from_units(self.base.max(0)),
            quote: Price::from_units(self.quote.max(0)),
        }
    }

    fn place(&mut self, side: Side, q: Quote, cx: &mut StrategyCtx<'_>) {
        if self.side_mut(side).len() >= MAX_PER_SIDE {
            return;
        }
        // Never cross our own orders on the other side, including ones being cancelled.
        let crosses = match side {
            Side::Buy => self.asks.iter().any(|a| a.quote.price <= q.price),
            Side::Sell => self.bids.iter().any(|b| b.quote.price >= q.price),
        };
        if crosses {
            return;
        }
        let cid = cx
            .intents
            .limit(side, q.price, q.qty, self.params.post_only, cx.tick_at);
        let r = Resting {
            cid,
            quote: q,
            placed_at: cx.now,
            filled: Qty::ZERO,
            cancelling: false,
        };
        self.side_mut(side).push(r);
        self.last_action = cx.now;
        self.changes += 1;
    }

    fn manage(&mut self, side: Side, target: Option<Quote>, cx: &mut StrategyCtx<'_>) {
        let live = Self::live(match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        })
        .copied();
        match (live, target) {
            (Some(r), None) => {
                self.cancel(side, r.cid, cx);
            }
            (None, Some(t)) => self.place(side, t, cx),
            (Some(r), Some(t)) => {
                if quote::needs_replace(&self.params, r.quote, r.placed_at, t, cx.now) {
                    self.requote(side, r.cid, t, cx);
                }
            }
            (None, None) => {}
        }
    }

    /// Moves the live quote `old` to `q`: one `Replace` intent (the gateway makes it one
    /// cancel-replace request where the venue has one), or the cancel alone when the new
    /// quote may not go out (it would cross our other side, or the side is full).
    fn requote(&mut self, side: Side, old: ClientOrderId, q: Quote, cx: &mut StrategyCtx<'_>) {
        let Some(i) = self
            .side_mut(side)
            .iter()
            .position(|r| r.cid == old && !r.cancelling)
        else {
            return;
        };
        self.side_mut(side)[i].cancelling = true;
        self.last_action = cx.now;
        self.changes += 1;
        let crosses = match side {
            Side::Buy => self.asks.iter().any(|a| a.quote.price <= q.price),
            Side::Sell => self.bids.iter().any(|b| b.quote.price >= q.price),
        };
        if crosses || self.side_mut(side).len() >= MAX_PER_SIDE {
            cx.intents.cancel(old);
            return;
        }
        let cid = cx.intents.replace(
            old,
            side,
            q.price,
            q.qty,
            self.params.post_only,
            cx.tick_at,
        );
        self.side_mut(side).push(Resting {
            cid,
            quote: q,
            placed_at: cx.now,
            filled: Qty::ZERO,
            cancelling: false,
        });
    }

    fn cancel(&mut self, side: Side, cid: ClientOrderId, cx: &mut StrategyCtx<'_>) {
        if let Some(r) = self
            .side_mut(side)
            .iter_mut()
            .find(|r| r.cid == cid && !r.cancelling)
        {
            r.cancelling = true;
            cx.intents.cancel(cid);
            self.last_action = cx.now;
            self.changes += 1;
        }
    }
}

impl Strategy for SpreadMaker {
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.start_position.is_none() {
            self.start_position = Some(cx.position_of(self.instrument.id).qty);
        }
        if self.rebased {
            self.rebase(cx);
        }
        let stale = cx.now.since(cx.book.recv_ts) > self.params.max_book_age.as_nanos() as u64;
        if cx.halted || self.paused || !cx.book.valid || stale {
            self.cancel_everything(cx);
            return;
        }
        if cx.now.since(self.last_action) < cx.band.throttle.as_nanos() as u64 {
            return;
        }
        let band = BandTerms {
            min_spread_bps: cx.band.min_spread_bps,
            size_multiplier: cx.band.size_multiplier,
        };
        self.update_targets(cx.book.bid.price, cx.book.ask.price, band);
        // The same targets, nothing changed since a tick that left the quotes alone, and no
        // quote aged out yet: `manage` would leave them alone again.
        if let Some(idle) = &self.idle
            && idle.changes == self.changes
            && cx.now < idle.until
        {
            return;
        }
        let Some(t) = self.last.map(|m| m.targets) else {
            return;
        };
        let before = self.changes;
        self.manage(Side::Buy, t.bid, cx);
        self.manage(Side::Sell, t.ask, cx);
        self.idle = (self.changes == before).then(|| Idle {
            changes: before,
            until: self.first_refresh(),
        });
    }

    fn on_order_update(&mut self, u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {
        self.changes += 1;
        if let Some(f) = u.fill {
            self.fills += 1;
            let quote_units = (f.quote.0 / i128::from(crate::types::SCALE)) as i64;
            // Re-based: the next tick reads base from the engine's position (which may hold
            // this fill already).
            let base = if self.rebased { 0 } else { f.qty.units() };
            match f.side {
                Side::Buy => {
                    self.base += base;
                    self.quote -= quote_units;
                }
                Side::Sell => {
                    self.base -= base;
                    self.quote += quote_units;
                }
            }
            let asset = f.fee_asset.as_str();
            if asset == self.instrument.quote {
                self.quote -= f.fee.units();
            } else if asset == self.instrument.base {
                self.base -= f.fee.units();
                self.base_fees += f.fee.units();
            }
        }
        let list = self.side_mut(u.side);
        if let Some(r) = list.iter_mut().find(|r| r.cid == u.cid) {
            r.filled = u.filled_qty;
        }
        if u.status.is_final() {
            list.retain(|r| r.cid != u.cid);
        }
    }

    /// Re-bases the base inventory on the corrected position and pulls its quotes; the next
    /// tick quotes from the new inventory.
    fn on_position_corrected(&mut self, instrument: InstrumentId, cx: &mut StrategyCtx<'_>) {
        if instrument != self.instrument.id || self.start_position.is_none() {
            return;
        }
        self.rebased = true;
        self.changes += 1;
        self.rebase(cx);
        self.cancel_everything(cx);
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.params.cancel_on_shutdown {
            cx.intents.cancel_all();
        }
    }

    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        self.params = SpreadParams::from_table(params)?;
        self.last = None;
        self.idle = None;
        self.changes += 1;
        Ok(())
    }

    fn report(&self, mark: Option<Price>) -> StrategyReport {
        let pick = |l: &[Resting]| Self::live(l).map(|r| (r.quote.price, r.quote.qty));
        let pnl = mark.map_or(0.0, |m| {
            (self.base - self.base0) as f64 / 1e8 * m.to_f64()
                + (self.quote - self.quote0) as f64 / 1e8
        });
        StrategyReport {
            bid: pick(&self.bids),
            ask: pick(&self.asks),
            base: Qty::from_units(self.base),
            quote: self.quote,
            fills: self.fills,
            pnl,
            paused: self.paused,
            ..StrategyReport::default()
        }
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.changes += 1;
    }
}

#[cfg(test)]
mod tests;
