//! Unit tests of the REST codec: requests signed over the bytes sent, answers mapped into
//! session events from scripted responses, and the weight / 429 / 418 policy.

use super::*;
use crate::types::StrategyId;
use crate::types::order::{OrderEvent, SnapshotStatus};

const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const T0: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn codec() -> BinanceRest {
    BinanceRest::new(
        &crate::config::Secret::new("key"),
        HmacSigner::from_bytes(SECRET.as_bytes()),
        5000,
        6000,
    )
}

fn cid(n: u64) -> ClientOrderId {
    ClientOrderId::mint(1, StrategyId(0), n).unwrap()
}

fn place(c: &mut BinanceRest, id: &ClientOrderId, buf: &mut Vec<u8>) -> RestHead {
    c.place(
        "BTCUSDT",
        id,
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::parse("100.5").unwrap(),
        Qty::parse("0.001").unwrap(),
        2,
        5,
        1_700_000_000_000,
        buf,
    )
}

fn http(status: u16, body: &str) -> Answer<'_> {
    Answer::Http {
        status,
        headers: RateHeaders::default(),
        body: body.as_bytes(),
    }
}

fn answer(c: &mut BinanceRest, head: RestHead, a: Answer<'_>) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    c.on_answer(head.id, a, T0, &mut out);
    out
}

#[test]
fn requests_are_signed_over_the_bytes_sent() {
    let mut c = codec();
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let mut buf = Vec::new();
    let id = cid(1);
    let heads = [
        place(&mut c, &id, &mut buf),
        c.cancel("BTCUSDT", &id, 1, &mut buf),
        c.status("BTCUSDT", &id, 1, &mut buf),
        c.trades("BTCUSDT", &id, 42.into(), 1, &mut buf),
        c.open_orders("BTCUSDT", 1, &mut buf),
        c.account(1, &mut buf),
    ];
    let routes: Vec<(&str, &str, Class)> = heads
        .iter()
        .map(|h| (h.method.as_str(), h.path, h.class))
        .collect();
    assert_eq!(
        routes,
        vec![
            ("POST", "/api/v3/order", Class::Order),
            ("DELETE", "/api/v3/order", Class::Order),
            ("GET", "/api/v3/order", Class::Query),
            ("GET", "/api/v3/myTrades", Class::Query),
            ("GET", "/api/v3/openOrders", Class::Sweep),
            ("GET", "/api/v3/account", Class::Sweep),
        ]
    );
    // Each id is distinct and none is the keep-alive's 0.
    assert!(heads.windows(2).all(|w| w[0].id < w[1].id) && heads[0].id > 0);
    // The last buffer (account) is `recvWindow=..&timestamp=..&signature=<hmac of the rest>`.
    let q = std::str::from_utf8(&buf).unwrap();
    let (signed, sig) = q.rsplit_once("&signature=").unwrap();
    assert_eq!(signed, "recvWindow=5000&timestamp=1");
    assert_eq!(sig.as_bytes(), signer.sign_hex(signed.as_bytes()));
    c.trades("BTCUSDT", &id, 42.into(), 7, &mut buf);
    let q = std::str::from_utf8(&buf).unwrap();
    assert!(
        q.starts_with("symbol=BTCUSDT&orderId=42&recvWindow=5000&timestamp=7&signature="),
        "{q}"
    );
    place(&mut c, &id, &mut buf);
    let q = std::str::from_utf8(&buf).unwrap();
    assert!(
        q.contains("&newClientOrderId=mk") && !q.contains("apiKey"),
        "{q}"
    );
}

#[test]
fn successful_answers_become_order_events() {
    let mut c = codec();
    let mut buf = Vec::new();
    let id = cid(2);
    let h = place(&mut c, &id, &mut buf);
    let ack = format!(
        r#"{{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"{id}","transactTime":1507725176595}}"#
    );
    assert_eq!(
        answer(&mut c, h, http(200, &ack)),
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Accepted {
                venue_order_id: 28.into(),
                at: UnixNanos::from_millis(1507725176595)
            }
        }]
    );
    let h = c.cancel("BTCUSDT", &id, 1, &mut buf);
    let cancelled = format!(
        r#"{{"symbol":"BTCUSDT","origClientOrderId":"{id}","orderId":28,"orderListId":-1,"clientOrderId":"c1","transactTime":2,"price":"100.50","origQty":"0.00100","executedQty":"0.00040","cummulativeQuoteQty":"0.04020","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY"}}"#
    );
    match &answer(&mut c, h, http(200, &cancelled))[..] {
        [
            SessionEvent::Order {
                cid: got,
                event:
                    OrderEvent::Snapshot {
                        status, cum_qty, ..
                    },
            },
        ] => assert_eq!(
            (*got, *status, *cum_qty),
            (id, SnapshotStatus::Cancelled, Qty::parse("0.0004").unwrap())
        ),
        e => panic!("{e:?}"),
    }
    let h = c.trades("BTCUSDT", &id, 28.into(), 1, &mut buf);
    let trades = r#"[{"symbol":"BTCUSDT","id":7,"orderId":28,"price":"100.50","qty":"0.0004","quoteQty":"0.0402","commission":"0.00004020","commissionAsset":"USDT","time":1,"isBuyer":true,"isMaker":false,"isBestMatch":true}]"#;
    match &answer(&mut c, h, http(200, trades))[..] {
        [SessionEvent::Trades { cid: got, trades }] => {
            assert_eq!(*got, id);
            assert_eq!(
                (trades[0].0, trades[0].1),
                (7.into(), Qty::parse("0.0000402").unwrap())
            );
        }
        e => panic!("{e:?}"),
    }
    let h = c.open_orders("BTCUSDT", 1, &mut buf);
    assert_eq!(
        answer(&mut c, h, http(200, "[]")),
        vec![SessionEvent::OpenOrders {
            symbol: "BTCUSDT".into(),
            orders: vec![]
        }]
    );
    let h = c.account(1, &mut buf);
    let acct = r#"{"balances":[{"asset":"BTC","free":"1.5","locked":"0.25"}]}"#;
    match &answer(&mut c, h, http(200, acct))[..] {
        [SessionEvent::Balances(b)] => {
            assert_eq!(
                (b[0].asset.as_str(), b[0].locked),
                ("BTC", Qty::parse("0.25").unwrap())
            )
        }
        e => panic!("{e:?}"),
    }
    // An answer is matched once: a second answer to the same id is not an order event.
    assert!(matches!(
        answer(&mut c, h, http(200, acct))[..],
        [SessionEvent::Undecodable(_)]
    ));
}

#[test]
fn unknown_outcomes_are_queried_never_assumed_rejected() {
    let mut c = codec();
    let mut buf = Vec::new();
    let id = cid(3);
    let unknowns = [
        http(500, "<html>oops</html>"),
        http(
            503,
            r#"{"code":-1008,"msg":"Server is currently overloaded"}"#,
        ),
        http(
            408,
            r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#,
        ),
        http(403, "WAF"),
        Answer::Timeout,
        Answer::Transport,
        http(200, "{not json"),
    ];
    for a in unknowns {
        let h = place(&mut c, &id, &mut buf);
        let ev = answer(&mut c, h, a);
        assert_eq!(
            ev.last(),
            Some(&SessionEvent::Uncertain { cid: id }),
            "place, {a:?}"
        );
        assert!(
            !ev.iter()
                .any(|e| matches!(e, SessionEvent::PlaceRejected { .. })),
            "{a:?}"
        );
        let h = c.cancel("BTCUSDT", &id, 1, &mut buf);
        assert_eq!(
            answer(&mut c, h, a).last(),
            Some(&SessionEvent::Uncertain { cid: id }),
            "cancel, {a:?}"
        );
    }
    // A lost trades or sweep request is reported as failed (retried by the gateway).
    let h = c.trades("BTCUSDT", &id, 1.into(), 1, &mut buf);
    assert!(matches!(
        answer(&mut c, h, Answer::Timeout)[..],
        [SessionEvent::Failed {
            purpose: Purpose::Trades(_),
            ..
        }]
    ));
}

#[test]
fn venue_refusals_carry_their_binance_codes() {
    let mut c = codec();
    let mut buf = Vec::new();
    let id = cid(4);
    let h = place(&mut c, &id, &mut buf);
    let ev = answer(
        &mut c,
        h,
        http(
            400,
            r#"{"code":-2010,"msg":"Account has insufficient balance for requested action."}"#,
        ),
    );
    assert!(
        matches!(&ev[..], [SessionEvent::PlaceRejected { cid: got, error }] if *got == id && error.code == -2010),
        "{ev:?}"
    );
    let h = c.cancel("BTCUSDT", &id, 1, &mut buf);
    let ev = answer(
        &mut c,
        h,
        http(400, r#"{"code":-2011,"msg":"Unknown order sent."}"#),
    );
    assert!(matches!(&ev[..], [SessionEvent::CancelRejected { error, .. }] if error.code == -2011));
    let h = c.status("BTCUSDT", &id, 1, &mut buf);
    let ev = answer(
        &mut c,
        h,
        http(400, r#"{"code":-2013,"msg":"Order does not exist."}"#),
    );
    assert_eq!(ev, vec![SessionEvent::NotFound { cid: id }]);
    // A request the worker held back was never sent: the order is refused outright.
    let h = place(&mut c, &id, &mut buf);
    let ev = answer(&mut c, h, Answer::NotSent);
    assert!(matches!(&ev[..], [SessionEvent::PlaceRejected { error, .. }] if error.code == -1003));
}

fn headers(weight: u32, retry: Option<u64>) -> RateHeaders {
    RateHeaders {
        used_weight_1m: Some(weight),
        retry_after_s: retry,
        ..Default::default()
    }
}

#[test]
fn weight_near_the_limit_holds_back_sweeps_then_queries() {
    let mut p = RatePolicy::new(1000);
    for (weight, sweep, query) in [
        (0, true, true),
        (799, true, true),
        (800, false, true),
        (899, false, true),
        (900, false, false),
        (1200, false, false),
    ] {
        assert_eq!(p.note(200, &headers(weight, None), T0), None);
        assert_eq!(
            p.admit(Class::Sweep, T0).is_ok(),
            sweep,
            "sweep at {weight}"
        );
        assert_eq!(
            p.admit(Class::Query, T0).is_ok(),
            query,
            "query at {weight}"
        );
        assert_eq!(p.admit(Class::Order, T0), Ok(()), "orders at {weight}");
    }
    assert_eq!(p.admit(Class::Sweep, T0), Err(Hold::Busy));
    // The venue's counter resets with the minute: so does ours.
    let next_minute = T0.plus_nanos(60_000_000_000);
    assert_eq!(p.weight_used(next_minute), 0);
    assert_eq!(p.admit(Class::Sweep, next_minute), Ok(()));
}

#[test]
fn a_429_holds_everything_for_its_retry_after() {
    let mut p = RatePolicy::new(6000);
    assert_eq!(p.note(429, &headers(6001, Some(3)), T0), Some(3000));
    for class in [Class::Sweep, Class::Query, Class::Order] {
        assert_eq!(p.admit(class, T0), Err(Hold::RateLimited));
        assert_eq!(
            p.admit(class, T0.plus_nanos(2_999_000_000)),
            Err(Hold::RateLimited)
        );
    }
    let after = T0.plus_nanos(3_000_000_000);
    assert_eq!(p.admit(Class::Order, after), Ok(()));
    // Without Retry-After the wait doubles per consecutive 429, and a success resets it.
    let mut p = RatePolicy::new(6000);
    let waits: Vec<Option<u64>> = (0..3)
        .map(|_| p.note(429, &RateHeaders::default(), T0))
        .collect();
    assert_eq!(waits, vec![Some(1000), Some(2000), Some(4000)]);
    p.note(200, &RateHeaders::default(), T0);
    assert_eq!(p.note(429, &RateHeaders::default(), T0), Some(1000));
}

#[test]
fn a_418_bans_every_request_until_it_ends() {
    let mut c = codec();
    let mut buf = Vec::new();
    let id = cid(5);
    let h = place(&mut c, &id, &mut buf);
    let mut out = Vec::new();
    c.on_answer(
        h.id,
        Answer::Http {
            status: 418,
            headers: headers(9000, Some(120)),
            body: br#"{"code":-1003,"msg":"Way too much request weight used; IP banned until 1700000120000."}"#,
        },
        T0,
        &mut out,
    );
    assert!(
        matches!(&out[..], [SessionEvent::RateLimited { retry_after_ms: 120_000 }, SessionEvent::PlaceRejected { error, .. }] if error.code == -1003),
        "{out:?}"
    );
    let p = &c.policy;
    assert_eq!(p.banned_until(T0), Some(T0.plus_nanos(120_000_000_000)));
    assert_eq!(
        p.admit(Class::Order, T0.plus_nanos(119_000_000_000)),
        Err(Hold::Banned)
    );
    let after = T0.plus_nanos(120_000_000_000);
    assert_eq!(p.banned_until(after), None);
    assert_eq!(p.admit(Class::Order, after), Ok(()));
    // The worker's keep-alive (id 0) feeds the policy and nothing else.
    out.clear();
    c.on_answer(
        0,
        Answer::Http {
            status: 200,
            headers: headers(12, None),
            body: b"{}",
        },
        after,
        &mut out,
    );
    assert!(out.is_empty());
    assert_eq!(c.policy.weight_used(after), 12);
}

#[test]
fn rate_headers_are_read_in_any_case() {
    let h = rate_headers(&[
        ("X-MBX-USED-WEIGHT-1M", &b"57"[..]),
        ("x-mbx-order-count-10s", b"3"),
        ("X-MBX-ORDER-COUNT-1D", b"41"),
        ("Retry-After", b" 9 "),
        ("Content-Type", b"application/json"),
    ]);
    assert_eq!(
        h,
        RateHeaders {
            used_weight_1m: Some(57),
            order_count_10s: Some(3),
            order_count_1d: Some(41),
            retry_after_s: Some(9),
            window: None,
        }
    );
    assert_eq!(
        rate_headers(&[("retry-after", &b"soon"[..])]),
        RateHeaders::default()
    );
}

fn order(id: &ClientOrderId) -> PlaceOrder<'_> {
    PlaceOrder {
        symbol: "BTCUSDT",
        cid: id,
        side: Side::Sell,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("101.25").unwrap(),
        qty: Qty::parse("0.002").unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    }
}

#[test]
fn cancel_replace_is_one_signed_request_and_answers_for_both_orders() {
    let mut c = codec();
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let (old, new) = (cid(1), cid(2));
    let mut buf = Vec::new();
    let head = c.cancel_replace(&old, &order(&new), 1_700_000_000_000, &mut buf);
    assert_eq!(
        (head.method, head.path),
        (Method::Post, "/api/v3/order/cancelReplace")
    );
    let q = std::str::from_utf8(&buf).unwrap().to_owned();
    assert!(
        q.starts_with(&format!("symbol=BTCUSDT&side=SELL&type=LIMIT_MAKER&cancelReplaceMode=STOP_ON_FAILURE&quantity=0.00200&price=101.25&cancelOrigClientOrderId={old}&newClientOrderId={new}&newOrderRespType=ACK&recvWindow=5000&timestamp=1700000000000&signature=")),
        "{q}"
    );
    let (signed, sig) = q.rsplit_once("&signature=").unwrap();
    assert_eq!(sig.as_bytes(), signer.sign_hex(signed.as_bytes()));
    // One byte different: the signature no longer matches.
    let mut tampered = signed.as_bytes().to_vec();
    tampered[7] ^= 1;
    assert_ne!(sig.as_bytes(), signer.sign_hex(&tampered));
    // 200: old cancelled, new accepted.
    let both = format!(
        r#"{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{{"symbol":"BTCUSDT","origClientOrderId":"{old}","orderId":7,"orderListId":-1,"clientOrderId":"c","transactTime":1,"price":"100.00","origQty":"0.00200000","executedQty":"0","origQuoteOrderQty":"0","cummulativeQuoteQty":"0","status":"CANCELED","timeInForce":"GTC","type":"LIMIT_MAKER","side":"SELL"}},"newOrderResponse":{{"symbol":"BTCUSDT","orderId":8,"orderListId":-1,"clientOrderId":"{new}","transactTime":2}}}}"#
    );
    let ev = answer(&mut c, head, http(200, &both));
    assert!(
        matches!(&ev[0], SessionEvent::Order { cid, event: OrderEvent::Snapshot { status: SnapshotStatus::Cancelled, .. } } if *cid == old),
        "{ev:?}"
    );
    assert!(
        matches!(&ev[1], SessionEvent::Order { cid, event: OrderEvent::Accepted { .. } } if *cid == new),
        "{ev:?}"
    );
    // 400 -2022: the cancel failed, nothing placed.
    let head = c.cancel_replace(&old, &order(&new), 1, &mut buf);
    let failed = r#"{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}}"#;
    let ev = answer(&mut c, head, http(400, failed));
    assert!(
        matches!(&ev[0], SessionEvent::CancelRejected { cid, error } if *cid == old && error.code == -2011),
        "{ev:?}"
    );
    assert!(
        matches!(&ev[1], SessionEvent::PlaceRejected { cid, error } if *cid == new && error.code == -2022),
        "{ev:?}"
    );
    // 409 -2021: cancelled, the new order refused.
    let head = c.cancel_replace(&old, &order(&new), 1, &mut buf);
    let partial = both.replace(
        r#""newOrderResult":"SUCCESS""#,
        r#""newOrderResult":"FAILURE""#,
    );
    let partial = format!(
        r#"{{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{}}}"#,
        partial.replace(
            &format!(
                r#"{{"symbol":"BTCUSDT","orderId":8,"orderListId":-1,"clientOrderId":"{new}","transactTime":2}}"#
            ),
            r#"{"code":-2010,"msg":"Order would immediately match and take."}"#
        )
    );
    let ev = answer(&mut c, head, http(409, &partial));
    assert!(
        matches!(&ev[0], SessionEvent::Order { cid, .. } if *cid == old),
        "{ev:?}"
    );
    assert!(
        matches!(&ev[1], SessionEvent::PlaceRejected { cid, error } if *cid == new && error.code == -2010),
        "{ev:?}"
    );
    // 5xx or a timeout: both orders' fate unknown, both queried.
    let head = c.cancel_replace(&old, &order(&new), 1, &mut buf);
    let ev = answer(&mut c, head, Answer::Timeout);
    assert_eq!(
        ev,
        vec![
            SessionEvent::Uncertain { cid: old },
            SessionEvent::Uncertain { cid: new }
        ]
    );
    // A plain place answered the same way stays a place (the marker is per request).
    let head = place(&mut c, &new, &mut buf);
    let ev = answer(&mut c, head, Answer::Timeout);
    assert_eq!(ev, vec![SessionEvent::Uncertain { cid: new }]);
}

#[test]
fn keep_priority_amend_is_a_signed_put_answered_as_amended() {
    let mut c = codec();
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let id = cid(3);
    let mut buf = Vec::new();
    assert_eq!(
        RestCodec::amend_limits(&c),
        crate::venue::order::AmendLimits::QuantityDownOnly
    );
    let head = RestCodec::amend(&mut c, &order(&id), 1_700_000_000_000, &mut buf).unwrap();
    assert_eq!(
        (head.method, head.path),
        (Method::Put, "/api/v3/order/amend/keepPriority")
    );
    let q = std::str::from_utf8(&buf).unwrap().to_owned();
    assert!(
        q.starts_with(&format!("symbol=BTCUSDT&origClientOrderId={id}&newClientOrderId={id}&newQty=0.00200&recvWindow=5000")),
        "{q}"
    );
    let (signed, sig) = q.rsplit_once("&signature=").unwrap();
    assert_eq!(sig.as_bytes(), signer.sign_hex(signed.as_bytes()));
    let ok = r#"{"transactTime":1741923284382,"executionId":16,"amendedOrder":{"symbol":"BTCUSDT","orderId":12,"orderListId":-1,"origClientOrderId":"x","clientOrderId":"x","price":"101.25000000","qty":"0.00200000","executedQty":"0.00000000","preventedQty":"0.00000000","quoteOrderQty":"0.00000000","cumulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT_MAKER","side":"SELL","workingTime":1,"selfTradePreventionMode":"NONE"}}"#;
    let ev = answer(&mut c, head, http(200, ok));
    assert_eq!(
        ev,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Amended {
                price: Price::parse("101.25").unwrap(),
                qty: Qty::parse("0.002").unwrap(),
                at: UnixNanos::from_millis(1741923284382)
            }
        }]
    );
    let head = RestCodec::amend(&mut c, &order(&id), 1, &mut buf).unwrap();
    let ev = answer(
        &mut c,
        head,
        http(400, r#"{"code":-2011,"msg":"Unknown order sent."}"#),
    );
    assert_eq!(
        ev,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::AmendRejected {
                code: -2011,
                at: T0
            }
        }]
    );
}
