//! The documented cancel-replace and keep-priority answers (web-socket-api.md / rest-api.md
//! examples), mapped for both orders.

use super::*;
use crate::types::StrategyId;
use crate::types::order::SnapshotStatus;

fn cids() -> (ClientOrderId, ClientOrderId) {
    (
        ClientOrderId::mint(1, StrategyId(0), 1).unwrap(),
        ClientOrderId::mint(1, StrategyId(0), 2).unwrap(),
    )
}

const CANCELLED: &str = r#"{"symbol":"BTCUSDT","origClientOrderId":"4d96324ff9d44481926157","orderId":125690984230,"orderListId":-1,"clientOrderId":"91fe37ce9e69c90d6358c0","transactTime":1684804350068,"price":"23450.00000000","origQty":"0.00847000","executedQty":"0.00001000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.23450000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL","selfTradePreventionMode":"NONE"}"#;

#[test]
fn both_halves_succeed() {
    let (old, new) = cids();
    let v: Value = serde_json::from_str(&format!(
        r#"{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{CANCELLED},"newOrderResponse":{{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,"clientOrderId":"{new}","transactTime":1660813156959}}}}"#
    ))
    .unwrap();
    let mut out = Vec::new();
    cancel_replace_events(old, new, &v, None, UnixNanos(5), &mut out).unwrap();
    assert_eq!(out.len(), 2, "{out:?}");
    match &out[0] {
        SessionEvent::Order {
            cid,
            event: OrderEvent::Snapshot {
                status, cum_qty, ..
            },
        } => {
            assert_eq!(*cid, old);
            assert_eq!(*status, SnapshotStatus::Cancelled);
            assert_eq!(*cum_qty, Qty::parse("0.00001").unwrap());
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(
        out[1],
        SessionEvent::Order {
            cid: new,
            event: OrderEvent::Accepted {
                venue_order_id: 12569099453.into(),
                at: UnixNanos::from_millis(1660813156959)
            }
        }
    );
}

#[test]
fn cancel_failed_new_not_attempted() {
    let (old, new) = cids();
    let v: Value = serde_json::from_str(r#"{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}"#).unwrap();
    let outer = VenueError {
        code: -2022,
        msg: "Order cancel-replace failed.".into(),
    };
    let mut out = Vec::new();
    cancel_replace_events(old, new, &v, Some(&outer), UnixNanos(5), &mut out).unwrap();
    assert!(
        matches!(&out[0], SessionEvent::CancelRejected { cid, error } if *cid == old && error.code == -2011),
        "{out:?}"
    );
    assert!(
        matches!(&out[1], SessionEvent::PlaceRejected { cid, error } if *cid == new && error.code == -2022),
        "{out:?}"
    );
}

#[test]
fn cancel_succeeded_new_failed() {
    let (old, new) = cids();
    let v: Value = serde_json::from_str(&format!(
        r#"{{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{CANCELLED},"newOrderResponse":{{"code":-2010,"msg":"Order would immediately match and take."}}}}"#
    ))
    .unwrap();
    let mut out = Vec::new();
    cancel_replace_events(old, new, &v, None, UnixNanos(5), &mut out).unwrap();
    assert!(
        matches!(&out[0], SessionEvent::Order { cid, event: OrderEvent::Snapshot { status: SnapshotStatus::Cancelled, .. } } if *cid == old)
    );
    assert!(
        matches!(&out[1], SessionEvent::PlaceRejected { cid, error } if *cid == new && error.code == -2010)
    );
}

#[test]
fn malformed_halves_are_errors_and_emit_nothing() {
    let (old, new) = cids();
    for bad in [
        r#"{}"#,
        r#"{"cancelResult":"MAYBE","newOrderResult":"SUCCESS"}"#,
        r#"{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{"code":1}}"#,
        r#"{"cancelResult":"FAILURE","newOrderResult":"FAILURE","cancelResponse":{"code":-2011,"msg":""},"newOrderResponse":{"msg":"no code"}}"#,
        r#"{"cancelResult":"FAILURE","newOrderResult":"WHAT","cancelResponse":{"code":-2011,"msg":""}}"#,
    ] {
        let v: Value = serde_json::from_str(bad).unwrap();
        let mut out = Vec::new();
        assert!(
            cancel_replace_events(old, new, &v, None, UnixNanos(5), &mut out).is_err(),
            "{bad}"
        );
        assert!(out.is_empty(), "{bad}: {out:?}");
    }
}

#[test]
fn refused_as_a_whole() {
    let (old, new) = cids();
    let e = VenueError {
        code: -1102,
        msg: "bad".into(),
    };
    let mut out = Vec::new();
    cancel_replace_refused(old, new, e.clone(), false, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::CancelRejected {
                cid: old,
                error: e.clone()
            },
            SessionEvent::PlaceRejected { cid: new, error: e }
        ]
    );
    out.clear();
    cancel_replace_refused(
        old,
        new,
        VenueError {
            code: 0,
            msg: String::new(),
        },
        true,
        &mut out,
    );
    assert_eq!(
        out,
        vec![
            SessionEvent::Uncertain { cid: old },
            SessionEvent::Uncertain { cid: new }
        ]
    );
}

#[test]
fn documented_keep_priority_answer() {
    // web-socket-api.md `order.amend.keepPriority` single-order response (its `result`).
    let v: Value = serde_json::from_str(r#"{"transactTime":1741923284382,"executionId":16,"amendedOrder":{"symbol":"BTCUSDT","orderId":12,"orderListId":-1,"origClientOrderId":"my_test_order1","clientOrderId":"4zR9HFcEq8gM1tWUqPEUHc","price":"5.00000000","qty":"5.00000000","executedQty":"0.00000000","preventedQty":"0.00000000","quoteOrderQty":"0.00000000","cumulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"SELL","workingTime":1741923282009,"selfTradePreventionMode":"NONE"}}"#).unwrap();
    assert_eq!(
        amend_event(&v).unwrap(),
        OrderEvent::Amended {
            price: Price::from_int(5),
            qty: Qty::from_int(5),
            at: UnixNanos::from_millis(1741923284382)
        }
    );
    assert!(amend_event(&serde_json::json!({"transactTime": 1})).is_err());
    assert!(
        amend_event(
            &serde_json::json!({"amendedOrder": {"price": "x", "qty": "1"}, "transactTime": 1})
        )
        .is_err()
    );
}

#[test]
fn error_data_is_found_in_both_transports() {
    let ws = br#"{"id":"7","status":409,"error":{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{"cancelResult":"SUCCESS","newOrderResult":"FAILURE"}}}"#;
    assert_eq!(ws_error_data(ws).unwrap()["newOrderResult"], "FAILURE");
    let rest =
        br#"{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE"}}"#;
    assert_eq!(rest_error_data(rest).unwrap()["cancelResult"], "FAILURE");
    assert!(ws_error_data(b"{").is_none());
    assert!(rest_error_data(br#"{"code":-1}"#).is_none());
}
