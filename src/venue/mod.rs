//! Per-exchange protocol code with no I/O: market-data codecs, order codecs, signing, symbol
//! filters. The feed and gateway actors drive these; adding a venue adds a folder here.

/// Binance Spot.
pub mod binance;
