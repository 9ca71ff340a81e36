//! The latency-adaptive scalper (`kind = "scalper"`) of the latency-scalper seed
//! (`shared/seeds/latency-scalper-binance-okx.md`): momentum entries on BTC/ETH/SOL/BNB
//! against USDT across Binance and OKX, sized by each venue's latency band, exits as real
//! orders, PnL from fills, daily limits.

pub mod bot;
pub mod params;
pub mod signals;
#[cfg(test)]
mod tests;
pub mod trip;
pub mod view;

pub use bot::{Scalper, StopReason};
pub use params::ScalperParams;
pub use trip::{TradeRecord, Trip};

use crate::strategy::registry::{BuildArgs, Kind, changed_keys};

/// The scalper in the strategy registry.
pub const KIND: Kind = Kind {
    name: "scalper",
    validate: |t| ScalperParams::from_table(t).map(|_| ()),
    build: |a: &BuildArgs<'_>| {
        let p = ScalperParams::from_table(a.params)?;
        Ok(Box::new(Scalper::new(p, a.markets, a.venues)))
    },
    // The gateway takes the shutdown rule when it is built.
    restart_keys: |old, new| changed_keys(&["cancel_on_shutdown"], old, new),
    cancel_on_stop: |t| ScalperParams::from_table(t).map_or(true, |p| p.cancel_on_shutdown),
    allocation: |_| (crate::types::Qty::ZERO, crate::types::Price::ZERO),
    model: None,
};
