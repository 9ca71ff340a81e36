//! `mako decode --venue bybit-spot|bybit-linear`: Bybit v5 public WebSocket messages
//! (`orderbook.{depth}`, `publicTrade`, `tickers`, the `op` replies and pongs) as mako's
//! normalised records. Requests (`{"op":…,"args":…}` without `success`) give no record.

use serde_json::Value;

use crate::types::{FundingRate, Price, Qty, Side};
use crate::venue::decode::{DecodeResult, Record, id_field, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let v: Value =
        serde_json::from_str(&strip_comments(line.trim())).map_err(|e| format!("not JSON: {e}"))?;
    let Some(topic) = v.get("topic").and_then(Value::as_str) else {
        return control(&v);
    };
    let (name, rest) = topic
        .split_once('.')
        .ok_or_else(|| format!("topic {topic:?} has no normalised form"))?;
    let kind = str_field(&v, "type")?;
    let data = v.get("data").ok_or("message without data")?;
    match name {
        "orderbook" => Ok(vec![book(data, kind)?.text("ts", id_field(&v, "ts")?)]),
        "publicTrade" => {
            let list = data.as_array().ok_or("publicTrade data is not a list")?;
            list.iter().map(|t| trade(t, rest)).collect()
        }
        "tickers" => Ok(vec![ticker(data, kind)?.text("ts", id_field(&v, "ts")?)]),
        _ => Err(format!("topic {topic:?} has no normalised form")),
    }
}

/// A reply to an `op`: a pong is a keepalive record, an error is an error, the rest nothing.
fn control(v: &Value) -> DecodeResult {
    let op = str_field(v, "op")?;
    let msg = v.get("ret_msg").and_then(Value::as_str).unwrap_or("");
    if op == "pong" || (op == "ping" && msg == "pong") {
        return Ok(vec![Record::new("keepalive").text("text", "pong")]);
    }
    match v.get("success").and_then(Value::as_bool) {
        Some(false) => Err(format!("venue error on {op}: {msg}")),
        // An answer, or a request (what the client sends): no record.
        _ => Ok(Vec::new()),
    }
}

/// A level's price and size as the venue wrote them.
type LevelText<'v> = (&'v str, &'v str);

/// `[["price","size"], …]` checked: how many, and the best level with a non-zero size.
fn side_levels<'v>(
    v: &'v Value,
    k: &str,
    bids: bool,
) -> Result<(usize, Option<LevelText<'v>>), String> {
    let levels = v
        .get(k)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("missing list {k:?}"))?;
    let mut best: Option<(Price, &str, &str)> = None;
    for l in levels {
        let (Some(p), Some(q)) = (
            l.get(0).and_then(Value::as_str),
            l.get(1).and_then(Value::as_str),
        ) else {
            return Err(format!("{k}: a level is not [price, size]"));
        };
        let price = Price::parse(p).map_err(|e| format!("{k} price {p:?}: {e}"))?;
        let size = Qty::parse(q).map_err(|e| format!("{k} size {q:?}: {e}"))?;
        if size.is_zero() {
            continue;
        }
        let better = match best {
            None => true,
            Some((b, ..)) => (bids && price > b) || (!bids && price < b),
        };
        if better {
            best = Some((price, p, q));
        }
    }
    Ok((levels.len(), best.map(|(_, p, q)| (p, q))))
}

/// An `orderbook` snapshot or delta: `u` as `seq`, the cross sequence as `cross_seq`, the
/// best levels with a size, and the level counts (deletions included).
fn book(d: &Value, kind: &str) -> Result<Record, String> {
    let u = d
        .get("u")
        .and_then(Value::as_i64)
        .ok_or("missing or non-numeric field \"u\"")?;
    let mut r = Record::new("book")
        .text("symbol", str_field(d, "s")?)
        .text("type", kind)
        .seq(u)
        .text("cross_seq", id_field(d, "seq")?);
    let (nb, bid) = side_levels(d, "b", true)?;
    let (na, ask) = side_levels(d, "a", false)?;
    if let Some((p, q)) = bid {
        r = r.decimal("best_bid", p)?.decimal("bid_qty", q)?;
    }
    if let Some((p, q)) = ask {
        r = r.decimal("best_ask", p)?.decimal("ask_qty", q)?;
    }
    Ok(r.number("bid_levels", nb as u64)
        .number("ask_levels", na as u64))
}

/// A taker trade (`S` is the taker's side; `i` the venue's trade id, kept as sent).
fn trade(t: &Value, symbol: &str) -> Result<Record, String> {
    let side = match str_field(t, "S")? {
        "Buy" => Side::Buy,
        "Sell" => Side::Sell,
        other => return Err(format!("unknown side {other:?}")),
    };
    let s = str_field(t, "s")?;
    if s != symbol {
        return Err(format!("trade of {s:?} on the topic of {symbol:?}"));
    }
    Ok(Record::new("trade")
        .text("symbol", s)
        .decimal("price", str_field(t, "p")?)?
        .decimal("qty", str_field(t, "v")?)?
        .side(side)
        .text("trade_id", str_field(t, "i")?)
        .text("ts", id_field(t, "T")?))
}

/// A ticker: spot's last price and 24 h figures, or a linear snapshot / delta with whichever
/// of mark, index, funding rate and next funding time it carries.
fn ticker(d: &Value, kind: &str) -> Result<Record, String> {
    let mut r = Record::new("ticker")
        .text("symbol", str_field(d, "symbol")?)
        .text("type", kind);
    let present = |k: &str| d.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    for (k, out) in [
        ("lastPrice", "price"),
        ("markPrice", "mark"),
        ("indexPrice", "index"),
        ("bid1Price", "best_bid"),
        ("ask1Price", "best_ask"),
    ] {
        if let Some(v) = present(k) {
            r = r.decimal(out, v)?;
        }
    }
    if let Some(f) = present("fundingRate") {
        let rate = FundingRate::parse(f).map_err(|e| format!("fundingRate {f:?}: {e}"))?;
        r = r.text("funding_rate", rate.to_string());
    }
    if let Some(t) = present("nextFundingTime") {
        t.parse::<u64>()
            .map_err(|_| format!("nextFundingTime {t:?} is not milliseconds"))?;
        r = r.text("next_funding_ms", t);
    }
    Ok(r)
}
