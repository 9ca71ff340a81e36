//! The spread market maker (`kind = "spread"`): quotes around the mid with inventory skew,
//! latency-band widening and tolerance-based re-quoting.

pub mod maker;
pub mod params;
pub mod quote;

pub use maker::SpreadMaker;
pub use params::SpreadParams;
pub use quote::{BandTerms, Inventory, Quote, Targets, needs_replace, targets};

use crate::strategy::registry::{BuildArgs, Kind};

/// The spread maker in the strategy registry.
pub const KIND: Kind = Kind {
    name: "spread",
    validate: |t| SpreadParams::from_table(t).map(|_| ()),
    build: |a: &BuildArgs<'_>| {
        let p = SpreadParams::from_table(a.params)?;
        let (base, quote) = (p.base_allocation, p.quote_allocation);
        Ok(Box::new(SpreadMaker::new(
            p,
            a.instrument.clone(),
            base,
            quote,
        )))
    },
    restart_keys,
    cancel_on_stop: |t| SpreadParams::from_table(t).map_or(true, |p| p.cancel_on_shutdown),
    allocation: |t| {
        SpreadParams::from_table(t)
            .map_or((crate::types::Qty::ZERO, crate::types::Price::ZERO), |p| {
                (p.base_allocation, p.quote_allocation)
            })
    },
    model: None,
};

/// Allocations and the shutdown rule are read once, at start: changing them needs a restart.
fn restart_keys(old: &toml::Table, new: &toml::Table) -> Vec<String> {
    let (Ok(a), Ok(b)) = (SpreadParams::from_table(old), SpreadParams::from_table(new)) else {
        return Vec::new();
    };
    [
        ("base_allocation", a.base_allocation != b.base_allocation),
        ("quote_allocation", a.quote_allocation != b.quote_allocation),
        (
            "cancel_on_shutdown",
            a.cancel_on_shutdown != b.cancel_on_shutdown,
        ),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(k, _)| k.to_string())
    .collect()
}
