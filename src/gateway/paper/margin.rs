//! One strategy's paper margin account on a perpetual: a balance in the settlement asset, the
//! position (average cost, as the risk engine keeps it), the initial margin its open orders
//! hold, funding at the instrument's funding times, and liquidation when the mark reaches the
//! liquidation price. Every amount is the settlement asset at `10^-16`.
//!
//! The rules are the venues' published isolated-margin ones: an order that grows the
//! position holds `value / leverage` of margin from the available balance; the position holds
//! its initial margin at its entry; realized PnL, fees and funding move the balance; the
//! position is liquidated at [`Contract::liquidation_price`] with the position's margin (in
//! cross mode, the whole balance not held by orders). A liquidation closes the whole
//! position at the liquidation price, as the venue's liquidation engine would (no insurance
//! fund or auto-deleveraging is modelled).

use crate::risk::Position;
use crate::types::perp::next_funding_ms;
use crate::types::{Contract, Instrument, InstrumentId, Margin, MarginMode, Price, Qty, Side};

#[derive(Debug, Clone)]
pub struct MarginAccount {
    pub instrument: InstrumentId,
    contract: Contract,
    margin: Margin,
    tick: Price,
    /// Deposits + realized PnL − fees − funding.
    pub balance: i128,
    /// The position in venue units and its open cost.
    pub position: Position,
    /// Initial margin held by open orders.
    pub order_margin: i128,
    pub funding_paid: i128,
    pub fees_paid: i128,
    pub liquidations: u32,
    /// The next funding time, ms since the epoch.
    pub next_funding_ms: u64,
}

/// A funding payment made by [`MarginAccount::fund`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funding {
    /// The funding time it was due at, ms.
    pub at_ms: u64,
    /// Position at that time (venue units, signed).
    pub qty: i64,
    pub mark: Price,
    pub rate: crate::types::FundingRate,
    /// Paid (positive) or received (negative).
    pub paid: i128,
}

impl MarginAccount {
    /// An account for `instrument` (a perpetual: it has margin settings) holding `deposit`,
    /// opened at `now_ms`. `None` for a spot instrument.
    pub fn new(instrument: &Instrument, deposit: i128, now_ms: u64) -> Option<Self> {
        let margin = instrument.margin?;
        Some(Self {
            instrument: instrument.id,
            contract: instrument.contract,
            margin,
            tick: instrument.tick_size,
            balance: deposit,
            position: Position::default(),
            order_margin: 0,
            funding_paid: 0,
            fees_paid: 0,
            liquidations: 0,
            next_funding_ms: next_funding_ms(now_ms, margin.funding_interval_ms),
        })
    }

    pub fn contract(&self) -> Contract {
        self.contract
    }

    pub fn leverage(&self) -> crate::types::Rate {
        self.margin.leverage
    }

    /// The position's average entry price (`None` when flat).
    pub fn entry(&self) -> Option<Price> {
        self.contract.entry_price(
            Qty::from_units(self.position.qty.abs()),
            self.position.cost.abs(),
        )
    }

    /// The initial margin the open position holds at its entry.
    pub fn position_margin(&self) -> i128 {
        match self.entry() {
            Some(e) => self
                .contract
                .initial_margin(
                    Qty::from_units(self.position.qty.abs()),
                    e,
                    self.margin.leverage,
                )
                .unwrap_or(0),
            None => 0,
        }
    }

    /// What new orders can still hold: balance − position margin − order margin.
    pub fn available(&self) -> i128 {
        self.balance - self.position_margin() - self.order_margin
    }

    /// The margin an order of `qty` on `side` at `price` must hold: the initial margin of the
    /// part that grows the position (closing the position needs none).
    pub fn margin_for(&self, side: Side, qty: Qty, price: Price) -> i128 {
        let pos = self.position.qty;
        let closing = if pos * side.sign() < 0 {
            qty.units().min(pos.abs())
        } else {
            0
        };
        let grows = Qty::from_units(qty.units() - closing);
        self.contract
            .initial_margin(grows, price, self.margin.leverage)
            .unwrap_or(i128::MAX)
    }

    /// A fill of `qty` at `price` paying `fee`: the position moves, realized PnL and the fee
    /// move the balance. Returns the realized PnL of this fill.
    pub fn trade(&mut self, side: Side, qty: Qty, price: Price, fee: i128) -> i128 {
        let before = self.position.realized;
        self.position
            .apply_fill(side, qty, self.contract.fill_cost(qty, price));
        let realized = self.position.realized - before;
        self.balance += realized - fee;
        self.fees_paid += fee;
        realized
    }

    /// The fee of a fill of `qty` at `price` at `rate` (10^-8, as a `Price`), in the
    /// settlement asset: rate × the fill's value.
    pub fn fee(&self, qty: Qty, price: Price, rate: Price) -> i128 {
        self.contract.settle_value(qty, price) * i128::from(rate.units())
            / i128::from(crate::types::SCALE)
    }

    /// Pays the funding due at every funding time up to `now_ms` at `mark` and `rate`, each
    /// payment handed to `each` (funding times a late call passed over are each paid, at the
    /// same mark and rate).
    pub fn fund(
        &mut self,
        now_ms: u64,
        mark: Price,
        rate: crate::types::FundingRate,
        mut each: impl FnMut(Funding),
    ) {
        while now_ms >= self.next_funding_ms {
            let at_ms = self.next_funding_ms;
            self.next_funding_ms = next_funding_ms(at_ms, self.margin.funding_interval_ms);
            if self.position.qty == 0 {
                continue;
            }
            let paid = self.contract.funding(self.position.qty, mark, rate);
            self.balance -= paid;
            self.funding_paid += paid;
            self.position.funding += paid;
            each(Funding {
                at_ms,
                qty: self.position.qty,
                mark,
                rate,
                paid,
            });
        }
    }

    /// Passes the funding times up to `now_ms` without paying them (no funding rate was
    /// known then): a later rate is never applied to an earlier funding time. Returns how many
    /// were passed with a position open.
    pub fn skip_funding(&mut self, now_ms: u64) -> u32 {
        let mut skipped = 0;
        while now_ms >= self.next_funding_ms {
            self.next_funding_ms =
                next_funding_ms(self.next_funding_ms, self.margin.funding_interval_ms);
            skipped += u32::from(self.position.qty != 0);
        }
        skipped
    }

    /// The price at which the open position is liquidated (`None` when flat or when no price
    /// liquidates it).
    pub fn liquidation_price(&self) -> Option<Price> {
        let entry = self.entry()?;
        let qty = Qty::from_units(self.position.qty.abs());
        let margin = match self.margin.mode {
            MarginMode::Isolated => self.position_margin(),
            MarginMode::Cross => self.balance - self.order_margin,
        };
        let side = if self.position.qty > 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        self.contract.liquidation_price(
            side,
            qty,
            entry,
            margin,
            self.margin.maintenance,
            self.tick,
        )
    }

    /// Whether `mark` has reached the liquidation price: the side and price of the closing
    /// trade if so.
    pub fn liquidation_due(&self, mark: Price) -> Option<(Side, Qty, Price)> {
        let liq = self.liquidation_price()?;
        let qty = Qty::from_units(self.position.qty.abs());
        if self.position.qty > 0 && mark <= liq {
            Some((Side::Sell, qty, liq))
        } else if self.position.qty < 0 && mark >= liq {
            Some((Side::Buy, qty, liq))
        } else {
            None
        }
    }

    /// Unrealized PnL at `mark`.
    pub fn unrealized(&self, mark: Price) -> i128 {
        self.contract
            .unrealized(self.position.qty, self.position.cost, mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Rate, VenueId};

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }
    fn e16(s: &str) -> i128 {
        i128::from(Price::parse(s.trim_start_matches('-')).unwrap().units())
            * i128::from(crate::types::SCALE)
            * if s.starts_with('-') { -1 } else { 1 }
    }
    /// 2024-08-08 05:00 UTC.
    const T0: u64 = 1_723_093_200_000;
    const H8: u64 = 8 * 3_600_000;

    fn btcusdt(mode: MarginMode) -> Instrument {
        let mut i = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "BTCUSDT",
            "BTC",
            "USDT",
            p("0.5"),
            q("0.001"),
        )
        .unwrap();
        i.contract = Contract::LINEAR_BASE;
        i.margin = Some(Margin {
            mode,
            leverage: Rate::from_int(10),
            maintenance: Rate::parse("0.005").unwrap(),
            funding_interval_ms: H8,
        });
        i
    }

    #[test]
    fn a_spot_instrument_has_no_margin_account() {
        let mut i = btcusdt(MarginMode::Isolated);
        i.margin = None;
        assert!(MarginAccount::new(&i, e16("1000"), T0).is_none());
    }

    #[test]
    fn orders_hold_initial_margin_and_closing_needs_none() {
        let mut a = MarginAccount::new(&btcusdt(MarginMode::Isolated), e16("10000"), T0).unwrap();
        // 1 BTC at 50 000, 10×: 5 000.
        assert_eq!(a.margin_for(Side::Buy, q("1"), p("50000")), e16("5000"));
        a.trade(Side::Buy, q("1"), p("50000"), e16("25"));
        assert_eq!(a.balance, e16("9975"));
        assert_eq!(a.position_margin(), e16("5000"));
        assert_eq!(a.available(), e16("4975"));
        // Selling 1.5: 1 closes (no margin), 0.5 opens a short at 52 000: 2 600.
        assert_eq!(a.margin_for(Side::Sell, q("1.5"), p("52000")), e16("2600"));
        // Closing at 52 000 realizes 2 000.
        assert_eq!(
            a.trade(Side::Sell, q("1"), p("52000"), e16("26")),
            e16("2000")
        );
        assert_eq!(a.balance, e16("11949"));
        assert_eq!(a.position.qty, 0);
        assert_eq!(a.position_margin(), 0);
        assert_eq!(a.fees_paid, e16("51"));
        assert_eq!(a.fee(q("1"), p("52000"), p("0.0005")), e16("26"));
    }

    #[test]
    fn funding_is_paid_at_each_funding_time_by_the_position() {
        let mut a = MarginAccount::new(&btcusdt(MarginMode::Isolated), e16("10000"), T0).unwrap();
        assert_eq!(a.next_funding_ms, T0 + 3 * 3_600_000); // 08:00 UTC
        let mut paid = Vec::new();
        let rate = crate::types::FundingRate::parse("0.0001").unwrap();
        // Flat at 08:00: nothing paid, the next time moves on.
        a.fund(T0 + 3 * 3_600_000, p("30000"), rate, |f| paid.push(f));
        assert!(paid.is_empty());
        assert_eq!(a.next_funding_ms, T0 + 3 * 3_600_000 + H8);
        a.trade(Side::Buy, q("2"), p("30000"), 0);
        // Not yet due.
        a.fund(T0 + 3 * 3_600_000 + H8 - 1, p("30000"), rate, |f| {
            paid.push(f)
        });
        assert!(paid.is_empty());
        // 16:00: long 2 at 30 000 × 0.01 % = 6 paid.
        a.fund(T0 + 3 * 3_600_000 + H8, p("30000"), rate, |f| paid.push(f));
        assert_eq!(paid.len(), 1);
        assert_eq!(paid[0].paid, e16("6"));
        assert_eq!(paid[0].at_ms, T0 + 3 * 3_600_000 + H8);
        assert_eq!(a.balance, e16("9994"));
        assert_eq!(a.position.funding, e16("6"));
    }

    #[test]
    fn the_mark_reaching_the_liquidation_price_closes_the_position() {
        let mut a = MarginAccount::new(&btcusdt(MarginMode::Isolated), e16("10000"), T0).unwrap();
        a.trade(Side::Buy, q("1"), p("50000"), 0);
        assert_eq!(a.liquidation_price(), Some(p("45250")));
        assert_eq!(a.liquidation_due(p("45250.5")), None);
        assert_eq!(
            a.liquidation_due(p("45250")),
            Some((Side::Sell, q("1"), p("45250")))
        );
        // Cross: the whole 10 000 backs the position: 50 000 − (10 000 − 250) = 40 250.
        let mut c = MarginAccount::new(&btcusdt(MarginMode::Cross), e16("10000"), T0).unwrap();
        c.trade(Side::Buy, q("1"), p("50000"), 0);
        assert_eq!(c.liquidation_price(), Some(p("40250")));
        // A short at 10× isolated: 54 750.
        let mut s = MarginAccount::new(&btcusdt(MarginMode::Isolated), e16("10000"), T0).unwrap();
        s.trade(Side::Sell, q("1"), p("50000"), 0);
        assert_eq!(s.liquidation_price(), Some(p("54750")));
        assert_eq!(
            s.liquidation_due(p("55000")),
            Some((Side::Buy, q("1"), p("54750")))
        );
        assert_eq!(s.unrealized(p("49000")), e16("1000"));
    }
}
