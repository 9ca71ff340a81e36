use super::*;
use crate::types::StrategyId;
use crate::types::order::SnapshotStatus;

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
