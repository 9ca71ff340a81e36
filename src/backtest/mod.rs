//! The backtest: recordings replayed through the live code (the venue's feed codec and book
//! sync, the book cache, the strategy actors built from the config, risk and the order state
//! machine) on a manual clock set to each event's receive time, with orders matched against
//! the recorded book by a queue model after a latency model's delays. Deterministic: the same
//! recordings, config and seed give the same fills and figures. Every fill is simulated and
//! reported as mode `backtest`.

/// Equity, position, price and quotes sampled on recording time.
mod accounts;
/// `--db`: the run's orders, fills and round trips in the engine's database, mode `backtest`.
pub mod db;
/// The replay loop: frames, strategies and the order path on one thread and one clock.
pub mod driver;
/// mako's compact event file: a recording converted once, replayed with no parse.
pub mod events;
/// The engine's order bookkeeping and the backtest venue, with latency between them.
pub mod exchange;
/// The venue's feed run offline, frame by frame.
pub mod feed;
/// Perpetuals' funding at their funding times: the recording's rate, or the configured one.
pub mod funding;
/// Entry and response latency: constant, drawn from `.hgrm` histograms, or by message rate.
pub mod latency;
/// The report's SVG plots (equity and drawdown, price with fills, position).
pub mod plot;
/// Resting orders' places in the queue, prints and book changes against them.
pub mod queue;
/// `report.json`, `report.md`, `fills.csv`, `equity.csv`, the plots.
pub mod report;
/// The `[backtest]` section of a backtest config.
pub mod settings;
/// `--sweep`: the grid of parameter values, run in parallel, ranked in one table.
pub mod sweep;

pub use driver::{
    Builder, Frames, Replay, Run, replay_files, run, run_with, start, start_at, start_events,
};
pub use settings::Settings;
