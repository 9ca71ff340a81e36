//! The signal bot (`kind = "signal"`) of the Coinbase signal-bot seed
//! (`shared/seeds/signal-bots-coinbase.md`, issue 16): on one pair, RSI, a moving-average
//! crossover and MACD weighted into a score in [-1, 1] with a temperature; a hot score that
//! holds through a confirmation period trades (long only), outside a cooldown and the bot's own
//! safety limits; exits by opposite signal, take-profit, stop-loss or holding time; optional DCA.

pub mod bot;
pub mod params;
pub mod rules;
pub mod score;
#[cfg(test)]
mod tests;
pub mod view;

pub use bot::{ClosedTrade, SignalBot};
pub use params::SignalParams;
pub use score::{Scorer, Signal, Temperature};

use crate::strategy::registry::{BuildArgs, Kind, changed_keys};

/// Parameters that take effect only at a restart: the candle width (the host builds the
/// candles it subscribed to at start) and the shutdown rule (the gateway takes it when it is
/// built). New indicator periods take effect at a reload, the indicators warming up again.
const RESTART_KEYS: &[&str] = &["candle", "cancel_on_shutdown"];

/// The signal bot in the strategy registry.
pub const KIND: Kind = Kind {
    name: "signal",
    validate: |t| SignalParams::from_table(t).map(|_| ()),
    build: |a: &BuildArgs<'_>| {
        let p = SignalParams::from_table(a.params)?;
        Ok(Box::new(SignalBot::new(p, a.instrument.clone())))
    },
    restart_keys: |old, new| changed_keys(RESTART_KEYS, old, new),
    cancel_on_stop: |t| SignalParams::from_table(t).map_or(true, |p| p.cancel_on_shutdown),
    allocation: |_| (crate::types::Qty::ZERO, crate::types::Price::ZERO),
    model: None,
};
