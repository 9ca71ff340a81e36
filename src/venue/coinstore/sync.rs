//! Coinstore's book rule (exchanges.md §6.5). `<symbol>@depth@<N>` pushes are limited-level
//! snapshots and no diff stream is documented, so the book is the latest snapshot: each one
//! replaces it whole. Nothing sequences the book itself; what can reveal a lost message is the
//! session sequence `S` that every server message carries (one more than the last, restarting
//! on each connection). A jump in `S` means messages were lost, any of which could have been a
//! snapshot or a trade, so every book of the connection is thrown away and a new connection
//! (fresh subscriptions, fresh snapshots) brings them back. A book whose snapshots stop is
//! stale: the handler's keepalive declares the connection dead after a silence (see
//! `handler.rs`), which resyncs every book the same way.

use crate::book::{L2Book, Level};
use crate::types::InstrumentId;
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// What a message's `S` says about the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// The first message of the session, or the next one.
    InOrder,
    /// At or below the last one seen: a copy, ignored.
    Stale,
    /// Messages between the last one and this were lost.
    Gap { expected: u64, got: u64 },
}

/// The `S` sequence of one WebSocket session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionSeq {
    last: Option<u64>,
}

impl SessionSeq {
    /// Checks `seq` and, unless it is stale, makes it the last one seen.
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

    /// A new session: its `S` starts again.
    pub fn reset(&mut self) {
        self.last = None;
    }

    pub fn last(&self) -> Option<u64> {
        self.last
    }
}

/// One instrument's book: the latest `depth` snapshot.
pub struct CoinstoreBookSync {
    instrument: InstrumentId,
    book: L2Book,
    live: bool,
    counters: SyncCounters,
}

impl CoinstoreBookSync {
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

    /// A `depth` push: the book becomes these levels, stamped `stamp` (the handler's running
    /// message count).
    pub fn on_snapshot(&mut self, stamp: u64, bids: &[Level], asks: &[Level]) -> SyncEvent {
        self.book
            .apply_snapshot(stamp, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
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

    /// Messages of the session were lost: the book waits for a new connection.
    pub fn on_gap(&mut self) -> SyncEvent {
        self.counters.gaps += 1;
        self.drop_book(ResyncReason::Gap)
    }

    /// The connection was replaced: its subscription brings a snapshot.
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.drop_book(ResyncReason::Reconnect)
    }

    fn drop_book(&mut self, why: ResyncReason) -> SyncEvent {
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
    use crate::types::{Price, Qty, Side};

    fn l(p: &str, q: &str) -> Level {
        Level {
            price: Price::parse(p).unwrap(),
            qty: Qty::parse(q).unwrap(),
        }
    }

    #[test]
    fn the_session_sequence_table() {
        let mut s = SessionSeq::default();
        let steps: &[(u64, SeqCheck)] = &[
            (5, SeqCheck::InOrder),
            (6, SeqCheck::InOrder),
            (6, SeqCheck::Stale),
            (3, SeqCheck::Stale),
            (
                9,
                SeqCheck::Gap {
                    expected: 7,
                    got: 9,
                },
            ),
            (10, SeqCheck::InOrder),
        ];
        for (seq, want) in steps {
            assert_eq!(s.check(*seq), *want, "S = {seq}");
        }
        s.reset();
        assert_eq!(s.check(1), SeqCheck::InOrder);
        assert_eq!(s.last(), Some(1));
    }

    #[test]
    fn each_snapshot_replaces_the_book_whole() {
        let mut b = CoinstoreBookSync::new(InstrumentId(0), SyncLimits::default());
        assert_eq!(b.state(), SyncState::Syncing);
        let ev = b.on_snapshot(1, &[l("100", "1"), l("99", "2")], &[l("101", "3")]);
        assert!(ev.book_changed());
        assert_eq!(b.state(), SyncState::Live);
        assert_eq!(
            (b.book().depth(Side::Buy), b.book().depth(Side::Sell)),
            (2, 1)
        );
        // The next snapshot leaves out 99: it is gone, not kept from the last one.
        let ev = b.on_snapshot(2, &[l("100", "4")], &[l("102", "1"), l("103", "1")]);
        assert!(ev.book_changed());
        assert_eq!(b.book().best_bid(), Some(l("100", "4")));
        assert_eq!(
            b.book().qty_at(Side::Buy, Price::parse("99").unwrap()),
            Qty::ZERO
        );
        assert_eq!(b.book().best_ask(), Some(l("102", "1")));
        assert_eq!(b.book().update_id(), 2);
        assert_eq!(b.on_gap(), SyncEvent::Invalidated(ResyncReason::Gap));
        assert_eq!(b.state(), SyncState::Syncing);
        assert_eq!(b.book().best_bid(), None);
        assert!(
            b.on_snapshot(3, &[l("1", "1")], &[l("2", "1")])
                .book_changed()
        );
        assert_eq!(
            b.on_reconnect(),
            SyncEvent::Invalidated(ResyncReason::Reconnect)
        );
        let c = b.counters();
        assert_eq!(
            (c.snapshots_applied, c.gaps, c.reconnects, c.resyncs),
            (3, 1, 1, 2)
        );
    }

    #[test]
    fn a_crossed_snapshot_is_not_published() {
        let mut b = CoinstoreBookSync::new(InstrumentId(0), SyncLimits::default());
        assert_eq!(
            b.on_snapshot(1, &[l("101", "1")], &[l("100", "1")]),
            SyncEvent::Invalidated(ResyncReason::Crossed)
        );
        assert_eq!(b.state(), SyncState::Syncing);
        assert_eq!(b.counters().crossed, 1);
    }
}
