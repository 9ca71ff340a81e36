//! `OkxBookSync`: one instrument's book kept in step with OKX's `books` channel by OKX's rules
//! (exchanges.md §2.4), and checked against the checksum OKX publishes.
//!
//! **Where the book starts.** After (re)connecting, a `snapshot` push sets the book (the
//! channel's historical behaviour). If an `update` comes first, OKX has removed the initial
//! snapshot (its 2026 change): updates are buffered, a REST snapshot is asked for, buffered
//! updates with `seqId <=` the snapshot's are dropped, the first remaining one must straddle
//! it (`prevSeqId <= snapshot.seqId < seqId`) — a snapshot older than that is refused and
//! asked for again — and the rest are applied in order.
//!
//! **Sequence.** Live, an update continues the book when its `prevSeqId` is the book's
//! `seqId`; an idle update repeats it (`seqId == prevSeqId`); a maintenance reset shows as
//! `seqId < prevSeqId` and is followed (counted). One whose `seqId` is at or below the book's
//! is a copy (a rotation's overlap) and is dropped; anything else is a gap: the book is
//! thrown away and synced again. Captures without `seqId` (before OKX added it) are applied
//! in order with no sequence check.
//!
//! **Checksum.** After each message with a non-zero `checksum`, the CRC32 (as a signed
//! 32-bit integer) of the merged book's top 25 bids and asks, interleaved
//! `bidPx:bidSz:askPx:askSz:…` (the longer side's remaining levels following), must equal
//! it. The string is rebuilt from the fixed-point book in the shortest decimal form; OKX
//! writes its strings that way, and a message whose strings are not (`"0.10"`) is counted as
//! unverifiable instead of compared. A mismatch throws the book away (counted). A zero
//! checksum (OKX deprecated the field in June 2026) is not compared.

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, Side};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// Levels per side in OKX's checksum.
const CHECKSUM_DEPTH: usize = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing since (re)connecting: a snapshot push, or an update that asks for REST.
    AwaitFirst,
    /// Updates held while a REST snapshot is fetched.
    Buffering,
    /// A REST snapshot is set; the next update must straddle its `seqId`.
    AwaitBridge,
    Live,
}

/// One buffered update; its levels are `levels[start..mid]` (bids) and `[mid..end]` (asks).
#[derive(Clone, Copy, Debug)]
struct Held {
    prev: Option<i64>,
    seq: Option<i64>,
    start: usize,
    mid: usize,
    end: usize,
}

/// The synchroniser of one instrument's OKX book.
pub struct OkxBookSync {
    instrument: InstrumentId,
    book: L2Book,
    phase: Phase,
    /// The book's `seqId` (absent for captures without sequence numbers).
    seq: Option<i64>,
    held: Vec<Held>,
    held_levels: Vec<Level>,
    limits: SyncLimits,
    snapshot_requests: u64,
    counters: SyncCounters,
    /// Reused: the top levels and the checksum string.
    top: [Level; CHECKSUM_DEPTH],
    top_other: [Level; CHECKSUM_DEPTH],
    text: Box<Text>,
    /// The previous checksum's string, and where each of its levels' text sits in it.
    prev_text: Box<Text>,
    texts: LevelTexts,
    prev_texts: LevelTexts,
}

/// The checksum string's buffer: 50 levels of at most [`LEVEL_TEXT`] bytes, and room for
/// the fixed-size copies and digit stores that run past the text.
const TEXT_CAP: usize = 2 * CHECKSUM_DEPTH * LEVEL_TEXT + 64;
type Text = [u8; TEXT_CAP];

/// Bytes copied for a cached level's text: at least [`LEVEL_TEXT`], one fixed-size copy.
const COPY: usize = 48;

/// One side's levels of a checksum string, best first, with where each one's `price:size:`
/// text starts in that string and its length. The text is a function of the level's price
/// and size alone, so a later checksum copies it for a level with the same price and size
/// instead of writing its digits again.
#[derive(Clone, Copy)]
struct Cached {
    level: Level,
    at: u16,
    len: u16,
}

#[derive(Clone, Copy)]
struct LevelTexts {
    sides: [[Cached; CHECKSUM_DEPTH]; 2],
    n: [usize; 2],
}

impl LevelTexts {
    const EMPTY: LevelTexts = LevelTexts {
        sides: [[Cached {
            level: Level {
                price: crate::types::Price::ZERO,
                qty: crate::types::Qty::ZERO,
            },
            at: 0,
            len: 0,
        }; CHECKSUM_DEPTH]; 2],
        n: [0; 2],
    };
}

impl OkxBookSync {
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        let empty = Level {
            price: crate::types::Price::ZERO,
            qty: crate::types::Qty::ZERO,
        };
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            phase: Phase::AwaitFirst,
            seq: None,
            held: Vec::with_capacity(limits.max_buffered_diffs),
            held_levels: Vec::with_capacity(limits.max_buffered_levels.min(1 << 16)),
            limits,
            snapshot_requests: 0,
            counters: SyncCounters::default(),
            top: [empty; CHECKSUM_DEPTH],
            top_other: [empty; CHECKSUM_DEPTH],
            text: Box::new([0; TEXT_CAP]),
            prev_text: Box::new([0; TEXT_CAP]),
            texts: LevelTexts::EMPTY,
            prev_texts: LevelTexts::EMPTY,
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn book(&self) -> &L2Book {
        &self.book
    }

    pub fn state(&self) -> SyncState {
        if self.phase == Phase::Live {
            SyncState::Live
        } else {
            SyncState::Syncing
        }
    }

    pub fn counters(&self) -> &SyncCounters {
        &self.counters
    }

    /// The generation of REST snapshot requests (0 while books come over the WebSocket).
    pub fn snapshot_requests(&self) -> u64 {
        self.snapshot_requests
    }

    /// A REST snapshot is wanted now (updates are being buffered).
    pub fn snapshot_wanted(&self) -> bool {
        self.phase == Phase::Buffering && !self.held.is_empty()
    }

    /// A `books` push with `action: snapshot`.
    pub fn on_ws_snapshot(
        &mut self,
        seq: Option<i64>,
        bids: &[Level],
        asks: &[Level],
        checksum: i32,
        canonical: bool,
    ) -> SyncEvent {
        self.held.clear();
        self.held_levels.clear();
        self.set_book(seq, bids, asks);
        self.counters.snapshots_applied += 1;
        self.phase = Phase::Live;
        if let Some(ev) = self.verify(checksum, canonical) {
            return ev;
        }
        SyncEvent::SnapshotApplied {
            replayed: 0,
            live: true,
        }
    }

    /// A `books` push with `action: update`.
    pub fn on_update(
        &mut self,
        prev: Option<i64>,
        seq: Option<i64>,
        bids: &[Level],
        asks: &[Level],
        checksum: i32,
        canonical: bool,
    ) -> SyncEvent {
        match self.phase {
            Phase::AwaitFirst | Phase::Buffering => self.hold(prev, seq, bids, asks),
            Phase::AwaitBridge => {
                let snap = self.seq.unwrap_or(i64::MIN);
                match (prev, seq) {
                    (_, Some(s)) if s <= snap => {
                        self.counters.stale_dropped += 1;
                        SyncEvent::Stale
                    }
                    (Some(p), Some(_)) if p <= snap => {
                        self.phase = Phase::Live;
                        self.apply(seq, bids, asks, checksum, canonical)
                    }
                    _ => self.snapshot_too_old(),
                }
            }
            Phase::Live => match (self.seq, prev, seq) {
                (Some(cur), Some(p), Some(s)) => {
                    if p == cur {
                        if s < p {
                            self.counters.sequence_resets += 1;
                        }
                        self.apply(seq, bids, asks, checksum, canonical)
                    } else if s <= cur {
                        self.counters.stale_dropped += 1;
                        SyncEvent::Stale
                    } else {
                        self.invalidate(ResyncReason::Gap)
                    }
                }
                _ => self.apply(seq, bids, asks, checksum, canonical),
            },
        }
    }

    /// A REST snapshot (`GET /api/v5/market/books`), as of `seq`.
    pub fn on_rest_snapshot(
        &mut self,
        seq: Option<i64>,
        bids: &[Level],
        asks: &[Level],
    ) -> SyncEvent {
        if self.phase == Phase::Live {
            self.counters.snapshots_ignored += 1;
            return SyncEvent::SnapshotIgnored;
        }
        let Some(snap) = seq else {
            // No `seqId` (as in OKX's documented answer): nothing says which held updates it
            // contains. It was fetched after them, so it is taken as newer than all of them.
            self.counters.stale_dropped += self.held.len() as u64;
            self.held.clear();
            self.held_levels.clear();
            self.set_book(None, bids, asks);
            self.counters.snapshots_applied += 1;
            self.phase = Phase::Live;
            return SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true,
            };
        };
        // The first held update the snapshot does not already contain must straddle it.
        let first = self
            .held
            .iter()
            .position(|h| h.seq.is_none_or(|s| s > snap));
        if let Some(k) = first
            && self.held[k].prev.is_some_and(|p| p > snap)
        {
            return self.snapshot_too_old();
        }
        let dropped = first.unwrap_or(self.held.len());
        self.counters.stale_dropped += dropped as u64;
        self.set_book(seq, bids, asks);
        self.counters.snapshots_applied += 1;
        let held = std::mem::take(&mut self.held);
        let levels = std::mem::take(&mut self.held_levels);
        let mut replayed = 0u32;
        let mut out = SyncEvent::SnapshotApplied {
            replayed: 0,
            live: false,
        };
        if held.len() > dropped {
            self.phase = Phase::Live;
            for (i, h) in held[dropped..].iter().enumerate() {
                // The first one straddles the snapshot (checked above); the rest must chain.
                if i > 0 && h.prev != self.seq {
                    out = self.invalidate(ResyncReason::Gap);
                    break;
                }
                let ev = self.apply(
                    h.seq,
                    &levels[h.start..h.mid],
                    &levels[h.mid..h.end],
                    0,
                    false,
                );
                if ev.book_invalidated() {
                    out = ev;
                    break;
                }
                replayed += 1;
            }
            if !out.book_invalidated() {
                out = SyncEvent::SnapshotApplied {
                    replayed,
                    live: true,
                };
            }
        } else {
            self.phase = Phase::AwaitBridge;
        }
        self.held = held;
        self.held_levels = levels;
        self.held.clear();
        self.held_levels.clear();
        out
    }

    /// The connection was replaced: the book starts again from the next snapshot.
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        let was_live = self.phase == Phase::Live;
        self.reset(Phase::AwaitFirst);
        if was_live {
            self.counters.resyncs += 1;
            SyncEvent::Invalidated(ResyncReason::Reconnect)
        } else {
            SyncEvent::Buffered
        }
    }

    fn set_book(&mut self, seq: Option<i64>, bids: &[Level], asks: &[Level]) {
        self.book.apply_snapshot(
            seq.map_or(0, |s| s.max(0) as u64),
            bids.iter().copied(),
            asks.iter().copied(),
        );
        self.seq = seq;
    }

    fn hold(
        &mut self,
        prev: Option<i64>,
        seq: Option<i64>,
        bids: &[Level],
        asks: &[Level],
    ) -> SyncEvent {
        if self.phase == Phase::AwaitFirst {
            self.phase = Phase::Buffering;
            self.snapshot_requests += 1;
        }
        // A held chain with a hole cannot be bridged: start it again from this update.
        if let Some(last) = self.held.last()
            && let (Some(s), Some(p)) = (last.seq, prev)
            && p != s
        {
            self.counters.gaps += 1;
            self.held.clear();
            self.held_levels.clear();
        }
        if self.held.len() >= self.limits.max_buffered_diffs
            || self.held_levels.len() + bids.len() + asks.len() > self.limits.max_buffered_levels
        {
            self.counters.buffer_overflows += 1;
            self.held.clear();
            self.held_levels.clear();
        }
        let start = self.held_levels.len();
        self.held_levels.extend_from_slice(bids);
        let mid = self.held_levels.len();
        self.held_levels.extend_from_slice(asks);
        self.held.push(Held {
            prev,
            seq,
            start,
            mid,
            end: self.held_levels.len(),
        });
        self.counters.diffs_buffered += 1;
        SyncEvent::Buffered
    }

    fn apply(
        &mut self,
        seq: Option<i64>,
        bids: &[Level],
        asks: &[Level],
        checksum: i32,
        canonical: bool,
    ) -> SyncEvent {
        for l in bids {
            self.book.apply_level(Side::Buy, l.price, l.qty);
        }
        for l in asks {
            self.book.apply_level(Side::Sell, l.price, l.qty);
        }
        if let Some(s) = seq {
            self.seq = Some(s);
            self.book.set_update_id(s.max(0) as u64);
        }
        self.counters.diffs_applied += 1;
        if self.book.is_crossed() {
            return self.invalidate(ResyncReason::Crossed);
        }
        self.verify(checksum, canonical)
            .unwrap_or(SyncEvent::Applied)
    }

    /// Compares a published checksum with the book; `Some` when the book was thrown away.
    fn verify(&mut self, checksum: i32, canonical: bool) -> Option<SyncEvent> {
        if checksum == 0 {
            return None;
        }
        if !canonical {
            self.counters.checksums_unverifiable += 1;
            return None;
        }
        self.counters.checksums_verified += 1;
        if self.checksum() == checksum {
            None
        } else {
            Some(self.invalidate(ResyncReason::ChecksumMismatch))
        }
    }

    /// OKX's checksum of the current book. Each level's `price:size:` text is copied from
    /// the previous checksum's string when that string had the same level (same price, same
    /// size), and written from the numbers otherwise; the whole string is hashed every time.
    pub fn checksum(&mut self) -> i32 {
        let nb = self
            .book
            .top_n(Side::Buy, &mut self.top)
            .min(CHECKSUM_DEPTH);
        let na = self
            .book
            .top_n(Side::Sell, &mut self.top_other)
            .min(CHECKSUM_DEPTH);
        let mut w = TextWriter {
            text: &mut self.text,
            at: 0,
            prev: &self.prev_text,
            prev_texts: &self.prev_texts,
            texts: &mut self.texts,
            cursor: [0; 2],
            count: [0; 2],
        };
        for i in 0..nb.max(na) {
            if i < nb {
                w.level::<false>(self.top[i]);
            }
            if i < na {
                w.level::<true>(self.top_other[i]);
            }
        }
        let end = w.at;
        self.texts.n = [nb, na];
        // Without the last ':'.
        let crc = crc32fast::hash(&self.text[..end.saturating_sub(1)]) as i32;
        std::mem::swap(&mut self.text, &mut self.prev_text);
        std::mem::swap(&mut self.texts, &mut self.prev_texts);
        crc
    }

    /// The checksum written from the numbers alone (no cached text): for the tests that hold
    /// the cache against it.
    #[cfg(test)]
    fn checksum_uncached(&mut self) -> i32 {
        let nb = self
            .book
            .top_n(Side::Buy, &mut self.top)
            .min(CHECKSUM_DEPTH);
        let na = self
            .book
            .top_n(Side::Sell, &mut self.top_other)
            .min(CHECKSUM_DEPTH);
        let mut text = Vec::new();
        for i in 0..nb.max(na) {
            if i < nb {
                push_level(&mut text, self.top[i]);
            }
            if i < na {
                push_level(&mut text, self.top_other[i]);
            }
        }
        text.pop();
        crc32fast::hash(&text) as i32
    }

    fn snapshot_too_old(&mut self) -> SyncEvent {
        self.counters.snapshots_too_old += 1;
        self.reset(Phase::Buffering);
        self.snapshot_requests += 1;
        SyncEvent::SnapshotTooOld
    }

    fn invalidate(&mut self, reason: ResyncReason) -> SyncEvent {
        match reason {
            ResyncReason::Gap => self.counters.gaps += 1,
            ResyncReason::Overlap => self.counters.overlaps += 1,
            ResyncReason::Crossed => self.counters.crossed += 1,
            ResyncReason::ChecksumMismatch => self.counters.checksum_mismatches += 1,
            ResyncReason::Reconnect => {}
        }
        self.counters.resyncs += 1;
        // The channel sends no new snapshot on its own: the book is rebuilt from REST.
        self.reset(Phase::Buffering);
        self.snapshot_requests += 1;
        SyncEvent::Invalidated(reason)
    }

    fn reset(&mut self, phase: Phase) {
        self.book.clear();
        self.seq = None;
        self.held.clear();
        self.held_levels.clear();
        self.phase = phase;
    }
}

/// Writes a checksum string level by level (bids side 0, asks side 1, interleaved as OKX
/// does), taking each level's text from the previous string when it had the level.
struct TextWriter<'a> {
    text: &'a mut Text,
    at: usize,
    prev: &'a Text,
    prev_texts: &'a LevelTexts,
    texts: &'a mut LevelTexts,
    /// Per side, the first level of the previous string not yet passed.
    cursor: [usize; 2],
    /// Per side, the levels written.
    count: [usize; 2],
}

impl TextWriter<'_> {
    #[inline(always)]
    fn level<const ASK: bool>(&mut self, l: Level) {
        let side = usize::from(ASK);
        let (old, n) = (
            &self.prev_texts.sides[side],
            self.prev_texts.n[side].min(CHECKSUM_DEPTH),
        );
        // Both lists run best first: skip the previous levels better than this one (bids:
        // higher prices; asks: lower).
        let better = |p: Level| {
            if ASK {
                p.price < l.price
            } else {
                p.price > l.price
            }
        };
        let mut j = self.cursor[side];
        while j < n && better(old[j].level) {
            j += 1;
        }
        self.cursor[side] = j;
        let start = self.at;
        let end = if j < n && old[j].level == l {
            let (from, len) = (usize::from(old[j].at), usize::from(old[j].len));
            self.text[start..start + COPY].copy_from_slice(&self.prev[from..from + COPY]);
            start + len
        } else {
            put_level(self.text, start, l)
        };
        // At most CHECKSUM_DEPTH levels per side are written.
        let i = self.count[side].min(CHECKSUM_DEPTH - 1);
        self.texts.sides[side][i] = Cached {
            level: l,
            at: start as u16,
            len: (end - start) as u16,
        };
        self.count[side] = i + 1;
        self.at = end;
    }
}

/// `price:size:` in the shortest decimal form at `at` (`buf` needs [`LEVEL_TEXT`] + 8 bytes
/// of room from `at`); returns the end.
#[inline]
fn put_level(buf: &mut [u8], at: usize, l: Level) -> usize {
    let mut at = put_shortest(buf, at, l.price.units());
    buf[at] = b':';
    at = put_shortest(buf, at + 1, l.qty.units());
    buf[at] = b':';
    at + 1
}

/// `put_level` appended to `out`.
#[cfg(test)]
fn push_level(out: &mut Vec<u8>, l: Level) {
    let mut buf = [0u8; LEVEL_TEXT + 8];
    let end = put_level(&mut buf, 0, l);
    out.extend_from_slice(&buf[..end]);
}

/// Longest `price:size:`: two of `-92233720368.54775807` and two colons (digits are stored
/// eight bytes at a time: the buffer has eight more).
const LEVEL_TEXT: usize = 2 * 21 + 2;

/// The 8 decimal digits of `v < 10^8` as one word, the first digit in the lowest byte (0..=9
/// each, not yet ASCII): two 4-digit halves split by 100 and then by 10 in every lane at once,
/// with multiplications that are exact for these ranges (`x × 10486 >> 20 = x / 100` for
/// `x < 10^4`, `x × 103 >> 10 = x / 10` for `x < 100`).
#[inline(always)]
fn eight_digits(v: u64) -> u64 {
    let (hi, lo) = (v / 10_000, v % 10_000);
    // Lanes of 32 bits: the first four digits in the low lane.
    let x = hi | (lo << 32);
    let h = ((x * 10_486) >> 20) & 0x0000_007F_0000_007F;
    // Lanes of 16 bits: pairs, first pair lowest.
    let x = h | ((x - h * 100) << 16);
    let t = ((x * 103) >> 10) & 0x000F_000F_000F_000F;
    // Lanes of 8 bits: digits.
    t | ((x - t * 10) << 8)
}

const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// Stores the eight digits of `d` (lowest byte first) as ASCII at `at`; the caller keeps the
/// first `n` of them and the rest is overwritten by what follows (or never read).
#[inline(always)]
fn store8(buf: &mut [u8], at: usize, d: u64) {
    buf[at..at + 8].copy_from_slice(&(d + ASCII_ZEROS).to_le_bytes());
}

/// `v < 10^8` without leading zeros at `at`; returns the end.
#[inline(always)]
fn put_int(buf: &mut [u8], at: usize, v: u64) -> usize {
    if v == 0 {
        buf[at] = b'0';
        return at + 1;
    }
    let d = eight_digits(v);
    // Leading zero digits are the zero bytes at the low end.
    let z = (d.trailing_zeros() / 8) as usize;
    store8(buf, at, d >> (8 * z));
    at + 8 - z
}

/// The shortest exact decimal of `units` (10^-8), as OKX writes numbers (`8477`, `0.1`),
/// written from `at`; returns the end. No division by a variable and no digit loop: eight
/// digits at a time in one word, stored eight bytes at a time (`buf` needs 8 bytes of room
/// past the text).
#[inline(always)]
fn put_shortest(buf: &mut [u8], mut at: usize, units: i64) -> usize {
    const SCALE: u64 = crate::types::SCALE as u64;
    if units < 0 {
        buf[at] = b'-';
        at += 1;
    }
    let mag = units.unsigned_abs();
    let (int, frac) = (mag / SCALE, mag % SCALE);
    // At most 11 integer digits for an i64 at 10^-8: a high part below 10^3.
    let (high, low) = (int / SCALE, int % SCALE);
    if high != 0 {
        at = put_int(buf, at, high);
        store8(buf, at, eight_digits(low));
        at += 8;
    } else {
        at = put_int(buf, at, low);
    }
    if frac != 0 {
        buf[at] = b'.';
        let d = eight_digits(frac);
        store8(buf, at + 1, d);
        // Trailing zero digits are the zero bytes at the high end (frac ≠ 0: at most 7).
        at += 1 + 8 - (d.leading_zeros() / 8) as usize;
    }
    at
}

/// `put_shortest` appended to `out`.
#[cfg(test)]
fn push_shortest(out: &mut Vec<u8>, units: i64) {
    let mut buf = [0u8; 21 + 8];
    let end = put_shortest(&mut buf, 0, units);
    out.extend_from_slice(&buf[..end]);
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
