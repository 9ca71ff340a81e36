//! Configuration: TOML → raw structs (unknown keys rejected) → one validated `Config`.
//! Every error names its key path; all errors are reported at once.
//!
//! `parse` runs two passes. The structural pass (`document`) reads the TOML and deserializes
//! each section and each array element on its own, so unknown keys and wrong types anywhere
//! are all reported. The semantic pass (`validate`) then checks everything that could be read:
//! names, references, decimals, URLs, credentials, latency bands and actor placement.
//! Whatever depends on the machine rather than the file (environment variables, secret files,
//! cores) is not an error: see `Config::environment_warnings`.

/// `[latency]` checks and the default bands.
pub mod bands;
/// Durations as strings with a unit.
pub mod duration;
/// `ConfigError` and `ConfigErrors`.
pub mod error;
/// The validated shape every room consumes.
pub mod model;
/// Where secrets come from.
pub mod secret;

mod contract;
mod document;
mod environment;
mod fields;
mod placement;
mod raw;
mod services;
mod strategies;
mod validate;

use std::path::Path;

pub use bands::default_bands;
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::{ConfigError, ConfigErrors};
pub use model::*;
pub use secret::{Secret, SecretError, SecretSource};

/// Parses and validates a config's text. `origin` names the file in syntax errors.
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let config = document::read(text, origin, &mut errors)
        .and_then(|raw| validate::validate(&raw, &mut errors));
    match config {
        Some(config) if errors.is_empty() => Ok(config),
        _ => {
            if errors.is_empty() {
                // validate returns None only after reporting; keep the failure visible anyway.
                errors.push(origin.display().to_string(), "invalid config");
            }
            Err(errors)
        }
    }
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let mut errors = ConfigErrors::default();
        errors.push(
            path.display().to_string(),
            format!("cannot read the file: {e}"),
        );
        errors
    })?;
    parse(&text, path)
}

#[cfg(test)]
mod tests;
