//! Coinbase products and their filters (exchanges.md §4.2): `GET /api/v3/brokerage/products`
//! items as instrument filters, the configured instruments checked against them at start,
//! and the `-USDC` aliasing rule of the market data.
//!
//! **At start** the gateway of a `coinbase` venue fetches `/products` (once, before it runs:
//! `engine::venues`) and [`check`]s every configured instrument against its product:
//! - a product the venue does not list, or lists as not tradable (`status` other than
//!   `online`, or `trading_disabled`), is a start error;
//! - `tick_size`, `lot_size`, `min_qty` and `min_notional` are a **start error** when the
//!   venue would refuse orders the config allows: the tick (lot) must be a multiple of
//!   `price_increment` (`base_increment`), `min_qty` at least `base_min_size`, `min_notional`
//!   at least `quote_min_size`. These figures shape the prices and sizes every strategy,
//!   the risk checks and the paper books compute from the config, so the gateway cannot
//!   quietly swap in the venue's: the error names the field and both values;
//! - `max_qty` is only a cap the gateway applies to each order: a config without one (or a
//!   larger one) takes the venue's `base_max_size`, with a warning.

use serde_json::Value;

use crate::types::{Instrument, Price, Qty, VenueId};

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

/// Checks `instruments` (one venue's) against the venue's `products`; on success, the
/// warnings to log, and `max_qty` lowered to the venue's `base_max_size` where the config
/// had none or a larger one. The first mismatch is an error naming the instrument, the
/// config field and the venue's field with both values.
pub fn check(
    instruments: &mut [Instrument],
    venue: VenueId,
    products: &[ProductFilters],
) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for inst in instruments.iter_mut().filter(|i| i.venue == venue) {
        let sym = inst.symbol.as_str();
        let p = products
            .iter()
            .find(|p| p.product_id == sym)
            .ok_or_else(|| format!("{sym}: the venue lists no such product"))?;
        if !p.tradable {
            return Err(format!(
                "{sym}: the venue lists the product as not tradable (status/trading_disabled)"
            ));
        }
        let bad = |field: &str, have: String, venue: &str, want: String, rule: &str| {
            format!("{sym}: {field} = {have} does not fit the venue's {venue} = {want} ({rule})")
        };
        if !inst.tick_size.is_multiple_of(p.tick) {
            return Err(bad(
                "tick_size",
                inst.tick_size.to_string(),
                "price_increment",
                p.tick.to_string(),
                "must be a multiple of it",
            ));
        }
        if !inst.lot_size.is_multiple_of(p.lot) {
            return Err(bad(
                "lot_size",
                inst.lot_size.to_string(),
                "base_increment",
                p.lot.to_string(),
                "must be a multiple of it",
            ));
        }
        if inst.min_qty < p.min_qty {
            return Err(bad(
                "min_qty",
                inst.min_qty.to_string(),
                "base_min_size",
                p.min_qty.to_string(),
                "must be at least it",
            ));
        }
        if let Some(m) = p.min_notional
            && inst.min_notional < m
        {
            return Err(bad(
                "min_notional",
                inst.min_notional.to_string(),
                "quote_min_size",
                m.to_string(),
                "must be at least it",
            ));
        }
        if let Some(m) = p.max_qty.filter(|m| m.is_positive())
            && (inst.max_qty.is_zero() || inst.max_qty > m)
        {
            let had = if inst.max_qty.is_zero() {
                "none".to_owned()
            } else {
                inst.max_qty.to_string()
            };
            warnings.push(format!(
                "{sym}: max_qty {had} in the config; the venue's base_max_size {m} is used"
            ));
            inst.max_qty = m;
        }
    }
    Ok(warnings)
}

/// `GET /api/v3/brokerage/products` (authenticated, so it carries a JWT like every private
/// call).
pub const PRODUCTS: &str = "/api/v3/brokerage/products";

/// The start check of one venue's `instruments` (others are left alone): `get` fetches
/// `path?query` (the gateway's REST plan: the JWT, the venue's host) and gives the status
/// and body; the answer is parsed and [`check`]ed. The warnings to log, or the start error.
pub fn at_start(
    instruments: &mut [Instrument],
    venue: VenueId,
    get: impl FnOnce(&'static str, &str) -> Result<(u16, Vec<u8>), String>,
) -> Result<Vec<String>, String> {
    let symbols: Vec<&str> = instruments
        .iter()
        .filter(|i| i.venue == venue)
        .map(|i| i.symbol.as_str())
        .collect();
    if symbols.is_empty() {
        return Ok(Vec::new());
    }
    let (status, body) =
        get(PRODUCTS, &query(&symbols)).map_err(|e| format!("GET {PRODUCTS}: {e}"))?;
    let body = String::from_utf8_lossy(&body);
    if status != 200 {
        let head: String = body.chars().take(200).collect();
        return Err(format!("GET {PRODUCTS}: HTTP {status}: {head}"));
    }
    let products = parse_products(&body).map_err(|e| format!("GET {PRODUCTS}: {e}"))?;
    check(instruments, venue, &products)
}

/// The request for the products of `symbols`: `product_ids` repeated, spot only (the
/// parameters and the tradable rule are unconfirmed readings: `super::UNCONFIRMED`).
pub fn query(symbols: &[&str]) -> String {
    let mut q = String::from("product_type=SPOT");
    for s in symbols {
        q.push_str("&product_ids=");
        q.push_str(s);
    }
    q
}

/// The product whose market data `product_id` shares: a `-USDC` product other than
/// `USDT-USDC` and `EURC-USDC` returns the market data of the matching `-USD` product
/// (they differ only on the `user` channel; `super::UNCONFIRMED`).
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

    fn filters(id: &str) -> ProductFilters {
        ProductFilters {
            product_id: id.into(),
            tick: Price::parse("0.01").unwrap(),
            lot: Qty::parse("0.001").unwrap(),
            min_qty: Qty::parse("0.001").unwrap(),
            max_qty: Some(Qty::parse("5000").unwrap()),
            min_notional: Some(Price::parse("1").unwrap()),
            tradable: true,
        }
    }

    fn inst(sym: &str, tick: &str, lot: &str, min: &str, notional: &str) -> Instrument {
        let mut i = Instrument::new(
            crate::types::InstrumentId(0),
            crate::types::VenueId(0),
            sym,
            "SOL",
            "USD",
            Price::parse(tick).unwrap(),
            Qty::parse(lot).unwrap(),
        )
        .unwrap();
        i.min_qty = Qty::parse(min).unwrap();
        i.min_notional = Price::parse(notional).unwrap();
        i
    }

    #[test]
    fn instruments_that_fit_the_venue_pass_and_take_its_max_size() {
        let venue = [filters("SOL-USD")];
        // A coarser tick and lot than the venue's, larger minimums: every order fits.
        let mut mine = [inst("SOL-USD", "0.05", "0.01", "0.01", "5")];
        let w = check(&mut mine, VenueId(0), &venue).unwrap();
        assert_eq!(
            w,
            ["SOL-USD: max_qty none in the config; the venue's base_max_size 5000 is used"]
        );
        assert_eq!(mine[0].max_qty, Qty::parse("5000").unwrap());
        mine[0].max_qty = Qty::parse("10").unwrap();
        assert!(check(&mut mine, VenueId(0), &venue).unwrap().is_empty());
        assert_eq!(mine[0].max_qty, Qty::parse("10").unwrap());
    }

    #[test]
    fn a_mismatch_is_an_error_naming_the_field() {
        let mut venue = vec![filters("SOL-USD")];
        let cases = [
            (
                inst("SOL-USD", "0.005", "0.001", "0.001", "1"),
                "SOL-USD: tick_size = 0.005 does not fit the venue's price_increment = 0.01",
            ),
            (
                inst("SOL-USD", "0.01", "0.0015", "0.003", "1"),
                "SOL-USD: lot_size = 0.0015 does not fit the venue's base_increment = 0.001",
            ),
            (
                inst("SOL-USD", "0.01", "0.0001", "0.0001", "1"),
                "SOL-USD: lot_size = 0.0001 does not fit the venue's base_increment = 0.001",
            ),
            (
                inst("SOL-USD", "0.01", "0.001", "0", "1"),
                "SOL-USD: min_qty = 0 does not fit the venue's base_min_size = 0.001",
            ),
            (
                inst("SOL-USD", "0.01", "0.001", "0.001", "0.5"),
                "SOL-USD: min_notional = 0.5 does not fit the venue's quote_min_size = 1",
            ),
            (
                inst("ETH-USD", "0.01", "0.001", "0.001", "1"),
                "ETH-USD: the venue lists no such product",
            ),
        ];
        for (i, want) in cases {
            let e = check(&mut [i], VenueId(0), &venue).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
        venue[0].tradable = false;
        let e = check(
            &mut [inst("SOL-USD", "0.01", "0.001", "0.001", "1")],
            VenueId(0),
            &venue,
        )
        .unwrap_err();
        assert!(e.contains("not tradable"), "{e}");
    }

    #[test]
    fn the_products_query_names_each_symbol() {
        assert_eq!(
            query(&["SOL-USD", "ETH-USD"]),
            "product_type=SPOT&product_ids=SOL-USD&product_ids=ETH-USD"
        );
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
