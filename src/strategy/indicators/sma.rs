//! Simple moving average over the last `period` values.

use super::ring::Ring;
use super::{IndicatorError, check_period};

/// TA-Lib's `SMA`: first value at index `period - 1`.
///
/// The window's sum is kept running, added to and subtracted from in TA-Lib's order, so the
/// rounding (and the residue a long series leaves in the sum) is TA-Lib's too.
#[derive(Debug, Clone)]
pub struct Sma {
    window: Ring,
    /// Sum of the window's values less the oldest one (TA-Lib subtracts it after dividing).
    sum: f64,
}

impl Sma {
    /// `period` from 1 to [`super::MAX_PERIOD`] (1 is the input itself).
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("SMA period", period, 1)?;
        Ok(Self {
            window: Ring::new(period),
            sum: 0.0,
        })
    }

    pub fn period(&self) -> usize {
        self.window.capacity()
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.sum += x;
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let total = self.sum;
        self.sum -= self.window.oldest();
        Some(total / self.period() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_last_period_values() {
        let mut sma = Sma::new(3).unwrap();
        let got: Vec<_> = [1.0, 2.0, 3.0, 4.0, 8.0].map(|x| sma.update(x)).into();
        assert_eq!(got, [None, None, Some(2.0), Some(3.0), Some(5.0)]);
        let mut one = Sma::new(1).unwrap();
        assert_eq!([7.5, 2.0].map(|x| one.update(x)), [Some(7.5), Some(2.0)]);
    }
}
