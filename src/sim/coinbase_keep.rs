//! What both of the simulator's Coinbase WebSocket front ends do on their own schedule
//! (exchanges.md §4.3): a connection that has not subscribed to anything within the window
//! (Coinbase: 5 s, `[sim] coinbase_subscribe_window_ms`) is closed, and a connection
//! subscribed to `heartbeats` gets one `heartbeats` message a second, each with the next
//! `heartbeat_counter` (and, like every message, the connection's next `sequence_num`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Between two `heartbeats` messages.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// One connection's subscribe deadline and heartbeat clock.
#[derive(Debug)]
pub struct Keep {
    opened: Instant,
    window: Duration,
    subscribed: bool,
    /// The next heartbeat, while `heartbeats` is subscribed.
    next_beat: Option<Instant>,
    counter: u64,
}

/// What is due at a tick.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// Close the connection: nothing was subscribed within the window.
    pub close: bool,
    /// The `heartbeat_counter` of each heartbeat due now.
    pub beats: Vec<u64>,
    /// When to tick again.
    pub next: Option<Instant>,
}

impl Keep {
    pub fn new(opened: Instant, window: Duration) -> Self {
        Self {
            opened,
            window,
            subscribed: false,
            next_beat: None,
            counter: 0,
        }
    }

    /// A subscription was accepted (any channel).
    pub fn subscribed(&mut self) {
        self.subscribed = true;
    }

    /// `heartbeats` subscribed (`true`) or unsubscribed: the first beat a second from `now`.
    pub fn heartbeats(&mut self, on: bool, now: Instant) {
        self.subscribed = true;
        self.next_beat = on.then(|| self.next_beat.unwrap_or(now + HEARTBEAT_EVERY));
    }

    pub fn tick(&mut self, now: Instant) -> Due {
        let deadline = self.opened + self.window;
        if !self.subscribed && now >= deadline {
            return Due {
                close: true,
                ..Due::default()
            };
        }
        let mut beats = Vec::new();
        if let Some(t) = self.next_beat.filter(|t| *t <= now) {
            self.counter += 1;
            beats.push(self.counter);
            // A late tick sends one beat, not a burst: the next is a second after it.
            let next = t + HEARTBEAT_EVERY;
            self.next_beat = Some(if next > now {
                next
            } else {
                now + HEARTBEAT_EVERY
            });
        }
        let next = match (self.subscribed, self.next_beat) {
            (false, _) => Some(deadline),
            (true, beat) => beat,
        };
        Due {
            close: false,
            beats,
            next,
        }
    }
}

/// The events of a `heartbeats` message (the documented sample's fields, both strings).
pub fn heartbeat_events(counter: u64, now_ms: u64) -> Value {
    let secs = now_ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = super::coinbase_public::civil(days);
    let time = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} +0000 UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now_ms % 1000 * 1_000_000
    );
    json!([{"current_time": time, "heartbeat_counter": counter.to_string()}])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_without_a_subscription_closes_at_the_window() {
        let t0 = Instant::now();
        let mut k = Keep::new(t0, Duration::from_secs(5));
        let d = k.tick(t0 + Duration::from_secs(1));
        assert!(!d.close);
        assert_eq!(d.next, Some(t0 + Duration::from_secs(5)));
        assert!(k.tick(t0 + Duration::from_secs(5)).close);
        let mut k = Keep::new(t0, Duration::from_secs(5));
        k.subscribed();
        let d = k.tick(t0 + Duration::from_secs(9));
        assert!(!d.close);
        assert_eq!(d.next, None);
    }

    #[test]
    fn heartbeats_count_one_a_second_until_unsubscribed() {
        let t0 = Instant::now();
        let mut k = Keep::new(t0, Duration::from_secs(5));
        k.heartbeats(true, t0);
        assert_eq!(
            k.tick(t0 + Duration::from_millis(500)).beats,
            Vec::<u64>::new()
        );
        let d = k.tick(t0 + Duration::from_millis(1000));
        assert_eq!(d.beats, [1]);
        assert_eq!(d.next, Some(t0 + Duration::from_millis(2000)));
        assert_eq!(k.tick(t0 + Duration::from_millis(2001)).beats, [2]);
        // A tick 3 s late sends one beat, the next a second later.
        let d = k.tick(t0 + Duration::from_millis(6000));
        assert_eq!(d.beats, [3]);
        assert_eq!(d.next, Some(t0 + Duration::from_millis(7000)));
        k.heartbeats(false, t0 + Duration::from_millis(6000));
        let d = k.tick(t0 + Duration::from_secs(20));
        assert!(d.beats.is_empty() && !d.close && d.next.is_none());
    }

    #[test]
    fn heartbeat_events_are_the_documented_shape() {
        // 2023-06-23 20:31:56.121 UTC
        let e = heartbeat_events(3049, 1_687_552_316_121);
        assert_eq!(e[0]["heartbeat_counter"], "3049");
        assert_eq!(
            e[0]["current_time"],
            "2023-06-23 20:31:56.121000000 +0000 UTC"
        );
    }
}
