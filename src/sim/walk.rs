//! The random-walk market source: a seeded walk of each symbol's price with a full ladder of
//! external liquidity, random level changes, trades at the touch, and moves that trade
//! through the book (filling resting simulator orders on their way).

use super::exchange::Exchange;
use super::rng::Rng;
use crate::types::{Price, Qty, Side};

pub struct Walk {
    rng: Rng,
}

/// A random quantity: whole steps, spread over three orders of magnitude.
fn rand_qty(rng: &mut Rng, step: i64) -> Qty {
    let mag = [10i64, 100, 1_000, 10_000][rng.range(0, 3) as usize];
    Qty::from_units(step * mag * rng.range(1, 9))
}

impl Walk {
    pub fn new(seed: u64) -> Self {
        Walk {
            rng: Rng::new(seed),
        }
    }

    /// Builds each symbol's initial ladder around its start price.
    pub fn seed_books(&mut self, ex: &mut Exchange) {
        for sym in 0..ex.symbols.len() {
            let c = ex.symbols[sym].cfg.clone();
            let tick = c.tick_size.units();
            let step = c.step_size.units();
            let best_bid = c.start_price.units();
            for i in 0..c.levels as i64 {
                let q = rand_qty(&mut self.rng, step);
                ex.symbols[sym].book.set_market(
                    Side::Buy,
                    Price::from_units(best_bid - i * tick),
                    q,
                );
                let q = rand_qty(&mut self.rng, step);
                ex.symbols[sym].book.set_market(
                    Side::Sell,
                    Price::from_units(best_bid + (i + 1) * tick),
                    q,
                );
            }
            ex.after_change(sym);
        }
    }

    /// One step of every symbol.
    pub fn step(&mut self, ex: &mut Exchange) {
        for sym in 0..ex.symbols.len() {
            self.step_symbol(ex, sym);
        }
    }

    fn step_symbol(&mut self, ex: &mut Exchange, sym: usize) {
        let c = ex.symbols[sym].cfg.clone();
        let (tick, step, levels) = (c.tick_size.units(), c.step_size.units(), c.levels);
        let rng = &mut self.rng;
        let (Some(bid), Some(ask)) = (
            ex.symbols[sym].book.market_levels_best(Side::Buy),
            ex.symbols[sym].book.market_levels_best(Side::Sell),
        ) else {
            self.seed_books(ex);
            return;
        };
        let floor = (c.min_price.units().max(tick)) + tick * (levels as i64 + 2);
        if rng.chance(0.25) {
            let k = rng.range(1, 3) * tick;
            if rng.chance(0.5) && bid.units() - k > floor {
                // Down: sellers take every bid above the new best bid, then asks follow.
                let new_bid = bid.units() - k;
                ex.market_sweep(sym, Side::Buy, Price::from_units(new_bid + tick), i64::MAX);
                let mut p = new_bid + tick;
                while p < ask.units() {
                    let q = rand_qty(rng, step);
                    ex.symbols[sym]
                        .book
                        .set_market(Side::Sell, Price::from_units(p), q);
                    p += tick;
                }
            } else {
                let new_ask = ask.units() + k;
                ex.market_sweep(sym, Side::Sell, Price::from_units(new_ask - tick), i64::MAX);
                let mut p = new_ask - tick;
                while p > bid.units() {
                    let q = rand_qty(rng, step);
                    ex.symbols[sym]
                        .book
                        .set_market(Side::Buy, Price::from_units(p), q);
                    p -= tick;
                }
            }
        }
        if rng.chance(0.3) {
            // A trade at the touch that does not move the price by itself.
            let side = if rng.chance(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let best = ex.symbols[sym].book.best(side);
            if let Some((p, q)) = best {
                let size = rng.range(1, 200) * step * 10;
                ex.market_sweep(sym, side, p, size.min(q.units()));
            }
        }
        // Random adds and cancels behind the touch.
        for _ in 0..rng.range(1, 6) {
            let side = if rng.chance(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let Some(best) = ex.symbols[sym].book.market_levels_best(side) else {
                continue;
            };
            let d = rng
                .range(0, levels as i64 - 1)
                .min(rng.range(0, levels as i64 - 1));
            let p = match side {
                Side::Buy => best.units() - d * tick,
                Side::Sell => best.units() + d * tick,
            };
            if p <= 0
                || ex.symbols[sym]
                    .book
                    .qty_at(side.opposite(), Price::from_units(p))
                    .is_positive()
            {
                continue;
            }
            let q = if d > 0 && rng.chance(0.2) {
                Qty::ZERO
            } else {
                rand_qty(rng, step)
            };
            ex.symbols[sym]
                .book
                .set_market(side, Price::from_units(p), q);
        }
        // Keep `levels` levels per side: refill at the far end, trim beyond it.
        for side in [Side::Buy, Side::Sell] {
            let ladder = ex.symbols[sym].book.market_levels(side);
            if ladder.len() > levels {
                for (p, _) in &ladder[levels..] {
                    ex.symbols[sym].book.set_market(side, *p, Qty::ZERO);
                }
            } else if let Some(&(worst, _)) = ladder.last() {
                let mut p = worst.units();
                for _ in ladder.len()..levels {
                    p = if side == Side::Buy {
                        p - tick
                    } else {
                        p + tick
                    };
                    if p <= tick {
                        break;
                    }
                    let q = rand_qty(rng, step);
                    ex.symbols[sym]
                        .book
                        .set_market(side, Price::from_units(p), q);
                }
            }
        }
        ex.after_change(sym);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::SimConfig;

    #[test]
    fn the_walk_never_crosses_and_keeps_depth() {
        let cfg = SimConfig::default();
        let mut ex = Exchange::new(&cfg, false);
        let mut w = Walk::new(9);
        w.seed_books(&mut ex);
        for _ in 0..2_000 {
            w.step(&mut ex);
            let b = &ex.symbols[0].book;
            let (bid, ask) = (b.best(Side::Buy).unwrap(), b.best(Side::Sell).unwrap());
            assert!(bid.0 < ask.0, "crossed: {bid:?} {ask:?}");
            assert_eq!(b.market_depth(Side::Buy), cfg.symbols[0].levels);
        }
    }
}
