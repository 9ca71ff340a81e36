//! Keeping orders true to the venue: an order whose answer is overdue is queried, a cancel
//! left unanswered is sent again, the venue's open orders are compared with ours in each
//! sweep, and an order's trades are asked for when its fees are not yet exact.

use super::*;

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    pub(super) fn query(&mut self, cid: ClientOrderId, now: UnixNanos) {
        let ms = self.venue_ms(now);
        let sent = self.request_about(cid, now, true, |s, symbol, _, out| {
            Some(s.status(symbol, &cid, ms, out))
        });
        if sent.is_none() {
            return;
        }
        if sent == Some(true) {
            self.counters.queries_sent += 1;
        }
        let c = self.chase.entry(cid).or_default();
        c.queried_at = Some(now);
        c.query_now = false;
    }

    /// The venue's trade list of an order: its fees become exact, and the strategy is told
    /// what they add to the fills it was sent (one update per asset whose fees changed).
    pub(super) fn on_trades(
        &mut self,
        cid: ClientOrderId,
        trades: &[(
            crate::types::TradeId,
            crate::types::Qty,
            crate::types::order::AssetCode,
        )],
        now: UnixNanos,
    ) {
        let Some(instrument) = self.table.get(&cid).map(|o| o.instrument) else {
            return;
        };
        let quote = self
            .instrument(instrument)
            .map(|i| i.quote.clone())
            .unwrap_or_default();
        let Some(o) = self.table.get_mut(&cid) else {
            return;
        };
        let (strategy, is_final) = (o.strategy, o.status.is_final());
        // Fees in the quote asset, and those the venue rated in it (fees in an order's
        // margin currency), move PnL by the change of their total in quote.
        let quote_before = o.quote_fees(&quote);
        let delta = o.set_fees(trades);
        let record = o.clone();
        let quote_delta = record.quote_fees(&quote).units() - quote_before.units();
        if quote_delta != 0 {
            let d = crate::types::Qty::from_units(quote_delta);
            self.risk.adjust_quote_fees(strategy, instrument, d);
            self.telemetry.emit(GatewayEvent::QuoteFee {
                cid,
                in_quote: d,
                at: now,
            });
        }
        let mut corrections = [None; 2];
        for (k, (asset, d)) in delta.into_iter().enumerate() {
            if d == 0 {
                continue;
            }
            let d = crate::types::Qty::from_units(d);
            let mut u = Self::update_of(&record, None, None, now);
            u.fee_correction = Some(crate::gateway::FeeCorrection {
                asset,
                delta: d,
                in_quote: record.fee_in_quote(asset, d, &quote),
            });
            corrections[k] = Some(u);
        }
        self.keep(crate::persist::Record::Order(record));
        for u in corrections.into_iter().flatten() {
            self.notify(u);
        }
        if is_final
            && !self
                .chase
                .get(&cid)
                .is_some_and(|c| c.fetch_trades || c.query_now)
        {
            self.chase.remove(&cid);
        }
    }

    pub(super) fn fetch_trades(&mut self, cid: ClientOrderId, now: UnixNanos) {
        let ms = self.venue_ms(now);
        let sent = self.request_about(cid, now, true, |s, symbol, venue_id, out| {
            venue_id.map(|id| s.trades(symbol, &cid, id, ms, out))
        });
        if sent == Some(true) {
            self.counters.queries_sent += 1;
            if let Some(c) = self.chase.get_mut(&cid) {
                c.fetch_trades = false;
                c.trades_after = None;
            }
        }
    }

    /// Compares the venue's open orders on `symbol` with ours.
    pub(super) fn reconcile_open(
        &mut self,
        symbol: &str,
        orders: Vec<OrderSnapshot>,
        now: UnixNanos,
    ) {
        let Some(inst) = self
            .instruments
            .iter()
            .find(|i| i.venue == self.venue.id && i.symbol == symbol)
        else {
            return;
        };
        let inst_id = inst.id;
        for s in &orders {
            if self.table.get(&s.cid).is_some() {
                self.apply(s.cid, &s.event(now), now);
                continue;
            }
            self.counters.unknown_venue_orders += 1;
            tracing::warn!(gateway = %self.name, cid = %s.cid, symbol, "open order on the venue unknown to the engine");
            let strategy = s
                .cid
                .decode()
                .map(|(_, st, _)| st)
                .unwrap_or(StrategyId(u16::MAX));
            let mut o = Order::new(
                s.cid,
                strategy,
                inst_id,
                s.side,
                OrderKind::Limit,
                TimeInForce::Gtc,
                s.price,
                s.orig_qty,
                now,
            );
            o.apply(&OrderEvent::Sent { at: now });
            o.apply(&s.event(now));
            self.table.insert_recovered(o);
            if self.options.cancel_unknown
                && let Some(o) = self.table.get_mut(&s.cid)
                && o.request_cancel()
            {
                self.send_cancel(s.cid, now);
            }
        }
        // Ours that the venue no longer lists as open: ask what became of them.
        let open: Vec<ClientOrderId> = orders.iter().map(|s| s.cid).collect();
        let grace = ns(self.options.ack_deadline);
        let missing: Vec<ClientOrderId> = self
            .table
            .iter()
            .filter(|o| o.instrument == inst_id && !o.status.is_final() && !open.contains(&o.cid))
            .filter(|o| o.sent_at.is_some_and(|t| now.since(t) >= grace) || o.sent_at.is_none())
            .map(|o| o.cid)
            .collect();
        for cid in missing {
            self.chase.entry(cid).or_default().query_now = true;
        }
    }

    pub(super) fn sweep(&mut self, now: UnixNanos) {
        if now < self.quiet_until || self.banned {
            return;
        }
        // Keep reconciliation far from the weight limit, so it can never get the key banned.
        if self.session.budget_used_percent() > 80 {
            return;
        }
        let vms = self.venue_ms(now);
        if self.rest.is_some() {
            // The REST transport holds sweeps back itself as the weight nears the limit.
            let symbols = self.symbols();
            if self
                .rest
                .as_mut()
                .is_some_and(|r| r.sweep(&symbols, now, vms))
            {
                self.counters.sweeps += 1;
            }
            if !self.perps.is_empty() {
                self.set_leverages(now);
                let perps = self.perp_symbols();
                if let Some(r) = self.rest.as_mut() {
                    r.positions(&perps, now, vms);
                }
            }
            return;
        }
        self.counters.sweeps += 1;
        for symbol in self.symbols() {
            let mut out = std::mem::take(&mut self.out);
            let wrote = self.session.open_orders(&symbol, vms, &mut out);
            self.out = out;
            if wrote {
                self.transmit(now);
            }
        }
        let mut out = std::mem::take(&mut self.out);
        let wrote = self.session.account(vms, &mut out);
        self.out = out;
        if wrote {
            self.transmit(now);
        }
    }

    /// Queries every order that has waited past its deadline, and resends pending cancels.
    pub(super) fn chase_overdue(&mut self, now: UnixNanos) {
        if !self.can_send() || now < self.quiet_until || self.banned {
            return;
        }
        let deadline = ns(self.options.ack_deadline);
        let mut due = Vec::new();
        for o in self.table.iter() {
            if o.status.is_final() {
                continue;
            }
            let c = self.chase.get(&o.cid).copied().unwrap_or_default();
            let waiting_ack = o.status == OrderStatus::Sent
                && o.sent_at.is_some_and(|t| now.since(t) >= deadline);
            let waiting_cancel = o.cancel_pending;
            // An amend neither answered nor pushed: the query's answer carries the venue's
            // terms, which settle it.
            let waiting_amend =
                o.amend_pending && c.amend_written_at.is_some_and(|t| now.since(t) >= deadline);
            let recently = c.queried_at.is_some_and(|t| now.since(t) < deadline);
            if c.query_now || ((waiting_ack || waiting_cancel || waiting_amend) && !recently) {
                due.push((o.cid, waiting_cancel && !c.query_now));
            }
        }
        for (cid, resend_cancel) in due {
            if resend_cancel {
                self.send_cancel(cid, now);
            } else {
                self.query(cid, now);
            }
        }
        // Fees of fills learned without their trade reports: ask for the order's trades once
        // its venue id is known and no query about it is outstanding.
        // A final order is never queried again, so a query it still waits for (an uncertain
        // cancel after it ended) must not hold its fees back.
        let fetch: Vec<ClientOrderId> = self
            .chase
            .iter()
            .filter(|(cid, c)| {
                c.fetch_trades
                    && (!c.query_now || self.table.get(cid).is_none_or(|o| o.status.is_final()))
            })
            .filter(|(_, c)| c.trades_after.is_none_or(|t| now >= t))
            .map(|(cid, _)| *cid)
            .collect();
        for cid in fetch {
            self.fetch_trades(cid, now);
        }
    }
}
