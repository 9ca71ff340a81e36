//! `config/grid-coindcx-inr-demo.toml` as a user runs it (ports from the OS, a scratch data
//! directory): a grid on CoinDCX futures' INR wallet in sim mode. The grid opens a position
//! that `/status` shows with the seed's fields, with no position drift or leverage mismatch
//! against the venue's INR wallet; the venue block's balances on `/status` are
//! the simulator's INR wallet (the margin held there, none of the USDT wallet used); every
//! fill the simulator made charged its fee in INR at 89 INR per USDT, and every filled
//! order's stored fees are in INR; every stored row is sim.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mako::engine::Engine;
use mako::persist::{schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};
use mako::types::Qty;

fn units(v: &serde_json::Value) -> i64 {
    Qty::parse(v.as_str().expect("a decimal string"))
        .unwrap()
        .units()
}

#[test]
fn a_grid_trades_the_inr_wallet_of_a_simulated_coindcx_perpetual() {
    let dir = std::env::temp_dir().join(format!("mako-grid-dcx-inr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-coindcx-inr-demo.toml"
    ))
    .unwrap()
    .replace("19427", "0")
    .replace("127.0.0.1:8797", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/grid-coindcx-inr-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("grid-coindcx-inr-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(
        config.venues[0].margin_currency.as_deref(),
        Some("INR"),
        "the INR wallet"
    );
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let seen: Arc<Mutex<serde_json::Value>> = Arc::default();
    let keep = seen.clone();
    let report = common::run_until(
        engine,
        shutdown,
        "a position on the INR-margined perpetual and the INR wallet on /status",
        Duration::from_secs(300),
        move |v| {
            let opened = v["strategies"].as_array().is_some_and(|s| {
                s.len() == 1
                    && s[0]["position"].as_str().is_some_and(|p| p != "0")
                    && s[0]["trades"].as_u64().is_some_and(|t| t >= 1)
                    // The strategy's own report of its last fill reaches /status on another
                    // path than the gateway's books: wait for both.
                    && s[0]["last_fill_ns"].as_u64().is_some_and(|t| t > 0)
            });
            let inr_locked = v["venues"][0]["balances"].as_array().is_some_and(|b| {
                b.iter()
                    .any(|b| b["asset"] == "INR" && b["locked"].as_str().is_some_and(|l| l != "0"))
            });
            if opened && inr_locked {
                *keep.lock().unwrap() = v.clone();
            }
            opened && inr_locked
        },
    );
    let status = seen.lock().unwrap().clone();
    let s = &status["strategies"][0];
    assert_eq!(
        (s["venue"].as_str(), s["kind"].as_str(), s["state"].as_str()),
        (Some("coindcx-inr"), Some("grid"), Some("running")),
        "{s}"
    );
    assert_eq!(s["perp"]["leverage"], "5", "{s}");
    assert!(s["pnl"].is_number(), "{s}");
    // The venue's INR-wallet position and leverage, compared with the engine's: no drift.
    let venue = &status["venues"][0];
    assert_eq!(
        (&venue["position_drifts"], &venue["leverage_mismatches"]),
        (&serde_json::json!(0), &serde_json::json!(0)),
        "{venue}"
    );
    let balances = status["venues"][0]["balances"].as_array().unwrap();
    let usdt = balances
        .iter()
        .find(|b| b["asset"] == "USDT")
        .expect("USDT");
    assert_eq!(
        (usdt["free"].as_str(), usdt["locked"].as_str()),
        (Some("1000000"), Some("0")),
        "the USDT wallet is not used: {balances:?}"
    );

    let state = report.sim_state.expect("simulator state");
    let fills = state["fills"].as_array().expect("fills");
    assert!(!fills.is_empty());
    for f in fills {
        assert_eq!(f["commissionAsset"], "INR", "{f}");
        // value × 89 INR per USDT × the simulator's 0.1 %, truncated.
        assert_eq!(
            units(&f["commission"]),
            units(&f["quoteQty"]) * 89 / 1000,
            "{f}"
        );
    }
    assert_eq!(
        units(&state["accounts"][0]["balances"]["USDT"]["locked"]),
        0
    );

    let db = schema::open(&dir.join("grid-coindcx-inr-demo.sqlite")).expect("database");
    // Every filled order's fees stored in INR, in one asset.
    let rows: Vec<(String, i64, i64)> = db
        .prepare("SELECT fee1_asset, fee1_e8, fee2_e8 FROM orders WHERE mode = 'sim' AND filled_qty_e8 > 0")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.iter().any(|r| r.1 > 0), "fees stored: {rows:?}");
    for (asset, fee1, fee2) in &rows {
        assert_eq!(*fee2, 0, "one fee asset: {rows:?}");
        if *fee1 > 0 {
            assert_eq!(asset, "INR", "{rows:?}");
        }
    }
    for table in ["orders", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        assert!(all >= 1, "{table} has rows");
        assert_eq!(
            all,
            count_rows(&db, table, Some(mako::config::Mode::Sim)).unwrap(),
            "{table}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
