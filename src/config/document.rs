//! The structural pass: TOML text → `RawConfig`. Each section, and each element of an array
//! section, is deserialized on its own so that every unknown key and wrong type in the file
//! is reported, each with its key path (found from the error's position in the file).
//!
//! Nothing here echoes the file's text: syntax errors give a line and column, never the line.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::error::ConfigErrors;
use super::fields::join;
use super::raw::{RawConfig, RawList, RawSection};

/// Top-level sections, in the order the documentation lists them.
const SECTIONS: &[&str] = &[
    "engine",
    "runtime",
    "venues",
    "instruments",
    "latency",
    "risk",
    "strategies",
    "persistence",
    "paper",
    "status",
    "notifications",
    "sim",
];

/// Keys that would hold a secret's value, per section, and the keys to use instead.
const VENUE_SECRETS: &[(&str, &str, &str)] = &[
    ("api_key", "api_key_env", "api_key_file"),
    ("api_secret", "api_secret_env", "api_secret_file"),
    ("secret", "api_secret_env", "api_secret_file"),
];
const STATUS_SECRETS: &[(&str, &str, &str)] = &[("token", "token_env", "token_file")];
const TELEGRAM_SECRETS: &[(&str, &str, &str)] = &[("bot_token", "bot_token_env", "bot_token_file")];

type Value<'i> = Spanned<DeValue<'i>>;

/// Reads the file's structure. `None` if it is not valid TOML (the syntax errors are reported).
pub(super) fn read(text: &str, origin: &Path, errors: &mut ConfigErrors) -> Option<RawConfig> {
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            errors.push(
                format!("{}:{line}:{col}", origin.display()),
                e.message().trim_end(),
            );
        }
        return None;
    }
    let mut raw = RawConfig::default();
    let mut entries: Vec<(Spanned<_>, Value<'_>)> = root.into_inner().into_iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in entries {
        let key = key.into_inner();
        let path = key_path("", &key);
        match key.as_ref() {
            "engine" => {
                raw.mode = value.get_ref().get("mode").and_then(|m| {
                    serde::Deserialize::deserialize(ValueDeserializer::from(m.clone())).ok()
                });
                raw.engine = section(value, &path, &[], errors);
            }
            "runtime" => {
                let (rest, hosts) = split_list(value, &path, "hosts", "name", &[], errors);
                raw.runtime = rest.map_or(RawSection::Broken, |v| section(v, &path, &[], errors));
                raw.hosts = hosts;
            }
            "venues" => raw.venues = list(value, &path, "name", VENUE_SECRETS, errors),
            "instruments" => raw.instruments = list(value, &path, "symbol", &[], errors),
            "latency" => {
                let (rest, bands) = split_list(value, &path, "bands", "name", &[], errors);
                raw.latency = rest.map_or(RawSection::Broken, |v| section(v, &path, &[], errors));
                raw.bands = bands;
            }
            "risk" => raw.risk = section(value, &path, &[], errors),
            "strategies" => raw.strategies = list(value, &path, "id", &[], errors),
            "persistence" => raw.persistence = section(value, &path, &[], errors),
            "paper" => raw.paper = section(value, &path, &[], errors),
            "status" => raw.status = section(value, &path, STATUS_SECRETS, errors),
            "notifications" => {
                let mut value = value;
                if let DeValue::Table(t) = value.get_mut()
                    && let Some(tg) = t.get_mut("telegram")
                    && let DeValue::Table(tg) = tg.get_mut()
                {
                    take_inline_secrets(tg, &join(&path, "telegram"), TELEGRAM_SECRETS, errors);
                }
                raw.notifications = section(value, &path, &[], errors);
            }
            "sim" => raw.sim = section(value, &path, &[], errors),
            _ => errors.push(
                path,
                format!("unknown section; the sections are {}", SECTIONS.join(", ")),
            ),
        }
    }
    Some(raw)
}

/// A table section, deserialized as a whole.
fn section<T: DeserializeOwned>(
    mut value: Value<'_>,
    path: &str,
    secrets: &[(&str, &str, &str)],
    errors: &mut ConfigErrors,
) -> RawSection<T> {
    let DeValue::Table(table) = value.get_mut() else {
        errors.push(path, format!("must be a table: write it as [{path}]"));
        return RawSection::Broken;
    };
    take_inline_secrets(table, path, secrets, errors);
    match deserialize(value, path, errors) {
        Some(t) => RawSection::Ok(t),
        None => RawSection::Broken,
    }
}

/// An array of tables, deserialized element by element.
fn list<T: DeserializeOwned>(
    value: Value<'_>,
    path: &str,
    name_key: &str,
    secrets: &[(&str, &str, &str)],
    errors: &mut ConfigErrors,
) -> RawList<T> {
    let mut out = RawList::default();
    let DeValue::Array(items) = value.into_inner() else {
        errors.push(
            path,
            format!("must be an array of tables: write each entry as [[{path}]]"),
        );
        return out;
    };
    for (i, mut item) in items.into_iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let DeValue::Table(table) = item.get_mut() else {
            errors.push(
                &item_path,
                format!("must be a table: write each entry as [[{path}]]"),
            );
            out.items.push(None);
            continue;
        };
        take_inline_secrets(table, &item_path, secrets, errors);
        let name = table
            .get(name_key)
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_owned);
        let parsed = deserialize(item, &item_path, errors);
        if parsed.is_none()
            && let Some(name) = name
        {
            out.broken_names.push(name);
        }
        out.items.push(parsed);
    }
    out
}

/// Splits an array of tables (`hosts`, `bands`) off a section, so each element is read on its
/// own. Returns the rest of the section (`None` if the section is not a table) and the list
/// (`None` if absent).
fn split_list<'i, T: DeserializeOwned>(
    mut value: Value<'i>,
    path: &str,
    key: &str,
    name_key: &str,
    secrets: &[(&str, &str, &str)],
    errors: &mut ConfigErrors,
) -> (Option<Value<'i>>, Option<RawList<T>>) {
    let DeValue::Table(table) = value.get_mut() else {
        errors.push(path, format!("must be a table: write it as [{path}]"));
        return (None, None);
    };
    let items = table
        .remove(key)
        .map(|v| list(v, &join(path, key), name_key, secrets, errors));
    (Some(value), items)
}

/// Removes keys that would hold a secret's value and reports each, without its value.
fn take_inline_secrets(
    table: &mut DeTable<'_>,
    path: &str,
    secrets: &[(&str, &str, &str)],
    errors: &mut ConfigErrors,
) {
    for (key, env, file) in secrets {
        if table.remove(*key).is_some() {
            errors.push(
                join(path, key),
                format!(
                    "secrets are never written in the config file; put it in an environment \
                     variable and set {env} to the variable's name (or {file} to a file only \
                     you can read)"
                ),
            );
        }
    }
}

/// Deserializes one value; on failure reports the error at the deepest key path that
/// contains the error's position.
fn deserialize<T: DeserializeOwned>(
    value: Value<'_>,
    path: &str,
    errors: &mut ConfigErrors,
) -> Option<T> {
    let tree = value.clone();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(t) => Some(t),
        Err(e) => {
            let at = e
                .span()
                .and_then(|s| locate(&tree, path, &s))
                .unwrap_or_else(|| path.to_owned());
            errors.push(at, tidy(e.message()));
            None
        }
    }
}

/// The deepest key path under `value` whose key or value contains `err`.
fn locate(value: &Value<'_>, path: &str, err: &Range<usize>) -> Option<String> {
    let contains = |s: Range<usize>| s.start <= err.start && err.end <= s.end.max(s.start + 1);
    match value.get_ref() {
        DeValue::Table(t) => {
            for (k, v) in t {
                let p = key_path(path, k.get_ref());
                if contains(k.span()) {
                    return Some(p);
                }
                if let Some(found) = locate(v, &p, err) {
                    return Some(found);
                }
            }
        }
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                if let Some(found) = locate(v, &format!("{path}[{i}]"), err) {
                    return Some(found);
                }
            }
        }
        _ => {}
    }
    contains(value.span()).then(|| path.to_owned())
}

/// `path.key`, quoting keys that are not bare TOML keys.
fn key_path(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        join(path, key)
    } else {
        join(path, &format!("{key:?}"))
    }
}

/// serde's words → the file's words: keys, not fields; tables, not Rust structs.
fn tidy(message: &str) -> String {
    let mut out = message
        .trim_end()
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key");
    for (prefix, replacement) in [("struct Raw", "a table"), ("enum Raw", "a string")] {
        while let Some(start) = out.find(prefix) {
            let end = out[start + prefix.len()..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .map_or(out.len(), |n| start + prefix.len() + n);
            out.replace_range(start..end, replacement);
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> (Option<RawConfig>, Vec<String>) {
        let mut errors = ConfigErrors::default();
        let raw = read(text, Path::new("t.toml"), &mut errors);
        (raw, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn syntax_error_has_line_and_column_but_not_the_line() {
        let (raw, errs) = read_str("[engine]\nname = \"x\"\napi_secret = \"hunter2\n");
        assert!(raw.is_none());
        assert!(!errs.is_empty());
        assert!(errs[0].starts_with("t.toml:3:"), "{errs:?}");
        assert!(errs.iter().all(|e| !e.contains("hunter2")), "{errs:?}");
    }

    #[test]
    fn structural_errors_name_their_key_path() {
        let text = r#"
[engine]
name = "x"
mode = "paper"
data_dir = "d"
colour = "blue"

[[venues]]
name = "a"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:1"
rest_url = "http://127.0.0.1:2"
recv_window = 5

[[venues]]
name = "b"
kind = "kraken"
ws_url = "ws://127.0.0.1:1"
rest_url = "http://127.0.0.1:2"

[[strategies]]
id = "s"
kind = "spread"
venue = "a"
instrument = "X"
[strategies.risk]
max_position = 1.5

[runtime]
[[runtime.hosts]]
name = "h"
idle = "spin"
priority = "hot"
actors = "latency"

[weather]
sunny = true
"#;
        let (raw, errs) = read_str(text);
        let raw = raw.unwrap();
        let paths: Vec<&str> = errs.iter().map(|e| e.split(": ").next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "engine.colour",
                "venues[0].recv_window",
                "venues[1].kind",
                "strategies[0].risk.max_position",
                "runtime.hosts[0].actors",
                "weather"
            ],
            "{errs:#?}"
        );
        assert!(errs[0].contains("unknown key `colour`"), "{}", errs[0]);
        assert!(errs[1].contains("a duration in quotes"), "{}", errs[1]);
        assert!(errs[3].contains("a decimal in quotes"), "{}", errs[3]);
        assert!(errs.iter().all(|e| !e.contains("Raw")), "{errs:#?}");
        assert!(matches!(raw.engine, RawSection::Broken));
        assert_eq!(raw.venues.items.len(), 2);
        assert_eq!(raw.venues.broken_names, ["a", "b"]);
        assert!(matches!(raw.runtime, RawSection::Ok(_)));
    }

    #[test]
    fn missing_keys_point_at_the_element() {
        let (_, errs) = read_str("[[instruments]]\nvenue = \"a\"\nsymbol = \"X\"\n");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("instruments[0]: missing key `base`"),
            "{errs:?}"
        );
    }

    #[test]
    fn inline_secrets_are_rejected_without_their_value() {
        let text = r#"
[[venues]]
name = "a"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:1"
rest_url = "http://127.0.0.1:2"
api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
api_secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

[status]
token = "letmein"

[notifications.telegram]
bot_token = "123:abc"
chat_id = 42
"#;
        let (raw, errs) = read_str(text);
        let raw = raw.unwrap();
        let paths: Vec<&str> = errs.iter().map(|e| e.split(": ").next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "venues[0].api_key",
                "venues[0].api_secret",
                "status.token",
                "notifications.telegram.bot_token"
            ]
        );
        assert!(errs[1].contains("api_secret_env"), "{}", errs[1]);
        for secret in ["vmPUZE6mv9", "NhqPtmdSJY", "letmein", "123:abc"] {
            assert!(errs.iter().all(|e| !e.contains(secret)), "{errs:#?}");
        }
        // The rest of the element still deserializes: its other checks still run.
        assert!(raw.venues.all_ok());
        assert_eq!(
            raw.notifications
                .ok()
                .and_then(|n| n.telegram.as_ref())
                .map(|t| t.chat_id.0.as_str()),
            Some("42")
        );
    }

    #[test]
    fn sections_of_the_wrong_shape() {
        let (_, errs) =
            read_str("engine = 5\nvenues = 3\ninstruments = [1]\n[latency]\nbands = 2\n");
        let paths: Vec<&str> = errs.iter().map(|e| e.split(": ").next().unwrap()).collect();
        assert_eq!(
            paths,
            ["engine", "venues", "instruments[0]", "latency.bands"],
            "{errs:#?}"
        );
    }

    #[test]
    fn quoted_keys_and_positions() {
        assert_eq!(key_path("a", "b.c"), "a.\"b.c\"");
        assert_eq!(key_path("", "plain_key-1"), "plain_key-1");
        assert_eq!(line_col("ab\ncd\n", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
        assert_eq!(
            tidy("invalid type: integer `5`, expected struct RawRisk"),
            "invalid type: integer `5`, expected a table"
        );
    }
}
