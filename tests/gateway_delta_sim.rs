//! The order gateway on a Delta Exchange perpetual (India's BTCUSD, whole contracts) against
//! the simulator's Delta private front end: signed `/v2/orders` REST (place, cancel by client
//! id, the order by client id, open orders, wallet balances) and the private WebSocket's
//! `key-auth` and `orders` / `v2/user_trades` / `positions` / `margins` channels, written once
//! with the other venues' gateways. Orders are placed, filled and cancelled without faults,
//! with dropped answers, dropped pushes and disconnects, and with 5xx before and after
//! execution and 429s. Afterwards every order the engine holds has the simulator's state,
//! filled contracts, quote amount, venue id and fees (from the order's `paid_commission`),
//! its balances (free = available, locked = blocked margin) equal the simulator's, its fills
//! netted equal the simulator's position, and no order is left pending past its deadline.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_for};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::{OrderKind, OrderStatus, Price, Qty, Side, TimeInForce};
use serde_json::Value;

/// Delta India's BTCUSD as a simulated perpetual at 10× (sizes in whole contracts; the
/// simulator values a contract at one BTC).
const DELTA_SIM: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\ntick_size = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\nmax_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000.0\"\nlevels = 200\nkind = \"linear-perpetual\"\nleverage = \"10\"\n\n[[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", USD = \"5000000\" }\n";

fn rig(kind: VenueKind, options: GatewayOptions) -> Rig {
    rig_for(
        kind,
        start_sim(DELTA_SIM),
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
    )
}

fn faulty() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

/// The simulator's best bid and ask on BTCUSD (asked again while HTTP faults refuse).
fn book(r: &Rig) -> (Price, Price) {
    let url = format!(
        "{}/api/v3/ticker/bookTicker?symbol=BTCUSD",
        r.sim.rest_url()
    );
    let body = wait_for(Duration::from_secs(20), || {
        let mut resp = ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .ok()?;
        (resp.status().as_u16() == 200)
            .then(|| resp.body_mut().read_to_string().ok())
            .flatten()
    })
    .expect("the simulator answers bookTicker");
    let v: Value = serde_json::from_str(&body).unwrap();
    let p = |k: &str| Price::parse(v[k].as_str().unwrap()).unwrap();
    (p("bidPrice"), p("askPrice"))
}

/// A round of orders in whole contracts (1 or 2, so an average fill price is exact at
/// 10^-8): resting bids and asks, marketable IOCs and limits (taker fills), a post-only
/// that would cross (refused), and a cancel of one resting order.
fn trade(r: &mut Rig, rounds: usize) {
    let tick = Price::parse("0.5").unwrap();
    for round in 0..rounds {
        let (bid, ask) = book(r);
        let off = |p: Price, ticks: i64| Price::from_units(p.units() + ticks * tick.units());
        let a = r.send(
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Gtc,
            off(bid, -40),
            "1",
        );
        let b = r.send(
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            off(ask, 40),
            "2",
        );
        r.send(
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Ioc,
            off(ask, 20),
            "1",
        );
        r.send(
            Side::Sell,
            OrderKind::Limit,
            TimeInForce::Gtc,
            off(bid, -20),
            "1",
        );
        r.send(Side::Buy, OrderKind::LimitMaker, TimeInForce::Gtc, ask, "1");
        std::thread::sleep(Duration::from_millis(30));
        r.cancel(if round % 2 == 0 { a } else { b });
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The engine's net position in contracts from its orders' fills.
fn engine_position(r: &Rig) -> Qty {
    let units: i64 = r
        .last
        .orders
        .iter()
        .map(|o| match r.sides.get(&o.cid) {
            Some(Side::Buy) => o.filled_qty.units(),
            Some(Side::Sell) => -o.filled_qty.units(),
            None => 0,
        })
        .sum();
    Qty::from_units(units)
}

/// Orders, balances and the position agree with `/sim/state`; nothing overdue.
fn assert_agree(r: &mut Rig, at_least: usize) {
    // Nothing left pending past its deadline: every cancel and unanswered order settled.
    let settled = wait_for(Duration::from_secs(40), || {
        r.refresh();
        (r.last.overdue == 0).then_some(())
    });
    assert!(settled.is_some(), "overdue orders: {}", r.last.overdue);
    let n = r.assert_books_agree(Duration::from_secs(40), at_least);
    assert!(n >= at_least, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    let state = r.sim.state();
    let pos = &state["accounts"][0]["positions"][0];
    // Signed contracts (short negative).
    let size = pos["size"].as_str().unwrap();
    let venue = match size.strip_prefix('-') {
        Some(abs) => Qty::from_units(-Qty::parse(abs).unwrap().units()),
        None => Qty::parse(size).unwrap(),
    };
    assert_eq!(engine_position(r), venue, "position: {pos}");
    assert!(
        !venue.is_zero() || pos["realizedPnl"] != "0.00000000",
        "the account traded the perpetual: {pos}"
    );
    let fills = state["fills"].as_array().unwrap();
    assert!(!fills.is_empty());
    assert!(
        fills.iter().all(|f| f["commissionAsset"] == "USD"),
        "{fills:?}"
    );
    r.assert_nothing_overdue();
}

#[test]
fn delta_orders_fills_and_margin_match_the_venue_without_faults() {
    let mut r = rig(VenueKind::DeltaIndia, GatewayOptions::default());
    trade(&mut r, 6);
    assert_agree(&mut r, 30);
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 6,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 6);
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    assert!(
        count(OrderStatus::Rejected) >= 6,
        "crossing post-only orders refused"
    );
    r.stop();
}

#[test]
fn delta_orders_match_the_venue_with_dropped_answers_pushes_and_disconnects() {
    // The global platform: the same protocol, `auth` instead of `key-auth`.
    let mut r = rig(VenueKind::DeltaGlobal, faulty());
    let set = |r: &Rig, ack: f64, user: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
    };
    set(&r, 0.3, 0.4);
    trade(&mut r, 4);
    r.sim.disconnect_api();
    trade(&mut r, 4);
    set(&r, 0.0, 0.0);
    assert_agree(&mut r, 20);
    assert!(r.last.counters.queries_sent > 0, "lost answers were chased");
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    r.stop();
}

#[test]
fn delta_orders_match_the_venue_with_5xx_and_rate_limits() {
    let mut r = rig(VenueKind::DeltaIndia, faulty());
    trade(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    // 5xx before and after the order executed, and 429s: outcomes unknown, queried.
    set(&r, 0.15, 0.2, 0.1);
    trade(&mut r, 4);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        r.refresh();
        if r.last.rest.as_ref().is_some_and(|x| x.unknown > 0)
            || std::time::Instant::now() >= deadline
        {
            break;
        }
        trade(&mut r, 1);
    }
    set(&r, 0.0, 0.0, 0.0);
    assert_agree(&mut r, 10);
    assert!(
        r.last.counters.queries_sent > 0,
        "unknown outcomes were queried"
    );
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    assert!(
        r.last.counters.rate_limited > 0,
        "429s were answered: {:?}",
        r.last.counters
    );
    r.stop();
}
