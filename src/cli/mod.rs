//! The `mako` command line: one file per subcommand, parsed by hand (a few flags each).

pub mod backtest;
pub mod bench;
pub mod book;
pub mod check;
pub mod decode;
pub mod indicators;
pub mod latency_report;
pub mod model;
pub mod record;
pub mod run;
pub mod sign;
pub mod sim;

use std::process::ExitCode;

/// Usage text printed on `mako help` or a bad invocation.
pub const USAGE: &str = "\
mako: a low-latency crypto trading engine

usage:
  mako run <config> [--for <duration>]   start the engine (e.g. --for 30s)
  mako check <config>...                 validate config files; non-zero exit on errors
  mako sign --venue binance-spot --secret-env VAR --payload '<query>' [--ws-api]
                                         print the string to sign and its signature
  mako decode --venue <kind> [--private] <file>
                                         venue messages (one per line, or a recording) as
                                         normalised JSON lines
  mako sim [--config <file>]             serve the exchange simulator on loopback
  mako latency-report <dir|.hgrm>... [--plot out.svg] [--markdown]   latency percentile table and plot
  mako book <recording>... --venue binance-spot [--depth N] [--json]
                                         replay recordings through the book sync; print books and counts
  mako record <config> --out <file> [--venue <name>] [--for <duration>] [--gzip]   record market data (frames + snapshots)
  mako bench --config <file> [--for <duration>] [--out <dir>] [--throughput]
                                         tick-to-trade over loopback against the simulator; feed throughput
  mako indicators <csv> [--sma N]... [--ema N]... [--rsi N]... [--macd F,S,SIG]
                  [--bbands N,K]... [--atr N]... [--vol N]...
                                         the CSV's rows with indicator columns (TA-Lib's values)
  mako model check <model.txt>           what a LightGBM model is, or why mako refuses it
  mako model predict <model.txt> <rows.csv> [--raw] [--num-iteration N]
                                         mako's predictions of the CSV's rows (as LightGBM's)
  mako backtest <config> --data <recording>... [--out <dir>] [--latency <dir of .hgrm>]
                                         replay recordings through the strategies (simulated fills)
  mako help                              this text
";

/// Runs the subcommand named by `args[0]` (program name already removed).
pub fn main(args: Vec<String>) -> ExitCode {
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "check" => check::run(rest),
        "run" => run::run(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        "sign" => sign::run(rest),
        "decode" => decode::run(rest),
        "sim" => sim::run(rest),
        "latency-report" => latency_report::run(rest),
        "book" => book::run(rest),
        "backtest" => backtest::run(rest),
        "record" => record::run(rest),
        "bench" => bench::run(rest),
        "indicators" => indicators::run(rest),
        "model" => model::run(rest),
        other => {
            eprintln!("mako: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Durations on the command line read like durations in the config (`--for 30s`).
pub use crate::config::parse_duration;
