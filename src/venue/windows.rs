//! Request-rate windows kept on the engine's side, written once for every REST codec: a venue
//! that publishes "at most N requests per T" per endpoint (BitMart: per endpoint per 2 s) or
//! per account (Coinstore: 120 per 3 s per user, 300 per 3 s per IP) lists them here, and the
//! gateway's REST transport takes a slot for each request before it leaves; a request with
//! no slot is refused before sending (an order never leaves, a query waits for the next
//! chase or sweep) and counted (`RestStats::window_refused`, on `/status`).
//!
//! Each window is a sliding one: the times of the requests it admitted within the last `T`.
//! The worker's own keep-alive requests are not counted (one every 20 s idle).
//!
//! A **weighted budget** (Delta: 10,000 weight per 5 minutes, each endpoint weighing 1 to 25)
//! counts each request's weight, given by the codec's function of method and path, instead
//! of one per request. Kept sliding, it is never over in any fixed window of the same length
//! (a venue refilling its quota at fixed times allows at least as much).

use std::collections::VecDeque;

use super::rest::Method;

/// A request's weight in a budget, by method and path.
pub type Weigh = fn(Method, &str) -> u32;

/// One limit: at most `limit` requests (or weight, with `weigh`) in any `window_ms`, on
/// `path` (`None`: every path).
#[derive(Debug, Clone)]
struct Window {
    path: Option<&'static str>,
    limit: u32,
    window_ms: u64,
    /// A budget's weights (`None`: each request counts one).
    weigh: Option<Weigh>,
    /// When the requests in the window were sent (venue ms) and their weights, oldest first.
    sent: VecDeque<(u64, u32)>,
}

impl Window {
    fn weight(&self, method: Method, path: &str) -> u32 {
        self.weigh.map_or(1, |w| w(method, path))
    }

    /// Weight in the window at `now_ms`.
    fn used(&self, now_ms: u64) -> u64 {
        self.sent
            .iter()
            .filter(|&&(t, _)| t + self.window_ms > now_ms)
            .map(|&(_, w)| u64::from(w))
            .sum()
    }
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
            weigh: None,
            sent: VecDeque::with_capacity(limit.min(4096) as usize),
        });
        self
    }

    /// Adds a budget of `limit` weight per `window_ms` over every request, each weighing
    /// `weigh(method, path)`.
    pub fn budget(mut self, limit: u32, window_ms: u64, weigh: Weigh) -> Self {
        self.windows.push(Window {
            path: None,
            limit: limit.max(1),
            window_ms: window_ms.max(1),
            weigh: Some(weigh),
            sent: VecDeque::new(),
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
        let path = self.order_path.unwrap_or("");
        self.windows
            .iter()
            .filter(|w| w.path.is_none() || w.path == self.order_path)
            .all(|w| w.used(now_ms) + u64::from(w.weight(Method::Post, path)) <= u64::from(w.limit))
    }

    /// Takes a slot in every window `path` falls in at `now_ms`, or none (and counts the
    /// refusal) when any of them is full (a budget weighs the request as a GET: the
    /// transport uses [`Self::take_request`]).
    pub fn take(&mut self, path: &str, now_ms: u64) -> bool {
        self.take_request(Method::Get, path, now_ms)
    }

    /// Takes a slot for a `method` request on `path` in every window it falls in at
    /// `now_ms` (its weight in a budget), or none (and counts the refusal) when any of them
    /// has no room for it.
    pub fn take_request(&mut self, method: Method, path: &str, now_ms: u64) -> bool {
        let applies = |w: &Window| w.path.is_none_or(|p| p == path);
        for w in self.windows.iter_mut().filter(|w| applies(w)) {
            while w
                .sent
                .front()
                .is_some_and(|&(t, _)| t + w.window_ms <= now_ms)
            {
                w.sent.pop_front();
            }
        }
        if self
            .windows
            .iter()
            .filter(|w| applies(w))
            .any(|w| w.used(now_ms) + u64::from(w.weight(method, path)) > u64::from(w.limit))
        {
            self.refused += 1;
            return false;
        }
        for w in self.windows.iter_mut().filter(|w| applies(w)) {
            let weight = w.weight(method, path);
            w.sent.push_back((now_ms, weight));
        }
        true
    }

    /// Requests (or weight, in a budget) in `path`'s first window at `now_ms` (for tests
    /// and reports).
    pub fn used(&self, path: &str, now_ms: u64) -> Option<usize> {
        self.windows
            .iter()
            .find(|w| w.path.is_none_or(|p| p == path))
            .map(|w| w.used(now_ms) as usize)
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

    fn weigh(method: Method, path: &str) -> u32 {
        match (method, path) {
            (Method::Get, "/orders") => 3,
            (_, "/orders") => 5,
            _ => 1,
        }
    }

    #[test]
    fn a_budget_counts_each_request_by_its_weight() {
        let mut w = RateWindows::default()
            .budget(13, 1000, weigh)
            .orders_on("/orders");
        assert!(w.take_request(Method::Post, "/orders", 0));
        assert!(w.take_request(Method::Get, "/orders", 10));
        assert_eq!(w.used("/orders", 10), Some(8));
        assert!(w.room_for_order(10), "8 + 5 = 13 fits");
        assert!(w.take_request(Method::Get, "/other", 20));
        assert_eq!(w.used("/x", 20), Some(9));
        assert!(!w.room_for_order(20), "9 + 5 > 13");
        assert!(!w.take_request(Method::Delete, "/orders", 20));
        assert!(
            w.take_request(Method::Get, "/orders", 20),
            "9 + 3 = 12 fits"
        );
        assert!(w.take_request(Method::Get, "/other", 20), "13: full");
        assert!(!w.take_request(Method::Get, "/other", 20));
        assert_eq!(w.refused, 2);
        // The first request (5) leaves the window at 1000.
        assert!(!w.take_request(Method::Post, "/orders", 999));
        assert!(w.take_request(Method::Post, "/orders", 1000));
        assert_eq!(w.used("/orders", 1000), Some(13));
        assert_eq!(w.refused, 3);
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
