//! `mako decode --venue coinbase`: Advanced Trade WebSocket messages (`l2_data`, `ticker`,
//! `ticker_batch`, `market_trades`, `user`, `candles`, `status`, `heartbeats`,
//! `subscriptions`) and REST answers (products, create order, orders, fills, accounts) as
//! mako's normalised records.

use serde_json::Value;

use crate::types::{OrderStatus, Side};
use crate::venue::decode::{DecodeResult, Record, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let v: Value =
        serde_json::from_str(&strip_comments(line.trim())).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(channel) = v.get("channel").and_then(Value::as_str) {
        if v.get("type").and_then(Value::as_str).is_some() {
            // A subscribe or unsubscribe request (what the client sends): no record.
            return Ok(Vec::new());
        }
        return push(&v, channel);
    }
    if v.get("type").and_then(Value::as_str) == Some("error") {
        return Err(format!(
            "venue error: {}",
            v.get("message").and_then(Value::as_str).unwrap_or("")
        ));
    }
    rest_answer(&v)
}

fn events(v: &Value) -> Result<&Vec<Value>, String> {
    v.get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| "message without events".to_owned())
}

fn list<'v>(v: &'v Value, k: &str) -> Result<&'v Vec<Value>, String> {
    v.get(k)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("missing list {k:?}"))
}

/// A WebSocket message of `channel`.
fn push(v: &Value, channel: &str) -> DecodeResult {
    let seq = v
        .get("sequence_num")
        .and_then(Value::as_i64)
        .ok_or("message without sequence_num")?;
    let mut out = Vec::new();
    for e in events(v)? {
        match channel {
            "l2_data" => out.push(book(e, seq)?),
            "ticker" | "ticker_batch" => {
                for t in list(e, "tickers")? {
                    out.push(ticker(t, seq)?);
                }
            }
            "market_trades" => {
                for t in list(e, "trades")? {
                    out.push(trade(t)?);
                }
            }
            "user" => {
                for o in list(e, "orders")? {
                    out.push(order(o)?);
                }
                // Perpetual and futures positions (INTX, FCM) are not traded by mako: not
                // normalised.
            }
            "candles" => {
                for c in list(e, "candles")? {
                    out.push(candle(c)?);
                }
            }
            "status" => {
                for p in list(e, "products")? {
                    out.push(product_status(p)?);
                }
            }
            "heartbeats" => out.push(
                Record::new("heartbeat")
                    .text("counter", id_text(e, "heartbeat_counter")?)
                    .seq(seq),
            ),
            // The server's answer to a subscribe: no record.
            "subscriptions" => {}
            other => return Err(format!("channel {other:?} has no normalised form")),
        }
    }
    Ok(out)
}

/// A number or numeric string as text (`heartbeat_counter` is a string in the docs' sample
/// and a number in other captures).
fn id_text(v: &Value, k: &str) -> Result<String, String> {
    match v.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("missing field {k:?}")),
    }
}

fn non_empty<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A `level2` event (`snapshot` or `update`): its best levels and level counts. Bids are the
/// highest price among `bid` updates with a non-zero quantity, asks the lowest among
/// `offer`s (the channel does not sort its updates).
fn book(e: &Value, seq: i64) -> Result<Record, String> {
    let kind = str_field(e, "type")?;
    let mut bids: Vec<(crate::types::Price, &str, &str)> = Vec::new();
    let mut asks = Vec::new();
    for u in list(e, "updates")? {
        let price = str_field(u, "price_level")?;
        let qty = str_field(u, "new_quantity")?;
        let p =
            crate::types::Price::parse(price).map_err(|e| format!("price_level {price:?}: {e}"))?;
        crate::types::Qty::parse(qty).map_err(|e| format!("new_quantity {qty:?}: {e}"))?;
        match str_field(u, "side")? {
            "bid" => bids.push((p, price, qty)),
            "offer" | "ask" => asks.push((p, price, qty)),
            other => return Err(format!("unknown side {other:?}")),
        }
    }
    let mut r = Record::new("book")
        .text("symbol", str_field(e, "product_id")?)
        .text("type", kind)
        .seq(seq);
    let live =
        |q: &&(crate::types::Price, &str, &str)| !q.2.trim_start_matches(['0', '.']).is_empty();
    if let Some((_, p, q)) = bids.iter().filter(live).max_by_key(|l| l.0) {
        r = r.decimal("best_bid", p)?.decimal("bid_qty", q)?;
    }
    if let Some((_, p, q)) = asks.iter().filter(live).min_by_key(|l| l.0) {
        r = r.decimal("best_ask", p)?.decimal("ask_qty", q)?;
    }
    Ok(r.number("bid_levels", bids.len() as u64)
        .number("ask_levels", asks.len() as u64))
}

fn ticker(t: &Value, seq: i64) -> Result<Record, String> {
    let mut r = Record::new("bbo")
        .text("symbol", str_field(t, "product_id")?)
        .decimal("price", str_field(t, "price")?)?;
    // ticker_batch carries no bid/ask.
    if let (Some(b), Some(a)) = (non_empty(t, "best_bid"), non_empty(t, "best_ask")) {
        r = r.decimal("best_bid", b)?.decimal("best_ask", a)?;
        if let Some(q) = non_empty(t, "best_bid_quantity") {
            r = r.decimal("bid_qty", q)?;
        }
        if let Some(q) = non_empty(t, "best_ask_quantity") {
            r = r.decimal("ask_qty", q)?;
        }
    }
    Ok(r.seq(seq))
}

fn upper_side(s: &str) -> Result<Side, String> {
    match s {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(format!("unknown side {other:?}")),
    }
}

/// A `market_trades` print. `side` is the maker's side (exchanges.md §4.3), kept as sent
/// in `maker_side`; `side` is the taker's.
fn trade(t: &Value) -> Result<Record, String> {
    let maker = upper_side(str_field(t, "side")?)?;
    let taker = match maker {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    };
    Ok(Record::new("trade")
        .text("symbol", str_field(t, "product_id")?)
        .text("trade_id", str_field(t, "trade_id")?)
        .decimal("price", str_field(t, "price")?)?
        .decimal("qty", str_field(t, "size")?)?
        .side(taker)
        .text("maker_side", str_field(t, "side")?))
}

/// Coinbase's order status as mako's. `PENDING` (accepted, not yet on the book) is new;
/// `CANCEL_QUEUED` is still open (the cancel may yet lose to a fill).
pub fn status(s: &str) -> Result<OrderStatus, String> {
    Ok(match s {
        "PENDING" | "OPEN" | "QUEUED" | "CANCEL_QUEUED" => OrderStatus::New,
        "FILLED" => OrderStatus::Filled,
        "CANCELLED" => OrderStatus::Cancelled,
        "EXPIRED" => OrderStatus::Expired,
        "FAILED" => OrderStatus::Rejected,
        other => return Err(format!("unknown order status {other:?}")),
    })
}

/// A `user` channel order, or an order of `GET /orders/historical/...`.
fn order(o: &Value) -> Result<Record, String> {
    let side_key = if o.get("order_side").is_some() {
        "order_side"
    } else {
        "side"
    };
    let mut st = status(str_field(o, "status")?)?;
    let filled = non_empty(o, "cumulative_quantity")
        .or_else(|| non_empty(o, "filled_size"))
        .unwrap_or("0");
    let has_fill = !filled.trim_start_matches(['0', '.']).is_empty();
    if st == OrderStatus::New && has_fill {
        st = OrderStatus::PartiallyFilled;
    }
    let mut r = Record::new("order")
        .text(
            "cid",
            o.get("client_order_id")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
        .text("venue_order_id", str_field(o, "order_id")?)
        .text("symbol", str_field(o, "product_id")?)
        .side(upper_side(str_field(o, side_key)?)?)
        .status(st)
        .text("venue_status", str_field(o, "status")?)
        .decimal("filled_qty", filled)?;
    if let Some(p) = non_empty(o, "limit_price") {
        r = r.decimal("price", p)?;
    }
    if let Some(p) = non_empty(o, "avg_price").or_else(|| non_empty(o, "average_filled_price")) {
        r = r.decimal("avg_price", p)?;
    }
    if let Some(q) = non_empty(o, "leaves_quantity") {
        r = r.decimal("leaves_qty", q)?;
    }
    if let Some(f) = non_empty(o, "total_fees") {
        r = r.decimal("fee", f)?;
    }
    for k in ["reject_reason", "cancel_reason"] {
        if let Some(why) = non_empty(o, k) {
            r = r.text(k, why);
        }
    }
    Ok(r)
}

fn candle(c: &Value) -> Result<Record, String> {
    Record::new("candle")
        .text("symbol", str_field(c, "product_id")?)
        .text("start", str_field(c, "start")?)
        .decimal("open", str_field(c, "open")?)?
        .decimal("high", str_field(c, "high")?)?
        .decimal("low", str_field(c, "low")?)?
        .decimal("close", str_field(c, "close")?)?
        .decimal("volume", str_field(c, "volume")?)
}

/// A `status` channel product: its increments and state.
fn product_status(p: &Value) -> Result<Record, String> {
    Ok(Record::new("instrument")
        .text("symbol", str_field(p, "id")?)
        .text("base", str_field(p, "base_currency")?)
        .text("quote", str_field(p, "quote_currency")?)
        .decimal("lot_size", str_field(p, "base_increment")?)?
        .decimal("tick_size", str_field(p, "quote_increment")?)?
        .text("state", str_field(p, "status")?))
}

/// A `GET /products` item: filters (`price_increment` is the tick).
fn product(p: &Value) -> Result<Record, String> {
    let mut r = Record::new("instrument")
        .text("symbol", str_field(p, "product_id")?)
        .decimal("tick_size", str_field(p, "price_increment")?)?
        .decimal("lot_size", str_field(p, "base_increment")?)?
        .decimal("min_qty", str_field(p, "base_min_size")?)?;
    if let Some(v) = non_empty(p, "base_max_size") {
        r = r.decimal("max_qty", v)?;
    }
    if let Some(v) = non_empty(p, "quote_min_size") {
        r = r.decimal("min_notional", v)?;
    }
    if let Some(s) = non_empty(p, "status") {
        r = r.text("state", s);
    }
    Ok(r)
}

fn fill(f: &Value) -> Result<Record, String> {
    let mut r = Record::new("fill")
        .text("venue_order_id", str_field(f, "order_id")?)
        .text("symbol", str_field(f, "product_id")?)
        .side(upper_side(str_field(f, "side")?)?)
        .text("trade_id", str_field(f, "trade_id")?)
        .decimal("price", str_field(f, "price")?)?
        .decimal("qty", str_field(f, "size")?)?;
    if let Some(fee) = non_empty(f, "commission") {
        r = r.decimal("fee", fee)?;
    }
    Ok(r)
}

fn balance(a: &Value) -> Result<Record, String> {
    let value = |k: &str| -> Result<&str, String> {
        a.get(k)
            .and_then(|b| b.get("value"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("missing {k}.value"))
    };
    Record::new("balance")
        .text("asset", str_field(a, "currency")?)
        .venue_decimal("free", value("available_balance")?)?
        .venue_decimal("locked", value("hold")?)
}

/// A REST answer, by its shape.
fn rest_answer(v: &Value) -> DecodeResult {
    if let Some(ok) = v.get("success").and_then(Value::as_bool) {
        // Create order: {"success":true,"success_response":{order_id, client_order_id,…}}
        // or {"success":false,"error_response":{"error": "<FailureReason>",…}}.
        return Ok(vec![if ok {
            let s = v
                .get("success_response")
                .ok_or("success without success_response")?;
            Record::new("order")
                .text(
                    "cid",
                    s.get("client_order_id")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                )
                .text("venue_order_id", str_field(s, "order_id")?)
        } else {
            let e = v
                .get("error_response")
                .ok_or("failure without error_response")?;
            Record::new("order")
                .status(OrderStatus::Rejected)
                .text("code", str_field(e, "error")?)
                .text(
                    "msg",
                    e.get("message").and_then(Value::as_str).unwrap_or(""),
                )
        }]);
    }
    if let Some(results) = v.get("results").and_then(Value::as_array) {
        // Batch cancel: one result per order id.
        return results
            .iter()
            .map(|r| {
                let ok = r.get("success").and_then(Value::as_bool).unwrap_or(false);
                let rec = Record::new("cancel")
                    .text("venue_order_id", str_field(r, "order_id")?)
                    .text("result", if ok { "cancelled" } else { "refused" });
                Ok(match non_empty(r, "failure_reason") {
                    Some(why) if !ok => rec.text("code", why),
                    _ => rec,
                })
            })
            .collect();
    }
    if let Some(o) = v.get("order") {
        return Ok(vec![order(o)?]);
    }
    if let Some(l) = v.get("orders").and_then(Value::as_array) {
        return l.iter().map(order).collect();
    }
    if let Some(l) = v.get("fills").and_then(Value::as_array) {
        return l.iter().map(fill).collect();
    }
    if let Some(l) = v.get("accounts").and_then(Value::as_array) {
        return l.iter().map(balance).collect();
    }
    if let Some(l) = v.get("products").and_then(Value::as_array) {
        return l.iter().map(product).collect();
    }
    if v.get("product_id").is_some() && v.get("price_increment").is_some() {
        return Ok(vec![product(v)?]);
    }
    if let Some(ms) = non_empty(v, "epochMillis") {
        return Ok(vec![Record::new("time").text("ts", ms)]);
    }
    Err(format!(
        "neither a WebSocket message nor a known REST answer{}",
        v.get("error")
            .and_then(Value::as_str)
            .map(|e| format!(" (error {e:?})"))
            .unwrap_or_default()
    ))
}
