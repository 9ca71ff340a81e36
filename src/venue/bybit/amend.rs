//! Amends in place over REST (`order_transport = "rest"`): `POST /v5/order/amend` by
//! `orderLinkId` with the new `qty` (the order's new total) and `price` (Bybit's "Amend
//! Order" page: `category`, `symbol`, `orderId` or `orderLinkId`, `qty`, `price`; the answer
//! is the create-order envelope with `result` {`orderId`, `orderLinkId`}). The body is the
//! trade WebSocket's `order.amend` argument, signed over exactly the bytes sent as every
//! Bybit REST request is.
//!
//! Outcomes, as over the trade WebSocket (`trade.rs`): `retCode` 0 means the new terms hold
//! (`OrderEvent::Amended` with the terms this request sent; the answer carries none); the
//! documented refusals (110001 / 170213 "order does not exist", parameter, balance and
//! minimum codes), and a request never sent for a rate limit, are `AmendRejected` and leave
//! the order as it was; 10006, 10016, codes the reference does not list, a 5xx, a timeout or
//! a lost connection leave the outcome unknown: the order is queried by `orderLinkId` and
//! its terms read from the answer.
//!
//! Unconfirmed against the live venue (read from Bybit's v5 pages, no reference sample):
//! the endpoint's parameters and answer as above, `retCode` 0 meaning the new terms hold
//! (the docs say only that an order may be modified while unfilled or partly filled), and
//! spot orders being amendable by `orderLinkId` as linear ones are.

use std::fmt::Write as _;

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, Price, Qty, UnixNanos};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::rest::unknown_outcome;

use super::Category;
use super::rest::{ErrorClass, classify};

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The amend's parameters into `buf` (cleared first): category, symbol, `orderLinkId`, the
/// new total `qty` and `price`, at the instrument's decimals.
pub(super) fn amend_body(category: Category, o: &PlaceOrder<'_>, buf: &mut Vec<u8>) {
    let mut n = [0u8; 48];
    buf.clear();
    let _ = write!(
        Buf(buf),
        r#"{{"category":"{}","symbol":"{}","orderLinkId":"{}","qty":""#,
        category.as_str(),
        o.symbol,
        o.cid.as_str()
    );
    let k = o.qty.write_fixed(o.qty_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
    buf.extend_from_slice(br#"","price":""#);
    let k = o.price.write_fixed(o.price_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
    buf.extend_from_slice(br#""}"#);
}

/// The new terms of amends in flight, by request id (few at a time: a linear scan).
#[derive(Debug, Default)]
pub(super) struct AmendTerms(Vec<(u64, Price, Qty)>);

impl AmendTerms {
    pub(super) fn sent(&mut self, id: u64, price: Price, qty: Qty) {
        self.0.push((id, price, qty));
    }

    /// The terms request `id` asked for, forgotten; `None` if it was not an amend.
    pub(super) fn take(&mut self, id: u64) -> Option<(Price, Qty)> {
        let k = self.0.iter().position(|a| a.0 == id)?;
        let (_, p, q) = self.0.swap_remove(k);
        Some((p, q))
    }
}

/// `retCode` 0: the new terms hold.
pub(super) fn accepted(
    cid: ClientOrderId,
    terms: Option<(Price, Qty)>,
    at: UnixNanos,
) -> SessionEvent {
    match terms {
        Some((price, qty)) => SessionEvent::Order {
            cid,
            event: OrderEvent::Amended { price, qty, at },
        },
        // Not sent by this codec as an amend: what happened is read from the order.
        None => SessionEvent::Uncertain { cid },
    }
}

/// No answer (a 5xx, a timeout, a lost connection): as `unknown_outcome`, and an amend's
/// order is queried (its terms say whether the amend took).
pub(super) fn unknown(purpose: Purpose, out: &mut Vec<SessionEvent>) {
    match purpose {
        Purpose::Amend(cid) => out.push(SessionEvent::Uncertain { cid }),
        p => unknown_outcome(p, out),
    }
}

/// A refusal: documented codes leave the order as it was; unknown codes are queried.
pub(super) fn refused(
    cid: ClientOrderId,
    error: VenueError,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    out.push(match classify(i64::from(error.code)) {
        ErrorClass::Unknown | ErrorClass::RateLimited => SessionEvent::Uncertain { cid },
        ErrorClass::Rejected | ErrorClass::NotFound => SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: error.code,
                at,
            },
        },
    });
}

#[cfg(test)]
#[path = "amend_tests.rs"]
mod tests;
