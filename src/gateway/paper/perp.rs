//! The paper gateway's perpetuals: a strategy trading a perpetual gets a margin account
//! ([`MarginAccount`]) instead of a spot wallet. Its orders hold initial margin rather than
//! the coins or quote they would pay, its fills move a position and realize PnL in the
//! settlement asset, funding is paid at the instrument's funding times at the feed's funding
//! rate, and a mark reaching the liquidation price closes the position there, as a paper
//! liquidation order the strategy is told about like any other.

use crate::persist::{FundingRecord, Record};
use crate::types::order::{OrderKind, TimeInForce};
use crate::types::{
    ClientOrderId, FundingRate, InstrumentId, Order, OrderEvent, Price, Qty, Side, StrategyId,
    UnixNanos, VenueOrderId,
};

use super::PaperGateway;
use super::margin::MarginAccount;

/// `10^-16` settlement units to the `10^-8` the order locks are kept in, rounded up (a lock
/// never holds less than the margin).
fn e8_up(v: i128) -> i64 {
    let s = i128::from(crate::types::SCALE);
    (v.div_euclid(s) + i128::from(v.rem_euclid(s) != 0)).clamp(0, i128::from(i64::MAX)) as i64
}

fn e16(v: i64) -> i128 {
    i128::from(v) * i128::from(crate::types::SCALE)
}

impl PaperGateway {
    /// The strategy's margin account, when it trades a perpetual here.
    pub(super) fn margin_mut(&mut self, strategy: StrategyId) -> Option<&mut MarginAccount> {
        self.margins.get_mut(strategy.index())?.as_mut()
    }

    /// The margin account of a strategy, for tests and the status room.
    pub fn margin(&self, strategy: StrategyId) -> Option<&MarginAccount> {
        self.margins.get(strategy.index())?.as_ref()
    }

    /// The margin a new order needs (`10^-8` settlement units), and whether the account has
    /// it. `price` is the order's limit, or for a market order the worst price it takes.
    pub(super) fn perp_funds(
        &self,
        strategy: StrategyId,
        side: Side,
        qty: Qty,
        price: Price,
    ) -> Option<(i64, bool)> {
        let a = self.margins.get(strategy.index())?.as_ref()?;
        let need = a.margin_for(side, qty, price);
        Some((e8_up(need), need <= a.available()))
    }

    /// A paper fill on a perpetual: the fee in the settlement asset, the margin this quantity
    /// held released, the position moved. Returns the fee (`10^-8`), or `None` when the
    /// strategy has no margin account.
    pub(super) fn perp_fill(
        &mut self,
        cid: ClientOrderId,
        strategy: StrategyId,
        side: Side,
        qty: Qty,
        price: Price,
        rate: Price,
    ) -> Option<i64> {
        let lock = self.locks.get(&cid).copied();
        let a = self.margins.get_mut(strategy.index())?.as_mut()?;
        let held = e8_up(a.margin_for(side, qty, price));
        let release = lock.map_or(0, |l| held.min(l));
        if let Some(l) = self.locks.get_mut(&cid) {
            *l -= release;
        }
        let a = self.margins.get_mut(strategy.index())?.as_mut()?;
        a.order_margin -= e16(release);
        let fee = e8_up(a.fee(qty, price, rate));
        a.trade(side, qty, price, e16(fee));
        Some(fee)
    }

    /// Releases the margin an order still holds.
    pub(super) fn perp_release(&mut self, strategy: StrategyId, amount: i64) -> bool {
        match self.margin_mut(strategy) {
            Some(a) => {
                a.order_margin -= e16(amount);
                true
            }
            None => false,
        }
    }

    /// The mark price and funding rate of a perpetual: the venue's, as the feed published them
    /// beside the book; until it has, the mid of the book and no funding (a rate is never
    /// made up).
    pub(super) fn mark_and_rate(
        &self,
        instrument: InstrumentId,
    ) -> (Option<Price>, Option<FundingRate>) {
        let m = self.book.mark(instrument);
        if m.seq > 0 && m.mark.is_positive() {
            (Some(m.mark), Some(m.funding_rate))
        } else {
            (self.mid(instrument), None)
        }
    }

    /// Funding at the funding times that have passed, then liquidations. Returns the work
    /// done.
    pub(super) fn settle_perps(&mut self, now: UnixNanos) -> usize {
        let mut work = 0;
        for s in 0..self.margins.len() {
            let Some(instrument) = self.margins[s].as_ref().map(|a| a.instrument) else {
                continue;
            };
            let strategy = StrategyId(s as u16);
            let (mark, rate) = self.mark_and_rate(instrument);
            let Some(mark) = mark else { continue };
            let mut paid = Vec::new();
            if let Some(a) = self.margins[s].as_mut() {
                match rate {
                    Some(rate) => a.fund(now.as_millis(), mark, rate, |f| paid.push(f)),
                    None if a.skip_funding(now.as_millis()) > 0 => tracing::warn!(
                        gateway = %self.name,
                        strategy = s,
                        "paper funding time passed with a position open but no funding rate from the feed: not paid"
                    ),
                    None => {}
                }
            }
            for f in paid {
                work += 1;
                self.risk.on_funding(strategy, instrument, f.paid);
                self.keep(Record::Funding(FundingRecord {
                    venue: self.venue.id,
                    strategy,
                    instrument,
                    qty: Qty::from_units(f.qty),
                    mark: f.mark,
                    rate: f.rate,
                    paid: f.paid,
                    at: UnixNanos(f.at_ms * 1_000_000),
                }));
            }
            let due = self.margins[s]
                .as_ref()
                .and_then(|a| a.liquidation_due(mark));
            if let Some((side, qty, price)) = due {
                work += 1;
                self.liquidate(strategy, instrument, side, qty, price, now);
            }
        }
        work
    }

    /// Closes a strategy's position at its liquidation price: its open orders on the
    /// instrument are cancelled first (a venue does the same), then a liquidation order of
    /// the paper venue's own takes the position off at that price, as a taker.
    fn liquidate(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        qty: Qty,
        price: Price,
        now: UnixNanos,
    ) {
        let open: Vec<ClientOrderId> = self
            .table
            .iter()
            .filter(|o| o.strategy == strategy && o.instrument == instrument)
            .filter(|o| !o.status.is_final())
            .map(|o| o.cid)
            .collect();
        for cid in open {
            self.end(cid, crate::types::VenueFinal::Cancelled, now);
        }
        // Not one of the strategy's own ids: the venue's liquidation engine places it.
        let seq = self.next_order_id;
        let Ok(cid) = ClientOrderId::parse(&format!("paper-liq-{seq}")) else {
            return;
        };
        let order = Order::new(
            cid,
            strategy,
            instrument,
            side,
            OrderKind::Market,
            TimeInForce::Ioc,
            price,
            qty,
            now,
        )
        .reducing(true);
        self.table.insert_recovered(order);
        if let Some(a) = self.margin_mut(strategy) {
            a.liquidations += 1;
        }
        tracing::warn!(
            gateway = %self.name,
            strategy = strategy.0,
            %price,
            %qty,
            "paper liquidation: the mark reached the liquidation price; position closed there"
        );
        self.risk.on_order_opened(strategy, instrument, side, qty);
        self.apply(cid, &OrderEvent::Sent { at: now }, now);
        let venue_order_id = VenueOrderId::from_u64(self.next_order_id);
        self.next_order_id += 1;
        self.apply(
            cid,
            &OrderEvent::Accepted {
                venue_order_id,
                at: now,
            },
            now,
        );
        self.fill(cid, price, qty, false, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_round_up_to_the_unit() {
        assert_eq!(e8_up(e16(5)), 5);
        assert_eq!(e8_up(e16(5) + 1), 6);
        assert_eq!(e8_up(0), 0);
        assert_eq!(e8_up(-1), 0);
    }
}
