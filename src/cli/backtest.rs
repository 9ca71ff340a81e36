//! `mako backtest <config> --data <recording>... [--out <dir>] [--latency <dir>] [--db <file>]
//! [--sweep key=v1,v2,... [--rank <figure>]]`: replays recordings through the config's
//! strategies on a simulated clock and writes the report (with `--sweep`, one per
//! combination of values and a summary table).
//!
//! `--convert <out.mkev>` converts one recording into mako's compact event file through the
//! venue's feed and stops; `--data <file.mkev>` replays such a file with no parse
//! ([`crate::backtest::events`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::backtest::settings::{LatencySetting, Settings, split};

pub const USAGE: &str = "usage: mako backtest <config> --data <recording>... [--out <dir>] [--latency <dir of .hgrm>] [--db <file>] [--sweep key=v1,v2,...|key=from..to:step]... [--rank <report figure>] [--threads <n>] | mako backtest <config> --data <recording> --convert <out.mkev>";

#[derive(Debug, PartialEq)]
struct Args {
    config: PathBuf,
    data: Vec<PathBuf>,
    out: PathBuf,
    latency: Option<PathBuf>,
    db: Option<PathBuf>,
    sweep: Vec<crate::backtest::sweep::Axis>,
    rank: String,
    threads: usize,
    convert: Option<PathBuf>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let (mut config, mut data, mut out, mut latency) = (None, Vec::new(), None, None);
    let (mut db, mut sweep, mut rank, mut threads) = (None, Vec::new(), None, 0);
    let mut convert = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => {
                while let Some(f) = it.next_if(|f| !f.starts_with("--")) {
                    data.push(PathBuf::from(f));
                }
            }
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a folder")?)),
            "--latency" => {
                latency = Some(PathBuf::from(
                    it.next().ok_or("--latency needs a folder of .hgrm files")?,
                ))
            }
            "--db" => db = Some(PathBuf::from(it.next().ok_or("--db needs a file")?)),
            "--convert" => {
                convert = Some(PathBuf::from(
                    it.next().ok_or("--convert needs the event file to write")?,
                ))
            }
            "--sweep" => {
                let a = it.next().ok_or("--sweep needs key=v1,v2,...")?;
                let axis = crate::backtest::sweep::parse_axis(a)?;
                if sweep
                    .iter()
                    .any(|x: &crate::backtest::sweep::Axis| x.key == axis.key)
                {
                    return Err(format!("--sweep {}: given twice", axis.key));
                }
                sweep.push(axis);
            }
            "--rank" => rank = Some(it.next().ok_or("--rank needs a report figure")?.clone()),
            "--threads" => {
                threads = it
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--threads needs a whole number > 0")?
            }
            s if s.starts_with("--") => return Err(format!("unknown flag {s:?}")),
            s if config.is_none() => config = Some(PathBuf::from(s)),
            s => {
                return Err(format!(
                    "unexpected argument {s:?} (recordings follow --data)"
                ));
            }
        }
    }
    let config = config.ok_or("no config given")?;
    if data.is_empty() {
        return Err("no recording given (--data <file>...)".into());
    }
    if sweep.is_empty() && (rank.is_some() || threads != 0) {
        return Err("--rank and --threads go with --sweep".into());
    }
    if !sweep.is_empty()
        && let Some(p) = data
            .iter()
            .find(|p| crate::backtest::events::is_event_file(p))
    {
        return Err(format!(
            "--sweep replays recordings; {} is an event file (.mkev), which a sweep does not read: give the recording it was converted from",
            p.display()
        ));
    }
    if convert.is_some() && (data.len() != 1 || !sweep.is_empty() || db.is_some()) {
        return Err("--convert converts one recording (--data <file>), alone".into());
    }
    Ok(Args {
        config,
        data,
        out: out.unwrap_or_else(|| PathBuf::from("backtest-out")),
        latency,
        db,
        sweep,
        rank: rank.unwrap_or_else(|| "pnl_total".into()),
        threads,
        convert,
    })
}

/// Reads a backtest config: its `[backtest]` section and the engine config around it.
pub fn load(path: &Path) -> Result<(crate::config::Config, Settings), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    load_str(&text, path)
}

/// As [`load`], from the file's text (`path` names it and is where relative paths start).
pub fn load_str(text: &str, path: &Path) -> Result<(crate::config::Config, Settings), String> {
    let (section, rest) = split(text).map_err(|e| format!("{}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let settings = Settings::from_table(&section, base)
        .map_err(|errs| format!("{}:\n  {}", path.display(), errs.join("\n  ")))?;
    let config = crate::config::parse(&rest, path).map_err(|e| e.to_string())?;
    Ok((config, settings))
}

pub fn run(args: &[String]) -> ExitCode {
    let a = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako backtest: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !a.sweep.is_empty() {
        return run_sweep(&a);
    }
    let (config, mut settings) = match load(&a.config) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mako backtest: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(out) = &a.convert {
        return convert(&config, &a.data[0], out);
    }
    if let Some(dir) = &a.latency {
        settings.latency = LatencySetting::Hgrm { dir: dir.clone() };
    }
    // The database: `--db`, else the config's `[persistence]` when enabled.
    let db =
        a.db.clone()
            .or_else(|| crate::backtest::db::configured_path(&config));
    settings.records = db.is_some();
    let (replay, wall) = match replay(&config, &settings, &a.data) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mako backtest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let run = replay.finish();
    if let Some(path) = &db {
        match crate::backtest::db::write(path, &config, &run) {
            Ok(w) => println!(
                "mako backtest: run {} in {} (mode backtest): {} order states, {} fills, {} round trips",
                w.run_id,
                path.display(),
                w.orders,
                w.fills,
                w.round_trips
            ),
            Err(e) => {
                eprintln!("mako backtest: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match crate::backtest::report::write(&a.out, &run, wall) {
        Ok(j) => {
            println!(
                "mako backtest (simulated fills): {} events in {:.3} s ({} events/s); pnl {} (fees {}), {} fills, {} round trips; report in {}",
                j["events"],
                wall,
                j["events_per_second"],
                j["pnl_total"],
                j["fees"],
                j["trades"],
                j["round_trips"],
                a.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mako backtest: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Replays the recordings (or one converted event file) and measures the replay's wall time.
/// Each recording is read and inflated into memory first, untimed: the figure is the
/// replay's, not the disk's or the decompressor's. Nothing in the replay reads the wall clock.
fn replay(
    config: &crate::config::Config,
    settings: &Settings,
    data: &[PathBuf],
) -> Result<(Box<dyn crate::backtest::Replay>, f64), String> {
    use crate::backtest::events::{EventFile, is_event_file};
    let build = &mut crate::backtest::driver::registry_build;
    if data.iter().any(|p| is_event_file(p)) {
        let [path] = data else {
            return Err("an event file (.mkev) is replayed alone".into());
        };
        let file = EventFile::load(path)?;
        let mut r = crate::backtest::start_events(config, settings, &file, data, build)?;
        for _ in 0..file.header.malformed {
            r.malformed();
        }
        let t0 = Instant::now();
        for ev in file.iter() {
            r.event(&ev);
        }
        return Ok((r, t0.elapsed().as_secs_f64()));
    }
    let mut r = crate::backtest::driver::start(config, settings, data, build)?;
    let mut wall = 0.0;
    for path in data {
        let frames = crate::backtest::Frames::load(path)?;
        let t0 = Instant::now();
        frames.replay(r.as_mut());
        wall += t0.elapsed().as_secs_f64();
    }
    Ok((r, wall))
}

/// `--convert`: one recording through the venue's feed into an event file.
fn convert(config: &crate::config::Config, data: &Path, out: &Path) -> ExitCode {
    let t0 = Instant::now();
    let file = match crate::backtest::events::convert(config, data) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("mako backtest --convert: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bytes = file.to_bytes();
    if let Err(e) = std::fs::write(out, &bytes) {
        eprintln!("mako backtest --convert: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let h = &file.header;
    println!(
        "mako backtest --convert: {} frames ({} unreadable) -> {} events ({} bytes) in {:.3} s; {} (source SHA-256 {})",
        h.frames,
        h.malformed,
        h.events,
        bytes.len(),
        t0.elapsed().as_secs_f64(),
        out.display(),
        h.source_sha256
    );
    ExitCode::SUCCESS
}

/// `--sweep`: every recording read once, then the grid of runs.
fn run_sweep(a: &Args) -> ExitCode {
    let mut frames = Vec::with_capacity(a.data.len());
    for path in &a.data {
        match crate::backtest::Frames::load(path) {
            Ok(f) => frames.push((path.clone(), f)),
            Err(e) => {
                eprintln!("mako backtest: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match crate::backtest::sweep::run(
        &a.config,
        &frames,
        &a.sweep,
        &a.rank,
        &a.out,
        a.threads,
        a.latency.as_deref(),
        a.db.as_deref(),
    ) {
        Ok(o) => {
            println!(
                "mako backtest --sweep (simulated fills): {} runs, {} at a time, {:.2} s; ranked by {} in {}",
                o.lines.len(),
                o.threads,
                o.wall_seconds,
                a.rank,
                a.out.join("sweep.md").display()
            );
            for (i, l) in o.lines.iter().enumerate() {
                println!(
                    "{:>3}. {}  {} = {}  pnl_total = {}  trades = {}",
                    i + 1,
                    l.name,
                    a.rank,
                    l.report[a.rank.as_str()],
                    l.report["pnl_total"],
                    l.report["trades"]
                );
                if let Some((path, w)) = &l.db {
                    println!(
                        "     run {} in {} (mode backtest): {} order states, {} fills, {} round trips",
                        w.run_id,
                        path.display(),
                        w.orders,
                        w.fills,
                        w.round_trips
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mako backtest: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments() {
        let a = parse_args(&s(&["c.toml", "--data", "a.gz", "b.gz", "--out", "o"])).unwrap();
        assert_eq!(a.config, PathBuf::from("c.toml"));
        assert_eq!(a.data, vec![PathBuf::from("a.gz"), PathBuf::from("b.gz")]);
        assert_eq!(a.out, PathBuf::from("o"));
        assert!(
            parse_args(&s(&["c.toml"]))
                .unwrap_err()
                .contains("no recording")
        );
        assert!(
            parse_args(&s(&["--data", "a"]))
                .unwrap_err()
                .contains("no config")
        );
        assert!(parse_args(&s(&["c", "--data", "a", "--bogus"])).is_err());
        assert!(parse_args(&s(&["c", "d", "--data", "a"])).is_err());
        let a = parse_args(&s(&[
            "c", "--data", "a", "--sweep", "x=1,2", "--sweep", "y=3", "--rank", "sharpe",
        ]))
        .unwrap();
        assert_eq!(a.sweep.len(), 2);
        assert_eq!(a.rank, "sharpe");
        // An event file in a sweep is refused, never replayed as a recording of nothing.
        let ev = std::env::temp_dir().join(format!("mako-cli-bt-{}.mkev", std::process::id()));
        std::fs::write(&ev, crate::backtest::events::MAGIC).unwrap();
        let p = ev.display().to_string();
        let err = parse_args(&s(&["c", "--data", &p, "--sweep", "x=1,2"])).unwrap_err();
        assert!(err.contains("event file"), "{err}");
        assert!(parse_args(&s(&["c", "--data", &p])).is_ok());
        let _ = std::fs::remove_file(&ev);
        assert!(
            parse_args(&s(&[
                "c", "--data", "a", "--sweep", "x=1", "--sweep", "x=2"
            ]))
            .is_err()
        );
        assert!(parse_args(&s(&["c", "--data", "a", "--rank", "sharpe"])).is_err());
        // A sweep's runs each get a database of their own (sweep::db_path).
        let a = parse_args(&s(&["c", "--data", "a", "--sweep", "x=1", "--db", "f"])).unwrap();
        assert_eq!(a.db, Some(PathBuf::from("f")));
    }
}
