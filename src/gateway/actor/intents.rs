//! A strategy's intents to the venue: a new order checked against risk and written (or
//! refused, with the reason sent back), a cancel, an amend, and the one way every request
//! about an existing order is written.

use super::*;

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    pub(super) fn refuse(&mut self, i: &NewOrderIntent, why: Refusal, now: UnixNanos) {
        self.counters.refused += 1;
        let u = OrderUpdate {
            cid: i.cid,
            strategy: i.strategy,
            status: OrderStatus::Rejected,
            side: i.side,
            price: i.price,
            qty: i.qty,
            filled_qty: crate::types::Qty::ZERO,
            fill: None,
            refused: Some(why),
            fee_correction: None,
            at: now,
        };
        self.notify(u);
    }

    pub(super) fn on_new(&mut self, i: NewOrderIntent, now: UnixNanos) {
        let taken_at = self.timing.now();
        if self.banned || (!self.polled() && (!self.link.is_up() || !self.user_stream)) {
            return self.refuse(&i, Refusal::VenueUnavailable, now);
        }
        if let Some(why) = self
            .rest
            .as_ref()
            .filter(|_| self.orders_over_rest)
            .and_then(|r| r.refusal(now))
        {
            return self.refuse(&i, why, now);
        }
        // Orders over the session: after a rate-limit answer (until its pause has passed) and
        // with 90 % of the venue's request weight used, new orders wait (cancels still go);
        // sending on is what gets a key banned.
        if !self.orders_over_rest
            && (now < self.quiet_until || self.session.budget_used_percent() >= 90)
        {
            return self.refuse(&i, Refusal::RateLimited, now);
        }
        if let Some(p) = self.persist.as_mut()
            && !p.admit_order()
        {
            return self.refuse(&i, Refusal::PersistenceBehind, now);
        }
        let Some(inst) = self.instrument(i.instrument) else {
            return self.refuse(&i, Refusal::Grid, now);
        };
        let grid_ok = match i.kind {
            OrderKind::Market => inst.check_qty(i.qty).is_ok(),
            _ => inst.check_order(i.price, i.qty).is_ok(),
        };
        if !grid_ok {
            return self.refuse(&i, Refusal::Grid, now);
        }
        if !i.reduce_only && !self.leverage_allows(i.instrument) {
            return self.refuse(&i, Refusal::LeverageUnconfirmed, now);
        }
        // The symbol is read in place where the request is encoded: no copy per order.
        let (pd, qd) = (inst.price_decimals, inst.qty_decimals);
        let check = OrderCheck {
            strategy: i.strategy,
            instrument: i.instrument,
            side: i.side,
            price: i.price,
            qty: i.qty,
            mid: (self.mid)(i.instrument),
            reduce_only: i.reduce_only,
        };
        let instrument_window = self.instrument_windows.get(i.instrument.index());
        if !instrument_window.is_none_or(|w| w.admits(now))
            || !self.account_window.as_ref().is_none_or(|w| w.admits(now))
        {
            return self.refuse(&i, Refusal::OrderLimit, now);
        }
        if let Err(rule) = self.risk.check(&check, now) {
            self.telemetry.emit(GatewayEvent::RiskRejected {
                strategy: i.strategy,
                cid: i.cid,
                rule,
                at: now,
            });
            return self.refuse(&i, Refusal::Risk(rule), now);
        }
        if let Some(w) = self.instrument_windows.get_mut(i.instrument.index()) {
            w.record(now);
        }
        if let Some(w) = self.account_window.as_mut() {
            w.record(now);
        }
        let checked_at = self.timing.now();
        let order = Order::new(
            i.cid,
            i.strategy,
            i.instrument,
            i.side,
            i.kind,
            i.tif,
            i.price,
            i.qty,
            now,
        )
        .reducing(i.reduce_only);
        if let Err(e) = self.table.insert(order) {
            let why = match e {
                crate::gateway::table::TableError::Duplicate => Refusal::DuplicateId,
                _ => Refusal::TableFull,
            };
            return self.refuse(&i, why, now);
        }
        let mut queued = true;
        let vms = self.venue_ms(now);
        let order = PlaceOrder {
            reduce_only: i.reduce_only,
            symbol: &self.instruments[i.instrument.index()].symbol,
            cid: &i.cid,
            side: i.side,
            kind: i.kind,
            tif: i.tif,
            price: i.price,
            qty: i.qty,
            price_decimals: pd,
            qty_decimals: qd,
        };
        let held = self.holds_for_batch(&order);
        if held {
            // Held for a batch request (`actor/batch.rs`): recorded when that is queued.
            let h = batch::Held::new(i, (pd, qd), taken_at, checked_at);
            self.burst.held.push(h);
        } else if let (true, Some(rest)) = (self.orders_over_rest, self.rest.as_mut()) {
            // Queued for the REST worker (a full queue or a dead worker was refused above).
            queued = match self.replacing.take() {
                Some(old) => rest.cancel_replace(&old, &order, now, vms),
                None => rest.place(&order, now, vms),
            };
        } else {
            let mut out = std::mem::take(&mut self.out);
            match self.replacing.take() {
                Some(old) => {
                    self.session.cancel_replace(&old, &order, vms, &mut out);
                }
                None => self.session.place(&order, vms, &mut out),
            }
            self.out = out;
            self.transmit(now);
        }
        let written_at = self.timing.now();
        if held {
            // Recorded when its batch request is queued (`actor/batch.rs`).
        } else if self.burst.open && !self.orders_over_rest {
            // Written when the burst is flushed: recorded then (`actor/burst.rs`).
            self.burst.orders.push(burst::Queued {
                cid: i.cid,
                taken: taken_at,
                checked: checked_at,
                tick_at: i.tick_at,
            });
        } else {
            let first = self.burst.take_first();
            self.timing
                .order_written(taken_at, checked_at, written_at, i.tick_at, first);
        }
        // Even if the write failed, the order may have left: it is chased like any other.
        self.counters.orders_sent += 1;
        self.risk
            .on_order_opened(i.strategy, i.instrument, i.side, i.qty);
        self.chase.insert(i.cid, Chase::default());
        let update = self.table.get_mut(&i.cid).map(|o| {
            o.apply(&OrderEvent::Sent {
                at: written_at.unwrap_or(now),
            });
            (Self::update_of(o, None, None, now), o.clone())
        });
        if let Some((u, o)) = update {
            self.keep(crate::persist::Record::Order(o));
            self.notify(u);
        }
        if !queued {
            // It never left: the venue cannot know it.
            self.apply(i.cid, &OrderEvent::Unknown { at: now }, now);
        }
    }

    /// Encodes a request about order `cid` on its symbol (`encode` gets the transport, the
    /// symbol, the venue's order id if known, and the buffer; it answers `None` if there is
    /// nothing to send, else whether the transport took it) and writes it. `None` if the
    /// order or its instrument is unknown, else whether the request went. A cancel goes the
    /// orders' way; a query (`query`) goes over REST whenever the gateway has it.
    pub(super) fn request_about(
        &mut self,
        cid: ClientOrderId,
        now: UnixNanos,
        query: bool,
        encode: impl FnOnce(
            &mut dyn OrderRequests,
            &str,
            Option<crate::types::VenueOrderId>,
            &mut Vec<u8>,
        ) -> Option<bool>,
    ) -> Option<bool> {
        let o = self.table.get(&cid)?;
        let venue_id = o.venue_order_id;
        // Direct field borrows: the symbol is read in place, not cloned per request.
        let inst = self
            .instruments
            .get(o.instrument.index())
            .filter(|i| i.venue == self.venue.id)?;
        let over_rest = self.rest.is_some() && (query || self.orders_over_rest);
        let requests: &mut dyn OrderRequests = match self.rest.as_mut() {
            Some(rest) if over_rest => rest,
            _ => &mut self.session,
        };
        let taken = encode(requests, &inst.symbol, venue_id, &mut self.out)?;
        if over_rest || !taken {
            return Some(taken);
        }
        Some(self.transmit(now))
    }

    pub(super) fn send_cancel(&mut self, cid: ClientOrderId, now: UnixNanos) {
        let ms = self.venue_ms(now);
        let sent = self.request_about(cid, now, false, |s, symbol, _, out| {
            Some(s.cancel(symbol, &cid, ms, out))
        });
        if sent.is_none() {
            return;
        }
        if sent == Some(true) {
            self.counters.cancels_sent += 1;
        }
        let c = self.chase.entry(cid).or_default();
        c.queried_at = Some(now);
        if sent == Some(true) {
            c.cancel_written_at = self.timing.now();
        }
    }

    pub(super) fn on_cancel(&mut self, strategy: StrategyId, cid: ClientOrderId, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            self.counters.refused += 1;
            return;
        };
        if o.strategy != strategy {
            self.counters.refused += 1;
            return;
        }
        if o.request_cancel() && self.can_send() && !self.hold_cancel(cid) {
            self.send_cancel(cid, now);
        }
        // While the link is down the cancel stays pending and is sent after reconnecting.
    }

    /// Amends open order `cid` in place, if its venue session can and the order is in a
    /// state to be amended (open, acknowledged, no cancel or amend under way), the new price
    /// and quantity on the instrument's grid, above what has filled, and risk agrees. Else
    /// the strategy gets the order's update as it stands (nothing changed).
    pub(super) fn on_amend(
        &mut self,
        strategy: StrategyId,
        cid: ClientOrderId,
        price: crate::types::Price,
        qty: crate::types::Qty,
        now: UnixNanos,
    ) {
        let Some(o) = self.table.get(&cid).filter(|o| o.strategy == strategy) else {
            self.counters.refused += 1;
            return;
        };
        let (in_place, limits) = if self.orders_over_rest {
            let r = self.rest.as_ref();
            (
                r.is_some_and(|r| r.amends_in_place()),
                r.map(|r| r.amend_limits()).unwrap_or_default(),
            )
        } else {
            (self.session.amends_in_place(), self.session.amend_limits())
        };
        let amendable = in_place
            && limits.allows(o.price, o.qty, price, qty)
            && self.can_send()
            && matches!(o.status, OrderStatus::Acked | OrderStatus::PartiallyFilled)
            && !o.cancel_pending
            && !o.amend_pending
            && qty > o.filled_qty
            && self
                .instrument(o.instrument)
                .is_some_and(|i| i.check_order(price, qty).is_ok());
        let check = OrderCheck {
            strategy,
            instrument: o.instrument,
            side: o.side,
            price,
            qty: qty.saturating_sub(o.filled_qty),
            mid: (self.mid)(o.instrument),
            reduce_only: o.reduce_only,
        };
        let replaced = o.leaves_qty();
        let risk = if amendable {
            self.risk.check_amend(&check, replaced, now)
        } else {
            Ok(())
        };
        if let Err(rule) = risk {
            self.telemetry.emit(GatewayEvent::RiskRejected {
                strategy,
                cid,
                rule,
                at: now,
            });
        }
        if !amendable || risk.is_err() {
            self.counters.refused += 1;
            if let Some(o) = self.table.get(&cid) {
                let u = Self::update_of(o, None, None, now);
                self.notify(u);
            }
            return;
        }
        let vms = self.venue_ms(now);
        let Some(inst) = self.instruments.get(check.instrument.index()) else {
            return;
        };
        let order = PlaceOrder {
            reduce_only: o.reduce_only,
            symbol: &inst.symbol,
            cid: &cid,
            side: check.side,
            kind: o.kind,
            tif: o.tif,
            price,
            qty,
            price_decimals: inst.price_decimals,
            qty_decimals: inst.qty_decimals,
        };
        // Held for a batch amend (`actor/batch.rs`): counted as written now, as the burst
        // sends it before it ends.
        let held = self.amends_batched();
        if held {
            self.burst.amends.push((cid, price, qty));
        }
        let written = match self.rest.as_mut().filter(|_| self.orders_over_rest) {
            Some(_) if held => true,
            Some(rest) => rest.amend(&order, now, vms),
            None => {
                let mut out = std::mem::take(&mut self.out);
                let written = self.session.amend(&order, vms, &mut out);
                self.out = out;
                if written {
                    self.transmit(now);
                }
                written
            }
        };
        if written {
            self.counters.amends_sent += 1;
            if let Some(o) = self.table.get_mut(&cid) {
                o.amend_pending = true;
            }
            self.chase.entry(cid).or_default().amend_written_at = Some(now);
        }
    }
}
