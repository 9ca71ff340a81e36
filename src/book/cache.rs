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
mod tests {
    use super::*;

    fn px(s: &str) -> Price {
        Price::parse(s).expect("test price")
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).expect("test qty")
    }
    fn lv(p: &str, qty: &str) -> Level {
        Level {
            price: px(p),
            qty: q(qty),
        }
    }

    fn book(update_id: u64, bids: &[Level], asks: &[Level]) -> L2Book {
        let mut b = L2Book::with_capacity(32);
        b.apply_snapshot(update_id, bids.iter().copied(), asks.iter().copied());
        b
    }

    /// `n` levels one tick apart from `best`, moving away from the touch by `step` units.
    fn ladder(best: i64, step: i64, n: usize) -> Vec<Level> {
        (0..n)
            .map(|k| Level {
                price: Price::from_units(best + step * k as i64),
                qty: Qty::from_units(1_000 + k as i64),
            })
            .collect()
    }

    #[test]
    fn fresh_cache_is_invalid_and_empty() {
        let cache = BookCache::new(3);
        let r = cache.reader();
        assert_eq!(r.len(), 3);
        for i in 0..3 {
            let id = InstrumentId(i);
            assert_eq!(r.top(id), TopOfBook::default());
            assert!(!r.top(id).valid);
            assert_eq!(r.depth(id), Depth::default());
            assert_eq!(r.seq(id), 0);
        }
    }

    #[test]
    fn writer_is_taken_once_and_given_back_on_drop() {
        let cache = BookCache::new(2);
        // (id, expect a writer)
        let w0 = cache.writer(InstrumentId(0));
        assert!(w0.is_some());
        for (id, expected) in [(0u32, false), (1, true), (2, false), (u32::MAX, false)] {
            let w = cache.writer(InstrumentId(id));
            assert_eq!(w.is_some(), expected, "writer({id})");
            drop(w);
        }
        assert_eq!(
            w0.as_ref().map(CacheWriter::instrument),
            Some(InstrumentId(0))
        );
        drop(w0);
        assert!(cache.writer(InstrumentId(0)).is_some());
    }

    #[test]
    fn publish_copies_top_and_depth_from_the_book() {
        // (bids, asks, expected bid count, expected ask count)
        let cases: Vec<(Vec<Level>, Vec<Level>, usize, usize)> = vec![
            (vec![], vec![], 0, 0),
            (vec![lv("61837.63", "3.78826")], vec![], 1, 0),
            (vec![], vec![lv("61837.64", "1.54698")], 0, 1),
            (
                ladder(6_183_763_000_000, -1_000_000, 3),
                ladder(6_183_764_000_000, 1_000_000, 12),
                3,
                10,
            ),
            (
                ladder(6_183_763_000_000, -1_000_000, 25),
                ladder(6_183_764_000_000, 1_000_000, 10),
                10,
                10,
            ),
        ];
        let cache = BookCache::new(1);
        let id = InstrumentId(0);
        let mut w = cache.writer(id).expect("writer");
        let r = cache.reader();
        for (n, (bids, asks, nb, na)) in cases.into_iter().enumerate() {
            let b = book(100 + n as u64, &bids, &asks);
            let (ets, rts) = (UnixNanos(1_000 + n as u64), UnixNanos(2_000 + n as u64));
            w.publish(&b, ets, rts);
            let seq = n as u64 + 1;

            let top = r.top(id);
            let want = TopOfBook {
                bid: b.best_bid().unwrap_or_default(),
                ask: b.best_ask().unwrap_or_default(),
                update_id: 100 + n as u64,
                exchange_ts: ets,
                recv_ts: rts,
                seq,
                valid: true,
            };
            assert_eq!(top, want, "case {n}");
            assert_eq!(r.seq(id), seq);

            let d = r.depth(id);
            assert_eq!((d.bid_count, d.ask_count), (nb, na), "case {n}");
            let mut want_bids = [Level::default(); CACHE_DEPTH];
            let mut want_asks = [Level::default(); CACHE_DEPTH];
            b.top_n(Side::Buy, &mut want_bids);
            b.top_n(Side::Sell, &mut want_asks);
            assert_eq!(d.bids, want_bids, "case {n}");
            assert_eq!(d.asks, want_asks, "case {n}");
            assert_eq!(d.bid_levels(), &want_bids[..nb]);
            assert_eq!(d.ask_levels(), &want_asks[..na]);
            assert_eq!(
                (d.update_id, d.exchange_ts, d.recv_ts, d.seq, d.valid),
                (100 + n as u64, ets, rts, seq, true)
            );
        }
    }

    #[test]
    fn publish_top_leaves_depth_older() {
        let cache = BookCache::new(1);
        let id = InstrumentId(0);
        let mut w = cache.writer(id).expect("writer");
        let r = cache.reader();
        w.publish(
            &book(7, &[lv("100", "1")], &[lv("101", "2")]),
            UnixNanos(1),
            UnixNanos(2),
        );
        let given = TopOfBook {
            bid: lv("100.5", "3"),
            ask: lv("100.75", "4"),
            update_id: 9,
            exchange_ts: UnixNanos(5),
            recv_ts: UnixNanos(6),
            seq: 12345, // ignored
            valid: true,
        };
        w.publish_top(given);
        assert_eq!(r.top(id), TopOfBook { seq: 2, ..given });
        let d = r.depth(id);
        assert_eq!(
            (d.seq, d.update_id, d.bid_levels(), d.valid),
            (1, 7, &[lv("100", "1")][..], true)
        );
    }

    #[test]
    fn invalidate_keeps_prices_and_bumps_seq() {
        let cache = BookCache::new(2);
        let id = InstrumentId(1);
        let mut w = cache.writer(id).expect("writer");
        let r = cache.reader();
        let b = book(7, &[lv("100", "1"), lv("99", "5")], &[lv("101", "2")]);
        w.publish(&b, UnixNanos(1), UnixNanos(2));
        let (top, depth) = (r.top(id), r.depth(id));
        w.invalidate();
        assert_eq!(
            r.top(id),
            TopOfBook {
                valid: false,
                seq: 2,
                ..top
            }
        );
        assert_eq!(
            r.depth(id),
            Depth {
                valid: false,
                seq: 2,
                ..depth
            }
        );
        assert_eq!(r.seq(id), 2);
        // The other slot is untouched.
        assert_eq!(r.top(InstrumentId(0)), TopOfBook::default());
        // A new publish makes it valid again.
        w.publish(&b, UnixNanos(3), UnixNanos(4));
        assert!(r.top(id).valid && r.depth(id).valid);
        assert_eq!(r.seq(id), 3);
    }

    #[test]
    fn a_new_writer_continues_where_the_last_one_stopped() {
        let cache = BookCache::new(1);
        let id = InstrumentId(0);
        let r = cache.reader();
        let b = book(7, &[lv("100", "1")], &[lv("101", "2")]);
        let mut w = cache.writer(id).expect("writer");
        w.publish(&b, UnixNanos(1), UnixNanos(2));
        w.publish(&b, UnixNanos(1), UnixNanos(2));
        let before = r.top(id);
        drop(w);
        let mut w = cache.writer(id).expect("writer again");
        w.invalidate();
        assert_eq!(
            r.top(id),
            TopOfBook {
                valid: false,
                seq: 3,
                ..before
            }
        );
        assert_eq!(r.depth(id).bid_levels(), &[lv("100", "1")][..]);
    }

    #[test]
    fn negative_and_extreme_units_round_trip() {
        let cache = BookCache::new(1);
        let id = InstrumentId(0);
        let mut w = cache.writer(id).expect("writer");
        let top = TopOfBook {
            bid: Level {
                price: Price::from_units(-5),
                qty: Qty::MAX,
            },
            ask: Level {
                price: Price::MAX,
                qty: Qty::from_units(i64::MIN),
            },
            update_id: u64::MAX,
            exchange_ts: UnixNanos(u64::MAX),
            recv_ts: UnixNanos(0),
            seq: 0,
            valid: true,
        };
        w.publish_top(top);
        assert_eq!(cache.reader().top(id), TopOfBook { seq: 1, ..top });
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "Invariant")]
    fn out_of_range_read_is_a_bug_in_debug_builds() {
        let cache = BookCache::new(1);
        let _ = cache.reader().top(InstrumentId(1));
    }

    /// A feed thread publishes books whose every price and quantity derive from one counter;
    /// a strategy thread must see whole tops and depths. Small enough for Miri.
    #[test]
    fn concurrent_reader_sees_whole_publishes() {
        const PUBLISHES: i64 = if cfg!(miri) { 25 } else { 5_000 };
        let cache = BookCache::new(1);
        let id = InstrumentId(0);
        let mut w = cache.writer(id).expect("writer");
        let r = cache.reader();
        let reader = std::thread::spawn(move || {
            let mut last = 0u64;
            loop {
                let top = r.top(id);
                let d = r.depth(id);
                assert!(top.seq >= last, "seq went backwards");
                last = top.seq;
                if top.valid {
                    let k = top.update_id as i64;
                    assert_eq!(top.bid.price.units(), 1_000 * k);
                    assert_eq!(top.ask.price.units(), 1_000 * k + 1);
                    assert_eq!((top.bid.qty.units(), top.ask.qty.units()), (k, k));
                }
                if d.valid {
                    let k = d.update_id as i64;
                    assert_eq!(d.seq, d.update_id);
                    assert_eq!((d.bid_count, d.ask_count), (3, 3));
                    for (j, l) in d.bid_levels().iter().enumerate() {
                        assert_eq!((l.price.units(), l.qty.units()), (1_000 * k - j as i64, k));
                    }
                    for (j, l) in d.ask_levels().iter().enumerate() {
                        assert_eq!(
                            (l.price.units(), l.qty.units()),
                            (1_000 * k + 1 + j as i64, k)
                        );
                    }
                }
                if top.update_id == PUBLISHES as u64 {
                    return last;
                }
            }
        });
        let mut b = L2Book::with_capacity(8);
        for k in 1..=PUBLISHES {
            let bids = (0..3).map(|j| Level {
                price: Price::from_units(1_000 * k - j),
                qty: Qty::from_units(k),
            });
            let asks = (0..3).map(|j| Level {
                price: Price::from_units(1_000 * k + 1 + j),
                qty: Qty::from_units(k),
            });
            b.apply_snapshot(k as u64, bids, asks);
            w.publish(&b, UnixNanos(k as u64), UnixNanos(k as u64));
        }
        let last = reader.join().expect("reader thread panicked");
        assert_eq!(last, PUBLISHES as u64);
    }

    #[test]
    fn marks_are_published_beside_the_book_and_read_whole() {
        const PUBLISHES: u64 = if cfg!(miri) { 25 } else { 5_000 };
        let cache = BookCache::new(2);
        let mut w = cache.writer(InstrumentId(1)).unwrap();
        let r = cache.reader();
        assert_eq!(r.mark(InstrumentId(1)), MarkPrice::default());
        let m = MarkUpdate {
            instrument: InstrumentId(1),
            mark: px("17217.33"),
            index: px("17227.36"),
            funding_rate: FundingRate::parse("-0.000212").unwrap(),
            next_funding_ms: 1_673_280_000_000,
            exchange_ts: UnixNanos::from_millis(1_673_272_861_686),
        };
        w.publish_mark(&m, UnixNanos(7));
        let got = r.mark(InstrumentId(1));
        assert_eq!(
            got,
            MarkPrice {
                mark: px("17217.33"),
                index: px("17227.36"),
                funding_rate: FundingRate::from_units(-21_200),
                next_funding_ms: 1_673_280_000_000,
                exchange_ts: UnixNanos::from_millis(1_673_272_861_686),
                recv_ts: UnixNanos(7),
                seq: 1,
            }
        );
        // The book's slot is untouched by a mark, and the other instrument has none.
        assert_eq!(
            (r.seq(InstrumentId(1)), r.top(InstrumentId(1)).valid),
            (0, false)
        );
        assert_eq!(r.mark(InstrumentId(0)).seq, 0);
        w.invalidate();
        assert_eq!(r.mark(InstrumentId(1)).seq, 1);

        // A reader on another thread sees each mark whole: every word from the same write.
        let reader = {
            let r = r.clone();
            std::thread::spawn(move || {
                loop {
                    let m = r.mark(InstrumentId(1));
                    if m.seq > 1 {
                        let k = m.next_funding_ms;
                        assert_eq!(m.mark.units() as u64, k);
                        assert_eq!(m.index.units() as u64, k + 1);
                        assert_eq!(m.funding_rate.units(), -(k as i64));
                        assert_eq!(m.recv_ts, UnixNanos(k));
                    }
                    if m.next_funding_ms == PUBLISHES {
                        return m.seq;
                    }
                }
            })
        };
        for k in 1..=PUBLISHES {
            let m = MarkUpdate {
                instrument: InstrumentId(1),
                mark: Price::from_units(k as i64),
                index: Price::from_units(k as i64 + 1),
                funding_rate: FundingRate::from_units(-(k as i64)),
                next_funding_ms: k,
                exchange_ts: UnixNanos(k),
            };
            w.publish_mark(&m, UnixNanos(k));
        }
        assert_eq!(
            reader.join().expect("reader thread panicked"),
            PUBLISHES + 1
        );
    }
}
