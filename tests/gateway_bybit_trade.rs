//! The order gateway on Bybit with `order_transport = "ws-api"`: orders, amends and cancels
//! over the simulator's trade WebSocket (`/v5/trade`, opened and logged in by the gateway's
//! REST worker), queries and sweeps over signed REST, fills on the private WebSocket. With
//! dropped answers and a disconnect of the private and trade sockets, every order the engine
//! holds ends with the simulator's state, filled quantity, quote amount, venue id and fees,
//! the balances agree, and nothing is overdue. An amend in place reaches the venue (REST
//! amends: `tests/gateway_bybit_amend.rs`).

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, differences, rig_for, trade_a_while};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::gateway::intent::OrderIntent;
use mako::gateway::rest::RestOptions;
use mako::types::{OrderKind, OrderStatus, Price, Qty, Side, StrategyId, TimeInForce};

fn rig(options: GatewayOptions) -> Rig {
    rig_for(
        VenueKind::BybitSpot,
        start_sim(""),
        OrderTransport::WsApi,
        options,
        1_700_000_000_123,
        None,
    )
}

/// The rig's comparison, with the simulator's EXPIRED read as Bybit states it: Bybit has no
/// expired status, an IOC's unfilled remainder is `Cancelled` (the simulator's Bybit front
/// end pushes and lists it so), which the engine holds as cancelled.
fn assert_bybit_books_agree(r: &mut Rig, limit: Duration, at_least: usize) -> usize {
    let mut diffs = Vec::new();
    let ok = common::wait_for(limit, || {
        r.refresh();
        let mut sim = r.sim_orders();
        for o in sim.values_mut() {
            if o["status"] == "EXPIRED" || o["status"] == "EXPIRED_IN_MATCH" {
                o["status"] = "CANCELED".into();
            }
        }
        diffs = differences(&r.last, &sim);
        if r.last.orders.len() < at_least {
            diffs.push(format!("engine holds {} orders", r.last.orders.len()));
        }
        diffs.is_empty().then_some(r.last.orders.len())
    });
    ok.unwrap_or_else(|| panic!("engine and simulator disagree:\n{}", diffs.join("\n")))
}

#[test]
fn bybit_ws_orders_match_the_venue_with_dropped_answers_and_a_disconnect() {
    // One request is in flight on the trade socket at a time: a lost answer holds the
    // next orders for the timeout, so it is short here (a trade answer takes ms).
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        rest: RestOptions {
            timeout: Duration::from_secs(1),
            ..RestOptions::default()
        },
        ..Default::default()
    };
    let mut r = rig(options);
    trade_a_while(&mut r, 3);
    r.sim.faults().set_drop_ack_rate(0.3);
    trade_a_while(&mut r, 3);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 3);
    r.sim.faults().set_drop_ack_rate(0.0);
    let n = assert_bybit_books_agree(&mut r, Duration::from_secs(30), 30);
    assert!(n >= 30, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(count(OrderStatus::Filled) >= 6, "{:?}", r.last.orders);
    assert!(count(OrderStatus::Cancelled) >= 6, "{:?}", r.last.orders);
    assert!(
        r.last.counters.queries_sent > 0,
        "lost answers were chased with REST queries"
    );
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    let rest = r.last.rest.expect("REST-side figures");
    assert!(rest.unknown > 0, "dropped answers timed out: {rest:?}");
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn bybit_amends_in_place_over_the_trade_socket() {
    let mut r = rig(GatewayOptions::default());
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap().units();
    let first = Price::from_units(bid.units() - 200 * tick);
    let cid = r.send(
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        first,
        "0.001",
    );
    let acked = common::wait_for(Duration::from_secs(20), || {
        r.refresh();
        r.last
            .orders
            .iter()
            .find(|o| o.cid == cid && o.status == OrderStatus::Acked)
            .map(|_| ())
    });
    assert!(acked.is_some(), "{:?}", r.last.orders);
    let (price, qty) = (
        Price::from_units(bid.units() - 150 * tick),
        Qty::parse("0.002").unwrap(),
    );
    r.intents
        .send(OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price,
            qty,
        })
        .unwrap();
    // The strategy hears of the new terms (price and quantity) in an update.
    let heard = common::wait_for(Duration::from_secs(20), || {
        while let Some(u) = r.updates.try_recv() {
            if u.cid == cid && u.price == price && u.qty == qty {
                return Some(u);
            }
        }
        None
    });
    assert!(heard.is_some(), "an update with the amended terms");
    let amended = common::wait_for(Duration::from_secs(20), || {
        r.refresh();
        r.last
            .orders
            .iter()
            .find(|o| o.cid == cid && o.qty == qty && o.status == OrderStatus::Acked)
            .map(|_| ())
    });
    assert!(
        amended.is_some(),
        "engine's order amended: {:?}",
        r.last.orders
    );
    let sim = r.sim_orders();
    let o = &sim[cid.as_str()];
    assert_eq!(
        (
            Price::parse(o["price"].as_str().unwrap()).unwrap(),
            Qty::parse(o["origQty"].as_str().unwrap()).unwrap(),
            o["status"].as_str()
        ),
        (price, qty, Some("NEW")),
        "the venue's order: {o}"
    );
    let n = r.assert_books_agree(Duration::from_secs(20), 1);
    assert_eq!(n, 1);
    r.stop();
}

/// The `wallet` topic keeps balances: with sweeps slowed to one per 10 minutes (only the
/// start's sweep runs), the engine's balances after fills still equal the simulator's, from
/// the private WebSocket's wallet pushes alone.
#[test]
fn bybit_wallet_pushes_keep_balances_without_sweeps() {
    let options = GatewayOptions {
        sweep_interval: Duration::from_secs(600),
        ..Default::default()
    };
    let mut r = rig(options);
    // The start's sweep has brought the balances.
    r.assert_balances_agree(Duration::from_secs(20));
    let before = r.last.balances.clone();
    trade_a_while(&mut r, 3);
    let n = r.assert_books_agree(Duration::from_secs(20), 15);
    assert_eq!(n, 15);
    r.assert_balances_agree(Duration::from_secs(20));
    assert_ne!(r.last.balances, before, "fills moved the balances");
    r.stop();
}
