//! The venue's word on positions: the net position risk holds per instrument, compared by
//! the gateway with what the venue reports, and corrected from it when they drift (a
//! liquidation, an auto-deleverage, a trade made by hand on the same account).

use crate::types::{InstrumentId, Price, Qty, StrategyId};

use super::RiskEngine;

/// What a correction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// The one strategy holding the instrument here now holds the venue's position
    /// (`was`: its quantity before).
    Corrected { strategy: StrategyId, was: i64 },
    /// No strategy, or more than one, trades the instrument here: whose the difference is
    /// cannot be told, so nothing was changed.
    Unattributable,
}

impl RiskEngine {
    /// The net position in `instrument` over every strategy on this venue, order units at
    /// `10^-8` (positive long).
    pub fn net_position(&self, instrument: InstrumentId) -> i64 {
        self.net.get(instrument.index()).copied().unwrap_or(0)
    }

    /// Sets the position in `instrument` to the venue's `size` (signed), at `entry` when
    /// the venue states it (else at the position's own average, or the last mark for a new
    /// side). Realized PnL, fees and funding are kept: what the venue did to the position
    /// without mako (a liquidation's loss) is in its balances, which are the venue's too.
    pub fn correct_position(
        &mut self,
        instrument: InstrumentId,
        size: i64,
        entry: Option<Price>,
    ) -> Correction {
        let mut holders = self
            .strategies
            .iter()
            .enumerate()
            .filter(|(_, s)| s.leg(instrument).is_some())
            .map(|(k, _)| k);
        let (Some(k), None) = (holders.next(), holders.next()) else {
            return Correction::Unattributable;
        };
        let contract = self.spec(instrument).contract;
        let leg = self.strategies[k].leg_mut(instrument);
        let was = leg.position.qty;
        let same_side = was != 0 && (was > 0) == (size > 0);
        let cost = match (entry.or(leg.mark), same_side) {
            (_, _) if size == 0 => 0,
            (Some(p), _) => {
                contract.fill_cost(Qty::from_units(size.abs()), p).0 * i128::from(size.signum())
            }
            (None, true) => leg.position.cost * i128::from(size) / i128::from(was),
            (None, false) => 0,
        };
        leg.position.qty = size;
        leg.position.cost = cost;
        leg.position.corrections = leg.position.corrections.wrapping_add(1);
        if let Some(n) = self.net.get_mut(instrument.index()) {
            *n += size - was;
        }
        let strategy = StrategyId(k as u16);
        self.publish(strategy, instrument);
        Correction::Corrected { strategy, was }
    }

    /// Funding paid on `instrument` by every strategy here (negative: received), settlement
    /// asset at `10^-16`.
    pub fn funding_paid(&self, instrument: InstrumentId) -> i128 {
        self.strategies
            .iter()
            .filter_map(|s| s.leg(instrument))
            .map(|l| l.position.funding)
            .sum()
    }

    /// The strategies holding a position in `instrument` here, with their signed
    /// quantities (funding is shared among them by size).
    pub fn holders(&self, instrument: InstrumentId) -> Vec<(StrategyId, i64)> {
        self.strategies
            .iter()
            .enumerate()
            .filter_map(|(k, s)| {
                let q = s.leg(instrument)?.position.qty;
                (q != 0).then_some((StrategyId(k as u16), q))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RiskLimits;
    use crate::risk::KillSwitch;
    use crate::types::{Notional, Side, UnixNanos};

    const I0: InstrumentId = InstrumentId(0);

    fn engine(strategies: usize) -> RiskEngine {
        let own: Vec<(RiskLimits, InstrumentId)> = (0..strategies)
            .map(|_| (RiskLimits::default(), I0))
            .collect();
        RiskEngine::new(
            RiskLimits::default(),
            &own,
            1,
            KillSwitch::default(),
            UnixNanos(0),
        )
    }

    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn buy(r: &mut RiskEngine, s: u16, qty: &str, price: &str) {
        let quote = Notional::of(p(price), q(qty));
        r.on_fill(
            StrategyId(s),
            I0,
            Side::Buy,
            q(qty),
            quote,
            Qty::ZERO,
            UnixNanos(1),
        );
    }

    #[test]
    fn one_holder_takes_the_venues_position_and_entry() {
        let mut r = engine(1);
        buy(&mut r, 0, "0.01", "60000");
        r.on_funding(StrategyId(0), I0, 7);
        assert_eq!(r.net_position(I0), 1_000_000);
        // The venue says 0.015 at 61 000 (a trade made by hand).
        let c = r.correct_position(I0, 1_500_000, Some(p("61000")));
        assert_eq!(
            c,
            Correction::Corrected {
                strategy: StrategyId(0),
                was: 1_000_000
            }
        );
        assert_eq!(r.net_position(I0), 1_500_000);
        let pos = r.position(StrategyId(0)).unwrap();
        assert_eq!(pos.qty, 1_500_000);
        // 0.015 × 61 000 = 915 quote, at 10^-16.
        assert_eq!(pos.cost, 915 * 10_i128.pow(16));
        assert_eq!(pos.funding, 7, "funding and fees are kept");
        assert_eq!(pos.corrections, 1, "counted, so the strategy can be told");
        assert_eq!(r.funding_paid(I0), 7);
        // Liquidated: flat, cost gone.
        r.correct_position(I0, 0, None);
        let pos = r.position(StrategyId(0)).unwrap();
        assert_eq!((r.net_position(I0), pos.cost, pos.corrections), (0, 0, 2));
        // A smaller long with no entry stated keeps the average: 0.005 of a 60 000 long.
        let mut r = engine(1);
        buy(&mut r, 0, "0.01", "60000");
        r.correct_position(I0, 500_000, None);
        assert_eq!(
            r.position(StrategyId(0)).unwrap().cost,
            300 * 10_i128.pow(16)
        );
    }

    #[test]
    fn two_holders_cannot_be_told_apart() {
        let mut r = engine(2);
        buy(&mut r, 0, "0.01", "60000");
        buy(&mut r, 1, "0.03", "60000");
        assert_eq!(
            r.holders(I0),
            vec![(StrategyId(0), 1_000_000), (StrategyId(1), 3_000_000)]
        );
        assert_eq!(r.correct_position(I0, 0, None), Correction::Unattributable);
        assert_eq!(r.net_position(I0), 4_000_000);
    }
}
