//! The Binance WebSocket API session's order path allocates nothing per frame once warm:
//! a counting global allocator is armed around each `Session::on_frame` of the answers and
//! events of a place → ack → NEW → balances → TRADE → cancel → CANCELED cycle, a
//! keep-priority amend, a cancel-replace, a deposit's `balanceUpdate`, repeated. Also
//! counted, separately: the requests' encoding (`place`, `cancel`, …, into a reused
//! buffer), and the error answers, whose only allocation is the venue's message that a
//! refusal carries to the gateway. The same cycle on the `serde_json::Value` path allocates
//! (which also shows the counter counts).

mod alloc_count;

use mako::config::Secret;
use mako::types::order::{OrderKind, TimeInForce};
use mako::types::{ClientOrderId, Price, Qty, Side, StrategyId, UnixNanos};
use mako::venue::binance::session::{Session, SessionEvent};
use mako::venue::order::PlaceOrder;

use alloc_count::{counted, counter_counts};

const WEIGHT: &str = r#"[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":3}]"#;

fn id_of(req: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(req).unwrap();
    v["id"].as_str().unwrap().parse().unwrap()
}

fn order_obj(cid: &ClientOrderId, status: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","origClientOrderId":"{cid}","orderId":7,"orderListId":-1,"clientOrderId":"x{cid}","transactTime":5,"price":"50000.00","origQty":"0.01000","executedQty":"0.00400","cummulativeQuoteQty":"200.00","status":"{status}","timeInForce":"GTC","type":"LIMIT","side":"BUY","selfTradePreventionMode":"NONE"}}"#
    )
}

const BALANCES: &str = r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":3,"u":3,"B":[{"a":"BTC","f":"1.00400000","l":"0.00000000"},{"a":"USDT","f":"99299.80000000","l":"500.00000000"}]}}"#;
const DEPOSIT: &str =
    r#"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":4,"a":"BTC","d":"0.10000000","T":4}}"#;

fn report(cid: &ClientOrderId, x: &str) -> String {
    format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":2,"s":"BTCUSDT","c":"{cid}","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000","p":"50000.00","C":"","x":"{x}","X":"NEW","i":7,"l":"0.00400","z":"0.00400","L":"50000.00","n":"0.2","N":"USDT","T":2,"t":9,"m":true,"Z":"200.00"}}}}"#
    )
}

/// Counts of one run of `cycles` cycles: (decode allocations, encode allocations, events).
fn run(typed: bool, cycles: u64) -> (u64, u64, usize) {
    let mut s = Session::new(&Secret::new("k"), &Secret::new("s"), 5_000);
    s.set_typed_decoder(typed);
    let mut buf = Vec::with_capacity(1024);
    let mut out: Vec<SessionEvent> = Vec::with_capacity(16);
    let (mut decode, mut encode, mut events) = (0, 0, 0);
    let px = Price::parse("50000.00").unwrap();
    let qty = Qty::parse("0.01").unwrap();
    for n in 0..cycles + 1 {
        let a = ClientOrderId::mint(1_700_000_000_000, StrategyId(0), 2 * n + 1).unwrap();
        let b = ClientOrderId::mint(1_700_000_000_000, StrategyId(0), 2 * n + 2).unwrap();
        // Requests: each answer's frame is made (allocating, not counted) after its request.
        let mut frames: Vec<Vec<u8>> = Vec::new();
        let mut enc = 0;
        let ((), c) = counted(|| {
            s.place(
                "BTCUSDT",
                &a,
                Side::Buy,
                OrderKind::Limit,
                TimeInForce::Gtc,
                px,
                qty,
                2,
                5,
                1,
                &mut buf,
            )
        });
        enc += c;
        let ack = format!(
            r#"{{"id":"{}","status":200,"result":{{"symbol":"BTCUSDT","orderId":7,"orderListId":-1,"clientOrderId":"{a}","transactTime":5}},"rateLimits":{WEIGHT}}}"#,
            id_of(&buf)
        );
        frames.push(ack.into_bytes());
        frames.push(report(&a, "NEW").into_bytes());
        frames.push(BALANCES.as_bytes().to_vec());
        frames.push(report(&a, "TRADE").into_bytes());
        frames.push(DEPOSIT.as_bytes().to_vec());
        let ((), c) = counted(|| {
            s.amend_keep_priority("BTCUSDT", &a, Qty::parse("0.008").unwrap(), 5, 1, &mut buf)
        });
        enc += c;
        frames.push(format!(
            r#"{{"id":"{}","status":200,"result":{{"transactTime":6,"executionId":3,"amendedOrder":{{"symbol":"BTCUSDT","orderId":7,"clientOrderId":"{a}","price":"50000.00","qty":"0.00800"}}}},"rateLimits":{WEIGHT}}}"#,
            id_of(&buf)
        ).into_bytes());
        let o = PlaceOrder {
            symbol: "BTCUSDT",
            cid: &b,
            side: Side::Buy,
            kind: OrderKind::Limit,
            tif: TimeInForce::Gtc,
            price: px,
            qty,
            price_decimals: 2,
            qty_decimals: 5,
            reduce_only: false,
        };
        let ((), c) = counted(|| s.cancel_replace(&a, &o, 1, &mut buf));
        enc += c;
        frames.push(format!(
            r#"{{"id":"{}","status":200,"result":{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{},"newOrderResponse":{{"symbol":"BTCUSDT","orderId":8,"orderListId":-1,"clientOrderId":"{b}","transactTime":6}}}},"rateLimits":{WEIGHT}}}"#,
            id_of(&buf), order_obj(&a, "CANCELED")
        ).into_bytes());
        let ((), c) = counted(|| s.cancel("BTCUSDT", &b, 1, &mut buf));
        enc += c;
        frames.push(
            format!(
                r#"{{"id":"{}","status":200,"result":{},"rateLimits":{WEIGHT}}}"#,
                id_of(&buf),
                order_obj(&b, "CANCELED")
            )
            .into_bytes(),
        );
        frames.push(report(&b, "CANCELED").into_bytes());
        let mut dec = 0;
        for f in &frames {
            out.clear();
            let ((), c) = counted(|| s.on_frame(f, UnixNanos(1), &mut out));
            dec += c;
            assert!(
                out.iter().all(|e| matches!(
                    e,
                    SessionEvent::Order { .. }
                        | SessionEvent::BalanceUpdate(_)
                        | SessionEvent::Ignored(_)
                )),
                "{out:?} for {}",
                String::from_utf8_lossy(f)
            );
            events += out.len();
        }
        // The first cycle warms up (buffers reach their size); the rest are counted.
        if n > 0 {
            decode += dec;
            encode += enc;
        }
    }
    (decode, encode, events)
}

#[test]
fn the_order_paths_frames_decode_without_allocating() {
    let cycles = 200;
    let (decode, encode, events) = run(true, cycles);
    // 9 frames a cycle, 11 events (the cancel-replace answer tells of two orders, the
    // balances event of two assets).
    assert_eq!(events as u64, 11 * (cycles + 1));
    eprintln!("typed path: {decode} allocations decoding, {encode} encoding, {cycles} cycles");
    assert_eq!(decode, 0, "allocations while decoding on the typed path");
    assert_eq!(encode, 0, "allocations while encoding the requests");
    let (old, _, old_events) = run(false, cycles);
    eprintln!("Value path: {old} allocations decoding");
    assert_eq!(old_events, events);
    assert!(
        old >= 9 * cycles,
        "the Value path allocates per frame (counter check): {old}"
    );
    assert!(counter_counts());
}

/// Error answers on the typed path: no `Value`, and no allocation but the message text of
/// the events that carry one (`PlaceRejected`, `CancelRejected`: one each).
#[test]
fn error_answers_allocate_only_the_message_a_refusal_carries() {
    let mut s = Session::new(&Secret::new("k"), &Secret::new("s"), 5_000);
    let mut buf = Vec::with_capacity(1024);
    let mut out: Vec<SessionEvent> = Vec::with_capacity(16);
    let px = Price::parse("50000.00").unwrap();
    let qty = Qty::parse("0.01").unwrap();
    let (mut refusals, mut quiet) = (0, 0);
    for n in 0..101u64 {
        let a = ClientOrderId::mint(1_700_000_000_000, StrategyId(0), 2 * n + 1).unwrap();
        let b = ClientOrderId::mint(1_700_000_000_000, StrategyId(0), 2 * n + 2).unwrap();
        let o = PlaceOrder {
            symbol: "BTCUSDT",
            cid: &b,
            side: Side::Buy,
            kind: OrderKind::LimitMaker,
            tif: TimeInForce::Gtc,
            price: px,
            qty,
            price_decimals: 2,
            qty_decimals: 5,
            reduce_only: false,
        };
        // (the answer, allocations expected decoding it)
        let mut cases: Vec<(String, u64)> = Vec::new();
        let mut req =
            |f: &mut dyn FnMut(&mut Session, &mut Vec<u8>), status: u16, error: &str, allocs| {
                f(&mut s, &mut buf);
                let frame = format!(
                    r#"{{"id":"{}","status":{status},"error":{error},"rateLimits":{WEIGHT}}}"#,
                    id_of(&buf)
                );
                cases.push((frame, allocs));
            };
        let post_only = r#"{"code":-2010,"msg":"Order would immediately match and take."}"#;
        req(
            &mut |s, buf| {
                s.place(
                    "BTCUSDT",
                    &a,
                    Side::Buy,
                    OrderKind::LimitMaker,
                    TimeInForce::Gtc,
                    px,
                    qty,
                    2,
                    5,
                    1,
                    buf,
                )
            },
            400,
            post_only,
            1,
        );
        req(
            &mut |s, buf| s.cancel("BTCUSDT", &a, 1, buf),
            400,
            r#"{"code":-2011,"msg":"Unknown order sent."}"#,
            1,
        );
        req(
            &mut |s, buf| s.status("BTCUSDT", &a, 1, buf),
            400,
            r#"{"code":-2013,"msg":"Order does not exist."}"#,
            0,
        );
        req(
            &mut |s, buf| {
                s.place(
                    "BTCUSDT",
                    &a,
                    Side::Buy,
                    OrderKind::LimitMaker,
                    TimeInForce::Gtc,
                    px,
                    qty,
                    2,
                    5,
                    1,
                    buf,
                )
            },
            503,
            r#"{"code":-1001,"msg":"Internal error."}"#,
            0,
        );
        req(
            &mut |s, buf| s.amend_keep_priority("BTCUSDT", &a, qty, 5, 1, buf),
            400,
            r#"{"code":-2038,"msg":"no"}"#,
            0,
        );
        req(
            &mut |s, buf| s.cancel("BTCUSDT", &a, 1, buf),
            429,
            r#"{"code":-1003,"msg":"Too much request weight used."}"#,
            0,
        );
        // A re-quote whose old order had filled: its cancel refused (one message), the new
        // order not attempted (one message).
        req(
            &mut |s, buf| s.cancel_replace(&a, &o, 1, buf),
            400,
            r#"{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}}"#,
            2,
        );
        for (frame, want) in &cases {
            out.clear();
            let before = s.typed_frames();
            let ((), got) = counted(|| s.on_frame(frame.as_bytes(), UnixNanos(1), &mut out));
            assert_eq!(
                s.typed_frames(),
                before + 1,
                "not on the fast path: {frame}"
            );
            if n > 0 {
                assert_eq!(got, *want, "{frame}: {out:?}");
                if *want > 0 { refusals += 1 } else { quiet += 1 }
            }
        }
    }
    assert_eq!((refusals, quiet), (300, 400));
}
