//! Paper mode end to end: the engine's feed reads the in-process simulator's market data
//! (random walk with trades), the spread strategy quotes, and the paper gateway fills its
//! orders inside the engine. Nothing reaches the simulator's order endpoints (its state shows
//! no orders and no fills), the strategy's inventory is its allocation moved by exactly the
//! paper fills, every stored order and fill row is marked paper, and shutdown leaves no paper
//! order open.

mod common;

use std::path::Path;
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{RunScope, load_fills, schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};
use mako::types::{Price, Qty, Side};

fn config(dir: &Path, port: u16) -> String {
    format!(
        r#"
[engine]
name = "paper-e2e"
mode = "paper"
data_dir = {dir:?}

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:{port}"
rest_url = "http://127.0.0.1:{port}"
streams = ["bookTicker", "depth", "trade"]

[[instruments]]
venue = "binance"
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
min_notional = "5"

[risk]
max_order_qty = "2"
max_position = "20"
max_open_orders = 10
price_collar_bps = 100
max_orders_per_sec = 20

[[strategies]]
id = "mm-sol"
kind = "spread"
venue = "binance"
instrument = "SOLUSDT"

[strategies.params]
spread_bps = 2
order_size = "0.5"
stale_tolerance_bps = 3
refresh_interval = "30s"
base_allocation = "20"
quote_allocation = "3000"

[paper]
maker_fee = "0.001"
taker_fee = "0.001"

[persistence]
path = "paper.sqlite"

[status]
bind = "127.0.0.1:0"
publish_interval = "100ms"

[sim]
host = "127.0.0.1"
port = {port}
source = "walk"
seed = 42
walk_interval_ms = 20

[[sim.symbols]]
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
step_size = "0.001"
min_qty = "0.001"
min_notional = "5"
start_price = "150.00"
levels = 200

[[sim.accounts]]
balances = {{ SOL = "100", USDT = "20000" }}
"#,
        dir = dir.display().to_string()
    )
}

#[test]
fn paper_mode_trades_inside_the_engine_against_simulated_market_data() {
    let dir = std::env::temp_dir().join(format!("mako-paper-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The simulator on a port the OS picks (the engine points the venues at it).
    let text = config(&dir, 0);
    let config = mako::config::parse(&text, Path::new("paper.toml")).expect("config is valid");
    assert_eq!(config.engine.mode, Mode::Paper);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(
        engine
            .skipped
            .iter()
            .all(|(a, _)| a != "feed:binance" && a != "gateway:binance" && a != "strategy:mm-sol"),
        "{:?}",
        engine.skipped
    );
    // Until the strategy has paper fills (the deadline only bounds a hang).
    let report = common::run_until(
        engine,
        shutdown,
        "paper fills",
        Duration::from_secs(240),
        |v| common::strategy_trades(v, "mm-sol") >= 2,
    );

    // Nothing went to the simulator's order endpoints.
    let state = report.sim_state.expect("simulator state");
    let account = &state["accounts"][0];
    assert_eq!(account["orders"].as_array().map(Vec::len), Some(0));
    assert_eq!(state["fills"].as_array().map(Vec::len), Some(0));

    // Every row the run stored is a paper row.
    let db = schema::open(&dir.join("paper.sqlite")).expect("database");
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
    let orders = count_rows(&db, "orders", Some(Mode::Paper)).unwrap();
    assert!(orders >= 2, "quotes were placed: {orders}");
    let fills = load_fills(&db, Mode::Paper, RunScope::All).unwrap();
    assert!(!fills.is_empty(), "some quotes were filled on paper");
    let mut ids: Vec<(String, mako::types::TradeId)> = fills
        .iter()
        .map(|f| {
            (
                f.cid.as_str().to_owned(),
                f.fill.trade_id.expect("paper trade id"),
            )
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), fills.len(), "no fill stored twice");

    // The strategy's inventory is its allocation moved by exactly the paper fills.
    let (mut base, mut quote) = (
        Qty::parse("20").unwrap().units(),
        Price::parse("3000").unwrap().units(),
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
            "SOL" => base -= f.fill.fee.units(),
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
