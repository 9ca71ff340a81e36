//! Pre-trade risk: every order passes these checks before its bytes are built. A check costs
//! tens of nanoseconds: integer comparisons over state kept up to date by fills and order
//! events, no allocation, no locks.

pub mod board;
pub mod kill;
pub mod position;
pub mod rate;

pub use board::PositionBoard;
pub use kill::{KillReason, KillSwitch};
pub use position::Position;
pub use rate::TokenBucket;

use crate::config::RiskLimits;
use crate::types::{InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos};

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
}

impl Rule {
    pub const ALL: [Rule; 10] = [
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
}

/// Risk state of one strategy.
#[derive(Debug, Clone)]
struct StrategyRisk {
    limits: RiskLimits,
    instrument: InstrumentId,
    position: Position,
    /// Open (unfilled) quantity of live orders by side, base units at 10^-8.
    open_buy: i64,
    open_sell: i64,
    open_orders: u32,
    trades_today: u32,
    /// Realized PnL and fees at the start of the current UTC day.
    realized_at_day_start: i128,
    fees_at_day_start: i64,
    bucket: Option<TokenBucket>,
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
}

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
    }
}

impl RiskEngine {
    /// `strategies`: each strategy's own limits and instrument, indexed by `StrategyId`.
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
                StrategyRisk {
                    bucket: limits.max_orders_per_sec.map(|r| TokenBucket::new(r, now)),
                    limits,
                    instrument: *instrument,
                    position: Position::default(),
                    open_buy: 0,
                    open_sell: 0,
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
        }
    }

    /// Publishes every position change, and the venue's balances, to `board`.
    pub fn with_board(mut self, board: PositionBoard, venue: crate::types::VenueId) -> Self {
        self.board = Some((board, venue));
        self
    }

    fn publish(&self, strategy: StrategyId) {
        if let (Some((b, venue)), Some(s)) = (&self.board, self.strategies.get(strategy.index())) {
            b.set_position(strategy, *venue, s.position);
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
        let r = self.evaluate(o, now);
        if let Err(rule) = r {
            self.rejections[rule as usize] += 1;
        }
        r
    }

    fn evaluate(&mut self, o: &OrderCheck, now: UnixNanos) -> Result<(), Rule> {
        if self.kill.is_tripped() {
            return Err(Rule::KillSwitch);
        }
        self.roll_day(now);
        let s = self
            .strategies
            .get(o.strategy.index())
            .ok_or(Rule::KillSwitch)?;
        let l = &s.limits;
        if l.max_order_qty.is_some_and(|m| o.qty > m) {
            return Err(Rule::MaxOrderQty);
        }
        if l.max_order_notional
            .is_some_and(|m| o.price.notional(o.qty) > Notional::from_price(m))
        {
            return Err(Rule::MaxOrderNotional);
        }
        if l.max_open_orders.is_some_and(|m| s.open_orders >= m) {
            return Err(Rule::MaxOpenOrders);
        }
        if l.max_trades_per_day.is_some_and(|m| s.trades_today >= m) {
            return Err(Rule::MaxTradesPerDay);
        }
        if let Some(max) = l.max_position {
            // Worst case: this order and every open order on the same side fill.
            let (open_same, dir) = match o.side {
                Side::Buy => (s.open_buy, 1),
                Side::Sell => (s.open_sell, -1),
            };
            let worst = s.position.qty + dir * (open_same + o.qty.units());
            let net =
                self.net.get(o.instrument.index()).copied().unwrap_or(0) + dir * o.qty.units();
            // Orders that move the position toward zero are always allowed through this rule.
            let reduces = (s.position.qty > 0 && dir < 0) || (s.position.qty < 0 && dir > 0);
            if !reduces
                && (worst.unsigned_abs() > max.units().unsigned_abs()
                    || net.unsigned_abs() > max.units().unsigned_abs())
            {
                return Err(Rule::MaxPosition);
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
            let loss = -self.day_pnl(o.strategy, o.mid);
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

    /// Today's PnL of a strategy (realized since the day began, plus unrealized at `mark`,
    /// minus today's quote fees), at 10^-16 quote units.
    pub fn day_pnl(&self, strategy: StrategyId, mark: Option<Price>) -> i128 {
        let Some(s) = self.strategies.get(strategy.index()) else {
            return 0;
        };
        let realized = s.position.realized - s.realized_at_day_start;
        let unrealized = mark.map(|m| s.position.unrealized(m)).unwrap_or(0);
        let fees = i128::from(s.position.quote_fees - s.fees_at_day_start)
            * i128::from(crate::types::SCALE);
        realized + unrealized - fees
    }

    fn roll_day(&mut self, now: UnixNanos) {
        let day = now.0 / NS_PER_DAY;
        if day != self.day {
            self.day = day;
            for s in &mut self.strategies {
                s.trades_today = 0;
                s.realized_at_day_start = s.position.realized;
                s.fees_at_day_start = s.position.quote_fees;
            }
        }
    }

    /// An order went live (sent): it counts as open with `qty` unfilled.
    pub fn on_order_opened(&mut self, strategy: StrategyId, side: Side, qty: Qty) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.open_orders += 1;
            *open_side(s, side) += qty.units();
        }
    }

    /// An order's unfilled quantity shrank by `qty` (fill), or the order ended with `qty`
    /// still unfilled (`closed = true`).
    pub fn on_order_reduced(&mut self, strategy: StrategyId, side: Side, qty: Qty, closed: bool) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            let o = open_side(s, side);
            *o = (*o - qty.units()).max(0);
            if closed {
                s.open_orders = s.open_orders.saturating_sub(1);
            }
        }
    }

    /// A fill: moves the strategy's position and the instrument's net position.
    pub fn on_fill(
        &mut self,
        strategy: StrategyId,
        side: Side,
        qty: Qty,
        quote: Notional,
        quote_fee: Qty,
        now: UnixNanos,
    ) {
        self.roll_day(now);
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.position.apply_fill(side, qty, quote);
            s.position.quote_fees += quote_fee.units();
            s.trades_today += 1;
            if let Some(n) = self.net.get_mut(s.instrument.index()) {
                *n += side.sign() * qty.units();
            }
        }
        self.publish(strategy);
    }

    /// Fees in the quote asset learned after the fill (from the venue's trade list).
    pub fn adjust_quote_fees(&mut self, strategy: StrategyId, delta: Qty) {
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.position.quote_fees += delta.units();
        }
        self.publish(strategy);
    }

    pub fn position(&self, strategy: StrategyId) -> Option<&Position> {
        self.strategies.get(strategy.index()).map(|s| &s.position)
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

    /// The instrument a strategy trades.
    pub fn instrument_of(&self, strategy: StrategyId) -> Option<InstrumentId> {
        self.strategies.get(strategy.index()).map(|s| s.instrument)
    }

    pub fn global_limits(&self) -> &RiskLimits {
        &self.global
    }
}

fn open_side(s: &mut StrategyRisk, side: Side) -> &mut i64 {
    match side {
        Side::Buy => &mut s.open_buy,
        Side::Sell => &mut s.open_sell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }
    const NOW: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

    fn engine(global: RiskLimits, own: RiskLimits) -> RiskEngine {
        RiskEngine::new(
            global,
            &[(own, InstrumentId(0))],
            1,
            KillSwitch::default(),
            NOW,
        )
    }

    fn order(side: Side, price: &str, qty: &str) -> OrderCheck {
        OrderCheck {
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            side,
            price: p(price),
            qty: q(qty),
            mid: Some(p("100")),
        }
    }

    #[test]
    fn each_rule_fires() {
        let table: Vec<(&str, RiskLimits, OrderCheck, Result<(), Rule>)> = vec![
            (
                "no limits",
                RiskLimits::default(),
                order(Side::Buy, "99", "5"),
                Ok(()),
            ),
            (
                "qty",
                RiskLimits {
                    max_order_qty: Some(q("1")),
                    ..Default::default()
                },
                order(Side::Buy, "99", "1.5"),
                Err(Rule::MaxOrderQty),
            ),
            (
                "notional",
                RiskLimits {
                    max_order_notional: Some(p("100")),
                    ..Default::default()
                },
                order(Side::Buy, "99", "1.1"),
                Err(Rule::MaxOrderNotional),
            ),
            (
                "position",
                RiskLimits {
                    max_position: Some(q("2")),
                    ..Default::default()
                },
                order(Side::Sell, "101", "2.5"),
                Err(Rule::MaxPosition),
            ),
            (
                "collar ok",
                RiskLimits {
                    price_collar_bps: Some(100),
                    ..Default::default()
                },
                order(Side::Buy, "99", "1"),
                Ok(()),
            ),
            (
                "collar",
                RiskLimits {
                    price_collar_bps: Some(100),
                    ..Default::default()
                },
                order(Side::Buy, "98.9", "1"),
                Err(Rule::PriceCollar),
            ),
            (
                "no book",
                RiskLimits {
                    price_collar_bps: Some(100),
                    ..Default::default()
                },
                OrderCheck {
                    mid: None,
                    ..order(Side::Buy, "99", "1")
                },
                Err(Rule::NoReferencePrice),
            ),
            (
                "open orders",
                RiskLimits {
                    max_open_orders: Some(0),
                    ..Default::default()
                },
                order(Side::Buy, "99", "1"),
                Err(Rule::MaxOpenOrders),
            ),
            (
                "trades per day",
                RiskLimits {
                    max_trades_per_day: Some(0),
                    ..Default::default()
                },
                order(Side::Buy, "99", "1"),
                Err(Rule::MaxTradesPerDay),
            ),
        ];
        for (name, own, o, want) in table {
            let mut r = engine(RiskLimits::default(), own);
            assert_eq!(r.check(&o, NOW), want, "{name}");
            let counted: u64 = r.rejections().map(|(_, n)| n).sum();
            assert_eq!(
                counted,
                u64::from(want.is_err()),
                "{name}: rejections are counted"
            );
        }
    }

    #[test]
    fn global_and_strategy_limits_combine_to_the_stricter() {
        let mut r = engine(
            RiskLimits {
                max_order_qty: Some(q("1")),
                ..Default::default()
            },
            RiskLimits {
                max_order_qty: Some(q("3")),
                ..Default::default()
            },
        );
        assert_eq!(
            r.check(&order(Side::Buy, "99", "2"), NOW),
            Err(Rule::MaxOrderQty)
        );
    }

    #[test]
    fn position_counts_open_orders_and_allows_reducing() {
        let mut r = engine(
            RiskLimits::default(),
            RiskLimits {
                max_position: Some(q("2")),
                ..Default::default()
            },
        );
        let s = StrategyId(0);
        r.on_order_opened(s, Side::Buy, q("1.5"));
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW),
            Err(Rule::MaxPosition),
            "1.5 open + 1 > 2"
        );
        r.on_order_reduced(s, Side::Buy, q("1.5"), false);
        r.on_fill(
            s,
            Side::Buy,
            q("1.5"),
            p("99").notional(q("1.5")),
            Qty::ZERO,
            NOW,
        );
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW),
            Err(Rule::MaxPosition)
        );
        assert_eq!(
            r.check(&order(Side::Sell, "101", "1"), NOW),
            Ok(()),
            "reducing is allowed"
        );
        assert_eq!(r.position(s).unwrap().qty(), q("1.5"));
    }

    #[test]
    fn daily_loss_trips_the_kill_switch_and_resets_next_day() {
        let mut r = engine(
            RiskLimits::default(),
            RiskLimits {
                max_daily_loss: Some(p("10")),
                ..Default::default()
            },
        );
        let s = StrategyId(0);
        r.on_fill(
            s,
            Side::Buy,
            q("1"),
            p("100").notional(q("1")),
            Qty::ZERO,
            NOW,
        );
        // Marked at 95: −5, fine. At 89: −11 > 10.
        assert_eq!(
            r.check(
                &OrderCheck {
                    mid: Some(p("95")),
                    ..order(Side::Sell, "95", "1")
                },
                NOW
            ),
            Ok(())
        );
        assert_eq!(
            r.check(
                &OrderCheck {
                    mid: Some(p("89")),
                    ..order(Side::Sell, "89", "1")
                },
                NOW
            ),
            Err(Rule::MaxDailyLoss)
        );
        assert!(r.kill_switch().is_tripped());
        assert_eq!(r.kill_switch().reason(), KillReason::DailyLoss);
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW),
            Err(Rule::KillSwitch)
        );
        r.kill_switch().reset();
        assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
    }

    #[test]
    fn order_rate_is_limited_and_refused_orders_spend_no_token() {
        let mut r = engine(
            RiskLimits::default(),
            RiskLimits {
                max_orders_per_sec: Some(2),
                max_order_qty: Some(q("1")),
                ..Default::default()
            },
        );
        assert_eq!(
            r.check(&order(Side::Buy, "99", "5"), NOW),
            Err(Rule::MaxOrderQty)
        );
        assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
        assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW),
            Err(Rule::OrderRate)
        );
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW.plus_nanos(500_000_000)),
            Ok(())
        );
    }

    #[test]
    fn open_orders_are_limited_at_a_non_zero_count_and_free_up_as_orders_end() {
        let mut r = engine(
            RiskLimits::default(),
            RiskLimits {
                max_open_orders: Some(2),
                ..Default::default()
            },
        );
        let s = StrategyId(0);
        for _ in 0..2 {
            assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
            r.on_order_opened(s, Side::Buy, q("1"));
        }
        assert_eq!(r.open_orders(s), 2);
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW),
            Err(Rule::MaxOpenOrders)
        );
        // A partial fill leaves the order open; its end frees the slot.
        r.on_order_reduced(s, Side::Buy, q("0.4"), false);
        assert_eq!(
            r.check(&order(Side::Buy, "99", "1"), NOW),
            Err(Rule::MaxOpenOrders)
        );
        r.on_order_reduced(s, Side::Buy, q("0.6"), true);
        assert_eq!(r.open_orders(s), 1);
        assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
    }

    #[test]
    fn trades_per_day_are_limited_at_a_non_zero_count_and_reset_at_utc_midnight() {
        let mut r = engine(
            RiskLimits::default(),
            RiskLimits {
                max_trades_per_day: Some(3),
                ..Default::default()
            },
        );
        let s = StrategyId(0);
        // NOW is 22:13:20 UTC; the day ends 6 400 s later.
        let midnight = UnixNanos((NOW.0 / NS_PER_DAY + 1) * NS_PER_DAY);
        let fill = |r: &mut RiskEngine, at: UnixNanos| {
            let n = Notional::of(p("100"), q("0.1"));
            r.on_fill(s, Side::Buy, q("0.1"), n, Qty::ZERO, at);
        };
        for _ in 0..3 {
            assert_eq!(r.check(&order(Side::Buy, "99", "0.1"), NOW), Ok(()));
            fill(&mut r, NOW);
        }
        assert_eq!(r.trades_today(s), 3);
        assert_eq!(
            r.check(&order(Side::Buy, "99", "0.1"), NOW),
            Err(Rule::MaxTradesPerDay)
        );
        // Still refused one nanosecond before midnight; allowed from midnight on.
        assert_eq!(
            r.check(&order(Side::Buy, "99", "0.1"), UnixNanos(midnight.0 - 1)),
            Err(Rule::MaxTradesPerDay)
        );
        assert_eq!(r.check(&order(Side::Buy, "99", "0.1"), midnight), Ok(()));
        assert_eq!(r.trades_today(s), 0);
        fill(&mut r, midnight);
        assert_eq!(r.trades_today(s), 1);
        let rejected: u64 = r
            .rejections()
            .filter(|(rule, _)| *rule == Rule::MaxTradesPerDay)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(rejected, 2);
    }
}
