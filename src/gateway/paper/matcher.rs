//! Paper fill rules, pure (no channels, no clock): what an arriving order takes from the
//! published book, and which resting orders a public trade print fills.
//!
//! - **Arrival**: an order that crosses takes the published depth levels it crosses, best
//!   first, up to its quantity (partial when the depth is short). Liquidity taken from one
//!   published depth is remembered until the feed publishes a new one, so two orders cannot
//!   both take the same level.
//! - **Resting**: a print strictly better than the order's price (below a bid, above an ask)
//!   fills it, up to the print's quantity; a print at exactly its price first consumes the
//!   queue ahead (the book's quantity at that price when the order rested, or "unknown, never"
//!   when the price lay beyond the published depth) and only counts if its aggressor was on
//!   the other side. One print's quantity is shared by the resting orders it reaches, best
//!   price first, then oldest first.

use crate::book::l2::Level;
use crate::book::{CACHE_DEPTH, Depth};
use crate::feed::actor::TradeEvent;
use crate::types::{ClientOrderId, InstrumentId, Price, Qty, Side};

/// One match of an arriving order against one book level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Take {
    pub price: Price,
    pub qty: Qty,
}

/// A resting order filled (partly) by a print, at its own price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintFill {
    pub cid: ClientOrderId,
    pub price: Price,
    pub qty: Qty,
}

/// A resting paper order as the matcher keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resting {
    pub cid: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub price: Price,
    /// Quantity still open.
    pub leaves: Qty,
    /// Book quantity at `price` that must trade before this order ("MAX": unknown).
    pub queue_ahead: Qty,
    /// Arrival order, for time priority.
    seq: u64,
}

/// Liquidity this matcher already took from one published depth of one instrument.
#[derive(Debug, Clone, Copy)]
struct Taken {
    instrument: InstrumentId,
    depth_seq: u64,
    side: Side,
    price: Price,
    qty: Qty,
}

/// Resting paper orders and the liquidity they took. Sized at start; steady state reuses
/// its vectors.
#[derive(Debug)]
pub struct Matcher {
    resting: Vec<Resting>,
    taken: Vec<Taken>,
    /// Last print applied per instrument (prints at or below it are copies).
    last_print: Vec<Option<crate::types::TradeId>>,
    next_seq: u64,
    /// Scratch: indices of the orders one print reaches.
    reach: Vec<usize>,
}

/// Whether `price` on `side` crosses `level` (a buy at or above an ask, a sell at or below a
/// bid). `None` limit (market order) crosses everything.
fn crosses(side: Side, limit: Option<Price>, level: Price) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Buy, Some(p)) => p >= level,
        (Side::Sell, Some(p)) => p <= level,
    }
}

/// The levels an order on `side` trades against: asks for a buy, bids for a sell.
fn opposite(depth: &Depth, side: Side) -> &[Level] {
    match side {
        Side::Buy => depth.ask_levels(),
        Side::Sell => depth.bid_levels(),
    }
}

impl Matcher {
    pub fn new(n_instruments: usize) -> Self {
        Self {
            resting: Vec::with_capacity(1024),
            taken: Vec::with_capacity(64),
            last_print: vec![None; n_instruments],
            next_seq: 0,
            reach: Vec::with_capacity(1024),
        }
    }

    fn taken_at(&self, instrument: InstrumentId, side: Side, price: Price) -> Qty {
        self.taken
            .iter()
            .filter(|t| t.instrument == instrument && t.side == side && t.price == price)
            .fold(Qty::ZERO, |a, t| a.checked_add(t.qty).unwrap_or(Qty::MAX))
    }

    /// Forgets what was taken from older depths of `instrument`.
    fn refresh(&mut self, instrument: InstrumentId, depth: &Depth) {
        self.taken
            .retain(|t| t.instrument != instrument || t.depth_seq == depth.seq);
    }

    /// Takes up to `qty` from the levels of `depth` that `limit` crosses, best first, into
    /// `out` (cleared first). Returns the quantity left untaken. With `commit == false` it
    /// only reports what it would take (to check funds or fill-or-kill first).
    #[allow(clippy::too_many_arguments)]
    pub fn take(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        limit: Option<Price>,
        qty: Qty,
        depth: &Depth,
        commit: bool,
        out: &mut Vec<Take>,
    ) -> Qty {
        out.clear();
        self.refresh(instrument, depth);
        let mut left = qty;
        for l in opposite(depth, side) {
            if left.is_zero() || !crosses(side, limit, l.price) {
                break;
            }
            let free = l
                .qty
                .saturating_sub(self.taken_at(instrument, side, l.price));
            let q = free.min(left);
            if q.is_zero() {
                continue;
            }
            left = left.saturating_sub(q);
            out.push(Take {
                price: l.price,
                qty: q,
            });
            if !commit {
                continue;
            }
            self.taken.push(Taken {
                instrument,
                depth_seq: depth.seq,
                side,
                price: l.price,
                qty: q,
            });
        }
        left
    }

    /// Whether a limit order at `price` would take liquidity on arrival.
    pub fn would_cross(side: Side, price: Price, depth: &Depth) -> bool {
        opposite(depth, side)
            .first()
            .is_some_and(|l| crosses(side, Some(price), l.price))
    }

    /// Rests an order; its queue is the book's quantity at its price on its side now.
    pub fn rest(
        &mut self,
        cid: ClientOrderId,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        leaves: Qty,
        depth: &Depth,
    ) {
        let levels = match side {
            Side::Buy => depth.bid_levels(),
            Side::Sell => depth.ask_levels(),
        };
        let at = levels.iter().find(|l| l.price == price).map(|l| l.qty);
        // Beyond the deepest published level of a full side, the queue is not known.
        let beyond = levels.len() >= CACHE_DEPTH
            && levels.last().is_some_and(|deepest| match side {
                Side::Buy => price < deepest.price,
                Side::Sell => price > deepest.price,
            });
        let queue_ahead = match at {
            Some(q) => q,
            None if beyond => Qty::MAX,
            None => Qty::ZERO,
        };
        self.next_seq += 1;
        self.resting.push(Resting {
            cid,
            instrument,
            side,
            price,
            leaves,
            queue_ahead,
            seq: self.next_seq,
        });
    }

    /// Takes an order off the book (cancel, or its end), returning what was left of it.
    pub fn remove(&mut self, cid: &ClientOrderId) -> Option<Resting> {
        let i = self.resting.iter().position(|r| r.cid == *cid)?;
        Some(self.resting.swap_remove(i))
    }

    pub fn get(&self, cid: &ClientOrderId) -> Option<&Resting> {
        self.resting.iter().find(|r| r.cid == *cid)
    }

    pub fn resting(&self) -> &[Resting] {
        &self.resting
    }

    /// Applies one public print: the fills it gives resting orders go to `out` (cleared
    /// first). Fully filled orders leave the book. A print already seen changes nothing.
    pub fn on_trade(&mut self, t: &TradeEvent, out: &mut Vec<PrintFill>) {
        out.clear();
        let Some(last) = self.last_print.get_mut(t.instrument.index()) else {
            return;
        };
        if last.is_some_and(|l| t.trade_id <= l) {
            return;
        }
        *last = Some(t.trade_id);
        for side in [Side::Buy, Side::Sell] {
            self.reach.clear();
            for (i, r) in self.resting.iter().enumerate() {
                if r.instrument != t.instrument || r.side != side || r.leaves.is_zero() {
                    continue;
                }
                let through = match side {
                    Side::Buy => t.price < r.price,
                    Side::Sell => t.price > r.price,
                };
                // At exactly our price only a print against our side reaches us.
                let at = t.price == r.price && t.aggressor != side;
                if through || at {
                    self.reach.push(i);
                }
            }
            // Best price first, then time.
            let resting = &self.resting;
            self.reach.sort_unstable_by(|&a, &b| {
                let (x, y) = (&resting[a], &resting[b]);
                let by_price = match side {
                    Side::Buy => y.price.cmp(&x.price),
                    Side::Sell => x.price.cmp(&y.price),
                };
                by_price.then(x.seq.cmp(&y.seq))
            });
            let mut budget = t.qty;
            for &i in &self.reach {
                if budget.is_zero() {
                    break;
                }
                let r = &mut self.resting[i];
                if t.price == r.price {
                    let q = r.queue_ahead.min(budget);
                    r.queue_ahead = r.queue_ahead.saturating_sub(q);
                    budget = budget.saturating_sub(q);
                }
                let q = r.leaves.min(budget);
                if q.is_zero() {
                    continue;
                }
                budget = budget.saturating_sub(q);
                r.leaves = r.leaves.saturating_sub(q);
                out.push(PrintFill {
                    cid: r.cid,
                    price: r.price,
                    qty: q,
                });
            }
        }
        self.resting.retain(|r| !r.leaves.is_zero());
    }
}
