//! `config/spread-bitmart-coinstore-demo.toml` as a user runs it (ports from the OS, a
//! scratch data directory): the spread maker on simulated BitMart and Coinstore in one engine,
//! in sim mode (both venues' order gateways against the simulator's front ends) and in paper
//! mode (`[paper]` fees added). In sim mode both makers are filled by the simulator, each on
//! its own account, and every stored row is sim; in paper mode nothing reaches the simulator's
//! order side and every stored order and fill is paper.

mod common;

use std::path::Path;
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};

#[test]
fn the_spread_maker_trades_on_simulated_bitmart_and_coinstore_in_sim_mode() {
    spread_makers(Mode::Sim);
}

#[test]
fn the_spread_maker_trades_on_paper_on_simulated_bitmart_and_coinstore() {
    spread_makers(Mode::Paper);
}

fn spread_makers(mode: Mode) {
    let dir = std::env::temp_dir().join(format!(
        "mako-spread-bm-cs-{}-{}",
        mode.as_str(),
        std::process::id()
    ));
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
    let text = match mode {
        Mode::Paper => text.replace("mode = \"sim\"", "mode = \"paper\"").replace(
            "[persistence]",
            "[paper]\nmaker_fee = \"0.001\"\ntaker_fee = \"0.001\"\n\n[persistence]",
        ),
        _ => text,
    };
    let config = mako::config::parse(&text, Path::new("spread-bitmart-coinstore-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, mode);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let report = common::run_until(
        engine,
        shutdown,
        "fills on both venues",
        Duration::from_secs(240),
        |v| {
            common::strategy_trades(v, "mm-btc-bitmart") >= 1
                && common::strategy_trades(v, "mm-btc-coinstore") >= 1
        },
    );
    let state = report.sim_state.expect("simulator state");
    let fills = state["fills"].as_array().expect("fills");
    if mode == Mode::Paper {
        assert!(fills.is_empty(), "paper: nothing reached the venue");
    } else {
        for account in [0, 1] {
            assert!(
                fills.iter().any(|f| f["account"] == account),
                "the simulator filled account {account}'s maker: {fills:?}"
            );
        }
    }
    let db = schema::open(&dir.join("spread-bitmart-coinstore-demo.sqlite")).expect("database");
    for table in ["orders", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        assert!(all >= 2, "{table} has rows of both makers");
        assert_eq!(all, count_rows(&db, table, Some(mode)).unwrap(), "{table}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
