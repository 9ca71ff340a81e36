//! The LightGBM bot's features, named, computed from closed candles (1-second bars in the
//! seed) over a buffer of the last `buffer` bars (60 in the seed): what a model's feature
//! names are mapped to.
//!
//! Names (`<n>` a window in bars, 1 ..= the buffer):
//! - `close`, `high`, `low`, `open`: the last bar's prices;
//! - `volume`, `buy_volume`, `sell_volume`, `net_flow` (taker buy minus taker sell volume),
//!   `trades`: the last bar's; `volume_<n>`, `net_flow_<n>`: summed over the last n bars;
//! - `sma_<n>`: mean close of the last n bars (the seed's moving averages are 5, 10, 20, 30);
//! - `price_change_<n>`: `close / close n bars ago - 1`; `momentum_<n>`: `close - close n bars
//!   ago`;
//! - `volatility_<n>`: sample standard deviation of the last n log returns of the close;
//! - `rsi_<n>`: Wilder's RSI of the close (TA-Lib's, `strategy::indicators::Rsi`).
//!
//! A feature has no value until its window is full; [`FeatureSet::ready`] says when all have.
//! Updating allocates nothing: the buffer and indicators are sized when the set is built.

use std::collections::BTreeMap;

use crate::strategy::Candle;
use crate::strategy::indicators::{LogReturnVol, Rsi};

/// One named feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Close,
    High,
    Low,
    Open,
    Volume,
    BuyVolume,
    SellVolume,
    NetFlow,
    Trades,
    VolumeSum(usize),
    NetFlowSum(usize),
    Sma(usize),
    PriceChange(usize),
    Momentum(usize),
    Volatility(usize),
    Rsi(usize),
}

/// The names a feature can have, for error messages.
pub const GRAMMAR: &str = "close, high, low, open, volume, buy_volume, sell_volume, net_flow, \
trades, volume_<n>, net_flow_<n>, sma_<n>, price_change_<n>, momentum_<n>, volatility_<n>, rsi_<n>";

impl Feature {
    /// The feature named `name`, with windows up to `buffer` bars.
    pub fn parse(name: &str, buffer: usize) -> Result<Feature, String> {
        let plain = match name {
            "close" => Some(Feature::Close),
            "high" => Some(Feature::High),
            "low" => Some(Feature::Low),
            "open" => Some(Feature::Open),
            "volume" => Some(Feature::Volume),
            "buy_volume" => Some(Feature::BuyVolume),
            "sell_volume" => Some(Feature::SellVolume),
            "net_flow" => Some(Feature::NetFlow),
            "trades" => Some(Feature::Trades),
            _ => None,
        };
        if let Some(f) = plain {
            return Ok(f);
        }
        let unknown = || format!("no mako feature is named {name:?} (the names: {GRAMMAR})");
        let (base, n) = name.rsplit_once('_').ok_or_else(unknown)?;
        let make: fn(usize) -> Feature = match base {
            "volume" => Feature::VolumeSum,
            "net_flow" => Feature::NetFlowSum,
            "sma" => Feature::Sma,
            "price_change" => Feature::PriceChange,
            "momentum" => Feature::Momentum,
            "volatility" => Feature::Volatility,
            "rsi" => Feature::Rsi,
            _ => return Err(unknown()),
        };
        let n: usize = n.parse().map_err(|_| unknown())?;
        // Changes and volatility look n bars back: n + 1 closes in the buffer.
        let need = match make(n) {
            Feature::PriceChange(_) | Feature::Momentum(_) | Feature::Volatility(_) => n + 1,
            _ => n,
        };
        let least = if matches!(make(n), Feature::Volatility(_)) {
            2
        } else {
            1
        };
        if n < least || need > buffer {
            return Err(format!(
                "{name}: the window must be {least} ..= {} bars (the buffer holds {buffer})",
                buffer - (need - n)
            ));
        }
        Ok(make(n))
    }
}

/// One bar's figures as the features read them.
#[derive(Debug, Clone, Copy, Default)]
struct Bar {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    buy: f64,
    sell: f64,
    trades: f64,
}

/// A feature and its streaming state, if it has one.
#[derive(Debug, Clone)]
enum Calc {
    Window(Feature),
    Rsi(Rsi, Option<f64>),
    Vol(LogReturnVol, Option<f64>),
}

/// The features of one model, in the model's order, over a ring of the last bars.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    names: Vec<String>,
    calcs: Vec<Calc>,
    /// The last `ring.len()` bars; `head` is the next slot written; `filled` bars are valid.
    ring: Vec<Bar>,
    head: usize,
    filled: usize,
}

impl FeatureSet {
    /// The features for a model whose features are `model_features`: each is looked up in
    /// `map` (model name → mako name), or else by its own name. Every name that cannot be
    /// supplied is reported at once.
    pub fn for_model(
        model_features: &[String],
        map: &BTreeMap<String, String>,
        buffer: usize,
    ) -> Result<FeatureSet, String> {
        if buffer < 2 {
            return Err(format!(
                "the buffer must hold at least 2 bars, not {buffer}"
            ));
        }
        let mut errors = Vec::new();
        let mut calcs = Vec::new();
        for (i, name) in model_features.iter().enumerate() {
            let mako = map.get(name).unwrap_or(name);
            match Feature::parse(mako, buffer) {
                Ok(f) => calcs.push(match f {
                    Feature::Rsi(n) => Calc::Rsi(Rsi::new(n).map_err(|e| e.to_string())?, None),
                    Feature::Volatility(n) => {
                        Calc::Vol(LogReturnVol::new(n).map_err(|e| e.to_string())?, None)
                    }
                    f => Calc::Window(f),
                }),
                Err(e) => errors.push(format!("model feature {i} ({name:?}): {e}")),
            }
        }
        for key in map.keys() {
            if !model_features.contains(key) {
                errors.push(format!(
                    "the map names {key:?}, which is not a feature of the model"
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(FeatureSet {
            names: model_features.to_vec(),
            calcs,
            ring: vec![Bar::default(); buffer],
            head: 0,
            filled: 0,
        })
    }

    /// The model's feature names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The bar `back` bars before the last one (0 = the last).
    fn bar(&self, back: usize) -> &Bar {
        let n = self.ring.len();
        &self.ring[(self.head + n - 1 - back) % n]
    }

    /// Takes one closed bar.
    pub fn update(&mut self, c: &Candle) {
        let bar = Bar {
            open: c.open.to_f64(),
            high: c.high.to_f64(),
            low: c.low.to_f64(),
            close: c.close.to_f64(),
            volume: c.volume.to_f64(),
            buy: c.buy_volume.to_f64(),
            sell: c.sell_volume.to_f64(),
            trades: f64::from(c.trades),
        };
        self.ring[self.head] = bar;
        self.head = (self.head + 1) % self.ring.len();
        self.filled = (self.filled + 1).min(self.ring.len());
        for calc in &mut self.calcs {
            match calc {
                Calc::Rsi(r, v) => *v = r.update(bar.close),
                Calc::Vol(r, v) => *v = r.update(bar.close),
                Calc::Window(_) => {}
            }
        }
    }

    /// Every feature has a value.
    pub fn ready(&self) -> bool {
        (0..self.calcs.len()).all(|i| self.value(i).is_some())
    }

    fn value(&self, i: usize) -> Option<f64> {
        let have = self.filled;
        let sum = |n: usize, f: fn(&Bar) -> f64| -> Option<f64> {
            (have >= n).then(|| (0..n).map(|b| f(self.bar(b))).sum())
        };
        let back = |n: usize| (have > n).then(|| self.bar(n).close);
        if have == 0 {
            return None;
        }
        let last = *self.bar(0);
        match &self.calcs[i] {
            Calc::Rsi(_, v) | Calc::Vol(_, v) => *v,
            Calc::Window(f) => match *f {
                Feature::Close => Some(last.close),
                Feature::High => Some(last.high),
                Feature::Low => Some(last.low),
                Feature::Open => Some(last.open),
                Feature::Volume => Some(last.volume),
                Feature::BuyVolume => Some(last.buy),
                Feature::SellVolume => Some(last.sell),
                Feature::NetFlow => Some(last.buy - last.sell),
                Feature::Trades => Some(last.trades),
                Feature::VolumeSum(n) => sum(n, |b| b.volume),
                Feature::NetFlowSum(n) => sum(n, |b| b.buy - b.sell),
                Feature::Sma(n) => sum(n, |b| b.close).map(|s| s / n as f64),
                Feature::PriceChange(n) => back(n).map(|p| last.close / p - 1.0),
                Feature::Momentum(n) => back(n).map(|p| last.close - p),
                Feature::Volatility(_) | Feature::Rsi(_) => None,
            },
        }
    }

    /// The features' values in the model's order into `row` (NaN where a feature has no
    /// value yet); `row.len()` must be the number of features.
    pub fn values(&self, row: &mut [f64]) {
        debug_assert_eq!(
            row.len(),
            self.calcs.len(),
            "Invariant: one value per feature"
        );
        for (i, v) in row.iter_mut().enumerate() {
            *v = self.value(i).unwrap_or(f64::NAN);
        }
    }
}
