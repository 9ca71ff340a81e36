//! Network plumbing shared by the feed and the gateway: endpoint URLs and WebSocket client
//! connections (plain and TLS), established off the hot path and then polled non-blocking.

pub mod link;
pub mod url;
pub mod ws;

pub use link::{Link, LinkState};
pub use url::Endpoint;
pub use ws::{Connector, Incoming, NetError, WsConn};
