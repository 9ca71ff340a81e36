//! `config/spread-bitmart-coinstore-demo.toml` as a user runs it (ports from the OS, a
//! scratch data directory): the spread maker on simulated BitMart and Coinstore in one engine,
//! in paper mode. Both makers quote and are filled on paper; nothing reaches the simulator's
//! order side and every stored order and fill is paper.

mod common;

use std::path::Path;
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};

#[test]
fn the_spread_maker_trades_on_paper_on_simulated_bitmart_and_coinstore() {
    let dir = std::env::temp_dir().join(format!("mako-spread-bm-cs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/spread-bitmart-coinstore-demo.toml"
    ))
    .unwrap()
    .replace("19426", "0")
    .replace("127.0.0.1:8796", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/spread-bitmart-coinstore-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("spread-bitmart-coinstore-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, Mode::Paper);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let report = common::run_until(
        engine,
        shutdown,
        "paper fills on both venues",
        Duration::from_secs(240),
        |v| {
            common::strategy_trades(v, "mm-btc-bitmart") >= 1
                && common::strategy_trades(v, "mm-btc-coinstore") >= 1
        },
    );
    let state = report.sim_state.expect("simulator state");
    assert_eq!(state["fills"].as_array().map(Vec::len), Some(0));
    let db = schema::open(&dir.join("spread-bitmart-coinstore-demo.sqlite")).expect("database");
    for table in ["orders", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        assert!(all >= 2, "{table} has rows of both makers");
        assert_eq!(
            all,
            count_rows(&db, table, Some(Mode::Paper)).unwrap(),
            "{table}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
