//! Injectable faults, switchable at run time: every knob is an atomic read where the fault
//! applies, so a test (or the admin endpoint) can turn it on and off while clients run.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};

use super::config::FaultConfig;
use super::rng::Rng;

/// The live fault settings. All loads and stores are `Relaxed`: each knob is independent and
/// a change only has to be seen "soon" by the threads that apply it.
#[derive(Debug)]
pub struct Faults {
    drop_ack_rate: AtomicU64,
    ack_delay_us: AtomicU64,
    market_delay_us: AtomicU64,
    drop_user_event_rate: AtomicU64,
    disconnect_every_ms: AtomicU64,
    depth_gap_every: AtomicU64,
    http_5xx_rate: AtomicU64,
    http_5xx_after_rate: AtomicU64,
    http_429_rate: AtomicU64,
    slow_response_us: AtomicU64,
    slow_okx_response_us: AtomicU64,
    /// The exchange's clock minus this machine's, ms: what `serverTime` says and what the
    /// `timestamp`/`recvWindow` rule checks against (a venue whose clock is not ours).
    clock_skew_ms: std::sync::atomic::AtomicI64,
    /// OKX: subscribing to `books` sends no snapshot (OKX's 2026 change; clients use REST).
    okx_no_snapshot: std::sync::atomic::AtomicBool,
    /// OKX: `books` updates carry `checksum: 0` (the field's deprecation, June 2026).
    okx_checksum_zero: std::sync::atomic::AtomicBool,
    rng: Mutex<Rng>,
}

fn us(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

impl Faults {
    pub fn new(c: &FaultConfig, seed: u64) -> Self {
        let f = Faults {
            drop_ack_rate: AtomicU64::new(0),
            ack_delay_us: AtomicU64::new(0),
            market_delay_us: AtomicU64::new(0),
            drop_user_event_rate: AtomicU64::new(0),
            disconnect_every_ms: AtomicU64::new(0),
            depth_gap_every: AtomicU64::new(0),
            http_5xx_rate: AtomicU64::new(0),
            http_5xx_after_rate: AtomicU64::new(0),
            http_429_rate: AtomicU64::new(0),
            slow_response_us: AtomicU64::new(0),
            slow_okx_response_us: AtomicU64::new(0),
            clock_skew_ms: std::sync::atomic::AtomicI64::new(0),
            okx_no_snapshot: std::sync::atomic::AtomicBool::new(false),
            okx_checksum_zero: std::sync::atomic::AtomicBool::new(false),
            rng: Mutex::new(Rng::new(seed ^ 0xFA17)),
        };
        f.apply(c);
        f
    }

    /// Replaces every setting at once.
    pub fn apply(&self, c: &FaultConfig) {
        self.set_drop_ack_rate(c.drop_ack_rate);
        self.set_ack_delay(c.ack_delay);
        self.set_market_delay(c.market_delay);
        self.set_drop_user_event_rate(c.drop_user_event_rate);
        self.set_disconnect_every(c.disconnect_every);
        self.set_depth_gap_every(c.depth_gap_every);
        self.set_http_5xx_rate(c.http_5xx_rate);
        self.set_http_5xx_after_rate(c.http_5xx_after_rate);
        self.set_http_429_rate(c.http_429_rate);
        self.set_slow_response(c.slow_response);
        self.slow_okx_response_us
            .store(us(c.slow_okx_response), Relaxed);
    }

    /// The current settings.
    pub fn get(&self) -> FaultConfig {
        let rate = |a: &AtomicU64| f64::from_bits(a.load(Relaxed));
        FaultConfig {
            drop_ack_rate: rate(&self.drop_ack_rate),
            ack_delay: self.ack_delay(),
            market_delay: self.market_delay(),
            drop_user_event_rate: rate(&self.drop_user_event_rate),
            disconnect_every: self.disconnect_every(),
            depth_gap_every: self.depth_gap_every(),
            http_5xx_rate: rate(&self.http_5xx_rate),
            http_5xx_after_rate: rate(&self.http_5xx_after_rate),
            http_429_rate: rate(&self.http_429_rate),
            slow_response: Duration::from_micros(self.slow_response_us.load(Relaxed)),
            slow_okx_response: self.slow_okx_response(),
        }
    }

    pub fn to_json(&self) -> Value {
        let c = self.get();
        json!({
            "drop_ack_rate": c.drop_ack_rate,
            "ack_delay_ms": c.ack_delay.as_millis() as u64,
            "market_delay_ms": c.market_delay.as_millis() as u64,
            "drop_user_event_rate": c.drop_user_event_rate,
            "disconnect_every_ms": c.disconnect_every.as_millis() as u64,
            "depth_gap_every": c.depth_gap_every,
            "http_5xx_rate": c.http_5xx_rate,
            "http_5xx_after_rate": c.http_5xx_after_rate,
            "http_429_rate": c.http_429_rate,
            "slow_response_ms": c.slow_response.as_millis() as u64,
            "slow_okx_response_ms": c.slow_okx_response.as_millis() as u64,
        })
    }

    /// Applies the keys present in a JSON object (the admin endpoint's body); unknown keys
    /// and bad values are refused by name and nothing is changed.
    pub fn update_from_json(&self, v: &Value) -> Result<(), String> {
        let obj = v.as_object().ok_or("body must be a JSON object")?;
        let mut c = self.get();
        for (k, val) in obj {
            let rate = || {
                val.as_f64()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or(format!("{k}: must be a number in 0..=1"))
            };
            let ms = || {
                val.as_u64()
                    .map(Duration::from_millis)
                    .ok_or(format!("{k}: must be a whole number of ms"))
            };
            match k.as_str() {
                "drop_ack_rate" => c.drop_ack_rate = rate()?,
                "ack_delay_ms" => c.ack_delay = ms()?,
                "market_delay_ms" => c.market_delay = ms()?,
                "drop_user_event_rate" => c.drop_user_event_rate = rate()?,
                "disconnect_every_ms" => c.disconnect_every = ms()?,
                "depth_gap_every" => {
                    c.depth_gap_every =
                        val.as_u64().ok_or(format!("{k}: must be a whole number"))?
                }
                "http_5xx_rate" => c.http_5xx_rate = rate()?,
                "http_5xx_after_rate" => c.http_5xx_after_rate = rate()?,
                "http_429_rate" => c.http_429_rate = rate()?,
                "slow_response_ms" => c.slow_response = ms()?,
                "slow_okx_response_ms" => c.slow_okx_response = ms()?,
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        self.apply(&c);
        Ok(())
    }

    fn roll(&self, a: &AtomicU64) -> bool {
        let p = f64::from_bits(a.load(Relaxed));
        p > 0.0 && (p >= 1.0 || self.rng.lock().chance(p))
    }

    pub fn set_drop_ack_rate(&self, r: f64) {
        self.drop_ack_rate
            .store(r.clamp(0.0, 1.0).to_bits(), Relaxed);
    }
    pub fn set_ack_delay(&self, d: Duration) {
        self.ack_delay_us.store(us(d), Relaxed);
    }
    pub fn set_market_delay(&self, d: Duration) {
        self.market_delay_us.store(us(d), Relaxed);
    }
    pub fn set_drop_user_event_rate(&self, r: f64) {
        self.drop_user_event_rate
            .store(r.clamp(0.0, 1.0).to_bits(), Relaxed);
    }
    pub fn set_disconnect_every(&self, d: Duration) {
        self.disconnect_every_ms
            .store(d.as_millis() as u64, Relaxed);
    }
    pub fn set_depth_gap_every(&self, n: u64) {
        self.depth_gap_every.store(n, Relaxed);
    }
    pub fn set_http_5xx_rate(&self, r: f64) {
        self.http_5xx_rate
            .store(r.clamp(0.0, 1.0).to_bits(), Relaxed);
    }
    pub fn set_http_5xx_after_rate(&self, r: f64) {
        self.http_5xx_after_rate
            .store(r.clamp(0.0, 1.0).to_bits(), Relaxed);
    }
    pub fn set_http_429_rate(&self, r: f64) {
        self.http_429_rate
            .store(r.clamp(0.0, 1.0).to_bits(), Relaxed);
    }
    /// Sets the exchange clock's offset from this machine's, ms (negative: behind).
    pub fn set_clock_skew_ms(&self, ms: i64) {
        self.clock_skew_ms.store(ms, Relaxed);
    }
    /// The exchange's own time, ms: this machine's clock plus the configured skew.
    pub fn server_ms(&self) -> u64 {
        let now = super::exchange::now_ms() as i64;
        (now + self.clock_skew_ms.load(Relaxed)).max(0) as u64
    }
    /// OKX `books` subscriptions without the initial snapshot (run-time switch).
    pub fn set_okx_no_snapshot(&self, on: bool) {
        self.okx_no_snapshot.store(on, Relaxed);
    }
    pub fn okx_no_snapshot(&self) -> bool {
        self.okx_no_snapshot.load(Relaxed)
    }
    /// OKX `books` updates with a zero checksum (run-time switch).
    pub fn set_okx_checksum_zero(&self, on: bool) {
        self.okx_checksum_zero.store(on, Relaxed);
    }
    pub fn okx_checksum_zero(&self) -> bool {
        self.okx_checksum_zero.load(Relaxed)
    }
    pub fn set_slow_response(&self, d: Duration) {
        self.slow_response_us.store(us(d), Relaxed);
    }

    pub fn drop_ack(&self) -> bool {
        self.roll(&self.drop_ack_rate)
    }
    pub fn ack_delay(&self) -> Duration {
        Duration::from_micros(self.ack_delay_us.load(Relaxed))
    }
    pub fn market_delay(&self) -> Duration {
        Duration::from_micros(self.market_delay_us.load(Relaxed))
    }
    pub fn drop_user_event(&self) -> bool {
        self.roll(&self.drop_user_event_rate)
    }
    pub fn disconnect_every(&self) -> Duration {
        Duration::from_millis(self.disconnect_every_ms.load(Relaxed))
    }
    pub fn depth_gap_every(&self) -> u64 {
        self.depth_gap_every.load(Relaxed)
    }
    pub fn http_5xx(&self) -> bool {
        self.roll(&self.http_5xx_rate)
    }
    /// An executed order request is answered 503 (outcome unknown to the client).
    pub fn http_5xx_after(&self) -> bool {
        self.roll(&self.http_5xx_after_rate)
    }
    pub fn http_429(&self) -> bool {
        self.roll(&self.http_429_rate)
    }
    /// The extra delay of OKX's REST endpoints alone.
    pub fn slow_okx_response(&self) -> Duration {
        Duration::from_micros(self.slow_okx_response_us.load(Relaxed))
    }
    pub fn slow_response(&self) -> Duration {
        Duration::from_micros(self.slow_response_us.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_updates_are_checked_and_round_trip() {
        let f = Faults::new(&FaultConfig::default(), 1);
        assert!(!f.drop_ack());
        f.update_from_json(&json!({"drop_ack_rate": 1.0, "ack_delay_ms": 25}))
            .unwrap();
        assert!(f.drop_ack());
        assert_eq!(f.ack_delay(), Duration::from_millis(25));
        assert!(f.update_from_json(&json!({"drop_ack_rate": 3.0})).is_err());
        assert!(f.update_from_json(&json!({"nope": 1})).is_err());
        assert_eq!(f.to_json()["ack_delay_ms"], 25);
    }
}
