//! The simulator's OKX v5 public front end, written from OKX's documentation
//! (exchanges.md §2.2–2.4), not from the engine's OKX codec: `/ws/v5/public` with the
//! `subscribe`/`unsubscribe` ops, the text `ping` → `pong`, and the `books` (a snapshot on
//! subscribe, then updates chained by `prevSeqId`/`seqId` with the CRC32 checksum of the top
//! 25 levels), `bbo-tbt` and `trades` channels; and the public REST `GET
//! /api/v5/market/books` (with `seqId`, as OKX's 2026 snapshot procedure implies) and `GET
//! /api/v5/public/time`. The market is the simulator's one matching book per symbol; OKX
//! names it `BTC-USDT` where Binance says `BTCUSDT`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::ws::{Queue, Session};
use crate::types::{Price, Qty, Side};

/// The simulator symbol an OKX `instId` names (`BTC-USDT` → index of `BTCUSDT`).
pub fn symbol_of(shared: &Shared, inst_id: &str) -> Option<usize> {
    let plain: String = inst_id.chars().filter(|c| *c != '-').collect();
    shared
        .cfg
        .symbols
        .iter()
        .position(|s| s.symbol.eq_ignore_ascii_case(&plain) && inst_id.contains('-'))
}

/// OKX's decimal form: the shortest exact one (`"8477"`, `"0.1"`).
fn dec(v: i64) -> String {
    Price::from_units(v).to_string()
}

/// OKX's book checksum (exchanges.md §2.4) of the book's top 25 levels: CRC32, as a signed
/// 32-bit integer, of the bids and asks interleaved `bid:size:ask:size:…` in OKX's decimal
/// form, the longer side's rest following.
pub fn checksum(book: &super::book::SimBook) -> i32 {
    let (bids, asks) = (book.top(Side::Buy, 25), book.top(Side::Sell, 25));
    let mut parts: Vec<String> = Vec::with_capacity(100);
    for i in 0..bids.len().max(asks.len()) {
        for side in [&bids, &asks] {
            if let Some((p, q)) = side.get(i) {
                parts.push(dec(p.units()));
                parts.push(dec(q.units()));
            }
        }
    }
    crc32fast::hash(parts.join(":").as_bytes()) as i32
}

/// The hub stream that carries a symbol's diffs with the checksum of the book they leave
/// (computed by the market thread under the exchange lock, so it is the true book's).
pub fn books_stream(symbol: &str) -> String {
    format!("{}@okx-books", symbol.to_ascii_lowercase())
}

/// One subscribed book: its `instId`, the `seqId` this connection has sent up to, and
/// whether an update was withheld since (the gap fault).
struct Sent {
    inst: String,
    seq: i64,
    withheld: bool,
}

/// One `/ws/v5/public` connection.
pub struct OkxPublicSession {
    shared: Arc<Shared>,
    conn: u64,
    /// Hub stream → (channel, instId) it feeds on this connection.
    streams: HashMap<String, (&'static str, String)>,
    /// Books by hub stream.
    books: HashMap<String, Sent>,
}

impl OkxPublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        shared.hub.add_market(conn, mailbox, Default::default());
        Self {
            shared,
            conn,
            streams: HashMap::new(),
            books: HashMap::new(),
        }
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    fn error(q: &mut Queue, code: &str, msg: String) {
        Self::reply(q, json!({"event": "error", "code": code, "msg": msg}));
    }

    fn subscribe(&mut self, arg: &Value, q: &mut Queue) -> Result<(), (String, String)> {
        let channel = arg.get("channel").and_then(Value::as_str).unwrap_or("");
        let inst = arg.get("instId").and_then(Value::as_str).unwrap_or("");
        let Some(sym) = symbol_of(&self.shared, inst) else {
            return Err((
                "60018".into(),
                format!("Wrong URL or channel:{channel},instId:{inst} doesn't exist."),
            ));
        };
        let name = self.shared.cfg.symbols[sym].symbol.to_ascii_lowercase();
        let (stream, ch) = match channel {
            "books" => (books_stream(&name), "books"),
            "bbo-tbt" => (format!("{name}@bookTicker"), "bbo-tbt"),
            "trades" => (format!("{name}@trade"), "trades"),
            other => {
                return Err((
                    "60018".into(),
                    format!("Wrong URL or channel:{other},instId:{inst} doesn't exist."),
                ));
            }
        };
        self.streams.insert(stream.clone(), (ch, inst.to_owned()));
        self.shared
            .hub
            .set_streams(self.conn, self.streams.keys().cloned().collect());
        Self::reply(
            q,
            json!({"event": "subscribe", "arg": {"channel": ch, "instId": inst}, "connId": format!("{:08x}", self.conn)}),
        );
        if ch == "books" {
            // Subscribed first, then the snapshot: an update the snapshot already holds is
            // skipped by its seqId when it arrives.
            let ex = self.shared.ex.lock();
            let book = &ex.symbols[sym].book;
            let lv = |side| -> Vec<Value> {
                book.top(side, 400)
                    .into_iter()
                    .map(|(p, q)| json!([dec(p.units()), dec(q.units()), "0", "1"]))
                    .collect()
            };
            let seq = book.update_id() as i64;
            let snapshot = json!({"arg": {"channel": "books", "instId": inst}, "action": "snapshot", "data": [{
                "asks": lv(Side::Sell), "bids": lv(Side::Buy), "ts": now_ms().to_string(),
                "checksum": checksum(book), "prevSeqId": -1, "seqId": seq,
            }]});
            drop(ex);
            if !self.shared.faults.okx_no_snapshot() {
                Self::reply(q, snapshot);
            }
            self.books.insert(
                stream,
                Sent {
                    inst: inst.to_owned(),
                    seq,
                    withheld: false,
                },
            );
        }
        Ok(())
    }

    /// A diff of the matching book (`U`..`u`, levels, the checksum of the book it leaves) as
    /// an OKX `books` update: `prevSeqId` is the `seqId` this connection last sent, so the chain
    /// holds (a diff that straddles the subscription's snapshot included) until the gap fault
    /// withholds one: the next then says the venue's own `U - 1`, a break. Nothing if this
    /// connection's snapshot already held it.
    fn books_update(&mut self, stream: &str, d: &Value) -> Option<String> {
        let sent = self.books.get_mut(stream)?;
        if d.get("withheld").is_some() {
            sent.withheld = true;
            return None;
        }
        let (first, u) = (d.get("U")?.as_i64()?, d.get("u")?.as_i64()?);
        if u <= sent.seq {
            return None;
        }
        let prev = if sent.withheld { first - 1 } else { sent.seq };
        sent.withheld = false;
        let mut out = [Vec::new(), Vec::new()];
        for (k, key) in ["b", "a"].into_iter().enumerate() {
            for l in d.get(key)?.as_array()? {
                let p = Price::parse(l.get(0)?.as_str()?).ok()?;
                let q = Qty::parse(l.get(1)?.as_str()?).ok()?;
                let count = if q.is_zero() { "0" } else { "1" };
                out[k].push(json!([dec(p.units()), dec(q.units()), "0", count]));
            }
        }
        sent.seq = u;
        let [bids, asks] = out;
        let checksum = if self.shared.faults.okx_checksum_zero() {
            0
        } else {
            d.get("checksum")?.as_i64()?
        };
        Some(
            json!({"arg": {"channel": "books", "instId": sent.inst}, "action": "update", "data": [{
                "asks": asks, "bids": bids, "ts": now_ms().to_string(),
                "checksum": checksum, "prevSeqId": prev, "seqId": u,
            }]})
            .to_string(),
        )
    }
}

impl Session for OkxPublicSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        if text == "ping" {
            q.push_back((Instant::now(), Some("pong".into())));
            return true;
        }
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => {
                Self::error(q, "60012", format!("Invalid request: {text}"));
                return true;
            }
        };
        let op = v.get("op").and_then(Value::as_str);
        let args = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match op {
            Some("subscribe") if !args.is_empty() => {
                for a in &args {
                    if let Err((code, msg)) = self.subscribe(a, q) {
                        Self::error(q, &code, msg);
                    }
                }
            }
            Some("unsubscribe") if !args.is_empty() => {
                for a in &args {
                    let ch = a.get("channel").and_then(Value::as_str).unwrap_or("");
                    let inst = a.get("instId").and_then(Value::as_str).unwrap_or("");
                    self.streams.retain(|_, (c, i)| !(*c == ch && i == inst));
                    self.books.retain(|s, _| self.streams.contains_key(s));
                    Self::reply(q, json!({"event": "unsubscribe", "arg": a}));
                }
                self.shared
                    .hub
                    .set_streams(self.conn, self.streams.keys().cloned().collect());
            }
            _ => Self::error(q, "60012", format!("Invalid request: {text}")),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let (channel, inst) = self.streams.get(&*stream)?.clone();
                let d: Value = serde_json::from_str(&data).ok()?;
                let text = match channel {
                    "books" => self.books_update(&stream, &d)?,
                    "bbo-tbt" => {
                        let s = |k: &str| {
                            d.get(k)
                                .and_then(Value::as_str)
                                .and_then(|x| Qty::parse(x).ok())
                        };
                        let (b, bq, a, aq) = (s("b")?, s("B")?, s("a")?, s("A")?);
                        json!({"arg": {"channel": "bbo-tbt", "instId": inst}, "data": [{
                            "asks": [[dec(a.units()), dec(aq.units()), "0", "1"]],
                            "bids": [[dec(b.units()), dec(bq.units()), "0", "1"]],
                            "ts": now_ms().to_string(), "seqId": d.get("u")?.as_i64()?,
                        }]})
                        .to_string()
                    }
                    "trades" => {
                        let p = Price::parse(d.get("p")?.as_str()?).ok()?;
                        let q = Qty::parse(d.get("q")?.as_str()?).ok()?;
                        // `m`: the buyer was the maker, so the taker sold.
                        let side = if d.get("m")?.as_bool()? {
                            "sell"
                        } else {
                            "buy"
                        };
                        json!({"arg": {"channel": "trades", "instId": inst}, "data": [{
                            "instId": inst, "tradeId": d.get("t")?.to_string(), "px": dec(p.units()),
                            "sz": dec(q.units()), "side": side, "ts": d.get("T")?.to_string(), "count": "1",
                        }]})
                        .to_string()
                    }
                    _ => return None,
                };
                Some((due, Some(text)))
            }
            Outbound::Text(t) => Some((Instant::now(), Some(t))),
            Outbound::Close => Some((Instant::now(), None)),
        }
    }

    fn idle_timeout(&self) -> Option<std::time::Duration> {
        Some(self.shared.cfg.okx_idle_timeout)
    }

    fn limits_incoming(&self) -> bool {
        // OKX limits subscribe/login requests per hour, not messages per second.
        false
    }
}

/// `GET /api/v5/market/books?instId=&sz=` and `GET /api/v5/public/time`; `None` for other
/// paths.
pub fn rest(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<(u16, Value)> {
    match (method, path) {
        ("GET", "/api/v5/public/time") => Some((
            200,
            json!({"code": "0", "msg": "", "data": [{"ts": shared.faults.server_ms().to_string()}]}),
        )),
        ("GET", "/api/v5/market/books") => {
            let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
            let Some(sym) = get("instId").and_then(|i| symbol_of(shared, i)) else {
                return Some((
                    200,
                    json!({"code": "51001", "msg": "Instrument ID doesn't exist", "data": []}),
                ));
            };
            let sz = get("sz")
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(1)
                .clamp(1, 400);
            let ex = shared.ex.lock();
            let book = &ex.symbols[sym].book;
            let lv = |side| -> Vec<Value> {
                book.top(side, sz)
                    .into_iter()
                    .map(|(p, q)| json!([dec(p.units()), dec(q.units()), "0", "1"]))
                    .collect()
            };
            Some((
                200,
                json!({"code": "0", "msg": "", "data": [{
                    "asks": lv(Side::Sell), "bids": lv(Side::Buy), "ts": now_ms().to_string(),
                    "seqId": book.update_id(),
                }]}),
            ))
        }
        _ => None,
    }
}
