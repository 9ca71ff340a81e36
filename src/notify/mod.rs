//! Notifications to people: Telegram via its Bot API, on a low-priority thread, batched and
//! rate-limited, with retries and backoff. Nothing here is ever felt by the hot path: notices
//! go into a drop-newest inbox (counted) and the HTTP call runs on the notifier's own worker
//! thread.
//!
//! Engine wiring: `Notifier::telegram(&tg_config, NotifyNames::from_config(&cfg))?`, hand
//! `notifier.sender()` to whoever notifies (engine start/stop, gateway fills and kill switch,
//! risk refusals, band changes, errors), `notifier.stats()` to the status room, and place the
//! notifier on a low-priority host.

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
