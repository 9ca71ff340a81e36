#![no_main]
//! See `mako::fuzzing::okx_md`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mako::fuzzing::okx_md(data));
