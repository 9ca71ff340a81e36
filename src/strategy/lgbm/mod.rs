//! The LightGBM bot (`kind = "lgbm"`, issue 17): named features from 1-second candles, a
//! LightGBM model's prediction turned into a direction with a confidence threshold, maker
//! entries with a timeout, take-profit, stop-loss, holding time and a limit on open positions.
//! Long only (spot).

pub mod bot;
pub mod features;
pub mod params;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod bot_tests;
pub mod view;

pub use bot::{ClosedTrade, LgbmBot};
pub use features::{Feature, FeatureSet};
pub use params::LgbmParams;

use crate::strategy::registry::{BuildArgs, Kind, ModelHooks, changed_keys};

/// Parameters that take effect only at a restart: the candle width (the host builds the
/// candles it subscribed to at start) and the shutdown rule. A new model, feature map or
/// buffer takes effect at a reload (the model read and checked before anything changes).
const RESTART_KEYS: &[&str] = &["candle", "cancel_on_shutdown"];

/// The LightGBM bot in the strategy registry.
pub const KIND: Kind = Kind {
    name: "lgbm",
    validate: |t| LgbmParams::from_table(t).map(|_| ()),
    build: |a: &BuildArgs<'_>| {
        let p = LgbmParams::from_table(a.params)?;
        Ok(Box::new(LgbmBot::new(p, a.instrument.clone())))
    },
    restart_keys: |old, new| changed_keys(RESTART_KEYS, old, new),
    cancel_on_stop: |t| LgbmParams::from_table(t).map_or(true, |p| p.cancel_on_shutdown),
    allocation: |_| (crate::types::Qty::ZERO, crate::types::Price::ZERO),
    model: Some(ModelHooks {
        path: |t| t.get("model").and_then(toml::Value::as_str).map(Into::into),
        check: |t, m| {
            let (map, buffer) = params::model_inputs(t);
            params::check_model(m, &map, buffer)
        },
    }),
};
