//! `SnapshotFetcher`: REST book snapshots (the venue's path, from its `MarketData`) fetched on
//! a low-priority thread, so the feed actor never blocks on HTTP. It keeps the feed's share of
//! the venue's request weight and waits out 429/418 answers.
//!
//! The actor sends an instrument id; the thread answers with the body (or why there is
//! none) through a second channel the actor drains in its `poll`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::types::InstrumentId;

/// How snapshots are fetched.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotOptions {
    /// Levels asked for (venues cap it; the venue's `MarketData` clamps it and sets the weight).
    pub limit: u32,
    /// Request weight this feed may spend on snapshots per rolling minute (a venue allows
    /// 6000 per IP; the gateway and the probe need the rest).
    pub weight_per_minute: u32,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Wait after a 429 without `Retry-After`; doubles per consecutive 429, up to 2 minutes.
    pub rate_limit_backoff: Duration,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        Self {
            limit: 1000,
            weight_per_minute: 1200,
            timeout: Duration::from_secs(10),
            rate_limit_backoff: Duration::from_secs(1),
        }
    }
}

/// Why a snapshot request gave no body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// 429 or 418: the thread waits `retry_after` before its next request.
    #[error("rate limited (HTTP {status}), retry after {retry_after:?}")]
    RateLimited { status: u16, retry_after: Duration },
    #[error("HTTP {0}")]
    Status(u16),
    /// Connect, timeout, or read failure (ureq's error is not formatted: it may carry a URL).
    #[error("transport: {0}")]
    Transport(&'static str),
    #[error("instrument has no symbol on this feed")]
    UnknownInstrument,
}

/// One answer: the body of `GET /api/v3/depth` for `instrument`, or why not.
#[derive(Debug)]
pub struct SnapshotAnswer {
    pub instrument: InstrumentId,
    pub result: Result<Vec<u8>, SnapshotError>,
}

/// The actor's end of the snapshot thread. Dropping it ends the thread (after the request
/// in progress, if any).
pub struct SnapshotFetcher {
    requests: Sender<InstrumentId>,
    answers: Receiver<SnapshotAnswer>,
}

impl SnapshotFetcher {
    /// Starts the thread. `requests` are each instrument's snapshot path and query (from the
    /// venue) and its request weight; the URLs are built here, once.
    pub fn spawn(
        name: &str,
        rest_url: &str,
        requests: &[(InstrumentId, String, u32)],
        opts: SnapshotOptions,
    ) -> std::io::Result<Self> {
        let base = rest_url.trim_end_matches('/');
        let urls: Vec<(InstrumentId, String, u32)> = requests
            .iter()
            .map(|(id, path, weight)| (*id, format!("{base}{path}"), *weight))
            .collect();
        // One request can wait per instrument; answers the same.
        let cap = requests.len().max(1);
        let (req_tx, req_rx) = crossbeam_channel::bounded::<InstrumentId>(cap);
        let (ans_tx, ans_rx) = crossbeam_channel::bounded::<SnapshotAnswer>(cap);
        std::thread::Builder::new()
            .name(format!("mako-snap-{name}"))
            .spawn(move || {
                crate::runtime::affinity::keep_off_hot("snapshot");
                Worker::new(urls, opts).run(&req_rx, &ans_tx)
            })?;
        Ok(Self {
            requests: req_tx,
            answers: ans_rx,
        })
    }

    /// A fetcher with no thread (replays: snapshots come from the recording); every request
    /// is refused.
    pub fn idle() -> Self {
        let (requests, _) = crossbeam_channel::bounded::<InstrumentId>(1);
        let (_, answers) = crossbeam_channel::bounded::<SnapshotAnswer>(1);
        Self { requests, answers }
    }

    /// Asks for a snapshot of `instrument`; false if the queue is full (ask again later).
    pub fn request(&self, instrument: InstrumentId) -> bool {
        self.requests.try_send(instrument).is_ok()
    }

    /// The next answer, if one is ready.
    pub fn try_answer(&self) -> Option<SnapshotAnswer> {
        self.answers.try_recv().ok()
    }
}

/// The thread's state: URLs, the weight spent in the last minute, the rate-limit wait.
struct Worker {
    urls: Vec<(InstrumentId, String, u32)>,
    opts: SnapshotOptions,
    agent: ureq::Agent,
    /// `(sent at, weight)` of requests in the last minute.
    spent: VecDeque<(Instant, u32)>,
    quiet_until: Option<Instant>,
    consecutive_429: u32,
}

impl Worker {
    fn new(urls: Vec<(InstrumentId, String, u32)>, opts: SnapshotOptions) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .proxy(None)
            .user_agent("mako-feed")
            .build();
        Self {
            urls,
            opts,
            agent: ureq::Agent::new_with_config(config),
            spent: VecDeque::new(),
            quiet_until: None,
            consecutive_429: 0,
        }
    }

    fn run(mut self, requests: &Receiver<InstrumentId>, answers: &Sender<SnapshotAnswer>) {
        // Ends when the fetcher (the request sender) is dropped.
        while let Ok(id) = requests.recv() {
            let weight = self.urls.iter().find(|u| u.0 == id).map_or(1, |u| u.2);
            self.wait_for_budget(weight);
            let result = self.fetch(id);
            if answers
                .send(SnapshotAnswer {
                    instrument: id,
                    result,
                })
                .is_err()
            {
                break;
            }
        }
    }

    /// Sleeps through a rate-limit wait and until the minute's weight has room.
    fn wait_for_budget(&mut self, weight: u32) {
        if let Some(t) = self.quiet_until.take() {
            let now = Instant::now();
            if t > now {
                std::thread::sleep(t - now);
            }
        }
        loop {
            let now = Instant::now();
            while self
                .spent
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) >= Duration::from_secs(60))
            {
                self.spent.pop_front();
            }
            let used: u32 = self.spent.iter().map(|(_, w)| w).sum();
            // A budget below one request's weight still lets one request a minute through.
            if used == 0 || used + weight <= self.opts.weight_per_minute {
                self.spent.push_back((now, weight));
                return;
            }
            let oldest = self.spent.front().map_or(now, |(at, _)| *at);
            let free_at = oldest + Duration::from_secs(60);
            std::thread::sleep(free_at.saturating_duration_since(now));
        }
    }

    fn fetch(&mut self, id: InstrumentId) -> Result<Vec<u8>, SnapshotError> {
        let Some((_, url, _)) = self.urls.iter().find(|(i, _, _)| *i == id) else {
            return Err(SnapshotError::UnknownInstrument);
        };
        let mut resp = match self.agent.get(url.as_str()).call() {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => return Err(SnapshotError::Transport("timeout")),
            Err(ureq::Error::Io(_) | ureq::Error::ConnectionFailed) => {
                return Err(SnapshotError::Transport("connection failed"));
            }
            Err(ureq::Error::HostNotFound) => {
                return Err(SnapshotError::Transport("host not found"));
            }
            Err(_) => return Err(SnapshotError::Transport("request failed")),
        };
        let status = resp.status().as_u16();
        if status == 429 || status == 418 {
            self.consecutive_429 += 1;
            let header = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let doubling = self
                .opts
                .rate_limit_backoff
                .saturating_mul(1u32 << self.consecutive_429.saturating_sub(1).min(16));
            let retry_after =
                header
                    .unwrap_or(doubling)
                    .min(Duration::from_secs(if status == 418 {
                        3 * 86_400
                    } else {
                        120
                    }));
            self.quiet_until = Some(Instant::now() + retry_after);
            return Err(SnapshotError::RateLimited {
                status,
                retry_after,
            });
        }
        self.consecutive_429 = 0;
        if !(200..300).contains(&status) {
            return Err(SnapshotError::Status(status));
        }
        resp.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|_| SnapshotError::Transport("reading the body failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_connections_come_back_as_transport_errors() {
        // Port 1 on loopback: nothing listens.
        let f = SnapshotFetcher::spawn(
            "t",
            "http://127.0.0.1:1",
            &[(InstrumentId(3), "/api/v3/depth?symbol=BTCUSDT".into(), 5)],
            SnapshotOptions::default(),
        )
        .unwrap();
        assert!(f.request(InstrumentId(3)));
        let until = Instant::now() + Duration::from_secs(20);
        let a = loop {
            if let Some(a) = f.try_answer() {
                break a;
            }
            assert!(Instant::now() < until, "no answer");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(a.instrument, InstrumentId(3));
        assert!(matches!(a.result, Err(SnapshotError::Transport(_))));
    }
}
