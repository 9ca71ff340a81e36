//! CoinDCX's order edit as the gateway's in-place amend, and the order list read in pages
//! (the REST codec's parts beyond one request per answer; [`super::rest`] holds the rest).
//!
//! **Edit** (`POST /orders/edit`, exchanges.md §7.3 names the endpoint only): the body
//! `{"timestamp","id","price","total_quantity"}` — the venue order id (CoinDCX takes no
//! client id: [`super::ids`]), the new limit price as a string and the new total quantity as
//! a number (as create sends them). The docs' field list (read through the stored copies of
//! the futures section and the Python clients written from it) gives these fields, says the
//! answer is a list holding the updated order, and that edit is for USDT-margined futures
//! only: an INR-margined codec does not amend in place (the gateway's amend is then cancel +
//! new). An amend of an order whose venue id is not known yet is sent as a status query
//! instead: the query's answer carries the venue's terms, which settle the amend as not
//! made. Outcomes: the order item with the new terms is a snapshot that settles the amend;
//! 400, 401, 422 and 404 refuse it (`AmendRejected`: the order as it was); a 429, a 5xx, a
//! timeout or a lost connection leave it unknown, and the gateway queries the order at its
//! deadline (the venue's terms settle it).
//!
//! **Order-list pages** (`POST /orders` with `page` and `size`, as strings): the open-orders
//! sweep asks page 1 of [`PAGE_SIZE`] orders and follows pages 2, 3, … while a page comes
//! back full; a shorter page ends the list, and only then are the pages merged, claimed as
//! mako's ([`super::ids`]) and handed on ([`crate::venue::pages`]): a list cut short would
//! make an open order missing from it look gone. A list is given up (reported failed; the
//! next sweep asks again) after [`crate::venue::pages::MAX_PAGES`] pages, or when a page
//! holds only orders earlier pages listed (the venue sending a page again). An order on a
//! page that an earlier page listed too (the newest-first list shifting under the reader as
//! a new order arrives) is kept once.
//!
//! **Status and fee queries** read the order list too (every status, on the order's side):
//! while the order is not on a full page, the next page is asked for (at most
//! [`crate::venue::pages::MAX_PAGES`]); a short page without it means no such order.
//!
//! **Unconfirmed against the live venue:** the edit body and answer (above); that a page
//! shorter than `size` is the last (the docs document no total and no largest `size`; a
//! venue capping `size` below 50 would end every list after its first page); the list's
//! order (newest first) between two page reads.

use std::fmt::Write as _;

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, Price, Qty, UnixNanos};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::pages::{MAX_PAGES, Step};
use crate::venue::rest::{Class, Method, RestHead};

use super::private::OrderUpdate;
use super::rest::{ALL_STATUSES, Buf, CoindcxRest, EDIT, LIST, OPEN_STATUSES};

/// Orders asked for per list page (newest first).
pub const PAGE_SIZE: u32 = 50;

/// The edit's fields after `{"timestamp":…`: `,"id":"…","price":"…","total_quantity":…}`.
pub(super) fn write_edit(
    buf: &mut Vec<u8>,
    id: &str,
    price: Price,
    qty: Qty,
    price_decimals: u32,
    qty_decimals: u32,
) {
    let mut n = [0u8; 48];
    let _ = write!(Buf(buf), r#","id":"{id}","price":""#);
    let k = price.write_fixed(price_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
    buf.extend_from_slice(br#"","total_quantity":"#);
    let k = qty.write_fixed(qty_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
    buf.push(b'}');
}

impl CoindcxRest {
    /// `POST /orders/edit` for `o` by its venue id (signed over the bytes written), or a
    /// status query while that id is not known; `None` on an INR-margined codec.
    pub(super) fn edit(
        &mut self,
        o: &PlaceOrder<'_>,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        if !self.edits() {
            return None;
        }
        let Some(id) = self.ids.lock().venue_id(o.cid) else {
            return Some(crate::venue::rest::RestCodec::status(
                self, o.symbol, o.cid, now_ms, buf,
            ));
        };
        Self::open(buf, now_ms);
        write_edit(
            buf,
            id.as_str(),
            o.price,
            o.qty,
            o.price_decimals,
            o.qty_decimals,
        );
        Some(self.finish(
            Purpose::Amend(*o.cid),
            Method::Post,
            EDIT,
            Class::Order,
            buf,
        ))
    }

    /// Whether the venue edits this codec's orders (USDT-margined only, per the docs).
    pub(super) fn edits(&self) -> bool {
        super::margin::edits_margin(Some(&self.margin_currency))
    }

    /// The edit's answer: the order listed with its terms now (a snapshot that settles the
    /// amend); a list without it leaves the amend unknown (the gateway queries the order).
    pub(super) fn edited(
        &self,
        cid: ClientOrderId,
        l: &[OrderUpdate],
        at: UnixNanos,
    ) -> Vec<SessionEvent> {
        let ids = self.ids.lock();
        match l.iter().find(|u| ids.bound(u) == Some(cid)) {
            Some(u) => super::rest::order_events(cid, u, at),
            None => vec![SessionEvent::Failed {
                purpose: Purpose::Amend(cid),
                error: VenueError {
                    code: 0,
                    msg: "the edit answer does not list the order".into(),
                },
            }],
        }
    }

    /// An edit refused: the order stays as it was.
    pub(super) fn edit_refused(
        cid: ClientOrderId,
        error: &VenueError,
        at: UnixNanos,
    ) -> SessionEvent {
        SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: error.code,
                at,
            },
        }
    }

    /// The open-orders list's body for `page` (`size` = the codec's page size).
    pub(super) fn open_list_body(&self, page: u32, now_ms: u64, buf: &mut Vec<u8>) {
        self.list_body(OPEN_STATUSES, None, page, now_ms, buf);
    }

    /// The next page due: the open orders' (the same body with the next `page`), else a
    /// status or fee query's.
    pub(super) fn next_list_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        let Some((purpose, cursor, token)) = self.pages.due() else {
            return self.next_query_page(now_ms, buf);
        };
        let page: u32 = cursor.parse().ok()?;
        self.open_list_body(page, now_ms, buf);
        let head = self.finish(purpose, Method::Post, LIST, Class::Sweep, buf);
        self.pages.sent(head.id, token);
        self.list_pages.push((head.id, page));
        Some(head)
    }

    /// A status or fee query's next page: every status, on the order's side.
    fn next_query_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        let (purpose, page) = self.query_due.pop_front()?;
        let (Purpose::Status(cid) | Purpose::Trades(cid)) = purpose else {
            return None;
        };
        let side = self.ids.lock().get(&cid).map(|s| s.side);
        self.list_body(ALL_STATUSES, side, page, now_ms, buf);
        let head = self.finish(purpose, Method::Post, LIST, Class::Query, buf);
        self.list_pages.push((head.id, page));
        Some(head)
    }

    /// A status or fee query's page (the answer to request `id`): the order's events when
    /// the page lists it; else, while pages come back full (at most `MAX_PAGES`), the next
    /// page is asked for; else not found (as a one-page answer says).
    pub(super) fn query_page(
        &mut self,
        id: u64,
        purpose: &Purpose,
        l: &[OrderUpdate],
        at: UnixNanos,
    ) -> Vec<SessionEvent> {
        let page = self
            .list_pages
            .iter()
            .position(|&(i, _)| i == id)
            .map_or(1, |k| self.list_pages.swap_remove(k).1);
        let (ev, missing) = match *purpose {
            Purpose::Status(cid) => {
                let ev = self.found(cid, l, at);
                let missing = matches!(ev[..], [SessionEvent::NotFound { .. }]);
                (ev, missing)
            }
            Purpose::Trades(cid) => {
                let ev = self.fees(cid, l);
                let missing = matches!(
                    ev[..],
                    [SessionEvent::Failed {
                        purpose: Purpose::Trades(_),
                        ..
                    }]
                );
                (ev, missing)
            }
            _ => return Vec::new(),
        };
        if missing && l.len() >= self.page_size as usize && page < MAX_PAGES {
            self.query_due.push_back((purpose.clone(), page + 1));
            return Vec::new();
        }
        ev
    }

    /// One page of the open-orders list (the answer to request `id`): more pages asked for
    /// while pages come back full, the merged list handed on after the last.
    pub(super) fn open_page(
        &mut self,
        id: u64,
        symbol: &str,
        mut l: Vec<OrderUpdate>,
    ) -> Vec<SessionEvent> {
        let page = self
            .list_pages
            .iter()
            .position(|&(i, _)| i == id)
            .map_or(1, |k| self.list_pages.swap_remove(k).1);
        let full = l.len() >= self.page_size as usize;
        let purpose = Purpose::OpenOrders(symbol.to_owned());
        let step = match self.pages.gathered(id) {
            Some(seen) if !l.is_empty() && l.iter().all(|u| seen.iter().any(|s| s.id == u.id)) => {
                self.pages.give_up(
                    id,
                    &format!("page {page} of the order list repeats earlier pages: list given up"),
                )
            }
            seen => {
                if let Some(seen) = seen {
                    l.retain(|u| !seen.iter().any(|s| s.id == u.id));
                }
                let next = full.then(|| (page + 1).to_string());
                self.pages.page(id, &purpose, l, next)
            }
        };
        match step {
            Step::Done(all) => self.open_list(symbol, &all),
            Step::More => Vec::new(),
            Step::Abandoned(why) if why.is_empty() => Vec::new(),
            Step::Abandoned(msg) => vec![SessionEvent::Failed {
                purpose,
                error: VenueError { code: 0, msg },
            }],
        }
    }
}

#[cfg(test)]
#[path = "rest_list_tests.rs"]
mod tests;
