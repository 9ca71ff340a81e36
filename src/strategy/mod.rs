//! Strategies: the `Strategy` trait and one module per strategy.

pub mod spread;
