//! Delta's open-orders list read in pages, and the request-weight budget counted on the
//! engine's side (reference/delta.md §4, §6.2).
//!
//! **Pages.** `GET /v2/orders?states=open,pending&page_size=50` answers one page and, in the
//! envelope's `meta`, the cursor `after` of the next (`null` on the last page): the follow-up
//! is the same query with `&after=<cursor>` (percent-encoded), signed over that query. The
//! pages are merged before the list is handed on ([`crate::venue::pages`]: a list cut short
//! would make an open order missing from it look gone); a list is given up (reported failed,
//! the next sweep asks again) after [`crate::venue::pages::MAX_PAGES`] pages or when the
//! venue sends a cursor the list already followed.
//!
//! **Weight budget.** Delta allows 10,000 weight per 5 minutes per user and weighs each
//! endpoint (§6.2): 3 for products, open orders, positions and balances; 5 to place, edit or
//! cancel an order; 10 for order history, fills and wallet transactions; 25 for the batch
//! endpoints; 1 for anything else (the order lookup by client id, leverage). The REST
//! transport takes each request's weight from a sliding 5-minute budget before it leaves
//! ([`crate::venue::windows`]); a request with no room is not sent (an order is refused
//! before it is built, a query waits for the next chase or sweep) and counted. The venue's
//! own window is fixed and its usage unreported, so the budget starts empty at start-up;
//! its 429s (`X-RATE-LIMIT-RESET`) still hold every request back as before.
//!
//! **Unconfirmed against the live venue:** `meta.after` as the only cursor followed (`null`
//! or absent ending the list); the 10,000 quota (a third party reports 20,000); the weights
//! of the endpoints the table does not name (cancel-all: 1 here).

use serde_json::Value;

use crate::venue::order::{OrderSnapshot, Purpose, SessionEvent, VenueError};
use crate::venue::pages::{Step, percent_encode};
use crate::venue::rest::{Class, Method, RestHead};
use crate::venue::windows::RateWindows;

use super::{DeltaRest, ORDERS};

/// The documented quota: weight per window.
pub const BUDGET: u32 = 10_000;
/// The quota's window: 5 minutes.
pub const BUDGET_WINDOW_MS: u64 = 300_000;
/// Orders asked for per page (the cap since 2026-01).
pub const PAGE_SIZE: u32 = 50;

/// A request's weight (§6.2) by method and path.
pub fn weight(method: Method, path: &str) -> u32 {
    match (method, path) {
        (_, "/v2/orders/batch") => 25,
        (Method::Get, "/v2/orders/history" | "/v2/fills" | "/v2/wallet/transactions") => 10,
        (Method::Get, "/v2/orders") => 3,
        (Method::Post | Method::Put | Method::Delete | Method::DeleteJson, "/v2/orders") => 5,
        (
            Method::Get | Method::GetPath,
            "/v2/products" | "/v2/products/" | "/v2/l2orderbook/" | "/v2/tickers",
        ) => 3,
        (Method::Get, "/v2/positions" | "/v2/positions/margined" | "/v2/wallet/balances") => 3,
        (Method::Post, "/v2/positions/change_margin") => 5,
        _ => 1,
    }
}

/// The budget the REST transport counts every request against.
pub fn budget() -> RateWindows {
    RateWindows::default()
        .budget(BUDGET, BUDGET_WINDOW_MS, weight)
        .orders_on(ORDERS)
}

/// The open orders' query: `states=open,pending&page_size=50`, then `&after=` the cursor.
pub(super) fn write_open_query(buf: &mut Vec<u8>, after: Option<&str>) {
    buf.clear();
    buf.extend_from_slice(b"states=open,pending&page_size=");
    buf.extend_from_slice(PAGE_SIZE.to_string().as_bytes());
    if let Some(c) = after {
        buf.extend_from_slice(b"&after=");
        percent_encode(c, buf);
    }
}

impl DeltaRest {
    /// The open orders' next page, when one is due.
    pub(super) fn next_open_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        let (purpose, cursor, token) = self.pages.due()?;
        write_open_query(buf, Some(&cursor));
        let head = self.finish(purpose, Method::Get, ORDERS, Class::Sweep, buf, now_ms);
        self.pages.sent(head.id, token);
        Some(head)
    }

    /// One page of the open orders (the answer to request `id`, its `result` and `meta`):
    /// the next asked for while `meta.after` names one, the merged list handed on after.
    pub(super) fn open_page(
        &mut self,
        id: u64,
        symbol: &str,
        result: &Value,
        meta: Option<&Value>,
    ) -> Result<Vec<SessionEvent>, String> {
        let l = result
            .as_array()
            .ok_or_else(|| "answer whose result is not a list".to_owned())?;
        let mut orders: Vec<OrderSnapshot> = Vec::new();
        for d in l {
            if let Some(o) = super::order(d)?
                && o.symbol == symbol
            {
                orders.push(o);
            }
        }
        let next = meta
            .and_then(|m| m.get("after"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let purpose = Purpose::OpenOrders(symbol.to_owned());
        Ok(match self.pages.page(id, &purpose, orders, next) {
            Step::Done(orders) => vec![SessionEvent::OpenOrders {
                symbol: symbol.to_owned(),
                orders,
            }],
            Step::More => Vec::new(),
            Step::Abandoned(why) if why.is_empty() => Vec::new(),
            Step::Abandoned(msg) => vec![SessionEvent::Failed {
                purpose,
                error: VenueError { code: 0, msg },
            }],
        })
    }

    /// Lists given up and follow-up pages sent.
    pub fn page_counts(&self) -> (u64, u64) {
        (self.pages.capped, self.pages.followed)
    }

    /// Weight taken from the budget in the last 5 minutes at `now_ms`.
    pub fn weight_used(&self, now_ms: u64) -> usize {
        self.windows.used(ORDERS, now_ms).unwrap_or(0)
    }
}

#[cfg(test)]
#[path = "rest_pages_tests.rs"]
mod tests;
