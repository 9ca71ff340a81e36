//! The demo end to end: `config/demo.toml` runs the whole engine (in-process simulator, feeds,
//! a spread maker on Binance and one on OKX, gateways, latency monitor, persistence) for a fixed
//! time. It places, replaces and cancels quotes, gets fills, ends with the strategies'
//! inventories equal to the simulator's own record of their accounts, and leaves nothing open.

use std::path::Path;
use std::time::Duration;

use mako::engine::{Engine, RunOptions};
use mako::runtime::{Clock, Shutdown};
use mako::types::{Price, Qty};
use serde_json::Value;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn units(v: &Value) -> i64 {
    Price::parse(v.as_str().expect("decimal string"))
        .expect("decimal")
        .units()
}

#[test]
fn the_demo_trades_and_agrees_with_the_simulator() {
    let dir = std::env::temp_dir().join(format!("mako-demo-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml"))
        .unwrap()
        .replace("19400", &free_port().to_string())
        // The status endpoint on a free port, so a running demo does not stop the test.
        .replace("127.0.0.1:8787", "127.0.0.1:0")
        .replace(
            "data_dir = \"data/demo\"",
            &format!("data_dir = {:?}", dir.display().to_string()),
        )
        // A tighter spread than the demo's so that a short run is sure to trade.
        .replace("spread_bps = 4 ", "spread_bps = 2 ");
    let config =
        mako::config::parse(&text, Path::new("demo.toml")).expect("the demo config is valid");
    let engine = Engine::build(config, Clock::live(), Shutdown::new()).expect("engine builds");
    assert!(
        engine.skipped.iter().all(|(a, _)| ![
            "feed:binance",
            "gateway:binance",
            "feed:okx",
            "gateway:okx"
        ]
        .contains(&a.as_str())),
        "{:?}",
        engine.skipped
    );
    let report = engine
        .run(RunOptions {
            duration: Some(Duration::from_secs(12)),
            handle_signals: false,
        })
        .expect("stops cleanly");
    let state = report.sim_state.expect("simulator state");
    // Binance's maker trades on the simulator's account 0, OKX's on account 1.
    for (strategy, account) in [(0u16, 0usize), (1, 1)] {
        let s = report
            .strategies
            .iter()
            .find(|r| r.strategy.0 == strategy)
            .expect("the strategy reported as it stopped");
        check_account(&state, account, s);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// One strategy's inventory equals its allocation moved by exactly the simulator's fills on
/// its account, whose balances moved by the same amounts; nothing is left open there.
fn check_account(state: &Value, account_index: usize, s: &mako::strategy::actor::ReportMsg) {
    let account = &state["accounts"][account_index];
    let orders = account["orders"].as_array().unwrap();
    let count = |s: &str| orders.iter().filter(|o| o["status"] == s).count();
    assert!(orders.len() >= 4, "quotes were placed: {}", orders.len());
    assert!(count("CANCELED") >= 1, "quotes were replaced or cancelled");
    assert_eq!(
        count("NEW") + count("PARTIALLY_FILLED"),
        0,
        "shutdown left orders open"
    );

    // The strategy's inventory is its allocation moved by exactly the simulator's fills.
    let fills: Vec<&Value> = state["fills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == account_index)
        .collect();
    assert!(!fills.is_empty(), "the quotes got filled");
    let (mut base, mut quote) = (
        Qty::parse("20").unwrap().units(),
        Price::parse("3000").unwrap().units(),
    );
    for f in &fills {
        let (q, qq, fee) = (
            units(&f["qty"]),
            units(&f["quoteQty"]),
            units(&f["commission"]),
        );
        if f["side"] == "BUY" {
            base += q;
            quote -= qq;
        } else {
            base -= q;
            quote += qq;
        }
        match f["commissionAsset"].as_str().unwrap() {
            "SOL" => base -= fee,
            "USDT" => quote -= fee,
            other => panic!("unexpected fee asset {other}"),
        }
    }
    assert_eq!(
        s.report.fills as usize,
        fills.len(),
        "every fill reached the strategy"
    );
    assert_eq!(
        (s.report.base.units(), s.report.quote),
        (base, quote),
        "inventory agrees with the fills"
    );

    // And the simulator's balances moved by the same amounts (the account started at 100 SOL
    // and 20 000 USDT; nothing else trades on it).
    let bal =
        |a: &str| units(&account["balances"][a]["free"]) + units(&account["balances"][a]["locked"]);
    assert_eq!(
        bal("SOL") - Qty::parse("100").unwrap().units(),
        base - Qty::parse("20").unwrap().units()
    );
    assert_eq!(
        bal("USDT") - Price::parse("20000").unwrap().units(),
        quote - Price::parse("3000").unwrap().units()
    );

    // PnL is the inventory change marked at the last mid.
    let mid = s.mid.expect("a book at the end").to_f64();
    let pnl = (base - 20_0000_0000) as f64 / 1e8 * mid + (quote - 3000_0000_0000) as f64 / 1e8;
    assert!(
        (s.report.pnl - pnl).abs() < 1e-6,
        "{} vs {pnl}",
        s.report.pnl
    );
}
