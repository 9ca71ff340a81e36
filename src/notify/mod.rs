//! Notifications to people: Telegram via its Bot API, on a low-priority thread, batched and
//! rate-limited, with retries and backoff. Nothing here is ever felt by the hot path: notices
//! go into a drop-newest inbox (counted) and the HTTP call runs on the notifier's own worker
//! thread.
//!
//! Engine wiring (`engine::telemetry::TelemetryWiring`): `Notifier::telegram(&tg_config,
//! NotifyNames::from_config(&cfg))?` at build; the telemetry actor holds `notifier.sender()`
//! and turns gateway events, band changes and the kill switch into notices, the engine tells
//! it why it stops (`StopNote`), and the notifier runs as the `notify` actor on a
//! low-priority host. `notifier.stats()` is for the status room.

pub mod notice;
pub mod notifier;
pub mod telegram;

#[cfg(test)]
mod tests;

pub use notice::{Notice, NotifyNames};
pub use notifier::{Notifier, NotifyCounters, NotifyStats};
pub use telegram::{SendFailure, Telegram, Transport};

/// Errors of the notification room.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("telegram bot token: {0}")]
    Token(String),
}
