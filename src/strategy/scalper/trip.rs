//! One scalper trade from its fills: what was bought and sold (exact quote amounts), the fees
//! by asset, and the PnL they make; and the record kept of a closed trade.

use crate::types::{ClientOrderId, FillDelta, InstrumentId, Notional, Price, Qty, SCALE, Side};
use crate::types::{UnixNanos, VenueId};

use super::signals::ExitReason;

/// The fills of one trade (entry and exit), exact.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Trip {
    /// Base bought and sold, 10^-8.
    pub bought_qty: i64,
    pub sold_qty: i64,
    /// Quote paid for the buys and received for the sells, 10^-16.
    pub bought: i128,
    pub sold: i128,
    /// Fees charged in the quote asset and in the base asset, 10^-8; fees in any other
    /// asset are counted apart (not valued).
    pub quote_fees: i64,
    pub base_fees: i64,
    pub other_fees: u64,
    pub fills: u64,
}

impl Trip {
    /// Adds a fill of this trade's instrument (`base`, `quote`: its asset codes).
    pub fn add(&mut self, f: &FillDelta, base: &str, quote: &str) {
        self.fills += 1;
        match f.side {
            Side::Buy => {
                self.bought_qty += f.qty.units();
                self.bought += f.quote.0;
            }
            Side::Sell => {
                self.sold_qty += f.qty.units();
                self.sold += f.quote.0;
            }
        }
        if f.fee.is_zero() {
        } else if f.fee_asset.as_str() == quote {
            self.quote_fees += f.fee.units();
        } else if f.fee_asset.as_str() == base {
            self.base_fees += f.fee.units();
        } else {
            self.other_fees += 1;
        }
    }

    /// Fees learned after the fills were reported (`delta` in `asset`, 10^-8).
    pub fn add_fee(&mut self, asset: &str, delta: Qty, base: &str, quote: &str) {
        if asset == quote {
            self.quote_fees += delta.units();
        } else if asset == base {
            self.base_fees += delta.units();
        } else if delta.is_positive() {
            self.other_fees += 1;
        }
    }

    /// Base the trade leaves in the account: bought − sold − base fees (a long's exit sells
    /// what is held; a short's exit buys back what was sold).
    pub fn base_left(&self) -> i64 {
        self.bought_qty - self.sold_qty - self.base_fees
    }

    /// The PnL at 10^-16 quote units: sells − buys − quote fees, plus whatever base the trade
    /// left (its dust, or minus the base fees) valued at `price`.
    pub fn pnl(&self, price: Price) -> i128 {
        self.sold - self.bought - i128::from(self.quote_fees) * i128::from(SCALE)
            + i128::from(self.base_left()) * i128::from(price.units())
    }

    /// Average price of the side that opened it (`side`), or of the other one.
    pub fn avg_price(&self, side: Side) -> Option<Price> {
        let (quote, qty) = match side {
            Side::Buy => (self.bought, self.bought_qty),
            Side::Sell => (self.sold, self.sold_qty),
        };
        (qty > 0).then(|| Price::from_units((quote / i128::from(qty)) as i64))
    }
}

/// A closed trade, as the scalper reports it (the seed's trade log).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeRecord {
    pub opened_at: UnixNanos,
    pub closed_at: UnixNanos,
    pub venue: VenueId,
    pub instrument: InstrumentId,
    /// The entry's side: buy is long, sell a short of held inventory.
    pub side: Side,
    /// Base entered.
    pub qty: Qty,
    pub entry: Price,
    pub exit: Price,
    /// Exact PnL from the fills' quote amounts and fees (dust valued at the exit).
    pub pnl: Notional,
    pub reason: ExitReason,
    /// The entry order's client id.
    pub entry_cid: ClientOrderId,
}

impl TradeRecord {
    pub fn pnl_f64(&self) -> f64 {
        self.pnl.0 as f64 / Notional::SCALE as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AssetCode;

    fn fill(side: Side, qty: &str, price: &str, fee: &str, asset: &str) -> FillDelta {
        let q = Qty::parse(qty).unwrap();
        FillDelta {
            side,
            qty: q,
            quote: Price::parse(price).unwrap().notional(q),
            trade_id: None,
            fee: Qty::parse(fee).unwrap(),
            fee_asset: AssetCode::new(asset.as_bytes()).unwrap(),
            is_maker: false,
            fees_complete: true,
            paper: false,
        }
    }

    #[test]
    fn a_long_pays_its_buy_fee_in_base_and_leaves_dust_valued_at_the_exit() {
        let mut t = Trip::default();
        // Buy 2 SOL at 150 (fee 0.002 SOL), sell the 1.998 held at 151 (fee 0.301698 USDT).
        t.add(&fill(Side::Buy, "2", "150", "0.002", "SOL"), "SOL", "USDT");
        t.add(&fill(Side::Sell, "1.998", "151", "0.301698", "USDT"), "SOL", "USDT");
        assert_eq!(t.base_left(), 0);
        // 301.698 − 300 − 0.301698 = 1.396302
        assert_eq!(t.pnl(Price::parse("151").unwrap()), 13_963_020_000_000_000);
        assert_eq!(t.avg_price(Side::Buy), Some(Price::parse("150").unwrap()));
        // A short: sell 1 at 100 (fee 0.1 USDT), buy back 1 at 99 (fee 0.001 SOL).
        let mut s = Trip::default();
        s.add(&fill(Side::Sell, "1", "100", "0.1", "USDT"), "SOL", "USDT");
        s.add(&fill(Side::Buy, "1", "99", "0.001", "SOL"), "SOL", "USDT");
        // 100 − 99 − 0.1 − 0.001 × 99 = 0.801
        assert_eq!(s.pnl(Price::parse("99").unwrap()), 8_010_000_000_000_000);
        assert_eq!(s.base_left(), -100_000);
    }
}
