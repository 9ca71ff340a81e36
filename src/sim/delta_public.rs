//! The simulator's Delta Exchange public WebSocket (`/ws/delta`; India and global speak the
//! same protocol), written from Delta's documentation (reference/delta.md §3), not from the
//! engine's Delta codec. Requests are `{"type":"subscribe"|"unsubscribe","payload":{"channels":
//! [{"name":…,"symbols":[…]}]}}`, `{"type":"enable_heartbeat"}` / `disable_heartbeat` and
//! `{"type":"ping"}` (answered `{"type":"pong"}`). A subscribe or unsubscribe is answered
//! `{"type":"subscriptions","channels":[…]}` listing every current subscription, a refused
//! channel with its `error`. Channels, over the same matching books as every front end:
//!
//! - `ob_updates`: a `snapshot` of the whole book on subscribing, then an `update` of the
//!   levels that changed (`"0"` deletes) with `seq` one more than the last and, on both, the
//!   CRC32 `cs` of `asks|bids`, each side the top 10 levels as `price:size` joined by `,` in the
//!   strings sent. Prices are written with the tick size's decimals and sizes with the step
//!   size's (contracts: integers), as Delta writes them.
//! - `ob_l1`: the best bid and offer (`ap`, `as`, `bp`, `bs`), pushed when they change.
//! - `trades`: one frame per trade, `r` the buyer's role (`m` maker / `t` taker), `s` a JSON
//!   number as in the documentation's sample.
//! - `mark_price` (symbols `MARK:<symbol>`): `p` the mid, pushed when it changes.
//! - `funding_rate`: `fr` = `sim.delta_funding_rate` in percent, `fi` 28800, `nfr` the next
//!   8-hour boundary (µs); sent on subscribing and every 5 s after.
//! - heartbeats `{"type":"heartbeat"}` every 5 s once enabled (the global venue's observed
//!   period).
//!
//! Faults: the depth-gap fault loses an update (its `seq` is spent, so the client sees a
//! jump); the market disconnect closes the connection. Limits kept: `ob_updates` takes no
//! `all` and at most 100 symbols; an unknown channel is refused ("subscription forbidden on
//! this invalid channel"); an unknown symbol is acked and then silent (as observed). Not
//! simulated: `ob_l2`, `ticker`, `spot_price`, candles, legacy channel names, the 60 s idle
//! close, the 150-connections-per-5-minutes limit, the snapshot-load error frame.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Shared;
use super::bybit_public::next_funding_ms;
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::okx_public::books_stream;
use super::ws::{Queue, Session};
use crate::types::{Price, Qty, Side};

/// Levels per side in the checksum.
const CHECKSUM_LEVELS: usize = 10;
/// At most this many symbols on `ob_updates` per connection.
const MAX_BOOK_SYMBOLS: usize = 100;
/// Heartbeats and funding-rate frames this often.
const PERIOD: Duration = Duration::from_secs(5);
/// Levels of the whole-book snapshot (the simulated book keeps `levels` per side).
const SNAPSHOT_LEVELS: usize = 10_000;

/// The channels this front end serves.
const CHANNELS: [&str; 5] = [
    "ob_updates",
    "ob_l1",
    "trades",
    "mark_price",
    "funding_rate",
];

/// What one subscription keeps.
#[derive(Debug, Default)]
struct BookSent {
    seq: u64,
    bids: Vec<(Price, Qty)>,
    asks: Vec<(Price, Qty)>,
}

/// One subscribed (channel, symbol) the simulator knows.
struct Sub {
    channel: &'static str,
    symbol: String,
    sym: usize,
    book: BookSent,
    /// `ob_l1`: the best levels last sent; `mark_price`: the mark last sent.
    last: Option<String>,
}

/// One public connection.
pub struct DeltaPublicSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    /// Every subscription as acked: channel → symbols (unknown ones included).
    acked: BTreeMap<String, BTreeSet<String>>,
    subs: Vec<Sub>,
    heartbeat: bool,
    last_heartbeat: Instant,
    last_funding: Instant,
}

impl DeltaPublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        shared
            .hub
            .add_market(conn, mailbox.clone(), Default::default());
        Self {
            shared,
            conn,
            mailbox,
            acked: BTreeMap::new(),
            subs: Vec::new(),
            heartbeat: false,
            last_heartbeat: Instant::now(),
            last_funding: Instant::now(),
        }
    }

    fn sym_of(&self, symbol: &str) -> Option<usize> {
        self.shared
            .cfg
            .symbols
            .iter()
            .position(|s| s.symbol == symbol)
    }

    /// A price with the tick size's decimals (`"16919.0"` for a tick of 0.5).
    fn px(&self, sym: usize, p: Price) -> String {
        let d = self.shared.cfg.symbols[sym].tick_size.decimals_needed();
        p.to_fixed_string(d)
    }

    /// A size with the step size's decimals (contracts: `"1087"`).
    fn sz(&self, sym: usize, q: Qty) -> String {
        let d = self.shared.cfg.symbols[sym].step_size.decimals_needed();
        q.to_fixed_string(d)
    }

    /// The hub stream a channel of `symbol` is driven by.
    fn stream(channel: &str, symbol: &str) -> String {
        let lower = symbol.to_ascii_lowercase();
        match channel {
            "ob_updates" => books_stream(&lower),
            "ob_l1" => format!("{lower}@bookTicker"),
            "trades" => format!("{lower}@trade"),
            // mark_price and funding_rate follow the book's 100 ms clock.
            _ => format!("{lower}@depth@100ms"),
        }
    }

    fn set_streams(&self) {
        let streams = self
            .subs
            .iter()
            .map(|s| Self::stream(s.channel, &s.symbol))
            .collect();
        self.shared.hub.set_streams(self.conn, streams);
    }

    fn subscriptions(&self, refused: &[(String, Vec<String>, &str)]) -> String {
        let mut chans: Vec<Value> = self
            .acked
            .iter()
            .map(|(name, syms)| json!({"name": name, "symbols": syms}))
            .collect();
        for (name, syms, why) in refused {
            chans.push(json!({"name": name, "symbols": syms, "error": why}));
        }
        json!({"type": "subscriptions", "channels": chans}).to_string()
    }

    /// Subscribes the channel's symbols; first frames (snapshots) go on `q`.
    fn subscribe(
        &mut self,
        name: &str,
        symbols: &[String],
        q: &mut Queue,
    ) -> Result<(), &'static str> {
        let Some(&channel) = CHANNELS.iter().find(|c| **c == name) else {
            return Err("subscription forbidden on this invalid channel");
        };
        if channel == "ob_updates" {
            if symbols.is_empty() || symbols.iter().any(|s| s == "all") {
                return Err("subscription forbidden on ob_updates without symbols or with all");
            }
            let n = self.acked.get(channel).map_or(0, BTreeSet::len);
            if n + symbols.len() > MAX_BOOK_SYMBOLS {
                return Err("subscription forbidden on this channel with more than 100 symbols");
            }
        }
        for s in symbols {
            self.acked
                .entry(channel.to_owned())
                .or_default()
                .insert(s.clone());
            let bare = if channel == "mark_price" {
                s.strip_prefix("MARK:").unwrap_or("")
            } else {
                s.as_str()
            };
            let Some(sym) = self.sym_of(bare) else {
                // Acked, then silent.
                continue;
            };
            if self
                .subs
                .iter()
                .any(|x| x.channel == channel && x.sym == sym)
            {
                continue;
            }
            self.subs.push(Sub {
                channel,
                symbol: bare.to_owned(),
                sym,
                book: BookSent::default(),
                last: None,
            });
            let k = self.subs.len() - 1;
            if let Some(text) = self.push(k, true, false) {
                q.push_back((Instant::now(), Some(text)));
            }
        }
        Ok(())
    }

    fn unsubscribe(&mut self, name: &str, symbols: Option<&[String]>) {
        match symbols {
            None => {
                self.acked.remove(name);
                self.subs.retain(|s| s.channel != name);
            }
            Some(syms) => {
                if let Some(set) = self.acked.get_mut(name) {
                    for s in syms {
                        set.remove(s);
                    }
                    if set.is_empty() {
                        self.acked.remove(name);
                    }
                }
                self.subs.retain(|s| {
                    let shown = if s.channel == "mark_price" {
                        format!("MARK:{}", s.symbol)
                    } else {
                        s.symbol.clone()
                    };
                    s.channel != name || !syms.contains(&shown)
                });
            }
        }
    }

    /// Delta's checksum over the strings sent.
    fn checksum(&self, sym: usize, bids: &[(Price, Qty)], asks: &[(Price, Qty)]) -> u32 {
        let side = |v: &[(Price, Qty)]| {
            v.iter()
                .take(CHECKSUM_LEVELS)
                .map(|(p, q)| format!("{}:{}", self.px(sym, *p), self.sz(sym, *q)))
                .collect::<Vec<_>>()
                .join(",")
        };
        let text = format!("{}|{}", side(asks), side(bids));
        crc32fast::hash(text.as_bytes())
    }

    fn levels(&self, sym: usize, v: &[(Price, Qty)]) -> Vec<Value> {
        v.iter()
            .map(|(p, q)| json!([self.px(sym, *p), self.sz(sym, *q)]))
            .collect()
    }

    /// Levels that changed from `sent` to `now`, `"0"` for a level that left.
    fn changes(&self, sym: usize, sent: &[(Price, Qty)], now: &[(Price, Qty)]) -> Vec<Value> {
        let mut out = Vec::new();
        for (p, q) in now {
            if !sent.iter().any(|(sp, sq)| sp == p && sq == q) {
                out.push(json!([self.px(sym, *p), self.sz(sym, *q)]));
            }
        }
        for (p, _) in sent {
            if !now.iter().any(|(np, _)| np == p) {
                out.push(json!([self.px(sym, *p), "0"]));
            }
        }
        out
    }

    fn funding(&self, symbol: &str) -> String {
        // The configured fraction in percent, as Delta publishes it.
        let pct = self.shared.cfg.delta_funding_rate.units() as f64 / 1e6;
        let nfr = next_funding_ms(
            self.shared.faults.server_ms(),
            self.shared.cfg.funding_interval_ms,
        ) * 1000;
        json!({"fi": 28800, "fr": pct, "nfr": nfr, "sy": symbol,
            "ts": now_ms() * 1000, "type": "funding_rate"})
        .to_string()
    }

    /// The frame subscription `k` pushes now (`first`: on subscribing); `lost`: an
    /// `ob_updates` update is made (its `seq` spent) but not sent. `None`: nothing to send.
    fn push(&mut self, k: usize, first: bool, lost: bool) -> Option<String> {
        let (channel, sym) = (self.subs[k].channel, self.subs[k].sym);
        let symbol = self.subs[k].symbol.clone();
        let ts = now_ms() * 1000;
        match channel {
            "ob_updates" => {
                let ex = self.shared.ex.lock();
                let book = &ex.symbols[sym].book;
                let nb = book.top(Side::Buy, SNAPSHOT_LEVELS);
                let na = book.top(Side::Sell, SNAPSHOT_LEVELS);
                let seq0 = book.update_id();
                drop(ex);
                let sent = &self.subs[k].book;
                let (b, a) = if first {
                    (self.levels(sym, &nb), self.levels(sym, &na))
                } else {
                    (
                        self.changes(sym, &sent.bids, &nb),
                        self.changes(sym, &sent.asks, &na),
                    )
                };
                if !first && !lost && b.is_empty() && a.is_empty() {
                    return None;
                }
                let cs = self.checksum(sym, &nb, &na);
                let sent = &mut self.subs[k].book;
                sent.seq = if first { seq0 + 1 } else { sent.seq + 1 };
                sent.bids = nb;
                sent.asks = na;
                if lost {
                    return None;
                }
                let action = if first { "snapshot" } else { "update" };
                Some(
                    json!({"action": action, "a": a, "b": b, "ts": ts, "seq": sent.seq,
                        "sy": symbol, "type": "ob_updates", "cs": cs})
                    .to_string(),
                )
            }
            "ob_l1" => {
                let top = self.shared.ex.lock().symbols[sym].book.top_of_book();
                let (bid, ask) = (top.0?, top.1?);
                let key = format!("{:?}{:?}", bid, ask);
                if self.subs[k].last.as_deref() == Some(&key) {
                    return None;
                }
                self.subs[k].last = Some(key);
                Some(
                    json!({"ap": self.px(sym, ask.0), "as": self.sz(sym, ask.1),
                        "bp": self.px(sym, bid.0), "bs": self.sz(sym, bid.1),
                        "lts": ts, "sy": symbol, "ts": ts, "type": "ob_l1"})
                    .to_string(),
                )
            }
            "mark_price" => {
                let top = self.shared.ex.lock().symbols[sym].book.top_of_book();
                let (bid, ask) = (top.0?, top.1?);
                let mid = Price::from_units((bid.0.units() + ask.0.units()) / 2);
                let p = mid.to_string();
                if self.subs[k].last.as_deref() == Some(&p) {
                    return None;
                }
                self.subs[k].last = Some(p.clone());
                Some(
                    json!({"p": p, "sy": format!("MARK:{symbol}"), "ts": ts,
                        "type": "mark_price"})
                    .to_string(),
                )
            }
            "funding_rate" => {
                if !first {
                    return None;
                }
                Some(self.funding(&symbol))
            }
            _ => None,
        }
    }

    /// A trade of the matching engine as `trades` (`m`: the buyer was the maker).
    fn trade(&self, k: usize, d: &Value) -> Option<String> {
        let sub = &self.subs[k];
        let p = Price::parse(d.get("p")?.as_str()?).ok()?;
        let q = Qty::parse(d.get("q")?.as_str()?).ok()?;
        let r = if d.get("m")?.as_bool()? { "m" } else { "t" };
        let ms = d.get("T")?.as_u64()?;
        // A JSON number, as in the documentation's sample (`"s": 1.0`).
        let s: f64 = self.sz(sub.sym, q).parse().ok()?;
        Some(
            json!({"p": self.px(sub.sym, p), "r": r, "s": s, "sy": sub.symbol,
                "t": ms * 1000, "ts": now_ms() * 1000, "type": "trades"})
            .to_string(),
        )
    }

    /// Heartbeats and funding frames that are due, sent through this connection's mailbox.
    fn periodic(&mut self) {
        let now = Instant::now();
        if self.heartbeat && now.duration_since(self.last_heartbeat) >= PERIOD {
            self.last_heartbeat = now;
            let hb = json!({"ts_origin": now_ms() * 1000, "ts_publish": now_ms() * 1000,
                "type": "heartbeat"});
            self.mailbox.send(Outbound::Text(hb.to_string()));
        }
        if now.duration_since(self.last_funding) >= PERIOD {
            self.last_funding = now;
            let syms: Vec<String> = self
                .subs
                .iter()
                .filter(|s| s.channel == "funding_rate")
                .map(|s| s.symbol.clone())
                .collect();
            for s in syms {
                self.mailbox.send(Outbound::Text(self.funding(&s)));
            }
        }
    }
}

impl Session for DeltaPublicSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            let e = json!({"type": "error", "message": "Invalid message format"});
            q.push_back((Instant::now(), Some(e.to_string())));
            return true;
        };
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "ping" => q.push_back((Instant::now(), Some(r#"{"type":"pong"}"#.into()))),
            "enable_heartbeat" => {
                self.heartbeat = true;
                self.last_heartbeat = Instant::now();
            }
            "disable_heartbeat" => self.heartbeat = false,
            kind @ ("subscribe" | "unsubscribe") => {
                let Some(chans) = v
                    .pointer("/payload/channels")
                    .and_then(Value::as_array)
                    .filter(|c| !c.is_empty())
                else {
                    let e = json!({"type": "error",
                        "message": "Subscription forbidden: Invalid channel array"});
                    q.push_back((Instant::now(), Some(e.to_string())));
                    return true;
                };
                let mut snaps = Queue::new();
                let mut refused = Vec::new();
                for c in chans {
                    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                    let symbols: Option<Vec<String>> =
                        c.get("symbols").and_then(Value::as_array).map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        });
                    if kind == "unsubscribe" {
                        self.unsubscribe(name, symbols.as_deref());
                    } else {
                        let syms = symbols.unwrap_or_default();
                        if let Err(why) = self.subscribe(name, &syms, &mut snaps) {
                            refused.push((name.to_owned(), syms, why));
                        }
                    }
                }
                self.set_streams();
                // The answer first, then the snapshots.
                q.push_back((Instant::now(), Some(self.subscriptions(&refused))));
                q.extend(snaps);
            }
            _ => {
                let e = json!({"type": "error", "message": "Invalid message type"});
                q.push_back((Instant::now(), Some(e.to_string())));
            }
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                self.periodic();
                let due = at + self.shared.faults.market_delay();
                let ks: Vec<usize> = (0..self.subs.len())
                    .filter(|&k| {
                        Self::stream(self.subs[k].channel, &self.subs[k].symbol) == *stream
                    })
                    .collect();
                // A stream drives one frame here; the others of the same stream (the mark
                // and funding share the 100 ms clock) go through the mailbox.
                let mut out = Vec::new();
                for k in ks {
                    let text = match self.subs[k].channel {
                        "trades" => {
                            let d: Value = serde_json::from_str(&data).ok()?;
                            self.trade(k, &d)
                        }
                        "ob_updates" => {
                            let lost = data.contains("\"withheld\"");
                            self.push(k, false, lost)
                        }
                        _ => self.push(k, false, false),
                    };
                    out.extend(text);
                }
                let first = if out.is_empty() {
                    None
                } else {
                    Some(out.remove(0))
                };
                for t in out {
                    self.mailbox.send(Outbound::Text(t));
                }
                Some((due, Some(first?)))
            }
            Outbound::Text(t) => Some((Instant::now(), Some(t))),
            Outbound::Close => Some((Instant::now(), None)),
        }
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
