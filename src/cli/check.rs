//! `mako check <config>...`: validates config files without starting anything.
//!
//! Prints `ok: <path>` for each good file on stdout, followed by its warnings (what this
//! machine lacks to run it, e.g. an unset environment variable), or every error of each bad
//! file on stderr. Exit code 0 if all files are good, 1 if any is not, 2 on bad usage.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::config;

const USAGE: &str = "usage: mako check <config>...";

pub fn run(args: &[String]) -> ExitCode {
    if args.is_empty() {
        eprintln!("mako check: no config file given\n{USAGE}");
        return ExitCode::from(2);
    }
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        eprintln!("mako check: unknown option {flag:?}\n{USAGE}");
        return ExitCode::from(2);
    }
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for arg in args {
        let path = Path::new(arg);
        if is_simulator_file(path) {
            // A standalone simulator file (`mako sim --config`): no [engine], simulator keys.
            match crate::sim::SimConfig::from_file(path) {
                Ok(_) => {
                    let _ = writeln!(out, "ok: {} (simulator config)", path.display());
                }
                Err(e) => {
                    failed = true;
                    let _ = writeln!(
                        err,
                        "error: {}: {} problem(s) (simulator config)",
                        path.display(),
                        e.0.len()
                    );
                    for m in &e.0 {
                        let _ = writeln!(err, "  {m}");
                    }
                }
            }
            continue;
        }
        if is_backtest_file(path) {
            // A backtest config (`mako backtest`): its [backtest] section and the engine
            // config around it, each checked.
            match super::backtest::load(path) {
                Ok((_, settings)) => {
                    let _ = writeln!(out, "ok: {}", path.display());
                    let _ = writeln!(
                        out,
                        "  backtest config (`mako backtest`): queue model {:?}, seed {}",
                        settings.queue, settings.seed
                    );
                }
                Err(e) => {
                    failed = true;
                    let _ = writeln!(err, "error: {e}");
                }
            }
            continue;
        }
        // Writes to a closed pipe are not worth a panic or a different exit code.
        match config::load(path) {
            Ok(cfg) => {
                let _ = writeln!(out, "ok: {}", path.display());
                for v in &cfg.venues {
                    let t = v.order_transport;
                    let what = if cfg.engine.mode == config::Mode::Paper {
                        "not used in paper mode (orders are filled inside the engine)"
                    } else {
                        t.describe_for(v.kind)
                    };
                    let _ = writeln!(
                        out,
                        "  venue {} ({}): order_transport = {:?}: {what}",
                        v.name,
                        v.kind.as_str(),
                        t.as_str()
                    );
                }
                if let Some(every) = cfg.runtime.warm_send {
                    let _ = writeln!(
                        out,
                        "  runtime.warm_send_us = {}: each hot host writes one byte on a private loopback connection every {} µs, read by a thread off the hot cores, so an order written after a quiet spell does not pay the kernel's full cold first send; costs a send per tick on the hot cores and a wake-up per tick on the others (docs/performance.md)",
                        every.as_micros(),
                        every.as_micros()
                    );
                }
                for w in cfg.paper_warnings() {
                    let _ = writeln!(out, "  warning: {w}");
                }
                for w in cfg.environment_warnings() {
                    let _ = writeln!(out, "  warning: {w}");
                }
            }
            Err(errors) => {
                failed = true;
                let n = errors.len();
                let plural = if n == 1 { "" } else { "s" };
                let _ = writeln!(err, "error: {}: {n} problem{plural}", path.display());
                for e in &errors {
                    let _ = writeln!(err, "  {e}");
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A TOML file with a `[backtest]` section is a backtest config.
fn is_backtest_file(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("backtest"))
}

/// A TOML file without `[engine]` whose keys are the simulator's is a simulator config.
fn is_simulator_file(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    !table.contains_key("engine")
        && ["port", "source", "symbols", "accounts"]
            .iter()
            .any(|k| table.contains_key(*k))
}
