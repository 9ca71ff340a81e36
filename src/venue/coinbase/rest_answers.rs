//! The Coinbase REST codec's answers (`rest.rs`): a 2xx answer to each purpose mapped into
//! session events, the lookup of an order by client id page after page, and the refusals.

use serde_json::Value;

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, UnixNanos, VenueOrderId};
use crate::venue::order::{Purpose, SessionEvent, VenueError};
use crate::venue::pages::Step;

use super::super::private::{self, FailureClass};
use super::{CoinbaseRest, FILL_LIMIT};

impl CoinbaseRest {
    /// A 2xx answer to `purpose`.
    pub(super) fn decode(
        &mut self,
        id: u64,
        purpose: &Purpose,
        v: &Value,
        at: UnixNanos,
        lookup: Option<String>,
    ) -> Result<Vec<SessionEvent>, String> {
        let list = |k: &str| -> Result<&[Value], String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .ok_or_else(|| format!("answer without {k}"))
        };
        Ok(match purpose {
            Purpose::Place(cid) => {
                if let Some((reason, error)) = private::create_failure(v) {
                    let mut out = Vec::new();
                    refused(purpose.clone(), private::classify(&reason), error, &mut out);
                    return Ok(out);
                }
                let id = v
                    .get("success_response")
                    .and_then(|s| s.get("order_id"))
                    .and_then(Value::as_str)
                    .and_then(|s| VenueOrderId::new(s.as_bytes()))
                    .ok_or("create answer without success_response.order_id")?;
                self.learn(*cid, id);
                vec![SessionEvent::Order {
                    cid: *cid,
                    event: OrderEvent::Accepted {
                        venue_order_id: id,
                        at,
                    },
                }]
            }
            Purpose::Cancel(cid) if v.get("results").is_none() => {
                // The order was looked up because its id was not known: say what it is and
                // that the cancel did not go.
                let Some(found) = self.lookup_page(id, purpose, *cid, v, at, lookup)? else {
                    return Ok(Vec::new());
                };
                if found.is_empty() {
                    // A stale page of a lookup started again since.
                    return Ok(found);
                }
                // A lookup given up says only that the cancel did not go.
                let mut out: Vec<_> = found
                    .into_iter()
                    .filter(|e| !matches!(e, SessionEvent::Failed { .. }))
                    .collect();
                out.push(SessionEvent::CancelRejected {
                    cid: *cid,
                    error: VenueError {
                        code: 0,
                        msg: "order id not known yet: looked up, cancel not sent".into(),
                    },
                });
                out
            }
            Purpose::Cancel(cid) => {
                let r = list("results")?
                    .first()
                    .ok_or("batch cancel without results")?;
                if r.get("success").and_then(Value::as_bool) == Some(true) {
                    // Accepted: the user channel (or a query) reports the order's end.
                    Vec::new()
                } else {
                    let reason = r
                        .get("failure_reason")
                        .and_then(Value::as_str)
                        .unwrap_or("UNKNOWN_CANCEL_FAILURE_REASON");
                    vec![SessionEvent::CancelRejected {
                        cid: *cid,
                        error: VenueError {
                            code: 0,
                            msg: reason.to_owned(),
                        },
                    }]
                }
            }
            Purpose::Status(cid) => self
                .lookup_page(id, purpose, *cid, v, at, lookup)?
                .unwrap_or_default(),
            Purpose::Trades(cid) => {
                let fills = list("fills")?;
                let trades = private::fill_fees(fills).map_err(|e| e.to_string())?;
                // `has_next` when the answer carries it, else a full page with a cursor.
                let more = match v.get("has_next").and_then(Value::as_bool) {
                    Some(more) => more,
                    None => fills.len() >= FILL_LIMIT,
                };
                match self
                    .fill_pages
                    .page(id, purpose, trades, next_cursor(v, more))
                {
                    Step::Done(trades) => {
                        self.fill_orders.remove(cid);
                        vec![SessionEvent::Trades { cid: *cid, trades }]
                    }
                    Step::More => Vec::new(),
                    Step::Abandoned(why) => {
                        self.fill_orders.remove(cid);
                        abandoned(purpose, why)
                    }
                }
            }
            Purpose::OpenOrders(symbol) => {
                let items = list("orders")?
                    .iter()
                    .map(|o| private::order_item(o).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                for o in &items {
                    if let Some(cid) = o.cid {
                        self.learn(cid, o.order_id);
                    }
                }
                // Orders placed elsewhere (no client id) are not ours to reconcile.
                let orders = items.iter().filter_map(|o| o.snapshot(symbol)).collect();
                let more = v.get("has_next").and_then(Value::as_bool) == Some(true);
                match self
                    .open_pages
                    .page(id, purpose, orders, next_cursor(v, more))
                {
                    Step::Done(orders) => vec![SessionEvent::OpenOrders {
                        symbol: symbol.clone(),
                        orders,
                    }],
                    Step::More => Vec::new(),
                    Step::Abandoned(why) => abandoned(purpose, why),
                }
            }
            Purpose::Account => vec![SessionEvent::Balances(
                private::balances(list("accounts")?).map_err(|e| e.to_string())?,
            )],
            Purpose::Amend(_)
            | Purpose::Subscribe
            | Purpose::Logon
            | Purpose::Positions(_)
            | Purpose::SetLeverage { .. }
            | Purpose::PlaceBatch(_)
            | Purpose::CancelBatch(_)
            | Purpose::AmendBatch(_) => Vec::new(),
        })
    }

    /// One page of a lookup of `cid`: the order's snapshot when this page holds it; else,
    /// for a lookup by product (`lookup` names it) whose answer says there is a next page,
    /// `None` (the next page is asked); else `NotFound`. A list given up (page cap, repeated
    /// cursor) is `Failed`.
    fn lookup_page(
        &mut self,
        id: u64,
        purpose: &Purpose,
        cid: ClientOrderId,
        v: &Value,
        at: UnixNanos,
        lookup: Option<String>,
    ) -> Result<Option<Vec<SessionEvent>>, String> {
        let orders = v
            .get("orders")
            .and_then(Value::as_array)
            .ok_or("answer without orders")?;
        let found = self.one_order(cid, orders, at)?;
        let missing = matches!(found.first(), Some(SessionEvent::NotFound { .. }));
        let more = v.get("has_next").and_then(Value::as_bool) == Some(true);
        let next = match &lookup {
            Some(_) if missing => next_cursor(v, more),
            _ => None,
        };
        Ok(
            match self.lookup_pages.page(id, purpose, Vec::new(), next) {
                Step::Done(_) => Some(found),
                Step::More => {
                    if let Some(symbol) = lookup {
                        self.note_lookup(purpose, &symbol);
                    }
                    None
                }
                Step::Abandoned(why) if why.is_empty() => Some(Vec::new()),
                Step::Abandoned(why) => Some(abandoned(purpose, why)),
            },
        )
    }

    /// The order `cid` in a list answer, as a snapshot, or `NotFound`.
    fn one_order(
        &mut self,
        cid: ClientOrderId,
        orders: &[Value],
        at: UnixNanos,
    ) -> Result<Vec<SessionEvent>, String> {
        for o in orders {
            let item = private::order_item(o).map_err(|e| e.to_string())?;
            if item.cid != Some(cid) {
                continue;
            }
            self.learn(cid, item.order_id);
            return Ok(vec![SessionEvent::Order {
                cid,
                event: OrderEvent::Snapshot {
                    venue_order_id: item.order_id,
                    status: item.state,
                    cum_qty: item.cum_qty,
                    cum_quote: item.quote_from_avg(),
                    terms: item.price.map(|p| (p, item.qty)),
                    at,
                },
            }]);
        }
        Ok(vec![SessionEvent::NotFound { cid }])
    }
}

pub(super) fn refused(
    purpose: Purpose,
    class: FailureClass,
    error: VenueError,
    out: &mut Vec<SessionEvent>,
) {
    out.push(match purpose {
        Purpose::Place(cid) if class == FailureClass::Unknown => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == FailureClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}

/// The answer's `cursor` when `more` says a next page exists and the cursor is not empty.
pub(super) fn next_cursor(v: &Value, more: bool) -> Option<String> {
    v.get("cursor")
        .and_then(Value::as_str)
        .filter(|c| more && !c.is_empty())
        .map(str::to_owned)
}

/// A list given up at the page cap or on a repeated cursor: failed (the next sweep or query
/// asks again); nothing for a stale page of a list started again since.
pub(super) fn abandoned(purpose: &Purpose, why: String) -> Vec<SessionEvent> {
    if why.is_empty() {
        return Vec::new();
    }
    vec![SessionEvent::Failed {
        purpose: purpose.clone(),
        error: VenueError { code: 0, msg: why },
    }]
}
