//! A venue's order WebSocket that answers each request by its id (Bybit's `/v5/trade`), as
//! the REST worker drives it: the venue says where it is, how to log in, how an answer
//! names its request and how to ping; the worker (`gateway/trade_ws.rs`) connects, logs in,
//! sends one request frame, and hands back the frame that answers it. Orders then take the
//! REST seam's path (`RestCodec`, `Method::WsText`) and queries stay on HTTP.

use crate::net::url::Endpoint;
use crate::net::ws::Connector;

/// What the login frame's answer said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAnswer {
    Accepted,
    /// Refused, with the venue's code and message (no secret in it).
    Refused(String),
}

/// One venue's request/answer WebSocket, as plain code plus where to connect.
pub trait TradeSocket: Send + 'static {
    /// Where to connect, and with which TLS roots.
    fn endpoint(&self) -> (&Connector, &Endpoint);
    /// The login frame to send first (signed at `now_ms`, the venue's time).
    fn login(&self, now_ms: u64, out: &mut String);
    /// `Some` when `frame` answers the login.
    fn login_answer(&self, frame: &str) -> Option<LoginAnswer>;
    /// The request id an answer frame names (`None`: not an answer to a request, e.g. a pong).
    fn answer_id(&self, frame: &str) -> Option<u64>;
    /// The keepalive frame.
    fn ping(&self, out: &mut String);
    /// How often to send it on an otherwise quiet connection.
    fn ping_every(&self) -> std::time::Duration;
}
