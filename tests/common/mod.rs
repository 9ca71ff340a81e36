//! Shared helpers for end-to-end tests against the in-process simulator.
#![allow(dead_code)]

pub mod coindcx_rig;
pub mod feed_rig;
pub mod gateway_rig;

use std::time::{Duration, Instant};

use mako::sim::{SimConfig, SimHandle, Simulator};

/// A simulator on an ephemeral loopback port with the random walk, one BTCUSDT market and
/// the documentation's test account.
pub fn start_sim(extra: &str) -> SimHandle {
    let text = format!("port = 0\nseed = 7\nwalk_interval_ms = 20\n{extra}");
    let table: toml::Table = text.parse().expect("sim config");
    let cfg = SimConfig::from_table(&table).expect("valid sim config");
    Simulator::start(cfg).expect("simulator starts")
}

/// Polls `f` until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `GET /status` of a running engine, if it answers.
pub fn status(addr: std::net::SocketAddr) -> Option<serde_json::Value> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build(),
    );
    let mut r = agent.get(&format!("http://{addr}/status")).call().ok()?;
    serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()
}

/// Runs `engine` (built with `shutdown`, serving `/status`) until its status satisfies `done`,
/// then stops it and returns its report. `limit` only bounds a hang: the test fails with
/// `what` and the last status seen.
pub fn run_until(
    engine: mako::engine::Engine,
    shutdown: mako::runtime::Shutdown,
    what: &str,
    limit: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> mako::engine::RunReport {
    let addr = engine.status_addr().expect("the engine serves /status");
    let run = std::thread::spawn(move || {
        engine
            .run(mako::engine::RunOptions {
                duration: Some(Duration::from_secs(3600)),
                handle_signals: false,
            })
            .expect("stops cleanly")
    });
    let until = Instant::now() + limit;
    let mut last = serde_json::Value::Null;
    loop {
        if let Some(v) = status(addr) {
            if done(&v) {
                break;
            }
            last = v;
        }
        if Instant::now() >= until || run.is_finished() {
            shutdown.request();
            let _ = run.join();
            panic!("never saw {what}; last status: {last}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    shutdown.request();
    run.join().expect("the engine thread")
}

/// The `trades` figure of the strategy named `id` on a status page (0 when absent).
pub fn strategy_trades(v: &serde_json::Value, id: &str) -> u64 {
    v["strategies"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id))
        .and_then(|s| s["trades"].as_u64())
        .unwrap_or(0)
}

/// Every request's path and message text, in arrival order.
pub type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A fake Bot API on 127.0.0.1 that answers every request with success and keeps the text
/// of every message: its base URL and what it saw.
pub fn fake_telegram() -> (String, Seen) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let Ok(clone) = conn.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let mut len = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let text = json["text"].as_str().unwrap_or("").to_string();
            keep.lock().unwrap().push((path, text));
            let answer = r#"{"ok":true,"result":{}}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, seen)
}
