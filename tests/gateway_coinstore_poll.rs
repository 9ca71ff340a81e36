//! The order gateway on Coinstore spot WITHOUT the private WebSocket (`private_ws_url`
//! absent): fills and order changes are learned by polling the match list
//! (`GET /api/trade/match/accountMatches`), open orders and balances over signed REST on the
//! REST worker (`GatewayOptions::fills_poll`), against the simulator with faults (dropped
//! answers, 5xx before and after execution, 429s). Afterwards every order the engine holds
//! has the simulator's state, filled quantity, quote amount, venue id and fees, balances
//! agree, nothing is overdue, the private link was never opened, and the fills the strategy
//! was told of add up to exactly the simulator's filled quantity per order (no fill counted
//! twice though every poll lists the same recent matches again).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::gateway_rig::{Rig, rig_for, trade_a_while, trade_until_held, trade_until_unknown};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::{ClientOrderId, OrderStatus, Qty};

fn polled_rig() -> Rig {
    rig_for(
        VenueKind::CoinstoreSpot,
        start_sim(""),
        OrderTransport::Rest,
        GatewayOptions {
            ack_deadline: Duration::from_millis(300),
            sweep_interval: Duration::from_millis(700),
            fills_poll: Some(Duration::from_millis(200)),
            ..Default::default()
        },
        1_700_000_000_123,
        None,
    )
}

/// Fill quantities the strategy was told of, per order, and how many carried a trade id.
#[derive(Default)]
struct Told {
    qty: HashMap<ClientOrderId, i64>,
    with_trade_id: usize,
}

impl Told {
    fn drain(&mut self, r: &Rig) {
        while let Some(u) = r.updates.try_recv() {
            if let Some(f) = u.fill {
                *self.qty.entry(u.cid).or_default() += f.qty.units();
                if f.trade_id.is_some() {
                    self.with_trade_id += 1;
                }
            }
        }
    }
}

/// Every order's fills as told equal the simulator's executed quantity.
fn told_differences(told: &Told, r: &Rig) -> Vec<String> {
    let sim = r.sim_orders();
    let mut d = Vec::new();
    for o in &r.last.orders {
        let exec = sim
            .get(o.cid.as_str())
            .map(|s| {
                Qty::parse(s["executedQty"].as_str().unwrap())
                    .unwrap()
                    .units()
            })
            .unwrap_or(0);
        let mine = told.qty.get(&o.cid).copied().unwrap_or(0);
        if mine != exec {
            d.push(format!("{}: told {mine} vs simulator {exec}", o.cid));
        }
    }
    d
}

#[test]
fn coinstore_fills_by_polling_match_the_venue_without_the_private_socket() {
    let mut r = polled_rig();
    let mut told = Told::default();
    r.assert_balances_agree(Duration::from_secs(20));
    trade_a_while(&mut r, 4);
    told.drain(&r);
    let set = |r: &Rig, drop: f64, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(drop);
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    set(&r, 0.2, 0.1, 0.15, 0.05);
    trade_a_while(&mut r, 4);
    trade_until_unknown(&mut r);
    told.drain(&r);
    set(&r, 0.0, 0.0, 0.0, 0.0);
    trade_a_while(&mut r, 2);
    trade_until_held(&mut r, 30);
    let n = r.assert_books_agree(Duration::from_secs(40), 30);
    assert!(n >= 30, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    // Polls keep listing the same matches: what the strategy was told adds up once.
    let mut diffs = Vec::new();
    let agreed = common::wait_for(Duration::from_secs(20), || {
        told.drain(&r);
        r.refresh();
        diffs = told_differences(&told, &r);
        diffs.is_empty().then_some(())
    });
    assert!(
        agreed.is_some(),
        "fills told twice or missed:\n{}",
        diffs.join("\n")
    );
    let filled = r
        .last
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Filled)
        .count();
    assert!(filled >= 6, "taker fills: {:?}", r.last.orders);
    assert!(
        told.with_trade_id >= 6,
        "fills came from the polled match list (with trade ids): {}",
        told.with_trade_id
    );
    let c = &r.last.counters;
    // Polls pause while a 429's wait lasts, so the count is not a multiple of the run time.
    assert!(c.fill_polls >= 3, "polls sent: {c:?}");
    assert_eq!(c.connects, 0, "the private link is never opened: {c:?}");
    assert!(!r.last.link_up);
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    r.assert_nothing_overdue();
    r.stop();
}

/// Through the engine's own wiring (`engine/venues.rs`): a Coinstore venue block WITHOUT
/// `private_ws_url` is valid in sim mode and trades the spread maker with fills polled (every
/// `fills_poll`); the simulator's fills are what the strategy counted, and no order is left
/// open at shutdown.
#[test]
fn the_engine_polls_coinstore_fills_when_the_block_has_no_private_ws_url() {
    use mako::engine::Engine;
    use mako::runtime::{Clock, Shutdown};
    let dir = std::env::temp_dir().join(format!("mako-poll-coinstore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        r#"
[engine]
name = "coinstore-poll"
mode = "sim"
data_dir = {dir:?}

[[venues]]
name = "coinstore"
kind = "coinstore-spot"
ws_url = "ws://127.0.0.1:0"
rest_url = "http://127.0.0.1:0"
streams = ["depth", "trade"]
fills_poll = "250ms"

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
    let config = mako::config::parse(&text, std::path::Path::new("coinstore-poll.toml"))
        .expect("a block without private_ws_url is valid");
    assert!(config.venues[0].private_ws_url.is_none());
    assert_eq!(
        config.venues[0].fills_poll,
        Some(Duration::from_millis(250))
    );
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let report = common::run_until(
        engine,
        shutdown,
        "polled fills on the simulated Coinstore venue",
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
