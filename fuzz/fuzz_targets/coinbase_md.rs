#![no_main]
//! Coinbase Advanced Trade market data and CDP tokens, as the feed and the CLI read them:
//! `mako::fuzzing::coinbase_md` (a used parser answers like a fresh one; `mako decode`'s
//! Coinbase decoder, the JWT decoder and the `/products` reader never panic; `CoinbaseMd`
//! over the input's lines as frames, with connection switches and reconnects, never panics).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::coinbase_md(data);
});
