//! Binance Spot: codecs and signing, pure code with no I/O.

pub mod sign;
