//! Scripted sequences for `BookSync`: each test walks one rule of Binance's procedure.

use super::*;
use crate::types::{Price, Qty};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn lv(p: i64, q: i64) -> Level {
    Level {
        price: Price::from_int(p),
        qty: Qty::from_int(q),
    }
}

fn new_sync() -> BookSync {
    BookSync::new(InstrumentId(0), SyncLimits::default())
}

/// A live book at update id 12: bids 99/1, 100/1; asks 101/1, 102/1.
fn live_at_12() -> BookSync {
    let mut s = new_sync();
    assert_eq!(s.on_diff(10, 12, &[lv(99, 1)], &[]), SyncEvent::Buffered);
    let ev = s.on_snapshot(10, &[lv(100, 1)], &[lv(101, 1), lv(102, 1)]);
    assert_eq!(
        ev,
        SyncEvent::SnapshotApplied {
            replayed: 1,
            live: true
        }
    );
    assert_eq!(s.state(), SyncState::Live);
    assert_eq!(s.book().update_id(), 12);
    s
}

#[test]
fn buffers_then_drops_stale_and_applies_the_straddling_diff() {
    let mut s = new_sync();
    assert!(s.needs_snapshot() && !s.snapshot_wanted());
    assert_eq!(s.snapshot_requests(), 1);
    assert_eq!(s.on_diff(1, 5, &[lv(90, 9)], &[]), SyncEvent::Buffered);
    assert!(s.snapshot_wanted());
    assert_eq!(
        s.on_diff(6, 9, &[lv(99, 2)], &[lv(105, 0)]),
        SyncEvent::Buffered
    );
    assert_eq!(s.on_diff(10, 12, &[], &[lv(101, 3)]), SyncEvent::Buffered);
    assert_eq!(s.state(), SyncState::Syncing);
    // Snapshot at 7: [1,5] is stale, [6,9] straddles 8, [10,12] follows.
    let ev = s.on_snapshot(7, &[lv(100, 1), lv(99, 1)], &[lv(101, 1), lv(105, 4)]);
    assert_eq!(
        ev,
        SyncEvent::SnapshotApplied {
            replayed: 2,
            live: true
        }
    );
    assert!(ev.book_changed() && !ev.needs_snapshot());
    assert_eq!(s.state(), SyncState::Live);
    assert!(!s.needs_snapshot());
    let b = s.book();
    assert_eq!(b.update_id(), 12);
    assert_eq!(b.qty_at(Side::Buy, Price::from_int(99)), Qty::from_int(2));
    assert_eq!(
        b.qty_at(Side::Buy, Price::from_int(90)),
        Qty::ZERO,
        "stale diff must not be applied"
    );
    assert_eq!(b.qty_at(Side::Sell, Price::from_int(105)), Qty::ZERO);
    assert_eq!(b.best_ask(), Some(lv(101, 3)));
    let c = s.counters();
    assert_eq!(
        (
            c.diffs_buffered,
            c.stale_dropped,
            c.diffs_applied,
            c.snapshots_applied
        ),
        (3, 1, 2, 1)
    );
    assert_eq!((c.gaps, c.resyncs), (0, 0));
    // Live: the next diff must start at 13.
    assert_eq!(s.on_diff(13, 13, &[lv(100, 5)], &[]), SyncEvent::Applied);
    assert_eq!(s.on_diff(10, 13, &[lv(100, 7)], &[]), SyncEvent::Stale);
    assert_eq!(s.book().best_bid(), Some(lv(100, 5)));
}

#[test]
fn snapshot_older_than_the_first_buffered_diff_is_refetched() {
    let mut s = new_sync();
    assert_eq!(s.on_diff(10, 12, &[lv(100, 1)], &[]), SyncEvent::Buffered);
    // lastUpdateId 9 < U 10, even though 9 + 1 would straddle: Binance's step 4 refetches.
    let ev = s.on_snapshot(9, &[lv(99, 1)], &[lv(101, 1)]);
    assert_eq!(ev, SyncEvent::SnapshotTooOld);
    assert!(ev.needs_snapshot() && !ev.book_changed());
    assert_eq!(s.snapshot_requests(), 2);
    assert!(s.needs_snapshot());
    // Buffering went on; the next snapshot is fine.
    assert_eq!(s.on_diff(13, 14, &[], &[lv(102, 1)]), SyncEvent::Buffered);
    let ev = s.on_snapshot(11, &[lv(99, 1)], &[lv(101, 1)]);
    assert_eq!(
        ev,
        SyncEvent::SnapshotApplied {
            replayed: 2,
            live: true
        }
    );
    assert_eq!(s.book().update_id(), 14);
    assert_eq!(s.counters().snapshots_too_old, 1);
}

#[test]
fn snapshot_before_any_diff_waits_for_a_straddling_one() {
    let mut s = new_sync();
    let ev = s.on_snapshot(20, &[lv(99, 1)], &[lv(101, 1)]);
    assert_eq!(
        ev,
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: false
        }
    );
    assert!(
        !ev.book_changed(),
        "not readable until continuity is proven"
    );
    assert_eq!(s.state(), SyncState::Syncing);
    assert!(!s.needs_snapshot());
    assert_eq!(s.on_diff(15, 20, &[lv(98, 1)], &[]), SyncEvent::Stale);
    assert_eq!(s.on_diff(19, 22, &[lv(99, 3)], &[]), SyncEvent::Applied);
    assert_eq!(s.state(), SyncState::Live);
    assert_eq!(s.book().best_bid(), Some(lv(99, 3)));

    // The same start, but the first diff after the snapshot is past it: refetch.
    let mut s = new_sync();
    let _ = s.on_snapshot(20, &[lv(99, 1)], &[lv(101, 1)]);
    assert_eq!(s.on_diff(22, 23, &[], &[]), SyncEvent::SnapshotTooOld);
    assert!(s.needs_snapshot() && s.snapshot_wanted());
    assert_eq!(s.book().depth(Side::Buy), 0, "the old snapshot is gone");
    assert_eq!(
        s.on_snapshot(22, &[lv(99, 1)], &[lv(101, 1)]),
        SyncEvent::SnapshotApplied {
            replayed: 1,
            live: true
        }
    );
}

#[test]
fn gap_invalidates_and_the_gapped_diff_starts_the_new_buffer() {
    let mut s = live_at_12();
    let ev = s.on_diff(14, 15, &[lv(100, 2)], &[]);
    assert_eq!(ev, SyncEvent::Invalidated(ResyncReason::Gap));
    assert!(ev.book_invalidated() && ev.needs_snapshot());
    assert_eq!(s.state(), SyncState::Syncing);
    assert!(s.snapshot_wanted());
    assert_eq!(s.snapshot_requests(), 2);
    assert_eq!(
        (s.book().depth(Side::Buy), s.book().depth(Side::Sell)),
        (0, 0)
    );
    let c = *s.counters();
    assert_eq!((c.gaps, c.resyncs, c.diffs_buffered), (1, 1, 2));
    let ev = s.on_snapshot(14, &[lv(100, 1)], &[lv(101, 1)]);
    assert_eq!(
        ev,
        SyncEvent::SnapshotApplied {
            replayed: 1,
            live: true
        }
    );
    assert_eq!(s.book().best_bid(), Some(lv(100, 2)));
}

#[test]
fn overlap_is_a_break_too() {
    let mut s = live_at_12();
    assert_eq!(
        s.on_diff(12, 14, &[], &[]),
        SyncEvent::Invalidated(ResyncReason::Overlap)
    );
    assert_eq!((s.counters().overlaps, s.counters().resyncs), (1, 1));
}

#[test]
fn crossed_book_invalidates() {
    let mut s = live_at_12();
    let ev = s.on_diff(13, 13, &[lv(101, 1)], &[]);
    assert_eq!(ev, SyncEvent::Invalidated(ResyncReason::Crossed));
    assert_eq!((s.counters().crossed, s.counters().resyncs), (1, 1));
    assert!(s.needs_snapshot());
    assert!(
        !s.snapshot_wanted(),
        "the crossing diff was applied, not buffered"
    );
    assert_eq!(s.book().best_bid(), None);
    // A crossed snapshot is refused the same way.
    let mut s = new_sync();
    let ev = s.on_snapshot(5, &[lv(101, 1)], &[lv(101, 1)]);
    assert_eq!(ev, SyncEvent::Invalidated(ResyncReason::Crossed));
}

#[test]
fn reconnect_clears_everything() {
    let mut s = live_at_12();
    assert_eq!(
        s.on_reconnect(),
        SyncEvent::Invalidated(ResyncReason::Reconnect)
    );
    assert_eq!(s.state(), SyncState::Syncing);
    assert!(s.needs_snapshot() && !s.snapshot_wanted());
    assert_eq!((s.counters().reconnects, s.counters().resyncs), (1, 1));
    assert_eq!(s.book().update_id(), 0);
}

#[test]
fn snapshot_while_live_is_ignored() {
    let mut s = live_at_12();
    assert_eq!(
        s.on_snapshot(50, &[lv(1, 1)], &[lv(2, 1)]),
        SyncEvent::SnapshotIgnored
    );
    assert_eq!(s.book().update_id(), 12);
    assert_eq!(s.counters().snapshots_ignored, 1);
}

#[test]
fn buffer_restarts_on_a_gap_and_on_overflow() {
    let mut s = new_sync();
    let _ = s.on_diff(1, 3, &[], &[]);
    assert_eq!(s.on_diff(2, 3, &[], &[]), SyncEvent::Stale);
    let _ = s.on_diff(5, 6, &[], &[]);
    assert_eq!(s.counters().gaps, 1);
    assert_eq!(s.counters().resyncs, 0, "no book was lost");
    // The buffer now starts at 5: a snapshot at 4 is too old.
    assert_eq!(s.on_snapshot(4, &[], &[]), SyncEvent::SnapshotTooOld);

    let limits = SyncLimits {
        max_buffered_diffs: 2,
        ..SyncLimits::default()
    };
    let mut s = BookSync::new(InstrumentId(1), limits);
    for k in 0..5 {
        let _ = s.on_diff(k, k, &[lv(1, 1)], &[]);
    }
    assert_eq!(s.counters().buffer_overflows, 2);
    // Diffs 0..=3 were dropped with the overflows; only 4 is left.
    assert_eq!(s.on_snapshot(3, &[], &[]), SyncEvent::SnapshotTooOld);
    assert_eq!(
        s.on_snapshot(4, &[], &[]),
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: false
        }
    );
}

#[test]
fn book_tickers_are_checked_when_the_book_reaches_them() {
    let mut s = new_sync();
    let (bid, ask) = (lv(100, 1), lv(101, 1));
    // Before any snapshot: held.
    s.on_book_ticker(9, lv(100, 9), ask); // superseded by 10
    s.on_book_ticker(10, bid, ask); // the snapshot's own id: checked against it
    s.on_book_ticker(12, lv(100, 3), ask); // newest <= 13 when diff 11..13 lands
    s.on_book_ticker(11, lv(100, 2), ask); // out of order, older than 12: superseded
    s.on_book_ticker(14, lv(100, 4), ask); // beyond 13: stays pending
    let _ = s.on_snapshot(10, &[bid], &[ask]);
    assert_eq!(
        (
            s.counters().tickers_checked,
            s.counters().tickers_agreed,
            s.counters().tickers_unchecked
        ),
        (1, 1, 1)
    );
    assert_eq!(s.on_diff(11, 13, &[lv(100, 3)], &[]), SyncEvent::Applied);
    assert_eq!(
        (
            s.counters().tickers_checked,
            s.counters().tickers_agreed,
            s.counters().tickers_unchecked
        ),
        (2, 2, 2)
    );
    // Arrives when the book is exactly at its id: checked at once.
    s.on_book_ticker(13, lv(100, 3), ask);
    // Arrives after the book passed it: not checkable.
    s.on_book_ticker(12, lv(100, 3), ask);
    assert_eq!(
        (s.counters().tickers_checked, s.counters().tickers_unchecked),
        (3, 3)
    );
    // 14 disagrees with what the diff makes of the book.
    assert_eq!(s.on_diff(14, 14, &[lv(100, 5)], &[]), SyncEvent::Applied);
    let c = s.counters();
    assert_eq!((c.tickers_checked, c.tickers_agreed), (4, 3));
    let d = s.first_disagreement().unwrap();
    assert_eq!(
        (
            d.ticker_update_id,
            d.book_update_id,
            d.ticker_bid,
            d.book_bid
        ),
        (14, 14, lv(100, 4), Some(lv(100, 5)))
    );
}

#[test]
fn pending_tickers_are_bounded() {
    let limits = SyncLimits {
        max_pending_tickers: 4,
        ..SyncLimits::default()
    };
    let mut s = BookSync::new(InstrumentId(0), limits);
    for t in 0..10 {
        s.on_book_ticker(100 + t, lv(1, 1), lv(2, 1));
    }
    assert_eq!(s.counters().tickers_unchecked, 6);
}

proptest! {
    /// Any sequence of contiguous diffs gives the book a model map keeps, and any single
    /// skipped diff is caught as a gap.
    #[test]
    fn matches_a_model_and_catches_any_gap(
        diffs in proptest::collection::vec(
            (1u64..4, proptest::collection::vec((any::<bool>(), 1i64..40, 0i64..3), 0..12)), 1..40),
        skip in any::<proptest::sample::Index>(),
    ) {
        // Bids live below 50, asks above: never crossed.
        let price = |is_bid: bool, p: i64| Price::from_int(if is_bid { p } else { 50 + p });
        let mut s = new_sync();
        let _ = s.on_snapshot(100, &[], &[]);
        let mut model: [BTreeMap<Price, Qty>; 2] = [BTreeMap::new(), BTreeMap::new()];
        let mut next = 101u64;
        let skip = skip.index(diffs.len());
        let mut gapped = false;
        for (k, (len, levels)) in diffs.iter().enumerate() {
            let (first, last) = (next, next + len - 1);
            next = last + 1;
            if k == skip && k >= 1 && k + 1 < diffs.len() {
                gapped = true;
                continue;
            }
            let bids: Vec<Level> = levels.iter().filter(|l| l.0).map(|l| Level { price: price(true, l.1), qty: Qty::from_int(l.2) }).collect();
            let asks: Vec<Level> = levels.iter().filter(|l| !l.0).map(|l| Level { price: price(false, l.1), qty: Qty::from_int(l.2) }).collect();
            let ev = s.on_diff(first, last, &bids, &asks);
            if gapped {
                prop_assert_eq!(ev, SyncEvent::Invalidated(ResyncReason::Gap));
                prop_assert_eq!(s.counters().gaps, 1);
                return Ok(());
            }
            prop_assert_eq!(ev, SyncEvent::Applied);
            for (i, side) in [bids, asks].iter().enumerate() {
                for l in side {
                    if l.qty.is_zero() { model[i].remove(&l.price); } else { model[i].insert(l.price, l.qty); }
                }
            }
        }
        let mut out = vec![Level::default(); 128];
        let n = s.book().top_n(Side::Buy, &mut out);
        let want: Vec<Level> = model[0].iter().rev().map(|(p, q)| Level { price: *p, qty: *q }).collect();
        prop_assert_eq!(&out[..n], &want[..]);
        let n = s.book().top_n(Side::Sell, &mut out);
        let want: Vec<Level> = model[1].iter().map(|(p, q)| Level { price: *p, qty: *q }).collect();
        prop_assert_eq!(&out[..n], &want[..]);
        prop_assert_eq!(s.counters().gaps, 0);
    }
}
