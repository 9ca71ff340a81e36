//! The engine's positions and balances, one source of truth for strategies to read: each
//! strategy's position in each instrument is written by the risk engine of its venue's gateway on every fill (the
//! same figures its limits are checked on), each venue's balances by its gateway whenever the
//! venue reports them. Strategies read; none keeps its own copy.
//!
//! Written a few times per fill and read by strategies when they decide, so each slot is a
//! short uncontended lock rather than a seqlock.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::types::{AssetCode, InstrumentId, StrategyId, VenueId};
use crate::venue::order::Balance;

use super::position::Position;

#[derive(Clone, Debug)]
pub struct PositionBoard {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Per strategy and instrument (`strategy × n_instruments + instrument`).
    positions: Vec<Mutex<Position>>,
    balances: Vec<Mutex<Vec<Balance>>>,
    n_instruments: usize,
}

impl PositionBoard {
    pub fn new(n_strategies: usize, n_instruments: usize, n_venues: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                positions: (0..n_strategies * n_instruments)
                    .map(|_| Mutex::default())
                    .collect(),
                balances: (0..n_venues).map(|_| Mutex::default()).collect(),
                n_instruments,
            }),
        }
    }

    fn slot(&self, s: StrategyId, instrument: InstrumentId) -> Option<&Mutex<Position>> {
        if instrument.index() >= self.inner.n_instruments {
            return None;
        }
        self.inner
            .positions
            .get(s.index() * self.inner.n_instruments + instrument.index())
    }

    /// The strategy's position in `instrument` as of its last fill there (zero before any,
    /// or for an unknown id).
    pub fn position(&self, s: StrategyId, instrument: InstrumentId) -> Position {
        self.slot(s, instrument)
            .map(|p| *p.lock())
            .unwrap_or_default()
    }

    pub fn set_position(&self, s: StrategyId, instrument: InstrumentId, p: Position) {
        if let Some(slot) = self.slot(s, instrument) {
            *slot.lock() = p;
        }
    }

    /// The venue's balance of `asset` as the venue last reported it.
    pub fn balance(&self, venue: VenueId, asset: &str) -> Option<Balance> {
        self.inner
            .balances
            .get(venue.index())?
            .lock()
            .iter()
            .find(|b| b.asset.as_str() == asset)
            .copied()
    }

    /// Every balance the venue last reported.
    pub fn balances(&self, venue: VenueId) -> Vec<Balance> {
        self.inner
            .balances
            .get(venue.index())
            .map(|b| b.lock().clone())
            .unwrap_or_default()
    }

    /// Replaces the venue's balances (a full report) or updates the assets given (a partial
    /// one, as account-update events carry only what changed).
    pub fn set_balances(&self, venue: VenueId, report: &[Balance], full: bool) {
        let Some(slot) = self.inner.balances.get(venue.index()) else {
            return;
        };
        let mut b = slot.lock();
        if full {
            b.clear();
        }
        for r in report {
            match b.iter_mut().find(|x| x.asset == r.asset) {
                Some(x) => *x = *r,
                None => b.push(*r),
            }
        }
    }

    /// Test and report helper: the balance as `(free, locked)` of `asset`, zero when absent.
    pub fn free_locked(&self, venue: VenueId, asset: &AssetCode) -> (i64, i64) {
        self.balance(venue, asset.as_str())
            .map(|b| (b.free.units(), b.locked.units()))
            .unwrap_or((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Notional, Price, Qty, Side};

    #[test]
    fn positions_and_balances_read_back_what_was_written() {
        // Two strategies, three instruments (two of them on one venue), two venues.
        let b = PositionBoard::new(2, 3, 2);
        let mut p = Position::default();
        let q = Qty::parse("0.5").unwrap();
        p.apply_fill(Side::Buy, q, Notional::of(Price::parse("100").unwrap(), q));
        b.set_position(StrategyId(1), InstrumentId(1), p);
        let mut other = Position::default();
        other.apply_fill(Side::Sell, q, Notional::of(Price::parse("7").unwrap(), q));
        b.set_position(StrategyId(1), InstrumentId(2), other);
        assert_eq!(b.position(StrategyId(1), InstrumentId(1)).qty, q.units());
        assert_eq!(b.position(StrategyId(1), InstrumentId(2)).qty, -q.units());
        assert_eq!(
            b.position(StrategyId(1), InstrumentId(0)),
            Position::default()
        );
        assert_eq!(
            b.position(StrategyId(0), InstrumentId(1)),
            Position::default()
        );
        assert_eq!(
            b.position(StrategyId(9), InstrumentId(0)),
            Position::default()
        );
        assert_eq!(
            b.position(StrategyId(1), InstrumentId(7)),
            Position::default()
        );
        let usdt = AssetCode::new(b"USDT").unwrap();
        let sol = AssetCode::new(b"SOL").unwrap();
        let bal = |a: AssetCode, f: &str| Balance {
            asset: a,
            free: Qty::parse(f).unwrap(),
            locked: Qty::ZERO,
        };
        b.set_balances(VenueId(0), &[bal(usdt, "10"), bal(sol, "1")], true);
        b.set_balances(VenueId(0), &[bal(usdt, "7")], false);
        assert_eq!(b.free_locked(VenueId(0), &usdt).0, 700_000_000);
        assert_eq!(b.free_locked(VenueId(0), &sol).0, 100_000_000);
        b.set_balances(VenueId(0), &[bal(usdt, "1")], true);
        assert!(b.balance(VenueId(0), "SOL").is_none());
    }
}
