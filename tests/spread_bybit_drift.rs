//! The spread maker on a simulated Bybit linear perpetual in sim mode
//! (`config/grid-bybit-demo.toml` with its strategy replaced by a spread maker allotted 0.1 BTC
//! and 6 000 USDT, quoting 0.01 each side 1.75 % from the mid): a buy of 0.05 made by hand on
//! the same account is found as a drift and corrected into the maker's position; the maker
//! re-bases its inventory on it (0.15 BTC, 60 % of its value in base) and requotes skewed:
//! a smaller bid and a larger ask.

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

const SPREAD: &str = r#"[[strategies]]
id = "mm-btc-perp"
kind = "spread"
venue = "bybit"
instrument = "BTCUSDT"

[strategies.params]
spread_bps = 350
order_size = "0.01"
base_allocation = "0.1"
quote_allocation = "6000"

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

/// A quote's quantity on `/status` (`quotes.bid.qty`), at 10^-8.
fn quoted(s: &Value, side: &str) -> Option<i64> {
    s["quotes"][side]["qty"].as_str().map(units)
}

#[test]
fn a_trade_by_hand_rebases_the_makers_inventory() {
    let dir = std::env::temp_dir().join(format!("mako-spread-bybit-drift-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-bybit-demo.toml"
    ))
    .unwrap();
    let (head, tail) = demo.split_once("[[strategies]]").unwrap();
    let (_, tail) = tail.split_once("[persistence]").unwrap();
    let text = format!("{head}{SPREAD}{tail}")
        .replace("19424", "0")
        .replace("127.0.0.1:8794", "127.0.0.1:0")
        .replace("slots_per_instrument = 2", "slots_per_instrument = 0")
        .replace(
            "data_dir = \"data/grid-bybit-demo\"",
            &format!("data_dir = {:?}", dir.display().to_string()),
        );
    let config = mako::config::parse(&text, Path::new("spread-bybit.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let sim = format!("http://{}", engine.sim_addr().expect("the simulator runs"));
    let traded = AtomicBool::new(false);
    let even = units("0.01");
    let seen: std::sync::Arc<Mutex<Value>> = std::sync::Arc::default();
    let keep = seen.clone();
    common::run_until(
        engine,
        shutdown,
        "the maker's quotes skewed by the corrected position",
        Duration::from_secs(60),
        move |v| {
            let s = &v["strategies"][0];
            // Quoting both sides near evenly first (about 50 % base); then a trade by hand.
            let near = |q: Option<i64>| q.is_some_and(|q| (q - even).abs() <= units("0.001"));
            if near(quoted(s, "bid"))
                && near(quoted(s, "ask"))
                && !traded.swap(true, Ordering::SeqCst)
            {
                buy_by_hand(&sim, "0.05");
            }
            let drifts = v["venues"][0]["position_drifts"].as_u64().unwrap_or(0);
            let skewed = matches!((quoted(s, "bid"), quoted(s, "ask")),
                (Some(b), Some(a)) if b < units("0.007") && a > units("0.013"));
            *keep.lock().unwrap() = v.clone();
            drifts >= 1 && skewed
        },
    );
    let v = seen.lock().unwrap().clone();
    let s = &v["strategies"][0];
    assert_eq!(v["venues"][0]["position_drifts"], 1, "{v}");
    // 0.15 BTC against 6 000 USDT: about 60 % in base, half the skew's range: the bid near
    // 0.005 and the ask near 0.015 (the mid moves a little).
    let (bid, ask) = (quoted(s, "bid").unwrap(), quoted(s, "ask").unwrap());
    assert!((units("0.004")..=units("0.006")).contains(&bid), "{s}");
    assert!((units("0.014")..=units("0.016")).contains(&ask), "{s}");
}
