#![no_main]
//! Coinstore spot market data, as the feed and the CLI read it: `mako::fuzzing::coinstore_md`
//! (a used parser answers like a fresh one; `mako decode`'s Coinstore decoder never panics;
//! `CoinstoreMd` over the input's lines with reconnects and connection switches never panics).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::coinstore_md(data);
});
