//! `mako run <config> [--for <duration>]`: load, validate, build and run the engine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::engine::{Engine, RunOptions};
use crate::runtime::{Clock, Shutdown};

struct Args {
    config: PathBuf,
    duration: Option<Duration>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut config = None;
    let mut duration = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--for" => {
                let v = it.next().ok_or("--for needs a duration, e.g. --for 30s")?;
                duration = Some(crate::config::parse_duration(v).map_err(|e| e.to_string())?);
            }
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            s if config.is_none() => config = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    Ok(Args {
        config: config.ok_or("missing <config>")?,
        duration,
    })
}

pub fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako run: {e}\nusage: mako run <config> [--for <duration>]");
            return ExitCode::from(2);
        }
    };
    let config = match crate::config::load(&args.config) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!(
                "mako run: {} is not a valid config:\n{errors}",
                args.config.display()
            );
            return ExitCode::from(1);
        }
    };
    crate::engine::logging::init(config.engine.log_format, &config.engine.log_filter);
    let mut engine = match Engine::build(config, Clock::live(), Shutdown::new()) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the engine");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = engine.watch_config(&args.config) {
        tracing::error!(error = %e, "cannot watch the config file for reloads");
        return ExitCode::from(1);
    }
    for (actor, why) in &engine.skipped {
        tracing::warn!(actor = %actor, "not running: {why}");
    }
    match engine.run(RunOptions {
        duration: args.duration,
        handle_signals: true,
    }) {
        Ok(report) => {
            let hosts: Vec<String> = report
                .hosts
                .iter()
                .map(|(n, passes, work)| format!("{n}: {passes} passes, {work} work"))
                .collect();
            tracing::info!(elapsed = ?report.elapsed, hosts = %hosts.join("; "), "engine stopped cleanly");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "engine did not stop cleanly");
            ExitCode::from(1)
        }
    }
}
