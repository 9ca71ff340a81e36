//! The Telegram Bot API transport: one `sendMessage` call per batch, over ureq, on the
//! notifier's worker thread. The bot token goes only into the URL path, as Telegram requires;
//! no error or log line ever contains the URL.

use std::time::Duration;

use crate::config::Secret;

/// Longest text Telegram accepts in one message (characters).
pub const MAX_TEXT: usize = 4096;
/// Bound on a reply body we read.
const BODY_LIMIT: u64 = 64 * 1024;

/// Why a send failed, in words safe to log (never the URL, never the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    #[error("telegram answered HTTP {status}{}", retry_after.map(|s| format!(" (retry after {s} s)")).unwrap_or_default())]
    Status {
        status: u16,
        /// Telegram's `parameters.retry_after` on 429, seconds.
        retry_after: Option<u64>,
    },
    #[error("telegram request timed out")]
    Timeout,
    #[error("telegram unreachable: {0}")]
    Transport(&'static str),
}

impl SendFailure {
    /// How long Telegram asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendFailure::Status {
                retry_after: Some(s),
                ..
            } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }
}

/// Something that delivers one message.
pub trait Transport: Send {
    fn send(&mut self, text: &str) -> Result<(), SendFailure>;
}

/// `POST {base_url}/bot{token}/sendMessage`.
pub struct Telegram {
    url: String,
    chat_id: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("chat_id", &self.chat_id)
            .finish_non_exhaustive()
    }
}

impl Telegram {
    pub fn new(base_url: &str, token: &Secret, chat_id: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // Notices go straight to the configured base URL; tests point it at loopback.
            .proxy(None)
            .http_status_as_error(false)
            .user_agent("mako-notify")
            .build();
        Self {
            url: format!(
                "{}/bot{}/sendMessage",
                base_url.trim_end_matches('/'),
                token.expose()
            ),
            chat_id: chat_id.to_string(),
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl Transport for Telegram {
    fn send(&mut self, text: &str) -> Result<(), SendFailure> {
        let body = serde_json::json!({
            "chat_id": self.chat_id,
            "text": text,
            "disable_web_page_preview": true,
        });
        let resp = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body.to_string());
        let mut resp = match resp {
            Ok(r) => r,
            // Classify without formatting ureq's error: it may carry the URL.
            Err(ureq::Error::Timeout(_)) => return Err(SendFailure::Timeout),
            Err(ureq::Error::Io(_)) => return Err(SendFailure::Transport("connection failed")),
            Err(ureq::Error::HostNotFound) => return Err(SendFailure::Transport("host not found")),
            Err(ureq::Error::ConnectionFailed) => {
                return Err(SendFailure::Transport("connection failed"));
            }
            Err(_) => return Err(SendFailure::Transport("request failed")),
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let retry_after = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.pointer("/parameters/retry_after")?.as_u64());
        Err(SendFailure::Status {
            status,
            retry_after,
        })
    }
}

/// Cuts `text` to Telegram's limit on a character boundary.
pub fn clip(text: &mut String) {
    if text.chars().count() > MAX_TEXT {
        let end = text
            .char_indices()
            .nth(MAX_TEXT - 1)
            .map_or(text.len(), |(i, _)| i);
        text.truncate(end);
        text.push('…');
    }
}
