//! `[backtest]`: the section of a backtest config that the engine's own config does not have
//! (queue model, latency model, seed). It is taken out of the file before the rest is
//! validated as an engine config, and checked here, every bad key reported at once.

use std::path::{Path, PathBuf};

use super::latency::{LatencyModel, RateMeter};
use super::queue::QueueModel;

/// The checked `[backtest]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub queue: QueueModel,
    pub latency: LatencySetting,
    pub seed: u64,
    /// Perpetuals' funding rate per funding time where the recording gives none
    /// (`funding_rate = "0.0001"`); `None`: such funding times pass unpaid, counted.
    pub funding_rate: Option<crate::types::FundingRate>,
    /// Keep every order state and fill for the database (set by `--db` or an enabled
    /// `[persistence]`, not a `[backtest]` key).
    pub records: bool,
}

/// Which latency model, with its figures (built per run by [`Settings::latency_model`]).
#[derive(Debug, Clone, PartialEq)]
pub enum LatencySetting {
    Constant {
        entry_ns: u64,
        response_ns: u64,
    },
    Hgrm {
        dir: PathBuf,
    },
    MessageRate {
        entry_ns: u64,
        response_ns: u64,
        rate_ref: f64,
        window_ns: u64,
    },
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            queue: QueueModel::Proportional,
            latency: LatencySetting::Constant {
                entry_ns: 1_000_000,
                response_ns: 1_000_000,
            },
            seed: 1,
            funding_rate: None,
            records: false,
        }
    }
}

const KEYS: [&str; 10] = [
    "queue",
    "queue_power",
    "latency",
    "entry_latency",
    "response_latency",
    "latency_dir",
    "rate_reference",
    "rate_window",
    "seed",
    "funding_rate",
];

/// Splits a backtest config's text into its `[backtest]` table and the engine config's text.
pub fn split(text: &str) -> Result<(toml::Table, String), String> {
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("not valid TOML: {e}"))?;
    let section = match doc.remove("backtest") {
        Some(toml::Value::Table(t)) => t,
        Some(_) => return Err("backtest: expected a table ([backtest])".into()),
        None => toml::Table::new(),
    };
    let rest = toml::to_string(&doc).map_err(|e| format!("re-serialising the config: {e}"))?;
    Ok((section, rest))
}

fn duration_ns(t: &toml::Table, key: &str, default: u64, errs: &mut Vec<String>) -> u64 {
    match t.get(key) {
        None => default,
        Some(toml::Value::String(s)) => match crate::config::parse_duration(s) {
            Ok(d) => d.as_nanos() as u64,
            Err(e) => {
                errs.push(format!("backtest.{key}: {e}"));
                default
            }
        },
        Some(_) => {
            errs.push(format!(
                "backtest.{key}: expected a duration such as \"1ms\""
            ));
            default
        }
    }
}

fn number(t: &toml::Table, key: &str, default: f64, errs: &mut Vec<String>) -> f64 {
    match t.get(key) {
        None => default,
        Some(toml::Value::Float(f)) if f.is_finite() && *f > 0.0 => *f,
        Some(toml::Value::Integer(i)) if *i > 0 => *i as f64,
        Some(_) => {
            errs.push(format!("backtest.{key}: expected a positive number"));
            default
        }
    }
}

impl Settings {
    /// Checks `[backtest]`; relative paths are taken from `base` (the config's folder).
    pub fn from_table(t: &toml::Table, base: &Path) -> Result<Self, Vec<String>> {
        let mut errs = Vec::new();
        for k in t.keys() {
            if !KEYS.contains(&k.as_str()) {
                errs.push(format!(
                    "backtest.{k}: unknown key; the keys are {}",
                    KEYS.join(", ")
                ));
            }
        }
        let text = |key: &str, default: &str, errs: &mut Vec<String>| match t.get(key) {
            None => default.to_owned(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(_) => {
                errs.push(format!("backtest.{key}: expected a string"));
                default.to_owned()
            }
        };
        let queue = match text("queue", "proportional", &mut errs).as_str() {
            "none" => QueueModel::None,
            "proportional" => QueueModel::Proportional,
            "probabilistic" => QueueModel::Probabilistic {
                power: number(t, "queue_power", 3.0, &mut errs),
            },
            other => {
                errs.push(format!(
                    "backtest.queue: {other:?}: expected none, proportional or probabilistic"
                ));
                QueueModel::None
            }
        };
        let entry_ns = duration_ns(t, "entry_latency", 1_000_000, &mut errs);
        let response_ns = duration_ns(t, "response_latency", 1_000_000, &mut errs);
        let latency = match text("latency", "constant", &mut errs).as_str() {
            "constant" => LatencySetting::Constant {
                entry_ns,
                response_ns,
            },
            "hgrm" => match t.get("latency_dir") {
                Some(toml::Value::String(d)) => LatencySetting::Hgrm { dir: base.join(d) },
                _ => {
                    errs.push(
                        "backtest.latency_dir: the hgrm model needs the folder of .hgrm files"
                            .into(),
                    );
                    LatencySetting::Hgrm { dir: base.into() }
                }
            },
            "message-rate" => LatencySetting::MessageRate {
                entry_ns,
                response_ns,
                rate_ref: number(t, "rate_reference", 1000.0, &mut errs),
                window_ns: duration_ns(t, "rate_window", 1_000_000_000, &mut errs).max(64),
            },
            other => {
                errs.push(format!(
                    "backtest.latency: {other:?}: expected constant, hgrm or message-rate"
                ));
                LatencySetting::Constant {
                    entry_ns,
                    response_ns,
                }
            }
        };
        let seed = match t.get("seed") {
            None => 1,
            Some(toml::Value::Integer(i)) if *i >= 0 => *i as u64,
            Some(_) => {
                errs.push("backtest.seed: expected a whole number ≥ 0".into());
                1
            }
        };
        let funding_rate = match t.get("funding_rate") {
            None => None,
            Some(toml::Value::String(s)) => match crate::types::FundingRate::parse(s) {
                Ok(r) => Some(r),
                Err(e) => {
                    errs.push(format!("backtest.funding_rate: {e}"));
                    None
                }
            },
            Some(_) => {
                errs.push(
                    "backtest.funding_rate: expected a decimal string such as \"0.0001\"".into(),
                );
                None
            }
        };
        if errs.is_empty() {
            Ok(Self {
                queue,
                latency,
                seed,
                funding_rate,
                records: false,
            })
        } else {
            Err(errs)
        }
    }

    /// The latency model of one run on `venue` (its `.hgrm` files are `<venue>.*.hgrm`).
    pub fn latency_model(&self, venue: &str) -> Result<LatencyModel, String> {
        Ok(match &self.latency {
            LatencySetting::Constant {
                entry_ns,
                response_ns,
            } => LatencyModel::Constant {
                entry_ns: *entry_ns,
                response_ns: *response_ns,
            },
            LatencySetting::Hgrm { dir } => LatencyModel::from_dir(dir, venue, self.seed)?,
            LatencySetting::MessageRate {
                entry_ns,
                response_ns,
                rate_ref,
                window_ns,
            } => LatencyModel::MessageRate {
                entry_ns: *entry_ns,
                response_ns: *response_ns,
                rate_ref: *rate_ref,
                window_ns: *window_ns,
                rate: Box::new(RateMeter::new(*window_ns)),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    #[test]
    fn every_bad_key_is_reported_with_its_path() {
        let e = Settings::from_table(
            &table("queue = \"fifo\"\nlatency = \"fast\"\nentry_latency = 5\nbogus = 1\nseed = -1"),
            Path::new("."),
        )
        .unwrap_err();
        for key in [
            "backtest.queue",
            "backtest.latency",
            "backtest.entry_latency",
            "backtest.bogus",
            "backtest.seed",
        ] {
            assert!(e.iter().any(|m| m.starts_with(key)), "{key} in {e:?}");
        }
    }

    #[test]
    fn models_and_defaults() {
        let s = Settings::from_table(&table(""), Path::new(".")).unwrap();
        assert_eq!(s, Settings::default());
        let s = Settings::from_table(
            &table("queue = \"probabilistic\"\nqueue_power = 2\nlatency = \"message-rate\"\nentry_latency = \"3ms\"\nseed = 9"),
            Path::new("."),
        )
        .unwrap();
        assert_eq!(s.queue, QueueModel::Probabilistic { power: 2.0 });
        assert!(matches!(
            s.latency,
            LatencySetting::MessageRate {
                entry_ns: 3_000_000,
                ..
            }
        ));
        assert_eq!(s.seed, 9);
        let (section, rest) = split("[backtest]\nseed = 4\n[engine]\nname = \"x\"\n").unwrap();
        assert_eq!(section.get("seed"), Some(&toml::Value::Integer(4)));
        assert!(!rest.contains("backtest") && rest.contains("[engine]"));
    }
}
