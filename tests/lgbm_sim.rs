//! The LightGBM bot end to end against the in-process simulator, on scripted price paths
//! (`sim.source = "path"`), with the model `tests/fixtures/lgbm/bot_rise.model.txt` (one tree:
//! "up" at 0.8808 when the last candle closed above the one before, else 0.1192). One bot,
//! every exit rule on, is driven through three trades: each phase's prices are posted to the
//! simulator (`/sim/path`) once the bot has done what the last one was for: a rise (it buys),
//! then a jump (take-profit), a drop (stop-loss) or a flat spell (holding time). The run
//! waits on `/status`, then checks each trade's exit reason and model hash, and that its
//! PnL is what the simulator's own fills of it made.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use mako::engine::Engine;
use mako::runtime::{Clock, Shutdown};
use mako::types::{ClientOrderId, InstrumentId, Price, StrategyId};
use serde_json::Value;

/// SHA-256 of the model file (`mako model check` prints it).
const MODEL_HASH: &str = "87700b14455ac35aa03c051d30d4149ed5faa34a3f2ba3c9fae14c3940248c63";

fn saw(path: &mut Vec<i64>, n: usize, up: i64, down: i64) {
    for i in 0..n {
        let last = *path.last().unwrap_or(&10_000);
        path.push(if i % 2 == 0 { last + up } else { last - down });
    }
}

fn hold(path: &mut Vec<i64>, n: usize) {
    let last = *path.last().unwrap_or(&10_000);
    path.extend(std::iter::repeat_n(last, n));
}

fn toml_list(cents: &[i64]) -> String {
    let v: Vec<String> = cents
        .iter()
        .map(|c| format!("\"{}.{:02}\"", c / 100, c % 100))
        .collect();
    format!("[{}]", v.join(", "))
}

fn config(dir: &Path, path: &[i64]) -> String {
    format!(
        r#"
[engine]
name = "lgbm-e2e"
mode = "sim"
data_dir = "{dir}"
log_format = "human"
log_filter = "warn"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:0"
rest_url = "http://127.0.0.1:0"
ws_api_url = "ws://127.0.0.1:0/ws-api/v3"
order_transport = "ws-api"
streams = ["bookTicker", "depth", "trade"]

[risk]
max_order_qty = "10"
max_order_notional = "500"
max_position = "20"
max_open_orders = 20
max_orders_per_sec = 50

[status]
bind = "127.0.0.1:0"
publish_interval = "100ms"

[persistence]
enabled = false

[sim]
host = "127.0.0.1"
port = 0
source = "path"
path_interval_ms = 50

[[sim.accounts]]
balances = {{ USDT = "10000" }}

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

[[sim.symbols]]
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
step_size = "0.001"
min_qty = "0.001"
min_notional = "5"
start_price = "100.00"
levels = 50
path = {path}

[[strategies]]
id = "lgbm"
kind = "lgbm"
venue = "binance"
instrument = "SOLUSDT"

[strategies.params]
model = "{model}"
features = {{ ret = "price_change_1" }}
candle = "200ms"
buffer = 10
threshold = 0.6
trade_size = "25"
max_open_positions = 1
entry = "ioc"
take_profit_percent = 0.5
stop_loss_percent = 1
max_hold = "3s"
"#,
        dir = dir.display(),
        path = toml_list(path),
        model = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/lgbm/bot_rise.model.txt"
        ),
    )
}

fn units(v: &Value) -> i64 {
    Price::parse(v.as_str().expect("decimal string"))
        .expect("decimal")
        .units()
}

fn strategy<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["strategies"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .unwrap_or(&Value::Null)
}

/// One simulator fill of the bot's orders.
struct Fill {
    buy: bool,
    qty: i64,
    /// Quote at 10^-8.
    quote: i64,
    fee: i64,
    fee_in_base: bool,
}

/// The simulator's fills of each strategy and its orders' statuses.
fn sim_fills(state: &Value) -> (HashMap<u16, Vec<Fill>>, Vec<String>) {
    let account = &state["accounts"][0];
    let mut of_order: HashMap<u64, u16> = HashMap::new();
    let mut statuses = vec![];
    for o in account["orders"].as_array().expect("orders") {
        let cid = ClientOrderId::parse(o["clientOrderId"].as_str().unwrap()).unwrap();
        let (_, s, _) = cid.decode().expect("an engine-minted id");
        of_order.insert(o["orderId"].as_u64().unwrap(), s.0);
        statuses.push(o["status"].as_str().unwrap().to_string());
    }
    let mut fills: HashMap<u16, Vec<Fill>> = HashMap::new();
    for f in state["fills"].as_array().expect("fills") {
        let s = of_order[&f["orderId"].as_u64().unwrap()];
        fills.entry(s).or_default().push(Fill {
            buy: f["side"] == "BUY",
            qty: units(&f["qty"]),
            quote: units(&f["quoteQty"]),
            fee: units(&f["commission"]),
            fee_in_base: f["commissionAsset"] != "USDT",
        });
    }
    (fills, statuses)
}

fn post_path(sim: std::net::SocketAddr, symbol: &str, path: &[i64]) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let prices: Vec<String> = path
        .iter()
        .map(|c| format!("{}.{:02}", c / 100, c % 100))
        .collect();
    let body = serde_json::json!({"symbol": symbol, "path": prices}).to_string();
    let r = agent
        .post(&format!("http://{sim}/sim/path"))
        .header("content-type", "application/json")
        .send(body.as_str());
    assert!(r.is_ok(), "the simulator took the path: {r:?}");
}

/// The fills cut into trades (a buy after a sell opens the next one), each valued as the bot
/// values a closed trade: sells − buys − quote fees, the dust (bought − sold − base fees) at
/// the exit's average price. Quote at 10^-16.
fn trade_pnls(fills: &[Fill]) -> Vec<i128> {
    let mut trades: Vec<Vec<&Fill>> = vec![];
    for f in fills {
        let new = trades
            .last()
            .is_none_or(|t| f.buy && t.last().is_some_and(|l| !l.buy));
        if new {
            trades.push(vec![]);
        }
        trades.last_mut().unwrap().push(f);
    }
    trades
        .iter()
        .map(|t| {
            let mut pnl: i128 = 0;
            let mut dust: i128 = 0;
            for x in t {
                let q = i128::from(x.quote) * 100_000_000;
                pnl += if x.buy { -q } else { q };
                dust += i128::from(if x.buy { x.qty } else { -x.qty });
                if x.fee_in_base {
                    dust -= i128::from(x.fee);
                } else {
                    pnl -= i128::from(x.fee) * 100_000_000;
                }
            }
            let (sold, qty) = t.iter().filter(|f| !f.buy).fold((0i128, 0i128), |a, f| {
                (
                    a.0 + i128::from(f.quote) * 100_000_000,
                    a.1 + i128::from(f.qty),
                )
            });
            let exit = if qty > 0 { sold / qty } else { 0 };
            pnl + dust * exit
        })
        .collect()
}

/// Flat for 1 s (20 steps of 50 ms: the buffer fills, every candle "down"), then a rise.
fn entry_path(from: i64) -> Vec<i64> {
    let mut p = vec![from];
    hold(&mut p, 20);
    saw(&mut p, 30, 3, 1);
    p
}

#[test]
fn the_bot_enters_and_exits_by_take_profit_stop_loss_and_holding_time() {
    let order = ["take_profit", "stop_loss", "max_hold"];
    let exit_path = |phase: usize, from: i64| -> Vec<i64> {
        let mut p = vec![from];
        match phase {
            // +1 % in half a second: past the take-profit (0.5 %).
            0 => (0..10).for_each(|_| p.push(p.last().unwrap() + 10)),
            // −2 % in half a second: through the stop (1 %).
            1 => (0..10).for_each(|_| p.push(p.last().unwrap() - 20)),
            // Flat: only the holding time can end it.
            _ => {}
        }
        p
    };
    let dir = std::env::temp_dir().join(format!("mako-lgbm-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = config(&dir, &entry_path(10_000));
    let config = mako::config::parse(&text, Path::new("lgbm.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let board = engine.positions();
    let sim = engine.sim_addr().expect("the simulator");
    let phase = std::sync::Mutex::new(None::<u64>);
    let last = std::sync::Mutex::new(Value::Null);
    let report = common::run_until(
        engine,
        shutdown,
        "three trades closed, one by each exit rule",
        Duration::from_secs(120),
        |s| {
            *last.lock().unwrap() = s.clone();
            let b = strategy(s, "lgbm");
            let d = &b["detail"];
            let closed = d["last_trades"].as_array().map_or(0, |t| t.len() as u64);
            let held = d["lgbm"]["position"]
                .as_str()
                .and_then(|q| Price::parse(q).ok())
                .is_some_and(|q| q.units() > 0);
            if closed >= order.len() as u64 {
                return true;
            }
            let Some(bid) = b["mid"]
                .as_str()
                .and_then(|m| Price::parse(m).ok())
                .map(|m| m.units() / 1_000_000)
            else {
                return false;
            };
            let mut ph = phase.lock().unwrap();
            match *ph {
                Some(at) if closed > at => {
                    post_path(sim, "SOLUSDT", &entry_path(bid));
                    *ph = None;
                }
                None if held => {
                    post_path(sim, "SOLUSDT", &exit_path(closed as usize, bid));
                    *ph = Some(closed);
                }
                _ => {}
            }
            false
        },
    );
    std::fs::remove_dir_all(&dir).ok();
    let status = last.into_inner().unwrap();
    let state = report.sim_state.expect("simulator state");
    let s = strategy(&status, "lgbm");
    let trades = s["detail"]["last_trades"].as_array().expect("trades");
    let reasons: Vec<&str> = trades
        .iter()
        .rev()
        .map(|t| t["exit_reason"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(reasons, order, "{s}");
    for t in trades {
        assert_eq!(t["model"], MODEL_HASH, "{t}");
        assert!(t["confidence"].as_f64().unwrap() > 0.88, "{t}");
    }
    let (fills, statuses) = sim_fills(&state);
    let pnls = trade_pnls(&fills[&0]);
    assert_eq!(pnls.len(), 3, "{} fills", fills[&0].len());
    for (t, want) in trades.iter().rev().zip(&pnls) {
        let got = t["pnl"].as_f64().unwrap();
        assert!((got - *want as f64 / 1e16).abs() < 1e-9, "{t} vs {want}");
    }
    let total = pnls.iter().sum::<i128>() as f64 / 1e16;
    let realized = s["detail"]["lgbm"]["realized_pnl"].as_f64().unwrap();
    assert!((realized - total).abs() < 1e-9, "{realized} vs {total}");
    let bought: i64 = fills[&0].iter().filter(|f| f.buy).map(|f| f.qty).sum();
    let sold: i64 = fills[&0].iter().filter(|f| !f.buy).map(|f| f.qty).sum();
    assert_eq!(
        board.position(StrategyId(0), InstrumentId(0)).qty,
        bought - sold
    );
    assert!(
        statuses
            .iter()
            .all(|st| st != "NEW" && st != "PARTIALLY_FILLED"),
        "{statuses:?}"
    );
}

/// A model uploaded through the control API while the bot runs: refused without the token
/// and when it does not fit; once accepted, written over the bot's model file and used for
/// the next trade, and the database's `strategy_trades` tell the trades apart by model.
#[test]
fn a_model_uploaded_mid_run_opens_the_next_trade_and_the_database_tells_them_apart() {
    use std::os::unix::fs::PermissionsExt;
    const TOKEN: &str = "lgbm-model-upload-test-token";
    let dir = std::env::temp_dir().join(format!("mako-lgbm-swap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The bot's own copy of the model: an upload writes over it.
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lgbm/bot_rise.model.txt"
    ))
    .unwrap();
    let model_file = dir.join("model.txt");
    std::fs::write(&model_file, &fixture).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let db = dir.join("e2e.sqlite");
    let text = config(&dir, &entry_path(10_000))
        .replace(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/lgbm/bot_rise.model.txt"
            ),
            &model_file.display().to_string(),
        )
        .replace(
            "[persistence]\nenabled = false",
            &format!("[persistence]\npath = {:?}", db.display().to_string()),
        )
        .replace(
            "[status]\n",
            &format!(
                "[status]\ntoken_file = {:?}\n",
                token_file.display().to_string()
            ),
        );
    let config = mako::config::parse(&text, Path::new("lgbm.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let sim = engine.sim_addr().expect("the simulator");
    let status_addr = engine.status_addr().expect("status");
    let second = fixture.replace("leaf_value=-2 2", "leaf_value=-3 3");
    let upload = |body: &str, token: Option<&str>| -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.post(&format!(
            "http://{status_addr}/control/strategies/lgbm/model"
        ));
        if let Some(t) = token {
            req = req.header("authorization", &format!("Bearer {t}"));
        }
        let mut r = req.send(body).expect("an answer");
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    };
    let phase = std::sync::Mutex::new(0u32);
    let swapped = std::sync::Mutex::new(None::<String>);
    let report = common::run_until(
        engine,
        shutdown,
        "a trade under each model",
        Duration::from_secs(120),
        |s| {
            let b = strategy(s, "lgbm");
            let d = &b["detail"];
            let closed = d["last_trades"].as_array().map_or(0, |t| t.len());
            let held = d["lgbm"]["position"]
                .as_str()
                .and_then(|q| Price::parse(q).ok())
                .is_some_and(|q| q.units() > 0);
            let Some(bid) = b["mid"]
                .as_str()
                .and_then(|m| Price::parse(m).ok())
                .map(|m| m.units() / 1_000_000)
            else {
                return false;
            };
            let jump = |from: i64| -> Vec<i64> { (0..=10).map(|i| from + 10 * i).collect() };
            let mut ph = phase.lock().unwrap();
            match (*ph, closed, held) {
                // The first trade is open (opened by the first model): the second model is
                // uploaded, then the price jumps to take the first trade's profit.
                (0, 0, true) => {
                    let (st, body) = upload(&second, None);
                    assert_eq!(st, 401, "{body}");
                    let bad = second.replace("feature_names=ret", "feature_names=colour");
                    let (st, body) = upload(&bad, Some(TOKEN));
                    assert_eq!(st, 422, "{body}");
                    let (st, body) = upload(&second, Some(TOKEN));
                    assert_eq!(st, 200, "{body}");
                    *swapped.lock().unwrap() = body["model"].as_str().map(str::to_owned);
                    post_path(sim, "SOLUSDT", &jump(bid));
                    *ph = 1;
                }
                (_, c, _) if c >= 2 => return true,
                // Closed and not entered again: another rise, for the second model.
                (1, 1, false) => {
                    post_path(sim, "SOLUSDT", &entry_path(bid));
                    *ph = 2;
                }
                // The second trade is open: close it.
                (1 | 2, 1, true) => {
                    post_path(sim, "SOLUSDT", &jump(bid));
                    *ph = 3;
                }
                _ => {}
            }
            false
        },
    );
    drop(report);
    let second_hash = swapped.into_inner().unwrap().expect("the upload's hash");
    assert_ne!(second_hash, MODEL_HASH);
    assert_eq!(std::fs::read_to_string(&model_file).unwrap(), second);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut q = conn
        .prepare("SELECT reason, model, mode FROM strategy_trades ORDER BY closed_at")
        .unwrap();
    let rows: Vec<(String, String, String)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(rows.len() >= 2, "{rows:?}");
    assert_eq!(
        rows[0],
        ("take_profit".into(), MODEL_HASH.into(), "sim".into()),
        "{rows:?}"
    );
    assert_eq!(
        (&rows[1].1, &rows[1].2),
        (&second_hash, &"sim".to_string()),
        "{rows:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `config/lgbm-demo.toml` as a user runs it (ports from the OS, a scratch data directory):
/// the bot predicts with the committed model, trades and closes trades on its own.
#[test]
fn the_lgbm_demo_config_runs_and_trades() {
    let dir = std::env::temp_dir().join(format!("mako-lgbm-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/lgbm-demo.toml"
    ))
    .unwrap()
    .replace("19412", "0")
    .replace("127.0.0.1:8792", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/lgbm-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("lgbm-demo.toml")).expect("valid demo");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let last = std::sync::Mutex::new(Value::Null);
    let report = common::run_until(
        engine,
        shutdown,
        "two closed trades of the demo bot",
        Duration::from_secs(180),
        |s| {
            *last.lock().unwrap() = s.clone();
            strategy(s, "sol-lgbm")["round_trips"].as_u64() >= Some(2)
        },
    );
    let status = last.into_inner().unwrap();
    let d = &strategy(&status, "sol-lgbm")["detail"];
    assert_eq!(d["lgbm"]["model"]["hash"], MODEL_HASH, "{d}");
    assert!(d["lgbm"]["predictions"].as_u64() > Some(0), "{d}");
    let traded = report
        .strategies
        .iter()
        .filter(|r| r.report.round_trips >= 2 && r.report.fills >= 4)
        .count();
    assert_eq!(traded, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
