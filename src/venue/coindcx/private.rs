//! The private channel `coindcx` (exchanges.md §7.5): `df-order-update`,
//! `df-position-update` and `balance-update`, each a list, decoded into typed records with
//! fixed-point figures. Off the hot path (the private stream is a few messages per order), so
//! read through serde_json. Numbers arrive as JSON numbers (`"price":0.9`); each is read from
//! its shortest decimal form, so `0.2966` is exactly 0.2966. The order session
//! (`session.rs`) and the REST codec (`rest.rs`, whose create and list answers carry the same
//! order items) read them.

use serde_json::Value;

use crate::types::{OrderStatus, Price, Qty, Side};

/// One `df-order-update` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The venue's order id (a UUID).
    pub id: String,
    pub pair: String,
    pub side: Side,
    pub status: OrderStatus,
    /// The venue's name for it (`limit_order`, `take_profit_limit`, …).
    pub order_type: String,
    pub price: Price,
    pub avg_price: Price,
    pub total_qty: Qty,
    pub remaining_qty: Qty,
    pub cancelled_qty: Qty,
    /// Fees charged so far, in the margin currency.
    pub fee: Qty,
    pub margin_currency: String,
    /// Units of the margin currency per USDT the venue converts this order at
    /// (`settlement_currency_conversion_price`), when the item carries a positive one.
    pub conversion_price: Option<Price>,
    /// When the venue created the order (`created_at`; `updated_at` when absent).
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

impl OrderUpdate {
    /// What was filled: total − remaining − cancelled.
    pub fn filled_qty(&self) -> Option<Qty> {
        self.total_qty
            .checked_sub(self.remaining_qty)?
            .checked_sub(self.cancelled_qty)
    }
}

/// One `df-position-update` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionUpdate {
    pub id: String,
    pub pair: String,
    /// The open quantity in base units, signed (negative: short), in 10^-8.
    pub active_pos_units: i64,
    pub avg_price: Price,
    pub liquidation_price: Price,
    pub mark_price: Price,
    pub leverage: Qty,
    pub locked_margin: Qty,
    /// `isolated` or `crossed`.
    pub margin_type: String,
    pub margin_currency: String,
    pub updated_at_ms: u64,
}

impl PositionUpdate {
    /// The position as the gateway compares it: signed base units (CoinDCX counts futures
    /// quantities in base), the entry when open, and the leverage the venue holds.
    pub fn venue_position(&self) -> crate::venue::order::VenuePosition {
        crate::venue::order::VenuePosition {
            symbol: self.pair.clone(),
            size: self.active_pos_units,
            entry: (self.active_pos_units != 0 && self.avg_price.is_positive())
                .then_some(self.avg_price),
            leverage: self
                .leverage
                .is_positive()
                .then(|| crate::types::Rate::from_units(self.leverage.units())),
        }
    }
}

/// One `balance-update` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceUpdate {
    pub currency: String,
    pub balance: Qty,
    pub locked: Qty,
}

/// The venue's order status (exchanges.md §7.3; `initial` is what create answers).
pub fn order_status(s: &str) -> Result<OrderStatus, String> {
    Ok(match s {
        "initial" | "open" | "untriggered" => OrderStatus::Acked,
        "partially_filled" => OrderStatus::PartiallyFilled,
        "filled" => OrderStatus::Filled,
        "cancelled" | "partially_cancelled" => OrderStatus::Cancelled,
        "rejected" => OrderStatus::Rejected,
        other => return Err(format!("unknown order status {other:?}")),
    })
}

fn list(text: &str) -> Result<Vec<Value>, String> {
    match serde_json::from_str::<Value>(text).map_err(|e| format!("not JSON: {e}"))? {
        Value::Array(items) => Ok(items),
        _ => Err("a private update is a list".into()),
    }
}

fn text<'v>(v: &'v Value, k: &str) -> Result<&'v str, String> {
    v.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing or non-text field {k:?}"))
}

/// A decimal field sent as a JSON number or string, in its shortest decimal text.
fn decimal_text(v: &Value, k: &str) -> Result<String, String> {
    match v.get(k) {
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(format!("missing or non-numeric field {k:?}")),
    }
}

fn price(v: &Value, k: &str) -> Result<Price, String> {
    let t = decimal_text(v, k)?;
    Price::parse(&t).map_err(|e| format!("{k} {t:?}: {e}"))
}

fn qty(v: &Value, k: &str) -> Result<Qty, String> {
    let t = decimal_text(v, k)?;
    Qty::parse(&t).map_err(|e| format!("{k} {t:?}: {e}"))
}

/// `settlement_currency_conversion_price`: absent, null or zero (a USDT order's) is none.
fn conversion_price(v: &Value) -> Result<Option<Price>, String> {
    const K: &str = "settlement_currency_conversion_price";
    if v.get(K).is_none_or(Value::is_null) {
        return Ok(None);
    }
    Ok(Some(price(v, K)?).filter(|p| p.is_positive()))
}

fn millis(v: &Value, k: &str) -> Result<u64, String> {
    v.get(k)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("missing or non-integer field {k:?}"))
}

/// A `df-order-update` message (its `data`).
pub fn order_updates(json: &str) -> Result<Vec<OrderUpdate>, String> {
    list(json)?
        .iter()
        .map(|o| {
            let side = match text(o, "side")? {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                other => return Err(format!("unknown side {other:?}")),
            };
            Ok(OrderUpdate {
                id: text(o, "id")?.to_owned(),
                pair: text(o, "pair")?.to_owned(),
                side,
                status: order_status(text(o, "status")?)?,
                order_type: text(o, "order_type")?.to_owned(),
                price: price(o, "price")?,
                avg_price: price(o, "avg_price")?,
                total_qty: qty(o, "total_quantity")?,
                remaining_qty: qty(o, "remaining_quantity")?,
                cancelled_qty: qty(o, "cancelled_quantity")?,
                fee: qty(o, "fee_amount")?,
                margin_currency: text(o, "margin_currency_short_name")
                    .unwrap_or("USDT")
                    .to_owned(),
                conversion_price: conversion_price(o)?,
                created_at_ms: millis(o, "created_at").or_else(|_| millis(o, "updated_at"))?,
                updated_at_ms: millis(o, "updated_at")?,
            })
        })
        .collect()
}

/// A `df-position-update` message.
pub fn position_updates(json: &str) -> Result<Vec<PositionUpdate>, String> {
    list(json)?
        .iter()
        .map(|p| {
            let pos = decimal_text(p, "active_pos")?;
            let (neg, abs) = match pos.strip_prefix('-') {
                Some(a) => (true, a),
                None => (false, pos.as_str()),
            };
            let units = Qty::parse(abs)
                .map_err(|e| format!("active_pos {pos:?}: {e}"))?
                .units();
            Ok(PositionUpdate {
                id: text(p, "id")?.to_owned(),
                pair: text(p, "pair")?.to_owned(),
                active_pos_units: if neg { -units } else { units },
                avg_price: price(p, "avg_price")?,
                liquidation_price: price(p, "liquidation_price")?,
                mark_price: price(p, "mark_price")?,
                leverage: qty(p, "leverage")?,
                locked_margin: qty(p, "locked_margin")?,
                margin_type: text(p, "margin_type").unwrap_or("crossed").to_owned(),
                margin_currency: text(p, "margin_currency_short_name")
                    .unwrap_or("USDT")
                    .to_owned(),
                updated_at_ms: millis(p, "updated_at")?,
            })
        })
        .collect()
}

/// A `balance-update` message.
pub fn balance_updates(json: &str) -> Result<Vec<BalanceUpdate>, String> {
    list(json)?
        .iter()
        .map(|b| {
            Ok(BalanceUpdate {
                currency: text(b, "currency_short_name")?.to_owned(),
                balance: qty(b, "balance")?,
                locked: qty(b, "locked_balance")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::decode::strip_comments;

    /// A reference sample (`.jsonc`: the docs' trailing commas stripped).
    fn sample(name: &str) -> String {
        let p = format!(
            "{}/tests/fixtures/coindcx/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        strip_comments(&std::fs::read_to_string(p).unwrap())
    }

    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    #[test]
    fn the_order_update_sample() {
        let u = order_updates(&sample("coindcx_ws_df_order_update.jsonc")).unwrap();
        assert_eq!(
            u,
            vec![OrderUpdate {
                id: "ff5a645f-84b7-4d63-b513-9e2f960855fc".into(),
                pair: "B-ID_USDT".into(),
                side: Side::Sell,
                status: OrderStatus::Cancelled,
                order_type: "take_profit_limit".into(),
                price: px("0.9"),
                avg_price: Price::ZERO,
                total_qty: Qty::ZERO,
                remaining_qty: Qty::ZERO,
                cancelled_qty: Qty::ZERO,
                fee: Qty::ZERO,
                margin_currency: "INR".into(),
                conversion_price: Some(px("89")),
                created_at_ms: 1_705_915_012_812,
                updated_at_ms: 1_705_999_727_686,
            }]
        );
        assert_eq!(u[0].filled_qty(), Some(Qty::ZERO));
    }

    #[test]
    fn the_create_order_answer_reads_as_an_order_update() {
        // The create answer has the same item shape (status "initial": accepted).
        let u = order_updates(&sample("coindcx_rest_create_order_response.json")).unwrap();
        assert_eq!(u.len(), 1);
        let o = &u[0];
        assert_eq!(
            (o.id.as_str(), o.side, o.status, o.order_type.as_str()),
            (
                "c87ca633-6218-44ea-900b-e86981358cbd",
                Side::Sell,
                OrderStatus::Acked,
                "market_order"
            )
        );
        assert_eq!(
            (o.price, o.total_qty, o.remaining_qty),
            (px("0.2966"), q("33"), q("33"))
        );
        assert_eq!(o.filled_qty(), Some(Qty::ZERO));
        assert_eq!(
            (
                o.margin_currency.as_str(),
                o.conversion_price,
                o.updated_at_ms
            ),
            ("INR", Some(px("89")), 1_705_647_376_759)
        );
    }

    #[test]
    fn the_position_and_balance_samples() {
        let p = position_updates(&sample("coindcx_ws_df_position_update.jsonc")).unwrap();
        assert_eq!(
            p,
            vec![PositionUpdate {
                id: "571eae12-236a-11ef-b36f-83670ba609ec".into(),
                pair: "B-BNB_USDT".into(),
                active_pos_units: 0,
                avg_price: Price::ZERO,
                liquidation_price: Price::ZERO,
                mark_price: Price::ZERO,
                leverage: q("10"),
                locked_margin: Qty::ZERO,
                margin_type: "isolated".into(),
                margin_currency: "INR".into(),
                updated_at_ms: 1_717_754_279_737,
            }]
        );
        let short = r#"[{"id":"x","pair":"B-BTC_USDT","active_pos":-0.005,"avg_price":60000.5,"liquidation_price":71000,"mark_price":60010.25,"leverage":5,"locked_margin":60.01,"updated_at":1}]"#;
        let p = position_updates(short).unwrap();
        assert_eq!(p[0].active_pos_units, -500_000);
        assert_eq!(
            (p[0].avg_price, p[0].mark_price),
            (px("60000.5"), px("60010.25"))
        );
        assert_eq!(
            balance_updates(&sample("coindcx_ws_balance_update.json")).unwrap(),
            vec![BalanceUpdate {
                currency: "USDT".into(),
                balance: q("1.0221449"),
                locked: q("0.99478995"),
            }]
        );
    }

    #[test]
    fn bad_updates_are_errors() {
        assert!(order_updates("{}").is_err());
        assert!(order_updates(r#"[{"id":"x"}]"#).is_err());
        assert!(order_status("weird").is_err());
        assert!(position_updates(r#"[{"id":"x","pair":"p","active_pos":"a"}]"#).is_err());
        assert!(balance_updates("[1]").is_err());
    }
}
