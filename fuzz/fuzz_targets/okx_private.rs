#![no_main]
//! OKX private messages (src/venue/okx/private.rs and the session of session.rs).
//!
//! - `mako::fuzzing::okx_private`: an `OkxSession` with an order and a cancel in flight fed
//!   each line of the input as a private WebSocket frame (`OrderSession::on_frame`), then
//!   `floor8`/`state_of` on the text and the item decoders on the whole JSON value.
//! - The item decoders where OKX puts items: every element of `data` (`order_item` and what
//!   it is turned into, `snapshot` and `quote_from_avg`; `balances`; `item_error`;
//!   `code_of` of `code` and `sCode` and its `classify`), `fill_fees` of `data`; `floor8` of
//!   every string in an item. `order_item` is a pure function: the same item decodes the
//!   same way twice, and `snapshot` copies its fields.
//! - `mako decode`'s OKX decoder on the text.
use libfuzzer_sys::fuzz_target;
use mako::venue::okx::private;
use serde_json::Value;

fn item(v: &Value) {
    let a = private::order_item(v);
    assert_eq!(a, private::order_item(v));
    if let Ok(o) = a {
        let _ = o.quote_from_avg();
        match o.snapshot("BTC-USDT") {
            Some(s) => {
                assert_eq!(Some(s.cid), o.cid);
                assert_eq!((s.cum_qty, s.orig_qty, s.side), (o.acc_fill, o.qty, o.side));
            }
            None => assert!(o.cid.is_none()),
        }
    }
    let _ = private::balances(v);
    let _ = private::item_error(v);
    for k in ["code", "sCode"] {
        if let Ok(c) = private::code_of(v, k) {
            let _ = private::classify(c);
        }
    }
    if let Some(obj) = v.as_object() {
        for s in obj.values().filter_map(Value::as_str) {
            let _ = private::floor8(s);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::okx_private(data);

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mako::venue::okx::decode::decode(text);
    }
    // Each line as its own message, as the session reads them.
    for line in data.split(|&b| b == b'\n').take(8) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        item(&v);
        if let Some(items) = v.get("data").and_then(Value::as_array) {
            let _ = private::fill_fees(items);
            for i in items.iter().take(16) {
                item(i);
                if let Some(details) = i.get("details").and_then(Value::as_array) {
                    for d in details.iter().take(16) {
                        item(d);
                    }
                }
            }
        }
        if let Some(items) = v.as_array() {
            let _ = private::fill_fees(items);
            for i in items.iter().take(16) {
                item(i);
            }
        }
    }
});
