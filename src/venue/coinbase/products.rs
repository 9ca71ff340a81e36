//! Coinbase products and their filters (exchanges.md §4.2): `GET /api/v3/brokerage/products`
//! items as instrument filters, and the `-USDC` aliasing rule of the market data.

use serde_json::Value;

use crate::types::{Price, Qty};

/// One product's filters, as `/products` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFilters {
    pub product_id: String,
    /// `price_increment`: the tick.
    pub tick: Price,
    /// `base_increment`: the lot.
    pub lot: Qty,
    pub min_qty: Qty,
    pub max_qty: Option<Qty>,
    /// `quote_min_size`: the smallest order value in quote.
    pub min_notional: Option<Price>,
    /// `status` is `online` and `trading_disabled` is not true.
    pub tradable: bool,
}

/// Reads a `/products` answer (`{"products":[…]}`); an item that lacks a filter or whose
/// decimal the engine cannot hold is an error naming the product.
pub fn parse_products(body: &str) -> Result<Vec<ProductFilters>, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let items = v
        .get("products")
        .and_then(Value::as_array)
        .ok_or("no \"products\" list")?;
    items.iter().map(product).collect()
}

fn product(p: &Value) -> Result<ProductFilters, String> {
    let id = p
        .get("product_id")
        .and_then(Value::as_str)
        .ok_or("a product without product_id")?;
    let text = |k: &str| -> Result<&str, String> {
        p.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{id}: missing {k}"))
    };
    let opt = |k: &str| p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let qty = |k: &str, s: &str| Qty::parse(s).map_err(|e| format!("{id}: {k} {s:?}: {e}"));
    let price = |k: &str, s: &str| Price::parse(s).map_err(|e| format!("{id}: {k} {s:?}: {e}"));
    Ok(ProductFilters {
        product_id: id.to_owned(),
        tick: price("price_increment", text("price_increment")?)?,
        lot: qty("base_increment", text("base_increment")?)?,
        min_qty: qty("base_min_size", text("base_min_size")?)?,
        max_qty: opt("base_max_size")
            .map(|s| qty("base_max_size", s))
            .transpose()?,
        min_notional: opt("quote_min_size")
            .map(|s| price("quote_min_size", s))
            .transpose()?,
        tradable: opt("status") == Some("online")
            && !p
                .get("trading_disabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
    })
}

/// The product whose market data `product_id` shares: a `-USDC` product other than
/// `USDT-USDC` and `EURC-USDC` returns the market data of the matching `-USD` product
/// (they differ only on the `user` channel).
pub fn market_data_product(product_id: &str) -> std::borrow::Cow<'_, str> {
    match product_id.strip_suffix("-USDC") {
        Some(base) if base != "USDT" && base != "EURC" => format!("{base}-USD").into(),
        _ => product_id.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usdc_products_share_the_usd_market_data() {
        let cases = [
            ("ETH-USDC", "ETH-USD"),
            ("BTC-USDC", "BTC-USD"),
            ("USDT-USDC", "USDT-USDC"),
            ("EURC-USDC", "EURC-USDC"),
            ("BTC-USD", "BTC-USD"),
            ("BTC-EUR", "BTC-EUR"),
        ];
        for (id, want) in cases {
            assert_eq!(market_data_product(id), want, "{id}");
        }
    }

    #[test]
    fn products_become_filters() {
        let body = r#"{"products":[
            {"product_id":"BTC-USD","price":"21000","base_increment":"0.00000001",
             "quote_increment":"0.01","price_increment":"0.01","base_min_size":"0.00000001",
             "base_max_size":"3400","quote_min_size":"1","quote_max_size":"150000000",
             "status":"online","trading_disabled":false},
            {"product_id":"XYZ-USD","base_increment":"0.1","price_increment":"0.0001",
             "base_min_size":"1","status":"delisted","trading_disabled":true}
        ],"num_products":2}"#;
        let p = parse_products(body).unwrap();
        assert_eq!(
            p[0],
            ProductFilters {
                product_id: "BTC-USD".into(),
                tick: Price::parse("0.01").unwrap(),
                lot: Qty::parse("0.00000001").unwrap(),
                min_qty: Qty::parse("0.00000001").unwrap(),
                max_qty: Some(Qty::parse("3400").unwrap()),
                min_notional: Some(Price::parse("1").unwrap()),
                tradable: true,
            }
        );
        assert_eq!(p[1].max_qty, None);
        assert!(!p[1].tradable);
        let bad = [
            ("{}", "no \"products\" list"),
            (
                r#"{"products":[{"product_id":"A-B"}]}"#,
                "A-B: missing price_increment",
            ),
            (
                r#"{"products":[{"product_id":"A-B","price_increment":"1e-2","base_increment":"1","base_min_size":"1"}]}"#,
                "A-B: price_increment",
            ),
        ];
        for (body, want) in bad {
            let e = parse_products(body).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
    }
}
