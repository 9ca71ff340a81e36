//! One candle close through every indicator the signal bots use: SMA 20, EMA 12, RSI 14,
//! MACD 12/26/9, Bollinger 20/2, ATR 14 and log-return volatility 20, each updated with the
//! bar's high, low and close. Baseline: the same loop reading the bar and summing its fields
//! (what is left when no indicator runs). The bars are the TA-Lib fixture's random walk,
//! cycled, with the indicators warmed up first so every update yields values. The third case
//! adds the signal bot's score (`strategy::signal::Scorer` with its default parameters: RSI
//! 14, SMA 10/20, MACD 12/26/9, components, weights), i.e. one candle close through all
//! indicators and the score.
//!
//! Run: `cargo bench --bench indicators`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mako::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};
use mako::strategy::signal::{Scorer, SignalParams};

const WALK: &str = include_str!("../tests/fixtures/indicators/walk.csv");

/// `(high, low, close)` of each bar of the fixture.
fn bars() -> Vec<(f64, f64, f64)> {
    WALK.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l
                .split(',')
                .skip(2)
                .map(|x| x.parse().expect("number"))
                .collect();
            (f[0], f[1], f[2])
        })
        .collect()
}

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
            sma: Sma::new(20).expect("period"),
            ema: Ema::new(12).expect("period"),
            rsi: Rsi::new(14).expect("period"),
            macd: Macd::new(12, 26, 9).expect("periods"),
            bb: Bbands::new(20, 2.0).expect("period"),
            atr: Atr::new(14).expect("period"),
            vol: LogReturnVol::new(20).expect("window"),
        }
    }

    #[inline]
    fn update(&mut self, (h, l, c): (f64, f64, f64)) -> f64 {
        let mut s = 0.0;
        s += self.sma.update(c).unwrap_or(0.0);
        s += self.ema.update(c).unwrap_or(0.0);
        s += self.rsi.update(c).unwrap_or(0.0);
        s += self.macd.update(c).map_or(0.0, |m| m.hist);
        s += self.bb.update(c).map_or(0.0, |b| b.upper);
        s += self.atr.update(h, l, c).unwrap_or(0.0);
        s += self.vol.update(c).unwrap_or(0.0);
        s
    }
}

fn bench(c: &mut Criterion) {
    let bars = bars();
    let mut g = c.benchmark_group("candle close -> all indicators");
    g.bench_function("baseline: read the bar", |b| {
        let mut i = 0;
        b.iter(|| {
            let (h, l, c) = black_box(bars[i]);
            i = (i + 1) % bars.len();
            h + l + c
        })
    });
    g.bench_function("sma20 ema12 rsi14 macd12/26/9 bb20/2 atr14 vol20", |b| {
        let mut all = All::new();
        for bar in &bars {
            all.update(*bar);
        }
        let mut i = 0;
        b.iter(|| {
            let v = all.update(black_box(bars[i]));
            i = (i + 1) % bars.len();
            v
        })
    });
    g.bench_function("all seven + the signal score", |b| {
        let mut all = All::new();
        let params = SignalParams::from_table(&toml::Table::new()).expect("defaults");
        let mut scorer = Scorer::new(&params).expect("periods");
        for bar in &bars {
            all.update(*bar);
            scorer.update(bar.2);
        }
        let mut i = 0;
        b.iter(|| {
            let bar = black_box(bars[i]);
            let v = all.update(bar) + scorer.update(bar.2).map_or(0.0, |r| r.score);
            i = (i + 1) % bars.len();
            v
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
