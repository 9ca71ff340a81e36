//! What the status endpoint answers to one request: the documents, `/health`, and the control
//! calls behind the bearer token. No sockets here: `route` takes a request `net::http` read,
//! so it can be called from bytes directly (`mako::fuzzing::status_http`).
//!
//! Handlers never touch engine state: reads clone an `Arc` of the documents the status actor
//! rendered last (a mutex held only for that clone); a control call becomes a
//! `ControlCommand` on a never-drop channel the engine routes, or a 503 when that channel is
//! full. Every error answer is JSON with a 4xx/5xx status.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::net::http::Request;
use crate::risk::KillReason;
use crate::runtime::{Rx, SendError};
use crate::types::StrategyId;

use super::auth::AuthError;
use super::server::{Published, ServerParts};
use super::snapshot::{BotAction, ControlCommand, ControlReply, ManageCall};

/// The dashboard page (static HTML and plain JS, no build step): the page, then its scripts.
pub const DASHBOARD: &str = concat!(
    include_str!("dashboard.html"),
    "<script>\n\"use strict\";\n",
    include_str!("dashboard/status.js"),
    include_str!("dashboard/charts.js"),
    include_str!("dashboard/bots.js"),
    include_str!("dashboard/main.js"),
    "</script>\n</body>\n</html>\n",
);
/// uPlot (MIT, `vendor/uPlot.LICENSE`), the dashboard's charts, served from the binary.
pub const UPLOT_JS: &str = include_str!("vendor/uPlot.iife.min.js");
pub const UPLOT_CSS: &str = include_str!("vendor/uPlot.min.css");
pub const UPLOT_LICENSE: &str = include_str!("vendor/uPlot.LICENSE");
/// The OpenAPI description of every route below, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route this endpoint answers: (method, path), `{id}` a strategy's config id. The
/// reads are dispatched from this list; a test holds `OPENAPI` and live requests to it.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/status"),
    ("GET", "/orders"),
    ("GET", "/trades"),
    ("GET", "/stats"),
    ("GET", "/latency"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/series"),
    ("GET", "/vendor/uPlot.iife.min.js"),
    ("GET", "/vendor/uPlot.min.css"),
    ("GET", "/vendor/uPlot.LICENSE"),
    ("GET", "/activity"),
    ("POST", "/control/kill"),
    ("POST", "/control/reload"),
    ("POST", "/control/stop-all"),
    ("POST", "/control/strategies"),
    ("PUT", "/control/strategies/{id}"),
    ("DELETE", "/control/strategies/{id}"),
    ("POST", "/control/strategies/{id}/start"),
    ("POST", "/control/strategies/{id}/stop"),
    ("POST", "/control/strategies/{id}/toggle"),
    ("POST", "/control/strategies/{id}/pause"),
    ("POST", "/control/strategies/{id}/resume"),
    ("POST", "/control/strategies/{id}/model"),
];
/// Largest request body accepted: a model upload's (`/control/strategies/<id>/model`); the
/// other control calls need none.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long `/control/reload` waits for the engine's answer before it answers 504.
pub const RELOAD_WAIT: Duration = Duration::from_secs(20);

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

    /// `{"error": message, "status": status}`.
    pub fn error(status: u16, message: &str) -> Self {
        Self::json(
            status,
            json!({"error": message, "status": status}).to_string(),
        )
    }
}

/// Decides the answer to one request. The framing (`Content-Length`, sizes, the HTTP
/// version) was checked by the reader; a body over `MAX_BODY` is refused here too, for a
/// request built any other way.
pub fn route(req: &Request, parts: &ServerParts) -> Answer {
    if req.body.len() > MAX_BODY {
        return Answer::error(413, "request body too large");
    }
    let path = req.path.split('#').next().unwrap_or("");
    if let Some(rest) = path.strip_prefix("/control/") {
        return control(req, rest, parts);
    }
    let is_get = matches!(req.method.as_str(), "GET" | "HEAD");
    let doc = |f: fn(&Published) -> &str, ct: &'static str| -> Answer {
        let p = parts.board.get();
        Answer {
            status: 200,
            content_type: ct,
            body: f(&p).to_string(),
            www_authenticate: false,
        }
    };
    let known = ROUTES.iter().any(|(m, p)| *m == "GET" && *p == path);
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
        "/stats" => doc(|p| &p.stats, "application/json"),
        "/latency" => doc(|p| &p.latency, "application/json"),
        "/metrics" => doc(|p| &p.metrics, "text/plain; version=0.0.4; charset=utf-8"),
        "/openapi.json" => Answer::json(200, OPENAPI.to_string()),
        "/series" => {
            let (status, body) = parts.series.answer(&req.query);
            Answer::json(status, body.to_string())
        }
        "/vendor/uPlot.iife.min.js" => asset("text/javascript; charset=utf-8", UPLOT_JS),
        "/vendor/uPlot.min.css" => asset("text/css; charset=utf-8", UPLOT_CSS),
        "/vendor/uPlot.LICENSE" => asset("text/plain; charset=utf-8", UPLOT_LICENSE),
        "/activity" => activity(req, parts),
        _ => Answer::error(404, "no such endpoint"),
    }
}

fn asset(content_type: &'static str, body: &str) -> Answer {
    Answer {
        status: 200,
        content_type,
        body: body.to_string(),
        www_authenticate: false,
    }
}

/// The value of `key` in a query string (no percent-decoding: the values this endpoint
/// reads are plain words and numbers).
fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Most rows one `/activity` call returns.
const ACTIVITY_PAGE_MAX: usize = 1000;

/// `GET /activity?level=&strategy=&since=&limit=&offset=`: the activity log, newest first.
/// `level` keeps rows at that level or worse; `strategy` (or `source`) rows about one bot or
/// room; `since` rows at or after a Unix time in milliseconds.
fn activity(req: &Request, parts: &ServerParts) -> Answer {
    let q = |k: &'static str| query_value(&req.query, k).filter(|v| !v.is_empty());
    let level = q("level");
    if level.is_some_and(|l| !matches!(l, "info" | "warn" | "error")) {
        return Answer::error(422, "level must be info, warn or error");
    }
    let number = |k: &'static str, default: u64| -> Result<u64, Answer> {
        match q(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Answer::error(422, &format!("{k} must be a whole number"))),
        }
    };
    let (since, limit, offset) = match (
        number("since", 0),
        number("limit", 100),
        number("offset", 0),
    ) {
        (Ok(s), Ok(l), Ok(o)) => (s, l, o),
        (Err(a), _, _) | (_, Err(a), _) | (_, _, Err(a)) => return a,
    };
    let limit = (limit as usize).min(ACTIVITY_PAGE_MAX);
    let since = (since > 0).then(|| crate::types::UnixNanos(since.saturating_mul(1_000_000)));
    let source = q("strategy").or_else(|| q("source"));
    let (total, rows) = parts
        .activity
        .query(level, source, since, limit, offset as usize);
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({"at_ms": r.at.0 / 1_000_000, "level": r.level, "source": r.source,
                   "message": r.message})
        })
        .collect();
    Answer::json(
        200,
        json!({"total": total, "offset": offset, "limit": limit, "items": items}).to_string(),
    )
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
            return Answer::error(504, "the engine did not answer in time");
        }
        match replies.recv_timeout(left) {
            Some(r) if r.request == request => {
                return Answer::json(r.status, r.body.to_string());
            }
            Some(_) => {}
            None => return Answer::error(504, "the engine did not answer in time"),
        }
    }
}

fn control(req: &Request, rest: &str, parts: &ServerParts) -> Answer {
    let segments: Vec<&str> = rest.split('/').collect();
    let method = req.method.as_str();
    let allowed: &[&str] = match segments.as_slice() {
        ["strategies", _] => &["PUT", "DELETE"],
        _ => &["POST"],
    };
    if !allowed.contains(&method) {
        return Answer::error(
            405,
            &format!("method not allowed; use {}", allowed.join(" or ")),
        );
    }
    match parts.token.check(req.header("authorization")) {
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
    let next = || parts.next_request.fetch_add(1, Ordering::Relaxed);
    let manage = |call: ManageCall| ControlCommand::Manage {
        request: next(),
        call,
    };
    let body = || std::sync::Arc::<[u8]>::from(req.body.as_slice());
    let cmd = match segments.as_slice() {
        ["kill"] => ControlCommand::Kill,
        ["reload"] => ControlCommand::Reload { request: next() },
        ["stop-all"] => manage(ManageCall::StopAll),
        ["strategies"] => {
            if req.body.is_empty() {
                return Answer::error(
                    422,
                    "the body must be the bot's spec: the keys of a [[strategies]] entry",
                );
            }
            let toml = req
                .header("content-type")
                .is_some_and(|c| c.to_ascii_lowercase().contains("toml"));
            manage(ManageCall::Create { body: body(), toml })
        }
        ["strategies", name] if method == "PUT" => manage(ManageCall::Edit {
            name: (*name).to_owned(),
            body: body(),
        }),
        ["strategies", name] => manage(ManageCall::Delete {
            name: (*name).to_owned(),
            flatten: query_value(&req.query, "flatten") == Some("true"),
        }),
        ["strategies", name, action] => {
            let id = parts
                .strategies
                .read()
                .iter()
                .position(|s| s == name)
                .and_then(|i| u16::try_from(i).ok())
                .map(StrategyId);
            let Some(id) = id else {
                return Answer::error(404, "no such strategy");
            };
            match *action {
                "pause" => ControlCommand::Pause(id),
                "resume" => ControlCommand::Resume(id),
                "model" if req.body.is_empty() => {
                    return Answer::error(
                        422,
                        "the body must be the model file (LightGBM model.txt)",
                    );
                }
                "model" => ControlCommand::Model {
                    request: next(),
                    strategy: id,
                    body: body(),
                },
                a => match BotAction::parse(a) {
                    Some(action) => manage(ManageCall::Act {
                        name: (*name).to_owned(),
                        action,
                    }),
                    None => {
                        return Answer::error(
                            404,
                            "unknown strategy action; use start, stop, pause, resume, toggle or model",
                        );
                    }
                },
            }
        }
        _ => return Answer::error(404, "no such control endpoint"),
    };
    if cmd == ControlCommand::Kill
        && let Some(k) = &parts.kill
    {
        k.trip(KillReason::Operator);
    }
    // Connections are served concurrently: a call that waits for its answer holds the
    // replies from its send to its answer, so a second one waits its turn instead of taking
    // (and skipping) the first one's answer.
    let request = cmd.request();
    let replies = request.and_then(|_| parts.replies.as_ref().map(|r| r.lock()));
    let what = cmd.as_str();
    let strategy = match &cmd {
        ControlCommand::Pause(s) | ControlCommand::Resume(s) => {
            parts.strategies.read().get(s.index()).cloned()
        }
        _ => None,
    };
    match parts.control.send(cmd) {
        Ok(()) => {
            parts.stats.commands.fetch_add(1, Ordering::Relaxed);
            tracing::info!(command = what, "status: control command accepted");
            if let (Some(request), Some(replies)) = (request, &replies) {
                return await_reply(replies, request);
            }
            Answer::json(
                202,
                json!({"accepted": what, "strategy": strategy}).to_string(),
            )
        }
        Err(SendError::Full(_)) => Answer::error(503, "engine busy with earlier commands; retry"),
        Err(SendError::Disconnected(_)) => Answer::error(503, "engine is not taking commands"),
    }
}
