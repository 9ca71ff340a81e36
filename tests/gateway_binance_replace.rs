//! Binance re-quotes in one request, against the simulator: the gateway turns a `Replace`
//! intent into one `order.cancelReplace` (WebSocket API) or `POST /api/v3/order/cancelReplace`
//! (REST), `STOP_ON_FAILURE`; orders agree with `/sim/state` afterwards. Each partial-failure
//! form is mapped: the new order failing leaves the old one cancelled and the new rejected;
//! the cancel failing leaves the new one not attempted (rejected) and the old one queried.
//! A smaller quantity at the same price is a keep-priority amend, and the amended order is
//! still first in its queue (the fill order shows it). The simulator's own answers are also
//! checked by hand against the documented shapes (HMAC signed here, not by mako).
//! The market holds still (`source = "path"` without a path), so resting quotes stay put.

mod common;
mod sim_support;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_with};
use common::{start_sim, wait_for};
use mako::config::OrderTransport;
use mako::gateway::{GatewayOptions, NewOrderIntent, OrderIntent};
use mako::types::{
    ClientOrderId, InstrumentId, OrderKind, OrderStatus, Price, Qty, Side, StrategyId, TimeInForce,
    UnixNanos,
};
use serde_json::{Value, json};

const STILL: &str = "source = \"path\"\n[limits]\norders_per_10s = 100000\n";
const WAIT: Duration = Duration::from_secs(30);

fn rig(transport: OrderTransport) -> Rig {
    rig_with(
        start_sim(STILL),
        transport,
        GatewayOptions::default(),
        1_700_000_000_777,
        None,
    )
}

fn tick() -> Price {
    Price::parse("0.01").unwrap()
}

fn below(p: Price, ticks: i64) -> Price {
    Price::from_units(p.units() - ticks * tick().units())
}

/// Replaces `old` by a new post-only order; returns the new order's id.
fn replace(r: &mut Rig, old: ClientOrderId, side: Side, price: Price, qty: &str) -> ClientOrderId {
    let cid = r.minter.mint();
    r.sides.insert(cid, side);
    let new = NewOrderIntent {
        reduce_only: false,
        cid,
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        side,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price,
        qty: Qty::parse(qty).unwrap(),
        tick_at: UnixNanos(0),
    };
    r.intents
        .send(OrderIntent::Replace { cid: old, new })
        .unwrap();
    cid
}

/// Waits until the engine holds `cid` in `status`.
fn wait_status(r: &mut Rig, cid: ClientOrderId, status: OrderStatus) {
    let ok = wait_for(WAIT, || {
        r.refresh();
        r.last
            .orders
            .iter()
            .any(|o| o.cid == cid && o.status == status)
            .then_some(())
    });
    assert!(
        ok.is_some(),
        "{cid} never {status:?}: {:?}",
        r.last.orders.iter().find(|o| o.cid == cid)
    );
}

fn maker(r: &mut Rig, side: Side, price: Price, qty: &str) -> ClientOrderId {
    let cid = r.send(side, OrderKind::LimitMaker, TimeInForce::Gtc, price, qty);
    wait_status(r, cid, OrderStatus::Acked);
    cid
}

/// Five re-quotes of a bid: each one request, the old order cancelled and the new one
/// resting, as the simulator holds them.
fn requotes_are_one_request_each(transport: OrderTransport) -> Rig {
    let mut r = rig(transport);
    let (bid, _) = r.book();
    let mut live = maker(&mut r, Side::Buy, below(bid, 20), "0.001");
    let mut old = Vec::new();
    for k in 1..=5 {
        let next = replace(&mut r, live, Side::Buy, below(bid, 20 + k), "0.001");
        wait_status(&mut r, next, OrderStatus::Acked);
        wait_status(&mut r, live, OrderStatus::Cancelled);
        old.push(live);
        live = next;
    }
    assert_eq!(r.assert_books_agree(WAIT, 6), 6);
    let c = &r.last.counters;
    assert_eq!(
        (c.cancel_replaces_sent, c.orders_sent, c.cancels_sent),
        (5, 6, 5),
        "{c:?}"
    );
    let sim = r.sim_orders();
    for cid in &old {
        assert_eq!(sim[cid.as_str()]["status"], "CANCELED");
    }
    assert_eq!(sim[live.as_str()]["status"], "NEW");
    r
}

#[test]
fn requotes_over_the_ws_api_are_one_request_each() {
    let mut r = requotes_are_one_request_each(OrderTransport::WsApi);
    r.stop();
}

#[test]
fn requotes_over_rest_are_one_request_each() {
    let mut r = requotes_are_one_request_each(OrderTransport::Rest);
    // The simulator's own log of what arrived: five cancel-replaces, no separate cancel.
    let log = r.sim.rest_log();
    let count = |m: &str, p: &str| log.iter().filter(|e| e.method == m && e.path == p).count();
    assert_eq!(count("POST", "/api/v3/order/cancelReplace"), 5);
    assert_eq!(count("DELETE", "/api/v3/order"), 0);
    assert_eq!(count("POST", "/api/v3/order"), 1);
    r.stop();
}

/// cancelResult SUCCESS, newOrderResult FAILURE (409, -2021): a post-only bid at the ask
/// would take, so the old bid is cancelled and the new one rejected.
#[test]
fn a_failed_new_order_leaves_the_old_one_cancelled() {
    for transport in [OrderTransport::WsApi, OrderTransport::Rest] {
        let mut r = rig(transport);
        let (bid, ask) = r.book();
        let old = maker(&mut r, Side::Buy, below(bid, 20), "0.001");
        let new = replace(&mut r, old, Side::Buy, ask, "0.001");
        wait_status(&mut r, old, OrderStatus::Cancelled);
        wait_status(&mut r, new, OrderStatus::Rejected);
        r.assert_books_agree(WAIT, 2);
        assert!(!r.sim_orders().contains_key(new.as_str()));
        assert_eq!(r.last.counters.cancel_replaces_sent, 1);
        r.stop();
    }
}

/// cancelResult FAILURE, newOrderResult NOT_ATTEMPTED (400, -2022): the old order was
/// cancelled behind the engine's back (its user-stream report dropped), so the cancel half
/// fails; nothing is placed, the new order is rejected and the old one is queried (found
/// cancelled).
#[test]
fn a_failed_cancel_places_nothing() {
    for transport in [OrderTransport::WsApi, OrderTransport::Rest] {
        let mut r = rig(transport);
        let (bid, _) = r.book();
        let old = maker(&mut r, Side::Buy, below(bid, 20), "0.001");
        r.sim.faults().set_drop_user_event_rate(1.0);
        let gone = sim_support::signed(
            &r.sim,
            "DELETE",
            "/api/v3/order",
            &format!("symbol=BTCUSDT&origClientOrderId={old}"),
        );
        assert_eq!(gone.status, 200, "{}", gone.body);
        let new = replace(&mut r, old, Side::Buy, below(bid, 21), "0.001");
        wait_status(&mut r, new, OrderStatus::Rejected);
        wait_status(&mut r, old, OrderStatus::Cancelled);
        r.sim.faults().set_drop_user_event_rate(0.0);
        r.assert_books_agree(WAIT, 2);
        assert!(!r.sim_orders().contains_key(new.as_str()));
        r.stop();
    }
}

/// `order.amend.keepPriority`: the first of two asks at the best ask (behind the venue's
/// own quantity there) is cut from 0.002 to 0.001 and keeps its place: a buy for the
/// quantity ahead of it plus 0.0005 trades with it, not with the second ask. A price change
/// is not a keep-priority amend: the gateway refuses it (the order is unchanged).
#[test]
fn a_keep_priority_amend_keeps_the_queue_place() {
    for transport in [OrderTransport::WsApi, OrderTransport::Rest] {
        let mut r = rig(transport);
        let (_, ask) = r.book();
        let first = maker(&mut r, Side::Sell, ask, "0.002");
        let second = maker(&mut r, Side::Sell, ask, "0.002");
        // (time priority, external quantity ahead) of an order, in the simulator.
        let place_of = |r: &Rig, cid: ClientOrderId| {
            r.sim.with_exchange(|ex| {
                ex.orders
                    .values()
                    .find(|o| o.client_order_id == cid.as_str())
                    .map(|o| (o.seq, o.queue_ahead))
                    .unwrap()
            })
        };
        let before = place_of(&r, first);
        r.intents
            .send(OrderIntent::Amend {
                strategy: StrategyId(0),
                cid: first,
                price: ask,
                qty: Qty::parse("0.001").unwrap(),
            })
            .unwrap();
        let amended = wait_for(WAIT, || {
            r.refresh();
            r.last
                .orders
                .iter()
                .any(|o| o.cid == first && o.qty == Qty::parse("0.001").unwrap())
                .then_some(())
        });
        assert!(amended.is_some(), "{:?}", r.last.orders);
        assert_eq!(r.last.counters.amends_sent, 1);
        assert_eq!(
            r.sim_orders()[first.as_str()]["origQty"],
            "0.00100000",
            "the venue holds the new quantity"
        );
        let after = place_of(&r, first);
        assert_eq!(
            before.0, after.0,
            "the amended order keeps its time priority"
        );
        assert!(after.0 < place_of(&r, second).0);
        let refused_before = r.last.counters.refused;
        r.intents
            .send(OrderIntent::Amend {
                strategy: StrategyId(0),
                cid: second,
                price: Price::from_units(ask.units() + tick().units()),
                qty: Qty::parse("0.002").unwrap(),
            })
            .unwrap();
        let refused = wait_for(WAIT, || {
            r.refresh();
            (r.last.counters.refused > refused_before).then_some(())
        });
        assert!(refused.is_some(), "a price change is not amended in place");
        assert_eq!(r.last.counters.amends_sent, 1);
        // A buy for what is ahead of the first ask (rounded up to the lot) and half of it.
        let lot = 1_000; // 0.00001
        let ahead = place_of(&r, first).1;
        let take = Qty::from_units((ahead + lot - 1) / lot * lot + 50_000);
        let taker = r.send(
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Ioc,
            ask,
            &take.to_string(),
        );
        wait_status(&mut r, taker, OrderStatus::Filled);
        let sim = r.sim_orders();
        let exec = |cid: ClientOrderId| {
            Qty::parse(sim[cid.as_str()]["executedQty"].as_str().unwrap()).unwrap()
        };
        assert!(
            exec(first).is_positive(),
            "the amended ask traded first: {sim:?}"
        );
        assert_eq!(exec(second), Qty::ZERO, "the later ask did not trade");
        r.assert_books_agree(WAIT, 3);
        r.stop();
    }
}

/// Signs WebSocket API params by hand (sorted `k=v` joined by `&`, HMAC-SHA256 hex).
fn signed_params(mut p: serde_json::Map<String, Value>) -> Value {
    p.insert("apiKey".into(), json!(sim_support::KEY));
    p.insert("timestamp".into(), json!(sim_support::now_ms()));
    let mut keys: Vec<_> = p.keys().cloned().collect();
    keys.sort();
    let payload = keys
        .iter()
        .map(|k| match &p[k] {
            Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join("&");
    p.insert(
        "signature".into(),
        json!(sim_support::sign(sim_support::SECRET, &payload)),
    );
    Value::Object(p)
}

#[test]
fn the_simulator_answers_cancel_replace_as_binance_documents() {
    let sim = start_sim(STILL);
    let mut ws = sim_support::ws_connect(&sim.ws_api_url());
    let call = |ws: &mut sim_support::Ws, id: &str, method: &str, p: Value| {
        let params = signed_params(p.as_object().unwrap().clone());
        sim_support::send(ws, &json!({"id": id, "method": method, "params": params}));
        sim_support::wait_json(ws, |v| v["id"] == id)
    };
    let bid = |ws: &mut sim_support::Ws, id: &str, cid: &str, price: &str| {
        call(
            ws,
            id,
            "order.place",
            json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "price": price,
                   "quantity": "0.001", "newClientOrderId": cid}),
        )
    };
    let cr = |ws: &mut sim_support::Ws, id: &str, old: &str, new: &str, price: &str| {
        call(
            ws,
            id,
            "order.cancelReplace",
            json!({"symbol": "BTCUSDT", "cancelReplaceMode": "STOP_ON_FAILURE",
                   "cancelOrigClientOrderId": old, "side": "BUY", "type": "LIMIT_MAKER",
                   "price": price, "quantity": "0.001", "newClientOrderId": new,
                   "newOrderRespType": "ACK"}),
        )
    };
    assert_eq!(bid(&mut ws, "p1", "a1", "50000.00")["status"], 200);
    // Both succeed: 200, the cancel in order.cancel's shape, the new order as ACK.
    let ok = cr(&mut ws, "c1", "a1", "a2", "50000.01");
    assert_eq!(ok["status"], 200, "{ok}");
    let res = &ok["result"];
    assert_eq!(
        (&res["cancelResult"], &res["newOrderResult"]),
        (&json!("SUCCESS"), &json!("SUCCESS"))
    );
    assert_eq!(res["cancelResponse"]["status"], "CANCELED");
    assert_eq!(res["cancelResponse"]["origClientOrderId"], "a1");
    assert_eq!(res["newOrderResponse"]["clientOrderId"], "a2");
    // The cancel fails (a1 is gone): 400, -2022, NOT_ATTEMPTED, newOrderResponse null.
    let failed = cr(&mut ws, "c2", "a1", "a3", "50000.02");
    assert_eq!(failed["status"], 400, "{failed}");
    assert_eq!(failed["error"]["code"], -2022);
    let d = &failed["error"]["data"];
    assert_eq!(d["cancelResult"], "FAILURE");
    assert_eq!(d["newOrderResult"], "NOT_ATTEMPTED");
    assert_eq!(d["cancelResponse"]["code"], -2011);
    assert!(d["newOrderResponse"].is_null());
    // The new order fails (a post-only bid far above the market would take): 409, -2021,
    // the old order cancelled.
    let partial = cr(&mut ws, "c3", "a2", "a4", "70000.00");
    assert_eq!(partial["status"], 409, "{partial}");
    assert_eq!(partial["error"]["code"], -2021);
    let d = &partial["error"]["data"];
    assert_eq!(
        (&d["cancelResult"], &d["newOrderResult"]),
        (&json!("SUCCESS"), &json!("FAILURE"))
    );
    assert_eq!(d["cancelResponse"]["status"], "CANCELED");
    assert_eq!(d["newOrderResponse"]["code"], -2010);
    // REST answers the partial failure with HTTP 409 and the same body.
    bid(&mut ws, "p2", "b1", "50000.00");
    let resp = sim_support::signed(
        &sim,
        "POST",
        "/api/v3/order/cancelReplace",
        "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&cancelReplaceMode=STOP_ON_FAILURE&quantity=0.001&price=70000.00&cancelOrigClientOrderId=b1&newClientOrderId=b2",
    );
    assert_eq!(resp.status, 409, "{}", resp.body);
    let v = resp.json();
    assert_eq!(v["code"], -2021);
    assert_eq!(v["data"]["newOrderResult"], "FAILURE");
    // Keep-priority: a smaller quantity, answered with amendedOrder and its new qty.
    bid(&mut ws, "p3", "k1", "50000.00");
    let amended = call(
        &mut ws,
        "m1",
        "order.amend.keepPriority",
        json!({"symbol": "BTCUSDT", "origClientOrderId": "k1", "newClientOrderId": "k1",
               "newQty": "0.0005"}),
    );
    assert_eq!(amended["status"], 200, "{amended}");
    assert_eq!(amended["result"]["amendedOrder"]["qty"], "0.00050000");
    assert_eq!(amended["result"]["amendedOrder"]["clientOrderId"], "k1");
    // Not smaller: refused, the order unchanged.
    let up = call(
        &mut ws,
        "m2",
        "order.amend.keepPriority",
        json!({"symbol": "BTCUSDT", "origClientOrderId": "k1", "newQty": "0.001"}),
    );
    assert_eq!(up["status"], 400, "{up}");
}
