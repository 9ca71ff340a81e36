//! `mako decode --venue bitmart-spot`: BitMart spot WebSocket messages (`spot/depth/
//! increase100`, `spot/depth5|20|50`, `spot/ticker`, `spot/trade`, `spot/kline*`, the
//! `event` replies) as mako's normalised records. Requests (`{"op":…}`) give no record.

use serde_json::Value;

use crate::types::{Price, Qty, Side};
use crate::venue::decode::{DecodeResult, Record, id_field, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let t = line.trim();
    if t == "pong" || t == "ping" {
        return Ok(vec![Record::new("keepalive").text("text", t)]);
    }
    let v: Value =
        serde_json::from_str(&strip_comments(t)).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("op").is_some() {
        // A request (what the client sends): no record.
        return Ok(Vec::new());
    }
    if let Some(event) = v.get("event").and_then(Value::as_str) {
        if let Some(code) = v.get("errorCode") {
            return Err(format!(
                "venue error on {event}: {} {}",
                id_field(&v, "errorCode").unwrap_or_else(|_| code.to_string()),
                v.get("errorMessage").and_then(Value::as_str).unwrap_or("")
            ));
        }
        // A subscribe or login answered: no record.
        return Ok(Vec::new());
    }
    let table = str_field(&v, "table")?;
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or("message without a data list")?;
    let mut out = Vec::with_capacity(data.len());
    for d in data {
        out.push(match table {
            "spot/depth/increase100" => book(d, Some(str_field(d, "type")?))?,
            t if t.starts_with("spot/depth") => book(d, None)?,
            "spot/ticker" => ticker(d)?,
            "spot/trade" => trade(d)?,
            t if t.starts_with("spot/kline") => candle(d, &t["spot/kline".len()..])?,
            other => return Err(format!("table {other:?} has no normalised form")),
        });
    }
    Ok(out)
}

fn list<'v>(v: &'v Value, k: &str) -> Result<&'v Vec<Value>, String> {
    v.get(k)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("missing list {k:?}"))
}

/// A level's price and size as the venue wrote them.
type LevelText<'v> = (&'v str, &'v str);

/// `[["price","size"], …]` checked: how many, and the best level with a non-zero size.
fn side_levels<'v>(
    v: &'v Value,
    k: &str,
    bids: bool,
) -> Result<(usize, Option<LevelText<'v>>), String> {
    let mut best: Option<(Price, &str, &str)> = None;
    let levels = list(v, k)?;
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

/// A depth item: its best levels and level counts; `kind` is the increase channel's
/// `snapshot`/`update` (with `version` as `seq`).
fn book(d: &Value, kind: Option<&str>) -> Result<Record, String> {
    let mut r = Record::new("book").text("symbol", str_field(d, "symbol")?);
    if let Some(kind) = kind {
        let version = d
            .get("version")
            .and_then(Value::as_i64)
            .ok_or("missing or non-numeric field \"version\"")?;
        r = r.text("type", kind).seq(version);
    } else {
        r = r.text("type", "snapshot");
    }
    let (nb, bid) = side_levels(d, "bids", true)?;
    let (na, ask) = side_levels(d, "asks", false)?;
    if let Some((p, q)) = bid {
        r = r.decimal("best_bid", p)?.decimal("bid_qty", q)?;
    }
    if let Some((p, q)) = ask {
        r = r.decimal("best_ask", p)?.decimal("ask_qty", q)?;
    }
    Ok(r.number("bid_levels", nb as u64)
        .number("ask_levels", na as u64)
        .text("ts", id_field(d, "ms_t")?))
}

fn ticker(d: &Value) -> Result<Record, String> {
    Record::new("bbo")
        .text("symbol", str_field(d, "symbol")?)
        .decimal("price", str_field(d, "last_price")?)?
        .decimal("best_bid", str_field(d, "bid_px")?)?
        .decimal("bid_qty", str_field(d, "bid_sz")?)?
        .decimal("best_ask", str_field(d, "ask_px")?)?
        .decimal("ask_qty", str_field(d, "ask_sz")?)
        .map(|r| r.text("ts", id_field(d, "ms_t").unwrap_or_default()))
}

/// A taker trade (`side` is the taker's; BitMart gives trades no id).
fn trade(d: &Value) -> Result<Record, String> {
    let side = match str_field(d, "side")? {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        other => return Err(format!("unknown side {other:?}")),
    };
    Ok(Record::new("trade")
        .text("symbol", str_field(d, "symbol")?)
        .decimal("price", str_field(d, "price")?)?
        .decimal("qty", str_field(d, "size")?)?
        .side(side)
        .text("ts", id_field(d, "ms_t")?))
}

/// `candle: [t, open, high, low, close, volume]` (exchanges.md §5.6 sample).
fn candle(d: &Value, width: &str) -> Result<Record, String> {
    let c = list(d, "candle")?;
    let s = |i: usize, k: &str| -> Result<&str, String> {
        c.get(i)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("candle has no {k}"))
    };
    let start = c
        .first()
        .and_then(Value::as_u64)
        .ok_or("candle has no start time")?;
    Record::new("candle")
        .text("symbol", str_field(d, "symbol")?)
        .text("width", width)
        .text("start", start.to_string())
        .decimal("open", s(1, "open")?)?
        .decimal("high", s(2, "high")?)?
        .decimal("low", s(3, "low")?)?
        .decimal("close", s(4, "close")?)?
        .decimal("volume", s(5, "volume")?)
}
