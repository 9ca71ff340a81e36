//! The simulator's Delta edit and batch endpoints (reference/delta.md §4.3), written from the
//! docs, not from the engine's codec: `PUT /v2/orders` `{id, product_id|product_symbol,
//! limit_price, size}` (`size` the total after the edit; the order keeps its id, and the
//! `orders` channel pushes it as an `update`), `POST /v2/orders/batch` `{product_id|
//! product_symbol, orders:[…]}` (limit orders only, at most 50, one product) and `DELETE
//! /v2/orders/batch` `{…, orders:[{id|client_order_id}]}`.
//!
//! **Simulator readings** (the docs do not say): a batch answers `result` as one item per
//! order in the order sent, each the Order object or `{"client_order_id", "error":{"code"}}`
//! for an order refused; `time_in_force:"ioc"` in a batch item is refused (`bad_schema`) for
//! the whole batch ("ioc is not valid"), as are more than 50 items or a market item. An edit
//! of an order that is not open answers `open_order_not_found`; a size not above the filled
//! size `bad_schema`. Edits of perpetual orders re-hold the margin for the new leaves.

use serde_json::{Value, json};

use super::Shared;
use super::delta_private::{Refusal, bad_schema, create, fail, ok, order_json, product};
use crate::types::{Price, Qty};

/// The documented batch cap.
const BATCH_MAX: usize = 50;

/// `PUT /v2/orders`.
pub(super) fn edit(shared: &Shared, account: usize, body: &Value) -> Refusal {
    let sym = match product(shared, body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(id) = body.get("id").and_then(Value::as_u64) else {
        return bad_schema("id is required");
    };
    let price = match body
        .get("limit_price")
        .and_then(Value::as_str)
        .map(Price::parse)
    {
        Some(Ok(p)) if p.is_positive() => p,
        _ => return bad_schema("limit_price must be a positive decimal string"),
    };
    let Some(size) = body.get("size").and_then(Value::as_i64).filter(|n| *n >= 1) else {
        return bad_schema("size must be an integer of at least 1 contract");
    };
    let mut ex = shared.ex.lock();
    if ex
        .orders
        .get(&id)
        .is_none_or(|o| o.account != account || o.symbol != sym)
    {
        return (400, fail("open_order_not_found", json!({})));
    }
    let res = ex.amend(account, sym, Some(id), None, price, Qty::from_int(size));
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(id) => match ex.orders.get(&id) {
            Some(o) => (
                200,
                ok(order_json(
                    &ex,
                    o,
                    o.status,
                    o.executed.units(),
                    o.cum_quote,
                )),
            ),
            None => (500, fail("unavailable", json!({}))),
        },
        Err(e) if e.code == -2011 => (400, fail("open_order_not_found", json!({}))),
        Err(e) if e.code == -1013 => bad_schema(&e.msg),
        Err(e) => super::delta_private::refusal(&e),
    }
}

/// The batch's items, each with the batch's product named on it.
fn items(shared: &Shared, body: &Value) -> Result<Vec<Value>, Refusal> {
    product(shared, body)?;
    let list = body
        .get("orders")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_schema("orders must be a list"))?;
    if list.is_empty() || list.len() > BATCH_MAX {
        return Err(bad_schema("a batch holds 1 to 50 orders"));
    }
    list.iter()
        .map(|item| {
            let mut m = item
                .as_object()
                .cloned()
                .ok_or_else(|| bad_schema("each order must be an object"))?;
            for k in ["product_id", "product_symbol"] {
                if let Some(v) = body.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
            Ok(Value::Object(m))
        })
        .collect()
}

fn item_error(item: &Value, r: &Refusal) -> Value {
    let mut e =
        json!({"error": r.1.get("error").cloned().unwrap_or(json!({"code": "unavailable"}))});
    if let Some(c) = item.get("client_order_id") {
        e["client_order_id"] = c.clone();
    }
    e
}

/// `POST /v2/orders/batch`: the answer, and whether any order was placed.
pub(super) fn batch_create(shared: &Shared, account: usize, body: &Value) -> (Refusal, bool) {
    let items = match items(shared, body) {
        Ok(i) => i,
        Err(r) => return (r, false),
    };
    for item in &items {
        match item.get("order_type").and_then(Value::as_str) {
            None | Some("limit_order") => {}
            Some(_) => return (bad_schema("batch create takes limit orders only"), false),
        }
        if item.get("time_in_force").and_then(Value::as_str) == Some("ioc") {
            return (bad_schema("ioc is not valid in batch create"), false);
        }
    }
    let mut placed = false;
    let result: Vec<Value> = items
        .into_iter()
        .map(|mut item| {
            item["order_type"] = json!("limit_order");
            item["time_in_force"] = json!("gtc");
            let ((status, answer), made) = create(shared, account, &item);
            placed |= made;
            if status == 200 {
                answer.get("result").cloned().unwrap_or(Value::Null)
            } else {
                item_error(&item, &(status, answer))
            }
        })
        .collect();
    ((200, ok(json!(result))), placed)
}

/// `DELETE /v2/orders/batch`.
pub(super) fn batch_cancel(shared: &Shared, account: usize, body: &Value) -> Refusal {
    let items = match items(shared, body) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let result: Vec<Value> = items
        .iter()
        .map(|item| {
            let (status, answer) = super::delta_private::cancel(shared, account, item);
            if status == 200 {
                answer.get("result").cloned().unwrap_or(Value::Null)
            } else {
                item_error(item, &(status, answer))
            }
        })
        .collect();
    (200, ok(json!(result)))
}
