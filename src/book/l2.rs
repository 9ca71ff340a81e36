//! The L2 order book of one instrument, owned and written by one feed.
//!
//! Each side is a `Ladder` (see `ladder.rs`): a dense tick-indexed window around the best
//! price, where an insert or delete is one slot write, and a sorted overflow for the levels
//! outside it. The grid is inferred from the levels, so any price is held exactly.

use super::ladder::Ladder;
use crate::types::{Price, Qty, Side};

/// One price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Level {
    pub price: Price,
    pub qty: Qty,
}

/// An L2 book: both ladders and the venue update id they reflect.
#[derive(Clone, Debug)]
pub struct L2Book {
    bids: Ladder,
    asks: Ladder,
    update_id: u64,
}

impl L2Book {
    /// An empty book with room for `capacity` levels per side outside the dense window
    /// before it allocates (about 2 MiB, plus 64 bytes per level of capacity).
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
        self.bids.load(bids);
        self.asks.load(asks);
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
            Side::Buy => self.bids.len(),
            Side::Sell => self.asks.len(),
        }
    }

    /// Quantity at `price` on `side`, zero if absent.
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        match side {
            Side::Buy => self.bids.qty_at(price),
            Side::Sell => self.asks.qty_at(price),
        }
    }

    /// Empties both sides (keeps the allocations) and resets the update id.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
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

    /// Deep ladders exercise every stage of `find`: the top scan, each galloping step and the
    /// final binary search. Prices are even units so odd ones are gaps to insert into.
    #[test]
    fn finds_levels_at_every_depth_of_a_deep_ladder() {
        const N: i64 = if cfg!(miri) { 40 } else { 3_000 };
        let bids: Vec<Level> = (0..N)
            .map(|k| Level {
                price: px(10_000 - 2 * k),
                qty: q(k + 1),
            })
            .collect();
        let asks: Vec<Level> = (0..N)
            .map(|k| Level {
                price: px(10_001 + 2 * k),
                qty: q(k + 1),
            })
            .collect();
        let mut b = L2Book::with_capacity(N as usize + 1);
        b.apply_snapshot(1, bids.iter().copied(), asks.iter().copied());
        // Depth below the touch; depths past the end are clamped to the last level.
        let depths = [
            0i64, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 100, 1_000, 2_998, 2_999,
        ];
        for side in [Side::Buy, Side::Sell] {
            let ladder = if side == Side::Buy { &bids } else { &asks };
            // Every existing price is found, every gap reads as empty.
            for (k, l) in ladder.iter().enumerate() {
                assert_eq!(b.qty_at(side, l.price), l.qty, "{side:?} depth {k}");
                let gap = Price::from_units(l.price.units() + Price::from_int(1).units());
                assert_eq!(b.qty_at(side, gap), Qty::ZERO, "{side:?} gap by depth {k}");
            }
            for &d in &depths {
                let d = d.min(N - 1) as usize;
                let l = ladder[d];
                let deeper = if side == Side::Buy { -1 } else { 1 };
                let gap = Price::from_units(l.price.units() + deeper * Price::from_int(1).units());
                // (price, qty, expected level count after)
                let steps = [
                    (l.price, q(777), N),
                    (gap, q(5), N + 1),
                    (l.price, Qty::ZERO, N),
                    (gap, Qty::ZERO, N - 1),
                ];
                for (price, qty, count) in steps {
                    b.apply_level(side, price, qty);
                    assert_eq!(b.qty_at(side, price), qty, "{side:?} depth {d}");
                    assert_eq!(b.depth(side) as i64, count, "{side:?} depth {d}");
                }
                b.apply_level(side, l.price, l.qty);
                let mut top = [Level::default(); 1];
                b.top_n(side, &mut top);
                assert_eq!(top[0], ladder[0], "{side:?}: the best level is unchanged");
            }
            assert_eq!(b.depth(side) as i64, N);
        }
    }

    /// Under Miri (which interprets every step) a few cases suffice, and proptest must not
    /// touch the file system to persist failures.
    fn proptest_config() -> ProptestConfig {
        if cfg!(miri) {
            ProptestConfig {
                cases: 4,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        } else {
            ProptestConfig::default()
        }
    }

    /// Both sides of `b` agree level by level with the model maps (bids and asks by price
    /// units): best, full depth in order, level counts and point reads.
    fn assert_matches(b: &L2Book, bids: &BTreeMap<i64, i64>, asks: &BTreeMap<i64, i64>) {
        let mut out = vec![Level::default(); bids.len().max(asks.len()) + 1];
        for (side, m) in [(Side::Buy, bids), (Side::Sell, asks)] {
            let want: Vec<Level> = if side == Side::Buy {
                m.iter()
                    .rev()
                    .map(|(p, q_)| Level {
                        price: px(*p),
                        qty: q(*q_),
                    })
                    .collect()
            } else {
                m.iter()
                    .map(|(p, q_)| Level {
                        price: px(*p),
                        qty: q(*q_),
                    })
                    .collect()
            };
            let n = b.top_n(side, &mut out);
            assert_eq!(&out[..n], &want[..], "{side:?} levels");
            assert_eq!(b.depth(side), m.len(), "{side:?} depth");
            let best = if side == Side::Buy {
                b.best_bid()
            } else {
                b.best_ask()
            };
            assert_eq!(best, want.first().copied(), "{side:?} best");
            for (p, q_) in m {
                assert_eq!(b.qty_at(side, px(*p)), q(*q_), "{side:?} qty at {p}");
            }
        }
    }

    fn apply(m: &mut BTreeMap<i64, i64>, p: i64, qty: i64) {
        if qty == 0 {
            m.remove(&p);
        } else {
            m.insert(p, qty);
        }
    }

    /// The window follows the market: bids walk up and asks walk down far past the window
    /// (a rebuild each quarter window), then the whole book collapses to a few far levels.
    #[test]
    fn follows_the_market_past_the_window() {
        const TICK: i64 = 1_000_000;
        const STEPS: i64 = if cfg!(miri) { 4 } else { 400 };
        let mut b = L2Book::with_capacity(1024);
        let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
        let mid = 6_000_000 * TICK;
        let snap_b: Vec<Level> = (1..=50)
            .map(|k| Level {
                price: px(mid - k * TICK),
                qty: q(k),
            })
            .collect();
        let snap_a: Vec<Level> = (1..=50)
            .map(|k| Level {
                price: px(mid + k * TICK),
                qty: q(k),
            })
            .collect();
        b.apply_snapshot(3, snap_b.iter().copied(), snap_a.iter().copied());
        snap_b
            .iter()
            .for_each(|l| apply(&mut bids, l.price.units(), l.qty.units()));
        snap_a
            .iter()
            .for_each(|l| apply(&mut asks, l.price.units(), l.qty.units()));
        assert_matches(&b, &bids, &asks);
        // 400 steps of 1,000 ticks: three windows' worth, each step a new best on both sides.
        for k in 1..=STEPS {
            let bid = mid + k * 1_000 * TICK;
            let ask = mid - k * 1_000 * TICK;
            b.apply_level(Side::Buy, px(bid), q(k));
            apply(&mut bids, bid, k);
            b.apply_level(Side::Sell, px(ask), q(k));
            apply(&mut asks, ask, k);
            // And an off-grid level near each top.
            b.apply_level(Side::Buy, px(bid - TICK / 2), q(7));
            apply(&mut bids, bid - TICK / 2, 7);
            b.apply_level(Side::Sell, px(ask + TICK / 3), q(7));
            apply(&mut asks, ask + TICK / 3, 7);
            if k % 50 == 0 {
                assert_matches(&b, &bids, &asks);
            }
        }
        assert_matches(&b, &bids, &asks);
        // Delete everything but the snapshot's deepest level on each side.
        for (side, m) in [(Side::Buy, &mut bids), (Side::Sell, &mut asks)] {
            let keep = if side == Side::Buy {
                mid - 50 * TICK
            } else {
                mid + 50 * TICK
            };
            let prices: Vec<i64> = m.keys().copied().filter(|&p| p != keep).collect();
            for p in prices {
                b.apply_level(side, px(p), Qty::ZERO);
                m.remove(&p);
            }
        }
        assert_matches(&b, &bids, &asks);
        // New levels around the survivors land in a fresh window.
        for k in 1..=20 {
            b.apply_level(Side::Buy, px(mid - 50 * TICK + k * TICK), q(k));
            apply(&mut bids, mid - 50 * TICK + k * TICK, k);
            b.apply_level(Side::Sell, px(mid + 50 * TICK - k * 3), q(k));
            apply(&mut asks, mid + 50 * TICK - k * 3, k);
        }
        assert_matches(&b, &bids, &asks);
        b.clear();
        assert_matches(&b, &BTreeMap::new(), &BTreeMap::new());
        assert_eq!(b.update_id(), 0);
    }

    /// A snapshot in no order, with repeated prices: the last one wins and a zero removes.
    #[test]
    fn unordered_snapshot_with_repeats_keeps_the_last() {
        let l = |p: i64, qty: i64| Level {
            price: px(p),
            qty: q(qty),
        };
        let mut b = L2Book::with_capacity(8);
        b.apply_level(Side::Buy, px(5), q(5));
        b.apply_snapshot(
            9,
            [l(10, 1), l(30, 3), l(20, 2), l(10, 4), l(30, 0), l(40, 0)],
            [l(50, 1), l(50, 2)],
        );
        let bids = BTreeMap::from([(10, 4), (20, 2)]);
        let asks = BTreeMap::from([(50, 2)]);
        assert_matches(&b, &bids, &asks);
        assert_eq!(b.update_id(), 9);
        // A sorted snapshot replaces it entirely; its zeros are skipped.
        b.apply_snapshot(10, [l(12, 1), l(11, 0), l(10, 2)], [l(13, 3), l(15, 0)]);
        assert_matches(
            &b,
            &BTreeMap::from([(12, 1), (10, 2)]),
            &BTreeMap::from([(13, 3)]),
        );
    }

    proptest! {
        #![proptest_config(proptest_config())]
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

        // After a snapshot on a grid, updates on the grid, off it, inside the window and far
        // outside it (either way) all agree with the model.
        #[test]
        fn matches_a_map_model_after_a_snapshot(
            tick in prop_oneof![Just(1i64), Just(3), Just(1_000_000)],
            snap in proptest::collection::vec((1i64..200, 0i64..3), 0..60),
            ops in proptest::collection::vec((any::<bool>(), 0u8..4, -300i64..300, 0i64..4), 0..300),
        ) {
            let mid = 50_000 * 1_000_000;
            let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
            let mut snap_b = Vec::new();
            let mut snap_a = Vec::new();
            let mut sb: Vec<i64> = snap.iter().map(|&(k, _)| k).collect();
            sb.sort_unstable();
            sb.dedup();
            for (j, &k) in sb.iter().enumerate() {
                let qty = snap[j % snap.len()].1;
                snap_b.push(Level { price: px(mid - k * tick), qty: q(qty) });
                snap_a.push(Level { price: px(mid + k * tick), qty: q(qty + 1) });
                apply(&mut bids, mid - k * tick, qty);
                apply(&mut asks, mid + k * tick, qty + 1);
            }
            let mut b = L2Book::with_capacity(16);
            b.apply_snapshot(1, snap_b, snap_a);
            for (is_bid, kind, k, qty) in ops {
                // On the grid near the top, off the grid, or a window or more away.
                let off = match kind {
                    0 | 1 => k * tick,
                    2 => k * tick + 1,
                    _ => k * tick * 70_000,
                };
                let (side, m, p) = if is_bid {
                    (Side::Buy, &mut bids, mid - off)
                } else {
                    (Side::Sell, &mut asks, mid + off)
                };
                b.apply_level(side, px(p), q(qty));
                apply(m, p, qty);
            }
            assert_matches(&b, &bids, &asks);
        }
    }
}
