//! `mako backtest <config> --data <recording>... [--out <dir>] [--latency <dir>]`: replays
//! recordings through the config's strategies on a simulated clock and writes the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::backtest::settings::{LatencySetting, Settings, split};

pub const USAGE: &str =
    "usage: mako backtest <config> --data <recording>... [--out <dir>] [--latency <dir of .hgrm>]";

#[derive(Debug, PartialEq)]
struct Args {
    config: PathBuf,
    data: Vec<PathBuf>,
    out: PathBuf,
    latency: Option<PathBuf>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let (mut config, mut data, mut out, mut latency) = (None, Vec::new(), None, None);
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
    Ok(Args {
        config,
        data,
        out: out.unwrap_or_else(|| PathBuf::from("backtest-out")),
        latency,
    })
}

/// Reads a backtest config: its `[backtest]` section and the engine config around it.
pub fn load(path: &Path) -> Result<(crate::config::Config, Settings), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (section, rest) = split(&text).map_err(|e| format!("{}: {e}", path.display()))?;
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
    let (config, mut settings) = match load(&a.config) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mako backtest: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = a.latency {
        settings.latency = LatencySetting::Hgrm { dir };
    }
    let mut replay = match crate::backtest::driver::start(
        &config,
        &settings,
        &a.data,
        &mut crate::backtest::driver::registry_build,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mako backtest: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Wall time of the replay, for events per second only (nothing in the replay reads it).
    // Each recording is read and inflated into memory first, untimed: the figure is the
    // replay's, not the disk's or the decompressor's.
    let mut wall = 0.0;
    for path in &a.data {
        let frames = match crate::backtest::Frames::load(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("mako backtest: {e}");
                return ExitCode::FAILURE;
            }
        };
        let t0 = Instant::now();
        frames.replay(replay.as_mut());
        wall += t0.elapsed().as_secs_f64();
    }
    let run = replay.finish();
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
    }
}
