//! Bybit's private WebSocket (`/v5/private`) as the gateway's order session (exchanges.md
//! §3.5–3.6): auth with `{"op":"auth","args":[key, expires, hex HMAC("GET/realtime" +
//! expires)]}`, then the category's `order.{category}` and `execution.{category}` topics.
//! Orders go over REST (`BybitRest`; the trade WebSocket `/v5/trade` is not built): `place`
//! and `cancel` write nothing here and `queries_over_ws` is false. Kept alive with
//! `{"op":"ping"}` after 20 s of silence. The gateway of a `bybit-spot` venue runs it.
//!
//! **Orders and fills.** Each `order` item carries the order's cumulative `cumExecQty` and
//! `cumExecValue` and its `orderStatus`: it becomes a snapshot of those figures, which the
//! gateway turns into fills, so a lost push is caught up by the next one or by
//! reconciliation (the docs warn that a cancel racing a fill can bring two `Filled` pushes:
//! as snapshots of the same figures, the second changes nothing). Each `execution` item is
//! one trade: its id and fee (`execId`, `execFee`, `feeCurrency`) become the order's
//! `Trades`, which is how the gateway learns fees; one message may carry several.
//!
//! **Perpetuals** (`bybit-linear`): the `position.linear` topic is subscribed too; each item
//! becomes a `Position` (size signed by `side`, `entryPrice` — the REST list's `avgPrice` —
//! and `leverage`), which the gateway compares with its own. An `execution` item with
//! `execType` `Funding` is a funding payment: `execQty` the position, `side` its side,
//! `execPrice` the mark, `feeRate` the funding rate, `execFee` the amount, paid when positive
//! and received when negative, like a fee. The reference holds no sample of either: both are
//! read as Bybit's v5 pages describe them, unconfirmed against the live venue.

use serde_json::Value;

use crate::types::VenueOrderId;
use crate::types::order::{OrderEvent, SnapshotStatus};
use crate::types::{
    AssetCode, ClientOrderId, FundingRate, Notional, Price, Qty, Rate, TradeId, UnixNanos,
};
use crate::venue::decimal::floor8;
use crate::venue::md::Keepalive;
use crate::venue::order::{
    OrderSession, PlaceOrder, Purpose, SessionEvent, VenueError, VenueFunding, VenuePosition,
};

use super::Category;
use super::handler::PING;
use super::sign::BybitSigner;

/// How far ahead the auth's `expires` is set (the docs' example: 1 s; more leaves room for
/// the time the frame takes to arrive).
const AUTH_VALID_MS: u64 = 10_000;

pub struct BybitSession {
    category: Category,
    signer: BybitSigner,
    subscribed: bool,
}

impl BybitSession {
    pub fn new(category: Category, signer: BybitSigner) -> Self {
        Self {
            category,
            signer,
            subscribed: false,
        }
    }
}

fn text<'v>(d: &'v Value, k: &str) -> Result<&'v str, String> {
    d.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("without {k:?}"))
}

/// A non-negative decimal cut to 8 places; `""` is zero.
fn amount(d: &Value, k: &str) -> Result<Qty, String> {
    let s = text(d, k)?;
    if s.is_empty() {
        return Ok(Qty::ZERO);
    }
    floor8(s)
        .filter(|(neg, _)| !neg)
        .map(|(_, q)| q)
        .ok_or_else(|| format!("{k} {s:?}: not a decimal"))
}

/// One `order` item as a snapshot of its cumulative figures.
fn order(d: &Value, at: UnixNanos) -> Result<SessionEvent, String> {
    let Ok(cid) = ClientOrderId::parse(text(d, "orderLinkId")?) else {
        return Ok(SessionEvent::Other("order placed elsewhere".into()));
    };
    let status = match text(d, "orderStatus")? {
        "New" | "PartiallyFilled" | "Untriggered" | "Triggered" => SnapshotStatus::Open,
        "Filled" => SnapshotStatus::Filled,
        "Cancelled" | "PartiallyFilledCanceled" | "Deactivated" => SnapshotStatus::Cancelled,
        "Rejected" => SnapshotStatus::Rejected,
        other => return Err(format!("unknown orderStatus {other:?}")),
    };
    // A market order's `price` is not a limit: no terms.
    let terms = match text(d, "orderType")? {
        "Market" => None,
        _ => Some((
            Price::from_units(amount(d, "price")?.units()),
            amount(d, "qty")?,
        )),
    };
    Ok(SessionEvent::Order {
        cid,
        event: OrderEvent::Snapshot {
            venue_order_id: VenueOrderId::new(text(d, "orderId")?.as_bytes())
                .ok_or("orderId is not an id")?,
            status,
            cum_qty: amount(d, "cumExecQty")?,
            cum_quote: Notional::from_price(Price::from_units(amount(d, "cumExecValue")?.units())),
            terms,
            at,
        },
    })
}

/// A signed decimal cut to 8 places, in units; `""` is zero.
fn signed_units(d: &Value, k: &str) -> Result<i64, String> {
    let s = text(d, k)?;
    if s.is_empty() {
        return Ok(0);
    }
    let (neg, q) = floor8(s).ok_or_else(|| format!("{k} {s:?}: not a decimal"))?;
    Ok(if neg { -q.units() } else { q.units() })
}

/// A position's side as a sign: `Buy` long, `Sell` short, `""` or `None` flat.
fn side_sign(d: &Value) -> Result<i64, String> {
    match text(d, "side")? {
        "Buy" => Ok(1),
        "Sell" => Ok(-1),
        "" | "None" => Ok(0),
        other => Err(format!("unknown side {other:?}")),
    }
}

/// One `position` item (or `/v5/position/list` entry): size signed by side, the entry price
/// (`entryPrice` on the topic, `avgPrice` in the list) and the leverage.
pub(super) fn position(d: &Value) -> Result<VenuePosition, String> {
    let size = amount(d, "size")?.units() * side_sign(d)?;
    let entry = ["entryPrice", "avgPrice"]
        .into_iter()
        .find(|k| d.get(*k).is_some())
        .map(|k| amount(d, k))
        .transpose()?
        .filter(|p| !p.is_zero())
        .map(|p| Price::from_units(p.units()));
    let leverage = match d.get("leverage") {
        Some(_) => Some(amount(d, "leverage")?)
            .filter(|l| !l.is_zero())
            .map(|l| Rate::from_units(l.units())),
        None => None,
    };
    Ok(VenuePosition {
        symbol: text(d, "symbol")?.to_owned(),
        size,
        entry,
        leverage,
    })
}

/// One `execution` item of `execType` `Funding` as the payment it books.
fn funding(d: &Value) -> Result<SessionEvent, String> {
    let time: u64 = text(d, "execTime")?
        .parse()
        .map_err(|_| "execTime is not a number".to_owned())?;
    let rate = text(d, "feeRate")?;
    Ok(SessionEvent::Funding(VenueFunding {
        symbol: text(d, "symbol")?.to_owned(),
        size: amount(d, "execQty")?.units() * side_sign(d)?,
        mark: Price::from_units(amount(d, "execPrice")?.units()),
        rate: FundingRate::parse(rate).map_err(|e| format!("feeRate {rate:?}: {e}"))?,
        paid: signed_units(d, "execFee")?,
        at: UnixNanos(time.saturating_mul(1_000_000)),
    }))
}

/// One `execution` item as the order's trade id and fee (a rebate is a negative fee), or a
/// funding payment.
fn execution(d: &Value) -> Result<SessionEvent, String> {
    if d.get("execType").and_then(Value::as_str) == Some("Funding") {
        return funding(d);
    }
    let Ok(cid) = ClientOrderId::parse(text(d, "orderLinkId")?) else {
        return Ok(SessionEvent::Other(
            "execution of an order placed elsewhere".into(),
        ));
    };
    Ok(SessionEvent::Trades {
        cid,
        trades: vec![trade_fee(d)?],
    })
}

/// An execution's id, fee and fee asset, as the `execution` topic and `/v5/execution/list`
/// carry them (`execId`, `execFee`, `feeCurrency`; a rebate is a negative fee).
pub(super) fn trade_fee(d: &Value) -> Result<(TradeId, Qty, AssetCode), String> {
    let id = TradeId::new(text(d, "execId")?.as_bytes()).ok_or("execId is not an id")?;
    let fee_text = text(d, "execFee")?;
    let (neg, fee) = if fee_text.is_empty() {
        (false, Qty::ZERO)
    } else {
        floor8(fee_text).ok_or_else(|| format!("execFee {fee_text:?}: not a decimal"))?
    };
    let fee = if neg {
        Qty::from_units(-fee.units())
    } else {
        fee
    };
    let asset = AssetCode::new(text(d, "feeCurrency")?.as_bytes())
        .ok_or("feeCurrency is empty or too long")?;
    // The side is checked so a malformed item is refused rather than half read.
    match text(d, "side")? {
        "Buy" | "Sell" => {}
        other => return Err(format!("unknown side {other:?}")),
    }
    Ok((id, fee, asset))
}

impl OrderSession for BybitSession {
    fn venue_kind(&self) -> &'static str {
        self.category.kind_name()
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::Text {
            ping: PING,
            pong: "pong",
            idle: std::time::Duration::from_secs(20),
        }
    }

    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>) {
        self.subscribed = false;
        out.clear();
        out.extend_from_slice(
            self.signer
                .ws_auth("auth", now_ms + AUTH_VALID_MS)
                .as_bytes(),
        );
    }

    /// `order.{category}` and `execution.{category}` (and `position.linear` on linear) in
    /// one request (categorised topics only: the docs forbid mixing them with the all-in-one
    /// ones).
    fn after_login(&mut self, _now_ms: u64, out: &mut Vec<u8>) -> bool {
        out.clear();
        let c = self.category.as_str();
        let mut topics = vec![format!("order.{c}"), format!("execution.{c}")];
        if self.category == Category::Linear {
            topics.push("position.linear".to_owned());
        }
        // The unified account's balances (one topic for every category).
        topics.push("wallet".to_owned());
        out.extend_from_slice(
            serde_json::json!({"req_id": "orders", "op": "subscribe", "args": topics})
                .to_string()
                .as_bytes(),
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
        let v: Value = match serde_json::from_slice(frame) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(format!("not JSON: {e}")));
                return;
            }
        };
        let Some(topic) = v.get("topic").and_then(Value::as_str) else {
            let op = v.get("op").and_then(Value::as_str).unwrap_or("");
            if op == "pong" || v.get("ret_msg").and_then(Value::as_str) == Some("pong") {
                return;
            }
            let ok = v.get("success").and_then(Value::as_bool);
            match (op, ok) {
                ("auth", Some(true)) => out.push(SessionEvent::LoggedIn),
                ("subscribe", Some(true)) if !self.subscribed => {
                    self.subscribed = true;
                    out.push(SessionEvent::Subscribed);
                }
                ("subscribe", Some(true)) => {}
                (op, Some(false)) => out.push(SessionEvent::Failed {
                    purpose: Purpose::Subscribe,
                    error: VenueError {
                        code: 0,
                        msg: format!(
                            "{op}: {}",
                            v.get("ret_msg").and_then(Value::as_str).unwrap_or("")
                        ),
                    },
                }),
                _ => out.push(SessionEvent::Undecodable(
                    "message without topic, op or success".into(),
                )),
            }
            return;
        };
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let decode: fn(&Value, UnixNanos) -> Result<SessionEvent, String> =
            match topic.split('.').next() {
                Some("order") => order,
                Some("execution") => |d, _| execution(d),
                Some("position") => |d, _| position(d).map(SessionEvent::Position),
                // The account's coins, all of them, as the wallet-balance answer lists them.
                Some("wallet") => {
                    let list = serde_json::json!({ "list": data });
                    out.push(match super::rest::balances(&list) {
                        Ok(b) => SessionEvent::Balances(b),
                        Err(e) => SessionEvent::Undecodable(format!("wallet: {e}")),
                    });
                    return;
                }
                _ => {
                    out.push(SessionEvent::Other(format!("topic {topic}")));
                    return;
                }
            };
        for d in data {
            match decode(d, at) {
                Ok(e) => out.push(e),
                Err(e) => out.push(SessionEvent::Undecodable(e)),
            }
        }
    }

    fn budget_used_percent(&self) -> u32 {
        // Bybit's limits are per endpoint, on the REST side: 10006 is what holds back.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let p = format!(
            "{}/tests/fixtures/bybit/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(p).unwrap()
    }

    const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

    fn session() -> BybitSession {
        BybitSession::new(
            Category::Spot,
            BybitSigner::from_bytes("mako-test-key", b"mako-test-secret"),
        )
    }

    fn frames(s: &mut BybitSession, f: &str) -> Vec<SessionEvent> {
        let mut out = Vec::new();
        s.on_frame(f.as_bytes(), AT, &mut out);
        out
    }

    #[test]
    fn auth_then_categorised_topics() {
        let mut s = session();
        let mut out = Vec::new();
        s.on_connected(1_700_000_000_000, &mut out);
        // The signature over "GET/realtime1700000010000", from Python's hmac (independent
        // of mako): hmac.new(b"mako-test-secret", b"GET/realtime1700000010000",
        // hashlib.sha256).hexdigest().
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"req_id":"auth","op":"auth","args":["mako-test-key",1700000010000,"f11e794d159a34c372cbcb4079310a5eb6da04fbfae42b645f03a427e65d59ac"]}"#
        );
        assert_eq!(
            frames(&mut s, &sample("bybit_ws_auth_response.json")),
            vec![SessionEvent::LoggedIn]
        );
        assert!(s.after_login(0, &mut out));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"req_id":"orders","op":"subscribe","args":["order.spot","execution.spot","wallet"]}"#
        );
        assert_eq!(
            frames(
                &mut s,
                r#"{"success":true,"ret_msg":"","op":"subscribe","conn_id":"c"}"#
            ),
            vec![SessionEvent::Subscribed]
        );
        assert!(frames(&mut s, &sample("bybit_ws_pong_private.json")).is_empty());
        match frames(
            &mut s,
            r#"{"success":false,"ret_msg":"Params Error","op":"auth","conn_id":"c"}"#,
        )
        .as_slice()
        {
            [SessionEvent::Failed { error, .. }] => assert_eq!(error.msg, "auth: Params Error"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_order_sample_is_a_snapshot_of_cumulative_figures() {
        let mut s = session();
        // The reference's sample has no orderLinkId: an order placed elsewhere.
        assert_eq!(
            frames(&mut s, &sample("bybit_order_stream.json")),
            vec![SessionEvent::Other("order placed elsewhere".into())]
        );
        let ours = sample("bybit_order_stream.json")
            .replace(r#""orderLinkId": """#, r#""orderLinkId": "mk0abc""#);
        assert_eq!(
            frames(&mut s, &ours),
            vec![SessionEvent::Order {
                cid: ClientOrderId::parse("mk0abc").unwrap(),
                event: OrderEvent::Snapshot {
                    venue_order_id: VenueOrderId::new(b"5cf98598-39a7-459e-97bf-76ca765ee020")
                        .unwrap(),
                    status: SnapshotStatus::Filled,
                    cum_qty: Qty::parse("1").unwrap(),
                    cum_quote: Notional::from_price(Price::parse("75").unwrap()),
                    // A market order: no limit terms.
                    terms: None,
                    at: AT,
                }
            }]
        );
    }

    #[test]
    fn the_execution_sample_gives_the_trade_and_its_fee() {
        let mut s = session();
        assert_eq!(
            frames(&mut s, &sample("bybit_execution_stream.json")),
            vec![SessionEvent::Other(
                "execution of an order placed elsewhere".into()
            )]
        );
        let ours = sample("bybit_execution_stream.json")
            .replace(r#""orderLinkId": """#, r#""orderLinkId": "mk0abc""#);
        assert_eq!(
            frames(&mut s, &ours),
            vec![SessionEvent::Trades {
                cid: ClientOrderId::parse("mk0abc").unwrap(),
                trades: vec![(
                    TradeId::new(b"0ab1bdf7-4219-438b-b30a-32ec863018f7").unwrap(),
                    Qty::parse("26.3725275").unwrap(),
                    AssetCode::new(b"USDT").unwrap()
                )]
            }]
        );
        // A maker rebate is a negative fee.
        let rebate = ours.replace(r#""execFee": "26.3725275""#, r#""execFee": "-0.5""#);
        match frames(&mut s, &rebate).as_slice() {
            [SessionEvent::Trades { trades, .. }] => {
                assert_eq!(trades[0].1, Qty::from_units(-50_000_000));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            frames(&mut s, "{not json").as_slice(),
            [SessionEvent::Undecodable(_)]
        ));
    }

    /// Linear: the position topic too; its items (written in the shape of Bybit's v5 docs,
    /// the reference has no sample) become signed positions; a flat one has side "".
    #[test]
    fn linear_positions_and_funding_executions() {
        let mut s = BybitSession::new(
            Category::Linear,
            BybitSigner::from_bytes("mako-test-key", b"mako-test-secret"),
        );
        let mut out = Vec::new();
        assert!(s.after_login(0, &mut out));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"req_id":"orders","op":"subscribe","args":["order.linear","execution.linear","position.linear","wallet"]}"#
        );
        let push = r#"{"id":"1","topic":"position.linear","creationTime":1,"data":[
            {"category":"linear","symbol":"BTCUSDT","side":"Buy","size":"0.01","entryPrice":"95900.1",
             "leverage":"5","positionIdx":0},
            {"category":"linear","symbol":"ETHUSDT","side":"","size":"0","entryPrice":"0","leverage":"10"}]}"#;
        assert_eq!(
            frames(&mut s, push),
            vec![
                SessionEvent::Position(VenuePosition {
                    symbol: "BTCUSDT".into(),
                    size: 1_000_000,
                    entry: Some(Price::parse("95900.1").unwrap()),
                    leverage: Some(Rate::parse("5").unwrap()),
                }),
                SessionEvent::Position(VenuePosition {
                    symbol: "ETHUSDT".into(),
                    size: 0,
                    entry: None,
                    leverage: Some(Rate::parse("10").unwrap()),
                }),
            ]
        );
        // A short's funding at a negative rate: received, so a negative fee.
        let funding = r#"{"topic":"execution.linear","id":"2","creationTime":1,"data":[
            {"category":"linear","symbol":"BTCUSDT","side":"Sell","execType":"Funding",
             "execId":"f-1","execQty":"0.5","execPrice":"95901.48","execValue":"47950.74",
             "feeRate":"-0.0001","execFee":"-4.795074","feeCurrency":"USDT","orderId":"",
             "orderLinkId":"","execTime":"1746270400000"}]}"#;
        assert_eq!(
            frames(&mut s, funding),
            vec![SessionEvent::Funding(VenueFunding {
                symbol: "BTCUSDT".into(),
                size: -50_000_000,
                mark: Price::parse("95901.48").unwrap(),
                rate: FundingRate::parse("-0.0001").unwrap(),
                paid: -479_507_400,
                at: UnixNanos(1_746_270_400_000_000_000),
            })]
        );
        let bad =
            r#"{"topic":"position.linear","data":[{"symbol":"BTCUSDT","side":"Long","size":"1"}]}"#;
        assert!(matches!(
            frames(&mut s, bad).as_slice(),
            [SessionEvent::Undecodable(_)]
        ));
    }
}
