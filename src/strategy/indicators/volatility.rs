//! Rolling volatility: the standard deviation of log returns over a window.

use super::variance::RollingDeviation;
use super::{IndicatorError, check_period};

/// The sample standard deviation (divisor `n - 1`, as pandas' `rolling().std()` and
/// `numpy.std(ddof=1)`) of the last `n` log returns `ln(close / previous close)`, per bar
/// (not annualised). The first value is at index `n`: it needs `n + 1` closes. TA-Lib has no
/// such function; the fixtures compare it with numpy.
///
/// Closes must be positive: a zero or negative close makes the return NaN, which stays in
/// the window's sums for good.
#[derive(Debug, Clone)]
pub struct LogReturnVol {
    returns: RollingDeviation,
    n: usize,
    prev: Option<f64>,
}

impl LogReturnVol {
    /// `n` from 2 to [`super::MAX_PERIOD`] (one return has no sample deviation).
    pub fn new(n: usize) -> Result<Self, IndicatorError> {
        let n = check_period("volatility window", n, 2)?;
        Ok(Self {
            returns: RollingDeviation::new(n),
            n,
            prev: None,
        })
    }

    pub fn window(&self) -> usize {
        self.n
    }

    #[inline]
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let m2 = self.returns.push((close / prev).ln())?;
        Some((m2 / (self.n - 1) as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_deviation_of_log_returns() {
        // Returns ln 2 and 0: mean ln2/2, sample variance ((ln2/2)^2 * 2) / 1 -> σ = ln2/√2.
        let mut vol = LogReturnVol::new(2).unwrap();
        let got: Vec<_> = [1.0, 2.0, 2.0].map(|c| vol.update(c)).into();
        assert_eq!(&got[..2], [None, None]);
        let want = std::f64::consts::LN_2 / std::f64::consts::SQRT_2;
        assert!((got[2].unwrap() - want).abs() < 1e-15, "{got:?}");
        // Equal returns (a steady 10% climb) and a flat close have no spread.
        let mut steady = LogReturnVol::new(2).unwrap();
        for c in [100.0, 110.0, 121.0] {
            steady.update(c);
        }
        assert!(steady.update(133.1).unwrap() < 1e-15);
        let mut flat = LogReturnVol::new(3).unwrap();
        let got = [5.0; 6].map(|c| flat.update(c));
        assert_eq!(got[3..], [Some(0.0); 3]);
    }
}
