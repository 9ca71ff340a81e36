//! Parameters of the LightGBM bot (`kind = "lgbm"`): the seed's figures
//! (`shared/seeds/ai-trading-bot-lightgbm-binance.md`: 1-second candles, a 60-second buffer,
//! a 60-second maker timeout, at most 2 open positions) plus the model, the map from its
//! feature names to mako's, the confidence threshold and the exits.
//!
//! The model file is read and checked here (at `mako check`, at start and at a reload), never
//! on the tick path: a model that cannot be read, that is not binary, 3-class multiclass or
//! regression, or whose features the config cannot supply is refused with the reason.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::strategy::model::{Model, Objective};
use crate::strategy::params::{ParamErrors, ParamReader};
use crate::types::Price;

use super::FeatureSet;

/// How an entry order is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// A post-only bid at the best bid (a maker order), cancelled after `entry_timeout`.
    PostOnly,
    /// An IOC limit at the ask moved by `collar_percent`.
    Ioc,
}

/// What a post-only entry unfilled at its timeout does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// Nothing more: the trade keeps what filled, or ends if nothing did.
    GiveUp,
    /// The unfilled rest is bought at once by an IOC limit across the spread.
    Cross,
}

#[derive(Debug, Clone)]
pub struct LgbmParams {
    pub model_path: PathBuf,
    /// The model, read and checked with these parameters.
    pub model: Arc<Model>,
    /// Model feature name → mako feature name (a name not in it is taken as mako's own).
    pub features: BTreeMap<String, String>,
    /// Candle width (the seed's 1 s) and the bars kept (the seed's 60).
    pub candle: Duration,
    pub buffer: usize,
    /// Enter when the confidence in "up" is at least this: the probability of class 1 for a
    /// binary model, of class 2 ("up", when it is the most likely of down/flat/up) for a
    /// multiclass one, or the predicted value itself for a regression.
    pub threshold: f64,
    /// Quote spent per trade.
    pub trade_size: Price,
    pub max_open_positions: u32,
    pub entry: EntryMode,
    pub entry_timeout: Duration,
    pub on_timeout: OnTimeout,
    /// IOC orders are limits this far past the far touch, in percent.
    pub collar_percent: f64,
    /// From the average entry, in percent (0 = off), and after holding this long (0 = off).
    pub take_profit_percent: f64,
    pub stop_loss_percent: f64,
    pub max_hold: Duration,
    pub cancel_on_shutdown: bool,
}

pub const KNOWN: &[&str] = &[
    "model",
    "features",
    "candle",
    "buffer",
    "threshold",
    "trade_size",
    "max_open_positions",
    "entry",
    "entry_timeout",
    "on_timeout",
    "collar_percent",
    "take_profit_percent",
    "stop_loss_percent",
    "max_hold",
    "cancel_on_shutdown",
];

/// Reads and checks a model for these parameters (see [`check_model`]).
pub fn load_model(
    path: &std::path::Path,
    map: &BTreeMap<String, String>,
    buffer: usize,
) -> Result<Model, String> {
    let model = Model::from_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    check_model(&model, map, buffer).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(model)
}

/// Whether the bot can use `model` with these parameters: its objective is one the bot can
/// take a direction from, and `map` can supply every one of its features.
pub fn check_model(
    model: &Model,
    map: &BTreeMap<String, String>,
    buffer: usize,
) -> Result<(), String> {
    match model.objective() {
        Objective::Binary { .. } | Objective::Regression => {}
        Objective::Multiclass { classes: 3 } => {}
        Objective::Multiclass { classes } => {
            return Err(format!(
                "a multiclass model must have 3 classes (down, flat, up), not {classes}"
            ));
        }
    }
    FeatureSet::for_model(model.features(), map, buffer)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The parameters a model is checked against (feature map, buffer), read from valid
/// parameters without reading the model file.
pub fn model_inputs(t: &toml::Table) -> (BTreeMap<String, String>, usize) {
    let mut r = ParamReader::new(t, KNOWN);
    let buffer = r.int("buffer", 60, 2, 100_000) as usize;
    (feature_map(t, &mut r), buffer)
}

fn feature_map(t: &toml::Table, r: &mut ParamReader<'_>) -> BTreeMap<String, String> {
    let mut features = BTreeMap::new();
    match t.get("features") {
        None => {}
        Some(toml::Value::Table(m)) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) => {
                        features.insert(k.clone(), s.to_owned());
                    }
                    None => r.error("features", format!("{k:?} must map to a feature name")),
                }
            }
        }
        Some(_) => r.error(
            "features",
            "must be a table of model feature name = mako feature name",
        ),
    }
    features
}

impl LgbmParams {
    pub fn from_table(t: &toml::Table) -> Result<Self, ParamErrors> {
        let mut r = ParamReader::new(t, KNOWN);
        let candle = r.duration("candle", Duration::from_secs(1));
        if candle < Duration::from_millis(100) {
            r.error("candle", "must be at least 100ms");
        }
        let buffer = r.int("buffer", 60, 2, 100_000) as usize;
        let features = feature_map(t, &mut r);
        let model_path = match t.get("model") {
            Some(toml::Value::String(s)) if !s.is_empty() => Some(PathBuf::from(s)),
            Some(_) => {
                r.error("model", "must be the path of a LightGBM model.txt");
                None
            }
            None => {
                r.error("model", "missing: the path of a LightGBM model.txt");
                None
            }
        };
        let model = model_path
            .as_deref()
            .and_then(|p| match load_model(p, &features, buffer) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    r.error("model", e);
                    None
                }
            });
        let threshold = r.number("threshold", 0.6, 1e9);
        let trade_size = r.price("trade_size").unwrap_or(Price::from_units(25 * crate::types::SCALE));
        if !trade_size.is_positive() {
            r.error("trade_size", "must be above 0");
        }
        let max_open_positions = r.int("max_open_positions", 2, 1, 100);
        let entry = match r.choice("entry", &["post_only", "ioc"]) {
            Some("ioc") => EntryMode::Ioc,
            _ => EntryMode::PostOnly,
        };
        let entry_timeout = r.duration("entry_timeout", Duration::from_secs(60));
        if entry_timeout.is_zero() {
            r.error("entry_timeout", "must be above zero");
        }
        let on_timeout = match r.choice("on_timeout", &["give_up", "cross"]) {
            Some("cross") => OnTimeout::Cross,
            _ => OnTimeout::GiveUp,
        };
        let collar_percent = r.number("collar_percent", 0.5, 10.0);
        let take_profit_percent = r.number("take_profit_percent", 1.0, 1_000.0);
        let stop_loss_percent = r.number("stop_loss_percent", 0.5, 99.0);
        let max_hold = r.duration("max_hold", Duration::from_secs(300));
        let cancel_on_shutdown = r.flag("cancel_on_shutdown", true);
        let (Some(model_path), Some(model)) = (model_path, model) else {
            return Err(r.errors);
        };
        r.finish(Self {
            model_path,
            model,
            features,
            candle,
            buffer,
            threshold,
            trade_size,
            max_open_positions,
            entry,
            entry_timeout,
            on_timeout,
            collar_percent,
            take_profit_percent,
            stop_loss_percent,
            max_hold,
            cancel_on_shutdown,
        })
    }

    /// The feature set for the model (checked when the parameters were read).
    pub fn feature_set(&self) -> FeatureSet {
        match FeatureSet::for_model(self.model.features(), &self.features, self.buffer) {
            Ok(f) => f,
            Err(e) => unreachable!("checked by load_model: {e}"),
        }
    }
}
