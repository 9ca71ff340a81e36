//! Strategies: the `Strategy` trait and one module per strategy.

pub mod actor;
pub mod api;
pub mod spread;

pub use api::{IntentSink, Strategy, StrategyCtx, StrategyReport};
