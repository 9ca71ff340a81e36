//! Delta requests the gateway does not drive (it has no step for them), encoded and decoded
//! for a caller that sends them itself: `DELETE /v2/orders/all`, `GET
//! /v2/positions/margined`, `GET /v2/fills` and `POST /v2/products/{id}/orders/leverage` by a
//! known id, signed like every other request (`DeltaRest::sign`).

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::{Price, Qty, Side, TradeId, VenueOrderId};
use crate::venue::rest::{Method, SignedHeaders};

use super::{Buf, DeltaRest, amount, contracts, error_code, list, price, signed_amount, text};

/// A request the gateway does not drive, encoded for its caller: method, the full path and
/// the bytes to send (the query without its `?`, or the body), and the signed headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRequest {
    pub method: Method,
    pub path: String,
    pub signed: SignedHeaders,
}

/// One position as `GET /v2/positions/margined` lists it: signed contracts (> 0 long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenuePosition {
    pub symbol: String,
    pub size: i64,
    pub entry_price: Option<Price>,
    pub margin: Qty,
    pub liquidation_price: Option<Price>,
}

/// One fill as `GET /v2/fills` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueFill {
    pub id: TradeId,
    pub order_id: VenueOrderId,
    pub symbol: String,
    pub side: Side,
    pub size: Qty,
    pub price: Price,
    /// Negative: a maker rebate.
    pub commission: Qty,
    pub maker: bool,
}

impl DeltaRest {
    pub(super) fn own(&self, method: Method, path: String, buf: &[u8], now_ms: u64) -> OwnRequest {
        let signed = self.sign(method, &path, buf, now_ms);
        OwnRequest {
            method,
            path,
            signed,
        }
    }

    /// `DELETE /v2/orders/all` with the body `{"product_id":…}` (every open order of the
    /// product) or `{}` (all products). Weight unlisted (§6.2: 1).
    pub fn cancel_all(
        &self,
        product_id: Option<u64>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> OwnRequest {
        buf.clear();
        match product_id {
            Some(id) => {
                let _ = write!(Buf(buf), r#"{{"product_id":{id}}}"#);
            }
            None => buf.extend_from_slice(b"{}"),
        }
        self.own(Method::DeleteJson, "/v2/orders/all".into(), buf, now_ms)
    }

    /// `GET /v2/positions/margined`: every position with its margin and liquidation price.
    pub fn margined_positions(&self, now_ms: u64, buf: &mut Vec<u8>) -> OwnRequest {
        buf.clear();
        self.own(Method::Get, "/v2/positions/margined".into(), buf, now_ms)
    }

    /// `GET /v2/fills?page_size=50` (the latest 50 fills; weight 10).
    pub fn fills(&self, now_ms: u64, buf: &mut Vec<u8>) -> OwnRequest {
        buf.clear();
        buf.extend_from_slice(b"page_size=50");
        self.own(Method::Get, "/v2/fills".into(), buf, now_ms)
    }

    /// `POST /v2/products/{product_id}/orders/leverage` `{"leverage":"10"}` (§4.7) for a
    /// caller that knows the product id; the leverage is written as a decimal string, as
    /// Delta writes big decimals. (The gateway's own leverage request is `rest_perp.rs`'s,
    /// with the id learned from the venue and the number form of the docs' sample.)
    pub fn leverage_by_id(
        &self,
        product_id: u64,
        leverage: Price,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> OwnRequest {
        buf.clear();
        let mut n = [0u8; 48];
        buf.extend_from_slice(br#"{"leverage":""#);
        let k = leverage.write_fixed(leverage.decimals_needed(), &mut n);
        buf.extend_from_slice(&n[..k]);
        buf.extend_from_slice(br#""}"#);
        self.own(
            Method::Post,
            format!("/v2/products/{product_id}/orders/leverage"),
            buf,
            now_ms,
        )
    }
}

/// `GET /v2/positions/margined`'s answer.
pub fn decode_positions(body: &[u8]) -> Result<Vec<VenuePosition>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    list(v.get("result").unwrap_or(&Value::Null))?
        .iter()
        .map(|d| {
            Ok(VenuePosition {
                symbol: text(d, "product_symbol")
                    .or_else(|_| text(d, "symbol"))?
                    .to_owned(),
                size: contracts(d, "size")?,
                entry_price: price(d, "entry_price")?,
                margin: amount(d, "margin")?,
                liquidation_price: price(d, "liquidation_price")?,
            })
        })
        .collect()
}

/// `GET /v2/fills`' answer.
pub fn decode_fills(body: &[u8]) -> Result<Vec<VenueFill>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    list(v.get("result").unwrap_or(&Value::Null))?
        .iter()
        .map(|d| {
            let id = match d.get("id") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => return Err("fill without id".to_owned()),
            };
            let order_id = match d.get("order_id") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => return Err("fill without order_id".to_owned()),
            };
            Ok(VenueFill {
                id: TradeId::new(id.as_bytes()).ok_or("fill id too long")?,
                order_id: VenueOrderId::new(order_id.as_bytes()).ok_or("order id too long")?,
                symbol: text(d, "product_symbol")?.to_owned(),
                side: match text(d, "side")? {
                    "buy" => Side::Buy,
                    "sell" => Side::Sell,
                    other => return Err(format!("unknown side {other:?}")),
                },
                size: Qty::from_int(contracts(d, "size")?),
                price: price(d, "price")?.ok_or("fill without price")?,
                commission: signed_amount(d, "commission")?,
                maker: text(d, "role")? == "maker",
            })
        })
        .collect()
}

/// The leverage answer (`{"leverage":10,"order_margin":…,"product_id":27}`): the leverage set.
pub fn decode_leverage(body: &[u8]) -> Result<Price, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if v.get("success").and_then(Value::as_bool) != Some(true) {
        return Err(format!("refused: {}", error_code(&v)));
    }
    match v.get("result").and_then(|r| r.get("leverage")) {
        Some(Value::Number(n)) => Price::parse(&n.to_string()).map_err(|e| e.to_string()),
        Some(Value::String(s)) => Price::parse(s).map_err(|e| e.to_string()),
        _ => Err("answer without result.leverage".into()),
    }
}
