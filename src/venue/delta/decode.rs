//! `mako decode --venue delta-india|delta-global`: Delta public WebSocket messages
//! (`ob_updates`, `ob_l1`, `trades`, `mark_price`, `funding_rate`, the subscription answers,
//! heartbeats, pongs and error frames) as mako's normalised records. Requests
//! (`subscribe`, `enable_heartbeat`, `ping`) give no record.

use serde_json::Value;

use crate::types::{FundingRate, Price, Qty, Side};
use crate::venue::decode::{DecodeResult, Record, id_field, str_field, strip_comments};

/// One message (a line of the input).
pub fn decode(line: &str) -> DecodeResult {
    let v: Value =
        serde_json::from_str(&strip_comments(line.trim())).map_err(|e| format!("not JSON: {e}"))?;
    let ty = str_field(&v, "type")?;
    match ty {
        "ob_updates" => book(&v),
        "ob_l1" => bbo(&v),
        "trades" => trade(&v),
        "mark_price" => {
            let p = number_text(&v, "p")?;
            Ok(vec![
                Record::new("mark")
                    .text("symbol", symbol(&v)?)
                    .decimal("mark", &p)?
                    .text("ts", id_field(&v, "ts")?),
            ])
        }
        "funding_rate" => funding(&v),
        "subscriptions" => {
            let chans = v
                .get("channels")
                .and_then(Value::as_array)
                .ok_or("subscriptions without a channel list")?;
            match chans
                .iter()
                .find_map(|c| c.get("error").and_then(Value::as_str))
            {
                Some(e) => Err(format!("venue refused a subscription: {e}")),
                None => Ok(Vec::new()),
            }
        }
        "error" => Err(format!(
            "venue error: {}",
            v.get("message").and_then(Value::as_str).unwrap_or("")
        )),
        "heartbeat" => Ok(vec![Record::new("keepalive").text("text", "heartbeat")]),
        "pong" => Ok(vec![Record::new("keepalive").text("text", "pong")]),
        "subscribe" | "unsubscribe" | "enable_heartbeat" | "disable_heartbeat" | "ping" => {
            Ok(Vec::new())
        }
        other => Err(format!("channel {other:?} has no normalised form")),
    }
}

/// `sy` without the `MARK:` prefix.
fn symbol(v: &Value) -> Result<&str, String> {
    let s = str_field(v, "sy")?;
    Ok(s.strip_prefix("MARK:").unwrap_or(s))
}

/// A decimal sent as a string or a JSON number, as text.
fn number_text(v: &Value, k: &str) -> Result<String, String> {
    match v.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(u.to_string()),
            (None, Some(f)) if f.is_finite() => Ok(f.to_string()),
            _ => Err(format!("field {k:?} is not a decimal")),
        },
        _ => Err(format!("missing field {k:?}")),
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

/// An `ob_updates` snapshot or update (`seq`, the checksum `cs`, the best levels with a size
/// and the level counts, deletions included), or its error frame.
fn book(v: &Value) -> DecodeResult {
    let action = str_field(v, "action")?;
    if action == "error" {
        return Err(format!(
            "venue error on ob_updates {}: {}",
            v.get("symbol").and_then(Value::as_str).unwrap_or(""),
            v.get("msg").and_then(Value::as_str).unwrap_or("")
        ));
    }
    if action != "snapshot" && action != "update" {
        return Err(format!("ob_updates action {action:?} is unknown"));
    }
    let seq = v
        .get("seq")
        .and_then(Value::as_i64)
        .ok_or("missing or non-numeric field \"seq\"")?;
    let mut r = Record::new("book")
        .text("symbol", symbol(v)?)
        .text("type", action)
        .seq(seq);
    if let Some(cs) = v.get("cs") {
        let cs = cs
            .as_u64()
            .filter(|c| u32::try_from(*c).is_ok())
            .ok_or("checksum \"cs\" is not an unsigned 32-bit number")?;
        r = r.number("checksum", cs);
    }
    let (nb, bid) = side_levels(v, "b", true)?;
    let (na, ask) = side_levels(v, "a", false)?;
    if let Some((p, q)) = bid {
        r = r.decimal("best_bid", p)?.decimal("bid_qty", q)?;
    }
    if let Some((p, q)) = ask {
        r = r.decimal("best_ask", p)?.decimal("ask_qty", q)?;
    }
    Ok(vec![
        r.number("bid_levels", nb as u64)
            .number("ask_levels", na as u64)
            .text("ts", id_field(v, "ts")?),
    ])
}

fn bbo(v: &Value) -> DecodeResult {
    let mut r = Record::new("bbo").text("symbol", symbol(v)?);
    for (k, out) in [
        ("bp", "best_bid"),
        ("bs", "bid_qty"),
        ("ap", "best_ask"),
        ("as", "ask_qty"),
    ] {
        if let Some(s) = v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()) {
            r = r.decimal(out, s)?;
        }
    }
    Ok(vec![r.text("ts", id_field(v, "ts")?)])
}

/// A trade: `r` is the buyer's role, so a taking buyer is a buy aggressor.
fn trade(v: &Value) -> DecodeResult {
    let side = match str_field(v, "r")? {
        "t" => Side::Buy,
        "m" => Side::Sell,
        other => return Err(format!("unknown buyer role {other:?}")),
    };
    Ok(vec![
        Record::new("trade")
            .text("symbol", symbol(v)?)
            .decimal("price", &number_text(v, "p")?)?
            .decimal("qty", &number_text(v, "s")?)?
            .side(side)
            .text("ts", id_field(v, "t")?),
    ])
}

/// `fr` is percent per funding interval: the record's `funding_rate` is the fraction.
fn funding(v: &Value) -> DecodeResult {
    let pct: f64 = match v.get("fr") {
        Some(Value::String(s)) => s.parse().map_err(|_| format!("fr {s:?} is not a number"))?,
        Some(Value::Number(n)) => n.as_f64().ok_or("fr is not a number")?,
        _ => return Err("missing field \"fr\"".into()),
    };
    let units = (pct * 1e6).round();
    if !units.is_finite() || units.abs() > 1e15 {
        return Err(format!("fr {pct} is out of range"));
    }
    let mut r = Record::new("funding").text("symbol", symbol(v)?).text(
        "funding_rate",
        FundingRate::from_units(units as i64).to_string(),
    );
    if let Some(fi) = v.get("fi").and_then(Value::as_u64) {
        r = r.number("interval_s", fi);
    }
    if let Some(nfr) = v.get("nfr") {
        r = r.text(
            "next_funding_us",
            id_field(v, "nfr").map_err(|_| format!("nfr {nfr}"))?,
        );
    }
    Ok(vec![r.text("ts", id_field(v, "ts")?)])
}
