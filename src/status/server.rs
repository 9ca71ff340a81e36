//! The HTTP side: a `tiny_http` server on its own thread serving pre-rendered documents from
//! the published board, and the authenticated control calls.
//!
//! Handlers never touch engine state: reads clone an `Arc` of the documents the status actor
//! rendered last (a mutex held only for that clone, shared by two low-priority threads); a
//! control call becomes a `ControlCommand` on a never-drop channel the engine routes, or a
//! 503 when that channel is full. Every error answer is JSON with a 4xx/5xx status.

use std::io::Cursor;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use tiny_http::{Header, Method, Request, Response};

use crate::config::Secret;
use crate::risk::{KillReason, KillSwitch};
use crate::runtime::{Rx, SendError, Tx};
use crate::types::StrategyId;

use super::snapshot::{ControlCommand, ControlReply};

/// The dashboard page (static HTML and plain JS, no build step).
pub const DASHBOARD: &str = include_str!("dashboard.html");
/// Largest request body accepted (control calls need none).
const MAX_BODY: usize = 64 * 1024;
/// How long `/control/reload` waits for the engine's answer before it answers 504.
pub const RELOAD_WAIT: Duration = Duration::from_secs(20);

/// The documents the server hands out, rendered together by the status actor.
#[derive(Debug, Clone)]
pub struct Published {
    pub rendered_at: Instant,
    pub run_id: i64,
    pub mode: &'static str,
    pub status: String,
    pub orders: String,
    pub trades: String,
    pub latency: String,
    pub metrics: String,
}

/// The latest documents; swapped by the status actor, cloned by the server.
#[derive(Debug, Clone)]
pub struct Board(Arc<parking_lot::Mutex<Arc<Published>>>);

impl Board {
    pub fn new(first: Published) -> Self {
        Self(Arc::new(parking_lot::Mutex::new(Arc::new(first))))
    }

    pub fn get(&self) -> Arc<Published> {
        Arc::clone(&self.0.lock())
    }

    pub fn set(&self, p: Published) {
        *self.0.lock() = Arc::new(p);
    }
}

/// Counters of the server, readable from any thread (Relaxed: statistics only).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub requests: AtomicU64,
    /// Answers with a 4xx status.
    pub client_errors: AtomicU64,
    /// Control calls refused for a missing or wrong token.
    pub unauthorized: AtomicU64,
    pub commands: AtomicU64,
}

/// The bearer token's SHA-256, compared in constant time. Hashing first means the
/// comparison takes the same time whatever the length of the presented token.
#[derive(Clone)]
pub struct TokenCheck {
    digest: Option<[u8; 32]>,
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.digest.is_some() {
            "TokenCheck(set)"
        } else {
            "TokenCheck(none)"
        })
    }
}

/// Why a control call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer` header (401).
    Missing,
    /// Wrong token, or no token configured (403).
    Forbidden,
}

impl TokenCheck {
    pub fn new(token: Option<&Secret>) -> Self {
        Self {
            digest: token.map(|t| Sha256::digest(t.expose().as_bytes()).into()),
        }
    }

    pub fn check(&self, authorization: Option<&str>) -> Result<(), AuthError> {
        let presented = authorization
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let Some(want) = self.digest else {
            return Err(AuthError::Forbidden);
        };
        let got: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let diff = want
            .iter()
            .zip(got.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}

/// What the server needs; moved into its thread.
pub struct ServerParts {
    pub board: Board,
    pub control: Tx<ControlCommand>,
    pub token: TokenCheck,
    /// Config names of the strategies, indexed by `StrategyId`.
    pub strategies: Vec<String>,
    /// Tripped at once by `POST /control/kill`, before the command is routed.
    pub kill: Option<KillSwitch>,
    /// `/health` answers 503 when the documents are older than this (status actor stuck).
    pub stale_after: Duration,
    pub stats: Arc<ServerStats>,
    /// The engine's answers to reloads; without it `/control/reload` answers 202 at once.
    pub replies: Option<Rx<ControlReply>>,
    /// Numbers reload calls.
    pub next_request: AtomicU64,
}

/// The running server thread.
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    join: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Starts serving on `listener` from a new thread (it inherits the caller's priority:
    /// started from a low-priority host, it is low priority too).
    pub fn start(listener: TcpListener, parts: ServerParts) -> std::io::Result<Self> {
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&server), Arc::clone(&stop));
        let join = std::thread::Builder::new()
            .name("mako-status-http".into())
            .spawn(move || serve(&s, &st, &parts))?;
        Ok(Self {
            stop,
            server,
            join: Some(join),
        })
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.server.unblock();
        if let Some(j) = self.join.take()
            && j.join().is_err()
        {
            tracing::error!("status server thread panicked");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(server: &tiny_http::Server, stop: &AtomicBool, parts: &ServerParts) {
    while !stop.load(Ordering::Acquire) {
        match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(req)) => {
                parts.stats.requests.fetch_add(1, Ordering::Relaxed);
                let answer = route(&req, parts);
                if (400..500).contains(&answer.status) {
                    parts.stats.client_errors.fetch_add(1, Ordering::Relaxed);
                }
                respond(req, answer);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "status server: receive failed");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// An answer before it is written.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub www_authenticate: bool,
}

impl Answer {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "application/json",
            body,
            www_authenticate: false,
        }
    }

    fn error(status: u16, message: &str) -> Self {
        Self::json(
            status,
            json!({"error": message, "status": status}).to_string(),
        )
    }
}

fn respond(req: Request, a: Answer) {
    let mut resp = Response::new(
        a.status.into(),
        Vec::new(),
        Cursor::new(a.body.into_bytes()),
        None,
        None,
    );
    let headers = [
        ("Content-Type", a.content_type),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ];
    for (k, v) in headers {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            resp.add_header(h);
        }
    }
    if a.www_authenticate
        && let Ok(h) = Header::from_bytes(&b"WWW-Authenticate"[..], &b"Bearer"[..])
    {
        resp.add_header(h);
    }
    if let Err(e) = req.respond(resp) {
        tracing::debug!(error = %e, "status server: client went away");
    }
}

/// Decides the answer to one request.
pub fn route(req: &Request, parts: &ServerParts) -> Answer {
    let bad_length = req
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Content-Length"))
        .any(|h| h.value.as_str().trim().parse::<u64>().is_err());
    if bad_length {
        return Answer::error(400, "malformed Content-Length");
    }
    if req.body_length().is_some_and(|n| n > MAX_BODY) {
        return Answer::error(413, "request body too large");
    }
    let url = req.url();
    let path = url.split(['?', '#']).next().unwrap_or("");
    let method = req.method();
    if let Some(rest) = path.strip_prefix("/control/") {
        return control(req, rest, parts);
    }
    let is_get = matches!(method, Method::Get | Method::Head);
    let doc = |f: fn(&Published) -> &str, ct: &'static str| -> Answer {
        let p = parts.board.get();
        Answer {
            status: 200,
            content_type: ct,
            body: f(&p).to_string(),
            www_authenticate: false,
        }
    };
    let known = matches!(
        path,
        "/" | "/health" | "/status" | "/metrics" | "/orders" | "/trades" | "/latency"
    );
    if known && !is_get {
        return Answer::error(405, "method not allowed; use GET");
    }
    match path {
        "/" => Answer {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: DASHBOARD.to_string(),
            www_authenticate: false,
        },
        "/health" => health(parts),
        "/status" => doc(|p| &p.status, "application/json"),
        "/orders" => doc(|p| &p.orders, "application/json"),
        "/trades" => doc(|p| &p.trades, "application/json"),
        "/latency" => doc(|p| &p.latency, "application/json"),
        "/metrics" => doc(|p| &p.metrics, "text/plain; version=0.0.4; charset=utf-8"),
        _ => Answer::error(404, "no such endpoint"),
    }
}

fn health(parts: &ServerParts) -> Answer {
    let p = parts.board.get();
    let age = p.rendered_at.elapsed();
    let fresh = age <= parts.stale_after;
    Answer::json(
        if fresh { 200 } else { 503 },
        json!({
            "ok": fresh,
            "run_id": p.run_id,
            "mode": p.mode,
            "snapshot_age_ms": age.as_millis() as u64,
        })
        .to_string(),
    )
}

/// Waits for the engine's answer to reload `request`, skipping answers to earlier calls
/// that came too late for theirs.
fn await_reply(replies: &Rx<ControlReply>, request: u64) -> Answer {
    let until = Instant::now() + RELOAD_WAIT;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Answer::error(504, "the engine did not answer the reload in time");
        }
        match replies.recv_timeout(left) {
            Some(r) if r.request == request => {
                return Answer::json(r.status, r.body.to_string());
            }
            Some(_) => {}
            None => return Answer::error(504, "the engine did not answer the reload in time"),
        }
    }
}

fn control(req: &Request, rest: &str, parts: &ServerParts) -> Answer {
    if *req.method() != Method::Post {
        return Answer::error(405, "method not allowed; control calls are POST");
    }
    let auth = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str());
    match parts.token.check(auth) {
        Ok(()) => {}
        Err(AuthError::Missing) => {
            parts.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
            let mut a = Answer::error(401, "control calls need an Authorization: Bearer token");
            a.www_authenticate = true;
            return a;
        }
        Err(AuthError::Forbidden) => {
            parts.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
            return Answer::error(403, "token refused");
        }
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let cmd = match segments.as_slice() {
        ["kill"] => ControlCommand::Kill,
        ["reload"] => ControlCommand::Reload {
            request: parts.next_request.fetch_add(1, Ordering::Relaxed),
        },
        ["strategies", name, action] => {
            let Some(i) = parts.strategies.iter().position(|s| s == name) else {
                return Answer::error(404, "no such strategy");
            };
            let Ok(id) = u16::try_from(i) else {
                return Answer::error(404, "no such strategy");
            };
            match *action {
                "pause" => ControlCommand::Pause(StrategyId(id)),
                "resume" => ControlCommand::Resume(StrategyId(id)),
                _ => return Answer::error(404, "unknown strategy action; use pause or resume"),
            }
        }
        _ => return Answer::error(404, "no such control endpoint"),
    };
    if cmd == ControlCommand::Kill
        && let Some(k) = &parts.kill
    {
        k.trip(KillReason::Operator);
    }
    match parts.control.send(cmd) {
        Ok(()) => {
            parts.stats.commands.fetch_add(1, Ordering::Relaxed);
            tracing::info!(command = cmd.as_str(), "status: control command accepted");
            if let (ControlCommand::Reload { request }, Some(replies)) = (cmd, &parts.replies) {
                return await_reply(replies, request);
            }
            let strategy = match cmd {
                ControlCommand::Pause(s) | ControlCommand::Resume(s) => {
                    parts.strategies.get(s.index()).cloned()
                }
                _ => None,
            };
            Answer::json(
                202,
                json!({"accepted": cmd.as_str(), "strategy": strategy}).to_string(),
            )
        }
        Err(SendError::Full(_)) => Answer::error(503, "engine busy with earlier commands; retry"),
        Err(SendError::Disconnected(_)) => Answer::error(503, "engine is not taking commands"),
    }
}
