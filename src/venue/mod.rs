//! Venues: one folder per exchange with its codecs, signing and symbol filters; no I/O.

pub mod binance;
