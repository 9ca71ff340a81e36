//! The simulator's Coinbase Advanced Trade market-data front end, written from Coinbase's
//! documentation (exchanges.md §4.3), not from the engine's Coinbase codec: one WebSocket
//! (`/ws/coinbase` here; the venue's host has no path) taking `subscribe`/`unsubscribe`
//! messages of one channel each, answering with a `subscriptions` message, and sending
//! `l2_data` (a `snapshot` event on subscribing, then `update` events of absolute
//! quantities), `ticker` (from the book's best bid and offer) and `market_trades` (`side` is
//! the maker's). Every message of a connection carries `sequence_num`, one more than the
//! last; the depth-gap fault skips one (a lost message). Product ids are `BTC-USD`-style
//! names of the simulator's symbols (`BTCUSD`).
//!
//! A `heartbeats` subscription gets one `heartbeats` message a second, and a connection that
//! has subscribed to nothing within the window (5 s) is closed (`super::coinbase_keep`).
//!
//! Not simulated: JWTs on subscribe.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::hub::{Mailbox, Outbound};
use super::okx_public::{books_stream, symbol_of};
use super::ws::{Queue, Session};
use crate::types::{Price, Qty, Side};

/// Coinbase's decimal form: plain, shortest.
fn dec(v: i64) -> String {
    Price::from_units(v).to_string()
}

/// RFC 3339 UTC with nanoseconds, as Coinbase stamps its messages.
fn timestamp() -> String {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let secs = ns / 1_000_000_000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ns % 1_000_000_000
    )
}

pub(super) fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One subscribed book: its product id and the book update id this connection has sent up
/// to (diffs the snapshot already held are skipped).
struct Sent {
    product: String,
    upto: i64,
}

/// One market-data connection.
pub struct CoinbasePublicSession {
    shared: Arc<Shared>,
    conn: u64,
    /// Hub stream → (channel, product id) it feeds on this connection.
    streams: HashMap<String, (&'static str, String)>,
    books: HashMap<String, Sent>,
    /// The `sequence_num` of the next message.
    seq: u64,
    keep: super::coinbase_keep::Keep,
    heartbeats: bool,
}

impl CoinbasePublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        shared.hub.add_market(conn, mailbox, Default::default());
        let window = shared.cfg.coinbase_subscribe_window;
        Self {
            shared,
            conn,
            streams: HashMap::new(),
            books: HashMap::new(),
            seq: 0,
            keep: super::coinbase_keep::Keep::new(Instant::now(), window),
            heartbeats: false,
        }
    }

    /// A channel message with the next sequence number.
    fn message(&mut self, channel: &str, events: Value) -> String {
        let seq = self.seq;
        self.seq += 1;
        json!({"channel": channel, "client_id": "", "timestamp": timestamp(),
               "sequence_num": seq, "events": events})
        .to_string()
    }

    fn reply(&mut self, q: &mut Queue, channel: &str, events: Value) {
        let text = self.message(channel, events);
        q.push_back((Instant::now(), Some(text)));
    }

    fn error(q: &mut Queue, msg: String) {
        q.push_back((
            Instant::now(),
            Some(json!({"type": "error", "message": msg}).to_string()),
        ));
    }

    fn subscriptions(&self) -> Value {
        let mut by: HashMap<&str, Vec<&str>> = HashMap::new();
        for (ch, p) in self.streams.values() {
            by.entry(ch).or_default().push(p);
        }
        if self.heartbeats {
            by.entry("heartbeats").or_default();
        }
        json!([{"subscriptions": by}])
    }

    fn subscribe(
        &mut self,
        channel: &str,
        products: &[String],
        q: &mut Queue,
    ) -> Result<(), String> {
        let ch: &'static str = match channel {
            "level2" => "level2",
            "ticker" => "ticker",
            "market_trades" => "market_trades",
            "heartbeats" => "heartbeats",
            other => return Err(format!("channel {other:?} is not offered by the simulator")),
        };
        let mut snapshots = Vec::new();
        for p in products {
            let Some(sym) = symbol_of(&self.shared, p) else {
                return Err(format!("product {p:?} does not exist"));
            };
            let name = self.shared.cfg.symbols[sym].symbol.to_ascii_lowercase();
            let stream = match ch {
                "level2" => books_stream(&name),
                "ticker" => format!("{name}@bookTicker"),
                "market_trades" => format!("{name}@trade"),
                _ => continue,
            };
            self.streams.insert(stream.clone(), (ch, p.clone()));
            if ch == "level2" {
                snapshots.push((stream, sym, p.clone()));
            }
        }
        self.shared
            .hub
            .set_streams(self.conn, self.streams.keys().cloned().collect());
        self.keep.subscribed();
        if ch == "heartbeats" {
            self.heartbeats = true;
            self.keep.heartbeats(true, Instant::now());
        }
        let subs = self.subscriptions();
        self.reply(q, "subscriptions", subs);
        // Subscribed first, then the snapshot: a diff it already holds is skipped.
        for (stream, sym, product) in snapshots {
            let ex = self.shared.ex.lock();
            let book = &ex.symbols[sym].book;
            let ts = timestamp();
            let mut updates = Vec::new();
            for (side, name) in [(Side::Buy, "bid"), (Side::Sell, "offer")] {
                for (p, qty) in book.top(side, 400) {
                    updates.push(json!({"side": name, "event_time": ts,
                        "price_level": dec(p.units()), "new_quantity": dec(qty.units())}));
                }
            }
            let upto = book.update_id() as i64;
            drop(ex);
            self.reply(
                q,
                "l2_data",
                json!([{"type": "snapshot", "product_id": product, "updates": updates}]),
            );
            self.books.insert(stream, Sent { product, upto });
        }
        Ok(())
    }

    /// A diff of the matching book as an `update` event; the gap fault's withheld diff
    /// costs a sequence number (the message was "lost").
    fn l2_update(&mut self, stream: &str, d: &Value) -> Option<String> {
        let sent = self.books.get_mut(stream)?;
        if d.get("withheld").is_some() {
            self.seq += 1;
            return None;
        }
        let u = d.get("u")?.as_i64()?;
        if u <= sent.upto {
            return None;
        }
        sent.upto = u;
        let product = sent.product.clone();
        let ts = timestamp();
        let mut updates = Vec::new();
        for (key, name) in [("b", "bid"), ("a", "offer")] {
            for l in d.get(key)?.as_array()? {
                let p = Price::parse(l.get(0)?.as_str()?).ok()?;
                let q = Qty::parse(l.get(1)?.as_str()?).ok()?;
                updates.push(json!({"side": name, "event_time": ts,
                    "price_level": dec(p.units()), "new_quantity": dec(q.units())}));
            }
        }
        Some(self.message(
            "l2_data",
            json!([{"type": "update", "product_id": product, "updates": updates}]),
        ))
    }
}

impl Session for CoinbasePublicSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::error(q, format!("malformed message: {text}"));
            return true;
        };
        let channel = v.get("channel").and_then(Value::as_str).unwrap_or("");
        let products: Vec<String> = v
            .get("product_ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        match v.get("type").and_then(Value::as_str) {
            Some("subscribe") => {
                if let Err(e) = self.subscribe(channel, &products, q) {
                    Self::error(q, e);
                }
            }
            Some("unsubscribe") => {
                if channel == "heartbeats" {
                    self.heartbeats = false;
                    self.keep.heartbeats(false, Instant::now());
                }
                self.streams
                    .retain(|_, (c, p)| !(*c == channel && products.contains(p)));
                self.books.retain(|s, _| self.streams.contains_key(s));
                self.shared
                    .hub
                    .set_streams(self.conn, self.streams.keys().cloned().collect());
                let subs = self.subscriptions();
                self.reply(q, "subscriptions", subs);
            }
            _ => Self::error(q, format!("unknown message type: {text}")),
        }
        true
    }

    fn tick(&mut self, now: Instant, q: &mut Queue) -> Option<Instant> {
        let due = self.keep.tick(now);
        if due.close {
            q.push_back((now, None));
            return None;
        }
        for n in due.beats {
            let events = super::coinbase_keep::heartbeat_events(n, super::exchange::now_ms());
            self.reply(q, "heartbeats", events);
        }
        due.next
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let (channel, product) = self.streams.get(&*stream)?.clone();
                let d: Value = serde_json::from_str(&data).ok()?;
                let text = match channel {
                    "level2" => self.l2_update(&stream, &d)?,
                    "ticker" => {
                        let s = |k: &str| {
                            d.get(k)
                                .and_then(Value::as_str)
                                .and_then(|x| Qty::parse(x).ok())
                        };
                        let (b, bq, a, aq) = (s("b")?, s("B")?, s("a")?, s("A")?);
                        // The simulator's ticker follows the best bid and offer; `price`
                        // (the last match) is given as the best bid.
                        self.message(
                            "ticker",
                            json!([{"type": "update", "tickers": [{"type": "ticker",
                                "product_id": product, "price": dec(b.units()),
                                "best_bid": dec(b.units()), "best_bid_quantity": dec(bq.units()),
                                "best_ask": dec(a.units()), "best_ask_quantity": dec(aq.units())}]}]),
                        )
                    }
                    "market_trades" => {
                        let p = Price::parse(d.get("p")?.as_str()?).ok()?;
                        let q = Qty::parse(d.get("q")?.as_str()?).ok()?;
                        // `m`: the buyer was the maker; Coinbase's `side` is the maker's.
                        let side = if d.get("m")?.as_bool()? {
                            "BUY"
                        } else {
                            "SELL"
                        };
                        let ms = d.get("T")?.as_u64()?;
                        let time = {
                            let (days, rem) = ((ms / 86_400_000) as i64, ms % 86_400_000);
                            let (y, m, dd) = civil(days);
                            format!(
                                "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:03}Z",
                                rem / 3_600_000,
                                rem % 3_600_000 / 60_000,
                                rem % 60_000 / 1000,
                                rem % 1000
                            )
                        };
                        self.message(
                            "market_trades",
                            json!([{"type": "update", "trades": [{"trade_id": d.get("t")?.to_string(),
                                "product_id": product, "price": dec(p.units()), "size": dec(q.units()),
                                "side": side, "time": time}]}]),
                        )
                    }
                    _ => return None,
                };
                Some((due, Some(text)))
            }
            Outbound::Text(t) => Some((Instant::now(), Some(t))),
            Outbound::Close => Some((Instant::now(), None)),
        }
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), (1970, 1, 1));
        assert_eq!(super::civil(19_397), (2023, 2, 9));
        assert_eq!(super::civil(19_782), (2024, 2, 29));
    }
}
