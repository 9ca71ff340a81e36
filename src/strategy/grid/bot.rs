//! The grid bot: per level, a ping-pong between a buy and a sell price. It places the first
//! side; each fill of it is answered by an order on the opposite side for what filled; when
//! everything that filled has been matched on the other side the level has made a round trip,
//! booked from the fills' own quote amounts and fees. With `infinite_loop` the level starts
//! again, otherwise it stops. An unfilled first order follows the market by `trailing_percent`
//! (both of the level's prices move by the same amount).

use crate::gateway::OrderUpdate;
use crate::strategy::api::{OrderSpec, Strategy, StrategyCtx, StrategyReport, Subscriptions};
use crate::types::{ClientOrderId, Instrument, InstrumentId, Notional, Price, Qty, Side};
use crate::types::{TradeEvent, UnixNanos};
use crate::types::{OrderKind, SCALE, TimeInForce, bps_of};

use super::params::GridParams;

/// One order of a level.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Leg {
    cid: ClientOrderId,
    qty: Qty,
    filled: Qty,
    /// A cancel (or the cancel half of a replace) was sent.
    cancelling: bool,
}

/// Money of the round trip in progress, exact.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Trip {
    /// Base filled on the first side and on the opposite side.
    entered: i64,
    exited: i64,
    /// Quote of buys and of sells at 10^-16.
    bought: i128,
    sold: i128,
    /// Fees paid in the quote asset and in the base asset, at 10^-8.
    quote_fees: i64,
    base_fees: i64,
}

impl Trip {
    fn add(&mut self, side: Side, entry: bool, qty: Qty, quote: Notional) {
        if entry {
            self.entered += qty.units();
        } else {
            self.exited += qty.units();
        }
        match side {
            Side::Buy => self.bought += quote.0,
            Side::Sell => self.sold += quote.0,
        }
    }

    /// PnL in quote at 10^-16: sells − buys − quote fees − base fees valued at `price`.
    fn pnl(&self, price: Price, open_base: i64) -> i128 {
        let scale = i128::from(SCALE);
        self.sold - self.bought - i128::from(self.quote_fees) * scale
            + i128::from(open_base - self.base_fees) * i128::from(price.units())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No order yet: the first side is placed on the next call (after `retry_at`).
    Idle,
    /// The round trip is under way.
    Working,
    /// One round trip done and `infinite_loop` off.
    Done,
}

#[derive(Debug, Clone)]
struct Level {
    buy: Price,
    sell: Price,
    phase: Phase,
    entries: Vec<Leg>,
    exits: Vec<Leg>,
    /// Filled on the first side, not yet covered by an opposite order.
    to_exit: Qty,
    trip: Trip,
    /// Last price when the live first order was placed (trailing reference).
    anchor: Price,
    retry_at: UnixNanos,
    /// Round trips this level completed.
    done: u32,
}

/// A completed round trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrip {
    pub level: u32,
    /// The level's trip number (its first is 0).
    pub n: u32,
    pub qty: Qty,
    /// Quote of the buys and sells, fees, and the PnL (base fees valued at the exit's average
    /// price), all exact; `f64` only when reported.
    pub bought: Notional,
    pub sold: Notional,
    pub quote_fees: Qty,
    pub base_fees: Qty,
    pub pnl: Notional,
    pub at: UnixNanos,
}

pub struct GridBot {
    params: GridParams,
    instrument: Instrument,
    levels: Vec<Level>,
    last: Option<Price>,
    trips: Vec<RoundTrip>,
    /// Round trips completed (all of them; `trips` keeps the latest).
    trips_done: u64,
    realized: i128,
    fills: u64,
    last_fill: Option<UnixNanos>,
    refusals: u64,
    paused: bool,
    /// The engine corrected the position from the venue's: the levels' books no longer say
    /// what is held, so nothing is placed until the operator resumes (a new grid is laid out).
    corrected: bool,
    /// Orders of this grid that ended, latest last: `(cid, level, the level's trip number
    /// then)`, so that fees the venue reports after the order ended (some venues report an
    /// order's fee after its fill) reach the round trip they belong to.
    ended: std::collections::VecDeque<(ClientOrderId, usize, u32)>,
}

/// After a refusal, a level waits this long before it tries again.
const RETRY_NS: u64 = 1_000_000_000;
/// Round trips kept for reports (the total is kept apart).
const KEEP_TRIPS: usize = 1024;
/// Ended orders remembered for late fees.
const KEEP_ENDED: usize = 256;

impl GridBot {
    pub fn new(params: GridParams, instrument: Instrument) -> Self {
        Self {
            params,
            instrument,
            levels: Vec::new(),
            last: None,
            trips: Vec::new(),
            trips_done: 0,
            realized: 0,
            fills: 0,
            last_fill: None,
            refusals: 0,
            paused: false,
            corrected: false,
            ended: std::collections::VecDeque::new(),
        }
    }

    /// Completed round trips, oldest first (the last `KEEP_TRIPS`).
    pub fn round_trips(&self) -> &[RoundTrip] {
        &self.trips
    }

    /// Realized PnL of every completed round trip, quote at 10^-16.
    pub fn realized(&self) -> Notional {
        Notional(self.realized)
    }

    /// Level 0's buy and sell prices, once known.
    pub fn prices(&self) -> Option<(Price, Price)> {
        self.levels.first().map(|l| (l.buy, l.sell))
    }

    fn tick(&self) -> Price {
        self.instrument.tick_size
    }

    /// The levels' prices from the parameters (or the last price).
    fn lay_out(&mut self, last: Price) {
        let p = &self.params;
        let tick = self.instrument.tick_size;
        let off = |up: bool| {
            let d = bps_of(last.units(), i64::from(p.default_offset_bps));
            let v = if up {
                last.units() + d
            } else {
                last.units() - d
            };
            Price::from_units(v)
        };
        let buy = p.buy_price.unwrap_or_else(|| off(false).floor_to(tick));
        let sell = p.sell_price.unwrap_or_else(|| off(true).ceil_to(tick));
        let step = p.level_spacing.map_or(0, |s| s.units());
        self.ended.clear();
        self.levels = (0..p.levels)
            .map(|k| Level {
                buy: Price::from_units(buy.units() - step * i64::from(k)),
                sell: Price::from_units(sell.units() + step * i64::from(k)),
                phase: Phase::Idle,
                entries: Vec::with_capacity(2),
                exits: Vec::with_capacity(4),
                to_exit: Qty::ZERO,
                trip: Trip::default(),
                anchor: last,
                retry_at: UnixNanos::ZERO,
                done: 0,
            })
            .filter(|l| l.buy.is_positive())
            .collect();
    }

    fn entry_side(&self) -> Side {
        self.params.first_side
    }

    fn order(&self, side: Side, price: Price, qty: Qty) -> OrderSpec {
        OrderSpec {
            reduce_only: false,
            instrument: self.instrument.id,
            side,
            kind: if self.params.post_only {
                OrderKind::LimitMaker
            } else {
                OrderKind::Limit
            },
            tif: TimeInForce::Gtc,
            price,
            qty,
        }
    }

    fn place_entry(&mut self, i: usize, cx: &mut StrategyCtx<'_>) {
        let side = self.entry_side();
        let qty = self.params.quantity.floor_to(self.instrument.lot_size);
        let l = &self.levels[i];
        let price = match side {
            Side::Buy => l.buy,
            Side::Sell => l.sell,
        };
        let spec = self.order(side, price, qty);
        if let Some(cid) = cx.intents.place(spec, cx.tick_at) {
            let anchor = self.last.unwrap_or(price);
            let l = &mut self.levels[i];
            l.entries.push(Leg {
                cid,
                qty,
                filled: Qty::ZERO,
                cancelling: false,
            });
            l.anchor = anchor;
            l.phase = Phase::Working;
        }
    }

    /// Places the opposite order for what filled, once it is a valid order.
    fn place_exit(&mut self, i: usize, cx: &mut StrategyCtx<'_>) {
        let side = self.entry_side().opposite();
        let l = &self.levels[i];
        let price = match side {
            Side::Buy => l.buy,
            Side::Sell => l.sell,
        };
        let qty = l.to_exit.floor_to(self.instrument.lot_size);
        if qty.is_zero() || self.instrument.check_order(price, qty).is_err() {
            return;
        }
        let spec = self.order(side, price, qty);
        if let Some(cid) = cx.intents.place(spec, cx.tick_at) {
            let l = &mut self.levels[i];
            l.to_exit = l.to_exit.saturating_sub(qty);
            l.exits.push(Leg {
                cid,
                qty,
                filled: Qty::ZERO,
                cancelling: false,
            });
        }
    }

    fn cancel_live(&mut self, cx: &mut StrategyCtx<'_>) {
        for l in &mut self.levels {
            for leg in l.entries.iter_mut().chain(l.exits.iter_mut()) {
                if !leg.cancelling {
                    leg.cancelling = true;
                    cx.intents.cancel(leg.cid);
                }
            }
        }
    }

    /// An unfilled first order that the market left behind moves with it.
    fn trail(&mut self, i: usize, last: Price, cx: &mut StrategyCtx<'_>) {
        let bps = self.params.trailing_bps;
        let tick = self.tick();
        let l = &self.levels[i];
        if bps == 0 || l.phase != Phase::Working || l.trip.entered != 0 || !l.exits.is_empty() {
            return;
        }
        let Some(live) = l.entries.iter().find(|e| !e.cancelling).copied() else {
            return;
        };
        let moved = i128::from((last.units() - l.anchor.units()).abs()) * 10_000;
        if moved < i128::from(bps) * i128::from(l.anchor.units()) {
            return;
        }
        let shift = Price::from_units(last.units() - l.anchor.units()).floor_to(tick);
        let (buy, sell) = (
            Price::from_units(l.buy.units() + shift.units()),
            Price::from_units(l.sell.units() + shift.units()),
        );
        if !buy.is_positive() {
            return;
        }
        let price = match self.entry_side() {
            Side::Buy => buy,
            Side::Sell => sell,
        };
        let Some(new) = cx.intents.amend(live.cid, price, live.qty, cx.tick_at) else {
            return;
        };
        let l = &mut self.levels[i];
        // Amended in place (the same order, same id): nothing to track beside it.
        if new != live.cid {
            if let Some(e) = l.entries.iter_mut().find(|e| e.cid == live.cid) {
                e.cancelling = true;
            }
            l.entries.push(Leg {
                cid: new,
                qty: live.qty,
                filled: Qty::ZERO,
                cancelling: false,
            });
        }
        l.buy = buy;
        l.sell = sell;
        l.anchor = last;
    }

    /// Closes the level's round trip if everything that filled was matched.
    fn maybe_complete(&mut self, i: usize, now: UnixNanos) {
        let l = &self.levels[i];
        let done = l.phase == Phase::Working
            && l.entries.is_empty()
            && l.exits.is_empty()
            && l.to_exit.is_zero()
            && l.trip.entered > 0
            && l.trip.exited == l.trip.entered;
        if !done {
            return;
        }
        let t = l.trip;
        let exit_price = match self.entry_side() {
            Side::Buy => l.sell,
            Side::Sell => l.buy,
        };
        // Base fees are valued at the opposite side's average price.
        let avg = match self.entry_side() {
            Side::Buy => t.sold / i128::from(t.exited.max(1)),
            Side::Sell => t.bought / i128::from(t.exited.max(1)),
        };
        let avg = if avg > 0 {
            Price::from_units(avg as i64)
        } else {
            exit_price
        };
        let pnl = t.pnl(avg, 0);
        self.realized += pnl;
        self.trips_done += 1;
        if self.trips.len() == KEEP_TRIPS {
            self.trips.remove(0);
        }
        self.trips.push(RoundTrip {
            level: i as u32,
            n: l.done,
            qty: Qty::from_units(t.entered),
            bought: Notional(t.bought),
            sold: Notional(t.sold),
            quote_fees: Qty::from_units(t.quote_fees),
            base_fees: Qty::from_units(t.base_fees),
            pnl: Notional(pnl),
            at: now,
        });
        let infinite = self.params.infinite_loop;
        let l = &mut self.levels[i];
        l.trip = Trip::default();
        l.done += 1;
        l.phase = if infinite { Phase::Idle } else { Phase::Done };
    }

    fn on_fill(&mut self, i: usize, entry: bool, u: &OrderUpdate) {
        let Some(f) = u.fill else { return };
        self.fills += 1;
        self.last_fill = Some(u.at);
        let (base, quote) = (&self.instrument.base, &self.instrument.quote);
        let l = &mut self.levels[i];
        l.trip.add(f.side, entry, f.qty, f.quote);
        if f.fee_asset.as_str() == quote.as_str() {
            l.trip.quote_fees += f.fee.units();
        } else if f.fee_asset.as_str() == base.as_str() {
            l.trip.base_fees += f.fee.units();
        }
        if entry {
            l.to_exit = Qty::from_units(l.to_exit.units() + f.qty.units());
        }
    }

    /// Fees of `u`'s fills learned after them: the level's trip in progress takes them if
    /// the order belongs to it; a completed trip gives them up from its PnL and the realized
    /// total (a base fee valued at the order's price). A fee in an asset that is neither the
    /// base nor rated in the quote by the venue is left to the engine's records.
    fn late_fee(&mut self, u: &OrderUpdate, fix: crate::gateway::FeeCorrection) {
        let (quote_fee, base_fee) = if fix.asset.as_str() == self.instrument.base {
            (0, fix.delta.units())
        } else if let Some(q) = fix.in_quote {
            (q.units(), 0)
        } else {
            return;
        };
        let at = match self.level_of(u.cid) {
            Some((i, _)) => Some((i, self.levels[i].done)),
            None => self
                .ended
                .iter()
                .rev()
                .find(|e| e.0 == u.cid)
                .map(|&(_, i, n)| (i, n)),
        };
        let current = at.filter(|&(i, n)| self.levels.get(i).is_some_and(|l| l.done == n));
        if let Some((i, _)) = current {
            let t = &mut self.levels[i].trip;
            t.quote_fees += quote_fee;
            t.base_fees += base_fee;
            return;
        }
        let cost = i128::from(quote_fee) * i128::from(SCALE)
            + i128::from(base_fee) * i128::from(u.price.units());
        self.realized -= cost;
        if let Some((i, n)) = at {
            let trip = self.trips.iter_mut().rev().find(|t| t.level == i as u32 && t.n == n);
            if let Some(t) = trip {
                t.quote_fees = Qty::from_units(t.quote_fees.units() + quote_fee);
                t.base_fees = Qty::from_units(t.base_fees.units() + base_fee);
                t.pnl = Notional(t.pnl.0 - cost);
            }
        }
    }

    /// What is left of a trip's first side after `filled` has filled.
    fn entry_left(&self, i: usize) -> Qty {
        let l = &self.levels[i];
        Qty::from_units((self.params.quantity.units() - l.trip.entered).max(0))
            .floor_to(self.instrument.lot_size)
    }

    fn level_of(&self, cid: ClientOrderId) -> Option<(usize, bool)> {
        self.levels.iter().enumerate().find_map(|(i, l)| {
            if l.entries.iter().any(|e| e.cid == cid) {
                Some((i, true))
            } else if l.exits.iter().any(|e| e.cid == cid) {
                Some((i, false))
            } else {
                None
            }
        })
    }

    fn unrealized(&self, mark: Price) -> i128 {
        let sign = self.entry_side().sign();
        self.levels
            .iter()
            .filter(|l| l.trip.entered > 0)
            .map(|l| l.trip.pnl(mark, sign * (l.trip.entered - l.trip.exited)))
            .sum()
    }
}

impl Strategy for GridBot {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            trades: true,
            candles: Vec::new(),
        }
    }

    fn on_trade(&mut self, t: &TradeEvent, _cx: &mut StrategyCtx<'_>) {
        if t.instrument == self.instrument.id {
            self.last = Some(t.price);
        }
    }

    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        if cx.halted || self.paused || self.corrected {
            self.cancel_live(cx);
            return;
        }
        let last = self.last.or_else(|| {
            let b = cx.book;
            (b.valid && b.bid.price.is_positive() && b.ask.price.is_positive())
                .then(|| Price::from_units((b.bid.price.units() + b.ask.price.units()) / 2))
        });
        let Some(last) = last else { return };
        if self.levels.is_empty() {
            self.lay_out(last);
        }
        for i in 0..self.levels.len() {
            let l = &self.levels[i];
            if l.phase == Phase::Idle
                && cx.now >= l.retry_at
                && l.entries.is_empty()
                && l.exits.is_empty()
            {
                self.place_entry(i, cx);
            } else if l.phase == Phase::Working {
                if !l.to_exit.is_zero() && cx.now >= l.retry_at {
                    self.place_exit(i, cx);
                }
                self.trail(i, last, cx);
            }
        }
    }

    fn on_order_update(&mut self, u: &OrderUpdate, cx: &mut StrategyCtx<'_>) {
        let Some((i, entry)) = self.level_of(u.cid) else {
            return;
        };
        self.on_fill(i, entry, u);
        if u.refused.is_some() {
            self.refusals += 1;
            self.levels[i].retry_at = cx.now.plus_nanos(RETRY_NS);
        }
        let l = &mut self.levels[i];
        let legs = if entry { &mut l.entries } else { &mut l.exits };
        let Some(k) = legs.iter().position(|x| x.cid == u.cid) else {
            return;
        };
        legs[k].filled = u.filled_qty;
        if u.refused.is_none() {
            // The order's quantity as the venue holds it (an amend in place changes it).
            legs[k].qty = u.qty;
        }
        if u.status.is_final() {
            let leg = legs.remove(k);
            if self.ended.len() == KEEP_ENDED {
                self.ended.pop_front();
            }
            self.ended.push_back((u.cid, i, l.done));
            if !entry {
                // What the opposite order did not fill goes back to be placed again.
                let left = leg.qty.saturating_sub(leg.filled);
                l.to_exit = Qty::from_units(l.to_exit.units() + left.units());
            } else if l.trip.entered == 0 && l.entries.is_empty() && l.exits.is_empty() {
                // The first order ended unfilled (refused, cancelled, expired): start over.
                l.phase = if l.phase == Phase::Done {
                    Phase::Done
                } else {
                    Phase::Idle
                };
            }
        } else if entry && legs[k].cancelling && u.fill.is_some() {
            // A first order being replaced (trailing) filled meanwhile: the live one shrinks
            // to what is left of the level's quantity.
            let left = self.entry_left(i);
            let l = &mut self.levels[i];
            if let Some(live) = l.entries.iter().find(|e| !e.cancelling).copied() {
                if left.is_zero() {
                    l.entries.iter_mut().for_each(|e| {
                        if e.cid == live.cid {
                            e.cancelling = true
                        }
                    });
                    cx.intents.cancel(live.cid);
                } else if live.filled.is_zero() && left < live.qty {
                    let price = match self.params.first_side {
                        Side::Buy => l.buy,
                        Side::Sell => l.sell,
                    };
                    if let Some(new) = cx.intents.amend(live.cid, price, left, cx.tick_at)
                        && new != live.cid
                    {
                        // (Amended in place, the order's update brings its new quantity.)
                        for e in l.entries.iter_mut().filter(|e| e.cid == live.cid) {
                            e.cancelling = true;
                        }
                        l.entries.push(Leg {
                            cid: new,
                            qty: left,
                            filled: Qty::ZERO,
                            cancelling: false,
                        });
                    }
                }
            }
        }
        let l = &self.levels[i];
        if entry && !l.to_exit.is_zero() && !cx.halted && !self.paused && !self.corrected {
            self.place_exit(i, cx);
        }
        self.maybe_complete(i, cx.now);
    }

    /// Each level's exit was sized from its own fills; after a liquidation or a trade by hand
    /// those exits would open a position instead of closing one. The grid cancels its orders
    /// and places nothing more (reported as `entries_stopped`) until the operator resumes or
    /// starts it: then it lays out a new grid from the market, holding what the engine's
    /// books say (its round trips so far stay booked).
    fn on_position_corrected(&mut self, instrument: InstrumentId, cx: &mut StrategyCtx<'_>) {
        if instrument == self.instrument.id {
            self.corrected = true;
            self.cancel_live(cx);
        }
    }

    fn on_fee_correction(
        &mut self,
        u: &OrderUpdate,
        fix: crate::gateway::FeeCorrection,
        _cx: &mut StrategyCtx<'_>,
    ) {
        self.late_fee(u, fix);
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.params.cancel_on_shutdown {
            cx.intents.cancel_all();
        }
    }

    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        let p = GridParams::from_table(params)?;
        let relayout = p.buy_price != self.params.buy_price
            || p.sell_price != self.params.sell_price
            || p.levels != self.params.levels
            || p.level_spacing != self.params.level_spacing;
        self.params = p;
        // New prices apply to levels not yet working; working levels keep their prices
        // until their round trip completes.
        if relayout && self.levels.iter().all(|l| l.phase != Phase::Working) {
            self.levels.clear();
        }
        Ok(())
    }

    fn report(&self, mark: Option<Price>) -> StrategyReport {
        // The trips book price × venue quantity: a perpetual counted in contracts is worth
        // the contract's base per unit of it (an inverse one's PnL is not linear in the price
        // and is reported as booked).
        let c = self.instrument.contract;
        let value = |v: i128| c.quote_of_price_qty(v).unwrap_or(v) as f64 / Notional::SCALE as f64;
        let realized = value(self.realized);
        let open = value(mark.map_or(0, |m| self.unrealized(m)));
        let live = |side: Side| {
            self.levels.iter().find_map(|l| {
                let (legs, price) = if side == self.entry_side() {
                    (&l.entries, if side == Side::Buy { l.buy } else { l.sell })
                } else {
                    (&l.exits, if side == Side::Buy { l.buy } else { l.sell })
                };
                legs.iter()
                    .find(|e| !e.cancelling)
                    .map(|e| (price, e.qty.saturating_sub(e.filled)))
            })
        };
        let base: i64 = self
            .levels
            .iter()
            .map(|l| self.entry_side().sign() * (l.trip.entered - l.trip.exited))
            .sum();
        StrategyReport {
            bid: live(Side::Buy),
            ask: live(Side::Sell),
            base: Qty::from_units(base),
            quote: 0,
            fills: self.fills,
            pnl: realized + open,
            realized_pnl: realized,
            round_trips: self.trips_done,
            last_fill: self.last_fill,
            paused: self.paused,
            entries_stopped: self
                .corrected
                .then_some("position corrected from the venue's: resume to lay out a new grid"),
            ..StrategyReport::default()
        }
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if !paused && self.corrected {
            // Resumed by the operator after a correction: a new grid from the market.
            self.corrected = false;
            self.levels.clear();
        }
    }
}
