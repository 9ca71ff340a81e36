//! Batch orders through the venue seam (issues 21/22), against the simulator, each burst of
//! intents handed to the gateway in one poll (`gateway_rig::bursts`):
//! - Delta (`POST` / `DELETE /v2/orders/batch`): a burst of four limit orders (three resting,
//!   one crossing and filled) is one batch request and no single order request; every order
//!   and fill agrees with `/sim/state`; the burst's four cancels are one batch cancel. A
//!   batch with a post-only order that would cross: that order is rejected, the others
//!   rest; a burst of one order is the single-order request. A batch answered 5xx after it executed: every order is found by query and is
//!   held once by the venue.
//! - Bybit's trade WebSocket (`order.create-batch` / `order.cancel-batch`, spot): the same
//!   burst is one batch op and no `order.create`; an order the balance cannot pay is
//!   rejected alone; a batch whose answer (and the orders' pushes) are dropped: every
//!   order found by query, none duplicated.
//!
//! Requests are counted in the simulator's request log (`SimHandle::rest_log`; the trade
//! socket's ops are logged as method `WS`).

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, bursts, rig_for, rig_perp};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::rest::RestOptions;
use mako::gateway::{GatewayOptions, NewOrderIntent, OrderIntent};
use mako::types::{
    ClientOrderId, InstrumentId, OrderKind, OrderStatus, Price, Qty, Side, StrategyId, TimeInForce,
    UnixNanos,
};
use serde_json::Value;

const DELTA_SIM: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\ntick_size = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\nmax_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000.0\"\nlevels = 200\nkind = \"linear-perpetual\"\nleverage = \"10\"\ncontract_value = \"0.001\"\n\n[[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", USD = \"5000000\" }\n";

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

/// One order of a burst: side, kind, price, quantity.
type Spec = (Side, OrderKind, Price, &'static str);

/// Hands `orders` to the gateway as one burst; their client ids.
fn burst(r: &mut Rig, orders: &[Spec]) -> Vec<ClientOrderId> {
    let mut cids = Vec::new();
    let mut intents = Vec::new();
    for &(side, kind, price, qty) in orders {
        let cid = r.minter.mint();
        r.sides.insert(cid, side);
        cids.push(cid);
        intents.push(OrderIntent::New(NewOrderIntent {
            reduce_only: false,
            cid,
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            side,
            kind,
            tif: TimeInForce::Gtc,
            price,
            qty: Qty::parse(qty).unwrap(),
            tick_at: UnixNanos(0),
        }));
    }
    bursts().send(intents).unwrap();
    cids
}

fn cancel_burst(cids: &[ClientOrderId]) {
    let intents = cids
        .iter()
        .map(|&cid| OrderIntent::Cancel {
            strategy: StrategyId(0),
            cid,
        })
        .collect();
    bursts().send(intents).unwrap();
}

/// Requests the simulator saw with this method and path (the trade socket's: `WS`, op).
fn seen(r: &Rig, method: &str, path: &str) -> usize {
    r.sim
        .rest_log()
        .iter()
        .filter(|e| e.method == method && e.path == path)
        .count()
}

/// Waits until each of `cids` has the status `want` gives it in the gateway's view.
fn wait_statuses(r: &mut Rig, cids: &[ClientOrderId], want: impl Fn(usize) -> OrderStatus) {
    let ok = wait_for(Duration::from_secs(30), || {
        r.refresh();
        cids.iter()
            .enumerate()
            .all(|(k, c)| {
                r.last
                    .orders
                    .iter()
                    .any(|o| o.cid == *c && o.status == want(k))
            })
            .then_some(())
    });
    assert!(
        ok.is_some(),
        "statuses never reached: {:?}",
        r.last
            .orders
            .iter()
            .map(|o| (o.cid, o.status))
            .collect::<Vec<_>>()
    );
}

/// How many orders the simulator holds for client id `cid` (account 0).
fn sim_count(r: &Rig, cid: &ClientOrderId) -> usize {
    let state = r.sim.state();
    state["accounts"][0]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["clientOrderId"].as_str() == Some(cid.as_str()))
        .count()
}

fn delta_book(r: &Rig) -> (Price, Price) {
    let url = format!(
        "{}/api/v3/ticker/bookTicker?symbol=BTCUSD",
        r.sim.rest_url()
    );
    let body = wait_for(Duration::from_secs(20), || {
        let mut resp = ureq::get(&url).call().ok()?;
        resp.body_mut().read_to_string().ok()
    })
    .expect("the simulator answers bookTicker");
    let v: Value = serde_json::from_str(&body).unwrap();
    let p = |k: &str| Price::parse(v[k].as_str().unwrap()).unwrap();
    (p("bidPrice"), p("askPrice"))
}

fn ticks(p: Price, tick: &str, n: i64) -> Price {
    Price::from_units(p.units() + n * Price::parse(tick).unwrap().units())
}

fn delta_rig() -> Rig {
    rig_perp(
        VenueKind::DeltaIndia,
        start_sim(DELTA_SIM),
        options(),
        "10",
        true,
    )
}

#[test]
fn delta_burst_is_one_batch_request_and_agrees_with_the_venue() {
    let mut r = delta_rig();
    let (bid, ask) = delta_book(&r);
    let orders = [
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -40), "2"),
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -50), "2"),
        (Side::Sell, OrderKind::Limit, ticks(ask, "0.5", 40), "3"),
        // Crosses the book: filled at once.
        (Side::Buy, OrderKind::Limit, ticks(ask, "0.5", 20), "1"),
    ];
    let cids = burst(&mut r, &orders);
    wait_statuses(&mut r, &cids, |k| {
        if k == 3 {
            OrderStatus::Filled
        } else {
            OrderStatus::Acked
        }
    });
    assert_eq!(seen(&r, "POST", "/v2/orders/batch"), 1);
    assert_eq!(seen(&r, "POST", "/v2/orders"), 0, "no single order request");
    let n = r.assert_books_agree(Duration::from_secs(20), 4);
    assert_eq!(n, 4);

    cancel_burst(&cids[..3]);
    wait_statuses(&mut r, &cids[..3], |_| OrderStatus::Cancelled);
    assert_eq!(seen(&r, "DELETE", "/v2/orders/batch"), 1);
    assert_eq!(
        seen(&r, "DELETE", "/v2/orders"),
        0,
        "no single cancel request"
    );
    r.assert_books_agree(Duration::from_secs(20), 4);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn delta_batch_item_refused_alone() {
    let mut r = delta_rig();
    let (bid, ask) = delta_book(&r);
    let orders = [
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -40), "1"),
        // Post-only at the ask: it would take, Delta refuses it.
        (Side::Buy, OrderKind::LimitMaker, ticks(ask, "0.5", 10), "1"),
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -60), "1"),
    ];
    let cids = burst(&mut r, &orders);
    wait_statuses(&mut r, &cids, |k| {
        if k == 1 {
            OrderStatus::Rejected
        } else {
            OrderStatus::Acked
        }
    });
    assert_eq!(seen(&r, "POST", "/v2/orders/batch"), 1);
    assert_eq!(seen(&r, "POST", "/v2/orders"), 0);
    assert_eq!(
        sim_count(&r, &cids[1]),
        0,
        "the venue holds no refused order"
    );
    r.assert_books_agree(Duration::from_secs(20), 2);

    // A burst of one order: the single-order request, as before batches.
    let one = burst(
        &mut r,
        &[(Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -70), "1")],
    );
    wait_statuses(&mut r, &one, |_| OrderStatus::Acked);
    assert_eq!(seen(&r, "POST", "/v2/orders/batch"), 1);
    assert_eq!(
        seen(&r, "POST", "/v2/orders"),
        1,
        "the lone order went alone"
    );
    r.assert_books_agree(Duration::from_secs(20), 3);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn delta_batch_answered_5xx_after_it_executed_is_found_by_query() {
    let mut r = delta_rig();
    let (bid, _) = delta_book(&r);
    r.sim.faults().set_http_5xx_after_rate(1.0);
    let orders = [
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -40), "1"),
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -50), "1"),
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.5", -60), "1"),
    ];
    let cids = burst(&mut r, &orders);
    let answered_500 = wait_for(Duration::from_secs(20), || {
        r.sim
            .rest_log()
            .iter()
            .any(|e| e.path == "/v2/orders/batch" && e.status == 500)
            .then_some(())
    });
    assert!(answered_500.is_some(), "the batch was answered 500");
    r.sim.faults().set_http_5xx_after_rate(0.0);
    wait_statuses(&mut r, &cids, |_| OrderStatus::Acked);
    for c in &cids {
        assert_eq!(sim_count(&r, c), 1, "{c:?} held once by the venue");
    }
    assert_eq!(seen(&r, "POST", "/v2/orders/batch"), 1, "not sent again");
    assert_eq!(seen(&r, "POST", "/v2/orders"), 0);
    r.assert_books_agree(Duration::from_secs(20), 3);
    let rest = r.last.rest.expect("REST-side figures");
    assert!(rest.unknown >= 1, "{rest:?}");
    r.assert_nothing_overdue();
    r.stop();
}

fn bybit_rig() -> Rig {
    rig_for(
        VenueKind::BybitSpot,
        start_sim(""),
        OrderTransport::WsApi,
        options(),
        1_700_000_000_123,
        None,
    )
}

#[test]
fn bybit_burst_is_one_batch_op_with_one_item_refused() {
    let mut r = bybit_rig();
    let (bid, ask) = r.book();
    let orders = [
        (
            Side::Buy,
            OrderKind::Limit,
            ticks(bid, "0.01", -300),
            "0.001",
        ),
        (
            Side::Buy,
            OrderKind::Limit,
            ticks(bid, "0.01", -400),
            "0.002",
        ),
        // 50 BTC at about the bid: more than the account's USDT.
        (Side::Buy, OrderKind::Limit, ticks(bid, "0.01", -500), "50"),
        (
            Side::Sell,
            OrderKind::Limit,
            ticks(ask, "0.01", 300),
            "0.001",
        ),
        // Crosses the book: filled at once.
        (
            Side::Buy,
            OrderKind::Limit,
            ticks(ask, "0.01", 100),
            "0.001",
        ),
    ];
    let cids = burst(&mut r, &orders);
    wait_statuses(&mut r, &cids, |k| match k {
        2 => OrderStatus::Rejected,
        4 => OrderStatus::Filled,
        _ => OrderStatus::Acked,
    });
    assert_eq!(seen(&r, "WS", "order.create-batch"), 1);
    assert_eq!(seen(&r, "WS", "order.create"), 0, "no single order op");
    assert_eq!(
        sim_count(&r, &cids[2]),
        0,
        "the venue holds no refused order"
    );
    r.assert_books_agree(Duration::from_secs(20), 4);

    let resting = [cids[0], cids[1], cids[3]];
    cancel_burst(&resting);
    wait_statuses(&mut r, &resting, |_| OrderStatus::Cancelled);
    assert_eq!(seen(&r, "WS", "order.cancel-batch"), 1);
    assert_eq!(seen(&r, "WS", "order.cancel"), 0, "no single cancel op");
    r.assert_books_agree(Duration::from_secs(20), 4);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn bybit_batch_whose_answer_is_dropped_is_found_by_query() {
    let mut r = bybit_rig();
    let (bid, _) = r.book();
    // The answer is lost and so are the order pushes: only a query can find the orders.
    r.sim.faults().set_drop_ack_rate(1.0);
    r.sim.faults().set_drop_user_event_rate(1.0);
    let orders = [
        (
            Side::Buy,
            OrderKind::Limit,
            ticks(bid, "0.01", -300),
            "0.001",
        ),
        (
            Side::Buy,
            OrderKind::Limit,
            ticks(bid, "0.01", -400),
            "0.001",
        ),
        (
            Side::Buy,
            OrderKind::Limit,
            ticks(bid, "0.01", -500),
            "0.001",
        ),
    ];
    let cids = burst(&mut r, &orders);
    let dropped = wait_for(Duration::from_secs(20), || {
        r.sim
            .rest_log()
            .iter()
            .any(|e| e.path == "order.create-batch" && e.status == 0)
            .then_some(())
    });
    assert!(dropped.is_some(), "the batch's answer was dropped");
    r.sim.faults().set_drop_ack_rate(0.0);
    wait_statuses(&mut r, &cids, |_| OrderStatus::Acked);
    r.sim.faults().set_drop_user_event_rate(0.0);
    for c in &cids {
        assert_eq!(sim_count(&r, c), 1, "{c:?} held once by the venue");
    }
    assert_eq!(seen(&r, "WS", "order.create-batch"), 1, "not sent again");
    assert_eq!(seen(&r, "WS", "order.create"), 0);
    r.assert_books_agree(Duration::from_secs(20), 3);
    assert!(r.last.counters.queries_sent > 0, "{:?}", r.last.counters);
    let rest = r.last.rest.expect("REST-side figures");
    assert!(rest.unknown >= 1, "the batch timed out: {rest:?}");
    r.assert_nothing_overdue();
    r.stop();
}

/// The simulator's price and original quantity of `cid`'s order (account 0).
fn sim_terms(r: &Rig, cid: &ClientOrderId) -> Option<(Price, Qty)> {
    let state = r.sim.state();
    let o = state["accounts"][0]["orders"]
        .as_array()?
        .iter()
        .find(|o| o["clientOrderId"].as_str() == Some(cid.as_str()))?
        .clone();
    Some((
        Price::parse(o["price"].as_str()?).ok()?,
        Qty::parse(o["origQty"].as_str()?).ok()?,
    ))
}

#[test]
fn bybit_amends_of_one_burst_are_one_amend_batch() {
    let mut r = bybit_rig();
    let (bid, _) = r.book();
    let far = |n| ticks(bid, "0.01", n);
    let orders = [
        (Side::Buy, OrderKind::Limit, far(-300), "0.001"),
        (Side::Buy, OrderKind::Limit, far(-400), "0.001"),
        (Side::Buy, OrderKind::Limit, far(-500), "0.001"),
    ];
    let cids = burst(&mut r, &orders);
    wait_statuses(&mut r, &cids, |_| OrderStatus::Acked);
    // Two re-prices and one amend the account cannot pay for (50 BTC), in one burst.
    let new = [
        (far(-310), "0.002"),
        (far(-410), "0.001"),
        (far(-500), "50"),
    ];
    let intents = cids
        .iter()
        .zip(new)
        .map(|(&cid, (price, qty))| OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price,
            qty: Qty::parse(qty).unwrap(),
        })
        .collect();
    bursts().send(intents).unwrap();
    let want = [
        (far(-310), Qty::parse("0.002").unwrap()),
        (far(-410), Qty::parse("0.001").unwrap()),
        (far(-500), Qty::parse("0.001").unwrap()),
    ];
    let moved = wait_for(Duration::from_secs(30), || {
        (0..3)
            .all(|k| sim_terms(&r, &cids[k]) == Some(want[k]))
            .then_some(())
    });
    assert!(
        moved.is_some(),
        "the venue's terms: {:?}",
        cids.iter().map(|c| sim_terms(&r, c)).collect::<Vec<_>>()
    );
    assert_eq!(seen(&r, "WS", "order.amend-batch"), 1);
    assert_eq!(seen(&r, "WS", "order.amend"), 0, "no single amend op");
    assert_eq!(seen(&r, "WS", "order.cancel"), 0, "amended in place");
    assert_eq!(seen(&r, "WS", "order.create"), 0, "no new order");
    // The amends settled in the engine: every order still open, one order each at the venue,
    // and nothing left pending.
    wait_statuses(&mut r, &cids, |_| OrderStatus::Acked);
    for c in &cids {
        assert_eq!(sim_count(&r, c), 1, "the order keeps its ids");
    }
    let settled = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.counters.amends_sent == 3 && r.last.overdue == 0).then_some(())
    });
    assert!(settled.is_some(), "{:?}", r.last.counters);
    assert_eq!(engine_qtys(&r, &cids), want.map(|w| w.1).to_vec());
    r.assert_books_agree(Duration::from_secs(20), 3);
    r.stop();
}

/// The engine's quantity of each of `cids`' orders.
fn engine_qtys(r: &Rig, cids: &[ClientOrderId]) -> Vec<Qty> {
    cids.iter()
        .map(|c| {
            r.last
                .orders
                .iter()
                .find(|o| o.cid == *c)
                .map_or(Qty::ZERO, |o| o.qty)
        })
        .collect()
}

#[test]
fn bybit_amend_batch_whose_answer_is_dropped_is_settled_by_query() {
    let mut r = bybit_rig();
    let (bid, _) = r.book();
    let far = |n| ticks(bid, "0.01", n);
    let orders = [
        (Side::Buy, OrderKind::Limit, far(-300), "0.001"),
        (Side::Buy, OrderKind::Limit, far(-400), "0.001"),
    ];
    let cids = burst(&mut r, &orders);
    wait_statuses(&mut r, &cids, |_| OrderStatus::Acked);
    // The answer is lost and so are the order pushes: only a query can tell the new terms.
    r.sim.faults().set_drop_ack_rate(1.0);
    r.sim.faults().set_drop_user_event_rate(1.0);
    let intents = cids
        .iter()
        .zip([far(-320), far(-420)])
        .map(|(&cid, price)| OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price,
            qty: Qty::parse("0.003").unwrap(),
        })
        .collect();
    bursts().send(intents).unwrap();
    let three = Qty::parse("0.003").unwrap();
    let found = wait_for(Duration::from_secs(30), || {
        r.refresh();
        (engine_qtys(&r, &cids) == vec![three, three]).then_some(())
    });
    assert!(found.is_some(), "engine: {:?}", engine_qtys(&r, &cids));
    assert_eq!(seen(&r, "WS", "order.amend-batch"), 1);
    assert_eq!(sim_terms(&r, &cids[0]), Some((far(-320), three)));
    assert_eq!(sim_terms(&r, &cids[1]), Some((far(-420), three)));
    assert!(r.last.counters.queries_sent > 0, "{:?}", r.last.counters);
    r.sim.faults().set_drop_ack_rate(0.0);
    r.sim.faults().set_drop_user_event_rate(0.0);
    r.assert_books_agree(Duration::from_secs(20), 2);
    r.stop();
}
