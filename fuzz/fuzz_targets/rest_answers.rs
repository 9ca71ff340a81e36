#![no_main]
//! See `mako::fuzzing::rest_answers`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::rest_answers(data));
