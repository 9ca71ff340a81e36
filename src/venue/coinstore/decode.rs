//! `mako decode --venue coinstore-spot`: Coinstore spot WebSocket messages (`depth`,
//! `trade` single and batched, `ticker` and `!@ticker`, `kline`, the `resp`/`echo` replies,
//! the JSON pong) and the REST depth answer as mako's normalised records. Requests
//! (`{"op":"SUB"…}`) give no record. `S`, when present, is the record's `seq`.

use serde_json::Value;

use crate::types::{Price, Qty, Side};
use crate::venue::decode::{DecodeResult, Record, id_field, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let v: Value =
        serde_json::from_str(&strip_comments(line.trim())).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(op) = v.get("op").and_then(Value::as_str) {
        return Ok(match op {
            "pong" | "ping" => vec![Record::new("keepalive").text("text", op)],
            // A request (what the client sends): no record.
            _ => Vec::new(),
        });
    }
    let seq = v.get("S").and_then(Value::as_i64);
    let data = v.get("data");
    let items: Vec<&Value> = match data {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(d @ Value::Object(_)) => vec![d],
        Some(_) => return Err("\"data\" is neither a list nor an object".into()),
        None => vec![&v],
    };
    let kind = match v.get("T").and_then(Value::as_str) {
        Some(t) => t,
        None => {
            let first = items.first().copied().unwrap_or(&v);
            if first.get("b").is_some() || first.get("a").is_some() {
                "depth"
            } else if first.get("tradeId").is_some() {
                "trade"
            } else if first.get("startTime").is_some() {
                "kline"
            } else if first.get("close").is_some() {
                "ticker"
            } else {
                return Err("message names no type \"T\" and has no known fields".into());
            }
        }
    };
    if kind == "resp" || kind == "echo" {
        let code = v.get("C").and_then(Value::as_u64).unwrap_or(200);
        if code != 200 {
            return Err(format!(
                "venue error: {code} {}",
                v.get("M").and_then(Value::as_str).unwrap_or("")
            ));
        }
        // A reply to a request or the greeting: no record.
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(items.len());
    for d in items {
        let r = match kind {
            "depth" => book(d)?,
            "trade" => trade(d)?,
            "ticker" => ticker(d)?,
            "kline" => candle(d)?,
            other => return Err(format!("type {other:?} has no normalised form")),
        };
        out.push(match seq {
            Some(s) => r.seq(s),
            None => r,
        });
    }
    Ok(out)
}

/// A level's price and quantity as the venue wrote them.
type LevelText<'v> = (&'v str, &'v str);

/// `[["price","qty"(,direction)], …]` checked: how many, and the best level.
fn side_levels<'v>(
    v: &'v Value,
    k: &str,
    bids: bool,
) -> Result<(usize, Option<LevelText<'v>>), String> {
    let Some(levels) = v.get(k) else {
        return Ok((0, None));
    };
    let levels = levels
        .as_array()
        .ok_or_else(|| format!("{k:?} is not a list"))?;
    let mut best: Option<(Price, &str, &str)> = None;
    for l in levels {
        let (Some(p), Some(q)) = (
            l.get(0).and_then(Value::as_str),
            l.get(1).and_then(Value::as_str),
        ) else {
            return Err(format!("{k}: a level is not [price, qty]"));
        };
        let price = Price::parse(p).map_err(|e| format!("{k} price {p:?}: {e}"))?;
        let size = Qty::parse(q).map_err(|e| format!("{k} qty {q:?}: {e}"))?;
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

/// A depth snapshot: its best levels and level counts.
fn book(d: &Value) -> Result<Record, String> {
    let mut r = Record::new("book")
        .text("symbol", str_field(d, "symbol")?)
        .text("type", "snapshot");
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

/// A trade; `takerSide` is the taker's (`BULL` in one of the docs' samples is read as BUY).
fn trade(d: &Value) -> Result<Record, String> {
    let side = match str_field(d, "takerSide")? {
        "BUY" | "BULL" => Side::Buy,
        "SELL" => Side::Sell,
        other => return Err(format!("unknown takerSide {other:?}")),
    };
    let ts = match d.get("ts").and_then(Value::as_u64) {
        Some(ms) => ms,
        None => d
            .get("time")
            .and_then(Value::as_u64)
            .ok_or("trade without \"ts\" or \"time\"")?
            .saturating_mul(1000),
    };
    Ok(Record::new("trade")
        .text("symbol", str_field(d, "symbol")?)
        .text("trade_id", id_field(d, "tradeId")?)
        .decimal("price", str_field(d, "price")?)?
        .decimal("qty", str_field(d, "volume")?)?
        .side(side)
        .text("ts", ts.to_string()))
}

/// The 24 h ticker (no bid or ask).
fn ticker(d: &Value) -> Result<Record, String> {
    Record::new("ticker")
        .text("symbol", str_field(d, "symbol")?)
        .decimal("open", str_field(d, "open")?)?
        .decimal("high", str_field(d, "high")?)?
        .decimal("low", str_field(d, "low")?)?
        .decimal("close", str_field(d, "close")?)?
        .decimal("volume", str_field(d, "volume")?)
}

fn candle(d: &Value) -> Result<Record, String> {
    Record::new("candle")
        .text("symbol", str_field(d, "symbol")?)
        .text("width", str_field(d, "interval")?)
        .text("start", id_field(d, "startTime")?)
        .decimal("open", str_field(d, "open")?)?
        .decimal("high", str_field(d, "high")?)?
        .decimal("low", str_field(d, "low")?)?
        .decimal("close", str_field(d, "close")?)?
        .decimal("volume", str_field(d, "volume")?)
}
