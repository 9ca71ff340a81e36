//! Market-data events every venue's codec produces and every room reads: trade prints and best
//! bid/offer, perpetuals' mark, index and funding, in the engine's fixed point, with the
//! venue's own ids.

use std::fmt;

use crate::types::fixed::{needed_decimals, parse_units, write_units};
use crate::types::{DecimalError, InstrumentId, Price, Qty, Side, TradeId, UnixNanos, VenueId};

/// A public trade, as the feed hands it to strategies and the paper gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeEvent {
    pub venue: VenueId,
    pub instrument: InstrumentId,
    /// The venue's trade id (numeric ids order as numbers, which the feed uses to drop the
    /// copies two overlapping connections deliver).
    pub trade_id: TradeId,
    pub price: Price,
    pub qty: Qty,
    /// The side that took liquidity.
    pub aggressor: Side,
    pub trade_time: UnixNanos,
    /// The venue's event time.
    pub exchange_ts: UnixNanos,
    /// When the frame that carried it was read.
    pub recv_ts: UnixNanos,
}

/// A public trade as a venue's codec decodes it (before the feed stamps venue and receive time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradePrint {
    pub instrument: InstrumentId,
    pub trade_id: TradeId,
    pub price: Price,
    pub qty: Qty,
    pub aggressor: Side,
    pub trade_time: UnixNanos,
    /// The venue's event time (the trade time where the venue sends only one).
    pub event_time: UnixNanos,
}

/// A perpetual's funding rate per funding interval, signed (longs pay shorts when positive),
/// exact to `10^-8` as venues print it (`"-0.000212"`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FundingRate(i64);

impl FundingRate {
    pub const ZERO: Self = Self(0);

    pub const fn from_units(units: i64) -> Self {
        Self(units)
    }

    /// Units of `10^-8`.
    pub const fn units(self) -> i64 {
        self.0
    }

    /// `"0.0001"`, `"-0.000212"`; more than 8 significant decimals is an error, as for prices.
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        match s.as_bytes().split_first() {
            Some((b'-', abs)) => parse_units(abs).map(|u| Self(-u)),
            _ => parse_units(s.as_bytes()).map(Self),
        }
    }
}

impl fmt::Display for FundingRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        let n = write_units(self.0, needed_decimals(self.0), &mut buf);
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for FundingRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FundingRate({self})")
    }
}

/// A perpetual's mark price, index price and funding as its venue last stated them (Bybit's
/// linear `tickers`), venue-neutral. The feed publishes it into the book cache beside the book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkUpdate {
    pub instrument: InstrumentId,
    pub mark: Price,
    pub index: Price,
    pub funding_rate: FundingRate,
    /// When the next funding is settled, Unix milliseconds.
    pub next_funding_ms: u64,
    /// The venue's time of the message that completed this state.
    pub exchange_ts: UnixNanos,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funding_rates_parse_signed_and_print_back() {
        for (s, units, back) in [
            ("-0.000212", -21_200, "-0.000212"),
            ("0.0001", 10_000, "0.0001"),
            ("0", 0, "0"),
            ("-0.00002178", -2_178, "-0.00002178"),
        ] {
            let r = FundingRate::parse(s).unwrap();
            assert_eq!((r.units(), r.to_string().as_str()), (units, back), "{s}");
        }
        assert_eq!(
            FundingRate::parse("0.000000001"),
            Err(DecimalError::TooPrecise)
        );
        assert!(FundingRate::parse("-").is_err());
        assert!(FundingRate::parse("").is_err());
        assert!(FundingRate::parse("--1").is_err());
    }
}
