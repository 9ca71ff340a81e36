//! The simulated Coinbase user WebSocket: `heartbeats` and `user` subscriptions (JWT checked),
//! the open-orders snapshot, order pushes with the connection's `sequence_num`, heartbeats
//! once a second, and the close of a connection that subscribed to nothing in time.

use super::*;

/// One `/ws/coinbase-user` connection.
pub struct CoinbaseUserSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    /// Products whose orders the `user` subscription reports (empty: all).
    products: Vec<String>,
    heartbeats: bool,
    /// The `sequence_num` of the next message.
    seq: u64,
    keep: crate::sim::coinbase_keep::Keep,
}

impl CoinbaseUserSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            conn,
            mailbox,
            account: None,
            products: Vec::new(),
            heartbeats: false,
            seq: 0,
            keep: crate::sim::coinbase_keep::Keep::new(
                Instant::now(),
                shared.cfg.coinbase_subscribe_window,
            ),
            shared,
        }
    }

    fn message(&mut self, channel: &str, events: Value) -> String {
        let seq = self.seq;
        self.seq += 1;
        json!({"channel": channel, "client_id": "", "timestamp": rfc3339(crate::sim::exchange::now_ms()),
               "sequence_num": seq, "events": events})
        .to_string()
    }

    fn error(q: &mut Queue, msg: &str) {
        q.push_back((
            Instant::now(),
            Some(json!({"type": "error", "message": msg}).to_string()),
        ));
    }

    fn subscriptions(&mut self, q: &mut Queue) {
        let mut subs = Map::new();
        if self.heartbeats {
            subs.insert("heartbeats".into(), json!(["heartbeats"]));
        }
        if self.account.is_some() {
            subs.insert("user".into(), json!(self.products));
        }
        let text = self.message("subscriptions", json!([{"subscriptions": subs}]));
        q.push_back((Instant::now(), Some(text)));
    }

    /// The open orders, in batches of 50; a batch of fewer ends the snapshot.
    fn snapshot(&mut self, account: usize, q: &mut Queue) {
        let ex = self.shared.ex.lock();
        let orders: Vec<Value> = ex
            .open_orders(account, None)
            .into_iter()
            .filter(|o| self.wants(o.symbol))
            .map(|o| {
                user_order(
                    &self.shared,
                    &ex,
                    o,
                    o.status,
                    o.executed.units(),
                    o.cum_quote,
                )
            })
            .collect();
        drop(ex);
        let mut chunks: Vec<&[Value]> = orders.chunks(SNAPSHOT_BATCH).collect();
        if orders.len().is_multiple_of(SNAPSHOT_BATCH) {
            chunks.push(&[]);
        }
        for c in chunks {
            let text = self.message(
                "user",
                json!([{"type": "snapshot", "orders": c, "positions": {}}]),
            );
            q.push_back((Instant::now(), Some(text)));
        }
    }

    fn wants(&self, symbol: usize) -> bool {
        self.products.is_empty() || self.products.contains(&product_of(&self.shared, symbol))
    }

    /// An `executionReport` of the core as a `user` update.
    fn update(&mut self, e: &Value) -> Option<String> {
        let id = e.get("i")?.as_u64()?;
        let status = match e.get("X")?.as_str()? {
            "NEW" => Status::New,
            "PARTIALLY_FILLED" => Status::PartiallyFilled,
            "FILLED" => Status::Filled,
            "EXPIRED" => Status::Expired,
            _ => Status::Canceled,
        };
        let cum = crate::types::Qty::parse(e.get("z")?.as_str()?)
            .ok()?
            .units();
        let cum_quote = Price::parse(e.get("Z")?.as_str()?).ok()?.units();
        let ex = self.shared.ex.lock();
        let o = ex.orders.get(&id)?;
        if !self.wants(o.symbol) {
            return None;
        }
        let item = user_order(&self.shared, &ex, o, status, cum, cum_quote);
        drop(ex);
        Some(self.message(
            "user",
            json!([{"type": "update", "orders": [item], "positions": {}}]),
        ))
    }
}

impl Session for CoinbaseUserSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::error(q, "malformed message");
            return true;
        };
        let channel = v.get("channel").and_then(Value::as_str).unwrap_or("");
        match (v.get("type").and_then(Value::as_str), channel) {
            (Some("subscribe"), "heartbeats") => {
                self.heartbeats = true;
                self.keep.heartbeats(true, Instant::now());
                self.subscriptions(q);
            }
            (Some("subscribe"), "user") => {
                let token = v.get("jwt").and_then(Value::as_str).unwrap_or("");
                let account = match authenticate(&self.shared, token, None) {
                    Ok(a) => a,
                    Err(why) => {
                        Self::error(q, &format!("authentication failure: {why}"));
                        return true;
                    }
                };
                self.products = v
                    .get("product_ids")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| p.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                if self.account.is_none() {
                    self.shared
                        .hub
                        .add_sequenced_user(self.conn, account, self.mailbox.clone());
                }
                self.account = Some(account);
                self.keep.subscribed();
                self.subscriptions(q);
                self.snapshot(account, q);
            }
            (Some("unsubscribe"), "user") => {
                self.account = None;
                self.shared.hub.remove_user(self.conn, None);
                self.subscriptions(q);
            }
            (Some("unsubscribe"), "heartbeats") => {
                self.heartbeats = false;
                self.keep.heartbeats(false, Instant::now());
                self.subscriptions(q);
            }
            _ => Self::error(q, &format!("channel {channel:?} is not offered here")),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => {
                let w: Value = serde_json::from_str(&t).ok()?;
                if let Some(lost) = w.get("lost") {
                    // An order event lost on its way: its number is gone with it.
                    if lost == "executionReport" && self.account.is_some() {
                        self.seq += 1;
                    }
                    return None;
                }
                let e = w.get("event")?;
                if e.get("e")?.as_str()? != "executionReport" {
                    return None;
                }
                let text = self.update(e)?;
                Some((Instant::now(), Some(text)))
            }
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn limits_incoming(&self) -> bool {
        false
    }

    fn tick(&mut self, now: Instant, q: &mut Queue) -> Option<Instant> {
        let due = self.keep.tick(now);
        if due.close {
            q.push_back((now, None));
            return None;
        }
        for n in due.beats {
            let events =
                crate::sim::coinbase_keep::heartbeat_events(n, crate::sim::exchange::now_ms());
            let text = self.message("heartbeats", events);
            q.push_back((now, Some(text)));
        }
        due.next
    }
}
