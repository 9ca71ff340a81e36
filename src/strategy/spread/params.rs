//! Parameters of the spread market maker, read from `[strategies.params]` and validated
//! before they apply (at start and on every reload).

use std::time::Duration;

use crate::types::Qty;

/// Validated parameters. Basis points are integers (1 bp = 0.01 %).
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadParams {
    /// Full quoted spread around the mid (the seed's default: 200 bp = 2 %).
    pub spread_bps: u32,
    /// Base-asset size of each quote before band and inventory scaling.
    pub order_size: Qty,
    /// Re-quote a side when its target moved more than this from the resting price
    /// (the seed's 0.5 % = 50 bp).
    pub stale_tolerance_bps: u32,
    /// Maximum age of a resting quote before it is replaced anyway (the seed's 30 s timer).
    pub refresh_interval: Duration,
    /// Target share of the portfolio's value held in the base asset (5000 = 50 %).
    pub target_base_bps: u32,
    /// Deviation from the target at which skew reaches its full effect.
    pub inventory_range_bps: u32,
    /// Deviation past which the side that would add to it stops quoting.
    pub hard_limit_bps: u32,
    /// Price shift of both quotes at full skew.
    pub skew_bps: u32,
    /// Post-only quotes (limit-maker orders): never take liquidity by accident.
    pub post_only: bool,
    /// A book older than this is stale: cancel everything until it is fresh.
    pub max_book_age: Duration,
    /// Cancel every open quote when the engine stops.
    pub cancel_on_shutdown: bool,
    /// Base-asset balance this strategy may trade with (its inventory at start).
    pub base_allocation: Qty,
    /// Quote-asset balance this strategy may trade with, at 10^-8.
    pub quote_allocation: crate::types::Price,
}

impl SpreadParams {
    /// Reads and checks every key, reporting each problem as `(key, message)`.
    pub fn from_table(t: &toml::Table) -> Result<Self, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let known = [
            "spread_bps",
            "order_size",
            "stale_tolerance_bps",
            "refresh_interval",
            "target_base_ratio",
            "inventory_range",
            "hard_limit",
            "skew_bps",
            "post_only",
            "max_book_age",
            "cancel_on_shutdown",
            "base_allocation",
            "quote_allocation",
        ];
        for k in t.keys() {
            if !known.contains(&k.as_str()) {
                errors.push((
                    k.clone(),
                    format!("unknown parameter; known: {}", known.join(", ")),
                ));
            }
        }
        let mut int = |k: &str, default: u32, max: u32| -> u32 {
            match t.get(k) {
                None => default,
                Some(toml::Value::Integer(v)) if *v >= 0 && *v <= i64::from(max) => *v as u32,
                Some(v) => {
                    errors.push((
                        k.to_owned(),
                        format!("must be an integer in 0..={max}, got {v}"),
                    ));
                    default
                }
            }
        };
        let spread_bps = int("spread_bps", 200, 10_000);
        let stale_tolerance_bps = int("stale_tolerance_bps", 50, 10_000);
        let skew_bps = int("skew_bps", 50, 10_000);
        let mut ratio = |k: &str, default: f64| -> u32 {
            match t.get(k) {
                None => (default * 10_000.0).round() as u32,
                Some(toml::Value::Float(v)) if (0.0..=1.0).contains(v) => {
                    (v * 10_000.0).round() as u32
                }
                Some(toml::Value::Integer(v)) if (0..=1).contains(v) => (*v as u32) * 10_000,
                Some(v) => {
                    errors.push((
                        k.to_owned(),
                        format!("must be a fraction between 0 and 1, got {v}"),
                    ));
                    (default * 10_000.0).round() as u32
                }
            }
        };
        let target_base_bps = ratio("target_base_ratio", 0.5);
        let inventory_range_bps = ratio("inventory_range", 0.2).max(1);
        let hard_limit_bps = ratio("hard_limit", 0.3);
        let mut dur = |k: &str, default: Duration| -> Duration {
            match t.get(k) {
                None => default,
                Some(toml::Value::String(s)) => crate::config::parse_duration(s)
                    .map_err(|e| e.to_string())
                    .unwrap_or_else(|e| {
                        errors.push((k.to_owned(), e));
                        default
                    }),
                Some(v) => {
                    errors.push((
                        k.to_owned(),
                        format!("must be a duration string like \"30s\", got {v}"),
                    ));
                    default
                }
            }
        };
        let refresh_interval = dur("refresh_interval", Duration::from_secs(30));
        let max_book_age = dur("max_book_age", Duration::from_secs(5));
        let mut flag = |k: &str, default: bool| -> bool {
            match t.get(k) {
                None => default,
                Some(toml::Value::Boolean(b)) => *b,
                Some(v) => {
                    errors.push((k.to_owned(), format!("must be true or false, got {v}")));
                    default
                }
            }
        };
        let post_only = flag("post_only", true);
        let cancel_on_shutdown = flag("cancel_on_shutdown", true);
        let order_size = match t.get("order_size") {
            Some(toml::Value::String(s)) => match Qty::parse(s) {
                Ok(q) if q.is_positive() => q,
                Ok(_) => {
                    errors.push(("order_size".into(), "must be positive".into()));
                    Qty::ZERO
                }
                Err(e) => {
                    errors.push((
                        "order_size".into(),
                        format!("{e}: write it as a decimal string, e.g. \"0.001\""),
                    ));
                    Qty::ZERO
                }
            },
            Some(v) => {
                errors.push((
                    "order_size".into(),
                    format!("must be a decimal string like \"0.001\", got {v}"),
                ));
                Qty::ZERO
            }
            None => {
                errors.push((
                    "order_size".into(),
                    "is required (base-asset size of each quote)".into(),
                ));
                Qty::ZERO
            }
        };
        let mut amount = |k: &str| match t.get(k) {
            None => crate::types::Price::ZERO,
            Some(toml::Value::String(s)) => crate::types::Price::parse(s).unwrap_or_else(|e| {
                errors.push((
                    k.to_owned(),
                    format!("{e}: write it as a decimal string, e.g. \"1000\""),
                ));
                crate::types::Price::ZERO
            }),
            Some(v) => {
                errors.push((
                    k.to_owned(),
                    format!("must be a decimal string like \"1000\", got {v}"),
                ));
                crate::types::Price::ZERO
            }
        };
        let base_allocation = Qty::from_units(amount("base_allocation").units());
        let quote_allocation = amount("quote_allocation");
        if spread_bps == 0 {
            errors.push(("spread_bps".into(), "must be above 0".into()));
        }
        if hard_limit_bps == 0 {
            errors.push(("hard_limit".into(), "must be above 0".into()));
        }
        if errors.is_empty() {
            Ok(Self {
                spread_bps,
                order_size,
                stale_tolerance_bps,
                refresh_interval,
                target_base_bps,
                inventory_range_bps,
                hard_limit_bps,
                skew_bps,
                post_only,
                max_book_age,
                cancel_on_shutdown,
                base_allocation,
                quote_allocation,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_are_the_seeds() {
        let p = SpreadParams::from_table(&table("order_size = \"0.001\"")).unwrap();
        assert_eq!(p.spread_bps, 200);
        assert_eq!(p.stale_tolerance_bps, 50);
        assert_eq!(p.refresh_interval, Duration::from_secs(30));
        assert_eq!(p.target_base_bps, 5000);
    }

    #[test]
    fn every_bad_key_is_reported() {
        let errs = SpreadParams::from_table(&table(
            "spread_bps = -1\norder_size = 0.5\ntarget_base_ratio = 2.0\nrefresh_interval = \"soon\"\npost_only = 1\nbogus = 3",
        ))
        .unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
        for k in [
            "spread_bps",
            "order_size",
            "target_base_ratio",
            "refresh_interval",
            "post_only",
            "bogus",
        ] {
            assert!(keys.contains(&k), "{k} missing from {errs:?}");
        }
    }
}
