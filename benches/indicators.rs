//! What one closed candle costs through every indicator.
//!
//! - `candle_close/all_indicators`: the candle's high, low and close to f64, then SMA 20,
//!   EMA 12, RSI 14, MACD 12/26/9, Bollinger 20/2, ATR 14 and volatility 20 updated with it
//!   (the target: under 200 ns).
//! - `candle_close/read_prices` (baseline): the same candles, the same three conversions,
//!   no indicator: the cost of the loop and of reading the prices.
//!
//! The candles are a fixed 4096-bar random walk cycled through, so every indicator is past
//! its first value and sees moving prices (as in a live series, not one repeated bar).
//!
//! Run: `cargo bench --bench indicators`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mako::strategy::Candle;
use mako::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};
use mako::types::{InstrumentId, Notional, Price, Qty, UnixNanos};

const BARS: usize = 4096;

/// A seeded random walk around 60,000 in cents, with wicks.
fn candles() -> Vec<Candle> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut step = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as i64 % 2001 - 1000
    };
    let mut close = 6_000_000_i64;
    (0..BARS)
        .map(|i| {
            let open = close;
            close += step();
            let cents = |c: i64| Price::from_units(c * 1_000_000);
            Candle {
                instrument: InstrumentId(0),
                width_ns: 60_000_000_000,
                open_time: UnixNanos(i as u64 * 60_000_000_000),
                open: cents(open),
                high: cents(open.max(close) + step().abs() / 4),
                low: cents(open.min(close) - step().abs() / 4),
                close: cents(close),
                volume: Qty::ZERO,
                buy_volume: Qty::ZERO,
                sell_volume: Qty::ZERO,
                quote_volume: Notional(0),
                trades: 1,
                flat: false,
                incomplete: false,
            }
        })
        .collect()
}

/// The seven indicators of the signal bot's defaults.
struct All {
    sma: Sma,
    ema: Ema,
    rsi: Rsi,
    macd: Macd,
    bb: Bbands,
    atr: Atr,
    vol: LogReturnVol,
}

impl All {
    fn new() -> Self {
        Self {
            sma: Sma::new(20).unwrap(),
            ema: Ema::new(12).unwrap(),
            rsi: Rsi::new(14).unwrap(),
            macd: Macd::new(12, 26, 9).unwrap(),
            bb: Bbands::new(20, 2.0).unwrap(),
            atr: Atr::new(14).unwrap(),
            vol: LogReturnVol::new(20).unwrap(),
        }
    }

    #[inline]
    fn update(&mut self, c: &Candle) {
        let (high, low, close) = (c.high.to_f64(), c.low.to_f64(), c.close.to_f64());
        black_box(self.sma.update(close));
        black_box(self.ema.update(close));
        black_box(self.rsi.update(close));
        black_box(self.macd.update(close));
        black_box(self.bb.update(close));
        black_box(self.atr.update(high, low, close));
        black_box(self.vol.update(close));
    }
}

fn bench(c: &mut Criterion) {
    let candles = candles();
    let mut g = c.benchmark_group("candle_close");
    let mut all = All::new();
    for c in &candles {
        all.update(c);
    }
    let mut i = 0;
    g.bench_function("all_indicators", |b| {
        b.iter(|| {
            i = (i + 1) % BARS;
            all.update(black_box(&candles[i]));
        })
    });
    let mut i = 0;
    g.bench_function("read_prices", |b| {
        b.iter(|| {
            i = (i + 1) % BARS;
            let c = black_box(&candles[i]);
            black_box((c.high.to_f64(), c.low.to_f64(), c.close.to_f64()));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
