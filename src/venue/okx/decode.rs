//! `mako decode --venue okx-spot`: OKX v5 messages (public pushes, the `orders` and
//! `account` channels, REST answers, events) as mako's normalised records.

use serde_json::Value;

use crate::types::{OrderStatus, Side};
use crate::venue::decode::{DecodeResult, Record, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let line = line.trim();
    if line == "pong" {
        return Ok(Vec::new());
    }
    let v: Value =
        serde_json::from_str(&strip_comments(line)).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(event) = v.get("event").and_then(Value::as_str) {
        return match event {
            "error" => Err(format!(
                "venue error {}: {}",
                v.get("code").and_then(Value::as_str).unwrap_or("?"),
                v.get("msg").and_then(Value::as_str).unwrap_or("")
            )),
            // login, subscribe, notice, channel-conn-count: no record.
            _ => Ok(Vec::new()),
        };
    }
    if let Some(arg) = v.get("arg") {
        let channel = str_field(arg, "channel")?;
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or("push without data")?;
        return match channel {
            "books" | "books-l2-tbt" | "books50-l2-tbt" | "books5" | "bbo-tbt" => {
                let inst = str_field(arg, "instId")?;
                data.iter().map(|d| book(d, inst, channel)).collect()
            }
            "trades" | "trades-all" => data.iter().map(trade).collect(),
            "tickers" => data.iter().map(ticker).collect(),
            "orders" => data.iter().map(order_or_fill).collect(),
            "account" => data.iter().try_fold(Vec::new(), |mut out, d| {
                out.extend(balances(d)?);
                Ok(out)
            }),
            other => Err(format!("channel {other:?} has no normalised form")),
        };
    }
    // A REST answer: {"code":"0","msg":"","data":[…]}; item errors in sCode/sMsg.
    let code = v
        .get("code")
        .and_then(Value::as_str)
        .ok_or("neither a push nor a REST answer")?;
    if code != "0"
        && v.get("data")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        return Err(format!(
            "venue error {code}: {}",
            v.get("msg").and_then(Value::as_str).unwrap_or("")
        ));
    }
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or("answer without data")?;
    let mut out = Vec::with_capacity(data.len());
    for d in data {
        if d.get("tickSz").is_some() {
            out.push(instrument(d)?);
        } else if d.get("details").is_some() {
            out.extend(balances(d)?);
        } else if d.get("sCode").is_some() {
            out.push(ack(d)?);
        } else if d.get("state").is_some() {
            out.push(order_or_fill(d)?);
        } else if d.get("tradeId").is_some() && d.get("ordId").is_some() {
            out.push(fill_of(d)?);
        } else if d.get("asks").is_some() {
            out.push(book(d, "", "books")?);
        } else if let Some(ts) = d.get("ts").and_then(Value::as_str)
            && d.as_object().is_some_and(|o| o.len() == 1)
        {
            out.push(Record::new("time").text("ts", ts));
        } else {
            return Err("answer item has no normalised form".into());
        }
    }
    Ok(out)
}

fn side(v: &Value) -> Result<Side, String> {
    match str_field(v, "side")? {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        other => Err(format!("unknown side {other:?}")),
    }
}

fn status(s: &str) -> Result<OrderStatus, String> {
    Ok(match s {
        "live" => OrderStatus::New,
        "partially_filled" => OrderStatus::PartiallyFilled,
        "filled" => OrderStatus::Filled,
        "canceled" | "mmp_canceled" => OrderStatus::Cancelled,
        other => return Err(format!("unknown order state {other:?}")),
    })
}

fn non_empty<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An `orders` push or an order query answer: a fill when it reports one (`tradeId`,
/// `fillSz` > 0), else the order's state.
fn order_or_fill(d: &Value) -> Result<Record, String> {
    let filled = non_empty(d, "tradeId").is_some()
        && non_empty(d, "fillSz").is_some_and(|s| !s.trim_start_matches(['0', '.']).is_empty());
    let mut r = Record::new(if filled { "fill" } else { "order" })
        .text(
            "cid",
            d.get("clOrdId").and_then(Value::as_str).unwrap_or(""),
        )
        .text("venue_order_id", str_field(d, "ordId")?)
        .text("symbol", str_field(d, "instId")?)
        .side(side(d)?)
        .status(status(str_field(d, "state")?)?);
    if filled {
        r = r
            .decimal("price", str_field(d, "fillPx")?)?
            .decimal("qty", str_field(d, "fillSz")?)?
            .decimal("filled_qty", str_field(d, "accFillSz")?)?
            .text("trade_id", str_field(d, "tradeId")?);
        if let (Some(fee), Some(ccy)) = (non_empty(d, "fillFee"), non_empty(d, "fillFeeCcy")) {
            r = r.signed_decimal("fee", fee)?.text("fee_asset", ccy);
        }
        Ok(r)
    } else {
        if let Some(px) = non_empty(d, "px") {
            r = r.decimal("price", px)?;
        }
        r.decimal("qty", str_field(d, "sz")?)?
            .decimal("filled_qty", str_field(d, "accFillSz")?)
    }
}

/// An item of `GET /api/v5/trade/fills`.
fn fill_of(d: &Value) -> Result<Record, String> {
    let mut r = Record::new("fill")
        .text("venue_order_id", str_field(d, "ordId")?)
        .text("symbol", str_field(d, "instId")?)
        .side(side(d)?)
        .text("trade_id", str_field(d, "tradeId")?)
        .decimal("price", str_field(d, "fillPx")?)?
        .decimal("qty", str_field(d, "fillSz")?)?;
    if let Some(cid) = non_empty(d, "clOrdId") {
        r = r.text("cid", cid);
    }
    if let (Some(fee), Some(ccy)) = (non_empty(d, "fee"), non_empty(d, "feeCcy")) {
        r = r.signed_decimal("fee", fee)?.text("fee_asset", ccy);
    }
    Ok(r)
}

/// A place, cancel or amend answer item: accepted (`sCode` 0) or rejected with its code.
fn ack(d: &Value) -> Result<Record, String> {
    let code = str_field(d, "sCode")?;
    let r = Record::new("order")
        .text(
            "cid",
            d.get("clOrdId").and_then(Value::as_str).unwrap_or(""),
        )
        .text(
            "venue_order_id",
            d.get("ordId").and_then(Value::as_str).unwrap_or(""),
        );
    Ok(if code == "0" {
        r
    } else {
        r.status(OrderStatus::Rejected)
            .text("code", code)
            .text("msg", d.get("sMsg").and_then(Value::as_str).unwrap_or(""))
    })
}

fn balances(d: &Value) -> DecodeResult {
    let details = d
        .get("details")
        .and_then(Value::as_array)
        .ok_or("balance without details")?;
    details
        .iter()
        .map(|b| {
            let mut r = Record::new("balance").text("asset", str_field(b, "ccy")?);
            // OKX balances carry more fractional digits than the engine's 8: kept as sent.
            if let Some(v) = non_empty(b, "availBal") {
                r = r.venue_decimal("free", v)?;
            }
            if let Some(v) = non_empty(b, "frozenBal") {
                r = r.venue_decimal("locked", v)?;
            }
            if let Some(v) = non_empty(b, "cashBal") {
                r = r.venue_decimal("total", v)?;
            }
            Ok(r)
        })
        .collect()
}

fn levels(d: &Value, k: &str) -> Result<Vec<(String, String)>, String> {
    let list = d
        .get(k)
        .and_then(Value::as_array)
        .ok_or(format!("no {k}"))?;
    list.iter()
        .map(|l| {
            let p = l
                .get(0)
                .and_then(Value::as_str)
                .ok_or("level without a price")?;
            let q = l
                .get(1)
                .and_then(Value::as_str)
                .ok_or("level without a size")?;
            let v = Record::new("l")
                .decimal("p", p)?
                .decimal("q", q)?
                .into_value();
            Ok((
                v["p"].as_str().unwrap_or_default().to_owned(),
                v["q"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn book(d: &Value, inst: &str, channel: &str) -> Result<Record, String> {
    let (bids, asks) = (levels(d, "bids")?, levels(d, "asks")?);
    let kind = if channel == "bbo-tbt" { "bbo" } else { "book" };
    let mut r = Record::new(kind);
    if !inst.is_empty() {
        r = r.text("symbol", inst);
    }
    if let Some((p, q)) = bids.first() {
        r = r.text("best_bid", p.clone()).text("bid_qty", q.clone());
    }
    if let Some((p, q)) = asks.first() {
        r = r.text("best_ask", p.clone()).text("ask_qty", q.clone());
    }
    if let Some(seq) = d.get("seqId").and_then(Value::as_i64) {
        r = r.seq(seq);
    }
    if kind == "book" {
        r = r
            .number("bid_levels", bids.len() as u64)
            .number("ask_levels", asks.len() as u64);
    }
    Ok(r)
}

fn trade(d: &Value) -> Result<Record, String> {
    Ok(Record::new("trade")
        .text("symbol", str_field(d, "instId")?)
        .text("trade_id", str_field(d, "tradeId")?)
        .decimal("price", str_field(d, "px")?)?
        .decimal("qty", str_field(d, "sz")?)?
        .side(side(d)?))
}

/// An item of `GET /api/v5/public/instruments`: the instrument's filters.
fn instrument(d: &Value) -> Result<Record, String> {
    let mut r = Record::new("instrument")
        .text("symbol", str_field(d, "instId")?)
        .decimal("tick_size", str_field(d, "tickSz")?)?
        .decimal("lot_size", str_field(d, "lotSz")?)?
        .decimal("min_qty", str_field(d, "minSz")?)?;
    if let Some(s) = non_empty(d, "state") {
        r = r.text("state", s);
    }
    Ok(r)
}

fn ticker(d: &Value) -> Result<Record, String> {
    Record::new("bbo")
        .text("symbol", str_field(d, "instId")?)
        .decimal("best_bid", str_field(d, "bidPx")?)?
        .decimal("bid_qty", str_field(d, "bidSz")?)?
        .decimal("best_ask", str_field(d, "askPx")?)?
        .decimal("ask_qty", str_field(d, "askSz")?)
}
