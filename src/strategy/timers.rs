//! Timers a strategy sets itself: wake me at T, or every P. Each timer has a tag the strategy
//! chooses; setting a tag again replaces its timer. Time is the strategy's clock, so timers
//! fire the same way live, in replay and in tests.

use crate::types::UnixNanos;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timer {
    tag: u32,
    at: UnixNanos,
    /// Period of a repeating timer.
    every: Option<u64>,
}

/// A strategy's timers (a handful; kept in a small vector, no allocation once set).
#[derive(Debug, Clone, Default)]
pub struct Timers {
    list: Vec<Timer>,
    /// Periods a repeating timer skipped because the strategy was called too late to fire
    /// each one (it fires once, then resumes on its grid).
    pub skipped: u64,
}

impl Timers {
    /// Fires once at `at` (at once if `at` has passed).
    pub fn at(&mut self, tag: u32, at: UnixNanos) {
        self.set(Timer {
            tag,
            at,
            every: None,
        });
    }

    /// Fires every `period_ns`, first at `now + period`.
    pub fn every(&mut self, tag: u32, period_ns: u64, now: UnixNanos) {
        let period_ns = period_ns.max(1);
        self.set(Timer {
            tag,
            at: now.plus_nanos(period_ns),
            every: Some(period_ns),
        });
    }

    pub fn cancel(&mut self, tag: u32) {
        self.list.retain(|t| t.tag != tag);
    }

    /// Cancels every timer (its strategy left the slot).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    pub fn is_set(&self, tag: u32) -> bool {
        self.list.iter().any(|t| t.tag == tag)
    }

    fn set(&mut self, t: Timer) {
        match self.list.iter_mut().find(|x| x.tag == t.tag) {
            Some(x) => *x = t,
            None => self.list.push(t),
        }
    }

    /// The earliest time a timer is due.
    #[inline]
    pub fn next_due(&self) -> Option<UnixNanos> {
        self.list.iter().map(|t| t.at).min()
    }

    /// One timer due at `now` (earliest first): returns its tag, and re-arms it if it repeats.
    pub fn pop_due(&mut self, now: UnixNanos) -> Option<u32> {
        let (i, t) = self
            .list
            .iter()
            .enumerate()
            .filter(|(_, t)| t.at <= now)
            .min_by_key(|(_, t)| t.at)
            .map(|(i, t)| (i, *t))?;
        match t.every {
            Some(p) => {
                let behind = now.since(t.at) / p;
                self.skipped += behind;
                self.list[i].at = t.at.plus_nanos(p * (behind + 1));
            }
            None => {
                self.list.swap_remove(i);
            }
        }
        Some(t.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shot_and_repeating_timers_fire_in_order() {
        let mut t = Timers::default();
        t.every(1, 100, UnixNanos(1_000));
        t.at(2, UnixNanos(1_050));
        assert_eq!(t.pop_due(UnixNanos(1_049)), None);
        assert_eq!(t.next_due(), Some(UnixNanos(1_050)));
        assert_eq!(t.pop_due(UnixNanos(1_100)), Some(2));
        assert_eq!(t.pop_due(UnixNanos(1_100)), Some(1));
        assert_eq!(t.pop_due(UnixNanos(1_100)), None);
        assert_eq!(t.next_due(), Some(UnixNanos(1_200)));
        // Called late: fires once, counts what it skipped, stays on its grid.
        assert_eq!(t.pop_due(UnixNanos(1_450)), Some(1));
        assert_eq!(t.skipped, 2);
        assert_eq!(t.next_due(), Some(UnixNanos(1_500)));
        // Setting a tag again replaces it; cancel removes it.
        t.at(1, UnixNanos(5_000));
        assert_eq!(t.next_due(), Some(UnixNanos(5_000)));
        t.cancel(1);
        assert!(!t.is_set(1));
        assert_eq!(t.next_due(), None);
    }
}
