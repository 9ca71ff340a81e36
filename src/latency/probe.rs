//! The REST round-trip probe (`GET {rest_url}/api/v3/time` at `probe_interval`) and the
//! venue clock offset it estimates, published through atomics for the feed's lag.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::VenueKind;
use crate::runtime::{Actor, Clock, Ctx};
use crate::types::UnixNanos;

use super::measurement::Measurement;
use super::recorder::Recorder;

/// Sentinel for "no estimate yet".
const UNKNOWN: i64 = i64::MIN;
/// Probes the offset estimate looks back over; it keeps the one with the lowest RTT.
pub const OFFSET_SAMPLES: usize = 16;
/// Longest a probe request may take (the seed scalper's 3 s); a timed-out probe records
/// this as its round trip (a lower bound of the truth), so a venue that stops answering
/// degrades its band. Probes are sequential: a slow one delays the next, never overlaps it.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest response body read.
const BODY_LIMIT: u64 = 4096;

#[derive(Debug)]
struct OffsetInner {
    offset_ns: AtomicI64,
    rtt_ns: AtomicU64,
}

/// The venue's clock minus this machine's, in ns, as the probe last estimated it.
///
/// Written by the probe, read by the feed on a hot thread (one `Relaxed` load: the value
/// carries no other data, and the offset and its RTT may be seen from different probes).
#[derive(Debug, Clone)]
pub struct ClockOffset(Arc<OffsetInner>);

impl Default for ClockOffset {
    fn default() -> Self {
        Self::new()
    }
}

impl ClockOffset {
    pub fn new() -> Self {
        Self(Arc::new(OffsetInner {
            offset_ns: AtomicI64::new(UNKNOWN),
            rtt_ns: AtomicU64::new(0),
        }))
    }

    /// Venue clock minus local clock, ns; `None` before the first successful probe.
    #[inline]
    pub fn get(&self) -> Option<i64> {
        let v = self.0.offset_ns.load(Ordering::Relaxed);
        (v != UNKNOWN).then_some(v)
    }

    /// Round trip of the probe the estimate comes from; the estimate is good to about half
    /// of it, plus the venue's timestamp resolution (1 ms for Binance).
    pub fn rtt_ns(&self) -> Option<u64> {
        self.get().map(|_| self.0.rtt_ns.load(Ordering::Relaxed))
    }

    pub fn set(&self, offset_ns: i64, rtt_ns: u64) {
        self.0.rtt_ns.store(rtt_ns, Ordering::Relaxed);
        self.0
            .offset_ns
            .store(offset_ns.max(UNKNOWN + 1), Ordering::Relaxed);
    }

    /// Feed lag: local receive time minus the venue's event time expressed on the local
    /// clock. Zero if the corrected event time is after the receive time (clock error).
    /// Without an estimate the clocks are taken as equal.
    #[inline]
    pub fn lag_ns(&self, received: UnixNanos, venue_event: UnixNanos) -> u64 {
        let offset = self.get().unwrap_or(0);
        let event_local = i128::from(venue_event.0) - i128::from(offset);
        (i128::from(received.0) - event_local).clamp(0, i128::from(u64::MAX)) as u64
    }
}

/// What a probe has counted, readable from any thread.
#[derive(Debug, Default)]
struct Counters {
    ok: AtomicU64,
    timeouts: AtomicU64,
    failures: AtomicU64,
}

/// A copy of a probe's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeStats {
    pub ok: u64,
    pub timeouts: u64,
    /// Refused connections, bad status codes, unreadable bodies.
    pub failures: u64,
}

/// How to ask a venue for its time: the path, and the key of the time (ms) in the answer.
fn endpoint(kind: VenueKind) -> (&'static str, &'static [u8]) {
    match kind {
        // {"serverTime":1499827319559}
        VenueKind::BinanceSpot => ("/api/v3/time", b"\"serverTime\""),
        // {"code":"0","data":[{"ts":"1597026383085"}],"msg":""}
        VenueKind::OkxSpot => ("/api/v5/public/time", b"\"ts\""),
        // {"iso":"…","epochSeconds":"1640995200","epochMillis":"1640995200000"}
        VenueKind::Coinbase => ("/api/v3/brokerage/time", b"\"epochMillis\""),
        // {"code":1000,"trace":"…","message":"OK","data":{"server_time":1527777538000}}
        VenueKind::BitmartSpot => ("/system/time", b"\"server_time\""),
        // {"retCode":0,"retMsg":"OK","result":{"timeSecond":"…","timeNano":"…"},"time":1688639403423}
        VenueKind::BybitSpot | VenueKind::BybitLinear => ("/v5/market/time", b"\"time\""),
        // {"result":{"server_time":1710327528000000,…},"success":true}: µs (reference/delta.md
        // §2.3), turned into ms below.
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => ("/v2/settings", b"\"server_time\""),
        // CoinDCX documents no clock endpoint: the public order book's `ts` (exchanges.md
        // §7.3, public.coindcx.com): {"ts":1705483019891,"vs":27570132,"asks":{…},"bids":{…}}.
        VenueKind::CoindcxFutures => ("/market_data/v3/orderbook/B-BTC_USDT-futures/10", b"\"ts\""),
        // Coinstore documents no clock endpoint: the probe times the round trip of its
        // tickers and reads no time from the answer (the key never occurs in it).
        VenueKind::CoinstoreSpot => ("/api/v1/market/tickers", b"\"serverTime\""),
    }
}

/// Reads the venue's time (ms) from its clock endpoint's answer: Binance's
/// `{"serverTime":1499827319559}`, OKX's `{"code":"0","data":[{"ts":"1597026383085"}]}`.
pub fn parse_server_time(kind: VenueKind, body: &[u8]) -> Option<u64> {
    let key = endpoint(kind).1;
    let at = body.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &body[at..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let rest = rest.strip_prefix(b":")?;
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let digits = &rest[start..];
    // OKX quotes its numbers.
    let digits = match (kind, digits.strip_prefix(b"\"")) {
        (VenueKind::OkxSpot | VenueKind::Coinbase, Some(d)) => d,
        (VenueKind::OkxSpot | VenueKind::Coinbase, None) => return None,
        _ => digits,
    };
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 || end > 19 {
        return None;
    }
    let t = digits[..end].iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    match kind {
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => Some(t / 1000),
        _ => Some(t),
    }
}

/// An HTTP client for probes: one global timeout, no proxy from the environment (a probe
/// measures the path to the venue, not to a proxy), error on non-2xx status.
fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .proxy(None)
        .http_status_as_error(true)
        .user_agent("mako-latency-probe")
        .build();
    ureq::Agent::new_with_config(config)
}

/// Venue clock minus local clock, ns, from one round trip: the venue's time (truncated to
/// the ms, so its midpoint) against the local midpoint of the request.
fn offset_of(sent_at: UnixNanos, rtt: u64, server_ms: u64) -> i64 {
    let server_ns = i128::from(server_ms) * 1_000_000 + 500_000;
    let local_mid = i128::from(sent_at.0) + i128::from(rtt / 2);
    (server_ns - local_mid).clamp(i128::from(i64::MIN + 1), i128::from(i64::MAX)) as i64
}

/// Asks the venue for its time once, blocking for at most `timeout`, and returns
/// `(offset ns, round trip ns)`. For a component that must sign before the probe's first
/// answer (the gateway's logon at start); errors are the reason, never a secret.
pub fn measure_offset(
    kind: VenueKind,
    rest_url: &str,
    clock: &Clock,
    timeout: Duration,
) -> Result<(i64, u64), String> {
    let url = format!("{}{}", rest_url.trim_end_matches('/'), endpoint(kind).0);
    let sent_at = clock.now();
    let t0 = Instant::now();
    let mut resp = agent(timeout)
        .get(&url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body = resp
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let rtt = t0.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
    let ms = parse_server_time(kind, &body).ok_or_else(|| format!("GET {url}: no server time"))?;
    Ok((offset_of(sent_at, rtt, ms), rtt))
}

/// The REST round-trip probe of one venue, as an actor.
///
/// Its `poll` blocks for one HTTP request when a probe is due (at most the request timeout,
/// `PROBE_TIMEOUT` unless changed), so place it alone on its own low-priority host; it does
/// nothing on any other poll. Failures are counted and logged at debug level, never fatal.
pub struct RestProbe {
    name: String,
    url: String,
    agent: ureq::Agent,
    interval_ns: u64,
    timeout: Duration,
    next_due: UnixNanos,
    recorder: Recorder,
    offset: ClockOffset,
    /// (rtt ns, offset ns) of the last `OFFSET_SAMPLES` successful probes.
    samples: [(u64, i64); OFFSET_SAMPLES],
    sampled: usize,
    counters: Arc<Counters>,
    kind: VenueKind,
}

impl RestProbe {
    pub(crate) fn new(
        name: String,
        kind: VenueKind,
        rest_url: &str,
        interval: Duration,
        recorder: Recorder,
        offset: ClockOffset,
    ) -> Self {
        Self {
            name,
            kind,
            url: format!("{}{}", rest_url.trim_end_matches('/'), endpoint(kind).0),
            agent: agent(PROBE_TIMEOUT),
            interval_ns: interval.as_nanos().min(u128::from(u64::MAX)) as u64,
            timeout: PROBE_TIMEOUT,
            next_due: UnixNanos::ZERO,
            recorder,
            offset,
            samples: [(u64::MAX, 0); OFFSET_SAMPLES],
            sampled: 0,
            counters: Arc::default(),
        }
    }

    /// Changes the request timeout (default `PROBE_TIMEOUT`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self.agent = agent(self.timeout);
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn stats(&self) -> ProbeStats {
        ProbeStats {
            ok: self.counters.ok.load(Ordering::Relaxed),
            timeouts: self.counters.timeouts.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
        }
    }

    pub fn clock_offset(&self) -> &ClockOffset {
        &self.offset
    }

    /// Sends one probe now and records it. Blocks for at most the request timeout.
    pub fn probe_once(&mut self, clock: &Clock) {
        let sent_at = clock.now();
        let t0 = Instant::now();
        let result = self.fetch();
        let rtt = t0.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
        match result {
            Ok(body) => {
                self.recorder.record(Measurement::RestRtt, rtt);
                self.counters.ok.fetch_add(1, Ordering::Relaxed);
                match parse_server_time(self.kind, &body) {
                    Some(ms) => self.add_offset_sample(sent_at, rtt, ms),
                    None => tracing::debug!(probe = %self.name, "probe answer has no serverTime"),
                }
            }
            Err(ureq::Error::Timeout(_)) => {
                self.recorder
                    .record(Measurement::RestRtt, self.timeout.as_nanos() as u64);
                self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(probe = %self.name, "probe timed out");
            }
            Err(e) => {
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(probe = %self.name, error = %e, "probe failed");
            }
        }
    }

    fn fetch(&self) -> Result<Vec<u8>, ureq::Error> {
        let mut resp = self.agent.get(&self.url).call()?;
        resp.body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
    }

    /// Adds one (rtt, offset) sample and publishes the offset of the lowest-RTT sample in
    /// the last `OFFSET_SAMPLES`: the shortest round trip bounds the offset most tightly.
    fn add_offset_sample(&mut self, sent_at: UnixNanos, rtt: u64, server_ms: u64) {
        let offset = offset_of(sent_at, rtt, server_ms);
        self.samples[self.sampled % OFFSET_SAMPLES] = (rtt, offset);
        self.sampled += 1;
        let filled = self.sampled.min(OFFSET_SAMPLES);
        if let Some(&(best_rtt, best_offset)) = self.samples[..filled].iter().min_by_key(|s| s.0) {
            self.offset.set(best_offset, best_rtt);
        }
    }
}

impl Actor for RestProbe {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), crate::runtime::StartError> {
        let now = ctx.clock.now();
        self.recorder.start(now);
        self.next_due = now;
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let now = ctx.clock.now();
        self.recorder.maybe_flush(now);
        if now < self.next_due {
            return 0;
        }
        self.next_due = now.plus_nanos(self.interval_ns);
        self.probe_once(&ctx.clock);
        1
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        self.recorder.finish(ctx.clock.now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::fake_time_server::FakeTimeServer;
    use crate::latency::monitor::LatencyHub;
    use crate::latency::monitor_tests::config;
    use crate::runtime::Shutdown;
    use crate::types::VenueId;

    #[test]
    fn server_time_parsing() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"{\"serverTime\":1499827319559}", Some(1_499_827_319_559)),
            (b"{ \"serverTime\" : 42 }", Some(42)),
            (b"{\"serverTime\":-1}", None),
            (b"{\"serverTime\":\"1\"}", None),
            (b"{\"serverTime\":99999999999999999999999}", None),
            (b"{\"time\":1}", None),
            (b"", None),
            (b"\"serverTime\"", None),
        ];
        for (body, want) in cases {
            assert_eq!(
                parse_server_time(VenueKind::BinanceSpot, body),
                *want,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let okx: &[(&[u8], Option<u64>)] = &[
            (
                br#"{"code":"0","data":[{"ts":"1597026383085"}],"msg":""}"#,
                Some(1_597_026_383_085),
            ),
            (br#"{"code":"0","data":[{"ts":1}]}"#, None),
            (
                br#"{"code":"50011","data":[],"msg":"Too Many Requests"}"#,
                None,
            ),
        ];
        for (body, want) in okx {
            assert_eq!(parse_server_time(VenueKind::OkxSpot, body), *want);
        }
        // Coinbase's GET /api/v3/brokerage/time (ExtendedTimestamp: strings).
        let coinbase: &[(&[u8], Option<u64>)] = &[
            (
                br#"{"iso":"2023-05-10T18:02:51Z","epochSeconds":"1683741771","epochMillis":"1683741771123"}"#,
                Some(1_683_741_771_123),
            ),
            (br#"{"epochMillis":1683741771123}"#, None),
            (br#"{"error":"unavailable"}"#, None),
        ];
        for (body, want) in coinbase {
            assert_eq!(parse_server_time(VenueKind::Coinbase, body), *want);
        }
        // BitMart's GET /system/time (a number).
        let bitmart: &[(&[u8], Option<u64>)] = &[
            (
                br#"{"code":1000,"trace":"886fb6ae","message":"OK","data":{"server_time":1527777538000}}"#,
                Some(1_527_777_538_000),
            ),
            (br#"{"code":1000,"data":{"server_time":"1527777538000"}}"#, None),
        ];
        for (body, want) in bitmart {
            assert_eq!(parse_server_time(VenueKind::BitmartSpot, body), *want);
        }
    }

    #[test]
    fn lag_is_corrected_by_the_offset() {
        let o = ClockOffset::new();
        assert_eq!(o.get(), None);
        assert_eq!(
            o.lag_ns(UnixNanos(1_000), UnixNanos(400)),
            600,
            "no estimate: clocks equal"
        );
        o.set(250, 10); // venue clock 250 ns ahead
        assert_eq!(o.lag_ns(UnixNanos(1_000), UnixNanos(400)), 850);
        assert_eq!(
            o.lag_ns(UnixNanos(100), UnixNanos(400)),
            0,
            "negative lag clamps to zero"
        );
        assert_eq!(o.rtt_ns(), Some(10));
    }

    fn ctx(clock: Clock) -> Ctx {
        Ctx {
            clock,
            shutdown: Shutdown::new(),
            host: "test",
        }
    }

    #[test]
    fn probes_a_local_server_records_rtt_and_estimates_offset() {
        let server = FakeTimeServer::start(Duration::from_secs(120)).unwrap();
        server.set_delay(Duration::from_millis(2), Duration::ZERO);
        let mut hub = LatencyHub::new(&config(), vec!["local".into()]).unwrap();
        let mut probe = hub
            .probe(
                VenueId(0),
                VenueKind::BinanceSpot,
                &format!("{}/", server.url()),
            )
            .unwrap();
        assert_eq!(probe.url(), format!("{}/api/v3/time", server.url()));
        let offset = hub.clock_offset(VenueId(0));
        let mut monitor = hub.into_monitor();

        let (clock, manual) = Clock::manual(UnixNanos::from_millis(999_000));
        let mut c = ctx(clock);
        probe.start(&mut c).unwrap();
        for _ in 0..3 {
            // The venue's clock is exactly one second ahead of ours (manual) at every probe.
            server.set_fixed_time_ms(Some(c.clock.now().as_millis() + 1_000));
            assert_eq!(probe.poll(&mut c), 1, "a probe is due");
            assert_eq!(
                probe.poll(&mut c),
                0,
                "not due again until the interval passes"
            );
            manual.advance(1_000_000_000);
        }
        assert_eq!(
            probe.stats(),
            ProbeStats {
                ok: 3,
                timeouts: 0,
                failures: 0
            }
        );
        assert_eq!(server.served(), 3);

        let est = offset.get().expect("an offset estimate");
        let rtt = offset.rtt_ns().unwrap();
        assert!(
            rtt >= 2_000_000,
            "the server's 2 ms delay is inside the round trip: {rtt}"
        );
        // Offset = 1 s, give or take half the RTT and the 1 ms timestamp resolution.
        let err = (est - 1_000_000_000).unsigned_abs();
        assert!(err <= rtt / 2 + 1_000_000, "offset {est} ns, rtt {rtt} ns");

        // The samples reach the monitor through the normal handoff.
        probe.stop(&mut c);
        let mut mc = ctx(c.clock.clone());
        monitor.poll(&mut mc);
        let w = monitor
            .window(VenueId(0), Measurement::RestRtt)
            .expect("rest_rtt window");
        assert_eq!(w.run().len(), 3);
        assert!(w.run().min() >= 2_000_000);
    }

    #[test]
    fn failures_are_counted_and_never_panic() {
        let server = FakeTimeServer::start(Duration::from_secs(120)).unwrap();
        server.set_status(500);
        let mut hub = LatencyHub::new(&config(), vec!["local".into()]).unwrap();
        let mut probe = hub
            .probe(VenueId(0), VenueKind::BinanceSpot, &server.url())
            .unwrap();
        let offset = hub.clock_offset(VenueId(0));
        let clock = Clock::live();
        probe.probe_once(&clock);
        assert_eq!(probe.stats().failures, 1);

        // Nothing listening: connection refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let mut probe2 = hub
            .probe(
                VenueId(0),
                VenueKind::BinanceSpot,
                &format!("http://{addr}"),
            )
            .unwrap();
        probe2.probe_once(&clock);
        assert_eq!(probe2.stats().failures, 1);

        // Back to normal answers: a round trip and an estimate.
        server.set_status(200);
        server.set_fixed_time_ms(None);
        probe.probe_once(&clock);
        assert_eq!(probe.stats().ok, 1);
        assert!(offset.get().is_some(), "a normal answer gives an estimate");
    }

    #[test]
    fn slow_answer_times_out_and_records_the_timeout() {
        let server = FakeTimeServer::start(Duration::from_secs(120)).unwrap();
        // Timeout 50 ms; the server takes 1.5 s.
        server.set_delay(Duration::from_millis(1500), Duration::ZERO);
        let mut hub = LatencyHub::new(&config(), vec!["local".into()]).unwrap();
        let mut probe = hub
            .probe(VenueId(0), VenueKind::BinanceSpot, &server.url())
            .unwrap()
            .with_timeout(Duration::from_millis(50));
        let mut monitor = hub.into_monitor();
        let clock = Clock::live();
        probe.probe_once(&clock);
        assert_eq!(
            probe.stats(),
            ProbeStats {
                ok: 0,
                timeouts: 1,
                failures: 0
            }
        );
        let mut c = ctx(clock);
        probe.stop(&mut c);
        monitor.poll(&mut c);
        let w = monitor.window(VenueId(0), Measurement::RestRtt).unwrap();
        assert_eq!(w.run().len(), 1);
        assert!(
            w.run().equivalent(w.run().max(), 50_000_000),
            "recorded at the timeout"
        );
    }
}
