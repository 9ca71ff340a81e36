//! Instrument metadata: the venue's symbol and the grid its prices and quantities must sit on.

use super::fixed::{DECIMALS, Notional, Price, Qty};
use super::ids::{InstrumentId, VenueId};
use super::perp::{Contract, Margin};

/// Why a price or quantity is not acceptable for an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("price {0} is not a multiple of the tick size {1}")]
    PriceOffTick(Price, Price),
    #[error("price {0} is outside [{1}, {2}]")]
    PriceOutOfRange(Price, Price, Price),
    #[error("quantity {0} is not a multiple of the lot size {1}")]
    QtyOffLot(Qty, Qty),
    #[error("quantity {0} is outside [{1}, {2}]")]
    QtyOutOfRange(Qty, Qty, Qty),
    #[error("notional {n} is below the minimum {min}", n = .0.to_f64(), min = .1)]
    NotionalTooSmall(Notional, Price),
    #[error("tick size and lot size must be positive")]
    BadGrid,
}

/// One tradable instrument on one venue. Built from config and, when live, checked against
/// the venue's own filters (tick = PRICE_FILTER.tickSize, lot = LOT_SIZE.stepSize, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub id: InstrumentId,
    pub venue: VenueId,
    /// The venue's spelling, e.g. `BTCUSDT`.
    pub symbol: String,
    pub base: String,
    pub quote: String,
    /// Every price is a multiple of this (> 0).
    pub tick_size: Price,
    /// Every quantity is a multiple of this (> 0).
    pub lot_size: Qty,
    pub min_qty: Qty,
    /// Zero means no maximum.
    pub max_qty: Qty,
    pub min_price: Price,
    /// Zero means no maximum.
    pub max_price: Price,
    /// Minimum `price × qty`, in quote units; zero disables.
    pub min_notional: Price,
    /// Fractional digits of `tick_size`: how prices are written to the venue.
    pub price_decimals: u32,
    /// Fractional digits of `lot_size`: how quantities are written to the venue.
    pub qty_decimals: u32,
    /// Spot or perpetual, and how quantities count (base units or contracts of a size).
    pub contract: Contract,
    /// The asset PnL, fees and margin settle in: the quote asset for spot and linear
    /// perpetuals, the base asset for inverse ones.
    pub settle: String,
    /// Leverage, margin mode and maintenance rate of a perpetual; `None` for spot.
    pub margin: Option<Margin>,
}

impl Instrument {
    /// An instrument with the given grid and no other limits. Fails if the grid is not positive.
    pub fn new(
        id: InstrumentId,
        venue: VenueId,
        symbol: &str,
        base: &str,
        quote: &str,
        tick_size: Price,
        lot_size: Qty,
    ) -> Result<Self, GridError> {
        if !tick_size.is_positive() || !lot_size.is_positive() {
            return Err(GridError::BadGrid);
        }
        Ok(Self {
            id,
            venue,
            symbol: symbol.to_owned(),
            base: base.to_owned(),
            quote: quote.to_owned(),
            tick_size,
            lot_size,
            min_qty: lot_size,
            max_qty: Qty::ZERO,
            min_price: tick_size,
            max_price: Price::ZERO,
            min_notional: Price::ZERO,
            price_decimals: tick_size.decimals_needed(),
            qty_decimals: lot_size.decimals_needed(),
            contract: Contract::SPOT,
            settle: quote.to_owned(),
            margin: None,
        })
    }

    pub fn check_price(&self, p: Price) -> Result<(), GridError> {
        if !p.is_multiple_of(self.tick_size) {
            return Err(GridError::PriceOffTick(p, self.tick_size));
        }
        let max = if self.max_price.is_zero() {
            Price::MAX
        } else {
            self.max_price
        };
        if p < self.min_price || p > max {
            return Err(GridError::PriceOutOfRange(p, self.min_price, max));
        }
        Ok(())
    }

    pub fn check_qty(&self, q: Qty) -> Result<(), GridError> {
        if !q.is_multiple_of(self.lot_size) {
            return Err(GridError::QtyOffLot(q, self.lot_size));
        }
        let max = if self.max_qty.is_zero() {
            Qty::MAX
        } else {
            self.max_qty
        };
        if q < self.min_qty || q > max {
            return Err(GridError::QtyOutOfRange(q, self.min_qty, max));
        }
        Ok(())
    }

    /// Price grid, quantity grid and minimum notional together: what a venue checks on a
    /// new limit order.
    pub fn check_order(&self, p: Price, q: Qty) -> Result<(), GridError> {
        self.check_price(p)?;
        self.check_qty(q)?;
        let n = Notional(self.contract.quote_value(q, p));
        if n < Notional::from_price(self.min_notional) {
            return Err(GridError::NotionalTooSmall(n, self.min_notional));
        }
        Ok(())
    }

    /// Writes a price the way the venue expects it (the tick's decimals), allocation-free.
    #[inline]
    pub fn write_price(&self, p: Price, out: &mut [u8]) -> usize {
        p.write_fixed(self.price_decimals, out)
    }

    /// Writes a quantity the way the venue expects it (the lot's decimals), allocation-free.
    #[inline]
    pub fn write_qty(&self, q: Qty, out: &mut [u8]) -> usize {
        q.write_fixed(self.qty_decimals, out)
    }
}

const _: () = assert!(
    DECIMALS == 8,
    "Instrument decimals assume the 8-decimal fixed point"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn btcusdt() -> Instrument {
        let mut i = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "BTCUSDT",
            "BTC",
            "USDT",
            Price::parse("0.01").unwrap(),
            Qty::parse("0.00001").unwrap(),
        )
        .unwrap();
        i.min_notional = Price::parse("5").unwrap();
        i
    }

    #[test]
    fn grid_checks() {
        let i = btcusdt();
        assert_eq!(i.price_decimals, 2);
        assert_eq!(i.qty_decimals, 5);
        let p = |s| Price::parse(s).unwrap();
        let q = |s| Qty::parse(s).unwrap();
        assert!(i.check_order(p("61837.63"), q("0.001")).is_ok());
        assert!(matches!(
            i.check_price(p("61837.635")),
            Err(GridError::PriceOffTick(..))
        ));
        assert!(matches!(
            i.check_qty(q("0.000015")),
            Err(GridError::QtyOffLot(..))
        ));
        assert!(matches!(
            i.check_qty(Qty::ZERO),
            Err(GridError::QtyOutOfRange(..))
        ));
        assert!(matches!(
            i.check_order(p("100.00"), q("0.0001")),
            Err(GridError::NotionalTooSmall(..))
        ));
        assert_eq!(
            Instrument::new(
                InstrumentId(0),
                VenueId(0),
                "X",
                "A",
                "B",
                Price::ZERO,
                q("1")
            ),
            Err(GridError::BadGrid)
        );
    }

    proptest! {
        // Every price on the instrument's grid is written with the tick's decimals and read
        // back to the same value and the same string.
        #[test]
        fn every_grid_price_round_trips(k in 1i64..1_000_000_000_000) {
            let i = btcusdt();
            let p = Price::from_units(k * i.tick_size.units());
            let mut buf = [0u8; 32];
            let n = i.write_price(p, &mut buf);
            let s = std::str::from_utf8(&buf[..n]).unwrap();
            let back = Price::parse(s).unwrap();
            prop_assert_eq!(back, p);
            prop_assert!(i.check_price(back).is_ok());
            let mut again = [0u8; 32];
            let m = i.write_price(back, &mut again);
            prop_assert_eq!(&buf[..n], &again[..m]);
        }
    }
}
