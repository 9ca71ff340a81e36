//! The bot-management commands a strategy actor obeys (stop, start, install into a vacant
//! slot, remove), and its poll while stopped or vacant: order updates still reach the
//! strategy (a stopped bot's cancels and late fills keep its books true), prints are let go,
//! reports keep flowing so `/status` shows the state.

use crate::types::{Side, UnixNanos};

use super::{FLATTEN_COLLAR_BPS, REPORT_EVERY_NS, StrategyActor, StrategyControl, StrategyCtx};
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
                self.decisions = 0;
                tracing::info!(strategy = %self.name, "bot installed in its slot");
            }
            StrategyControl::Remove { flatten, slot } if !self.vacant => {
                self.sink.cancel_all();
                if flatten {
                    self.flatten(now, book, "flattening before removal");
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
            StrategyControl::Flatten if self.vacant => {
                self.flatten(now, book, "flattening what a removed bot left");
            }
            other => {
                tracing::warn!(strategy = %self.name, vacant = self.vacant, "control command does not apply here: {other:?}");
            }
        }
    }

    /// Closes the engine's position of this slot by a collared market order (on the lot).
    fn flatten(&mut self, now: UnixNanos, book: &crate::book::TopOfBook, why: &str) {
        let band = self.band().clone();
        let mut cx = cx!(self, now, *book, UnixNanos::ZERO, &band, false);
        let held = cx.position().qty;
        let lot = cx.instrument(self.instrument).map(|i| i.lot_size);
        if held != 0
            && let Some(lot) = lot
        {
            let side = if held > 0 { Side::Sell } else { Side::Buy };
            let qty = crate::types::Qty::from_units(held.saturating_abs()).floor_to(lot);
            let sent = cx.market(self.instrument, side, qty, FLATTEN_COLLAR_BPS);
            tracing::info!(strategy = %self.name, ?side, %qty, sent = sent.is_some(), "{why}");
        }
    }

    /// A poll while stopped or vacant: order updates, prints let go, reports.
    pub(super) fn idle_poll(&mut self, now: UnixNanos, book: &crate::book::TopOfBook) -> usize {
        let band = self.band().clone();
        let mut work = self.drain_updates(now, book, &band);
        if let Some(rx) = &self.trades {
            work += rx.drain(usize::MAX, |_| {});
            self.dropped_seen = rx.stats().snapshot().1;
        }
        if now >= self.next_report {
            self.next_report = now.plus_nanos(REPORT_EVERY_NS);
            let mid = super::mid_of(book);
            if let Some(tx) = &self.reports {
                let _ = tx.send(self.report_msg(mid, self.strategy.report(mid)));
            }
        }
        if !self.env.closed_trades().is_empty() {
            work += self.pass_trades();
        }
        work
    }
}
