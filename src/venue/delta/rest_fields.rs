//! Reading Delta's REST answers: the error code and the refusal it means, and the fields of
//! order, fee and balance objects (decimals, whole contracts, prices, ids).

use super::*;

/// The error's code: `error.code` of the object form, or the flat form's `error` string.
pub(super) fn error_code(v: &Value) -> String {
    match v.get("error") {
        Some(Value::String(s)) => s.clone(),
        Some(e) => e
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        None => String::new(),
    }
}

pub(super) fn refused(
    purpose: Purpose,
    error: VenueError,
    code: &str,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    let class = classify(code);
    out.push(match purpose {
        // An edit refused leaves the order as it was.
        Purpose::Amend(cid) => SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: error.code,
                at,
            },
        },
        Purpose::Place(cid) if class == ErrorClass::Rejected => {
            SessionEvent::PlaceRejected { cid, error }
        }
        Purpose::Place(cid) => SessionEvent::Uncertain { cid },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == ErrorClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        Purpose::PlaceBatch(ids) => return edit::batch_refused(&ids, false, error, class, out),
        Purpose::CancelBatch(ids) => return edit::batch_refused(&ids, true, error, class, out),
        p => SessionEvent::Failed { purpose: p, error },
    });
}

pub(super) fn venue_id(id: u64) -> Result<VenueOrderId, String> {
    VenueOrderId::new(id.to_string().as_bytes()).ok_or_else(|| format!("order id {id}"))
}

pub(super) fn list(result: &Value) -> Result<&Vec<Value>, String> {
    result
        .as_array()
        .ok_or_else(|| "answer whose result is not a list".to_owned())
}

pub(super) fn text<'v>(d: &'v Value, k: &str) -> Result<&'v str, String> {
    d.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("without {k:?}"))
}

/// A decimal string (or null / `""`: zero), signed, cut to 8 places.
pub(super) fn signed_amount(d: &Value, k: &str) -> Result<Qty, String> {
    match d.get(k) {
        None | Some(Value::Null) => Ok(Qty::ZERO),
        Some(Value::String(s)) if s.is_empty() => Ok(Qty::ZERO),
        Some(Value::String(s)) => floor8(s)
            .map(|(neg, q)| if neg { Qty::from_units(-q.units()) } else { q })
            .ok_or_else(|| format!("{k} {s:?}: not a decimal")),
        Some(other) => Err(format!("{k} {other}: not a decimal string")),
    }
}

pub(super) fn amount(d: &Value, k: &str) -> Result<Qty, String> {
    let q = signed_amount(d, k)?;
    if q.units() < 0 {
        return Err(format!("{k}: negative"));
    }
    Ok(q)
}

/// Whole contracts (an integer, or an integral string).
pub(super) fn contracts(d: &Value, k: &str) -> Result<i64, String> {
    match d.get(k) {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{k} {n}: not an integer")),
        Some(Value::String(t)) => t.parse().map_err(|_| format!("{k} {t:?}: not an integer")),
        _ => Err(format!("without {k:?}")),
    }
}

pub(super) fn price(d: &Value, k: &str) -> Result<Option<Price>, String> {
    match d.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Price::parse(s)
            .map(Some)
            .map_err(|e| format!("{k} {s:?}: {e}")),
        Some(other) => Err(format!("{k} {other}: not a decimal string")),
    }
}

/// An Order object (§5) as a snapshot of its cumulative figures; `Ok(None)` for an order
/// that is not ours (no client id mako could have minted).
pub(in crate::venue::delta) fn order(d: &Value) -> Result<Option<OrderSnapshot>, String> {
    let Some(cid) = d
        .get("client_order_id")
        .and_then(Value::as_str)
        .and_then(|c| ClientOrderId::parse(c).ok())
    else {
        return Ok(None);
    };
    let size = contracts(d, "size")?;
    let unfilled = contracts(d, "unfilled_size")?;
    if size < 0 || unfilled < 0 || unfilled > size {
        return Err(format!("size {size} / unfilled_size {unfilled}"));
    }
    let filled = Qty::from_int(size - unfilled);
    let status = match text(d, "state")? {
        "open" | "pending" => SnapshotStatus::Open,
        "closed" => SnapshotStatus::Filled,
        "cancelled" => SnapshotStatus::Cancelled,
        other => return Err(format!("unknown state {other:?}")),
    };
    let avg = price(d, "average_fill_price")?;
    let cum_quote = match avg {
        Some(p) => Notional::of(p, filled),
        None if filled.is_zero() => Notional::default(),
        None => return Err("filled without average_fill_price".into()),
    };
    let id = d
        .get("id")
        .or_else(|| d.get("order_id"))
        .and_then(Value::as_u64)
        .ok_or("without an order id")?;
    Ok(Some(OrderSnapshot {
        cid,
        symbol: text(d, "product_symbol")
            .or_else(|_| text(d, "symbol"))?
            .to_owned(),
        venue_order_id: venue_id(id)?,
        status,
        cum_qty: filled,
        cum_quote,
        price: price(d, "limit_price")?.unwrap_or(Price::ZERO),
        orig_qty: Qty::from_int(size),
        side: match text(d, "side")? {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(format!("unknown side {other:?}")),
        },
    }))
}

/// An order's fees from its `paid_commission`, as one entry for the whole order (the trade
/// id is the order's, prefixed `o`).
pub(super) fn fees(
    d: &Value,
    settle: Option<AssetCode>,
) -> Result<Vec<(TradeId, Qty, AssetCode)>, String> {
    let asset = settle.ok_or("order of a symbol not traded here")?;
    let id = d.get("id").and_then(Value::as_u64).ok_or("without id")?;
    let fee = signed_amount(d, "paid_commission")?;
    let tid = TradeId::new(format!("o{id}").as_bytes()).ok_or("order id too long")?;
    Ok(vec![(tid, fee, asset)])
}

/// `GET /v2/wallet/balances`' `result[]`: `asset_symbol`, `balance` and `available_balance`
/// ("balance − blocked_margin"): free is the available balance, locked the rest.
pub(in crate::venue::delta) fn balances(result: &Value) -> Result<Vec<Balance>, String> {
    list(result)?.iter().map(balance).collect()
}

pub(in crate::venue::delta) fn balance(d: &Value) -> Result<Balance, String> {
    let total = amount(d, "balance")?;
    let free = amount(d, "available_balance")?;
    Ok(Balance {
        asset: AssetCode::new(text(d, "asset_symbol")?.as_bytes())
            .ok_or("asset_symbol is empty or too long")?,
        free,
        locked: total.saturating_sub(free),
    })
}
