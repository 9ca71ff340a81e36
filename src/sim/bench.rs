//! Tick-to-trade stamps (`[sim] bench = true`): the instant each market-data frame is handed
//! to the kernel, and the instant each order request is read, both from this process's
//! monotonic clock. An order is attributed to the latest market frame written before the
//! instant it was read (the two connection threads race to the lock, so the last few frames
//! are kept to look back over); only the first order of each frame counts, so a re-quote (cancel, place, cancel,
//! place) gives one sample. That attribution is right while the engine answers a frame before
//! the next one is written: `replay_interval_us` spaces the frames for that.
//! `GET /sim/bench` returns the samples.

use std::collections::VecDeque;
use std::time::Instant;

use parking_lot::Mutex;
use serde_json::{Value, json};

/// At most this many samples are kept (about 10 minutes at one re-quote per millisecond).
const MAX_SAMPLES: usize = 1 << 20;
/// Frames remembered for attribution.
const RECENT: usize = 16;

/// A market frame written: when, and whether an order request / a new order was already
/// attributed to it.
#[derive(Clone, Copy)]
struct Written {
    at: Instant,
    any: bool,
    new: bool,
}

#[derive(Default)]
struct State {
    /// The latest market frames written, oldest first.
    recent: VecDeque<Written>,
    frames: u64,
    order_requests: u64,
    new_orders: u64,
    /// ns from the frame's write to the first `order.place` read after it.
    to_new_order: Vec<u64>,
    /// ns from the frame's write to the first order request (place or cancel) read after it.
    to_first_request: Vec<u64>,
}

/// Shared by the market and WS API connection threads; off unless `bench` is set.
pub struct BenchStamps {
    enabled: bool,
    state: Mutex<State>,
}

impl BenchStamps {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            state: Mutex::new(State::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `n` market frames were just flushed to the socket.
    pub fn frames_written(&self, n: u64, at: Instant) {
        if !self.enabled || n == 0 {
            return;
        }
        let mut s = self.state.lock();
        s.frames += n;
        if s.recent.len() == RECENT {
            s.recent.pop_front();
        }
        s.recent.push_back(Written {
            at,
            any: false,
            new: false,
        });
    }

    /// An order request (`order.place` when `new_order`, else a cancel) was read at `at`.
    pub fn order_read(&self, new_order: bool, at: Instant) {
        if !self.enabled {
            return;
        }
        let mut s = self.state.lock();
        s.order_requests += 1;
        s.new_orders += u64::from(new_order);
        let Some(k) = s.recent.iter().rposition(|w| w.at <= at) else {
            return;
        };
        let w = s.recent[k];
        let ns = at.duration_since(w.at).as_nanos() as u64;
        if !w.any && s.to_first_request.len() < MAX_SAMPLES {
            s.to_first_request.push(ns);
        }
        if new_order && !w.new && s.to_new_order.len() < MAX_SAMPLES {
            s.to_new_order.push(ns);
        }
        s.recent[k].any = true;
        s.recent[k].new |= new_order;
    }

    /// Counts and samples, for `GET /sim/bench`.
    pub fn to_json(&self) -> Value {
        let s = self.state.lock();
        json!({
            "enabled": self.enabled,
            "frames_written": s.frames,
            "order_requests": s.order_requests,
            "new_orders": s.new_orders,
            "to_new_order_ns": s.to_new_order,
            "to_first_request_ns": s.to_first_request,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn first_order_after_each_frame_is_attributed_to_it() {
        let b = BenchStamps::new(true);
        let t0 = Instant::now();
        let at = |us: u64| t0 + Duration::from_micros(us);
        // An order before any frame has no cause.
        b.order_read(true, at(1));
        b.frames_written(1, at(10));
        b.order_read(false, at(30)); // cancel first
        b.order_read(true, at(35)); // the new order
        b.order_read(true, at(40)); // the other side: same frame, not counted again
        b.frames_written(2, at(100));
        b.order_read(true, at(125));
        b.frames_written(1, at(200)); // causes nothing
        // Read at 150, stamped after the frame of 200 took the lock: still frame 100's.
        b.order_read(false, at(150));
        let v = b.to_json();
        assert_eq!(v["frames_written"], 4);
        assert_eq!(v["order_requests"], 6);
        assert_eq!(v["new_orders"], 4);
        assert_eq!(v["to_new_order_ns"], json!([25_000, 25_000]));
        assert_eq!(v["to_first_request_ns"], json!([20_000, 25_000]));
    }

    #[test]
    fn disabled_records_nothing() {
        let b = BenchStamps::new(false);
        b.frames_written(1, Instant::now());
        b.order_read(true, Instant::now());
        let v = b.to_json();
        assert_eq!(v["frames_written"], 0);
        assert_eq!(v["to_new_order_ns"], json!([]));
    }
}
