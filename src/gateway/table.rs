//! The gateway's orders, in slots allocated at start. An order minted by this run is found
//! by its sequence number (no hashing); orders from earlier runs or other clients (found by
//! reconciliation) live in a small side map.

use std::collections::HashMap;

use crate::types::{ClientOrderId, RunTag, StrategyId};

use crate::types::order::Order;

/// Slots per strategy: a power of two, so a sequence maps to a slot with a mask.
pub const SLOTS_PER_STRATEGY: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("every order slot of the strategy holds a live order")]
    Full,
    #[error("an order with this client id exists")]
    Duplicate,
    #[error("client id was not minted by this run")]
    Foreign,
}

#[derive(Debug)]
pub struct OrderTable {
    run_start_ms: u64,
    /// The first bytes of this run's ids (`None`: no id can be of this run).
    tag: Option<RunTag>,
    /// `SLOTS_PER_STRATEGY` per strategy, in strategy order.
    slots: Vec<Option<Order>>,
    n_strategies: usize,
    /// Orders not minted by this run (earlier runs, manual orders), learned by reconciliation.
    foreign: HashMap<ClientOrderId, Order>,
}

impl OrderTable {
    pub fn new(run_start_ms: u64, n_strategies: usize) -> Self {
        let mut slots = Vec::with_capacity(n_strategies * SLOTS_PER_STRATEGY);
        slots.resize_with(n_strategies * SLOTS_PER_STRATEGY, || None);
        Self {
            run_start_ms,
            tag: RunTag::new(run_start_ms),
            slots,
            n_strategies,
            foreign: HashMap::new(),
        }
    }

    fn slot_of(&self, cid: &ClientOrderId) -> Option<usize> {
        let (strategy, seq) = cid.decode_in_run(self.tag.as_ref()?)?;
        if strategy.index() >= self.n_strategies {
            return None;
        }
        Some(strategy.index() * SLOTS_PER_STRATEGY + (seq as usize & (SLOTS_PER_STRATEGY - 1)))
    }

    /// Stores a new order of this run. A slot whose previous order is final is reused.
    pub fn insert(&mut self, order: Order) -> Result<&mut Order, TableError> {
        let i = self.slot_of(&order.cid).ok_or(TableError::Foreign)?;
        match &self.slots[i] {
            Some(o) if o.cid == order.cid => return Err(TableError::Duplicate),
            Some(o) if !o.status.is_final() => return Err(TableError::Full),
            _ => {}
        }
        self.slots[i] = Some(order);
        Ok(self.slots[i].as_mut().unwrap_or_else(|| unreachable!()))
    }

    /// Stores an order learned from the venue or the database (any client id).
    pub fn insert_recovered(&mut self, order: Order) {
        match self.slot_of(&order.cid) {
            Some(i) => self.slots[i] = Some(order),
            None => {
                self.foreign.insert(order.cid, order);
            }
        }
    }

    pub fn get(&self, cid: &ClientOrderId) -> Option<&Order> {
        match self.slot_of(cid) {
            Some(i) => self.slots[i].as_ref().filter(|o| o.cid == *cid),
            None => self.foreign.get(cid),
        }
    }

    pub fn get_mut(&mut self, cid: &ClientOrderId) -> Option<&mut Order> {
        match self.slot_of(cid) {
            Some(i) => self.slots[i].as_mut().filter(|o| o.cid == *cid),
            None => self.foreign.get_mut(cid),
        }
    }

    /// Every order held (live and final-but-not-yet-overwritten).
    pub fn iter(&self) -> impl Iterator<Item = &Order> {
        self.slots.iter().flatten().chain(self.foreign.values())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Order> {
        self.slots
            .iter_mut()
            .flatten()
            .chain(self.foreign.values_mut())
    }

    /// Live orders of one strategy.
    pub fn live_of(&self, strategy: StrategyId) -> impl Iterator<Item = &Order> {
        let lo = strategy.index() * SLOTS_PER_STRATEGY;
        let hi = (lo + SLOTS_PER_STRATEGY).min(self.slots.len());
        self.slots[lo.min(hi)..hi]
            .iter()
            .flatten()
            .chain(
                self.foreign
                    .values()
                    .filter(move |o| o.strategy == strategy),
            )
            .filter(|o| !o.status.is_final())
    }

    pub fn run_start_ms(&self) -> u64 {
        self.run_start_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::order::{OrderEvent, OrderKind, OrderStatus, TimeInForce, VenueFinal};
    use crate::types::{InstrumentId, Notional, Price, Qty, Side, UnixNanos};

    fn order(cid: ClientOrderId, strategy: u16) -> Order {
        Order::new(
            cid,
            StrategyId(strategy),
            InstrumentId(0),
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Gtc,
            Price::from_int(1),
            Qty::from_int(1),
            UnixNanos(0),
        )
    }

    #[test]
    fn slots_by_sequence_and_reuse_of_final_orders() {
        let mut t = OrderTable::new(7, 2);
        let a = ClientOrderId::mint(7, StrategyId(1), 1).unwrap();
        let wrap = ClientOrderId::mint(7, StrategyId(1), 1 + SLOTS_PER_STRATEGY as u64).unwrap();
        t.insert(order(a, 1)).unwrap();
        assert_eq!(t.insert(order(a, 1)).unwrap_err(), TableError::Duplicate);
        assert_eq!(
            t.insert(order(wrap, 1)).unwrap_err(),
            TableError::Full,
            "slot holds a live order"
        );
        let end = OrderEvent::Ended {
            kind: VenueFinal::Cancelled,
            venue_order_id: None,
            cum_qty: Qty::ZERO,
            cum_quote: Notional::default(),
            at: UnixNanos(1),
        };
        t.get_mut(&a).unwrap().apply(&end);
        assert_eq!(t.get(&a).unwrap().status, OrderStatus::Cancelled);
        t.insert(order(wrap, 1)).unwrap();
        assert!(t.get(&a).is_none(), "the final order's slot was reused");
        assert!(t.get(&wrap).is_some());
        assert_eq!(t.live_of(StrategyId(1)).count(), 1);
        assert_eq!(t.live_of(StrategyId(0)).count(), 0);
    }

    #[test]
    fn foreign_and_earlier_run_orders() {
        let mut t = OrderTable::new(7, 1);
        let old = ClientOrderId::mint(6, StrategyId(0), 1).unwrap();
        assert_eq!(t.insert(order(old, 0)).unwrap_err(), TableError::Foreign);
        t.insert_recovered(order(old, 0));
        let manual = ClientOrderId::parse("web_123").unwrap();
        t.insert_recovered(order(manual, 0));
        assert!(t.get(&old).is_some() && t.get(&manual).is_some());
        assert_eq!(t.live_of(StrategyId(0)).count(), 2);
        assert_eq!(t.iter().count(), 2);
    }
}
