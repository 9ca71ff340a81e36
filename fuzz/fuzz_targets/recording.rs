#![no_main]
//! See `mako::fuzzing::recording`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::recording(data));
