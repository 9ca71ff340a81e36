//! The order gateway on CoinDCX futures (`B-BTC_USDT`, a linear perpetual) against the
//! simulator's CoinDCX private front end: orders over signed REST, updates on the Socket.IO
//! private channel `coindcx`, written once with the other venues' gateways. Orders are
//! placed, filled and cancelled with and without faults (dropped answers, dropped pushes, a
//! Socket.IO disconnect and reconnect, 5xx before and after execution, 429s). Afterwards every
//! order the engine holds agrees with the simulator's own record, found by venue id (CoinDCX
//! takes no client order id): status, filled quantity, quote amount (to the precision of
//! CoinDCX's `avg_price`, 10^-8 per unit filled: the venue reports no cumulative quote), fees;
//! every order of the simulator is known to the engine; the USDT balance (free, and locked =
//! the margin of orders and the position) equals the simulator's; the engine's fills netted
//! equal the simulator's position; and nothing is overdue.

mod common;

use std::time::Duration;

use common::coindcx_rig::{
    LINEAR, assert_balance_agrees, assert_books_agree, assert_nothing_overdue,
    assert_position_agrees, fast, rig,
};
use common::gateway_rig::{Rig, trade_a_while};
use common::start_sim;
use mako::gateway::GatewayOptions;
use mako::types::OrderStatus;

#[test]
fn coindcx_orders_positions_and_margin_match_the_venue_without_faults() {
    let mut r = rig(start_sim(LINEAR), "USDT", GatewayOptions::default());
    trade_a_while(&mut r, 6);
    // The session keeps CoinDCX's 16 requests per second as its order limit: orders beyond
    // it are refused before they leave, so not all 30 reach the venue.
    let n = assert_books_agree(&mut r, "USDT", Duration::from_secs(30), 16);
    assert!(n >= 16, "orders compared: {n}");
    assert_balance_agrees(&mut r, "USDT", Duration::from_secs(20));
    assert_position_agrees(&r);
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 4,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 3);
    assert!(
        count(OrderStatus::Rejected) >= 1,
        "a crossing post-only order refused (the book may move away from the others)"
    );
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    assert!(
        r.last
            .orders
            .iter()
            .any(|o| !o.fees.iter().all(|f| f.1.is_zero())),
        "fees learned"
    );
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn coindcx_orders_match_with_dropped_answers_pushes_and_a_socketio_reconnect() {
    let mut r = rig(start_sim(LINEAR), "USDT", fast());
    let set = |r: &Rig, ack: f64, user: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
    };
    set(&r, 0.3, 0.4);
    trade_a_while(&mut r, 4);
    // The private channel's connection drops: the gateway reconnects, joins again and
    // reconciles.
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    set(&r, 0.0, 0.0);
    let n = assert_books_agree(&mut r, "USDT", Duration::from_secs(40), 16);
    assert!(n >= 16, "orders compared: {n}");
    assert_balance_agrees(&mut r, "USDT", Duration::from_secs(20));
    assert_position_agrees(&r);
    assert!(r.last.counters.queries_sent > 0, "lost answers were chased");
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    assert!(
        r.last.counters.connects >= 2,
        "reconnected: {:?}",
        r.last.counters
    );
    assert_nothing_overdue(&mut r);
    r.stop();
}

#[test]
fn coindcx_orders_match_with_5xx_before_and_after_execution_and_429s() {
    let mut r = rig(start_sim(LINEAR), "USDT", fast());
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    set(&r, 0.15, 0.2, 0.1);
    common::gateway_rig::trade_until_unknown(&mut r);
    trade_a_while(&mut r, 2);
    set(&r, 0.0, 0.0, 0.0);
    let n = assert_books_agree(&mut r, "USDT", Duration::from_secs(60), 10);
    assert!(n >= 10, "orders compared: {n}");
    assert_balance_agrees(&mut r, "USDT", Duration::from_secs(20));
    assert_position_agrees(&r);
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    assert!(
        r.last.counters.queries_sent > 0,
        "unknown outcomes were queried"
    );
    assert_nothing_overdue(&mut r);
    r.stop();
}
