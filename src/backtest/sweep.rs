//! Parameter sweeps: `--sweep key=v1,v2,…` (repeatable) runs the grid of every combination of
//! values, each run a whole deterministic backtest of its own (its own config, feed, strategies,
//! risk, venue and seed), in parallel on up to the machine's cores, each run's report in its
//! own subfolder, and one summary table (`sweep.csv`, `sweep.md`) ranked by a metric.
//!
//! A key names what it changes:
//! - `spread_bps`: a parameter of the config's only strategy (`[strategies.params]`);
//! - `mm-btc.spread_bps`: a parameter of the strategy with that `id`;
//! - `risk.max_orders_per_sec`, `backtest.queue`, `paper.maker_fee`: any value of the config
//!   by its table path.
//!
//! Values are TOML scalars (`2`, `0.5`, `true`) or else strings (`0.002`, `proportional`: a
//! decimal that the config wants as text stays text when the original value is text), and
//! `from..to:step` expands to a range of numbers, both ends included.
//!
//! `--db <file>` with a sweep writes each run into a database of its own, named by the run
//! ([`db_path`]: `runs.db` → `runs.03_spread_bps=4.db`): every run mints the same order ids
//! (the cids start from the recording's first time), and the engine's `orders` table is keyed
//! by (mode, cid), so the runs' rows in one database would overwrite each other.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

use super::driver::{Frames, registry_build, start_at};
use super::report;

/// One axis of the grid: a key and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    /// As typed (for names and the table).
    pub texts: Vec<String>,
}

/// Parses `key=v1,v2,…` or `key=from..to:step`.
pub fn parse_axis(s: &str) -> Result<Axis, String> {
    let (key, vals) = s
        .split_once('=')
        .ok_or_else(|| format!("--sweep {s:?}: expected key=v1,v2,…"))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("--sweep {s:?}: empty key or key segment"));
    }
    let mut texts = Vec::new();
    for v in vals.split(',') {
        let v = v.trim();
        if v.is_empty() {
            return Err(format!("--sweep {s:?}: empty value"));
        }
        match expand_range(v)? {
            Some(r) => texts.extend(r),
            None => texts.push(v.to_owned()),
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(d) = texts.iter().find(|t| !seen.insert(t.as_str())) {
        return Err(format!("--sweep {key}: {d} given twice"));
    }
    Ok(Axis {
        key: key.to_owned(),
        texts,
    })
}

/// Most values one range may expand to.
const MAX_RANGE: usize = 1000;

/// `from..to:step` (step 1 when absent) into its values, `None` when `v` is no range.
fn expand_range(v: &str) -> Result<Option<Vec<String>>, String> {
    let Some((from, rest)) = v.split_once("..") else {
        return Ok(None);
    };
    let (to, step) = rest.split_once(':').unwrap_or((rest, "1"));
    let bad = || format!("range {v:?}: expected from..to or from..to:step with numbers");
    // Whole numbers stay whole; otherwise decimals with as many places as the inputs show.
    if let (Ok(a), Ok(b), Ok(s)) = (from.parse::<i64>(), to.parse::<i64>(), step.parse::<i64>()) {
        if s <= 0 || b < a {
            return Err(bad());
        }
        let n = ((b - a) / s + 1) as usize;
        if n > MAX_RANGE {
            return Err(format!("range {v:?}: more than {MAX_RANGE} values"));
        }
        return Ok(Some(
            (0..n).map(|k| (a + k as i64 * s).to_string()).collect(),
        ));
    }
    let places = [from, to, step]
        .iter()
        .map(|x| x.split_once('.').map_or(0, |(_, f)| f.len()))
        .max()
        .unwrap_or(0);
    let (a, b, s) = (
        from.parse::<f64>().map_err(|_| bad())?,
        to.parse::<f64>().map_err(|_| bad())?,
        step.parse::<f64>().map_err(|_| bad())?,
    );
    if !(s > 0.0 && b >= a && a.is_finite() && b.is_finite()) {
        return Err(bad());
    }
    let n = ((b - a) / s + 1e-9).floor() as usize + 1;
    if n > MAX_RANGE {
        return Err(format!("range {v:?}: more than {MAX_RANGE} values"));
    }
    Ok(Some(
        (0..n)
            .map(|k| format!("{:.*}", places, a + k as f64 * s))
            .collect(),
    ))
}

/// Every combination of the axes' values, the first axis changing slowest.
pub fn grid(axes: &[Axis]) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for a in axes {
        let mut next = Vec::with_capacity(out.len() * a.texts.len());
        for combo in &out {
            for t in &a.texts {
                let mut c = combo.clone();
                c.push((a.key.clone(), t.clone()));
                next.push(c);
            }
        }
        out = next;
    }
    out
}

/// The TOML value of `text`, shaped like `old` when there is one: text stays text (decimal
/// quantities are strings in mako's configs), numbers and booleans parse as such.
fn value_of(text: &str, old: Option<&toml::Value>) -> toml::Value {
    if matches!(old, Some(toml::Value::String(_))) {
        return toml::Value::String(text.to_owned());
    }
    if let Ok(i) = text.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        return toml::Value::Float(f);
    }
    match text {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(text.to_owned()),
    }
}

/// Sets `path` (dot-separated, relative to `table`) to `text`, creating tables on the way.
fn set_path(table: &mut toml::Table, path: &[&str], text: &str) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut t = table;
    for seg in parents {
        let entry = t
            .entry((*seg).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("{seg} is not a table"))?;
    }
    let v = value_of(text, t.get(*last));
    t.insert((*last).to_owned(), v);
    Ok(())
}

/// Applies one `key = text` to a backtest config's document (see the module doc for keys).
pub fn apply(doc: &mut toml::Table, key: &str, text: &str) -> Result<(), String> {
    let segs: Vec<&str> = key.split('.').collect();
    let strategies = doc
        .get_mut("strategies")
        .and_then(toml::Value::as_array_mut);
    let n_strategies = strategies.as_ref().map_or(0, |a| a.len());
    let ids: Vec<String> = strategies
        .as_ref()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.get("id").and_then(toml::Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let params_of = |doc: &mut toml::Table, k: usize, rest: &[&str]| -> Result<(), String> {
        let s = doc
            .get_mut("strategies")
            .and_then(toml::Value::as_array_mut)
            .and_then(|a| a.get_mut(k))
            .and_then(toml::Value::as_table_mut)
            .ok_or("no such strategy")?;
        let mut path = vec!["params"];
        path.extend_from_slice(rest);
        set_path(s, &path, text)
    };
    if segs.len() == 1 {
        return match n_strategies {
            1 => params_of(doc, 0, &segs),
            0 => Err(format!(
                "--sweep {key}: the config has no strategy whose parameter it could be"
            )),
            _ => Err(format!(
                "--sweep {key}: the config has several strategies; name one: <id>.{key} (ids: {})",
                ids.join(", ")
            )),
        };
    }
    let by_id = ids.iter().position(|id| id == segs[0]);
    let is_table = doc.get(segs[0]).is_some_and(toml::Value::is_table);
    match (by_id, is_table) {
        (Some(_), true) => Err(format!(
            "--sweep {key}: {} is both a strategy id and a table of the config",
            segs[0]
        )),
        (Some(k), false) => params_of(doc, k, &segs[1..]),
        (None, true) => set_path(doc, &segs, text).map_err(|e| format!("--sweep {key}: {e}")),
        (None, false) => Err(format!(
            "--sweep {key}: {} is neither a strategy id ({}) nor a table of the config",
            segs[0],
            ids.join(", ")
        )),
    }
}

/// A run's folder name: its index and its values (`03_spread_bps=4_order_size=0.002`).
pub fn run_name(index: usize, combo: &[(String, String)]) -> String {
    let mut s = format!("{:02}", index + 1);
    for (k, v) in combo {
        s.push('_');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// How runs are ranked: a `report.json` figure, highest first, but for the figures where
/// less is better.
pub fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "max_drawdown" | "fees" | "orders_refused")
}

/// One run's line of the summary.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub combo: Vec<(String, String)>,
    pub report: Value,
    /// With `--db`: the run's own database and what went into it.
    pub db: Option<(PathBuf, super::db::Written)>,
}

/// The database of the sweep run `name` when `--db` names `base`: the run's name between
/// `base`'s stem and its extension, in `base`'s folder (`out/runs.db` →
/// `out/runs.01_spread_bps=2.db`).
pub fn db_path(base: &Path, name: &str) -> PathBuf {
    let stem = base
        .file_stem()
        .map_or_else(|| "backtest".into(), |s| s.to_string_lossy().into_owned());
    let file = match base.extension() {
        Some(ext) => format!("{stem}.{name}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{name}"),
    };
    base.with_file_name(file)
}

/// What a sweep did.
#[derive(Debug)]
pub struct Outcome {
    /// Ranked, best first.
    pub lines: Vec<Line>,
    pub threads: usize,
    pub wall_seconds: f64,
}

/// Runs the grid of `axes` over `config_path` and `frames` (each recording read once, shared
/// by every run), writing each run's report into `out/<run name>/` and the summary into
/// `out/sweep.csv` and `out/sweep.md`, ranked by `metric`. `latency`: the CLI's `--latency`
/// folder of `.hgrm` files for every run. `threads`: most runs at once (0: the machine's
/// cores). `db`: the CLI's `--db`, each run's rows into its own database ([`db_path`]).
#[allow(clippy::too_many_arguments)]
pub fn run(
    config_path: &Path,
    frames: &[(PathBuf, Frames)],
    axes: &[Axis],
    metric: &str,
    out: &Path,
    threads: usize,
    latency: Option<&Path>,
    db: Option<&Path>,
) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("{}: not valid TOML: {e}", config_path.display()))?;
    let combos = grid(axes);
    // Every run's config first: a bad key or value stops the sweep before anything runs.
    let mut configs = Vec::with_capacity(combos.len());
    for combo in &combos {
        let mut d = doc.clone();
        for (k, v) in combo {
            apply(&mut d, k, v)?;
        }
        let t = toml::to_string(&d).map_err(|e| e.to_string())?;
        let (config, mut settings) = crate::cli::backtest::load_str(&t, config_path)
            .map_err(|e| format!("run {}: {e}", run_name(configs.len(), combo)))?;
        if let Some(dir) = latency {
            settings.latency = super::settings::LatencySetting::Hgrm { dir: dir.into() };
        }
        settings.records = db.is_some();
        configs.push((config, settings));
    }
    let first = frames
        .iter()
        .find_map(|(_, f)| f.first())
        .ok_or("the recordings hold no readable frame")?;
    let files: Vec<PathBuf> = frames.iter().map(|(p, _)| p.clone()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if threads == 0 { cores } else { threads }
        .min(combos.len())
        .max(1);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let next = AtomicUsize::new(0);
    type Done = Result<(Value, Option<(PathBuf, super::db::Written)>), String>;
    let results: Mutex<Vec<Option<Done>>> = Mutex::new(vec![None; combos.len()]);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= combos.len() {
                        break;
                    }
                    let (config, settings) = &configs[k];
                    let name = run_name(k, &combos[k]);
                    let dir = out.join(&name);
                    let db = db.map(|base| db_path(base, &name));
                    let r = one_run(config, settings, first, &files, frames, &dir, db);
                    if let Ok(mut g) = results.lock() {
                        g[k] = Some(r);
                    }
                }
            });
        }
    });
    let wall_seconds = t0.elapsed().as_secs_f64();
    let results = results.into_inner().map_err(|_| "a sweep run panicked")?;
    let mut lines = Vec::with_capacity(combos.len());
    for (k, (r, combo)) in results.into_iter().zip(combos).enumerate() {
        let name = run_name(k, &combo);
        let (report, db) = match r {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(format!("run {name}: {e}")),
            None => return Err(format!("run {name}: did not finish")),
        };
        lines.push(Line {
            name,
            combo,
            report,
            db,
        });
    }
    rank(&mut lines, metric);
    let keys: Vec<&str> = axes.iter().map(|a| a.key.as_str()).collect();
    let put = |name: &str, body: String| {
        let p = out.join(name);
        std::fs::write(&p, body).map_err(|e| format!("{}: {e}", p.display()))
    };
    put("sweep.csv", summary_csv(&lines, &keys))?;
    put(
        "sweep.md",
        summary_md(&lines, &keys, metric, threads, wall_seconds),
    )?;
    Ok(Outcome {
        lines,
        threads,
        wall_seconds,
    })
}

/// One run of the sweep, as `mako backtest` runs one (its rows into `db` when given).
fn one_run(
    config: &crate::config::Config,
    settings: &super::Settings,
    first: crate::types::UnixNanos,
    files: &[PathBuf],
    frames: &[(PathBuf, Frames)],
    dir: &Path,
    db: Option<PathBuf>,
) -> Result<(Value, Option<(PathBuf, super::db::Written)>), String> {
    let mut replay = start_at(config, settings, first, files, &mut registry_build)?;
    let mut wall = 0.0;
    for (_, f) in frames {
        let t0 = Instant::now();
        f.replay(replay.as_mut());
        wall += t0.elapsed().as_secs_f64();
    }
    let run = replay.finish();
    let written = match db {
        Some(path) => {
            let w = super::db::write(&path, config, &run)?;
            Some((path, w))
        }
        None => None,
    };
    Ok((report::write(dir, &run, wall)?, written))
}

/// Sorts best first by `metric` (runs without it last), ties by name.
pub fn rank(lines: &mut [Line], metric: &str) {
    let low = lower_is_better(metric);
    lines.sort_by(|a, b| {
        let (x, y) = (a.report[metric].as_f64(), b.report[metric].as_f64());
        let ord = match (x, y) {
            (Some(x), Some(y)) if low => x.total_cmp(&y),
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        ord.then_with(|| a.name.cmp(&b.name))
    });
}

/// The figures of each run in the summary (all from `report.json`; none machine-dependent).
pub const COLUMNS: [&str; 9] = [
    "pnl_total",
    "fees",
    "trades",
    "round_trips",
    "win_rate",
    "max_drawdown",
    "sharpe",
    "fill_ratio",
    "orders_sent",
];

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `rank,run,<keys>,<figures>`, best first.
pub fn summary_csv(lines: &[Line], keys: &[&str]) -> String {
    let mut s = String::from("rank,run");
    for k in keys.iter().copied().chain(COLUMNS) {
        s.push(',');
        s.push_str(k);
    }
    s.push('\n');
    for (i, l) in lines.iter().enumerate() {
        s.push_str(&format!("{},{}", i + 1, l.name));
        for (_, v) in &l.combo {
            s.push(',');
            s.push_str(v);
        }
        for c in COLUMNS {
            s.push(',');
            s.push_str(&cell(&l.report[c]));
        }
        s.push('\n');
    }
    s
}

/// The same table for people, each run linked to its report.
pub fn summary_md(
    lines: &[Line],
    keys: &[&str],
    metric: &str,
    threads: usize,
    wall_seconds: f64,
) -> String {
    let mut s = format!(
        "# Backtest sweep (mode: backtest, simulated fills)\n\n{} runs ranked by {metric} ({}), {threads} at a time, {wall_seconds:.2} s wall in all.\n\n| rank | run |",
        lines.len(),
        if lower_is_better(metric) {
            "lowest first"
        } else {
            "highest first"
        }
    );
    for k in keys.iter().copied().chain(COLUMNS) {
        s.push_str(&format!(" {k} |"));
    }
    s.push_str("\n|---|---|");
    for _ in 0..keys.len() + COLUMNS.len() {
        s.push_str("---:|");
    }
    s.push('\n');
    for (i, l) in lines.iter().enumerate() {
        s.push_str(&format!(
            "| {} | [{}]({}/report.md) |",
            i + 1,
            l.name,
            l.name
        ));
        for (_, v) in &l.combo {
            s.push_str(&format!(" {v} |"));
        }
        for c in COLUMNS {
            let v = cell(&l.report[c]);
            s.push_str(&format!(" {} |", if v.is_empty() { "n/a" } else { &v }));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_ranges_and_grid() {
        let a = parse_axis("spread_bps=2,4").unwrap();
        assert_eq!(a.texts, ["2", "4"]);
        let b = parse_axis("x=1..7:3").unwrap();
        assert_eq!(b.texts, ["1", "4", "7"]);
        let c = parse_axis("fee=0.0001..0.0003:0.0001").unwrap();
        assert_eq!(c.texts, ["0.0001", "0.0002", "0.0003"]);
        assert!(parse_axis("x=1,1").is_err());
        assert!(parse_axis("x").is_err());
        assert!(parse_axis("x=5..1").is_err());
        assert!(parse_axis("a..b=1").is_err());
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(
            g[0],
            [("spread_bps".into(), "2".into()), ("x".into(), "1".into())]
        );
        assert_eq!(
            g[5],
            [("spread_bps".into(), "4".into()), ("x".into(), "7".into())]
        );
    }

    #[test]
    fn keys_reach_params_tables_and_named_strategies() {
        let mut d: toml::Table = "[risk]\nmax_orders_per_sec = 20\n[[strategies]]\nid = \"a\"\n[strategies.params]\nspread_bps = 2\norder_size = \"0.002\"\n"
            .parse()
            .unwrap();
        apply(&mut d, "spread_bps", "4").unwrap();
        apply(&mut d, "a.order_size", "0.001").unwrap();
        apply(&mut d, "risk.max_orders_per_sec", "5").unwrap();
        let p = &d["strategies"][0]["params"];
        assert_eq!(p["spread_bps"], toml::Value::Integer(4));
        // Text stays text: the config reads decimal quantities from strings.
        assert_eq!(p["order_size"], toml::Value::String("0.001".into()));
        assert_eq!(d["risk"]["max_orders_per_sec"], toml::Value::Integer(5));
        assert!(apply(&mut d, "nothing.here", "1").is_err());
        d["strategies"]
            .as_array_mut()
            .unwrap()
            .push(toml::Value::Table(toml::Table::new()));
        assert!(
            apply(&mut d, "spread_bps", "1")
                .unwrap_err()
                .contains("several")
        );
    }

    #[test]
    fn ranking_puts_the_best_first() {
        let line = |n: &str, pnl: f64| Line {
            name: n.into(),
            combo: vec![],
            report: serde_json::json!({ "pnl_total": pnl, "max_drawdown": -pnl }),
            db: None,
        };
        let mut v = vec![line("a", -1.0), line("b", 3.0), line("c", 1.0)];
        rank(&mut v, "pnl_total");
        assert_eq!(
            v.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        rank(&mut v, "max_drawdown");
        assert_eq!(v[0].name, "b");
    }
}
