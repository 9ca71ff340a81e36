//! Strategies: what a strategy sees and can do (`api`), its host (`actor`), the parts the
//! engine builds for every strategy (candles, timers), the registry of kinds, and one module
//! per kind.

pub mod actor;
pub mod api;
pub mod candles;
pub mod grid;
pub mod params;
pub mod registry;
pub mod spread;
pub mod timers;

pub use api::{Env, Gap, IntentSink, OrderSpec, Strategy, StrategyCtx, StrategyReport};
pub use api::{OpenOrder, Subscriptions};
pub use candles::{Candle, CandleBuilder};
