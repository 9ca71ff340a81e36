//! OKX book-sync tests: the documentation's worked sequence, gaps, checksums, the REST
//! snapshot procedure.

use super::*;
use crate::types::{Price, Qty};

const I: InstrumentId = InstrumentId(0);

fn l(p: &str, q: &str) -> Level {
    Level {
        price: Price::parse(p).unwrap(),
        qty: Qty::parse(q).unwrap(),
    }
}

fn sync() -> OkxBookSync {
    OkxBookSync::new(I, SyncLimits::default())
}

#[test]
fn checksum_strings_of_the_documentation() {
    // exchanges.md §2.4: "3366.1:7:3366.8:9:3366:6:3368:8" and "3366.1:7:3366.8:9:3368:8:3372:8";
    // their signed CRC32s computed outside mako:
    // python3 -c 'import zlib,ctypes; print(ctypes.c_int32(zlib.crc32(b"3366.1:7:3366.8:9:3366:6:3368:8")).value)'
    let mut s = sync();
    let _ = s.on_ws_snapshot(
        None,
        &[l("3366.1", "7"), l("3366", "6")],
        &[l("3366.8", "9"), l("3368", "8")],
        0,
        true,
    );
    assert_eq!(s.checksum(), -1_881_014_294);
    let _ = s.on_ws_snapshot(
        None,
        &[l("3366.1", "7")],
        &[l("3366.8", "9"), l("3368", "8"), l("3372", "8")],
        0,
        true,
    );
    assert_eq!(s.checksum(), 831_078_360);
}

#[test]
fn the_documented_sequence_with_idle_update_and_reset_is_followed() {
    // Snapshot (-1 → 10), update (10 → 15), no change (15 → 15), reset (15 → 3), update (3 → 5).
    let mut s = sync();
    let ev = s.on_ws_snapshot(Some(10), &[l("100", "1")], &[l("101", "1")], 0, true);
    assert_eq!(
        ev,
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: true
        }
    );
    assert_eq!(
        s.on_update(Some(10), Some(15), &[l("100", "2")], &[], 0, true),
        SyncEvent::Applied
    );
    assert_eq!(
        s.on_update(Some(15), Some(15), &[], &[], 0, true),
        SyncEvent::Applied
    );
    assert_eq!(
        s.on_update(Some(15), Some(3), &[], &[l("101", "3")], 0, true),
        SyncEvent::Applied
    );
    assert_eq!(
        s.on_update(Some(3), Some(5), &[l("99", "1")], &[], 0, true),
        SyncEvent::Applied
    );
    assert_eq!(s.state(), SyncState::Live);
    assert_eq!(s.counters().sequence_resets, 1);
    assert_eq!(s.book().update_id(), 5);
    assert_eq!(
        s.book().qty_at(Side::Buy, Price::from_int(100)),
        Qty::from_int(2)
    );
    assert_eq!(
        s.book().qty_at(Side::Sell, Price::from_int(101)),
        Qty::from_int(3)
    );
    // A copy of an update already applied is dropped; a skipped one is a gap.
    assert_eq!(
        s.on_update(Some(3), Some(5), &[], &[], 0, true),
        SyncEvent::Stale
    );
    assert_eq!(
        s.on_update(Some(6), Some(7), &[], &[], 0, true),
        SyncEvent::Invalidated(ResyncReason::Gap)
    );
    assert_eq!(s.state(), SyncState::Syncing);
    assert_eq!((s.counters().gaps, s.counters().resyncs), (1, 1));
    assert_eq!(s.snapshot_requests(), 1);
}

#[test]
fn a_checksum_that_disagrees_throws_the_book_away() {
    let mut s = sync();
    let _ = s.on_ws_snapshot(Some(1), &[l("100", "1")], &[l("101", "1")], 0, true);
    let good = {
        let mut t = sync();
        let _ = t.on_ws_snapshot(None, &[l("100", "1")], &[l("101", "2")], 0, true);
        t.checksum()
    };
    assert_eq!(
        s.on_update(Some(1), Some(2), &[], &[l("101", "2")], good, true),
        SyncEvent::Applied
    );
    assert_eq!(s.counters().checksums_verified, 1);
    assert_eq!(
        s.on_update(Some(2), Some(3), &[], &[l("101", "5")], good, true),
        SyncEvent::Invalidated(ResyncReason::ChecksumMismatch)
    );
    assert_eq!(s.counters().checksum_mismatches, 1);
    // Non-shortest decimals cannot be rebuilt exactly: counted, not compared.
    let _ = s.on_ws_snapshot(Some(1), &[l("100", "1")], &[l("101", "1")], 12345, false);
    assert_eq!(s.counters().checksums_unverifiable, 1);
    assert_eq!(s.state(), SyncState::Live);
}

#[test]
fn without_a_snapshot_push_the_book_comes_from_rest() {
    let mut s = sync();
    assert!(!s.snapshot_wanted());
    assert_eq!(
        s.on_update(Some(8), Some(10), &[l("100", "1")], &[], 0, true),
        SyncEvent::Buffered
    );
    assert_eq!(
        s.on_update(Some(10), Some(12), &[l("99", "1")], &[], 0, true),
        SyncEvent::Buffered
    );
    assert!(s.snapshot_wanted());
    assert_eq!(s.snapshot_requests(), 1);
    // Older than the first held update: refused, asked again.
    assert_eq!(
        s.on_rest_snapshot(Some(7), &[l("98", "1")], &[l("105", "1")]),
        SyncEvent::SnapshotTooOld
    );
    assert_eq!(s.snapshot_requests(), 2);
    let _ = s.on_update(Some(12), Some(13), &[l("97", "1")], &[], 0, true);
    let _ = s.on_update(Some(13), Some(14), &[l("96", "1")], &[], 0, true);
    // seqId 13: the update 12 → 13 is contained, 13 → 14 straddles and is replayed.
    assert_eq!(
        s.on_rest_snapshot(Some(13), &[l("97", "1")], &[l("105", "1")]),
        SyncEvent::SnapshotApplied {
            replayed: 1,
            live: true
        }
    );
    assert_eq!(s.state(), SyncState::Live);
    assert_eq!(s.book().update_id(), 14);
    assert_eq!(
        s.book().qty_at(Side::Buy, Price::from_int(96)),
        Qty::from_int(1)
    );
    assert_eq!(
        s.on_update(Some(14), Some(15), &[], &[], 0, true),
        SyncEvent::Applied
    );
}

#[test]
fn a_rest_snapshot_with_nothing_held_waits_for_the_update_that_bridges_it() {
    let mut s = sync();
    let _ = s.on_update(Some(1), Some(2), &[], &[], 0, true);
    // The snapshot already contains the held update.
    assert_eq!(
        s.on_rest_snapshot(Some(5), &[l("100", "1")], &[l("101", "1")]),
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: false
        }
    );
    assert_eq!(
        s.on_update(Some(3), Some(5), &[], &[], 0, true),
        SyncEvent::Stale
    );
    assert_eq!(
        s.on_update(Some(5), Some(6), &[l("100", "4")], &[], 0, true),
        SyncEvent::Applied
    );
    assert_eq!(s.state(), SyncState::Live);
    // A reconnect starts over.
    assert_eq!(
        s.on_reconnect(),
        SyncEvent::Invalidated(ResyncReason::Reconnect)
    );
    assert_eq!(s.state(), SyncState::Syncing);
}

#[test]
fn shortest_decimals_match_the_engine_s_own_form() {
    for v in [
        "0",
        "1",
        "8477",
        "0.1",
        "0.00000001",
        "30236.1",
        "123456789.12345678",
        "5.14",
    ] {
        let p = Price::parse(v).unwrap();
        let mut out = Vec::new();
        push_shortest(&mut out, p.units());
        assert_eq!(std::str::from_utf8(&out).unwrap(), p.to_string(), "{v}");
    }
    let mut out = Vec::new();
    push_shortest(&mut out, -150_000_000);
    assert_eq!(out, b"-1.5");
    // Every count of trailing zeros in the decimals, and the extremes.
    for (units, text) in [
        (1, "0.00000001"),
        (10, "0.0000001"),
        (1_200, "0.000012"),
        (50_000_000, "0.5"),
        (12_345_678_900, "123.456789"),
        (100_000_000_000, "1000"),
        (i64::MAX, "92233720368.54775807"),
        (-i64::MAX, "-92233720368.54775807"),
        (i64::MIN, "-92233720368.54775808"),
    ] {
        let mut out = Vec::new();
        push_shortest(&mut out, units);
        assert_eq!(std::str::from_utf8(&out).unwrap(), text, "{units}");
    }
    let mut out = Vec::new();
    push_level(
        &mut out,
        Level {
            price: Price::from_units(-i64::MAX),
            qty: Qty::from_units(i64::MIN),
        },
    );
    assert_eq!(out, b"-92233720368.54775807:-92233720368.54775808:");
}

proptest::proptest! {
    /// The word-at-a-time digits equal the decimal `Price` prints, for every value.
    #[test]
    fn shortest_text_equals_the_decimal_display(
        units in proptest::prop_oneof![proptest::prelude::any::<i64>(), -10_000_000_000_000i64..10_000_000_000_000]
    ) {
        let mut out = Vec::new();
        push_shortest(&mut out, units);
        let want = if units < 0 {
            format!("-{}", Price::from_units(units.checked_neg().unwrap_or(i64::MAX)))
        } else {
            Price::from_units(units).to_string()
        };
        if units != i64::MIN {
            proptest::prop_assert_eq!(std::str::from_utf8(&out).unwrap(), want);
        }
    }
}

proptest::proptest! {
    /// The checksum with each level's text copied from the previous checksum equals the one
    /// written from the numbers alone, over random updates (inserts, deletes, size changes,
    /// levels moving in and out of the top 25, both sides, snapshots between).
    #[test]
    fn cached_level_texts_give_the_checksum_written_afresh(
        steps in proptest::collection::vec(
            (0u8..8, proptest::collection::vec((0i64..60, 0i64..4), 0..12)),
            1..40,
        )
    ) {
        let mut s = sync();
        let px = |side: u8, k: i64| {
            // Bids 1000.0 and below, asks 1000.5 and above, on a 0.5 grid.
            Price::from_units(if side == 0 { 100_000_000_000 - k * 50_000_000 } else { 100_050_000_000 + k * 50_000_000 })
        };
        for (kind, levels) in steps {
            let (bids, asks): (Vec<_>, Vec<_>) = levels.iter().enumerate().map(|(n, &(k, q))| {
                let side = (n % 2) as u8;
                (side, Level { price: px(side, k), qty: Qty::from_units(q * 10_000_000) })
            }).partition(|(side, _)| *side == 0);
            let bids: Vec<Level> = bids.into_iter().map(|(_, l)| l).collect();
            let asks: Vec<Level> = asks.into_iter().map(|(_, l)| l).collect();
            if kind == 0 {
                let _ = s.on_ws_snapshot(None, &bids, &asks, 0, true);
            } else {
                let _ = s.on_update(None, None, &bids, &asks, 0, true);
            }
            let want = s.checksum_uncached();
            proptest::prop_assert_eq!(s.checksum(), want);
            // And again with nothing changed: every text copied.
            proptest::prop_assert_eq!(s.checksum(), want);
        }
    }
}
