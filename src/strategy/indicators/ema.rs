//! Exponential moving average, seeded by a simple average.

use super::{IndicatorError, check_period};

/// TA-Lib's `EMA` (classic compatibility): the first value, at index `period - 1`, is the
/// simple average of the first `period` inputs; after it, `ema += (x - ema) * k` with
/// `k = 2 / (period + 1)`, written in TA-Lib's order so the rounding is the same. Period 1
/// gives the input itself.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    /// Inputs seen, saturating at `period`.
    seen: usize,
    /// The sum of the inputs while seeding, then the average.
    value: f64,
}

impl Ema {
    /// `period` from 1 to [`super::MAX_PERIOD`] (1 is the input itself).
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("EMA period", period, 1)?;
        Ok(Self {
            period,
            k: 2.0 / (period + 1) as f64,
            seen: 0,
            value: 0.0,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.seen == self.period {
            // At period 1 (k = 1) the general step could round away from the input.
            self.value = if self.period == 1 {
                x
            } else {
                self.value + (x - self.value) * self.k
            };
            return Some(self.value);
        }
        self.value += x;
        self.seen += 1;
        if self.seen < self.period {
            return None;
        }
        self.value /= self.period as f64;
        Some(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_the_simple_average_then_smooths() {
        // k = 2 / (3 + 1) = 0.5: seed (1 + 2 + 3) / 3 = 2, then 2 + (6 - 2) / 2 = 4,
        // then 4 + (0 - 4) / 2 = 2.
        let mut ema = Ema::new(3).unwrap();
        let got: Vec<_> = [1.0, 2.0, 3.0, 6.0, 0.0].map(|x| ema.update(x)).into();
        assert_eq!(got, [None, None, Some(2.0), Some(4.0), Some(2.0)]);
    }

    #[test]
    fn period_one_is_the_input() {
        let mut ema = Ema::new(1).unwrap();
        assert_eq!(
            [0.1, 0.7, 0.3].map(|x| ema.update(x)),
            [0.1, 0.7, 0.3].map(Some)
        );
    }
}
