//! OKX v5 spot: codecs and signing, pure code with no I/O (exchanges.md §2): the public
//! market-data codec and book-sync rule (sequence ids and checksums), signing, and
//! `mako decode`'s normalised records.

/// `mako decode`: OKX messages as normalised records.
pub mod decode;
/// OKX's side of the market-data seam.
pub mod handler;
/// Public market-data decoding.
pub mod md;
/// The hand-shaped reader of `bbo-tbt`, `trades` and `books` (fast path).
mod md_fast;
/// Private messages: order items, fills, balances, error codes.
pub mod private;
/// Order entry and queries over REST.
pub mod rest;
/// The private WebSocket order session.
pub mod session;
/// Request and login signing.
pub mod sign;
/// The book-sync rule: `seqId`/`prevSeqId`, REST or WebSocket snapshots, checksums.
pub mod sync;

pub use handler::OkxMd;
pub use rest::OkxRest;
pub use session::OkxSession;
