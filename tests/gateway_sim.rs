//! The order gateway against the simulator, over the real WebSocket API: orders placed,
//! filled and cancelled, with faults on (dropped acks, dropped private events, disconnects,
//! rate limiting). Afterwards every order the engine holds has the simulator's state, filled
//! quantity, quote amount and venue id, and none is left pending past its deadline.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_with, trade_a_while};
use common::{start_sim, wait_for};
use mako::config::OrderTransport;
use mako::gateway::GatewayOptions;
use mako::latency::probe::ClockOffset;
use mako::sim::SimHandle;
use mako::types::{OrderKind, OrderStatus, TimeInForce};
use mako::types::{Price, Side};

fn rig(sim_extra: &str, options: GatewayOptions) -> Rig {
    rig_on(start_sim(sim_extra), options, 1_700_000_000_123)
}

/// A gateway over the WebSocket API for a run that started at `run_start_ms`.
fn rig_on(sim: SimHandle, options: GatewayOptions, run_start_ms: u64) -> Rig {
    rig_with(sim, OrderTransport::WsApi, options, run_start_ms, None)
}

#[test]
fn orders_match_the_venue_without_faults() {
    let mut r = rig("", GatewayOptions::default());
    trade_a_while(&mut r, 6);
    let n = r.assert_books_agree(Duration::from_secs(20), 30);
    assert_eq!(n, 30);
    // Every kind of outcome happened, so the comparison covered them.
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 6,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 6);
    assert!(
        count(OrderStatus::Rejected) >= 1,
        "post-only crossing the book is refused"
    );
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    // Updates reached the strategy for every order.
    let mut seen = std::collections::HashSet::new();
    while let Some(u) = r.updates.try_recv() {
        seen.insert(u.cid);
    }
    assert_eq!(seen.len(), 30);
    r.stop();
}

#[test]
fn orders_match_the_venue_with_faults() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig("", options);
    let set = |r: &Rig, ack: f64, user: f64, delay: u64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
        f.set_ack_delay(Duration::from_millis(delay));
    };
    set(&r, 0.4, 0.4, 20);
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    std::thread::sleep(Duration::from_millis(300));
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 2);
    set(&r, 0.0, 0.0, 0);
    let n = r.assert_books_agree(Duration::from_secs(30), 20);
    assert!(n >= 20, "orders compared: {n}");
    assert!(
        r.last.counters.queries_sent > 0,
        "lost answers were chased with queries"
    );
    assert!(r.last.counters.disconnects >= 2, "{:?}", r.last.counters);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn cancel_on_stop_leaves_nothing_open_on_the_venue() {
    let options = GatewayOptions {
        cancel_on_stop: vec![true],
        ..Default::default()
    };
    let mut r = rig("", options);
    let (bid, ask) = r.book();
    let tick = Price::parse("0.01").unwrap();
    for k in 1..=5 {
        r.send(
            Side::Buy,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(bid.units() - 100 * k * tick.units()),
            "0.001",
        );
        r.send(
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(ask.units() + 100 * k * tick.units()),
            "0.001",
        );
    }
    let open = wait_for(Duration::from_secs(10), || {
        let n = r
            .sim_orders()
            .values()
            .filter(|o| o["status"] == "NEW")
            .count();
        (n == 10).then_some(n)
    });
    assert_eq!(open, Some(10));
    r.stop();
    let still_open = r
        .sim_orders()
        .values()
        .filter(|o| o["status"] == "NEW" || o["status"] == "PARTIALLY_FILLED")
        .count();
    assert_eq!(still_open, 0, "shutdown cancelled every open order");
    let n = r.assert_books_agree(Duration::from_secs(5), 10);
    assert_eq!(n, 10);
}

#[test]
fn a_restarted_engine_reconciles_the_orders_of_the_run_it_replaces() {
    // First run: rest orders, then die without cancelling anything.
    let mut first = rig("", GatewayOptions::default());
    let (bid, ask) = first.book();
    let tick = Price::parse("0.01").unwrap();
    let mut placed = Vec::new();
    for k in 1..=3 {
        placed.push(first.send(
            Side::Buy,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(bid.units() - 200 * k * tick.units()),
            "0.001",
        ));
        placed.push(first.send(
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(ask.units() + 200 * k * tick.units()),
            "0.001",
        ));
    }
    first.assert_books_agree(Duration::from_secs(10), 6);
    // The engine goes away with those orders open on the venue.
    first.stop();
    let sim = std::mem::replace(&mut first.sim, start_sim(""));
    // Second run, with a later start: its ids differ; it finds the first run's open orders,
    // reports them and (as configured) cancels them.
    let options = GatewayOptions {
        cancel_unknown: true,
        sweep_interval: Duration::from_millis(300),
        ..Default::default()
    };
    let mut second = rig_on(sim, options, 1_700_000_999_000);
    let n = second.assert_books_agree(Duration::from_secs(15), 6);
    assert_eq!(n, 6, "every order of the first run is known to the second");
    assert!(
        second.last.counters.unknown_venue_orders >= 6,
        "{:?}",
        second.last.counters
    );
    let cancelled = wait_for(Duration::from_secs(15), || {
        second.refresh();
        let open_on_venue = second
            .sim_orders()
            .values()
            .filter(|o| o["status"] == "NEW")
            .count();
        (open_on_venue == 0).then_some(())
    });
    assert!(
        cancelled.is_some(),
        "orders unknown to the engine were cancelled"
    );
    second.assert_books_agree(Duration::from_secs(10), 6);
    for cid in placed {
        let o = second
            .last
            .orders
            .iter()
            .find(|o| o.cid == cid)
            .expect("recovered");
        assert!(o.status.is_final(), "{:?}", o);
    }
    second.stop();
}

#[test]
fn a_venue_clock_far_from_ours_is_measured_and_signed_with() {
    // The venue's clock runs 30 s behind this machine's: far outside the 5 s recvWindow, so
    // every request stamped with the local clock would be refused with -1021.
    let sim = start_sim("");
    sim.faults().set_clock_skew_ms(-30_000);
    let body = ureq::get(format!("{}/api/v3/time", sim.rest_url()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let server_ms = mako::latency::probe::parse_server_time(
        mako::config::VenueKind::BinanceSpot,
        body.as_bytes(),
    )
    .unwrap();
    let local_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        local_ms - server_ms >= 29_000,
        "the venue's clock is behind"
    );
    let offset = ClockOffset::new();
    let mut r = rig_with(
        sim,
        OrderTransport::WsApi,
        GatewayOptions::default(),
        1_700_000_000_123,
        Some(offset.clone()),
    );
    let measured = offset.get().expect("measured at start");
    assert!(
        (-31_000_000_000..=-29_000_000_000).contains(&measured),
        "offset {measured} ns"
    );
    trade_a_while(&mut r, 2);
    let n = r.assert_books_agree(Duration::from_secs(20), 10);
    assert_eq!(n, 10);
    let accepted = r
        .last
        .orders
        .iter()
        .filter(|o| o.venue_order_id.is_some())
        .count();
    assert!(
        accepted >= 8,
        "the venue accepted the signed orders: {accepted}"
    );
    r.stop();
}

/// The kill switch at the gateway: once tripped, a new order is refused with the kill switch
/// as its reason and never reaches the venue, while cancels still go through, so the venue
/// ends holding nothing open.
#[test]
fn a_tripped_kill_switch_refuses_new_orders_and_lets_cancels_through() {
    use mako::gateway::Refusal;
    use mako::risk::{KillReason, Rule};
    let mut r = rig("", GatewayOptions::default());
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap();
    let resting: Vec<_> = (1..=3)
        .map(|k| {
            r.send(
                Side::Buy,
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                Price::from_units(bid.units() - 100 * k * tick.units()),
                "0.001",
            )
        })
        .collect();
    let open = |r: &Rig| {
        r.sim_orders()
            .values()
            .filter(|o| o["status"] == "NEW" || o["status"] == "PARTIALLY_FILLED")
            .count()
    };
    assert_eq!(
        wait_for(Duration::from_secs(10), || (open(&r) == 3).then_some(())),
        Some(()),
        "three orders resting on the venue"
    );

    r.kill.trip(KillReason::Operator);
    let refused = r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::from_units(bid.units() - 500 * tick.units()),
        "0.001",
    );
    let why = wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv())
            .find(|u| u.cid == refused)
            .map(|u| u.refused)
    });
    assert_eq!(why, Some(Some(Refusal::Risk(Rule::KillSwitch))));

    for cid in resting {
        r.cancel(cid);
    }
    assert_eq!(
        wait_for(Duration::from_secs(10), || (open(&r) == 0).then_some(())),
        Some(()),
        "the cancels went through after the kill"
    );
    let sim = r.sim_orders();
    assert_eq!(sim.len(), 3, "the refused order never reached the venue");
    assert!(!sim.contains_key(&refused.to_string()));
    r.stop();
}
