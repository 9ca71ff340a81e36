//! The fan-out between the exchange and the WebSocket connections: market-data subscribers by
//! stream name, user-data subscribers by account, each with a channel and a waker.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::exchange::{Event, Exchange};
use super::faults::Faults;

/// What a connection thread is told to send.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A market-data payload of one stream, published at `at`.
    Market {
        stream: Arc<str>,
        data: Arc<str>,
        at: Instant,
    },
    /// A ready text frame (user-data events, serverShutdown).
    Text(String),
    /// Close the connection (disconnect fault, shutdown).
    Close,
}

/// A connection's mailbox: sending wakes the connection's poll loop.
#[derive(Clone)]
pub struct Mailbox {
    pub tx: Sender<Outbound>,
    pub waker: Arc<mio::Waker>,
}

impl Mailbox {
    pub fn send(&self, o: Outbound) {
        if self.tx.send(o).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

struct MarketSub {
    streams: HashSet<String>,
    mailbox: Mailbox,
}

struct UserSub {
    conn: u64,
    account: usize,
    subscription_id: u64,
    mailbox: Mailbox,
    /// A dropped event is still announced to the connection as `{"lost": <its type>}`, so a
    /// protocol that numbers its messages (Coinbase's `sequence_num`) skips a number.
    marks_lost: bool,
}

#[derive(Default)]
pub struct Hub {
    market: Mutex<HashMap<u64, MarketSub>>,
    users: Mutex<Vec<UserSub>>,
}

impl Hub {
    pub fn add_market(&self, conn: u64, mailbox: Mailbox, streams: HashSet<String>) {
        self.market
            .lock()
            .insert(conn, MarketSub { streams, mailbox });
    }

    pub fn set_streams(&self, conn: u64, streams: HashSet<String>) {
        if let Some(s) = self.market.lock().get_mut(&conn) {
            s.streams = streams;
        }
    }

    pub fn remove(&self, conn: u64) {
        self.market.lock().remove(&conn);
        self.users.lock().retain(|u| u.conn != conn);
    }

    pub fn has_market_subscribers(&self) -> bool {
        self.market.lock().values().any(|s| !s.streams.is_empty())
    }

    pub fn market_connections(&self) -> usize {
        self.market.lock().len()
    }

    /// Whether anyone listens to a stream (so timers can skip work nobody reads).
    pub fn wants(&self, stream: &str) -> bool {
        self.market
            .lock()
            .values()
            .any(|s| s.streams.contains(stream))
    }

    pub fn publish(&self, stream: &str, data: &str) {
        let (stream, data): (Arc<str>, Arc<str>) = (Arc::from(stream), Arc::from(data));
        let at = Instant::now();
        for s in self.market.lock().values() {
            if s.streams.contains(&*stream) {
                s.mailbox.send(Outbound::Market {
                    stream: stream.clone(),
                    data: data.clone(),
                    at,
                });
            }
        }
    }

    /// Sends to every market-data connection.
    pub fn broadcast_market(&self, o: Outbound) {
        for s in self.market.lock().values() {
            s.mailbox.send(o.clone());
        }
    }

    /// Sends to every connection holding a user-data subscription (WS API sessions).
    pub fn broadcast_user(&self, o: Outbound) {
        for s in self.users.lock().iter() {
            s.mailbox.send(o.clone());
        }
    }

    pub fn add_user(&self, conn: u64, account: usize, subscription_id: u64, mailbox: Mailbox) {
        self.users.lock().push(UserSub {
            conn,
            account,
            subscription_id,
            mailbox,
            marks_lost: false,
        });
    }

    /// As `add_user`, for a protocol whose messages carry a sequence number: a dropped event
    /// reaches the connection as `{"subscriptionId": …, "lost": <event type>}` (a number
    /// skipped, for the events the protocol reports).
    pub fn add_sequenced_user(&self, conn: u64, account: usize, mailbox: Mailbox) {
        self.users.lock().push(UserSub {
            conn,
            account,
            subscription_id: conn,
            mailbox,
            marks_lost: true,
        });
    }

    /// Removes one (or, with `None`, every) user-data subscription of a connection.
    pub fn remove_user(&self, conn: u64, subscription_id: Option<u64>) -> usize {
        let mut u = self.users.lock();
        let before = u.len();
        u.retain(|s| s.conn != conn || subscription_id.is_some_and(|id| id != s.subscription_id));
        before - u.len()
    }

    pub fn user_subscriptions(&self, conn: u64) -> Vec<u64> {
        self.users
            .lock()
            .iter()
            .filter(|s| s.conn == conn)
            .map(|s| s.subscription_id)
            .collect()
    }

    fn publish_user(&self, account: usize, event: &Value, faults: &Faults) {
        for s in self.users.lock().iter().filter(|s| s.account == account) {
            if faults.drop_user_event() {
                if s.marks_lost {
                    let lost = json!({"subscriptionId": s.subscription_id, "lost": event["e"]});
                    s.mailbox.send(Outbound::Text(lost.to_string()));
                }
                continue;
            }
            let wrapped = json!({"subscriptionId": s.subscription_id, "event": event});
            s.mailbox.send(Outbound::Text(wrapped.to_string()));
        }
    }

    /// Sends the events the exchange queued: trades and bookTickers to their streams, private
    /// events to the account's subscribers. Called with the exchange locked, so events leave
    /// in the order they happened.
    pub fn dispatch(&self, ex: &mut Exchange, faults: &Faults) {
        for e in ex.take_events() {
            match e {
                Event::Trade { symbol, data } => {
                    let name = ex.symbols[symbol].cfg.symbol.to_ascii_lowercase();
                    self.publish(&format!("{name}@trade"), &data.to_string());
                    let agg = json!({
                        "e": "aggTrade", "E": data["E"], "s": data["s"], "a": data["t"],
                        "p": data["p"], "q": data["q"], "f": data["t"], "l": data["t"],
                        "T": data["T"], "m": data["m"], "M": true,
                    });
                    self.publish(&format!("{name}@aggTrade"), &agg.to_string());
                }
                Event::BookTicker { symbol, data } => {
                    let name = ex.symbols[symbol].cfg.symbol.to_ascii_lowercase();
                    self.publish(&format!("{name}@bookTicker"), &data.to_string());
                }
                Event::User { account, data } => self.publish_user(account, &data, faults),
            }
        }
    }
}
