//! Latency models of the backtest: how long an order takes to reach the venue (entry) and
//! how long the venue's answer takes to come back (response). Feed latency needs no model:
//! the recording's own receive timestamps are when the engine saw each frame.

use std::path::Path;

use crate::latency::hgrm::{Hgrm, read_hgrm};
use crate::sim::rng::Rng;
use crate::types::UnixNanos;

/// One latency model, chosen in `[backtest]` or with `--latency <dir>`.
#[derive(Debug, Clone)]
pub enum LatencyModel {
    /// The same entry and response latency for every order.
    Constant { entry_ns: u64, response_ns: u64 },
    /// Round trips drawn from `.hgrm` histograms a real run recorded (`order_ack`, and
    /// `cancel_ack` for cancels when present) with a seeded generator; each draw is split
    /// half to entry, half to response.
    Histogram {
        order: Sampler,
        cancel: Option<Sampler>,
        source: String,
        rng: Rng,
    },
    /// Latency that grows with the market's message rate, as venues slow down when markets
    /// move: `base × (1 + rate / rate_ref)`, the rate counted over the last `window_ns` of
    /// recording time.
    MessageRate {
        entry_ns: u64,
        response_ns: u64,
        rate_ref: f64,
        window_ns: u64,
        rate: Box<RateMeter>,
    },
}

/// A distribution read from an `.hgrm` table, sampled by inverting its percentile rows.
#[derive(Debug, Clone)]
pub struct Sampler {
    /// (cumulative fraction, value in ns), rising.
    rows: Vec<(f64, u64)>,
}

impl Sampler {
    pub fn from_hgrm(h: &Hgrm) -> Result<Self, String> {
        let n = h.count();
        if n == 0 || h.rows.is_empty() {
            return Err("the histogram holds no samples".into());
        }
        let rows = h
            .rows
            .iter()
            .map(|r| {
                (
                    r.total_count as f64 / n as f64,
                    (r.value_us * 1000.0).max(0.0) as u64,
                )
            })
            .collect();
        Ok(Self { rows })
    }

    /// The value at uniform draw `u` in `[0, 1)`: the first row whose cumulative fraction
    /// reaches it.
    pub fn at(&self, u: f64) -> u64 {
        self.rows
            .iter()
            .find(|(p, _)| *p >= u)
            .or(self.rows.last())
            .map_or(0, |r| r.1)
    }

    /// The median, for reports.
    pub fn median(&self) -> u64 {
        self.at(0.5)
    }
}

/// Market messages counted over a sliding window of recording time (a ring of 64 buckets).
#[derive(Debug, Clone)]
pub struct RateMeter {
    bucket_ns: u64,
    buckets: [u32; 64],
    current: u64,
}

impl RateMeter {
    pub fn new(window_ns: u64) -> Self {
        Self {
            bucket_ns: (window_ns / 64).max(1),
            buckets: [0; 64],
            current: 0,
        }
    }

    /// One message at `t`.
    #[inline]
    pub fn tick(&mut self, t: UnixNanos) {
        let b = t.0 / self.bucket_ns;
        if b != self.current {
            let gap = b.saturating_sub(self.current).min(64);
            for k in 1..=gap {
                self.buckets[((self.current + k) % 64) as usize] = 0;
            }
            self.current = b;
        }
        self.buckets[(b % 64) as usize] += 1;
    }

    /// Messages per second over the window.
    pub fn per_second(&self) -> f64 {
        let n: u64 = self.buckets.iter().map(|&c| u64::from(c)).sum();
        n as f64 * 1e9 / (self.bucket_ns * 64) as f64
    }
}

/// What an order or cancel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Order,
    Cancel,
}

impl LatencyModel {
    /// The `.hgrm` model from `dir`: `<venue>.order_ack.hgrm` (required) and
    /// `<venue>.cancel_ack.hgrm` (optional), as `mako run` exports them.
    pub fn from_dir(dir: &Path, venue: &str, seed: u64) -> Result<Self, String> {
        let file = |m: &str| dir.join(format!("{venue}.{m}.hgrm"));
        let read = |p: &Path| -> Result<Sampler, String> {
            let h = read_hgrm(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Sampler::from_hgrm(&h).map_err(|e| format!("{}: {e}", p.display()))
        };
        let order_path = file("order_ack");
        if !order_path.exists() {
            return Err(format!(
                "{}: not found (the latency directory needs the venue's order_ack histogram, as `mako run` exports it)",
                order_path.display()
            ));
        }
        let order = read(&order_path)?;
        let cancel_path = file("cancel_ack");
        let cancel = if cancel_path.exists() {
            Some(read(&cancel_path)?)
        } else {
            None
        };
        Ok(LatencyModel::Histogram {
            order,
            cancel,
            source: dir.display().to_string(),
            rng: Rng::new(seed),
        })
    }

    /// A market message arrived at `t` (the message-rate model counts them).
    #[inline]
    pub fn on_market(&mut self, t: UnixNanos) {
        if let LatencyModel::MessageRate { rate, .. } = self {
            rate.tick(t);
        }
    }

    /// The (entry, response) latency of one request sent now.
    pub fn draw(&mut self, req: Request) -> (u64, u64) {
        match self {
            LatencyModel::Constant {
                entry_ns,
                response_ns,
            } => (*entry_ns, *response_ns),
            LatencyModel::Histogram {
                order, cancel, rng, ..
            } => {
                let s = match (req, cancel.as_ref()) {
                    (Request::Cancel, Some(c)) => c,
                    _ => order,
                };
                let rtt = s.at(rng.unit());
                (rtt / 2, rtt - rtt / 2)
            }
            LatencyModel::MessageRate {
                entry_ns,
                response_ns,
                rate_ref,
                rate,
                ..
            } => {
                let k = 1.0 + rate.per_second() / *rate_ref;
                (
                    (*entry_ns as f64 * k) as u64,
                    (*response_ns as f64 * k) as u64,
                )
            }
        }
    }

    /// The model in words, for the report.
    pub fn describe(&self) -> String {
        match self {
            LatencyModel::Constant {
                entry_ns,
                response_ns,
            } => format!(
                "constant: entry {} µs, response {} µs",
                entry_ns / 1000,
                response_ns / 1000
            ),
            LatencyModel::Histogram {
                order,
                cancel,
                source,
                ..
            } => format!(
                "hgrm from {source}: order round trip median {} µs{}, split half entry, half response, seeded draws",
                order.median() / 1000,
                match cancel {
                    Some(c) => format!(", cancel round trip median {} µs", c.median() / 1000),
                    None => ", cancels drawn from the order histogram".into(),
                }
            ),
            LatencyModel::MessageRate {
                entry_ns,
                response_ns,
                rate_ref,
                window_ns,
                ..
            } => format!(
                "message rate: entry {} µs and response {} µs × (1 + rate / {rate_ref} msg/s), rate over the last {} ms of recording time",
                entry_ns / 1000,
                response_ns / 1000,
                window_ns / 1_000_000
            ),
        }
    }

    /// `constant`, `hgrm` or `message-rate`.
    pub fn kind(&self) -> &'static str {
        match self {
            LatencyModel::Constant { .. } => "constant",
            LatencyModel::Histogram { .. } => "hgrm",
            LatencyModel::MessageRate { .. } => "message-rate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HGRM: &str = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n\
        100.000 0.000000000000          1           1.00\n\
        200.000 0.500000000000          5           2.00\n\
        400.000 0.900000000000          9          10.00\n\
        1000.000 1.000000000000         10            inf\n\
        #[Mean    =      300.000, StdDeviation   =      100.000]\n\
        #[Max     =     1000.000, Total count    =           10]\n";

    #[test]
    fn hgrm_draws_follow_the_recorded_distribution_and_the_seed() {
        let h = crate::latency::hgrm::parse_hgrm(HGRM).unwrap();
        let s = Sampler::from_hgrm(&h).unwrap();
        assert_eq!(s.at(0.0), 100_000);
        assert_eq!(s.at(0.3), 200_000);
        assert_eq!(s.at(0.85), 400_000);
        assert_eq!(s.at(0.95), 1_000_000);
        let model = |seed| LatencyModel::Histogram {
            order: s.clone(),
            cancel: None,
            source: "t".into(),
            rng: Rng::new(seed),
        };
        let (mut a, mut b) = (model(7), model(7));
        let draws: Vec<_> = (0..1000).map(|_| a.draw(Request::Order)).collect();
        assert_eq!(
            draws,
            (0..1000)
                .map(|_| b.draw(Request::Order))
                .collect::<Vec<_>>()
        );
        // Half of the 10 samples are at or below 200 µs: about half the draws.
        let low = draws.iter().filter(|(e, r)| e + r <= 200_000).count();
        assert!((400..600).contains(&low), "{low}");
        assert!(
            draws
                .iter()
                .all(|(e, r)| e + r >= 100_000 && e + r <= 1_000_000)
        );
    }

    #[test]
    fn message_rate_latency_grows_with_the_rate() {
        let mut m = LatencyModel::MessageRate {
            entry_ns: 1_000_000,
            response_ns: 500_000,
            rate_ref: 1000.0,
            window_ns: 1_000_000_000,
            rate: Box::new(RateMeter::new(1_000_000_000)),
        };
        assert_eq!(m.draw(Request::Order), (1_000_000, 500_000));
        // 2000 messages within the last second: rate 2000/s, latency × 3.
        for k in 0..2000u64 {
            m.on_market(UnixNanos(10_000_000_000 + k * 400_000));
        }
        let (e, r) = m.draw(Request::Order);
        assert!((2_900_000..=3_100_000).contains(&e), "{e}");
        assert!((1_450_000..=1_550_000).contains(&r), "{r}");
        // A quiet minute later the window is empty again.
        m.on_market(UnixNanos(70_000_000_000));
        assert!(m.draw(Request::Order).0 < 1_100_000);
    }

    #[test]
    fn a_missing_histogram_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("mako-bt-lat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = LatencyModel::from_dir(&dir, "binance", 1).unwrap_err();
        assert!(e.contains("binance.order_ack.hgrm"), "{e}");
        std::fs::write(dir.join("binance.order_ack.hgrm"), "garbage line\n").unwrap();
        assert!(LatencyModel::from_dir(&dir, "binance", 1).is_err());
        std::fs::write(dir.join("binance.order_ack.hgrm"), HGRM).unwrap();
        let m = LatencyModel::from_dir(&dir, "binance", 1).unwrap();
        assert_eq!(m.kind(), "hgrm");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
