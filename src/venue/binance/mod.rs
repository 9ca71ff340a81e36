//! Binance Spot: codecs and signing, pure code with no I/O: the market-data codec
//! (combined-stream and raw WebSocket frames, REST depth snapshots), the symbol table that maps
//! stream names to instruments, the order codec, private-stream decoding and signing.

/// Market-data events and the parser that produces them.
/// `mako decode`: Binance messages as normalised records.
pub mod decode;
/// What a WebSocket API error answer tells the gateway (both decoders).
mod errors;
/// Binance's side of the market-data seam: frames → codec → book sync.
pub mod handler;
pub mod md;
/// The hand-shaped parser for the frames Binance actually sends (fast path).
mod md_fast;
/// The general JSON decoder (simd-json tape) used when the fast path does not match.
mod md_generic;
pub mod orders;
/// Cancel-replace and keep-priority amend answers, for both orders of a re-quote.
pub mod replace;
/// Order entry over REST: signed requests, answer mapping, the weight / 429 / 418 policy.
pub mod rest;
pub mod session;
pub mod sign;
/// Symbol → instrument table built at start.
pub mod symbols;
/// The local order book synchroniser (Binance's documented procedure).
pub mod sync;
pub mod typed;
pub mod user;

pub use md::{BookTicker, DepthSnapshot, DepthUpdate, MdError, MdEvent, MdParser, TimeUnit, Trade};
pub use symbols::SymbolTable;
