#![no_main]
//! CoinDCX futures market data, as the feed and the CLI read it: `mako::fuzzing::coindcx_md`
//! (the Socket.IO codec and the event parser, fresh and used, agree; `mako decode`'s CoinDCX
//! decoder never panics; `CoindcxMd` over the input's lines with timers, requests and marks
//! drained and reconnects never panics).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::coindcx_md(data);
});
