//! The status endpoint: an in-memory picture of the engine merged from snapshots the actors
//! publish, served over HTTP/1.1 (mako's own server on `std::net` and `net::http`) on
//! low-priority threads as JSON, Prometheus text and a dashboard page, plus authenticated
//! control calls routed to the engine.
//!
//! Endpoints: `GET /` (dashboard), `/health`, `/status`, `/metrics`, `/orders`, `/trades`,
//! `/latency`, `/series` (the charts' history, `series.rs`), `/vendor/…` (uPlot);
//! `POST /control/kill`, `/control/reload`, `/control/strategies/{name}/pause` and `/resume` with `Authorization: Bearer <token>` (401 without, 403 when wrong or when no
//! token is configured).
//!
//! Engine wiring (`engine/status.rs`): the hub is built before the actors, gateways publish
//! into `hub.updates()` (`Gateway::with_status`), a bridge on the status host turns strategy
//! reports and feed counters into updates, and `engine/control.rs` routes `hub.control()`
//! (pause/resume to the strategy, reload from the config file, answered through
//! `hub.replies()`).

pub mod actor;
pub mod auth;
pub mod metrics;
pub mod route;
pub mod series;
pub mod server;
pub mod snapshot;
pub mod state;

#[cfg(test)]
mod tests;

pub use actor::{LatencySource, QueueWatch, StatusActor, StatusHub, StatusSources};
pub use auth::{AuthError, TokenCheck};
pub use server::{Board, Published, ServerStats};
pub use snapshot::{
    ActivityRow, BookCounts, BotAction, ConnState, ControlCommand, ControlReply, ManageCall,
    ORDER_STATES, QuoteLevel, RiskUpdate, StatusUpdate, StrategyRiskUpdate, StrategyState,
    StrategyUpdate, VenueUpdate,
};
pub use state::{StatusSetup, StatusState, StrategyInfo, mode_label};

/// Errors of the status room.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("status endpoint: cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("status token: {0}")]
    Token(String),
}
