//! Moving average convergence/divergence: line, signal and histogram.

use super::ema::Ema;
use super::{IndicatorError, check_period};

/// One bar's MACD outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// Fast EMA - slow EMA.
    pub macd: f64,
    /// EMA of the line over the signal period.
    pub signal: f64,
    /// Line - signal.
    pub hist: f64,
}

/// TA-Lib's `MACD`. The slow EMA starts as usual (its first value at `slow - 1`), but the
/// fast EMA is seeded on the same bar: by the average of the `fast` inputs ending there,
/// so the line starts at index `slow - 1`. The signal is an EMA of the line, seeded by the
/// average of its first `signal` values, so all three outputs start at index
/// `slow + signal - 2` (33 for 12/26/9). A fast period above the slow one is swapped, as
/// TA-Lib does; a signal period of 1 makes the signal the line itself.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Inputs the fast EMA skips: those before its seed window, `slow - fast`.
    fast_skip: usize,
}

impl Macd {
    /// Periods from 1 to [`super::MAX_PERIOD`].
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, IndicatorError> {
        let fast = check_period("MACD fast period", fast, 1)?;
        let slow = check_period("MACD slow period", slow, 1)?;
        let signal = check_period("MACD signal period", signal, 1)?;
        let (fast, slow) = (fast.min(slow), fast.max(slow));
        Ok(Self {
            fast: Ema::new(fast)?,
            slow: Ema::new(slow)?,
            signal: Ema::new(signal)?,
            fast_skip: slow - fast,
        })
    }

    /// (fast, slow, signal), after the swap.
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.fast.period(), self.slow.period(), self.signal.period())
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let slow = self.slow.update(x);
        if self.fast_skip > 0 {
            self.fast_skip -= 1;
            return None;
        }
        let fast = self.fast.update(x)?;
        let macd = fast - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdValue {
            macd,
            signal,
            hist: macd - signal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ema_is_seeded_on_the_slow_emas_first_bar() {
        // fast 2 (k 2/3), slow 3 (k 1/2), signal 2 (k 2/3).
        // Bar 2: slow = (1+2+3)/3 = 2, fast = (2+3)/2 = 2.5 (not an EMA from bar 0): line 0.5.
        // Bar 3 (x 6): slow = 2 + 4/2 = 4, fast = 2.5 + 3.5 * 2/3 = 29/6: line 5/6.
        // Signal seed = (0.5 + 5/6) / 2 = 2/3 at bar 3, the first output.
        let mut m = Macd::new(2, 3, 2).unwrap();
        let got: Vec<_> = [1.0, 2.0, 3.0, 6.0].map(|x| m.update(x)).into();
        assert_eq!(&got[..3], [None, None, None]);
        let v = got[3].unwrap();
        assert!((v.macd - 5.0 / 6.0).abs() < 1e-12, "{v:?}");
        assert!((v.signal - 2.0 / 3.0).abs() < 1e-12, "{v:?}");
        assert!((v.hist - 1.0 / 6.0).abs() < 1e-12, "{v:?}");
    }

    #[test]
    fn first_value_at_slow_plus_signal_minus_two_and_periods_swap() {
        let mut m = Macd::new(26, 12, 9).unwrap();
        assert_eq!(m.periods(), (12, 26, 9));
        let first = (0..40).position(|i| m.update(100.0 + i as f64).is_some());
        assert_eq!(first, Some(33));
    }

    #[test]
    fn signal_period_one_is_the_line() {
        let mut m = Macd::new(2, 3, 1).unwrap();
        let v = [1.0, 2.0, 3.0].map(|x| m.update(x))[2].unwrap();
        assert_eq!((v.macd, v.signal, v.hist), (0.5, 0.5, 0.0));
    }
}
