//! `[bots]` and the overlay: what lets an operator create, edit, stop and delete bots while
//! the engine runs, with the config file staying the truth.
//!
//! **Slots.** Strategies are wired at start (their order, update and print channels, risk
//! rows and records are indexed by `StrategyId`), so a bot created at run time takes a
//! *slot*: `[bots] slots_per_instrument = N` adds N vacant strategies on every instrument
//! (kind `vacant`, id `slot-<venue>-<symbol>-<k>`), wired like any other and doing nothing
//! until the control API installs a bot in one. A deleted bot's strategy becomes a vacant
//! slot of its instrument.
//!
//! **The overlay.** Runtime changes are written to `<config file>.overlay` beside the config
//! (TOML; the name does not end in `.toml`, so it is never taken for a config of its own):
//! `[[strategies]]` created at run time (the same keys as the config's), `[params.<id>]`
//! parameters set at run time (replacing the config's table), `deleted = [ids]` and
//! `stopped = [ids]`. `config::load` reads it with the config, so `mako check` validates both
//! together and a restart comes back with the runtime-created bots, their parameters and
//! their states.

use std::path::{Path, PathBuf};

use super::error::ConfigErrors;

/// The kind of a vacant slot.
pub const VACANT: &str = crate::strategy::vacant::NAME;
/// Most slots per instrument (each is a strategy actor polled on its host).
pub const MAX_SLOTS: i64 = 64;

/// `[bots]` and what the overlay said, after expansion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BotsConfig {
    pub slots_per_instrument: usize,
    /// Where runtime changes are written: `<config file>.overlay` (`None` when the config
    /// did not come from a file).
    pub overlay: Option<PathBuf>,
    /// Bots the overlay says were stopped by the operator: they start stopped.
    pub stopped: Vec<String>,
    /// Bots the overlay created (not in the config file).
    pub created: Vec<String>,
}

/// The overlay file of the config at `path`.
pub fn overlay_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".overlay");
    PathBuf::from(p)
}

/// What the overlay holds, as a table ready to be written back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlay {
    pub strategies: Vec<toml::Table>,
    pub params: toml::Table,
    pub deleted: Vec<String>,
    pub stopped: Vec<String>,
}

impl Overlay {
    /// Reads an overlay's text; errors name `origin` and the key.
    pub fn parse(text: &str, origin: &Path, errors: &mut ConfigErrors) -> Self {
        let at = |k: &str| format!("{}: {k}", origin.display());
        let mut table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                errors.push(origin.display().to_string(), e.message().trim_end());
                return Self::default();
            }
        };
        let mut out = Self::default();
        let names = |v: Option<toml::Value>, key: &str, errors: &mut ConfigErrors| match v {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => a
                .into_iter()
                .filter_map(|x| match x {
                    toml::Value::String(s) => Some(s),
                    _ => {
                        errors.push(at(key), "expected a list of strategy ids");
                        None
                    }
                })
                .collect(),
            Some(_) => {
                errors.push(at(key), "expected a list of strategy ids");
                Vec::new()
            }
        };
        out.deleted = names(table.remove("deleted"), "deleted", errors);
        out.stopped = names(table.remove("stopped"), "stopped", errors);
        match table.remove("params") {
            None => {}
            Some(toml::Value::Table(t)) => {
                for (k, v) in &t {
                    if !v.is_table() {
                        errors.push(at(&format!("params.{k}")), "expected a table");
                    }
                }
                out.params = t;
            }
            Some(_) => errors.push(at("params"), "expected a table of tables"),
        }
        match table.remove("strategies") {
            None => {}
            Some(toml::Value::Array(a)) => {
                for (i, v) in a.into_iter().enumerate() {
                    match v {
                        toml::Value::Table(t) => out.strategies.push(t),
                        _ => errors.push(at(&format!("strategies[{i}]")), "expected a table"),
                    }
                }
            }
            Some(_) => errors.push(at("strategies"), "expected an array of tables"),
        }
        for k in table.keys() {
            errors.push(
                at(k),
                "unknown key (an overlay holds strategies, params, deleted and stopped)",
            );
        }
        out
    }

    /// The overlay as TOML text, headed by what it is.
    pub fn render(&self, config: &Path) -> String {
        let mut t = toml::Table::new();
        if !self.deleted.is_empty() {
            t.insert("deleted".into(), strings(&self.deleted));
        }
        if !self.stopped.is_empty() {
            t.insert("stopped".into(), strings(&self.stopped));
        }
        if !self.params.is_empty() {
            t.insert("params".into(), toml::Value::Table(self.params.clone()));
        }
        if !self.strategies.is_empty() {
            t.insert(
                "strategies".into(),
                toml::Value::Array(
                    self.strategies
                        .iter()
                        .cloned()
                        .map(toml::Value::Table)
                        .collect(),
                ),
            );
        }
        let name = config
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        format!(
            "# Written by mako's bot management API: runtime changes over {name}.\n\
             # Read with it at every start; `mako check {name}` validates both together.\n\
             {}",
            toml::to_string(&t).unwrap_or_default()
        )
    }

    pub fn is_empty(&self) -> bool {
        self.strategies.is_empty()
            && self.params.is_empty()
            && self.deleted.is_empty()
            && self.stopped.is_empty()
    }
}

fn strings(v: &[String]) -> toml::Value {
    toml::Value::Array(v.iter().cloned().map(toml::Value::String).collect())
}

/// The config's text with the overlay applied and the slots added, when there is anything
/// to do (`None`: use the text as it is, so syntax errors keep their lines). Errors in the
/// overlay or in `[bots]` are pushed to `errors`.
pub(super) fn expand(
    text: &str,
    overlay: Option<&Overlay>,
    errors: &mut ConfigErrors,
) -> Option<(String, BotsConfig)> {
    if overlay.is_none_or(Overlay::is_empty) && !text.contains("bots") {
        return None;
    }
    let mut doc: toml::Table = text.parse().ok()?;
    let mut bots = BotsConfig::default();
    match doc.remove("bots") {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("slots_per_instrument", toml::Value::Integer(n))
                        if (0..=MAX_SLOTS).contains(&n) =>
                    {
                        bots.slots_per_instrument = n as usize;
                    }
                    ("slots_per_instrument", _) => errors.push(
                        "bots.slots_per_instrument",
                        format!("expected an integer from 0 to {MAX_SLOTS}"),
                    ),
                    (k, _) => errors.push(
                        format!("bots.{k}"),
                        "unknown key (expected slots_per_instrument)",
                    ),
                }
            }
        }
        Some(_) => errors.push("bots", "expected a table"),
    }
    let strategies = doc
        .entry("strategies")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    let Some(list) = strategies.as_array_mut() else {
        // The structural pass reports the wrong type.
        return None;
    };
    if let Some(o) = overlay {
        let id = |v: &toml::Value| v.get("id").and_then(toml::Value::as_str).map(str::to_owned);
        list.retain(|s| id(s).is_none_or(|n| !o.deleted.contains(&n)));
        for s in &o.strategies {
            if let Some(n) = s.get("id").and_then(toml::Value::as_str) {
                bots.created.push(n.to_owned());
            }
            list.push(toml::Value::Table(s.clone()));
        }
        for (name, params) in &o.params {
            match list.iter_mut().find(|s| id(s).as_deref() == Some(name)) {
                Some(toml::Value::Table(s)) => {
                    s.insert("params".into(), params.clone());
                }
                _ => errors.push(
                    format!("overlay: params.{name}"),
                    "no strategy has this id (remove the table from the overlay)",
                ),
            }
        }
        bots.stopped = o.stopped.clone();
    }
    if bots.slots_per_instrument > 0 {
        let instruments: Vec<(String, String)> = doc
            .get("instruments")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let venue = i.get("venue")?.as_str()?;
                let symbol = i.get("symbol")?.as_str()?;
                Some((venue.to_owned(), symbol.to_owned()))
            })
            .collect();
        let list = doc
            .get_mut("strategies")
            .and_then(toml::Value::as_array_mut)?;
        for (venue, symbol) in instruments {
            for k in 1..=bots.slots_per_instrument {
                let mut s = toml::Table::new();
                s.insert("id".into(), slot_name(&venue, &symbol, k).into());
                s.insert("kind".into(), VACANT.into());
                s.insert("venue".into(), venue.clone().into());
                s.insert("instrument".into(), symbol.clone().into());
                list.push(toml::Value::Table(s));
            }
        }
    }
    Some((toml::to_string(&doc).ok()?, bots))
}

/// The id of slot `k` on an instrument.
pub fn slot_name(venue: &str, symbol: &str, k: usize) -> String {
    format!("slot-{venue}-{symbol}-{k}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[engine]
name = "t"
mode = "sim"
[[venues]]
name = "v"
kind = "binance-spot"
[[instruments]]
venue = "v"
symbol = "BTCUSDT"
[[strategies]]
id = "a"
kind = "grid"
venue = "v"
instrument = "BTCUSDT"
[strategies.params]
quantity = "1"
[bots]
slots_per_instrument = 2
"#;

    fn ids(text: &str) -> Vec<String> {
        let t: toml::Table = text.parse().unwrap();
        t["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn slots_are_added_per_instrument_and_bots_is_consumed() {
        let mut e = ConfigErrors::default();
        let (text, bots) = expand(BASE, None, &mut e).unwrap();
        assert!(e.is_empty(), "{e}");
        assert_eq!(bots.slots_per_instrument, 2);
        assert_eq!(ids(&text), ["a", "slot-v-BTCUSDT-1", "slot-v-BTCUSDT-2"]);
        assert!(!text.contains("[bots]"));
    }

    #[test]
    fn the_overlay_adds_replaces_and_deletes_and_round_trips_through_its_text() {
        let o = Overlay {
            strategies: vec![
                toml::toml! { id = "b" kind = "grid" venue = "v" instrument = "BTCUSDT" },
            ],
            params: toml::toml! { [a] quantity = "2" },
            deleted: vec![],
            stopped: vec!["b".into()],
        };
        let text = o.render(Path::new("x.toml"));
        let mut e = ConfigErrors::default();
        let back = Overlay::parse(&text, Path::new("x.toml.overlay"), &mut e);
        assert!(e.is_empty(), "{e}");
        assert_eq!(back, o);
        let (merged, bots) = expand(BASE, Some(&back), &mut e).unwrap();
        assert_eq!(ids(&merged)[..2], ["a".to_owned(), "b".to_owned()]);
        assert_eq!(bots.created, ["b"]);
        assert_eq!(bots.stopped, ["b"]);
        let t: toml::Table = merged.parse().unwrap();
        assert_eq!(t["strategies"][0]["params"]["quantity"].as_str(), Some("2"));
        let deleting = Overlay {
            deleted: vec!["a".into()],
            ..Overlay::default()
        };
        let (merged, _) = expand(BASE, Some(&deleting), &mut e).unwrap();
        assert_eq!(ids(&merged), ["slot-v-BTCUSDT-1", "slot-v-BTCUSDT-2"]);
    }

    #[test]
    fn bad_overlay_and_bots_keys_are_reported_with_their_paths() {
        let mut e = ConfigErrors::default();
        let o = Overlay::parse(
            "deleted = 3\nnope = 1\n",
            Path::new("c.toml.overlay"),
            &mut e,
        );
        assert!(o.is_empty());
        assert!(e.has("c.toml.overlay: deleted"), "{e}");
        assert!(e.has("c.toml.overlay: nope"), "{e}");
        let mut e = ConfigErrors::default();
        let text = BASE.replace(
            "slots_per_instrument = 2",
            "slots_per_instrument = 900\nx = 1",
        );
        expand(&text, None, &mut e);
        assert!(e.has("bots.slots_per_instrument"), "{e}");
        assert!(e.has("bots.x"), "{e}");
        let mut e = ConfigErrors::default();
        let o = Overlay {
            params: toml::toml! { [zz] quantity = "2" },
            ..Overlay::default()
        };
        expand(BASE, Some(&o), &mut e);
        assert!(e.has("overlay: params.zz"), "{e}");
    }
}
