//! Order rates: a token bucket (`rate` orders per second with a burst of `rate`, mako's own
//! limits) and a sliding window (at most `n` in any `window`, as venues publish theirs).

use crate::types::UnixNanos;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// Tokens × 10^9 (nano-tokens), so refill is exact integer arithmetic.
    nano_tokens: u64,
    capacity: u64,
    per_sec: u64,
    last: UnixNanos,
}

impl TokenBucket {
    pub fn new(per_sec: u32, now: UnixNanos) -> Self {
        let capacity = u64::from(per_sec.max(1)) * 1_000_000_000;
        Self {
            nano_tokens: capacity,
            capacity,
            per_sec: u64::from(per_sec.max(1)),
            last: now,
        }
    }

    /// Takes one token if there is one.
    #[inline]
    pub fn try_take(&mut self, now: UnixNanos) -> bool {
        let dt = now.since(self.last);
        self.last = self.last.max(now);
        self.nano_tokens = self
            .nano_tokens
            .saturating_add(dt.saturating_mul(self.per_sec))
            .min(self.capacity);
        if self.nano_tokens >= 1_000_000_000 {
            self.nano_tokens -= 1_000_000_000;
            true
        } else {
            false
        }
    }
}

/// At most `n` events in any window of `window_ns`: the times of the last `n` kept in a ring
/// (allocated once), so a check is one comparison with the oldest of them.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    /// Times of the last `n` events; `None` for slots not used yet.
    sent: Box<[Option<UnixNanos>]>,
    /// The slot of the oldest event (the next to be overwritten).
    next: usize,
    window_ns: u64,
}

impl SlidingWindow {
    pub fn new(n: u32, window_ns: u64) -> Self {
        Self {
            sent: vec![None; n.max(1) as usize].into_boxed_slice(),
            next: 0,
            window_ns,
        }
    }

    /// Whether one more event at `now` keeps within the limit.
    #[inline]
    pub fn admits(&self, now: UnixNanos) -> bool {
        self.sent[self.next].is_none_or(|t| now.since(t) >= self.window_ns)
    }

    /// Records an event at `now` (checked with `admits` first).
    #[inline]
    pub fn record(&mut self, now: UnixNanos) {
        self.sent[self.next] = Some(now);
        self.next = (self.next + 1) % self.sent.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let mut b = TokenBucket::new(3, UnixNanos(0));
        assert!((0..3).all(|_| b.try_take(UnixNanos(0))));
        assert!(!b.try_take(UnixNanos(0)));
        assert!(
            !b.try_take(UnixNanos(300_000_000)),
            "0.9 tokens after 300 ms"
        );
        assert!(b.try_take(UnixNanos(334_000_000)));
        assert!(!b.try_take(UnixNanos(334_000_000)));
        assert!(
            (0..3).all(|_| b.try_take(UnixNanos(10_000_000_000))),
            "refill caps at the burst"
        );
        assert!(!b.try_take(UnixNanos(10_000_000_000)));
    }

    #[test]
    fn a_window_admits_n_then_waits_for_the_oldest_to_age_out() {
        let ms = |m: u64| UnixNanos(m * 1_000_000);
        let mut w = SlidingWindow::new(3, 2_000_000_000);
        for t in [0, 100, 1_000] {
            assert!(w.admits(ms(t)));
            w.record(ms(t));
        }
        // Three in the last two seconds: the fourth waits until the first is 2 s old.
        assert!(!w.admits(ms(1_999)));
        assert!(w.admits(ms(2_000)));
        w.record(ms(2_000));
        assert!(!w.admits(ms(2_099)));
        assert!(w.admits(ms(2_100)));
    }
}
