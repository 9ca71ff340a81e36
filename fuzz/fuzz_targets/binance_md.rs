#![no_main]
//! See `mako::fuzzing::binance_md`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::binance_md(data));
