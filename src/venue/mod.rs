//! Venues: the seam every exchange plugs into (`md` for market data, `order` for order
//! sessions), and one folder per exchange with its codecs, signing, book-sync rule and symbol
//! filters; no I/O.

pub mod binance;
/// BitMart spot: signing (codecs not built yet).
pub mod bitmart;
/// Bybit v5 spot and linear perpetuals: market-data codec, book rule, marks.
pub mod bybit;
/// Coinbase Advanced Trade: JWT signing, market-data codec and book rule.
pub mod coinbase;
/// CoinDCX futures: Socket.IO v2 codec, market-data codec, snapshot book rule, signing.
pub mod coindcx;
/// Coinstore spot: signing, market-data codec and book rule (snapshots, `S`).
pub mod coinstore;
/// Decimals with more fractional digits than the engine keeps, cut to 8.
pub mod decimal;
/// `mako decode`'s normalised records, shared by every venue's decoder.
pub mod decode;
/// Delta Exchange India and global perpetuals: market-data codec, book rule with its
/// checksum, marks and funding.
pub mod delta;
/// Ed25519 keys in the forms venues hand them out (Binance, Coinbase).
pub mod ed25519;
/// The market-data half of the seam: `MarketData`, the results it hands the feed.
pub mod md;
pub mod okx;
/// The order half of the seam: `OrderSession`, the events it hands the gateway.
pub mod order;
/// Cursor-paged list answers merged before they are handed on (`Pager`).
pub mod pages;
/// Order entry over REST, venue-neutral: heads, answers, rate policy, `RestCodec`.
pub mod rest;
/// HMAC-SHA256 signing shared by venues.
pub mod sign;
/// A request/answer order WebSocket carried by the REST worker (Bybit's `/v5/trade`).
pub mod trade_ws;
/// Request-rate windows per endpoint or account, kept on the engine's side.
pub mod windows;
