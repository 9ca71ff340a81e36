//! Positions and PnL per strategy and instrument, moved only by fills.

use crate::types::{Notional, Price, Qty, Side};

/// A position in one instrument: signed quantity, the quote cost of what is open, realized
/// PnL, and fees paid in the quote asset. All exact (fixed point); `f64` only when reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// Base units at `10^-8`, positive long, negative short.
    pub qty: i64,
    /// Quote cost of the open quantity at `10^-16` (signed like `qty`).
    pub cost: i128,
    /// Realized PnL at `10^-16` quote units, before fees.
    pub realized: i128,
    /// Fees paid in the quote asset at `10^-8` (a perpetual's: in its settlement asset).
    pub quote_fees: i64,
    /// Perpetuals: funding paid (positive) or received (negative), settlement asset at
    /// `10^-16`.
    pub funding: i128,
    /// Fills applied.
    pub fills: u64,
    /// Times the quantity was corrected from the venue's (a confirmed drift: a liquidation,
    /// a trade by hand), so a strategy keeping its own books of the position can tell.
    pub corrections: u32,
}

impl Position {
    /// Applies a fill of `qty` for `quote` (its exact notional) on `side`.
    pub fn apply_fill(&mut self, side: Side, qty: Qty, quote: Notional) {
        if qty.is_zero() {
            return;
        }
        self.fills += 1;
        let dq = qty.units() * side.sign();
        let dcost = quote.0 * i128::from(side.sign());
        let same_direction = self.qty == 0 || (self.qty > 0) == (dq > 0);
        if same_direction {
            self.qty += dq;
            self.cost += dcost;
            return;
        }
        // Reducing (and maybe flipping): realize against the average cost of what is closed.
        let closing = dq.abs().min(self.qty.abs());
        let closed_cost = self.cost * i128::from(closing) / i128::from(self.qty.abs());
        let closing_quote = quote.0 * i128::from(closing) / i128::from(dq.abs());
        // Long closed by a sell: realized = proceeds − cost. Short closed by a buy: the cost
        // of a short is negative (what was received), so realized = received − paid.
        self.realized += if self.qty > 0 {
            closing_quote - closed_cost
        } else {
            -closed_cost - closing_quote
        };
        self.cost -= closed_cost;
        self.qty += dq;
        let opened = dq.abs() - closing;
        if opened > 0 {
            // Flipped: the rest opens a new position at this fill's price.
            let open_quote = quote.0 - closing_quote;
            self.cost = open_quote * i128::from(side.sign());
        }
    }

    /// Unrealized PnL at `mark`, `10^-16` quote units.
    pub fn unrealized(&self, mark: Price) -> i128 {
        i128::from(self.qty) * i128::from(mark.units()) - self.cost
    }

    /// Realized plus unrealized at `mark`, minus quote fees, in quote units (reporting).
    pub fn total_pnl(&self, mark: Option<Price>) -> f64 {
        let u = mark.map(|m| self.unrealized(m)).unwrap_or(0);
        (self.realized + u) as f64 / Notional::SCALE as f64 - self.quote_fees as f64 / 1e8
    }

    pub fn qty(&self) -> Qty {
        Qty::from_units(self.qty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(p: &mut Position, side: Side, qty: i64, price: i64) {
        let q = Qty::from_int(qty);
        p.apply_fill(side, q, Price::from_int(price).notional(q));
    }

    #[test]
    fn realizes_on_reduce_and_flip() {
        let n = |v: i64| i128::from(v) * Notional::SCALE;
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 2, 100);
        fill(&mut p, Side::Buy, 2, 110);
        assert_eq!((p.qty, p.cost), (4 * 100_000_000, n(420)));
        fill(&mut p, Side::Sell, 1, 120); // closes 1 at avg 105
        assert_eq!(p.realized, n(15));
        fill(&mut p, Side::Sell, 5, 100); // closes 3 at avg 105 (−15), opens 2 short at 100
        assert_eq!(p.realized, n(0));
        assert_eq!((p.qty, p.cost), (-2 * 100_000_000, n(-200)));
        assert_eq!(p.unrealized(Price::from_int(90)), n(20));
        fill(&mut p, Side::Buy, 2, 90);
        assert_eq!((p.qty, p.cost, p.realized), (0, 0, n(20)));
        assert_eq!(p.fills, 5);
    }
}
