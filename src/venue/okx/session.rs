//! The OKX v5 private WebSocket session as a pure state machine (exchanges.md §2.6): login,
//! the `orders` and `account` subscriptions, the `order`, `cancel-order` and `amend-order`
//! ops, and the pushes decoded into the gateway's `SessionEvent`s. OKX answers no queries
//! here (`queries_over_ws` is false): the gateway sends those over REST (`OkxRest`).
//!
//! **Cumulative quote.** OKX reports an order's cumulative filled size (`accFillSz`) but not
//! its cumulative quote; the session adds `fillPx × fillSz` of each fill it sees, exactly,
//! per order. A push whose `accFillSz` jumps past the fills seen (a missed push) falls back to
//! `avgPx × accFillSz`, and the order's fees are then fetched by the gateway.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::{OrderEvent, OrderKind, SnapshotStatus, TimeInForce, VenueFinal};
use crate::types::{ClientOrderId, Notional, Qty, Side, UnixNanos, VenueOrderId};
use crate::venue::md::Keepalive;
use crate::venue::order::{
    OrderLimits, OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError,
};

use super::private::{self, ErrorClass, OrderItem};
use super::sign::OkxSigner;

/// Requests remembered until answered (a power of two).
const INFLIGHT: usize = 4096;

/// What the session has seen of one order's fills.
#[derive(Debug, Clone, Copy, Default)]
struct Filled {
    qty: Qty,
    quote: Notional,
}

pub struct OkxSession {
    signer: OkxSigner,
    next_id: u64,
    inflight: Vec<Option<(u64, Purpose)>>,
    filled: HashMap<ClientOrderId, Filled>,
    /// Whether `orders` was subscribed on this connection.
    orders_subscribed: bool,
}

impl OkxSession {
    pub fn new(api_key: &Secret, secret: &Secret, passphrase: &Secret) -> Self {
        Self {
            signer: OkxSigner::new(api_key, secret, passphrase),
            next_id: 1,
            inflight: vec![None; INFLIGHT],
            filled: HashMap::with_capacity(1024),
            orders_subscribed: false,
        }
    }

    fn begin(&mut self, p: Purpose) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.inflight[id as usize & (INFLIGHT - 1)] = Some((id, p));
        id
    }

    fn take(&mut self, id: u64) -> Option<Purpose> {
        let slot = &mut self.inflight[id as usize & (INFLIGHT - 1)];
        match slot {
            Some((have, _)) if *have == id => slot.take().map(|(_, p)| p),
            _ => None,
        }
    }

    /// The events of one order item of the `orders` channel.
    fn on_order(&mut self, o: &OrderItem, out: &mut Vec<SessionEvent>) {
        let Some(cid) = o.cid else {
            out.push(SessionEvent::Other("order placed elsewhere".into()));
            return;
        };
        let seen = self.filled.entry(cid).or_default();
        if let Some(f) = o.fill
            && o.acc_fill > seen.qty
        {
            let expected = seen.qty.checked_add(f.qty);
            seen.quote = if expected == Some(o.acc_fill) {
                Notional(seen.quote.0 + Notional::of(f.price, f.qty).0)
            } else {
                // Fills were missed: the venue's average is the best figure there is.
                o.quote_from_avg()
            };
            seen.qty = o.acc_fill;
            out.push(SessionEvent::Order {
                cid,
                event: OrderEvent::Trade {
                    venue_order_id: o.ord_id,
                    trade_id: f.trade_id,
                    last_qty: f.qty,
                    last_price: f.price,
                    cum_qty: o.acc_fill,
                    cum_quote: seen.quote,
                    fee: f.fee,
                    fee_asset: f.fee_asset,
                    is_maker: f.is_maker,
                    at: f.at,
                },
            });
        }
        match (o.amended, o.price) {
            (Some(true), Some(price)) if o.state == SnapshotStatus::Open => {
                out.push(SessionEvent::Order {
                    cid,
                    event: OrderEvent::Amended {
                        price,
                        qty: o.qty,
                        at: o.at,
                    },
                });
            }
            (Some(false), _) => out.push(SessionEvent::Order {
                cid,
                event: OrderEvent::AmendRejected { code: 0, at: o.at },
            }),
            _ => {}
        }
        let (cum_qty, cum_quote) = (seen.qty.max(o.acc_fill), seen.quote);
        let event = match o.state {
            SnapshotStatus::Open if o.acc_fill.is_zero() => OrderEvent::Accepted {
                venue_order_id: o.ord_id,
                at: o.at,
            },
            SnapshotStatus::Cancelled => OrderEvent::Ended {
                kind: VenueFinal::Cancelled,
                venue_order_id: Some(o.ord_id),
                cum_qty,
                cum_quote,
                at: o.at,
            },
            // Fills and a filled state arrive with their trade above.
            _ => return,
        };
        out.push(SessionEvent::Order { cid, event });
        if o.state == SnapshotStatus::Cancelled {
            self.filled.remove(&cid);
        }
    }

    fn on_answer(&mut self, v: &Value, at: UnixNanos, out: &mut Vec<SessionEvent>) {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok());
        let Some(purpose) = id.and_then(|id| self.take(id)) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to an unknown request: {v}"
            )));
            return;
        };
        let item = v.get("data").and_then(|d| d.get(0));
        let error = item
            .and_then(private::item_error)
            .or_else(|| private::item_error(v));
        let cid = match purpose {
            Purpose::Place(c)
            | Purpose::Cancel(c)
            | Purpose::Amend(c)
            | Purpose::Status(c)
            | Purpose::Trades(c) => c,
            p => {
                if let Some(error) = error {
                    out.push(SessionEvent::Failed { purpose: p, error });
                }
                return;
            }
        };
        match (purpose, error) {
            (Purpose::Place(_), None) => {
                let ord = item
                    .and_then(|d| d.get("ordId"))
                    .and_then(Value::as_str)
                    .and_then(|s| VenueOrderId::new(s.as_bytes()));
                match ord {
                    Some(venue_order_id) => out.push(SessionEvent::Order {
                        cid,
                        event: OrderEvent::Accepted { venue_order_id, at },
                    }),
                    None => out.push(SessionEvent::Uncertain { cid }),
                }
            }
            // A cancel accepted: the `orders` channel reports the order's end; an amend
            // accepted: it reports the amended order (`amendResult` 0).
            (Purpose::Cancel(_) | Purpose::Amend(_), None) => {}
            // An amend refused leaves the order as it was; the venue may be rate limiting.
            (Purpose::Amend(_), Some(error)) => {
                if private::classify(error.code) == ErrorClass::RateLimited {
                    out.push(SessionEvent::RateLimited {
                        retry_after_ms: 2_000,
                    });
                }
                out.push(SessionEvent::Order {
                    cid,
                    event: OrderEvent::AmendRejected {
                        code: error.code,
                        at,
                    },
                });
            }
            (p, Some(error)) => match (private::classify(error.code), p) {
                (ErrorClass::RateLimited, _) => {
                    out.push(SessionEvent::RateLimited {
                        retry_after_ms: 2_000,
                    });
                    out.push(SessionEvent::Uncertain { cid });
                }
                (ErrorClass::Unknown, _) => out.push(SessionEvent::Uncertain { cid }),
                (_, Purpose::Place(_)) => out.push(SessionEvent::PlaceRejected { cid, error }),
                (_, _) => out.push(SessionEvent::CancelRejected { cid, error }),
            },
            (_, None) => {}
        }
    }

    fn on_push(&mut self, v: &Value, out: &mut Vec<SessionEvent>) {
        let channel = v["arg"]["channel"].as_str().unwrap_or("");
        let Some(data) = v.get("data").and_then(Value::as_array) else {
            out.push(SessionEvent::Undecodable("push without data".into()));
            return;
        };
        match channel {
            "orders" => {
                for d in data {
                    match private::order_item(d) {
                        Ok(o) => self.on_order(&o, out),
                        Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
                    }
                }
            }
            "account" => {
                for d in data {
                    match private::balances(d) {
                        Ok(b) => out.push(SessionEvent::Balances(b)),
                        Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
                    }
                }
            }
            other => out.push(SessionEvent::Other(format!("channel {other}"))),
        }
    }
}

/// OKX's order type and size rule for a new order.
fn ord_type(kind: OrderKind, tif: TimeInForce) -> &'static str {
    match (kind, tif) {
        (OrderKind::Market, _) => "market",
        (OrderKind::LimitMaker, _) => "post_only",
        (OrderKind::Limit, TimeInForce::Gtc) => "limit",
        (OrderKind::Limit, TimeInForce::Ioc) => "ioc",
        (OrderKind::Limit, TimeInForce::Fok) => "fok",
    }
}

impl OrderSession for OkxSession {
    fn venue_kind(&self) -> &'static str {
        "okx-spot"
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::Text {
            ping: "ping",
            pong: "pong",
            idle: std::time::Duration::from_secs(20),
        }
    }

    /// The login (Unix seconds; the signature over `ts + GET + /users/self/verify`).
    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.orders_subscribed = false;
        let ts = now_ms / 1000;
        let sign = self.signer.login_sign(ts);
        out.clear();
        let _ = write!(
            Buf(out),
            r#"{{"op":"login","args":[{{"apiKey":"{}","passphrase":"{}","timestamp":"{ts}","sign":"{}"}}]}}"#,
            self.signer.api_key(),
            self.signer.passphrase(),
            std::str::from_utf8(&sign).unwrap_or("")
        );
    }

    fn after_login(&mut self, _now_ms: u64, out: &mut Vec<u8>) -> bool {
        out.clear();
        out.extend_from_slice(
            br#"{"op":"subscribe","args":[{"channel":"orders","instType":"SPOT"},{"channel":"account"}]}"#,
        );
        true
    }

    fn place(&mut self, o: &PlaceOrder<'_>, _now_ms: u64, out: &mut Vec<u8>) {
        let id = self.begin(Purpose::Place(*o.cid));
        let side = match o.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let mut px = [0u8; 32];
        let mut sz = [0u8; 32];
        let npx = o.price.write_fixed(o.price_decimals, &mut px);
        let nsz = o.qty.write_fixed(o.qty_decimals, &mut sz);
        let (px, sz) = (
            std::str::from_utf8(&px[..npx]).unwrap_or("0"),
            std::str::from_utf8(&sz[..nsz]).unwrap_or("0"),
        );
        out.clear();
        let _ = write!(
            Buf(out),
            r#"{{"id":"{id}","op":"order","args":[{{"instId":"{}","tdMode":"cash","clOrdId":"{}","side":"{side}","ordType":"{}","sz":"{sz}""#,
            o.symbol,
            o.cid.as_str(),
            ord_type(o.kind, o.tif)
        );
        if o.kind == OrderKind::Market {
            // Market sizes in the base currency (OKX's default for a spot buy is the quote).
            out.extend_from_slice(br#","tgtCcy":"base_ccy""#);
        } else {
            let _ = write!(Buf(out), r#","px":"{px}""#);
        }
        out.extend_from_slice(b"}]}");
    }

    fn cancel(&mut self, symbol: &str, cid: &ClientOrderId, _now_ms: u64, out: &mut Vec<u8>) {
        let id = self.begin(Purpose::Cancel(*cid));
        out.clear();
        let _ = write!(
            Buf(out),
            r#"{{"id":"{id}","op":"cancel-order","args":[{{"instId":"{symbol}","clOrdId":"{}"}}]}}"#,
            cid.as_str()
        );
    }

    fn amends_in_place(&self) -> bool {
        true
    }

    /// `amend-order` by client id with the new price and total size (OKX's `newPx`,
    /// `newSz`); OKX keeps the order's ids.
    fn amend(&mut self, o: &PlaceOrder<'_>, _now_ms: u64, out: &mut Vec<u8>) -> bool {
        let id = self.begin(Purpose::Amend(*o.cid));
        let mut px = [0u8; 32];
        let mut sz = [0u8; 32];
        let npx = o.price.write_fixed(o.price_decimals, &mut px);
        let nsz = o.qty.write_fixed(o.qty_decimals, &mut sz);
        out.clear();
        let _ = write!(
            Buf(out),
            r#"{{"id":"{id}","op":"amend-order","args":[{{"instId":"{}","clOrdId":"{}","newSz":"{}","newPx":"{}"}}]}}"#,
            o.symbol,
            o.cid.as_str(),
            std::str::from_utf8(&sz[..nsz]).unwrap_or("0"),
            std::str::from_utf8(&px[..npx]).unwrap_or("0"),
        );
        true
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
        self.orders_subscribed = false;
        self.inflight
            .iter_mut()
            .filter_map(|s| s.take().map(|(_, p)| p))
            .collect()
    }

    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        if frame == b"pong" {
            return;
        }
        let v: Value = match serde_json::from_slice(frame) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return;
            }
        };
        match v.get("event").and_then(Value::as_str) {
            Some("login") if v["code"] == "0" => out.push(SessionEvent::LoggedIn),
            Some("login" | "error") => {
                let error = private::item_error(&v).unwrap_or(VenueError {
                    code: -1,
                    msg: "login failed".into(),
                });
                out.push(SessionEvent::Failed {
                    purpose: Purpose::Subscribe,
                    error,
                });
            }
            Some("subscribe") => {
                if v["arg"]["channel"] == "orders" && !self.orders_subscribed {
                    self.orders_subscribed = true;
                    out.push(SessionEvent::Subscribed);
                }
            }
            Some(other) => out.push(SessionEvent::Other(other.to_owned())),
            None if v.get("op").is_some() => self.on_answer(&v, at, out),
            None if v.get("arg").is_some() => self.on_push(&v, out),
            None => out.push(SessionEvent::Undecodable("unknown message".into())),
        }
    }

    fn budget_used_percent(&self) -> u32 {
        // OKX reports no request weight; its limits show as 50011 answers.
        0
    }

    /// OKX v5: placing orders is limited to 60 requests per 2 s per instrument (shared by
    /// REST and WebSocket), and to 1,000 new and amended orders per 2 s per sub-account.
    fn order_limits(&self) -> OrderLimits {
        const TWO_S: std::time::Duration = std::time::Duration::from_secs(2);
        OrderLimits {
            per_instrument: Some((60, TWO_S)),
            per_account: Some((1_000, TWO_S)),
        }
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
