//! `mako decode --venue binance-spot`: Binance Spot messages (market-data frames, user data
//! stream events, WebSocket API and REST answers) as mako's normalised records.

use serde_json::Value;

use crate::types::{OrderStatus, Side};
use crate::venue::decode::{DecodeResult, Record, id_field, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let v: Value =
        serde_json::from_str(&strip_comments(line)).map_err(|e| format!("not JSON: {e}"))?;
    // Combined streams wrap the payload; WebSocket API user-data events come in `event`.
    let v = match (v.get("stream"), v.get("data"), v.get("event")) {
        (Some(_), Some(d), _) => d.clone(),
        (_, _, Some(e)) if e.is_object() => e.clone(),
        _ => v,
    };
    if let Some(code) = v.get("code").and_then(Value::as_i64)
        && v.get("msg").is_some()
    {
        return Err(format!("venue error {code}: {}", str_field(&v, "msg")?));
    }
    if let Some(result) = v.get("result").filter(|_| v.get("id").is_some()) {
        if let Some(err) = v.get("error") {
            return Err(format!("venue error: {err}"));
        }
        return answer(result);
    }
    match v.get("e").and_then(Value::as_str) {
        Some("executionReport") => execution_report(&v).map(|r| vec![r]),
        Some("outboundAccountPosition") => balances(v.get("B"), "a", "f", "l"),
        Some("depthUpdate") => depth(&v, "s", "u", "b", "a").map(|r| vec![r]),
        Some("trade") => trade(&v, "t").map(|r| vec![r]),
        Some("aggTrade") => trade(&v, "a").map(|r| vec![r]),
        Some(other) => Err(format!("event type {other:?} has no normalised form")),
        None if v.get("u").is_some() && v.get("b").is_some() => book_ticker(&v).map(|r| vec![r]),
        None if v.get("lastUpdateId").is_some() => {
            depth(&v, "symbol", "lastUpdateId", "bids", "asks").map(|r| vec![r])
        }
        None => answer(&v),
    }
}

/// A REST or WebSocket API result: one order, a list of orders or trades, or an account.
fn answer(v: &Value) -> DecodeResult {
    if let Some(b) = v.get("balances") {
        return balances(Some(b), "asset", "free", "locked");
    }
    if let Some(list) = v.as_array() {
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            out.extend(answer(item)?);
        }
        return Ok(out);
    }
    if v.get("commission").is_some() {
        return my_trade(v).map(|r| vec![r]);
    }
    if v.get("orderId").is_some() {
        return order_object(v).map(|r| vec![r]);
    }
    Err("message has no normalised form".into())
}

fn side(s: &str) -> Result<Side, String> {
    match s {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(format!("unknown side {other:?}")),
    }
}

fn status(s: &str) -> Result<OrderStatus, String> {
    Ok(match s {
        "NEW" | "PENDING_NEW" | "PENDING_CANCEL" => OrderStatus::New,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" => OrderStatus::Cancelled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        other => return Err(format!("unknown order status {other:?}")),
    })
}

fn execution_report(v: &Value) -> Result<Record, String> {
    // On a cancel, `c` is the cancel request's own id and `C` the order's.
    let cid = match v.get("C").and_then(Value::as_str) {
        Some(orig) if !orig.is_empty() => orig,
        _ => str_field(v, "c")?,
    };
    let trade = str_field(v, "x")? == "TRADE";
    let r = Record::new(if trade { "fill" } else { "order" })
        .text("cid", cid)
        .text("venue_order_id", id_field(v, "i")?)
        .text("symbol", str_field(v, "s")?)
        .side(side(str_field(v, "S")?)?)
        .status(status(str_field(v, "X")?)?);
    if trade {
        r.decimal("price", str_field(v, "L")?)?
            .decimal("qty", str_field(v, "l")?)?
            .decimal("filled_qty", str_field(v, "z")?)?
            .text("trade_id", id_field(v, "t")?)
            .decimal("fee", str_field(v, "n")?)?
            .text(
                "fee_asset",
                v.get("N").and_then(Value::as_str).unwrap_or(""),
            )
            .decimal("order_price", str_field(v, "p")?)
    } else {
        r.decimal("price", str_field(v, "p")?)?
            .decimal("qty", str_field(v, "q")?)?
            .decimal("filled_qty", str_field(v, "z")?)
    }
}

fn order_object(v: &Value) -> Result<Record, String> {
    let cid = match v.get("origClientOrderId").and_then(Value::as_str) {
        Some(orig) if !orig.is_empty() => orig,
        _ => str_field(v, "clientOrderId")?,
    };
    let mut r = Record::new("order")
        .text("cid", cid)
        .text("venue_order_id", id_field(v, "orderId")?)
        .text("symbol", str_field(v, "symbol")?);
    // An ACK answer to a new order carries only ids and a time.
    if let Some(s) = v.get("side").and_then(Value::as_str) {
        r = r.side(side(s)?);
    }
    if let Some(s) = v.get("status").and_then(Value::as_str) {
        r = r.status(status(s)?);
    }
    for (key, field) in [
        ("price", "price"),
        ("qty", "origQty"),
        ("filled_qty", "executedQty"),
    ] {
        if let Some(x) = v.get(field).and_then(Value::as_str) {
            r = r.decimal(key, x)?;
        }
    }
    Ok(r)
}

fn my_trade(v: &Value) -> Result<Record, String> {
    let buyer = v.get("isBuyer").and_then(Value::as_bool);
    let mut r = Record::new("fill")
        .text("venue_order_id", id_field(v, "orderId")?)
        .text("symbol", str_field(v, "symbol")?)
        .text("trade_id", id_field(v, "id")?)
        .decimal("price", str_field(v, "price")?)?
        .decimal("qty", str_field(v, "qty")?)?
        .decimal("fee", str_field(v, "commission")?)?
        .text("fee_asset", str_field(v, "commissionAsset")?);
    if let Some(b) = buyer {
        r = r.side(if b { Side::Buy } else { Side::Sell });
    }
    Ok(r)
}

fn balances(list: Option<&Value>, asset: &str, free: &str, locked: &str) -> DecodeResult {
    let list = list
        .and_then(Value::as_array)
        .ok_or("balances are not a list")?;
    list.iter()
        .map(|b| {
            Record::new("balance")
                .text("asset", str_field(b, asset)?)
                .decimal("free", str_field(b, free)?)?
                .decimal("locked", str_field(b, locked)?)
        })
        .collect()
}

fn book_ticker(v: &Value) -> Result<Record, String> {
    let seq = v.get("u").and_then(Value::as_i64).ok_or("field \"u\"")?;
    Record::new("bbo")
        .text("symbol", str_field(v, "s")?)
        .decimal("best_bid", str_field(v, "b")?)?
        .decimal("bid_qty", str_field(v, "B")?)?
        .decimal("best_ask", str_field(v, "a")?)?
        .decimal("ask_qty", str_field(v, "A")?)
        .map(|r| r.seq(seq))
}

fn trade(v: &Value, id: &str) -> Result<Record, String> {
    // `m`: the buyer was the maker, so the seller took liquidity.
    let buyer_maker = v.get("m").and_then(Value::as_bool).ok_or("field \"m\"")?;
    Ok(Record::new("trade")
        .text("symbol", str_field(v, "s")?)
        .text("trade_id", id_field(v, id)?)
        .decimal("price", str_field(v, "p")?)?
        .decimal("qty", str_field(v, "q")?)?
        .side(if buyer_maker { Side::Sell } else { Side::Buy }))
}

fn depth(v: &Value, symbol: &str, seq: &str, bids: &str, asks: &str) -> Result<Record, String> {
    let seq = v
        .get(seq)
        .and_then(Value::as_i64)
        .ok_or("missing sequence")?;
    let mut r = Record::new("book").seq(seq);
    if let Some(s) = v.get(symbol).and_then(Value::as_str) {
        r = r.text("symbol", s);
    }
    if let Some(first) = v.get("U").and_then(Value::as_i64) {
        r = r.number("first_seq", first.max(0) as u64);
    }
    let bids = levels(v.get(bids))?;
    let asks = levels(v.get(asks))?;
    if let Some((p, _)) = bids.first() {
        r = r.text("best_bid", p.clone());
    }
    if let Some((p, _)) = asks.first() {
        r = r.text("best_ask", p.clone());
    }
    Ok(r.number("bid_levels", bids.len() as u64)
        .number("ask_levels", asks.len() as u64))
}

/// `[["price","qty"],…]` normalised.
fn levels(v: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let list = v.and_then(Value::as_array).ok_or("levels are not a list")?;
    list.iter()
        .map(|l| {
            let p = l
                .get(0)
                .and_then(Value::as_str)
                .ok_or("level without a price")?;
            let q = l
                .get(1)
                .and_then(Value::as_str)
                .ok_or("level without a quantity")?;
            let rec = Record::new("level").decimal("p", p)?.decimal("q", q)?;
            let v = rec.into_value();
            Ok((
                v["p"].as_str().unwrap_or_default().to_owned(),
                v["q"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::decode::line_of;

    fn one(line: &str) -> Value {
        serde_json::from_str(&line_of(decode(line))).unwrap()
    }

    #[test]
    fn market_data_frames() {
        let t = one(
            r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":12345,"p":"0.00100000","q":"100.0","T":1,"m":true,"M":true}}"#,
        );
        assert_eq!(t["kind"], "trade");
        assert_eq!(t["trade_id"], "12345");
        assert_eq!(t["price"], "0.001");
        assert_eq!(t["qty"], "100");
        assert_eq!(t["side"], "sell");
        let b = one(
            r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#,
        );
        assert_eq!(
            (
                b["kind"].as_str(),
                b["best_bid"].as_str(),
                b["best_ask"].as_str(),
                b["seq"].as_i64()
            ),
            (
                Some("bbo"),
                Some("25.3519"),
                Some("25.3652"),
                Some(400_900_217)
            )
        );
        let d = one(
            r#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"],["0.0027","0"]]}"#,
        );
        assert_eq!(
            (
                d["kind"].as_str(),
                d["seq"].as_i64(),
                d["ask_levels"].as_u64()
            ),
            (Some("book"), Some(160), Some(2))
        );
    }

    #[test]
    fn private_events_and_answers() {
        let f = one(
            r#"{"e":"executionReport","E":1,"s":"ETHBTC","c":"abc","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","x":"TRADE","X":"PARTIALLY_FILLED","i":4293153,"l":"0.25000000","z":"0.25000000","L":"0.10264400","n":"0.00001","N":"BNB","T":1,"t":77,"C":""}"#,
        );
        assert_eq!(f["kind"], "fill");
        assert_eq!(f["status"], "partially_filled");
        assert_eq!(
            (f["venue_order_id"].as_str(), f["trade_id"].as_str()),
            (Some("4293153"), Some("77"))
        );
        assert_eq!(
            (f["price"].as_str(), f["qty"].as_str()),
            (Some("0.102644"), Some("0.25"))
        );
        let list = one(
            r#"[{"symbol":"LTCBTC","orderId":1,"clientOrderId":"myOrder1","price":"0.1","origQty":"1.0","executedQty":"0.0","status":"NEW","side":"BUY"},{"symbol":"LTCBTC","orderId":2,"clientOrderId":"myOrder2","price":"0.2","origQty":"1.0","executedQty":"1.0","status":"FILLED","side":"SELL"}]"#,
        );
        assert_eq!(list.as_array().map(Vec::len), Some(2));
        assert_eq!(list[1]["status"], "filled");
        let e =
            one(r#"{"code":-2010,"msg":"Account has insufficient balance for requested action."}"#);
        assert!(e["error"].as_str().is_some_and(|s| s.contains("-2010")));
        assert!(one("not json")["error"].is_string());
    }
}
