//! Persistence: the low-priority SQLite writer (WAL, batched transactions), the versioned
//! schema, the records the engine keeps, and recovery of open orders at start-up.
//!
//! Engine wiring, at start-up (before any host runs):
//!
//! ```text
//! let mut hub = PersistHub::open(&cfg.persistence, &cfg.engine.data_dir, &run_info)?;
//! let open = load_open_orders(&schema::open(path)?, mode, RunScope::All)?; // reconcile these
//! let sink = hub.sink("gateway:main")?;         // one per gateway (and any must-keep producer)
//! let tele = hub.telemetry();                    // latency snapshots, band changes, activity
//! let stats = hub.stats();                       // for the status endpoint
//! host.actors.push(Box::new(hub.into_writer())); // on a low-priority host
//! ```
//!
//! The gateway calls `sink.admit_order()` before every new order (refusing with
//! `Refusal::PersistenceBehind` on `false`), `sink.keep(Record::Order(..))` on every state
//! change and `Record::Fill` on every fill, `sink.pump()` on every poll, and
//! `sink.finish(..)` at the end of its stop step.

pub mod catalog;
pub mod record;
pub mod schema;
pub mod store;
pub mod writer;

#[cfg(test)]
mod tests;

pub use catalog::{Catalog, InstrumentRow, quote_text};
pub use record::{
    Activity, BalanceRecord, FillRecord, FundingRecord, Level, Record, RecordClass, RiskAction,
    RiskEvent, RoundTrip, RoundTripFee,
};
pub use store::{
    RunInfo, RunMeta, RunRow, RunScope, load_fills, load_open_orders, load_order, load_orders, runs,
};
pub use writer::{
    MAX_PRODUCERS, PersistCounters, PersistHub, PersistSink, PersistStats, PersistWriter,
    TelemetrySink, Ticket,
};

/// Errors of the persistence room.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); use a newer mako or another file"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("database migration to version {to} failed: {source}")]
    Migration { to: u32, source: rusqlite::Error },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database holds a value this build cannot read: {0}")]
    Corrupt(String),
    #[error("more than {0} persistence sinks")]
    TooManyProducers(usize),
    #[error("the persistence writer is gone; records cannot be stored")]
    WriterGone,
}

impl PersistError {
    fn open(path: &std::path::Path, source: rusqlite::Error) -> Self {
        PersistError::Open {
            path: path.display().to_string(),
            source,
        }
    }
}
