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
/// `[bots]` slots and the runtime overlay.
pub mod bots;
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
mod venue_keys;

use std::path::Path;

pub use bands::default_bands;
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::{ConfigError, ConfigErrors};
pub use model::*;
pub use secret::{Secret, SecretError, SecretSource};

/// Parses and validates a config's text. `origin` names the file in syntax errors.
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigErrors> {
    parse_layers(text, None, origin)
}

/// Parses a config's text with its overlay (`bots::Overlay`) applied and its `[bots]` slots
/// added, all validated as one config.
pub fn parse_layers(
    text: &str,
    overlay: Option<&bots::Overlay>,
    origin: &Path,
) -> Result<Config, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let expanded = bots::expand(text, overlay, &mut errors);
    let (text, bots) = match &expanded {
        Some((t, b)) => (t.as_str(), b.clone()),
        None => (text, bots::BotsConfig::default()),
    };
    let config = document::read(text, origin, &mut errors)
        .and_then(|raw| validate::validate(&raw, &mut errors))
        .map(|mut c| {
            c.bots = bots;
            c
        });
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

/// Reads and validates a config file, with its overlay (`<file>.overlay`) when there is one.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let unreadable = |p: &Path, e: std::io::Error| {
        let mut errors = ConfigErrors::default();
        errors.push(
            p.display().to_string(),
            format!("cannot read the file: {e}"),
        );
        errors
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(path, e))?;
    let overlay_path = bots::overlay_path(path);
    let overlay = match std::fs::read_to_string(&overlay_path) {
        Ok(t) => {
            let mut errors = ConfigErrors::default();
            let o = bots::Overlay::parse(&t, &overlay_path, &mut errors);
            if !errors.is_empty() {
                return Err(errors);
            }
            Some(o)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(unreadable(&overlay_path, e)),
    };
    let mut config = parse_layers(&text, overlay.as_ref(), path)?;
    config.bots.overlay = Some(overlay_path);
    Ok(config)
}

#[cfg(test)]
mod tests;
