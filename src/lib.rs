//! mako: a low-latency, actor-based crypto trading engine.
//!
//! The folders follow the pipeline (see DESIGN.md): market data enters through `feed` and
//! `venue`, lands in the `book` cache, drives `strategy` actors whose intents pass `risk`
//! and leave through the `gateway`; `latency`, `persist`, `status` and `notify` run beside
//! the hot path on low-priority threads; `sim` is a local exchange for tests and the demo.

/// L2 books and the seqlock-published book cache.
pub mod book;
/// The command line.
pub mod cli;
/// Validated configuration and secret sources.
pub mod config;
/// Actors, hosts, idle policies, channels, clock and shutdown.
pub mod runtime;
/// The exchange simulator (a local Binance Spot) for tests and the demo.
pub mod sim;
/// Fixed-point prices and quantities, ids, sides, instruments, time.
pub mod types;
