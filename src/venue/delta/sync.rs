//! Delta's book rule for `ob_updates` (reference/delta.md §3.5): a `snapshot` sets the book at
//! its `seq`; each `update` must carry the book's `seq` + 1 (sizes are absolute, `"0"`
//! deletes, a new price is inserted). After every frame the CRC32 of
//! `asks + "|" + bids` — each side the top 10 levels as `price:size` joined by `,`, asks
//! ascending, bids descending, in the strings Delta published — must equal the frame's `cs`.
//! A `seq` that does not follow, a checksum that disagrees, or an update before any snapshot
//! throws the book away and asks for a re-subscribe of its `ob_updates` on the same connection
//! (the subscription starts again with a snapshot).
//!
//! **The checksum's strings.** The book is fixed point; the strings are rebuilt from it at the
//! number of decimals the snapshot's strings used (one for prices, one for sizes: Delta writes
//! a product's prices at its tick's decimals and contract sizes as integers). Rebuilding
//! reproduces the published bytes exactly when every string of the book was written that
//! way, which the parser checks per frame (`Form`). A book whose strings were not (mixed
//! decimals, `"01"`) is counted as unverifiable until its next snapshot, not compared — so
//! nothing is allocated per frame and a formatting difference never resyncs a good book.

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, Side};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

use super::md::Form;

/// Levels per side in Delta's checksum.
pub const CHECKSUM_DEPTH: usize = 10;

/// Updates that may pass after a re-subscribe before it is taken as lost and the connection
/// replaced (at one update per 100 ms: 25 s).
pub const RESUBSCRIBE_PATIENCE: u32 = 250;

/// What the book wants from the connection after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Nothing,
    /// Re-subscribe this book's `ob_updates` to get a fresh snapshot.
    Resubscribe,
    /// A re-subscribe brought no snapshot within `RESUBSCRIBE_PATIENCE` updates.
    NewConnection,
}

/// The strings' forms the book's checksum is rebuilt with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Forms {
    price: Form,
    size: Form,
}

/// One instrument's book, kept from `ob_updates`.
pub struct DeltaBookSync {
    instrument: InstrumentId,
    book: L2Book,
    /// The `seq` the book is at while live.
    seq: Option<u64>,
    forms: Forms,
    /// A re-subscribe was asked for and updates have passed since (how many).
    requested: Option<u32>,
    counters: SyncCounters,
    /// The top levels and the checksum's text, reused.
    top: [Level; CHECKSUM_DEPTH],
    text: Vec<u8>,
}

impl DeltaBookSync {
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            seq: None,
            forms: Forms {
                price: Form::Empty,
                size: Form::Empty,
            },
            requested: None,
            counters: SyncCounters::default(),
            top: [Level::default(); CHECKSUM_DEPTH],
            text: Vec::with_capacity(CHECKSUM_DEPTH * 2 * 64),
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// The book's `seq` while it is live.
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }

    pub fn state(&self) -> SyncState {
        if self.seq.is_some() {
            SyncState::Live
        } else {
            SyncState::Syncing
        }
    }

    pub fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// A `snapshot`: the book is set whole at `seq`, then checked against `cs`.
    pub fn on_snapshot(
        &mut self,
        seq: u64,
        bids: &[Level],
        asks: &[Level],
        cs: Option<u32>,
        forms: (Form, Form),
    ) -> (SyncEvent, Want) {
        self.book
            .apply_snapshot(seq, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
        self.seq = Some(seq);
        self.requested = None;
        self.forms = Forms {
            price: forms.0,
            size: forms.1,
        };
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        if let Some(bad) = self.verify(cs) {
            return bad;
        }
        (
            SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true,
            },
            Want::Nothing,
        )
    }

    /// An `update` at `seq`.
    pub fn on_update(
        &mut self,
        seq: u64,
        bids: &[Level],
        asks: &[Level],
        cs: Option<u32>,
        forms: (Form, Form),
    ) -> (SyncEvent, Want) {
        let Some(at) = self.seq else {
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
        if seq != at.wrapping_add(1) {
            let why = if seq > at {
                self.counters.gaps += 1;
                ResyncReason::Gap
            } else {
                self.counters.overlaps += 1;
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
        self.seq = Some(seq);
        self.forms.price = self.forms.price.merge(forms.0);
        self.forms.size = self.forms.size.merge(forms.1);
        self.counters.diffs_applied += 1;
        if self.book.is_crossed() {
            self.counters.crossed += 1;
            return self.invalidate(ResyncReason::Crossed);
        }
        if let Some(bad) = self.verify(cs) {
            return bad;
        }
        (SyncEvent::Applied, Want::Nothing)
    }

    /// An `action: "error"` frame: the venue could not load the snapshot; the book (if any)
    /// is thrown away and a re-subscribe asked for.
    pub fn on_error(&mut self) -> (SyncEvent, Want) {
        self.invalidate(ResyncReason::Gap)
    }

    /// The connection was replaced: its subscriptions bring snapshots.
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.requested = None;
        self.drop_book()
    }

    /// The handler gave up on this connection: the next one's subscription brings the snapshot.
    pub fn on_abandoned(&mut self) -> SyncEvent {
        self.requested = None;
        self.drop_book()
    }

    /// Compares the published checksum with the book; `Some` when the book was thrown away.
    fn verify(&mut self, cs: Option<u32>) -> Option<(SyncEvent, Want)> {
        let cs = cs?;
        if matches!(self.forms.price, Form::Mixed) || matches!(self.forms.size, Form::Mixed) {
            self.counters.checksums_unverifiable += 1;
            return None;
        }
        self.counters.checksums_verified += 1;
        if self.checksum() == cs {
            None
        } else {
            self.counters.checksum_mismatches += 1;
            Some(self.invalidate(ResyncReason::ChecksumMismatch))
        }
    }

    /// Delta's checksum of the current book, its strings rebuilt at the book's decimals.
    pub fn checksum(&mut self) -> u32 {
        let dp = |f: Form| match f {
            Form::Uniform(d) => u32::from(d),
            Form::Empty | Form::Mixed => 0,
        };
        let (pd, sd) = (dp(self.forms.price), dp(self.forms.size));
        self.text.clear();
        for (k, side) in [Side::Sell, Side::Buy].into_iter().enumerate() {
            if k == 1 {
                self.text.push(b'|');
            }
            let n = self.book.top_n(side, &mut self.top).min(CHECKSUM_DEPTH);
            for (i, l) in self.top[..n].iter().enumerate() {
                if i > 0 {
                    self.text.push(b',');
                }
                let mut buf = [0u8; 40];
                let w = l.price.write_fixed(pd, &mut buf);
                self.text.extend_from_slice(&buf[..w]);
                self.text.push(b':');
                let w = l.qty.write_fixed(sd, &mut buf);
                self.text.extend_from_slice(&buf[..w]);
            }
        }
        crc32fast::hash(&self.text)
    }

    /// The text the last `checksum()` hashed (tests and `mako book`).
    pub fn checksum_text(&self) -> &[u8] {
        &self.text
    }

    fn invalidate(&mut self, why: ResyncReason) -> (SyncEvent, Want) {
        let _ = self.drop_book();
        self.requested = Some(0);
        (SyncEvent::Invalidated(why), Want::Resubscribe)
    }

    fn drop_book(&mut self) -> SyncEvent {
        if self.seq.is_some() {
            self.counters.resyncs += 1;
        }
        self.seq = None;
        self.book.clear();
        SyncEvent::Invalidated(ResyncReason::Reconnect)
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

    const INT: (Form, Form) = (Form::Uniform(1), Form::Uniform(0));

    /// The reference's snapshot and update (IN-DOCS), their published `cs`.
    #[test]
    fn the_documented_snapshot_and_update_check_out() {
        let mut b = DeltaBookSync::new(InstrumentId(0), SyncLimits::default());
        let (ev, want) = b.on_snapshot(
            6199,
            &[
                l("16918.0", "602"),
                l("16917.5", "1792"),
                l("16917.0", "2039"),
            ],
            &[
                l("16919.0", "1087"),
                l("16919.5", "1193"),
                l("16920.0", "510"),
            ],
            Some(2_178_756_498),
            INT,
        );
        assert!(ev.book_changed() && want == Want::Nothing);
        assert_eq!(
            b.checksum_text(),
            b"16919.0:1087,16919.5:1193,16920.0:510|16918.0:602,16917.5:1792,16917.0:2039"
        );
        assert_eq!(
            b.on_update(
                6200,
                &[l("16918.5", "304")],
                &[l("16919.0", "0"), l("16919.5", "710")],
                Some(3_409_694_612),
                INT
            ),
            (SyncEvent::Applied, Want::Nothing)
        );
        assert_eq!(
            b.checksum_text(),
            b"16919.5:710,16920.0:510|16918.5:304,16918.0:602,16917.5:1792,16917.0:2039"
        );
        assert_eq!(
            (
                b.counters().checksums_verified,
                b.counters().checksum_mismatches
            ),
            (2, 0)
        );
    }

    #[test]
    fn a_gap_an_overlap_and_a_wrong_checksum_resync() {
        let mut b = DeltaBookSync::new(InstrumentId(0), SyncLimits::default());
        // An update before any snapshot: dropped, one re-subscribe asked for.
        assert_eq!(
            b.on_update(4, &[], &[], None, INT),
            (SyncEvent::Stale, Want::Resubscribe)
        );
        assert_eq!(
            b.on_update(5, &[], &[], None, INT),
            (SyncEvent::Stale, Want::Nothing)
        );
        let _ = b.on_snapshot(10, &[l("99.0", "1")], &[l("101.0", "1")], None, INT);
        assert_eq!(
            b.on_update(12, &[], &[], None, INT),
            (SyncEvent::Invalidated(ResyncReason::Gap), Want::Resubscribe)
        );
        assert_eq!(b.state(), SyncState::Syncing);
        let _ = b.on_snapshot(20, &[l("99.0", "1")], &[l("101.0", "1")], None, INT);
        assert_eq!(
            b.on_update(20, &[], &[], None, INT),
            (
                SyncEvent::Invalidated(ResyncReason::Overlap),
                Want::Resubscribe
            )
        );
        let _ = b.on_snapshot(30, &[l("99.0", "1")], &[l("101.0", "1")], None, INT);
        let right = b.checksum();
        assert_eq!(
            b.on_update(31, &[l("99.0", "2")], &[], Some(right), INT),
            (
                SyncEvent::Invalidated(ResyncReason::ChecksumMismatch),
                Want::Resubscribe
            )
        );
        let c = b.counters();
        assert_eq!(
            (
                c.gaps,
                c.overlaps,
                c.checksum_mismatches,
                c.resyncs,
                c.stale_dropped
            ),
            (2, 1, 1, 3, 2)
        );
    }

    #[test]
    fn a_book_written_in_mixed_forms_is_not_compared() {
        let mut b = DeltaBookSync::new(InstrumentId(0), SyncLimits::default());
        let (ev, _) = b.on_snapshot(
            1,
            &[l("99.0", "1")],
            &[l("101.0", "1")],
            Some(1),
            (Form::Mixed, Form::Uniform(0)),
        );
        assert!(ev.book_changed());
        assert_eq!(b.counters().checksums_unverifiable, 1);
        // A later update in a uniform form does not make the book's older strings known.
        assert_eq!(
            b.on_update(2, &[], &[], Some(1), INT),
            (SyncEvent::Applied, Want::Nothing)
        );
        assert_eq!(b.counters().checksums_unverifiable, 2);
        // An update in other decimals than the snapshot's makes the book unverifiable too.
        let _ = b.on_snapshot(5, &[l("99.0", "1")], &[l("101.0", "1")], None, INT);
        let _ = b.on_update(
            6,
            &[l("98.50", "1")],
            &[],
            Some(7),
            (Form::Uniform(2), Form::Uniform(0)),
        );
        assert_eq!(b.counters().checksums_unverifiable, 3);
        assert_eq!(b.state(), SyncState::Live);
    }

    /// The reference's illustrative string (no official value; COMPUTED with
    /// `python3 -c 'import zlib; print(zlib.crc32(b"100.00:23,100.05:34|99.04:87,98.65:102,98.30:16"))'`).
    #[test]
    fn the_illustrative_string() {
        let mut b = DeltaBookSync::new(InstrumentId(0), SyncLimits::default());
        let (ev, _) = b.on_snapshot(
            1,
            &[l("99.04", "87"), l("98.65", "102"), l("98.30", "16")],
            &[l("100.00", "23"), l("100.05", "34")],
            Some(3_599_895_312),
            (Form::Uniform(2), Form::Uniform(0)),
        );
        assert!(ev.book_changed());
        assert_eq!(b.counters().checksums_verified, 1);
    }

    #[test]
    fn only_the_top_ten_count() {
        let mut b = DeltaBookSync::new(InstrumentId(0), SyncLimits::default());
        let bids: Vec<Level> = (0..15).map(|k| l(&format!("{}.0", 90 - k), "1")).collect();
        let asks: Vec<Level> = (0..15).map(|k| l(&format!("{}.0", 100 + k), "2")).collect();
        let _ = b.on_snapshot(1, &bids, &asks, None, INT);
        let before = b.checksum();
        // A change below the 10th level repeats the checksum.
        let _ = b.on_update(2, &[l("76.0", "5")], &[], Some(before), INT);
        assert_eq!(b.counters().checksums_verified, 1);
        assert_eq!(b.counters().checksum_mismatches, 0);
        let text = String::from_utf8(b.checksum_text().to_vec()).unwrap();
        let (a, bd) = text.split_once('|').unwrap();
        assert_eq!((a.split(',').count(), bd.split(',').count()), (10, 10));
        assert!(a.starts_with("100.0:2,101.0:2") && bd.starts_with("90.0:1,89.0:1"));
    }
}
