//! CoinDCX's book rule (exchanges.md §7.5): the order-book channel sends whole snapshots and
//! no diffs, so the book *is* the latest `depth-snapshot`. Its version `vs` only rises: a
//! snapshot whose `vs` is not above the last one applied is stale and dropped (counted). A
//! book that receives no snapshot for `stale_after` is no longer the market: it is marked
//! invalid until the next snapshot.

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, UnixNanos};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// One instrument's book, kept from `@orderbook@N-futures`.
pub struct CoindcxBookSync {
    instrument: InstrumentId,
    book: L2Book,
    /// The `vs` of the last snapshot applied on this connection (kept after the book goes
    /// quiet, so a late older snapshot is still refused).
    vs: Option<u64>,
    live: bool,
    /// When the book's snapshot was applied, on the feed's clock (`None` until a timer call
    /// has told the book the time).
    applied_at: Option<UnixNanos>,
    counters: SyncCounters,
}

impl CoindcxBookSync {
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            vs: None,
            live: false,
            applied_at: None,
            counters: SyncCounters::default(),
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// The version of the snapshot the book holds.
    pub fn vs(&self) -> Option<u64> {
        self.vs
    }

    pub fn state(&self) -> SyncState {
        if self.live {
            SyncState::Live
        } else {
            SyncState::Syncing
        }
    }

    pub fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// A `depth-snapshot` at version `vs`, received at `now` (the feed's latest time).
    pub fn on_snapshot(
        &mut self,
        vs: u64,
        bids: &[Level],
        asks: &[Level],
        now: Option<UnixNanos>,
    ) -> SyncEvent {
        if self.vs.is_some_and(|last| vs <= last) {
            self.counters.stale_dropped += 1;
            return SyncEvent::Stale;
        }
        self.book
            .apply_snapshot(vs, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
        self.vs = Some(vs);
        self.applied_at = now;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.drop_book(ResyncReason::Crossed);
        }
        self.live = true;
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: true,
        }
    }

    /// Time passed: a live book without a snapshot for `stale_after` is invalidated.
    pub fn on_timer(&mut self, now: UnixNanos, stale_after: u64) -> Option<SyncEvent> {
        if !self.live {
            return None;
        }
        match self.applied_at {
            None => {
                self.applied_at = Some(now);
                None
            }
            Some(at) if now.since(at) >= stale_after => {
                // Snapshots were missed (or stopped): a gap in the only stream the book has.
                Some(self.drop_book(ResyncReason::Gap))
            }
            Some(_) => None,
        }
    }

    /// The connection was replaced: the new connection's first snapshot is taken whatever
    /// its version (a restarted venue may number its snapshots afresh).
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.vs = None;
        self.drop_book(ResyncReason::Reconnect)
    }

    fn drop_book(&mut self, why: ResyncReason) -> SyncEvent {
        if self.live {
            self.counters.resyncs += 1;
        }
        self.live = false;
        self.applied_at = None;
        self.book.clear();
        SyncEvent::Invalidated(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Price, Qty};

    fn l(p: &str, q: &str) -> Level {
        Level {
            price: Price::parse(p).unwrap(),
            qty: Qty::parse(q).unwrap(),
        }
    }

    fn ms(v: u64) -> UnixNanos {
        UnixNanos::from_millis(v)
    }

    #[test]
    fn each_snapshot_replaces_the_book_and_older_versions_are_refused() {
        let mut s = CoindcxBookSync::new(InstrumentId(0), SyncLimits::default());
        let ev = s.on_snapshot(10, &[l("100", "1"), l("99", "2")], &[l("101", "3")], None);
        assert_eq!(
            ev,
            SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true
            }
        );
        assert_eq!(s.book().best_bid(), Some(l("100", "1")));
        // The next snapshot replaces every level: 100 is gone.
        let ev = s.on_snapshot(11, &[l("98", "5")], &[l("102", "1")], None);
        assert!(ev.book_changed());
        assert_eq!(s.book().best_bid(), Some(l("98", "5")));
        assert_eq!(
            s.book()
                .qty_at(crate::types::Side::Buy, Price::parse("100").unwrap()),
            Qty::ZERO
        );
        assert_eq!(s.book().update_id(), 11);
        for old in [11, 5] {
            assert_eq!(
                s.on_snapshot(old, &[l("1", "1")], &[l("200", "1")], None),
                SyncEvent::Stale
            );
        }
        assert_eq!(s.book().best_bid(), Some(l("98", "5")));
        assert_eq!(s.counters().stale_dropped, 2);
        assert_eq!(s.counters().snapshots_applied, 2);
    }

    #[test]
    fn a_quiet_book_goes_stale_until_the_next_snapshot() {
        let mut s = CoindcxBookSync::new(InstrumentId(0), SyncLimits::default());
        assert_eq!(s.on_timer(ms(0), 1_000_000_000), None);
        let _ = s.on_snapshot(1, &[l("100", "1")], &[l("101", "1")], Some(ms(1_000)));
        assert_eq!(s.on_timer(ms(1_999), 1_000_000_000), None);
        assert_eq!(
            s.on_timer(ms(2_000), 1_000_000_000),
            Some(SyncEvent::Invalidated(ResyncReason::Gap))
        );
        assert_eq!(s.state(), SyncState::Syncing);
        assert_eq!(s.on_timer(ms(9_000), 1_000_000_000), None);
        let ev = s.on_snapshot(2, &[l("100", "1")], &[l("101", "1")], Some(ms(9_000)));
        assert!(ev.book_changed());
        assert_eq!(s.counters().resyncs, 1);
    }

    #[test]
    fn a_crossed_snapshot_is_not_published_and_a_reconnect_takes_any_version() {
        let mut s = CoindcxBookSync::new(InstrumentId(0), SyncLimits::default());
        let ev = s.on_snapshot(3, &[l("102", "1")], &[l("101", "1")], None);
        assert_eq!(ev, SyncEvent::Invalidated(ResyncReason::Crossed));
        let _ = s.on_snapshot(4, &[l("100", "1")], &[l("101", "1")], None);
        assert_eq!(
            s.on_reconnect(),
            SyncEvent::Invalidated(ResyncReason::Reconnect)
        );
        assert!(
            s.on_snapshot(2, &[l("100", "1")], &[l("101", "1")], None)
                .book_changed()
        );
        assert_eq!(
            s.on_snapshot(2, &[l("100", "1")], &[l("101", "1")], None),
            SyncEvent::Stale
        );
    }
}
