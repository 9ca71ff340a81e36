//! The spread market maker (`kind = "spread"`): quotes around the mid with inventory skew,
//! latency-band widening and tolerance-based re-quoting.

pub mod maker;
pub mod params;
pub mod quote;

pub use maker::SpreadMaker;
pub use params::SpreadParams;
pub use quote::{BandTerms, Inventory, Quote, Targets, needs_replace, targets};
