//! The strategy actor's quick answer to "would a poll now do anything?": most polls of a
//! running strategy find no new book, no order update, no timer or report due, and then the
//! whole poll (the book read, the receives, the checks) did nothing. A poll that finds the
//! host quiet returns at once, with the same result (no call, no send, no work).

use crate::types::UnixNanos;

use super::StrategyActor;

impl StrategyActor {
    /// True when a poll at `now` would call the strategy for nothing and send nothing:
    /// running (not stopped or vacant), no prints to deliver or candles to close (it takes
    /// none), no control command, no intent held, no order update, no timer due, no tick
    /// or report due, no closed trade to pass on, and its books' publish counters as the
    /// strategy last saw them.
    ///
    /// A book being written while this reads counts as not yet published (its counter moves
    /// when the write ends), as for a poll that came just before the write.
    #[inline]
    pub(super) fn quiet(&mut self, now: UnixNanos) -> bool {
        // Cheapest and most often false first: a new book.
        self.books_seq() == self.last_seq
            && now < self.next_tick
            && now < self.next_report
            && !self.stopped
            && !self.vacant
            && self.trades.is_none()
            && self.sink.pending() == 0
            && self.env.closed_trades().is_empty()
            && self.env.timers.next_due().is_none_or(|t| t > now)
            && self.control.as_ref().is_none_or(|c| c.is_empty())
            && self.updates.is_empty()
    }

    /// The main book's publish counter plus the other declared instruments' (what the poll
    /// compares with `last_seq`).
    #[inline]
    pub(super) fn books_seq(&self) -> u64 {
        self.extra
            .iter()
            .fold(self.cache.seq(self.instrument), |s, id| {
                s.wrapping_add(self.cache.seq(*id))
            })
    }
}
