//! The scripted price-path source (`source = "path"`): each symbol's best bid steps through a
//! list of prices (`[[sim.symbols]] path = [...]`), one every `path_interval_ms`, so tests and
//! demos can drive a strategy across known thresholds. A move trades through the book the way
//! the random walk's moves do (simulator orders in the way fill as makers); each step also
//! prints a small trade at the ask (so candles form while the price holds) without touching
//! the bids. After the last price the path holds it, or starts over with `path_repeat`.
//! Symbols without a path hold their start price.

use super::exchange::Exchange;
use crate::types::{Price, Qty, Side};

pub struct PathSource {
    step: usize,
    repeat: bool,
}

/// External liquidity per level: this many of the symbol's steps.
const LEVEL_STEPS: i64 = 1_000;
/// The print at the ask on every step: this many steps.
const PRINT_STEPS: i64 = 10;

impl PathSource {
    pub fn new(repeat: bool) -> Self {
        Self { step: 0, repeat }
    }

    /// The bid of `sym` at step `k`.
    fn target(ex: &Exchange, sym: usize, k: usize, repeat: bool) -> Price {
        let c = &ex.symbols[sym].cfg;
        match c.path.len() {
            0 => c.start_price,
            n if repeat => c.path[k % n],
            n => c.path[k.min(n - 1)],
        }
    }

    /// Lays each symbol's ladder around its first price.
    pub fn seed_books(&mut self, ex: &mut Exchange) {
        for sym in 0..ex.symbols.len() {
            let bid = Self::target(ex, sym, 0, self.repeat);
            Self::ladder(ex, sym, bid);
            ex.after_change(sym);
        }
    }

    /// Sets `levels` levels of external liquidity on each side of `bid` (ask one tick above)
    /// and clears any beyond them.
    fn ladder(ex: &mut Exchange, sym: usize, bid: Price) {
        let c = ex.symbols[sym].cfg.clone();
        let (tick, levels) = (c.tick_size.units(), c.levels as i64);
        let q = Qty::from_units(c.step_size.units() * LEVEL_STEPS);
        let book = &mut ex.symbols[sym].book;
        for side in [Side::Buy, Side::Sell] {
            for (p, _) in book.market_levels(side) {
                let d = match side {
                    Side::Buy => (bid.units() - p.units()) / tick,
                    Side::Sell => (p.units() - bid.units()) / tick - 1,
                };
                if !(0..levels).contains(&d) {
                    book.set_market(side, p, Qty::ZERO);
                }
            }
        }
        for i in 0..levels {
            let b = bid.units() - i * tick;
            if b > 0 {
                book.set_market(Side::Buy, Price::from_units(b), q);
            }
            book.set_market(
                Side::Sell,
                Price::from_units(bid.units() + (i + 1) * tick),
                q,
            );
        }
    }

    /// One step of every symbol.
    pub fn step(&mut self, ex: &mut Exchange) {
        self.step += 1;
        for sym in 0..ex.symbols.len() {
            let target = Self::target(ex, sym, self.step, self.repeat);
            let tick = ex.symbols[sym].cfg.tick_size.units();
            let book = &ex.symbols[sym].book;
            let (bid, ask) = (
                book.market_levels_best(Side::Buy),
                book.market_levels_best(Side::Sell),
            );
            if let (Some(bid), Some(ask)) = (bid, ask) {
                if target < bid {
                    // Sellers take every bid above the new best bid.
                    ex.market_sweep(
                        sym,
                        Side::Buy,
                        Price::from_units(target.units() + tick),
                        i64::MAX,
                    );
                } else if target >= ask {
                    // Buyers take every ask up to the new best bid.
                    ex.market_sweep(sym, Side::Sell, target, i64::MAX);
                }
            }
            Self::ladder(ex, sym, target);
            let print = ex.symbols[sym].cfg.step_size.units() * PRINT_STEPS;
            ex.market_sweep(
                sym,
                Side::Sell,
                Price::from_units(target.units() + tick),
                print,
            );
            Self::ladder(ex, sym, target);
            ex.after_change(sym);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::SimConfig;

    #[test]
    fn the_book_follows_the_path_then_holds_its_last_price() {
        let cfg = SimConfig::from_table(
            &r#"source = "path"
                [[symbols]]
                symbol = "SOLUSDT"
                base = "SOL"
                start_price = "150.00"
                levels = 20
                path = ["150.00", "149.50", "151.25", "151.25"]"#
                .parse()
                .unwrap(),
        )
        .unwrap();
        let mut ex = Exchange::new(&cfg, false);
        let mut p = PathSource::new(false);
        p.seed_books(&mut ex);
        let best = |ex: &Exchange| {
            let b = &ex.symbols[0].book;
            (
                b.best(Side::Buy).unwrap().0.to_string(),
                b.best(Side::Sell).unwrap().0.to_string(),
                b.market_depth(Side::Buy),
            )
        };
        assert_eq!(best(&ex), ("150".into(), "150.01".into(), 20));
        let mut seen = vec![];
        for _ in 0..5 {
            p.step(&mut ex);
            seen.push(best(&ex));
        }
        assert_eq!(
            seen.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
            vec!["149.5", "151.25", "151.25", "151.25", "151.25"]
        );
        assert!(seen.iter().all(|s| s.2 == 20), "{seen:?}");
    }
}
