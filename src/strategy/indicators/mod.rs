//! Technical indicators computed bar by bar, equal to TA-Lib's output: SMA, EMA, RSI, MACD,
//! Bollinger bands, ATR, and rolling volatility of log returns (which TA-Lib lacks).
//!
//! Each indicator is a small state machine: `update` takes one bar's value in O(1) and
//! returns `None` until the first bar at which TA-Lib gives a value (its "lookback"), then a
//! value on every bar. Memory is allocated once, at construction (a ring buffer of the
//! period where a window is needed); nothing allocates on `update`.
//!
//! TA-Lib is taken with its defaults: classic compatibility (an EMA is seeded by the simple
//! average of its first `period` inputs) and no unstable period. The equality is pinned by
//! `tests/indicators_talib.rs` against fixtures written by real TA-Lib
//! (`tools/talib_fixtures.py`, which names the version). Where TA-Lib's C code has changed
//! results between releases, the behaviour here follows that version and the item's docs say
//! so.
//!
//! A NaN or infinite input poisons an indicator's state for good, as it does in TA-Lib;
//! callers that read outside data check it first (`mako indicators` does).

mod atr;
mod bbands;
mod ema;
mod macd;
mod ring;
mod rsi;
mod sma;
mod variance;
mod volatility;

pub use atr::Atr;
pub use bbands::{Bands, Bbands};
pub use ema::Ema;
pub use macd::{Macd, MacdValue};
pub use rsi::Rsi;
pub use sma::Sma;
pub use volatility::LogReturnVol;

/// Largest period any indicator accepts (TA-Lib's own limit); it bounds the ring buffers.
pub const MAX_PERIOD: usize = 100_000;

/// A parameter an indicator cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndicatorError {
    #[error("{what} {got}: must be between {min} and {MAX_PERIOD}")]
    Period {
        what: &'static str,
        got: usize,
        min: usize,
    },
    #[error("band width {0}: must be a finite number, not negative")]
    Width(f64),
}

/// `Ok(period)` when `min <= period <= MAX_PERIOD`.
fn check_period(what: &'static str, period: usize, min: usize) -> Result<usize, IndicatorError> {
    if (min..=MAX_PERIOD).contains(&period) {
        Ok(period)
    } else {
        Err(IndicatorError::Period {
            what,
            got: period,
            min,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_out_of_range_are_refused_with_their_bounds() {
        assert_eq!(
            Sma::new(0).unwrap_err().to_string(),
            "SMA period 0: must be between 1 and 100000"
        );
        assert!(Ema::new(MAX_PERIOD + 1).is_err());
        assert!(Ema::new(MAX_PERIOD).is_ok());
        assert_eq!(
            Rsi::new(1).unwrap_err(),
            IndicatorError::Period {
                what: "RSI period",
                got: 1,
                min: 2
            }
        );
        assert!(Bbands::new(1, 2.0).is_err());
        assert!(Bbands::new(20, f64::NAN).is_err());
        assert!(Bbands::new(20, -1.0).is_err());
        assert!(Atr::new(0).is_err());
        assert!(LogReturnVol::new(1).is_err());
        assert!(Macd::new(12, 26, 0).is_err());
    }
}
