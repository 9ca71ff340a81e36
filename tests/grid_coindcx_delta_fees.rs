//! `config/grid-coindcx-delta-demo.toml` in sim mode with literal fee rates and fast funding
//! (ports from the OS, a scratch data directory).
//!
//! - **The fees pin:** with the simulator charging maker 0.02 % and taker 0.05 %, every fill
//!   of both grids costs exactly notional × rate (Delta's notional: contracts × 0.001 BTC ×
//!   price; CoinDCX's: BTC × price), and every order's fees in the database are the sum of
//!   its fills' fees (orders whose fees the engine had not learned when it stopped are
//!   counted, not compared).
//! - **Delta's funding rows:** funding every second at 0.1 % on the simulator's perpetual
//!   accounts; the Delta grid only buys (its sells sit at 90,000), so its realized PnL is
//!   exactly −fees − funding: `/status` shows it so (the day's PnL counts the funding), and
//!   every funding row stored is one of the simulator's payments on BTCUSD (time, position,
//!   amount, rate), none before the last stored one missing.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::schema;
use mako::runtime::{Clock, Shutdown};
use mako::types::Qty;
use serde_json::Value;

const E8: i128 = 100_000_000;

/// Units at 10^-8 of a signed decimal.
fn units(s: &str) -> i64 {
    match s.strip_prefix('-') {
        Some(a) => -Qty::parse(a).unwrap().units(),
        None => Qty::parse(s).unwrap().units(),
    }
}

/// The demo config with `sim_extra` lines in `[sim]` and `delta_extra` in the Delta grid's
/// parameters, its data in a scratch directory.
fn demo(
    tag: &str,
    sim_extra: &str,
    delta_extra: &str,
    more: &[(&str, &str)],
) -> (Engine, Shutdown, PathBuf) {
    let dir = std::env::temp_dir().join(format!("mako-dcx-delta-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-coindcx-delta-demo.toml"
    ))
    .unwrap()
    .replace("19425", "0")
    .replace("127.0.0.1:8795", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/grid-coindcx-delta-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    )
    .replace(
        "walk_interval_ms = 20\n",
        &format!("walk_interval_ms = 20\n{sim_extra}"),
    )
    .replace(
        "quantity = \"10\"                  # contracts: 0.01 BTC\n",
        &format!("quantity = \"10\"\n{delta_extra}"),
    );
    for (a, b) in more {
        assert!(text.contains(a), "the demo config has {a:?}");
        text = text.replace(a, b);
    }
    let config = mako::config::parse(&text, Path::new("grid-coindcx-delta-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, Mode::Sim);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    (engine, shutdown, dir)
}

fn strategy<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
    v["strategies"].as_array()?.iter().find(|s| s["id"] == id)
}

/// Base asset per unit of the simulator's quantity (Delta's BTCUSD counts contracts of
/// 0.001 BTC), at 10^-8.
fn contract_value(symbol: &str) -> i128 {
    if symbol == "BTCUSD" { 100_000 } else { E8 }
}

/// `a × b / 10^8`, asserting it is exact (the rates and prices here are literal decimals).
fn mul_exact(a: i128, b: i128, what: &str) -> i128 {
    assert_eq!(a * b % E8, 0, "{what}: {a} × {b} is not exact at 10^-8");
    a * b / E8
}

#[test]
fn every_fill_costs_notional_times_the_simulators_rate() {
    let (engine, shutdown, dir) = demo(
        "fees",
        "maker_fee = \"0.0002\"\ntaker_fee = \"0.0005\"\n",
        "",
        &[],
    );
    let report = common::run_until(
        engine,
        shutdown,
        "fills on both grids",
        Duration::from_secs(300),
        |v| {
            ["grid-btc-coindcx", "grid-btc-delta"]
                .iter()
                .all(|id| common::strategy_trades(v, id) >= 2)
        },
    );
    let state = report.sim_state.expect("simulator state");
    // The simulator's orders as the engine names them: by client id where the venue takes
    // one (Delta), else by the venue id the venue gave (CoinDCX: its UUID of the core's id).
    let mut sim_order: HashMap<String, u64> = HashMap::new();
    for o in state["accounts"][0]["orders"].as_array().unwrap() {
        let id = o["orderId"].as_u64().unwrap();
        if let Some(c) = o["clientOrderId"].as_str().filter(|c| !c.is_empty()) {
            sim_order.insert(format!("cid:{c}"), id);
        }
        sim_order.insert(
            format!("vid:{}", mako::sim::coindcx_private::order_uuid(id)),
            id,
        );
        sim_order.insert(format!("vid:{id}"), id);
    }
    // Every fill: notional × the configured rate, exactly.
    let mut by_order: HashMap<u64, (String, i128)> = HashMap::new();
    let mut fills = 0;
    for f in state["fills"].as_array().unwrap() {
        assert_eq!(f["account"], 0, "only the engine trades: {f}");
        let symbol = f["symbol"].as_str().unwrap();
        let price = i128::from(units(f["price"].as_str().unwrap()));
        let qty = i128::from(units(f["qty"].as_str().unwrap()));
        let notional = mul_exact(
            mul_exact(price, qty, "price × qty"),
            contract_value(symbol),
            "× contract value",
        );
        let rate: i128 = if f["isMaker"] == true { 20_000 } else { 50_000 };
        let fee = mul_exact(notional, rate, "notional × rate");
        assert_eq!(
            i128::from(units(f["commission"].as_str().unwrap())),
            fee,
            "the simulator charged notional × rate: {f}"
        );
        let settle = if symbol == "BTCUSD" { "USD" } else { "USDT" };
        assert_eq!(f["commissionAsset"], settle, "{f}");
        by_order
            .entry(f["orderId"].as_u64().unwrap())
            .or_insert((settle.to_owned(), 0))
            .1 += fee;
        fills += 1;
    }
    // Every order's fees in the database: the sum over its fills.
    let db = schema::open(&dir.join("grid-coindcx-delta-demo.sqlite")).expect("database");
    let rows: Vec<(String, Option<String>, String, i64, i64)> = db
        .prepare("SELECT cid, CAST(venue_order_id AS TEXT), fee1_asset, fee1_e8, fee2_e8 FROM orders WHERE mode = 'sim' AND filled_qty_e8 > 0")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut matched: HashMap<&str, usize> = HashMap::new();
    let mut pending = Vec::new();
    for (cid, vid, asset, fee1, fee2) in &rows {
        let order = sim_order
            .get(&format!("cid:{cid}"))
            .or_else(|| {
                vid.as_ref()
                    .and_then(|v| sim_order.get(&format!("vid:{v}")))
            })
            .unwrap_or_else(|| panic!("order {cid} ({vid:?}) is not the simulator's"));
        let (settle, expected) = by_order
            .get(order)
            .unwrap_or_else(|| panic!("a filled order {cid} the simulator did not fill"));
        assert_eq!(*fee2, 0, "{cid}: one fee asset");
        if *fee1 == 0 && *expected != 0 {
            pending.push(cid.clone());
            continue;
        }
        assert_eq!(asset, settle, "{cid}");
        assert_eq!(
            i128::from(*fee1),
            *expected,
            "{cid}: fees stored = Σ notional × rate"
        );
        *matched
            .entry(if settle == "USD" { "delta" } else { "coindcx" })
            .or_default() += 1;
    }
    assert!(
        matched.get("delta").copied().unwrap_or(0) >= 1
            && matched.get("coindcx").copied().unwrap_or(0) >= 1,
        "orders of both grids compared: {matched:?}, {} fills, not learned at stop: {pending:?}",
        fills
    );
    // At most the last order of each grid can have been filled as the engine stopped.
    assert!(pending.len() <= 2, "fees never learned: {pending:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn delta_funding_is_stored_as_rows_and_counted_in_the_pnl() {
    let (engine, shutdown, dir) = demo(
        "funding",
        "funding_interval_ms = 1000\nbybit_funding_rate = \"0.001\"\nmaker_fee = \"0.0005\"\ntaker_fee = \"0.0005\"\n",
        "sell_price = \"90000\"\n",
        &[
            (
                "delta_funding_rate = \"0.0001\"",
                "delta_funding_rate = \"0.001\"",
            ),
            // The grid's sells at 90,000 must pass the collar (they never fill).
            ("price_collar_bps = 200", "price_collar_bps = 6000"),
        ],
    );
    let seen: Arc<Mutex<Value>> = Arc::default();
    let keep = seen.clone();
    let report = common::run_until(
        engine,
        shutdown,
        "Delta funding booked and counted in the grid's PnL",
        Duration::from_secs(300),
        move |v| {
            let Some(s) = strategy(v, "grid-btc-delta") else {
                return false;
            };
            let num = |x: &Value| x.as_str().and_then(|t| t.parse::<f64>().ok());
            let (Some(p), Some(entry), Some(funding), Some(realized)) = (
                num(&s["position"]),
                num(&s["perp"]["entry"]),
                num(&s["perp"]["funding_paid"]),
                s["realized_pnl"].as_f64(),
            ) else {
                return false;
            };
            // Only buys: no trading PnL, so realized = −fees − funding (0.05 % of the
            // contracts' value at entry).
            let fees = 0.0005 * p * 0.001 * entry;
            let ok = p > 0.0 && funding > 1e-6 && (realized - (-fees - funding)).abs() < 1e-6;
            if ok {
                *keep.lock().unwrap() = s.clone();
            }
            ok
        },
    );
    let s = seen.lock().unwrap().clone();
    // The day's PnL is the realized (with the funding) plus the unrealized at the mark.
    let day = s["day_pnl"].as_f64().unwrap();
    let realized = s["realized_pnl"].as_f64().unwrap();
    let unrealized: f64 = s["perp"]["unrealized_pnl"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((day - (realized + unrealized)).abs() < 1e-6, "{s}");

    let db = schema::open(&dir.join("grid-coindcx-delta-demo.sqlite")).expect("database");
    let rows: Vec<(i64, i64, String, i64)> = db
        .prepare(
            "SELECT f.at, f.qty_e8, f.paid_e16, f.rate_e8 FROM funding f \
             JOIN run_venues v ON v.run_id = f.run_id AND v.venue = f.venue \
             WHERE f.mode = 'sim' AND v.name = 'delta' ORDER BY f.at",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty(), "funding rows were stored");
    // Every row is one of the simulator's payments on BTCUSD, and none before the last
    // stored one is missing (one charged as the engine stopped may not have been booked).
    let state = report.sim_state.expect("simulator state");
    let charged: Vec<(i64, i64, i128, i64)> = state["funding"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == 0 && f["symbol"] == "BTCUSD")
        .map(|f| {
            (
                f["time"].as_i64().unwrap() * 1_000_000,
                units(f["size"].as_str().unwrap()),
                i128::from(units(f["amount"].as_str().unwrap())) * E8,
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
    assert!(
        rows.iter().all(|r| r.2.parse::<i128>().unwrap() > 0),
        "a long pays a positive rate: {rows:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
