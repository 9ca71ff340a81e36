//! Order updates to strategies, never dropped: what a full channel refuses is held, in order,
//! and handed over before anything newer. Shared by the venue and paper gateways.

use std::collections::VecDeque;

use crate::runtime::{SendError, Tx};

use super::intent::OrderUpdate;

/// Sends `u` to its strategy, or holds it behind earlier held updates (counted in `held_count`).
pub(super) fn notify(
    updates: &[Option<Tx<OrderUpdate>>],
    held: &mut VecDeque<OrderUpdate>,
    held_count: &mut u64,
    u: OrderUpdate,
) {
    if !held.is_empty() {
        *held_count += 1;
        held.push_back(u);
        return;
    }
    let Some(Some(tx)) = updates.get(u.strategy.index()) else {
        return;
    };
    match tx.send(u) {
        Ok(()) => {}
        Err(SendError::Full(u)) => {
            *held_count += 1;
            held.push_back(u);
        }
        // The strategy is gone (engine stopping): nobody to tell.
        Err(SendError::Disconnected(_)) => {}
    }
}

/// Hands held updates over, oldest first, until a channel is full; returns how many went.
pub(super) fn flush_held(
    updates: &[Option<Tx<OrderUpdate>>],
    held: &mut VecDeque<OrderUpdate>,
) -> usize {
    let mut n = 0;
    while let Some(u) = held.pop_front() {
        let Some(Some(tx)) = updates.get(u.strategy.index()) else {
            continue;
        };
        match tx.send(u) {
            Ok(()) => n += 1,
            Err(SendError::Full(u)) => {
                held.push_front(u);
                break;
            }
            Err(SendError::Disconnected(_)) => {}
        }
    }
    n
}
