//! Average true range with Wilder's smoothing.

use super::{IndicatorError, check_period};

/// TA-Lib's `ATR`. A bar's true range is the greatest of high - low, |previous close -
/// high| and |previous close - low|, so the first bar has none. The first ATR, at index
/// `period`, is the simple average of the first `period` true ranges; after it
/// `atr = beta * atr + alpha * tr`, with `beta = (period - 1) / period` and
/// `alpha = 1 - beta`, the multiply-add fused as the TA-Lib C library of the fixtures
/// computes it (0.8.1; older releases wrote `(atr * (period - 1) + tr) / period`, equal but
/// for the last bit). Period 1 is the true range itself.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    alpha: f64,
    beta: f64,
    /// True ranges seen, saturating at `period`.
    ranges: usize,
    prev_close: Option<f64>,
    /// The sum of the true ranges while seeding, then the average.
    value: f64,
}

impl Atr {
    /// `period` from 1 to [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("ATR period", period, 1)?;
        let beta = (period - 1) as f64 / period as f64;
        Ok(Self {
            period,
            alpha: 1.0 - beta,
            beta,
            ranges: 0,
            prev_close: None,
            value: 0.0,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }

    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        let mut tr = high - low;
        let to_high = (prev - high).abs();
        if to_high > tr {
            tr = to_high;
        }
        let to_low = (prev - low).abs();
        if to_low > tr {
            tr = to_low;
        }
        if self.ranges == self.period {
            self.value = self.beta.mul_add(self.value, self.alpha * tr);
            return Some(self.value);
        }
        self.value += tr;
        self.ranges += 1;
        if self.ranges < self.period {
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
    fn true_range_reaches_to_the_previous_close() {
        let mut atr = Atr::new(1).unwrap();
        assert_eq!(atr.update(10.0, 9.0, 9.5), None);
        // Gap up: the range runs from the previous close 9.5 to the high 12.
        assert_eq!(atr.update(12.0, 11.0, 11.5), Some(2.5));
        // Gap down: from 11.5 down to the low 8.
        assert_eq!(atr.update(9.0, 8.0, 8.5), Some(3.5));
        // Inside the previous close: high - low.
        assert_eq!(atr.update(9.0, 7.0, 8.0), Some(2.0));
    }

    #[test]
    fn seeds_with_the_average_range_then_smooths() {
        // Ranges 1, 3 -> seed 2; then range 4: 2 * 1/2 + 4 * 1/2 = 3.
        let mut atr = Atr::new(2).unwrap();
        let bars = [
            (10.0, 10.0, 10.0),
            (10.5, 9.5, 10.0),
            (11.0, 8.0, 10.0),
            (12.0, 8.0, 10.0),
        ];
        let got: Vec<_> = bars.map(|(h, l, c)| atr.update(h, l, c)).into();
        assert_eq!(got, [None, None, Some(2.0), Some(3.0)]);
    }
}
