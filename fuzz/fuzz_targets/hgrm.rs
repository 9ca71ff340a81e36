#![no_main]
//! See `mako::fuzzing::hgrm`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::hgrm(data));
