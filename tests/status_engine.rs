//! The status endpoint of a running engine: the demo config against the in-process
//! simulator with `[status]` on a free loopback port, exercised with a real HTTP client.
//! Every endpoint's shape, Prometheus text through a parser, control refused without or with
//! a wrong token, malformed requests answered 4xx, pause and resume reaching the strategy,
//! the kill switch cancelling everything, and parameter reloads through the endpoint, SIGHUP
//! and a change of the file (a bad file refused, the old parameters kept).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mako::engine::{Engine, RunOptions, RunReport};
use mako::runtime::{Clock, Shutdown};
use serde_json::Value;

const TOKEN: &str = "status-engine-test-token";
/// Every wait is generous: the machine is small and shared.
const PATIENCE: Duration = Duration::from_secs(90);

struct Running {
    addr: SocketAddr,
    config: PathBuf,
    dir: PathBuf,
    shutdown: Shutdown,
    run: Option<JoinHandle<RunReport>>,
}

impl Running {
    fn stop(mut self) -> RunReport {
        self.shutdown.request();
        let r = self.run.take().unwrap().join().expect("engine thread");
        std::fs::remove_dir_all(&self.dir).ok();
        r
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.request();
        if let Some(h) = self.run.take() {
            let _ = h.join();
        }
    }
}

/// The demo config with its ports, data dir and status section made test-local.
fn demo_text(dir: &Path, token_file: &Path) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml"))
        .unwrap()
        // The simulator on a port the OS picks (the engine points the venues at it).
        .replace("19400", "0")
        .replace(
            "data_dir = \"data/demo\"",
            &format!("data_dir = {:?}", dir.join("data").display().to_string()),
        )
        .replace("spread_bps = 4 ", "spread_bps = 2 ");
    let status = format!(
        "[status]\nbind = \"127.0.0.1:0\"\ntoken_file = {:?}\npublish_interval = \"100ms\"\n",
        token_file.display().to_string()
    );
    let (head, tail) = text.split_once("[status]").expect("demo has [status]");
    let rest = tail.split_once("\n[sim]").expect("[sim] follows").1;
    format!("{head}{status}\n[sim]{rest}")
}

fn start(tag: &str) -> Running {
    let dir = std::env::temp_dir().join(format!("mako-status-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.join("engine.toml");
    std::fs::write(&config, demo_text(&dir, &token_file)).unwrap();
    let cfg = mako::config::load(&config).expect("valid config");
    let shutdown = Shutdown::new();
    let mut engine = Engine::build(cfg, Clock::live(), shutdown.clone()).expect("engine builds");
    engine.watch_config(&config).unwrap();
    engine.set_config_check_every(Duration::from_millis(100));
    let addr = engine.status_addr().expect("status endpoint bound");
    let run = std::thread::spawn(move || {
        engine
            .run(RunOptions {
                duration: Some(Duration::from_secs(600)),
                handle_signals: false,
            })
            .expect("stops cleanly")
    });
    Running {
        addr,
        config,
        dir,
        shutdown,
        run: Some(run),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build(),
    )
}

fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut r = agent().get(&format!("http://{addr}{path}")).call().unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        r.status().as_u16(),
        ct,
        r.body_mut().read_to_string().unwrap(),
    )
}

fn json(addr: SocketAddr, path: &str) -> Value {
    let (status, ct, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(ct, "application/json", "{path}");
    serde_json::from_str(&body).unwrap()
}

fn post(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = agent().post(&format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut r = req.send_empty().unwrap();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}")),
    )
}

/// Waits until `f` holds of `path`'s document; returns it.
fn wait(addr: SocketAddr, path: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + PATIENCE;
    loop {
        let v = json(addr, path);
        if f(&v) {
            return v;
        }
        assert!(Instant::now() < until, "never saw {what}: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn strategy(v: &Value) -> &Value {
    &v["strategies"][0]
}

fn has(v: &Value, keys: &[&str], what: &str) {
    for k in keys {
        assert!(v.get(*k).is_some(), "{what}: no {k} in {v}");
    }
}

/// Total orders the gateway holds, over every state.
fn orders_held(v: &Value) -> u64 {
    v["venues"][0]["orders_by_state"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum()
}

#[test]
fn every_endpoint_serves_the_running_engine_and_control_reaches_it() {
    let s = start("endpoints");
    let a = s.addr;

    assert_eq!(json(a, "/health")["ok"], true);
    let st = wait(a, "/status", "quotes, a fill and latency", |v| {
        strategy(v)["state"] == "running"
            && strategy(v)["quotes"]["bid"].is_object()
            && v["recent_trades"].as_array().is_some_and(|t| !t.is_empty())
            && strategy(v)["trades"].as_u64() > Some(0)
            && v["latency"]["percentiles"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
            && v["venues"][0]["band"].is_string()
    });
    has(
        &st,
        &[
            "run_id",
            "mode",
            "mode_label",
            "engine",
            "uptime_s",
            "venues",
            "strategies",
            "risk",
            "open_orders",
            "open_orders_count",
            "recent_trades",
            "latency",
            "persistence",
            "queues",
            "hosts",
        ],
        "/status",
    );
    assert_eq!(st["mode"], "sim");
    assert_eq!(st["mode_label"], "SIM");
    assert!(st["run_id"].as_i64().is_some());
    assert!(st["uptime_s"].as_f64().unwrap() > 0.0);
    let venue = &st["venues"][0];
    assert_eq!(venue["name"], "binance");
    assert_eq!(venue["market_data"], "connected");
    assert_eq!(venue["orders"], "connected");
    assert!(venue["messages"].as_u64().unwrap() > 0);
    // The feed's books: live, synced from a snapshot, written to the cache the bots read.
    let books = &venue["books"];
    assert_eq!(books["live"], books["instruments"], "{books}");
    assert_eq!(books["instruments"], 1, "{books}");
    assert!(books["snapshots_applied"].as_u64() >= Some(1), "{books}");
    assert!(books["publishes"].as_u64() > Some(0), "{books}");
    let mm = strategy(&st);
    assert_eq!(mm["id"], "mm-sol");
    assert_eq!(mm["instrument"], "SOLUSDT");
    has(
        mm,
        &[
            "position",
            "pnl",
            "realized_pnl",
            "day_pnl",
            "trades",
            "open_orders",
            "params",
        ],
        "strategy",
    );
    assert_eq!(mm["params"]["spread_bps"], 2);
    assert!(mm["trades"].as_u64().unwrap() >= 1);
    has(
        &st["risk"],
        &["daily_pnl", "trades_today", "kill_switch", "rejections"],
        "risk",
    );
    assert_eq!(st["risk"]["kill_switch"], false);
    assert!(st["persistence"]["enabled"] == true);

    let orders = json(a, "/orders");
    has(
        &orders,
        &["run_id", "mode", "open", "open_count", "recent"],
        "/orders",
    );
    let recent = orders["recent"].as_array().unwrap();
    assert!(!recent.is_empty());
    for o in recent {
        has(
            o,
            &["cid", "strategy", "side", "price", "qty", "status"],
            "order",
        );
        // Each order names its strategy (the demo's three place orders in any order).
        let s = o["strategy"].as_str().unwrap();
        assert!(["mm-sol", "mm-sol-okx", "grid-sol"].contains(&s), "{s}");
    }
    assert!(
        recent.iter().any(|o| o["strategy"] == "mm-sol"),
        "{recent:?}"
    );
    let trades = json(a, "/trades");
    has(
        &trades,
        &["run_id", "mode", "trades", "fills_seen"],
        "/trades",
    );
    let t = &trades["trades"][0];
    has(
        t,
        &["cid", "side", "qty", "price", "fee", "trade_id"],
        "trade",
    );
    let lat = json(a, "/latency");
    assert_eq!(lat["mode"], "sim");
    let p = &lat["latency"]["percentiles"][0];
    assert_eq!(p["venue"], "binance");
    has(&p["window"], &["p50_ns", "p99_ns", "count"], "percentiles");

    let (status, ct, metrics) = get(a, "/metrics");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain"), "{ct}");
    let lines = metrics.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
    let by_name: HashMap<&str, Vec<&prometheus_parse::Sample>> =
        scrape.samples.iter().fold(HashMap::new(), |mut m, s| {
            m.entry(s.metric.as_str()).or_default().push(s);
            m
        });
    let info = &by_name["mako_info"][0];
    assert_eq!(info.labels.get("mode"), Some("sim"));
    for name in [
        "mako_venue_messages_total",
        "mako_venue_connected",
        "mako_orders",
        "mako_fills_total",
        "mako_strategy_position",
        "mako_strategy_pnl",
        "mako_queue_depth",
        "mako_latency_seconds",
    ] {
        assert!(by_name.contains_key(name), "no {name} in /metrics");
    }
    let connected = by_name["mako_venue_connected"]
        .iter()
        .find(|s| s.labels.get("stream") == Some("market_data"))
        .unwrap();
    assert!(matches!(connected.value, prometheus_parse::Value::Gauge(v) if v == 1.0));

    let (status, ct, page) = get(a, "/");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    assert!(page.contains("fetch(\"/status\""));

    // Control without the token, with a wrong one, and malformed calls: refused, JSON errors,
    // and nothing reaches the engine.
    let refused = [
        ("/control/kill", None, 401),
        ("/control/kill", Some("wrong-token"), 403),
        ("/control/strategies/mm-sol/pause", None, 401),
        ("/control/strategies/mm-sol/pause", Some("wrong-token"), 403),
        ("/control/reload", Some("wrong-token"), 403),
        ("/control/strategies/nope/pause", Some(TOKEN), 404),
        ("/control/strategies/mm-sol/jump", Some(TOKEN), 404),
        ("/control/nothing", Some(TOKEN), 404),
    ];
    for (path, token, want) in refused {
        let (status, body) = post(a, path, token);
        assert_eq!(status, want, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
        assert!(!body.to_string().contains(TOKEN));
    }
    let (status, _, body) = get(a, "/control/kill");
    assert_eq!(status, 405, "{body}");
    let (status, body) = post(a, "/status", None);
    assert_eq!(status, 405);
    assert!(body["error"].is_string());
    let (status, _, body) = get(a, "/nope");
    assert_eq!(status, 404);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
    let st = json(a, "/status");
    assert_eq!(
        strategy(&st)["state"],
        "running",
        "refused calls changed nothing"
    );
    assert_eq!(st["risk"]["kill_switch"], false);

    // Pause: the strategy stops quoting and its orders are cancelled.
    let (status, body) = post(a, "/control/strategies/mm-sol/pause", Some(TOKEN));
    assert_eq!(status, 202, "{body}");
    wait(a, "/status", "the strategy paused with nothing open", |v| {
        strategy(v)["state"] == "paused"
            && strategy(v)["quotes"]["bid"].is_null()
            && strategy(v)["quotes"]["ask"].is_null()
            && strategy(v)["open_orders"] == 0
    });
    // Resume: it quotes again.
    let (status, _) = post(a, "/control/strategies/mm-sol/resume", Some(TOKEN));
    assert_eq!(status, 202);
    wait(a, "/status", "the strategy quoting again", |v| {
        strategy(v)["state"] == "running" && strategy(v)["open_orders"].as_u64() > Some(0)
    });

    // Kill: the switch trips, every order is cancelled, and no order is placed after.
    let (status, body) = post(a, "/control/kill", Some(TOKEN));
    assert_eq!(status, 202, "{body}");
    let killed = wait(a, "/status", "kill switch tripped, nothing open", |v| {
        v["risk"]["kill_switch"] == true
            && strategy(v)["state"] == "stopped"
            && v["open_orders_count"] == 0
            && v["strategies"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["state"] == "stopped")
            && v["venues"].as_array().unwrap().iter().all(|venue| {
                let o = &venue["orders_by_state"];
                o["acked"] == 0 && o["sent"] == 0 && o["new"] == 0
            })
    });
    assert_eq!(killed["risk"]["kill_reason"], "operator");
    let newest = |v: &Value| {
        v["recent"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["created_at_ns"].as_u64())
            .max()
    };
    let before = newest(&json(a, "/orders"));
    assert!(orders_held(&killed) > 0);
    // Every strategy keeps running after the kill (its reports keep coming, four per second):
    // wait for a second's worth of them, then nothing new may have been ordered.
    let reported = |v: &Value| -> Vec<u64> {
        v["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["updated_at_ns"].as_u64().unwrap_or(0))
            .collect()
    };
    let at_kill = reported(&killed);
    let later = wait(
        a,
        "/status",
        "every strategy reporting a second after the kill",
        |v| {
            reported(v)
                .iter()
                .zip(&at_kill)
                .all(|(now, then)| *now > then + 1_000_000_000)
        },
    );
    assert_eq!(
        newest(&json(a, "/orders")),
        before,
        "no order was placed after the kill"
    );
    assert_eq!(later["open_orders_count"], 0);
    let (_, _, metrics) = get(a, "/metrics");
    assert!(metrics.contains("\nmako_kill_switch 1\n"), "{metrics}");

    let report = s.stop();
    let sim = report.sim_state.expect("simulator state");
    // Every venue's account (Binance's and OKX's) holds no open order.
    let accounts = sim["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    let open = accounts
        .iter()
        .flat_map(|a| a["orders"].as_array().unwrap())
        .filter(|o| o["status"] == "NEW" || o["status"] == "PARTIALLY_FILLED")
        .count();
    assert_eq!(open, 0, "the venues hold no open order after the kill");
}

/// Rewrites the config with `from` replaced by `to` (same length) and puts the file's
/// modification time back, so only an explicit reload (endpoint or SIGHUP) sees it.
fn rewrite_unseen(path: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(before).unwrap();
}

fn spread_of(v: &Value) -> Option<i64> {
    strategy(v)["params"]["spread_bps"].as_i64()
}

#[test]
fn parameters_reload_through_the_endpoint_sighup_and_a_file_change() {
    let s = start("reload");
    let a = s.addr;
    wait(a, "/status", "the strategy running", |v| {
        strategy(v)["state"] == "running"
    });

    // Nothing changed yet.
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changes"], Value::Array(vec![]));

    // Through the endpoint: the answer says what changed, /status shows what applies.
    rewrite_unseen(&s.config, "spread_bps = 2 ", "spread_bps = 6 ");
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    let c = &body["changes"][0];
    assert_eq!(c["strategy"], "mm-sol");
    assert_eq!(c["changed"]["spread_bps"]["from"], 2);
    assert_eq!(c["changed"]["spread_bps"]["to"], 6);
    let st = wait(a, "/status", "spread_bps 6 applied", |v| {
        spread_of(v) == Some(6)
    });
    assert!(strategy(&st)["params_reloaded_at_ns"].as_u64().is_some());

    // A bad file is refused with a clear error; the parameters in force stay.
    rewrite_unseen(&s.config, "order_size = \"0.5\"", "order_size = \"0.0\"");
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("order_size"),
        "{body}"
    );
    rewrite_unseen(&s.config, "order_size = \"0.0\"", "order_size = \"0.5\"");
    // A change that needs a restart is refused as such.
    rewrite_unseen(&s.config, "tick_size = \"0.01\"", "tick_size = \"0.02\"");
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["reason"], "needs_restart");
    assert!(
        body["needs_restart"][0]
            .as_str()
            .unwrap()
            .contains("instruments")
    );
    rewrite_unseen(&s.config, "tick_size = \"0.02\"", "tick_size = \"0.01\"");
    assert_eq!(
        spread_of(&json(a, "/status")),
        Some(6),
        "refusals kept the old"
    );

    // SIGHUP.
    rewrite_unseen(&s.config, "spread_bps = 6 ", "spread_bps = 8 ");
    // The engine registered its SIGHUP handler in `watch_config`, before it started.
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    wait(a, "/status", "spread_bps 8 after SIGHUP", |v| {
        spread_of(v) == Some(8)
    });

    // A change of the file (its modification time moves).
    let text = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(
        &s.config,
        text.replace("spread_bps = 8 ", "spread_bps = 5 "),
    )
    .unwrap();
    wait(a, "/status", "spread_bps 5 after the file changed", |v| {
        spread_of(v) == Some(5)
    });
    // A bad file written in place is refused by the watcher; the old parameters stay.
    let text = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(
        &s.config,
        text.replace("spread_bps = 5 ", "spread_bps = 7 ")
            .replace("order_size = \"0.5\"", "order_size = \"-1\""),
    )
    .unwrap();
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 422, "{body}");
    // The watcher itself saw the changed file and refused it too.
    let v = wait(a, "/status", "the watcher refused the bad file", |v| {
        v["reloads"]["last"]["source"] == "file change" && v["reloads"]["last"]["applied"] == false
    });
    assert!(
        v["reloads"]["refused"].as_u64().unwrap() >= 2,
        "{}",
        v["reloads"]
    );
    assert_eq!(spread_of(&v), Some(5));
    assert_eq!(strategy(&v)["state"], "running");
    s.stop();
}

fn grid_quantity(v: &Value) -> Option<String> {
    v["strategies"]
        .as_array()?
        .iter()
        .find(|s| s["id"] == "grid-sol")?["params"]["quantity"]
        .as_str()
        .map(str::to_owned)
}

/// A reload that changes two strategies of different kinds applies to both, and one with a
/// bad parameter in either applies to neither.
#[test]
fn a_reload_applies_to_every_strategy_or_to_none() {
    let s = start("reload-two");
    let a = s.addr;
    wait(a, "/status", "the strategies running", |v| {
        strategy(v)["state"] == "running" && grid_quantity(v).is_some()
    });
    // Both valid: the maker's spread and the grid's quantity change together.
    rewrite_unseen(&s.config, "spread_bps = 2 ", "spread_bps = 6 ");
    rewrite_unseen(&s.config, "quantity = \"0.2\"", "quantity = \"0.3\"");
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    let changed: Vec<&str> = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(changed, vec!["mm-sol", "grid-sol"]);
    wait(a, "/status", "both applied", |v| {
        spread_of(v) == Some(6) && grid_quantity(v).as_deref() == Some("0.3")
    });
    // The maker's change is valid, the grid's is not: neither applies.
    rewrite_unseen(&s.config, "spread_bps = 6 ", "spread_bps = 9 ");
    rewrite_unseen(&s.config, "quantity = \"0.3\"", "quantity = \"0.0\"");
    let (status, body) = post(a, "/control/reload", Some(TOKEN));
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("quantity"),
        "{body}"
    );
    let v = json(a, "/status");
    assert_eq!(
        (spread_of(&v), grid_quantity(&v).as_deref()),
        (Some(6), Some("0.3"))
    );
    s.stop();
}
