//! The market thread: drives the market source (random walk or replay), cuts the depth diff
//! and partial-depth streams on their 100 ms / 1000 ms clocks, and applies the feed
//! disconnect fault. It sleeps on a channel between deadlines, so it costs nothing when idle.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde_json::json;

use super::Shared;
use super::config::SourceConfig;
use super::exchange::now_ms;
use super::hub::Outbound;
use super::orders::fx;
use super::path::PathSource;
use super::replay::{Line, ReplayBook};
use super::walk::Walk;
use crate::types::Side;

const FAST: Duration = Duration::from_millis(100);
const SLOW: Duration = Duration::from_millis(1000);

enum Source {
    Path {
        path: PathSource,
        interval: Duration,
        next: Instant,
    },
    Walk {
        walk: Walk,
        interval: Duration,
        next: Instant,
    },
    Replay {
        lines: Vec<Line>,
        pos: usize,
        book: ReplayBook,
        speed: f64,
        /// Fixed spacing between lines instead of the recorded times.
        interval: Option<Duration>,
        repeat: bool,
        wait: bool,
        t0: Option<Instant>,
    },
}

/// The market thread. `ready` is signalled once the first books exist (seeded or, in
/// replay, set up), before the first step.
pub fn run(
    shared: Arc<Shared>,
    stop: Receiver<()>,
    lines: Option<Vec<Line>>,
    ready: crossbeam_channel::Sender<()>,
) {
    let now = Instant::now();
    let mut source = match (&shared.cfg.source, lines) {
        (
            SourceConfig::Replay {
                speed,
                repeat,
                wait_for_subscriber,
                interval,
                ..
            },
            Some(lines),
        ) => Source::Replay {
            lines,
            pos: 0,
            book: ReplayBook::new(shared.cfg.symbols.len()),
            speed: *speed,
            interval: *interval,
            repeat: *repeat,
            wait: *wait_for_subscriber,
            t0: None,
        },
        (SourceConfig::Path { interval, repeat }, _) => {
            let mut path = PathSource::new(*repeat);
            let mut ex = shared.ex.lock();
            path.seed_books(&mut ex);
            shared.hub.dispatch(&mut ex, &shared.faults);
            for s in &mut ex.symbols {
                let _ = (s.book.take_diff(0), s.book.take_diff(1));
            }
            Source::Path {
                path,
                interval: *interval,
                next: now + *interval,
            }
        }
        (SourceConfig::Walk { .. }, _) | (SourceConfig::Replay { .. }, None) => {
            let (seed, interval) = match &shared.cfg.source {
                SourceConfig::Walk { seed, interval } => (*seed, *interval),
                SourceConfig::Replay { .. } | SourceConfig::Path { .. } => {
                    (42, Duration::from_millis(50))
                }
            };
            let mut walk = Walk::new(seed);
            let mut ex = shared.ex.lock();
            walk.seed_books(&mut ex);
            shared.hub.dispatch(&mut ex, &shared.faults);
            // The seeding is history: the first diffs start after it.
            for s in &mut ex.symbols {
                let _ = (s.book.take_diff(0), s.book.take_diff(1));
            }
            Source::Walk {
                walk,
                interval,
                next: now + interval,
            }
        }
    };
    let _ = ready.send(());
    let mut next_fast = now + FAST;
    let mut next_slow = now + SLOW;
    let mut disconnect: (Duration, Instant) = (Duration::ZERO, now);
    let mut depth_events: Vec<[u64; 2]> = vec![[0; 2]; shared.cfg.symbols.len()];
    loop {
        let now = Instant::now();
        let every = shared.faults.disconnect_every();
        if every != disconnect.0 {
            disconnect = (every, now + every);
        }
        let mut next = next_fast.min(next_slow);
        if !every.is_zero() {
            next = next.min(disconnect.1);
        }
        match &source {
            Source::Walk { next: n, .. } | Source::Path { next: n, .. } => next = next.min(*n),
            Source::Replay {
                lines,
                pos,
                speed,
                interval,
                t0,
                ..
            } => {
                if let (Some(t0), Some(l)) = (t0, lines.get(*pos)) {
                    next = next.min(due(
                        *t0,
                        lines[0].recv_ns,
                        l.recv_ns,
                        *speed,
                        *interval,
                        *pos,
                    ));
                } else if t0.is_none() {
                    next = next.min(now + Duration::from_millis(20));
                }
            }
        }
        match stop.recv_timeout(next.saturating_duration_since(now)) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let paused = shared.paused.load(std::sync::atomic::Ordering::SeqCst);
        match &mut source {
            Source::Path {
                path,
                interval,
                next,
            } => {
                while *next <= now {
                    if paused {
                        *next = now + *interval;
                        break;
                    }
                    let mut ex = shared.ex.lock();
                    path.step(&mut ex);
                    shared.hub.dispatch(&mut ex, &shared.faults);
                    *next += *interval;
                    if *next + *interval * 10 < now {
                        *next = now + *interval;
                    }
                }
            }
            Source::Walk {
                walk,
                interval,
                next,
            } => {
                while *next <= now {
                    if paused {
                        *next = now + *interval;
                        break;
                    }
                    let mut ex = shared.ex.lock();
                    walk.step(&mut ex);
                    shared.hub.dispatch(&mut ex, &shared.faults);
                    *next += *interval;
                    if *next + *interval * 10 < now {
                        *next = now + *interval; // fell far behind: skip rather than burst
                    }
                }
            }
            Source::Replay {
                lines,
                pos,
                book,
                speed,
                interval,
                repeat,
                wait,
                t0,
            } => {
                if t0.is_none() && (!*wait || shared.hub.has_market_subscribers()) {
                    *t0 = Some(now);
                }
                if let Some(start) = *t0
                    && !paused
                {
                    // Bounded batches keep the stop channel and the depth clocks responsive.
                    let mut ex = shared.ex.lock();
                    for _ in 0..2_000 {
                        let Some(l) = lines.get(*pos) else { break };
                        if due(start, lines[0].recv_ns, l.recv_ns, *speed, *interval, *pos) > now {
                            break;
                        }
                        if let Some((stream, data)) = book.apply(&mut ex, &l.frame) {
                            shared.hub.publish(stream, &data);
                        }
                        shared.hub.dispatch(&mut ex, &shared.faults);
                        *pos += 1;
                    }
                    if *pos >= lines.len() && *repeat && !lines.is_empty() {
                        *pos = 0;
                        *t0 = Some(now);
                        book.next_pass(lines);
                    }
                }
            }
        }
        if !every.is_zero() && now >= disconnect.1 {
            shared.hub.broadcast_market(Outbound::Close);
            disconnect.1 = now + every;
        }
        for (speed, next_t, period) in [(0usize, &mut next_fast, FAST), (1, &mut next_slow, SLOW)] {
            if *next_t > now {
                continue;
            }
            *next_t += period;
            if *next_t < now {
                *next_t = now + period;
            }
            cut_depth(&shared, speed, &mut depth_events);
            if speed == 0 {
                // Perpetuals: liquidations at the mark, funding at the funding times.
                let mut ex = shared.ex.lock();
                ex.perp_tick(
                    shared.faults.server_ms(),
                    shared.cfg.bybit_funding_rate,
                    shared.cfg.funding_interval_ms,
                );
                shared.hub.dispatch(&mut ex, &shared.faults);
            }
        }
    }
}

/// When a recorded line is due: its offset from the first line, divided by the speed; or,
/// with a fixed `interval`, `pos` intervals after the start.
fn due(
    t0: Instant,
    first_ns: u64,
    ns: u64,
    speed: f64,
    interval: Option<Duration>,
    pos: usize,
) -> Instant {
    if let Some(i) = interval {
        return t0 + i * pos as u32;
    }
    if speed <= 0.0 {
        return t0;
    }
    t0 + Duration::from_secs_f64(ns.saturating_sub(first_ns) as f64 / 1e9 / speed)
}

/// Publishes one speed's diff event and partial books for every symbol.
fn cut_depth(shared: &Shared, speed: usize, counts: &mut [[u64; 2]]) {
    let suffix = if speed == 0 { "@100ms" } else { "" };
    let mut ex = shared.ex.lock();
    for (sym, count) in counts.iter_mut().enumerate().take(ex.symbols.len()) {
        let name = ex.symbols[sym].cfg.symbol.to_ascii_lowercase();
        let symbol = ex.symbols[sym].cfg.symbol.clone();
        if let Some(d) = ex.symbols[sym].book.take_diff(speed) {
            count[speed] += 1;
            let gap = shared.faults.depth_gap_every();
            let okx = super::okx_public::books_stream(&name);
            if gap != 0 && count[speed].is_multiple_of(gap) && speed == 0 && shared.hub.wants(&okx)
            {
                // OKX's books channel learns that an update was withheld: its next one breaks
                // the seqId chain, as a venue's missed message would.
                shared.hub.publish(&okx, "{\"withheld\":true}");
            }
            if gap == 0 || !count[speed].is_multiple_of(gap) {
                let lv = |v: &[(crate::types::Price, crate::types::Qty)]| -> Vec<[String; 2]> {
                    v.iter()
                        .map(|(p, q)| [fx(p.units()), fx(q.units())])
                        .collect()
                };
                let data = json!({
                    "e": "depthUpdate", "E": now_ms(), "s": symbol,
                    "U": d.first_id, "u": d.last_id, "b": lv(&d.bids), "a": lv(&d.asks),
                });
                shared
                    .hub
                    .publish(&format!("{name}@depth{suffix}"), &data.to_string());
                // OKX's books channel: the fast diffs, with the checksum of the book they leave.
                if speed == 0 && shared.hub.wants(&okx) {
                    let data = json!({
                        "U": d.first_id, "u": d.last_id, "b": lv(&d.bids), "a": lv(&d.asks),
                        "checksum": super::okx_public::checksum(&ex.symbols[sym].book),
                    });
                    shared.hub.publish(&okx, &data.to_string());
                }
            }
        }
        for n in [5usize, 10, 20] {
            let stream = format!("{name}@depth{n}{suffix}");
            if !shared.hub.wants(&stream) {
                continue;
            }
            let book = &ex.symbols[sym].book;
            let lv = |side| -> Vec<[String; 2]> {
                book.top(side, n)
                    .into_iter()
                    .map(|(p, q)| [fx(p.units()), fx(q.units())])
                    .collect()
            };
            let data = json!({"lastUpdateId": book.update_id(), "bids": lv(Side::Buy), "asks": lv(Side::Sell)});
            shared.hub.publish(&stream, &data.to_string());
        }
    }
}
