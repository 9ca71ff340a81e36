//! Binance Spot: the market-data codec (combined-stream and raw WebSocket frames, REST depth
//! snapshots) and the symbol table that maps stream names to instruments.

/// Market-data events and the parser that produces them.
pub mod md;
/// The hand-shaped parser for the frames Binance actually sends (fast path).
mod md_fast;
/// The general JSON decoder (simd-json tape) used when the fast path does not match.
mod md_generic;
/// Symbol → instrument table built at start.
pub mod symbols;

pub use md::{BookTicker, DepthSnapshot, DepthUpdate, MdError, MdEvent, MdParser, TimeUnit, Trade};
pub use symbols::SymbolTable;
