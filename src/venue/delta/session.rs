//! Delta's private WebSocket as the gateway's order session (reference/delta.md §3.3, §3.7):
//! the auth message (`key-auth` on India, `auth` on global: `sign.rs`), then one subscribe
//! to `orders`, `v2/user_trades` and `positions` for the venue's symbols (named, so the
//! venue sends their snapshots) and `margins`. Orders, cancels and queries go over REST
//! (`rest.rs`): `place` and `cancel` write nothing here and `queries_over_ws` is false. Kept
//! alive with `{"type":"ping"}` after 30 s of silence (the venue drops a socket idle for 60 s).
//!
//! What each channel becomes, through the decoders of `private.rs`:
//! - `orders` (create / update / delete, and the snapshot's items): a snapshot of the order's
//!   cumulative figures (filled = `size` − `unfilled_size`, quote = filled ×
//!   `average_fill_price`), which the gateway turns into fills, so a lost push is caught up
//!   by the next one or by reconciliation. Fees are not in it: the gateway asks REST.
//! - `v2/user_trades`: one fill, and no commission. It asks the gateway to query the order
//!   (`Uncertain`), so a fill whose `orders` push was lost is learned at once rather than at
//!   the next sweep.
//! - `margins`: the asset's balance (free = `available_balance`, locked = `balance` −
//!   `available_balance`), as REST's wallet reads it.
//! - `positions`: each item is the venue's `Position` (signed whole contracts as order
//!   units, the entry price), which the gateway compares with its own net position; Delta
//!   states no leverage in it, so the leverage is not checked from it. A change of its
//!   `realized_funding` at the same size is a funding payment (`Funding`; `funding.rs`,
//!   an unconfirmed reading).
//! - The auth answer: `LoggedIn`, or a failed subscribe with the venue's status and message;
//!   the subscription list answers `Subscribed` (a channel refused in it fails).
//!
//! Frames that are not JSON, or a channel this session never subscribed to, are counted as
//! undecodable, never a panic.

use serde_json::Value;

use crate::types::order::{OrderEvent, SnapshotStatus};
use crate::types::{ClientOrderId, Notional, UnixNanos, VenueOrderId};
use crate::venue::md::Keepalive;
use crate::venue::order::{
    Balance, OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError, VenuePosition,
};

use super::Platform;
use super::funding::FundingBook;
use super::handler::PING;
use super::private::{self, Auth, OrderUpdate, Private};
use super::sign::DeltaSigner;

pub struct DeltaSession {
    platform: Platform,
    signer: DeltaSigner,
    /// The venue's symbols traded: their `orders` and `positions` snapshots are asked for.
    symbols: Vec<String>,
    subscribed: bool,
    /// Funding payments read from `positions` (`funding.rs`).
    funding: FundingBook,
}

impl DeltaSession {
    pub fn new(platform: Platform, signer: DeltaSigner, symbols: Vec<String>) -> Self {
        Self {
            platform,
            signer,
            symbols,
            subscribed: false,
            funding: FundingBook::default(),
        }
    }

    /// Each symbol's contract value (base asset per contract), for the implied rate of the
    /// funding rows; without it a row's rate is zero.
    pub fn with_contract_values(mut self, values: Vec<(String, crate::types::Qty)>) -> Self {
        self.funding = FundingBook::new(values);
        self
    }

    /// The one subscribe frame after auth.
    fn subscribe_frame(&self) -> String {
        let named = |name: &str| serde_json::json!({"name": name, "symbols": self.symbols});
        serde_json::json!({"type": "subscribe", "payload": {"channels": [
            named("orders"), named("v2/user_trades"), named("positions"), {"name": "margins"}
        ]}})
        .to_string()
    }
}

/// An `orders` item as a snapshot of its cumulative figures.
fn order(u: &OrderUpdate, at: UnixNanos) -> Result<SessionEvent, String> {
    let Some(cid) = u
        .client_order_id
        .as_deref()
        .and_then(|c| ClientOrderId::parse(c).ok())
    else {
        return Ok(SessionEvent::Other("order placed elsewhere".into()));
    };
    if u.unfilled > u.size {
        return Err(format!("order {}: unfilled above size", u.order_id));
    }
    let filled = u.filled();
    let status = match u.state.as_str() {
        "open" | "pending" => SnapshotStatus::Open,
        "closed" => SnapshotStatus::Filled,
        "cancelled" => SnapshotStatus::Cancelled,
        other => return Err(format!("unknown state {other:?}")),
    };
    let cum_quote = match u.average_fill_price {
        Some(p) => Notional::of(p, filled),
        None if filled.is_zero() => Notional::default(),
        None => return Err(format!("order {}: filled without a price", u.order_id)),
    };
    Ok(SessionEvent::Order {
        cid,
        event: OrderEvent::Snapshot {
            venue_order_id: VenueOrderId::new(u.order_id.to_string().as_bytes())
                .ok_or("order id")?,
            status,
            cum_qty: filled,
            cum_quote,
            terms: u.limit_price.map(|p| (p, u.size)),
            at,
        },
    })
}

fn margin(m: &private::Margin) -> Result<Balance, String> {
    super::rest::balance(&serde_json::json!({
        "asset_symbol": m.asset_symbol, "balance": m.balance,
        "available_balance": m.available_balance,
    }))
}

impl OrderSession for DeltaSession {
    fn venue_kind(&self) -> &'static str {
        self.platform.kind_name()
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::Text {
            ping: PING,
            pong: "pong",
            idle: std::time::Duration::from_secs(30),
        }
    }

    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.subscribed = false;
        out.clear();
        out.extend_from_slice(self.signer.ws_auth(self.platform, now_ms / 1000).as_bytes());
    }

    fn after_login(&mut self, _now_ms: u64, out: &mut Vec<u8>) -> bool {
        out.clear();
        out.extend_from_slice(self.subscribe_frame().as_bytes());
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
        let Ok(text) = std::str::from_utf8(frame) else {
            out.push(SessionEvent::Undecodable("not UTF-8".into()));
            return;
        };
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("not JSON: {e}")));
                return;
            }
        };
        match v.get("type").and_then(Value::as_str) {
            Some("pong" | "heartbeat") => return,
            Some("subscriptions") => {
                let channels = v
                    .get("channels")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                for c in channels {
                    if let Some(e) = c.get("error").and_then(Value::as_str) {
                        out.push(SessionEvent::Failed {
                            purpose: Purpose::Subscribe,
                            error: VenueError {
                                code: 0,
                                msg: format!(
                                    "{}: {e}",
                                    c.get("name").and_then(Value::as_str).unwrap_or("?")
                                ),
                            },
                        });
                        return;
                    }
                }
                if !self.subscribed {
                    self.subscribed = true;
                    out.push(SessionEvent::Subscribed);
                }
                return;
            }
            Some("error") => {
                out.push(SessionEvent::Failed {
                    purpose: Purpose::Subscribe,
                    error: VenueError {
                        code: 0,
                        msg: v
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("error frame")
                            .to_owned(),
                    },
                });
                return;
            }
            _ => {}
        }
        match private::decode(text) {
            Ok(Private::Auth(Auth::Ok)) => out.push(SessionEvent::LoggedIn),
            Ok(Private::Auth(Auth::Refused { status, message })) => {
                out.push(SessionEvent::Failed {
                    purpose: Purpose::Logon,
                    error: VenueError {
                        code: 401,
                        msg: format!("auth refused: {status}: {message}"),
                    },
                })
            }
            Ok(Private::Orders(items)) => {
                for u in &items {
                    match order(u, at) {
                        Ok(e) => out.push(e),
                        Err(e) => out.push(SessionEvent::Undecodable(e)),
                    }
                }
            }
            Ok(Private::Fill(f)) => {
                match f
                    .client_order_id
                    .as_deref()
                    .and_then(|c| ClientOrderId::parse(c).ok())
                {
                    Some(cid) => out.push(SessionEvent::Uncertain { cid }),
                    None => out.push(SessionEvent::Other(
                        "fill of an order placed elsewhere".into(),
                    )),
                }
            }
            Ok(Private::Positions(list)) => {
                for p in list {
                    if let Some(f) = self.funding.on_position(&p, at) {
                        out.push(SessionEvent::Funding(f));
                    }
                    match p.size.checked_mul(crate::types::SCALE) {
                        Some(size) => out.push(SessionEvent::Position(VenuePosition {
                            symbol: p.symbol,
                            size,
                            entry: p.entry_price,
                            leverage: None,
                        })),
                        None => out.push(SessionEvent::Undecodable(format!(
                            "position size {} out of range",
                            p.size
                        ))),
                    }
                }
            }
            Ok(Private::Margin(m)) => match margin(&m) {
                Ok(b) => out.push(SessionEvent::Balances(vec![b])),
                Err(e) => out.push(SessionEvent::Undecodable(e)),
            },
            Err(e) => out.push(SessionEvent::Undecodable(e.to_string())),
        }
    }

    fn budget_used_percent(&self) -> u32 {
        // The weight budget is on the REST side, where only 429s hold requests back.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AssetCode, Price, Qty};

    const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);
    const DOC_SECRET: &[u8] = b"7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f";

    fn session(p: Platform) -> DeltaSession {
        DeltaSession::new(
            p,
            DeltaSigner::from_bytes("mako-test-key", DOC_SECRET),
            vec!["BTCUSD".into()],
        )
    }

    fn frames(s: &mut DeltaSession, f: &str) -> Vec<SessionEvent> {
        let mut out = Vec::new();
        s.on_frame(f.as_bytes(), AT, &mut out);
        out
    }

    #[test]
    fn auth_then_one_subscribe() {
        let mut s = session(Platform::India);
        let mut out = Vec::new();
        s.on_connected(1_542_110_948_700, &mut out);
        // The reference's COMPUTED vector for "GET1542110948/live" (§2.4).
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"type":"key-auth","payload":{"api-key":"mako-test-key","signature":"ded5dbc0ebdbfba13e67d156ae2ed86a674396b933d27b3062b43848e3d6cf61","timestamp":"1542110948"}}"#
        );
        let mut g = session(Platform::Global);
        g.on_connected(1_542_110_948_700, &mut out);
        assert!(
            std::str::from_utf8(&out)
                .unwrap()
                .contains(r#""type":"auth""#)
        );
        assert_eq!(
            frames(
                &mut s,
                r#"{"type":"key-auth", "success":true, "status_code":200, "status":"authenticated"}"#
            ),
            vec![SessionEvent::LoggedIn]
        );
        assert!(s.after_login(0, &mut out));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"type":"subscribe","payload":{"channels":[{"name":"orders","symbols":["BTCUSD"]},{"name":"v2/user_trades","symbols":["BTCUSD"]},{"name":"positions","symbols":["BTCUSD"]},{"name":"margins"}]}}"#
        );
        let ack = r#"{"type":"subscriptions","channels":[{"name":"orders","symbols":["BTCUSD"]},{"name":"margins"}]}"#;
        assert_eq!(frames(&mut s, ack), vec![SessionEvent::Subscribed]);
        assert!(frames(&mut s, ack).is_empty(), "subscribed once");
        assert!(frames(&mut s, r#"{"type":"heartbeat"}"#).is_empty());
        assert!(frames(&mut s, r#"{"type":"pong"}"#).is_empty());
        let refused = r#"{"type":"subscriptions","channels":[{"name":"orders","symbols":["BTCUSD"],"error":"subscription forbidden on orders. Unauthorized user"}]}"#;
        assert!(matches!(
            frames(&mut s, refused).as_slice(),
            [SessionEvent::Failed { .. }]
        ));
        match frames(
            &mut s,
            r#"{"type":"key-auth", "success":false, "status_code":401, "status":"invalid_signature", "message":"Invalid Signature"}"#,
        )
        .as_slice()
        {
            [SessionEvent::Failed { purpose, error }] => {
                assert_eq!(*purpose, Purpose::Logon);
                assert_eq!(error.msg, "auth refused: invalid_signature: Invalid Signature");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn orders_fills_margins_and_positions() {
        let mut s = session(Platform::India);
        let update = r#"{"type":"orders","action":"update","reason":"fill","symbol":"BTCUSD","product_id":27,"order_id":1234,"client_order_id":"mk0abc","size":4,"unfilled_size":1,"average_fill_price":"60000.5","limit_price":"60001","side":"buy","state":"open","seq_no":3,"timestamp":1594105083998848}"#;
        assert_eq!(
            frames(&mut s, update),
            vec![SessionEvent::Order {
                cid: ClientOrderId::parse("mk0abc").unwrap(),
                event: OrderEvent::Snapshot {
                    venue_order_id: VenueOrderId::new(b"1234").unwrap(),
                    status: SnapshotStatus::Open,
                    cum_qty: Qty::from_int(3),
                    cum_quote: Notional::from_price(Price::parse("180001.5").unwrap()),
                    terms: Some((Price::parse("60001").unwrap(), Qty::from_int(4))),
                    at: AT,
                }
            }]
        );
        // The docs' sample has no client id: an order placed elsewhere.
        let foreign = update.replace(r#""client_order_id":"mk0abc""#, r#""client_order_id":"""#);
        assert_eq!(
            frames(&mut s, &foreign),
            vec![SessionEvent::Other("order placed elsewhere".into())]
        );
        let fill = r#"{"type":"v2/user_trades","sy":"BTCUSD","f":"1234-abcd","R":"normal","u":1998,"o":1234,"S":"buy","s":3,"p":"60000.5","po":3,"r":"taker","c":"mk0abc","t":1685794274866438,"se":4}"#;
        assert_eq!(
            frames(&mut s, fill),
            vec![SessionEvent::Uncertain {
                cid: ClientOrderId::parse("mk0abc").unwrap()
            }]
        );
        let m = r#"{"type":"margins","action":"update","asset_symbol":"USD","balance":"1000","available_balance":"880.5","timestamp":1}"#;
        assert_eq!(
            frames(&mut s, m),
            vec![SessionEvent::Balances(vec![Balance {
                asset: AssetCode::new(b"USD").unwrap(),
                free: Qty::parse("880.5").unwrap(),
                locked: Qty::parse("119.5").unwrap(),
            }])]
        );
        let p = r#"{"type":"positions","action":"update","symbol":"BTCUSD","product_id":27,"size":3,"entry_price":"60000.5","margin":"36"}"#;
        assert_eq!(
            frames(&mut s, p),
            vec![SessionEvent::Position(VenuePosition {
                symbol: "BTCUSD".into(),
                size: 300_000_000,
                entry: Some(Price::parse("60000.5").unwrap()),
                leverage: None,
            })]
        );
        // Unexpected bytes: counted, never a panic.
        for bad in [
            "{",
            "\u{0}",
            r#"{"type":"mmp_trigger"}"#,
            r#"{"type":"orders","action":"update"}"#,
        ] {
            assert!(
                matches!(
                    frames(&mut s, bad).as_slice(),
                    [SessionEvent::Undecodable(_)]
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            frames(&mut s, &update.replace("\"open\"", "\"rejected\"")).as_slice(),
            [SessionEvent::Undecodable(_)]
        ));
    }
}
