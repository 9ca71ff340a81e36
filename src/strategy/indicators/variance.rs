//! Rolling sum of squared deviations over the last `n` values, in O(1) per value, for the
//! standard deviations of Bollinger bands and volatility.
//!
//! The textbook running sums of x and x² lose every digit to cancellation when the values
//! sit far from zero compared with their spread (prices), and leave rounding residue behind
//! when a window turns flat, which the square root then magnifies (a residue of 1e-16
//! becomes a deviation of 1e-8). So the sums are of `x - shift`, with `shift` moved to the
//! window's mean whenever the window has turned over or cancellation shows; and a window of
//! identical values is recognised exactly and answers exactly zero.

use super::ring::Ring;

#[derive(Debug, Clone)]
pub(super) struct RollingDeviation {
    window: Ring,
    /// Subtracted from every value before it enters the sums.
    shift: f64,
    /// Sum of `x - shift` over the window.
    s1: f64,
    /// Sum of `(x - shift)²` over the window.
    s2: f64,
    /// How many values in a row, ending with the newest, equal `last`.
    run: usize,
    last: f64,
    /// Values pushed since the shift was last moved to the mean.
    since_shift: usize,
}

/// Below this ratio of the deviation sum to the shifted sum of squares, the shift is too far
/// from the mean for the digits left: it is moved.
const CANCELLATION: f64 = 1e-6;

impl RollingDeviation {
    /// `n` at least 1.
    pub(super) fn new(n: usize) -> Self {
        Self {
            window: Ring::new(n),
            shift: 0.0,
            s1: 0.0,
            s2: 0.0,
            run: 0,
            last: f64::NAN,
            since_shift: 0,
        }
    }

    /// Adds `x`; once `n` values are held, the sum of their squared deviations from their
    /// mean (not negative; exactly 0 for identical values).
    #[inline]
    pub(super) fn push(&mut self, x: f64) -> Option<f64> {
        if self.window.is_full() {
            let old = self.window.oldest() - self.shift;
            self.s1 -= old;
            self.s2 -= old * old;
        } else if self.window.values().is_empty() {
            self.shift = x;
        }
        self.window.push(x);
        let d = x - self.shift;
        self.s1 += d;
        self.s2 += d * d;
        self.run = if x == self.last { self.run + 1 } else { 1 };
        self.last = x;
        if !self.window.is_full() {
            return None;
        }
        let n = self.window.capacity();
        if self.run >= n {
            // Every value in the window is `x`: start the sums afresh from it.
            self.shift = x;
            self.s1 = 0.0;
            self.s2 = 0.0;
            self.since_shift = 0;
            return Some(0.0);
        }
        self.since_shift += 1;
        let mut m2 = self.deviation();
        if self.since_shift >= n || m2 < CANCELLATION * self.s2 {
            self.reshift();
            m2 = self.deviation();
        }
        Some(m2.max(0.0))
    }

    fn deviation(&self) -> f64 {
        self.s2 - self.s1 * self.s1 / self.window.capacity() as f64
    }

    /// Moves the shift to the window's mean and sums the window again (n steps, at most
    /// once per n values but for cancellation).
    #[cold]
    fn reshift(&mut self) {
        let values = self.window.values();
        let n = values.len() as f64;
        self.shift = values.iter().sum::<f64>() / n;
        (self.s1, self.s2) = values.iter().fold((0.0, 0.0), |(s1, s2), &v| {
            let d = v - self.shift;
            (s1 + d, s2 + d * d)
        });
        self.since_shift = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_m2(w: &[f64]) -> f64 {
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        w.iter().map(|v| (v - mean) * (v - mean)).sum()
    }

    #[test]
    fn matches_the_two_pass_sum_on_a_sliding_window() {
        let xs = [
            100.25, 100.5, 99.75, 101.0, 100.0, 100.0, 98.5, 102.25, 100.125, 99.0,
        ];
        let mut r = RollingDeviation::new(4);
        for (i, &x) in xs.iter().enumerate() {
            let got = r.push(x);
            if i < 3 {
                assert_eq!(got, None);
            } else {
                let want = exact_m2(&xs[i - 3..=i]);
                let got = got.unwrap();
                assert!(
                    (got - want).abs() <= 1e-12 * want.max(1.0),
                    "{i}: {got} {want}"
                );
            }
        }
    }

    #[test]
    fn a_flat_window_is_exactly_zero_after_any_history() {
        let mut r = RollingDeviation::new(3);
        for x in [0.1, 1e6, 0.3, 57.5, 57.5] {
            r.push(x);
        }
        assert_eq!(r.push(57.5), Some(0.0));
        // Prices a tick apart after a flat stretch: [57.5, 57.5, 57.51].
        let got = r.push(57.51).unwrap();
        let want = exact_m2(&[57.5, 57.5, 57.51]);
        assert!((got - want).abs() <= 1e-9 * want, "{got} {want}");
    }

    #[test]
    fn a_coin_quoted_in_tiny_units_keeps_its_spread() {
        let mut r = RollingDeviation::new(2);
        r.push(2.0e-5);
        let got = r.push(2.0000001e-5).unwrap();
        assert!((got - 0.5e-24).abs() < 1e-30, "{got}");
    }
}
