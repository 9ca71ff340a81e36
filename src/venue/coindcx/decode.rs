//! `mako decode --venue coindcx-futures`: CoinDCX frames as mako's normalised records. A
//! line is a Socket.IO frame as the stream sends it (`0{…}`, `40`, `3`, `42["event",arg]`) or
//! an event's payload alone, as the reference's samples print them (recognised by shape):
//! `depth-snapshot`, `new-trade`, `price-change`, `currentPrices`, `candlestick`, and the
//! private `df-order-update`, `df-position-update`, `balance-update` lists.

use serde_json::Value;

use crate::types::{Price, Qty, Side};
use crate::venue::decode::{DecodeResult, Record, id_field, str_field, strip_comments};

use super::private::order_status;
use super::socketio::{self, Packet};

/// One line.
pub fn decode(line: &str) -> DecodeResult {
    let line = line.trim();
    match line.as_bytes().first() {
        Some(b'{' | b'[') => payload(None, &parse_json(line)?),
        Some(_) => frame(line),
        None => Err("empty line".into()),
    }
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(&strip_comments(text)).map_err(|e| format!("not JSON: {e}"))
}

fn frame(line: &str) -> DecodeResult {
    match socketio::parse(line.as_bytes()).map_err(|e| e.to_string())? {
        Packet::Open(o) => Ok(vec![
            Record::new("session")
                .text("packet", "open")
                .number("ping_interval_ms", o.ping_interval.as_millis() as u64)
                .number("ping_timeout_ms", o.ping_timeout.as_millis() as u64),
        ]),
        Packet::Connect => Ok(vec![Record::new("session").text("packet", "connect")]),
        Packet::Close | Packet::Disconnect => {
            Ok(vec![Record::new("session").text("packet", "disconnect")])
        }
        Packet::Ping => Ok(vec![Record::new("keepalive").text("text", "ping")]),
        Packet::Pong => Ok(vec![Record::new("keepalive").text("text", "pong")]),
        Packet::Error(e) => Err(format!(
            "venue error: {}",
            String::from_utf8_lossy(e).into_owned()
        )),
        Packet::Ack | Packet::Noop => Ok(Vec::new()),
        Packet::Event { name, args } => {
            let text = std::str::from_utf8(args).map_err(|_| "event argument is not UTF-8")?;
            if text.is_empty() {
                return Ok(Vec::new());
            }
            let arg = parse_json(text)?;
            let channel = arg.get("channel").and_then(Value::as_str);
            // The envelope's `data` may be the payload or a JSON string of it.
            let data = match arg.get("data") {
                Some(Value::String(s)) => parse_json(s)?,
                Some(d @ Value::Object(_)) => d.clone(),
                _ => arg.clone(),
            };
            match name {
                "join" | "leave" | "ping" => Ok(Vec::new()),
                _ => payload(channel, &data),
            }
        }
    }
}

/// An event's payload, recognised by its fields.
fn payload(channel: Option<&str>, v: &Value) -> DecodeResult {
    if let Some(list) = v.as_array() {
        return list.iter().map(private_item).collect();
    }
    let pair = channel.map(|c| c.split('@').next().unwrap_or(c));
    if v.get("vs").is_some() && v.get("asks").is_some() {
        return Ok(vec![book(v, pair)?]);
    }
    if v.get("prices").is_some() {
        return marks(v);
    }
    if v.get("s").is_some() && v.get("q").is_some() {
        return Ok(vec![trade(v)?]);
    }
    if v.get("p").is_some() && v.get("T").is_some() {
        let mut r = Record::new("ticker").decimal("price", str_field(v, "p")?)?;
        if let Some(p) = pair {
            r = r.text("symbol", p);
        }
        return Ok(vec![r.text("ts", id_field(v, "T")?)]);
    }
    if let Some(bars) = v.get("data").and_then(Value::as_array) {
        return bars.iter().map(candle).collect();
    }
    Err("message has no normalised form".into())
}

/// The best level (highest bid, lowest ask) of a price→quantity map with a non-zero size,
/// and how many levels the map has.
fn best(v: &Value, k: &str, bids: bool) -> Result<(usize, Option<(String, String)>), String> {
    let map = v
        .get(k)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("missing map {k:?}"))?;
    let mut best: Option<(Price, &str, &str)> = None;
    for (p, q) in map {
        let q = q
            .as_str()
            .ok_or_else(|| format!("{k}: size of {p:?} is not text"))?;
        let price = Price::parse(p).map_err(|e| format!("{k} price {p:?}: {e}"))?;
        let size = Qty::parse(q).map_err(|e| format!("{k} size {q:?}: {e}"))?;
        if size.is_zero() {
            continue;
        }
        if best.is_none_or(|(b, ..)| (bids && price > b) || (!bids && price < b)) {
            best = Some((price, p, q));
        }
    }
    Ok((
        map.len(),
        best.map(|(_, p, q)| (p.to_owned(), q.to_owned())),
    ))
}

fn book(v: &Value, pair: Option<&str>) -> Result<Record, String> {
    let vs = v
        .get("vs")
        .and_then(Value::as_i64)
        .ok_or("missing or non-numeric field \"vs\"")?;
    let mut r = Record::new("book").text("type", "snapshot").seq(vs);
    if let Some(p) = pair {
        r = r.text("symbol", p);
    }
    let (nb, bid) = best(v, "bids", true)?;
    let (na, ask) = best(v, "asks", false)?;
    if let Some((p, q)) = bid {
        r = r.decimal("best_bid", &p)?.decimal("bid_qty", &q)?;
    }
    if let Some((p, q)) = ask {
        r = r.decimal("best_ask", &p)?.decimal("ask_qty", &q)?;
    }
    Ok(r.number("bid_levels", nb as u64)
        .number("ask_levels", na as u64)
        .text("ts", id_field(v, "ts")?))
}

fn trade(v: &Value) -> Result<Record, String> {
    // `m` = 1: the buyer was the maker, the seller took (super::UNCONFIRMED).
    let side = match v.get("m") {
        Some(m) if m.as_u64() == Some(1) || m.as_bool() == Some(true) => Side::Sell,
        Some(m) if m.as_u64() == Some(0) || m.as_bool() == Some(false) => Side::Buy,
        _ => return Err("missing or unknown \"m\"".into()),
    };
    let t = v
        .get("T")
        .and_then(Value::as_u64)
        .ok_or("missing or non-integer \"T\"")?;
    Ok(Record::new("trade")
        .text("symbol", str_field(v, "s")?)
        .decimal("price", str_field(v, "p")?)?
        .decimal("qty", str_field(v, "q")?)?
        .side(side)
        .text("ts", t.to_string()))
}

fn marks(v: &Value) -> DecodeResult {
    let prices = v
        .get("prices")
        .and_then(Value::as_object)
        .ok_or("\"prices\" is not a map")?;
    let ts = id_field(v, "ts")?;
    let mut out = Vec::new();
    for (pair, p) in prices {
        // Pairs without a mark in this update (the sample's B-UNI_USDT) give no record.
        let Some(mp) = p.get("mp") else { continue };
        out.push(
            Record::new("mark")
                .text("symbol", pair)
                .decimal("mark", &number_text(mp, "mp")?)?
                .text("ts", ts.clone()),
        );
    }
    Ok(out)
}

fn candle(c: &Value) -> Result<Record, String> {
    let mut r = Record::new("candle")
        .text("symbol", str_field(c, "pair")?)
        .text("interval", str_field(c, "duration")?);
    for k in ["open", "high", "low", "close", "volume"] {
        r = r.decimal(k, str_field(c, k)?)?;
    }
    Ok(r.text("open_time", id_field(c, "open_time")?))
}

/// A decimal sent as a JSON number or string, as text.
fn number_text(v: &Value, k: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("{k} is not a number")),
    }
}

fn num(v: &Value, k: &str) -> Result<String, String> {
    number_text(v.get(k).ok_or_else(|| format!("missing field {k:?}"))?, k)
}

/// An order's or position's wallet (`margin_currency_short_name`: the fee and margin
/// currency) and its conversion price (`price_key`, INR per USDT), when the item has them.
fn margin(v: &Value, mut r: Record, price_key: &str) -> Result<Record, String> {
    if let Ok(m) = str_field(v, "margin_currency_short_name") {
        r = r.text("margin_currency", m);
    }
    if let Some(p) = v.get(price_key).filter(|p| !p.is_null()) {
        r = r.decimal("conversion_price", &number_text(p, price_key)?)?;
    }
    Ok(r)
}

/// One item of a private list: an order, a position or a balance.
fn private_item(v: &Value) -> Result<Record, String> {
    if v.get("order_type").is_some() {
        let side = match str_field(v, "side")? {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(format!("unknown side {other:?}")),
        };
        let total = num(v, "total_quantity")?;
        let remaining = num(v, "remaining_quantity")?;
        let cancelled = num(v, "cancelled_quantity")?;
        let q = |s: &str| Qty::parse(s).map_err(|e| format!("quantity {s:?}: {e}"));
        let filled = q(&total)?
            .checked_sub(q(&remaining)?)
            .and_then(|x| x.checked_sub(q(&cancelled).ok()?))
            .ok_or("remaining and cancelled quantities exceed the total")?;
        let r = Record::new("order")
            .text("venue_order_id", str_field(v, "id")?)
            .text("symbol", str_field(v, "pair")?)
            .side(side)
            .text("order_type", str_field(v, "order_type")?)
            .status(order_status(str_field(v, "status")?)?)
            .decimal("price", &num(v, "price")?)?
            .decimal("qty", &total)?
            .text("filled_qty", filled.to_string())
            .decimal("avg_price", &num(v, "avg_price")?)?
            .decimal("fee", &num(v, "fee_amount")?)?;
        let r = margin(v, r, "settlement_currency_conversion_price")?;
        return Ok(r.text("ts", id_field(v, "updated_at").unwrap_or_default()));
    }
    if v.get("active_pos").is_some() {
        let pos = num(v, "active_pos")?;
        let r = Record::new("position")
            .text("symbol", str_field(v, "pair")?)
            .text("qty", pos)
            .decimal("entry_price", &num(v, "avg_price")?)?
            .text("leverage", num(v, "leverage")?)
            .decimal("mark", &num(v, "mark_price")?)?
            .decimal("liquidation_price", &num(v, "liquidation_price")?)?
            .text(
                "margin_type",
                str_field(v, "margin_type").unwrap_or("crossed"),
            );
        let r = margin(v, r, "settlement_currency_avg_price")?;
        return Ok(r.text("ts", id_field(v, "updated_at")?));
    }
    if v.get("currency_short_name").is_some() {
        return Record::new("balance")
            .text("asset", str_field(v, "currency_short_name")?)
            .venue_decimal("total", &num(v, "balance")?)?
            .venue_decimal("locked", &num(v, "locked_balance")?);
    }
    Err("list item has no normalised form".into())
}
