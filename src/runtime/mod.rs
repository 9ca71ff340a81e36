//! The actor runtime: actors, hosts (threads) and their placement, idle policies, bounded
//! channels with stated full policies, the injected clock, and shutdown.

pub mod idle;

pub use idle::IdlePolicy;
