//! Network plumbing: endpoint URLs and WebSocket client connections (plain and TLS) shared by
//! the feed and the gateway, established off the hot path and then polled non-blocking; and
//! the server side of HTTP/1.1 shared by the simulator's listener and the status endpoint.

pub mod http;
pub mod link;
pub mod url;
pub mod ws;

pub use link::{Link, LinkState};
pub use url::Endpoint;
pub use ws::{Connector, Incoming, NetError, WsConn};
