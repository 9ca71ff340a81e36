//! The backtest venue's matcher: resting orders with their place in the queue, public prints
//! and book changes against them, and crossing orders against the recorded levels. Pure (no
//! clock, no channels): the caller passes what the recording says and gets fills back.
//!
//! - **Joining**: an order resting at price `p` joins behind the book's quantity at `p` when
//!   it arrives (`ahead`); a price beyond the recorded depth has an unknown queue, so only
//!   prints through it fill it.
//! - **Prints**: a print at `p` whose aggressor is on the other side consumes `ahead` first;
//!   what is left of it fills the order (partial fills). A print strictly through `p` fills
//!   the order up to the print's quantity. One print's quantity is shared by the orders it
//!   reaches, best price first, then oldest first.
//! - **Cancellations**: when the book's quantity at `p` falls by more than the prints there
//!   explain, the rest was cancelled; [`QueueModel`] says how much of it was ahead of us.
//! - **Trade-through**: when the opposite best moves through `p` (an ask at or below a
//!   resting bid), the order is filled whole at its price, as hftbacktest's exchange does.
//! - **Crossing orders** take the recorded levels they cross, best first, up to their
//!   quantity, as takers.
//!
//! This is a small matcher of its own rather than `sim::matching`: the simulator's core keeps
//! the simulator's accounts and answers and reads the wall clock (`now_ms`), and giving it
//! pluggable cancellation rules would change the simulator every venue test runs against.

use crate::book::{Depth, Level, TopOfBook};
use crate::types::{ClientOrderId, InstrumentId, Price, Qty, Side};

/// How a fall in the book's quantity at an order's price, beyond what traded there, moves
/// the order up its queue (hftbacktest's `RiskAverseQueueModel` and `ProbQueueModel`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueueModel {
    /// Cancellations are all behind us: the queue ahead only shrinks by prints at our price,
    /// or when the whole level is smaller than it (risk averse).
    None,
    /// Cancellations are spread evenly over the level: the share ahead of us is
    /// `ahead / level`.
    Proportional,
    /// The share ahead of us is `f(ahead) / (f(ahead) + f(behind))` with `f(x) = x^power`
    /// (hftbacktest's `PowerProbQueueFunc`): with `power > 1` cancellations come mostly from
    /// the longer side of the queue. The expected value is taken, so it is deterministic.
    Probabilistic { power: f64 },
}

impl QueueModel {
    /// `none`, `proportional` or `probabilistic(power)`, for reports.
    pub fn describe(&self) -> String {
        match self {
            QueueModel::None => "none (cancellations never advance the queue; risk averse)".into(),
            QueueModel::Proportional => {
                "proportional (cancellations spread evenly over the level)".into()
            }
            QueueModel::Probabilistic { power } => format!(
                "probabilistic (share ahead = ahead^{power} / (ahead^{power} + behind^{power}), expected value)"
            ),
        }
    }

    /// The queue ahead after the level fell from `level` to `level - cancelled` by
    /// cancellation, with `ahead` in front of us.
    pub fn after_cancel(&self, ahead: i64, level: i64, cancelled: i64) -> i64 {
        if cancelled <= 0 || ahead <= 0 || level <= 0 {
            return ahead.max(0);
        }
        let behind = (level - ahead).max(0);
        let cut = match self {
            QueueModel::None => 0,
            QueueModel::Proportional => {
                (i128::from(cancelled) * i128::from(ahead) / i128::from(level)) as i64
            }
            QueueModel::Probabilistic { power } => {
                let fa = (ahead as f64).powf(*power);
                let fb = (behind as f64).powf(*power);
                let share = if fa + fb > 0.0 { fa / (fa + fb) } else { 0.0 };
                (cancelled as f64 * share).floor() as i64
            }
        };
        // Never more ahead than is left of the level.
        (ahead - cut).clamp(0, (level - cancelled).max(0))
    }
}

/// An order resting at the backtest venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resting {
    pub cid: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub price: Price,
    pub leaves: Qty,
    /// Book quantity ahead of the order at its price (base units); `UNKNOWN` beyond depth.
    pub ahead: i64,
    /// The book's quantity at `price` as last seen (base units); `UNKNOWN` when not seen.
    level: i64,
    seq: u64,
}

/// A queue whose length the recording does not show.
pub const UNKNOWN: i64 = i64::MAX;

/// A fill of a resting order at its own price (maker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MakerFill {
    pub cid: ClientOrderId,
    pub price: Price,
    pub qty: Qty,
}

/// Resting orders, oldest first.
#[derive(Debug)]
pub struct QueueMatcher {
    model: QueueModel,
    resting: Vec<Resting>,
    next_seq: u64,
}

/// The recorded quantity at `price` on `side`: the top's (bookTicker, newest) at its price,
/// else the depth's; `None` when the price lies beyond the depth shown.
pub fn level_qty(side: Side, price: Price, top: &TopOfBook, depth: &Depth) -> Option<i64> {
    if let Some(q) = top_level_qty(side, price, top) {
        return Some(q);
    }
    let levels: &[Level] = match side {
        Side::Buy => depth.bid_levels(),
        Side::Sell => depth.ask_levels(),
    };
    if let Some(l) = levels.iter().find(|l| l.price == price) {
        return Some(l.qty.units());
    }
    // Absent inside the shown range: empty. Beyond it: unknown.
    let inside = match (side, levels.last()) {
        (Side::Buy, Some(worst)) => price > worst.price,
        (Side::Sell, Some(worst)) => price < worst.price,
        (_, None) => false,
    };
    inside.then_some(0)
}

/// The quantity at `price` when it is `top`'s best on `side` (what [`level_qty`] answers
/// before it looks at the depth).
#[inline]
fn top_level_qty(side: Side, price: Price, top: &TopOfBook) -> Option<i64> {
    if !top.valid {
        return None;
    }
    let t = match side {
        Side::Buy => top.bid,
        Side::Sell => top.ask,
    };
    (t.price == price).then(|| t.qty.units())
}

/// Whether an order on `side` at `price` crosses the opposite best of `top`.
pub fn crosses(side: Side, price: Price, top: &TopOfBook) -> bool {
    top.valid
        && match side {
            Side::Buy => !top.ask.qty.is_zero() && top.ask.price <= price,
            Side::Sell => !top.bid.qty.is_zero() && top.bid.price >= price,
        }
}

impl QueueMatcher {
    pub fn new(model: QueueModel) -> Self {
        Self {
            model,
            resting: Vec::with_capacity(64),
            next_seq: 0,
        }
    }

    pub fn model(&self) -> QueueModel {
        self.model
    }

    pub fn resting(&self) -> &[Resting] {
        &self.resting
    }

    pub fn is_empty(&self) -> bool {
        self.resting.is_empty()
    }

    /// Rests an order behind `level` (the book's quantity at its price; `None`: unknown).
    pub fn rest(
        &mut self,
        cid: ClientOrderId,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        leaves: Qty,
        level: Option<i64>,
    ) {
        let level = level.unwrap_or(UNKNOWN);
        self.resting.push(Resting {
            cid,
            instrument,
            side,
            price,
            leaves,
            ahead: level,
            level,
            seq: self.next_seq,
        });
        self.next_seq += 1;
    }

    /// Removes an order (cancelled); returns what it still had open.
    pub fn remove(&mut self, cid: &ClientOrderId) -> Option<Resting> {
        let k = self.resting.iter().position(|r| r.cid == *cid)?;
        Some(self.resting.remove(k))
    }

    /// Takes what an arriving order on `side` crosses among the recorded levels, up to `qty`,
    /// best price first, never beyond `limit` (`None`: a market order). Returns what is left.
    pub fn take(
        side: Side,
        limit: Option<Price>,
        qty: Qty,
        top: &TopOfBook,
        depth: &Depth,
        out: &mut Vec<(Price, Qty)>,
    ) -> Qty {
        out.clear();
        let mut left = qty.units();
        let within = |p: Price| match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(l)) => p <= l,
            (Side::Sell, Some(l)) => p >= l,
        };
        let levels: &[Level] = match side {
            Side::Buy => depth.ask_levels(),
            Side::Sell => depth.bid_levels(),
        };
        // The top (bookTicker) is newer than the depth at its price; depth levels better
        // than it are stale and skipped.
        let t = match side {
            Side::Buy => top.ask,
            Side::Sell => top.bid,
        };
        let better_than_top = |p: Price| match side {
            Side::Buy => p < t.price,
            Side::Sell => p > t.price,
        };
        if top.valid && !t.qty.is_zero() && within(t.price) && left > 0 {
            let q = left.min(t.qty.units());
            out.push((t.price, Qty::from_units(q)));
            left -= q;
        }
        for l in levels {
            if left == 0 || !within(l.price) {
                break;
            }
            if top.valid && !t.qty.is_zero() && (better_than_top(l.price) || l.price == t.price) {
                continue;
            }
            let q = left.min(l.qty.units());
            if q > 0 {
                out.push((l.price, Qty::from_units(q)));
                left -= q;
            }
        }
        Qty::from_units(left)
    }

    /// A public print: fills the resting orders it reaches, best price first then oldest.
    pub fn on_print(
        &mut self,
        instrument: InstrumentId,
        price: Price,
        qty: Qty,
        aggressor: Side,
        out: &mut Vec<MakerFill>,
    ) {
        out.clear();
        // Best price first for the side the print hits, then time.
        let hit = aggressor.opposite();
        // A print at or through none of the orders changes nothing (their order stays: by
        // `seq`, as the sorts below leave it).
        let reaches = |r: &Resting| match r.side {
            Side::Buy => price <= r.price,
            Side::Sell => price >= r.price,
        };
        if !self
            .resting
            .iter()
            .any(|r| r.instrument == instrument && r.side == hit && reaches(r))
        {
            return;
        }
        self.resting.sort_by(|a, b| {
            let by_price = match hit {
                Side::Buy => b.price.cmp(&a.price),
                Side::Sell => a.price.cmp(&b.price),
            };
            (a.side != hit)
                .cmp(&(b.side != hit))
                .then(by_price)
                .then(a.seq.cmp(&b.seq))
        });
        let print = qty.units();
        // The print's quantity not yet given to our own orders.
        let mut left = print;
        for r in self.resting.iter_mut() {
            if r.instrument != instrument || r.side != hit {
                continue;
            }
            let through = match r.side {
                Side::Buy => price < r.price,
                Side::Sell => price > r.price,
            };
            let reach = if through {
                left
            } else if price == r.price {
                // The whole print trades the recorded queue in front of us first.
                if r.level != UNKNOWN {
                    r.level = (r.level - print).max(0);
                }
                if r.ahead == UNKNOWN {
                    continue;
                }
                let before = r.ahead;
                r.ahead = (before - print).max(0);
                (print - before).clamp(0, left)
            } else {
                continue;
            };
            let q = reach.min(r.leaves.units());
            if q > 0 {
                r.leaves = Qty::from_units(r.leaves.units() - q);
                left -= q;
                out.push(MakerFill {
                    cid: r.cid,
                    price: r.price,
                    qty: Qty::from_units(q),
                });
            }
        }
        self.resting.retain(|r| !r.leaves.is_zero());
        self.resting.sort_by_key(|r| r.seq);
    }

    /// The book of `instrument` changed: queues move by the cancellation rule, and orders the
    /// opposite best moved through fill whole at their price.
    pub fn on_book(
        &mut self,
        instrument: InstrumentId,
        top: &TopOfBook,
        depth: &Depth,
        out: &mut Vec<MakerFill>,
    ) {
        self.on_book_read(instrument, top, Some(|| *depth), out);
    }

    /// As [`on_book`](Self::on_book), with the depth read only when an order rests off the
    /// touch (at most once): reading it is most of a book change's cost, and an order at
    /// the touch (or crossed) needs only `top`. `None`: no depth is ever published (tops
    /// only), as an empty depth: an order off the touch has no level to follow.
    pub fn on_book_read(
        &mut self,
        instrument: InstrumentId,
        top: &TopOfBook,
        mut read_depth: Option<impl FnMut() -> Depth>,
        out: &mut Vec<MakerFill>,
    ) {
        out.clear();
        if !top.valid {
            return;
        }
        let model = self.model;
        let mut depth: Option<Depth> = None;
        for r in self
            .resting
            .iter_mut()
            .filter(|r| r.instrument == instrument)
        {
            if crosses(r.side, r.price, top) {
                out.push(MakerFill {
                    cid: r.cid,
                    price: r.price,
                    qty: r.leaves,
                });
                r.leaves = Qty::ZERO;
                continue;
            }
            let now = match (top_level_qty(r.side, r.price, top), &mut read_depth) {
                (Some(q), _) => Some(q),
                (None, Some(read)) => {
                    level_qty(r.side, r.price, top, depth.get_or_insert_with(read))
                }
                // `level_qty` of an empty depth, off the touch.
                (None, None) => None,
            };
            let Some(now) = now else {
                continue;
            };
            if r.level == UNKNOWN {
                // First sight of the level: the order is somewhere in it; assume the back.
                r.level = now;
                r.ahead = r.ahead.min(now);
                continue;
            }
            if now < r.level {
                r.ahead = model.after_cancel(r.ahead, r.level, r.level - now);
            }
            r.level = now;
            r.ahead = r.ahead.min(now);
        }
        self.resting.retain(|r| !r.leaves.is_zero());
    }
}

#[cfg(test)]
mod tests;
