//! What the engine knows of each strategy kind: its name in config, how its parameters are
//! checked, how it is built, which of its parameters only take effect at a restart, and what
//! the engine needs before it runs. The list is `strategy::KINDS` (the `kinds!` line in
//! `strategy/mod.rs`): adding a kind is its own module plus its name on that line.

use std::path::PathBuf;

use crate::types::{Instrument, Price, Qty};

use super::Strategy;
use super::model::Model;
use super::params::ParamErrors;

/// What a kind's constructor is given.
pub struct BuildArgs<'a> {
    pub params: &'a toml::Table,
    /// Its main instrument (filters, assets).
    pub instrument: &'a Instrument,
    /// Every instrument it declared, the main one first (any number per venue).
    pub markets: &'a [Instrument],
    /// The venues' names in config, indexed by `VenueId`.
    pub venues: &'a [String],
}

/// One strategy kind.
pub struct Kind {
    /// `kind = "..."` in config.
    pub name: &'static str,
    /// Checks parameters, reporting each problem as `(key, message)`.
    pub validate: fn(&toml::Table) -> Result<(), ParamErrors>,
    pub build: fn(&BuildArgs<'_>) -> Result<Box<dyn Strategy>, ParamErrors>,
    /// Keys whose change between two valid tables needs a restart (not a reload).
    pub restart_keys: fn(old: &toml::Table, new: &toml::Table) -> Vec<String>,
    /// Cancel the strategy's open orders when the engine stops (valid parameters).
    pub cancel_on_stop: fn(&toml::Table) -> bool,
    /// The balances allotted to it, base and quote (paper accounts and position reports
    /// count from them); zero when it trades the account as it is.
    pub allocation: fn(&toml::Table) -> (Qty, Price),
    /// For kinds that predict with a model file: where it is and how a new one is checked,
    /// so the engine can load a replacement off the hot path (upload or file change).
    pub model: Option<ModelHooks>,
}

/// How the engine swaps a kind's model while it runs.
pub struct ModelHooks {
    /// The model file valid parameters name.
    pub path: fn(&toml::Table) -> Option<PathBuf>,
    /// Whether a strategy with valid parameters `params` can predict with `model` (its
    /// objective, and features the parameters can supply).
    pub check: fn(params: &toml::Table, model: &Model) -> Result<(), String>,
}

pub fn kind(name: &str) -> Option<&'static Kind> {
    super::KINDS.iter().copied().find(|k| k.name == name)
}

/// `spread, grid`: for error messages.
pub fn names() -> String {
    super::KINDS
        .iter()
        .map(|k| k.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Validates `params` for `kind`; an unknown kind is an error on the empty key.
pub fn validate(kind_name: &str, params: &toml::Table) -> Result<(), ParamErrors> {
    match kind(kind_name) {
        Some(k) => (k.validate)(params),
        None => Err(vec![(
            String::new(),
            format!(
                "unknown strategy kind {kind_name:?}; the kinds are: {}",
                names()
            ),
        )]),
    }
}

/// Helper for kinds: the keys of `keys` whose values differ between `old` and `new`.
pub fn changed_keys(keys: &[&str], old: &toml::Table, new: &toml::Table) -> Vec<String> {
    keys.iter()
        .filter(|k| old.get(**k) != new.get(**k))
        .map(|k| (*k).to_owned())
        .collect()
}
