//! CoinDCX after a restart, against the simulator's CoinDCX futures front end: a first
//! gateway places two resting orders and stops without cancelling them (the engine going
//! away). A second gateway starts on the same account as after a restart, its store having
//! kept only the first order (with its venue id): the open-orders sweep (CoinDCX's order
//! list) finds the first as the engine's own and keeps it open, and finds the second as an
//! order unknown to the engine, which it cancels (`cancel_unknown`), by the venue's id.

mod common;

use std::time::Duration;

use common::gateway_rig::{rig_for, rig_restarted};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::{
    InstrumentId, Order, OrderEvent, OrderKind, OrderStatus, Price, Qty, Side, StrategyId,
    TimeInForce, UnixNanos,
};
use serde_json::Value;

const LINEAR: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

fn options(cancel_unknown: bool) -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        cancel_unknown,
        ..Default::default()
    }
}

/// The simulator's orders of account 0: (status, price) of each, oldest first.
fn sim_orders(state: &Value) -> Vec<(String, Price)> {
    state["accounts"][0]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["status"].as_str().unwrap().to_owned(),
                Price::parse(o["price"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn orders_of_a_previous_run_are_found_adopted_or_cancelled() {
    let mut a = rig_for(
        VenueKind::CoindcxFutures,
        start_sim(LINEAR),
        OrderTransport::Rest,
        options(false),
        1_700_000_000_123,
        None,
    );
    let (bid, _) = a.book();
    let tick = Price::parse("0.01").unwrap().units();
    let p1 = Price::from_units((bid.units() / 1000 * 997) / tick * tick);
    let p2 = Price::from_units((bid.units() / 1000 * 994) / tick * tick);
    let kept = a.send(Side::Buy, OrderKind::Limit, TimeInForce::Gtc, p1, "0.01");
    let lost = a.send(Side::Buy, OrderKind::Limit, TimeInForce::Gtc, p2, "0.01");
    let ids = wait_for(Duration::from_secs(30), || {
        a.refresh();
        let id = |cid| {
            let o = a.last.orders.iter().find(|o| o.cid == cid)?;
            (o.status == OrderStatus::Acked).then_some(o.venue_order_id)?
        };
        Some((id(kept)?, id(lost)?))
    })
    .expect("both orders rest on the venue");
    a.stop();
    let sim = a.sim;
    assert_eq!(
        sim_orders(&sim.state()),
        vec![("NEW".into(), p1), ("NEW".into(), p2)],
        "both still open after the first run"
    );

    // The store kept the first order as it stood: sent and accepted under its venue id.
    let t = UnixNanos(1_700_000_000_200_000_000);
    let mut o = Order::new(
        kept,
        StrategyId(0),
        InstrumentId(0),
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        p1,
        Qty::parse("0.01").unwrap(),
        t,
    );
    o.apply(&OrderEvent::Sent { at: t });
    o.apply(&OrderEvent::Accepted {
        venue_order_id: ids.0,
        at: t,
    });
    let mut b = rig_restarted(
        VenueKind::CoindcxFutures,
        sim,
        options(true),
        1_700_000_100_123,
        vec![o],
    );
    let settled = wait_for(Duration::from_secs(30), || {
        b.refresh();
        let status = |f: &dyn Fn(&mako::gateway::OrderView) -> bool| {
            b.last.orders.iter().find(|o| f(o)).map(|o| o.status)
        };
        let mine = status(&|o| o.cid == kept)?;
        let foreign = status(&|o| o.venue_order_id == Some(ids.1))?;
        (mine == OrderStatus::Acked && foreign == OrderStatus::Cancelled).then_some(())
    });
    assert!(
        settled.is_some(),
        "the kept order adopted, the other cancelled: {:?} {:?}",
        b.last.orders,
        b.last.counters
    );
    assert_eq!(
        b.last.counters.unknown_venue_orders, 1,
        "{:?}",
        b.last.counters
    );
    let state = b.sim.state();
    assert_eq!(
        sim_orders(&state),
        vec![("NEW".into(), p1), ("CANCELED".into(), p2)],
        "the venue holds the adopted order and cancelled the unknown one"
    );
    // The adopted order is the engine's under its own client id, with the same venue id.
    let o = b.last.orders.iter().find(|o| o.cid == kept).unwrap();
    assert_eq!(o.venue_order_id, Some(ids.0));
    b.assert_nothing_overdue();
    b.stop();
}
