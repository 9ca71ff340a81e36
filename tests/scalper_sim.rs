//! The scalper end to end against the in-process simulator on both venues at once (Binance's
//! and OKX's protocols, one account each): BTC and ETH against USDT on both. It trades until
//! its day's round trips are used up (8 here), which also stops it cleanly; then every order
//! and fill the engine recorded (its database) is checked against each venue's `/sim/state`,
//! the trades are rebuilt from the simulator's fills alone, and their PnL (quote amounts,
//! fees, base dust valued at the exit) must equal what the scalper reported.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use mako::engine::Engine;
use mako::runtime::{Clock, Shutdown};
use mako::types::{ClientOrderId, Price, StrategyId};
use rusqlite::Connection;
use serde_json::Value;

const CONFIG: &str = r#"
[engine]
name = "scalper-e2e"
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
streams = ["bookTicker", "depth"]

[[venues]]
name = "okx"
kind = "okx-spot"
ws_url = "ws://127.0.0.1:SIM_PORT/ws/v5/public"
rest_url = "http://127.0.0.1:SIM_PORT"
private_ws_url = "ws://127.0.0.1:SIM_PORT/ws/v5/private"
order_transport = "ws-api"
streams = ["bookTicker", "depth"]

[[instruments]]
venue = "binance"
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "100"
lot_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"

[[instruments]]
venue = "binance"
symbol = "ETHUSDT"
base = "ETH"
quote = "USDT"
tick_size = "5"
lot_size = "0.0001"
min_qty = "0.0001"
min_notional = "5"

[[instruments]]
venue = "okx"
symbol = "BTC-USDT"
base = "BTC"
quote = "USDT"
tick_size = "100"
lot_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"

[[instruments]]
venue = "okx"
symbol = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "5"
lot_size = "0.0001"
min_qty = "0.0001"
min_notional = "5"

# One band: both venues always rank alike, so a symbol's tie goes to the market declared
# first (BTC: Binance, ETH: OKX) and both venues trade.
[[latency.bands]]
name = "defensive"
min_spread_bps = 10
size_multiplier = 1.0
throttle = "0ms"

[risk]
max_order_notional = "1000"
price_collar_bps = 100
max_open_orders = 20
max_orders_per_sec = 50

[[strategies]]
id = "scalper"
kind = "scalper"
venue = "binance"
instrument = "BTCUSDT"
markets = [
    { venue = "okx", instrument = "BTC-USDT" },
    { venue = "okx", instrument = "ETH-USDT" },
    { venue = "binance", instrument = "ETHUSDT" },
]

[strategies.params]
take_profit_percent = 0.35
stop_loss_percent = 0.35
time_stop = "3s"
cooldown = "200ms"
max_trades_per_day = 8
fees = { binance = { maker_percent = 0.0, taker_percent = 0.04 }, okx = { maker_percent = 0.0, taker_percent = 0.04 } }

[status]
bind = "127.0.0.1:0"
publish_interval = "100ms"

[persistence]
path = "scalper.sqlite"

[sim]
host = "127.0.0.1"
port = SIM_PORT
source = "walk"
seed = 11
walk_interval_ms = 20
maker_fee = "0"
taker_fee = "0.0004"

[[sim.symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "100"
step_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"
start_price = "60000"
levels = 100

[[sim.symbols]]
symbol = "ETHUSDT"
base = "ETH"
quote = "USDT"
tick_size = "5"
step_size = "0.0001"
min_qty = "0.0001"
min_notional = "5"
start_price = "3000"
levels = 100

[[sim.accounts]]
balances = { BTC = "1", ETH = "10", USDT = "20000" }

[[sim.accounts]]
api_key = "mako-sim-okx-key"
secret = "22582BD0CFF14C41EDBF1AB98506286D"
balances = { BTC = "1", ETH = "10", USDT = "20000" }
"#;

const TRIPS: u64 = 8;

fn units(v: &Value) -> i64 {
    Price::parse(v.as_str().expect("decimal string"))
        .expect("decimal")
        .units()
}

/// One simulator fill.
#[derive(Debug, Clone)]
struct Fill {
    buy: bool,
    price: i64,
    qty: i64,
    fee: i64,
    fee_in_base: bool,
}

/// A trade rebuilt from the simulator's fills, the way the scalper books one: the entry's
/// side, then exits until what is left is under the instrument's minimums.
#[derive(Debug, Default)]
struct Trade {
    buy: bool,
    bought_qty: i64,
    sold_qty: i64,
    bought: i128,
    sold: i128,
    quote_fees: i64,
    base_fees: i64,
}

impl Trade {
    fn add(&mut self, f: &Fill) {
        let quote = i128::from(f.price) * i128::from(f.qty);
        if f.buy {
            self.bought_qty += f.qty;
            self.bought += quote;
        } else {
            self.sold_qty += f.qty;
            self.sold += quote;
        }
        if f.fee_in_base {
            self.base_fees += f.fee;
        } else {
            self.quote_fees += f.fee;
        }
    }

    /// Base still to close: a long sells what it holds, a short buys back what it sold.
    fn left(&self) -> i64 {
        if self.buy {
            self.bought_qty - self.base_fees - self.sold_qty
        } else {
            self.sold_qty - self.bought_qty
        }
    }

    fn pnl(&self) -> i128 {
        let (exit_quote, exit_qty) = if self.buy {
            (self.sold, self.sold_qty)
        } else {
            (self.bought, self.bought_qty)
        };
        // A trade closed without an exit (its entry filled only dust) values what is left at
        // the entry's average, as the scalper does.
        let (entry_quote, entry_qty) = if self.buy {
            (self.bought, self.bought_qty)
        } else {
            (self.sold, self.sold_qty)
        };
        let exit_avg = if exit_qty == 0 {
            entry_quote / i128::from(entry_qty.max(1))
        } else {
            exit_quote / i128::from(exit_qty)
        };
        let base_left = self.bought_qty - self.sold_qty - self.base_fees;
        self.sold - self.bought - i128::from(self.quote_fees) * 100_000_000
            + i128::from(base_left) * exit_avg
    }
}

#[test]
fn the_scalper_trades_both_venues_and_its_pnl_is_the_simulators_fills() {
    let dir = std::env::temp_dir().join(format!("mako-scalper-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = CONFIG
        .replace("SIM_PORT", "0")
        .replace("DATA_DIR", &dir.display().to_string());
    let config = mako::config::parse(&text, Path::new("scalper.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    // Until the day's round trips are all closed and the scalper says it stops entering (the
    // limit only bounds a hang).
    let report = common::run_until(
        engine,
        shutdown,
        "the scalper's round trips used up",
        Duration::from_secs(240),
        |s| {
            let st = &s["strategies"][0];
            st["round_trips"].as_u64() == Some(TRIPS)
                && st["entries_stopped"] == "max_trades_per_day reached"
                && st["open_orders"].as_u64() == Some(0)
        },
    );
    let state = report.sim_state.expect("simulator state");
    let r = report
        .strategies
        .iter()
        .find(|r| r.strategy == StrategyId(0))
        .expect("the scalper's final report");
    assert_eq!(r.report.round_trips, TRIPS);
    assert_eq!(r.report.entries_stopped, Some("max_trades_per_day reached"));

    // Every simulator order is the scalper's (by the id the engine minted); its fills by order.
    let mut fills_of: HashMap<(usize, u64), Vec<Fill>> = HashMap::new();
    for f in state["fills"].as_array().unwrap() {
        let account = f["account"].as_u64().unwrap() as usize;
        let base = f["symbol"].as_str().unwrap().trim_end_matches("USDT");
        fills_of
            .entry((account, f["orderId"].as_u64().unwrap()))
            .or_default()
            .push(Fill {
                buy: f["side"] == "BUY",
                price: units(&f["price"]),
                qty: units(&f["qty"]),
                fee: units(&f["commission"]),
                fee_in_base: f["commissionAsset"] == base,
            });
    }
    let n_fills: usize = fills_of.values().map(Vec::len).sum();
    assert_eq!(
        r.report.fills as usize, n_fills,
        "the scalper saw every fill"
    );

    // The engine's records (its database) agree with each venue's order by order.
    let db = Connection::open(dir.join("scalper.sqlite")).unwrap();
    let mut engine_orders: HashMap<String, (i64, i64)> = HashMap::new();
    let mut stmt = db
        .prepare("SELECT cid, filled_qty_e8, final FROM orders WHERE strategy = 0")
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
    {
        let (cid, filled, fin) = row.unwrap();
        engine_orders.insert(cid, (filled, fin));
    }
    let fills_recorded: i64 = db
        .query_row("SELECT count(*) FROM fills WHERE strategy = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fills_recorded as usize, n_fills, "every fill recorded");

    let mut trades: Vec<(usize, i128)> = Vec::new();
    let mut orders_seen = 0;
    for (account, acct) in state["accounts"].as_array().unwrap().iter().enumerate() {
        // The orders in the order they were placed, per symbol.
        let mut open: HashMap<String, Trade> = HashMap::new();
        for o in acct["orders"].as_array().unwrap() {
            orders_seen += 1;
            let cid_text = o["clientOrderId"].as_str().unwrap();
            let cid = ClientOrderId::parse(cid_text).unwrap();
            let (_, s, _) = cid.decode().expect("an engine-minted id");
            assert_eq!(s, StrategyId(0));
            let executed = units(&o["executedQty"]);
            let (filled, fin) = engine_orders
                .get(cid_text)
                .copied()
                .unwrap_or_else(|| panic!("order {cid_text} is in the engine's records"));
            assert_eq!(filled, executed, "filled quantity of {cid_text}");
            assert_eq!(fin, 1, "{cid_text} is final in the engine's records");
            let fills = fills_of
                .get(&(account, o["orderId"].as_u64().unwrap()))
                .cloned()
                .unwrap_or_default();
            assert_eq!(fills.iter().map(|f| f.qty).sum::<i64>(), executed);
            if fills.is_empty() {
                continue;
            }
            let symbol = o["symbol"].as_str().unwrap().to_owned();
            let (lot, min_notional) = if symbol == "BTCUSDT" {
                (1_000, 500_000_000i128)
            } else {
                (10_000, 500_000_000)
            };
            let t = open.entry(symbol.clone()).or_insert_with(|| Trade {
                buy: fills[0].buy,
                ..Trade::default()
            });
            let entry = fills[0].buy == t.buy && t.bought_qty == 0 && t.sold_qty == 0;
            for f in &fills {
                t.add(f);
            }
            let last_price = fills.last().unwrap().price;
            let left = t.left().max(0) / lot * lot;
            let dust =
                left == 0 || i128::from(left) * i128::from(last_price) < min_notional * 100_000_000;
            // An entry that filled only dust (below the lot or the minimum notional) is a
            // trade with nothing to exit: the scalper closes it without an exit order.
            if entry && !dust {
                continue;
            }
            if dust {
                trades.push((account, t.pnl()));
                open.remove(&symbol);
            }
        }
        assert!(open.is_empty(), "every trade closed: {open:?}");
    }
    assert_eq!(
        engine_orders.len(),
        orders_seen,
        "no order only one side knows"
    );
    assert_eq!(trades.len() as u64, TRIPS, "{trades:?}");
    for venue in [0, 1] {
        assert!(
            trades.iter().any(|(a, _)| *a == venue),
            "entries and exits on venue {venue}: {trades:?}"
        );
    }
    let pnl: i128 = trades.iter().map(|(_, p)| p).sum();
    let expected = pnl as f64 / 1e16;
    eprintln!("trades (venue, PnL e16): {trades:?}; total {expected}");
    assert!(
        (r.report.realized_pnl - expected).abs() < 1e-9,
        "reported PnL {} vs the simulator's fills {expected}",
        r.report.realized_pnl
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `config/scalper-demo.toml` as a user runs it (ports from the OS, a scratch data directory):
/// it enters and exits on its own.
#[test]
fn the_scalper_demo_config_enters_and_exits() {
    let dir = std::env::temp_dir().join(format!("mako-scalper-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/scalper-demo.toml"
    ))
    .unwrap()
    .replace("19410", "0")
    .replace("127.0.0.1:8790", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/scalper-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("scalper-demo.toml")).expect("valid demo");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let started = std::time::Instant::now();
    let report = common::run_until(
        engine,
        shutdown,
        "a round trip of the demo's scalper",
        Duration::from_secs(240),
        // A round trip, shown in the scalper's own view on /status too.
        |s| {
            let st = &s["strategies"][0];
            st["round_trips"].as_u64() >= Some(1)
                && st["detail"]["last_trades"][0]["exit_reason"].is_string()
                && st["detail"]["venues"][1]["venue"] == "okx"
        },
    );
    eprintln!("first round trip after {:?}", started.elapsed());
    let r = &report.strategies[0].report;
    assert!(r.round_trips >= 1 && r.fills >= 2, "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
