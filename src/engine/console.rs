//! The terminal status line: a low-priority actor that prints what the engine is doing every
//! few seconds, for an operator watching the process.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::runtime::{Actor, Ctx, HostStats};
use crate::types::UnixNanos;

/// Prints one line per interval: uptime, mode, and each host's share of busy passes.
pub struct Console {
    interval_ns: u64,
    started: UnixNanos,
    next: UnixNanos,
    mode: &'static str,
    hosts: Vec<(&'static str, Arc<HostStats>)>,
    /// Busy and total passes per host at the previous line, for per-interval figures.
    last: Vec<(u64, u64)>,
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
        }
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
        let _ = writeln!(std::io::stdout().lock(), "{line}");
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Clock, Shutdown};

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
