//! Telemetry end to end: the demo engine runs against its in-process simulator, and
//! afterwards the database holds the run's latency snapshots, band changes, balances, round
//! trips consistent with its fills, risk events and activity log, every row with the run's
//! id and mode; a paper run's rows say paper; and a fake Telegram server on 127.0.0.1 hears
//! the engine start, fill and stop.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mako::engine::{Engine, RunOptions};
use mako::runtime::{Clock, Shutdown};
use rusqlite::Connection;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mako-tele-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo config on a free port under `dir`, quoting tightly so a short run trades, with
/// `extra` appended.
fn demo_config(dir: &Path, mode: &str, extra: &str) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml"))
        .unwrap()
        // The simulator on a port the OS picks (the engine points the venues at it).
        .replace("19400", "0")
        .replace("127.0.0.1:8787", "127.0.0.1:0")
        .replace(
            "data_dir = \"data/demo\"",
            &format!("data_dir = {:?}", dir.display().to_string()),
        )
        .replace("mode = \"sim\"", &format!("mode = \"{mode}\""))
        .replace("spread_bps = 4 ", "spread_bps = 2 ")
        // No status line in test output.
        .replace("console_interval = \"2s\"", "");
    // The demo places its actors itself ([[runtime.hosts]]) and does not name the notifier:
    // when `extra` configures one, it runs on the demo's low-priority service host unasked.
    format!("{text}\n{extra}\n")
}

fn run(text: &str, for_: Duration) -> mako::engine::RunReport {
    let config = mako::config::parse(text, Path::new("demo.toml")).expect("the config is valid");
    let engine = Engine::build(config, Clock::live(), Shutdown::new()).expect("engine builds");
    engine
        .run(RunOptions {
            duration: Some(for_),
            handle_signals: false,
        })
        .expect("stops cleanly")
}

/// Runs the config until its `/status` satisfies `done` (see `common::run_until`).
fn run_until(
    text: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> mako::engine::RunReport {
    let config = mako::config::parse(text, Path::new("demo.toml")).expect("the config is valid");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    common::run_until(engine, shutdown, what, Duration::from_secs(120), done)
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn strings(db: &Connection, sql: &str) -> Vec<String> {
    let mut st = db.prepare(sql).unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const TELEMETRY_TABLES: [&str; 9] = [
    "orders",
    "fills",
    "round_trips",
    "balances",
    "latency",
    "band_changes",
    "risk_events",
    "activity",
    "order_events",
];

/// The only run in `db`: its id, after checking every row of every table carries it and
/// `mode`.
fn only_run(db: &Connection, mode: &str) -> i64 {
    let runs: Vec<(i64, String)> = db
        .prepare("SELECT id, mode FROM runs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let (id, m) = runs[0].clone();
    assert_eq!(m, mode);
    for t in TELEMETRY_TABLES {
        let foreign = count(
            db,
            &format!("SELECT count(*) FROM {t} WHERE run_id != {id} OR mode != '{mode}'"),
        );
        assert_eq!(foreign, 0, "{t} has rows of another run or mode");
    }
    id
}

#[test]
fn a_sim_run_stores_everything_it_knows() {
    let dir = temp_dir("sim");
    let extra = r#"
[latency]
window = "2s"
evaluate_every = "250ms"
degrade_after = 1
recover_after = 1

# A first band nothing on loopback can miss: the venue leaves the defensive band it starts
# in at the first fresh evaluation, which forces a band change.
[[latency.bands]]
name = "fast"
max_latency = "10s"
min_spread_bps = 1
size_multiplier = 1.0

[[latency.bands]]
name = "slow"
min_spread_bps = 2
size_multiplier = 1.0
"#;
    // A position limit of one quote: after a fill the next quote on that side is refused.
    let text = demo_config(&dir, "sim", extra).replace(
        "[strategies.risk]\nmax_position = \"10\"",
        "[strategies.risk]\nmax_position = \"0.5\"",
    );
    assert!(text.contains("max_position = \"0.5\""));
    // Runs until everything the database is checked for below has happened (the limit only
    // bounds a hang): the forced band change, a position refusal, fills on both sides, a
    // latency window with samples.
    let report = run_until(
        &text,
        "a band change, a max_position refusal, four fills of mm-sol and latency samples",
        |v| {
            let binance_fast = v["venues"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x["name"] == "binance" && x["band"] == "fast")
            });
            let refused = v["risk"]["rejections"]["max_position"].as_u64() >= Some(1);
            let fills = common::strategy_trades(v, "mm-sol") >= 4;
            let sampled = v["latency"]["percentiles"].as_array().is_some_and(|a| {
                a.iter().any(|p| {
                    p["window"]["count"].as_u64() > Some(0)
                        && p["window"]["p50_ns"].as_u64() > Some(0)
                })
            });
            binance_fast && refused && fills && sampled
        },
    );
    assert!(
        !report.strategies.is_empty(),
        "the strategy ran: {report:?}"
    );

    let db = Connection::open(dir.join("demo.sqlite")).unwrap();
    only_run(&db, "sim");

    // Latency: percentiles per venue and measurement, with samples.
    assert!(
        count(
            &db,
            "SELECT count(*) FROM latency WHERE count > 0 AND p50_ns > 0"
        ) >= 1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM latency WHERE p50_ns > p99_ns OR p99_ns > max_ns"
        ),
        0
    );
    // The forced band change.
    assert!(
        count(
            &db,
            "SELECT count(*) FROM band_changes WHERE from_band = 'slow' AND to_band = 'fast' \
             AND venue_name = 'binance'"
        ) >= 1
    );
    // Balances of both assets, as the simulator's account holds them.
    let assets = strings(&db, "SELECT DISTINCT asset FROM balances ORDER BY asset");
    assert!(
        assets.contains(&"SOL".to_string()) && assets.contains(&"USDT".to_string()),
        "{assets:?}"
    );
    // Risk refusals with the rule that fired.
    let rules = strings(
        &db,
        "SELECT DISTINCT rule FROM risk_events WHERE action = 'rejected'",
    );
    assert!(rules.contains(&"max_position".to_string()), "{rules:?}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM risk_events WHERE action = 'rejected' AND (cid IS NULL OR strategy IS NULL)"
        ),
        0
    );
    // The activity log: start, stop, the order connection and the feed.
    let activity = strings(
        &db,
        "SELECT source || ': ' || message FROM activity ORDER BY id",
    );
    let has = |s: &str| activity.iter().any(|a| a.contains(s));
    assert!(has("engine: engine started (mode sim"), "{activity:#?}");
    assert!(
        has("engine: engine stopped: shutdown requested"),
        "{activity:#?}"
    );
    assert!(has("gateway:binance: order connection up"), "{activity:#?}");
    assert!(has("gateway:binance: stopped"), "{activity:#?}");
    assert!(has("feed:binance: connected"), "{activity:#?}");
    assert!(
        activity
            .first()
            .is_some_and(|a| a.contains("engine started"))
    );
    assert!(
        activity
            .last()
            .is_some_and(|a| a.contains("engine stopped"))
    );

    check_round_trips(&db);
    std::fs::remove_dir_all(&dir).ok();
}

/// The round trips agree with the fills: replaying the fills in order, the position returns
/// to (or through) zero exactly as often as there are round trips, every trip's PnL is its
/// exit against its entry, and each side's filled quantity is the trips' plus what is open.
fn check_round_trips(db: &Connection) {
    let fills: Vec<(String, i64)> = db
        .prepare("SELECT side, qty_e8 FROM fills WHERE strategy = 0 AND instrument = 0 ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(fills.len() >= 2, "the run traded: {fills:?}");
    let mut pos: i64 = 0;
    let mut closes = 0;
    let (mut bought, mut sold) = (0i64, 0i64);
    for (side, q) in &fills {
        let before = pos;
        if side == "buy" {
            pos += q;
            bought += q;
        } else {
            pos -= q;
            sold += q;
        }
        if before != 0 && (pos == 0 || (before > 0) != (pos > 0)) {
            closes += 1;
        }
    }
    struct Trip {
        side: String,
        qty: i64,
        entry: i128,
        exit: i128,
        pnl: i128,
        opened: i64,
        closed: i64,
    }
    let trips: Vec<Trip> = db
        .prepare(
            "SELECT side, qty_e8, entry_quote_e16, exit_quote_e16, pnl_e16, opened_at, closed_at \
             FROM round_trips WHERE strategy = 0 AND instrument = 0 ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            let n = |i: usize| -> rusqlite::Result<i128> {
                Ok(r.get::<_, String>(i)?.parse::<i128>().unwrap())
            };
            Ok(Trip {
                side: r.get(0)?,
                qty: r.get(1)?,
                entry: n(2)?,
                exit: n(3)?,
                pnl: n(4)?,
                opened: r.get(5)?,
                closed: r.get(6)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        closes >= 1,
        "the position went out and came back: {fills:?}"
    );
    assert_eq!(trips.len(), closes, "one round trip per return to zero");
    let (mut long, mut short) = (0i64, 0i64);
    for t in &trips {
        assert!(t.qty > 0 && t.opened <= t.closed);
        match t.side.as_str() {
            "buy" => {
                long += t.qty;
                assert_eq!(t.pnl, t.exit - t.entry);
            }
            "sell" => {
                short += t.qty;
                assert_eq!(t.pnl, t.entry - t.exit);
            }
            other => panic!("side {other}"),
        }
    }
    // Long trips bought their qty and sold it back; short trips the other way round; what
    // is still open was bought (pos > 0) or sold (pos < 0) on top.
    assert_eq!(bought, long + short + pos.max(0));
    assert_eq!(sold, long + short + (-pos).max(0));
}

#[test]
fn a_paper_run_stores_its_rows_as_paper() {
    let dir = temp_dir("paper");
    let report = run(&demo_config(&dir, "paper", ""), Duration::from_secs(3));
    assert!(report.elapsed >= Duration::from_secs(3));
    let db = Connection::open(dir.join("demo.sqlite")).unwrap();
    only_run(&db, "paper");
    let activity = strings(&db, "SELECT message FROM activity ORDER BY id");
    assert!(
        activity
            .iter()
            .any(|a| a.contains("engine started (mode paper")),
        "{activity:?}"
    );
    assert!(
        activity.iter().any(|a| a.contains("engine stopped")),
        "{activity:?}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM activity WHERE mode = 'sim' OR mode = 'live'"
        ),
        0
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_real_run_notifies_start_fills_and_stop() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("notify");
    let (url, seen) = common::fake_telegram();
    let token = dir.join("bot-token");
    std::fs::write(&token, "4242:test-token").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let extra = format!(
        r#"
[notifications.telegram]
base_url = "{url}"
bot_token_file = {:?}
chat_id = "-1001"
notify_fills = true
min_interval = "500ms"
"#,
        token.display().to_string()
    );
    let report = run_until(&demo_config(&dir, "sim", &extra), "a fill of mm-sol", |v| {
        common::strategy_trades(v, "mm-sol") >= 1
    });
    let s = report.strategies.first().expect("the strategy reported");
    assert!(s.report.fills >= 1, "the run traded");
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no message reached the fake Telegram");
    for (path, _) in &seen {
        assert_eq!(path, "/bot4242:test-token/sendMessage");
    }
    let all: Vec<&str> = seen.iter().flat_map(|(_, t)| t.lines()).collect();
    assert!(
        seen.iter().all(|(_, t)| t.starts_with("mako demo [SIM]")),
        "{all:#?}"
    );
    assert!(
        all.iter().any(|l| l.starts_with("started (run ")),
        "{all:#?}"
    );
    assert!(
        all.iter().any(|l| l.starts_with("fill: mm-sol SOLUSDT")),
        "{all:#?}"
    );
    assert!(all.contains(&"stopped: shutdown requested"), "{all:#?}");
    // Start comes first, stop last.
    assert!(
        seen.first()
            .is_some_and(|(_, t)| t.contains("started (run "))
    );
    assert!(
        seen.last()
            .is_some_and(|(_, t)| t.contains("stopped: shutdown requested"))
    );
    std::fs::remove_dir_all(&dir).ok();
}
