//! The indicators allocate nothing per bar once built: every one is fed a long series (with
//! flat stretches, so the exact-zero path runs too) with a counting global allocator armed
//! around each update.

use std::hint::black_box;

use mako::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};

mod alloc_count;

#[test]
fn updates_allocate_nothing() {
    let mut sma = Sma::new(20).unwrap();
    let mut ema = Ema::new(12).unwrap();
    let mut rsi = Rsi::new(14).unwrap();
    let mut macd = Macd::new(12, 26, 9).unwrap();
    let mut bb = Bbands::new(20, 2.0).unwrap();
    let mut atr = Atr::new(14).unwrap();
    let mut vol = LogReturnVol::new(20).unwrap();
    // The signal bot's score on top (its own RSI, averages and MACD, components, weights).
    let params = mako::strategy::signal::SignalParams::from_table(&toml::Table::new()).unwrap();
    let mut scorer = mako::strategy::signal::Scorer::new(&params).unwrap();
    let mut scores = 0u64;
    let mut price = 100.0_f64;
    let mut outputs = 0u64;
    let mut allocs = 0u64;
    for i in 0..20_000u64 {
        // A walk that stands still for 50 bars out of every 200.
        if i % 200 >= 50 {
            price *= 1.0 + ((i * 7919 % 101) as f64 - 50.0) * 1e-4;
        }
        let (high, low) = (price * 1.001, price * 0.999);
        let (got, n) = alloc_count::counted(|| {
            (
                sma.update(price),
                ema.update(price),
                rsi.update(price),
                macd.update(price),
                bb.update(price),
                atr.update(high, low, price),
                vol.update(price),
                scorer.update(price),
            )
        });
        allocs += n;
        let got = black_box(got);
        outputs += u64::from(got.6.is_some());
        scores += u64::from(got.7.is_some());
    }
    assert_eq!(
        scores,
        20_000 - 33,
        "the score ran from MACD's first value on"
    );
    assert_eq!(
        outputs,
        20_000 - 20,
        "the last indicator to start (vol 20) ran"
    );
    assert!(alloc_count::counter_counts(), "the counter counts");
    assert_eq!(allocs, 0, "allocations during updates");
}
