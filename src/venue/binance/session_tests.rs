//! Unit tests of the WebSocket API session: requests matched to answers, uncertain outcomes,
//! the Ed25519 logon, cancel-replace and the keep-priority amend.

use super::*;
use crate::types::StrategyId;
use crate::types::order::SnapshotStatus;
use crate::venue::binance::errors::pause_ms;

fn session() -> Session {
    Session::new(&Secret::new("key"), &Secret::new("secret"), 5000)
}

fn id_of(req: &[u8]) -> String {
    let v: Value = serde_json::from_slice(req).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

#[test]
fn answers_are_matched_to_their_requests() {
    let mut s = session();
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
    let mut buf = Vec::new();
    s.place(
        "BTCUSDT",
        &cid,
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::from_int(100),
        Qty::from_int(1),
        2,
        5,
        1,
        &mut buf,
    );
    let place_id = id_of(&buf);
    s.status("BTCUSDT", &cid, 2, &mut buf);
    let status_id = id_of(&buf);
    let mut ev = Vec::new();
    let ack = format!(
        r#"{{"id":"{place_id}","status":200,"result":{{"symbol":"BTCUSDT","orderId":5,"orderListId":-1,"clientOrderId":"{cid}","transactTime":7}},"rateLimits":[{{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":12}}]}}"#
    );
    s.on_frame(ack.as_bytes(), UnixNanos(9), &mut ev);
    assert_eq!(
        ev,
        vec![SessionEvent::Order {
            cid,
            event: OrderEvent::Accepted {
                venue_order_id: 5.into(),
                at: UnixNanos::from_millis(7)
            }
        }]
    );
    assert_eq!(s.weight_used, 12);
    ev.clear();
    let not_found = format!(
        r#"{{"id":"{status_id}","status":400,"error":{{"code":-2013,"msg":"Order does not exist."}}}}"#
    );
    s.on_frame(not_found.as_bytes(), UnixNanos(9), &mut ev);
    assert_eq!(ev, vec![SessionEvent::NotFound { cid }]);
    ev.clear();
    // A second answer to the same id is not matched to anything.
    s.on_frame(not_found.as_bytes(), UnixNanos(9), &mut ev);
    assert!(matches!(ev[0], SessionEvent::Undecodable(_)));
}

#[test]
fn uncertain_outcomes_and_rejections() {
    let mut s = session();
    let cid = ClientOrderId::mint(1, StrategyId(0), 2).unwrap();
    let mut buf = Vec::new();
    let mut ev = Vec::new();
    s.place(
        "BTCUSDT",
        &cid,
        Side::Sell,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::from_int(100),
        Qty::from_int(1),
        2,
        5,
        1,
        &mut buf,
    );
    let id = id_of(&buf);
    s.on_frame(
        format!(
            r#"{{"id":"{id}","status":400,"error":{{"code":-2010,"msg":"insufficient balance"}}}}"#
        )
        .as_bytes(),
        UnixNanos(1),
        &mut ev,
    );
    assert!(matches!(&ev[0], SessionEvent::PlaceRejected { error, .. } if error.code == -2010));
    ev.clear();
    s.place(
        "BTCUSDT",
        &cid,
        Side::Sell,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::from_int(100),
        Qty::from_int(1),
        2,
        5,
        1,
        &mut buf,
    );
    let id = id_of(&buf);
    s.on_frame(
        format!(r#"{{"id":"{id}","status":503,"error":{{"code":-1007,"msg":"timeout"}}}}"#)
            .as_bytes(),
        UnixNanos(1),
        &mut ev,
    );
    assert_eq!(ev, vec![SessionEvent::Uncertain { cid }]);
    ev.clear();
    s.cancel("BTCUSDT", &cid, 3, &mut buf);
    let id = id_of(&buf);
    let resp = format!(
        r#"{{"id":"{id}","status":200,"result":{{"symbol":"BTCUSDT","origClientOrderId":"{cid}","orderId":4,"orderListId":-1,"clientOrderId":"x","transactTime":1,"price":"100.00","origQty":"1.00000000","executedQty":"0.25000000","origQuoteOrderQty":"0","cummulativeQuoteQty":"25.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT_MAKER","side":"SELL","selfTradePreventionMode":"NONE"}}}}"#
    );
    s.on_frame(resp.as_bytes(), UnixNanos(4), &mut ev);
    match &ev[0] {
        SessionEvent::Order {
            cid: c,
            event: OrderEvent::Snapshot {
                status, cum_qty, ..
            },
        } => {
            assert_eq!(
                (*c, *status, *cum_qty),
                (cid, SnapshotStatus::Cancelled, Qty::parse("0.25").unwrap())
            );
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(s.reset_inflight(), vec![]);
}

/// RFC 8032 §7.1 test 1's seed, as base64: a published test key.
const ED_SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

#[test]
fn an_ed25519_session_logs_on_then_signs_nothing() {
    let mut s = Session::new_ed25519(&Secret::new("key"), &Secret::new(ED_SEED), 5000).unwrap();
    let public = crate::venue::ed25519::signing_key(ED_SEED)
        .unwrap()
        .verifying_key();
    let mut buf = Vec::new();
    // Connected: the first frame is session.logon, signed over apiKey and timestamp.
    s.on_connected(1_700_000_000_000, &mut buf);
    let logon: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(logon["method"], "session.logon");
    assert_eq!(logon["params"]["apiKey"], "key");
    assert_eq!(logon["params"]["timestamp"], 1_700_000_000_000u64);
    let sig = logon["params"]["signature"].as_str().unwrap();
    assert!(crate::venue::ed25519::verify_base64(
        &public,
        b"apiKey=key&timestamp=1700000000000",
        sig
    ));
    // Before the answer an order is signed with the key itself (base64).
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
    let place = |s: &mut Session, buf: &mut Vec<u8>| {
        s.place(
            "BTCUSDT",
            &cid,
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Gtc,
            Price::from_int(100),
            Qty::from_int(1),
            2,
            5,
            1_700_000_000_001,
            buf,
        )
    };
    place(&mut s, &mut buf);
    let early: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(early["params"]["apiKey"], "key");
    assert_eq!(
        early["params"]["signature"].as_str().map(str::len),
        Some(88)
    );
    // The logon is answered: logged in, and the user stream is subscribed unsigned.
    let mut ev = Vec::new();
    let answer = format!(
        r#"{{"id":"{}","status":200,"result":{{"apiKey":"key","authorizedSince":1700000000000,"connectedSince":1700000000000,"returnRateLimits":false,"serverTime":1700000000000}}}}"#,
        logon["id"].as_str().unwrap()
    );
    s.on_frame(answer.as_bytes(), UnixNanos(1), &mut ev);
    assert_eq!(ev, vec![SessionEvent::LoggedIn]);
    assert!(s.logged_on());
    assert!(s.after_login(0, &mut buf));
    let sub: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(sub["method"], "userDataStream.subscribe");
    assert!(sub.get("params").is_none());
    // Logged on: no apiKey, no signature, the rest as before.
    place(&mut s, &mut buf);
    let text = std::str::from_utf8(&buf).unwrap();
    let v: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(v["method"], "order.place");
    assert!(v["params"].get("apiKey").is_none(), "{text}");
    assert!(v["params"].get("signature").is_none(), "{text}");
    assert_eq!(v["params"]["newClientOrderId"], cid.as_str());
    assert_eq!(v["params"]["timestamp"], 1_700_000_000_001u64);
    // A new connection logs on again.
    s.reset_inflight();
    assert!(!s.logged_on());
    s.on_connected(1_700_000_000_002, &mut buf);
    let again: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(again["method"], "session.logon");
    // A key that is not Ed25519 is refused at start, without showing it.
    let bad = Session::new_ed25519(&Secret::new("key"), &Secret::new("hmac-secret"), 5000);
    assert!(bad.is_err());
}

#[test]
fn cancel_replace_over_the_ws_api_is_one_signed_request() {
    use hmac::{KeyInit, Mac};
    let mut s = session();
    let (old, new) = (
        ClientOrderId::mint(1, StrategyId(0), 1).unwrap(),
        ClientOrderId::mint(1, StrategyId(0), 2).unwrap(),
    );
    let o = PlaceOrder {
        symbol: "BTCUSDT",
        cid: &new,
        side: Side::Buy,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("100.5").unwrap(),
        qty: Qty::parse("0.001").unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    };
    assert!(s.cancel_replaces());
    let mut buf = Vec::new();
    assert!(OrderSession::cancel_replace(&mut s, &old, &o, 7, &mut buf));
    let v: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(v["method"], "order.cancelReplace");
    let p = v["params"].as_object().unwrap();
    assert_eq!(p["cancelReplaceMode"], "STOP_ON_FAILURE");
    assert_eq!(p["cancelOrigClientOrderId"], old.as_str());
    assert_eq!(p["newClientOrderId"], new.as_str());
    assert_eq!(p["newOrderRespType"], "ACK");
    assert_eq!(p["quantity"], "0.00100");
    // The signature, checked with hmac directly over the sorted params as documented.
    let mut keys: Vec<&String> = p.keys().filter(|k| *k != "signature").collect();
    keys.sort();
    let payload = keys
        .iter()
        .map(|k| match &p[k.as_str()] {
            Value::String(x) => format!("{k}={x}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join("&");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"secret").unwrap();
    mac.update(payload.as_bytes());
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(p["signature"], want.as_str());
    let id = v["id"].as_str().unwrap().to_owned();
    // The 409 partial failure in error.data: old cancelled, new rejected.
    let frame = format!(
        r#"{{"id":"{id}","status":409,"error":{{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{{"symbol":"BTCUSDT","origClientOrderId":"{old}","orderId":125690984230,"orderListId":-1,"clientOrderId":"91fe37ce9e69c90d6358c0","transactTime":1684804350068,"price":"23450.00000000","origQty":"0.00847000","executedQty":"0.00001000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.23450000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL","selfTradePreventionMode":"NONE"}},"newOrderResponse":{{"code":-2010,"msg":"Order would immediately match and take."}}}}}}}}"#
    );
    let mut ev = Vec::new();
    s.on_frame(frame.as_bytes(), UnixNanos(1), &mut ev);
    assert!(
        matches!(&ev[0], SessionEvent::Order { cid, event: OrderEvent::Snapshot { status: SnapshotStatus::Cancelled, .. } } if *cid == old),
        "{ev:?}"
    );
    assert!(
        matches!(&ev[1], SessionEvent::PlaceRejected { cid, error } if *cid == new && error.code == -2010),
        "{ev:?}"
    );
    // A lost connection: the old order is chased too.
    OrderSession::cancel_replace(&mut s, &old, &o, 8, &mut buf);
    let lost = s.reset_inflight();
    assert!(lost.contains(&Purpose::Place(new)) && lost.contains(&Purpose::Cancel(old)));
    // An error without data (a bad parameter): neither happened.
    let mut s = session();
    OrderSession::cancel_replace(&mut s, &old, &o, 9, &mut buf);
    let id = id_of(&buf);
    ev.clear();
    s.on_frame(
        format!(r#"{{"id":"{id}","status":400,"error":{{"code":-1102,"msg":"x"}}}}"#).as_bytes(),
        UnixNanos(1),
        &mut ev,
    );
    assert!(matches!(&ev[0], SessionEvent::CancelRejected { cid, .. } if *cid == old));
    assert!(matches!(&ev[1], SessionEvent::PlaceRejected { cid, .. } if *cid == new));
}

#[test]
fn keep_priority_amend_over_the_ws_api() {
    let mut s = session();
    let cid = ClientOrderId::mint(1, StrategyId(0), 3).unwrap();
    let o = PlaceOrder {
        symbol: "BTCUSDT",
        cid: &cid,
        side: Side::Sell,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("5").unwrap(),
        qty: Qty::parse("0.5").unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    };
    assert!(s.amends_in_place());
    assert_eq!(
        s.amend_limits(),
        crate::venue::order::AmendLimits::QuantityDownOnly
    );
    let mut buf = Vec::new();
    assert!(OrderSession::amend(&mut s, &o, 1, &mut buf));
    let v: Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(v["method"], "order.amend.keepPriority");
    assert_eq!(v["params"]["newQty"], "0.50000");
    assert_eq!(v["params"]["origClientOrderId"], cid.as_str());
    assert_eq!(v["params"]["newClientOrderId"], cid.as_str());
    assert!(v["params"].get("price").is_none());
    let id = v["id"].as_str().unwrap().to_owned();
    let mut ev = Vec::new();
    s.on_frame(format!(r#"{{"id":"{id}","status":200,"result":{{"transactTime":1741923284382,"executionId":16,"amendedOrder":{{"symbol":"BTCUSDT","orderId":12,"orderListId":-1,"origClientOrderId":"{cid}","clientOrderId":"{cid}","price":"5.00000000","qty":"0.50000000","executedQty":"0.00000000","preventedQty":"0.00000000","quoteOrderQty":"0.00000000","cumulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"SELL","workingTime":1741923282009,"selfTradePreventionMode":"NONE"}}}}}}"#).as_bytes(), UnixNanos(1), &mut ev);
    assert_eq!(
        ev,
        vec![SessionEvent::Order {
            cid,
            event: OrderEvent::Amended {
                price: Price::from_int(5),
                qty: Qty::parse("0.5").unwrap(),
                at: UnixNanos::from_millis(1741923284382)
            }
        }]
    );
    OrderSession::amend(&mut s, &o, 1, &mut buf);
    let id = id_of(&buf);
    ev.clear();
    s.on_frame(
        format!(
            r#"{{"id":"{id}","status":400,"error":{{"code":-2011,"msg":"Unknown order sent."}}}}"#
        )
        .as_bytes(),
        UnixNanos(3),
        &mut ev,
    );
    assert_eq!(
        ev,
        vec![SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: -2011,
                at: UnixNanos(3)
            }
        }]
    );
}

#[test]
fn a_too_many_orders_answer_pauses_new_orders_for_the_window_it_names() {
    let e = |code: i32, msg: &'static str| (code, msg);
    let pause_ms = |(code, msg): (i32, &str)| pause_ms(code, msg);
    let m = "Too many new orders; current limit is 50 orders per 10 SECOND.";
    assert_eq!(pause_ms(e(-1015, m)), 10_000);
    let m = "Too many new orders; current limit is 10 orders per 1 SECOND.";
    assert_eq!(pause_ms(e(-1015, m)), 1_000);
    let m = "Too many new orders; current limit is 160000 orders per 1 DAY.";
    assert_eq!(pause_ms(e(-1015, m)), 60_000);
    assert_eq!(pause_ms(e(-1015, "Too many new orders.")), 10_000);
    assert_eq!(pause_ms(e(-1003, "Too much request weight used")), 1_000);
}
