//! `config/grid-coindcx-delta-demo.toml` as a user runs it (ports from the OS, a scratch data
//! directory): a grid on the simulated CoinDCX futures perpetual and one on the simulated
//! Delta India perpetual on one engine, in sim mode (orders on the simulator's perpetual
//! account through both venues' order gateways) and in paper mode (a paper deposit per grid
//! and paper fees added). Each grid opens a position that `/status` shows with the seed's
//! fields (state, PnL, trades, last fill time, position, leverage) and the perpetual's entry
//! and venue mark; Delta's position is in whole contracts. In sim mode the simulator filled
//! both perpetuals and every stored row is sim; in paper mode nothing reaches the simulator's
//! order side and every stored row is paper.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};
use mako::types::{Price, Qty};

#[test]
fn grids_trade_simulated_coindcx_and_delta_perpetuals_in_sim_mode() {
    grids_trade(Mode::Sim);
}

#[test]
fn grids_trade_simulated_coindcx_and_delta_perpetuals_on_paper_margin() {
    grids_trade(Mode::Paper);
}

fn grids_trade(mode: Mode) {
    let dir = std::env::temp_dir().join(format!(
        "mako-grid-dcx-delta-{}-{}",
        mode.as_str(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-coindcx-delta-demo.toml"
    ))
    .unwrap()
    .replace("19425", "0")
    .replace("127.0.0.1:8795", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/grid-coindcx-delta-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let text = match mode {
        Mode::Paper => text
            .replace("mode = \"sim\"", "mode = \"paper\"")
            .replace(
                "infinite_loop = true\n",
                "infinite_loop = true\n\n[strategies.paper]\nquote = \"10000\"\n",
            )
            .replace(
                "[persistence]",
                "[paper]\nmaker_fee = \"0.00025\"\ntaker_fee = \"0.00075\"\n\n[persistence]",
            ),
        _ => text,
    };
    let config = mako::config::parse(&text, Path::new("grid-coindcx-delta-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, mode);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let seen: Arc<Mutex<serde_json::Value>> = Arc::default();
    let keep = seen.clone();
    let opened = |s: &serde_json::Value| {
        s["position"].as_str().is_some_and(|p| p != "0")
            && s["perp"]["entry"].is_string()
            && s["perp"]["mark"].is_string()
            && s["trades"].as_u64().is_some_and(|t| t >= 1)
            // The strategy's own report (its last fill) reaches the status page on another
            // path than the gateway's books (position, trades): wait for both.
            && s["last_fill_ns"].as_u64().is_some_and(|t| t > 0)
    };
    let report = common::run_until(
        engine,
        shutdown,
        "positions on both perpetuals",
        Duration::from_secs(300),
        move |v| {
            let all = v["strategies"]
                .as_array()
                .is_some_and(|s| s.len() == 2 && s.iter().all(opened));
            if all {
                *keep.lock().unwrap() = v.clone();
            }
            all
        },
    );
    let status = seen.lock().unwrap().clone();
    // Delta's positions channel is compared with the engine's position after every fill:
    // no drift (CoinDCX's positions are not fed to the gateway yet).
    for v in status["venues"].as_array().unwrap() {
        assert_eq!(v["position_drifts"], 0, "{v}");
    }
    let strategies = status["strategies"].clone();
    for (s, venue) in strategies
        .as_array()
        .unwrap()
        .iter()
        .zip(["coindcx", "delta"])
    {
        assert_eq!(s["venue"], venue, "{s}");
        assert_eq!(s["kind"], "grid");
        assert_eq!(s["state"], "running");
        assert_eq!(s["perp"]["leverage"], "5", "{s}");
        assert_eq!(s["perp"]["kind"], "linear-perpetual");
        assert!(s["pnl"].is_number(), "{s}");
        assert!(
            Price::parse(s["perp"]["mark"].as_str().unwrap())
                .unwrap()
                .is_positive()
        );
    }
    // Delta counts whole contracts (10 per grid order).
    let delta = Qty::parse(
        strategies[1]["position"]
            .as_str()
            .unwrap()
            .trim_start_matches('-'),
    )
    .unwrap();
    assert!(delta.is_multiple_of(Qty::parse("1").unwrap()), "{delta}");

    let state = report.sim_state.expect("simulator state");
    let fills = state["fills"].as_array().expect("fills");
    if mode == Mode::Paper {
        assert!(fills.is_empty(), "paper: nothing reached the venue");
    } else {
        for symbol in ["BTCUSDT", "BTCUSD"] {
            assert!(
                fills.iter().any(|f| f["symbol"] == symbol),
                "the simulator filled the {symbol} grid: {fills:?}"
            );
        }
    }
    let db = schema::open(&dir.join("grid-coindcx-delta-demo.sqlite")).expect("database");
    for table in ["orders", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        assert!(all >= 2, "{table} has rows of both grids");
        assert_eq!(all, count_rows(&db, table, Some(mode)).unwrap(), "{table}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
