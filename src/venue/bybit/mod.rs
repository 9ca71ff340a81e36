//! Bybit v5 (exchanges.md §3), spot and linear perpetuals with one codec whose category is a
//! field: the public market-data codec (`orderbook.{depth}`, `publicTrade`, `tickers`), the
//! book rule (`u` chains; a snapshot or `u = 1` replaces the book; a gap re-subscribes the
//! book's topic on the same connection), the linear tickers' mark, index and funding, and
//! `mako decode`'s normalised records, and request signing. No I/O.

/// Amends in place over REST (`POST /v5/order/amend`).
pub mod amend;
/// `mako decode`: Bybit messages as normalised records.
pub mod decode;
/// Bybit's side of the market-data seam.
pub mod handler;
/// Public market-data decoding.
pub mod md;
/// Order entry and queries over REST (`RestCodec`; `bybit-spot`'s gateway).
pub mod rest;
/// The private WebSocket (auth, `order`, `execution`) as the gateway's order session
/// (`bybit-spot`'s gateway).
pub mod session;
/// REST and WebSocket-auth signing.
pub mod sign;
/// The book rule: `u` chains, snapshots on subscribing.
pub mod sync;
/// Orders over the trade WebSocket (`/v5/trade`, `order_transport = "ws-api"`), queries
/// over REST.
pub mod trade;

pub use handler::BybitMd;

/// A Bybit product line: which public endpoint, and how the venue kind is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Spot,
    /// USDT and USDC perpetuals (and USDT dated futures, which mako does not trade).
    Linear,
}

impl Category {
    /// The `category` parameter and the public endpoint's last path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Spot => "spot",
            Category::Linear => "linear",
        }
    }

    /// The config's venue kind name.
    pub fn kind_name(self) -> &'static str {
        match self {
            Category::Spot => "bybit-spot",
            Category::Linear => "bybit-linear",
        }
    }

    /// The public WebSocket path (`/v5/public/spot`, `/v5/public/linear`).
    pub fn public_path(self) -> &'static str {
        match self {
            Category::Spot => "/v5/public/spot",
            Category::Linear => "/v5/public/linear",
        }
    }

    /// Topics per subscribe request: spot takes at most 10 args (exchanges.md §3.2); the
    /// derivatives endpoints name no count, only a 21,000-character args limit, so 10 is kept
    /// there too.
    pub fn args_per_subscribe(self) -> usize {
        10
    }
}
