//! One strategy's paper balances: free and locked base and quote, 10^-8 units. They start
//! from the strategy's allocation and change only through `lock`, `release` and `trade`.

use crate::types::{InstrumentId, Qty, Side};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wallet {
    pub instrument: Option<InstrumentId>,
    pub base: i64,
    pub base_locked: i64,
    pub quote: i64,
    pub quote_locked: i64,
}

impl Wallet {
    pub fn new(instrument: InstrumentId, base: Qty, quote: Qty) -> Self {
        Self {
            instrument: Some(instrument),
            base: base.units(),
            base_locked: 0,
            quote: quote.units(),
            quote_locked: 0,
        }
    }

    /// What an order on `side` can still spend: quote for a buy, base for a sell.
    pub fn free(&self, side: Side) -> i64 {
        match side {
            Side::Buy => self.quote,
            Side::Sell => self.base,
        }
    }

    /// Holds `amount` for an open order on `side`.
    pub fn lock(&mut self, side: Side, amount: i64) {
        let (free, locked) = self.pair(side);
        *free -= amount;
        *locked += amount;
    }

    /// Gives back `amount` an order on `side` held.
    pub fn release(&mut self, side: Side, amount: i64) {
        let (free, locked) = self.pair(side);
        *free += amount;
        *locked -= amount;
    }

    /// One fill: `released` of what the order held comes back, then a buy pays `quote` and
    /// receives `qty` less `fee` (in base); a sell pays `qty` and receives `quote` less `fee`.
    pub fn trade(&mut self, side: Side, qty: i64, quote: i64, fee: i64, released: i64) {
        self.release(side, released);
        match side {
            Side::Buy => {
                self.quote -= quote;
                self.base += qty - fee;
            }
            Side::Sell => {
                self.base -= qty;
                self.quote += quote - fee;
            }
        }
    }

    fn pair(&mut self, side: Side) -> (&mut i64, &mut i64) {
        match side {
            Side::Buy => (&mut self.quote, &mut self.quote_locked),
            Side::Sell => (&mut self.base, &mut self.base_locked),
        }
    }
}
