#![no_main]
//! Binance private messages (src/venue/binance/user.rs): user data stream events, WebSocket
//! API answers, REST order and account answers. Beyond never panicking, the decoders that
//! read the same bytes along two paths must agree:
//!
//! - `order_snapshot_bytes(data)` is `order_snapshot` of the JSON value, and fails with
//!   `Json` exactly when the bytes are not JSON;
//! - `order_snapshots([v])` is `[order_snapshot(v)]`;
//! - `ws_api_message` of an event is the same whether the event comes bare or wrapped in
//!   `{"event": …}`, and an `executionReport` decodes as `execution_report` does;
//! - `venue_error(data)` is the error `ws_api_message` reads from
//!   `{"id":1,"status":400,"error":<data>}`;
//! - `new_order_ack`, `trade_fees`, `account_balances` never panic (also on each element of
//!   an array, and on `result` of a WebSocket API answer).
//!
//! `mako::fuzzing::binance_private` (the Binance order session fed these frames) runs in the
//! `binance_private` target.
use libfuzzer_sys::fuzz_target;
use mako::venue::binance::user::{self, DecodeError, WsApiMessage};
use serde_json::{Value, json};

fn each(v: &Value) {
    let _ = user::execution_report(v);
    let _ = user::order_snapshots(v);
    let _ = user::new_order_ack(v);
    let _ = user::trade_fees(v);
    let _ = user::account_balances(v);
    let one = user::order_snapshot(v);
    let list = user::order_snapshots(&Value::Array(vec![v.clone()]));
    assert_eq!(
        one.map(|s| vec![s]),
        list,
        "order_snapshots([v]) is not [order_snapshot(v)]"
    );
}

fuzz_target!(|data: &[u8]| {
    let parsed = serde_json::from_slice::<Value>(data);
    let msg = user::ws_api_message(data);
    let err = user::venue_error(data);
    let snap = user::order_snapshot_bytes(data);
    let Ok(v) = parsed else {
        assert!(matches!(msg, Err(DecodeError::Json(_))), "{msg:?}");
        assert!(matches!(err, Err(DecodeError::Json(_))), "{err:?}");
        assert!(matches!(snap, Err(DecodeError::Json(_))), "{snap:?}");
        return;
    };
    assert_eq!(
        snap,
        user::order_snapshot(&v),
        "order_snapshot_bytes ≠ order_snapshot"
    );

    each(&v);
    for k in ["result", "event", "data", "B", "balances"] {
        if let Some(inner) = v.get(k) {
            each(inner);
        }
    }
    if let Some(items) = v.as_array().or(v.get("result").and_then(Value::as_array)) {
        for item in items.iter().take(16) {
            each(item);
        }
    }

    // An event means the same bare and wrapped.
    if v.get("event").is_none() && v.get("e").is_some() {
        let wrapped = serde_json::to_vec(&json!({ "event": v })).unwrap();
        assert_eq!(
            msg,
            user::ws_api_message(&wrapped),
            "a bare and a wrapped user event decode differently"
        );
        if v.get("e").and_then(Value::as_str) == Some("executionReport") {
            let direct = user::execution_report(&v);
            match (&msg, &direct) {
                (Ok(WsApiMessage::Order(a)), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a, b),
                _ => panic!("ws_api_message {msg:?} vs execution_report {direct:?}"),
            }
        }
    }

    // A REST error body means the same as the error of a WebSocket API answer.
    let answer = serde_json::to_vec(&json!({"id": 1, "status": 400, "error": v})).unwrap();
    match (user::ws_api_message(&answer), &err) {
        (
            Ok(WsApiMessage::Response {
                result: Err(a),
                status: 400,
                ..
            }),
            Ok(b),
        ) => {
            assert_eq!(&a, b)
        }
        (Err(a), Err(b)) => assert_eq!(&a, b),
        (a, b) => panic!("the error of a WebSocket API answer {a:?} vs venue_error {b:?}"),
    }
});
