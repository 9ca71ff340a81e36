//! Batch orders over Bybit's trade WebSocket (`/v5/trade`): `order.create-batch` and
//! `order.cancel-batch` and `order.amend-batch`, the seam's batch hook
//! (`RestCodec::place_batch` / `cancel_batch` / `amend_batch`).
//!
//! Request: the single op's envelope around one argument `{"category":"<cat>","request":
//! [item, …]}`, each create item the `order.create` parameters without `category` (each
//! cancel item `{"symbol","orderLinkId"}`, each amend item `{"symbol","orderLinkId","qty",
//! "price"}` with the new total quantity and price). Answer: `retCode` 0 for the request, `data.list`
//! one item per order in the order sent (`{"category","symbol","orderId","orderLinkId",
//! "createAt"}`) and `retExtInfo.list` one `{"code","msg"}` per order: code 0 accepts that
//! order, a documented refusal refuses it alone, any other code leaves it unknown (queried
//! by `orderLinkId`). A request refused as a whole (`retCode` ≠ 0) refuses every order as a
//! single request's refusal would (10006: every order unknown, backing off); no answer
//! (timeout, lost connection) leaves every order unknown.
//!
//! **Unconfirmed against the live venue** (read from Bybit's v5 batch-order and WebSocket
//! trade docs, never run there; also in the README's Bybit row): the per-request caps, 20
//! orders for `linear` and 10 for `spot` (exchanges.md §3 gives spot's 10; linear's 20 is
//! Bybit's batch-place page); `data.list` and `retExtInfo.list` in the order sent (an item
//! whose `orderLinkId` names another order, or a missing item, leaves that order unknown);
//! every order kind going in a batch (the batch page takes the create parameters: market,
//! IOC and reduce-only items included);
//! `order.amend-batch` answered like the create batch (code 0 in an item: that order's new
//! terms hold, as a single `order.amend` answered 0; a documented refusal leaves that order
//! as it was; anything else leaves it to a query).

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, Price, Qty, UnixNanos, VenueOrderId};
use crate::venue::order::{CidBatch, PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::rest::RestHead;

use super::super::Category;
use super::super::rest::{place_body, refused};
use super::{Buf, BybitTrade};

/// A batch amend's new terms (price, total quantity), one per order in the order sent.
pub(super) type Terms = [(Price, Qty); CidBatch::CAP];

/// Orders per batch request: spot 10, linear 20 (unconfirmed for linear: module doc).
pub fn batch_cap(category: Category) -> usize {
    match category {
        Category::Spot => 10,
        Category::Linear => 20,
    }
}

impl BybitTrade {
    /// `order.create-batch` of one symbol's orders (2 to the category's cap).
    pub(super) fn create_batch(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        let first = orders.first()?;
        if orders.len() > batch_cap(self.category)
            || orders.iter().any(|o| o.symbol != first.symbol)
        {
            return None;
        }
        let cat = self.category.as_str();
        let mut args = std::mem::take(&mut self.args);
        let mut item = std::mem::take(&mut self.item);
        args.clear();
        let _ = write!(Buf(&mut args), r#"{{"category":"{cat}","request":["#);
        // `place_body` opens with `{"category":"<cat>",`: each item is the rest of it.
        let skip = r#"{"category":""#.len() + cat.len() + 2;
        for (k, o) in orders.iter().enumerate() {
            place_body(self.category, o, &mut item);
            if k > 0 {
                args.push(b',');
            }
            args.push(b'{');
            args.extend_from_slice(&item[skip..]);
        }
        args.extend_from_slice(b"]}");
        self.args = args;
        self.item = item;
        let ids = self.batches.take(orders.iter().map(|o| *o.cid));
        Some(self.frame(
            "order.create-batch",
            Purpose::PlaceBatch(ids),
            None,
            now_ms,
            buf,
        ))
    }

    /// `order.cancel-batch` by `orderLinkId` (2 to the category's cap).
    pub(super) fn cancel_batch_frame(
        &mut self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        if cids.is_empty() || cids.len() > batch_cap(self.category) {
            return None;
        }
        self.args.clear();
        let _ = write!(
            Buf(&mut self.args),
            r#"{{"category":"{}","request":["#,
            self.category.as_str()
        );
        for (k, c) in cids.iter().enumerate() {
            if k > 0 {
                self.args.push(b',');
            }
            let _ = write!(
                Buf(&mut self.args),
                r#"{{"symbol":"{symbol}","orderLinkId":"{}"}}"#,
                c.as_str()
            );
        }
        self.args.extend_from_slice(b"]}");
        let ids = self.batches.take(cids.iter().copied());
        Some(self.frame(
            "order.cancel-batch",
            Purpose::CancelBatch(ids),
            None,
            now_ms,
            buf,
        ))
    }

    /// `order.amend-batch` by `orderLinkId`, each order to its new total quantity and price
    /// (2 to the category's cap, one symbol).
    pub(super) fn amend_batch_frame(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        let first = orders.first()?;
        if orders.len() > batch_cap(self.category)
            || orders.iter().any(|o| o.symbol != first.symbol)
        {
            return None;
        }
        let mut terms = self
            .terms
            .pop()
            .unwrap_or_else(|| Box::new([(Price::ZERO, Qty::ZERO); CidBatch::CAP]));
        let mut n = [0u8; 48];
        self.args.clear();
        let _ = write!(
            Buf(&mut self.args),
            r#"{{"category":"{}","request":["#,
            self.category.as_str()
        );
        for (k, o) in orders.iter().enumerate() {
            if k > 0 {
                self.args.push(b',');
            }
            let _ = write!(
                Buf(&mut self.args),
                r#"{{"symbol":"{}","orderLinkId":"{}","qty":""#,
                o.symbol,
                o.cid.as_str()
            );
            let w = o.qty.write_fixed(o.qty_decimals, &mut n);
            self.args.extend_from_slice(&n[..w]);
            self.args.extend_from_slice(br#"","price":""#);
            let w = o.price.write_fixed(o.price_decimals, &mut n);
            self.args.extend_from_slice(&n[..w]);
            self.args.extend_from_slice(br#""}"#);
            terms[k] = (o.price, o.qty);
        }
        self.args.extend_from_slice(b"]}");
        let ids = self.batches.take(orders.iter().map(|o| *o.cid));
        let head = self.frame(
            "order.amend-batch",
            Purpose::AmendBatch(ids),
            None,
            now_ms,
            buf,
        );
        if let Some(s) = self.sent[head.id as usize % super::SLOTS].as_mut() {
            s.batch_terms = Some(terms);
        }
        Some(head)
    }

    /// Gives a batch purpose's ids back to the pool.
    pub(super) fn recycle(&mut self, purpose: Purpose) {
        if let Purpose::PlaceBatch(b) | Purpose::CancelBatch(b) | Purpose::AmendBatch(b) = purpose {
            self.batches.give(b);
        }
    }

    /// Gives a batch amend's terms back to the pool.
    pub(super) fn give_terms(&mut self, terms: Option<Box<Terms>>) {
        if let Some(t) = terms
            && self.terms.len() < 64
        {
            self.terms.push(t);
        }
    }
}

/// A batch answer accepted as a request (`retCode` 0): each order by its own item.
pub(super) fn batch_answer(
    ids: &CidBatch,
    cancel: bool,
    v: &Value,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    let list = |p: &str| v.pointer(p).and_then(Value::as_array);
    let (data, ext) = (list("/data/list"), list("/retExtInfo/list"));
    for (k, &cid) in ids.as_slice().iter().enumerate() {
        let item = data.and_then(|d| d.get(k));
        let code = ext
            .and_then(|e| e.get(k))
            .and_then(|e| e.get("code"))
            .and_then(Value::as_i64);
        let link = item
            .and_then(|i| i.get("orderLinkId"))
            .and_then(Value::as_str);
        // An item naming another order: the lists are not in the order sent.
        let other = link.is_some_and(|l| !l.is_empty() && l != cid.as_str());
        match code {
            Some(0) if other => out.push(SessionEvent::Uncertain { cid }),
            Some(0) if cancel => {}
            Some(0) => out.push(
                match item
                    .and_then(|i| i.get("orderId"))
                    .and_then(Value::as_str)
                    .and_then(|s| VenueOrderId::new(s.as_bytes()))
                {
                    Some(venue_order_id) => SessionEvent::Order {
                        cid,
                        event: OrderEvent::Accepted { venue_order_id, at },
                    },
                    None => SessionEvent::Uncertain { cid },
                },
            ),
            Some(code) => {
                let msg = ext
                    .and_then(|e| e.get(k))
                    .and_then(|e| e.get("msg"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let error = VenueError {
                    code: i32::try_from(code).unwrap_or(i32::MIN),
                    msg,
                };
                let p = if cancel {
                    Purpose::Cancel(cid)
                } else {
                    Purpose::Place(cid)
                };
                refused(p, error, out);
            }
            None => out.push(SessionEvent::Uncertain { cid }),
        }
    }
}

/// A batch amend accepted as a request (`retCode` 0): each order by its own item, its new
/// terms (`terms[k]`) holding when its code is 0.
pub(super) fn amend_batch_answer(
    ids: &CidBatch,
    terms: &Terms,
    v: &Value,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    let list = |p: &str| v.pointer(p).and_then(Value::as_array);
    let (data, ext) = (list("/data/list"), list("/retExtInfo/list"));
    for (k, &cid) in ids.as_slice().iter().enumerate() {
        let ext_item = ext.and_then(|e| e.get(k));
        let code = ext_item.and_then(|e| e.get("code")).and_then(Value::as_i64);
        let other = data
            .and_then(|d| d.get(k))
            .and_then(|i| i.get("orderLinkId"))
            .and_then(Value::as_str)
            .is_some_and(|l| !l.is_empty() && l != cid.as_str());
        match code {
            Some(0) if !other => {
                let (price, qty) = terms[k];
                out.push(SessionEvent::Order {
                    cid,
                    event: OrderEvent::Amended { price, qty, at },
                });
            }
            Some(code) if code != 0 && !other => {
                let error = VenueError {
                    code: i32::try_from(code).unwrap_or(i32::MIN),
                    msg: ext_item
                        .and_then(|e| e.get("msg"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                };
                amend_refused(cid, error, at, out);
            }
            _ => out.push(SessionEvent::Uncertain { cid }),
        }
    }
}

/// One amend refused: a documented refusal leaves the order as it was; an unlisted code
/// leaves it to a query (as a single `order.amend`'s refusal).
fn amend_refused(
    cid: ClientOrderId,
    error: VenueError,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    use super::super::rest::{ErrorClass, classify};
    if classify(i64::from(error.code)) == ErrorClass::Unknown {
        out.push(SessionEvent::Uncertain { cid });
    } else {
        out.push(SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: error.code,
                at,
            },
        });
    }
}

/// A batch refused as a whole: every order as a single request's refusal.
pub(super) fn refuse_each(
    ids: &CidBatch,
    cancel: bool,
    error: VenueError,
    out: &mut Vec<SessionEvent>,
) {
    for &cid in ids.as_slice() {
        let p = if cancel {
            Purpose::Cancel(cid)
        } else {
            Purpose::Place(cid)
        };
        refused(p, error.clone(), out);
    }
}

#[cfg(test)]
#[path = "trade_batch_tests.rs"]
mod tests;
