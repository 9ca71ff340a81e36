//! Reading CoinDCX's REST answers: an order update as a snapshot and as session events (its
//! fills and fees), order, balance and position lists, and an error answer as the refusal it
//! means.

use super::*;

/// A venue order item as a snapshot of its cumulative figures.
pub fn snapshot_of(cid: ClientOrderId, u: &OrderUpdate) -> OrderSnapshot {
    let cum = u.filled_qty().unwrap_or(Qty::ZERO);
    OrderSnapshot {
        cid,
        symbol: u.pair.clone(),
        venue_order_id: VenueOrderId::new(u.id.as_bytes())
            .unwrap_or_else(|| unreachable!("claimed ids are valid")),
        status: snapshot_status(u.status),
        cum_qty: cum,
        cum_quote: Notional::of(u.avg_price, cum),
        price: u.price,
        orig_qty: u.total_qty,
        side: u.side,
    }
}

pub(super) fn snapshot_status(s: OrderStatus) -> SnapshotStatus {
    match s {
        OrderStatus::Filled => SnapshotStatus::Filled,
        OrderStatus::Cancelled => SnapshotStatus::Cancelled,
        OrderStatus::Rejected => SnapshotStatus::Rejected,
        OrderStatus::Expired => SnapshotStatus::Expired,
        _ => SnapshotStatus::Open,
    }
}

/// The events of one of mako's orders as the venue lists or pushes it: a snapshot of its
/// cumulative figures (`total − remaining − cancelled` filled at `avg_price`; a market
/// order's `price` is no limit, so no terms), and its fees so far once it has filled.
pub fn order_events(cid: ClientOrderId, u: &OrderUpdate, at: UnixNanos) -> Vec<SessionEvent> {
    let Some(venue_order_id) = VenueOrderId::new(u.id.as_bytes()) else {
        return vec![SessionEvent::Undecodable(format!("order id {:?}", u.id))];
    };
    let Some(cum_qty) = u.filled_qty() else {
        return vec![SessionEvent::Undecodable(format!(
            "order {}: remaining and cancelled exceed the total",
            u.id
        ))];
    };
    let terms = (u.order_type != "market_order").then_some((u.price, u.total_qty));
    let mut out = vec![SessionEvent::Order {
        cid,
        event: OrderEvent::Snapshot {
            venue_order_id,
            status: snapshot_status(u.status),
            cum_qty,
            cum_quote: Notional::of(u.avg_price, cum_qty),
            terms,
            at,
        },
    }];
    if !cum_qty.is_zero() {
        fee_events(cid, u, &mut out);
    }
    out
}

/// The order's cumulative fee as its one trade entry (named by the order's id: CoinDCX's
/// order items carry no trade ids), in the margin currency; before it, when the margin
/// currency is not the pair's quote (an INR order of `B-BTC_USDT`) and the item gives one,
/// the venue's conversion price, so that the engine counts the fee in the quote at the
/// venue's own rate.
pub(super) fn fee_events(cid: ClientOrderId, u: &OrderUpdate, out: &mut Vec<SessionEvent>) {
    let (Some(id), Some(asset)) = (
        TradeId::new(u.id.as_bytes()),
        AssetCode::new(u.margin_currency.as_bytes()),
    ) else {
        return;
    };
    let quote = u.pair.rsplit('_').next().unwrap_or_default();
    if let Some(per_quote) = u.conversion_price.filter(|_| u.margin_currency != quote) {
        out.push(SessionEvent::FeeRate {
            cid,
            asset,
            per_quote,
        });
    }
    out.push(SessionEvent::Trades {
        cid,
        trades: vec![(id, u.fee, asset)],
    });
}

/// An order list (create and list answers are lists of order items).
pub(super) fn orders(body: &[u8]) -> Result<Vec<OrderUpdate>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "answer is not UTF-8".to_owned())?;
    order_updates(text)
}

/// `GET /wallets`: a list of `{currency_short_name, balance, locked_balance, …}`, the shape
/// `balance-update` pushes. `balance` is read as the wallet's total and `locked_balance` as
/// the margin held within it (the reference documents neither field: unconfirmed).
pub fn balances(body: &[u8]) -> Result<Vec<Balance>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "answer is not UTF-8".to_owned())?;
    crate::venue::coindcx::private::balance_updates(text)?
        .into_iter()
        .map(|b| {
            Ok(Balance {
                asset: AssetCode::new(b.currency.as_bytes())
                    .ok_or_else(|| format!("currency {:?}", b.currency))?,
                free: b.balance.saturating_sub(b.locked),
                locked: b.locked,
            })
        })
        .collect()
}

/// `POST /positions`: the items of `df-position-update`'s shape
/// (`coindcx_rest_positions_response.json`).
pub fn positions(
    body: &[u8],
) -> Result<Vec<crate::venue::coindcx::private::PositionUpdate>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "answer is not UTF-8".to_owned())?;
    crate::venue::coindcx::private::position_updates(text)
}

/// The position of `symbol` on the `margin` wallet in a positions answer (none listed:
/// flat; the other wallet's position of the same pair is not this one).
pub(super) fn position_of(
    symbol: &str,
    margin: &str,
    l: &[crate::venue::coindcx::private::PositionUpdate],
) -> Vec<SessionEvent> {
    let mine = |p: &&crate::venue::coindcx::private::PositionUpdate| {
        p.pair == symbol && crate::venue::coindcx::margin::is_mine(&p.margin_currency, margin)
    };
    vec![SessionEvent::Position(l.iter().find(mine).map_or_else(
        || crate::venue::order::VenuePosition {
            symbol: symbol.to_owned(),
            size: 0,
            entry: None,
            leverage: None,
        },
        crate::venue::coindcx::private::PositionUpdate::venue_position,
    ))]
}

/// A refusal's code (the body's `code`, else the HTTP status) and message (`message`).
pub(super) fn error_of(status: u16, body: &[u8]) -> VenueError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    VenueError {
        code: v
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(i32::from(status)),
        msg: v
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    }
}

pub(super) fn refused(
    purpose: Purpose,
    error: VenueError,
    class: ErrorClass,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    out.push(match purpose {
        // An edit refused (or not sent) leaves the order as it was.
        Purpose::Amend(cid) => CoindcxRest::edit_refused(cid, &error, at),
        // Only a documented refusal (400, 401, 422) says nothing was placed.
        Purpose::Place(cid) if class != ErrorClass::Rejected => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == ErrorClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}
