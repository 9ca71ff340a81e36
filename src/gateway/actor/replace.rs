//! The `Replace` intent (a re-quote: cancel one order, place another in its place) as ONE
//! request where the venue's codec offers one (`OrderSession::cancel_replace` or
//! `RestCodec::cancel_replace`), else cancel + new as before.
//!
//! The new order goes through `on_new` unchanged (grid, leverage, order-rate windows, risk,
//! the order table): risk counts it while the old order still counts as open, so the pair is
//! checked as if both rested. Only the write differs: `on_new` finds `replacing` set and
//! writes the cancel-replace instead of a plain place. If `on_new` refuses the new order
//! before writing, the old one is cancelled alone (what the strategy asked for first).
//! Once written, the old order is cancel-pending exactly as after a cancel: the answer (or
//! the user stream) ends it, a refused cancel has it queried, and a lost answer chases both.

use crate::gateway::intent::NewOrderIntent;
use crate::types::order::OrderStatus;
use crate::types::{ClientOrderId, UnixNanos};
use crate::venue::order::OrderSession;
use crate::venue::rest::RestCodec;

use super::Gateway;

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    /// Whether replacing `old` by `new` can be one request: the transport that carries
    /// orders has a cancel-replace, the link is usable, and `old` is this strategy's open,
    /// acknowledged order on the same instrument with no cancel or amend under way.
    pub(super) fn replaces_in_one(&self, old: &ClientOrderId, new: &NewOrderIntent) -> bool {
        let supported = if self.orders_over_rest {
            self.rest.as_ref().is_some_and(|r| r.cancel_replaces())
        } else {
            self.session.cancel_replaces()
        };
        supported
            && self.can_send()
            && self.table.get(old).is_some_and(|o| {
                o.strategy == new.strategy
                    && o.instrument == new.instrument
                    && matches!(o.status, OrderStatus::Acked | OrderStatus::PartiallyFilled)
                    && !o.cancel_pending
                    && !o.amend_pending
            })
    }

    /// `OrderIntent::Replace`: `old` cancelled and `new` placed, in one request if possible.
    pub(super) fn on_replace(&mut self, old: ClientOrderId, new: NewOrderIntent, now: UnixNanos) {
        let strategy = new.strategy;
        if !self.replaces_in_one(&old, &new) {
            self.on_cancel(strategy, old, now);
            self.on_new(new, now);
            return;
        }
        self.replacing = Some(old);
        self.on_new(new, now);
        if self.replacing.take().is_some() {
            // The new order was refused before anything was written: cancel the old alone.
            self.on_cancel(strategy, old, now);
            return;
        }
        self.counters.cancel_replaces_sent += 1;
        if let Some(o) = self.table.get_mut(&old) {
            o.request_cancel();
        }
        self.counters.cancels_sent += 1;
        let written_at = self.timing.now();
        let c = self.chase.entry(old).or_default();
        c.queried_at = Some(now);
        c.cancel_written_at = written_at;
    }
}
