//! Pre-trade risk: every order passes these checks before its bytes are built. A check costs
//! tens of nanoseconds: integer comparisons over state kept up to date by fills and order
//! events, no allocation, no locks.

pub mod board;
pub mod kill;
pub mod position;
pub mod rate;
pub mod venue_check;

pub use board::PositionBoard;
pub use kill::{KillReason, KillSwitch};
pub use position::Position;
pub use rate::TokenBucket;
pub use venue_check::Correction;

use crate::config::RiskLimits;
use crate::types::{
    Contract, Instrument, InstrumentId, Margin, Notional, Price, Qty, Side, StrategyId, UnixNanos,
};

/// The rule that refused an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    KillSwitch,
    MaxOrderQty,
    MaxOrderNotional,
    MaxPosition,
    MaxOpenOrders,
    PriceCollar,
    NoReferencePrice,
    MaxDailyLoss,
    MaxTradesPerDay,
    OrderRate,
    MaxPositionNotional,
    MaxLeverage,
    LiquidationDistance,
    ReduceOnly,
}

impl Rule {
    pub const ALL: [Rule; 14] = [
        Rule::KillSwitch,
        Rule::MaxOrderQty,
        Rule::MaxOrderNotional,
        Rule::MaxPosition,
        Rule::MaxOpenOrders,
        Rule::PriceCollar,
        Rule::NoReferencePrice,
        Rule::MaxDailyLoss,
        Rule::MaxTradesPerDay,
        Rule::OrderRate,
        Rule::MaxPositionNotional,
        Rule::MaxLeverage,
        Rule::LiquidationDistance,
        Rule::ReduceOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::KillSwitch => "kill_switch",
            Rule::MaxOrderQty => "max_order_qty",
            Rule::MaxOrderNotional => "max_order_notional",
            Rule::MaxPosition => "max_position",
            Rule::MaxOpenOrders => "max_open_orders",
            Rule::PriceCollar => "price_collar",
            Rule::NoReferencePrice => "no_reference_price",
            Rule::MaxDailyLoss => "max_daily_loss",
            Rule::MaxTradesPerDay => "max_trades_per_day",
            Rule::OrderRate => "order_rate",
            Rule::MaxPositionNotional => "max_position_notional",
            Rule::MaxLeverage => "max_leverage",
            Rule::LiquidationDistance => "liquidation_distance",
            Rule::ReduceOnly => "reduce_only",
        }
    }
}

/// An order about to be sent, as risk sees it.
#[derive(Debug, Clone, Copy)]
pub struct OrderCheck {
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Limit price; for market orders the price the strategy expects (e.g. the far touch).
    pub price: Price,
    pub qty: Qty,
    /// The book's mid when the order was decided; `None` if the book is not usable.
    pub mid: Option<Price>,
    /// The order may only reduce the position: refused on spot, and when it is not opposite
    /// the position or larger than it.
    pub reduce_only: bool,
}

/// Risk state of one strategy in one instrument: its position, the open quantity that could
/// still move it (for `max_position`), and the last mid seen (unrealized PnL).
#[derive(Debug, Clone, Copy)]
struct Leg {
    instrument: InstrumentId,
    position: Position,
    /// Open (unfilled) quantity of live orders by side, base units at 10^-8.
    open_buy: i64,
    open_sell: i64,
    /// The instrument's mid as last seen by a check; marks the open position.
    mark: Option<Price>,
}

impl Leg {
    fn new(instrument: InstrumentId) -> Self {
        Self {
            instrument,
            position: Position::default(),
            open_buy: 0,
            open_sell: 0,
            mark: None,
        }
    }
}

/// Instruments a strategy's legs are reserved for without reallocating (a few per venue).
const LEGS: usize = 8;

/// Risk state of one strategy: its legs (one per instrument it trades on this venue, the main
/// one first) and the counters its limits apply to as a whole.
#[derive(Debug, Clone)]
struct StrategyRisk {
    limits: RiskLimits,
    legs: Vec<Leg>,
    open_orders: u32,
    trades_today: u32,
    /// Realized PnL and fees, summed over the legs, at the start of the current UTC day.
    realized_at_day_start: i128,
    fees_at_day_start: i64,
    bucket: Option<TokenBucket>,
}

impl StrategyRisk {
    fn leg(&self, instrument: InstrumentId) -> Option<&Leg> {
        self.legs.iter().find(|l| l.instrument == instrument)
    }

    /// The leg of `instrument`; an instrument not declared gets a leg on first use (the
    /// declared ones are made at start, so the hot path does not allocate).
    fn leg_mut(&mut self, instrument: InstrumentId) -> &mut Leg {
        let i = match self.legs.iter().position(|l| l.instrument == instrument) {
            Some(i) => i,
            None => {
                self.legs.push(Leg::new(instrument));
                self.legs.len() - 1
            }
        };
        &mut self.legs[i]
    }

    /// Realized PnL less funding paid, over the legs.
    fn realized(&self) -> i128 {
        self.legs
            .iter()
            .map(|l| l.position.realized - l.position.funding)
            .sum()
    }

    fn quote_fees(&self) -> i64 {
        self.legs.iter().map(|l| l.position.quote_fees).sum()
    }
}

/// Global and per-strategy limits, positions and counters.
#[derive(Debug)]
pub struct RiskEngine {
    global: RiskLimits,
    strategies: Vec<StrategyRisk>,
    /// Net position per instrument across strategies (base units at 10^-8).
    net: Vec<i64>,
    global_bucket: Option<TokenBucket>,
    kill: KillSwitch,
    /// Rejections per rule, indexed like `Rule::ALL`.
    rejections: [u64; Rule::ALL.len()],
    day: u64,
    /// Where strategies read positions and balances (this engine writes its venue's).
    board: Option<(PositionBoard, crate::types::VenueId)>,
    /// How each instrument's quantities are valued, by instrument index (spot when not
    /// declared).
    specs: Vec<Spec>,
}

/// A perpetual position's figures for the status room (`RiskEngine::perp_figures`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerpFigures {
    pub kind: crate::types::InstrumentKind,
    pub margin_mode: crate::types::MarginMode,
    pub leverage: crate::types::Rate,
    pub entry: Option<Price>,
    pub mark: Option<Price>,
    /// Settlement asset at 10^-16.
    pub unrealized: i128,
    pub liquidation: Option<Price>,
    /// Settlement asset at 10^-16, positive paid.
    pub funding_paid: i128,
}

/// What risk needs to know of an instrument beyond its id: how to value it, and for a
/// perpetual its margin settings and tick (liquidation prices sit on the tick).
#[derive(Debug, Clone, Copy)]
struct Spec {
    contract: Contract,
    margin: Option<Margin>,
    tick: Price,
}

const SPOT: Spec = Spec {
    contract: Contract::SPOT,
    margin: None,
    tick: Price::from_units(1),
};

const NS_PER_DAY: u64 = 86_400_000_000_000;

/// The stricter of two optional limits.
fn stricter<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y < x { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn merge(global: &RiskLimits, own: &RiskLimits) -> RiskLimits {
    RiskLimits {
        max_order_qty: stricter(global.max_order_qty, own.max_order_qty),
        max_order_notional: stricter(global.max_order_notional, own.max_order_notional),
        max_position: stricter(global.max_position, own.max_position),
        max_open_orders: stricter(global.max_open_orders, own.max_open_orders),
        price_collar_bps: stricter(global.price_collar_bps, own.price_collar_bps),
        max_daily_loss: stricter(global.max_daily_loss, own.max_daily_loss),
        max_trades_per_day: stricter(global.max_trades_per_day, own.max_trades_per_day),
        max_orders_per_sec: own.max_orders_per_sec,
        max_position_notional: stricter(global.max_position_notional, own.max_position_notional),
        max_leverage: stricter(global.max_leverage, own.max_leverage),
        // A larger minimum distance is the stricter one.
        min_liquidation_distance_bps: match (
            global.min_liquidation_distance_bps,
            own.min_liquidation_distance_bps,
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
    }
}

impl RiskEngine {
    /// `strategies`: each strategy's own limits and main instrument, indexed by `StrategyId`
    /// (further instruments: [`RiskEngine::with_instruments`]).
    pub fn new(
        global: RiskLimits,
        strategies: &[(RiskLimits, InstrumentId)],
        n_instruments: usize,
        kill: KillSwitch,
        now: UnixNanos,
    ) -> Self {
        let strategies = strategies
            .iter()
            .map(|(own, instrument)| {
                let limits = merge(&global, own);
                let mut legs = Vec::with_capacity(LEGS);
                legs.push(Leg::new(*instrument));
                StrategyRisk {
                    bucket: limits.max_orders_per_sec.map(|r| TokenBucket::new(r, now)),
                    limits,
                    legs,
                    open_orders: 0,
                    trades_today: 0,
                    realized_at_day_start: 0,
                    fees_at_day_start: 0,
                }
            })
            .collect();
        Self {
            global_bucket: global.max_orders_per_sec.map(|r| TokenBucket::new(r, now)),
            global,
            strategies,
            net: vec![0; n_instruments],
            kill,
            rejections: [0; Rule::ALL.len()],
            day: now.0 / NS_PER_DAY,
            board: None,
            specs: Vec::new(),
        }
    }

    /// Declares how the venue's instruments are valued (contract kind and size, margin
    /// settings); instruments not declared are spot.
    pub fn with_instrument_specs(mut self, instruments: &[Instrument]) -> Self {
        for i in instruments {
            let ix = i.id.index();
            if self.specs.len() <= ix {
                self.specs.resize(ix + 1, SPOT);
            }
            self.specs[ix] = Spec {
                contract: i.contract,
                margin: i.margin,
                tick: i.tick_size,
            };
        }
        self
    }

    fn spec(&self, instrument: InstrumentId) -> Spec {
        self.specs.get(instrument.index()).copied().unwrap_or(SPOT)
    }

    /// Declares the further instruments `strategy` trades on this venue (its main one is
    /// declared by `new`): each gets its own position and open quantities.
    pub fn with_instruments(mut self, strategy: StrategyId, instruments: &[InstrumentId]) -> Self {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            for i in instruments {
                s.leg_mut(*i);
            }
        }
        self
    }

    /// Publishes every position change, and the venue's balances, to `board`.
    pub fn with_board(mut self, board: PositionBoard, venue: crate::types::VenueId) -> Self {
        self.board = Some((board, venue));
        self
    }

    fn publish(&self, strategy: StrategyId, instrument: InstrumentId) {
        if let (Some((b, _)), Some(l)) = (
            &self.board,
            self.strategies
                .get(strategy.index())
                .and_then(|s| s.leg(instrument)),
        ) {
            b.set_position(strategy, instrument, l.position);
        }
    }

    /// The venue reported balances (all of them, or the assets that changed).
    pub fn on_balances(&self, report: &[crate::venue::order::Balance]) {
        if let Some((b, venue)) = &self.board {
            b.set_balances(*venue, report, false);
        }
    }

    pub fn kill_switch(&self) -> &KillSwitch {
        &self.kill
    }

    /// Checks one order against every rule; on `Err` the rule is counted. On `Ok` the order
    /// has consumed a rate token and must be sent (or `release_rate` is not needed: tokens
    /// refill).
    pub fn check(&mut self, o: &OrderCheck, now: UnixNanos) -> Result<(), Rule> {
        let r = self.evaluate(o, None, now);
        if let Err(rule) = r {
            self.rejections[rule as usize] += 1;
        }
        r
    }

    /// Checks an amend in place of an open order whose unfilled quantity is `replaced`: `o`
    /// is the order as amended (its new price, and `qty` its new unfilled quantity). Every
    /// rule applies as to a new order except the open-order count (the order is already
    /// open) and the trade count, and `replaced` leaves the open quantity `max_position`
    /// counts.
    pub fn check_amend(
        &mut self,
        o: &OrderCheck,
        replaced: Qty,
        now: UnixNanos,
    ) -> Result<(), Rule> {
        let r = self.evaluate(o, Some(replaced), now);
        if let Err(rule) = r {
            self.rejections[rule as usize] += 1;
        }
        r
    }

    fn evaluate(
        &mut self,
        o: &OrderCheck,
        replaced: Option<Qty>,
        now: UnixNanos,
    ) -> Result<(), Rule> {
        if self.kill.is_tripped() {
            return Err(Rule::KillSwitch);
        }
        self.roll_day(now);
        let s = self
            .strategies
            .get_mut(o.strategy.index())
            .ok_or(Rule::KillSwitch)?;
        if o.mid.is_some() {
            s.leg_mut(o.instrument).mark = o.mid;
        }
        let s = &self.strategies[o.strategy.index()];
        let leg = s
            .leg(o.instrument)
            .copied()
            .unwrap_or(Leg::new(o.instrument));
        let l = &s.limits;
        if l.max_order_qty.is_some_and(|m| o.qty > m) {
            return Err(Rule::MaxOrderQty);
        }
        let spec = self.spec(o.instrument);
        if l.max_order_notional
            .is_some_and(|m| spec.contract.quote_value(o.qty, o.price) > Notional::from_price(m).0)
        {
            return Err(Rule::MaxOrderNotional);
        }
        if replaced.is_none() && l.max_open_orders.is_some_and(|m| s.open_orders >= m) {
            return Err(Rule::MaxOpenOrders);
        }
        if replaced.is_none() && l.max_trades_per_day.is_some_and(|m| s.trades_today >= m) {
            return Err(Rule::MaxTradesPerDay);
        }
        // Worst case: this order and every open order on the same side fill.
        let (open_same, dir) = match o.side {
            Side::Buy => (leg.open_buy, 1),
            Side::Sell => (leg.open_sell, -1),
        };
        let position = leg.position.qty;
        let open_same = (open_same - replaced.map_or(0, |q| q.units())).max(0);
        let adding = open_same + o.qty.units();
        let worst = position + dir * adding;
        // Orders that move the position toward zero are always allowed through the position
        // rules (a reduce-only order never fails them).
        let reduces = (position > 0 && dir < 0) || (position < 0 && dir > 0);
        if o.reduce_only && (spec.margin.is_none() || !reduces || o.qty.units() > position.abs()) {
            return Err(Rule::ReduceOnly);
        }
        if let Some(max) = l.max_position {
            let net =
                self.net.get(o.instrument.index()).copied().unwrap_or(0) + dir * o.qty.units();
            if !reduces
                && (worst.unsigned_abs() > max.units().unsigned_abs()
                    || net.unsigned_abs() > max.units().unsigned_abs())
            {
                return Err(Rule::MaxPosition);
            }
        }
        if let Some(max) = l.max_position_notional
            && !reduces
            && spec
                .contract
                .settle_value(Qty::from_units(worst.abs()), o.price)
                > Notional::from_price(max).0
        {
            return Err(Rule::MaxPositionNotional);
        }
        if let Some(m) = spec.margin {
            if l.max_leverage.is_some_and(|max| m.leverage > max) {
                return Err(Rule::MaxLeverage);
            }
            // Only an order that leaves a larger position on its side (or flips it) can bring
            // the liquidation price closer.
            let grows = worst.unsigned_abs() > position.unsigned_abs() || worst * position < 0;
            if let Some(bps) = l.min_liquidation_distance_bps
                && grows
            {
                let mid = o.mid.ok_or(Rule::NoReferencePrice)?;
                let cost = if worst * position > 0 {
                    leg.position.cost
                        + i128::from(dir)
                            * spec.contract.fill_cost(Qty::from_units(adding), o.price).0
                } else {
                    i128::from(worst.signum())
                        * spec
                            .contract
                            .fill_cost(Qty::from_units(worst.abs()), o.price)
                            .0
                };
                if !liquidation_far_enough(&spec, m, worst, cost, mid, bps) {
                    return Err(Rule::LiquidationDistance);
                }
            }
        }
        if let Some(bps) = l.price_collar_bps {
            let mid = o.mid.ok_or(Rule::NoReferencePrice)?;
            let dev = i128::from((o.price.units() - mid.units()).abs()) * 10_000;
            if dev > i128::from(bps) * i128::from(mid.units()) {
                return Err(Rule::PriceCollar);
            }
        }
        if let Some(max_loss) = l.max_daily_loss {
            let loss = -self.day_pnl(o.strategy, |_| None);
            if loss > i128::from(max_loss.units()) * i128::from(crate::types::SCALE) {
                self.kill.trip(KillReason::DailyLoss);
                return Err(Rule::MaxDailyLoss);
            }
        }
        // Rate last, so a refused order never spends a token.
        let s = &mut self.strategies[o.strategy.index()];
        if let Some(b) = s.bucket.as_mut()
            && !b.try_take(now)
        {
            return Err(Rule::OrderRate);
        }
        if let Some(b) = self.global_bucket.as_mut()
            && !b.try_take(now)
        {
            return Err(Rule::OrderRate);
        }
        Ok(())
    }

    /// Today's PnL of a strategy over all its instruments on this venue (realized since the
    /// day began, plus each open position marked at `mark(instrument)` or else at the last mid
    /// a check saw, minus today's quote fees), at 10^-16 quote units.
    pub fn day_pnl(
        &self,
        strategy: StrategyId,
        mark: impl Fn(InstrumentId) -> Option<Price>,
    ) -> i128 {
        let Some(s) = self.strategies.get(strategy.index()) else {
            return 0;
        };
        let realized = s.realized() - s.realized_at_day_start;
        let unrealized: i128 = s
            .legs
            .iter()
            .map(|l| {
                let c = self.spec(l.instrument).contract;
                mark(l.instrument)
                    .or(l.mark)
                    .map_or(0, |m| c.unrealized(l.position.qty, l.position.cost, m))
            })
            .sum();
        let fees =
            i128::from(s.quote_fees() - s.fees_at_day_start) * i128::from(crate::types::SCALE);
        realized + unrealized - fees
    }

    fn roll_day(&mut self, now: UnixNanos) {
        let day = now.0 / NS_PER_DAY;
        if day != self.day {
            self.day = day;
            for s in &mut self.strategies {
                s.trades_today = 0;
                s.realized_at_day_start = s.realized();
                s.fees_at_day_start = s.quote_fees();
            }
        }
    }

    /// An order went live (sent): it counts as open with `qty` unfilled.
    pub fn on_order_opened(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        qty: Qty,
    ) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.open_orders += 1;
            *open_side(s.leg_mut(instrument), side) += qty.units();
        }
    }

    /// An open order was amended in place: its unfilled quantity went from `was` to `now`.
    pub fn on_order_resized(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        was: Qty,
        now: Qty,
    ) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            let o = open_side(s.leg_mut(instrument), side);
            *o = (*o - was.units() + now.units()).max(0);
        }
    }

    /// An order's unfilled quantity shrank by `qty` (fill), or the order ended with `qty`
    /// still unfilled (`closed = true`).
    pub fn on_order_reduced(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        qty: Qty,
        closed: bool,
    ) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            let o = open_side(s.leg_mut(instrument), side);
            *o = (*o - qty.units()).max(0);
            if closed {
                s.open_orders = s.open_orders.saturating_sub(1);
            }
        }
    }

    /// A fill: moves the strategy's position in the instrument and the instrument's net
    /// position; counts a trade of the strategy.
    #[allow(clippy::too_many_arguments)]
    pub fn on_fill(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        qty: Qty,
        quote: Notional,
        quote_fee: Qty,
        now: UnixNanos,
    ) {
        self.roll_day(now);
        let contract = self.spec(instrument).contract;
        // A perpetual books its own cost (contracts, the settlement asset): from the fill's
        // average price, exact for a fill at one price.
        let cost = if contract == Contract::SPOT || qty.units() <= 0 {
            quote
        } else {
            let price = (quote.0 / i128::from(qty.units())).clamp(0, i128::from(i64::MAX));
            contract.fill_cost(qty, Price::from_units(price as i64))
        };
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            let leg = s.leg_mut(instrument);
            leg.position.apply_fill(side, qty, cost);
            leg.position.quote_fees += quote_fee.units();
            s.trades_today += 1;
            if let Some(n) = self.net.get_mut(instrument.index()) {
                *n += side.sign() * qty.units();
            }
        }
        self.publish(strategy, instrument);
    }

    /// A funding payment on a perpetual position: `paid` in the settlement asset at `10^-16`
    /// (positive paid, negative received). It counts in the day's loss like a fee.
    pub fn on_funding(&mut self, strategy: StrategyId, instrument: InstrumentId, paid: i128) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.leg_mut(instrument).position.funding += paid;
        }
        self.publish(strategy, instrument);
    }

    /// Fees in the quote asset learned after the fill (from the venue's trade list).
    pub fn adjust_quote_fees(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        delta: Qty,
    ) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.leg_mut(instrument).position.quote_fees += delta.units();
        }
        self.publish(strategy, instrument);
    }

    /// The strategy's position in its main instrument on this venue.
    pub fn position(&self, strategy: StrategyId) -> Option<&Position> {
        self.strategies
            .get(strategy.index())
            .and_then(|s| s.legs.first())
            .map(|l| &l.position)
    }

    /// A perpetual position of the strategy's main instrument here, as the status room shows
    /// it: entry, mark, unrealized PnL, leverage, liquidation price (isolated, at the
    /// leverage's initial margin) and funding paid. `None` for spot.
    pub fn perp_figures(&self, strategy: StrategyId, mark: Option<Price>) -> Option<PerpFigures> {
        let leg = self.strategies.get(strategy.index())?.legs.first()?;
        let spec = self.spec(leg.instrument);
        let m = spec.margin?;
        let pos = &leg.position;
        let size = Qty::from_units(pos.qty.abs());
        let entry = spec.contract.entry_price(size, pos.cost.abs());
        let mark = mark.or(leg.mark);
        let liquidation = entry.and_then(|e| {
            let im = spec.contract.initial_margin(size, e, m.leverage)?;
            let side = if pos.qty > 0 { Side::Buy } else { Side::Sell };
            spec.contract
                .liquidation_price(side, size, e, im, m.maintenance, spec.tick)
        });
        Some(PerpFigures {
            kind: spec.contract.kind,
            margin_mode: m.mode,
            leverage: m.leverage,
            entry,
            mark,
            unrealized: mark.map_or(0, |p| spec.contract.unrealized(pos.qty, pos.cost, p)),
            liquidation,
            funding_paid: pos.funding,
        })
    }

    /// The strategy's position in `instrument` (`None` if it has none there).
    pub fn position_of(&self, strategy: StrategyId, instrument: InstrumentId) -> Option<&Position> {
        self.strategies
            .get(strategy.index())?
            .leg(instrument)
            .map(|l| &l.position)
    }

    /// Realized PnL minus quote fees over all the strategy's instruments here, 10^-16 quote
    /// units.
    pub fn realized_net(&self, strategy: StrategyId) -> i128 {
        self.strategies.get(strategy.index()).map_or(0, |s| {
            s.realized() - i128::from(s.quote_fees()) * i128::from(crate::types::SCALE)
        })
    }

    /// The fees every strategy paid that count in the quote asset (paid in it, or rated in
    /// it by the venue), over all its instruments here, indexed by `StrategyId`.
    pub fn quote_fees(&self) -> Vec<Qty> {
        self.strategies
            .iter()
            .map(|s| Qty::from_units(s.quote_fees()))
            .collect()
    }

    pub fn trades_today(&self, strategy: StrategyId) -> u32 {
        self.strategies
            .get(strategy.index())
            .map(|s| s.trades_today)
            .unwrap_or(0)
    }

    pub fn open_orders(&self, strategy: StrategyId) -> u32 {
        self.strategies
            .get(strategy.index())
            .map(|s| s.open_orders)
            .unwrap_or(0)
    }

    /// Rejections so far per rule.
    pub fn rejections(&self) -> impl Iterator<Item = (Rule, u64)> + '_ {
        Rule::ALL.iter().map(|r| (*r, self.rejections[*r as usize]))
    }

    /// The main instrument a strategy trades on this venue.
    pub fn instrument_of(&self, strategy: StrategyId) -> Option<InstrumentId> {
        self.strategies
            .get(strategy.index())
            .and_then(|s| s.legs.first())
            .map(|l| l.instrument)
    }

    pub fn global_limits(&self) -> &RiskLimits {
        &self.global
    }
}

/// Whether a position of `qty` (signed) with open cost `cost`, margined at its initial margin
/// (the leverage's; for cross margin this leaves out the account's other funds, so the
/// liquidation price it finds is the nearest one), would be liquidated at least `bps` of
/// `mid` away from `mid`.
fn liquidation_far_enough(
    spec: &Spec,
    m: Margin,
    qty: i64,
    cost: i128,
    mid: Price,
    bps: u32,
) -> bool {
    let size = Qty::from_units(qty.abs());
    let Some(entry) = spec.contract.entry_price(size, cost.abs()) else {
        return false;
    };
    let Some(margin) = spec.contract.initial_margin(size, entry, m.leverage) else {
        return false;
    };
    let side = if qty > 0 { Side::Buy } else { Side::Sell };
    let Some(liq) =
        spec.contract
            .liquidation_price(side, size, entry, margin, m.maintenance, spec.tick)
    else {
        return true; // no price liquidates it
    };
    // Long: liquidated below the mid; short: above.
    let gap = (mid.units() - liq.units()) * side.sign();
    gap > 0 && i128::from(gap) * 10_000 >= i128::from(bps) * i128::from(mid.units())
}

fn open_side(s: &mut Leg, side: Side) -> &mut i64 {
    match side {
        Side::Buy => &mut s.open_buy,
        Side::Sell => &mut s.open_sell,
    }
}

#[cfg(test)]
mod perp_tests;
#[cfg(test)]
mod tests;
