//! `[[instruments]]`'s derivative keys: what the instrument is (`kind`), how its quantities
//! count (`qty_unit`, `contract_size`), what it settles in, and a perpetual's margin settings.
//! Spot is the default and takes none of the perpetual keys.

use std::time::Duration;

use crate::types::{Contract, Instrument, InstrumentKind, Margin, MarginMode, QtyUnit, Rate};

use super::error::ConfigErrors;
use super::fields::{self, join};
use super::raw::RawInstrument;

/// Eight hours: Bybit's, Binance's and Delta's funding interval.
const DEFAULT_FUNDING_INTERVAL: Duration = Duration::from_secs(8 * 3600);

/// Bybit's lowest risk tier for BTCUSDT: 0.5 %.
const DEFAULT_MAINTENANCE: Rate = Rate::from_units(500_000);

/// Reads the derivative keys of instrument `r` into `ins`; reports every error under `path`.
/// Returns whether all were good.
pub(super) fn read(
    r: &RawInstrument,
    path: &str,
    errors: &mut ConfigErrors,
    ins: &mut Instrument,
) -> bool {
    let p = |k: &str| join(path, k);
    let kind = match r.kind.as_deref() {
        None => InstrumentKind::Spot,
        Some(s) => match InstrumentKind::parse(s) {
            Some(k) => k,
            None => {
                let names: Vec<&str> = InstrumentKind::ALL.iter().map(|k| k.as_str()).collect();
                errors.push(p("kind"), format!("{s:?} is not one of {names:?}"));
                return false;
            }
        },
    };
    let mut good = true;
    if kind == InstrumentKind::Spot {
        for (key, set) in [
            ("qty_unit", r.qty_unit.is_some()),
            ("contract_size", r.contract_size.is_some()),
            ("settle", r.settle.is_some()),
            ("leverage", r.leverage.is_some()),
            ("margin_mode", r.margin_mode.is_some()),
            ("maintenance_margin", r.maintenance_margin.is_some()),
            ("funding_interval", r.funding_interval.is_some()),
        ] {
            if set {
                errors.push(
                    p(key),
                    "applies to perpetuals only: set kind = \"linear-perpetual\" or \"inverse-perpetual\"",
                );
                good = false;
            }
        }
        return good;
    }
    let unit = match r.qty_unit.as_deref() {
        None if kind == InstrumentKind::InversePerpetual => QtyUnit::Contracts,
        None => QtyUnit::Base,
        Some(s) => match QtyUnit::parse(s) {
            Some(u) => u,
            None => {
                errors.push(
                    p("qty_unit"),
                    format!("{s:?} is not \"base\" or \"contracts\""),
                );
                return false;
            }
        },
    };
    if kind == InstrumentKind::InversePerpetual && unit == QtyUnit::Base {
        errors.push(
            p("qty_unit"),
            "an inverse perpetual counts in contracts of a quote amount: use \"contracts\"",
        );
        return false;
    }
    let size = match (&r.contract_size, unit) {
        (Some(v), QtyUnit::Contracts) => fields::positive_qty(errors, &p("contract_size"), v).ok(),
        (None, QtyUnit::Contracts) => {
            errors.push(
                p("contract_size"),
                "is missing: contracts need their size (base per contract for linear, quote per contract for inverse)",
            );
            None
        }
        (Some(_), QtyUnit::Base) => {
            errors.push(
                p("contract_size"),
                "applies only with qty_unit = \"contracts\"",
            );
            None
        }
        (None, QtyUnit::Base) => Some(crate::types::Qty::from_int(1)),
    };
    let leverage = match &r.leverage {
        Some(v) => fields::positive_rate(errors, &p("leverage"), v).ok(),
        None => {
            errors.push(
                p("leverage"),
                "is missing: a perpetual needs its leverage, e.g. \"5\"",
            );
            None
        }
    };
    let mode = match r.margin_mode.as_deref() {
        None => Some(MarginMode::Isolated),
        Some(s) => {
            let m = MarginMode::parse(s);
            if m.is_none() {
                errors.push(
                    p("margin_mode"),
                    format!("{s:?} is not \"isolated\" or \"cross\""),
                );
            }
            m
        }
    };
    let maintenance = match &r.maintenance_margin {
        Some(v) => fields::positive_rate(errors, &p("maintenance_margin"), v)
            .ok()
            .filter(|m| {
                let ok = *m < Rate::from_int(1);
                if !ok {
                    errors.push(p("maintenance_margin"), "must be below 1 (100 %)");
                }
                ok
            }),
        None => Some(DEFAULT_MAINTENANCE),
    };
    let interval = fields::duration(
        errors,
        &p("funding_interval"),
        r.funding_interval.as_ref(),
        DEFAULT_FUNDING_INTERVAL,
    )
    .ok()
    .filter(|d| {
        let ok = !d.is_zero();
        if !ok {
            errors.push(p("funding_interval"), "must be greater than zero");
        }
        ok
    });
    let settle = match &r.settle {
        Some(s) => fields::non_empty(errors, &p("settle"), s)
            .ok()
            .map(|_| s.clone()),
        None if kind == InstrumentKind::InversePerpetual => Some(r.base.clone()),
        None => Some(r.quote.clone()),
    };
    let (Some(size), Some(leverage), Some(mode), Some(maintenance), Some(interval), Some(settle)) =
        (size, leverage, mode, maintenance, interval, settle)
    else {
        return false;
    };
    ins.contract = Contract { kind, unit, size };
    ins.settle = settle;
    ins.margin = Some(Margin {
        mode,
        leverage,
        maintenance,
        funding_interval_ms: interval.as_millis().min(u128::from(u64::MAX)) as u64,
    });
    good
}
