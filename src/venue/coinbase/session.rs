//! The Coinbase `user` channel as the gateway's order session (exchanges.md §4.3): the
//! `heartbeats` subscription that keeps the connection open, then `user` subscribed with a
//! JWT (no `uri` claim), and its order events decoded into `SessionEvent`s. Coinbase has no
//! WebSocket order entry: orders, cancels and queries go over REST (`CoinbaseRest`), so
//! `place` and `cancel` write nothing here and `queries_over_ws` is false.
//!
//! **Fills.** The `user` channel reports an order's cumulative figures (`cumulative_quantity`,
//! `filled_value`, `total_fees`), not its trades: each order event becomes a snapshot of
//! those figures, which the gateway turns into fills; the trades and their fees are fetched
//! by REST. A lost event is therefore caught up by the next one, or by reconciliation.
//! `sequence_num` is checked per connection (every message counted: an unconfirmed reading,
//! `super::UNCONFIRMED`); a gap is reported as `StreamGap`, on which the
//! gateway reconciles at once (every open order queried, open orders and balances swept).

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, Notional, Price, UnixNanos, VenueOrderId};
use crate::venue::decimal::floor8;
use crate::venue::md::Keepalive;
use crate::venue::order::{OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError};

use super::jwt::JwtSigner;
use super::private::{self, OrderItem};

pub struct CoinbaseUserSession {
    signer: JwtSigner,
    /// The products whose orders the `user` channel reports.
    products: Vec<String>,
    /// The last `sequence_num` on this connection.
    last_seq: Option<u64>,
    user_subscribed: bool,
}

impl CoinbaseUserSession {
    pub fn new(signer: JwtSigner, products: Vec<String>) -> Self {
        Self {
            signer,
            products,
            last_seq: None,
            user_subscribed: false,
        }
    }

    /// `{"type":"subscribe","product_ids":[…],"channel":<channel>,"jwt":<token>}`.
    fn subscribe(&self, channel: &str, now_ms: u64, out: &mut Vec<u8>) {
        out.clear();
        let _ = write!(
            Buf(out),
            r#"{{"type":"subscribe","product_ids":{},"channel":"{channel}""#,
            serde_json::Value::from(self.products.clone())
        );
        // A JWT fails only without OS randomness; the subscribe then goes without one and
        // Coinbase answers with an error, which is reported.
        if let Ok(t) = self.signer.ws_token(now_ms / 1000) {
            let _ = write!(Buf(out), r#","jwt":"{t}""#);
        }
        out.push(b'}');
    }

    /// One order of a `user` event as a snapshot of its cumulative figures.
    fn on_order(o: &OrderItem, filled_value: Option<&str>, at: UnixNanos) -> SessionEvent {
        let Some(cid) = o.cid else {
            return SessionEvent::Other("order placed elsewhere".into());
        };
        // `filled_value` is the exact cumulative quote; the average price is the fallback.
        let cum_quote = filled_value
            .and_then(floor8)
            .filter(|(neg, _)| !neg)
            .map(|(_, q)| Notional::of(Price::from_int(1), q))
            .unwrap_or_else(|| o.quote_from_avg());
        SessionEvent::Order {
            cid,
            event: OrderEvent::Snapshot {
                venue_order_id: o.order_id,
                status: o.state,
                cum_qty: o.cum_qty,
                cum_quote,
                terms: o.price.map(|p| (p, o.qty)),
                at,
            },
        }
    }

    fn on_user(&mut self, v: &Value, at: UnixNanos, out: &mut Vec<SessionEvent>) {
        let Some(events) = v.get("events").and_then(Value::as_array) else {
            out.push(SessionEvent::Undecodable(
                "user message without events".into(),
            ));
            return;
        };
        for e in events {
            let orders = e
                .get("orders")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for o in orders {
                match private::order_item(o) {
                    Ok(item) => out.push(Self::on_order(
                        &item,
                        o.get("filled_value").and_then(Value::as_str),
                        at,
                    )),
                    Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
                }
            }
        }
    }
}

impl OrderSession for CoinbaseUserSession {
    fn venue_kind(&self) -> &'static str {
        "coinbase"
    }

    /// The server closes a quiet connection; `heartbeats` (one message a second) keeps it
    /// open, and the WebSocket layer answers the server's pings.
    fn keepalive(&self) -> Keepalive {
        Keepalive::ServerPings
    }

    /// `heartbeats` first, within the 5 s Coinbase allows; its confirmation counts as the
    /// login, after which `user` is subscribed.
    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.last_seq = None;
        self.user_subscribed = false;
        self.subscribe("heartbeats", now_ms, out);
    }

    fn after_login(&mut self, now_ms: u64, out: &mut Vec<u8>) -> bool {
        self.subscribe("user", now_ms, out);
        true
    }

    /// Orders go over REST: nothing is written.
    fn place(&mut self, _: &PlaceOrder<'_>, _: u64, out: &mut Vec<u8>) {
        out.clear();
    }

    /// Cancels go over REST: nothing is written.
    fn cancel(&mut self, _: &str, _: &ClientOrderId, _: u64, out: &mut Vec<u8>) {
        out.clear();
    }

    fn status(&mut self, _: &str, _: &ClientOrderId, _: u64, _: &mut Vec<u8>) -> bool {
        false
    }

    fn trades(
        &mut self,
        _: &str,
        _: &ClientOrderId,
        _: VenueOrderId,
        _: u64,
        _: &mut Vec<u8>,
    ) -> bool {
        false
    }

    fn open_orders(&mut self, _: &str, _: u64, _: &mut Vec<u8>) -> bool {
        false
    }

    fn account(&mut self, _: u64, _: &mut Vec<u8>) -> bool {
        false
    }

    fn queries_over_ws(&self) -> bool {
        false
    }

    /// Nothing is requested over this connection.
    fn reset_inflight(&mut self) -> Vec<Purpose> {
        self.user_subscribed = false;
        self.last_seq = None;
        Vec::new()
    }

    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        let v: Value = match serde_json::from_slice(frame) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("not JSON: {e}")));
                return;
            }
        };
        if v.get("type").and_then(Value::as_str) == Some("error") {
            out.push(SessionEvent::Failed {
                purpose: Purpose::Subscribe,
                error: VenueError {
                    code: 0,
                    msg: v
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_owned(),
                },
            });
            return;
        }
        let Some(seq) = v.get("sequence_num").and_then(Value::as_u64) else {
            out.push(SessionEvent::Undecodable(
                "message without sequence_num".into(),
            ));
            return;
        };
        match self.last_seq {
            Some(last) if seq <= last => return, // a copy
            Some(last) if seq != last + 1 => {
                out.push(SessionEvent::StreamGap(format!(
                    "user stream gap: sequence {seq} after {last}"
                )));
            }
            _ => {}
        }
        self.last_seq = Some(seq);
        match v.get("channel").and_then(Value::as_str) {
            Some("user") => self.on_user(&v, at, out),
            Some("subscriptions") => {
                let subs = &v["events"][0]["subscriptions"];
                if subs.get("user").is_some() {
                    if !self.user_subscribed {
                        self.user_subscribed = true;
                        out.push(SessionEvent::Subscribed);
                    }
                } else if subs.get("heartbeats").is_some() {
                    out.push(SessionEvent::LoggedIn);
                }
            }
            Some("heartbeats") => {}
            Some(other) => out.push(SessionEvent::StreamGap(format!("channel {other}"))),
            None => out.push(SessionEvent::Undecodable("message without channel".into())),
        }
    }

    /// Requests go over REST, whose codec keeps the per-second window.
    fn budget_used_percent(&self) -> u32 {
        0
    }
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
