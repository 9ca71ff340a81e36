//! Config errors: each names the key path it is about and says what to do; a failed load
//! carries all of them.

use std::fmt;

/// One problem with a config file, at one key path (`venues[0].recv_window`).
///
/// Messages never contain a secret's value: at most the name of the variable or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Key path into the file, e.g. `strategies[1].instrument`; for a syntax error,
    /// `<file>:<line>:<column>`.
    pub path: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one config file, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError::new(path, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// Whether an error at exactly `path` was reported: checks use it to stay quiet about
    /// the consequences of an error the user already sees.
    pub fn has(&self, path: &str) -> bool {
        self.0.iter().any(|e| e.path == path)
    }
}

/// One error per line, `path: message`.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_per_line() {
        let mut errs = ConfigErrors::default();
        errs.push(
            "venues[0].recv_window",
            "90s is above Binance's maximum of 60s",
        );
        errs.push(
            "strategies[1].instrument",
            "no instrument \"ETHUSDT\" on venue \"binance\"",
        );
        assert_eq!(
            errs.to_string(),
            "venues[0].recv_window: 90s is above Binance's maximum of 60s\n\
             strategies[1].instrument: no instrument \"ETHUSDT\" on venue \"binance\""
        );
        assert_eq!(errs.len(), 2);
    }
}
