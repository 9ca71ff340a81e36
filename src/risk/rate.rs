//! A token bucket for order rates: `rate` orders per second with a burst of `rate`.

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
}
