#![no_main]
//! BitMart spot market data, as the feed and the CLI read it: `mako::fuzzing::bitmart_md` (a
//! used parser answers like a fresh one; `mako decode`'s BitMart decoder never panics; the
//! inflater on the raw bytes; `BitmartMd` over the input's lines as text or binary frames,
//! with snapshot requests drained and reconnects, never panics).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::bitmart_md(data);
});
