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
    assert_eq!(r.last.overdue, 0);
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
    assert_eq!(r.last.overdue, 0);
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
    assert_eq!(r.last.overdue, 0);
    r.stop();
}
