//! Bybit amends in place over REST (`order_transport = "rest"`, `POST /v5/order/amend`),
//! spot and linear perpetual, against the simulator's Bybit front end (written from Bybit's
//! docs): a strategy's re-price (its intent sink wired as the engine wires it for the demo
//! configs) goes out as one amend — no cancel, no new order —, the order keeps its client
//! and venue ids and rests at the new price and quantity in `/sim/state`; with the amend's
//! answer dropped (the simulator amends, then drops the connection), the gateway queries the
//! order and takes its terms from the venue.

mod common;

use std::path::Path;
use std::time::Duration;

use common::gateway_rig::{Rig, rig_for, rig_linear_perp};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::gateway::rest::RestOptions;
use mako::strategy::api::IntentSink;
use mako::types::{InstrumentId, OrderStatus, Price, Qty, Side, StrategyId, UnixNanos};
use mako::venue::order::AmendLimits;
use serde_json::Value;

const PERP: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

fn options() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        rest: RestOptions {
            timeout: Duration::from_secs(1),
            ..RestOptions::default()
        },
        ..Default::default()
    }
}

/// Which amends the engine makes in place on the venue of a demo config (as `wiring` asks).
fn wired_amends(config: &str) -> Option<AmendLimits> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(config))
        .expect("demo config");
    let c = mako::config::parse(&text, Path::new(config)).expect("valid demo config");
    assert_eq!(c.venues[0].order_transport, OrderTransport::Rest);
    mako::engine::venues::amends_in_place(&c.venues[0])
}

/// The simulator's order of client id `cid`: (price, quantity, status, venue id).
fn sim_order(r: &Rig, cid: &str) -> Option<(Price, Qty, String, u64)> {
    let o: Value = r.sim_orders().get(cid)?.clone();
    Some((
        Price::parse(o["price"].as_str()?).ok()?,
        Qty::parse(o["origQty"].as_str()?).ok()?,
        o["status"].as_str()?.to_owned(),
        o["orderId"].as_u64()?,
    ))
}

/// Feeds the sink every update the gateway sent (as a strategy's host does).
fn observe(r: &mut Rig, sink: &mut IntentSink) {
    while let Some(u) = r.updates.try_recv() {
        sink.observe(&u);
    }
}

/// The strategy heard the order rests at `price` for `qty` (its update carried the terms),
/// and the engine holds that quantity.
fn terms_heard(
    r: &mut Rig,
    sink: &mut IntentSink,
    cid: mako::types::ClientOrderId,
    price: Price,
    qty: Qty,
) -> Option<()> {
    observe(r, sink);
    r.refresh();
    let heard = sink.open_orders().iter().find(|o| o.cid == cid)?;
    let engine = r.last.orders.iter().find(|o| o.cid == cid)?;
    (heard.price == price && heard.qty == qty && engine.qty == qty).then_some(())
}

/// A resting buy, re-priced twice by the strategy: once cleanly, once with the answer lost.
fn reprice_over_rest(mut r: Rig, limits: AmendLimits) {
    let mut sink = IntentSink::new(
        r.intents.clone(),
        r.minter.clone(),
        StrategyId(0),
        InstrumentId(0),
    )
    .with_amend_limits(InstrumentId(0), limits);
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap().units();
    let at = |ticks: i64| Price::from_units(bid.units() - ticks * tick);
    let qty = Qty::parse("0.001").unwrap();
    let cid = sink.limit(Side::Buy, at(300), qty, false, UnixNanos(0));
    let acked = wait_for(Duration::from_secs(20), || {
        observe(&mut r, &mut sink);
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.status == OrderStatus::Acked).then_some(())
    });
    assert!(acked.is_some(), "{:?}", r.last.orders);
    let (_, _, _, venue_id) = sim_order(&r, cid.as_str()).expect("the venue's order");
    let sent = r.last.counters.clone();

    // The strategy moves its bid up 100 ticks and doubles it: one amend, the same order.
    let (p1, q1) = (at(200), Qty::parse("0.002").unwrap());
    assert_eq!(
        sink.amend(cid, p1, q1, UnixNanos(0)),
        Some(cid),
        "amended in place"
    );
    let moved = wait_for(Duration::from_secs(20), || {
        terms_heard(&mut r, &mut sink, cid, p1, q1)
    });
    assert!(
        moved.is_some(),
        "engine's order amended: {:?}",
        r.last.orders
    );
    assert_eq!(
        sim_order(&r, cid.as_str()),
        Some((p1, q1, "NEW".to_owned(), venue_id)),
        "the venue's order, same ids, new terms"
    );
    let c = r.last.counters.clone();
    assert_eq!(
        (
            c.amends_sent - sent.amends_sent,
            c.cancels_sent - sent.cancels_sent,
            c.orders_sent - sent.orders_sent,
            c.cancel_replaces_sent - sent.cancel_replaces_sent
        ),
        (1, 0, 0, 0),
        "one amend, no cancel or new order: {c:?}"
    );
    assert_eq!(r.sim_orders().len(), 1, "no other order reached the venue");

    // The next amend's answer is lost after the venue amended: the order is queried and
    // its terms are the venue's.
    let queries = r.last.counters.queries_sent;
    r.sim.faults().set_drop_ack_rate(1.0);
    let (p2, q2) = (at(100), Qty::parse("0.003").unwrap());
    assert_eq!(sink.amend(cid, p2, q2, UnixNanos(0)), Some(cid));
    let found = wait_for(Duration::from_secs(20), || {
        terms_heard(&mut r, &mut sink, cid, p2, q2)
    });
    r.sim.faults().set_drop_ack_rate(0.0);
    assert!(found.is_some(), "terms found by query: {:?}", r.last.orders);
    assert!(
        r.last.counters.queries_sent > queries,
        "{:?}",
        r.last.counters
    );
    let rest = r.last.rest.expect("REST-side figures");
    assert!(rest.unknown > 0, "the amend's answer was lost: {rest:?}");
    assert_eq!(
        sim_order(&r, cid.as_str()),
        Some((p2, q2, "NEW".to_owned(), venue_id))
    );
    assert_eq!(r.last.counters.cancels_sent, sent.cancels_sent);
    assert_eq!(r.sim_orders().len(), 1);
    r.assert_books_agree(Duration::from_secs(20), 1);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn bybit_spot_reprices_as_one_rest_amend() {
    let limits = wired_amends("config/spread-bybit-demo.toml");
    assert_eq!(limits, Some(AmendLimits::Any));
    let r = rig_for(
        VenueKind::BybitSpot,
        start_sim(""),
        OrderTransport::Rest,
        options(),
        1_700_000_000_123,
        None,
    );
    reprice_over_rest(r, limits.unwrap());
}

#[test]
fn bybit_linear_reprices_as_one_rest_amend() {
    let limits = wired_amends("config/grid-bybit-demo.toml");
    assert_eq!(limits, Some(AmendLimits::Any));
    let r = rig_linear_perp(start_sim(PERP), options(), "10", true);
    reprice_over_rest(r, limits.unwrap());
}
