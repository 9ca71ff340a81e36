//! Parameters of the grid bot (`kind = "grid"`), the seed's names and defaults plus levels.

use crate::strategy::params::{ParamErrors, ParamReader};
use crate::types::{Price, Qty, Side};

#[derive(Debug, Clone, PartialEq)]
pub struct GridParams {
    /// The side placed first; the opposite side is placed as it fills.
    pub first_side: Side,
    /// Buy price of level 0; `None`: last price × (1 − default offset), rounded down to tick.
    pub buy_price: Option<Price>,
    /// Sell price of level 0; `None`: last price × (1 + default offset), rounded up to tick.
    pub sell_price: Option<Price>,
    /// Base quantity of each level's first order.
    pub quantity: Qty,
    /// An unfilled pair follows the market once the last price has moved this far from where
    /// the pair was placed, in basis points (the seed's percent × 100); 0 = off.
    pub trailing_bps: u32,
    /// Keep cycling; otherwise each level stops after one round trip.
    pub infinite_loop: bool,
    /// Levels per side (level k buys `k × level_spacing` below level 0 and sells as far above).
    pub levels: u32,
    pub level_spacing: Option<Price>,
    /// Offset of the default prices from the last price, in basis points (the seed's 2 %).
    pub default_offset_bps: u32,
    /// Post-only orders (never take liquidity).
    pub post_only: bool,
    pub cancel_on_shutdown: bool,
}

pub const KNOWN: &[&str] = &[
    "first_side",
    "buy_price",
    "sell_price",
    "quantity",
    "trailing_percent",
    "infinite_loop",
    "levels",
    "level_spacing",
    "default_offset_percent",
    "post_only",
    "cancel_on_shutdown",
];

impl GridParams {
    pub fn from_table(t: &toml::Table) -> Result<Self, ParamErrors> {
        let mut r = ParamReader::new(t, KNOWN);
        let first_side = match r.choice("first_side", &["buy", "sell"]) {
            Some("sell") => Side::Sell,
            _ => Side::Buy,
        };
        let buy_price = r.price("buy_price");
        let sell_price = r.price("sell_price");
        let quantity = r.qty("quantity");
        if quantity.is_none() && !r.has("quantity") {
            r.error("quantity", "is required (base quantity of each order)");
        }
        let trailing_bps = (r.number("trailing_percent", 0.0, 100.0) * 100.0).round() as u32;
        let infinite_loop = r.flag("infinite_loop", false);
        let levels = r.int("levels", 1, 1, 100);
        let level_spacing = r.price("level_spacing");
        if levels > 1 && level_spacing.is_none() && !r.has("level_spacing") {
            r.error(
                "level_spacing",
                "is required when levels > 1 (price distance between levels)",
            );
        }
        let default_offset_bps =
            (r.number("default_offset_percent", 2.0, 99.0) * 100.0).round() as u32;
        let post_only = r.flag("post_only", false);
        let cancel_on_shutdown = r.flag("cancel_on_shutdown", true);
        if let (Some(b), Some(s)) = (buy_price, sell_price)
            && b >= s
        {
            r.error(
                "sell_price",
                format!("must be above buy_price ({b} >= {s})"),
            );
        }
        if let (Some(b), Some(d)) = (buy_price, level_spacing)
            && levels > 1
            && d.units().saturating_mul(i64::from(levels - 1)) >= b.units()
        {
            r.error(
                "level_spacing",
                format!("{levels} levels {d} apart would put the lowest buy at or below zero"),
            );
        }
        r.finish(Self {
            first_side,
            buy_price,
            sell_price,
            quantity: quantity.unwrap_or(Qty::ZERO),
            trailing_bps,
            infinite_loop,
            levels,
            level_spacing,
            default_offset_bps,
            post_only,
            cancel_on_shutdown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<GridParams, ParamErrors> {
        GridParams::from_table(&s.parse().unwrap())
    }

    #[test]
    fn the_seeds_parameters_with_defaults() {
        let p = parse(
            r#"first_side = "sell"
               quantity = "0.5"
               trailing_percent = 0.5
               infinite_loop = true"#,
        )
        .unwrap();
        assert_eq!(p.first_side, Side::Sell);
        assert_eq!((p.buy_price, p.sell_price), (None, None));
        assert_eq!(p.quantity, Qty::parse("0.5").unwrap());
        assert_eq!((p.trailing_bps, p.infinite_loop, p.levels), (50, true, 1));
        assert_eq!(p.default_offset_bps, 200);
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let errs = parse(
            r#"first_side = "up"
               buy_price = "10"
               sell_price = "9"
               levels = 3
               trailing_percent = -1
               colour = 1"#,
        )
        .unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
        for k in [
            "colour",
            "first_side",
            "quantity",
            "trailing_percent",
            "level_spacing",
            "sell_price",
        ] {
            assert!(keys.contains(&k), "{k} missing from {errs:?}");
        }
        let errs = parse(
            r#"quantity = "1"
            buy_price = "10"
            levels = 3
            level_spacing = "5""#,
        )
        .unwrap_err();
        assert_eq!(errs[0].0, "level_spacing");
    }
}
