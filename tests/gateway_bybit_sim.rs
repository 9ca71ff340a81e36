//! The order gateway on Bybit spot against the simulator's Bybit v5 private front end
//! (signed REST `/v5/order/create`, `/v5/order/cancel`, `/v5/order/realtime`,
//! `/v5/account/wallet-balance`; the private WebSocket's auth and `order.spot` /
//! `execution.spot` topics), written once with the other venues' gateways: orders placed,
//! filled and cancelled, with and without faults (dropped answers, dropped pushes,
//! disconnects, 5xx before and after execution, Bybit's 10006 rate limit). Afterwards every
//! order the engine holds has the simulator's state, filled quantity, quote amount and venue
//! id and fees (learned from the execution pushes), its balances equal the simulator's, and none is left pending past its deadline.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_for, rig_linear_perp, trade_a_while, trade_until_unknown};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::{OrderStatus, Qty, Side};

fn rig(options: GatewayOptions) -> Rig {
    rig_for(
        VenueKind::BybitSpot,
        start_sim(""),
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
    )
}

/// The simulator's BTCUSDT as a linear perpetual at 10× (its accounts' USDT is the margin).
const LINEAR: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

/// The instrument is the linear perpetual at the venue's 10×: the gateway compares the
/// venue's positions with its own.
fn linear_rig(options: GatewayOptions) -> Rig {
    rig_linear_perp(start_sim(LINEAR), options, "10", true)
}

#[test]
fn bybit_orders_match_the_venue_without_faults() {
    let mut r = rig(GatewayOptions::default());
    trade_a_while(&mut r, 6);
    let n = r.assert_books_agree(Duration::from_secs(20), 30);
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
    r.stop();
}

#[test]
fn bybit_orders_match_the_venue_with_dropped_answers_pushes_and_disconnects() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig(options);
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
    let n = r.assert_books_agree(Duration::from_secs(30), 20);
    assert!(n >= 20, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(
        r.last.counters.queries_sent > 0,
        "lost answers were chased with REST queries"
    );
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn bybit_orders_match_the_venue_with_5xx_and_rate_limits() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig(options);
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    // 5xx before and after the order was executed, and 10006s: outcomes unknown, queried.
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

/// The engine's net position from its orders' fills (buys add, sells take away).
fn engine_position(r: &Rig) -> Qty {
    let mut units = 0i64;
    for o in &r.last.orders {
        let side = r.sides.get(&o.cid).copied();
        units += match side {
            Some(Side::Buy) => o.filled_qty.units(),
            Some(Side::Sell) => -o.filled_qty.units(),
            None => 0,
        };
    }
    Qty::from_units(units)
}

/// Linear perpetual orders (`category=linear`) against the simulator's perpetual accounts:
/// orders, fills, fees (in USDT) and the USDT balance with the margin held by orders and
/// positions (`totalOrderIM` + `totalPositionIM` read as locked) agree with `/sim/state`, with
/// dropped pushes and a disconnect; the venue's position is the engine's fills netted, and
/// the gateway's position comparison never mistook a lost push for a drift.
#[test]
fn bybit_linear_orders_positions_and_margin_match_the_venue() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = linear_rig(options);
    trade_a_while(&mut r, 3);
    r.sim.faults().set_drop_user_event_rate(0.4);
    trade_a_while(&mut r, 3);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 2);
    r.sim.faults().set_drop_user_event_rate(0.0);
    let n = r.assert_books_agree(Duration::from_secs(30), 20);
    assert!(n >= 20, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    let state = r.sim.state();
    let pos = &state["accounts"][0]["positions"][0];
    let venue = Qty::parse(pos["size"].as_str().unwrap()).unwrap();
    assert_eq!(engine_position(&r), venue, "position: {pos}");
    // The gateway's own comparison agrees, and the lost pushes were never taken for drift
    // (their fills were learned by queries first).
    let perp = r.last.perps.first().expect("the perpetual is watched");
    assert_eq!(perp.engine, venue.units(), "{perp:?}");
    assert_eq!(r.last.counters.position_drifts, 0, "{:?}", r.last.counters);
    assert!(r.last.counters.position_reports > 0);
    assert!(
        !venue.is_zero() || pos["realizedPnl"] != "0.00000000",
        "the account traded the perpetual: {pos}"
    );
    // Perpetual fees are charged in the settlement asset.
    let fills = state["fills"].as_array().unwrap();
    assert!(!fills.is_empty());
    assert!(
        fills.iter().all(|f| f["commissionAsset"] == "USDT"),
        "{fills:?}"
    );
    r.assert_nothing_overdue();
    r.stop();
}
