//! What the venue says about orders: each event applied to its order's state machine, risk
//! kept in step and the strategy told; and the order session's events (answers, private
//! stream pushes, balances, gaps) dispatched.

use super::*;

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    /// Applies one venue event to an order, keeps risk in step and tells the strategy.
    pub(super) fn apply(&mut self, cid: ClientOrderId, ev: &OrderEvent, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            self.counters.unknown_order_events += 1;
            return;
        };
        let was_final = o.status.is_final();
        let leaves_before = o.leaves_qty();
        let qty_before = o.qty;
        if self.timing.is_on() {
            let sent_at = o.sent_at.filter(|_| o.status == OrderStatus::Sent);
            let cancel_written = self
                .chase
                .get(&cid)
                .and_then(|c| c.cancel_written_at)
                .filter(|_| o.cancel_pending);
            self.timing.venue_event(ev, sent_at, cancel_written);
        }
        let r = o.apply(ev);
        if r.anomaly.is_some() {
            self.counters.anomalies += 1;
        }
        if !r.changed {
            return;
        }
        let (strategy, side, instrument) = (o.strategy, o.side, o.instrument);
        let unfilled = o.qty.saturating_sub(o.filled_qty);
        let qty_after = o.qty;
        let now_final = o.status.is_final();
        let update = Self::update_of(o, r.fill, None, now);
        let record = o.clone();
        // The fill's fee in the quote asset, for PnL, and whether the venue rated it in the
        // quote from another asset (converted here).
        let (quote_fee, rated) = r
            .fill
            .and_then(|f| {
                let quote = &self.instrument(instrument)?.quote;
                let q = record.fee_in_quote(f.fee_asset, f.fee, quote)?;
                Some((q, f.fee_asset.as_str() != quote))
            })
            .unwrap_or((crate::types::Qty::ZERO, false));
        self.keep(crate::persist::Record::Order(record));
        if let Some(f) = r.fill {
            let fill = crate::persist::FillRecord {
                cid,
                strategy,
                instrument,
                fill: f,
                at: now,
            };
            self.keep(crate::persist::Record::Fill(fill));
            self.telemetry.emit(GatewayEvent::Fill(fill));
            if rated && !quote_fee.is_zero() {
                // Paid in an asset the venue rated in the quote: the round trips count it.
                self.telemetry.emit(GatewayEvent::QuoteFee {
                    cid,
                    in_quote: quote_fee,
                    at: now,
                });
            }
        }
        let needs_trades = r.fill.is_some_and(|f| !f.fees_complete);
        if needs_trades {
            self.chase.entry(cid).or_default().fetch_trades = true;
        }
        if let Some(f) = r.fill {
            self.counters.fills += 1;
            self.note_perp_fill(instrument);
            self.risk
                .on_fill(strategy, instrument, side, f.qty, f.quote, quote_fee, now);
            self.risk
                .on_order_reduced(strategy, instrument, side, f.qty, false);
        }
        if qty_before != qty_after && !was_final {
            // The open quantity risk counts follows an amend, confirmed or learned by a query
            // (the fills this event carried were counted above).
            let resized = leaves_before
                .checked_add(qty_after)
                .map(|l| l.saturating_sub(qty_before))
                .unwrap_or(leaves_before);
            self.risk
                .on_order_resized(strategy, instrument, side, leaves_before, resized);
        }
        if now_final && !was_final {
            self.risk
                .on_order_reduced(strategy, instrument, side, unfilled, true);
            if !self.chase.get(&cid).is_some_and(|c| c.fetch_trades) {
                self.chase.remove(&cid);
            }
        }
        self.notify(update);
    }

    pub(super) fn on_session_event(&mut self, ev: SessionEvent, now: UnixNanos) {
        match ev {
            SessionEvent::Order { cid, event } => self.apply(cid, &event, now),
            SessionEvent::PlaceRejected { cid, error } => {
                self.counters.venue_rejects += 1;
                self.apply(
                    cid,
                    &OrderEvent::RejectedByVenue {
                        code: error.code,
                        at: now,
                    },
                    now,
                );
            }
            SessionEvent::Uncertain { cid } | SessionEvent::CancelRejected { cid, .. } => {
                self.chase.entry(cid).or_default().query_now = true;
            }
            SessionEvent::NotFound { cid } => {
                self.apply(cid, &OrderEvent::Unknown { at: now }, now)
            }
            SessionEvent::Trades { cid, trades } => self.on_trades(cid, &trades, now),
            SessionEvent::FeeRate {
                cid,
                asset,
                per_quote,
            } => {
                if let Some(o) = self.table.get_mut(&cid) {
                    o.fee_rate = Some((asset, per_quote));
                }
            }
            SessionEvent::OpenOrders { symbol, orders } => {
                self.reconcile_open(&symbol, orders, now)
            }
            SessionEvent::Balances(b) => {
                self.risk.on_balances(&b);
                if self.telemetry.is_on() {
                    for balance in &b {
                        self.telemetry.emit(GatewayEvent::Balance {
                            venue: self.venue.id,
                            balance: *balance,
                            at: now,
                        });
                    }
                }
                self.balances = b;
            }
            SessionEvent::BalanceUpdate(b) => {
                self.risk.on_balances(std::slice::from_ref(&b));
                if self.telemetry.is_on() {
                    let (venue, at) = (self.venue.id, now);
                    self.telemetry.emit(GatewayEvent::Balance {
                        venue,
                        balance: b,
                        at,
                    });
                }
                match self.balances.iter_mut().find(|x| x.asset == b.asset) {
                    Some(x) => *x = b,
                    None => self.balances.push(b),
                }
            }
            SessionEvent::Position(p) => self.on_position(p, now),
            SessionEvent::Funding(f) => self.on_funding(f),
            SessionEvent::LeverageSet { symbol, leverage } => {
                self.on_leverage_set(&symbol, leverage)
            }
            SessionEvent::Subscribed => self.user_stream = true,
            SessionEvent::LoggedIn => {
                let vms = self.venue_ms(now);
                let mut out = std::mem::take(&mut self.out);
                let wrote = self.session.after_login(vms, &mut out);
                self.out = out;
                if wrote {
                    self.transmit(now);
                }
            }
            SessionEvent::RateLimited { retry_after_ms } => {
                self.counters.rate_limited += 1;
                self.quiet_until = now.plus_nanos(retry_after_ms * 1_000_000);
            }
            SessionEvent::Banned => {
                self.banned = true;
                self.risk.kill_switch().trip(KillReason::VenueBanned);
                self.telemetry.emit(GatewayEvent::Banned {
                    venue: self.venue.id,
                    at: now,
                });
                tracing::error!(gateway = %self.name, "venue answered 418 (IP banned): no more requests");
            }
            SessionEvent::Failed { purpose, error } => {
                if let Purpose::Trades(cid) = purpose {
                    // Fees still wanted: ask again after a deadline, not at once.
                    let c = self.chase.entry(cid).or_default();
                    c.fetch_trades = true;
                    c.trades_after = Some(now.plus_nanos(ns(self.options.ack_deadline)));
                }
                self.on_leverage_failed(&purpose, &error);
                tracing::warn!(gateway = %self.name, ?purpose, code = error.code, msg = %error.msg, "request failed");
                self.telemetry.emit(GatewayEvent::Failed {
                    venue: self.venue.id,
                    code: i64::from(error.code),
                    message: error.msg,
                    at: now,
                });
            }
            SessionEvent::Undecodable(_) => self.counters.undecodable += 1,
            SessionEvent::StreamGap(why) => {
                // Events may have been lost: query every order not yet final, and sweep
                // open orders and balances, now rather than at their deadlines.
                self.counters.stream_gaps += 1;
                let open: Vec<ClientOrderId> = self
                    .table
                    .iter()
                    .filter(|o| !o.status.is_final())
                    .map(|o| o.cid)
                    .collect();
                for cid in open {
                    self.chase.entry(cid).or_default().query_now = true;
                }
                self.next_sweep = now;
                tracing::warn!(gateway = %self.name, %why, "private stream gap: reconciling");
            }
            SessionEvent::Other(_) | SessionEvent::Ignored(_) => {}
        }
    }
}
