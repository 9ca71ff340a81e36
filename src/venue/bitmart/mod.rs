//! BitMart spot (exchanges.md §5): signing, the inflater of compressed frames, the public
//! market-data codec and book rule (`spot/depth/increase100` with `version`, a per-book
//! snapshot request after a gap), and `mako decode`'s normalised records, and the order side as pure
//! code: the REST codec and the private WebSocket session, which `engine/venues.rs` runs as
//! BitMart's order gateway (issue 20).

/// `mako decode`: BitMart messages as normalised records.
pub mod decode;
/// BitMart's side of the market-data seam.
pub mod handler;
/// Raw-DEFLATE market-data frames, inflated without allocating per frame.
pub mod inflate;
/// Public market-data decoding.
pub mod md;
/// Order entry, queries and trade lists over REST (`RestCodec`).
pub mod rest;
/// The private WebSocket (login, `spot/user/order`) as the gateway's order session.
pub mod session;
/// REST and WebSocket-login signing (`timestamp#memo#payload`).
pub mod sign;
/// The book rule: `version` chains, snapshots on subscribe or on request.
pub mod sync;

pub use handler::BitmartMd;
