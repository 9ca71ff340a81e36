//! Delta's private WebSocket channels (reference/delta.md §3.3, §3.7, §5), decoded into plain
//! records with the venue's own meaning: `orders` (create / update / delete and snapshots,
//! cumulative by construction: filled = `size` − `unfilled_size`), `v2/user_trades` (one fill
//! each, with the position after it), `positions` (signed size in contracts) and `margins`
//! (one asset's wallet), and the `key-auth` / `auth` answer. Pure code, off the hot path
//! (serde_json); the gateway's order session (`session.rs`) reads its frames through them. Quantities are contracts, prices the
//! venue's decimal strings parsed to fixed point.

use serde_json::Value;

use crate::types::{OrderStatus, Price, Qty, Side};

/// Why a private frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivateError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("missing or mistyped field {0:?}")]
    Field(&'static str),
    #[error("field {0:?}: {1}")]
    Value(&'static str, String),
    #[error("a channel this decoder does not read: {0:?}")]
    Channel(String),
}

/// An `orders` item: the order as the venue states it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// `create`, `update`, `delete` or `snapshot` (an item of a snapshot's `result`).
    pub action: String,
    /// `fill`, `stop_update`, … (`None` for null or `""`).
    pub reason: Option<String>,
    pub symbol: String,
    pub product_id: u64,
    pub order_id: u64,
    /// `None` when the venue sends `""` or null (an order mako did not place).
    pub client_order_id: Option<String>,
    pub side: Side,
    /// Contracts ordered (the total after an edit) and still open.
    pub size: Qty,
    pub unfilled: Qty,
    pub limit_price: Option<Price>,
    pub average_fill_price: Option<Price>,
    /// The venue's `state` (`open`, `pending`, `closed`, `cancelled`).
    pub state: String,
    pub cancellation_reason: Option<String>,
    /// Per symbol, rising by one per frame including snapshots.
    pub seq_no: Option<u64>,
    pub timestamp_us: Option<u64>,
}

impl OrderUpdate {
    /// Contracts filled so far.
    pub fn filled(&self) -> Qty {
        self.size.saturating_sub(self.unfilled)
    }

    /// The engine's status: Delta has no partially-filled or rejected states, so an `open`
    /// order with fills is partially filled, and `closed` is filled.
    pub fn status(&self) -> Result<OrderStatus, PrivateError> {
        Ok(match self.state.as_str() {
            "open" | "pending" if self.filled().is_zero() => OrderStatus::Acked,
            "open" | "pending" => OrderStatus::PartiallyFilled,
            "closed" => OrderStatus::Filled,
            "cancelled" => OrderStatus::Cancelled,
            other => return Err(PrivateError::Value("state", other.to_owned())),
        })
    }
}

/// A `v2/user_trades` fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    pub symbol: String,
    pub fill_id: String,
    /// `normal`, `adl`, `liquidation`.
    pub reason: String,
    pub order_id: u64,
    pub client_order_id: Option<String>,
    pub side: Side,
    /// This fill's contracts.
    pub size: Qty,
    pub price: Price,
    /// Signed position in contracts after this fill.
    pub position_after: i64,
    pub maker: bool,
    pub timestamp_us: u64,
    /// Per symbol; resets to 1 after the venue restarts.
    pub seq: u64,
}

/// A `positions` item: signed size in contracts (> 0 long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub action: String,
    pub symbol: String,
    pub size: i64,
    pub entry_price: Option<Price>,
    pub margin: Option<String>,
    pub liquidation_price: Option<Price>,
    /// `realized_funding` at `10^-8`, signed as written (read by `funding.rs`), when present.
    pub realized_funding: Option<i64>,
    /// `mark_price`, when present (CCXT's samples carry it; the docs' list does not).
    pub mark_price: Option<Price>,
    /// The frame's `timestamp` (µs) on an update (a snapshot's items have none).
    pub timestamp_us: Option<u64>,
}

/// A `margins` frame: one asset's wallet (amounts kept as the venue wrote them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Margin {
    pub asset_symbol: String,
    pub balance: String,
    pub available_balance: String,
}

/// The answer to the WebSocket auth message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Ok,
    /// `status` and `message` as sent (`invalid_signature`, `request_expired`, …).
    Refused {
        status: String,
        message: String,
    },
}

/// One private frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Private {
    Orders(Vec<OrderUpdate>),
    Fill(Fill),
    Positions(Vec<Position>),
    Margin(Margin),
    Auth(Auth),
}

fn s<'v>(v: &'v Value, k: &'static str) -> Result<&'v str, PrivateError> {
    v.get(k)
        .and_then(Value::as_str)
        .ok_or(PrivateError::Field(k))
}

fn u(v: &Value, k: &'static str) -> Result<u64, PrivateError> {
    v.get(k)
        .and_then(Value::as_u64)
        .ok_or(PrivateError::Field(k))
}

fn opt_text(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// A size in contracts (an integer, or an integral string).
fn contracts(v: &Value, k: &'static str) -> Result<i64, PrivateError> {
    match v.get(k) {
        Some(Value::Number(n)) => n.as_i64().ok_or(PrivateError::Field(k)),
        Some(Value::String(t)) => t.parse().map_err(|_| PrivateError::Value(k, t.clone())),
        _ => Err(PrivateError::Field(k)),
    }
}

fn qty(v: &Value, k: &'static str) -> Result<Qty, PrivateError> {
    let n = contracts(v, k)?;
    if n < 0 {
        return Err(PrivateError::Value(k, n.to_string()));
    }
    Ok(Qty::from_int(n))
}

fn opt_price(v: &Value, k: &'static str) -> Result<Option<Price>, PrivateError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) if t.is_empty() => Ok(None),
        Some(Value::String(t)) => Price::parse(t)
            .map(Some)
            .map_err(|e| PrivateError::Value(k, e.to_string())),
        Some(_) => Err(PrivateError::Field(k)),
    }
}

fn side(v: &Value, k: &'static str) -> Result<Side, PrivateError> {
    match s(v, k)? {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        other => Err(PrivateError::Value(k, other.to_owned())),
    }
}

fn order(item: &Value, action: &str) -> Result<OrderUpdate, PrivateError> {
    Ok(OrderUpdate {
        action: action.to_owned(),
        reason: opt_text(item, "reason"),
        symbol: s(item, "symbol")
            .or_else(|_| s(item, "product_symbol"))?
            .to_owned(),
        product_id: u(item, "product_id")?,
        order_id: u(item, "order_id").or_else(|_| u(item, "id"))?,
        client_order_id: opt_text(item, "client_order_id"),
        side: side(item, "side")?,
        size: qty(item, "size")?,
        unfilled: qty(item, "unfilled_size")?,
        limit_price: opt_price(item, "limit_price")?,
        average_fill_price: opt_price(item, "average_fill_price")?,
        state: s(item, "state")?.to_owned(),
        cancellation_reason: opt_text(item, "cancellation_reason"),
        seq_no: item.get("seq_no").and_then(Value::as_u64),
        timestamp_us: item.get("timestamp").and_then(Value::as_u64),
    })
}

fn position(item: &Value, action: &str) -> Result<Position, PrivateError> {
    Ok(Position {
        action: action.to_owned(),
        symbol: s(item, "symbol")
            .or_else(|_| s(item, "product_symbol"))?
            .to_owned(),
        size: contracts(item, "size")?,
        entry_price: opt_price(item, "entry_price")?,
        margin: opt_text(item, "margin"),
        liquidation_price: opt_price(item, "liquidation_price")?,
        realized_funding: opt_signed(item, "realized_funding")?,
        mark_price: opt_price(item, "mark_price")?,
        timestamp_us: item.get("timestamp").and_then(Value::as_u64),
    })
}

/// A signed decimal string (or number) at `10^-8`, absent or null as `None`.
fn opt_signed(v: &Value, k: &'static str) -> Result<Option<i64>, PrivateError> {
    let t = match v.get(k) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(t)) if t.is_empty() => return Ok(None),
        Some(Value::String(t)) => t.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(PrivateError::Field(k)),
    };
    let (neg, abs) = match t.strip_prefix('-') {
        Some(a) => (true, a),
        None => (false, t.as_str()),
    };
    let units = Qty::parse(abs)
        .map_err(|e| PrivateError::Value(k, format!("{t:?}: {e}")))?
        .units();
    Ok(Some(if neg { -units } else { units }))
}

/// Items of a frame: a snapshot's `result`, or the frame itself.
fn items<T>(
    v: &Value,
    one: impl Fn(&Value, &str) -> Result<T, PrivateError>,
) -> Result<Vec<T>, PrivateError> {
    let action = s(v, "action")?;
    if action == "snapshot" {
        let list = v
            .get("result")
            .and_then(Value::as_array)
            .ok_or(PrivateError::Field("result"))?;
        list.iter().map(|i| one(i, action)).collect()
    } else {
        Ok(vec![one(v, action)?])
    }
}

/// One private frame.
pub fn decode(text: &str) -> Result<Private, PrivateError> {
    let v: Value = serde_json::from_str(text).map_err(|e| PrivateError::Json(e.to_string()))?;
    match s(&v, "type")? {
        "orders" => items(&v, order).map(Private::Orders),
        "positions" => items(&v, position).map(Private::Positions),
        "v2/user_trades" => Ok(Private::Fill(Fill {
            symbol: s(&v, "sy")?.to_owned(),
            fill_id: s(&v, "f")?.to_owned(),
            reason: s(&v, "R")?.to_owned(),
            order_id: u(&v, "o")?,
            client_order_id: opt_text(&v, "c"),
            side: side(&v, "S")?,
            size: qty(&v, "s")?,
            price: opt_price(&v, "p")?.ok_or(PrivateError::Field("p"))?,
            position_after: contracts(&v, "po")?,
            maker: match s(&v, "r")? {
                "maker" => true,
                "taker" => false,
                other => return Err(PrivateError::Value("r", other.to_owned())),
            },
            timestamp_us: u(&v, "t")?,
            seq: u(&v, "se")?,
        })),
        "margins" => Ok(Private::Margin(Margin {
            asset_symbol: s(&v, "asset_symbol")?.to_owned(),
            balance: s(&v, "balance")?.to_owned(),
            available_balance: s(&v, "available_balance")?.to_owned(),
        })),
        "key-auth" | "auth" => {
            let ok = v.get("success").and_then(Value::as_bool).unwrap_or(false);
            Ok(Private::Auth(if ok {
                Auth::Ok
            } else {
                Auth::Refused {
                    status: opt_text(&v, "status").unwrap_or_default(),
                    message: opt_text(&v, "message").unwrap_or_default(),
                }
            }))
        }
        other => Err(PrivateError::Channel(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::decode::strip_comments;

    fn px(t: &str) -> Price {
        Price::parse(t).unwrap()
    }

    /// The reference's `orders` sample (IN-DOCS), whose bracket/stop tail the reference
    /// trimmed: closed here after `timestamp`.
    #[test]
    fn the_orders_sample() {
        let sample = r#"{
    "type": "orders",
    "action": "create",                 // "create"/"update"/"delete"
    "reason": "",                       // "fill"/"stop_update"/"stop_trigger"/"stop_cancel"/"liquidation"/"self_trade"/null
    "symbol": "BTCUSD",           // Product Symbol
    "product_id": 27,                    // Product ID
    "order_id": 1234,                    // Order id
    "client_order_id": "",              // Client order id
    "size": 100,                        // Order size
    "unfilled_size": 55,                // Unfilled size
    "average_fill_price": "8999.00",     // nil for unfilled orders
    "limit_price": "9000.00",                  // Price of the order
    "side": "buy",                       // Order side (buy or sell)
    "cancellation_reason": "cancelled_by_user",        // Cancellation reason in case of cancelled order, null otherwise
    "stop_order_type": "stop_loss_order",             // If a Stop Order -> "stop_loss_order"/"take_profit_order", null otherwise
    "bracket_order": false,              // true for a bracket_order, false otherwise
    "state": "open",                     // "open"/"pending"/"closed"/"cancelled"
    "seq_no": 1,                         // Incremental sequence number
    "timestamp": 1594105083998848,       // Unix timestamp in microseconds
}"#;
        let Ok(Private::Orders(o)) = decode(&strip_comments(sample)) else {
            panic!("not an order")
        };
        assert_eq!(
            o,
            vec![OrderUpdate {
                action: "create".into(),
                reason: None,
                symbol: "BTCUSD".into(),
                product_id: 27,
                order_id: 1234,
                client_order_id: None,
                side: Side::Buy,
                size: Qty::from_int(100),
                unfilled: Qty::from_int(55),
                limit_price: Some(px("9000")),
                average_fill_price: Some(px("8999")),
                state: "open".into(),
                cancellation_reason: Some("cancelled_by_user".into()),
                seq_no: Some(1),
                timestamp_us: Some(1_594_105_083_998_848),
            }]
        );
        assert_eq!(o[0].filled(), Qty::from_int(45));
        assert_eq!(o[0].status(), Ok(OrderStatus::PartiallyFilled));
    }

    #[test]
    fn states_map_to_the_engines() {
        let base = r#"{"type":"orders","action":"update","reason":"fill","symbol":"BTCUSD","product_id":27,"order_id":9,"client_order_id":"m-1","size":10,"unfilled_size":UNF,"average_fill_price":null,"limit_price":"60000.5","side":"sell","state":"STATE","seq_no":4,"timestamp":1}"#;
        for (unf, state, want) in [
            ("10", "open", Ok(OrderStatus::Acked)),
            ("10", "pending", Ok(OrderStatus::Acked)),
            ("3", "open", Ok(OrderStatus::PartiallyFilled)),
            ("0", "closed", Ok(OrderStatus::Filled)),
            ("4", "cancelled", Ok(OrderStatus::Cancelled)),
            (
                "4",
                "rejected",
                Err(PrivateError::Value("state", "rejected".into())),
            ),
        ] {
            let t = base.replace("UNF", unf).replace("STATE", state);
            let Ok(Private::Orders(o)) = decode(&t) else {
                panic!("{t}")
            };
            assert_eq!(o[0].status(), want, "{state}");
            assert_eq!(o[0].client_order_id.as_deref(), Some("m-1"));
            assert_eq!(o[0].average_fill_price, None);
        }
    }

    /// The reference's `v2/user_trades` sample (IN-DOCS).
    #[test]
    fn the_user_trades_sample() {
        let sample = r#"{
    "type": "v2/user_trades",
    "sy": "BTCUSD",              // symbol
    "f": "1234-abcd-qwer-3456",  // fill_id
    "R": "normal",               // reason: "normal", "adl", "liquidation"
    "u": 1998,                   // user_id
    "o": 3283999,                // order_id
    "S": "buy",                  // side: "buy" or "sell"
    "s": 190,                    // size in contracts
    "p": "17289.2",              // price
    "po": 5,                     // position (in contracts) after this fill.
    "r": "taker",                // role: "taker" or "maker"
    "c": "GA123",                // client_order_id
    "t": 1685794274866438,       // timestamp of fill creation
    "se": 4                      // incremental sequence_no
}"#;
        assert_eq!(
            decode(&strip_comments(sample)),
            Ok(Private::Fill(Fill {
                symbol: "BTCUSD".into(),
                fill_id: "1234-abcd-qwer-3456".into(),
                reason: "normal".into(),
                order_id: 3_283_999,
                client_order_id: Some("GA123".into()),
                side: Side::Buy,
                size: Qty::from_int(190),
                price: px("17289.2"),
                position_after: 5,
                maker: false,
                timestamp_us: 1_685_794_274_866_438,
                seq: 4,
            }))
        );
    }

    /// `positions` and `margins` have no verbatim sample in the reference: these are written
    /// from its field lists (§3.7, §4.8; the wallet figures are CCXT-FIX's real response).
    #[test]
    fn positions_and_margins_in_the_documented_shape() {
        let snap = r#"{"type":"positions","action":"snapshot","result":[{"symbol":"BTCUSD","product_id":27,"size":-12,"entry_price":"60000.5","margin":"144.01","liquidation_price":"71400","bankruptcy_price":"72000","adl_level":1,"realized_pnl":"0","realized_funding":"0","commission":"0.36"}]}"#;
        assert_eq!(
            decode(snap),
            Ok(Private::Positions(vec![Position {
                action: "snapshot".into(),
                symbol: "BTCUSD".into(),
                size: -12,
                entry_price: Some(px("60000.5")),
                margin: Some("144.01".into()),
                liquidation_price: Some(px("71400")),
                realized_funding: Some(0),
                mark_price: None,
                timestamp_us: None,
            }]))
        );
        let m = r#"{"type":"margins","action":"update","asset_symbol":"USDT","balance":"19.29152659","available_balance":"16.27058905","position_margin":"3.01527414","timestamp":1}"#;
        assert_eq!(
            decode(m),
            Ok(Private::Margin(Margin {
                asset_symbol: "USDT".into(),
                balance: "19.29152659".into(),
                available_balance: "16.27058905".into(),
            }))
        );
    }

    /// The India docs' key-auth answers (verbatim; two carry a stray `}` in the docs, left out).
    #[test]
    fn auth_answers() {
        assert_eq!(
            decode(
                r#"{"type":"key-auth", "success":true, "status_code":200, "status":"authenticated"}"#
            ),
            Ok(Private::Auth(Auth::Ok))
        );
        assert_eq!(
            decode(
                r#"{"type":"key-auth", "success":false, "status_code":401, "status":"invalid_signature", "message":"Invalid Signature"}"#
            ),
            Ok(Private::Auth(Auth::Refused {
                status: "invalid_signature".into(),
                message: "Invalid Signature".into()
            }))
        );
        assert!(matches!(decode("{"), Err(PrivateError::Json(_))));
        assert_eq!(
            decode(r#"{"type":"mmp_trigger"}"#),
            Err(PrivateError::Channel("mmp_trigger".into()))
        );
        assert_eq!(
            decode(
                r#"{"type":"orders","action":"update","symbol":"BTCUSD","product_id":27,"order_id":1,"side":"buy","size":-1,"unfilled_size":0,"state":"open"}"#
            ),
            Err(PrivateError::Value("size", "-1".into()))
        );
    }
}
