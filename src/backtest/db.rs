//! A backtest's rows in the engine's database: the run (mode `backtest`), every order state,
//! every fill and every round trip, written through the engine's own persist writer
//! (`PersistHub` → sink → `PersistWriter`), so they land in the same tables and views as a
//! live run's. The writer stamps `mode = 'backtest'` on every row from the run it opened:
//! queries by mode (`load_orders`, `load_fills`, `load_open_orders`) never mix them with
//! live, paper or sim rows, and `orders` is keyed by (mode, cid).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{Config, Mode};
use crate::engine::round_trips::RoundTrips;
use crate::persist::{Catalog, PersistHub, Record, RunInfo};
use crate::runtime::{Actor, Clock, Ctx, Shutdown};

use super::driver::Run;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub run_id: i64,
    pub orders: u64,
    pub fills: u64,
    pub round_trips: u64,
}

/// Where `[persistence]` puts the database (`path` under `data_dir` unless absolute), when
/// it is enabled.
pub fn configured_path(config: &Config) -> Option<PathBuf> {
    let p = &config.persistence;
    p.enabled.then(|| {
        if p.path.is_absolute() {
            p.path.clone()
        } else {
            config.engine.data_dir.join(&p.path)
        }
    })
}

/// Writes the run's records (the run needs `Settings::records`) into the database at `path`
/// (created and migrated if needed) as one run of mode `backtest`.
pub fn write(path: &Path, config: &Config, run: &Run) -> Result<Written, String> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{config:?}").as_bytes());
    let info = RunInfo {
        mode: Mode::Backtest,
        engine_name: config.engine.name.clone(),
        config_hash: digest.iter().take(8).map(|b| format!("{b:02x}")).collect(),
        started_at: run.first,
        catalog: Catalog::of(config),
    };
    let mut trips = RoundTrips::default();
    let mut records: Vec<Record> = Vec::with_capacity(run.records.len() + 64);
    let (mut orders, mut fills, mut round_trips) = (0, 0, 0);
    for r in &run.records {
        records.push(r.clone());
        match r {
            Record::Order(_) => orders += 1,
            Record::Fill(f) => {
                fills += 1;
                // The backtest charges every fee in the quote asset.
                if let Some(t) = trips.apply(
                    f.strategy,
                    f.instrument,
                    f.fill.side,
                    f.fill.qty,
                    f.fill.quote,
                    f.fill.fee,
                    f.at,
                ) {
                    round_trips += 1;
                    records.push(Record::RoundTrip(t));
                }
            }
            _ => {}
        }
    }
    let n = records.len();
    let mut hub = PersistHub::open_path(path, Duration::ZERO, n + 16, &info)
        .map_err(|e| format!("database {}: {e}", path.display()))?;
    let run_id = hub.run().id;
    let stats = hub.stats();
    {
        let mut sink = hub.sink("backtest").map_err(|e| e.to_string())?;
        for r in records {
            sink.keep(r).map_err(|e| format!("database: {e}"))?;
        }
        // Dropping the sink tells the writer it has everything.
    }
    let mut writer = hub.into_writer();
    let (clock, _) = Clock::manual(run.last);
    let mut ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "backtest",
    };
    // The stop step commits everything queued, then marks the run stopped (at the
    // recording's last time).
    writer.stop(&mut ctx);
    let c = stats.read();
    if c.records_committed != n as u64 {
        return Err(format!(
            "database {}: {} of {n} records committed ({} commit errors)",
            path.display(),
            c.records_committed,
            c.commit_errors
        ));
    }
    Ok(Written {
        run_id,
        orders,
        fills,
        round_trips,
    })
}
