//! BitMart's book rule for `spot/depth/increase100` (exchanges.md §5.6, the docs' "How to
//! correctly maintain a copy of OrderBook locally"): a `snapshot` replaces the book and sets
//! its `version`; an `update` whose version is at or below the book's is discarded (an idle
//! update repeats the current version with no levels), the next version is applied (absolute
//! quantities, `"0"` removes a level), and a larger one means updates were missed. Then, and
//! for an update that comes before any snapshot, the docs' remedy is to ask the same
//! connection for a fresh snapshot (`{"op":"request","args":["spot/depth/increase100:<SYM>"]}`)
//! and overwrite the book with it: only that book waits, the connection and its other books
//! go on. The rule itself does no I/O: it says when a request is due and the handler queues it.

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, Side};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// Updates that may pass after a snapshot request before the request is taken as lost and
/// the connection replaced (at BitMart's 100 ms per update: 10 s).
pub const REQUEST_PATIENCE: u32 = 100;

/// What the book wants from the connection after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Nothing,
    /// Ask for a fresh snapshot of this book.
    Snapshot,
    /// A snapshot was asked for and has not come within `REQUEST_PATIENCE` updates: a new
    /// connection (whose subscription starts with a snapshot) is the remedy left.
    NewConnection,
}

/// One instrument's book, kept from `spot/depth/increase100`.
pub struct BitmartBookSync {
    instrument: InstrumentId,
    book: L2Book,
    /// The version the book is at while live.
    version: Option<u64>,
    /// A snapshot was asked for and updates have passed since (how many).
    requested: Option<u32>,
    counters: SyncCounters,
}

impl BitmartBookSync {
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            version: None,
            requested: None,
            counters: SyncCounters::default(),
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// The book's BitMart `version` while it is live.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    pub fn state(&self) -> SyncState {
        if self.version.is_some() {
            SyncState::Live
        } else {
            SyncState::Syncing
        }
    }

    pub fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// A `snapshot` (on subscribing, or the answer to a request): the book is set whole at
    /// `version`, stamped `stamp` (the handler's running message count).
    pub fn on_snapshot(
        &mut self,
        stamp: u64,
        version: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> (SyncEvent, Want) {
        self.book
            .apply_snapshot(stamp, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
        self.version = Some(version);
        self.requested = None;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        (
            SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true,
            },
            Want::Nothing,
        )
    }

    /// An `update` at `version`.
    pub fn on_update(
        &mut self,
        stamp: u64,
        version: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> (SyncEvent, Want) {
        let Some(at) = self.version else {
            // No book to place it on: ask for one (once; again only if it never comes).
            self.counters.stale_dropped += 1;
            let want = match &mut self.requested {
                None => {
                    self.requested = Some(0);
                    Want::Snapshot
                }
                Some(n) => {
                    *n += 1;
                    if *n >= REQUEST_PATIENCE {
                        *n = 0;
                        Want::NewConnection
                    } else {
                        Want::Nothing
                    }
                }
            };
            return (SyncEvent::Stale, want);
        };
        if version <= at {
            self.counters.stale_dropped += 1;
            return (SyncEvent::Stale, Want::Nothing);
        }
        if version > at + 1 {
            self.counters.gaps += 1;
            return self.invalidate(ResyncReason::Gap);
        }
        for l in bids {
            self.book.apply_level(Side::Buy, l.price, l.qty);
        }
        for l in asks {
            self.book.apply_level(Side::Sell, l.price, l.qty);
        }
        self.book.set_update_id(stamp);
        self.version = Some(version);
        self.counters.diffs_applied += 1;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        (SyncEvent::Applied, Want::Nothing)
    }

    /// The connection was replaced: its subscription brings a snapshot, nothing to ask for.
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.requested = None;
        self.drop_book(ResyncReason::Reconnect)
    }

    /// The handler gave up on this connection (`Want::NewConnection` of some book): the
    /// next connection's subscription brings the snapshot.
    pub fn on_abandoned(&mut self) -> SyncEvent {
        self.requested = Some(0);
        self.drop_book(ResyncReason::Gap)
    }

    /// The book is thrown away and a snapshot asked for.
    fn invalidate(&mut self, why: ResyncReason) -> (SyncEvent, Want) {
        let ev = self.drop_book(why);
        self.requested = Some(0);
        (ev, Want::Snapshot)
    }

    fn drop_book(&mut self, why: ResyncReason) -> SyncEvent {
        if self.version.is_some() {
            self.counters.resyncs += 1;
        }
        self.version = None;
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

    const APPLIED: (SyncEvent, Want) = (SyncEvent::Applied, Want::Nothing);
    const STALE: (SyncEvent, Want) = (SyncEvent::Stale, Want::Nothing);

    #[test]
    fn the_documented_rule_step_by_step() {
        let mut b = BitmartBookSync::new(InstrumentId(0), SyncLimits::default());
        // An update before any snapshot: dropped, and a snapshot asked for (once).
        assert_eq!(
            b.on_update(1, 3, &[l("10", "1")], &[]),
            (SyncEvent::Stale, Want::Snapshot)
        );
        assert_eq!(b.on_update(2, 4, &[l("10", "1")], &[]), STALE);
        assert_eq!(b.state(), SyncState::Syncing);
        // The samples' snapshot (version 4), then their update (version 5).
        let (ev, want) = b.on_snapshot(
            3,
            4,
            &[l("23105", "1.80114")],
            &[l("23200", "0.69959"), l("28000.00", "0.20000")],
        );
        assert!(ev.book_changed() && want == Want::Nothing);
        assert_eq!(b.on_update(4, 5, &[], &[l("23200", "0.59959")]), APPLIED);
        assert_eq!(b.book().best_ask(), Some(l("23200", "0.59959")));
        assert_eq!(b.version(), Some(5));
        assert_eq!(b.book().update_id(), 4);
        // An idle update repeats the version: discarded; so is an older one.
        assert_eq!(b.on_update(5, 5, &[], &[]), STALE);
        assert_eq!(b.on_update(6, 2, &[l("1", "1")], &[]), STALE);
        // Absolute quantities; "0" removes a level.
        assert_eq!(
            b.on_update(7, 6, &[l("23105", "0"), l("23100", "2")], &[]),
            APPLIED
        );
        assert_eq!(b.book().best_bid(), Some(l("23100", "2")));
        // Version 8 after 6: a gap, the book thrown away and a snapshot asked for.
        assert_eq!(
            b.on_update(8, 8, &[l("23101", "1")], &[]),
            (SyncEvent::Invalidated(ResyncReason::Gap), Want::Snapshot)
        );
        assert_eq!(b.state(), SyncState::Syncing);
        assert_eq!(b.book().best_bid(), None);
        // While it waits, updates are dropped without asking again.
        assert_eq!(b.on_update(9, 9, &[], &[]), STALE);
        let (ev, _) = b.on_snapshot(10, 9, &[l("99", "1")], &[l("101", "1")]);
        assert!(ev.book_changed());
        assert_eq!(b.on_update(11, 10, &[l("100", "1")], &[]), APPLIED);
        let c = b.counters();
        assert_eq!(
            (
                c.gaps,
                c.resyncs,
                c.snapshots_applied,
                c.diffs_applied,
                c.stale_dropped
            ),
            (1, 1, 2, 3, 5)
        );
    }

    #[test]
    fn a_request_that_is_never_answered_ends_in_a_new_connection() {
        let mut b = BitmartBookSync::new(InstrumentId(0), SyncLimits::default());
        let _ = b.on_snapshot(1, 1, &[l("10", "1")], &[l("11", "1")]);
        assert_eq!(b.on_update(2, 3, &[], &[]).1, Want::Snapshot);
        let mut wants = Vec::new();
        for k in 0..REQUEST_PATIENCE {
            wants.push(b.on_update(3 + u64::from(k), 4 + u64::from(k), &[], &[]).1);
        }
        assert_eq!(wants.last(), Some(&Want::NewConnection));
        assert!(wants[..wants.len() - 1].iter().all(|w| *w == Want::Nothing));
    }

    #[test]
    fn a_crossing_update_resyncs() {
        let mut b = BitmartBookSync::new(InstrumentId(0), SyncLimits::default());
        let _ = b.on_snapshot(1, 7, &[l("10", "1")], &[l("11", "1")]);
        assert_eq!(
            b.on_update(2, 8, &[l("11.5", "1")], &[]),
            (
                SyncEvent::Invalidated(ResyncReason::Crossed),
                Want::Snapshot
            )
        );
        assert_eq!(b.counters().crossed, 1);
    }
}
