#![no_main]
//! Coinbase private messages (src/venue/coinbase/private.rs, session.rs and rest.rs).
//!
//! - `mako::fuzzing::coinbase_private`: a `CoinbaseUserSession` fed each line of the input
//!   as a `user` channel frame (`OrderSession::on_frame`: sequence check, subscriptions,
//!   order events); the REST codec's answer to each kind of request (the first byte picks
//!   it, the next two the status, the rest is the body); `state_of`, `classify` and
//!   `quote_asset` on the text; `order_item`, `create_failure` and `http_error` on the whole
//!   value, and the item decoders on `orders`, `fills` and `accounts`.
//! - Here: `order_item` is a pure function (the same item decodes the same way twice).
use libfuzzer_sys::fuzz_target;
use mako::venue::coinbase::private;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::coinbase_private(data);
    for line in data.split(|&b| b == b'\n').take(8) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        for e in v["events"].as_array().into_iter().flatten().take(8) {
            for o in e["orders"].as_array().into_iter().flatten().take(16) {
                assert_eq!(private::order_item(o), private::order_item(o));
            }
        }
    }
});
