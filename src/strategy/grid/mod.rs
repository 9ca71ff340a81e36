//! The grid bot (`kind = "grid"`) of the scalper dashboard system (`shared/seeds`): ping-pong between a buy and
//! a sell price per level, with trailing, infinite loop and several levels.

pub mod bot;
pub mod params;
#[cfg(test)]
mod tests;

pub use bot::{GridBot, RoundTrip};
pub use params::GridParams;

use crate::strategy::registry::{BuildArgs, Kind, changed_keys};

/// The grid bot in the strategy registry.
pub const KIND: Kind = Kind {
    name: "grid",
    validate: |t| GridParams::from_table(t).map(|_| ()),
    build: |a: &BuildArgs<'_>| {
        let p = GridParams::from_table(a.params)?;
        Ok(Box::new(GridBot::new(p, a.instrument.clone())))
    },
    // The gateway takes the shutdown rule when it is built.
    restart_keys: |old, new| changed_keys(&["cancel_on_shutdown"], old, new),
    cancel_on_stop: |t| GridParams::from_table(t).map_or(true, |p| p.cancel_on_shutdown),
    allocation: |_| (crate::types::Qty::ZERO, crate::types::Price::ZERO),
    model: None,
};
