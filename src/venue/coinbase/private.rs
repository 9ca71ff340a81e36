//! Coinbase Advanced Trade private answers, decoded (exchanges.md §4.2, §4.3): orders (the
//! `user` channel and `GET /orders/historical/batch`), fills, accounts, create-order and
//! batch-cancel results, and what each failure reason means for an order. Off the
//! market-data hot path.

use serde_json::Value;

use crate::types::order::{AssetCode, SnapshotStatus};
use crate::types::{ClientOrderId, Notional, Price, Qty, Side, TradeId, VenueOrderId};
use crate::venue::decimal::floor8;
use crate::venue::order::{Balance, OrderSnapshot, VenueError};

/// Why a private answer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("missing or malformed field {0}")]
    Field(&'static str),
    #[error("unknown value {1:?} of {0}")]
    Unknown(&'static str, String),
}

fn str_of<'v>(v: &'v Value, k: &'static str) -> Result<&'v str, DecodeError> {
    v.get(k)
        .and_then(Value::as_str)
        .ok_or(DecodeError::Field(k))
}

/// A string field that is present and not empty.
fn opt_str<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A decimal that may carry more than 8 fractional digits, cut to 8 (towards zero); a
/// negative value is refused (no order quantity or balance is negative).
fn qty_of(v: &Value, k: &'static str) -> Result<Qty, DecodeError> {
    match floor8(str_of(v, k)?) {
        Some((false, q)) => Ok(q),
        _ => Err(DecodeError::Field(k)),
    }
}

fn side_of(s: &str) -> Result<Side, DecodeError> {
    match s {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(DecodeError::Unknown("side", other.to_owned())),
    }
}

/// Coinbase's order status as a reconciliation state (`super::UNCONFIRMED`). `PENDING` and `QUEUED` are accepted
/// and not final; `CANCEL_QUEUED` is still open (the cancel may yet lose to a fill);
/// `FAILED` never traded.
pub fn state_of(s: &str) -> Result<SnapshotStatus, DecodeError> {
    Ok(match s {
        "PENDING" | "OPEN" | "QUEUED" | "CANCEL_QUEUED" => SnapshotStatus::Open,
        "FILLED" => SnapshotStatus::Filled,
        "CANCELLED" => SnapshotStatus::Cancelled,
        "EXPIRED" => SnapshotStatus::Expired,
        "FAILED" => SnapshotStatus::Rejected,
        other => return Err(DecodeError::Unknown("status", other.to_owned())),
    })
}

/// One order as Coinbase reports it, in either of its two shapes: the `user` channel's
/// (`order_side`, `cumulative_quantity`, `leaves_quantity`, `avg_price`, `limit_price`) and
/// the REST list's (`side`, `filled_size`, `average_filled_price`, `order_configuration`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderItem {
    /// `None` when `client_order_id` is empty (an order this engine did not place).
    pub cid: Option<ClientOrderId>,
    pub order_id: VenueOrderId,
    pub side: Side,
    pub state: SnapshotStatus,
    /// The cumulative filled quantity.
    pub cum_qty: Qty,
    pub avg_price: Option<Price>,
    pub price: Option<Price>,
    /// The order's total quantity (filled + leaves on the `user` channel).
    pub qty: Qty,
    /// `total_fees`, in the quote currency, when reported.
    pub fees: Option<Qty>,
}

/// The limit price and base size of an `order_configuration` (whichever variant it holds).
fn configuration(v: &Value) -> (Option<Price>, Option<Qty>) {
    let Some(conf) = v
        .get("order_configuration")
        .and_then(Value::as_object)
        .and_then(|m| m.values().next())
    else {
        return (None, None);
    };
    (
        opt_str(conf, "limit_price").and_then(|p| Price::parse(p).ok()),
        opt_str(conf, "base_size").and_then(|q| floor8(q).map(|(_, q)| q)),
    )
}

/// An order of the `user` channel or of a REST order answer.
pub fn order_item(v: &Value) -> Result<OrderItem, DecodeError> {
    let cid = match opt_str(v, "client_order_id") {
        Some(c) => {
            Some(ClientOrderId::parse(c).map_err(|_| DecodeError::Field("client_order_id"))?)
        }
        None => None,
    };
    let order_id = VenueOrderId::new(str_of(v, "order_id")?.as_bytes())
        .ok_or(DecodeError::Field("order_id"))?;
    let side = side_of(opt_str(v, "order_side").map_or_else(|| str_of(v, "side"), Ok)?)?;
    let cum_qty = if v.get("cumulative_quantity").is_some() {
        qty_of(v, "cumulative_quantity")?
    } else {
        qty_of(v, "filled_size")?
    };
    let (conf_price, conf_qty) = configuration(v);
    let qty = match (conf_qty, opt_str(v, "leaves_quantity")) {
        (Some(q), _) => q,
        (None, Some(_)) => cum_qty
            .checked_add(qty_of(v, "leaves_quantity")?)
            .ok_or(DecodeError::Field("leaves_quantity"))?,
        (None, None) => cum_qty,
    };
    let price = opt_str(v, "limit_price")
        .and_then(|p| Price::parse(p).ok())
        .or(conf_price);
    let avg_price = opt_str(v, "avg_price")
        .or_else(|| opt_str(v, "average_filled_price"))
        .and_then(|p| Price::parse(p).ok())
        .filter(|p| !p.is_zero());
    Ok(OrderItem {
        cid,
        order_id,
        side,
        state: state_of(str_of(v, "status")?)?,
        cum_qty,
        avg_price,
        price,
        qty,
        fees: opt_str(v, "total_fees").and_then(|f| floor8(f).map(|(_, q)| q)),
    })
}

impl OrderItem {
    /// The cumulative quote as the venue's average price says (`avg × filled`).
    pub fn quote_from_avg(&self) -> Notional {
        match self.avg_price {
            Some(p) => Notional::of(p, self.cum_qty),
            None => Notional(0),
        }
    }

    /// As a reconciliation snapshot (`symbol` is the instrument's).
    pub fn snapshot(&self, symbol: &str) -> Option<OrderSnapshot> {
        Some(OrderSnapshot {
            cid: self.cid?,
            symbol: symbol.to_owned(),
            venue_order_id: self.order_id,
            status: self.state,
            cum_qty: self.cum_qty,
            cum_quote: self.quote_from_avg(),
            price: self.price.unwrap_or(Price::ZERO),
            orig_qty: self.qty,
            side: self.side,
        })
    }
}

/// The quote currency of a product id (`BTC-USD` → `USD`): the asset fees are charged in.
pub fn quote_asset(product_id: &str) -> Option<AssetCode> {
    product_id
        .rsplit_once('-')
        .and_then(|(_, q)| AssetCode::new(q.as_bytes()))
}

/// `(trade id, commission, fee asset)` of each item of a `fills` answer; the commission is
/// taken to be charged in the product's quote currency (unconfirmed: `super::UNCONFIRMED`).
pub fn fill_fees(fills: &[Value]) -> Result<Vec<(TradeId, Qty, AssetCode)>, DecodeError> {
    fills
        .iter()
        .map(|f| {
            let fee = match opt_str(f, "commission") {
                Some(_) => qty_of(f, "commission")?,
                None => Qty::ZERO,
            };
            Ok((
                TradeId::new(str_of(f, "trade_id")?.as_bytes())
                    .ok_or(DecodeError::Field("trade_id"))?,
                fee,
                quote_asset(str_of(f, "product_id")?).ok_or(DecodeError::Field("product_id"))?,
            ))
        })
        .collect()
}

/// The `accounts` of a `GET /accounts` answer: `available_balance.value` free, `hold.value`
/// locked, cut to 8 decimals.
pub fn balances(accounts: &[Value]) -> Result<Vec<Balance>, DecodeError> {
    accounts
        .iter()
        .map(|a| {
            let value = |k: &'static str| -> Result<Qty, DecodeError> {
                match a
                    .get(k)
                    .and_then(|b| b.get("value"))
                    .and_then(Value::as_str)
                {
                    None => Err(DecodeError::Field(k)),
                    Some(s) => match floor8(s) {
                        Some((false, q)) => Ok(q),
                        _ => Err(DecodeError::Field(k)),
                    },
                }
            };
            Ok(Balance {
                asset: AssetCode::new(str_of(a, "currency")?.as_bytes())
                    .ok_or(DecodeError::Field("currency"))?,
                free: value("available_balance")?,
                locked: value("hold")?,
            })
        })
        .collect()
}

/// What a Coinbase failure means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The venue refused it; nothing was done (`INSUFFICIENT_FUND`, `INVALID_*`, 4xx).
    Rejected,
    /// The order does not exist or is already final (a cancel's `UNKNOWN_CANCEL_ORDER`).
    NotFound,
    /// The venue did not say what happened (`UNKNOWN_FAILURE_REASON`): query the order.
    Unknown,
}

/// The class of a create-order or cancel failure reason (the names and their meaning are
/// unconfirmed readings: `super::UNCONFIRMED`).
pub fn classify(reason: &str) -> FailureClass {
    match reason {
        "UNKNOWN_FAILURE_REASON" | "UNKNOWN_CANCEL_FAILURE_REASON" | "" => FailureClass::Unknown,
        "UNKNOWN_CANCEL_ORDER" | "COMMANDER_REJECTED_CANCEL_ORDER" | "DUPLICATE_CANCEL_REQUEST" => {
            FailureClass::NotFound
        }
        _ => FailureClass::Rejected,
    }
}

/// The refusal of a create-order answer `{"success":false,"error_response":{…}}`: the
/// failure reason (`error`, or `new_order_failure_reason` / `preview_failure_reason` when it
/// is the generic one) with its message. `None` on a success. The field shapes are from the
/// SDK types and third-party code (`super::UNCONFIRMED`).
pub fn create_failure(v: &Value) -> Option<(String, VenueError)> {
    if v.get("success").and_then(Value::as_bool) != Some(false) {
        return None;
    }
    let e = v.get("error_response").unwrap_or(&Value::Null);
    let reason = [
        "error",
        "new_order_failure_reason",
        "preview_failure_reason",
    ]
    .iter()
    .filter_map(|k| opt_str(e, k))
    .find(|r| !r.starts_with("UNKNOWN"))
    .or_else(|| opt_str(e, "error"))
    .or_else(|| opt_str(v, "failure_reason"))
    .unwrap_or("UNKNOWN_FAILURE_REASON")
    .to_owned();
    let msg = opt_str(e, "message").unwrap_or("");
    let error = VenueError {
        code: 0,
        msg: format!("{reason}: {msg}"),
    };
    Some((reason, error))
}

/// The error of a non-2xx answer (`{"error":"NOT_FOUND","message":"…"}`), with its status.
pub fn http_error(status: u16, v: Option<&Value>) -> VenueError {
    let field = |k: &str| v.and_then(|v| opt_str(v, k)).unwrap_or("");
    VenueError {
        code: i32::from(status),
        msg: format!("HTTP {status} {}: {}", field("error"), field("message")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_orders() -> Vec<Value> {
        let p = format!(
            "{}/tests/fixtures/coinbase/samples/coinbase_user.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(p).unwrap();
        let v: Value = serde_json::from_str(&crate::venue::decode::strip_comments(&text)).unwrap();
        v["events"][0]["orders"].as_array().unwrap().clone()
    }

    #[test]
    fn the_documented_user_order() {
        let o = order_item(&user_orders()[0]).unwrap();
        assert_eq!(o.cid, Some(ClientOrderId::parse("XXX").unwrap()));
        assert_eq!(o.order_id.as_str(), "YYY");
        assert_eq!(o.side, Side::Buy);
        assert_eq!(o.state, SnapshotStatus::Filled);
        assert_eq!(o.cum_qty, Qty::parse("0.01").unwrap());
        assert_eq!(o.qty, Qty::parse("0.01").unwrap());
        assert_eq!(o.avg_price, Some(Price::parse("50000").unwrap()));
        assert_eq!(o.price, Some(Price::parse("50000").unwrap()));
        assert_eq!(o.fees, Some(Qty::from_int(2)));
        // 50000 × 0.01 = 500 quote.
        assert_eq!(
            o.quote_from_avg(),
            Notional::from_price(Price::from_int(500))
        );
    }

    #[test]
    fn a_rest_order_reads_its_configuration() {
        let v: Value = serde_json::from_str(
            r#"{"order_id":"0000-1","client_order_id":"c9","product_id":"BTC-USD",
                "side":"SELL","status":"OPEN","filled_size":"0.25",
                "average_filled_price":"30000.5","order_configuration":
                {"limit_limit_gtc":{"base_size":"1","limit_price":"30000.5","post_only":true}}}"#,
        )
        .unwrap();
        let o = order_item(&v).unwrap();
        assert_eq!(o.side, Side::Sell);
        assert_eq!(o.state, SnapshotStatus::Open);
        assert_eq!(o.qty, Qty::from_int(1));
        assert_eq!(o.cum_qty, Qty::parse("0.25").unwrap());
        assert_eq!(o.price, Some(Price::parse("30000.5").unwrap()));
        let s = o.snapshot("BTC-USD").unwrap();
        assert_eq!(s.orig_qty, Qty::from_int(1));
    }

    #[test]
    fn fills_accounts_and_reasons() {
        let fills: Value = serde_json::from_str(
            r#"[{"entry_id":"e1","trade_id":"t-77","order_id":"o1","product_id":"ETH-USD",
                "price":"2000","size":"0.5","commission":"1.2500000001","side":"BUY"}]"#,
        )
        .unwrap();
        let f = fill_fees(fills.as_array().unwrap()).unwrap();
        assert_eq!(f[0].0, TradeId::new(b"t-77").unwrap());
        assert_eq!(f[0].1, Qty::parse("1.25").unwrap());
        assert_eq!(f[0].2, AssetCode::new(b"USD").unwrap());
        let accts: Value = serde_json::from_str(
            r#"[{"uuid":"u","currency":"BTC","available_balance":{"value":"1.5","currency":"BTC"},
                "hold":{"value":"0.25","currency":"BTC"}}]"#,
        )
        .unwrap();
        let b = balances(accts.as_array().unwrap()).unwrap();
        assert_eq!(b[0].asset, AssetCode::new(b"BTC").unwrap());
        assert_eq!(
            (b[0].free, b[0].locked),
            (Qty::parse("1.5").unwrap(), Qty::parse("0.25").unwrap())
        );
        assert_eq!(classify("INSUFFICIENT_FUND"), FailureClass::Rejected);
        assert_eq!(classify("UNKNOWN_FAILURE_REASON"), FailureClass::Unknown);
        assert_eq!(classify("UNKNOWN_CANCEL_ORDER"), FailureClass::NotFound);
        assert_eq!(state_of("CANCEL_QUEUED").unwrap(), SnapshotStatus::Open);
        assert!(state_of("NOPE").is_err());
    }
}
