//! What the gateway still owes each order (a query, a trades fetch, the instants its cancel
//! or amend went out), kept in dense slots laid out like the order table's: an order minted
//! by this run is found from its client id's sequence number, with no hashing (issue 25: no
//! per-order hash-map insert on the order path). An order not minted by this run (recovered,
//! foreign), or one whose slot still holds an older order's entry, goes to a small side map.

use std::collections::HashMap;

use crate::types::{ClientOrderId, RunTag};

use super::table::SLOTS_PER_STRATEGY;

#[derive(Debug)]
pub struct ChaseBook<T> {
    /// The first bytes of this run's ids (`None`: no id can be of this run).
    tag: Option<RunTag>,
    n_strategies: usize,
    /// `SLOTS_PER_STRATEGY` per strategy, in strategy order (as `OrderTable`'s).
    slots: Vec<Option<(ClientOrderId, T)>>,
    spill: HashMap<ClientOrderId, T>,
}

/// A place in the book for one client id (`ChaseBook::entry`).
pub struct Entry<'a, T> {
    book: &'a mut ChaseBook<T>,
    cid: ClientOrderId,
}

impl<'a, T: Default> Entry<'a, T> {
    /// The entry of the order, made empty (`T::default()`) if it had none.
    pub fn or_default(self) -> &'a mut T {
        let Entry { book, cid } = self;
        if book.get(&cid).is_none() {
            book.insert(cid, T::default());
        }
        match book.get_mut(&cid) {
            Some(v) => v,
            None => unreachable!("inserted above"),
        }
    }
}

impl<T> ChaseBook<T> {
    pub fn new(run_start_ms: u64, n_strategies: usize) -> Self {
        let mut slots = Vec::with_capacity(n_strategies * SLOTS_PER_STRATEGY);
        slots.resize_with(n_strategies * SLOTS_PER_STRATEGY, || None);
        Self {
            tag: RunTag::new(run_start_ms),
            n_strategies,
            slots,
            spill: HashMap::new(),
        }
    }

    fn slot_of(&self, cid: &ClientOrderId) -> Option<usize> {
        let (strategy, seq) = cid.decode_in_run(self.tag.as_ref()?)?;
        if strategy.index() >= self.n_strategies {
            return None;
        }
        Some(strategy.index() * SLOTS_PER_STRATEGY + (seq as usize & (SLOTS_PER_STRATEGY - 1)))
    }

    pub fn get(&self, cid: &ClientOrderId) -> Option<&T> {
        if let Some(i) = self.slot_of(cid)
            && let Some((have, v)) = &self.slots[i]
            && have == cid
        {
            return Some(v);
        }
        if self.spill.is_empty() {
            return None;
        }
        self.spill.get(cid)
    }

    pub fn get_mut(&mut self, cid: &ClientOrderId) -> Option<&mut T> {
        if let Some(i) = self.slot_of(cid)
            && matches!(&self.slots[i], Some((have, _)) if have == cid)
        {
            return self.slots[i].as_mut().map(|(_, v)| v);
        }
        self.spill.get_mut(cid)
    }

    /// Sets the order's entry (replacing the one it had).
    pub fn insert(&mut self, cid: ClientOrderId, v: T) {
        match self.slot_of(&cid) {
            Some(i) => match &mut self.slots[i] {
                Some((have, old)) if *have == cid => *old = v,
                _ if self.spill.contains_key(&cid) => {
                    self.spill.insert(cid, v);
                }
                slot @ None => *slot = Some((cid, v)),
                // The slot still holds an order from `SLOTS_PER_STRATEGY` sequences ago.
                Some(_) => {
                    self.spill.insert(cid, v);
                }
            },
            None => {
                self.spill.insert(cid, v);
            }
        }
    }

    pub fn entry(&mut self, cid: ClientOrderId) -> Entry<'_, T> {
        Entry { book: self, cid }
    }

    pub fn remove(&mut self, cid: &ClientOrderId) -> Option<T> {
        if let Some(i) = self.slot_of(cid)
            && matches!(&self.slots[i], Some((have, _)) if have == cid)
        {
            return self.slots[i].take().map(|(_, v)| v);
        }
        if self.spill.is_empty() {
            return None;
        }
        self.spill.remove(cid)
    }

    /// Every entry: the slots' in slot order, then the side map's.
    pub fn iter(&self) -> impl Iterator<Item = (&ClientOrderId, &T)> {
        self.slots
            .iter()
            .flatten()
            .map(|(c, v)| (c, v))
            .chain(self.spill.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StrategyId;

    const RUN: u64 = 1_765_000_000_000;

    fn cid(strategy: u16, seq: u64) -> ClientOrderId {
        ClientOrderId::mint(RUN, StrategyId(strategy), seq).unwrap()
    }

    #[test]
    fn minted_orders_live_in_slots_others_in_the_side_map() {
        let mut b: ChaseBook<u32> = ChaseBook::new(RUN, 2);
        b.insert(cid(0, 1), 10);
        b.insert(cid(1, 1), 11);
        let foreign = ClientOrderId::parse("web-order-7").unwrap();
        b.insert(foreign, 99);
        let other_run = ClientOrderId::mint(RUN - 1, StrategyId(0), 1).unwrap();
        b.insert(other_run, 5);
        assert_eq!(b.spill.len(), 2);
        assert_eq!(b.get(&cid(0, 1)), Some(&10));
        assert_eq!(b.get(&cid(1, 1)), Some(&11));
        assert_eq!(b.get(&foreign), Some(&99));
        assert_eq!(b.get(&other_run), Some(&5));
        assert_eq!(b.get(&cid(0, 2)), None);
        *b.entry(cid(0, 2)).or_default() += 3;
        *b.entry(cid(0, 2)).or_default() += 4;
        assert_eq!(b.get(&cid(0, 2)), Some(&7));
        assert_eq!(b.remove(&cid(0, 1)), Some(10));
        assert_eq!(b.remove(&cid(0, 1)), None);
        assert_eq!(b.remove(&foreign), Some(99));
        let mut all: Vec<u32> = b.iter().map(|(_, v)| *v).collect();
        all.sort_unstable();
        assert_eq!(all, vec![5, 7, 11]);
    }

    #[test]
    fn a_slot_still_held_by_an_older_order_sends_the_newer_one_aside() {
        let mut b: ChaseBook<u32> = ChaseBook::new(RUN, 1);
        let old = cid(0, 3);
        let new = cid(0, 3 + SLOTS_PER_STRATEGY as u64);
        b.insert(old, 1);
        b.insert(new, 2);
        assert_eq!((b.get(&old), b.get(&new)), (Some(&1), Some(&2)));
        // The old one ends; the newer one is still found (in the side map), and an update
        // to it stays there rather than making a second entry in the freed slot.
        assert_eq!(b.remove(&old), Some(1));
        b.insert(new, 3);
        *b.get_mut(&new).unwrap() += 1;
        assert_eq!(b.get(&new), Some(&4));
        assert_eq!(b.iter().count(), 1);
        assert_eq!(b.remove(&new), Some(4));
        assert_eq!(b.iter().count(), 0);
    }
}
