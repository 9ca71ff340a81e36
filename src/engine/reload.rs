//! Parameter reload: re-reads the config file, validates all of it, and works out which
//! strategies' parameters changed. Anything else that changed needs a restart and refuses
//! the whole reload, as do invalid parameters: a reload applies completely or not at all.
//!
//! Sections are compared through their `Debug` renderings of the *validated* config, so
//! comments, key order, whitespace and defaults written out make no difference, and every
//! field counts (secrets are compared by where they come from, never by value).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::{Config, StrategyConfig};
use crate::strategy::registry;
use crate::types::StrategyId;

/// One strategy's new parameters and what changed in them.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamChange {
    pub strategy: StrategyId,
    pub name: String,
    /// The whole new table, as the strategy will receive it.
    pub params: toml::Table,
    /// `(key, old, new)`; `None` where the key is absent (its default applies).
    pub changed: Vec<(String, Option<toml::Value>, Option<toml::Value>)>,
}

/// Why a reload was refused. The parameters in force stay as they were.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReloadError {
    #[error("the config file is not valid: {0}")]
    Invalid(String),
    #[error("these changes need a restart: {}", .0.join("; "))]
    NeedsRestart(Vec<String>),
    #[error("invalid strategy parameters: {}", .0.iter().map(|(s, k, m)| format!("{s}.params.{k}: {m}")).collect::<Vec<_>>().join("; "))]
    Params(Vec<(String, String, String)>),
    #[error("{0}")]
    Unavailable(String),
}

fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Validates a strategy's parameters for its kind (the registry's rule).
pub fn validate_params(kind: &str, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
    registry::validate(kind, params)
}

/// Parameters of `kind` that only take effect at start, changed between `old` and `new`.
fn restart_keys_changed(kind: &str, old: &toml::Table, new: &toml::Table) -> Vec<String> {
    registry::kind(kind).map_or_else(Vec::new, |k| (k.restart_keys)(old, new))
}

fn key_changes(
    old: &toml::Table,
    new: &toml::Table,
) -> Vec<(String, Option<toml::Value>, Option<toml::Value>)> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| (k.clone(), old.get(k).cloned(), new.get(k).cloned()))
        .collect()
}

/// The runtime section with the strategies left out of the hosts' actor lists: where a
/// strategy runs follows from its place in the list, which bots created or deleted at run
/// time move (a host's own settings and its other actors still count).
fn placement(c: &Config) -> crate::config::RuntimeConfig {
    let mut r = c.runtime.clone();
    for h in &mut r.hosts {
        h.actors
            .retain(|a| !matches!(a, crate::config::ActorName::Strategy(_)));
    }
    r
}

/// Everything about a strategy except its parameters and its place in the list (a bot
/// created at run time sits in a slot; after a restart, among the config's strategies).
fn identity(s: &StrategyConfig) -> String {
    format!(
        "{:?}",
        (
            &s.name,
            &s.kind,
            &s.venue,
            &s.instrument,
            &s.markets,
            &s.risk
        )
    )
}

/// What applying `new` over the running `old` means: the strategies whose parameters
/// change, or why it cannot be applied without a restart.
pub fn plan(old: &Config, new: &Config) -> Result<Vec<ParamChange>, ReloadError> {
    let mut restart = Vec::new();
    let sections: [(&str, bool); 10] = [
        ("[engine]", same(&old.engine, &new.engine)),
        (
            "[runtime] (hosts, placement)",
            same(&placement(old), &placement(new)),
        ),
        ("[[venues]]", same(&old.venues, &new.venues)),
        ("[[instruments]]", same(&old.instruments, &new.instruments)),
        ("[latency]", same(&old.latency, &new.latency)),
        ("[risk]", same(&old.risk, &new.risk)),
        ("[persistence]", same(&old.persistence, &new.persistence)),
        ("[status]", same(&old.status, &new.status)),
        (
            "[notifications]",
            same(&old.notifications, &new.notifications),
        ),
        ("[sim]", same(&old.sim, &new.sim)),
    ];
    for (name, unchanged) in sections {
        if !unchanged {
            restart.push(format!("{name} changed"));
        }
    }
    // Strategies are matched by name; vacant bot slots are not strategies of the operator's.
    let bots = |c: &'_ Config| -> Vec<StrategyConfig> {
        c.strategies
            .iter()
            .filter(|s| s.kind != crate::config::bots::VACANT)
            .cloned()
            .collect()
    };
    let (old_bots, new_bots) = (bots(old), bots(new));
    let names = |list: &[StrategyConfig]| list.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    let (old_names, new_names) = (names(&old_bots), names(&new_bots));
    let added: Vec<&String> = new_names
        .iter()
        .filter(|n| !old_names.contains(n))
        .collect();
    let removed: Vec<&String> = old_names
        .iter()
        .filter(|n| !new_names.contains(n))
        .collect();
    if !added.is_empty() || !removed.is_empty() {
        restart.push(format!(
            "strategies added or removed (added: {added:?}, removed: {removed:?}; the control API adds and deletes bots without a restart)"
        ));
    }
    let mut changes = Vec::new();
    let mut invalid = Vec::new();
    for n in &new_bots {
        let Some(o) = old_bots.iter().find(|o| o.name == n.name) else {
            continue;
        };
        if identity(o) != identity(n) {
            restart.push(format!(
                "strategy {} changed its kind, venue, instrument, markets or risk limits",
                o.name
            ));
            continue;
        }
        if o.params == n.params {
            continue;
        }
        if let Err(errs) = validate_params(&n.kind, &n.params) {
            invalid.extend(errs.into_iter().map(|(k, m)| (n.name.clone(), k, m)));
            continue;
        }
        for k in restart_keys_changed(&n.kind, &o.params, &n.params) {
            restart.push(format!("strategy {} parameter {k}", n.name));
        }
        changes.push(ParamChange {
            strategy: o.id,
            name: n.name.clone(),
            params: n.params.clone(),
            changed: key_changes(&o.params, &n.params),
        });
    }
    if !invalid.is_empty() {
        return Err(ReloadError::Params(invalid));
    }
    if !restart.is_empty() {
        return Err(ReloadError::NeedsRestart(restart));
    }
    Ok(changes)
}

/// Size and modification time: what "the file changed" means.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The config file a running engine reloads from, and the config in force.
pub struct Reloader {
    path: PathBuf,
    current: Config,
    stamp: Stamp,
}

impl Reloader {
    /// `current`: the config the engine runs (its strategies' parameters as they are now).
    pub fn new(path: PathBuf, current: Config) -> Self {
        let stamp = stamp(&path);
        Self {
            path,
            current,
            stamp,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file's size or modification time moved since the last look.
    pub fn file_changed(&mut self) -> bool {
        let now = stamp(&self.path);
        if now == self.stamp {
            return false;
        }
        self.stamp = now;
        now.is_some()
    }

    /// Reads and validates the file and plans the reload; changes nothing.
    pub fn prepare(&self) -> Result<Vec<ParamChange>, ReloadError> {
        let new = crate::config::load(&self.path)
            .map_err(|e| ReloadError::Invalid(e.to_string().trim().replace('\n', "; ")))?;
        plan(&self.current, &new)
    }

    /// Records parameters as in force (sent to the strategy).
    pub fn set_params(&mut self, strategy: StrategyId, params: toml::Table) {
        if let Some(s) = self.current.strategies.get_mut(strategy.index()) {
            s.params = params;
        }
    }

    /// Records the bot now in slot `strategy` (created, or vacant again after a delete).
    pub fn set_strategy(
        &mut self,
        strategy: StrategyId,
        name: &str,
        kind: &str,
        params: toml::Table,
    ) {
        if let Some(s) = self.current.strategies.get_mut(strategy.index()) {
            name.clone_into(&mut s.name);
            kind.clone_into(&mut s.kind);
            s.params = params;
        }
    }

    pub fn params(&self, strategy: StrategyId) -> Option<&toml::Table> {
        self.current
            .strategies
            .get(strategy.index())
            .map(|s| &s.params)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const BASE: &str = r#"
[engine]
name = "t"
mode = "sim"
data_dir = "/tmp/mako-reload-test"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:1"
rest_url = "http://127.0.0.1:1"
ws_api_url = "ws://127.0.0.1:1/ws-api/v3"
api_key_env = "K"
api_secret_env = "S"

[[instruments]]
venue = "binance"
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
min_qty = "0.001"
max_qty = "9000"
min_notional = "5"

[[strategies]]
id = "mm"
kind = "spread"
venue = "binance"
instrument = "SOLUSDT"

[strategies.params]
spread_bps = 4
order_size = "0.5"
base_allocation = "20"
quote_allocation = "3000"
"#;

    pub(crate) fn cfg(text: &str) -> Config {
        crate::config::parse(text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A bot created at run time sits in a slot; after a restart it is among the config's
    /// strategies (from the overlay). Reloads match strategies by name and leave vacant slots
    /// out, so the file's next reload plans only what changed.
    #[test]
    fn reloads_match_strategies_by_name_and_leave_vacant_slots_out() {
        let slots = format!("{BASE}\n[bots]\nslots_per_instrument = 2\n");
        let mut running = cfg(&slots);
        // The engine installed bot "b" in the first slot (index 1).
        running.strategies[1].name = "b".into();
        running.strategies[1].kind = "spread".into();
        running.strategies[1].params = running.strategies[0].params.clone();
        let overlay = crate::config::bots::Overlay {
            strategies: vec![toml::toml! {
                id = "b" kind = "spread" venue = "binance" instrument = "SOLUSDT"
                [params]
                spread_bps = 4
                order_size = "0.5"
                base_allocation = "20"
                quote_allocation = "3000"
            }],
            ..Default::default()
        };
        let file =
            crate::config::parse_layers(&slots, Some(&overlay), Path::new("t.toml")).unwrap();
        assert_eq!(
            file.strategies[1].name, "b",
            "after the config's own, before the slots"
        );
        assert_eq!(plan(&running, &file), Ok(vec![]));
        let changed = crate::config::parse_layers(
            &slots.replace("spread_bps = 4", "spread_bps = 5"),
            Some(&overlay),
            Path::new("t.toml"),
        )
        .unwrap();
        let p = plan(&running, &changed).unwrap();
        assert_eq!(
            (p.len(), p[0].strategy, p[0].name.as_str()),
            (1, StrategyId(0), "mm")
        );
        let without_b = cfg(&slots);
        assert!(matches!(
            plan(&running, &without_b),
            Err(ReloadError::NeedsRestart(_))
        ));
    }

    #[test]
    fn the_same_config_changes_nothing() {
        let a = cfg(BASE);
        let reformatted = format!(
            "# a comment\n{}",
            BASE.replace("spread_bps = 4", "spread_bps   =   4")
        );
        assert_eq!(plan(&a, &cfg(&reformatted)), Ok(vec![]));
    }

    #[test]
    fn a_changed_parameter_is_planned_with_its_old_and_new_value() {
        let a = cfg(BASE);
        let b = cfg(&BASE.replace("spread_bps = 4", "spread_bps = 6\nskew_bps = 2"));
        let p = plan(&a, &b).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "mm");
        assert_eq!(p[0].strategy, StrategyId(0));
        assert_eq!(
            p[0].params.get("spread_bps"),
            Some(&toml::Value::Integer(6))
        );
        assert_eq!(
            p[0].changed,
            vec![
                ("skew_bps".into(), None, Some(toml::Value::Integer(2))),
                (
                    "spread_bps".into(),
                    Some(toml::Value::Integer(4)),
                    Some(toml::Value::Integer(6))
                ),
            ]
        );
    }

    #[test]
    fn invalid_parameters_are_refused_with_their_key() {
        let a = cfg(BASE);
        // `config::load` already checks parameters; `plan` checks them again for configs
        // built in other ways.
        let mut b = a.clone();
        b.strategies[0]
            .params
            .insert("spread_bps".into(), toml::Value::Integer(-3));
        match plan(&a, &b) {
            Err(ReloadError::Params(e)) => {
                assert_eq!(e.len(), 1, "{e:?}");
                assert_eq!((e[0].0.as_str(), e[0].1.as_str()), ("mm", "spread_bps"));
            }
            other => panic!("{other:?}"),
        }
        let dir = std::env::temp_dir().join(format!("mako-reload-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, BASE.replace("spread_bps = 4", "spread_bps = -3")).unwrap();
        match Reloader::new(path, a).prepare() {
            Err(ReloadError::Invalid(m)) => assert!(m.contains("spread_bps"), "{m}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn changes_outside_parameters_need_a_restart() {
        let a = cfg(BASE);
        let table = [
            ("ws://127.0.0.1:1\"", "ws://127.0.0.1:2\"", "[[venues]]"),
            (
                "tick_size = \"0.01\"",
                "tick_size = \"0.001\"",
                "[[instruments]]",
            ),
            ("name = \"t\"", "name = \"u\"", "[engine]"),
            (
                "instrument = \"SOLUSDT\"\n",
                "instrument = \"SOLUSDT\"\n[strategies.risk]\nmax_position = \"1\"\n",
                "strategy mm",
            ),
            (
                "base_allocation = \"20\"",
                "base_allocation = \"21\"",
                "base_allocation",
            ),
        ];
        for (from, to, what) in table {
            let b = cfg(&BASE.replacen(from, to, 1));
            match plan(&a, &b) {
                Err(ReloadError::NeedsRestart(why)) => {
                    assert!(why.iter().any(|w| w.contains(what)), "{what}: {why:?}")
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        let hosts = format!("{BASE}\n[runtime]\nshutdown_timeout = \"9s\"\n");
        assert!(matches!(
            plan(&a, &cfg(&hosts)),
            Err(ReloadError::NeedsRestart(_))
        ));
    }

    #[test]
    fn an_unreadable_file_is_refused_and_the_file_stamp_tracks_changes() {
        let dir = std::env::temp_dir().join(format!("mako-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, BASE).unwrap();
        let mut r = Reloader::new(path.clone(), cfg(BASE));
        assert!(!r.file_changed());
        assert_eq!(r.prepare(), Ok(vec![]));
        std::fs::write(&path, format!("{BASE}\n[oops")).unwrap();
        assert!(r.file_changed());
        assert!(!r.file_changed(), "reported once");
        assert!(matches!(r.prepare(), Err(ReloadError::Invalid(_))));
        std::fs::write(&path, BASE.replace("spread_bps = 4", "spread_bps = 8")).unwrap();
        let p = r.prepare().unwrap();
        r.set_params(p[0].strategy, p[0].params.clone());
        assert_eq!(
            r.prepare(),
            Ok(vec![]),
            "applied parameters are the new baseline"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
