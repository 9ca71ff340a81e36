//! BitMart's private WebSocket as the gateway's order session (exchanges.md §5.6, "Private"):
//! login with `{"op":"login","args":[key, timestamp, sign]}` (`sign = hex(HMAC-SHA256(secret,
//! timestamp#memo#bitmart.WebSocket))`), then `spot/user/order:<SYMBOL>` for each symbol, and
//! its order pushes decoded into `SessionEvent`s. BitMart takes orders over REST only
//! (`BitmartRest`): `place` and `cancel` write nothing here and `queries_over_ws` is false.
//! Kept alive with the text `ping` (BitMart answers no WebSocket pings). Wired into the
//! gateway by `engine/venues.rs`.
//!
//! **Compressed private frames (unconfirmed).** The private endpoint is on BitMart's
//! `ws-manager-compress` host like the public one, and the official SDK's socket manager
//! inflates every binary frame (raw DEFLATE) on either connection; the reference only says
//! that *market data* can arrive compressed. This session reads both: text frames as JSON,
//! binary frames inflated (into a buffer reused between frames) and then read the same way.
//!
//! **Fills.** Each push carries the order's cumulative `filled_size` and `filled_notional`
//! and its `order_state`: it becomes a snapshot of those figures, which the gateway turns
//! into fills, so a lost push is caught up by the next one or by reconciliation. The push
//! also names its last fill (`last_fill_*`, `detail_id`, `dealFee`); whether `dealFee` is
//! that fill's fee or the order's total the reference does not say, so fees are not read
//! from it.

use std::fmt::Write as _;

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::{OrderEvent, SnapshotStatus};
use crate::types::{ClientOrderId, Notional, Price, Qty, UnixNanos, VenueOrderId};
use crate::venue::decimal::floor8;
use crate::venue::md::Keepalive;
use crate::venue::order::{OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError};

use super::inflate::Inflater;
use super::sign::BitmartSigner;

pub struct BitmartSession {
    signer: BitmartSigner,
    /// Inflates binary (raw-DEFLATE) frames; `None` only while one is being decoded.
    inflater: Option<Inflater>,
    api_key: Secret,
    /// The symbols whose orders are subscribed (`BTC_USDT`).
    symbols: Vec<String>,
    subscribed: bool,
}

impl BitmartSession {
    pub fn new(api_key: &Secret, secret: &Secret, memo: &Secret, symbols: Vec<String>) -> Self {
        Self {
            signer: BitmartSigner::new(secret, memo),
            inflater: Some(Inflater::new()),
            api_key: api_key.clone(),
            symbols,
            subscribed: false,
        }
    }

    /// One `spot/user/order` item as a snapshot of its cumulative figures.
    fn order(d: &Value, at: UnixNanos) -> Result<SessionEvent, String> {
        let s = |k: &str| -> Result<&str, String> {
            d.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("order push without {k:?}"))
        };
        let q = |k: &str| -> Result<Qty, String> {
            floor8(s(k)?)
                .filter(|(neg, _)| !neg)
                .map(|(_, q)| q)
                .ok_or_else(|| format!("{k}: not a decimal"))
        };
        let Ok(cid) = ClientOrderId::parse(s("client_order_id")?) else {
            return Ok(SessionEvent::Other("order placed elsewhere".into()));
        };
        let status = match s("order_state")? {
            "new" | "partially_filled" => SnapshotStatus::Open,
            "filled" => SnapshotStatus::Filled,
            "canceled" | "partially_canceled" => SnapshotStatus::Cancelled,
            other => return Err(format!("unknown order_state {other:?}")),
        };
        // A market order's `price` is not a limit: no terms.
        let terms = match s("type")? {
            "market" => None,
            _ => Some((Price::from_units(q("price")?.units()), q("size")?)),
        };
        Ok(SessionEvent::Order {
            cid,
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::new(s("order_id")?.as_bytes())
                    .ok_or("order_id is not an id")?,
                status,
                cum_qty: q("filled_size")?,
                cum_quote: Notional::from_price(Price::from_units(q("filled_notional")?.units())),
                terms,
                at,
            },
        })
    }
}

impl OrderSession for BitmartSession {
    fn venue_kind(&self) -> &'static str {
        "bitmart-spot"
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::Text {
            ping: "ping",
            pong: "pong",
            idle: std::time::Duration::from_secs(10),
        }
    }

    /// The login (its timestamp is valid for 60 s).
    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.subscribed = false;
        out.clear();
        let sign = self.signer.ws_login(now_ms);
        let _ = write!(
            Buf(out),
            r#"{{"op":"login","args":["{}","{now_ms}","{}"]}}"#,
            self.api_key.expose(),
            std::str::from_utf8(&sign).unwrap_or("")
        );
    }

    /// `spot/user/order:<SYMBOL>` for every symbol (at most 20 topics a message: more
    /// symbols than that are not subscribed; the gateway trades few).
    fn after_login(&mut self, _now_ms: u64, out: &mut Vec<u8>) -> bool {
        out.clear();
        let topics: Vec<String> = self
            .symbols
            .iter()
            .take(20)
            .map(|s| format!("spot/user/order:{s}"))
            .collect();
        let _ = write!(
            Buf(out),
            "{}",
            serde_json::json!({"op": "subscribe", "args": topics})
        );
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
        self.subscribed = false;
        Vec::new()
    }

    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        if frame == b"pong" {
            return;
        }
        let v: Value = match serde_json::from_slice(frame) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("not JSON: {e}")));
                return;
            }
        };
        if let Some(event) = v.get("event").and_then(Value::as_str) {
            if let Some(code) = v.get("errorCode") {
                // A failed login closes the connection (the docs); a refused subscribe
                // leaves the orders unreported: both are failures of the session.
                let code = code
                    .as_str()
                    .and_then(|c| c.parse().ok())
                    .or_else(|| code.as_i64().and_then(|c| i32::try_from(c).ok()))
                    .unwrap_or(0);
                out.push(SessionEvent::Failed {
                    purpose: Purpose::Subscribe,
                    error: VenueError {
                        code,
                        msg: format!(
                            "{event}: {}",
                            v.get("errorMessage").and_then(Value::as_str).unwrap_or("")
                        ),
                    },
                });
                return;
            }
            match event {
                "login" => out.push(SessionEvent::LoggedIn),
                "subscribe" if !self.subscribed => {
                    self.subscribed = true;
                    out.push(SessionEvent::Subscribed);
                }
                _ => {}
            }
            return;
        }
        match v.get("table").and_then(Value::as_str) {
            Some("spot/user/order") => {
                let data = v
                    .get("data")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                for d in data {
                    match Self::order(d, at) {
                        Ok(e) => out.push(e),
                        Err(e) => out.push(SessionEvent::Undecodable(e)),
                    }
                }
            }
            Some(other) => out.push(SessionEvent::Other(format!("table {other}"))),
            None => out.push(SessionEvent::Undecodable(
                "message without event or table".into(),
            )),
        }
    }

    /// A compressed frame: inflated, then decoded as a text frame would be.
    fn on_binary_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        // Taken out while its output is read, so that decoding may borrow the session.
        let mut inflater = self.inflater.take().unwrap_or_default();
        match inflater.inflate(frame) {
            Ok(text) => self.on_frame(text, at, out),
            Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
        }
        self.inflater = Some(inflater);
    }

    fn budget_used_percent(&self) -> u32 {
        // BitMart counts REST requests per endpoint window; a 429 is what holds back.
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
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        let p = format!(
            "{}/tests/fixtures/bitmart/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(p).unwrap()
    }

    /// The documentation's example key (exchanges.md §5.3).
    fn session() -> BitmartSession {
        BitmartSession::new(
            &Secret::new("80618e45710812162b04892c7ee5ead4a3cc3e56"),
            &Secret::new("6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9"),
            &Secret::new("test001"),
            vec!["BTC_USDT".into()],
        )
    }

    const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

    #[test]
    fn login_is_the_documented_request_then_the_order_channel() {
        let mut s = session();
        let mut out = Vec::new();
        s.on_connected(1_589_267_764_859, &mut out);
        let got: Value = serde_json::from_slice(&out).unwrap();
        let want: Value = serde_json::from_slice(&sample("bitmart_ws_login_request.json")).unwrap();
        assert_eq!(got, want, "the docs' login, signature included");
        let mut ev = Vec::new();
        s.on_frame(&sample("bitmart_ws_login_response.json"), AT, &mut ev);
        assert_eq!(ev, vec![SessionEvent::LoggedIn]);
        assert!(s.after_login(0, &mut out));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"op":"subscribe","args":["spot/user/order:BTC_USDT"]}"#
        );
        ev.clear();
        s.on_frame(
            br#"{"event":"subscribe","topic":"spot/user/order:BTC_USDT"}"#,
            AT,
            &mut ev,
        );
        s.on_frame(b"pong", AT, &mut ev);
        assert_eq!(ev, vec![SessionEvent::Subscribed]);
    }

    #[test]
    fn a_compressed_order_push_decodes_as_its_text_and_garbage_is_counted() {
        use std::io::Write;
        let text = sample("bitmart_user_order.json");
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&text).unwrap();
        let packed = z.finish().unwrap();
        let mut s = session();
        let (mut plain, mut inflated) = (Vec::new(), Vec::new());
        s.on_frame(&text, AT, &mut plain);
        s.on_binary_frame(&packed, AT, &mut inflated);
        assert_eq!(inflated, plain);
        assert!(matches!(plain[..], [SessionEvent::Order { .. }]));
        let mut ev = Vec::new();
        s.on_binary_frame(b"\xff\x00not deflate", AT, &mut ev);
        assert!(matches!(ev[..], [SessionEvent::Undecodable(_)]), "{ev:?}");
        // A compressed pong is a pong.
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"pong").unwrap();
        ev.clear();
        s.on_binary_frame(&z.finish().unwrap(), AT, &mut ev);
        assert!(ev.is_empty());
    }

    #[test]
    fn a_failed_login_is_a_failure() {
        let mut s = session();
        let mut ev = Vec::new();
        s.on_frame(&sample("bitmart_ws_login_failure.json"), AT, &mut ev);
        assert_eq!(
            ev,
            vec![SessionEvent::Failed {
                purpose: Purpose::Subscribe,
                error: VenueError {
                    code: 91002,
                    msg: "login: API KEY not found".into()
                }
            }]
        );
    }

    #[test]
    fn the_order_push_sample_is_a_snapshot_of_cumulative_figures() {
        let mut s = session();
        let mut ev = Vec::new();
        s.on_frame(&sample("bitmart_user_order.json"), AT, &mut ev);
        assert_eq!(
            ev,
            vec![SessionEvent::Order {
                cid: ClientOrderId::parse("order4872191").unwrap(),
                event: OrderEvent::Snapshot {
                    venue_order_id: VenueOrderId::new(b"2147857398").unwrap(),
                    status: SnapshotStatus::Open,
                    cum_qty: Qty::parse("1").unwrap(),
                    cum_quote: Notional::from_price(Price::parse("46100").unwrap()),
                    // A market order: no limit terms.
                    terms: None,
                    at: AT,
                }
            }]
        );
        ev.clear();
        s.on_frame(
            b"{\"table\":\"spot/user/order\",\"data\":[{\"client_order_id\":\"x\"}]}",
            AT,
            &mut ev,
        );
        assert!(matches!(ev[..], [SessionEvent::Undecodable(_)]));
    }
}
