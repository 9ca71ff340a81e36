//! The demo end to end: `config/demo.toml` runs the whole engine (in-process simulator, feeds,
//! a spread maker on Binance and one on OKX, a grid bot beside the Binance maker, gateways,
//! latency monitor, persistence) until both makers and the grid have fills. It places, replaces and cancels quotes,
//! gets fills, ends with the makers' inventories equal to the simulator's own record of their
//! fills, the accounts' balances moved by exactly the fills of the strategies trading on them,
//! and leaves nothing open.

mod common;

use std::path::Path;
use std::time::Duration;

use mako::engine::Engine;
use mako::runtime::{Clock, Shutdown};
use mako::types::{ClientOrderId, Price, Qty, StrategyId};
use serde_json::Value;

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
        // The simulator on a port the OS picks (the engine points the venues at it).
        .replace("19400", "0")
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
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
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
    let report = common::run_until(
        engine,
        shutdown,
        "fills for both makers and the grid",
        Duration::from_secs(240),
        |v| {
            ["mm-sol", "mm-sol-okx", "grid-sol"]
                .iter()
                .all(|id| common::strategy_trades(v, id) >= 1)
        },
    );
    let state = report.sim_state.expect("simulator state");
    // Binance's maker (and the grid) trade on the simulator's account 0, OKX's on account 1.
    for (strategies, account) in [(&[0u16, 2][..], 0usize), (&[1], 1)] {
        let reports: Vec<_> = strategies
            .iter()
            .map(|id| {
                report
                    .strategies
                    .iter()
                    .find(|r| r.strategy.0 == *id)
                    .expect("the strategy reported as it stopped")
            })
            .collect();
        check_account(&state, account, &reports);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The strategy whose engine-minted client id the simulator's order `order_id` carries.
fn owner(account: &Value, order_id: &Value) -> StrategyId {
    let o = account["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["orderId"] == *order_id)
        .expect("every fill's order is on the account");
    let cid = ClientOrderId::parse(o["clientOrderId"].as_str().unwrap()).unwrap();
    cid.decode().expect("an engine-minted id").1
}

/// Each maker's inventory equals its allocation moved by exactly the simulator's fills of its
/// own orders; the account's balances moved by the fills of every strategy on it; nothing is
/// left open there.
fn check_account(
    state: &Value,
    account_index: usize,
    strategies: &[&mako::strategy::actor::ReportMsg],
) {
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
    let all: Vec<&Value> = state["fills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == account_index)
        .collect();
    // What the fills moved, per strategy: (base, quote) at 10^-8.
    let moved = |fills: &[&Value]| {
        let (mut base, mut quote) = (0i64, 0i64);
        for f in fills {
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
        (base, quote)
    };
    let (mut total_base, mut total_quote) = (0, 0);
    for s in strategies {
        let fills: Vec<&Value> = all
            .iter()
            .copied()
            .filter(|f| owner(account, &f["orderId"]) == s.strategy)
            .collect();
        assert_eq!(
            s.report.fills as usize,
            fills.len(),
            "every fill of strategy {} reached it",
            s.strategy.0
        );
        let (base, quote) = moved(&fills);
        total_base += base;
        total_quote += quote;
        if s.strategy.0 == 2 {
            continue; // the grid keeps no allocation; its PnL is checked in tests/grid_sim.rs
        }
        assert!(!fills.is_empty(), "the maker's quotes got filled");
        let (base, quote) = (
            base + Qty::parse("20").unwrap().units(),
            quote + Price::parse("3000").unwrap().units(),
        );
        assert_eq!(
            (s.report.base.units(), s.report.quote),
            (base, quote),
            "inventory agrees with the fills"
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
    assert_eq!(
        all.len(),
        strategies
            .iter()
            .map(|s| s.report.fills as usize)
            .sum::<usize>(),
        "no fill on the account belongs to another strategy"
    );

    // The simulator's balances moved by the same amounts (the account started at 100 SOL
    // and 20 000 USDT; only these strategies trade on it).
    let bal =
        |a: &str| units(&account["balances"][a]["free"]) + units(&account["balances"][a]["locked"]);
    assert_eq!(bal("SOL") - Qty::parse("100").unwrap().units(), total_base);
    assert_eq!(
        bal("USDT") - Price::parse("20000").unwrap().units(),
        total_quote
    );
}
