//! The terminal status line: a low-priority actor that prints what the engine is doing every
//! few seconds, for an operator watching the process.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::config::Config;
use crate::latency::board::BandBoard;
use crate::latency::plot::human_us;
use crate::latency::{LatencySnapshot, Measurement, SnapshotBoard};
use crate::runtime::{Actor, Ctx, HostStats, Rx};
use crate::strategy::actor::ReportMsg;
use crate::types::{UnixNanos, VenueId};

/// One line per strategy: mid, quotes, inventory, fills, PnL and the venue's band.
pub struct StrategyLines {
    rx: Rx<ReportMsg>,
    latest: Vec<Option<ReportMsg>>,
    names: Vec<String>,
    /// (symbol, base, quote) of each strategy's instrument.
    assets: Vec<(String, String, String)>,
    venues: Vec<VenueId>,
    board: Option<BandBoard>,
    /// The latency monitor's published figures (tick-to-order percentiles per venue). Its
    /// short lock is taken only here and by the monitor, both low-priority threads.
    latency: Option<SnapshotBoard>,
}

impl StrategyLines {
    pub fn new(config: &Config, rx: Rx<ReportMsg>, board: Option<BandBoard>) -> Self {
        let n = config.strategies.len();
        Self {
            rx,
            latest: vec![None; n],
            names: config.strategies.iter().map(|s| s.name.clone()).collect(),
            assets: config
                .strategies
                .iter()
                .map(|s| {
                    let i = &config.instruments[s.instrument.index()];
                    (i.symbol.clone(), i.base.clone(), i.quote.clone())
                })
                .collect(),
            venues: config.strategies.iter().map(|s| s.venue).collect(),
            board,
            latency: None,
        }
    }

    /// Shows each venue's tick-to-order p50/p99 over the monitor's rolling window.
    pub fn with_latency(mut self, snapshots: SnapshotBoard) -> Self {
        self.latency = Some(snapshots);
        self
    }

    fn lines(&mut self) -> Vec<String> {
        while let Some(m) = self.rx.try_recv() {
            if let Some(slot) = self.latest.get_mut(m.strategy.index()) {
                *slot = Some(m);
            }
        }
        let snapshot = self.latency.as_ref().map(SnapshotBoard::get);
        let mut out = Vec::new();
        for (i, m) in self.latest.iter().enumerate() {
            let (symbol, base, quote) = &self.assets[i];
            let band = self
                .board
                .as_ref()
                .map(|b| b.band(self.venues[i]).name.clone())
                .unwrap_or_else(|| "-".into());
            let Some(m) = m else {
                out.push(format!(
                    "  {} {symbol}: waiting for its first report",
                    self.names[i]
                ));
                continue;
            };
            let r = &m.report;
            let side = |q: Option<(crate::types::Price, crate::types::Qty)>| match q {
                Some((p, q)) => format!("{q} @ {p}"),
                None => "-".into(),
            };
            let mid = m
                .mid
                .map(|p| p.to_string())
                .unwrap_or_else(|| "no book".into());
            let t2o = snapshot
                .as_deref()
                .map(|s| tick_to_order(s, self.venues[i]))
                .unwrap_or_default();
            // Strategies with an allocation show their inventory; the others (the grid) their
            // position, and their round trips once they have some.
            let holdings = if r.quote == 0 {
                format!("pos {} {base}", r.base)
            } else {
                format!("inv {} {base} {:.2} {quote}", r.base, r.quote as f64 / 1e8)
            };
            let trips = if r.round_trips > 0 {
                format!(
                    " | trips {} ({:+.4} {quote})",
                    r.round_trips, r.realized_pnl
                )
            } else {
                String::new()
            };
            out.push(format!(
                "  {} {symbol} mid {mid} | bid {} | ask {} | {holdings} | fills {}{trips} | pnl {:+.4} {quote} | band {band}{t2o}{}",
                self.names[i],
                side(r.bid),
                side(r.ask),
                r.fills,
                r.pnl,
                match (r.paused, r.entries_stopped) {
                    (true, _) => " | PAUSED".to_owned(),
                    (false, Some(why)) => format!(" | NO ENTRIES: {why}"),
                    (false, None) => String::new(),
                },
            ));
        }
        out
    }
}

/// ` | t2o first p50 40µs p99 120µs each p50 41µs p99 130µs` for the venue's tick-to-order
/// over the monitor's window: to the first order of each gateway burst, and to every order;
/// `-` for either before it has samples in the window.
fn tick_to_order(s: &LatencySnapshot, venue: VenueId) -> String {
    let figures = |m: Measurement| {
        let w = s
            .summaries
            .iter()
            .find(|x| x.venue == venue && x.measurement == m)
            .map(|x| x.window)
            .filter(|w| w.count > 0);
        match w {
            Some(w) => format!(
                "p50 {} p99 {}",
                human_us(w.p50 as f64 / 1e3),
                human_us(w.p99 as f64 / 1e3)
            ),
            None => "-".into(),
        }
    };
    format!(
        " | t2o first {} each {}",
        figures(Measurement::TickToFirstOrder),
        figures(Measurement::TickToOrder)
    )
}

/// Prints one line per interval: uptime, mode, and each host's share of busy passes.
pub struct Console {
    interval_ns: u64,
    started: UnixNanos,
    next: UnixNanos,
    mode: &'static str,
    hosts: Vec<(&'static str, Arc<HostStats>)>,
    /// Busy and total passes per host at the previous line, for per-interval figures.
    last: Vec<(u64, u64)>,
    strategies: Option<StrategyLines>,
}

impl Console {
    pub fn new(
        interval: Duration,
        mode: &'static str,
        hosts: Vec<(&'static str, Arc<HostStats>)>,
    ) -> Self {
        let last = vec![(0, 0); hosts.len()];
        Self {
            interval_ns: interval.as_nanos().max(1) as u64,
            started: UnixNanos::ZERO,
            next: UnixNanos::ZERO,
            mode,
            hosts,
            last,
            strategies: None,
        }
    }

    /// Adds one line per strategy under the engine line.
    pub fn with_strategies(mut self, lines: StrategyLines) -> Self {
        self.strategies = Some(lines);
        self
    }

    fn line(&mut self, now: UnixNanos) -> String {
        let up = now.since(self.started) as f64 / 1e9;
        let mut s = format!("[{}] up {up:.1}s", self.mode);
        for ((name, st), last) in self.hosts.iter().zip(self.last.iter_mut()) {
            let busy = st.busy_passes.load(Ordering::Relaxed);
            let passes = st.passes.load(Ordering::Relaxed);
            let (d_busy, d_passes) = (busy - last.0, passes - last.1);
            *last = (busy, passes);
            let pct = if d_passes == 0 {
                0.0
            } else {
                100.0 * d_busy as f64 / d_passes as f64
            };
            s.push_str(&format!(
                " | host {name}: {d_passes} passes, {pct:.1}% busy"
            ));
        }
        s
    }
}

impl Actor for Console {
    fn name(&self) -> &str {
        "status"
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), crate::runtime::StartError> {
        self.started = ctx.clock.now();
        self.next = self.started.plus_nanos(self.interval_ns);
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let now = ctx.clock.now();
        if now < self.next {
            return 0;
        }
        self.next = now.plus_nanos(self.interval_ns);
        let line = self.line(now);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        if let Some(s) = self.strategies.as_mut() {
            for l in s.lines() {
                let _ = writeln!(out, "{l}");
            }
        }
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Clock, Shutdown};

    #[test]
    fn tick_to_order_shows_the_venues_window_percentiles() {
        use crate::latency::Summary;
        use crate::latency::monitor::Stats;
        let summary = |venue: u16, m: Measurement, p50: u64, p99: u64, count: u64| Summary {
            venue: VenueId(venue),
            measurement: m,
            window: Stats {
                count,
                p50,
                p99,
                ..Stats::default()
            },
            run: Stats::default(),
            last_sample: None,
        };
        let s = LatencySnapshot {
            summaries: vec![
                summary(0, Measurement::OrderAck, 9_000_000, 9_000_000, 5),
                summary(0, Measurement::TickToOrder, 85_300, 1_250_000, 40),
                summary(0, Measurement::TickToFirstOrder, 41_000, 120_000, 20),
                summary(1, Measurement::TickToOrder, 1, 1, 0),
                summary(1, Measurement::TickToFirstOrder, 1, 1, 0),
            ],
            ..LatencySnapshot::default()
        };
        assert_eq!(
            tick_to_order(&s, VenueId(0)),
            " | t2o first p50 41.0µs p99 120µs each p50 85.3µs p99 1.25ms"
        );
        assert_eq!(
            tick_to_order(&s, VenueId(1)),
            " | t2o first - each -",
            "an empty window shows no figures"
        );
        assert_eq!(tick_to_order(&s, VenueId(2)), " | t2o first - each -");
    }

    #[test]
    fn prints_on_its_interval_with_per_interval_figures() {
        let stats = Arc::new(HostStats::default());
        let mut c = Console::new(
            Duration::from_secs(2),
            "sim",
            vec![("hot", Arc::clone(&stats))],
        );
        let (clock, hand) = Clock::manual(UnixNanos(1_000_000_000));
        let mut ctx = Ctx {
            clock,
            shutdown: Shutdown::new(),
            host: "service",
        };
        c.start(&mut ctx).unwrap();
        assert_eq!(c.poll(&mut ctx), 0);
        stats.passes.store(100, Ordering::Relaxed);
        stats.busy_passes.store(25, Ordering::Relaxed);
        hand.advance(2_000_000_000);
        assert_eq!(
            c.line(ctx.clock.now()),
            "[sim] up 2.0s | host hot: 100 passes, 25.0% busy"
        );
        stats.passes.store(300, Ordering::Relaxed);
        stats.busy_passes.store(35, Ordering::Relaxed);
        assert_eq!(
            c.line(ctx.clock.now()),
            "[sim] up 2.0s | host hot: 200 passes, 5.0% busy"
        );
        assert_eq!(c.poll(&mut ctx), 1);
        assert_eq!(c.poll(&mut ctx), 0, "next line only after another interval");
    }
}
