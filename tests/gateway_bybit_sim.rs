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

use common::gateway_rig::{Rig, rig_for, trade_a_while, trade_until_unknown};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::OrderStatus;

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
    assert_eq!(r.last.overdue, 0);
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
    assert_eq!(r.last.overdue, 0);
    r.stop();
}
