//! A vacant bot slot (`kind = "vacant"`, added by `[bots] slots_per_instrument`): wired like
//! any strategy on its instrument, it sends nothing until the control API installs a bot in
//! it (`StrategyControl::Install`), and it is what a deleted bot leaves behind. It asks for
//! trade prints so that a bot installed later that wants prints or candles gets them.

use crate::gateway::OrderUpdate;
use crate::strategy::api::{Strategy, StrategyCtx, StrategyReport, Subscriptions};
use crate::strategy::params::ParamReader;
use crate::strategy::registry::{BuildArgs, Kind};
use crate::types::{Price, Qty};

/// The kind name of a vacant slot.
pub const NAME: &str = "vacant";

/// The vacant slot in the strategy registry.
pub const KIND: Kind = Kind {
    name: NAME,
    validate: |t| ParamReader::new(t, &[]).finish(()),
    build: |a: &BuildArgs<'_>| {
        ParamReader::new(a.params, &[]).finish(())?;
        Ok(Box::new(Vacant))
    },
    restart_keys: |_, _| Vec::new(),
    cancel_on_stop: |_| true,
    allocation: |_| (Qty::ZERO, Price::ZERO),
    model: None,
};

/// Holds a slot; does nothing.
pub struct Vacant;

impl Strategy for Vacant {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            trades: true,
            candles: Vec::new(),
        }
    }

    fn on_tick(&mut self, _cx: &mut StrategyCtx<'_>) {}

    fn on_order_update(&mut self, _u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {}

    fn on_stop(&mut self, _cx: &mut StrategyCtx<'_>) {}

    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        ParamReader::new(params, &[]).finish(())
    }

    fn report(&self, _mark: Option<Price>) -> StrategyReport {
        StrategyReport::default()
    }

    fn set_paused(&mut self, _paused: bool) {}
}
