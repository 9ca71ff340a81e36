//! One side of the L2 book: a dense tick-indexed window around the best price, plus a sorted
//! overflow for the levels the window does not hold.
//!
//! Prices become *keys* ordered so the best level has the largest key on both sides (bids:
//! the price units; asks: their bitwise complement, which reverses the order without
//! overflow). The window is `WINDOW` slots of one tick each, anchored so the best key sits
//! three quarters up; a key on the grid inside it is a slot index found by one multiply, so
//! an insert or delete near the top writes one slot and one bit instead of shifting every
//! deeper level. Keys outside the window, or off its grid, live in `outside`, sorted with the
//! best last. The tick is inferred from the levels themselves (the gcd of their differences)
//! whenever the window is rebuilt, so the book needs no instrument metadata and any price is
//! held exactly: the grid only decides where a level is stored, never whether.
//!
//! The window is rebuilt (O(levels), no allocation within capacity) on a snapshot and when a
//! new best level lands outside it, i.e. when the market has moved a quarter window up or
//! emptied the window downwards.

use crate::types::{Price, Qty, Side};

use super::l2::Level;

/// Slots in the window: 131,072 ticks (BTCUSDT at 0.01: $327 above the best and $983 below
/// it after a rebuild); 1 MiB of quantities per side, touched only where levels are. Half
/// this made applying the recording's diffs 1.6x slower (more deep levels fell outside), a
/// quarter 2.4x.
/// Under Miri the window is 4096 slots (the smallest the two-level bitmap allows), so the
/// same code paths (window, overflow, rebuild) run in an interpreter in reasonable time.
#[cfg(not(miri))]
const WINDOW: usize = 1 << 17;
#[cfg(miri)]
const WINDOW: usize = 1 << 12;
/// Bitmap words over the window, one bit per slot.
const WORDS: usize = WINDOW / 64;
/// Summary words, one bit per bitmap word.
const SUMMARY: usize = WORDS / 64;
/// Slot of the best key right after a rebuild: room for the market to improve by a quarter
/// window, and three quarters of depth below.
const ANCHOR: usize = WINDOW / 4 * 3;
/// Largest tick the window uses, so `WINDOW * tick` stays below 2^62 and the reciprocal
/// division in `slot` is exact. A coarser inferred grid falls back to one unit.
const MAX_TICK: u64 = 1 << 45;

/// One side of the book.
#[derive(Clone, Debug)]
pub(super) struct Ladder {
    /// XOR mask from price units to keys: 0 for bids, all ones for asks.
    mask: i64,
    /// Key units per slot; 0 when no grid is known (every level is `outside`).
    tick: u64,
    /// `u64::MAX / tick` (0 when `tick` is 0): the reciprocal `slot` divides by.
    magic: u64,
    /// Key of slot 0.
    base: i64,
    /// `WINDOW * tick`: keys in `[base, base + span)` on the grid are slots.
    span: u64,
    /// Quantity per slot, zero when the slot holds no level. Length `WINDOW`.
    qty: Vec<Qty>,
    /// Bit `i` set iff `qty[i]` is non-zero. Length `WORDS`.
    bits: Vec<u64>,
    /// Bit `w` set iff `bits[w]` is non-zero.
    summary: [u64; SUMMARY],
    /// Levels in the window.
    count: usize,
    /// Highest occupied slot; meaningful only when `count > 0`.
    top: usize,
    /// Levels not in the window, keys strictly ascending (best last), no zero quantities.
    outside: Vec<(i64, Qty)>,
    /// Rebuild buffer; empty between calls.
    scratch: Vec<(i64, Qty)>,
}

impl Ladder {
    /// An empty side holding `capacity` levels outside the window before it allocates.
    pub(super) fn new(side: Side, capacity: usize) -> Self {
        Self {
            mask: if side == Side::Buy { 0 } else { -1 },
            tick: 0,
            magic: 0,
            base: 0,
            span: 0,
            qty: vec![Qty::ZERO; WINDOW],
            bits: vec![0; WORDS],
            summary: [0; SUMMARY],
            count: 0,
            top: 0,
            outside: Vec::with_capacity(capacity),
            scratch: Vec::with_capacity(capacity),
        }
    }

    #[inline]
    fn key(&self, price: Price) -> i64 {
        price.units() ^ self.mask
    }

    #[inline]
    fn price(&self, key: i64) -> Price {
        Price::from_units(key ^ self.mask)
    }

    /// The slot of `key`, if it is on the grid inside the window.
    #[inline]
    fn slot(&self, key: i64) -> Option<usize> {
        let off = key.wrapping_sub(self.base) as u64;
        if off >= self.span {
            return None;
        }
        // off / tick by reciprocal: `magic <= 2^64 / tick` and `off < 2^62`, so the estimate
        // is the quotient or one less; the remainder check corrects it.
        let mut q = ((u128::from(off) * u128::from(self.magic)) >> 64) as u64;
        let mut r = off - q * self.tick;
        if r >= self.tick {
            q += 1;
            r -= self.tick;
        }
        (r == 0).then_some(q as usize)
    }

    #[inline]
    fn slot_key(&self, i: usize) -> i64 {
        self.base + (i as u64 * self.tick) as i64
    }

    /// Sets `price` to `qty`; zero removes it.
    #[inline]
    pub(super) fn set(&mut self, price: Price, qty: Qty) {
        let key = self.key(price);
        match self.slot(key) {
            Some(i) => self.set_slot(i, qty),
            None => self.set_outside(key, qty),
        }
    }

    #[inline]
    fn set_slot(&mut self, i: usize, qty: Qty) {
        let old = self.qty[i];
        self.qty[i] = qty;
        match (old.is_zero(), qty.is_zero()) {
            (true, false) => {
                self.mark(i);
                if self.count == 0 || i > self.top {
                    self.top = i;
                }
                self.count += 1;
            }
            (false, true) => {
                self.unmark(i);
                self.count -= 1;
                if i == self.top && self.count > 0 {
                    self.top = self.highest_below(i).unwrap_or(0);
                    debug_assert!(self.count == 0 || !self.qty[self.top].is_zero());
                }
            }
            _ => {}
        }
    }

    fn set_outside(&mut self, key: i64, qty: Qty) {
        if self.upsert_outside(key, qty) {
            // A new best outside the window: move the window to it.
            self.rebuild();
        }
    }

    /// Sets `key` in `outside`; true when it inserted a level better than every other.
    fn upsert_outside(&mut self, key: i64, qty: Qty) -> bool {
        match find(&self.outside, key) {
            Ok(i) if qty.is_zero() => {
                self.outside.remove(i);
            }
            Ok(i) => self.outside[i].1 = qty,
            Err(_) if qty.is_zero() => {}
            Err(i) => {
                self.outside.insert(i, (key, qty));
                return i + 1 == self.outside.len() && (self.count == 0 || key > self.top_key());
            }
        }
        false
    }

    #[inline]
    fn mark(&mut self, i: usize) {
        self.bits[i / 64] |= 1 << (i % 64);
        self.summary[i / 4096] |= 1 << (i / 64 % 64);
    }

    #[inline]
    fn unmark(&mut self, i: usize) {
        let w = i / 64;
        self.bits[w] &= !(1 << (i % 64));
        if self.bits[w] == 0 {
            self.summary[w / 64] &= !(1 << (w % 64));
        }
    }

    /// Highest occupied slot below `i`.
    #[inline]
    fn highest_below(&self, i: usize) -> Option<usize> {
        let w = i / 64;
        let low = self.bits[w] & ((1u64 << (i % 64)) - 1);
        if low != 0 {
            return Some(w * 64 + 63 - low.leading_zeros() as usize);
        }
        let w = self.highest_word_below(w)?;
        Some(w * 64 + 63 - self.bits[w].leading_zeros() as usize)
    }

    /// Highest non-empty bitmap word below `w`.
    fn highest_word_below(&self, w: usize) -> Option<usize> {
        let s = w / 64;
        let low = self.summary[s] & ((1u64 << (w % 64)) - 1);
        if low != 0 {
            return Some(s * 64 + 63 - low.leading_zeros() as usize);
        }
        (0..s)
            .rev()
            .find(|&s| self.summary[s] != 0)
            .map(|s| s * 64 + 63 - self.summary[s].leading_zeros() as usize)
    }

    #[inline]
    fn top_key(&self) -> i64 {
        self.slot_key(self.top)
    }

    /// The best level.
    #[inline]
    pub(super) fn best(&self) -> Option<Level> {
        let dense = (self.count > 0).then(|| (self.top_key(), self.qty[self.top]));
        let (key, qty) = match (dense, self.outside.last().copied()) {
            (Some(d), Some(o)) => {
                if d.0 > o.0 {
                    d
                } else {
                    o
                }
            }
            (d, o) => d.or(o)?,
        };
        Some(Level {
            price: self.price(key),
            qty,
        })
    }

    /// Best `out.len()` levels, best first; returns how many were written.
    #[inline]
    pub(super) fn top(&self, out: &mut [Level]) -> usize {
        // Window slots best first, a bitmap word at a time.
        let mut w = self.top / 64;
        let mut word = if self.count > 0 { self.bits[w] } else { 0 };
        let mut next_slot = || {
            if word == 0 {
                w = self.highest_word_below(w)?;
                word = self.bits[w];
            }
            let b = 63 - word.leading_zeros() as usize;
            word ^= 1 << b;
            Some(w * 64 + b)
        };
        let mut dense = next_slot();
        let mut o = self.outside.len();
        // Key of the best level left in `outside`; meaningful while `o > 0`.
        let mut outside_key = o.checked_sub(1).map_or(0, |j| self.outside[j].0);
        for (n, slot) in out.iter_mut().enumerate() {
            let (key, qty) = match dense {
                Some(i) if o == 0 || self.slot_key(i) > outside_key => {
                    dense = next_slot();
                    (self.slot_key(i), self.qty[i])
                }
                None if o == 0 => return n,
                _ => {
                    o -= 1;
                    let level = self.outside[o];
                    outside_key = o.checked_sub(1).map_or(0, |j| self.outside[j].0);
                    level
                }
            };
            *slot = Level {
                price: self.price(key),
                qty,
            };
        }
        out.len()
    }

    /// Number of levels.
    pub(super) fn len(&self) -> usize {
        self.count + self.outside.len()
    }

    /// Quantity at `price`, zero if absent.
    pub(super) fn qty_at(&self, price: Price) -> Qty {
        let key = self.key(price);
        match self.slot(key) {
            Some(i) => self.qty[i],
            None => find(&self.outside, key)
                .map(|i| self.outside[i].1)
                .unwrap_or(Qty::ZERO),
        }
    }

    /// Removes every level (keeps the allocations and the grid).
    pub(super) fn clear(&mut self) {
        self.clear_window();
        self.outside.clear();
    }

    /// Empties the window in O(levels + WINDOW / 4096).
    fn clear_window(&mut self) {
        for s in 0..SUMMARY {
            let mut sw = self.summary[s];
            while sw != 0 {
                let w = s * 64 + sw.trailing_zeros() as usize;
                sw &= sw - 1;
                let mut bw = self.bits[w];
                while bw != 0 {
                    self.qty[w * 64 + bw.trailing_zeros() as usize] = Qty::ZERO;
                    bw &= bw - 1;
                }
                self.bits[w] = 0;
            }
            self.summary[s] = 0;
        }
        self.count = 0;
        self.top = 0;
    }

    /// Replaces the side with `levels` (any order; on a repeated price the last one wins, and
    /// a zero removes it).
    pub(super) fn load(&mut self, levels: impl IntoIterator<Item = Level>) {
        self.clear();
        self.scratch.clear();
        let (mut up, mut down) = (true, true);
        for l in levels {
            let key = self.key(l.price);
            if let Some(&(prev, _)) = self.scratch.last() {
                up &= key > prev;
                down &= key < prev;
            }
            self.scratch.push((key, l.qty));
        }
        if up || down {
            // Distinct prices (the venue's case): zeros are simply skipped.
            if down {
                self.scratch.reverse();
            }
            self.scratch.retain(|&(_, q)| !q.is_zero());
        } else {
            // Repeats or no order: apply one by one (sorted inserts; exact last-wins).
            self.tick = 0;
            self.span = 0;
            for j in 0..self.scratch.len() {
                let (key, qty) = self.scratch[j];
                let _ = self.upsert_outside(key, qty);
            }
            std::mem::swap(&mut self.scratch, &mut self.outside);
            self.outside.clear();
        }
        self.place();
    }

    /// Rebuilds the window around the current best level.
    fn rebuild(&mut self) {
        self.scratch.clear();
        // Merge the window (ascending by slot) and `outside` (ascending) into `scratch`.
        let mut o = 0;
        for w in 0..WORDS {
            let mut bw = self.bits[w];
            while bw != 0 {
                let i = w * 64 + bw.trailing_zeros() as usize;
                bw &= bw - 1;
                let key = self.slot_key(i);
                while o < self.outside.len() && self.outside[o].0 < key {
                    self.scratch.push(self.outside[o]);
                    o += 1;
                }
                self.scratch.push((key, self.qty[i]));
            }
        }
        self.scratch.extend_from_slice(&self.outside[o..]);
        self.clear();
        self.place();
    }

    /// Chooses the grid from `scratch` (strictly ascending keys, no zeros), anchors the window
    /// at its best key and distributes the levels; leaves `scratch` empty.
    fn place(&mut self) {
        debug_assert!(self.count == 0 && self.outside.is_empty());
        let g = self
            .scratch
            .windows(2)
            .fold(0, |g, w| gcd(g, w[1].0.wrapping_sub(w[0].0) as u64));
        let tick = match g {
            // One level (or none): keep the previous grid, anchored anew.
            0 => self.tick.max(1),
            g if g > MAX_TICK => 1,
            g => g,
        };
        self.tick = 0;
        self.span = 0;
        self.magic = 0;
        if let Some(&(best, _)) = self.scratch.last() {
            let span = WINDOW as u64 * tick;
            let base = best.checked_sub((ANCHOR as u64 * tick) as i64);
            if let Some(base) = base.filter(|b| b.checked_add(span as i64).is_some()) {
                self.tick = tick;
                self.span = span;
                self.magic = u64::MAX / tick;
                self.base = base;
            }
        }
        for j in 0..self.scratch.len() {
            let (key, qty) = self.scratch[j];
            match self.slot(key) {
                Some(i) => self.set_slot(i, qty),
                None => self.outside.push((key, qty)),
            }
        }
        self.scratch.clear();
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Position of `key` in ascending `v` (Ok) or where it would be inserted (Err), searching
/// from the end first: the levels nearest the window are the ones updated most.
#[inline]
fn find(v: &[(i64, Qty)], key: i64) -> Result<usize, usize> {
    let n = v.len();
    // Fast path: scan the top few levels linearly.
    let scan = n.min(8);
    for k in 0..scan {
        let i = n - 1 - k;
        let p = v[i].0;
        if p == key {
            return Ok(i);
        }
        if p < key {
            return Err(i + 1);
        }
    }
    // Gallop down from the top in doubling steps to bracket the position.
    let (mut lo, mut hi) = (0usize, n - scan);
    let mut step = 8;
    while hi > step {
        let probe = hi - step;
        let p = v[probe].0;
        if p == key {
            return Ok(probe);
        }
        if p < key {
            lo = probe + 1;
            break;
        }
        hi = probe;
        step *= 2;
    }
    // Binary search within the bracket, [lo, hi).
    match v[lo..hi].binary_search_by_key(&key, |l| l.0) {
        Ok(i) => Ok(lo + i),
        Err(i) => Err(lo + i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ladder_with_grid(base: i64, tick: u64) -> Ladder {
        let mut l = Ladder::new(Side::Buy, 4);
        l.tick = tick;
        l.magic = u64::MAX / tick;
        l.span = WINDOW as u64 * tick;
        l.base = base;
        l
    }

    proptest! {
        // Under Miri a few cases suffice, and failures must not be persisted to files.
        #![proptest_config(if cfg!(miri) {
            ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() }
        } else {
            ProptestConfig::default()
        })]
        // The reciprocal division agrees with `/` and `%` for any grid and key.
        #[test]
        fn slot_is_exact_division(base in -(1i64 << 60)..(1i64 << 60), tick in 1u64..=MAX_TICK, off in 0u64..(1u64 << 62)) {
            let l = ladder_with_grid(base, tick);
            let off = off % (WINDOW as u64 * tick + 3 * tick);
            let key = base.wrapping_add(off as i64);
            let want = (off < WINDOW as u64 * tick && off.is_multiple_of(tick)).then_some((off / tick) as usize);
            prop_assert_eq!(l.slot(key), want);
        }
    }

    #[test]
    fn slot_at_the_edges() {
        for tick in [1, 3, 1_000_000, MAX_TICK - 1, MAX_TICK] {
            let l = ladder_with_grid(-5, tick);
            assert_eq!(l.slot(-5), Some(0));
            assert_eq!(l.slot(-6), None);
            assert_eq!(
                l.slot(-5 + (tick * (WINDOW as u64 - 1)) as i64),
                Some(WINDOW - 1)
            );
            assert_eq!(l.slot(-5 + (tick * WINDOW as u64) as i64), None);
            if tick > 1 {
                assert_eq!(l.slot(-4 + tick as i64), None, "off the grid");
            }
        }
    }
}
