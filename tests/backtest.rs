//! The backtest end to end over the Binance Spot fixture: deterministic output, the clock a
//! strategy sees, latency on the order path, and fills labelled as simulated.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mako::backtest::settings::LatencySetting;
use mako::backtest::{Run, Settings, report, run, run_with};
use mako::book::TopOfBook;
use mako::cli::backtest::load;
use mako::gateway::OrderUpdate;
use mako::strategy::Strategy;
use mako::strategy::api::{StrategyCtx, StrategyReport};
use mako::types::order::OrderStatus;
use mako::types::{Price, Qty, Side, UnixNanos};

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";

fn data() -> Vec<PathBuf> {
    vec![PathBuf::from(RECORDING)]
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mako-backtest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `report.json` without the two figures that depend on the machine.
fn comparable(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let o = v.as_object_mut().unwrap();
    assert!(o.remove("wall_seconds").is_some());
    assert!(o.remove("events_per_second").is_some());
    serde_json::to_string_pretty(&v).unwrap()
}

fn run_to(config: &str, settings: Option<Settings>, name: &str) -> (PathBuf, Run) {
    let (c, s) = load(Path::new(config)).unwrap();
    let r = run(&c, settings.as_ref().unwrap_or(&s), &data()).unwrap();
    let dir = out_dir(name);
    report::write(&dir, &r, 1.0).unwrap();
    (dir, r)
}

#[test]
fn two_runs_give_identical_reports_and_fills() {
    let (a, ra) = run_to("config/backtest-spread.toml", None, "det-a");
    let (b, _) = run_to("config/backtest-spread.toml", None, "det-b");
    assert!(
        ra.events > 40_000,
        "the whole fixture is replayed: {}",
        ra.events
    );
    assert!(
        !ra.fills.is_empty(),
        "the spread maker trades on the fixture"
    );
    assert_eq!(comparable(&a), comparable(&b));
    for f in ["fills.csv", "equity.csv", "report.md"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between two runs");
    }
    // Drawn latency too: the same seed gives the same draws, another seed others.
    let (_, s) = load(Path::new("config/backtest-spread.toml")).unwrap();
    let hgrm = |seed| Settings {
        latency: LatencySetting::Hgrm {
            dir: PathBuf::from("docs/latency"),
        },
        seed,
        ..s.clone()
    };
    let (h1, r1) = run_to("config/backtest-spread.toml", Some(hgrm(7)), "det-h1");
    let (h2, _) = run_to("config/backtest-spread.toml", Some(hgrm(7)), "det-h2");
    assert_eq!(comparable(&h1), comparable(&h2));
    assert_eq!(r1.latency_kind, "hgrm");
    assert!(comparable(&h1).contains("\"latency_model\": \"hgrm\""));
    for d in [a, b, h1, h2] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn every_fill_is_labelled_backtest() {
    let (dir, r) = run_to("config/backtest-spread.toml", None, "labels");
    let csv = std::fs::read_to_string(dir.join("fills.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), r.fills.len());
    assert!(rows.iter().all(|l| l.starts_with("backtest,")));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(j["mode"], "backtest");
    for k in [
        "events",
        "wall_seconds",
        "events_per_second",
        "pnl_total",
        "fees",
        "trades",
        "round_trips",
        "max_drawdown",
        "sharpe",
    ] {
        assert!(j.get(k).is_some(), "report.json has {k}");
    }
    assert_eq!(j["trades"], r.fills.len());
    let _ = std::fs::remove_dir_all(dir);
}

/// What the probe saw.
#[derive(Default)]
struct Seen {
    nows: Vec<UnixNanos>,
    /// (time sent, its cid) and the updates: (now, status, fill was simulated).
    sent: Vec<(UnixNanos, mako::types::ClientOrderId)>,
    updates: Vec<(
        UnixNanos,
        mako::types::ClientOrderId,
        OrderStatus,
        Option<bool>,
    )>,
    /// Orders the engine refused itself (answered at once, never sent).
    refused: Vec<mako::types::ClientOrderId>,
}

/// A strategy that records `now` on every call and, every 20 s, crosses the spread with a
/// small buy (then sells it back), so that order updates and fills come back too.
struct Probe {
    seen: Arc<Mutex<Seen>>,
    next: UnixNanos,
    buy: bool,
}

impl Probe {
    fn note(&self, now: UnixNanos) {
        self.seen.lock().unwrap().nows.push(now);
    }
}

impl Strategy for Probe {
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        self.note(cx.now);
        let b: TopOfBook = cx.book;
        if b.valid && cx.now >= self.next {
            self.next = cx.now.plus_nanos(20_000_000_000);
            let (side, price) = if self.buy {
                (Side::Buy, b.ask.price)
            } else {
                (Side::Sell, b.bid.price)
            };
            self.buy = !self.buy;
            let cid =
                cx.intents
                    .limit(side, price, Qty::parse("0.001").unwrap(), false, cx.tick_at);
            self.seen.lock().unwrap().sent.push((cx.now, cid));
        }
    }
    fn on_order_update(&mut self, u: &OrderUpdate, cx: &mut StrategyCtx<'_>) {
        self.note(cx.now);
        let mut seen = self.seen.lock().unwrap();
        if u.refused.is_some() {
            seen.refused.push(u.cid);
        }
        seen.updates
            .push((cx.now, u.cid, u.status, u.fill.map(|f| f.paper)));
    }
    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        self.note(cx.now);
    }
    fn reload(&mut self, _: &toml::Table) -> Result<(), Vec<(String, String)>> {
        Ok(())
    }
    fn report(&self, _: Option<Price>) -> StrategyReport {
        StrategyReport::default()
    }
    fn set_paused(&mut self, _: bool) {}
}

#[test]
fn a_strategy_sees_only_recording_time_and_its_orders_wait_their_latency() {
    let (config, mut settings) = load(Path::new("config/backtest-spread.toml")).unwrap();
    settings.latency = LatencySetting::Constant {
        entry_ns: 50_000_000,
        response_ns: 30_000_000,
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s2 = Arc::clone(&seen);
    let mut build = move |_: &mako::strategy::registry::BuildArgs<'_>,
                          _: &mako::config::StrategyConfig|
          -> Result<Box<dyn Strategy>, String> {
        Ok(Box::new(Probe {
            seen: Arc::clone(&s2),
            next: UnixNanos::ZERO,
            buy: true,
        }))
    };
    let r = run_with(&config, &settings, &data(), &mut build).unwrap();
    let seen = seen.lock().unwrap();
    // Recording time: the fixture's receive stamps (August 2024), never this machine's clock.
    assert!(seen.nows.len() > 1000);
    assert!(
        seen.nows
            .iter()
            .all(|t| *t >= r.first && *t <= r.last.plus_nanos(100_000_000)),
        "every now lies within the recording"
    );
    assert!(
        seen.nows.windows(2).all(|w| w[0] <= w[1]),
        "time never runs back"
    );
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(
        seen.nows
            .iter()
            .all(|t| wall - t.0 > 30 * 86_400_000_000_000)
    );
    // Each order's first answer from the venue comes back no sooner than entry + response latency.
    assert!(seen.sent.len() >= 10, "{} orders", seen.sent.len());
    let mut answered = 0;
    for (sent_at, cid) in seen.sent.iter().filter(|(_, c)| !seen.refused.contains(c)) {
        answered += 1;
        let first = seen
            .updates
            .iter()
            // The engine's own "sent" comes at once; the venue's answers after the latency.
            .find(|u| u.1 == *cid && u.2 != OrderStatus::Sent)
            .unwrap_or_else(|| panic!("an answer to {cid}"));
        assert!(
            first.0.0 >= sent_at.0 + 80_000_000,
            "answered {} ns after sending",
            first.0.0 - sent_at.0
        );
    }
    assert!(answered >= 5, "{answered} orders reached the venue");
    // Crossing orders fill (as takers), and every fill is simulated.
    let fills: Vec<_> = seen.updates.iter().filter_map(|u| u.3).collect();
    assert!(!fills.is_empty());
    assert!(fills.iter().all(|paper| *paper));
    assert!(r.fills.iter().all(|f| !f.maker));
    assert!(seen.updates.iter().any(|u| u.2 == OrderStatus::Filled));
}
