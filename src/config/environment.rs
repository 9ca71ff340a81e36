//! What a valid config needs from the machine it runs on: secrets in the environment or in
//! private files, cores to pin to. Checked separately from the file, so `mako check` on a
//! laptop reports these as warnings instead of failing.

use super::error::ConfigError;
use super::fields::join;
use super::model::Config;
use super::secret::SecretSource;

impl Config {
    /// In paper mode, strategies that start with no balance at all (no `[strategies.paper]`
    /// and nothing their kind allots): every order they send is refused for want of funds.
    pub fn paper_warnings(&self) -> Vec<ConfigError> {
        if self.engine.mode != super::model::Mode::Paper {
            return Vec::new();
        }
        self.strategies
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let (base, quote) = s.allocation();
                s.kind != super::bots::VACANT && base.is_zero() && quote.is_zero()
            })
            .map(|(i, s)| {
                ConfigError::new(
                    format!("strategies[{i}]"),
                    format!(
                        "in paper mode strategy {:?} starts with no balance, so every order it \
                         sends is refused: give it [strategies.paper] with base and/or quote",
                        s.name
                    ),
                )
            })
            .collect()
    }

    /// Problems of this machine rather than of the file: unset environment variables,
    /// missing or group/world-readable secret files, pinned cores that do not exist. Each
    /// names the key path that refers to the resource. Secrets are never read, only looked
    /// for, so no value can appear in a warning.
    pub fn environment_warnings(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        for (i, v) in self.venues.iter().enumerate() {
            if let Some(c) = &v.credentials {
                let path = format!("venues[{i}]");
                secret_warning(&mut out, &path, "api_key", &c.api_key);
                secret_warning(&mut out, &path, "api_secret", &c.api_secret);
            }
        }
        if let Some(token) = &self.status.token {
            secret_warning(&mut out, "status", "token", token);
        }
        if let Some(t) = &self.notifications.telegram {
            secret_warning(
                &mut out,
                "notifications.telegram",
                "bot_token",
                &t.bot_token,
            );
        }
        let cores: Option<Vec<usize>> =
            core_affinity::get_core_ids().map(|ids| ids.iter().map(|c| c.id).collect());
        for (i, h) in self.runtime.hosts.iter().enumerate() {
            if let (Some(core), Some(cores)) = (h.core, &cores)
                && !cores.contains(&core)
            {
                out.push(ConfigError::new(
                    format!("runtime.hosts[{i}].core"),
                    format!("core {core} is not available to this process here (cores {cores:?})"),
                ));
            }
        }
        out
    }
}

fn secret_warning(out: &mut Vec<ConfigError>, section: &str, base: &str, source: &SecretSource) {
    match source {
        SecretSource::Env(name) => {
            let problem = match std::env::var_os(name) {
                None => "is not set",
                Some(v) if v.to_string_lossy().trim().is_empty() => "is empty",
                Some(_) => return,
            };
            out.push(ConfigError::new(
                join(section, &format!("{base}_env")),
                format!("environment variable {name} {problem} here; set it before `mako run`"),
            ));
        }
        SecretSource::File(path) => {
            use std::os::unix::fs::PermissionsExt;
            let message = match std::fs::metadata(path) {
                Err(e) => format!("{}: {e}", path.display()),
                Ok(m) if m.permissions().mode() & 0o077 != 0 => format!(
                    "{} is readable by others (mode {:o}); chmod 600 it",
                    path.display(),
                    m.permissions().mode() & 0o777
                ),
                Ok(_) => return,
            };
            out.push(ConfigError::new(
                join(section, &format!("{base}_file")),
                message,
            ));
        }
    }
}
