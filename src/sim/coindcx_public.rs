//! The simulator's CoinDCX futures stream: Socket.IO v2 over WebSocket at
//! `/socket.io/?EIO=3&transport=websocket`, written from CoinDCX's documentation
//! (exchanges.md §7.5) and the Engine.IO 3 / Socket.IO v2 protocol as published, not from the
//! engine's CoinDCX codec. The session opens with the Engine.IO open packet
//! `0{"sid":…,"upgrades":[],"pingInterval":25000,"pingTimeout":20000}` and the namespace's
//! `40`; a client `2` (ping) is answered `3` (pong); `42["join",{"channelName":…}]` and
//! `42["leave",…]` add and drop channels; the docs' `42["ping",…]` keepalive event is read and
//! not answered. Events go out as `42["<event>",{"channel":…,"event":…,"data":"<JSON>"}]`
//! (the payload as a JSON string: mako's reading of the docs' `response.data`, unconfirmed).
//! Over the same matching books as every front end:
//!
//! - `B-BTC_USDT@orderbook@{10|20|50}-futures`: `depth-snapshot` every 100 ms, the top N
//!   levels per side as price→quantity maps, `ts`, `pr:"futures"` and `vs`: the push's time in
//!   ms, rising strictly on each connection (CoinDCX's `vs` is a version whose origin is not
//!   documented).
//! - `B-BTC_USDT@trades-futures`: `new-trade` per trade (`m` = 1 when the buyer was the
//!   maker, the reading mako's decoder shares: unconfirmed).
//! - `B-BTC_USDT@prices-futures`: `price-change` (the last trade price) per trade.
//! - `currentPrices@futures@rt`: `currentPrices@futures#update` every 100 ms with every
//!   pair's mark `mp` = the mid (no funding: the reference's sample carries none).
//!
//! Pairs map to the simulator's symbols by dropping `B-` and `_` (`B-BTC_USDT` → `BTCUSDT`).
//! Faults: the market disconnect closes the connection (as a dropped transport would); raw
//! frames can be sent to every connection (`SimHandle::send_market_text`, e.g. an unknown
//! packet type). A session whose client stops pinging for pingInterval + pingTimeout is
//! closed, as an Engine.IO 3 server does. The private channel `coindcx` is joined on the same
//! session: its join, pushes and faults are [`super::coindcx_private`]'s. Not simulated:
//! candlesticks, polling transports, binary packets.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::Shared;
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::ws::{Queue, Session};
use crate::types::{Price, Side};

/// The open packet's intervals, ms.
pub const PING_INTERVAL_MS: u64 = 25_000;
pub const PING_TIMEOUT_MS: u64 = 20_000;

/// The channel of every pair's mark.
const CURRENT_PRICES: &str = "currentPrices@futures@rt";

fn dec(v: i64) -> String {
    Price::from_units(v).to_string()
}

/// What one joined channel pushes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Channel {
    Book { sym: usize, depth: usize },
    Trades { sym: usize },
    Prices { sym: usize },
    Marks,
}

struct Joined {
    name: String,
    what: Channel,
}

/// One Socket.IO session.
pub struct CoindcxPublicSession {
    shared: Arc<Shared>,
    conn: u64,
    joined: Vec<Joined>,
    last_vs: u64,
    last_ping: Instant,
    mailbox: Mailbox,
    /// The private channel, once joined.
    private: super::coindcx_private::PrivateChannel,
    /// Pushes made from one user event after the first.
    pending: std::collections::VecDeque<String>,
}

impl CoindcxPublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        shared
            .hub
            .add_market(conn, mailbox.clone(), Default::default());
        Self {
            shared,
            conn,
            joined: Vec::new(),
            last_vs: 0,
            last_ping: Instant::now(),
            mailbox,
            private: Default::default(),
            pending: Default::default(),
        }
    }

    /// The simulator symbol of a pair (`B-BTC_USDT` → `BTCUSDT`).
    fn symbol_of(&self, pair: &str) -> Option<usize> {
        let plain: String = pair
            .strip_prefix("B-")?
            .chars()
            .filter(|&c| c != '_')
            .collect();
        self.shared
            .cfg
            .symbols
            .iter()
            .position(|s| s.symbol == plain)
    }

    fn lower(&self, sym: usize) -> String {
        self.shared.cfg.symbols[sym].symbol.to_ascii_lowercase()
    }

    /// The hub stream a channel is driven by.
    fn stream(&self, what: &Channel) -> String {
        match *what {
            Channel::Book { sym, .. } => format!("{}@depth20@100ms", self.lower(sym)),
            Channel::Trades { sym } => format!("{}@trade", self.lower(sym)),
            Channel::Prices { sym } => format!("{}@aggTrade", self.lower(sym)),
            Channel::Marks => format!("{}@depth10@100ms", self.lower(0)),
        }
    }

    fn parse_channel(&self, name: &str) -> Option<Channel> {
        if name == CURRENT_PRICES {
            return (!self.shared.cfg.symbols.is_empty()).then_some(Channel::Marks);
        }
        let (pair, rest) = name.split_once('@')?;
        let sym = self.symbol_of(pair)?;
        match rest {
            "trades-futures" => Some(Channel::Trades { sym }),
            "prices-futures" => Some(Channel::Prices { sym }),
            _ => {
                let depth = rest.strip_prefix("orderbook@")?.strip_suffix("-futures")?;
                match depth {
                    "10" | "20" | "50" => Some(Channel::Book {
                        sym,
                        depth: depth.parse().ok()?,
                    }),
                    _ => None,
                }
            }
        }
    }

    fn set_streams(&self) {
        let streams: HashSet<String> = self.joined.iter().map(|j| self.stream(&j.what)).collect();
        self.shared.hub.set_streams(self.conn, streams);
    }

    /// A `join` or `leave`: unknown channels are ignored, as Socket.IO rooms that never
    /// publish would be.
    fn on_emit(&mut self, event: &str, arg: &Value) {
        let Some(name) = arg.get("channelName").and_then(Value::as_str) else {
            return;
        };
        match event {
            "join" => {
                let Some(what) = self.parse_channel(name) else {
                    return;
                };
                let stream = self.stream(&what);
                // One channel per driving stream (one book depth per pair).
                if self.joined.iter().any(|j| self.stream(&j.what) == stream) {
                    return;
                }
                self.joined.push(Joined {
                    name: name.to_owned(),
                    what,
                });
            }
            "leave" => self.joined.retain(|j| j.name != name),
            _ => return,
        }
        self.set_streams();
    }

    /// A `join` or `leave` of the private channel `coindcx`.
    fn on_private(&mut self, event: &str, arg: &Value, q: &mut Queue) {
        match event {
            "join" => match self.private.join(&self.shared, arg) {
                Ok(account) => {
                    self.shared.hub.remove_user(self.conn, None);
                    self.shared
                        .hub
                        .add_user(self.conn, account, self.conn, self.mailbox.clone());
                }
                Err(refusal) => q.push_back((Instant::now(), Some(refusal))),
            },
            "leave" => {
                self.private.account = None;
                self.shared.hub.remove_user(self.conn, None);
            }
            _ => {}
        }
    }

    fn event(channel: &str, event: &str, payload: &Value) -> String {
        let arg = json!({"channel": channel, "event": event, "data": payload.to_string()});
        format!("42{}", json!([event, arg]))
    }

    fn depth(&mut self, channel: &str, sym: usize, depth: usize) -> Option<String> {
        let ex = self.shared.ex.lock();
        let book = &ex.symbols[sym].book;
        let side = |s| -> Map<String, Value> {
            book.top(s, depth)
                .into_iter()
                .map(|(p, q)| (dec(p.units()), json!(dec(q.units()))))
                .collect()
        };
        let (bids, asks) = (side(Side::Buy), side(Side::Sell));
        drop(ex);
        let ts = now_ms();
        self.last_vs = ts.max(self.last_vs + 1);
        let payload =
            json!({"ts": ts, "vs": self.last_vs, "asks": asks, "bids": bids, "pr": "futures"});
        Some(Self::event(channel, "depth-snapshot", &payload))
    }

    fn marks(&self) -> Option<String> {
        let ex = self.shared.ex.lock();
        let mut prices = Map::new();
        for s in &ex.symbols {
            let (Some(b), Some(a)) = s.book.top_of_book() else {
                continue;
            };
            let mid = Price::from_units((b.0.units() + a.0.units()) / 2);
            let pair = pair_of(&s.cfg.symbol, &s.cfg.quote);
            let ms = now_ms();
            // The sample writes mp as a JSON number.
            let mp: Value = serde_json::from_str(&mid.to_string()).ok()?;
            prices.insert(pair, json!({"mp": mp, "bmST": ms, "cmRT": ms}));
        }
        drop(ex);
        let ts = now_ms();
        let payload = json!({"vs": ts, "ts": ts, "pr": "futures", "pST": ts, "prices": prices});
        Some(Self::event(
            CURRENT_PRICES,
            "currentPrices@futures#update",
            &payload,
        ))
    }

    fn trade(&self, channel: &str, sym: usize, d: &Value, prices: bool) -> Option<String> {
        let p = d.get("p")?.as_str()?;
        let q = d.get("q")?.as_str()?;
        let ms = d.get("T")?.as_u64()?;
        if prices {
            return Some(Self::event(
                channel,
                "price-change",
                &json!({"T": ms, "p": p, "pr": "f"}),
            ));
        }
        let s = &self.shared.cfg.symbols[sym];
        let m = u8::from(d.get("m")?.as_bool()?);
        let payload = json!({"T": ms, "RT": ms, "p": p, "q": q, "m": m,
            "s": pair_of(&s.symbol, &s.quote), "pr": "f"});
        Some(Self::event(channel, "new-trade", &payload))
    }
}

/// `GET /market_data/v3/orderbook/{pair}-futures/{10|20|50}` (exchanges.md §7.3): `ts`, `vs`
/// and the top levels as price→quantity maps; `rest` is the path after `orderbook/`.
pub fn rest_orderbook(shared: &Shared, rest: &str) -> crate::net::http::Response {
    use crate::net::http::Response;
    let not_found = || Response::json(404, json!({"message": "not found"}).to_string());
    let Some((pair, depth)) = rest.split_once("-futures/") else {
        return not_found();
    };
    let depth: usize = match depth {
        "10" | "20" | "50" => depth.parse().unwrap_or(10),
        _ => return not_found(),
    };
    let Some(plain) = pair
        .strip_prefix("B-")
        .map(|p| p.chars().filter(|&c| c != '_').collect::<String>())
    else {
        return not_found();
    };
    let ex = shared.ex.lock();
    let Some(s) = ex.symbols.iter().find(|s| s.cfg.symbol == plain) else {
        return not_found();
    };
    let side = |side| -> Map<String, Value> {
        s.book
            .top(side, depth)
            .into_iter()
            .map(|(p, q)| (dec(p.units()), json!(dec(q.units()))))
            .collect()
    };
    let body = json!({"ts": shared.faults.server_ms(), "vs": s.book.update_id(),
        "asks": side(Side::Sell), "bids": side(Side::Buy)});
    drop(ex);
    Response::json(200, body.to_string())
}

/// `BTCUSDT` with quote `USDT` → `B-BTC_USDT`.
fn pair_of(symbol: &str, quote: &str) -> String {
    match symbol.strip_suffix(quote) {
        Some(base) => format!("B-{base}_{quote}"),
        None => format!("B-{symbol}"),
    }
}

impl Session for CoindcxPublicSession {
    fn greeting(&mut self, q: &mut Queue) {
        let open = json!({"sid": format!("sim{:016x}", self.conn), "upgrades": [],
            "pingInterval": PING_INTERVAL_MS, "pingTimeout": PING_TIMEOUT_MS});
        let now = Instant::now();
        q.push_back((now, Some(format!("0{open}"))));
        q.push_back((now, Some("40".to_owned())));
    }

    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let now = Instant::now();
        match text.as_bytes().first() {
            // Engine.IO ping (with an optional probe payload): pong, echoing it.
            Some(b'2') => {
                self.last_ping = now;
                q.push_back((now, Some(format!("3{}", &text[1..]))));
                true
            }
            // Engine.IO close.
            Some(b'1') => false,
            Some(b'4') => {
                let body = &text[1..];
                match body.as_bytes().first() {
                    Some(b'2') => {
                        let Ok(Value::Array(a)) = serde_json::from_str::<Value>(&body[1..]) else {
                            return true;
                        };
                        if let (Some(ev), Some(arg)) = (a.first().and_then(Value::as_str), a.get(1))
                        {
                            let private = arg.get("channelName").and_then(Value::as_str)
                                == Some(super::coindcx_private::CHANNEL);
                            if private {
                                self.on_private(ev, arg, q);
                            } else {
                                self.on_emit(ev, arg);
                            }
                        }
                        true
                    }
                    // The client leaves the namespace.
                    Some(b'1') => false,
                    _ => true,
                }
            }
            _ => true,
        }
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        let now = Instant::now();
        let silent = Duration::from_millis(PING_INTERVAL_MS + PING_TIMEOUT_MS);
        if now.duration_since(self.last_ping) > silent {
            return Some((now, None));
        }
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let j = self
                    .joined
                    .iter()
                    .position(|j| self.stream(&j.what) == *stream)?;
                let (name, what) = (self.joined[j].name.clone(), self.joined[j].what.clone());
                let text = match what {
                    Channel::Book { sym, depth } => self.depth(&name, sym, depth)?,
                    Channel::Marks => self.marks()?,
                    Channel::Trades { sym } | Channel::Prices { sym } => {
                        let d: Value = serde_json::from_str(&data).ok()?;
                        self.trade(&name, sym, &d, matches!(what, Channel::Prices { .. }))?
                    }
                };
                Some((due, Some(text)))
            }
            // The private channel's user events (JSON objects from the hub); other text is
            // a raw frame (the unknown-packet fault).
            Outbound::Text(t) if t.starts_with('{') && self.private.account.is_some() => {
                let mut it = self
                    .private
                    .pushes(&self.shared, &t)
                    .unwrap_or_default()
                    .into_iter();
                let first = it.next()?;
                self.pending.extend(it);
                Some((now, Some(first)))
            }
            Outbound::Text(t) => Some((now, Some(t))),
            Outbound::Close => Some((now, None)),
        }
    }

    fn render_more(&mut self) -> Option<(Instant, Option<String>)> {
        self.pending.pop_front().map(|t| (Instant::now(), Some(t)))
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_the_venue_spelling() {
        assert_eq!(pair_of("BTCUSDT", "USDT"), "B-BTC_USDT");
        assert_eq!(pair_of("IDUSDT", "USDT"), "B-ID_USDT");
    }
}
