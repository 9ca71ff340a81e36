//! The book cache: per instrument, the latest top of book and best-`CACHE_DEPTH` depth,
//! published by the instrument's feed through seqlocks and read lock-free by strategies.
//!
//! One slot per `InstrumentId`, allocated at start. Each slot holds two seqlocks on their own
//! cache lines: the top of book (9 words, read on every strategy tick) and the depth (46 words,
//! read by strategies that look past the touch). A feed takes the slot's [`CacheWriter`] once,
//! which makes every slot single-writer by construction; any number of [`CacheReader`]s read
//! without locking and never see a torn snapshot.
//!
//! Every write to a slot (a [`CacheWriter::publish`], [`CacheWriter::publish_top`] or
//! [`CacheWriter::invalidate`]) bumps the slot's publish counter by one; readers see it as
//! `seq`. `publish` writes the depth before the top, so a depth read after a top read is
//! never older than the last full publish that top reflects. A `Depth` whose `seq` is below
//! the top's `seq` is older than the top (the feed sent top-only updates since).
//!
//! Perpetuals also have a mark slot (mark and index price, funding rate and time), a third
//! seqlock on its own cache line with its own version, written by the same feed through
//! [`CacheWriter::publish_mark`] and read with [`CacheReader::mark`]. It is independent of the
//! book: it does not bump the slot's publish counter and is not invalidated with the book.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

use crossbeam_utils::CachePadded;

use super::l2::{L2Book, Level};
use super::seqlock::SeqLock;
use crate::types::{FundingRate, InstrumentId, MarkUpdate, Price, Qty, Side, UnixNanos};

/// Levels per side the cache publishes in a [`Depth`].
pub const CACHE_DEPTH: usize = 10;

/// Words of a published top of book: bid price, bid qty, ask price, ask qty, update id,
/// exchange time, receive time, valid flag. `seq` is the lock's version, not a word.
const TOP_WORDS: usize = 8;
const TOP_VALID: usize = 7;
const _: () = assert!(
    TOP_VALID == TOP_WORDS - 1,
    "the valid flag is the last top word"
);

/// Words of a published depth: update id, exchange time, receive time, seq, meta (valid
/// flag and both counts), then `CACHE_DEPTH` (price, qty) pairs per side, bids first.
const DEPTH_WORDS: usize = 5 + 4 * CACHE_DEPTH;
const DEPTH_SEQ: usize = 3;
const DEPTH_META: usize = 4;
const DEPTH_BIDS: usize = 5;
const DEPTH_ASKS: usize = DEPTH_BIDS + 2 * CACHE_DEPTH;
/// Meta word layout: bit 0 valid, bits 8..16 bid count, bits 16..24 ask count.
const META_VALID: u64 = 1;

/// Words of a published mark: mark price, index price, funding rate, next funding time (ms),
/// exchange time, receive time.
const MARK_WORDS: usize = 6;

/// A perpetual's mark, index and funding as last published (see [`MarkUpdate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkPrice {
    pub mark: Price,
    pub index: Price,
    pub funding_rate: FundingRate,
    /// Unix milliseconds of the next funding.
    pub next_funding_ms: u64,
    pub exchange_ts: UnixNanos,
    /// When our feed received the message that completed it.
    pub recv_ts: UnixNanos,
    /// Marks published to this slot so far: 0 means none yet (the other fields are then zero).
    pub seq: u64,
}

impl MarkPrice {
    #[inline]
    fn from_words(w: &[u64; MARK_WORDS], seq: u64) -> Self {
        Self {
            mark: Price::from_units(w[0] as i64),
            index: Price::from_units(w[1] as i64),
            funding_rate: FundingRate::from_units(w[2] as i64),
            next_funding_ms: w[3],
            exchange_ts: UnixNanos(w[4]),
            recv_ts: UnixNanos(w[5]),
            seq,
        }
    }
}

/// The best bid and ask of one instrument as last published. An empty side is a zero
/// [`Level`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopOfBook {
    pub bid: Level,
    pub ask: Level,
    /// The venue's update id of the book or ticker this came from.
    pub update_id: u64,
    /// When the venue says it produced the update (event time).
    pub exchange_ts: UnixNanos,
    /// When our feed received the update.
    pub recv_ts: UnixNanos,
    /// The slot's publish counter: 0 before the first write, +1 per write. Assigned by the
    /// cache; ignored in [`CacheWriter::publish_top`].
    pub seq: u64,
    /// False until the first valid publish and after [`CacheWriter::invalidate`]: the prices
    /// are then the last known ones and must not be traded on.
    pub valid: bool,
}

/// The best [`CACHE_DEPTH`] levels per side of one instrument as last published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    /// Best bids, best (highest) first; entries past `bid_count` are zero.
    pub bids: [Level; CACHE_DEPTH],
    /// Best asks, best (lowest) first; entries past `ask_count` are zero.
    pub asks: [Level; CACHE_DEPTH],
    /// Filled entries of `bids`, at most [`CACHE_DEPTH`].
    pub bid_count: usize,
    /// Filled entries of `asks`, at most [`CACHE_DEPTH`].
    pub ask_count: usize,
    pub update_id: u64,
    pub exchange_ts: UnixNanos,
    pub recv_ts: UnixNanos,
    /// The slot's publish counter at the write that produced this depth.
    pub seq: u64,
    /// As [`TopOfBook::valid`].
    pub valid: bool,
}

impl Depth {
    /// The filled bid levels, best first.
    #[inline]
    pub fn bid_levels(&self) -> &[Level] {
        &self.bids[..self.bid_count.min(CACHE_DEPTH)]
    }

    /// The filled ask levels, best first.
    #[inline]
    pub fn ask_levels(&self) -> &[Level] {
        &self.asks[..self.ask_count.min(CACHE_DEPTH)]
    }
}

#[inline]
fn level_words(l: Level) -> [u64; 2] {
    [l.price.units() as u64, l.qty.units() as u64]
}

#[inline]
fn word_level(price: u64, qty: u64) -> Level {
    Level {
        price: Price::from_units(price as i64),
        qty: Qty::from_units(qty as i64),
    }
}

impl TopOfBook {
    #[inline]
    fn to_words(self) -> [u64; TOP_WORDS] {
        let [bp, bq] = level_words(self.bid);
        let [ap, aq] = level_words(self.ask);
        [
            bp,
            bq,
            ap,
            aq,
            self.update_id,
            self.exchange_ts.0,
            self.recv_ts.0,
            u64::from(self.valid),
        ]
    }

    #[inline]
    fn from_words(w: &[u64; TOP_WORDS], seq: u64) -> Self {
        Self {
            bid: word_level(w[0], w[1]),
            ask: word_level(w[2], w[3]),
            update_id: w[4],
            exchange_ts: UnixNanos(w[5]),
            recv_ts: UnixNanos(w[6]),
            seq,
            valid: w[TOP_VALID] != 0,
        }
    }
}

impl Depth {
    #[inline]
    fn from_words(w: &[u64; DEPTH_WORDS]) -> Self {
        let meta = w[DEPTH_META];
        let mut d = Depth {
            bid_count: (((meta >> 8) & 0xff) as usize).min(CACHE_DEPTH),
            ask_count: (((meta >> 16) & 0xff) as usize).min(CACHE_DEPTH),
            update_id: w[0],
            exchange_ts: UnixNanos(w[1]),
            recv_ts: UnixNanos(w[2]),
            seq: w[DEPTH_SEQ],
            valid: meta & META_VALID != 0,
            ..Depth::default()
        };
        for k in 0..CACHE_DEPTH {
            d.bids[k] = word_level(w[DEPTH_BIDS + 2 * k], w[DEPTH_BIDS + 2 * k + 1]);
            d.asks[k] = word_level(w[DEPTH_ASKS + 2 * k], w[DEPTH_ASKS + 2 * k + 1]);
        }
        d
    }
}

/// One instrument's published state. Top and depth sit on separate cache lines so a top read
/// does not share a line with a depth write in progress.
#[derive(Debug, Default)]
struct Slot {
    top: CachePadded<SeqLock<TOP_WORDS>>,
    depth: CachePadded<SeqLock<DEPTH_WORDS>>,
    mark: CachePadded<SeqLock<MARK_WORDS>>,
    /// Whether a [`CacheWriter`] for this slot exists. Taken with AcqRel and given back with
    /// Release, so a later writer starts after everything the previous one wrote.
    writer_taken: AtomicBool,
}

/// The shared cache: one slot per configured instrument, indexed by `InstrumentId`.
#[derive(Debug)]
pub struct BookCache {
    slots: Box<[Slot]>,
}

impl BookCache {
    /// A cache with one empty, invalid slot for each of the instruments `0..n_instruments`.
    pub fn new(n_instruments: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: (0..n_instruments).map(|_| Slot::default()).collect(),
        })
    }

    /// Number of instrument slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The only writer of `id`'s slot, or `None` if `id` is out of range or the writer is
    /// already held. Dropping the writer makes the slot available again (e.g. to a restarted
    /// feed), which continues from what the previous writer published.
    pub fn writer(self: &Arc<Self>, id: InstrumentId) -> Option<CacheWriter> {
        let slot = self.slots.get(id.index())?;
        slot.writer_taken
            .compare_exchange(false, true, AcqRel, Acquire)
            .ok()?;
        // No other writer exists, and the Acquire above ordered us after the last one.
        let top = slot.top.read();
        let depth = slot.depth.read();
        Some(CacheWriter {
            cache: Arc::clone(self),
            index: id.index(),
            seq: top.version,
            top: top.words,
            depth: depth.words,
        })
    }

    /// A reader handle; clone it freely.
    pub fn reader(self: &Arc<Self>) -> CacheReader {
        CacheReader {
            cache: Arc::clone(self),
        }
    }

    /// The slot of `id`. Ids come from the validated config, which sized the cache, so an
    /// out-of-range id is a bug: debug builds panic, release builds return `None` and
    /// readers then report an invalid (default) book.
    #[inline]
    fn slot(&self, id: InstrumentId) -> Option<&Slot> {
        let slot = self.slots.get(id.index());
        debug_assert!(
            slot.is_some(),
            "Invariant: {id:?} is below the cache's {} instruments",
            self.slots.len()
        );
        slot
    }
}

/// The single writer of one instrument's slot, owned by that instrument's feed.
///
/// Writes never block and never wait for readers. It keeps a copy of what it last wrote so
/// [`invalidate`](Self::invalidate) can keep the last prices.
#[derive(Debug)]
pub struct CacheWriter {
    cache: Arc<BookCache>,
    index: usize,
    /// The slot's publish counter: writes so far, equal to the top lock's version.
    seq: u64,
    /// Last words written to the top lock.
    top: [u64; TOP_WORDS],
    /// Last words written to the depth lock.
    depth: [u64; DEPTH_WORDS],
}

impl CacheWriter {
    /// The instrument this writer publishes.
    pub fn instrument(&self) -> InstrumentId {
        InstrumentId(self.index as u32)
    }

    /// Publishes the book's top and best [`CACHE_DEPTH`] levels per side, marked valid.
    /// The book's own update id is published with them. Whether a book is fit to publish
    /// (synced, not crossed) is the feed's decision: it calls [`invalidate`](Self::invalidate)
    /// instead when it is not.
    #[inline]
    pub fn publish(&mut self, book: &L2Book, exchange_ts: UnixNanos, recv_ts: UnixNanos) {
        let mut bids = [Level::default(); CACHE_DEPTH];
        let mut asks = [Level::default(); CACHE_DEPTH];
        let nb = book.top_n(Side::Buy, &mut bids);
        let na = book.top_n(Side::Sell, &mut asks);
        self.seq += 1;
        let d = &mut self.depth;
        d[0] = book.update_id();
        d[1] = exchange_ts.0;
        d[2] = recv_ts.0;
        d[DEPTH_SEQ] = self.seq;
        d[DEPTH_META] = META_VALID | ((nb as u64) << 8) | ((na as u64) << 16);
        for k in 0..CACHE_DEPTH {
            let [bp, bq] = level_words(bids[k]);
            let [ap, aq] = level_words(asks[k]);
            d[DEPTH_BIDS + 2 * k] = bp;
            d[DEPTH_BIDS + 2 * k + 1] = bq;
            d[DEPTH_ASKS + 2 * k] = ap;
            d[DEPTH_ASKS + 2 * k + 1] = aq;
        }
        self.top = TopOfBook {
            bid: bids[0],
            ask: asks[0],
            update_id: book.update_id(),
            exchange_ts,
            recv_ts,
            seq: self.seq,
            valid: true,
        }
        .to_words();
        let slot = &self.cache.slots[self.index];
        // Depth first: a reader that sees the new top finds depth at least this new.
        slot.depth.write(&self.depth);
        slot.top.write(&self.top);
    }

    /// Publishes a top of book alone (e.g. from a bookTicker stream), as given except `seq`,
    /// which the cache assigns. The depth keeps its last value and its older `seq`.
    #[inline]
    pub fn publish_top(&mut self, top: TopOfBook) {
        self.seq += 1;
        self.top = top.to_words();
        self.cache.slots[self.index].top.write(&self.top);
    }

    /// Publishes a perpetual's mark, index and funding (its own seqlock: the book's `seq`
    /// and validity are untouched).
    #[inline]
    pub fn publish_mark(&mut self, m: &MarkUpdate, recv_ts: UnixNanos) {
        let words = [
            m.mark.units() as u64,
            m.index.units() as u64,
            m.funding_rate.units() as u64,
            m.next_funding_ms,
            m.exchange_ts.0,
            recv_ts.0,
        ];
        self.cache.slots[self.index].mark.write(&words);
    }

    /// Marks the book unusable: readers see `valid == false` on both top and depth, with the
    /// last published prices and a new `seq`.
    pub fn invalidate(&mut self) {
        self.seq += 1;
        self.depth[DEPTH_SEQ] = self.seq;
        self.depth[DEPTH_META] &= !META_VALID;
        self.top[TOP_VALID] = 0;
        let slot = &self.cache.slots[self.index];
        slot.depth.write(&self.depth);
        slot.top.write(&self.top);
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        // Release: the next writer of this slot starts after everything written here.
        self.cache.slots[self.index]
            .writer_taken
            .store(false, Release);
    }
}

/// A read handle on the cache: `Clone + Send + Sync`, never locks, never writes shared
/// memory.
///
/// Ids come from the validated config that sized the cache. An out-of-range id is a bug:
/// debug builds panic; release builds return an invalid default book and `seq` 0.
#[derive(Clone, Debug)]
pub struct CacheReader {
    cache: Arc<BookCache>,
}

impl CacheReader {
    /// The latest top of book of `id`: one consistent snapshot.
    #[inline]
    pub fn top(&self, id: InstrumentId) -> TopOfBook {
        match self.cache.slot(id) {
            Some(slot) => {
                let snap = slot.top.read();
                TopOfBook::from_words(&snap.words, snap.version)
            }
            None => TopOfBook::default(),
        }
    }

    /// The latest depth of `id`: one consistent snapshot (independent of [`top`](Self::top);
    /// compare their `seq`).
    #[inline]
    pub fn depth(&self, id: InstrumentId) -> Depth {
        match self.cache.slot(id) {
            Some(slot) => Depth::from_words(&slot.depth.read().words),
            None => Depth::default(),
        }
    }

    /// The latest mark, index and funding of `id` (a perpetual's; `seq` 0 when none was
    /// published): one consistent snapshot.
    #[inline]
    pub fn mark(&self, id: InstrumentId) -> MarkPrice {
        match self.cache.slot(id) {
            Some(slot) => {
                let snap = slot.mark.read();
                MarkPrice::from_words(&snap.words, snap.version)
            }
            None => MarkPrice::default(),
        }
    }

    /// The publish counter of `id`: one Acquire load, for a cheap "did it change" check. A
    /// [`top`](Self::top) read after it returns `seq` at least this.
    #[inline]
    pub fn seq(&self, id: InstrumentId) -> u64 {
        self.cache.slot(id).map_or(0, |slot| slot.top.version())
    }

    /// Number of instrument slots.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
