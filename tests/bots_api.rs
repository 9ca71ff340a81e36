//! Bot management over the control API against a running engine in sim mode (the Bybit
//! grid demo with `[bots] slots_per_instrument = 2`, ports from the OS): a bot created from
//! a spec trades against the simulator; refusals answer 401/404/409/422 with their reasons
//! and key paths; stop cancels its orders; delete refuses while it holds a position and
//! flattens when told; stop-all stops every bot; every change is an activity row; and a
//! restart from the same config file comes back with the runtime-created bot, stopped as the
//! operator left it, read from the overlay beside the config.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mako::engine::{Engine, RunOptions};
use mako::runtime::{Clock, Shutdown};
use serde_json::{Value, json};

const TOKEN: &str = "bots-api-test-token";

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

/// `(status, body)` of a call; `token` adds the bearer header.
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: bool,
) -> (u16, Value) {
    let url = format!("http://{addr}{path}");
    let auth = format!("Bearer {TOKEN}");
    let a = agent();
    let mut r = match (method, body) {
        ("GET", _) => a.get(&url).call(),
        ("DELETE", _) => {
            let mut rq = a.delete(&url);
            if token {
                rq = rq.header("Authorization", &auth);
            }
            rq.call()
        }
        (m, b) => {
            let mut rq = if m == "PUT" {
                a.put(&url)
            } else {
                a.post(&url)
            };
            if token {
                rq = rq.header("Authorization", &auth);
            }
            rq.header("Content-Type", "application/json")
                .send(b.unwrap_or(""))
        }
    }
    .expect("the endpoint answers");
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn bot<'v>(v: &'v Value, id: &str) -> Option<&'v Value> {
    v["strategies"].as_array()?.iter().find(|s| s["id"] == id)
}

fn wait_status(addr: SocketAddr, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    common::wait_for(Duration::from_secs(180), || {
        common::status(addr).filter(|v| f(v))
    })
    .unwrap_or_else(|| panic!("never saw {what}: {:?}", common::status(addr)))
}

fn config_file(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-bybit-demo.toml"
    ))
    .unwrap()
    .replace("19424", "0")
    .replace("127.0.0.1:8794", "127.0.0.1:0")
    .replace(
        "console_interval = \"2s\"\n",
        &format!("token_file = {:?}\n", token.display().to_string()),
    )
    .replace(
        "data_dir = \"data/grid-bybit-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    assert!(
        text.contains("slots_per_instrument = 2"),
        "the demo has two bot slots"
    );
    let path = dir.join("bots.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(
    path: &Path,
) -> (
    SocketAddr,
    Shutdown,
    std::thread::JoinHandle<mako::engine::RunReport>,
) {
    let config = mako::config::load(path).expect("the config and its overlay are valid");
    let shutdown = Shutdown::new();
    let mut engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    engine.watch_config(path).expect("watch");
    let addr = engine.status_addr().expect("status endpoint");
    let run = std::thread::spawn(move || {
        engine
            .run(RunOptions {
                duration: Some(Duration::from_secs(3600)),
                handle_signals: false,
            })
            .expect("stops cleanly")
    });
    (addr, shutdown, run)
}

fn grid_spec(id: &str) -> String {
    json!({
        "id": id, "kind": "grid", "venue": "bybit", "instrument": "BTCUSDT",
        "params": {"first_side": "buy", "quantity": "0.01", "default_offset_percent": 0.0,
                   "levels": 2, "level_spacing": "5", "infinite_loop": true}
    })
    .to_string()
}

#[test]
fn bots_are_created_managed_and_deleted_while_the_engine_runs_and_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("mako-bots-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = config_file(&dir);
    let (addr, shutdown, run) = start(&path);
    wait_status(addr, "the config's grid", |v| {
        bot(v, "grid-btc-perp").is_some()
    });
    // Slots are not bots.
    let stats = call(addr, "GET", "/stats", None, false).1;
    assert_eq!(stats["bots"]["total"], 1, "{stats}");
    assert_eq!(stats["bots"]["vacant_slots"], 2, "{stats}");

    // Refusals.
    assert_eq!(
        call(
            addr,
            "POST",
            "/control/strategies",
            Some(&grid_spec("g2")),
            false
        )
        .0,
        401
    );
    let paths = |body: &Value| -> Vec<String> {
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["path"].as_str().map(str::to_owned))
            .collect()
    };
    let unknown_key = json!({"id": "bad", "kind": "grid", "venue": "bybit",
                             "instrument": "BTCUSDT", "colour": "red"})
    .to_string();
    let (status, body) = call(
        addr,
        "POST",
        "/control/strategies",
        Some(&unknown_key),
        true,
    );
    assert_eq!(
        (status, paths(&body)),
        (422, vec!["colour".to_owned()]),
        "{body}"
    );
    let bad_params = json!({"id": "bad", "kind": "grid", "venue": "bybit", "instrument": "BTCUSDT",
                            "params": {"quantity": "lots", "first_side": "buy"}})
    .to_string();
    let (status, body) = call(addr, "POST", "/control/strategies", Some(&bad_params), true);
    assert_eq!(status, 422, "{body}");
    assert!(
        paths(&body).contains(&"params.quantity".to_owned()),
        "{body}"
    );
    let elsewhere =
        json!({"id": "bad", "kind": "grid", "venue": "nowhere", "instrument": "BTCUSDT"})
            .to_string();
    let (status, body) = call(addr, "POST", "/control/strategies", Some(&elsewhere), true);
    assert_eq!(status, 422, "{body}");
    assert!(
        paths(&body).iter().any(|p| p.starts_with("venue")),
        "{body}"
    );
    let (status, body) = call(addr, "POST", "/control/strategies", Some("{not json"), true);
    assert_eq!(status, 422, "{body}");
    let (status, body) = call(
        addr,
        "POST",
        "/control/strategies",
        Some(&grid_spec("grid-btc-perp")),
        true,
    );
    assert_eq!(status, 409, "an id in use: {body}");
    assert_eq!(
        call(addr, "PUT", "/control/strategies/nope", Some("{}"), true).0,
        404
    );
    assert_eq!(
        call(addr, "POST", "/control/strategies/nope/stop", None, true).0,
        404
    );
    assert_eq!(
        call(addr, "DELETE", "/control/strategies/nope", None, true).0,
        404
    );

    // Create: it trades against the simulator.
    let (status, body) = call(
        addr,
        "POST",
        "/control/strategies",
        Some(&grid_spec("g2")),
        true,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "running");
    let g2_slot = body["slot"].as_str().expect("the slot it took").to_owned();
    let v = wait_status(addr, "the created bot trading", |v| {
        bot(v, "g2").is_some_and(|b| b["trades"].as_u64().unwrap_or(0) > 0)
    });
    assert_eq!(bot(&v, "g2").unwrap()["kind"], "grid");

    // Parameters: a restart-only key is refused; another applies.
    let mut params = json!({"first_side": "buy", "quantity": "0.01", "default_offset_percent": 0.0,
                            "levels": 2, "level_spacing": "5", "infinite_loop": true,
                            "cancel_on_shutdown": false});
    let (status, body) = call(
        addr,
        "PUT",
        "/control/strategies/g2",
        Some(&params.to_string()),
        true,
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["needs_restart"], json!(["cancel_on_shutdown"]));
    params.as_object_mut().unwrap().remove("cancel_on_shutdown");
    params["levels"] = json!("three");
    let (status, body) = call(
        addr,
        "PUT",
        "/control/strategies/g2",
        Some(&params.to_string()),
        true,
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["path"], "params.levels", "{body}");
    params["levels"] = json!(3);
    let (status, body) = call(
        addr,
        "PUT",
        "/control/strategies/g2",
        Some(&params.to_string()),
        true,
    );
    assert_eq!(status, 200, "{body}");

    // Stop cancels its orders; toggle starts it again.
    let (status, body) = call(addr, "POST", "/control/strategies/g2/stop", None, true);
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("stopped")),
        "{body}"
    );
    wait_status(addr, "the stopped bot without orders", |v| {
        bot(v, "g2").is_some_and(|b| b["state"] == "stopped" && b["open_orders"] == 0)
    });
    let (status, body) = call(addr, "POST", "/control/strategies/g2/toggle", None, true);
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("running")),
        "{body}"
    );

    // Delete: refused while it holds a position, then flattened.
    wait_status(addr, "the bot holding a position", |v| {
        bot(v, "g2").is_some_and(|b| b["position"].as_str().is_some_and(|p| p != "0"))
    });
    let (status, body) = call(addr, "DELETE", "/control/strategies/g2", None, true);
    assert_eq!(status, 409, "{body}");
    assert!(body["position"].is_string(), "{body}");
    let (status, body) = call(
        addr,
        "DELETE",
        "/control/strategies/g2?flatten=true",
        None,
        true,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["flattened"], true, "{body}");
    wait_status(addr, "the deleted bot gone", |v| bot(v, "g2").is_none());
    // Its slot is listed (kind vacant, with the position it had) until the gateway's books
    // show the flatten's market order filled; only then is it hidden and free for a new bot.
    wait_status(addr, "the flattened slot flat and hidden", |v| {
        v["strategies"]
            .as_array()
            .is_some_and(|a| a.iter().all(|b| b["kind"] != "vacant"))
    });
    // A vacant slot holding nothing has nothing to delete or flatten.
    let (status, body) = call(
        addr,
        "DELETE",
        &format!("/control/strategies/{g2_slot}?flatten=true"),
        None,
        true,
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("holding no position")),
        "{body}"
    );

    // Another bot takes a slot; stop-all stops both.
    let (status, body) = call(
        addr,
        "POST",
        "/control/strategies",
        Some(&grid_spec("g3")),
        true,
    );
    assert_eq!(status, 201, "{body}");
    wait_status(addr, "g3 reporting", |v| bot(v, "g3").is_some());
    let (status, body) = call(addr, "POST", "/control/stop-all", None, true);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stopped"], 2, "{body}");
    wait_status(addr, "every bot stopped", |v| {
        v["strategies"]
            .as_array()
            .is_some_and(|a| a.iter().all(|b| b["state"] == "stopped"))
    });

    // The activity log: every change, filterable.
    let (_, log) = call(addr, "GET", "/activity?strategy=g2&limit=50", None, false);
    let messages: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["message"].as_str())
        .collect();
    for want in [
        "bot created",
        "parameters changed",
        "bot stopped",
        "bot started",
        "bot deleted",
    ] {
        assert!(messages.iter().any(|m| m.contains(want)), "{want}: {log}");
    }
    let (_, warn) = call(addr, "GET", "/activity?level=warn", None, false);
    assert!(
        warn["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["level"] != "info"),
        "{warn}"
    );
    let (_, page) = call(addr, "GET", "/activity?limit=1&offset=1", None, false);
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert!(page["total"].as_u64().unwrap() > 5, "{page}");
    assert_eq!(
        call(addr, "GET", "/activity?level=loud", None, false).0,
        422
    );

    shutdown.request();
    let report = run.join().expect("engine thread");
    let sim = report.sim_state.expect("simulator state");
    assert!(!sim["fills"].as_array().unwrap().is_empty());

    // The overlay holds the change; a restart comes back with g3, stopped, and without g2.
    let overlay = std::fs::read_to_string(dir.join("bots.toml.overlay")).unwrap();
    assert!(
        overlay.contains("g3") && !overlay.contains("\"g2\""),
        "{overlay}"
    );
    let (addr, shutdown, run) = start(&path);
    let v = wait_status(addr, "the runtime-created bot after a restart", |v| {
        bot(v, "g3").is_some_and(|b| b["state"] == "stopped")
    });
    assert!(bot(&v, "g2").is_none(), "{v}");
    assert_eq!(
        bot(&v, "grid-btc-perp").unwrap()["state"],
        "stopped",
        "stop-all is kept"
    );
    let (status, body) = call(addr, "POST", "/control/strategies/g3/start", None, true);
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("running")),
        "{body}"
    );
    shutdown.request();
    run.join().expect("engine thread");
    let _ = std::fs::remove_dir_all(&dir);
}
