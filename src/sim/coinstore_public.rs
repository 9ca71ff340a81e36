//! The simulator's Coinstore spot public WebSocket, written from Coinstore's documentation
//! (exchanges.md §6.5 and its wscat transcript), not from the engine's Coinstore codec:
//! `/s/ws` (the venue's own path) greets with `{"T":"resp","C":200,"M":"established"}`, and
//! takes `{"op":"SUB"|"UNSUB"|"LIST","channel":[…],"id":…}` (a SUB is answered by an `echo`
//! of the command, then `sub.channel.success`) and the unsolicited JSON pong
//! `{"op":"pong",…}` (no answer). Every message the server sends carries the session sequence
//! `S` (1, 2, 3, … from the greeting, per connection), `T` and the connection's `sid`.
//!
//! Streams are `<symbol>@<kind>` with the lowercase symbol (`btcusdt`) or its instrument id
//! (here the simulator's symbol order from 1, standing in for Coinstore's numeric ids), over
//! the same matching books as every front end:
//!
//! - `depth@5|10|20`: the book's top N levels per side as a whole snapshot (`b`, `a` of
//!   `[price, qty]`) every 100 ms (the simulator's fast depth clock);
//! - `trade`: each trade, `takerSide` the taker's, `tradeId` and `seq` rising, `time` in s and
//!   `ts` in ms;
//! - `ticker`: at most once a second; the simulator keeps no 24 h figures, so `close` is the
//!   mid, `open`, `high` and `low` count from the subscription, `volume` and `amount` are 0.
//!
//! Faults: the depth-gap fault loses every n-th depth push (its `S` is spent, so the client
//! sees a jump, as after a lost message); the market disconnect closes the connection.
//!
//! Keepalive as documented (exchanges.md §6.5): a ping frame every 3 minutes
//! (`[sim] coinstore_ping_interval_ms`), and the connection closed when no pong came within
//! 10 minutes (`coinstore_pong_timeout_ms`) of an unanswered ping; a pong frame counts whether
//! it answers the ping or not, and so does the JSON `{"op":"pong",…}`. A connection is closed
//! at 24 h (`[sim] max_connection_age_ms`, every front end's). Not simulated: `depth@50|100`
//! (refused), klines, `REQ`. The docs give no error reply: a bad command is answered
//! `{"T":"resp","C":400,"M":"<what was wrong>"}` (an assumption, exchanges.md §6.5).
//!
//! The 2022 docs' private `LOGIN` (order and account channels) is served on the same
//! connection by `coinstore_private::Private`: its pushes share the session's `S`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::ws::{Queue, Session};
use crate::types::{Price, Qty};

/// Depth levels the simulator serves (its partial books); Coinstore also offers 50 and 100.
const LEVELS: [usize; 3] = [5, 10, 20];

/// The ticker is pushed at most this often per channel.
const TICKER_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The greeting, queued through the mailbox so that it is the first message (`S` 1).
const GREETING: &str = "\u{0}coinstore-established";

/// Coinstore's decimal form here: plain, shortest.
fn dec(v: i64) -> String {
    Price::from_units(v).to_string()
}

/// What a subscribed channel pushes.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Depth(usize),
    Trade,
    /// The ticker: its open, high, low and close (units) since the subscription, and when
    /// it last pushed.
    Ticker(Option<[i64; 4]>, Option<Instant>),
}

/// One subscribed channel.
#[derive(Clone, Debug)]
struct Sub {
    /// As the client named it (`btcusdt@depth@20`).
    name: String,
    sym: usize,
    kind: Kind,
}

/// One public connection.
pub struct CoinstorePublicSession {
    shared: Arc<Shared>,
    conn: u64,
    sid: String,
    /// The `S` of the next message.
    next_s: u64,
    /// Hub stream → the channel it feeds on this connection (each channel has its own).
    subs: HashMap<String, Sub>,
    /// Depth pushes rendered, for the gap fault.
    depth_pushes: u64,
    mailbox: Mailbox,
    /// The private channels, once a LOGIN was accepted.
    private: Option<super::coinstore_private::Private>,
}

impl CoinstorePublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        shared
            .hub
            .add_market(conn, mailbox.clone(), Default::default());
        mailbox.send(Outbound::Text(GREETING.into()));
        Self {
            shared,
            conn,
            sid: format!(
                "{conn:08x}-c0de-4000-8000-{:012x}",
                conn.wrapping_mul(0x9e37)
            ),
            next_s: 1,
            subs: HashMap::new(),
            depth_pushes: 0,
            mailbox,
            private: None,
        }
    }

    /// `v` with the envelope (`S`, `sid`) added, as text; spends an `S`.
    fn envelope(&mut self, mut v: Value) -> String {
        if let Some(o) = v.as_object_mut() {
            o.insert("S".into(), json!(self.next_s));
            o.insert("sid".into(), json!(self.sid));
        }
        self.next_s += 1;
        v.to_string()
    }

    fn send(&mut self, q: &mut Queue, v: Value) {
        let text = self.envelope(v);
        q.push_back((Instant::now(), Some(text)));
    }

    fn error(&mut self, q: &mut Queue, msg: &str) {
        self.send(q, json!({"T": "resp", "C": 400, "M": msg}));
    }

    /// The simulator symbol a stream's symbol part names: `btcusdt`, or an id from 1.
    fn symbol_of(&self, s: &str) -> Option<usize> {
        let symbols = &self.shared.cfg.symbols;
        if let Ok(id) = s.parse::<usize>() {
            return (1..=symbols.len()).contains(&id).then(|| id - 1);
        }
        // Coinstore's stream names are lowercase.
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        symbols
            .iter()
            .position(|c| c.symbol.eq_ignore_ascii_case(s))
    }

    /// The hub stream and kind of a channel name.
    fn parse_channel(&self, name: &str) -> Result<(String, Sub), String> {
        let mut parts = name.split('@');
        let (Some(sym), Some(kind)) = (parts.next(), parts.next()) else {
            return Err(format!("invalid channel {name}"));
        };
        let level = parts.next();
        if parts.next().is_some() {
            return Err(format!("invalid channel {name}"));
        }
        let sym = self
            .symbol_of(sym)
            .ok_or_else(|| format!("unknown symbol in {name}"))?;
        let lower = self.shared.cfg.symbols[sym].symbol.to_ascii_lowercase();
        let (stream, kind) = match (kind, level) {
            ("depth", Some(n)) => {
                let n: usize = n.parse().map_err(|_| format!("invalid depth in {name}"))?;
                if !LEVELS.contains(&n) {
                    return Err(format!("depth {n} is not served by this simulator"));
                }
                (format!("{lower}@depth{n}@100ms"), Kind::Depth(n))
            }
            ("trade", None) => (format!("{lower}@trade"), Kind::Trade),
            ("ticker", None) => (format!("{lower}@bookTicker"), Kind::Ticker(None, None)),
            _ => return Err(format!("invalid channel {name}")),
        };
        let sub = Sub {
            name: name.to_owned(),
            sym,
            kind,
        };
        Ok((stream, sub))
    }

    fn set_streams(&self) {
        self.shared
            .hub
            .set_streams(self.conn, self.subs.keys().cloned().collect());
    }

    fn channel_info(&self, s: &Sub) -> Value {
        let kind = match s.kind {
            Kind::Depth(_) => "depth",
            Kind::Trade => "trade",
            Kind::Ticker(..) => "ticker",
        };
        json!({"name": s.name, "type": {"name": kind, "auth": "PUB"},
            "instrumentId": (s.sym + 1).to_string(), "lifeStartTime": now_ms() / 1000,
            "msgCount": 0, "pub": true})
    }

    fn subscribe(&mut self, v: &Value, names: &[String], q: &mut Queue) {
        let mut added = Vec::new();
        for name in names {
            match self.parse_channel(name) {
                Ok((stream, sub)) => added.push((stream, sub)),
                Err(e) => return self.error(q, &e),
            }
        }
        let echo: Vec<Value> = added.iter().map(|(_, s)| self.channel_info(s)).collect();
        for (stream, sub) in added {
            // A channel named again (or by its id) keeps its first subscription.
            self.subs.entry(stream).or_insert(sub);
        }
        self.set_streams();
        self.send(
            q,
            json!({"T": "echo", "C": 200, "M": "command.received",
                "echo": {"op": "SUB", "channel": echo, "id": v.get("id")}}),
        );
        self.send(
            q,
            json!({"T": "resp", "C": 200, "M": "sub.channel.success"}),
        );
    }

    fn depth(&mut self, sub: &Sub, n: usize, d: &Value) -> Option<Value> {
        let lv = |k: &str| -> Option<Vec<Value>> {
            let mut out = Vec::new();
            for l in d.get(k)?.as_array()?.iter().take(n) {
                let p = Price::parse(l.get(0)?.as_str()?).ok()?;
                let q = Qty::parse(l.get(1)?.as_str()?).ok()?;
                out.push(json!([dec(p.units()), dec(q.units())]));
            }
            Some(out)
        };
        let cfg = &self.shared.cfg.symbols[sub.sym];
        Some(json!({"T": "depth", "channel": sub.name, "level": n,
            "instrumentId": sub.sym + 1, "symbol": cfg.symbol,
            "b": lv("bids")?, "a": lv("asks")?}))
    }

    fn trade(sub: &Sub, symbol: &str, d: &Value) -> Option<Value> {
        let p = Price::parse(d.get("p")?.as_str()?).ok()?;
        let q = Qty::parse(d.get("q")?.as_str()?).ok()?;
        // `m`: the buyer was the maker, so the taker sold.
        let side = if d.get("m")?.as_bool()? {
            "SELL"
        } else {
            "BUY"
        };
        let ms = d.get("T")?.as_u64()?;
        let id = d.get("t")?.as_u64()?;
        Some(
            json!({"T": "trade", "channel": sub.name, "price": dec(p.units()),
            "takerSide": side, "tradeId": id, "seq": id, "volume": dec(q.units()),
            "time": ms / 1000, "ts": ms, "symbol": symbol, "instrumentId": sub.sym + 1}),
        )
    }

    /// The 24 h ticker from the book's best bid and ask, at most once per [`TICKER_EVERY`]:
    /// the simulator keeps no 24 h figures, so `close` is the mid, `open`, `high` and `low`
    /// count from the subscription, and `volume` and `amount` are 0.
    fn ticker(sub: &mut Sub, symbol: &str, d: &Value) -> Option<Value> {
        let px = |k: &str| Some(Price::parse(d.get(k)?.as_str()?).ok()?.units());
        let mid = (px("b")? + px("a")?) / 2;
        let now = Instant::now();
        let Kind::Ticker(figures, last) = &mut sub.kind else {
            return None;
        };
        if last.is_some_and(|t| now.duration_since(t) < TICKER_EVERY) {
            return None;
        }
        *last = Some(now);
        let f = figures.get_or_insert([mid; 4]);
        f[1] = f[1].max(mid);
        f[2] = f[2].min(mid);
        f[3] = mid;
        Some(
            json!({"T": "ticker", "channel": sub.name, "instrumentId": sub.sym + 1,
            "symbol": symbol, "open": dec(f[0]), "high": dec(f[1]), "low": dec(f[2]),
            "close": dec(f[3]), "volume": "0", "amount": "0"}),
        )
    }
}

impl CoinstorePublicSession {
    /// The 2022 docs' LOGIN: the private channels on this connection.
    fn login(&mut self, v: &Value, q: &mut Queue) {
        if self.private.is_some() {
            return self.send(q, json!({"T": "resp", "C": 200, "M": "login.success"}));
        }
        match super::coinstore_private::login(&self.shared, v) {
            Ok(p) => {
                self.shared
                    .hub
                    .add_sequenced_user(self.conn, p.account(), self.mailbox.clone());
                self.private = Some(p);
                self.send(q, json!({"T": "resp", "C": 200, "M": "login.success"}));
            }
            Err(e) => self.send(q, json!({"T": "resp", "C": 401, "M": e})),
        }
    }

    /// A user event of the core as a private push; a lost one spends its `S`.
    fn private_push(&mut self, t: &str) -> Option<(Instant, Option<String>)> {
        let w: Value = serde_json::from_str(t).ok()?;
        if w.get("lost").is_some() {
            self.next_s += 1;
            return None;
        }
        let p = self.private.as_mut()?;
        let v = p.render(&self.shared, w.get("event")?)?;
        Some((Instant::now(), Some(self.envelope(v))))
    }
}

impl Session for CoinstorePublicSession {
    fn ping_rule(&self) -> Option<(std::time::Duration, std::time::Duration)> {
        let cfg = &self.shared.cfg;
        Some((cfg.coinstore_ping_interval, cfg.coinstore_pong_timeout))
    }

    /// Any pong frame keeps the link (unsolicited ones too), and so does the JSON pong.
    fn pong_in(&self, text: Option<&str>) -> bool {
        text.is_none_or(|t| {
            serde_json::from_str::<Value>(t)
                .is_ok_and(|v| v.get("op").and_then(Value::as_str) == Some("pong"))
        })
    }

    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            self.error(q, "invalid command: not JSON");
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let names: Vec<String> = match v.get("channel") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        match op {
            "SUB" if !names.is_empty() => self.subscribe(&v, &names, q),
            "UNSUB" if !names.is_empty() => {
                self.subs.retain(|_, s| !names.contains(&s.name));
                self.set_streams();
                self.send(
                    q,
                    json!({"T": "resp", "C": 200, "M": "unsub.channel.success"}),
                );
            }
            "LIST" => {
                let subs: Vec<Value> = self.subs.values().map(|s| self.channel_info(s)).collect();
                self.send(q, json!({"T": "resp", "C": 200, "subs": subs}));
            }
            // Keepalives: accepted, not answered.
            "pong" | "ping" => {}
            "LOGIN" => self.login(&v, q),
            _ => self.error(q, "invalid command"),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let d: Value = serde_json::from_str(&data).ok()?;
                let mut sub = self.subs.get(&*stream)?.clone();
                let symbol = self.shared.cfg.symbols[sub.sym].symbol.clone();
                let v = match sub.kind {
                    Kind::Depth(n) => {
                        self.depth_pushes += 1;
                        let gap = self.shared.faults.depth_gap_every();
                        if gap != 0 && self.depth_pushes.is_multiple_of(gap) {
                            // Lost: its `S` is spent and never sent.
                            self.next_s += 1;
                            return None;
                        }
                        self.depth(&sub, n, &d)?
                    }
                    Kind::Trade => Self::trade(&sub, &symbol, &d)?,
                    Kind::Ticker(..) => {
                        let v = Self::ticker(&mut sub, &symbol, &d);
                        self.subs.insert(stream.to_string(), sub);
                        v?
                    }
                };
                Some((due, Some(self.envelope(v))))
            }
            Outbound::Text(t) if t == GREETING => {
                let v = json!({"T": "resp", "C": 200, "M": "established"});
                Some((Instant::now(), Some(self.envelope(v))))
            }
            Outbound::Text(t) if self.private.is_some() && t.contains("\"subscriptionId\"") => {
                self.private_push(&t)
            }
            Outbound::Text(t) => Some((Instant::now(), Some(t))),
            Outbound::Close => Some((Instant::now(), None)),
        }
    }

    fn render_more(&mut self) -> Option<(Instant, Option<String>)> {
        let v = self.private.as_mut()?.pending.pop_front()?;
        Some((Instant::now(), Some(self.envelope(v))))
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
