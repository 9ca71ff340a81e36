//! The order gateway on OKX against the simulator's OKX private front end (login, the
//! `order`/`cancel-order` ops, the `orders` and `account` channels, and the signed REST
//! queries), written once with Binance's: orders placed, filled and cancelled, with and
//! without faults (dropped op answers, dropped pushes, disconnects). Afterwards every order
//! the engine holds has the simulator's state, filled quantity, quote amount and venue id,
//! its balances equal the simulator's, and none is left pending past its deadline.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_for, trade_a_while, trade_until_unknown};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::OrderStatus;

fn rig(options: GatewayOptions, transport: OrderTransport) -> Rig {
    rig_for(
        VenueKind::OkxSpot,
        start_sim(""),
        transport,
        options,
        1_700_000_000_123,
        None,
    )
}

#[test]
fn okx_orders_match_the_venue_without_faults() {
    let mut r = rig(GatewayOptions::default(), OrderTransport::WsApi);
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
    let mut seen = std::collections::HashSet::new();
    while let Some(u) = r.updates.try_recv() {
        seen.insert(u.cid);
    }
    assert_eq!(seen.len(), 30);
    r.stop();
}

#[test]
fn okx_orders_match_the_venue_with_faults() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig(options, OrderTransport::WsApi);
    let set = |r: &Rig, ack: f64, user: f64, delay: u64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
        f.set_ack_delay(Duration::from_millis(delay));
    };
    set(&r, 0.4, 0.4, 20);
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    set(&r, 0.0, 0.0, 0);
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
fn okx_orders_over_rest_match_the_venue_with_5xx_and_rate_limits() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig(options, OrderTransport::Rest);
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    // 5xx before and after the order was executed, and 429s: outcomes unknown, queried.
    set(&r, 0.15, 0.2, 0.1);
    trade_a_while(&mut r, 4);
    trade_until_unknown(&mut r);
    set(&r, 0.0, 0.0, 0.0);
    // Orders refused while a 429 is waited out never reach the venue or the table.
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

/// OKX takes at most 60 new orders per 2 s per instrument: the gateway refuses the 61st
/// itself (`Refusal::OrderLimit`) instead of sending what the venue would refuse, and the
/// venue holds exactly the orders that were sent.
#[test]
fn okx_per_instrument_order_limit_is_kept_on_the_engine_side() {
    use mako::gateway::Refusal;
    use mako::types::order::{OrderKind, TimeInForce};
    use mako::types::{Price, Side};
    let mut r = rig(GatewayOptions::default(), OrderTransport::WsApi);
    let (bid, _) = r.book();
    // Resting far below the touch, on the tick grid (0.01).
    let far = Price::from_units(bid.units() - 500 * 1_000_000);
    // Ninety intents at once: the gateway handles them in far less than the window's 2 s.
    let cids: Vec<_> = (0..90)
        .map(|_| r.send(Side::Buy, OrderKind::Limit, TimeInForce::Gtc, far, "0.001"))
        .collect();
    let mut refused = std::collections::HashMap::new();
    let mut acked = std::collections::HashSet::new();
    let all_answered = common::wait_for(Duration::from_secs(20), || {
        while let Some(u) = r.updates.try_recv() {
            match u.refused {
                Some(why) => {
                    refused.insert(u.cid, why);
                }
                None if u.status == OrderStatus::Acked => {
                    acked.insert(u.cid);
                }
                None => {}
            }
        }
        (refused.len() + acked.len() == cids.len()).then_some(())
    });
    assert!(
        all_answered.is_some(),
        "{} refused, {} acked of {}",
        refused.len(),
        acked.len(),
        cids.len()
    );
    assert!(
        refused.values().all(|w| *w == Refusal::OrderLimit),
        "{refused:?}"
    );
    assert!(
        acked.len() >= 60 && !refused.is_empty(),
        "{} acked",
        acked.len()
    );
    // The first sixty always go; a refused one never reached the venue.
    assert!(cids[..60].iter().all(|c| acked.contains(c)));
    let sim = r.sim_orders();
    assert_eq!(sim.len(), acked.len());
    assert!(refused.keys().all(|c| !sim.contains_key(c.as_str())));
    r.stop();
}

/// OKX's `amend-order` in place: a resting order keeps its client and venue ids while its
/// price and size change on the simulator; an amend the venue refuses (a post-only order
/// moved across the book) leaves the order as it was; an amend of an ended order is refused
/// by the gateway itself. Every answer reaches the strategy as the order's update.
#[test]
fn okx_amends_orders_in_place() {
    amends_in_place(OrderTransport::WsApi);
}

/// The same over REST (`POST /api/v5/trade/amend-order`): the answer takes the request, the
/// `orders` channel reports the amended order.
#[test]
fn okx_amends_orders_in_place_over_rest() {
    amends_in_place(OrderTransport::Rest);
}

/// A post-only bid 300 ticks under the market, resting (acknowledged): its id and price.
fn rest_a_far_bid(r: &mut Rig) -> (mako::types::ClientOrderId, mako::types::Price) {
    use mako::types::order::{OrderKind, TimeInForce};
    use mako::types::{Price, Side};
    let (bid, _) = r.book();
    let far = Price::from_units(bid.units() - 300 * TICK);
    let cid = r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        far,
        "0.002",
    );
    let acked = common::wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv())
            .find(|u| u.cid == cid && u.status == OrderStatus::Acked)
    });
    assert!(acked.is_some(), "the order rests");
    (cid, far)
}

/// 0.01 in price units.
const TICK: i64 = 1_000_000;

fn amend(r: &Rig, cid: mako::types::ClientOrderId, price: mako::types::Price, qty: &str) {
    r.intents
        .send(mako::gateway::OrderIntent::Amend {
            strategy: mako::types::StrategyId(0),
            cid,
            price,
            qty: mako::types::Qty::parse(qty).unwrap(),
        })
        .unwrap();
}

fn amends_in_place(transport: OrderTransport) {
    use mako::types::{Price, Qty};
    let mut r = rig(GatewayOptions::default(), transport);
    let (cid, far) = rest_a_far_bid(&mut r);
    let (_, ask) = r.book();
    let tick = TICK;
    let sim_order = |r: &Rig| r.sim_orders().get(&cid.to_string()).cloned().unwrap();
    let venue_id = sim_order(&r)["orderId"].clone();
    let amend = |r: &Rig, price: Price, qty: &str| amend(r, cid, price, qty);

    // Moved up 100 ticks and to 0.003: same ids, new price and size on the venue.
    let moved = Price::from_units(far.units() + 100 * tick);
    amend(&r, moved, "0.003");
    let u = common::wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv()).find(|u| u.cid == cid && u.price == moved)
    })
    .expect("the amended order's update");
    assert_eq!(
        (u.qty, u.status),
        (Qty::parse("0.003").unwrap(), OrderStatus::Acked)
    );
    let on_venue = sim_order(&r);
    assert_eq!(on_venue["orderId"], venue_id, "the venue's id is kept");
    assert_eq!(on_venue["status"], "NEW");
    assert_eq!(
        Price::parse(on_venue["price"].as_str().unwrap()).unwrap(),
        moved
    );
    assert_eq!(
        Qty::parse(on_venue["origQty"].as_str().unwrap()).unwrap(),
        Qty::parse("0.003").unwrap()
    );
    assert_eq!(r.sim_orders().len(), 1, "no second order was placed");

    // A post-only order moved through the ask: the venue refuses, the order stays put.
    let through = Price::from_units(ask.units() + 200 * tick);
    amend(&r, through, "0.003");
    let u = common::wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv()).find(|u| u.cid == cid)
    })
    .expect("the refused amend's update");
    assert_eq!((u.price, u.status), (moved, OrderStatus::Acked));
    assert_eq!(
        Price::parse(sim_order(&r)["price"].as_str().unwrap()).unwrap(),
        moved
    );

    // Cancelled, then amended: the gateway answers with the order as it ended.
    r.cancel(cid);
    let cancelled = common::wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv())
            .find(|u| u.cid == cid && u.status == OrderStatus::Cancelled)
    });
    assert!(cancelled.is_some());
    amend(&r, far, "0.002");
    let u = common::wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv()).find(|u| u.cid == cid)
    })
    .expect("an answer to the late amend");
    assert_eq!((u.price, u.status), (moved, OrderStatus::Cancelled));
    common::wait_for(Duration::from_secs(10), || {
        r.refresh();
        (r.last.counters.amends_sent == 2).then_some(())
    })
    .expect("two amends were written, the third refused before the venue");
    r.stop();
}

/// An amend whose answer and order push are both lost: past the acknowledgement deadline the
/// gateway queries the order, takes the venue's price and size from the answer, and the order
/// can be amended again.
#[test]
fn an_amend_whose_answer_and_push_are_lost_is_settled_by_a_query() {
    use mako::types::{Price, Qty};
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(500),
        ..GatewayOptions::default()
    };
    let mut r = rig(options, OrderTransport::WsApi);
    let (cid, far) = rest_a_far_bid(&mut r);
    let tick = TICK;
    let amend = |r: &Rig, price: Price, qty: &str| amend(r, cid, price, qty);
    let on_venue = |r: &Rig| {
        let o = r.sim_orders().get(&cid.to_string()).cloned().unwrap();
        Price::parse(o["price"].as_str().unwrap()).unwrap()
    };
    r.sim.faults().set_drop_ack_rate(1.0);
    r.sim.faults().set_drop_user_event_rate(1.0);
    let moved = Price::from_units(far.units() + 50 * tick);
    amend(&r, moved, "0.003");
    common::wait_for(Duration::from_secs(10), || {
        (on_venue(&r) == moved).then_some(())
    })
    .expect("the venue amended the order");
    let u = common::wait_for(Duration::from_secs(20), || {
        std::iter::from_fn(|| r.updates.try_recv()).find(|u| u.cid == cid && u.price == moved)
    })
    .expect("the query's answer brings the venue's price");
    assert_eq!(
        (u.qty, u.status),
        (Qty::parse("0.003").unwrap(), OrderStatus::Acked)
    );
    common::wait_for(Duration::from_secs(10), || {
        r.refresh();
        (r.last.counters.queries_sent >= 1).then_some(())
    })
    .expect("learned by a query");
    // No amend is pending any more: the next one goes to the venue (answers flow again).
    r.sim.faults().set_drop_ack_rate(0.0);
    r.sim.faults().set_drop_user_event_rate(0.0);
    let again = Price::from_units(moved.units() + 50 * tick);
    amend(&r, again, "0.003");
    common::wait_for(Duration::from_secs(10), || {
        (on_venue(&r) == again).then_some(())
    })
    .expect("the second amend reached the venue");
    let u = common::wait_for(Duration::from_secs(10), || {
        std::iter::from_fn(|| r.updates.try_recv()).find(|u| u.cid == cid && u.price == again)
    });
    assert!(u.is_some(), "its answer moved the engine's order");
    r.cancel(cid);
    r.stop();
}
