#![no_main]
//! Delta Exchange public market data, as the feed and the CLI read it:
//! `mako::fuzzing::delta_md` (a used parser answers like a fresh one; `mako decode`'s Delta
//! decoder never panics; `DeltaMd`, India and global, over the input's lines with
//! re-subscribes and marks drained and reconnects, never panics).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::delta_md(data);
});
