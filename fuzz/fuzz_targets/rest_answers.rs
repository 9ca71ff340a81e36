#![no_main]
//! REST answers of both venues' REST codecs (the `RestCodec`s of src/venue/binance/rest.rs
//! and src/venue/okx/rest.rs) and the rate-limit headers that come with them.
//!
//! - `mako::fuzzing::rest_answers`: a `BinanceRest` and an `OkxRest` with one request of
//!   each kind in flight (place, cancel, status, trades, open orders, account, plus id 0,
//!   the keep-alive); byte 0 picks the request answered, bytes 1-2 the HTTP status
//!   (100 + n % 500), the rest is the body, given to `RestCodec::on_answer`.
//! - Rate-limit headers: the input's lines as `name: value` pairs through each codec's
//!   reader (`RestPlan::rate_headers`; Binance's `rate_headers`), which must not depend on
//!   the case of the names, then `RatePolicy::note` with 429, 418 and 200: a 429 holds
//!   orders back for the wait it returns (at least 1 s, at most 120 s), a 418 bans for its
//!   wait (1 s to 3 days), and `admit` answers accordingly just before the wait ends and
//!   lets requests go once it has.
use libfuzzer_sys::fuzz_target;
use mako::config::Secret;
use mako::types::UnixNanos;
use mako::venue::binance::rest::BinanceRest;
use mako::venue::okx::OkxRest;
use mako::venue::rest::{Class, Hold, RateHeaders, RatePolicy, RestCodec};
use mako::venue::sign::HmacSigner;

fn policy(h: &RateHeaders) {
    let now = UnixNanos(1_700_000_000_000_000_000);
    let ms = |m: u64| UnixNanos(now.0 + m * 1_000_000);

    let mut p = RatePolicy::new(6000);
    let wait = p.note(429, h, now).expect("a 429 imposes a wait");
    assert!((1_000..=120_000).contains(&wait), "429 wait {wait} ms");
    assert_eq!(p.admit(Class::Order, ms(wait - 1)), Err(Hold::RateLimited));
    assert_eq!(p.note(200, h, now), None);

    let mut p = RatePolicy::new(6000);
    let ban = p.note(418, h, now).expect("a 418 imposes a ban");
    assert!((1_000..=3 * 86_400_000).contains(&ban), "418 ban {ban} ms");
    assert_eq!(p.admit(Class::Order, ms(ban - 1)), Err(Hold::Banned));
    assert_eq!(p.banned_until(now), Some(ms(ban)));
    assert_eq!(p.admit(Class::Order, ms(ban)), Ok(()));
    let _ = (
        p.admit(Class::Sweep, now),
        p.admit(Class::Query, now),
        p.weight_used(now),
    );
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::rest_answers(data);

    let pairs: Vec<(String, &[u8])> = data
        .split(|&b| b == b'\n')
        .take(16)
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&l[..colon]).ok()?;
            Some((name.trim().to_owned(), &l[colon + 1..]))
        })
        .collect();
    let lower: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let upper_names: Vec<String> = pairs.iter().map(|(n, _)| n.to_ascii_uppercase()).collect();
    let upper: Vec<(&str, &[u8])> = upper_names
        .iter()
        .zip(&pairs)
        .map(|(n, (_, v))| (n.as_str(), *v))
        .collect();

    let binance = BinanceRest::new(
        &Secret::new("k"),
        HmacSigner::from_bytes(b"s"),
        5_000,
        6_000,
    );
    let okx = OkxRest::new(
        &Secret::new("k"),
        &Secret::new("s"),
        &Secret::new("p"),
        false,
    );
    for read in [binance.plan().rate_headers, okx.plan().rate_headers] {
        let h = read(&lower);
        assert_eq!(
            h,
            read(&upper),
            "rate headers depend on the case of their names"
        );
        policy(&h);
    }
    assert_eq!(
        mako::venue::binance::rest::rate_headers(&lower),
        (binance.plan().rate_headers)(&lower)
    );
});
