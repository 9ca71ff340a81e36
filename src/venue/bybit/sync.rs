//! Bybit's book rule for `orderbook.{depth}` (exchanges.md §3.3): the first message after
//! subscribing is a `snapshot`; each `delta` carries the next update id `u` (sizes are
//! absolute, `"0"` deletes, an unknown price is inserted). A new snapshot, or a message with
//! `u = 1` (the service restarted), replaces the book. Bybit documents no gap rule, so mako's
//! is: a delta whose `u` is not the book's + 1 means deltas were missed, and so does a delta
//! before any snapshot. The remedy is to re-subscribe the book's topic on the same connection
//! (unsubscribe, subscribe: the subscription starts again with a snapshot), so only that book
//! waits; the rule says when, the handler queues the messages.

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, Side};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// Deltas that may pass after a re-subscribe before it is taken as lost and the connection
/// replaced (at 20 ms per delta on depth 50: a few seconds).
pub const RESUBSCRIBE_PATIENCE: u32 = 250;

/// What the book wants from the connection after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Nothing,
    /// Re-subscribe this book's topic to get a fresh snapshot.
    Resubscribe,
    /// A re-subscribe brought no snapshot within `RESUBSCRIBE_PATIENCE` deltas: a new
    /// connection (whose subscriptions start with snapshots) is the remedy left.
    NewConnection,
}

/// One instrument's book, kept from `orderbook.{depth}`.
pub struct BybitBookSync {
    instrument: InstrumentId,
    book: L2Book,
    /// The `u` the book is at while live.
    u: Option<u64>,
    /// A re-subscribe was asked for and deltas have passed since (how many).
    requested: Option<u32>,
    counters: SyncCounters,
}

impl BybitBookSync {
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            u: None,
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

    /// The book's `u` while it is live.
    pub fn u(&self) -> Option<u64> {
        self.u
    }

    pub fn state(&self) -> SyncState {
        if self.u.is_some() {
            SyncState::Live
        } else {
            SyncState::Syncing
        }
    }

    pub fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// A `snapshot` (or a message with `u = 1`): the book is set whole at `u`, its update id
    /// the cross sequence `seq` (comparable with other depths' and the tickers').
    pub fn on_snapshot(
        &mut self,
        seq: u64,
        u: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> (SyncEvent, Want) {
        if u == 1 && self.u.is_some() {
            self.counters.sequence_resets += 1;
        }
        self.book
            .apply_snapshot(seq, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
        self.u = Some(u);
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

    /// A `delta` at `u`.
    pub fn on_delta(
        &mut self,
        seq: u64,
        u: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> (SyncEvent, Want) {
        if u == 1 {
            // The service restarted: the message is the new book.
            return self.on_snapshot(seq, u, bids, asks);
        }
        let Some(at) = self.u else {
            // No book to place it on: re-subscribe (once; again only if it never comes).
            self.counters.stale_dropped += 1;
            let want = match &mut self.requested {
                None => {
                    self.counters.gaps += 1;
                    self.requested = Some(0);
                    Want::Resubscribe
                }
                Some(n) => {
                    *n += 1;
                    if *n >= RESUBSCRIBE_PATIENCE {
                        *n = 0;
                        Want::NewConnection
                    } else {
                        Want::Nothing
                    }
                }
            };
            return (SyncEvent::Stale, want);
        };
        if u != at.wrapping_add(1) {
            if u > at {
                self.counters.gaps += 1;
            } else {
                self.counters.overlaps += 1;
            }
            let why = if u > at {
                ResyncReason::Gap
            } else {
                ResyncReason::Overlap
            };
            return self.invalidate(why);
        }
        for l in bids {
            self.book.apply_level(Side::Buy, l.price, l.qty);
        }
        for l in asks {
            self.book.apply_level(Side::Sell, l.price, l.qty);
        }
        self.book.set_update_id(seq);
        self.u = Some(u);
        self.counters.diffs_applied += 1;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        (SyncEvent::Applied, Want::Nothing)
    }

    /// The connection was replaced: its subscriptions bring snapshots, nothing to ask for.
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.requested = None;
        self.drop_book(ResyncReason::Reconnect)
    }

    /// The handler gave up on this connection (`Want::NewConnection` of some book): the
    /// next connection's subscription brings the snapshot.
    pub fn on_abandoned(&mut self) -> SyncEvent {
        self.requested = None;
        self.drop_book(ResyncReason::Gap)
    }

    /// The book is thrown away and a re-subscribe asked for.
    fn invalidate(&mut self, why: ResyncReason) -> (SyncEvent, Want) {
        let ev = self.drop_book(why);
        self.requested = Some(0);
        (ev, Want::Resubscribe)
    }

    fn drop_book(&mut self, why: ResyncReason) -> SyncEvent {
        if self.u.is_some() {
            self.counters.resyncs += 1;
        }
        self.u = None;
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
    fn the_rule_step_by_step() {
        let mut b = BybitBookSync::new(InstrumentId(0), SyncLimits::default());
        // A delta before any snapshot: dropped, and a re-subscribe asked for (once).
        assert_eq!(
            b.on_delta(5, 10, &[l("10", "1")], &[]),
            (SyncEvent::Stale, Want::Resubscribe)
        );
        assert_eq!(b.on_delta(6, 11, &[l("10", "1")], &[]), STALE);
        assert_eq!(b.state(), SyncState::Syncing);
        let (ev, want) = b.on_snapshot(
            7,
            18_521_288,
            &[l("16493.50", "0.006"), l("16493.00", "0.100")],
            &[l("16611.00", "0.029"), l("16612.00", "0.213")],
        );
        assert!(ev.book_changed() && want == Want::Nothing);
        assert_eq!(b.book().update_id(), 7);
        // The next u applies; "0" deletes, a new price inserts, a known one is overwritten.
        assert_eq!(
            b.on_delta(
                9,
                18_521_289,
                &[l("16493.50", "0"), l("16493.20", "1.5")],
                &[l("16611.00", "0.5")]
            ),
            APPLIED
        );
        assert_eq!(b.book().best_bid(), Some(l("16493.20", "1.5")));
        assert_eq!(b.book().best_ask(), Some(l("16611.00", "0.5")));
        assert_eq!((b.u(), b.book().update_id()), (Some(18_521_289), 9));
        // u + 2: a gap, the book thrown away and a re-subscribe asked for.
        assert_eq!(
            b.on_delta(10, 18_521_291, &[], &[]),
            (SyncEvent::Invalidated(ResyncReason::Gap), Want::Resubscribe)
        );
        assert_eq!((b.state(), b.book().best_bid()), (SyncState::Syncing, None));
        // While it waits, deltas are dropped without asking again.
        assert_eq!(b.on_delta(11, 18_521_292, &[], &[]), STALE);
        let (ev, _) = b.on_snapshot(12, 18_521_300, &[l("99", "1")], &[l("101", "1")]);
        assert!(ev.book_changed());
        // A repeated u is an overlap: resynced as well.
        assert_eq!(
            b.on_delta(13, 18_521_300, &[], &[]),
            (
                SyncEvent::Invalidated(ResyncReason::Overlap),
                Want::Resubscribe
            )
        );
        let c = b.counters();
        assert_eq!(
            (
                c.gaps,
                c.overlaps,
                c.resyncs,
                c.snapshots_applied,
                c.diffs_applied,
                c.stale_dropped
            ),
            (2, 1, 2, 2, 1, 3)
        );
    }

    #[test]
    fn u_equal_to_one_replaces_the_book() {
        let mut b = BybitBookSync::new(InstrumentId(0), SyncLimits::default());
        let _ = b.on_snapshot(1, 500, &[l("10", "1"), l("9", "1")], &[l("11", "1")]);
        let (ev, want) = b.on_delta(2, 1, &[l("20", "2")], &[l("21", "2")]);
        assert!(ev.book_changed() && want == Want::Nothing);
        assert_eq!(b.book().depth(Side::Buy), 1);
        assert_eq!(b.book().best_bid(), Some(l("20", "2")));
        assert_eq!(b.on_delta(3, 2, &[], &[l("22", "1")]), APPLIED);
        assert_eq!(b.counters().sequence_resets, 1);
        // A new snapshot replaces the book at any u.
        let _ = b.on_snapshot(4, 9_000, &[l("30", "1")], &[l("31", "1")]);
        assert_eq!(
            (b.book().depth(Side::Buy), b.book().depth(Side::Sell), b.u()),
            (1, 1, Some(9_000))
        );
    }

    #[test]
    fn a_resubscribe_that_brings_no_snapshot_ends_in_a_new_connection() {
        let mut b = BybitBookSync::new(InstrumentId(0), SyncLimits::default());
        let _ = b.on_snapshot(1, 1, &[l("10", "1")], &[l("11", "1")]);
        assert_eq!(b.on_delta(2, 3, &[], &[]).1, Want::Resubscribe);
        let wants: Vec<Want> = (0..RESUBSCRIBE_PATIENCE)
            .map(|k| b.on_delta(3, 4 + u64::from(k), &[], &[]).1)
            .collect();
        assert_eq!(wants.last(), Some(&Want::NewConnection));
        assert!(wants[..wants.len() - 1].iter().all(|w| *w == Want::Nothing));
    }

    #[test]
    fn a_crossing_delta_resyncs() {
        let mut b = BybitBookSync::new(InstrumentId(0), SyncLimits::default());
        let _ = b.on_snapshot(1, 7, &[l("10", "1")], &[l("11", "1")]);
        assert_eq!(
            b.on_delta(2, 8, &[l("11.5", "1")], &[]),
            (
                SyncEvent::Invalidated(ResyncReason::Crossed),
                Want::Resubscribe
            )
        );
        assert_eq!(b.counters().crossed, 1);
    }
}
