//! Relative strength index with Wilder's smoothing.

use super::{IndicatorError, check_period};

/// TA-Lib's `RSI`: the first value, at index `period` (it needs `period` changes), uses the
/// plain averages of the first `period` gains and losses; after it each average becomes
/// `(average * (period - 1) + today's) / period` (Wilder's smoothing), and the index is
/// `100 * gain / (gain + loss)`.
///
/// The division by the period is a multiplication by `1 / period` and a flat stretch (no
/// gain and no loss) reads 0, as in the TA-Lib C library the fixtures were made with
/// (0.8.1): the total is tested against exact zero. Older releases (0.4) tested it against
/// a fixed 1e-8 band, which zeroed coins quoted in tiny units; TA-Lib's development branch
/// has since moved the flat reading to the neutral 50.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    inv_period: f64,
    /// Changes seen, saturating at `period`.
    changes: usize,
    prev: Option<f64>,
    /// Sums of the gains and losses while seeding, then their smoothed averages.
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// `period` from 2 to [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("RSI period", period, 2)?;
        Ok(Self {
            period,
            inv_period: 1.0 / period as f64,
            changes: 0,
            prev: None,
            gain: 0.0,
            loss: 0.0,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let prev = self.prev.replace(x)?;
        let change = x - prev;
        let up = if change > 0.0 { change } else { 0.0 };
        let down = up - change;
        if self.changes == self.period {
            let keep = (self.period - 1) as f64;
            self.gain = (self.gain * keep + up) * self.inv_period;
            self.loss = (self.loss * keep + down) * self.inv_period;
        } else {
            self.gain += up;
            self.loss += down;
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
            self.gain *= self.inv_period;
            self.loss *= self.inv_period;
        }
        let total = self.gain + self.loss;
        Some(if total > 0.0 {
            100.0 * (self.gain / total)
        } else {
            0.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilder_smoothing_from_the_first_period_changes() {
        // Changes +1, +1, -2 over period 3: gain 2/3, loss 2/3 -> 50.
        // Then +3: gain (2/3 * 2 + 3) / 3 = 13/9, loss (2/3 * 2) / 3 = 4/9 -> 100 * 13/17.
        let mut rsi = Rsi::new(3).unwrap();
        let got: Vec<_> = [10.0, 11.0, 12.0, 10.0, 13.0].map(|x| rsi.update(x)).into();
        assert_eq!(&got[..3], [None, None, None]);
        assert_eq!(got[3], Some(50.0));
        let last = got[4].unwrap();
        assert!((last - 100.0 * 13.0 / 17.0).abs() < 1e-12, "{last}");
    }

    #[test]
    fn one_sided_and_flat_windows() {
        let mut up = Rsi::new(2).unwrap();
        assert_eq!(
            [1.0, 2.0, 3.0, 4.0].map(|x| up.update(x))[2..],
            [Some(100.0); 2]
        );
        let mut down = Rsi::new(2).unwrap();
        assert_eq!([4.0, 3.0, 2.0].map(|x| down.update(x))[2], Some(0.0));
        let mut flat = Rsi::new(2).unwrap();
        assert_eq!([5.0, 5.0, 5.0].map(|x| flat.update(x))[2], Some(0.0));
        // No fixed zero band: a coin quoted in 1e-12 units still moves.
        let mut tiny = Rsi::new(2).unwrap();
        let got = [3e-12, 4e-12, 3.5e-12].map(|x| tiny.update(x))[2].unwrap();
        assert!((got - 100.0 * 1.0 / 1.5).abs() < 1e-9, "{got}");
    }
}
