//! The LightGBM bot on a real market: the simulator replays a Binance spot recording
//! (`tests/fixtures/binance-spot/btcusdt_20240808.gz`, 346 s of BTCUSDT, its book and trades,
//! at ten times its pace, repeated), the bot builds 1 s candles from the recorded trades and
//! predicts with a model trained on that recording by `tools/lgbm/train_replay.py`
//! (`replay_a.model.txt`); halfway, a second model trained by the same script
//! (`replay_b.model.txt`) is uploaded through the control API. The run ends when the database
//! holds trades closed by take-profit, stop-loss and holding time, trades opened by each
//! model, and the bot was held back by its limit on open positions; `/status` never shows more
//! open trades than the limit.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use mako::engine::Engine;
use mako::runtime::{Clock, Shutdown};
use serde_json::Value;

const TOKEN: &str = "lgbm-replay-test-token";
const MAX_OPEN: u64 = 2;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn config(dir: &Path, model: &Path, token: &Path, db: &Path) -> String {
    format!(
        r#"
[engine]
name = "lgbm-replay"
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
max_order_qty = "1"
max_order_notional = "500"
max_position = "1"
max_open_orders = 20
max_orders_per_sec = 50

[status]
bind = "127.0.0.1:0"
publish_interval = "100ms"
token_file = {token:?}

[persistence]
path = {db:?}

[sim]
host = "127.0.0.1"
port = 0
source = "replay"
replay_file = {recording:?}
replay_speed = 10.0
replay_repeat = true

[[sim.symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.01"
step_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"
start_price = "61800"
levels = 100

[[sim.accounts]]
balances = {{ USDT = "100000" }}

[[instruments]]
venue = "binance"
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.00001"
min_qty = "0.00001"
max_qty = "9000"
min_notional = "5"

[[strategies]]
id = "lgbm"
kind = "lgbm"
venue = "binance"
instrument = "BTCUSDT"

[strategies.params]
model = {model:?}
buffer = 20
threshold = 0.5
trade_size = "50"
max_open_positions = {MAX_OPEN}
entry = "ioc"
collar_percent = 0.2
take_profit_percent = 0.02
stop_loss_percent = 0.02
max_hold = "1s"
"#,
        dir = dir.display(),
        token = token.display().to_string(),
        db = db.display().to_string(),
        model = model.display().to_string(),
        recording = fixture("binance-spot/btcusdt_20240808.gz"),
    )
}

fn strategy(s: &Value) -> &Value {
    s["strategies"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == "lgbm"))
        .unwrap_or(&Value::Null)
}

/// (reason, model, mode) of every stored trade.
fn stored(db: &Path) -> Vec<(String, String, String)> {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return vec![];
    };
    let Ok(mut q) = conn.prepare("SELECT reason, model, mode FROM strategy_trades") else {
        return vec![];
    };
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

#[test]
fn on_a_replayed_market_the_trained_model_trades_exits_by_each_rule_and_a_swap_shows_in_the_records()
 {
    let dir = std::env::temp_dir().join(format!("mako-lgbm-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.txt");
    std::fs::copy(fixture("lgbm/replay_a.model.txt"), &model).unwrap();
    let second_text = std::fs::read_to_string(fixture("lgbm/replay_b.model.txt")).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let db = dir.join("replay.sqlite");
    let text = config(&dir, &model, &token, &db);
    let config = mako::config::parse(&text, Path::new("lgbm-replay.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let status_addr = engine.status_addr().expect("status");
    let first_hash = {
        let m = mako::strategy::model::Model::from_file(&model).unwrap();
        m.hash().to_owned()
    };
    let second_hash = Mutex::new(None::<String>);
    let most_open = Mutex::new(0u64);
    let at_max = Mutex::new(0u64);
    common::run_until(
        engine,
        shutdown,
        "trades closed by each exit rule under each model",
        Duration::from_secs(240),
        |s| {
            let d = &strategy(s)["detail"]["lgbm"];
            let open = d["open_trades"].as_u64().unwrap_or(0);
            let mut most = most_open.lock().unwrap();
            *most = (*most).max(open);
            *at_max.lock().unwrap() = d["signals_at_max"].as_u64().unwrap_or(0);
            let rows = stored(&db);
            let mut swapped = second_hash.lock().unwrap();
            // Halfway (six trades stored under the first model): the second one is uploaded.
            if swapped.is_none() && rows.len() >= 6 {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(30)))
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut r = agent
                    .post(&format!(
                        "http://{status_addr}/control/strategies/lgbm/model"
                    ))
                    .header("authorization", &format!("Bearer {TOKEN}"))
                    .send(second_text.as_str())
                    .expect("an answer");
                let body: Value =
                    serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
                        .unwrap_or(Value::Null);
                assert_eq!(r.status().as_u16(), 200, "{body}");
                *swapped = body["model"].as_str().map(str::to_owned);
            }
            let by = |reason: &str| rows.iter().any(|r| r.0 == reason);
            let of = |hash: &str| rows.iter().any(|r| r.1 == hash);
            swapped.as_deref().is_some_and(of)
                && of(&first_hash)
                && by("take_profit")
                && by("stop_loss")
                && by("max_hold")
                && *at_max.lock().unwrap() > 0
        },
    );
    let rows = stored(&db);
    assert!(rows.iter().all(|r| r.2 == "sim"), "{rows:?}");
    // The readable view names the bot, its market and venue (the run's catalog).
    let conn = rusqlite::Connection::open(&db).unwrap();
    let named: (String, String, String, String) = conn
        .query_row(
            "SELECT strategy, symbol, venue, entry FROM strategy_trades_view LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (&named.0[..], &named.1[..], &named.2[..]),
        ("lgbm", "BTCUSDT", "binance")
    );
    assert!(
        named.3.parse::<f64>().is_ok_and(|p| p > 50_000.0),
        "{named:?}"
    );
    eprintln!("{} trades stored: {rows:?}", rows.len());
    assert!(
        *most_open.lock().unwrap() <= MAX_OPEN,
        "at most {MAX_OPEN} open trades"
    );
    std::fs::remove_dir_all(&dir).ok();
}
