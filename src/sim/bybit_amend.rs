//! The simulator's Bybit amend, written from Bybit's "Amend Order" page, not from the
//! engine's codec: `POST /v5/order/amend` and the trade WebSocket's `order.amend` take the
//! same object (`category`, `symbol`, `orderId` or `orderLinkId`, and the new `qty` and/or
//! `price`; a field left out keeps the order's) and answer `{"orderId","orderLinkId"}`.
//! The order is amended in place by the one matching core (`Exchange::amend`, spot and
//! linear perpetual orders alike, a perpetual's margin checked again), so it keeps its ids,
//! and its `order` push follows on `/v5/private`. Refusals: 170121 unknown symbol, 10001 a
//! category that does not match the symbol or a missing or unreadable field, 110001 (linear)
//! / 170213 (spot) an order that does not exist or is no longer open, and the core's
//! refusals in Bybit's codes (110007 / 170131 balance, 170136 / 170140 minimums).

use serde_json::{Value, json};

use super::Shared;
use super::bybit_private::{answer, bybit_code, category, symbol_of};
use crate::types::{Price, Qty};

/// Amends `account`'s order as `a` asks; Bybit's answer envelope.
pub(super) fn amend(shared: &Shared, account: usize, a: &Value) -> Value {
    let s = |k: &str| a.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let Some(sym) = s("symbol").and_then(|x| symbol_of(shared, x)) else {
        return answer(170121, "Invalid symbol.", json!({}));
    };
    let linear = category(shared, sym) == "linear";
    if s("category") != Some(category(shared, sym)) {
        return answer(
            10001,
            "params error: category does not match the symbol",
            json!({}),
        );
    }
    let gone = if linear { 110001 } else { 170213 };
    let ord = s("orderId").and_then(|o| o.parse::<u64>().ok());
    let link = s("orderLinkId");
    if ord.is_none() && link.is_none() {
        return answer(10001, "params error: orderId or orderLinkId", json!({}));
    }
    let mut ex = shared.ex.lock();
    let Some(id) = ex.find(account, sym, ord, link) else {
        return answer(gone, "Order does not exist.", json!({}));
    };
    let Some(o) = ex.orders.get(&id) else {
        return answer(gone, "Order does not exist.", json!({}));
    };
    let parse = |k: &str, was: i64| match s(k) {
        None => Some(was),
        Some(v) => Price::parse(v).ok().map(|p| p.units()),
    };
    let (Some(px), Some(qty)) = (
        parse("price", o.price.units()),
        parse("qty", o.orig_qty.units()),
    ) else {
        return answer(10001, "params error: price or qty", json!({}));
    };
    let link_out = o.client_order_id.clone();
    let res = ex.amend(
        account,
        sym,
        Some(id),
        None,
        Price::from_units(px),
        Qty::from_units(qty),
    );
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(id) => answer(
            0,
            "OK",
            json!({"orderId": id.to_string(), "orderLinkId": link_out}),
        ),
        Err(e) if e.code == -2011 => answer(gone, "Order does not exist.", json!({})),
        Err(e) => {
            let (code, msg) = bybit_code(&e, linear);
            answer(code, &msg, json!({}))
        }
    }
}
