#![no_main]
//! See `mako::fuzzing::sim_http`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::sim_http(data));
