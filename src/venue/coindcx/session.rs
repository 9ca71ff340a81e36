//! CoinDCX's private channel as the gateway's order session (exchanges.md §7.5): one Socket.IO
//! v2 connection (`/socket.io/?EIO=3&transport=websocket`, the codec in [`super::socketio`])
//! that joins the channel `coindcx` with `{"channelName":"coindcx","authSignature": hex
//! HMAC-SHA256 of {"channel":"coindcx"},"apiKey":…}` and reads `df-order-update`,
//! `df-position-update` and `balance-update`. Orders, cancels and queries go over REST
//! ([`super::rest::CoindcxRest`]): `place` and `cancel` write nothing here and
//! `queries_over_ws` is false.
//!
//! The join is sent at once on connecting (a Socket.IO v2 server connects the default
//! namespace at the handshake); the namespace's `40` marks the stream subscribed. The docs
//! acknowledge no join: a refused one is not documented either (a `44` error packet is read
//! as a refusal, counted, and the sweep's queries keep the books right).
//!
//! **Keepalive**: the client's Engine.IO ping `2` every `pingInterval` (the open packet's,
//! 25 s by default) whatever else flows, as an Engine.IO 3 server expects
//! (`OrderSession::periodic_ping`, sent by the gateway), and the same ping after 20 s without
//! a frame, whose missing answer marks the connection dead (the gateway's text keepalive).
//! The docs' 25 s `ping` event is not sent on the private connection.
//!
//! **Orders**: each `df-order-update` item names the venue's order id only; it is matched to
//! mako's client id by [`super::ids`] (bound id, or terms and time) and becomes a snapshot of
//! its cumulative figures (filled = total − remaining − cancelled at `avg_price`) plus its
//! cumulative `fee_amount` as the order's one trade entry, so a lost push is caught up by the
//! next or by a query. `balance-update` becomes the wallet's balances; each
//! `df-position-update` item becomes the venue's `Position` (signed `active_pos` in base, the
//! entry from `avg_price`, the leverage the venue holds), which the gateway compares with its
//! own net position and configured leverage (a malformed one is counted). The channel
//! carries both wallets: an order or position item whose `margin_currency_short_name` is not
//! the session's (`with_margin_currency`, default USDT; [`super::margin`]) is not this venue
//! block's and is passed over.

use std::borrow::Cow;

use serde_json::Value;

use crate::types::{ClientOrderId, UnixNanos, VenueOrderId};
use crate::venue::md::Keepalive;
use crate::venue::order::{
    OrderLimits, OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError,
};

use super::ids::SharedIds;
use super::private::{order_updates, position_updates};
use super::rest::{REQUESTS_PER_SECOND, order_events};
use super::sign::CoindcxSigner;
use super::socketio::{self, EIO_PING, Packet};

/// The private channel.
pub const CHANNEL: &str = "coindcx";

/// One CoinDCX key's private channel.
pub struct CoindcxSession {
    api_key: String,
    signer: CoindcxSigner,
    ids: SharedIds,
    /// The wallet this session's orders and positions are on (`USDT` or `INR`): the other
    /// wallet's items on the same channel are not this venue block's ([`super::margin`]).
    margin_currency: String,
    subscribed: bool,
    /// The server's `pingInterval` from its open packet (25 s until one came).
    ping_interval: std::time::Duration,
}

/// Engine.IO 3's default `pingInterval`, and CoinDCX's.
const PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(25);

impl CoindcxSession {
    pub fn new(api_key: &str, signer: CoindcxSigner, ids: SharedIds) -> Self {
        Self {
            api_key: api_key.to_owned(),
            signer,
            ids,
            margin_currency: super::margin::DEFAULT_MARGIN.to_owned(),
            subscribed: false,
            ping_interval: PING_INTERVAL,
        }
    }

    /// The same session for the `margin` wallet (`USDT` by default).
    pub fn with_margin_currency(mut self, margin: &str) -> Self {
        margin.clone_into(&mut self.margin_currency);
        self
    }

    fn mine(&self, item_margin: &str) -> bool {
        super::margin::is_mine(item_margin, &self.margin_currency)
    }

    /// The join frame: `42["join",{"channelName":"coindcx","authSignature":…,"apiKey":…}]`.
    pub fn join_frame(&self) -> String {
        let sig = self.signer.ws_auth();
        socketio::join_private(&self.api_key, std::str::from_utf8(&sig).unwrap_or(""))
    }

    fn event(&mut self, name: &str, args: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        let payload = match payload(args) {
            Ok(p) => p,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("{name}: {e}")));
                return;
            }
        };
        match name {
            "df-order-update" => match order_updates(&payload) {
                Ok(items) => {
                    for u in &items {
                        if !self.mine(&u.margin_currency) {
                            out.push(SessionEvent::Other(format!(
                                "order on the {} wallet",
                                u.margin_currency
                            )));
                            continue;
                        }
                        let cid = self.ids.lock().claim(u);
                        match cid {
                            Some(cid) => out.extend(order_events(cid, u, at)),
                            None => out.push(SessionEvent::Other("order placed elsewhere".into())),
                        }
                    }
                }
                Err(e) => out.push(SessionEvent::Undecodable(format!("df-order-update: {e}"))),
            },
            "balance-update" => match super::rest::balances(payload.as_bytes()) {
                Ok(b) => out.push(SessionEvent::Balances(b)),
                Err(e) => out.push(SessionEvent::Undecodable(format!("balance-update: {e}"))),
            },
            "df-position-update" => match position_updates(&payload) {
                Ok(items) => {
                    for p in &items {
                        out.push(if self.mine(&p.margin_currency) {
                            SessionEvent::Position(p.venue_position())
                        } else {
                            SessionEvent::Other(format!(
                                "position on the {} wallet",
                                p.margin_currency
                            ))
                        });
                    }
                }
                Err(e) => out.push(SessionEvent::Undecodable(format!(
                    "df-position-update: {e}"
                ))),
            },
            other => out.push(SessionEvent::Other(format!("event {other}"))),
        }
    }
}

/// An event's argument as the private payload's text: `{"channel","event","data"}` with
/// `data` a JSON string or the list itself, or the bare list.
fn payload(args: &[u8]) -> Result<Cow<'_, str>, String> {
    let text = std::str::from_utf8(args).map_err(|_| "argument is not UTF-8".to_owned())?;
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match v {
        Value::Array(_) => Ok(Cow::Borrowed(text)),
        Value::Object(mut o) => match o.remove("data") {
            Some(Value::String(s)) => Ok(Cow::Owned(s)),
            Some(d @ Value::Array(_)) => Ok(Cow::Owned(d.to_string())),
            _ => Err("an event without a data list".into()),
        },
        _ => Err("an event argument that is neither an object nor a list".into()),
    }
}

impl OrderSession for CoindcxSession {
    fn venue_kind(&self) -> &'static str {
        super::KIND
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::Text {
            ping: EIO_PING,
            pong: socketio::EIO_PONG,
            idle: std::time::Duration::from_secs(20),
        }
    }

    /// Engine.IO 3: the client pings every `pingInterval` whatever else flows (the server
    /// closes a session whose pings stop for pingInterval + pingTimeout).
    fn periodic_ping(&self) -> Option<(&'static str, std::time::Duration)> {
        Some((EIO_PING, self.ping_interval))
    }

    fn on_connected(&mut self, _now_ms: u64, out: &mut Vec<u8>) {
        self.subscribed = false;
        out.clear();
        out.extend_from_slice(self.join_frame().as_bytes());
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

    fn reset_inflight(&mut self) -> Vec<Purpose> {
        self.subscribed = false;
        Vec::new()
    }

    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        match socketio::parse(frame) {
            Err(e) => out.push(SessionEvent::Undecodable(e.as_str().to_owned())),
            Ok(Packet::Connect) => {
                if !self.subscribed {
                    self.subscribed = true;
                    out.push(SessionEvent::Subscribed);
                }
            }
            Ok(Packet::Event { name, args }) => self.event(name, args, at, out),
            Ok(Packet::Error(e)) => out.push(SessionEvent::Failed {
                purpose: Purpose::Subscribe,
                error: VenueError {
                    code: 0,
                    msg: format!("Socket.IO error: {}", String::from_utf8_lossy(e)),
                },
            }),
            Ok(Packet::Disconnect | Packet::Close) => {
                self.subscribed = false;
                out.push(SessionEvent::Other("the server ended the session".into()));
            }
            // The client pings every pingInterval (at most the default 25 s).
            Ok(Packet::Open(o)) => self.ping_interval = o.ping_interval.min(PING_INTERVAL),
            Ok(Packet::Ping | Packet::Pong | Packet::Ack | Packet::Noop) => {}
        }
    }

    fn budget_used_percent(&self) -> u32 {
        // The limit is on the REST side (429 holds requests back).
        0
    }

    /// The FAQ's general limit, 16 requests per second, as a ceiling on new orders.
    fn order_limits(&self) -> OrderLimits {
        OrderLimits {
            per_instrument: None,
            per_account: Some((REQUESTS_PER_SECOND, std::time::Duration::from_secs(1))),
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
