//! Parts of the LightGBM signal bot (issue 17): the named features it computes from
//! 1-second candles, and the map from a model's feature names to them. The bot itself
//! (`kind = "lgbm"`: entries, TP/SL, holding time, model swap) is not built yet.

pub mod features;

pub use features::{Feature, FeatureSet};

#[cfg(test)]
mod tests;
