//! Answers to Binance's two order-changing requests beyond place and cancel, in the gateway's
//! terms: cancel-replace (`order.cancelReplace`, `POST /api/v3/order/cancelReplace`) and the
//! keep-priority amend (`order.amend.keepPriority`, `PUT /api/v3/order/amend/keepPriority`).
//!
//! A cancel-replace answers for two orders. Its `result` (HTTP 200) or its error's `data`
//! (`-2021` partially failed, HTTP 409; `-2022` failed, HTTP 400) carries `cancelResult` and
//! `newOrderResult` (`SUCCESS`, `FAILURE`, `NOT_ATTEMPTED`) with `cancelResponse` /
//! `newOrderResponse`: an order object on success, `{code, msg}` on failure, `null` when not
//! attempted. mako sends `STOP_ON_FAILURE`, so the forms it meets are: both succeed (old
//! cancelled, new accepted), cancel failed + new not attempted (old's cancel refused, new
//! rejected), cancel succeeded + new failed (old cancelled, new rejected). An error without
//! `data` (bad parameters, rate limit, 5xx) concerns both orders alike.

use serde_json::Value;

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, Price, Qty, UnixNanos};

use super::user::{self, DecodeError, VenueError};
use crate::venue::order::SessionEvent;

/// `{code, msg}` of a failed half.
fn half_error(v: &Value) -> Option<VenueError> {
    Some(VenueError {
        code: i32::try_from(v.get("code")?.as_i64()?).ok()?,
        msg: v
            .get("msg")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    })
}

/// The events of a cancel-replace's `result` or error `data` object; `outer` is the error
/// (code and message) the answer carried, if any, used for a new order not attempted.
pub fn cancel_replace_events(
    old: ClientOrderId,
    new: ClientOrderId,
    v: &Value,
    outer: Option<&VenueError>,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) -> Result<(), DecodeError> {
    let cancel_result = v
        .get("cancelResult")
        .and_then(Value::as_str)
        .ok_or(DecodeError::Field("cancelResult"))?;
    let new_result = v
        .get("newOrderResult")
        .and_then(Value::as_str)
        .ok_or(DecodeError::Field("newOrderResult"))?;
    let cancel_response = v.get("cancelResponse").unwrap_or(&Value::Null);
    let new_response = v.get("newOrderResponse").unwrap_or(&Value::Null);
    let first = out.len();
    match cancel_result {
        "SUCCESS" => {
            let s = user::order_snapshot(cancel_response)?;
            out.push(SessionEvent::Order {
                cid: old,
                event: s.event(at),
            });
        }
        "FAILURE" => out.push(SessionEvent::CancelRejected {
            cid: old,
            error: half_error(cancel_response).ok_or(DecodeError::Field("cancelResponse"))?,
        }),
        other => {
            out.truncate(first);
            return Err(DecodeError::Unknown("cancelResult", other.to_owned()));
        }
    }
    let new_event = match new_result {
        "SUCCESS" => match user::new_order_ack(new_response) {
            Ok((_, venue_order_id, t)) => SessionEvent::Order {
                cid: new,
                event: OrderEvent::Accepted {
                    venue_order_id,
                    at: t,
                },
            },
            Err(e) => {
                out.truncate(first);
                return Err(e);
            }
        },
        "FAILURE" => match half_error(new_response) {
            Some(error) => SessionEvent::PlaceRejected { cid: new, error },
            None => {
                out.truncate(first);
                return Err(DecodeError::Field("newOrderResponse"));
            }
        },
        "NOT_ATTEMPTED" => not_attempted(new, outer.map(|e| e.code)),
        other => {
            out.truncate(first);
            return Err(DecodeError::Unknown("newOrderResult", other.to_owned()));
        }
    };
    out.push(new_event);
    Ok(())
}

/// The new order of a cancel-replace whose cancel failed (`STOP_ON_FAILURE`: not
/// attempted), refused with the answer's error code `outer` (`-2022` when it had none).
pub fn not_attempted(new: ClientOrderId, outer: Option<i32>) -> SessionEvent {
    SessionEvent::PlaceRejected {
        cid: new,
        error: VenueError {
            code: outer.unwrap_or(-2022),
            msg: "new order not attempted: the cancel failed".into(),
        },
    }
}

/// A cancel-replace refused as a whole (an error without `data`): `uncertain` when the venue
/// may have acted (5xx, timeout, -1007), so both orders are queried; else neither happened.
pub fn cancel_replace_refused(
    old: ClientOrderId,
    new: ClientOrderId,
    error: VenueError,
    uncertain: bool,
    out: &mut Vec<SessionEvent>,
) {
    if uncertain {
        out.push(SessionEvent::Uncertain { cid: old });
        out.push(SessionEvent::Uncertain { cid: new });
    } else {
        out.push(SessionEvent::CancelRejected {
            cid: old,
            error: error.clone(),
        });
        out.push(SessionEvent::PlaceRejected { cid: new, error });
    }
}

/// A keep-priority amend's answer: `amendedOrder`'s price and quantity (`qty`, the order's
/// new total) at `transactTime`.
pub fn amend_event(v: &Value) -> Result<OrderEvent, DecodeError> {
    let o = v
        .get("amendedOrder")
        .ok_or(DecodeError::Field("amendedOrder"))?;
    let text = |k: &'static str| {
        o.get(k)
            .and_then(Value::as_str)
            .ok_or(DecodeError::Field(k))
    };
    let price = Price::parse(text("price")?).map_err(|_| DecodeError::Field("price"))?;
    let qty = Qty::parse(text("qty")?).map_err(|_| DecodeError::Field("qty"))?;
    let at = v
        .get("transactTime")
        .and_then(Value::as_u64)
        .ok_or(DecodeError::Field("transactTime"))?;
    Ok(OrderEvent::Amended {
        price,
        qty,
        at: UnixNanos::from_millis(at),
    })
}

/// The error `data` of a WebSocket API answer (the cancel-replace's two halves), if any.
pub fn ws_error_data(frame: &[u8]) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(frame).ok()?;
    v.get_mut("error")?.get_mut("data").map(Value::take)
}

/// The `data` of a REST error body, if any.
pub fn rest_error_data(body: &[u8]) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    v.get_mut("data").map(Value::take)
}

#[cfg(test)]
#[path = "replace_tests.rs"]
mod tests;
