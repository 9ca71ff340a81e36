//! Request-rate windows kept on the engine's side, written once for every REST codec: a venue
//! that publishes "at most N requests per T" per endpoint (BitMart: per endpoint per 2 s) or
//! per account (Coinstore: 120 per 3 s per user, 300 per 3 s per IP) lists them here, and the
//! gateway's REST transport takes a slot for each request before it leaves; a request with
//! no slot is refused before sending (an order never leaves, a query waits for the next
//! chase or sweep) and counted (`RestStats::window_refused`, on `/status`).
//!
//! Each window is a sliding one: the times of the requests it admitted within the last `T`.
//! The worker's own keep-alive requests are not counted (one every 20 s idle).

use std::collections::VecDeque;

/// One limit: at most `limit` requests in any `window_ms`, on `path` (`None`: every path).
#[derive(Debug, Clone)]
struct Window {
    path: Option<&'static str>,
    limit: u32,
    window_ms: u64,
    /// When the requests in the window were sent (venue ms), oldest first.
    sent: VecDeque<u64>,
}

/// A codec's request windows.
#[derive(Debug, Clone, Default)]
pub struct RateWindows {
    windows: Vec<Window>,
    /// The venue's new-order path, asked by `room_for_order` before an order is built.
    order_path: Option<&'static str>,
    /// Requests refused for want of a slot.
    pub refused: u64,
}

impl RateWindows {
    /// Adds a limit of `limit` requests per `window_ms` on `path` (`None`: on all requests).
    pub fn with(mut self, path: Option<&'static str>, limit: u32, window_ms: u64) -> Self {
        self.windows.push(Window {
            path,
            limit: limit.max(1),
            window_ms: window_ms.max(1),
            sent: VecDeque::with_capacity(limit as usize),
        });
        self
    }

    /// Names the new-order path (`room_for_order`).
    pub fn orders_on(mut self, path: &'static str) -> Self {
        self.order_path = Some(path);
        self
    }

    /// Whether a new order would find a slot at `now_ms` (nothing taken): the gateway
    /// refuses an order before it is built when not (`Refusal::RateLimited`).
    pub fn room_for_order(&self, now_ms: u64) -> bool {
        self.windows
            .iter()
            .filter(|w| w.path.is_none() || w.path == self.order_path)
            .all(|w| {
                w.sent.iter().filter(|&&t| t + w.window_ms > now_ms).count() < w.limit as usize
            })
    }

    /// Takes a slot in every window `path` falls in at `now_ms`, or none (and counts the
    /// refusal) when any of them is full.
    pub fn take(&mut self, path: &str, now_ms: u64) -> bool {
        let applies = |w: &Window| w.path.is_none_or(|p| p == path);
        for w in self.windows.iter_mut().filter(|w| applies(w)) {
            while w.sent.front().is_some_and(|&t| t + w.window_ms <= now_ms) {
                w.sent.pop_front();
            }
        }
        if self
            .windows
            .iter()
            .filter(|w| applies(w))
            .any(|w| w.sent.len() >= w.limit as usize)
        {
            self.refused += 1;
            return false;
        }
        for w in self.windows.iter_mut().filter(|w| applies(w)) {
            w.sent.push_back(now_ms);
        }
        true
    }

    /// Requests in `path`'s first window at `now_ms` (for tests and reports).
    pub fn used(&self, path: &str, now_ms: u64) -> Option<usize> {
        self.windows
            .iter()
            .find(|w| w.path.is_none_or(|p| p == path))
            .map(|w| w.sent.iter().filter(|&&t| t + w.window_ms > now_ms).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_refuses_until_its_oldest_request_leaves_it() {
        let mut w = RateWindows::default().with(Some("/a"), 3, 2000);
        assert!(w.take("/a", 1000));
        assert!(w.take("/a", 1500));
        assert!(w.take("/a", 2999));
        assert!(!w.take("/a", 2999));
        assert_eq!(w.refused, 1);
        // 1000 + 2000: the first request has left the window.
        assert!(!w.take("/a", 2999));
        assert!(w.take("/a", 3000));
        assert!(!w.take("/a", 3000));
        assert_eq!(w.refused, 3);
        assert_eq!(w.used("/a", 3000), Some(3));
    }

    #[test]
    fn an_order_is_refused_before_it_is_built_when_its_window_is_full() {
        let mut w = RateWindows::default()
            .with(Some("/order"), 2, 2000)
            .with(Some("/query"), 1, 2000)
            .orders_on("/order");
        assert!(w.take("/query", 0));
        assert!(
            w.room_for_order(0),
            "a full query window leaves orders alone"
        );
        assert!(w.take("/order", 0));
        assert!(w.take("/order", 10));
        assert!(!w.room_for_order(10));
        assert!(w.room_for_order(2000));
    }

    #[test]
    fn windows_are_per_path_and_a_global_one_counts_every_path() {
        let mut w = RateWindows::default()
            .with(Some("/a"), 1, 1000)
            .with(None, 2, 1000);
        assert!(w.take("/a", 0));
        assert!(!w.take("/a", 1), "/a is full");
        assert!(
            w.take("/b", 2),
            "/b has its own room, the global one has one left"
        );
        assert!(!w.take("/c", 3), "the global window is full");
        // A refused request took no slot anywhere.
        assert_eq!(w.used("/b", 3), Some(2));
        assert!(w.take("/c", 1000));
    }
}
