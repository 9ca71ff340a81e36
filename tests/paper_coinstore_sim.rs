//! Paper mode on Coinstore end to end: `tests/fixtures/spread-coinstore-paper.toml` as a user
//! runs it (ports from the OS, a scratch data directory). The engine's feed reads the
//! in-process simulator's Coinstore front end (`depth@20` whole snapshots, trades, the session
//! sequence `S`), the spread maker quotes BTCUSDT, and the paper gateway fills its orders
//! inside the engine. Nothing reaches the simulator's order endpoints, every stored order and fill
//! row is marked paper, and the strategy's inventory is its allocation moved by exactly the
//! paper fills.

mod common;

use std::path::Path;
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{RunScope, load_fills, schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};
use mako::types::{Price, Qty, Side};

#[test]
fn the_spread_maker_trades_on_paper_against_the_simulated_coinstore_book() {
    let dir = std::env::temp_dir().join(format!("mako-paper-coinstore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/spread-coinstore-paper.toml"
    ))
    .unwrap()
    .replace("19423", "0")
    .replace("127.0.0.1:8794", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/spread-coinstore-paper\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("spread-coinstore-paper.toml"))
        .expect("the paper config is valid");
    assert_eq!(config.engine.mode, Mode::Paper);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(
        engine.skipped.iter().all(|(a, _)| a != "feed:coinstore"
            && a != "gateway:coinstore"
            && a != "strategy:mm-btc-coinstore"),
        "{:?}",
        engine.skipped
    );
    let report = common::run_until(
        engine,
        shutdown,
        "paper fills on Coinstore",
        Duration::from_secs(240),
        |v| common::strategy_trades(v, "mm-btc-coinstore") >= 2,
    );

    // Nothing went to the simulator's order endpoints.
    let state = report.sim_state.expect("simulator state");
    assert_eq!(
        state["accounts"][0]["orders"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(state["fills"].as_array().map(Vec::len), Some(0));

    // Every row the run stored is a paper row, and no paper order is left open.
    let db = schema::open(&dir.join("spread-coinstore-paper.sqlite")).expect("database");
    for table in ["orders", "order_events", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        let paper = count_rows(&db, table, Some(Mode::Paper)).unwrap();
        assert_eq!(all, paper, "{table}: every row is marked paper");
    }
    let open = mako::persist::load_open_orders(&db, Mode::Paper, RunScope::All).unwrap();
    assert!(
        open.is_empty(),
        "shutdown cancelled every paper order: {open:?}"
    );
    let fills = load_fills(&db, Mode::Paper, RunScope::All).unwrap();
    assert!(
        fills.len() >= 2,
        "quotes were filled on paper: {}",
        fills.len()
    );

    // The strategy's inventory is its allocation moved by exactly the paper fills.
    let (mut base, mut quote) = (
        Qty::parse("0.5").unwrap().units(),
        Price::parse("30000").unwrap().units(),
    );
    for f in &fills {
        let (q, qq) = (
            f.fill.qty.units(),
            (f.fill.quote.0 / i128::from(mako::types::SCALE)) as i64,
        );
        match f.fill.side {
            Side::Buy => {
                base += q;
                quote -= qq;
            }
            Side::Sell => {
                base -= q;
                quote += qq;
            }
        }
        match f.fill.fee_asset.as_str() {
            "BTC" => base -= f.fill.fee.units(),
            "USDT" => quote -= f.fill.fee.units(),
            other => panic!("unexpected fee asset {other}"),
        }
    }
    let s = report
        .strategies
        .first()
        .expect("the strategy reported as it stopped");
    assert_eq!(
        s.report.fills as usize,
        fills.len(),
        "every fill reached the strategy"
    );
    assert_eq!(
        (s.report.base.units(), s.report.quote),
        (base, quote),
        "inventory agrees with the paper fills"
    );
    std::fs::remove_dir_all(&dir).ok();
}
