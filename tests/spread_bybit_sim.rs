//! Sim mode on Bybit spot end to end: `config/spread-bybit-demo.toml` as a user runs it (ports
//! from the OS, a scratch data directory). The spread maker quotes BTCUSDT from the
//! simulator's Bybit public feed and its orders go to the simulator's Bybit private front end
//! (signed REST orders and cancels, order and execution pushes on the private WebSocket).
//! Every fill the engine stored is one the simulator made, by quantity and quote amount, and
//! every stored order holds the venue's fees for it (Bybit tells them on its execution topic); every stored row is marked sim; nothing is left open on the venue after the
//! shutdown's cancels.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{RunScope, load_fills, load_orders, schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};

#[test]
fn the_spread_maker_trades_on_the_simulated_bybit_spot_venue() {
    let dir = std::env::temp_dir().join(format!("mako-sim-bybit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/spread-bybit-demo.toml"
    ))
    .unwrap()
    .replace("19423", "0")
    .replace("127.0.0.1:8794", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/spread-bybit-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("spread-bybit-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, Mode::Sim);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let report = common::run_until(
        engine,
        shutdown,
        "fills on the simulated Bybit venue",
        Duration::from_secs(240),
        |v| common::strategy_trades(v, "mm-btc-bybit") >= 2,
    );

    let state = report.sim_state.expect("simulator state");
    let sim_fills = state["fills"].as_array().expect("fills").clone();
    assert!(sim_fills.len() >= 2, "the venue filled quotes: {state}");
    let open: Vec<_> = state["accounts"][0]["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter(|o| matches!(o["status"].as_str(), Some("NEW" | "PARTIALLY_FILLED")))
        .collect();
    assert!(open.is_empty(), "shutdown cancelled every order: {open:?}");

    let db = schema::open(&dir.join("spread-bybit-demo.sqlite")).expect("database");
    for table in ["orders", "order_events", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        let sim = count_rows(&db, table, Some(Mode::Sim)).unwrap();
        assert_eq!(all, sim, "{table}: every row is marked sim");
        assert!(all > 0, "{table}: rows were stored");
    }
    // Every stored fill is one of the simulator's, by quantity and quote amount.
    use mako::types::{Price, Qty};
    let dec = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    let fills = load_fills(&db, Mode::Sim, RunScope::All).unwrap();
    let mut venue: Vec<_> = sim_fills
        .iter()
        .map(|f| {
            (
                Qty::parse(&dec(&f["qty"])).unwrap(),
                Price::parse(&dec(&f["quoteQty"])).unwrap(),
            )
        })
        .collect();
    let mut engine: Vec<_> = fills
        .iter()
        .map(|f| {
            (
                f.fill.qty,
                Price::from_units((f.fill.quote.0 / i128::from(mako::types::SCALE)) as i64),
            )
        })
        .collect();
    venue.sort();
    engine.sort();
    assert_eq!(engine, venue, "fills agree by quantity and quote amount");
    // Bybit tells fees on the execution topic, apart from the order's fill: each stored
    // order holds the venue's fees for it, per asset.
    let mut sim_fees: HashMap<(String, String), i64> = HashMap::new();
    let cid_of: HashMap<u64, String> = state["accounts"][0]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["orderId"].as_u64().unwrap(), dec(&o["clientOrderId"])))
        .collect();
    for f in &sim_fills {
        let cid = cid_of[&f["orderId"].as_u64().unwrap()].clone();
        *sim_fees
            .entry((cid, dec(&f["commissionAsset"])))
            .or_default() += Qty::parse(&dec(&f["commission"])).unwrap().units();
    }
    let mut engine_fees: HashMap<(String, String), i64> = HashMap::new();
    for o in load_orders(&db, Mode::Sim, RunScope::All).unwrap() {
        for (asset, fee) in o.fees {
            if !fee.is_zero() {
                *engine_fees
                    .entry((o.cid.as_str().to_owned(), asset.as_str().to_owned()))
                    .or_default() += fee.units();
            }
        }
    }
    sim_fees.retain(|_, v| *v != 0);
    assert_eq!(engine_fees, sim_fees, "fees per order and asset agree");
    std::fs::remove_dir_all(&dir).ok();
}
