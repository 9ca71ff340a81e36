//! Delta's funding payments, read from the `positions` channel (reference/delta.md §3.7,
//! §4.6, §7 "Funding").
//!
//! **Unconfirmed reading, kept here in one place.** Delta documents realised funding in two
//! places only: the position's cumulative `realized_funding` (on the `positions` channel and
//! `GET /v2/positions/margined`) and wallet transactions of type `funding`
//! (`GET /v2/wallet/transactions`, weight 10, whose item shape the reference does not give).
//! No push names a funding payment. So a payment is read as the change of a position's
//! `realized_funding` between two `positions` items of the same symbol **with the same
//! size**: funding moves money, never the size, while a fill (which moves the size) may
//! also restart the position's figures, so a change that comes with a new size only sets the
//! new baseline. The first item seen for a symbol (the subscription's snapshot) is the
//! baseline, nothing is booked from it.
//!
//! - Sign: `realized_funding` is read as the position's funding PnL (negative when the
//!   account paid), so the amount paid is `old − new`.
//! - The time is the frame's `timestamp` (µs) when it has one, else when it came.
//! - The mark is the item's `mark_price` when it has one (CCXT's samples do; the docs'
//!   field list does not), else zero: the row then says no mark.
//! - The rate is not in the item: it is implied as paid ÷ (size × contract value × mark)
//!   when the mark and the product's contract value are known, else zero.
//! - A payment made while the socket was down is booked from the next snapshot if the size
//!   did not change meanwhile; one followed by a fill before any push is not booked (the
//!   wallet transactions would have it; they are not read).

use crate::types::{FundingRate, Price, Qty, SCALE, UnixNanos};
use crate::venue::order::VenueFunding;

use super::private::Position;

/// The last size and `realized_funding` seen per symbol, and each symbol's contract value.
#[derive(Debug, Default, Clone)]
pub struct FundingBook {
    last: Vec<(String, i64, i64)>,
    contract_values: Vec<(String, Qty)>,
}

impl FundingBook {
    /// `contract_values`: base asset per contract of each symbol (BTCUSD: 0.001), used for
    /// the implied rate only.
    pub fn new(contract_values: Vec<(String, Qty)>) -> Self {
        Self {
            last: Vec::new(),
            contract_values,
        }
    }

    /// The funding payment this `positions` item shows, if any (and the item's figures kept
    /// as the next baseline).
    pub fn on_position(&mut self, p: &Position, at: UnixNanos) -> Option<VenueFunding> {
        let now = p.realized_funding?;
        let k = match self.last.iter().position(|(s, _, _)| *s == p.symbol) {
            Some(k) => k,
            None => {
                self.last.push((p.symbol.clone(), p.size, now));
                return None;
            }
        };
        let (_, size, before) =
            std::mem::replace(&mut self.last[k], (p.symbol.clone(), p.size, now));
        if size != p.size || p.size == 0 || now == before {
            return None;
        }
        let paid = before.checked_sub(now)?;
        let mark = p.mark_price.unwrap_or(Price::from_units(0));
        Some(VenueFunding {
            symbol: p.symbol.clone(),
            size: p.size.checked_mul(SCALE)?,
            mark,
            rate: self.implied_rate(&p.symbol, p.size, mark, paid),
            paid,
            // The frame's time (µs) when it has one: the funding time on Delta's pushes.
            at: p
                .timestamp_us
                .map_or(at, |us| UnixNanos(us.saturating_mul(1000))),
        })
    }

    /// paid ÷ (size × contract value × mark), at `10^-8` (positive: longs pay); zero when
    /// not known.
    fn implied_rate(&self, symbol: &str, size: i64, mark: Price, paid: i64) -> FundingRate {
        let cv = self
            .contract_values
            .iter()
            .find(|(s, _)| s == symbol)
            .map(|(_, q)| i128::from(q.units()));
        let scale = i128::from(SCALE);
        let Some(cv) = cv else {
            return FundingRate::ZERO;
        };
        // Notional in quote units at 10^-8: contracts × (cv / 10^8) × mark.
        let notional = i128::from(size.unsigned_abs()) * cv * i128::from(mark.units()) / scale;
        if notional <= 0 {
            return FundingRate::ZERO;
        }
        // Signed as the rate: a short receiving (paid < 0) under a positive rate.
        let units = i128::from(paid) * scale / notional * i128::from(size.signum());
        i64::try_from(units).map_or(FundingRate::ZERO, FundingRate::from_units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(size: i64, rf: &str, mark: Option<&str>) -> Position {
        let signed = |t: &str| match t.strip_prefix('-') {
            Some(a) => -Qty::parse(a).unwrap().units(),
            None => Qty::parse(t).unwrap().units(),
        };
        Position {
            action: "update".into(),
            symbol: "BTCUSD".into(),
            size,
            entry_price: None,
            margin: None,
            liquidation_price: None,
            realized_funding: Some(signed(rf)),
            mark_price: mark.map(|m| Price::parse(m).unwrap()),
            timestamp_us: None,
        }
    }

    fn book() -> FundingBook {
        FundingBook::new(vec![("BTCUSD".into(), Qty::parse("0.001").unwrap())])
    }

    #[test]
    fn a_change_at_the_same_size_is_a_payment() {
        let mut b = book();
        let at = UnixNanos(7);
        assert_eq!(b.on_position(&pos(10, "-0.5", None), at), None, "baseline");
        // 10 contracts of 0.001 BTC at 60000 = 600 USD; 0.06 paid = 0.0001.
        let f = b.on_position(&pos(10, "-0.56", Some("60000")), at).unwrap();
        assert_eq!(f.paid, 6_000_000);
        assert_eq!(f.size, 10 * SCALE);
        assert_eq!(f.mark, Price::parse("60000").unwrap());
        assert_eq!(f.rate, FundingRate::parse("0.0001").unwrap());
        assert_eq!(f.at, at);
        // The frame's own time wins over the receive time.
        let mut p = pos(10, "-0.62", Some("60000"));
        p.timestamp_us = Some(1_700_000_000_000_000);
        let f = b.on_position(&p, at).unwrap();
        assert_eq!(f.at, UnixNanos(1_700_000_000_000_000_000));
        assert_eq!(f.paid, 6_000_000);
        // A short receiving: realized_funding goes up, paid is negative.
        let mut b = book();
        b.on_position(&pos(-4, "0", None), at);
        let f = b.on_position(&pos(-4, "0.024", Some("60000")), at).unwrap();
        assert_eq!(f.paid, -2_400_000);
        assert_eq!(f.size, -4 * SCALE);
        assert_eq!(f.rate, FundingRate::parse("0.0001").unwrap());
    }

    #[test]
    fn a_new_size_or_no_change_books_nothing() {
        let mut b = book();
        let at = UnixNanos(1);
        b.on_position(&pos(10, "-0.5", None), at);
        assert_eq!(b.on_position(&pos(10, "-0.5", None), at), None);
        // A fill: the size moves and the figure restarts; only the baseline changes.
        assert_eq!(b.on_position(&pos(12, "0", None), at), None);
        let f = b.on_position(&pos(12, "-0.1", None), at).unwrap();
        assert_eq!(f.paid, 10_000_000);
        // No mark: the row has no mark and no rate.
        assert_eq!(f.mark, Price::from_units(0));
        assert_eq!(f.rate, FundingRate::ZERO);
        // Flat: nothing to fund.
        b.on_position(&pos(0, "-0.1", None), at);
        assert_eq!(b.on_position(&pos(0, "-0.2", None), at), None);
        // An item without realized_funding leaves the baseline alone.
        let mut none = pos(0, "0", None);
        none.realized_funding = None;
        assert_eq!(b.on_position(&none, at), None);
    }
}
