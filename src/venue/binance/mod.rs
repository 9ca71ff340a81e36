//! Binance Spot: codecs and signing, pure code with no I/O.

pub mod orders;
pub mod session;
pub mod sign;
pub mod user;
