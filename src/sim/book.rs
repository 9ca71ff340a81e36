//! The simulated order book of one symbol: external ("market") liquidity plus the quantity of
//! resting simulator orders, the book update id, and the diff accumulators the depth streams
//! are cut from. The published book (REST depth, diffs, bookTicker) is the sum of both.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{Price, Qty, Side};

/// One depth diff event's content: `U`, `u` and the changed levels (absolute quantities).
#[derive(Debug, Clone, PartialEq)]
pub struct DepthDiff {
    pub first_id: u64,
    pub last_id: u64,
    pub bids: Vec<(Price, Qty)>,
    pub asks: Vec<(Price, Qty)>,
}

/// Prices changed since the last flush of one diff stream speed.
#[derive(Debug, Default)]
struct DiffAcc {
    first_id: Option<u64>,
    changed: [BTreeSet<Price>; 2],
}

/// Best bid and ask with their quantities, as bookTicker shows them.
pub type Top = (Option<(Price, Qty)>, Option<(Price, Qty)>);

#[derive(Debug, Default)]
pub struct SimBook {
    /// External liquidity, index 0 = bids, 1 = asks.
    market: [BTreeMap<Price, Qty>; 2],
    /// Sum of the resting simulator orders' leaves quantity per price.
    own: [BTreeMap<Price, Qty>; 2],
    /// Whether resting simulator orders are part of the published book (not in replay,
    /// whose recorded frames are served unchanged).
    include_own: bool,
    update_id: u64,
    /// Index 0 = the 100 ms stream, 1 = the 1000 ms stream.
    acc: [DiffAcc; 2],
}

fn idx(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

impl SimBook {
    pub fn new(include_own: bool, first_update_id: u64) -> Self {
        SimBook {
            include_own,
            update_id: first_update_id,
            ..Default::default()
        }
    }

    pub fn update_id(&self) -> u64 {
        self.update_id
    }

    /// The published quantity at a price.
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        let m = self.market_qty(side, price);
        if !self.include_own {
            return m;
        }
        let o = self.own[idx(side)]
            .get(&price)
            .copied()
            .unwrap_or(Qty::ZERO);
        Qty::from_units(m.units() + o.units())
    }

    pub fn market_qty(&self, side: Side, price: Price) -> Qty {
        self.market[idx(side)]
            .get(&price)
            .copied()
            .unwrap_or(Qty::ZERO)
    }

    /// Sets external liquidity at a price (zero removes it) and records the change under a
    /// new update id.
    pub fn set_market(&mut self, side: Side, price: Price, qty: Qty) {
        let m = &mut self.market[idx(side)];
        let old = m.get(&price).copied().unwrap_or(Qty::ZERO);
        if old == qty {
            return;
        }
        if qty.is_zero() {
            m.remove(&price);
        } else {
            m.insert(price, qty);
        }
        self.touch(side, price);
    }

    /// Adds (or with a negative amount, removes) resting simulator quantity at a price.
    pub fn add_own(&mut self, side: Side, price: Price, delta: i64) {
        if delta == 0 {
            return;
        }
        let o = &mut self.own[idx(side)];
        let new = o.get(&price).map_or(0, |q| q.units()) + delta;
        debug_assert!(
            new >= 0,
            "Invariant: own quantity at a level never goes negative"
        );
        if new <= 0 {
            o.remove(&price);
        } else {
            o.insert(price, Qty::from_units(new));
        }
        if self.include_own {
            self.touch(side, price);
        }
    }

    /// Replaces the external liquidity with a snapshot and sets the update id (replay start).
    pub fn load_snapshot(&mut self, update_id: u64, bids: &[(Price, Qty)], asks: &[(Price, Qty)]) {
        self.market = Default::default();
        for &(p, q) in bids.iter().filter(|l| l.1.is_positive()) {
            self.market[0].insert(p, q);
        }
        for &(p, q) in asks.iter().filter(|l| l.1.is_positive()) {
            self.market[1].insert(p, q);
        }
        self.update_id = update_id;
        self.acc = Default::default();
    }

    /// Applies a recorded diff event as it is (replay): the book's id becomes its `u`.
    pub fn apply_recorded(
        &mut self,
        first_id: u64,
        last_id: u64,
        bids: &[(Price, Qty)],
        asks: &[(Price, Qty)],
    ) {
        for (side, levels) in [(Side::Buy, bids), (Side::Sell, asks)] {
            let m = &mut self.market[idx(side)];
            for &(p, q) in levels {
                if q.is_zero() {
                    m.remove(&p);
                } else {
                    m.insert(p, q);
                }
            }
        }
        let _ = first_id;
        self.update_id = self.update_id.max(last_id);
    }

    fn touch(&mut self, side: Side, price: Price) {
        self.update_id += 1;
        for acc in &mut self.acc {
            acc.first_id.get_or_insert(self.update_id);
            acc.changed[idx(side)].insert(price);
        }
    }

    /// Cuts the diff event of one stream speed (0 = 100 ms, 1 = 1000 ms); `None` when nothing
    /// changed since the last cut.
    pub fn take_diff(&mut self, speed: usize) -> Option<DepthDiff> {
        let acc = std::mem::take(&mut self.acc[speed]);
        let first_id = acc.first_id?;
        let [bids, asks] = acc.changed;
        let levels = |side: Side, set: BTreeSet<Price>| -> Vec<(Price, Qty)> {
            let mut v: Vec<_> = set.into_iter().map(|p| (p, self.qty_at(side, p))).collect();
            if side == Side::Buy {
                v.reverse();
            }
            v
        };
        Some(DepthDiff {
            first_id,
            last_id: self.update_id,
            bids: levels(Side::Buy, bids),
            asks: levels(Side::Sell, asks),
        })
    }

    /// The published best `limit` levels of one side, best first.
    pub fn top(&self, side: Side, limit: usize) -> Vec<(Price, Qty)> {
        let mut prices: Vec<Price> = Vec::with_capacity(limit);
        let m = &self.market[idx(side)];
        let o = &self.own[idx(side)];
        // Merge the two ladders from the best end, keeping distinct prices.
        let mut mi: Box<dyn Iterator<Item = &Price>> = if side == Side::Buy {
            Box::new(m.keys().rev())
        } else {
            Box::new(m.keys())
        };
        let mut oi: Box<dyn Iterator<Item = &Price>> = match (self.include_own, side) {
            (false, _) => Box::new(std::iter::empty()),
            (true, Side::Buy) => Box::new(o.keys().rev()),
            (true, Side::Sell) => Box::new(o.keys()),
        };
        let better = |a: Price, b: Price| if side == Side::Buy { a > b } else { a < b };
        let (mut mn, mut on) = (mi.next().copied(), oi.next().copied());
        while prices.len() < limit {
            let next = match (mn, on) {
                (None, None) => break,
                (Some(a), None) => {
                    mn = mi.next().copied();
                    a
                }
                (None, Some(b)) => {
                    on = oi.next().copied();
                    b
                }
                (Some(a), Some(b)) if a == b => {
                    mn = mi.next().copied();
                    on = oi.next().copied();
                    a
                }
                (Some(a), Some(b)) if better(a, b) => {
                    mn = mi.next().copied();
                    a
                }
                (Some(_), Some(b)) => {
                    on = oi.next().copied();
                    b
                }
            };
            prices.push(next);
        }
        prices
            .into_iter()
            .map(|p| (p, self.qty_at(side, p)))
            .collect()
    }

    pub fn best(&self, side: Side) -> Option<(Price, Qty)> {
        self.top(side, 1).first().copied()
    }

    pub fn top_of_book(&self) -> Top {
        (self.best(Side::Buy), self.best(Side::Sell))
    }

    /// External levels of one side, best first (for the random walk).
    pub fn market_levels(&self, side: Side) -> Vec<(Price, Qty)> {
        let m = &self.market[idx(side)];
        if side == Side::Buy {
            m.iter().rev().map(|(p, q)| (*p, *q)).collect()
        } else {
            m.iter().map(|(p, q)| (*p, *q)).collect()
        }
    }

    /// Best external price of one side.
    pub fn market_levels_best(&self, side: Side) -> Option<Price> {
        let m = &self.market[idx(side)];
        if side == Side::Buy {
            m.keys().next_back().copied()
        } else {
            m.keys().next().copied()
        }
    }

    pub fn market_depth(&self, side: Side) -> usize {
        self.market[idx(side)].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    #[test]
    fn diffs_carry_contiguous_ids_and_final_quantities() {
        let mut b = SimBook::new(true, 100);
        b.set_market(Side::Buy, p("10"), q("1"));
        b.set_market(Side::Buy, p("10"), q("2"));
        b.set_market(Side::Sell, p("11"), q("3"));
        let d = b.take_diff(0).unwrap();
        assert_eq!((d.first_id, d.last_id), (101, 103));
        assert_eq!(d.bids, vec![(p("10"), q("2"))]);
        assert_eq!(d.asks, vec![(p("11"), q("3"))]);
        assert!(b.take_diff(0).is_none());
        b.add_own(Side::Buy, p("10"), q("0.5").units());
        let d = b.take_diff(0).unwrap();
        assert_eq!((d.first_id, d.last_id), (104, 104));
        assert_eq!(d.bids, vec![(p("10"), q("2.5"))]);
        // The slow stream saw every change in one event.
        let d = b.take_diff(1).unwrap();
        assert_eq!((d.first_id, d.last_id), (101, 104));
    }

    #[test]
    fn top_merges_own_and_market_levels() {
        let mut b = SimBook::new(true, 0);
        b.set_market(Side::Buy, p("10"), q("1"));
        b.set_market(Side::Buy, p("8"), q("1"));
        b.add_own(Side::Buy, p("9"), q("2").units());
        b.add_own(Side::Buy, p("10"), q("2").units());
        assert_eq!(
            b.top(Side::Buy, 5),
            vec![(p("10"), q("3")), (p("9"), q("2")), (p("8"), q("1"))]
        );
        let hidden = {
            let mut b = SimBook::new(false, 0);
            b.add_own(Side::Buy, p("9"), q("2").units());
            b.top(Side::Buy, 5)
        };
        assert!(hidden.is_empty());
    }
}
