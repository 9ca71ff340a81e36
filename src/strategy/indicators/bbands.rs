//! Bollinger bands: a simple moving average and a multiple of the population standard
//! deviation above and below it.

use super::sma::Sma;
use super::variance::RollingDeviation;
use super::{IndicatorError, check_period};

/// One bar's bands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

/// TA-Lib's `BBANDS` with an SMA middle band and one width `k` for both sides
/// (nbdevup = nbdevdn = k): `middle ± k * σ`, σ the population standard deviation of the
/// last `period` values; first value at index `period - 1`.
///
/// The middle band is TA-Lib's running-sum SMA. σ comes from a shifted rolling sum (see
/// `variance.rs`) that is exact for flat windows, where TA-Lib 0.8.1 also answers 0; TA-Lib
/// 0.4 zeroed σ whenever the variance fell below 1e-8, which flattened the bands of coins
/// quoted in small units. Values equal TA-Lib's to rounding, not bit for bit.
#[derive(Debug, Clone)]
pub struct Bbands {
    sma: Sma,
    deviation: RollingDeviation,
    k: f64,
}

impl Bbands {
    /// `period` from 2 to [`super::MAX_PERIOD`]; `k` finite and not negative.
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        let period = check_period("Bollinger period", period, 2)?;
        if !(k.is_finite() && k >= 0.0) {
            return Err(IndicatorError::Width(k));
        }
        Ok(Self {
            sma: Sma::new(period)?,
            deviation: RollingDeviation::new(period),
            k,
        })
    }

    pub fn period(&self) -> usize {
        self.sma.period()
    }

    pub fn width(&self) -> f64 {
        self.k
    }

    #[inline]
    pub fn update(&mut self, x: f64) -> Option<Bands> {
        let middle = self.sma.update(x);
        let m2 = self.deviation.push(x);
        let (middle, m2) = (middle?, m2?);
        let half = (m2 / self.period() as f64).sqrt() * self.k;
        Some(Bands {
            upper: middle + half,
            middle,
            lower: middle - half,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_deviation_around_the_average() {
        // [1, 3]: mean 2, population σ 1; k 2 -> 4 and 0.
        let mut bb = Bbands::new(2, 2.0).unwrap();
        assert_eq!(bb.update(1.0), None);
        assert_eq!(
            bb.update(3.0),
            Some(Bands {
                upper: 4.0,
                middle: 2.0,
                lower: 0.0
            })
        );
        // [3, 3]: flat, the bands close on the middle.
        let flat = bb.update(3.0).unwrap();
        assert_eq!((flat.upper, flat.middle, flat.lower), (3.0, 3.0, 3.0));
        // [2, 4, 4, 4, 5, 5, 7, 9]: the textbook σ = 2.
        let mut bb = Bbands::new(8, 1.5).unwrap();
        let last = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].map(|x| bb.update(x))[7].unwrap();
        assert_eq!((last.upper, last.middle, last.lower), (8.0, 5.0, 2.0));
    }
}
