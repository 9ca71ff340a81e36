//! The simulator's Bybit v5 public WebSocket, spot (`/v5/public/spot`) and linear
//! (`/v5/public/linear`), written from Bybit's documentation (exchanges.md §3.2–3.3), not from
//! the engine's Bybit codec. Requests are `{"req_id":…,"op":"subscribe"|"unsubscribe"|"ping",
//! "args":[topics]}`; each is answered `{"success":…,"ret_msg":…,"conn_id":…,"req_id":…,
//! "op":…}` (a ping with `"ret_msg":"pong"`). Topics, over the same matching books as every
//! front end:
//!
//! - `orderbook.{50|200|1000}.{symbol}`: a `snapshot` of that many levels per side on
//!   subscribing, then a `delta` of the levels that changed within them (`"0"` deletes a level
//!   that left them), each with the next update id `u` and the book's cross sequence `seq`;
//!   `orderbook.1.{symbol}`: snapshot-only, pushed when the best bid or offer changes.
//! - `publicTrade.{symbol}`: taker trades (`S` the taker's side) with UUID-shaped ids `i`.
//! - `tickers.{symbol}`: spot, a snapshot with `lastPrice` (the simulator keeps no 24 h
//!   figures; its last price is the mid); linear, a snapshot of `markPrice` and `indexPrice`
//!   (both the mid), `fundingRate` (`sim.bybit_funding_rate`) and `nextFundingTime` (the next
//!   8-hour boundary of the simulator's clock, UTC), best bid and ask, then deltas of the
//!   fields that changed; both are pushed with the book's 100 ms diffs.
//!
//! Faults: the depth-gap fault loses a delta (its `u` is spent, so the client sees a jump);
//! the market disconnect closes the connection. Limits kept: spot takes at most 10 args per
//! request; a topic already subscribed is refused. Not simulated: the 3 s re-send of an
//! unchanged `orderbook.1`, the 10-minute idle close, the 500-connections-per-5-minutes limit,
//! 24 h ticker statistics, `u = 1` restarts, and more than one orderbook depth of one symbol
//! on one connection (refused with an error reply).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::Shared;
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::okx_public::books_stream;
use super::ws::{Queue, Session};
use crate::types::{Price, Qty, Side};

/// Spot takes at most this many args per request (exchanges.md §3.2).
const SPOT_MAX_ARGS: usize = 10;

/// Bybit's decimal form here: plain, shortest.
fn dec(v: i64) -> String {
    Price::from_units(v).to_string()
}

/// The next funding time after `ms` (Unix ms): the next boundary of `interval_ms` from the
/// epoch (8 hours: 00:00, 08:00 and 16:00 UTC).
pub fn next_funding_ms(ms: u64, interval_ms: u64) -> u64 {
    (ms / interval_ms.max(1) + 1) * interval_ms.max(1)
}

/// What one topic pushes.
#[derive(Clone, Debug)]
enum Topic {
    /// `orderbook.{depth}`: the update id `u` of the last message sent (or lost), and the
    /// levels the client holds.
    Book {
        depth: usize,
        u: u64,
        bids: Vec<(Price, Qty)>,
        asks: Vec<(Price, Qty)>,
    },
    Trades,
    /// `tickers`: the fields last sent (linear deltas carry the changed ones).
    Tickers {
        sent: Map<String, Value>,
    },
}

/// One subscribed topic.
struct Sub {
    topic: String,
    symbol: String,
    sym: usize,
    what: Topic,
}

/// One public connection.
pub struct BybitPublicSession {
    shared: Arc<Shared>,
    conn: u64,
    linear: bool,
    /// Hub stream → the topic it feeds on this connection.
    subs: HashMap<String, Sub>,
}

/// Levels that changed from `sent` to `now` (both best first), sizes absolute, `"0"` for a
/// level that left.
fn changes(sent: &[(Price, Qty)], now: &[(Price, Qty)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (p, q) in now {
        if !sent.iter().any(|(sp, sq)| sp == p && sq == q) {
            out.push(json!([dec(p.units()), dec(q.units())]));
        }
    }
    for (p, _) in sent {
        if !now.iter().any(|(np, _)| np == p) {
            out.push(json!([dec(p.units()), "0"]));
        }
    }
    out
}

fn levels(v: &[(Price, Qty)]) -> Vec<Value> {
    v.iter()
        .map(|(p, q)| json!([dec(p.units()), dec(q.units())]))
        .collect()
}

impl BybitPublicSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox, linear: bool) -> Self {
        shared.hub.add_market(conn, mailbox, Default::default());
        Self {
            shared,
            conn,
            linear,
            subs: HashMap::new(),
        }
    }

    fn answer(&self, q: &mut Queue, op: &str, req_id: Option<&str>, ok: bool, msg: &str) {
        let mut v = json!({"success": ok, "ret_msg": msg, "conn_id": self.conn.to_string()});
        if let Some(id) = req_id.or(self.linear.then_some("")) {
            v["req_id"] = json!(id);
        }
        v["op"] = json!(op);
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    /// The simulator symbol a Bybit symbol names (`BTCUSDT`).
    fn symbol_of(&self, symbol: &str) -> Option<usize> {
        self.shared
            .cfg
            .symbols
            .iter()
            .position(|s| s.symbol == symbol)
    }

    /// Subscribes one topic; the snapshot (books) goes on `q`. `Err` is the reason refused.
    fn subscribe(&mut self, topic: &str, q: &mut Queue) -> Result<(), &'static str> {
        if self.subs.values().any(|s| s.topic == topic) {
            return Err("already subscribed");
        }
        let (name, rest) = topic.split_once('.').ok_or("handler not found")?;
        let (what, symbol) = match name {
            "orderbook" => {
                let (depth, symbol) = rest.split_once('.').ok_or("handler not found")?;
                let depth: usize = match depth {
                    "1" | "50" | "200" | "1000" => {
                        depth.parse().map_err(|_| "handler not found")?
                    }
                    _ => return Err("handler not found"),
                };
                let what = Topic::Book {
                    depth,
                    u: 0,
                    bids: Vec::new(),
                    asks: Vec::new(),
                };
                (what, symbol)
            }
            "publicTrade" => (Topic::Trades, rest),
            "tickers" => (Topic::Tickers { sent: Map::new() }, rest),
            _ => return Err("handler not found"),
        };
        let sym = self.symbol_of(symbol).ok_or("handler not found")?;
        let lower = symbol.to_ascii_lowercase();
        let stream = match &what {
            Topic::Book { depth: 1, .. } => format!("{lower}@bookTicker"),
            Topic::Book { .. } => books_stream(&lower),
            Topic::Trades => format!("{lower}@trade"),
            Topic::Tickers { .. } => format!("{lower}@depth@100ms"),
        };
        if self.subs.contains_key(&stream) {
            return Err("one orderbook depth per symbol per connection in the simulator");
        }
        self.subs.insert(
            stream.clone(),
            Sub {
                topic: topic.to_owned(),
                symbol: symbol.to_owned(),
                sym,
                what,
            },
        );
        self.shared
            .hub
            .set_streams(self.conn, self.subs.keys().cloned().collect());
        if let Some(text) = self.push(&stream, true, false) {
            q.push_back((Instant::now(), Some(text)));
        }
        Ok(())
    }

    /// The message `stream`'s topic pushes now: a book snapshot (`first`) or delta of what
    /// changed, a ticker; `lost`: the message is made (its `u` spent, the client's levels
    /// moved on) but not sent. `None` when there is nothing to send.
    fn push(&mut self, stream: &str, first: bool, lost: bool) -> Option<String> {
        let linear = self.linear;
        let funding = self.shared.cfg.bybit_funding_rate;
        let sub = self.subs.get_mut(stream)?;
        let ex = self.shared.ex.lock();
        let book = &ex.symbols[sub.sym].book;
        let seq = book.update_id();
        let ts = now_ms();
        match &mut sub.what {
            Topic::Book {
                depth,
                u,
                bids,
                asks,
            } => {
                let nb = book.top(Side::Buy, *depth);
                let na = book.top(Side::Sell, *depth);
                drop(ex);
                let snapshot = first || *depth == 1;
                let (b, a) = if snapshot {
                    (levels(&nb), levels(&na))
                } else {
                    (changes(bids, &nb), changes(asks, &na))
                };
                if !first && !lost && b.is_empty() && a.is_empty() {
                    return None;
                }
                // The first u of a subscription is the book's own update id (never 1, which
                // would announce a restart); then one more per message.
                *u = if first { seq + 2 } else { *u + 1 };
                *bids = nb;
                *asks = na;
                if lost {
                    return None;
                }
                let kind = if snapshot { "snapshot" } else { "delta" };
                Some(
                    json!({"topic": sub.topic, "type": kind, "ts": ts,
                        "data": {"s": sub.symbol, "b": b, "a": a, "u": *u, "seq": seq},
                        "cts": ts})
                    .to_string(),
                )
            }
            Topic::Trades => None,
            Topic::Tickers { sent } => {
                let top = book.top_of_book();
                drop(ex);
                let (bid, ask) = (top.0?, top.1?);
                let mid = dec((bid.0.units() + ask.0.units()) / 2);
                // The mark the core funds and liquidates at: the mid on the tick grid.
                let mark = {
                    let ex = self.shared.ex.lock();
                    ex.mark_price(sub.sym)
                        .map_or_else(|| mid.clone(), |m| dec(m.units()))
                };
                let mut all = Map::new();
                all.insert("symbol".into(), json!(sub.symbol));
                all.insert("lastPrice".into(), json!(mid));
                if linear {
                    all.insert("markPrice".into(), json!(mark));
                    all.insert("indexPrice".into(), json!(mark));
                    all.insert("fundingRate".into(), json!(funding.to_string()));
                    all.insert(
                        "nextFundingTime".into(),
                        json!(
                            next_funding_ms(
                                self.shared.faults.server_ms(),
                                self.shared.cfg.funding_interval_ms
                            )
                            .to_string()
                        ),
                    );
                    all.insert("bid1Price".into(), json!(dec(bid.0.units())));
                    all.insert("bid1Size".into(), json!(dec(bid.1.units())));
                    all.insert("ask1Price".into(), json!(dec(ask.0.units())));
                    all.insert("ask1Size".into(), json!(dec(ask.1.units())));
                }
                // Spot tickers are snapshot-only; linear ones are deltas after the first.
                let snapshot = !linear || sent.is_empty();
                let data: Map<String, Value> = if snapshot {
                    all.clone()
                } else {
                    all.iter()
                        .filter(|(k, v)| *k == "symbol" || sent.get(*k) != Some(*v))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                };
                if !snapshot && data.len() == 1 {
                    return None;
                }
                *sent = all;
                let kind = if snapshot { "snapshot" } else { "delta" };
                Some(
                    json!({"topic": sub.topic, "type": kind, "data": data, "cs": seq, "ts": ts})
                        .to_string(),
                )
            }
        }
    }

    /// A trade of the matching engine as `publicTrade` (`m`: the buyer was the maker, so the
    /// taker sold).
    fn trade(&self, stream: &str, d: &Value) -> Option<String> {
        let sub = self.subs.get(stream)?;
        let p = Price::parse(d.get("p")?.as_str()?).ok()?;
        let q = Qty::parse(d.get("q")?.as_str()?).ok()?;
        let side = if d.get("m")?.as_bool()? {
            "Sell"
        } else {
            "Buy"
        };
        let t = d.get("t")?.as_u64()?;
        let ms = d.get("T")?.as_u64()?;
        // UUID-shaped, as Bybit's trade ids are: the symbol and the engine's trade number.
        let id = format!("{:08x}-0000-5000-8000-{t:012x}", sub.sym);
        Some(
            json!({"topic": sub.topic, "type": "snapshot", "ts": now_ms(),
                "data": [{"T": ms, "s": sub.symbol, "S": side, "v": dec(q.units()),
                    "p": dec(p.units()), "L": "PlusTick", "i": id, "BT": false, "seq": t}]})
            .to_string(),
        )
    }
}

impl Session for BybitPublicSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            self.answer(q, "", None, false, "error:request not supported");
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let req_id = v.get("req_id").and_then(Value::as_str);
        let args: Vec<String> = v
            .get("args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        match op {
            "ping" => self.answer(q, "ping", req_id, true, "pong"),
            "subscribe" if !self.linear && args.len() > SPOT_MAX_ARGS => {
                self.answer(q, op, req_id, false, "args size >10");
            }
            "subscribe" if !args.is_empty() => {
                // The answer first, then the snapshots.
                let mut snaps = Queue::new();
                let mut refused = Vec::new();
                for topic in &args {
                    if let Err(why) = self.subscribe(topic, &mut snaps) {
                        refused.push(format!("error:{why},topic:{topic}"));
                    }
                }
                self.answer(q, op, req_id, refused.is_empty(), &refused.join(";"));
                q.extend(snaps);
            }
            "unsubscribe" if !args.is_empty() => {
                self.subs.retain(|_, s| !args.contains(&s.topic));
                self.shared
                    .hub
                    .set_streams(self.conn, self.subs.keys().cloned().collect());
                self.answer(q, op, req_id, true, "");
            }
            _ => self.answer(q, op, req_id, false, "error:request not supported"),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Market { stream, data, at } => {
                let due = at + self.shared.faults.market_delay();
                let text = match self.subs.get(&*stream)?.what {
                    Topic::Trades => {
                        let d: Value = serde_json::from_str(&data).ok()?;
                        self.trade(&stream, &d)?
                    }
                    Topic::Book { .. } => {
                        let lost = data.contains("\"withheld\"");
                        self.push(&stream, false, lost)?
                    }
                    Topic::Tickers { .. } => self.push(&stream, false, false)?,
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
    use super::*;

    #[test]
    fn funding_is_at_the_next_eight_hour_boundary() {
        // 2023-01-09 13:47:41.686 UTC → 16:00 UTC.
        let eight_hours = 8 * 3600 * 1000;
        assert_eq!(
            next_funding_ms(1_673_272_061_686, eight_hours),
            1_673_280_000_000
        );
        assert_eq!(
            next_funding_ms(1_673_280_000_000, eight_hours),
            1_673_308_800_000
        );
    }

    #[test]
    fn deltas_carry_changed_and_departed_levels() {
        let p = |s: &str| Price::parse(s).unwrap();
        let q = |s: &str| Qty::parse(s).unwrap();
        let sent = [(p("10"), q("1")), (p("9"), q("2"))];
        let now = [(p("10"), q("1.5")), (p("8"), q("3"))];
        assert_eq!(
            changes(&sent, &now),
            vec![json!(["10", "1.5"]), json!(["8", "3"]), json!(["9", "0"])]
        );
        assert!(changes(&sent, &sent).is_empty());
    }
}
