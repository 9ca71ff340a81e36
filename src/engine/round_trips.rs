//! Round trips: what a strategy earned each time its position in an instrument went out and
//! came back, derived from its fills on the telemetry thread.
//!
//! The rule: a round trip opens with the fill that takes the position away from zero and
//! closes with the fill that brings it back to zero. A fill that crosses zero closes the
//! trip with the part that reaches zero and opens the next trip, on the other side, with
//! the rest; its quote amount and fee are split between the two pro rata (integer division,
//! so the split loses at most one unit of 10^-16 quote per crossing). A trip's `qty` is what
//! it opened (equal to what closed it); its PnL is `exit − entry` for a long trip and
//! `entry − exit` for a short one, before fees; `quote_fees` counts the fees paid in the
//! quote asset over both legs (fees in the base asset are in the fills table), including
//! those the venue reports after the fills (`RoundTrips::late_fee`: some venues report an
//! order's fee after its fill; a fill learned by a query has its fees fetched later): they go
//! to the trip the order's last fill went into, still open or already stored.

use std::collections::{HashMap, VecDeque};

use crate::persist::{RoundTrip, RoundTripFee};
use crate::types::{ClientOrderId, InstrumentId, Notional, Qty, Side, StrategyId, UnixNanos};

/// Orders remembered for fees learned after their fills.
const KEEP_ORDERS: usize = 4096;

/// A trip still open.
#[derive(Debug, Clone, Copy)]
struct Open {
    side: Side,
    /// Base units still open (> 0).
    remaining: i64,
    /// Base units opened so far.
    opened: i64,
    entry_quote: i128,
    exit_quote: i128,
    quote_fees: i64,
    opened_at: UnixNanos,
}

/// The open trip of every (strategy, instrument).
#[derive(Debug, Default)]
pub struct RoundTrips {
    open: HashMap<(StrategyId, InstrumentId), Open>,
    /// The trip each recent order's last fill went into, `(cid, key, the trip's opened_at)`,
    /// latest last.
    orders: VecDeque<(ClientOrderId, (StrategyId, InstrumentId), UnixNanos)>,
}

/// Where fees learned after an order's fills went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LateFee {
    /// Into the trip still open.
    Open,
    /// To the trip already closed and stored: the record that corrects it.
    Closed(RoundTripFee),
    /// The order's fills are not among those remembered (too old, or none).
    Unknown,
}

/// `v * part / whole` for `0 < part <= whole`.
fn pro_rata(v: i128, part: i64, whole: i64) -> i128 {
    v * i128::from(part) / i128::from(whole)
}

impl RoundTrips {
    /// Applies one fill of `qty` base for `quote` (its exact notional), with `quote_fee` paid
    /// in the quote asset; returns the trip it closed, if any.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        qty: Qty,
        quote: Notional,
        quote_fee: Qty,
        at: UnixNanos,
    ) -> Option<RoundTrip> {
        let q = qty.units();
        if q <= 0 {
            return None;
        }
        let key = (strategy, instrument);
        let Some(t) = self.open.get_mut(&key) else {
            self.open
                .insert(key, Open::new(side, q, quote.0, quote_fee.units(), at));
            return None;
        };
        if t.side == side {
            t.remaining += q;
            t.opened += q;
            t.entry_quote += quote.0;
            t.quote_fees += quote_fee.units();
            return None;
        }
        let closing = q.min(t.remaining);
        let closing_quote = pro_rata(quote.0, closing, q);
        let closing_fee = pro_rata(i128::from(quote_fee.units()), closing, q) as i64;
        t.remaining -= closing;
        t.exit_quote += closing_quote;
        t.quote_fees += closing_fee;
        if t.remaining > 0 {
            return None;
        }
        let done = *t;
        self.open.remove(&key);
        let rest = q - closing;
        if rest > 0 {
            self.open.insert(
                key,
                Open::new(
                    side,
                    rest,
                    quote.0 - closing_quote,
                    quote_fee.units() - closing_fee,
                    at,
                ),
            );
        }
        let pnl = match done.side {
            Side::Buy => done.exit_quote - done.entry_quote,
            Side::Sell => done.entry_quote - done.exit_quote,
        };
        Some(RoundTrip {
            strategy,
            instrument,
            side: done.side,
            qty: Qty::from_units(done.opened),
            entry_quote: Notional(done.entry_quote),
            exit_quote: Notional(done.exit_quote),
            pnl: Notional(pnl),
            quote_fees: Qty::from_units(done.quote_fees),
            opened_at: done.opened_at,
            closed_at: at,
        })
    }

    /// [`RoundTrips::apply`] for a fill of order `cid`, remembering the trip the fill went
    /// into (the trip it opened, for a fill through zero) for [`RoundTrips::late_fee`].
    #[allow(clippy::too_many_arguments)]
    pub fn apply_order(
        &mut self,
        cid: ClientOrderId,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        qty: Qty,
        quote: Notional,
        quote_fee: Qty,
        at: UnixNanos,
    ) -> Option<RoundTrip> {
        let closed = self.apply(strategy, instrument, side, qty, quote, quote_fee, at);
        let key = (strategy, instrument);
        let trip = match (self.open.get(&key), closed) {
            (Some(t), _) => Some(t.opened_at),
            (None, Some(c)) => Some(c.opened_at),
            (None, None) => None,
        };
        if let Some(opened_at) = trip {
            if self.orders.len() == KEEP_ORDERS {
                self.orders.pop_front();
            }
            self.orders.push_back((cid, key, opened_at));
        }
        closed
    }

    /// Fees in the quote asset of order `cid` learned after its fills (negative: taken
    /// back), for the trip its last fill went into.
    pub fn late_fee(&mut self, cid: ClientOrderId, delta: Qty) -> LateFee {
        let Some(&(_, key, opened_at)) = self.orders.iter().rev().find(|o| o.0 == cid) else {
            return LateFee::Unknown;
        };
        match self.open.get_mut(&key) {
            Some(t) if t.opened_at == opened_at => {
                t.quote_fees += delta.units();
                LateFee::Open
            }
            _ => LateFee::Closed(RoundTripFee {
                strategy: key.0,
                instrument: key.1,
                opened_at,
                delta,
            }),
        }
    }

    /// The signed open quantity of (strategy, instrument) in base units (0 when flat).
    pub fn open_qty(&self, strategy: StrategyId, instrument: InstrumentId) -> i64 {
        self.open
            .get(&(strategy, instrument))
            .map_or(0, |t| t.remaining * t.side.sign())
    }
}

impl Open {
    fn new(side: Side, qty: i64, quote: i128, fee: i64, at: UnixNanos) -> Self {
        Self {
            side,
            remaining: qty,
            opened: qty,
            entry_quote: quote,
            exit_quote: 0,
            quote_fees: fee,
            opened_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Price;

    const S: StrategyId = StrategyId(0);
    const I: InstrumentId = InstrumentId(0);

    fn fill(t: &mut RoundTrips, side: Side, qty: i64, price: i64, at: u64) -> Option<RoundTrip> {
        let q = Qty::from_int(qty);
        let fee = Qty::from_units(qty * 1_000); // 10^-5 quote per unit: visible in sums
        t.apply(
            S,
            I,
            side,
            q,
            Price::from_int(price).notional(q),
            fee,
            UnixNanos(at),
        )
    }

    fn n(v: i64) -> Notional {
        Notional(i128::from(v) * Notional::SCALE)
    }

    #[test]
    fn a_trip_closes_when_the_position_returns_to_zero() {
        let mut t = RoundTrips::default();
        assert_eq!(fill(&mut t, Side::Buy, 2, 100, 1), None);
        assert_eq!(fill(&mut t, Side::Buy, 1, 103, 2), None);
        assert_eq!(fill(&mut t, Side::Sell, 2, 110, 3), None);
        assert_eq!(t.open_qty(S, I), 100_000_000);
        let r = fill(&mut t, Side::Sell, 1, 90, 4).expect("closed");
        assert_eq!(r.side, Side::Buy);
        assert_eq!(r.qty, Qty::from_int(3));
        assert_eq!((r.entry_quote, r.exit_quote), (n(303), n(310)));
        assert_eq!(r.pnl, n(7));
        assert_eq!(r.quote_fees, Qty::from_units(6_000));
        assert_eq!((r.opened_at, r.closed_at), (UnixNanos(1), UnixNanos(4)));
        assert_eq!(t.open_qty(S, I), 0);
    }

    #[test]
    fn a_fill_through_zero_splits_into_two_trips() {
        let mut t = RoundTrips::default();
        fill(&mut t, Side::Sell, 1, 100, 1);
        // Buys 3: one closes the short at 95 (+5), two open a long at 95.
        let r = fill(&mut t, Side::Buy, 3, 95, 2).expect("closed the short");
        assert_eq!((r.side, r.qty, r.pnl), (Side::Sell, Qty::from_int(1), n(5)));
        assert_eq!(r.quote_fees, Qty::from_units(2_000));
        assert_eq!(t.open_qty(S, I), 200_000_000);
        let r = fill(&mut t, Side::Sell, 2, 90, 3).expect("closed the long");
        assert_eq!((r.side, r.qty), (Side::Buy, Qty::from_int(2)));
        assert_eq!(
            (r.entry_quote, r.exit_quote, r.pnl),
            (n(190), n(180), n(-10))
        );
        assert_eq!(r.quote_fees, Qty::from_units(4_000));
        assert_eq!(r.opened_at, UnixNanos(2));
    }

    #[test]
    fn fees_learned_after_the_fills_go_to_their_trip_open_or_stored() {
        let mut t = RoundTrips::default();
        let cid = |n| ClientOrderId::mint(1, S, n).unwrap();
        let q = Qty::from_int(1);
        let z = Qty::ZERO;
        let at = |p: i64| Price::from_int(p).notional(q);
        let fee = Qty::from_units;
        // Order 1 opens a long, order 2 closes it; order 3 opens the next.
        assert!(
            t.apply_order(cid(1), S, I, Side::Buy, q, at(100), z, UnixNanos(1))
                .is_none()
        );
        assert_eq!(t.late_fee(cid(1), fee(500)), LateFee::Open);
        let closed = t.apply_order(cid(2), S, I, Side::Sell, q, at(101), z, UnixNanos(2));
        assert_eq!(closed.map(|c| c.quote_fees), Some(fee(500)));
        assert!(
            t.apply_order(cid(3), S, I, Side::Buy, q, at(99), z, UnixNanos(3))
                .is_none()
        );
        // Order 2's fee arrives after its trip was stored: a correction of that trip.
        assert_eq!(
            t.late_fee(cid(2), fee(700)),
            LateFee::Closed(RoundTripFee {
                strategy: S,
                instrument: I,
                opened_at: UnixNanos(1),
                delta: fee(700),
            })
        );
        // Order 3's goes to the trip it opened, still open.
        assert_eq!(t.late_fee(cid(3), fee(300)), LateFee::Open);
        let r = t.apply_order(cid(4), S, I, Side::Sell, q, at(100), z, UnixNanos(4));
        assert_eq!(
            r.map(|r| (r.opened_at, r.quote_fees)),
            Some((UnixNanos(3), fee(300)))
        );
        assert_eq!(t.late_fee(cid(9), fee(1)), LateFee::Unknown);
    }

    #[test]
    fn strategies_and_instruments_are_tracked_apart() {
        let mut t = RoundTrips::default();
        let q = Qty::from_int(1);
        let p = Price::from_int(10).notional(q);
        let z = Qty::ZERO;
        assert!(t.apply(S, I, Side::Buy, q, p, z, UnixNanos(1)).is_none());
        let other = StrategyId(1);
        assert!(
            t.apply(other, I, Side::Sell, q, p, z, UnixNanos(2))
                .is_none()
        );
        assert!(
            t.apply(S, InstrumentId(1), Side::Sell, q, p, z, UnixNanos(3))
                .is_none()
        );
        assert!(t.apply(S, I, Side::Sell, q, p, z, UnixNanos(4)).is_some());
        assert_eq!(t.open_qty(other, I), -100_000_000);
        // A zero fill changes nothing.
        assert!(
            t.apply(other, I, Side::Buy, z, p, z, UnixNanos(5))
                .is_none()
        );
        assert_eq!(t.open_qty(other, I), -100_000_000);
    }
}
