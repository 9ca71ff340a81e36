//! Reading a strategy's `[strategies.params]` table: each getter checks one key and records
//! `(key, message)` for anything wrong, so a kind reports every problem at once.

use crate::types::{Price, Qty};

pub type ParamErrors = Vec<(String, String)>;

pub struct ParamReader<'a> {
    t: &'a toml::Table,
    pub errors: ParamErrors,
}

impl<'a> ParamReader<'a> {
    /// Starts reading `t`; any key not in `known` is reported.
    pub fn new(t: &'a toml::Table, known: &[&str]) -> Self {
        let mut errors = Vec::new();
        for k in t.keys() {
            if !known.contains(&k.as_str()) {
                errors.push((
                    k.clone(),
                    format!("unknown parameter; known: {}", known.join(", ")),
                ));
            }
        }
        Self { t, errors }
    }

    pub fn error(&mut self, key: &str, msg: impl Into<String>) {
        self.errors.push((key.to_owned(), msg.into()));
    }

    pub fn has(&self, key: &str) -> bool {
        self.t.contains_key(key)
    }

    /// An integer in `min..=max`.
    pub fn int(&mut self, key: &str, default: u32, min: u32, max: u32) -> u32 {
        match self.t.get(key) {
            None => default,
            Some(toml::Value::Integer(v)) if *v >= i64::from(min) && *v <= i64::from(max) => {
                *v as u32
            }
            Some(v) => {
                self.error(key, format!("must be an integer in {min}..={max}, got {v}"));
                default
            }
        }
    }

    pub fn flag(&mut self, key: &str, default: bool) -> bool {
        match self.t.get(key) {
            None => default,
            Some(toml::Value::Boolean(b)) => *b,
            Some(v) => {
                self.error(key, format!("must be true or false, got {v}"));
                default
            }
        }
    }

    /// A non-negative number (integer or float; a percentage or ratio), at most `max`.
    pub fn number(&mut self, key: &str, default: f64, max: f64) -> f64 {
        let v = match self.t.get(key) {
            None => return default,
            Some(toml::Value::Float(v)) => *v,
            Some(toml::Value::Integer(v)) => *v as f64,
            Some(v) => {
                self.error(key, format!("must be a number, got {v}"));
                return default;
            }
        };
        if !(0.0..=max).contains(&v) {
            self.error(key, format!("must be between 0 and {max}, got {v}"));
            return default;
        }
        v
    }

    /// A duration written as a string like `"180s"` or `"500ms"`.
    pub fn duration(&mut self, key: &str, default: std::time::Duration) -> std::time::Duration {
        match self.t.get(key) {
            None => default,
            Some(toml::Value::String(s)) => match crate::config::parse_duration(s) {
                Ok(d) => d,
                Err(e) => {
                    self.error(key, e.to_string());
                    default
                }
            },
            Some(v) => {
                self.error(
                    key,
                    format!("must be a duration string like \"30s\", got {v}"),
                );
                default
            }
        }
    }

    /// One of `choices` (a string).
    pub fn choice(&mut self, key: &str, choices: &[&'static str]) -> Option<&'static str> {
        match self.t.get(key) {
            None => None,
            Some(toml::Value::String(s)) => {
                let c = choices.iter().find(|c| c.eq_ignore_ascii_case(s)).copied();
                if c.is_none() {
                    self.error(
                        key,
                        format!("must be one of {}, got {s:?}", choices.join(", ")),
                    );
                }
                c
            }
            Some(v) => {
                self.error(
                    key,
                    format!("must be one of {}, got {v}", choices.join(", ")),
                );
                None
            }
        }
    }

    fn decimal(&mut self, key: &str) -> Option<i64> {
        match self.t.get(key)? {
            toml::Value::String(s) => match Price::parse(s) {
                Ok(p) if p.is_positive() => Some(p.units()),
                Ok(_) => {
                    self.error(key, "must be positive");
                    None
                }
                Err(e) => {
                    self.error(
                        key,
                        format!("{e}: write it as a decimal string, e.g. \"1.5\""),
                    );
                    None
                }
            },
            v => {
                self.error(
                    key,
                    format!("must be a decimal string like \"1.5\", got {v}"),
                );
                None
            }
        }
    }

    /// A positive price written as a decimal string, if given.
    pub fn price(&mut self, key: &str) -> Option<Price> {
        self.decimal(key).map(Price::from_units)
    }

    /// A positive quantity written as a decimal string, if given.
    pub fn qty(&mut self, key: &str) -> Option<Qty> {
        self.decimal(key).map(Qty::from_units)
    }

    /// The result: `value` if no key was wrong.
    pub fn finish<T>(self, value: T) -> Result<T, ParamErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}
