//! The grid bot on a simulated Bybit linear perpetual in sim mode, as
//! `config/grid-bybit-demo.toml` runs it (ports from the OS, a scratch data directory): orders
//! go to the simulator's Bybit private front end, which trades them on its perpetual account
//! at the leverage the engine set at start. `/status` shows the position with its entry, mark,
//! leverage and liquidation price and the funding the venue charged; every funding row stored
//! is one of the simulator's payments (time, position and amount), none of them missed; no
//! position drift was seen; every stored row is sim.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};
use mako::types::Qty;

/// Units at 10^-8 of a signed decimal.
fn units(s: &str) -> i64 {
    match s.strip_prefix('-') {
        Some(a) => -Qty::parse(a).unwrap().units(),
        None => Qty::parse(s).unwrap().units(),
    }
}

#[test]
fn the_grid_trades_a_simulated_bybit_perpetual_and_books_the_venues_funding() {
    let dir = std::env::temp_dir().join(format!("mako-grid-bybit-sim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-bybit-demo.toml"
    ))
    .unwrap()
    .replace("19424", "0")
    .replace("127.0.0.1:8794", "127.0.0.1:0")
    // Funding every 2 s, so the run sees several payments.
    .replace("funding_interval_ms = 30000", "funding_interval_ms = 2000")
    .replace(
        "data_dir = \"data/grid-bybit-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("grid-bybit-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, Mode::Sim);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let seen: Arc<Mutex<serde_json::Value>> = Arc::default();
    let keep = seen.clone();
    let report = common::run_until(
        engine,
        shutdown,
        "a perpetual position that paid funding to the venue",
        Duration::from_secs(240),
        move |v| {
            let s = &v["strategies"][0];
            let open = s["position"].as_str().is_some_and(|p| p != "0");
            let funded = s["perp"]["funding_paid"].as_str().is_some_and(|f| f != "0");
            if open && funded && s["perp"]["entry"].is_string() {
                *keep.lock().unwrap() = v.clone();
                return true;
            }
            false
        },
    );
    let v = seen.lock().unwrap().clone();
    let s = &v["strategies"][0];
    assert_eq!(s["perp"]["leverage"], "5", "{s}");
    assert!(s["perp"]["liquidation"].is_string(), "{s}");
    assert_eq!(v["venues"][0]["position_drifts"], 0, "{v}");
    assert_eq!(v["venues"][0]["leverage_mismatches"], 0, "{v}");

    let state = report.sim_state.expect("simulator state");
    // The engine set its 5× on the account (configured 10× in the simulator).
    let pos = &state["accounts"][0]["positions"][0];
    assert_eq!(pos["leverage"], "5.00000000", "{pos}");
    assert!(
        !state["fills"].as_array().unwrap().is_empty(),
        "the venue filled the grid"
    );

    // Every stored funding row is a payment the simulator charged, and none before the last
    // stored one is missing (one charged as the engine stopped may not have been booked).
    let db = schema::open(&dir.join("grid-bybit-demo.sqlite")).expect("database");
    let rows: Vec<(i64, i64, String, i64)> = db
        .prepare("SELECT at, qty_e8, paid_e16, rate_e8 FROM funding WHERE mode = 'sim' ORDER BY at")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty(), "funding rows were stored");
    let charged: Vec<(i64, i64, i128, i64)> = state["funding"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == 0)
        .map(|f| {
            (
                f["time"].as_i64().unwrap() * 1_000_000,
                units(f["size"].as_str().unwrap()),
                i128::from(units(f["amount"].as_str().unwrap())) * 100_000_000,
                units(f["rate"].as_str().unwrap()),
            )
        })
        .collect();
    let last = rows.last().unwrap().0;
    let expected: Vec<_> = charged.iter().filter(|c| c.0 <= last).collect();
    assert_eq!(
        rows.len(),
        expected.len(),
        "rows {rows:?}, charged {charged:?}"
    );
    for (row, c) in rows.iter().zip(expected) {
        assert_eq!(
            (row.0, row.1, row.2.parse::<i128>().unwrap(), row.3),
            *c,
            "a funding row is the simulator's payment"
        );
    }
    for table in ["orders", "fills", "funding"] {
        let all = count_rows(&db, table, None).unwrap();
        assert!(all > 0, "{table} has rows");
        assert_eq!(
            all,
            count_rows(&db, table, Some(Mode::Sim)).unwrap(),
            "{table}: every row is sim"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
