#![no_main]
//! See `mako::fuzzing::binance_private`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::binance_private(data));
