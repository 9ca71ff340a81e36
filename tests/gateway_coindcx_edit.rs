//! CoinDCX's order edit (`POST /orders/edit`) as the gateway's in-place amend, against the
//! simulator's CoinDCX front end on its perpetual account. A resting B-BTC_USDT buy is
//! re-priced and re-sized: the venue holds one order (no cancel, no new order) with the same
//! venue id at the new price and size, the engine's order and the strategy agree with it,
//! and one amend was sent. Then an edit whose answer is dropped (and whose private-channel
//! push is dropped too) is settled by the gateway's query of the order: the engine ends with
//! the venue's terms, nothing overdue.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_perp};
use common::{start_sim, wait_for};
use mako::config::VenueKind;
use mako::gateway::{GatewayOptions, OrderIntent};
use mako::sim::coindcx_private::order_uuid;
use mako::types::{
    ClientOrderId, OrderKind, OrderStatus, Price, Qty, Side, StrategyId, TimeInForce,
};
use serde_json::Value;

const LINEAR: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

fn options() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

/// The simulator's orders of account 0 (its own records, oldest first).
fn venue_orders(r: &Rig) -> Vec<Value> {
    r.sim.state()["accounts"][0]["orders"]
        .as_array()
        .unwrap()
        .clone()
}

fn px(v: &Value) -> Price {
    Price::parse(v.as_str().unwrap()).unwrap()
}

/// Amends `cid` to `price` and `qty`.
fn amend(r: &Rig, cid: ClientOrderId, price: Price, qty: &str) {
    r.intents
        .send(OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price,
            qty: Qty::parse(qty).unwrap(),
        })
        .unwrap();
}

/// Waits until the strategy hears order `cid` at `price` and `qty`, then until the
/// engine's published order holds `qty`, resting, with no amend pending.
fn engine_holds(r: &mut Rig, cid: ClientOrderId, price: Price, qty: &str) {
    let qty = Qty::parse(qty).unwrap();
    let heard = wait_for(Duration::from_secs(20), || {
        while let Some(u) = r.updates.try_recv() {
            if u.cid == cid && u.price == price && u.qty == qty {
                return Some(u);
            }
        }
        None
    });
    assert!(heard.is_some(), "the strategy heard {price} × {qty}");
    let held = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.qty == qty && o.status == OrderStatus::Acked).then_some(())
    });
    assert!(
        held.is_some(),
        "the engine's order holds {qty}: {:?}",
        r.last.orders
    );
}

#[test]
fn a_reprice_is_one_edit_and_a_lost_edit_answer_is_settled_by_query() {
    let mut r = rig_perp(
        VenueKind::CoindcxFutures,
        start_sim(LINEAR),
        options(),
        "10",
        true,
    );
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap().units();
    let first = Price::from_units((bid.units() / 1000 * 990) / tick * tick);
    let cid = r.send(Side::Buy, OrderKind::Limit, TimeInForce::Gtc, first, "0.01");
    let venue_id = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.status == OrderStatus::Acked).then_some(o.venue_order_id)?
    })
    .expect("the order rests on the venue");
    let before = venue_orders(&r);
    assert_eq!(before.len(), 1);
    let sim_id = before[0]["orderId"].as_u64().unwrap();
    assert_eq!(venue_id.as_str(), order_uuid(sim_id));

    // Re-price 5 ticks lower and re-size: one edit, in place.
    let second = Price::from_units(first.units() - 5 * tick);
    amend(&r, cid, second, "0.02");
    engine_holds(&mut r, cid, second, "0.02");
    let after = venue_orders(&r);
    assert_eq!(after.len(), 1, "no new order on the venue: {after:?}");
    assert_eq!(
        after[0]["orderId"].as_u64(),
        Some(sim_id),
        "the venue id is kept"
    );
    assert_eq!(after[0]["status"], "NEW", "not cancelled");
    assert_eq!(px(&after[0]["price"]), second);
    assert_eq!(after[0]["origQty"], "0.02000000");
    let o = r.last.orders.iter().find(|o| o.cid == cid).unwrap();
    assert_eq!(o.venue_order_id, Some(venue_id));
    assert_eq!(r.last.counters.amends_sent, 1, "{:?}", r.last.counters);

    // The next edit's answer and push are lost: the gateway queries the order at its
    // deadline and takes the venue's terms.
    r.sim
        .faults()
        .update_from_json(&serde_json::json!({"drop_ack_rate": 1.0, "drop_user_event_rate": 1.0}))
        .unwrap();
    let third = Price::from_units(second.units() - 3 * tick);
    amend(&r, cid, third, "0.03");
    let applied = wait_for(Duration::from_secs(20), || {
        let v = venue_orders(&r);
        (px(&v[0]["price"]) == third).then_some(())
    });
    assert!(applied.is_some(), "the edit reached the venue");
    r.sim
        .faults()
        .update_from_json(&serde_json::json!({"drop_ack_rate": 0.0, "drop_user_event_rate": 0.0}))
        .unwrap();
    engine_holds(&mut r, cid, third, "0.03");
    assert_eq!(r.last.counters.amends_sent, 2, "{:?}", r.last.counters);
    let v = venue_orders(&r);
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0]["status"].as_str(), v[0]["origQty"].as_str()),
        (Some("NEW"), Some("0.03000000"))
    );
    r.assert_nothing_overdue();
    r.stop();
}
