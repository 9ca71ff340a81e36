//! Delta's edit and batch requests (reference/delta.md §4.3): `PUT /v2/orders` as the
//! gateway's in-place amend, and the batch create / cancel encoders and decoders.
//!
//! **Edit.** `PUT /v2/orders` `{"id","product_symbol","limit_price","size"}`, `size` being
//! the "total size after editing order". The docs name the order only by its venue `id`, so
//! the codec keeps the venue id of each order it learned one for (the place answer, a status
//! or open-orders answer; at most [`VenueIds::CAP`], oldest forgotten). An amend of an order
//! whose id is not known yet is sent as a status query instead: the query's answer carries
//! the venue's terms, which settle the amend as not made. The answer is the Order object
//! (its new `limit_price` and `size`): a snapshot with those terms, which settles the amend;
//! a refusal (`open_order_not_found`, `bad_schema`, margin) is `AmendRejected`.
//!
//! **Batch** (the seam's batch hook, `RestCodec::place_batch` / `cancel_batch`, driven by the
//! gateway's burst: a poll's GTC limit orders on one product go as one request): `POST
//! /v2/orders/batch` `{"product_symbol","orders":[…]}` with limit items only (`limit_price`,
//! `size`, `side`, `order_type`, `post_only`, `client_order_id`; no `time_in_force`, the docs
//! saying both "assumed gtc" and "ioc is not valid"; no `reduce_only`: a reduce-only order
//! goes alone), at most 50 (the documented cap, refused here beyond it) and one product;
//! `DELETE /v2/orders/batch` `{"product_symbol","orders":[{"client_order_id"}]}`. Each
//! order of the answer is settled by its own item; a 5xx, a timeout or a lost connection
//! leaves every order of the batch unknown (queried by client id).
//!
//! **Unconfirmed against the live venue:** the edit body naming the product by symbol (the
//! docs allow `product_id|product_symbol`); the batch answer's `result` read as a list with
//! one item per order in the order sent, each an Order object or an item with an `error`
//! (the reference: "per-item error reporting inside a batch response is undocumented"); an
//! item missing from the list leaves its order unknown (queried).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::OrderKind;
use crate::types::{ClientOrderId, Side, UnixNanos};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};

use super::{Buf, classify, error_code, order};

/// `PUT /v2/orders` and the batch path.
pub(super) const BATCH: &str = "/v2/orders/batch";
/// The documented batch cap.
pub const BATCH_MAX: usize = 50;

/// Venue order ids by client id, learned from answers (bounded).
#[derive(Debug, Default)]
pub(super) struct VenueIds {
    ids: HashMap<ClientOrderId, u64>,
    order: VecDeque<ClientOrderId>,
}

impl VenueIds {
    pub(super) const CAP: usize = 4096;

    pub(super) fn learn(&mut self, cid: ClientOrderId, id: u64) {
        if self.ids.insert(cid, id).is_none() {
            self.order.push_back(cid);
            if self.order.len() > Self::CAP
                && let Some(old) = self.order.pop_front()
            {
                self.ids.remove(&old);
            }
        }
    }

    pub(super) fn get(&self, cid: &ClientOrderId) -> Option<u64> {
        self.ids.get(cid).copied()
    }
}

fn write_num(buf: &mut Vec<u8>, q: crate::types::Qty) {
    let mut n = [0u8; 48];
    let decimals = if q.units() % crate::types::SCALE == 0 {
        0
    } else {
        q.decimals_needed()
    };
    let k = q.write_fixed(decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
}

fn write_price(buf: &mut Vec<u8>, o: &PlaceOrder<'_>) {
    let mut n = [0u8; 48];
    let k = o.price.write_fixed(o.price_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
}

/// The edit body: `{"id":…,"product_symbol":…,"limit_price":"…","size":…}`.
pub(super) fn write_edit(buf: &mut Vec<u8>, id: u64, o: &PlaceOrder<'_>) {
    buf.clear();
    let _ = write!(
        Buf(buf),
        r#"{{"id":{id},"product_symbol":"{}","limit_price":""#,
        o.symbol
    );
    write_price(buf, o);
    buf.extend_from_slice(br#"","size":"#);
    write_num(buf, o.qty);
    buf.push(b'}');
}

/// Why a batch cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    Empty,
    TooMany(usize),
    /// Orders of more than one product.
    MixedProducts,
    /// Batch create takes limit orders only (GTC, optionally post-only).
    NotLimit(ClientOrderId),
}

/// The batch create body: one product, limit orders only, at most 50.
pub(super) fn write_batch_create(
    buf: &mut Vec<u8>,
    orders: &[PlaceOrder<'_>],
) -> Result<(), BatchError> {
    let first = orders.first().ok_or(BatchError::Empty)?;
    if orders.len() > BATCH_MAX {
        return Err(BatchError::TooMany(orders.len()));
    }
    if orders.iter().any(|o| o.symbol != first.symbol) {
        return Err(BatchError::MixedProducts);
    }
    if let Some(o) = orders.iter().find(|o| {
        o.kind == OrderKind::Market || o.tif != crate::types::TimeInForce::Gtc || o.reduce_only
    }) {
        return Err(BatchError::NotLimit(*o.cid));
    }
    buf.clear();
    let _ = write!(
        Buf(buf),
        r#"{{"product_symbol":"{}","orders":["#,
        first.symbol
    );
    for (k, o) in orders.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(br#"{"limit_price":""#);
        write_price(buf, o);
        buf.extend_from_slice(br#"","size":"#);
        write_num(buf, o.qty);
        let side = if o.side == Side::Buy { "buy" } else { "sell" };
        let _ = write!(Buf(buf), r#","side":"{side}","order_type":"limit_order""#);
        if o.kind == OrderKind::LimitMaker {
            buf.extend_from_slice(br#","post_only":true"#);
        }
        let _ = write!(Buf(buf), r#","client_order_id":"{}"}}"#, o.cid.as_str());
    }
    buf.extend_from_slice(b"]}");
    Ok(())
}

/// The batch cancel body, by client id.
pub(super) fn write_batch_cancel(
    buf: &mut Vec<u8>,
    symbol: &str,
    cids: &[ClientOrderId],
) -> Result<(), BatchError> {
    if cids.is_empty() {
        return Err(BatchError::Empty);
    }
    if cids.len() > BATCH_MAX {
        return Err(BatchError::TooMany(cids.len()));
    }
    buf.clear();
    let _ = write!(Buf(buf), r#"{{"product_symbol":"{symbol}","orders":["#);
    for (k, c) in cids.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        let _ = write!(Buf(buf), r#"{{"client_order_id":"{}"}}"#, c.as_str());
    }
    buf.extend_from_slice(b"]}");
    Ok(())
}

/// A batch create answer's `result` as one outcome per order sent (`cids`, in order): an
/// Order item is the order's snapshot, an item with an `error` its refusal (or, for a code
/// not known to refuse, an unknown outcome), a missing item an unknown outcome.
pub(super) fn batch_create_answer(
    cids: &[ClientOrderId],
    result: &Value,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) -> Result<(), String> {
    let items = result.as_array().ok_or("batch result is not a list")?;
    for (k, cid) in cids.iter().enumerate() {
        let Some(item) = items.get(k) else {
            out.push(SessionEvent::Uncertain { cid: *cid });
            continue;
        };
        if item.get("error").is_some() {
            let code = error_code(item);
            out.push(match classify(&code) {
                super::ErrorClass::Rejected => SessionEvent::PlaceRejected {
                    cid: *cid,
                    error: VenueError {
                        code: super::code_number(&code),
                        msg: code,
                    },
                },
                _ => SessionEvent::Uncertain { cid: *cid },
            });
            continue;
        }
        match order(item)? {
            Some(o) if o.cid == *cid => out.push(SessionEvent::Order {
                cid: *cid,
                event: o.event(at),
            }),
            // An item for another order: the list is not in the order sent.
            _ => out.push(SessionEvent::Uncertain { cid: *cid }),
        }
    }
    Ok(())
}

/// A batch cancel answer's `result`: an item with an `error` is that order's refusal; any
/// other item (or none) accepts the cancel, whose end comes from the private stream or a
/// query, as a single cancel's does.
pub(super) fn batch_cancel_answer(
    cids: &[ClientOrderId],
    result: &Value,
    out: &mut Vec<SessionEvent>,
) -> Result<(), String> {
    let items = result.as_array().ok_or("batch result is not a list")?;
    for (k, cid) in cids.iter().enumerate() {
        if let Some(item) = items.get(k).filter(|i| i.get("error").is_some()) {
            let code = error_code(item);
            out.push(SessionEvent::CancelRejected {
                cid: *cid,
                error: VenueError {
                    code: super::code_number(&code),
                    msg: code,
                },
            });
        }
    }
    Ok(())
}

/// A batch refused as a whole (`success: false`): each order refused with the batch's code
/// where the code is known to refuse, else each left unknown; each cancel refused.
pub(super) fn batch_refused(
    ids: &crate::venue::order::CidBatch,
    cancel: bool,
    error: VenueError,
    class: super::ErrorClass,
    out: &mut Vec<SessionEvent>,
) {
    for &cid in ids.as_slice() {
        out.push(match (cancel, class) {
            (true, _) => SessionEvent::CancelRejected {
                cid,
                error: error.clone(),
            },
            (false, super::ErrorClass::Rejected) => SessionEvent::PlaceRejected {
                cid,
                error: error.clone(),
            },
            (false, _) => SessionEvent::Uncertain { cid },
        });
    }
}

impl super::DeltaRest {
    /// The most orders the gateway puts in one batch: Delta's documented 50.
    pub(super) fn batch_cap(&self) -> usize {
        BATCH_MAX.min(crate::venue::order::CidBatch::CAP)
    }

    /// What batch create takes: GTC limit orders (post-only or not), not reduce-only.
    pub(super) fn fits_batch(o: &PlaceOrder<'_>) -> bool {
        o.kind != OrderKind::Market && o.tif == crate::types::TimeInForce::Gtc && !o.reduce_only
    }

    /// `POST /v2/orders/batch` as a gateway request (`Purpose::PlaceBatch`); `None`, the
    /// buffer untouched, for orders a batch cannot hold.
    pub(super) fn place_batch_request(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<crate::venue::rest::RestHead> {
        write_batch_create(buf, orders).ok()?;
        let ids = self.batches.take(orders.iter().map(|o| *o.cid));
        let (m, c) = (
            crate::venue::rest::Method::Post,
            crate::venue::rest::Class::Order,
        );
        Some(self.finish(Purpose::PlaceBatch(ids), m, BATCH, c, buf, now_ms))
    }

    /// `DELETE /v2/orders/batch` by client id as a gateway request (`Purpose::CancelBatch`).
    pub(super) fn cancel_batch_request(
        &mut self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<crate::venue::rest::RestHead> {
        write_batch_cancel(buf, symbol, cids).ok()?;
        let ids = self.batches.take(cids.iter().copied());
        let (m, c) = (
            crate::venue::rest::Method::DeleteJson,
            crate::venue::rest::Class::Order,
        );
        Some(self.finish(Purpose::CancelBatch(ids), m, BATCH, c, buf, now_ms))
    }

    /// A successful batch answer's `result`, for its purpose: the venue ids of the orders
    /// placed are learned (the edit names orders by them).
    pub(super) fn batch_answer(
        &mut self,
        purpose: &Purpose,
        result: &Value,
        at: UnixNanos,
    ) -> Result<Vec<SessionEvent>, String> {
        let mut out = Vec::new();
        match purpose {
            Purpose::PlaceBatch(ids) => {
                batch_create_answer(ids.as_slice(), result, at, &mut out)?;
                for item in result.as_array().into_iter().flatten() {
                    if let (Some(id), Some(c)) = (
                        item.get("id").and_then(Value::as_u64),
                        item.get("client_order_id")
                            .and_then(Value::as_str)
                            .and_then(|c| ClientOrderId::parse(c).ok()),
                    ) {
                        self.venue_ids.learn(c, id);
                    }
                }
            }
            Purpose::CancelBatch(ids) => batch_cancel_answer(ids.as_slice(), result, &mut out)?,
            _ => {}
        }
        Ok(out)
    }

    /// Gives a batch purpose's ids back to the pool (after its answer was read).
    pub(super) fn recycle(&mut self, purpose: Purpose) {
        if let Purpose::PlaceBatch(b) | Purpose::CancelBatch(b) = purpose {
            self.batches.give(b);
        }
    }

    /// `POST /v2/orders/batch` (weight 25): one product's limit orders, at most 50, as a
    /// request of its own (the gateway's is [`Self::place_batch_request`]); its answer is
    /// read by [`Self::batch_create_outcomes`].
    pub fn batch_create(
        &self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Result<super::admin::OwnRequest, BatchError> {
        write_batch_create(buf, orders)?;
        Ok(self.own(crate::venue::rest::Method::Post, BATCH.into(), buf, now_ms))
    }

    /// `DELETE /v2/orders/batch` (weight 25) by client id, one product, at most 50.
    pub fn batch_cancel(
        &self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Result<super::admin::OwnRequest, BatchError> {
        write_batch_cancel(buf, symbol, cids)?;
        Ok(self.own(
            crate::venue::rest::Method::DeleteJson,
            BATCH.into(),
            buf,
            now_ms,
        ))
    }

    /// The outcome of a batch create for each of `cids` (in the order sent) from the
    /// answer's body: a refused batch refuses every order with its code (or leaves them
    /// unknown for a code not known to refuse); a body that is not the envelope leaves them
    /// unknown (and says why).
    pub fn batch_create_outcomes(
        cids: &[ClientOrderId],
        status: u16,
        body: &[u8],
        at: UnixNanos,
    ) -> Vec<SessionEvent> {
        let mut out = Vec::new();
        let unknown = |out: &mut Vec<SessionEvent>| {
            out.extend(cids.iter().map(|c| SessionEvent::Uncertain { cid: *c }));
        };
        if status >= 500 || status == 429 {
            unknown(&mut out);
            return out;
        }
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                unknown(&mut out);
                return out;
            }
        };
        if v.get("success").and_then(Value::as_bool) != Some(true) {
            let code = error_code(&v);
            if classify(&code) == super::ErrorClass::Rejected {
                out.extend(cids.iter().map(|c| SessionEvent::PlaceRejected {
                    cid: *c,
                    error: VenueError {
                        code: super::code_number(&code),
                        msg: code.clone(),
                    },
                }));
            } else {
                unknown(&mut out);
            }
            return out;
        }
        let result = v.get("result").unwrap_or(&Value::Null);
        if let Err(e) = batch_create_answer(cids, result, at, &mut out) {
            out.clear();
            out.push(SessionEvent::Undecodable(e));
            unknown(&mut out);
        }
        out
    }
}

#[cfg(test)]
#[path = "rest_edit_tests.rs"]
mod tests;
