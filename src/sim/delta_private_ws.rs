//! The simulator's Delta Exchange private WebSocket (`/ws/delta-private`; Delta's own private
//! endpoint has no path), written from Delta's documentation (reference/delta.md §3.3, §3.7),
//! not from the engine's Delta codec. Auth is `{"type":"key-auth"|"auth","payload":
//! {"api-key","timestamp","signature"}}` with the signature the hex HMAC-SHA256 of `"GET" +
//! timestamp + "/live"` and the timestamp (a number or a string of Unix seconds) at most 5 s
//! old; the answers are the India docs' (`authenticated`, `incomplete_payload`,
//! `request_expired`, `api_key_not_found`, `invalid_signature`), under the type asked with.
//! Then `subscribe` to the private channels (refused before auth: "subscription forbidden on
//! <channel>. Unauthorized user"), answered with every current subscription:
//!
//! - `orders`: a `snapshot` of the named symbols' open orders, then `create` (a new order),
//!   `update` (`reason:"fill"` on a trade; a cancel) frames with a per-symbol `seq_no`;
//! - `v2/user_trades`: one frame per fill with `po`, the position after it, and a per-symbol
//!   `se`;
//! - `positions`: a `snapshot` of the named symbols' positions, then an `update` after each
//!   fill of a perpetual;
//! - `margins`: one frame per asset whose balance changed;
//! - funding the core charged at its funding times (`sim.funding_interval_ms`, 8 h by
//!   default, Delta's `fi` 28800 s): Delta documents no funding push, so the payment shows
//!   as a `positions` `update` whose `realized_funding` moved at the same size.
//!
//! `{"type":"ping"}` is answered `{"type":"pong"}`; `enable_heartbeat` is accepted and no
//! heartbeat is sent (the client pings). Faults are the simulator's: a dropped user event
//! loses every push made from it (the sequence numbers skip), a disconnect closes the socket.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::delta_private::{contracts, dec, order_json, sign, symbol_of, wallet_item};
use super::exchange::{Exchange, now_ms};
use super::hub::{Mailbox, Outbound};
use super::orders::Status;
use super::ws::{Queue, Session};
use crate::types::{Price, Side};

/// How old a signature may be (§2.3, §3.3).
pub(super) const WINDOW_S: u64 = 5;

/// The private channels.
const CHANNELS: [&str; 4] = ["orders", "v2/user_trades", "positions", "margins"];

/// A position object (§4.6, §3.7): signed `size` in contracts, `entry_price`, `margin`,
/// `liquidation_price`, `realized_pnl`, `realized_funding`.
pub(super) fn position_json(
    shared: &Shared,
    ex: &Exchange,
    account: usize,
    symbol: usize,
) -> Value {
    let p = ex.position(account, symbol);
    let entry = if p.size == 0 {
        Value::Null
    } else {
        json!(dec(ex.entry_price(account, symbol)))
    };
    json!({
        "user_id": account, "product_id": symbol + 1,
        "product_symbol": shared.cfg.symbols[symbol].symbol,
        "symbol": shared.cfg.symbols[symbol].symbol,
        "size": contracts(p.size), "entry_price": entry, "margin": dec(p.margin),
        "liquidation_price": ex.liquidation_price(account, symbol).map(|l| dec(l.units())),
        "bankruptcy_price": Value::Null, "adl_level": Value::Null,
        "realized_pnl": dec(p.realized), "realized_funding": dec(-p.funding),
        "commission": "0",
        "mark_price": ex.mark_price(symbol).map(|m| dec(m.units())),
    })
}

/// One `/ws/delta-private` connection.
pub struct DeltaPrivateSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    /// Channel → symbols subscribed (`all` for every one; empty for `margins`).
    subs: BTreeMap<String, BTreeSet<String>>,
    /// Per-symbol `seq_no` of `orders` and `se` of `v2/user_trades`.
    order_seq: BTreeMap<usize, u64>,
    fill_seq: BTreeMap<usize, u64>,
    /// Pushes made from one core event after the first.
    pending: VecDeque<String>,
}

impl DeltaPrivateSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            shared,
            conn,
            mailbox,
            account: None,
            subs: BTreeMap::new(),
            order_seq: BTreeMap::new(),
            fill_seq: BTreeMap::new(),
            pending: VecDeque::new(),
        }
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    /// The auth payload checked: the account, or the documented status, code and message.
    fn auth(&self, payload: &Value) -> Result<usize, (u16, &'static str, &'static str)> {
        let incomplete = (400, "incomplete_payload", "Incomplete payload");
        let key = payload
            .get("api-key")
            .and_then(Value::as_str)
            .ok_or(incomplete)?;
        let sig = payload
            .get("signature")
            .and_then(Value::as_str)
            .ok_or(incomplete)?;
        let ts = match payload.get("timestamp") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .ok_or(incomplete)?;
        let server_s = self.shared.faults.server_ms() / 1000;
        if ts + WINDOW_S < server_s || ts > server_s + WINDOW_S {
            return Err((
                408,
                "request_expired",
                "Timestamp header outside of allowed time window",
            ));
        }
        let ex = self.shared.ex.lock();
        let account =
            ex.account_by_key(key)
                .ok_or((404, "api_key_not_found", "ApiKey not found"))?;
        if sig != sign(&ex.accounts[account].secret, &format!("GET{ts}/live")) {
            return Err((401, "invalid_signature", "Invalid Signature"));
        }
        Ok(account)
    }

    fn wants(&self, channel: &str, symbol: &str) -> bool {
        self.subs
            .get(channel)
            .is_some_and(|s| channel == "margins" || s.contains("all") || s.contains(symbol))
    }

    fn subscriptions(&self) -> Value {
        let channels: Vec<Value> = self
            .subs
            .iter()
            .map(|(name, syms)| {
                if syms.is_empty() {
                    json!({"name": name})
                } else {
                    json!({"name": name, "symbols": syms})
                }
            })
            .collect();
        json!({"type": "subscriptions", "channels": channels})
    }

    fn next(map: &mut BTreeMap<usize, u64>, symbol: usize) -> u64 {
        let n = map.entry(symbol).or_insert(0);
        *n += 1;
        *n
    }

    /// The snapshots a subscription to `channel` for `symbols` sends.
    fn snapshots(&mut self, channel: &str, symbols: &[String], account: usize, q: &mut Queue) {
        for name in symbols {
            let Some(sym) = symbol_of(&self.shared, name) else {
                continue; // an unknown symbol is acked and then silent
            };
            let frame = {
                let ex = self.shared.ex.lock();
                match channel {
                    "orders" => {
                        let list: Vec<Value> = ex
                            .open_orders(account, Some(sym))
                            .into_iter()
                            .map(|o| order_json(&ex, o, o.status, o.executed.units(), o.cum_quote))
                            .collect();
                        let seq = Self::next(&mut self.order_seq, sym);
                        json!({"type": "orders", "action": "snapshot", "meta": {"seq_no": seq},
                               "result": list})
                    }
                    "positions" if self.shared.cfg.symbols[sym].perp.is_some() => json!({
                        "type": "positions", "action": "snapshot",
                        "result": [position_json(&self.shared, &ex, account, sym)]}),
                    _ => continue,
                }
            };
            Self::reply(q, frame);
        }
    }

    fn subscribe(&mut self, payload: &Value, q: &mut Queue) {
        let channels = payload
            .get("channels")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut refused = Vec::new();
        let mut snaps = Vec::new();
        for c in &channels {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let symbols: Vec<String> = c
                .get("symbols")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if !CHANNELS.contains(&name) {
                refused.push(json!({"name": name, "error": "subscription forbidden on this invalid channel"}));
                continue;
            }
            let Some(account) = self.account else {
                refused.push(json!({"name": name,
                    "error": format!("subscription forbidden on {name}. Unauthorized user")}));
                continue;
            };
            if self.subs.is_empty() {
                self.shared
                    .hub
                    .add_user(self.conn, account, self.conn, self.mailbox.clone());
            }
            self.subs
                .entry(name.to_owned())
                .or_default()
                .extend(symbols.iter().filter(|_| name != "margins").cloned());
            snaps.push((name.to_owned(), symbols, account));
        }
        let mut ack = self.subscriptions();
        if let Some(list) = ack["channels"].as_array_mut() {
            list.extend(refused);
        }
        Self::reply(q, ack);
        for (name, symbols, account) in snaps {
            self.snapshots(&name, &symbols, account, q);
        }
    }

    /// An executionReport of the core as Delta's pushes: the `orders` frame, and on a trade
    /// the `v2/user_trades` and `positions` frames.
    fn order_pushes(&mut self, e: &Value) -> Option<Vec<String>> {
        let id = e.get("i")?.as_u64()?;
        let num =
            |k: &str| -> Option<i64> { Some(Price::parse(e.get(k)?.as_str()?).ok()?.units()) };
        let status = match e.get("X")?.as_str()? {
            "NEW" => Status::New,
            "PARTIALLY_FILLED" => Status::PartiallyFilled,
            "FILLED" => Status::Filled,
            "EXPIRED" => Status::Expired,
            _ => Status::Canceled,
        };
        let (cum_qty, cum_quote) = (num("z")?, num("Z")?);
        let exec = e.get("x")?.as_str()?;
        let trade = exec == "TRADE";
        let account = self.account?;
        let ex = self.shared.ex.lock();
        let o = ex.orders.get(&id)?;
        let (sym, name) = (o.symbol, o.symbol_name.clone());
        let mut out = Vec::new();
        if self.wants("orders", &name) {
            let mut f = order_json(&ex, o, status, cum_qty, cum_quote);
            let seq = Self::next(&mut self.order_seq, sym);
            if let Some(m) = f.as_object_mut() {
                m.insert("type".into(), json!("orders"));
                m.insert(
                    "action".into(),
                    json!(if exec == "NEW" { "create" } else { "update" }),
                );
                m.insert(
                    "reason".into(),
                    if trade { json!("fill") } else { Value::Null },
                );
                m.insert("symbol".into(), json!(name));
                m.insert("order_id".into(), json!(id));
                m.insert("seq_no".into(), json!(seq));
                m.insert("timestamp".into(), json!(now_ms() * 1000));
            }
            out.push(f.to_string());
        }
        if trade && self.wants("v2/user_trades", &name) {
            let se = Self::next(&mut self.fill_seq, sym);
            let qty = num("l").unwrap_or(0);
            out.push(
                json!({"type": "v2/user_trades", "sy": name,
                    "f": format!("sim-{}", e.get("t").and_then(Value::as_u64).unwrap_or(0)),
                    "R": "normal", "u": account, "o": id,
                    "S": if o.side == Side::Buy { "buy" } else { "sell" },
                    "s": contracts(qty), "p": dec(num("L").unwrap_or(0)),
                    "po": contracts(ex.position(account, sym).size),
                    "r": if e.get("m").and_then(Value::as_bool).unwrap_or(false) { "maker" } else { "taker" },
                    "c": o.client_order_id, "t": now_ms() * 1000, "se": se})
                .to_string(),
            );
        }
        let perp = self.shared.cfg.symbols[sym].perp.is_some();
        if trade && perp && self.wants("positions", &name) {
            let mut p = position_json(&self.shared, &ex, account, sym);
            if let Some(m) = p.as_object_mut() {
                m.insert("type".into(), json!("positions"));
                m.insert("action".into(), json!("update"));
                m.insert("reason".into(), Value::Null);
                m.insert("timestamp".into(), json!(now_ms() * 1000));
            }
            out.push(p.to_string());
        }
        Some(out)
    }

    /// A funding payment the core charged: Delta names none in a push, so it shows as a
    /// `positions` `update` whose `realized_funding` (the position's cumulative funding,
    /// negative when paid) moved and whose size did not (§3.7, §4.6, §7 "Funding").
    fn funding_pushes(&mut self, e: &Value) -> Option<Vec<String>> {
        let account = self.account?;
        let name = e.get("s")?.as_str()?;
        if !self.wants("positions", name) {
            return Some(Vec::new());
        }
        let sym = self
            .shared
            .cfg
            .symbols
            .iter()
            .position(|s| s.symbol == name)?;
        let ex = self.shared.ex.lock();
        let mut p = position_json(&self.shared, &ex, account, sym);
        if let Some(m) = p.as_object_mut() {
            m.insert("type".into(), json!("positions"));
            m.insert("action".into(), json!("update"));
            m.insert("reason".into(), Value::Null);
            m.insert("timestamp".into(), json!(e.get("T")?.as_u64()? * 1000));
        }
        Some(vec![p.to_string()])
    }

    /// An outboundAccountPosition as one `margins` frame per asset in it.
    fn margin_pushes(&mut self, e: &Value) -> Option<Vec<String>> {
        let account = self.account?;
        if !self.subs.contains_key("margins") {
            return Some(Vec::new());
        }
        let ex = self.shared.ex.lock();
        let out = e
            .get("B")?
            .as_array()?
            .iter()
            .filter_map(|b| b.get("a")?.as_str())
            .map(|asset| {
                let mut m = wallet_item(&self.shared, &ex, account, asset);
                if let Some(o) = m.as_object_mut() {
                    o.insert("type".into(), json!("margins"));
                    o.insert("action".into(), json!("update"));
                    o.insert("timestamp".into(), json!(now_ms() * 1000));
                }
                m.to_string()
            })
            .collect();
        Some(out)
    }
}

impl Session for DeltaPrivateSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::reply(
                q,
                json!({"type": "error", "message": "Invalid request: not JSON"}),
            );
            return true;
        };
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "ping" => Self::reply(q, json!({"type": "pong"})),
            "enable_heartbeat" | "disable_heartbeat" => {}
            kind @ ("key-auth" | "auth") => match self.auth(&payload) {
                Ok(a) => {
                    self.account = Some(a);
                    Self::reply(
                        q,
                        json!({"type": kind, "success": true, "status_code": 200, "status": "authenticated"}),
                    );
                }
                Err((code, status, message)) => Self::reply(
                    q,
                    json!({"type": kind, "success": false, "status_code": code, "status": status, "message": message}),
                ),
            },
            "unauth" => {
                self.account = None;
                self.subs.clear();
                self.shared.hub.remove_user(self.conn, None);
            }
            "subscribe" => self.subscribe(&payload, q),
            "unsubscribe" => {
                for c in payload
                    .get("channels")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(name) = c.get("name").and_then(Value::as_str) {
                        self.subs.remove(name);
                    }
                }
                let ack = self.subscriptions();
                Self::reply(q, ack);
            }
            other => Self::reply(
                q,
                json!({"type": "error", "message": format!("unknown type {other:?}")}),
            ),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => {
                let w: Value = serde_json::from_str(&t).ok()?;
                let e = w.get("event")?;
                let texts = match e.get("e")?.as_str()? {
                    "executionReport" => self.order_pushes(e)?,
                    "outboundAccountPosition" => self.margin_pushes(e)?,
                    "funding" => self.funding_pushes(e)?,
                    _ => return None,
                };
                let mut it = texts.into_iter();
                let first = it.next()?;
                self.pending.extend(it);
                Some((Instant::now(), Some(first)))
            }
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn render_more(&mut self) -> Option<(Instant, Option<String>)> {
        self.pending.pop_front().map(|t| (Instant::now(), Some(t)))
    }

    fn idle_timeout(&self) -> Option<std::time::Duration> {
        // "You will be disconnected, if there is no activity within 60 seconds" (§3.1).
        Some(std::time::Duration::from_secs(60))
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
