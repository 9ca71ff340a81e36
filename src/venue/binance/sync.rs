//! `BookSync`: keeps one instrument's `L2Book` in step with Binance's diff-depth stream,
//! exactly by Binance's documented procedure ("How to manage a local order book correctly",
//! reference/exchanges.md §1.2), and checks the book against the bookTicker stream.
//!
//! The procedure, as implemented:
//! 1. With no usable snapshot, diffs are buffered (contiguous: a diff whose `U` is not the
//!    previous `u + 1` restarts the buffer) and `needs_snapshot()` is true.
//! 2. On a snapshot with `lastUpdateId < U` of the first buffered diff, the snapshot is too
//!    old: it is dropped, buffering goes on, and another one is requested.
//! 3. Otherwise buffered diffs with `u <= lastUpdateId` are dropped (stale), the book is set
//!    from the snapshot, and the remaining diffs are applied. The first applied diff must
//!    straddle: `U <= lastUpdateId + 1 <= u`. If no diff is buffered yet, the book waits for
//!    the first live one under the same rule (a diff past it means the snapshot was too old).
//! 4. Live, a diff with `u <=` the book's id is stale and dropped; otherwise its `U` must be
//!    the book's id `+ 1`. A larger `U` is a gap, a smaller one an overlap; either, a crossed
//!    book after a diff, or a reconnect, clears the book, buffers afresh and asks for a new
//!    snapshot. (Binance's text only calls `U > id + 1` fatal and says the next `U` is
//!    "normally" `u + 1`; we treat any break of that chain as fatal, which is stricter.)
//!
//! The caller fetches snapshots off the hot path: it watches `snapshot_requests()` (a
//! generation that rises each time a fresh snapshot is needed) or the `SyncEvent`s, and hands
//! the answer to `on_snapshot`. Fetch after the first diff is buffered (`snapshot_wanted()`),
//! or the snapshot may predate it and be refused as too old.

use std::collections::VecDeque;

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, Side};
use crate::venue::md::{ResyncReason, SyncCounters, SyncEvent, SyncLimits, SyncState};

/// The first bookTicker that disagreed with the book, kept for diagnosis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub ticker_update_id: u64,
    pub book_update_id: u64,
    pub ticker_bid: Level,
    pub ticker_ask: Level,
    pub book_bid: Option<Level>,
    pub book_ask: Option<Level>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitSnapshot,
    /// The book holds a snapshot; the next non-stale diff must straddle its id + 1.
    AwaitFirstDiff,
    Live,
}

/// One buffered diff; its levels live in `DiffBuffer::levels`.
#[derive(Clone, Copy, Debug)]
struct BufferedDiff {
    first: u64,
    last: u64,
    /// `levels[start..mid]` are bids, `levels[mid..end]` asks.
    start: usize,
    mid: usize,
    end: usize,
}

/// Diffs held while waiting for a snapshot. Invariant: contiguous (`first` of each is the
/// previous `last + 1`).
#[derive(Debug, Default)]
struct DiffBuffer {
    diffs: Vec<BufferedDiff>,
    levels: Vec<Level>,
}

impl DiffBuffer {
    /// Drops the diffs before index `k` (all of them if `k` is past the end).
    fn keep_from(&mut self, k: usize) {
        let Some(off) = self.diffs.get(k).map(|d| d.start) else {
            self.diffs.clear();
            self.levels.clear();
            return;
        };
        self.levels.drain(..off);
        self.diffs.drain(..k);
        for d in &mut self.diffs {
            d.start -= off;
            d.mid -= off;
            d.end -= off;
        }
    }
}

/// What `step` did with one diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Stale,
    Applied,
    /// Applied, and the book is now crossed.
    Crossed,
    /// Not applied: it does not continue the book.
    Break(Break),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Break {
    Gap,
    Overlap,
    SnapshotTooOld,
}

/// A bookTicker waiting for the book to reach its update id.
#[derive(Clone, Copy, Debug)]
struct PendingTicker {
    update_id: u64,
    bid: Level,
    ask: Level,
}

/// The synchroniser of one instrument's book.
pub struct BookSync {
    instrument: InstrumentId,
    book: L2Book,
    phase: Phase,
    buffer: DiffBuffer,
    pending: VecDeque<PendingTicker>,
    limits: SyncLimits,
    snapshot_requests: u64,
    counters: SyncCounters,
    first_disagreement: Option<Disagreement>,
}

impl BookSync {
    /// A book waiting for its first snapshot (`snapshot_requests()` starts at 1).
    pub fn new(instrument: InstrumentId, limits: SyncLimits) -> Self {
        Self {
            instrument,
            book: L2Book::with_capacity(limits.book_levels),
            phase: Phase::AwaitSnapshot,
            buffer: DiffBuffer {
                diffs: Vec::with_capacity(limits.max_buffered_diffs),
                levels: Vec::with_capacity(limits.max_buffered_levels.min(1 << 16)),
            },
            pending: VecDeque::with_capacity(limits.max_pending_tickers),
            limits,
            snapshot_requests: 1,
            counters: SyncCounters::default(),
            first_disagreement: None,
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// The book; only meaningful when `state()` is `Live`.
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

    pub fn first_disagreement(&self) -> Option<&Disagreement> {
        self.first_disagreement.as_ref()
    }

    /// The book is waiting for a snapshot.
    pub fn needs_snapshot(&self) -> bool {
        self.phase == Phase::AwaitSnapshot
    }

    /// A snapshot is needed and at least one diff is buffered, so a snapshot fetched now
    /// will not predate the stream (Binance's step 3 comes after step 2).
    pub fn snapshot_wanted(&self) -> bool {
        self.needs_snapshot() && !self.buffer.diffs.is_empty()
    }

    /// Rises by one each time a fresh snapshot becomes necessary; starts at 1.
    pub fn snapshot_requests(&self) -> u64 {
        self.snapshot_requests
    }

    /// One diff-depth event (`U` = `first`, `u` = `last`, absolute quantities).
    pub fn on_diff(&mut self, first: u64, last: u64, bids: &[Level], asks: &[Level]) -> SyncEvent {
        debug_assert!(first <= last, "Invariant: the codec refuses U > u");
        if self.phase == Phase::AwaitSnapshot {
            return self.buffer_diff(first, last, bids, asks);
        }
        match self.step(first, last, bids, asks) {
            Step::Stale => SyncEvent::Stale,
            Step::Applied => SyncEvent::Applied,
            Step::Crossed => self.invalidate(ResyncReason::Crossed),
            Step::Break(kind) => {
                let ev = self.break_chain(kind);
                // This diff is the first event of the new attempt.
                let _ = self.buffer_diff(first, last, bids, asks);
                ev
            }
        }
    }

    /// A REST depth snapshot for this instrument.
    pub fn on_snapshot(
        &mut self,
        last_update_id: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> SyncEvent {
        if self.phase == Phase::Live {
            self.counters.snapshots_ignored += 1;
            return SyncEvent::SnapshotIgnored;
        }
        if let Some(first) = self.buffer.diffs.first()
            && last_update_id < first.first
        {
            // Step 4: keep buffering, fetch another snapshot.
            self.counters.snapshots_too_old += 1;
            self.snapshot_requests += 1;
            return SyncEvent::SnapshotTooOld;
        }
        self.book
            .apply_snapshot(last_update_id, bids.iter().copied(), asks.iter().copied());
        self.counters.snapshots_applied += 1;
        self.phase = Phase::AwaitFirstDiff;
        if self.book.is_crossed() {
            return self.invalidate(ResyncReason::Crossed);
        }
        self.resolve_tickers();
        // Replay the buffer; it is taken out (leaving an unallocated Vec) so the book can be
        // written beside it.
        let buffer = std::mem::take(&mut self.buffer);
        let mut replayed = 0u32;
        let mut outcome = None;
        for (k, d) in buffer.diffs.iter().enumerate() {
            let (bids, asks) = (&buffer.levels[d.start..d.mid], &buffer.levels[d.mid..d.end]);
            match self.step(d.first, d.last, bids, asks) {
                Step::Stale => {}
                Step::Applied => replayed += 1,
                Step::Crossed => {
                    outcome = Some((self.invalidate(ResyncReason::Crossed), k + 1));
                    break;
                }
                Step::Break(kind) => {
                    outcome = Some((self.break_chain(kind), k));
                    break;
                }
            }
        }
        self.buffer = buffer;
        match outcome {
            Some((ev, keep_from)) => {
                // The diffs not yet applied are still contiguous: they start the new buffer.
                self.buffer.keep_from(keep_from);
                ev
            }
            None => {
                self.buffer.keep_from(usize::MAX);
                SyncEvent::SnapshotApplied {
                    replayed,
                    live: self.phase == Phase::Live,
                }
            }
        }
    }

    /// The connection was re-established: the stream restarts, the book cannot be trusted.
    pub fn on_reconnect(&mut self) -> SyncEvent {
        self.counters.reconnects += 1;
        self.invalidate(ResyncReason::Reconnect)
    }

    /// A bookTicker for this instrument: checks it against the book.
    ///
    /// The rule. A bookTicker with update id `T` carries the top of the book after update
    /// `T`. Our book is only known at diff boundaries: after update `u` of the last applied
    /// diff (or the snapshot's `lastUpdateId`). The top after `u` is the top after the newest
    /// update `<= u` that changed the top, and Binance sends a bookTicker for every change of
    /// the top, so after reaching `u` the book must equal the newest bookTicker with `T <= u`.
    /// Hence each ticker is checked once, when the book first reaches or passes `T`, and only
    /// if it is then the newest pending ticker with `T <= u`; older ones were superseded by a
    /// later top change and are not checked. A ticker arriving after the book already passed
    /// it (`T < u`) is not checked either, since a newer top change may already be in the
    /// book; with `T == u` it is checked at once.
    pub fn on_book_ticker(&mut self, update_id: u64, bid: Level, ask: Level) {
        let t = PendingTicker {
            update_id,
            bid,
            ask,
        };
        if self.phase != Phase::AwaitSnapshot {
            let id = self.book.update_id();
            if update_id == id {
                self.check(t);
                return;
            }
            if update_id < id {
                self.counters.tickers_unchecked += 1;
                return;
            }
        }
        if self.pending.len() == self.limits.max_pending_tickers {
            self.pending.pop_front();
            self.counters.tickers_unchecked += 1;
        }
        self.pending.push_back(t);
    }

    /// Checks the newest pending ticker with `T <= book id`, discards the older ones.
    fn resolve_tickers(&mut self) {
        let id = self.book.update_id();
        let mut newest: Option<PendingTicker> = None;
        let mut reached = 0u64;
        for t in self.pending.iter().filter(|t| t.update_id <= id) {
            reached += 1;
            if newest.is_none_or(|n| t.update_id >= n.update_id) {
                newest = Some(*t);
            }
        }
        if let Some(t) = newest {
            self.pending.retain(|p| p.update_id > id);
            self.counters.tickers_unchecked += reached - 1;
            self.check(t);
        }
    }

    fn check(&mut self, t: PendingTicker) {
        let (bb, ba) = (self.book.best_bid(), self.book.best_ask());
        self.counters.tickers_checked += 1;
        if bb == Some(t.bid) && ba == Some(t.ask) {
            self.counters.tickers_agreed += 1;
        } else if self.first_disagreement.is_none() {
            self.first_disagreement = Some(Disagreement {
                ticker_update_id: t.update_id,
                book_update_id: self.book.update_id(),
                ticker_bid: t.bid,
                ticker_ask: t.ask,
                book_bid: bb,
                book_ask: ba,
            });
        }
    }

    /// Decides one diff against a book holding a snapshot, and applies it if it continues
    /// the book. Never buffers.
    fn step(&mut self, first: u64, last: u64, bids: &[Level], asks: &[Level]) -> Step {
        debug_assert!(
            self.phase != Phase::AwaitSnapshot,
            "Invariant: the book holds a snapshot"
        );
        let id = self.book.update_id();
        if last <= id {
            self.counters.stale_dropped += 1;
            return Step::Stale;
        }
        if self.phase == Phase::AwaitFirstDiff {
            // `last > id` already: `first <= id + 1` makes the diff straddle `id + 1`.
            if first > id + 1 {
                return Step::Break(Break::SnapshotTooOld);
            }
        } else if first > id + 1 {
            return Step::Break(Break::Gap);
        } else if first < id + 1 {
            return Step::Break(Break::Overlap);
        }
        for l in bids {
            self.book.apply_level(Side::Buy, l.price, l.qty);
        }
        for l in asks {
            self.book.apply_level(Side::Sell, l.price, l.qty);
        }
        self.book.set_update_id(last);
        self.counters.diffs_applied += 1;
        if self.book.is_crossed() {
            return Step::Crossed;
        }
        self.phase = Phase::Live;
        self.resolve_tickers();
        Step::Applied
    }

    fn break_chain(&mut self, kind: Break) -> SyncEvent {
        match kind {
            Break::Gap => self.invalidate(ResyncReason::Gap),
            Break::Overlap => self.invalidate(ResyncReason::Overlap),
            Break::SnapshotTooOld => {
                // Updates between the snapshot and this diff were never seen.
                self.counters.snapshots_too_old += 1;
                self.reset_to_await_snapshot();
                SyncEvent::SnapshotTooOld
            }
        }
    }

    fn buffer_diff(&mut self, first: u64, last: u64, bids: &[Level], asks: &[Level]) -> SyncEvent {
        let b = &mut self.buffer;
        if let Some(prev) = b.diffs.last() {
            if last <= prev.last {
                self.counters.stale_dropped += 1;
                return SyncEvent::Stale;
            }
            if first != prev.last + 1 {
                // The buffer must be contiguous: start it again from this diff.
                if first > prev.last + 1 {
                    self.counters.gaps += 1;
                } else {
                    self.counters.overlaps += 1;
                }
                b.diffs.clear();
                b.levels.clear();
            }
        }
        if b.diffs.len() >= self.limits.max_buffered_diffs
            || b.levels.len() + bids.len() + asks.len() > self.limits.max_buffered_levels
        {
            self.counters.buffer_overflows += 1;
            b.diffs.clear();
            b.levels.clear();
        }
        let start = b.levels.len();
        b.levels.extend_from_slice(bids);
        let mid = b.levels.len();
        b.levels.extend_from_slice(asks);
        b.diffs.push(BufferedDiff {
            first,
            last,
            start,
            mid,
            end: b.levels.len(),
        });
        self.counters.diffs_buffered += 1;
        SyncEvent::Buffered
    }

    fn reset_to_await_snapshot(&mut self) {
        self.book.clear();
        self.buffer.diffs.clear();
        self.buffer.levels.clear();
        self.phase = Phase::AwaitSnapshot;
        self.snapshot_requests += 1;
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
        self.reset_to_await_snapshot();
        SyncEvent::Invalidated(reason)
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
