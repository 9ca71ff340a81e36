//! The injected clock: live (monotonic, anchored to the wall clock once) or manual (tests
//! and replay set it). Actors read time only through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::types::UnixNanos;

/// A source of "now". Cloning is cheap; clones of a manual clock share one time.
#[derive(Clone, Debug)]
pub enum Clock {
    Live(LiveClock),
    Manual(ManualClock),
}

impl Clock {
    /// The system clock, read monotonically (no jumps when NTP steps the wall clock).
    pub fn live() -> Self {
        Clock::Live(LiveClock::new())
    }

    /// A clock that only moves when told to; returns the handle that moves it too.
    pub fn manual(start: UnixNanos) -> (Self, ManualClock) {
        let m = ManualClock(Arc::new(AtomicU64::new(start.0)));
        (Clock::Manual(m.clone()), m)
    }

    #[inline]
    pub fn now(&self) -> UnixNanos {
        match self {
            Clock::Live(c) => c.now(),
            Clock::Manual(c) => c.now(),
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Clock::Live(_))
    }
}

/// Wall-clock time as `anchor + monotonic elapsed`: one `clock_gettime(MONOTONIC)` per read.
#[derive(Clone, Copy, Debug)]
pub struct LiveClock {
    anchor: Instant,
    anchor_unix_ns: u64,
}

impl LiveClock {
    pub fn new() -> Self {
        let anchor = Instant::now();
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self {
            anchor,
            anchor_unix_ns: unix,
        }
    }

    #[inline]
    pub fn now(&self) -> UnixNanos {
        UnixNanos(self.anchor_unix_ns + self.anchor.elapsed().as_nanos() as u64)
    }
}

impl Default for LiveClock {
    fn default() -> Self {
        Self::new()
    }
}

/// A shared, settable time for tests and replay.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    #[inline]
    pub fn now(&self) -> UnixNanos {
        // Relaxed: the clock value carries no other data with it.
        UnixNanos(self.0.load(Ordering::Relaxed))
    }

    pub fn set(&self, t: UnixNanos) {
        self.0.store(t.0, Ordering::Relaxed);
    }

    pub fn advance(&self, ns: u64) {
        self.0.fetch_add(ns, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_clock_is_monotonic_and_near_wall_time() {
        let c = Clock::live();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        // Anchored to the wall clock: within a minute of it however slow the machine.
        assert!(a.0.abs_diff(wall) < 60_000_000_000);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let (c, handle) = Clock::manual(UnixNanos(1_000));
        let c2 = c.clone();
        assert_eq!(c.now(), UnixNanos(1_000));
        handle.advance(500);
        assert_eq!(c2.now(), UnixNanos(1_500));
        handle.set(UnixNanos(10));
        assert_eq!(c.now(), UnixNanos(10));
    }
}
