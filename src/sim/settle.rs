//! The asset a simulated perpetual is margined and settled in, and the conversion into it.
//!
//! A linear perpetual is margined in its quote asset by default (Bybit's USDT perpetuals,
//! CoinDCX's USDT-margined futures). `[[sim.symbols]] margin_currency = "INR"` makes it
//! margined in INR as CoinDCX's INR-margined futures are (exchanges.md §7: prices and
//! quantities stay in the instrument's quote, USDT; the order and position items carry
//! `margin_currency_short_name: "INR"` and `settlement_currency_conversion_price`, 89.0 in
//! the docs' samples): every amount the account pays or is paid — the margin an order holds
//! and a position keeps, fees, realized PnL, funding, a liquidation's loss — is the USDT
//! amount the core computes, times the conversion price `[sim] coindcx_inr_per_usdt`
//! (default 89, the samples' figure), truncated toward zero at 10^-8 INR. A position's value
//! at entry (`cost`) stays in quote: entry prices are quote prices.
//!
//! The simulator margins each pair in one currency (a simulator limit: CoinDCX lets the same
//! pair be traded on either wallet).

use super::exchange::Exchange;
use crate::types::{Price, Qty, SCALE, Side};

/// CoinDCX's conversion price in the docs' INR samples: 89 INR per USDT.
pub const DEFAULT_INR_PER_USDT: &str = "89";

impl Exchange {
    /// The asset `symbol`'s perpetual margin, fees, PnL and funding are in (its quote asset
    /// unless `margin_currency` says otherwise; the quote on spot).
    pub fn margin_asset(&self, symbol: usize) -> &str {
        &self.symbols[symbol].cfg.margin_asset
    }

    /// Settlement units per quote unit, `10^-8` (`SCALE`: margined in the quote).
    pub fn settle_rate(&self, symbol: usize) -> i64 {
        self.perp_spec(symbol).map_or(SCALE, |s| s.settle_rate)
    }

    /// `quote_units` of `symbol`'s quote asset in its margin asset, truncated toward zero.
    pub fn to_settle(&self, symbol: usize, quote_units: i64) -> i64 {
        let r = self.settle_rate(symbol);
        if r == SCALE {
            return quote_units;
        }
        (i128::from(quote_units) * i128::from(r) / i128::from(SCALE)) as i64
    }

    /// `units` of `symbol`'s margin asset back in its quote asset, truncated toward zero.
    pub fn settle_to_quote(&self, symbol: usize, units: i64) -> i64 {
        let r = self.settle_rate(symbol).max(1);
        if r == SCALE {
            return units;
        }
        (i128::from(units) * i128::from(SCALE) / i128::from(r)) as i64
    }

    /// The value of `qty` of `symbol` at `price` in its margin asset.
    pub fn settle_value(&self, symbol: usize, price: Price, qty: Qty) -> i64 {
        self.to_settle(symbol, self.perp_value(symbol, price, qty))
    }

    /// The asset an order of `symbol` on `side` locks: a perpetual's margin asset, a spot
    /// buy's quote, a spot sell's base.
    pub(super) fn lock_asset(&self, symbol: usize, side: Side) -> String {
        let c = &self.symbols[symbol].cfg;
        if c.perp.is_some() {
            c.margin_asset.clone()
        } else if side == Side::Buy {
            c.quote.clone()
        } else {
            c.base.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::config::SimConfig;
    use crate::sim::exchange::Exchange;
    use crate::types::{Price, Qty};

    fn ex(toml: &str) -> Exchange {
        let cfg = SimConfig::from_table(&toml.parse().unwrap()).unwrap();
        Exchange::new(&cfg, false)
    }

    #[test]
    fn inr_margined_amounts_are_the_usdt_amounts_at_the_conversion_price() {
        let e = ex(r#"
            coindcx_inr_per_usdt = "89"
            [[symbols]]
            symbol = "BTCUSDT"
            kind = "linear-perpetual"
            margin_currency = "INR"
            [[symbols]]
            symbol = "ETHUSDT"
            base = "ETH"
            kind = "linear-perpetual"
        "#);
        assert_eq!(e.margin_asset(0), "INR");
        assert_eq!(e.margin_asset(1), "USDT");
        let p = Price::parse("60000.5").unwrap();
        let q = Qty::parse("0.01").unwrap();
        // 600.005 USDT × 89 = 53400.445 INR.
        assert_eq!(e.settle_value(0, p, q), 5_340_044_500_000);
        assert_eq!(e.settle_value(1, p, q), 60_000_500_000);
        assert_eq!(e.settle_to_quote(0, 5_340_044_500_000), 60_000_500_000);
        // Truncated toward zero both ways.
        assert_eq!(e.to_settle(0, -1), -89);
        assert_eq!(e.settle_to_quote(0, -88), 0);
    }
}
