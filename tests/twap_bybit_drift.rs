//! TWAP on a simulated Bybit linear perpetual in sim mode (`config/grid-bybit-demo.toml` with
//! its strategy replaced by a TWAP buying 0.02 BTC in 4 slices, 6 s apart): after the first
//! slice a buy of 0.004 is made by hand on the same account. The gateway finds the drift and
//! corrects the TWAP's position from the venue's; the TWAP counts what it has executed from
//! the corrected position, so the account ends holding the goal, 0.02, not 0.024.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use mako::engine::Engine;
use mako::runtime::{Clock, Shutdown};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use mako::types::Qty;
use serde_json::Value;
use sha2::Sha256;

const TWAP: &str = r#"[[strategies]]
id = "twap-btc-perp"
kind = "twap"
venue = "bybit"
instrument = "BTCUSDT"

[strategies.params]
side = "buy"
quantity = "0.02"
duration = "24s"
slices = 4
collar_bps = 50

[persistence]"#;

/// Units at 10^-8 of a signed decimal.
fn units(s: &str) -> i64 {
    match s.strip_prefix('-') {
        Some(a) => -Qty::parse(a).unwrap().units(),
        None => Qty::parse(s).unwrap().units(),
    }
}

/// A market buy of `qty` on the account, placed by hand (not by mako), signed here as Bybit
/// documents (`timestamp + key + recvWindow + body`, hex HMAC-SHA256).
fn buy_by_hand(base: &str, qty: &str) {
    let body = format!(
        r#"{{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"{qty}","orderLinkId":"by-hand-1"}}"#
    );
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}{DOC_API_KEY}5000{body}").as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let text = ureq::post(format!("{base}/v5/order/create"))
        .header("X-BAPI-API-KEY", DOC_API_KEY)
        .header("X-BAPI-TIMESTAMP", &ts)
        .header("X-BAPI-RECV-WINDOW", "5000")
        .header("X-BAPI-SIGN", &sig)
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["retCode"], 0, "{answer}");
}

fn report_last(m: &Mutex<Value>) -> Value {
    m.lock().unwrap().clone()
}

#[test]
fn a_trade_by_hand_is_not_bought_again_by_the_twap() {
    let dir = std::env::temp_dir().join(format!("mako-twap-bybit-drift-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-bybit-demo.toml"
    ))
    .unwrap();
    let (head, tail) = demo.split_once("[[strategies]]").unwrap();
    let (_, tail) = tail.split_once("[persistence]").unwrap();
    let text = format!("{head}{TWAP}{tail}")
        .replace("19424", "0")
        .replace("127.0.0.1:8794", "127.0.0.1:0")
        .replace("slots_per_instrument = 2", "slots_per_instrument = 0")
        .replace(
            "data_dir = \"data/grid-bybit-demo\"",
            &format!("data_dir = {:?}", dir.display().to_string()),
        );
    let config = mako::config::parse(&text, Path::new("twap-bybit.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let sim = format!("http://{}", engine.sim_addr().expect("the simulator runs"));
    let traded = AtomicBool::new(false);
    let last_seen: std::sync::Arc<Mutex<Value>> = std::sync::Arc::default();
    let last = last_seen.clone();
    let goal = units("0.02");
    let started = std::time::Instant::now();
    let report = common::run_until(
        engine,
        shutdown,
        "the TWAP at its goal after a drift was corrected, every slice done",
        Duration::from_secs(90),
        move |v| {
            let s = &v["strategies"][0];
            let pos = s["position"].as_str().map_or(0, units);
            // After the first slice filled: a trade by hand on the same account.
            if pos > 0 && !traded.swap(true, Ordering::SeqCst) {
                buy_by_hand(&sim, "0.004");
            }
            *last.lock().unwrap() = v.clone();
            let drifts = v["venues"][0]["position_drifts"].as_u64().unwrap_or(0);
            // Every slice is due by 24 s; a few seconds more for the last one's fill.
            drifts >= 1 && started.elapsed() > Duration::from_secs(30)
        },
    );
    let v = report_last(&last_seen);
    let s = &v["strategies"][0];
    assert_eq!(v["venues"][0]["position_drifts"], 1, "{v}");
    assert_eq!(s["position"].as_str().map(units), Some(goal), "{s}");
    let state = report.sim_state.expect("simulator state");
    let pos = &state["accounts"][0]["positions"][0];
    assert_eq!(units(pos["size"].as_str().unwrap()), goal, "{pos}");
}
