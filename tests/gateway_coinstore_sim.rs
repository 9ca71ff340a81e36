//! The order gateway on Coinstore spot against the simulator's Coinstore private front end
//! (signed REST under `/api`: place, cancel by `ordId`, the V2 order info by `clOrdId`, the
//! V2 active list, the match list and the account list; the 2022 docs' LOGIN on `/s/ws` with
//! `!@order` and `!@account`), written once with the other venues' gateways: orders placed,
//! filled and cancelled, with and without faults (dropped answers, dropped pushes, a
//! disconnect, 5xx before and after execution, 429s). Afterwards every order the engine holds
//! has the simulator's state, filled quantity, quote amount, venue id and fees (from the
//! match list: the pushes name their fee's currency by number only), its balances equal the
//! simulator's, and none is left pending past its deadline.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_for, trade_a_while, trade_until_unknown};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::OrderStatus;

fn rig(options: GatewayOptions) -> Rig {
    rig_for(
        VenueKind::CoinstoreSpot,
        start_sim(""),
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
    )
}

fn quick() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

#[test]
fn coinstore_orders_match_the_venue_without_faults() {
    let mut r = rig(GatewayOptions::default());
    // Balances agree from the start, before any order.
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(!r.last.balances.is_empty(), "balances read at start");
    trade_a_while(&mut r, 6);
    let n = r.assert_books_agree(Duration::from_secs(30), 30);
    assert_eq!(n, 30);
    r.assert_balances_agree(Duration::from_secs(20));
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 6,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 6);
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn coinstore_orders_match_the_venue_with_dropped_answers_pushes_and_disconnects() {
    let mut r = rig(quick());
    let set = |r: &Rig, ack: f64, user: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
    };
    set(&r, 0.3, 0.4);
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    set(&r, 0.0, 0.0);
    let n = r.assert_books_agree(Duration::from_secs(40), 20);
    assert!(n >= 20, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(
        r.last.counters.queries_sent > 0,
        "lost answers were chased with REST queries"
    );
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    assert!(
        r.last.counters.stream_gaps >= 1,
        "a lost push shows as a jump in S: {:?}",
        r.last.counters
    );
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn coinstore_orders_match_the_venue_with_5xx_and_rate_limits() {
    let mut r = rig(quick());
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    set(&r, 0.15, 0.2, 0.1);
    trade_a_while(&mut r, 4);
    trade_until_unknown(&mut r);
    set(&r, 0.0, 0.0, 0.0);
    let n = r.assert_books_agree(Duration::from_secs(40), 10);
    assert!(n >= 10, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(
        r.last.counters.queries_sent > 0,
        "unknown outcomes were queried"
    );
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    r.assert_nothing_overdue();
    r.stop();
}

/// Sim mode through the engine's own wiring (`engine/venues.rs`): a Coinstore venue block
/// with `private_ws_url` and no credentials trades the simulator's account (the LOGIN's user
/// id follows from its key) with the spread maker; its fills are the simulator's.
#[test]
fn the_engine_runs_the_spread_maker_on_the_simulated_coinstore_in_sim_mode() {
    use mako::config::Mode;
    use mako::engine::Engine;
    use mako::runtime::{Clock, Shutdown};
    let dir = std::env::temp_dir().join(format!("mako-sim-coinstore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        r#"
[engine]
name = "coinstore-sim"
mode = "sim"
data_dir = {dir:?}

[[venues]]
name = "coinstore"
kind = "coinstore-spot"
ws_url = "ws://127.0.0.1:0"
rest_url = "http://127.0.0.1:0"
private_ws_url = "ws://127.0.0.1:0/s/ws"
streams = ["depth", "trade"]

[[instruments]]
venue = "coinstore"
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "1"
lot_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"

[risk]
max_order_qty = "0.1"
max_position = "2"
max_open_orders = 10
price_collar_bps = 100
max_orders_per_sec = 20

[[strategies]]
id = "mm-btc-coinstore"
kind = "spread"
venue = "coinstore"
instrument = "BTCUSDT"

[strategies.params]
spread_bps = 2
order_size = "0.01"
stale_tolerance_bps = 3
refresh_interval = "30s"
base_allocation = "0.5"
quote_allocation = "30000"

[status]
bind = "127.0.0.1:0"
publish_interval = "250ms"

[sim]
host = "127.0.0.1"
port = 0
source = "walk"
seed = 21
walk_interval_ms = 20

[[sim.symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "1"
step_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"
start_price = "60000.00"
levels = 200

[[sim.accounts]]
balances = {{ BTC = "10", USDT = "1000000" }}
"#,
        dir = dir.display().to_string()
    );
    let config = mako::config::parse(&text, std::path::Path::new("coinstore-sim.toml"))
        .expect("the config is valid");
    assert_eq!(config.engine.mode, Mode::Sim);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let report = common::run_until(
        engine,
        shutdown,
        "fills on the simulated Coinstore venue",
        Duration::from_secs(240),
        |v| common::strategy_trades(v, "mm-btc-coinstore") >= 2,
    );
    let state = report.sim_state.expect("simulator state");
    let fills = state["fills"].as_array().expect("fills");
    assert!(fills.len() >= 2, "the venue filled quotes: {state}");
    let open = state["accounts"][0]["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter(|o| matches!(o["status"].as_str(), Some("NEW" | "PARTIALLY_FILLED")))
        .count();
    assert_eq!(open, 0, "shutdown cancelled every order");
    std::fs::remove_dir_all(&dir).ok();
}
