//! Strategies: what a strategy sees and can do (`api`), its host (`actor`), the parts the
//! engine builds for every strategy (candles, timers), indicators, the registry of kinds,
//! and one module per kind.

pub mod actor;
#[cfg(test)]
mod actor_tests;
pub mod api;
pub mod candles;
/// Technical indicators equal to TA-Lib's, updated bar by bar without allocating.
pub mod indicators;
/// LightGBM models read from their text format and predicted as LightGBM does.
pub mod model;
pub mod params;
pub mod registry;
pub mod timers;

/// Declares each kind's module and lists its `KIND` in the registry: a new kind is its module
/// plus its name here.
macro_rules! kinds {
    ($($kind:ident),* $(,)?) => {
        $(pub mod $kind;)*
        /// The kinds this build has.
        pub const KINDS: &[&registry::Kind] = &[$(&$kind::KIND),*];
    };
}

kinds!(spread, grid, twap, scalper, signal, lgbm, vacant);

pub use api::{Env, Gap, IntentSink, OrderSpec, Strategy, StrategyCtx, StrategyReport};
pub use api::{OpenOrder, Subscriptions};
pub use candles::{Candle, CandleBuilder};
