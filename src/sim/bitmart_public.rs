//! The simulator's BitMart spot public WebSocket, written from BitMart's documentation
//! (exchanges.md §5.6), not from the engine's BitMart codec: `/api?protocol=1.1` (the
//! venue's own path) taking `{"op":"subscribe"|"unsubscribe"|"request","args":[
//! "<channel>:<symbol>"]}` and the text `ping` (answered `pong`); data pushes
//! (`{"table":…,"data":[…]}`) go out as binary frames compressed with raw DEFLATE, replies
//! (`{"event":…}`, `pong`) as text. Channels: `spot/depth/increase100` (a `snapshot` on
//! subscribing and on `request`, then `update`s of absolute sizes, each one `version` more
//! than the last), `spot/ticker` (from the book's best bid and ask, at most one per 500 ms per
//! symbol) and `spot/trade` (`side` is the taker's). A connection nothing was pushed to for
//! 20 s is closed (`sim.bitmart_idle_timeout_ms`); more than 20 topics in one message, or more
//! than 100 messages in 10 s, closes it. Symbols are `BTC_USDT`-style names of the
//! simulator's symbols (`BTCUSDT`); the market is the same one matching book per symbol as
//! every other front end's.
//!
//! Faults: the depth-gap fault withholds an update, costing its version (the client sees a
//! jump); the market disconnect closes the connection. Versions count per connection from
//! the book's update id at the first snapshot (BitMart's own versions are per symbol; a
//! client relies only on each update being one more than the last). Not simulated: the
//! 5-minute close of a connection with no subscription, the 4096-byte request limit,
//! `spot/bookTicker`, `spot/depth5|20|50`, klines, and empty idle updates.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use serde_json::{Value, json};
use tungstenite::Message;

use super::Shared;
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::okx_public::books_stream;
use super::ws::{Queue, Session};
use crate::types::{Price, Qty, Side};

const DEPTH: &str = "spot/depth/increase100";
/// BitMart pushes a symbol's ticker at most this often.
const TICKER_EVERY: Duration = Duration::from_millis(500);
/// Topics one subscribe may carry, and messages a connection may send per 10 s.
const MAX_TOPICS: usize = 20;
const MAX_MESSAGES: u32 = 100;

/// BitMart's decimal form here: plain, shortest.
fn dec(v: i64) -> String {
    Price::from_units(v).to_string()
}

/// Data pushes (`{"table":…}`) go out compressed (raw DEFLATE) in binary frames; replies
/// (`{"event":…}`, `pong`) as text. The private front end sends its pushes the same way.
pub(super) fn wire(text: String) -> Message {
    if !text.contains("\"table\"") {
        return Message::text(text);
    }
    let mut z = DeflateEncoder::new(Vec::with_capacity(text.len() / 2), Compression::fast());
    match z.write_all(text.as_bytes()).and_then(|()| z.finish()) {
        Ok(bytes) => Message::binary(bytes),
        Err(_) => Message::text(text),
    }
}

/// The simulator symbol a BitMart symbol names (`BTC_USDT` → index of `BTCUSDT`).
pub fn symbol_of(shared: &Shared, symbol: &str) -> Option<usize> {
    let plain: String = symbol.chars().filter(|c| *c != '_').collect();
    shared
        .cfg
        .symbols
        .iter()
        .position(|s| s.symbol.eq_ignore_ascii_case(&plain) && symbol.contains('_'))
}

/// One subscribed book: its symbol, the book update id this connection has sent up to, and
/// the version of the last update sent (or lost).
struct Sent {
    symbol: String,
    sym: usize,
    upto: i64,
    version: u64,
}

/// One public connection.
pub struct BitmartPublicSession {
    shared: Arc<Shared>,
    conn: u64,
    /// Hub stream → (channel, symbol) it feeds on this connection.
    streams: HashMap<String, (&'static str, String)>,
    /// Books by hub stream.
    books: HashMap<String, Sent>,
    /// When each ticker stream last pushed.
    tickers: HashMap<String, Instant>,
    /// Messages received in the current 10 s window.
    window: (Instant, u32),
}

impl BitmartPublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        shared.hub.add_market(conn, mailbox, Default::default());
        Self {
            shared,
            conn,
            streams: HashMap::new(),
            books: HashMap::new(),
            tickers: HashMap::new(),
            window: (Instant::now(), 0),
        }
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    fn error(q: &mut Queue, event: &str, code: &str, msg: &str) {
        Self::reply(
            q,
            json!({"event": event, "errorCode": code, "errorMessage": msg}),
        );
    }

    /// `spot/depth/increase100` snapshot of `stream`'s book as the connection last left it.
    fn snapshot(&mut self, stream: &str) -> Option<String> {
        let sent = self.books.get_mut(stream)?;
        let ex = self.shared.ex.lock();
        let book = &ex.symbols[sent.sym].book;
        let lv = |side| -> Vec<Value> {
            book.top(side, 100)
                .into_iter()
                .map(|(p, q)| json!([dec(p.units()), dec(q.units())]))
                .collect()
        };
        let (asks, bids) = (lv(Side::Sell), lv(Side::Buy));
        sent.upto = book.update_id() as i64;
        drop(ex);
        Some(
            json!({"data": [{"asks": asks, "bids": bids, "ms_t": now_ms(), "symbol": sent.symbol,
                "type": "snapshot", "version": sent.version}], "table": DEPTH})
            .to_string(),
        )
    }

    fn subscribe(&mut self, topic: &str, q: &mut Queue) -> Result<(), ()> {
        let (channel, symbol) = topic.split_once(':').ok_or(())?;
        let sym = symbol_of(&self.shared, symbol).ok_or(())?;
        let name = self.shared.cfg.symbols[sym].symbol.to_ascii_lowercase();
        let (stream, ch) = match channel {
            DEPTH => (books_stream(&name), DEPTH),
            "spot/ticker" => (format!("{name}@bookTicker"), "spot/ticker"),
            "spot/trade" => (format!("{name}@trade"), "spot/trade"),
            _ => return Err(()),
        };
        self.streams.insert(stream.clone(), (ch, symbol.to_owned()));
        self.shared
            .hub
            .set_streams(self.conn, self.streams.keys().cloned().collect());
        Self::reply(q, json!({"event": "subscribe", "topic": topic}));
        if ch == DEPTH {
            // Subscribed first, then the snapshot: an update it already holds is skipped.
            let version = {
                let ex = self.shared.ex.lock();
                ex.symbols[sym].book.update_id()
            };
            self.books.insert(
                stream.clone(),
                Sent {
                    symbol: symbol.to_owned(),
                    sym,
                    upto: 0,
                    version,
                },
            );
            if let Some(text) = self.snapshot(&stream) {
                q.push_back((Instant::now(), Some(text)));
            }
        }
        Ok(())
    }

    /// A diff of the matching book as an `update` one version on; the gap fault's withheld
    /// diff costs a version (the update was "lost").
    fn update(&mut self, stream: &str, d: &Value) -> Option<String> {
        let sent = self.books.get_mut(stream)?;
        if d.get("withheld").is_some() {
            sent.version += 1;
            return None;
        }
        let u = d.get("u")?.as_i64()?;
        if u <= sent.upto {
            return None;
        }
        sent.upto = u;
        sent.version += 1;
        let mut out = [Vec::new(), Vec::new()];
        for (k, key) in ["b", "a"].into_iter().enumerate() {
            for l in d.get(key)?.as_array()? {
                let p = Price::parse(l.get(0)?.as_str()?).ok()?;
                let q = Qty::parse(l.get(1)?.as_str()?).ok()?;
                out[k].push(json!([dec(p.units()), dec(q.units())]));
            }
        }
        let [bids, asks] = out;
        Some(
            json!({"data": [{"asks": asks, "bids": bids, "ms_t": now_ms(), "symbol": sent.symbol,
                "type": "update", "version": sent.version}], "table": DEPTH})
            .to_string(),
        )
    }

    /// Over BitMart's message limit (100 per 10 s, pings included)?
    fn over_limit(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window.0) >= Duration::from_secs(10) {
            self.window = (now, 0);
        }
        self.window.1 += 1;
        self.window.1 > MAX_MESSAGES
    }
}

impl Session for BitmartPublicSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        if self.over_limit() {
            return false;
        }
        if text == "ping" {
            q.push_back((Instant::now(), Some("pong".into())));
            return true;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            // The docs give no code for a message that is not JSON; 90004 is their code for
            // a bad request parameter.
            Self::error(q, "", "90004", "Invalid request");
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let args: Vec<String> = v
            .get("args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if args.len() > MAX_TOPICS {
            // Over the limit: BitMart disconnects.
            return false;
        }
        match op {
            "subscribe" if !args.is_empty() => {
                for topic in &args {
                    if self.subscribe(topic, q).is_err() {
                        Self::error(q, "subscribe", "90004", "Invalid channel param");
                    }
                }
            }
            "unsubscribe" if !args.is_empty() => {
                for topic in &args {
                    let (ch, sym) = topic.split_once(':').unwrap_or((topic, ""));
                    self.streams.retain(|_, (c, s)| !(*c == ch && s == sym));
                    Self::reply(q, json!({"event": "unsubscribe", "topic": topic}));
                }
                self.books.retain(|s, _| self.streams.contains_key(s));
                self.shared
                    .hub
                    .set_streams(self.conn, self.streams.keys().cloned().collect());
            }
            "request" if !args.is_empty() => {
                for topic in &args {
                    let stream = self
                        .streams
                        .iter()
                        .find(|(_, (c, s))| topic.split_once(':') == Some((c, s.as_str())))
                        .map(|(k, _)| k.clone());
                    match stream.and_then(|s| self.snapshot(&s)) {
                        Some(text) => q.push_back((Instant::now(), Some(text))),
                        None => Self::error(q, "request", "90004", "Invalid channel param"),
                    }
                }
            }
            _ => Self::error(q, op, "90004", "Invalid channel param"),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let (channel, symbol) = self.streams.get(&*stream)?.clone();
                let d: Value = serde_json::from_str(&data).ok()?;
                let text = match channel {
                    DEPTH => self.update(&stream, &d)?,
                    "spot/ticker" => {
                        let now = Instant::now();
                        if self
                            .tickers
                            .get(&*stream)
                            .is_some_and(|t| now.duration_since(*t) < TICKER_EVERY)
                        {
                            return None;
                        }
                        self.tickers.insert(stream.to_string(), now);
                        let s = |k: &str| {
                            d.get(k)
                                .and_then(Value::as_str)
                                .and_then(|x| Qty::parse(x).ok())
                        };
                        let (b, bq, a, aq) = (s("b")?, s("B")?, s("a")?, s("A")?);
                        let ms = now_ms();
                        // The simulator's ticker follows the best bid and ask; `last_price`
                        // is given as the best bid, the 24 h figures are not kept.
                        json!({"data": [{"ask_px": dec(a.units()), "ask_sz": dec(aq.units()),
                            "bid_px": dec(b.units()), "bid_sz": dec(bq.units()),
                            "last_price": dec(b.units()), "ms_t": ms, "s_t": ms / 1000,
                            "symbol": symbol}], "table": "spot/ticker"})
                        .to_string()
                    }
                    "spot/trade" => {
                        let p = Price::parse(d.get("p")?.as_str()?).ok()?;
                        let q = Qty::parse(d.get("q")?.as_str()?).ok()?;
                        // `m`: the buyer was the maker, so the taker sold.
                        let side = if d.get("m")?.as_bool()? {
                            "sell"
                        } else {
                            "buy"
                        };
                        let ms = d.get("T")?.as_u64()?;
                        json!({"table": "spot/trade", "data": [{"symbol": symbol,
                            "price": dec(p.units()), "side": side, "size": dec(q.units()),
                            "s_t": ms / 1000, "ms_t": ms}]})
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

    fn wire(&mut self, text: String) -> Message {
        wire(text)
    }

    fn idle_timeout(&self) -> Option<Duration> {
        Some(self.shared.cfg.bitmart_idle_timeout)
    }

    fn limits_incoming(&self) -> bool {
        // BitMart's own limit (100 messages per 10 s) is kept by the session.
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_pushes_are_compressed_and_replies_are_not() {
        use crate::venue::bitmart::inflate::Inflater;
        let push = r#"{"table":"spot/trade","data":[]}"#.to_owned();
        let Message::Binary(b) = wire(push.clone()) else {
            panic!("a push is binary")
        };
        assert_eq!(Inflater::new().inflate(&b).unwrap(), push.as_bytes());
        assert_eq!(wire("pong".into()), Message::text("pong"));
        let ack = r#"{"event":"subscribe","topic":"spot/ticker:BTC_USDT"}"#.to_owned();
        assert_eq!(wire(ack.clone()), Message::text(ack));
    }
}
