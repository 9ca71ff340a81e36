//! The bot-management commands a strategy actor obeys (stop, start, install into a vacant
//! slot, remove), and its poll while stopped or vacant: order updates still reach the
//! strategy (a stopped bot's cancels and late fills keep its books true), prints are let go,
//! reports keep flowing so `/status` shows the state.

use crate::types::{Price, Side, UnixNanos};

use super::{
    FLATTEN_COLLAR_BPS, REPORT_EVERY_NS, ReportMsg, StrategyActor, StrategyControl, StrategyCtx,
};
use crate::strategy::vacant::Vacant;

impl StrategyActor {
    pub(super) fn manage(
        &mut self,
        c: StrategyControl,
        now: UnixNanos,
        book: &crate::book::TopOfBook,
    ) {
        match c {
            StrategyControl::Stop if !self.vacant => {
                self.strategy.set_paused(true);
                self.sink.cancel_all();
                self.stopped = true;
                tracing::info!(strategy = %self.name, "stopped by the operator: its orders cancelled");
            }
            StrategyControl::Start if !self.vacant => {
                self.stopped = false;
                self.strategy.set_paused(false);
                self.last_seq = u64::MAX;
                tracing::info!(strategy = %self.name, "started by the operator");
            }
            StrategyControl::Install(i) if self.vacant => {
                self.strategy = i.strategy;
                self.name = format!("strategy:{}", i.name);
                self.vacant = false;
                self.env.timers.clear();
                self.subscribe();
                self.stopped = i.stopped;
                if i.stopped {
                    self.strategy.set_paused(true);
                }
                self.last_seq = u64::MAX;
                self.next_report = now;
                tracing::info!(strategy = %self.name, "bot installed in its slot");
            }
            StrategyControl::Remove { flatten, slot } if !self.vacant => {
                self.sink.cancel_all();
                if flatten {
                    let band = self.band().clone();
                    let mut cx = cx!(self, now, *book, UnixNanos::ZERO, &band, false);
                    let held = cx.position().qty;
                    let lot = cx.instrument(self.instrument).map(|i| i.lot_size);
                    if held != 0
                        && let Some(lot) = lot
                    {
                        let side = if held > 0 { Side::Sell } else { Side::Buy };
                        let qty = crate::types::Qty::from_units(held.abs()).floor_to(lot);
                        let sent = cx.market(self.instrument, side, qty, FLATTEN_COLLAR_BPS);
                        tracing::info!(strategy = %self.name, ?side, %qty, sent = sent.is_some(), "flattening before removal");
                    }
                }
                tracing::info!(strategy = %self.name, "bot removed: its slot is vacant");
                self.strategy = Box::new(Vacant);
                self.name = format!("strategy:{slot}");
                self.vacant = true;
                self.stopped = false;
                self.env.timers.clear();
                self.subscribe();
                self.next_report = now;
            }
            other => {
                tracing::warn!(strategy = %self.name, vacant = self.vacant, "control command does not apply here: {other:?}");
            }
        }
    }

    /// A poll while stopped or vacant: order updates, prints let go, reports.
    pub(super) fn idle_poll(&mut self, now: UnixNanos, book: &crate::book::TopOfBook) -> usize {
        let mut work = 0;
        let band = self.band().clone();
        while let Some(u) = self.updates.try_recv() {
            work += 1;
            if u.fee_correction.is_none() {
                self.sink.observe(&u);
            }
            let mut cx = cx!(self, now, *book, UnixNanos::ZERO, &band, true);
            match u.fee_correction {
                Some(fix) => self.strategy.on_fee_correction(&u, fix, &mut cx),
                None => self.strategy.on_order_update(&u, &mut cx),
            }
        }
        if let Some(rx) = &self.trades {
            work += rx.drain(usize::MAX, |_| {});
            self.dropped_seen = rx.stats().snapshot().1;
        }
        if now >= self.next_report {
            self.next_report = now.plus_nanos(REPORT_EVERY_NS);
            let mid = book
                .valid
                .then(|| Price::from_units((book.bid.price.units() + book.ask.price.units()) / 2));
            if let Some(tx) = &self.reports {
                let _ = tx.send(ReportMsg {
                    strategy: self.id,
                    mid,
                    report: self.strategy.report(mid),
                    prints: self.prints,
                    prints_lost: self.prints_lost,
                    stopped: self.stopped,
                    vacant: self.vacant,
                });
            }
        }
        if !self.env.closed_trades().is_empty() {
            work += self.pass_trades();
        }
        work
    }
}
