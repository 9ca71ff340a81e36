#![no_main]
//! Bybit v5 public market data, as the feed and the CLI read it: `mako::fuzzing::bybit_md` (a
//! used parser answers like a fresh one; `mako decode`'s Bybit decoder never panics;
//! `BybitMd`, spot and linear, over the input's lines with re-subscribes and marks drained and
//! reconnects, never panics).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::bybit_md(data);
});
