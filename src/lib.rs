//! mako: a low-latency, actor-based crypto trading engine.
//!
//! The folders follow the pipeline (see DESIGN.md): market data enters through `feed` and
//! `venue`, lands in the `book` cache, drives `strategy` actors whose intents pass `risk`
//! and leave through the `gateway`; `latency`, `persist`, `status` and `notify` run beside
//! the hot path on low-priority threads; `sim` is a local exchange for tests and the demo.

// No unsafe code: system calls go through safe wrappers (rustix), shared memory through
// atomics (the seqlock is checked under Miri).
#![forbid(unsafe_code)]

/// Replay of recordings through the live code on a simulated clock; queue and latency models.
pub mod backtest;
/// L2 books and the seqlock-published book cache.
pub mod book;
/// The command line.
pub mod cli;
/// Validated configuration and secret sources.
pub mod config;
/// Assembly of a config into running hosts, logging, the terminal status line.
pub mod engine;
/// The feed: book synchronisation, recording and replay of market data.
pub mod feed;
/// Entry points of the fuzz targets (`fuzz/`), one per parser of outside bytes.
#[doc(hidden)]
pub mod fuzzing;
/// Order gateway: order state machine, transports, reconciliation, paper execution.
pub mod gateway;
/// Latency histograms, rolling windows, band selection, the REST probe, `.hgrm` export.
pub mod latency;
/// Network connections (WebSocket over TCP or TLS) shared by feed and gateway; the HTTP/1.1
/// request reader and response writer shared by the simulator and the status endpoint.
pub mod net;
/// Notifications to people (Telegram): batched, rate-limited, retried, off the hot path.
pub mod notify;
/// SQLite persistence: schema, batched writer, records, recovery of open orders.
pub mod persist;
/// Pre-trade risk checks, positions, kill switch.
pub mod risk;
/// Actors, hosts, idle policies, channels, clock and shutdown.
pub mod runtime;
/// The exchange simulator (a local Binance Spot) for tests and the demo.
pub mod sim;
/// Status endpoint: JSON, Prometheus metrics, control API and dashboard over HTTP.
pub mod status;
/// Strategies and their quoting logic.
pub mod strategy;
/// Fixed-point prices and quantities, ids, sides, instruments, time.
pub mod types;
/// Exchange codecs and signing, one module per venue.
pub mod venue;
