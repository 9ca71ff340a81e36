//! A strategy's intents on paper: a new order checked against risk and the simulated wallet,
//! then filled against the live book by the paper rules (or rested, or refused with the
//! reason), a cancel, and an order's end.

use super::*;

impl PaperGateway {
    pub(super) fn refuse(&mut self, i: &NewOrderIntent, why: Refusal, now: UnixNanos) {
        self.counters.refused += 1;
        self.notify(OrderUpdate {
            cid: i.cid,
            strategy: i.strategy,
            status: OrderStatus::Rejected,
            side: i.side,
            price: i.price,
            qty: i.qty,
            filled_qty: Qty::ZERO,
            fill: None,
            refused: Some(why),
            fee_correction: None,
            at: now,
        });
    }

    pub(super) fn on_new(&mut self, i: NewOrderIntent, now: UnixNanos) {
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
        let depth = self.book.depth(i.instrument);
        // Without a usable book there is nothing to fill against.
        if !depth.valid {
            return self.refuse(&i, Refusal::VenueUnavailable, now);
        }
        let check = OrderCheck {
            strategy: i.strategy,
            instrument: i.instrument,
            side: i.side,
            price: i.price,
            qty: i.qty,
            mid: self.mid(i.instrument),
            reduce_only: i.reduce_only,
        };
        if let Err(rule) = self.risk.check(&check, now) {
            self.telemetry.emit(GatewayEvent::RiskRejected {
                strategy: i.strategy,
                cid: i.cid,
                rule,
                at: now,
            });
            return self.refuse(&i, Refusal::Risk(rule), now);
        }
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
                TableError::Duplicate => Refusal::DuplicateId,
                _ => Refusal::TableFull,
            };
            return self.refuse(&i, why, now);
        }
        self.counters.orders_sent += 1;
        self.risk
            .on_order_opened(i.strategy, i.instrument, i.side, i.qty);
        self.apply(i.cid, &OrderEvent::Sent { at: now }, now);
        self.execute(i, &depth, now);
    }

    /// The paper venue's side of a new order: accept or reject it, take what crosses, rest
    /// or expire the rest.
    pub(super) fn execute(&mut self, i: NewOrderIntent, depth: &Depth, now: UnixNanos) {
        let limit = (i.kind != OrderKind::Market).then_some(i.price);
        let crosses = match limit {
            Some(p) => Matcher::would_cross(i.side, p, depth),
            None => true,
        };
        let reject = |g: &mut Self| {
            g.counters.venue_rejects += 1;
            g.apply(
                i.cid,
                &OrderEvent::RejectedByVenue {
                    code: REJECT_CODE,
                    at: now,
                },
                now,
            );
        };
        if i.kind == OrderKind::LimitMaker && crosses {
            return reject(self);
        }
        let mut takes = std::mem::take(&mut self.takes);
        let mut left = i.qty;
        if crosses {
            // What it would take, without taking it yet: funds are checked first.
            left = self
                .matcher
                .take(i.instrument, i.side, limit, i.qty, depth, false, &mut takes);
        }
        // Fill-or-kill: all of it now, or nothing.
        let kill = i.tif == TimeInForce::Fok && !left.is_zero();
        if kill {
            takes.clear();
            left = i.qty;
        }
        let rests =
            !left.is_zero() && !kill && i.kind != OrderKind::Market && i.tif == TimeInForce::Gtc;
        let need = match i.side {
            Side::Buy => {
                let taken: i64 = takes.iter().map(|t| quote_units(t.price, t.qty)).sum();
                taken + if rests { quote_units(i.price, left) } else { 0 }
            }
            Side::Sell => i
                .qty
                .saturating_sub(if rests { Qty::ZERO } else { left })
                .units(),
        };
        // A perpetual holds initial margin at the order's limit (a market order's: the worst
        // level it takes).
        let margin_price = limit
            .or_else(|| {
                takes.iter().map(|t| t.price).reduce(|a, b| match i.side {
                    Side::Buy => a.max(b),
                    Side::Sell => a.min(b),
                })
            })
            .unwrap_or(i.price);
        let perp = self.perp_funds(i.strategy, i.side, i.qty, margin_price);
        let need = perp.map_or(need, |(n, _)| n);
        let funded = match (perp, self.wallets.get(i.strategy.index())) {
            (Some((_, ok)), _) => ok,
            (None, Some(Some(w))) => w.free(i.side) >= need,
            _ => false,
        };
        if !funded {
            self.takes = takes;
            return reject(self);
        }
        let venue_order_id = VenueOrderId::from_u64(self.next_order_id);
        self.next_order_id += 1;
        self.apply(
            i.cid,
            &OrderEvent::Accepted {
                venue_order_id,
                at: now,
            },
            now,
        );
        // Everything the order may still pay is held while it is open.
        if let Some(a) = self.margin_mut(i.strategy) {
            a.order_margin += i128::from(need) * i128::from(crate::types::SCALE);
        } else if let Some(Some(w)) = self.wallets.get_mut(i.strategy.index()) {
            w.lock(i.side, need);
        }
        self.locks.insert(i.cid, need);
        if crosses && !kill {
            let left_now =
                self.matcher
                    .take(i.instrument, i.side, limit, i.qty, depth, true, &mut takes);
            debug_assert_eq!(left_now, left, "Invariant: the plan matches the take");
            for t in &takes {
                self.fill(i.cid, t.price, t.qty, false, now);
            }
        }
        self.takes = takes;
        let leaves = self
            .table
            .get(&i.cid)
            .map(|o| o.leaves_qty())
            .unwrap_or_default();
        if leaves.is_zero() {
            self.unlock(i.cid);
            return;
        }
        if rests {
            self.matcher
                .rest(i.cid, i.instrument, i.side, i.price, leaves, depth);
        } else {
            self.end(i.cid, VenueFinal::Expired, now);
        }
    }

    /// Ends an open order (cancel or expiry) at its current cumulative figures.
    pub(super) fn end(&mut self, cid: ClientOrderId, kind: VenueFinal, now: UnixNanos) {
        self.matcher.remove(&cid);
        let Some(o) = self.table.get(&cid) else {
            return;
        };
        let ev = OrderEvent::Ended {
            kind,
            venue_order_id: o.venue_order_id,
            cum_qty: o.filled_qty,
            cum_quote: o.filled_quote,
            at: now,
        };
        self.apply(cid, &ev, now);
        self.unlock(cid);
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
        if !o.request_cancel() {
            return;
        }
        self.counters.cancels_sent += 1;
        self.end(cid, VenueFinal::Cancelled, now);
    }

    pub(super) fn on_intent(&mut self, intent: OrderIntent, now: UnixNanos) {
        match intent {
            OrderIntent::New(i) => self.on_new(i, now),
            OrderIntent::Cancel { strategy, cid } => self.on_cancel(strategy, cid, now),
            OrderIntent::CancelAll { strategy } => {
                let cids: Vec<ClientOrderId> =
                    self.table.live_of(strategy).map(|o| o.cid).collect();
                for cid in cids {
                    self.on_cancel(strategy, cid, now);
                }
            }
            OrderIntent::Replace { cid, new } => {
                self.on_cancel(new.strategy, cid, now);
                self.on_new(new, now);
            }
            // Paper orders are not amended in place (strategies' amends reach paper as
            // cancel + new): the order's update as it stands says nothing changed.
            OrderIntent::Amend { strategy, cid, .. } => {
                self.counters.refused += 1;
                if let Some(o) = self.table.get(&cid).filter(|o| o.strategy == strategy) {
                    let u = Self::update_of(o, None, now);
                    self.notify(u);
                }
            }
        }
    }
}
