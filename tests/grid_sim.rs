//! The grid bot end to end, beside the spread maker on the same venue and account of the
//! in-process simulator: three levels, one round trip each. The run waits (on the status
//! endpoint) until all three trips are done, then checks the grid's PnL against the PnL
//! computed here from the simulator's own fills and fees, the engine's positions and balances
//! against the simulator's, and that neither strategy touched the other's orders.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use mako::engine::{Engine, RunOptions};
use mako::runtime::{Clock, Shutdown};
use mako::types::{ClientOrderId, InstrumentId, Price, Qty, StrategyId, VenueId};
use serde_json::Value;

const CONFIG: &str = r#"
[engine]
name = "grid-e2e"
mode = "sim"
data_dir = "DATA_DIR"
log_format = "human"
log_filter = "warn"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:SIM_PORT"
rest_url = "http://127.0.0.1:SIM_PORT"
ws_api_url = "ws://127.0.0.1:SIM_PORT/ws-api/v3"
order_transport = "ws-api"
streams = ["bookTicker", "depth", "trade"]

[[instruments]]
venue = "binance"
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
min_qty = "0.001"
max_qty = "9000"
min_notional = "5"

[risk]
max_order_qty = "2"
max_order_notional = "500"
max_position = "20"
max_open_orders = 10
max_orders_per_sec = 20

[[strategies]]
id = "mm"
kind = "spread"
venue = "binance"
instrument = "SOLUSDT"

[strategies.params]
spread_bps = 4
order_size = "0.3"
stale_tolerance_bps = 3
base_allocation = "20"
quote_allocation = "3000"

[[strategies]]
id = "grid"
kind = "grid"
venue = "binance"
instrument = "SOLUSDT"

[strategies.params]
first_side = "buy"
quantity = "0.2"
default_offset_percent = 0.01
levels = 3
level_spacing = "0.01"
infinite_loop = false

[status]
bind = "127.0.0.1:0"
publish_interval = "100ms"

[persistence]
enabled = false

[sim]
host = "127.0.0.1"
port = SIM_PORT
source = "walk"
seed = 7
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
balances = { SOL = "100", USDT = "20000" }
"#;

fn units(v: &Value) -> i64 {
    Price::parse(v.as_str().expect("decimal string"))
        .expect("decimal")
        .units()
}

/// One simulator fill with the strategy whose order it filled.
struct Fill {
    strategy: StrategyId,
    buy: bool,
    price: i64,
    qty: i64,
    quote: i64,
    fee: i64,
    fee_in_base: bool,
}

#[test]
fn the_grid_trades_beside_the_maker_and_agrees_with_the_simulator() {
    let dir = std::env::temp_dir().join(format!("mako-grid-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = CONFIG
        // The simulator on a port the OS picks (the engine points the venues at it).
        .replace("SIM_PORT", "0")
        .replace("DATA_DIR", &dir.display().to_string());
    let config = mako::config::parse(&text, Path::new("grid.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let addr = engine.status_addr().expect("status endpoint");
    let board = engine.positions();
    let run = std::thread::spawn(move || {
        engine
            .run(RunOptions {
                duration: Some(Duration::from_secs(600)),
                handle_signals: false,
            })
            .expect("stops cleanly")
    });

    // Wait for the grid's three round trips and a fill of the maker's (the deadline only
    // bounds a hang).
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut last = Value::Null;
    loop {
        if let Some(s) = common::status(addr) {
            let grid = s["strategies"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["id"] == "grid").cloned())
                .unwrap_or(Value::Null);
            if grid["round_trips"].as_u64() == Some(3) && common::strategy_trades(&s, "mm") >= 1 {
                break;
            }
            last = grid;
        }
        assert!(Instant::now() < deadline, "the grid did not finish: {last}");
        std::thread::sleep(Duration::from_millis(50));
    }
    shutdown.request();
    let report = run.join().expect("engine thread");
    let state = report.sim_state.expect("simulator state");

    // Every simulator order and fill belongs to the strategy its client id names.
    let account = &state["accounts"][0];
    let orders: HashMap<u64, StrategyId> = account["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let cid = ClientOrderId::parse(o["clientOrderId"].as_str().unwrap()).unwrap();
            let (_, s, _) = cid.decode().expect("an engine-minted id");
            (o["orderId"].as_u64().unwrap(), s)
        })
        .collect();
    let fills: Vec<Fill> = state["fills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Fill {
            strategy: orders[&f["orderId"].as_u64().unwrap()],
            buy: f["side"] == "BUY",
            price: units(&f["price"]),
            qty: units(&f["qty"]),
            quote: units(&f["quoteQty"]),
            fee: units(&f["commission"]),
            fee_in_base: f["commissionAsset"] == "SOL",
        })
        .collect();
    let (mm, grid) = (StrategyId(0), StrategyId(1));
    let of = |s: StrategyId| fills.iter().filter(move |f| f.strategy == s);
    assert!(of(mm).count() > 0, "the maker traded too");

    // The grid's PnL from the simulator's fills: per level (buy prices from the highest,
    // sell prices from the lowest), sells − buys − quote fees − base fees at the level's
    // sell price, exact at 10^-16.
    let mut buys: Vec<i64> = of(grid).filter(|f| f.buy).map(|f| f.price).collect();
    let mut sells: Vec<i64> = of(grid).filter(|f| !f.buy).map(|f| f.price).collect();
    buys.sort_unstable_by(|a, b| b.cmp(a));
    buys.dedup();
    sells.sort_unstable();
    sells.dedup();
    assert_eq!(
        (buys.len(), sells.len()),
        (3, 3),
        "three levels traded: {buys:?} {sells:?}"
    );
    let mut pnl: i128 = 0;
    for f in of(grid) {
        let q = i128::from(f.quote) * 100_000_000;
        pnl += if f.buy { -q } else { q };
        if f.fee_in_base {
            let level = buys
                .iter()
                .position(|p| *p == f.price)
                .expect("a buy level");
            pnl -= i128::from(f.fee) * i128::from(sells[level]);
        } else {
            pnl -= i128::from(f.fee) * 100_000_000;
        }
    }
    let bought: i64 = of(grid).filter(|f| f.buy).map(|f| f.qty).sum();
    let sold: i64 = of(grid).filter(|f| !f.buy).map(|f| f.qty).sum();
    assert_eq!(bought, sold, "every round trip closed");
    assert_eq!(bought, 3 * Qty::parse("0.2").unwrap().units());
    let g = report
        .strategies
        .iter()
        .find(|r| r.strategy == grid)
        .expect("the grid's final report");
    assert_eq!(g.report.round_trips, 3);
    assert!(g.prints > 0, "the grid received trade prints");
    assert_eq!(g.prints_lost, 0);
    assert_eq!(g.report.fills as usize, of(grid).count());
    let expected = pnl as f64 / 1e16;
    assert!(
        (g.report.realized_pnl - expected).abs() < 1e-9,
        "grid PnL {} vs the simulator's fills {expected}",
        g.report.realized_pnl
    );

    // The engine's positions: each strategy's from its own fills only.
    for s in [mm, grid] {
        let net: i64 = of(s).map(|f| if f.buy { f.qty } else { -f.qty }).sum();
        assert_eq!(
            board.position(s, InstrumentId(0)).qty,
            net,
            "position of strategy {}",
            s.0
        );
    }
    // The maker's inventory moved by its own fills only (the grid shares its account).
    let m = report.strategies.iter().find(|r| r.strategy == mm).unwrap();
    let mut base = Qty::parse("20").unwrap().units();
    for f in of(mm) {
        base += if f.buy { f.qty } else { -f.qty };
        if f.fee_in_base {
            base -= f.fee;
        }
    }
    assert_eq!(m.report.base.units(), base, "the maker's inventory");

    // The engine's balances are the simulator's (free + locked: shutdown cancels move
    // quantities from locked to free, fills move totals).
    for asset in ["SOL", "USDT"] {
        let b = board
            .balance(VenueId(0), asset)
            .expect("the venue reported the balance");
        let sim = units(&account["balances"][asset]["free"])
            + units(&account["balances"][asset]["locked"]);
        assert_eq!(b.free.units() + b.locked.units(), sim, "{asset} balance");
    }

    // Neither strategy's orders were cancelled by the other: the grid (no trailing, one trip
    // per level) never cancelled an order, and shutdown leaves nothing open.
    let statuses: Vec<(StrategyId, &str)> = account["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                orders[&o["orderId"].as_u64().unwrap()],
                o["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.iter().all(|(s, st)| *s != grid || *st == "FILLED"),
        "every grid order filled and none was cancelled: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|(_, st)| *st != "NEW" && *st != "PARTIALLY_FILLED"),
        "shutdown left orders open"
    );
    std::fs::remove_dir_all(&dir).ok();
}
