//! The REST worker's request/answer WebSocket (the endpoint a codec's `trade_socket`
//! names): connected and logged in on first use and again after a loss, one request
//! frame sent at a time and the frame naming its id waited for, a ping on a quiet
//! connection. Blocking, on the worker thread only (never the gateway's).

use std::time::{Duration, Instant};

use crate::net::ws::{Incoming, WsConn};
use crate::venue::trade_ws::{LoginAnswer, TradeSocket};

/// What became of one request frame.
pub(super) enum WsOutcome {
    /// The frame that answers it.
    Answer(Vec<u8>),
    /// No answer in time (the connection stays: a late answer is skipped).
    Timeout,
    /// Not connected, the login failed, or the connection broke: outcome unknown.
    Lost,
}

pub(super) struct TradeWs {
    plan: Box<dyn TradeSocket>,
    conn: Option<WsConn>,
    last_sent: Instant,
    scratch: String,
    /// The last login refusal logged (logged once until a login succeeds).
    refused: Option<String>,
}

impl TradeWs {
    pub(super) fn new(plan: Box<dyn TradeSocket>) -> Self {
        Self {
            plan,
            conn: None,
            last_sent: Instant::now(),
            scratch: String::with_capacity(512),
            refused: None,
        }
    }

    /// Connects and logs in, if not connected; false when that failed.
    fn ensure(&mut self, timeout: Duration) -> bool {
        if self.conn.is_some() {
            return true;
        }
        let (connector, ep) = self.plan.endpoint();
        let mut conn = match connector.websocket(ep) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(url = %ep.ws_url(), "trade WebSocket: {e}");
                return false;
            }
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.scratch.clear();
        self.plan.login(now_ms, &mut self.scratch);
        if conn.send_text(&self.scratch).is_err() || conn.flush().is_err() {
            return false;
        }
        let deadline = Instant::now() + timeout;
        loop {
            match read_until(&mut conn, deadline) {
                Read::Frame(f) => match self.plan.login_answer(&f) {
                    Some(LoginAnswer::Accepted) => {
                        self.refused = None;
                        self.last_sent = Instant::now();
                        self.conn = Some(conn);
                        return true;
                    }
                    Some(LoginAnswer::Refused(why)) => {
                        if self.refused.as_deref() != Some(why.as_str()) {
                            tracing::error!("trade WebSocket login refused: {why}");
                            self.refused = Some(why);
                        }
                        return false;
                    }
                    None => {}
                },
                Read::Deadline | Read::Lost => return false,
            }
        }
    }

    /// Connects and logs in ahead of the first order (the worker's warm-up).
    pub(super) fn warm(&mut self, timeout: Duration) {
        self.ensure(timeout);
    }

    /// Sends `frame` (request `id`) and waits up to `timeout` for its answer.
    pub(super) fn call(&mut self, frame: &[u8], id: u64, timeout: Duration) -> WsOutcome {
        let deadline = Instant::now() + timeout;
        if !self.ensure(timeout) {
            return WsOutcome::Lost;
        }
        let Some(conn) = self.conn.as_mut() else {
            return WsOutcome::Lost;
        };
        let text = std::str::from_utf8(frame).unwrap_or("");
        if conn.send_text(text).is_err() || conn.flush().is_err() {
            self.conn = None;
            return WsOutcome::Lost;
        }
        self.last_sent = Instant::now();
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return WsOutcome::Lost;
            };
            match read_until(conn, deadline) {
                Read::Frame(f) if self.plan.answer_id(&f) == Some(id) => {
                    return WsOutcome::Answer(f.into_bytes());
                }
                // A pong, or the late answer of a request already given up on.
                Read::Frame(_) => {}
                Read::Deadline => return WsOutcome::Timeout,
                Read::Lost => {
                    self.conn = None;
                    return WsOutcome::Lost;
                }
            }
        }
    }

    /// Pings a connection that sent nothing for the plan's period (and drains what came).
    pub(super) fn keepalive(&mut self) {
        if self.last_sent.elapsed() < self.plan.ping_every() {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            // Nothing to keep alive: look again a period later (the next order connects).
            self.last_sent = Instant::now();
            return;
        };
        self.scratch.clear();
        self.plan.ping(&mut self.scratch);
        if conn.send_text(&self.scratch).is_err() || conn.flush().is_err() {
            self.conn = None;
            return;
        }
        self.last_sent = Instant::now();
        // The pong (and anything late) is read now, briefly.
        let until = Instant::now() + Duration::from_millis(50);
        while let Read::Frame(_) = read_until(conn, until) {}
    }

    /// How long until the next ping is due.
    pub(super) fn ping_in(&self) -> Duration {
        self.plan
            .ping_every()
            .saturating_sub(self.last_sent.elapsed())
    }
}

enum Read {
    Frame(String),
    Deadline,
    Lost,
}

/// The next text frame before `deadline`.
fn read_until(conn: &mut WsConn, deadline: Instant) -> Read {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Read::Deadline;
        }
        if conn.set_read_timeout(Some(left)).is_err() {
            return Read::Lost;
        }
        match conn.read() {
            Ok(Some(Incoming::Text(t))) => return Read::Frame(t.as_str().to_owned()),
            Ok(Some(Incoming::Close(_))) | Err(_) => return Read::Lost,
            Ok(Some(_)) | Ok(None) => {}
        }
    }
}
