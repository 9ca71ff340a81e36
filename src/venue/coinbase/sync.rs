//! Coinbase's book rule (exchanges.md §4.3): every message of a connection carries
//! `sequence_num`, one more than the last message's, whatever its channel. A smaller one is
//! an out-of-order copy and is ignored; a larger jump means messages were lost, and since
//! `level2` updates carry no sequence of their own, any loss may have been a book update:
//! every book of the connection is thrown away, and only a new subscription (a new
//! connection, whose `level2` starts with a `snapshot` event) brings them back. A `level2`
//! `snapshot` sets a book whole; `update`s set levels to absolute quantities (`"0"` removes
//! one). A new connection starts its own sequence (the docs' samples all show 0: an
//! unconfirmed reading, `super::UNCONFIRMED`).

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, Side};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// What a message's `sequence_num` says about the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// The first message of the connection, or the next one.
    InOrder,
    /// At or below the last one seen: an out-of-order copy, to be ignored.
    Stale,
    /// Messages between the last one and this were lost.
    Gap { expected: u64, got: u64 },
}

/// The sequence of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnSeq {
    last: Option<u64>,
}

impl ConnSeq {
    /// Checks `seq` and, unless it is stale, makes it the last one seen (after a gap the
    /// sequence goes on from `seq`: the books wait for a new connection anyway).
    #[inline]
    pub fn check(&mut self, seq: u64) -> SeqCheck {
        let res = match self.last {
            None => SeqCheck::InOrder,
            Some(last) if seq <= last => return SeqCheck::Stale,
            Some(last) if seq == last + 1 => SeqCheck::InOrder,
            Some(last) => SeqCheck::Gap {
                expected: last + 1,
                got: seq,
            },
        };
        self.last = Some(seq);
        res
    }

    /// A new connection: its sequence starts afresh.
    pub fn reset(&mut self) {
        self.last = None;
    }

    pub fn last(&self) -> Option<u64> {
        self.last
    }
}

/// One instrument's book, kept from `level2` events.
pub struct CoinbaseBookSync {
    instrument: InstrumentId,
    book: L2Book,
    live: bool,
    counters: SyncCounters,
}

impl CoinbaseBookSync {
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            live: false,
            counters: SyncCounters::default(),
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn book(&self) -> &L2Book {
        &self.book
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

    /// A `snapshot` event: the book is set whole, as of `stamp` (the handler's running
    /// message count, which keeps rising across connections).
    pub fn on_snapshot(&mut self, stamp: u64, bids: &[Level], asks: &[Level]) -> SyncEvent {
        self.book
            .apply_snapshot(stamp, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
        self.live = true;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: true,
        }
    }

    /// An `update` event. Before a snapshot (after a gap, until the new connection's
    /// snapshot) it cannot be placed and is dropped.
    pub fn on_update(&mut self, stamp: u64, bids: &[Level], asks: &[Level]) -> SyncEvent {
        if !self.live {
            self.counters.stale_dropped += 1;
            return SyncEvent::Stale;
        }
        for l in bids {
            self.book.apply_level(Side::Buy, l.price, l.qty);
        }
        for l in asks {
            self.book.apply_level(Side::Sell, l.price, l.qty);
        }
        self.book.set_update_id(stamp);
        self.counters.diffs_applied += 1;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        SyncEvent::Applied
    }

    /// Messages were lost on the connection (counted as a gap when the book was live).
    pub fn on_gap(&mut self) -> SyncEvent {
        self.counters.gaps += 1;
        self.invalidate(ResyncReason::Gap)
    }

    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.invalidate(ResyncReason::Reconnect)
    }

    fn invalidate(&mut self, why: ResyncReason) -> SyncEvent {
        if self.live {
            self.counters.resyncs += 1;
        }
        self.live = false;
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

    #[test]
    fn sequence_is_checked_per_connection() {
        let mut s = ConnSeq::default();
        let steps: &[(u64, SeqCheck)] = &[
            (0, SeqCheck::InOrder),
            (1, SeqCheck::InOrder),
            (1, SeqCheck::Stale),
            (0, SeqCheck::Stale),
            (2, SeqCheck::InOrder),
            (
                5,
                SeqCheck::Gap {
                    expected: 3,
                    got: 5,
                },
            ),
            (4, SeqCheck::Stale),
            (6, SeqCheck::InOrder),
        ];
        for (k, (seq, want)) in steps.iter().enumerate() {
            assert_eq!(s.check(*seq), *want, "step {k}: seq {seq}");
        }
        s.reset();
        assert_eq!(s.check(0), SeqCheck::InOrder);
        assert_eq!(s.last(), Some(0));
    }

    #[test]
    fn snapshot_then_absolute_updates_then_gap() {
        let mut b = CoinbaseBookSync::new(InstrumentId(0), SyncLimits::default());
        // An update before any snapshot cannot be placed.
        assert_eq!(b.on_update(1, &[l("10", "1")], &[]), SyncEvent::Stale);
        assert_eq!(b.state(), SyncState::Syncing);
        let ev = b.on_snapshot(
            2,
            &[l("100.5", "1"), l("100.4", "2")],
            &[l("100.6", "3"), l("100.7", "4")],
        );
        assert_eq!(
            ev,
            SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true
            }
        );
        // Absolute quantities: 100.5 becomes 0.25, 100.6 goes away, a new bid at 100.55.
        let ev = b.on_update(
            3,
            &[l("100.5", "0.25"), l("100.55", "7")],
            &[l("100.6", "0")],
        );
        assert_eq!(ev, SyncEvent::Applied);
        assert_eq!(b.book().best_bid(), Some(l("100.55", "7")));
        assert_eq!(b.book().best_ask(), Some(l("100.7", "4")));
        assert_eq!(
            b.book().qty_at(Side::Buy, Price::parse("100.5").unwrap()),
            Qty::parse("0.25").unwrap()
        );
        assert_eq!(b.book().update_id(), 3);
        // A gap throws the book away until the next snapshot.
        assert_eq!(b.on_gap(), SyncEvent::Invalidated(ResyncReason::Gap));
        assert_eq!(b.state(), SyncState::Syncing);
        assert_eq!(b.book().best_bid(), None);
        assert_eq!(b.on_update(4, &[l("100.5", "1")], &[]), SyncEvent::Stale);
        let ev = b.on_snapshot(5, &[l("99", "1")], &[l("101", "1")]);
        assert!(ev.book_changed());
        let c = b.counters();
        assert_eq!(
            (
                c.gaps,
                c.resyncs,
                c.snapshots_applied,
                c.diffs_applied,
                c.stale_dropped
            ),
            (1, 1, 2, 1, 2)
        );
    }

    #[test]
    fn a_crossing_update_resyncs() {
        let mut b = CoinbaseBookSync::new(InstrumentId(0), SyncLimits::default());
        let _ = b.on_snapshot(1, &[l("10", "1")], &[l("11", "1")]);
        assert_eq!(
            b.on_update(2, &[l("11.5", "1")], &[]),
            SyncEvent::Invalidated(ResyncReason::Crossed)
        );
        assert_eq!(b.counters().crossed, 1);
    }
}
