//! Coinbase Advanced Trade (spot): codecs and signing, pure code with no I/O
//! (exchanges.md §4): CDP key JWTs, the market-data channels and the `level2` book rule
//! (`sequence_num` per connection), and `mako decode`'s normalised records.

/// `mako decode`: Coinbase messages as normalised records.
pub mod decode;
/// Coinbase's side of the market-data seam.
pub mod handler;
/// CDP API key JWTs (ES256 and EdDSA): signing and verification.
pub mod jwt;
/// Public market-data decoding.
pub mod md;
/// Private answers decoded: orders, fills, accounts, failure reasons.
pub mod private;
/// `/products` filters and the `-USDC` market-data alias rule.
pub mod products;
/// Order entry and queries over REST, each request with its own JWT.
pub mod rest;
/// The `user` channel as the gateway's order session (orders themselves go over REST).
pub mod session;
/// The book rule: `sequence_num` per connection, `level2` snapshots and absolute updates.
pub mod sync;

pub use handler::CoinbaseMd;
