//! Rolling windows: per (venue, measurement), a ring of sub-window histograms covering the
//! last `window` plus one histogram of the whole run. Lives on the monitor's thread.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::types::UnixNanos;

use super::measurement::new_histogram;

/// Sub-windows per window: the window moves in steps of `window / WINDOW_SLOTS`.
pub const WINDOW_SLOTS: usize = 10;

/// One sub-window: the samples whose interval ended in `epoch`.
#[derive(Debug)]
struct Slot {
    /// `end / slot_ns` of the samples held; `None` while empty.
    epoch: Option<u64>,
    hist: Histogram<u64>,
}

/// The last `window` of one measurement, at a granularity of `window / WINDOW_SLOTS`, and
/// everything since the start.
///
/// Samples are placed by the end of the interval they were recorded in. A window read at
/// `now` covers the sub-window holding `now` and the `WINDOW_SLOTS - 1` before it, i.e.
/// between 90% and 100% of `window`.
#[derive(Debug)]
pub struct RollingWindow {
    slot_ns: u64,
    slots: Vec<Slot>,
    run: Histogram<u64>,
    /// End of the newest interval that held samples.
    last_sample: Option<UnixNanos>,
    /// Batches that could not be added (a histogram of another shape); never expected.
    add_errors: u64,
}

impl RollingWindow {
    pub fn new(window: Duration) -> Self {
        let window_ns = window
            .as_nanos()
            .clamp(WINDOW_SLOTS as u128, u64::MAX as u128) as u64;
        let slot_ns = window_ns.div_ceil(WINDOW_SLOTS as u64);
        let slots = (0..WINDOW_SLOTS)
            .map(|_| Slot {
                epoch: None,
                hist: new_histogram(),
            })
            .collect();
        Self {
            slot_ns,
            slots,
            run: new_histogram(),
            last_sample: None,
            add_errors: 0,
        }
    }

    /// Adds one interval of samples that ended at `end`. An interval older than the window
    /// counts only towards the whole run.
    pub fn add(&mut self, end: UnixNanos, h: &Histogram<u64>) {
        if h.is_empty() {
            return;
        }
        if self.run.add(h).is_err() {
            self.add_errors += 1;
            return;
        }
        self.last_sample = Some(self.last_sample.map_or(end, |t| t.max(end)));
        let epoch = end.0 / self.slot_ns;
        let slot = &mut self.slots[(epoch % WINDOW_SLOTS as u64) as usize];
        match slot.epoch {
            Some(e) if e == epoch => {}
            Some(e) if e > epoch => return, // that place already holds newer samples
            _ => {
                slot.hist.reset();
                slot.epoch = Some(epoch);
            }
        }
        if slot.hist.add(h).is_err() {
            self.add_errors += 1;
        }
    }

    /// Writes the window as seen at `now` into `out` (reset first; allocate it once with
    /// `new_histogram` and reuse it).
    pub fn merge_window(&self, now: UnixNanos, out: &mut Histogram<u64>) {
        out.reset();
        let now_epoch = now.0 / self.slot_ns;
        for s in &self.slots {
            let Some(e) = s.epoch else { continue };
            // Sub-windows stamped after `now` (a writer's clock slightly ahead) are kept.
            if e.saturating_add(WINDOW_SLOTS as u64) > now_epoch {
                // Same shape by construction, so this cannot fail; at worst it would lose
                // one sub-window, never panic.
                let _ = out.add(&s.hist);
            }
        }
    }

    /// Every sample since the start.
    pub fn run(&self) -> &Histogram<u64> {
        &self.run
    }

    /// End of the newest interval that held samples.
    pub fn last_sample(&self) -> Option<UnixNanos> {
        self.last_sample
    }

    /// Whether some sample ended within `max_age` of `now`.
    pub fn is_fresh(&self, now: UnixNanos, max_age: Duration) -> bool {
        let max_age = max_age.as_nanos().min(u64::MAX as u128) as u64;
        self.last_sample.is_some_and(|t| now.since(t) <= max_age)
    }

    pub fn add_errors(&self) -> u64 {
        self.add_errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn hist_of(values: &[u64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for &v in values {
            h.saturating_record(v);
        }
        h
    }

    #[test]
    fn window_forgets_old_intervals_and_run_keeps_everything() {
        // 10 s window: 1 s sub-windows.
        let mut w = RollingWindow::new(Duration::from_secs(10));
        let mut out = new_histogram();
        for sec in 100..120u64 {
            w.add(UnixNanos(sec * S), &hist_of(&[sec * 1_000]));
        }
        assert_eq!(w.run().len(), 20);
        w.merge_window(UnixNanos(119 * S), &mut out);
        assert_eq!(out.len(), 10, "seconds 110..=119");
        assert!(out.equivalent(out.min(), 110_000));
        assert!(out.equivalent(out.max(), 119_000));

        // Time passes with no samples: the window empties, the run does not.
        w.merge_window(UnixNanos(125 * S), &mut out);
        assert_eq!(out.len(), 4, "seconds 116..=119");
        w.merge_window(UnixNanos(200 * S), &mut out);
        assert!(out.is_empty());
        assert_eq!(w.run().len(), 20);
    }

    #[test]
    fn late_interval_counts_only_in_the_run_and_freshness_follows_the_newest() {
        let mut w = RollingWindow::new(Duration::from_secs(10));
        let mut out = new_histogram();
        assert!(!w.is_fresh(UnixNanos(50 * S), Duration::from_secs(3)));
        w.add(UnixNanos(50 * S), &hist_of(&[5, 6]));
        w.add(UnixNanos(30 * S), &hist_of(&[7])); // same ring place as 50 s, older
        assert_eq!(w.run().len(), 3);
        w.merge_window(UnixNanos(50 * S), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(w.last_sample(), Some(UnixNanos(50 * S)));
        assert!(w.is_fresh(UnixNanos(53 * S), Duration::from_secs(3)));
        assert!(!w.is_fresh(UnixNanos(53 * S + 1), Duration::from_secs(3)));
        assert_eq!(w.add_errors(), 0);
    }

    #[test]
    fn empty_interval_changes_nothing() {
        let mut w = RollingWindow::new(Duration::from_secs(1));
        w.add(UnixNanos(S), &new_histogram());
        assert_eq!(w.last_sample(), None);
        assert!(w.run().is_empty());
    }
}
