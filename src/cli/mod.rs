//! The `mako` command line: one file per subcommand, parsed by hand (a few flags each).

pub mod book;
pub mod sign;

use std::process::ExitCode;

/// Usage text printed on `mako help` or a bad invocation.
pub const USAGE: &str = "\
mako: a low-latency crypto trading engine

usage:
  mako run <config> [--for <duration>]   start the engine (e.g. --for 30s)
  mako check <config>...                 validate config files; non-zero exit on errors
  mako sign --venue binance-spot --secret-env VAR --payload '<query>' [--ws-api]
                                         print the string to sign and its signature
  mako book <recording>... --venue binance-spot [--depth N] [--json]
                                         replay recordings through the book sync; print books and counts
  mako help                              this text
";

/// Runs the subcommand named by `args[0]` (program name already removed).
pub fn main(args: Vec<String>) -> ExitCode {
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        "sign" => sign::run(rest),
        "book" => book::run(rest),
        other => {
            eprintln!("mako: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Parses a duration such as `500ms`, `30s`, `5m`, `2h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: expected e.g. 30s, 500ms, 5m"))?;
    let secs = match unit {
        "" | "s" => v,
        "ms" => v / 1e3,
        "us" | "µs" => v / 1e6,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit {unit:?} in {s:?}: use ms, s, m or h"
            ));
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("").is_err());
    }
}
