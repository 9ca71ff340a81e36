#![no_main]
//! Config files, as `mako run`/`mako check` and the simulator read them.
//!
//! - `mako::fuzzing::config`: `config::parse` on the input (UTF-8 only), and
//!   `SimConfig::from_table` on the TOML table when the input is one.
//! - The same on the `[sim]` table of the input when there is one (where the simulator's
//!   settings live in an engine config).
//! - Every error renders (`Display`), and a config that parses renders with `Debug`.
//! - `parse_duration` (durations such as `250ms` in configs) on the input.
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::config(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match mako::config::parse(text, Path::new("fuzz.toml")) {
        Ok(c) => drop(format!("{c:?}")),
        Err(e) => drop(e.to_string()),
    }
    if let Ok(t) = text.parse::<toml::Table>() {
        if let Some(sim) = t.get("sim").and_then(toml::Value::as_table) {
            if let Err(e) = mako::sim::SimConfig::from_table(sim) {
                drop(e.to_string());
            }
        }
    }
    let _ = mako::config::duration::parse_duration(text.trim());
});
