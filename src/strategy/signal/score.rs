//! The score: RSI, moving-average crossover and MACD each turned into a component in
//! [-1, 1] (positive = buy), weighted into one score in [-1, 1]; its temperature (the seed's
//! hot / warm / cool / frozen, by `|score|`) and the signal it gives. Pure functions plus the
//! indicator set that feeds them one close at a time, without allocating.

use crate::strategy::indicators::{IndicatorError, Macd, Rsi, Sma};

use super::params::{Bands, SignalParams, Weights};

/// The seed's "temperature": how strong the score is, whichever its sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temperature {
    Hot,
    Warm,
    Cool,
    Frozen,
}

impl Temperature {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hot => "hot",
            Self::Warm => "warm",
            Self::Cool => "cool",
            Self::Frozen => "frozen",
        }
    }
}

/// What a hot score asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Buy,
    Sell,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

fn clamp1(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) }
}

/// +1 at or below `buy`, −1 at or above `sell`, linear between (0 half-way).
pub fn rsi_component(rsi: f64, buy: f64, sell: f64) -> f64 {
    debug_assert!(buy < sell, "Invariant: rsi_buy < rsi_sell");
    let mid = (buy + sell) / 2.0;
    let half = (sell - buy) / 2.0;
    clamp1((mid - rsi) / half)
}

/// The fast average's distance above the slow one, in percent of the slow one, over
/// `full_percent`: +1 (−1) once the fast one is that far above (below).
pub fn ma_component(fast: f64, slow: f64, full_percent: f64) -> f64 {
    if slow <= 0.0 {
        return 0.0;
    }
    clamp1((fast - slow) / slow * 100.0 / full_percent)
}

/// The MACD histogram in percent of the close, over `full_percent`.
pub fn macd_component(hist: f64, close: f64, full_percent: f64) -> f64 {
    if close <= 0.0 {
        return 0.0;
    }
    clamp1(hist / close * 100.0 / full_percent)
}

/// The three components weighted into one score in [-1, 1].
pub fn score(rsi: f64, ma: f64, macd: f64, w: &Weights) -> f64 {
    let total = w.rsi + w.ma + w.macd;
    if total <= 0.0 {
        return 0.0;
    }
    clamp1((w.rsi * rsi + w.ma * ma + w.macd * macd) / total)
}

pub fn temperature(score: f64, b: &Bands) -> Temperature {
    let s = score.abs();
    if s >= b.hot {
        Temperature::Hot
    } else if s >= b.warm {
        Temperature::Warm
    } else if s >= b.cool {
        Temperature::Cool
    } else {
        Temperature::Frozen
    }
}

/// A hot score is a signal: buy when positive, sell when negative.
pub fn signal_of(score: f64, b: &Bands) -> Option<Signal> {
    if score >= b.hot {
        Some(Signal::Buy)
    } else if score <= -b.hot {
        Some(Signal::Sell)
    } else {
        None
    }
}

/// One bar's reading: the indicators, the components and the score.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    pub close: f64,
    pub rsi: f64,
    pub ma_fast: f64,
    pub ma_slow: f64,
    pub macd: f64,
    pub macd_signal: f64,
    pub macd_hist: f64,
    pub c_rsi: f64,
    pub c_ma: f64,
    pub c_macd: f64,
    pub score: f64,
}

/// The indicators of one bot, fed each closed candle's close.
#[derive(Debug, Clone)]
pub struct Scorer {
    rsi: Rsi,
    fast: Sma,
    slow: Sma,
    macd: Macd,
    rsi_buy: f64,
    rsi_sell: f64,
    ma_full: f64,
    macd_full: f64,
    weights: Weights,
}

impl Scorer {
    pub fn new(p: &SignalParams) -> Result<Self, IndicatorError> {
        Ok(Self {
            rsi: Rsi::new(p.rsi_period)?,
            fast: Sma::new(p.ma_fast)?,
            slow: Sma::new(p.ma_slow)?,
            macd: Macd::new(p.macd_fast, p.macd_slow, p.macd_signal)?,
            rsi_buy: p.rsi_buy,
            rsi_sell: p.rsi_sell,
            ma_full: p.ma_full_percent,
            macd_full: p.macd_full_percent,
            weights: p.weights,
        })
    }

    /// Weights and thresholds of new parameters (the periods stay: changing one needs a new
    /// series).
    pub fn retune(&mut self, p: &SignalParams) {
        self.rsi_buy = p.rsi_buy;
        self.rsi_sell = p.rsi_sell;
        self.ma_full = p.ma_full_percent;
        self.macd_full = p.macd_full_percent;
        self.weights = p.weights;
    }

    /// Adds one close; the reading once every indicator has a value. A close that is not a
    /// positive finite number is skipped (it would poison the indicators for good).
    #[inline]
    pub fn update(&mut self, close: f64) -> Option<Reading> {
        if !close.is_finite() || close <= 0.0 {
            return None;
        }
        let rsi = self.rsi.update(close);
        let fast = self.fast.update(close);
        let slow = self.slow.update(close);
        let macd = self.macd.update(close);
        let (rsi, fast, slow, m) = (rsi?, fast?, slow?, macd?);
        let c_rsi = rsi_component(rsi, self.rsi_buy, self.rsi_sell);
        let c_ma = ma_component(fast, slow, self.ma_full);
        let c_macd = macd_component(m.hist, close, self.macd_full);
        Some(Reading {
            close,
            rsi,
            ma_fast: fast,
            ma_slow: slow,
            macd: m.macd,
            macd_signal: m.signal,
            macd_hist: m.hist,
            c_rsi,
            c_ma,
            c_macd,
            score: score(c_rsi, c_ma, c_macd, &self.weights),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Weights = Weights {
        rsi: 0.4,
        ma: 0.3,
        macd: 0.3,
    };
    const B: Bands = Bands {
        hot: 0.5,
        warm: 0.3,
        cool: 0.1,
    };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn rsi_counts_fully_beyond_its_thresholds_and_linearly_between() {
        for (rsi, want) in [
            (10.0, 1.0),
            (30.0, 1.0),
            (40.0, 0.5),
            (50.0, 0.0),
            (60.0, -0.5),
            (70.0, -1.0),
            (95.0, -1.0),
        ] {
            assert!(close(rsi_component(rsi, 30.0, 70.0), want), "rsi {rsi}");
        }
    }

    #[test]
    fn ma_and_macd_scale_by_their_full_percent_and_saturate() {
        // Fast 100.25 over slow 100: 0.25 % of a 0.5 % full scale.
        assert!(close(ma_component(100.25, 100.0, 0.5), 0.5));
        assert!(close(ma_component(99.0, 100.0, 0.5), -1.0));
        assert_eq!(ma_component(1.0, 0.0, 0.5), 0.0);
        // Histogram 0.05 on a close of 100: 0.05 % of a 0.1 % full scale.
        assert!(close(macd_component(0.05, 100.0, 0.1), 0.5));
        assert!(close(macd_component(-0.5, 100.0, 0.1), -1.0));
    }

    #[test]
    fn the_score_is_the_weighted_mean_of_the_components() {
        // 0.4 × 1 + 0.3 × 0.5 + 0.3 × (−1) = 0.25
        assert!(close(score(1.0, 0.5, -1.0, &W), 0.25));
        assert!(close(score(1.0, 1.0, 1.0, &W), 1.0));
        assert!(close(score(-1.0, -1.0, -1.0, &W), -1.0));
        let only_rsi = Weights {
            rsi: 2.0,
            ma: 0.0,
            macd: 0.0,
        };
        assert!(close(score(-0.75, 1.0, 1.0, &only_rsi), -0.75));
        assert_eq!(score(f64::NAN, 0.0, 0.0, &W), 0.0);
    }

    #[test]
    fn temperature_bands_by_the_size_of_the_score_and_only_hot_signals() {
        for (s, t, sig) in [
            (0.8, Temperature::Hot, Some(Signal::Buy)),
            (0.5, Temperature::Hot, Some(Signal::Buy)),
            (-0.5, Temperature::Hot, Some(Signal::Sell)),
            (0.49, Temperature::Warm, None),
            (-0.3, Temperature::Warm, None),
            (0.2, Temperature::Cool, None),
            (-0.1, Temperature::Cool, None),
            (0.05, Temperature::Frozen, None),
            (0.0, Temperature::Frozen, None),
        ] {
            assert_eq!((temperature(s, &B), signal_of(s, &B)), (t, sig), "score {s}");
        }
    }

    #[test]
    fn readings_start_at_macds_first_value_and_a_steady_fall_mixes_rsi_against_the_trend() {
        let p = SignalParams::from_table(&toml::Table::new()).unwrap();
        let mut s = Scorer::new(&p).unwrap();
        // MACD 12/26/9 gives its first value at bar 34 (index 33); RSI 14 and SMA 20 earlier.
        let mut first = None;
        let mut last = None;
        for i in 0..60 {
            let r = s.update(100.0 - f64::from(i) * 0.5);
            if r.is_some() && first.is_none() {
                first = Some(i);
            }
            last = r;
        }
        assert_eq!(first, Some(33));
        let r = last.unwrap();
        // Falling: RSI 0 says buy (+0.4), the averages sell (−0.3), MACD sells or is flat
        // (0 to −0.3): the score lies in [−0.2, 0.1].
        assert!(close(r.rsi, 0.0) && close(r.c_rsi, 1.0), "{r:?}");
        assert!(close(r.c_ma, -1.0) && r.c_macd <= 0.0, "{r:?}");
        assert!((-0.2 - 1e-12..=0.1 + 1e-12).contains(&r.score), "{r:?}");
        assert_eq!(s.update(f64::NAN), None);
        assert_eq!(s.update(-1.0), None);
        assert!(s.update(70.0).is_some(), "a bad close does not poison the series");
    }
}
