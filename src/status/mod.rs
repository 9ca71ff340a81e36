//! The status endpoint: an in-memory picture of the engine merged from snapshots the actors
//! publish, served over HTTP/1.1 (`tiny_http`) on a low-priority thread as JSON, Prometheus
//! text and a dashboard page, plus authenticated control calls routed to the engine.
//!
//! Endpoints: `GET /` (dashboard), `/health`, `/status`, `/metrics`, `/orders`, `/trades`,
//! `/latency`; `POST /control/kill`, `/control/reload`, `/control/strategies/{name}/pause`
//! and `/resume` with `Authorization: Bearer <token>` (401 without, 403 when wrong or when no
//! token is configured).
//!
//! Engine wiring: `StatusHub::new(StatusSetup::from_config(&cfg, run_id, now), &cfg.status)?`
//! `.with_sources(..)` (latency board, persistence and notifier stats, queues, hosts)
//! `.with_kill_switch(..)`; hand `hub.updates()` to feeds, gateways, strategies and risk,
//! route `hub.control()` commands, place `hub.into_actor()` on a low-priority host.

pub mod actor;
pub mod metrics;
pub mod server;
pub mod snapshot;
pub mod state;

#[cfg(test)]
mod tests;

pub use actor::{LatencySource, QueueWatch, StatusActor, StatusHub, StatusSources};
pub use server::{Board, Published, ServerStats, TokenCheck};
pub use snapshot::{
    ConnState, ControlCommand, ControlReply, ORDER_STATES, QuoteLevel, RiskUpdate, StatusUpdate,
    StrategyRiskUpdate, StrategyState, StrategyUpdate, VenueUpdate,
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
