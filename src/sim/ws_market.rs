//! Market-data WebSocket sessions: raw (`/ws/<stream>`) and combined
//! (`/stream?streams=a/b`) endpoints, and the SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS /
//! SET_PROPERTY / GET_PROPERTY control messages with their documented replies.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::hub::{Mailbox, Outbound};
use super::ws::{Queue, Session};

/// The endpoint a client connected to.
pub struct MarketInit {
    pub combined: bool,
    pub streams: Vec<String>,
}

/// Whether `name` is a stream this simulator serves (`<lowercase symbol>@<kind>`).
pub fn valid_stream(shared: &Shared, name: &str) -> bool {
    let Some((sym, kind)) = name.split_once('@') else {
        return false;
    };
    let known = shared
        .cfg
        .symbols
        .iter()
        .any(|s| s.symbol.to_ascii_lowercase() == sym);
    let kind_ok = matches!(
        kind,
        "bookTicker"
            | "trade"
            | "aggTrade"
            | "depth"
            | "depth@100ms"
            | "depth5"
            | "depth10"
            | "depth20"
            | "depth5@100ms"
            | "depth10@100ms"
            | "depth20@100ms"
    );
    known && kind_ok
}

/// Parses the upgrade path into the endpoint; an error names the bad stream.
pub fn parse_path(shared: &Shared, path: &str, query: &str) -> Result<MarketInit, String> {
    let (combined, list): (bool, Vec<String>) = if path == "/stream" {
        let streams = crate::net::http::parse_pairs(query)
            .into_iter()
            .find(|(k, _)| k == "streams")
            .map(|(_, v)| v)
            .unwrap_or_default();
        (
            true,
            streams
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    } else if path == "/ws" || path == "/ws/" {
        (false, Vec::new())
    } else if let Some(rest) = path.strip_prefix("/ws/") {
        (
            false,
            rest.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    } else {
        return Err(format!("unknown endpoint {path}"));
    };
    if let Some(bad) = list.iter().find(|s| !valid_stream(shared, s)) {
        return Err(format!("Invalid stream name {bad:?}"));
    }
    Ok(MarketInit {
        combined,
        streams: list,
    })
}

pub struct MarketSession {
    shared: Arc<Shared>,
    conn: u64,
    combined: bool,
    /// Subscribed streams in subscription order (LIST_SUBSCRIPTIONS answers in this order).
    streams: Vec<String>,
}

impl MarketSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox, init: MarketInit) -> Self {
        let set: HashSet<String> = init.streams.iter().cloned().collect();
        shared.hub.add_market(conn, mailbox, set);
        MarketSession {
            shared,
            conn,
            combined: init.combined,
            streams: init.streams,
        }
    }

    fn sync_hub(&self) {
        self.shared
            .hub
            .set_streams(self.conn, self.streams.iter().cloned().collect());
    }

    fn reply(&self, q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }
}

fn valid_id(id: &Value) -> bool {
    match id {
        Value::Null => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::String(s) => s.len() <= 36 && s.bytes().all(|b| b.is_ascii_alphanumeric()),
        _ => false,
    }
}

impl Session for MarketSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.reply(
                    q,
                    json!({"error": {"code": 3, "msg": format!("Invalid JSON: {e}")}, "id": null}),
                );
                return true;
            }
        };
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        if !valid_id(&id) {
            self.reply(q, json!({"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}, "id": null}));
            return true;
        }
        let params: Vec<Value> = v
            .get("params")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match v.get("method").and_then(Value::as_str) {
            Some(m @ ("SUBSCRIBE" | "UNSUBSCRIBE")) => {
                let names: Option<Vec<String>> = params.iter().map(|p| p.as_str().map(str::to_string)).collect();
                let Some(names) = names else {
                    self.reply(q, json!({"error": {"code": 2, "msg": "Invalid request: params must be stream names"}, "id": id}));
                    return true;
                };
                if let Some(bad) = names.iter().find(|n| !valid_stream(&self.shared, n)) {
                    self.reply(q, json!({"error": {"code": 2, "msg": format!("Invalid request: unknown stream {bad}")}, "id": id}));
                    return true;
                }
                for n in names {
                    if m == "SUBSCRIBE" {
                        if !self.streams.contains(&n) {
                            self.streams.push(n);
                        }
                    } else {
                        self.streams.retain(|s| *s != n);
                    }
                }
                if self.streams.len() > 1024 {
                    self.reply(q, json!({"error": {"code": 2, "msg": "Invalid request: too many streams"}, "id": id}));
                    return false;
                }
                self.sync_hub();
                self.reply(q, json!({"result": null, "id": id}));
            }
            Some("LIST_SUBSCRIPTIONS") => self.reply(q, json!({"result": self.streams, "id": id})),
            Some("SET_PROPERTY") => match (params.first().and_then(Value::as_str), params.get(1).and_then(Value::as_bool)) {
                (Some("combined"), Some(b)) => {
                    self.combined = b;
                    self.reply(q, json!({"result": null, "id": id}));
                }
                (Some("combined"), None) => self.reply(q, json!({"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": id})),
                _ => self.reply(q, json!({"error": {"code": 0, "msg": "Unknown property"}, "id": id})),
            },
            Some("GET_PROPERTY") => match params.first().and_then(Value::as_str) {
                Some("combined") => self.reply(q, json!({"result": self.combined, "id": id})),
                _ => self.reply(q, json!({"error": {"code": 0, "msg": "Unknown property"}, "id": id})),
            },
            Some(other) => self.reply(
                q,
                json!({"error": {"code": 2, "msg": format!("Invalid request: unknown variant {other}, expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY")}, "id": id}),
            ),
            None => self.reply(q, json!({"error": {"code": 2, "msg": "Invalid request: missing field method"}, "id": id})),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let text = if self.combined {
                    format!("{{\"stream\":\"{stream}\",\"data\":{data}}}")
                } else {
                    data.to_string()
                };
                Some((due, Some(text)))
            }
            Outbound::Text(t) => Some((Instant::now(), Some(t))),
            Outbound::Close => Some((Instant::now(), None)),
        }
    }

    fn limits_incoming(&self) -> bool {
        true
    }

    fn flushed(&mut self, n: u64, at: Instant) {
        self.shared.bench.frames_written(n, at);
    }
}
