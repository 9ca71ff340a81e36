//! The typed fast path of the Binance WebSocket API session reads the rest of what the order
//! path meets without a `serde_json::Value`: error answers (to a place, a cancel, a status
//! query, a keep-priority amend, a cancel-replace with and without its halves' `data`), and
//! the `outboundAccountPosition`, `balanceUpdate` and `listStatus` events. Literal frames as
//! Binance documents them, each with the events expected, fed to a session on each path
//! (they must agree, and the fast one must take the frame); then random ones, which must
//! agree whichever path takes them.

#[path = "binance_typed/pair.rs"]
mod pair;

use pair::{Pair, Req, all_requests, cid};
use proptest::prelude::*;

use mako::types::order::{AssetCode, OrderEvent};
use mako::types::{Price, Qty};
use mako::venue::binance::session::SessionEvent;
use mako::venue::order::{Balance, VenueError};

const WEIGHT: &str = r#"[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":3},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":77}]"#;

fn error(code: i32, msg: &str) -> VenueError {
    VenueError {
        code,
        msg: msg.to_owned(),
    }
}

/// Issues `req` on a fresh pair, feeds the answer `{"id", "status", "error": error, …}`;
/// returns the events after checking both paths agree, the fast one took it and noted the
/// weight.
fn error_answer(req: Req, status: u16, error: &str) -> Vec<SessionEvent> {
    let mut p = Pair::test();
    let (id, _) = p.request(req, Price::from_int(1), Qty::from_int(1), 1);
    let frame =
        format!(r#"{{"id":"{id}","status":{status},"error":{error},"rateLimits":{WEIGHT}}}"#);
    assert!(p.feed(frame.as_bytes()), "not on the fast path: {frame}");
    assert_eq!((p.fast.weight_used, p.fast.weight_limit), (77, 6000));
    p.fast_events.clone()
}

#[test]
fn error_answers_to_each_request_take_the_fast_path() {
    let (a, b) = (cid(1), cid(2));
    let insufficient = "Account has insufficient balance for requested action.";
    let body = format!(r#"{{"code":-2010,"msg":"{insufficient}"}}"#);
    assert_eq!(
        error_answer(Req::Place(a), 400, &body),
        [SessionEvent::PlaceRejected {
            cid: a,
            error: error(-2010, insufficient)
        }]
    );
    let unknown = r#"{"code":-2011,"msg":"Unknown order sent."}"#;
    assert_eq!(
        error_answer(Req::Cancel(a), 400, unknown),
        [SessionEvent::CancelRejected {
            cid: a,
            error: error(-2011, "Unknown order sent.")
        }]
    );
    let missing = r#"{"code":-2013,"msg":"Order does not exist."}"#;
    assert_eq!(
        error_answer(Req::Status(a), 400, missing),
        [SessionEvent::NotFound { cid: a }]
    );
    assert_eq!(
        error_answer(Req::Amend(a), 400, r#"{"code":-2038,"msg":"no"}"#),
        [SessionEvent::Order {
            cid: a,
            event: OrderEvent::AmendRejected {
                code: -2038,
                at: mako::types::UnixNanos(42)
            }
        }]
    );
    // Refused as a whole (bad parameters: no `data`): neither order changed.
    let bad = r#"{"code":-1102,"msg":"Mandatory parameter 'quantity' was not sent."}"#;
    let e = error(-1102, "Mandatory parameter 'quantity' was not sent.");
    assert_eq!(
        error_answer(Req::Replace(a, b), 400, bad),
        [
            SessionEvent::CancelRejected {
                cid: a,
                error: e.clone()
            },
            SessionEvent::PlaceRejected { cid: b, error: e }
        ]
    );
}

#[test]
fn rate_limits_bans_and_unknown_outcomes_on_the_fast_path() {
    let (a, b) = (cid(1), cid(2));
    let too_many =
        r#"{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}"#;
    let ev = error_answer(Req::Place(a), 429, too_many);
    assert_eq!(
        ev[0],
        SessionEvent::RateLimited {
            retry_after_ms: 10_000
        }
    );
    assert!(matches!(ev[1], SessionEvent::PlaceRejected { cid, .. } if cid == a));
    let banned = r#"{"code":-1003,"msg":"Way too many requests; IP banned."}"#;
    assert_eq!(
        error_answer(Req::Cancel(a), 418, banned),
        [
            SessionEvent::Banned,
            SessionEvent::RateLimited {
                retry_after_ms: 1_000
            },
            SessionEvent::Uncertain { cid: a }
        ]
    );
    let timeout = r#"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#;
    assert_eq!(
        error_answer(Req::Place(a), 408, timeout),
        [SessionEvent::Uncertain { cid: a }]
    );
    assert_eq!(
        error_answer(Req::Replace(a, b), 503, r#"{"code":-1001,"msg":"down"}"#),
        [
            SessionEvent::Uncertain { cid: a },
            SessionEvent::Uncertain { cid: b }
        ]
    );
    // A message that is absent or null reads as empty on both paths.
    assert_eq!(
        error_answer(Req::Place(a), 400, r#"{"code":-2010,"msg":null}"#),
        [SessionEvent::PlaceRejected {
            cid: a,
            error: error(-2010, "")
        }]
    );
}

/// A cancel-replace's error with its halves (`data`), as Binance documents the two forms
/// mako can meet with `STOP_ON_FAILURE`.
#[test]
fn cancel_replace_halves_in_an_error_take_the_fast_path() {
    let (a, b) = (cid(1), cid(2));
    let cancelled = format!(
        r#"{{"symbol":"BTCUSDT","origClientOrderId":"{a}","orderId":5,"orderListId":-1,"clientOrderId":"x1","transactTime":7,"price":"1.00","origQty":"1.00000","executedQty":"0.20000","cummulativeQuoteQty":"0.20","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY","selfTradePreventionMode":"NONE"}}"#
    );
    // -2021: the cancel went through, the new order was refused (HTTP 409).
    let partial = format!(
        r#"{{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{cancelled},"newOrderResponse":{{"code":-2010,"msg":"Order would immediately match and take."}}}}}}"#
    );
    let ev = error_answer(Req::Replace(a, b), 409, &partial);
    assert!(
        matches!(ev[0], SessionEvent::Order { cid, event: OrderEvent::Snapshot { .. } } if cid == a),
        "{ev:?}"
    );
    assert_eq!(
        ev[1],
        SessionEvent::PlaceRejected {
            cid: b,
            error: error(-2010, "Order would immediately match and take.")
        }
    );
    // -2022: the cancel failed, so the new order was not attempted (HTTP 400).
    let failed = r#"{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}}"#;
    let ev = error_answer(Req::Replace(a, b), 400, failed);
    assert_eq!(
        ev[0],
        SessionEvent::CancelRejected {
            cid: a,
            error: error(-2011, "Unknown order sent.")
        }
    );
    assert!(
        matches!(&ev[1], SessionEvent::PlaceRejected { cid, error } if *cid == b && error.code == -2022),
        "{ev:?}"
    );
}

fn balance(asset: &str, free: &str, locked: &str) -> Balance {
    Balance {
        asset: AssetCode::new(asset.as_bytes()).unwrap(),
        free: Qty::parse(free).unwrap(),
        locked: Qty::parse(locked).unwrap(),
    }
}

/// Feeds an event frame to a fresh pair; its events after checking both paths agree and
/// whether the fast path took it.
fn event(frame: &str) -> (Vec<SessionEvent>, bool) {
    let mut p = Pair::test();
    let fast = p.feed(frame.as_bytes());
    (p.fast_events.clone(), fast)
}

#[test]
fn account_events_take_the_fast_path() {
    // A fill touches the base and the quote: each balance applies on its own (the event
    // lists only what changed).
    let position = r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"BTC","f":"1.00400000","l":"0.00000000"},{"a":"USDT","f":"99799.80000000","l":"500.00000000"}]}}"#;
    assert_eq!(
        event(position),
        (
            vec![
                SessionEvent::BalanceUpdate(balance("BTC", "1.004", "0")),
                SessionEvent::BalanceUpdate(balance("USDT", "99799.8", "500"))
            ],
            true
        )
    );
    let deposit = r#"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}}"#;
    assert_eq!(
        event(deposit),
        (vec![SessionEvent::Ignored("balanceUpdate")], true)
    );
    let list = r#"{"subscriptionId":0,"event":{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":2,"c":"OCO","l":"EXEC_STARTED","L":"EXECUTING","r":"NONE","C":"F4QN4G8DlFATFlIUQ0cjdD","T":1564035303625,"O":[{"s":"ETHBTC","i":17,"c":"AJYsMjErWJesZvqlJCTUgL"},{"s":"ETHBTC","i":18,"c":"bfYPSQdLoqAJeNrOr9adzq"}]}}"#;
    assert_eq!(
        event(list),
        (vec![SessionEvent::Ignored("listStatus")], true)
    );
    // More balances than the fast path holds: the `Value` path reads them, the same way.
    let many: Vec<String> = (0..9)
        .map(|i| format!(r#"{{"a":"A{i}","f":"1.0","l":"0.0"}}"#))
        .collect();
    let many = format!(
        r#"{{"subscriptionId":0,"event":{{"e":"outboundAccountPosition","E":1,"u":1,"B":[{}]}}}}"#,
        many.join(",")
    );
    let (ev, fast) = event(&many);
    assert_eq!((ev.len(), fast), (9, false));
    // A bad balance: the `Value` path's error, on both.
    let bad = r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"a":"BTC","f":"x","l":"0"}]}}"#;
    let (ev, fast) = event(bad);
    assert!(
        matches!(&ev[..], [SessionEvent::Undecodable(_)]) && !fast,
        "{ev:?}"
    );
}

fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-2010".to_owned()),
        Just("-2011".to_owned()),
        Just("-2013".to_owned()),
        Just("-1015".to_owned()),
        Just("-1003".to_owned()),
        Just("-1007".to_owned()),
        Just("-2021".to_owned()),
        Just("1099511627776".to_owned()),
        Just("\"-2010\"".to_owned()),
        Just("1.5".to_owned()),
    ]
}

fn msg() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("\"Order would immediately match and take.\"".to_owned()),
        2 => Just("\"Too many new orders; current limit is 10 orders per 1 SECOND.\"".to_owned()),
        1 => Just("\"\"".to_owned()),
        1 => Just("null".to_owned()),
        1 => Just("7".to_owned()),
        1 => Just("\"say \\\"no\\\"\"".to_owned()),
    ]
}

/// `{code, msg}` with either key sometimes missing.
fn code_msg() -> BoxedStrategy<String> {
    (code(), msg(), 0..6u8)
        .prop_map(|(c, m, drop)| match drop {
            0 => format!(r#"{{"msg":{m}}}"#),
            1 => format!(r#"{{"code":{c}}}"#),
            _ => format!(r#"{{"code":{c},"msg":{m}}}"#),
        })
        .boxed()
}

fn order_text() -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","origClientOrderId":"{}","orderId":5,"orderListId":-1,"clientOrderId":"{}","transactTime":7,"price":"1.00","origQty":"1.00000","executedQty":"0.00000","cummulativeQuoteQty":"0.00","status":"CANCELED","side":"BUY"}}"#,
        cid(1),
        cid(2)
    )
}

/// A cancel-replace's `data`: the three outcomes mako meets and a few it should not.
fn halves() -> BoxedStrategy<String> {
    let half = prop_oneof![
        2 => Just(order_text()),
        2 => code_msg(),
        1 => Just("null".to_owned()),
        1 => Just("[]".to_owned()),
    ];
    let result = prop_oneof![
        Just("\"SUCCESS\""),
        Just("\"FAILURE\""),
        Just("\"NOT_ATTEMPTED\""),
        Just("\"ELSE\""),
        Just("null")
    ];
    (result.clone(), result, half.clone(), half)
        .prop_map(|(cr, nr, c, n)| {
            format!(
                r#"{{"cancelResult":{cr},"newOrderResult":{nr},"cancelResponse":{c},"newOrderResponse":{n}}}"#
            )
        })
        .boxed()
}

fn error_body() -> BoxedStrategy<String> {
    prop_oneof![
        3 => code_msg(),
        2 => (code(), msg(), halves()).prop_map(|(c, m, d)| format!(r#"{{"code":{c},"msg":{m},"data":{d}}}"#)),
        1 => Just("null".to_owned()),
        1 => Just("\"oops\"".to_owned()),
    ]
    .boxed()
}

fn balances() -> BoxedStrategy<String> {
    let entry = prop_oneof![
        6 => ("[A-Z]{1,6}", "[0-9]{1,4}\\.[0-9]{1,8}", "[0-9]{1,4}\\.[0-9]{1,8}")
            .prop_map(|(a, f, l)| format!(r#"{{"a":"{a}","f":"{f}","l":"{l}"}}"#)),
        1 => Just(r#"{"a":"TOOLONGASSETCODE","f":"1","l":"0"}"#.to_owned()),
        1 => Just(r#"{"a":"BTC","f":1,"l":"0"}"#.to_owned()),
        1 => Just(r#"{"a":"BTC","l":"0"}"#.to_owned()),
        1 => Just("null".to_owned()),
    ];
    prop::collection::vec(entry, 0..11)
        .prop_map(|v| format!("[{}]", v.join(",")))
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_error_answers_decode_alike(
        body in error_body(),
        status in prop_oneof![Just(400u16), Just(409), Just(418), Just(429), Just(503)],
        kind in 0..5usize,
        with_result in any::<bool>(),
    ) {
        let mut p = Pair::test();
        let (id, _) = p.request(all_requests()[kind], Price::from_int(1), Qty::from_int(1), 1);
        let result = if with_result { format!(r#","result":{}"#, order_text()) } else { String::new() };
        let frame = format!(r#"{{"id":"{id}","status":{status},"error":{body}{result},"rateLimits":{WEIGHT}}}"#);
        p.feed(frame.as_bytes());
    }

    #[test]
    fn random_account_events_decode_alike(
        kind in prop_oneof![Just("outboundAccountPosition"), Just("balanceUpdate"), Just("listStatus"), Just("externalLockUpdate")],
        list in balances(),
        wrap in any::<bool>(),
    ) {
        let body = format!(r#"{{"e":"{kind}","E":1,"u":1,"B":{list}}}"#);
        let frame = if wrap { format!(r#"{{"subscriptionId":0,"event":{body}}}"#) } else { body };
        let mut p = Pair::test();
        p.feed(frame.as_bytes());
    }
}
