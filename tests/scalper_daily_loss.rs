//! The scalper's daily loss limit end to end: a losing path by construction (the simulated
//! venue charges 0.5 % per fill while the scalper's fee table assumes 0.04 %, so no round trip
//! can earn its fees back: a take-profit at +0.35 % still loses). After a few round trips the
//! day's loss, fees included, passes `max_daily_loss`; the scalper stops entering, says why on
//! `/status`, and a notification reaches the (fake, local) Telegram API. Later status reports
//! show no new fill and no open order.

mod common;

use std::path::Path;
use std::time::Duration;

use mako::engine::Engine;
use mako::runtime::{Clock, Shutdown};
use serde_json::Value;

const CONFIG: &str = r#"
[engine]
name = "scalper-loss"
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

[[instruments]]
venue = "binance"
symbol = "ETHUSDT"
base = "ETH"
quote = "USDT"
tick_size = "5"
lot_size = "0.0001"
min_qty = "0.0001"
min_notional = "5"

[risk]
max_order_notional = "1000"
price_collar_bps = 100
max_orders_per_sec = 50

[[strategies]]
id = "scalper"
kind = "scalper"
venue = "binance"
instrument = "ETHUSDT"

[strategies.params]
take_profit_percent = 0.35
stop_loss_percent = 0.35
time_stop = "2s"
cooldown = "200ms"
max_daily_loss = "8"
fees = { binance = { maker_percent = 0.0, taker_percent = 0.04 } }

[status]
bind = "127.0.0.1:0"
publish_interval = "100ms"

[persistence]
enabled = false

[notifications.telegram]
base_url = "TELEGRAM_URL"
bot_token_file = "TOKEN_FILE"
chat_id = "-1001"
min_interval = "200ms"

[sim]
host = "127.0.0.1"
port = SIM_PORT
source = "walk"
seed = 3
walk_interval_ms = 20
maker_fee = "0.005"
taker_fee = "0.005"

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
balances = { ETH = "10", USDT = "20000" }
"#;

#[test]
fn the_daily_loss_limit_stops_entries_and_notifies() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("mako-scalper-loss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("bot-token");
    std::fs::write(&token, "4242:test-token").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (url, seen) = common::fake_telegram();
    let text = CONFIG
        .replace("SIM_PORT", "0")
        .replace("DATA_DIR", &dir.display().to_string())
        .replace("TELEGRAM_URL", &url)
        .replace("TOKEN_FILE", &token.display().to_string());
    let config = mako::config::parse(&text, Path::new("loss.toml")).expect("valid config");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    let addr = engine.status_addr().expect("status");
    let run = std::thread::spawn(move || {
        engine.run(mako::engine::RunOptions {
            duration: Some(Duration::from_secs(600)),
            handle_signals: false,
        })
    });
    let wait = |what: &str, f: &dyn Fn(&Value) -> bool| -> Value {
        let got = common::wait_for(Duration::from_secs(120), || {
            common::status(addr).filter(|s| f(&s["strategies"][0]))
        });
        match got {
            Some(s) => s["strategies"][0].clone(),
            None => panic!("never saw {what}: {:?}", common::status(addr)),
        }
    };

    let stopped = wait("entries stopped by the daily loss", &|st| {
        st["entries_stopped"] == "max_daily_loss reached"
            && st["detail"]["day"]["entries_stopped"] == "max_daily_loss reached"
    });
    let day_pnl = stopped["detail"]["day"]["pnl"].as_f64().unwrap();
    assert!(
        day_pnl <= -8.0,
        "the day's loss passed the limit: {day_pnl}"
    );
    assert!(stopped["round_trips"].as_u64().unwrap() >= 1);
    // Two seconds of the scalper's own reports later: no new fill, nothing open.
    let at = stopped["detail_at_ns"].as_u64().unwrap();
    let fills = stopped["trades"].as_u64().unwrap();
    let later = wait("two more seconds of reports", &|st| {
        st["detail_at_ns"].as_u64().unwrap_or(0) >= at + 2_000_000_000
    });
    assert_eq!(
        later["trades"].as_u64().unwrap(),
        fills,
        "no fill after the stop"
    );
    assert_eq!(later["open_orders"].as_u64(), Some(0));
    assert_eq!(later["detail"]["open_trades"].as_u64(), Some(0));
    // The notification.
    let told = common::wait_for(Duration::from_secs(60), || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|(_, t)| t.contains("scalper stops opening positions: max_daily_loss reached"))
            .then_some(())
    });
    shutdown.request();
    let report = run.join().expect("engine thread").expect("stops cleanly");
    assert!(
        told.is_some(),
        "no notification: {:?}",
        seen.lock().unwrap()
    );
    let r = &report.strategies[0].report;
    assert_eq!(r.entries_stopped, Some("max_daily_loss reached"));
    assert!(r.realized_pnl <= -8.0, "{r:?}");
    let sim_fills = report.sim_state.expect("sim state")["fills"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        r.fills as usize, sim_fills,
        "every fill was the scalper's and seen"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
