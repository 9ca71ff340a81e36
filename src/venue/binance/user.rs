//! Binance Spot private messages: user data stream events (`executionReport`,
//! `outboundAccountPosition`), WebSocket API responses, and REST order/account responses,
//! decoded into the gateway's `OrderEvent`s and balances. Off the market-data hot path.
//! The WebSocket API session reads `executionReport` and its order answers on the typed fast
//! path first (`typed`, no `serde_json::Value`); this module reads whatever that leaves.

use serde_json::Value;

use crate::types::order::{AssetCode, OrderEvent, SnapshotStatus, VenueFinal};
use crate::types::{ClientOrderId, Notional, Price, Qty, TradeId, UnixNanos, VenueOrderId};
pub use crate::venue::order::{Balance, OrderSnapshot, VenueError};

/// Why a private message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("missing or malformed field {0}")]
    Field(&'static str),
    #[error("unknown value {1:?} of {0}")]
    Unknown(&'static str, String),
}

/// An order event for the order with client id `cid`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub cid: ClientOrderId,
    pub event: OrderEvent,
}

/// A message on a WebSocket API connection.
#[derive(Debug, Clone, PartialEq)]
pub enum WsApiMessage {
    /// The answer to request `id`: `Ok(result)` or the venue's error.
    Response {
        id: String,
        status: u16,
        result: Result<Value, VenueError>,
    },
    /// An execution report.
    Order(OrderUpdate),
    /// The balances of the assets a change touched (`outboundAccountPosition`).
    Balances(Vec<Balance>),
    /// An event of a type the gateway does not act on ([`ignored_event`]).
    Ignored(&'static str),
    /// Another user-stream event (e.g. `eventStreamTerminated`), by type.
    OtherEvent(String),
}

fn field<'v>(v: &'v Value, k: &'static str) -> Result<&'v Value, DecodeError> {
    v.get(k).ok_or(DecodeError::Field(k))
}
fn str_of<'v>(v: &'v Value, k: &'static str) -> Result<&'v str, DecodeError> {
    field(v, k)?.as_str().ok_or(DecodeError::Field(k))
}
fn u64_of(v: &Value, k: &'static str) -> Result<u64, DecodeError> {
    field(v, k)?.as_u64().ok_or(DecodeError::Field(k))
}
fn order_id_of(v: &Value, k: &'static str) -> Result<VenueOrderId, DecodeError> {
    Ok(VenueOrderId::from_u64(u64_of(v, k)?))
}
fn trade_id_of(v: &Value, k: &'static str) -> Result<TradeId, DecodeError> {
    Ok(TradeId::from_u64(u64_of(v, k)?))
}
fn i64_of(v: &Value, k: &'static str) -> Result<i64, DecodeError> {
    field(v, k)?.as_i64().ok_or(DecodeError::Field(k))
}
fn qty_of(v: &Value, k: &'static str) -> Result<Qty, DecodeError> {
    Qty::parse(str_of(v, k)?).map_err(|_| DecodeError::Field(k))
}
fn price_of(v: &Value, k: &'static str) -> Result<Price, DecodeError> {
    Price::parse(str_of(v, k)?).map_err(|_| DecodeError::Field(k))
}
fn notional_of(v: &Value, k: &'static str) -> Result<Notional, DecodeError> {
    Ok(Notional::from_price(price_of(v, k)?))
}
fn cid_of(v: &Value, k: &'static str) -> Result<ClientOrderId, DecodeError> {
    ClientOrderId::parse(str_of(v, k)?).map_err(|_| DecodeError::Field(k))
}
fn ms(v: &Value, k: &'static str) -> Result<UnixNanos, DecodeError> {
    Ok(UnixNanos::from_millis(u64_of(v, k)?))
}

/// Maps a Binance order status to what a query tells the state machine.
pub fn snapshot_status(s: &str) -> Result<SnapshotStatus, DecodeError> {
    Ok(match s {
        "NEW" | "PARTIALLY_FILLED" | "PENDING_NEW" => SnapshotStatus::Open,
        "FILLED" => SnapshotStatus::Filled,
        "CANCELED" | "PENDING_CANCEL" => SnapshotStatus::Cancelled,
        "REJECTED" => SnapshotStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => SnapshotStatus::Expired,
        other => return Err(DecodeError::Unknown("status", other.to_owned())),
    })
}

/// Decodes an `executionReport` event object.
pub fn execution_report(e: &Value) -> Result<OrderUpdate, DecodeError> {
    let exec = str_of(e, "x")?;
    let at = ms(e, "E")?;
    let venue_order_id = order_id_of(e, "i")?;
    let cum_qty = qty_of(e, "z")?;
    let cum_quote = notional_of(e, "Z")?;
    // On a cancel, `c` is the cancel request's own id and `C` the order's.
    let cid = match e.get("C").and_then(Value::as_str) {
        Some(orig) if exec == "CANCELED" && !orig.is_empty() => {
            ClientOrderId::parse(orig).map_err(|_| DecodeError::Field("C"))?
        }
        _ => cid_of(e, "c")?,
    };
    let event = match exec {
        "NEW" => OrderEvent::Accepted { venue_order_id, at },
        "TRADE" => {
            let fee_asset = match e.get("N").and_then(Value::as_str) {
                Some(a) => AssetCode::new(a.as_bytes()).ok_or(DecodeError::Field("N"))?,
                None => AssetCode::default(),
            };
            OrderEvent::Trade {
                venue_order_id,
                trade_id: trade_id_of(e, "t")?,
                last_qty: qty_of(e, "l")?,
                last_price: price_of(e, "L")?,
                cum_qty,
                cum_quote,
                fee: qty_of(e, "n")?,
                fee_asset,
                is_maker: field(e, "m")?.as_bool().ok_or(DecodeError::Field("m"))?,
                at,
            }
        }
        "CANCELED" => OrderEvent::Ended {
            kind: VenueFinal::Cancelled,
            venue_order_id: Some(venue_order_id),
            cum_qty,
            cum_quote,
            at,
        },
        "EXPIRED" | "TRADE_PREVENTION" => OrderEvent::Ended {
            kind: VenueFinal::Expired,
            venue_order_id: Some(venue_order_id),
            cum_qty,
            cum_quote,
            at,
        },
        "REJECTED" => OrderEvent::Ended {
            kind: VenueFinal::Rejected,
            venue_order_id: Some(venue_order_id),
            cum_qty,
            cum_quote,
            at,
        },
        "REPLACED" => OrderEvent::Accepted { venue_order_id, at },
        other => return Err(DecodeError::Unknown("x", other.to_owned())),
    };
    Ok(OrderUpdate { cid, event })
}

fn balances(
    list: &Value,
    asset: &'static str,
    free: &'static str,
    locked: &'static str,
) -> Result<Vec<Balance>, DecodeError> {
    let arr = list.as_array().ok_or(DecodeError::Field("balances"))?;
    arr.iter()
        .map(|b| {
            Ok(Balance {
                asset: AssetCode::new(str_of(b, asset)?.as_bytes())
                    .ok_or(DecodeError::Field(asset))?,
                free: qty_of(b, free)?,
                locked: qty_of(b, locked)?,
            })
        })
        .collect()
}

/// The user-stream event types the gateway reads and does not act on, by name:
/// `balanceUpdate` (a deposit's, withdrawal's or transfer's delta; the
/// `outboundAccountPosition` that follows states the balance in full) and `listStatus` (of
/// order lists, which mako never places). `None` for any other type.
pub fn ignored_event(kind: &str) -> Option<&'static str> {
    match kind {
        "balanceUpdate" => Some("balanceUpdate"),
        "listStatus" => Some("listStatus"),
        _ => None,
    }
}

fn user_event(e: &Value) -> Result<WsApiMessage, DecodeError> {
    match str_of(e, "e")? {
        "executionReport" => Ok(WsApiMessage::Order(execution_report(e)?)),
        "outboundAccountPosition" => Ok(WsApiMessage::Balances(balances(
            field(e, "B")?,
            "a",
            "f",
            "l",
        )?)),
        other => Ok(match ignored_event(other) {
            Some(kind) => WsApiMessage::Ignored(kind),
            None => WsApiMessage::OtherEvent(other.to_owned()),
        }),
    }
}

/// Decodes one text frame from a WebSocket API connection.
pub fn ws_api_message(bytes: &[u8]) -> Result<WsApiMessage, DecodeError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    if let Some(ev) = v.get("event") {
        return user_event(ev);
    }
    if v.get("e").is_some() {
        return user_event(&v);
    }
    let id = match field(&v, "id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        _ => return Err(DecodeError::Field("id")),
    };
    let status = u16::try_from(u64_of(&v, "status")?).map_err(|_| DecodeError::Field("status"))?;
    let result = match v.get("error") {
        Some(err) => Err(venue_error_of(err)?),
        None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
    };
    Ok(WsApiMessage::Response { id, status, result })
}

fn venue_error_of(err: &Value) -> Result<VenueError, DecodeError> {
    Ok(VenueError {
        code: i32::try_from(i64_of(err, "code")?).map_err(|_| DecodeError::Field("code"))?,
        msg: str_of(err, "msg").unwrap_or("").to_owned(),
    })
}

/// A REST error body.
pub fn venue_error(bytes: &[u8]) -> Result<VenueError, DecodeError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    venue_error_of(&v)
}

/// Decodes an order object from a query, open-orders list, cancel or RESULT response.
/// A cancel response names the order in `origClientOrderId`.
pub fn order_snapshot(v: &Value) -> Result<OrderSnapshot, DecodeError> {
    let cid = match v.get("origClientOrderId").and_then(Value::as_str) {
        Some(orig) if !orig.is_empty() => {
            ClientOrderId::parse(orig).map_err(|_| DecodeError::Field("origClientOrderId"))?
        }
        _ => cid_of(v, "clientOrderId")?,
    };
    let side = match str_of(v, "side")? {
        "BUY" => crate::types::Side::Buy,
        "SELL" => crate::types::Side::Sell,
        other => return Err(DecodeError::Unknown("side", other.to_owned())),
    };
    Ok(OrderSnapshot {
        cid,
        symbol: str_of(v, "symbol")?.to_owned(),
        venue_order_id: order_id_of(v, "orderId")?,
        status: snapshot_status(str_of(v, "status")?)?,
        cum_qty: qty_of(v, "executedQty")?,
        cum_quote: notional_of(v, "cummulativeQuoteQty")?,
        price: price_of(v, "price")?,
        orig_qty: qty_of(v, "origQty")?,
        side,
    })
}

/// Decodes a REST body holding one order object.
pub fn order_snapshot_bytes(bytes: &[u8]) -> Result<OrderSnapshot, DecodeError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    order_snapshot(&v)
}

/// Decodes a list of order objects (`GET /api/v3/openOrders`, `openOrders.status`).
pub fn order_snapshots(v: &Value) -> Result<Vec<OrderSnapshot>, DecodeError> {
    v.as_array()
        .ok_or(DecodeError::Field("orders"))?
        .iter()
        .map(order_snapshot)
        .collect()
}

/// The acknowledgement of a new order (ACK response): the venue's order id and time.
pub fn new_order_ack(v: &Value) -> Result<(ClientOrderId, VenueOrderId, UnixNanos), DecodeError> {
    Ok((
        cid_of(v, "clientOrderId")?,
        order_id_of(v, "orderId")?,
        ms(v, "transactTime")?,
    ))
}

/// `(trade id, commission, commission asset)` of each trade in a `myTrades` answer.
pub fn trade_fees(v: &Value) -> Result<Vec<(TradeId, Qty, AssetCode)>, DecodeError> {
    v.as_array()
        .ok_or(DecodeError::Field("trades"))?
        .iter()
        .map(|t| {
            let asset = str_of(t, "commissionAsset")?;
            Ok((
                trade_id_of(t, "id")?,
                qty_of(t, "commission")?,
                AssetCode::new(asset.as_bytes()).ok_or(DecodeError::Field("commissionAsset"))?,
            ))
        })
        .collect()
}

/// Balances from `GET /api/v3/account` or `account.status`.
pub fn account_balances(v: &Value) -> Result<Vec<Balance>, DecodeError> {
    balances(field(v, "balances")?, "asset", "free", "locked")
}

/// Parses a documentation sample that carries `//` comments (the docs' own annotations).
#[cfg(test)]
pub(crate) fn strip_doc_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split(" //").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let p = format!(
            "{}/tests/fixtures/binance-samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        strip_doc_comments(&std::fs::read_to_string(p).unwrap())
    }

    #[test]
    fn documented_execution_report() {
        let m = ws_api_message(sample("binance_execution_report.json").as_bytes()).unwrap();
        let WsApiMessage::Order(u) = m else {
            panic!("{m:?}")
        };
        assert_eq!(u.cid.as_str(), "mUvoqJxFIILMdfAW5iGSOW");
        assert_eq!(
            u.event,
            OrderEvent::Accepted {
                venue_order_id: 4293153.into(),
                at: UnixNanos::from_millis(1499405658658)
            }
        );
    }

    #[test]
    fn trade_and_cancel_reports() {
        let trade = br#"{"subscriptionId":0,"event":{"e":"executionReport","E":2,"s":"BTCUSDT","c":"mk1","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"100.00","x":"TRADE","X":"PARTIALLY_FILLED","i":9,"l":"0.40000000","z":"0.40000000","L":"100.00","n":"0.04","N":"USDT","T":2,"t":77,"m":true,"Z":"40.00000000"}}"#;
        let WsApiMessage::Order(u) = ws_api_message(trade).unwrap() else {
            panic!()
        };
        match u.event {
            OrderEvent::Trade {
                trade_id,
                cum_qty,
                cum_quote,
                fee,
                is_maker,
                ..
            } => {
                assert_eq!(
                    (trade_id, cum_qty, is_maker),
                    (77.into(), Qty::parse("0.4").unwrap(), true)
                );
                assert_eq!(cum_quote, Notional::from_price(Price::from_int(40)));
                assert_eq!(fee, Qty::parse("0.04").unwrap());
            }
            e => panic!("{e:?}"),
        }
        let cancel = br#"{"e":"executionReport","E":3,"c":"cancelReq","C":"mk1","x":"CANCELED","X":"CANCELED","i":9,"z":"0.40000000","Z":"40.00000000"}"#;
        let WsApiMessage::Order(u) = ws_api_message(cancel).unwrap() else {
            panic!()
        };
        assert_eq!(
            u.cid.as_str(),
            "mk1",
            "a cancel report names the order in C"
        );
        assert!(matches!(
            u.event,
            OrderEvent::Ended {
                kind: VenueFinal::Cancelled,
                ..
            }
        ));
    }

    #[test]
    fn documented_responses() {
        let m = ws_api_message(sample("binance_wsapi_error_response.json").as_bytes()).unwrap();
        let WsApiMessage::Response {
            status,
            result: Err(e),
            ..
        } = m
        else {
            panic!("{m:?}")
        };
        assert_eq!((status, e.code), (400, -2010));
        let m =
            ws_api_message(sample("binance_wsapi_order_place_response.json").as_bytes()).unwrap();
        let WsApiMessage::Response { result: Ok(r), .. } = m else {
            panic!()
        };
        let s = order_snapshot(&r).unwrap();
        assert_eq!(
            (s.venue_order_id, s.status),
            (12510053279.into(), SnapshotStatus::Open)
        );
        let q =
            order_snapshot_bytes(sample("binance_query_order_response.json").as_bytes()).unwrap();
        assert_eq!(
            (q.cid.as_str(), q.price),
            ("myOrder1", Price::parse("0.1").unwrap())
        );
        let c =
            order_snapshot_bytes(sample("binance_cancel_order_response.json").as_bytes()).unwrap();
        assert_eq!(
            (c.cid.as_str(), c.status),
            ("myOrder1", SnapshotStatus::Cancelled)
        );
        let v: Value = serde_json::from_str(&sample("binance_open_orders_response.json")).unwrap();
        assert_eq!(order_snapshots(&v).unwrap().len(), 1);
        let v: Value = serde_json::from_str(&sample("binance_account_response.json")).unwrap();
        let b = account_balances(&v).unwrap();
        assert_eq!(
            (b[0].asset.as_str(), b[0].free),
            ("BTC", Qty::parse("4723846.89208129").unwrap())
        );
        let m =
            ws_api_message(sample("binance_outbound_account_position.json").as_bytes()).unwrap();
        assert!(matches!(m, WsApiMessage::Balances(ref b) if b[0].asset.as_str() == "ETH"));
        let v: Value =
            serde_json::from_str(&sample("binance_new_order_response_ack.json")).unwrap();
        assert_eq!(new_order_ack(&v).unwrap().1, 28.into());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"e\":\"executionReport\"}",
            b"{\"id\":1}",
            b"\xff\xfe",
        ] {
            assert!(ws_api_message(bad).is_err(), "{bad:?}");
        }
        assert!(venue_error(b"{\"code\":\"x\"}").is_err());
    }
}
