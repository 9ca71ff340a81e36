//! Latency: HDR histograms recorded on hot threads, rolling windows and band selection on
//! the low-priority monitor, the REST probe and venue clock offset, `.hgrm` export and plots.
//!
//! How the pieces connect (see `LatencyHub`):
//!
//! ```text
//!  hot actor ── Recorder::record (ns, no alloc) ── maybe_flush ──► HistBatch ──► LatencyMonitor
//!      ▲                                                                            │ windows, run
//!      └──────────────── emptied histograms (return channel) ◄──────────────────────┤ bands ──► BandBoard (strategies)
//!  RestProbe (own low-priority host) ── Recorder ─┘ and ClockOffset (feed)          └► BandChange events, .hgrm files
//! ```

pub mod bands;
pub mod board;
pub mod fake_time_server;
pub mod hgrm;
pub mod measurement;
pub mod monitor;
pub mod plot;
pub mod probe;
pub mod recorder;
pub mod window;

#[cfg(test)]
pub(crate) mod monitor_tests;

pub use bands::{Band, BandSelector, BandTable, Observation, Transition};
pub use board::BandBoard;
pub use hgrm::{Hgrm, HgrmMeta, parse_hgrm, read_hgrm, to_hgrm, write_hgrm};
pub use measurement::{HIGHEST_NS, Measurement, new_histogram};
pub use monitor::{
    BandChange, ExportRequest, LatencyHub, LatencyMonitor, LatencySnapshot, SnapshotBoard, Summary,
};
pub use probe::{ClockOffset, ProbeStats, RestProbe};
pub use recorder::{HistBatch, Recorder, RecorderStats};
pub use window::RollingWindow;

/// Errors of the latency room.
#[derive(Debug, thiserror::Error)]
pub enum LatencyError {
    #[error("latency bands: {0}")]
    Bands(String),
    #[error("latency: {0}")]
    Setup(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("line {line}: {message}")]
    Hgrm { line: usize, message: String },
    #[error("plot: {0}")]
    Plot(String),
}
