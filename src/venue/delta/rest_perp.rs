//! Delta's perpetual requests on the gateway's seam (`RestCodec::set_leverage` and
//! `RestCodec::positions`), and the product ids they need.
//!
//! **Product ids are learned from the venue, not configured.** Delta's leverage endpoint and
//! its real-time position query name the product by id (`POST
//! /v2/products/{product_id}/orders/leverage`, `GET /v2/positions?product_id=`), and the
//! reference says ids differ by environment and over time (India BTCUSD is 27 in production
//! and 84 on testnet; "always resolve ids from `/v2/products`"): a configured id would be
//! wrong the day the operator points the same config at testnet. So the first leverage or
//! position request for a symbol whose id is not known yet goes out as the documented
//! per-symbol lookup `GET /v2/products/{symbol}` (public, weight 3) instead; its answer's `id`
//! is kept for the codec's life. A lookup made for the leverage answers `Failed` with
//! [`LEVERAGE_SEND_AGAIN`], and the gateway sends the leverage at once (its next deadline
//! check); a lookup made for a position answers nothing, and the position is asked at the
//! next sweep.
//!
//! - Leverage: `POST /v2/products/{id}/orders/leverage` `{"leverage":5}` (the docs' sample
//!   writes a number) → `{"leverage":5,"order_margin":…,"product_id":27}`. An answer stating
//!   the configured leverage confirms it (`LeverageSet`); one stating another is a refusal
//!   (`Failed`, so no new exposure).
//! - Position: `GET /v2/positions?product_id={id}` → `{"size":12,"entry_price":"…"}` (signed
//!   whole contracts, "real time"; `/v2/positions/margined` "may take upto 10secs to reflect",
//!   too slow for the gateway's drift check). Delta states no leverage there.
//!
//! **Unconfirmed against the live venue:** the per-symbol product answer's `result` being the
//! Product object with its numeric `id`; the leverage body as a JSON number (the docs' sample)
//! rather than a string; the real-time position answer being one object (a list is read too,
//! its item for the symbol by `product_symbol`, none meaning flat).
//!
//! Each learned id's leverage path is kept as a `&'static str` (the REST seam's paths are
//! static): one small string per traded symbol, made once and never freed.

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::Rate;
use crate::venue::order::{LEVERAGE_SEND_AGAIN, Purpose, SessionEvent, VenueError, VenuePosition};
use crate::venue::rest::{Class, Method, RestHead};

use super::{Buf, DeltaRest, contracts, price, text};

/// The per-symbol product lookup's static part (`GetPath`: the symbol ends the path).
const PRODUCT: &str = "/v2/products/";
const POSITIONS: &str = "/v2/positions";

/// One product as the venue named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub symbol: String,
    pub id: u64,
    /// `POST /v2/products/{id}/orders/leverage`.
    leverage_path: &'static str,
}

/// The product ids learned so far, and the lookups in flight (request id → symbol).
#[derive(Debug, Default)]
pub(super) struct Products {
    known: Vec<Product>,
    lookups: Vec<(u64, String)>,
}

impl Products {
    fn get(&self, symbol: &str) -> Option<&Product> {
        self.known.iter().find(|p| p.symbol == symbol)
    }

    /// Whether request `id` was a product lookup (forgotten either way).
    pub(super) fn take_lookup(&mut self, id: u64) -> Option<String> {
        let k = self.lookups.iter().position(|(i, _)| *i == id)?;
        Some(self.lookups.swap_remove(k).1)
    }

    fn learn(&mut self, symbol: &str, id: u64) {
        if self.get(symbol).is_some_and(|p| p.id == id) {
            return;
        }
        let path: &'static str =
            Box::leak(format!("/v2/products/{id}/orders/leverage").into_boxed_str());
        self.known.retain(|p| p.symbol != symbol);
        self.known.push(Product {
            symbol: symbol.to_owned(),
            id,
            leverage_path: path,
        });
    }
}

impl DeltaRest {
    /// The product id learned for `symbol`, if any.
    pub fn product_id(&self, symbol: &str) -> Option<u64> {
        self.products.get(symbol).map(|p| p.id)
    }

    /// `GET /v2/products/{symbol}` on behalf of `purpose`.
    fn lookup(
        &mut self,
        symbol: &str,
        purpose: Purpose,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        buf.extend_from_slice(symbol.as_bytes());
        let head = self.finish(purpose, Method::GetPath, PRODUCT, Class::Query, buf, now_ms);
        self.products.lookups.push((head.id, symbol.to_owned()));
        head
    }

    /// `RestCodec::positions`: the real-time position of `symbol`, or its product lookup.
    pub(super) fn position_request(
        &mut self,
        symbol: &str,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let purpose = Purpose::Positions(symbol.to_owned());
        let Some(id) = self.product_id(symbol) else {
            return self.lookup(symbol, purpose, now_ms, buf);
        };
        buf.clear();
        let _ = write!(Buf(buf), "product_id={id}");
        self.finish(purpose, Method::Get, POSITIONS, Class::Sweep, buf, now_ms)
    }

    /// `RestCodec::set_leverage`: the product's order leverage, or its product lookup.
    pub(super) fn leverage_request(
        &mut self,
        symbol: &str,
        leverage: Rate,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        let purpose = Purpose::SetLeverage {
            symbol: symbol.to_owned(),
            leverage,
        };
        let Some(path) = self.products.get(symbol).map(|p| p.leverage_path) else {
            return self.lookup(symbol, purpose, now_ms, buf);
        };
        buf.clear();
        let mut n = [0u8; 48];
        buf.extend_from_slice(br#"{"leverage":"#);
        let k = leverage.write_fixed(leverage.decimals_needed(), &mut n);
        buf.extend_from_slice(&n[..k]);
        buf.push(b'}');
        self.finish(purpose, Method::Post, path, Class::Query, buf, now_ms)
    }

    /// A product lookup's answer (`result` the Product): the id learned, and what the request
    /// it stood in for needs next.
    pub(super) fn on_product(
        &mut self,
        symbol: &str,
        purpose: &Purpose,
        result: &Value,
    ) -> Result<Vec<SessionEvent>, String> {
        let named = text(result, "symbol")?;
        if named != symbol {
            return Err(format!("product lookup for {symbol} answered {named}"));
        }
        let id = result
            .get("id")
            .and_then(Value::as_u64)
            .ok_or("product without a numeric id")?;
        self.products.learn(symbol, id);
        Ok(match purpose {
            Purpose::SetLeverage { .. } => vec![SessionEvent::Failed {
                purpose: purpose.clone(),
                error: VenueError {
                    code: LEVERAGE_SEND_AGAIN,
                    msg: format!("product id {id} of {symbol} learned: the leverage follows"),
                },
            }],
            _ => vec![SessionEvent::Other(format!(
                "product id {id} of {symbol} learned"
            ))],
        })
    }
}

/// The leverage answer: `LeverageSet` when the venue states the leverage asked for, a
/// refusal when it states another.
pub(super) fn leverage_answer(
    symbol: &str,
    asked: Rate,
    result: &Value,
) -> Result<Vec<SessionEvent>, String> {
    let held = match result.get("leverage") {
        Some(Value::Number(n)) => Rate::parse(&n.to_string()).map_err(|e| e.to_string())?,
        Some(Value::String(s)) => Rate::parse(s).map_err(|e| e.to_string())?,
        _ => return Err("leverage answer without result.leverage".into()),
    };
    Ok(vec![if held == asked {
        SessionEvent::LeverageSet {
            symbol: symbol.to_owned(),
            leverage: held,
        }
    } else {
        SessionEvent::Failed {
            purpose: Purpose::SetLeverage {
                symbol: symbol.to_owned(),
                leverage: asked,
            },
            error: VenueError {
                code: 400,
                msg: format!("the venue holds leverage {held}"),
            },
        }
    }])
}

/// The real-time position answer as the venue's `Position` (signed whole contracts as order
/// units at 10^-8; no leverage stated).
pub(super) fn position_answer(symbol: &str, result: &Value) -> Result<Vec<SessionEvent>, String> {
    let item = match result {
        Value::Array(l) => l
            .iter()
            .find(|d| text(d, "product_symbol").is_ok_and(|s| s == symbol)),
        v @ Value::Object(_) => Some(v),
        _ => return Err("position answer whose result is neither an object nor a list".into()),
    };
    let (size, entry) = match item {
        Some(d) => (contracts(d, "size")?, price(d, "entry_price")?),
        None => (0, None),
    };
    let size = size
        .checked_mul(crate::types::SCALE)
        .ok_or_else(|| format!("position size {size} out of range"))?;
    Ok(vec![SessionEvent::Position(VenuePosition {
        symbol: symbol.to_owned(),
        size,
        entry: if size == 0 { None } else { entry },
        leverage: None,
    })])
}

#[cfg(test)]
#[path = "rest_perp_tests.rs"]
mod tests;
