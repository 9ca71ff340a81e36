//! Secrets: the config names where a secret lives, never the secret itself. A loaded secret
//! never prints.

use std::fmt;
use std::path::PathBuf;

/// Where a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file readable only by its owner (mode 0400 or 0600).
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("environment variable {0} is empty")]
    EnvEmpty(String),
    #[error("secret file {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("secret file {0} is readable by others (mode {1:o}); chmod 600 it")]
    FileMode(PathBuf, u32),
    #[error("secret file {0} is empty")]
    FileEmpty(PathBuf),
}

/// A secret's value. `Debug` and `Display` print `***`, so it cannot leak into logs or errors.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The value, for signing or an auth header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Wraps a value (tests, or a secret obtained outside the config).
    pub fn new(v: impl Into<String>) -> Self {
        Self(v.into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl SecretSource {
    /// Reads the secret. Errors name the variable or file, never the value.
    pub fn load(&self) -> Result<Secret, SecretError> {
        match self {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(v) if v.trim().is_empty() => Err(SecretError::EnvEmpty(name.clone())),
                Ok(v) => Ok(Secret(v.trim().to_owned())),
                Err(_) => Err(SecretError::EnvMissing(name.clone())),
            },
            SecretSource::File(path) => {
                use std::os::unix::fs::PermissionsExt;
                let meta =
                    std::fs::metadata(path).map_err(|e| SecretError::File(path.clone(), e))?;
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(SecretError::FileMode(path.clone(), mode));
                }
                let v = std::fs::read_to_string(path)
                    .map_err(|e| SecretError::File(path.clone(), e))?;
                if v.trim().is_empty() {
                    return Err(SecretError::FileEmpty(path.clone()));
                }
                Ok(Secret(v.trim().to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
    }

    #[test]
    fn file_must_be_private() {
        let dir = std::env::temp_dir().join(format!("mako-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let src = SecretSource::File(path.clone());
        let err = src.load().unwrap_err().to_string();
        assert!(err.contains("chmod 600") && !err.contains("abc"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(src.load().unwrap().expose(), "abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_env_names_the_variable() {
        let err = SecretSource::Env("MAKO_TEST_SURELY_UNSET_VAR".into())
            .load()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable MAKO_TEST_SURELY_UNSET_VAR is not set"
        );
    }
}
