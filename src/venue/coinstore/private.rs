//! Coinstore's private WebSocket as the 2022 docs describe it (exchanges.md §6.5; gone from
//! the 2024 copy): the `LOGIN` request (user id and API key, `"type": "api"`, with the channels
//! to subscribe) and the `order` and `account` pushes decoded into fixed-point records. Pure
//! code, unit-tested on the 2022 samples; the order session (`super::session`) reads its
//! pushes. Whether the live venue still serves these channels is unconfirmed: only the
//! simulator is known to speak them. Private
//! messages are few and off the market-data hot path, so they are read with serde_json.

use serde_json::{Value, json};

use crate::types::{OrderStatus, Price, Qty, Side};
use crate::venue::decode::strip_comments;

/// The `LOGIN` request of an API user: `user_id` is the account's user id, `api_key` goes in
/// `token` (the docs: "api users fill in the api-key"). The docs do not say how, or whether,
/// the login is signed.
pub fn login_request(user_id: u64, api_key: &str, channels: &[&str], id: u64) -> String {
    json!({"op": "LOGIN", "channel": channels,
        "auth": {"user-id": user_id, "token": api_key, "type": "api"}, "id": id})
    .to_string()
}

/// The fill an order push reports, present when `matchQty` is above zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchFill {
    pub match_id: u64,
    pub trade_id: u64,
    /// `matchRole`: MAKER (true) or TAKER.
    pub maker: bool,
    pub qty: Qty,
    /// `matchAmt`: quote amount of this fill.
    pub amount: Price,
    /// `fee`, in the currency `fee_currency_id` names (a JSON number in the docs' sample).
    pub fee: Qty,
    pub fee_currency_id: u64,
}

/// One `order` push: the order's state after its latest change (`version` rises).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPush {
    pub version: u64,
    pub account_id: u64,
    pub ord_id: u64,
    pub symbol: String,
    pub side: Side,
    pub ord_type: String,
    pub status: OrderStatus,
    pub price: Price,
    pub qty: Qty,
    /// Cumulative filled quantity and quote amount, and what is left.
    pub exec_qty: Qty,
    pub exec_amount: Price,
    pub remaining_qty: Qty,
    pub fill: Option<MatchFill>,
    /// Seconds.
    pub timestamp: u64,
}

/// One `account` push: a currency's available and frozen balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPush {
    pub account_id: u64,
    pub currency: String,
    pub available: Qty,
    pub frozen: Qty,
    /// Seconds.
    pub timestamp: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivatePush {
    Order(OrderPush),
    Account(AccountPush),
}

/// Coinstore's `ordState` as the engine's order status. SUBMITTING is taken as sent and
/// CANCELING as still open (acknowledged); STOPPED as cancelled.
pub fn order_status(s: &str) -> Result<OrderStatus, String> {
    Ok(match s {
        "SUBMITTING" => OrderStatus::Sent,
        "SUBMITTED" | "CANCELING" => OrderStatus::Acked,
        "PARTIAL_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" | "STOPPED" => OrderStatus::Cancelled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" => OrderStatus::Expired,
        other => return Err(format!("unknown ordState {other:?}")),
    })
}

fn text<'v>(v: &'v Value, k: &str) -> Result<&'v str, String> {
    v.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing text field {k:?}"))
}

fn uint(v: &Value, k: &str) -> Result<u64, String> {
    v.get(k)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("missing whole-number field {k:?}"))
}

/// A decimal given as a string or, as the sample's `fee`, a JSON number (its shortest text).
fn decimal_text(v: &Value, k: &str) -> Result<String, String> {
    match v.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("missing decimal field {k:?}")),
    }
}

fn qty(v: &Value, k: &str) -> Result<Qty, String> {
    let s = decimal_text(v, k)?;
    Qty::parse(&s).map_err(|e| format!("{k} {s:?}: {e}"))
}

fn price(v: &Value, k: &str) -> Result<Price, String> {
    let s = decimal_text(v, k)?;
    Price::parse(&s).map_err(|e| format!("{k} {s:?}: {e}"))
}

fn order(v: &Value) -> Result<OrderPush, String> {
    let side = match text(v, "side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        other => return Err(format!("unknown side {other:?}")),
    };
    let match_qty = match v.get("matchQty") {
        Some(_) => qty(v, "matchQty")?,
        None => Qty::ZERO,
    };
    let fill = if match_qty > Qty::ZERO {
        Some(MatchFill {
            match_id: uint(v, "matchId")?,
            trade_id: uint(v, "tradeId")?,
            maker: match text(v, "matchRole")? {
                "MAKER" => true,
                "TAKER" => false,
                other => return Err(format!("unknown matchRole {other:?}")),
            },
            qty: match_qty,
            amount: price(v, "matchAmt")?,
            fee: qty(v, "fee")?,
            fee_currency_id: uint(v, "feeCurrencyId")?,
        })
    } else {
        None
    };
    Ok(OrderPush {
        version: uint(v, "version")?,
        account_id: uint(v, "accountId")?,
        ord_id: uint(v, "ordId")?,
        symbol: text(v, "symbol")?.to_owned(),
        side,
        ord_type: text(v, "ordType")?.to_owned(),
        status: order_status(text(v, "ordState")?)?,
        price: price(v, "ordPrice")?,
        qty: qty(v, "ordQty")?,
        exec_qty: qty(v, "execQty")?,
        exec_amount: price(v, "execAmt")?,
        remaining_qty: qty(v, "remainingQty")?,
        fill,
        timestamp: uint(v, "timestamp")?,
    })
}

fn account(v: &Value) -> Result<AccountPush, String> {
    Ok(AccountPush {
        account_id: uint(v, "accountId")?,
        currency: text(v, "currency")?.to_owned(),
        available: qty(v, "available")?,
        frozen: qty(v, "frozen")?,
        timestamp: uint(v, "timestamp")?,
    })
}

/// One private message: its payloads (a `data` list or object, or the message itself), typed
/// by `T` (`order`, `account`) or, where the docs' samples leave the envelope out, by their
/// fields. Replies and anything else give nothing.
pub fn decode_private(line: &str) -> Result<Vec<PrivatePush>, String> {
    let v: Value =
        serde_json::from_str(&strip_comments(line.trim())).map_err(|e| format!("not JSON: {e}"))?;
    let items: Vec<&Value> = match v.get("data") {
        Some(Value::Array(l)) => l.iter().collect(),
        Some(d @ Value::Object(_)) => vec![d],
        Some(_) => return Err("\"data\" is neither a list nor an object".into()),
        None => vec![&v],
    };
    let kind = match v.get("T").and_then(Value::as_str) {
        Some(t) => t,
        None if items.first().is_some_and(|i| i.get("ordId").is_some()) => "order",
        None if items.first().is_some_and(|i| i.get("currency").is_some()) => "account",
        None => return Ok(Vec::new()),
    };
    match kind {
        "order" => items
            .into_iter()
            .map(|i| order(i).map(PrivatePush::Order))
            .collect(),
        "account" => items
            .into_iter()
            .map(|i| account(i).map(PrivatePush::Account))
            .collect(),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = include_str!(
        "../../../tests/fixtures/coinstore/samples/coinstore_ws_order_push_2022.jsonc"
    );
    const ACCOUNT: &str = include_str!(
        "../../../tests/fixtures/coinstore/samples/coinstore_ws_account_push_2022.jsonc"
    );

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    #[test]
    fn the_2022_order_push_sample() {
        let got = decode_private(ORDER).unwrap();
        assert_eq!(
            got,
            vec![PrivatePush::Order(OrderPush {
                version: 12,
                account_id: 1,
                ord_id: 12,
                symbol: "BTCUSDT".into(),
                side: Side::Buy,
                ord_type: "LIMIT".into(),
                status: OrderStatus::PartiallyFilled,
                price: p("128.21"),
                qty: q("11.21"),
                exec_qty: q("12.2"),
                exec_amount: p("312.12"),
                remaining_qty: q("1.2"),
                fill: Some(MatchFill {
                    match_id: 12,
                    trade_id: 123,
                    maker: false,
                    qty: q("1.9"),
                    amount: p("390.29"),
                    fee: q("0.21"),
                    fee_currency_id: 12,
                }),
                timestamp: 1_602_493_840,
            })]
        );
    }

    #[test]
    fn the_2022_account_push_sample_in_and_out_of_an_envelope() {
        let want = PrivatePush::Account(AccountPush {
            account_id: 12,
            currency: "BTC".into(),
            available: q("3128.29"),
            frozen: q("21.03"),
            timestamp: 1_602_493_840,
        });
        assert_eq!(decode_private(ACCOUNT).unwrap(), vec![want.clone()]);
        let wrapped = format!(
            r#"{{"S":9,"T":"account","data":[{}]}}"#,
            strip_comments(ACCOUNT).trim()
        );
        assert_eq!(decode_private(&wrapped).unwrap(), vec![want]);
    }

    #[test]
    fn no_match_no_fill_and_bad_pushes_are_errors() {
        let v = r#"{"version":1,"accountId":1,"ordId":5,"symbol":"BTCUSDT","side":"SELL","ordType":"LIMIT","ordState":"SUBMITTED","ordPrice":"1","ordQty":"2","execQty":"0","execAmt":"0","remainingQty":"2","matchQty":"0","timestamp":1}"#;
        let [PrivatePush::Order(o)] = &decode_private(v).unwrap()[..] else {
            panic!("one order push")
        };
        assert_eq!(
            (o.fill.clone(), o.status, o.side),
            (None, OrderStatus::Acked, Side::Sell)
        );
        for bad in [
            v.replace("SUBMITTED", "NOT_FOUND"),
            v.replace("\"SELL\"", "\"UP\""),
            v.replace("\"ordPrice\":\"1\"", "\"ordPrice\":\"x\""),
            v.replace("\"matchQty\":\"0\"", "\"matchQty\":\"1\""),
            "{".into(),
        ] {
            assert!(decode_private(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            decode_private(r#"{"S":2,"T":"resp","C":200,"M":"login.success"}"#).unwrap(),
            vec![]
        );
    }

    #[test]
    fn the_login_request_of_an_api_user() {
        let v: Value = serde_json::from_str(&login_request(
            4930,
            "eb737c84862f3d",
            &["7@account", "80002@order"],
            2,
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({"op": "LOGIN", "channel": ["7@account", "80002@order"],
                "auth": {"user-id": 4930, "token": "eb737c84862f3d", "type": "api"}, "id": 2})
        );
    }
}
