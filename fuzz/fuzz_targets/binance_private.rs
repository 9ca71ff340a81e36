#![no_main]
//! See `mako::fuzzing::binance_private`: the Binance session fed each line, the user-data
//! decoders on their own, and the session's typed fast path (`venue::binance::typed`) and its
//! `serde_json::Value` path telling the same for every frame (events and request weight), with
//! a place, cancel, status, keep-priority amend and cancel-replace in flight: their answers,
//! error answers included, and the account events.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::binance_private(data);
});
