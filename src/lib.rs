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
/// The feed: book synchronisation, recording and replay of market data.
pub mod feed;
/// Actors, hosts, idle policies, channels, clock and shutdown.
pub mod runtime;
/// Fixed-point prices and quantities, ids, sides, instruments, time.
pub mod types;
/// Per-exchange codecs with no I/O.
pub mod venue;
