//! The L2 order book of one instrument, owned and written by one feed.
//!
//! Each side is a `Vec` of levels sorted so that the best price is at the **end**: bids
//! ascending, asks descending. Almost every update touches the top of the book, so inserts
//! and deletes there move only a few elements, and reading the top is one index.

use crate::types::{Price, Qty, Side};

/// One price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Level {
    pub price: Price,
    pub qty: Qty,
}

/// One side of the book, best price last.
#[derive(Clone, Debug)]
struct Ladder {
    /// Sorted strictly: ascending prices for bids, descending for asks. No zero quantities.
    levels: Vec<Level>,
    side: Side,
}

impl Ladder {
    fn new(side: Side, capacity: usize) -> Self {
        Self {
            levels: Vec::with_capacity(capacity),
            side,
        }
    }

    /// Position of `price` (Ok) or where it would be inserted (Err), searching from the top
    /// (the end) first because that is where nearly every update lands.
    #[inline]
    fn find(&self, price: Price) -> Result<usize, usize> {
        let v = &self.levels;
        let bid = self.side == Side::Buy;
        // `before(a, b)`: level price `a` sorts before `b` in this ladder's order.
        let before = |a: Price, b: Price| if bid { a < b } else { a > b };
        let n = v.len();
        // Fast path: scan the top few levels linearly.
        let scan = n.min(8);
        for k in 0..scan {
            let i = n - 1 - k;
            let p = v[i].price;
            if p == price {
                return Ok(i);
            }
            if before(p, price) {
                return Err(i + 1);
            }
        }
        let hi = n - scan;
        // Binary search over the rest, [0, hi).
        let (mut lo, mut hi) = (0usize, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let p = v[mid].price;
            if p == price {
                return Ok(mid);
            }
            if before(p, price) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Err(lo)
    }

    #[inline]
    fn set(&mut self, price: Price, qty: Qty) {
        match self.find(price) {
            Ok(i) if qty.is_zero() => {
                self.levels.remove(i);
            }
            Ok(i) => self.levels[i].qty = qty,
            Err(_) if qty.is_zero() => {}
            Err(i) => self.levels.insert(i, Level { price, qty }),
        }
    }

    #[inline]
    fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    /// Best `out.len()` levels, best first.
    #[inline]
    fn top(&self, out: &mut [Level]) -> usize {
        let n = out.len().min(self.levels.len());
        for (k, slot) in out.iter_mut().take(n).enumerate() {
            *slot = self.levels[self.levels.len() - 1 - k];
        }
        n
    }
}

/// An L2 book: both ladders and the venue update id they reflect.
#[derive(Clone, Debug)]
pub struct L2Book {
    bids: Ladder,
    asks: Ladder,
    update_id: u64,
}

impl L2Book {
    /// An empty book with room for `capacity` levels per side before it allocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            bids: Ladder::new(Side::Buy, capacity),
            asks: Ladder::new(Side::Sell, capacity),
            update_id: 0,
        }
    }

    /// Replaces the whole book with a snapshot (levels in any order; zero quantities skipped).
    pub fn apply_snapshot(
        &mut self,
        update_id: u64,
        bids: impl IntoIterator<Item = Level>,
        asks: impl IntoIterator<Item = Level>,
    ) {
        self.clear();
        for l in bids {
            self.bids.set(l.price, l.qty);
        }
        for l in asks {
            self.asks.set(l.price, l.qty);
        }
        self.update_id = update_id;
    }

    /// Sets one level to an absolute quantity; zero removes it.
    #[inline]
    pub fn apply_level(&mut self, side: Side, price: Price, qty: Qty) {
        match side {
            Side::Buy => self.bids.set(price, qty),
            Side::Sell => self.asks.set(price, qty),
        }
    }

    #[inline]
    pub fn set_update_id(&mut self, id: u64) {
        self.update_id = id;
    }

    /// The venue's update id this book reflects (Binance `lastUpdateId` / `u`).
    #[inline]
    pub fn update_id(&self) -> u64 {
        self.update_id
    }

    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// Writes the best `out.len()` levels of `side`, best first; returns how many exist.
    #[inline]
    pub fn top_n(&self, side: Side, out: &mut [Level]) -> usize {
        match side {
            Side::Buy => self.bids.top(out),
            Side::Sell => self.asks.top(out),
        }
    }

    /// Best bid at or above best ask: the book cannot be right.
    #[inline]
    pub fn is_crossed(&self) -> bool {
        match (self.best_bid(), self.best_ask()) {
            (Some(b), Some(a)) => b.price >= a.price,
            _ => false,
        }
    }

    /// Number of levels on `side`.
    pub fn depth(&self, side: Side) -> usize {
        match side {
            Side::Buy => self.bids.levels.len(),
            Side::Sell => self.asks.levels.len(),
        }
    }

    /// Quantity at `price` on `side`, zero if absent.
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        let ladder = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        ladder
            .find(price)
            .map(|i| ladder.levels[i].qty)
            .unwrap_or(Qty::ZERO)
    }

    /// Empties both sides (keeps the allocations) and resets the update id.
    pub fn clear(&mut self) {
        self.bids.levels.clear();
        self.asks.levels.clear();
        self.update_id = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn px(u: i64) -> Price {
        Price::from_units(u)
    }
    fn q(u: i64) -> Qty {
        Qty::from_units(u)
    }

    #[test]
    fn snapshot_then_updates() {
        let mut b = L2Book::with_capacity(16);
        b.apply_snapshot(
            10,
            [
                Level {
                    price: px(99),
                    qty: q(1),
                },
                Level {
                    price: px(100),
                    qty: q(2),
                },
            ],
            [
                Level {
                    price: px(102),
                    qty: q(3),
                },
                Level {
                    price: px(101),
                    qty: q(4),
                },
            ],
        );
        assert_eq!(
            b.best_bid(),
            Some(Level {
                price: px(100),
                qty: q(2)
            })
        );
        assert_eq!(
            b.best_ask(),
            Some(Level {
                price: px(101),
                qty: q(4)
            })
        );
        b.apply_level(Side::Buy, px(100), Qty::ZERO);
        b.apply_level(Side::Sell, px(100), q(5));
        assert_eq!(b.best_bid().unwrap().price, px(99));
        assert_eq!(b.best_ask().unwrap().price, px(100));
        assert!(!b.is_crossed());
        b.apply_level(Side::Buy, px(100), q(1));
        assert!(b.is_crossed());
        let mut out = [Level::default(); 4];
        assert_eq!(b.top_n(Side::Sell, &mut out), 3);
        assert_eq!(
            out[..3].iter().map(|l| l.price).collect::<Vec<_>>(),
            vec![px(100), px(101), px(102)]
        );
        assert_eq!(b.update_id(), 10);
        assert_eq!(b.qty_at(Side::Sell, px(102)), q(3));
        assert_eq!(b.qty_at(Side::Sell, px(103)), Qty::ZERO);
    }

    proptest! {
        // The ladder agrees with a BTreeMap model after any sequence of level updates.
        #[test]
        fn matches_a_map_model(ops in proptest::collection::vec((any::<bool>(), 1i64..60, 0i64..4), 0..400)) {
            let mut b = L2Book::with_capacity(4);
            let mut bids = BTreeMap::new();
            let mut asks = BTreeMap::new();
            for (is_bid, p, qty) in ops {
                let (side, m) = if is_bid { (Side::Buy, &mut bids) } else { (Side::Sell, &mut asks) };
                b.apply_level(side, px(p), q(qty));
                if qty == 0 { m.remove(&p); } else { m.insert(p, qty); }
            }
            let mut out = vec![Level::default(); 64];
            let n = b.top_n(Side::Buy, &mut out);
            let want: Vec<_> = bids.iter().rev().map(|(p, q_)| Level { price: px(*p), qty: q(*q_) }).collect();
            prop_assert_eq!(&out[..n], &want[..]);
            let n = b.top_n(Side::Sell, &mut out);
            let want: Vec<_> = asks.iter().map(|(p, q_)| Level { price: px(*p), qty: q(*q_) }).collect();
            prop_assert_eq!(&out[..n], &want[..]);
        }
    }
}
