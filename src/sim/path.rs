//! The scripted price-path source (`source = "path"`): each symbol's best bid steps through a
//! list of prices (`[[sim.symbols]] path = [...]`), one every `path_interval_ms`, so tests and
//! demos can drive a strategy across known thresholds. A move trades through the book the way
//! the random walk's moves do (simulator orders in the way fill as makers); each step also
//! prints a small trade at the ask (so candles form while the price holds) without touching
//! the bids. After the last price the path holds it, or starts over with `path_repeat`.
//! Symbols without a path hold their start price. A path posted to `/sim/path` while the
//! simulator runs replaces a symbol's path from the next step on (a test drives a strategy
//! phase by phase, each when the strategy has done what the last one was for).

use super::exchange::Exchange;
use crate::types::{Price, Qty, Side};

pub struct PathSource {
    step: usize,
    repeat: bool,
    /// Per symbol, the step its current path started at (0, or when one was posted).
    origin: Vec<usize>,
}

/// External liquidity per level: this many of the symbol's steps.
const LEVEL_STEPS: i64 = 1_000;
/// The print at the ask on every step: this many steps.
const PRINT_STEPS: i64 = 10;

impl PathSource {
    pub fn new(repeat: bool) -> Self {
        Self {
            step: 0,
            repeat,
            origin: vec![],
        }
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
        self.origin = vec![0; ex.symbols.len()];
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
        self.origin.resize(ex.symbols.len(), 0);
        for sym in 0..ex.symbols.len() {
            if let Some(p) = ex.symbols[sym].next_path.take() {
                ex.symbols[sym].cfg.path = p;
                self.origin[sym] = self.step;
            }
            let target = Self::target(ex, sym, self.step - self.origin[sym], self.repeat);
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

/// `POST /sim/path` with `{"symbol": "SOLUSDT", "path": ["100.00", "100.50"]}`: checks the
/// prices as the config's `path` is checked and queues them for the symbol; returns how many.
pub fn post(ex: &mut Exchange, body: &serde_json::Value) -> Result<usize, String> {
    let symbol = body["symbol"]
        .as_str()
        .ok_or("\"symbol\" (a string) is required")?;
    let sym = ex
        .symbols
        .iter()
        .position(|s| s.cfg.symbol == symbol)
        .ok_or_else(|| format!("unknown symbol {symbol:?}"))?;
    let list = body["path"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or("\"path\" (a non-empty list of decimal strings) is required")?;
    let c = &ex.symbols[sym].cfg;
    let mut path = Vec::with_capacity(list.len());
    for (j, v) in list.iter().enumerate() {
        let p = v
            .as_str()
            .and_then(|t| Price::parse(t).ok())
            .ok_or_else(|| format!("path[{j}]: {v} is not a decimal string"))?;
        if !p.is_multiple_of(c.tick_size) || p.units() / c.tick_size.units() <= c.levels as i64 + 10
        {
            return Err(format!(
                "path[{j}]: {p} must be a multiple of tick_size {} above {} levels of it",
                c.tick_size, c.levels
            ));
        }
        path.push(p);
    }
    let n = path.len();
    ex.symbols[sym].next_path = Some(path);
    Ok(n)
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
        // A posted path starts at the next step and then holds its last price.
        let mut bad = |b: serde_json::Value| post(&mut ex, &b).unwrap_err();
        assert!(bad(serde_json::json!({"symbol": "ETHUSDT", "path": ["1"]})).contains("unknown"));
        assert!(bad(serde_json::json!({"symbol": "SOLUSDT", "path": []})).contains("non-empty"));
        assert!(
            bad(serde_json::json!({"symbol": "SOLUSDT", "path": ["150.005"]}))
                .contains("path[0]: 150.005 must be a multiple of tick_size")
        );
        assert!(bad(serde_json::json!({"symbol": "SOLUSDT", "path": ["0.1"]})).contains("above"));
        assert!(bad(serde_json::json!({"symbol": "SOLUSDT", "path": [150]})).contains("decimal"));
        let body = serde_json::json!({"symbol": "SOLUSDT", "path": ["152.00", "148.75"]});
        assert_eq!(post(&mut ex, &body), Ok(2));
        let mut seen = vec![];
        for _ in 0..3 {
            p.step(&mut ex);
            seen.push(best(&ex).0);
        }
        assert_eq!(seen, vec!["152", "148.75", "148.75"]);
    }
}
