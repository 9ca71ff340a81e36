//! The database: opening it (WAL), the versioned schema and its migrations.
//!
//! The schema version lives in SQLite's `PRAGMA user_version`. `MIGRATIONS[i]` takes the
//! database from version `i` to `i + 1`, each in its own transaction, so a start-up that
//! dies half-way leaves a database at a whole version. A database newer than this build is
//! refused rather than guessed at.
//!
//! Units: prices and quantities are `INTEGER` raw units of 10^-8 (`*_e8`), quote amounts
//! (`Notional`, 10^-16) are `TEXT` holding the exact integer (`*_e16`, too wide for SQLite's
//! 64-bit integers), times are `INTEGER` nanoseconds since the Unix epoch. Every table but
//! `runs` has `run_id` and `mode` on every row.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::PersistError;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Statements that take the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1, V2];

const V1: &str = "
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mode          TEXT    NOT NULL CHECK (mode IN ('live', 'paper', 'sim')),
    engine_name   TEXT    NOT NULL,
    config_hash   TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    stopped_at    INTEGER,
    stop_reason   TEXT
);

-- Latest state of every order; (mode, cid) so a paper run can never update a live order.
CREATE TABLE orders (
    mode             TEXT    NOT NULL,
    cid              TEXT    NOT NULL,
    run_id           INTEGER NOT NULL REFERENCES runs(id),
    last_run_id      INTEGER NOT NULL REFERENCES runs(id),
    strategy         INTEGER NOT NULL,
    instrument       INTEGER NOT NULL,
    side             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    tif              TEXT    NOT NULL,
    price_e8         INTEGER NOT NULL,
    qty_e8           INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    final            INTEGER NOT NULL,
    venue_order_id   INTEGER,
    filled_qty_e8    INTEGER NOT NULL,
    filled_quote_e16 TEXT    NOT NULL,
    fee1_asset       TEXT    NOT NULL,
    fee1_e8          INTEGER NOT NULL,
    fee2_asset       TEXT    NOT NULL,
    fee2_e8          INTEGER NOT NULL,
    cancel_pending   INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    acked_at         INTEGER,
    updated_at       INTEGER NOT NULL,
    last_trade_id    INTEGER,
    PRIMARY KEY (mode, cid)
);
CREATE INDEX orders_open ON orders (mode, final, last_run_id);

-- Every state change of every order, in the order the writer received them.
CREATE TABLE order_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           INTEGER NOT NULL REFERENCES runs(id),
    mode             TEXT    NOT NULL,
    cid              TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    venue_order_id   INTEGER,
    filled_qty_e8    INTEGER NOT NULL,
    filled_quote_e16 TEXT    NOT NULL,
    cancel_pending   INTEGER NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX order_events_cid ON order_events (mode, cid);

CREATE TABLE fills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    mode        TEXT    NOT NULL,
    cid         TEXT    NOT NULL,
    strategy    INTEGER NOT NULL,
    instrument  INTEGER NOT NULL,
    trade_id    INTEGER,
    side        TEXT    NOT NULL,
    qty_e8      INTEGER NOT NULL,
    quote_e16   TEXT    NOT NULL,
    fee_e8      INTEGER NOT NULL,
    fee_asset   TEXT    NOT NULL,
    is_maker    INTEGER NOT NULL,
    -- 1 if fee_e8 covers the whole fill; 0 if the fee was completed later from the venue's
    -- trade list (then the order's fees in `orders` are the exact totals).
    fees_complete INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
-- A venue trade is stored once even if a restart records it again; fills learned by
-- reconciliation have no trade id and are all kept.
CREATE UNIQUE INDEX fills_trade ON fills (mode, cid, trade_id);
CREATE INDEX fills_run ON fills (run_id);

CREATE TABLE round_trips (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    mode          TEXT    NOT NULL,
    strategy      INTEGER NOT NULL,
    instrument    INTEGER NOT NULL,
    side          TEXT    NOT NULL,
    qty_e8        INTEGER NOT NULL,
    entry_quote_e16 TEXT  NOT NULL,
    exit_quote_e16  TEXT  NOT NULL,
    pnl_e16       TEXT    NOT NULL,
    quote_fees_e8 INTEGER NOT NULL,
    opened_at     INTEGER NOT NULL,
    closed_at     INTEGER NOT NULL
);

CREATE TABLE balances (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    mode       TEXT    NOT NULL,
    venue      INTEGER NOT NULL,
    asset      TEXT    NOT NULL,
    free_e8    INTEGER NOT NULL,
    locked_e8  INTEGER NOT NULL,
    at         INTEGER NOT NULL
);

-- Percentiles (ns) per venue and measurement over the monitor's rolling window.
CREATE TABLE latency (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    mode        TEXT    NOT NULL,
    venue       INTEGER NOT NULL,
    measurement TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    p50_ns      INTEGER NOT NULL,
    p90_ns      INTEGER NOT NULL,
    p99_ns      INTEGER NOT NULL,
    p999_ns     INTEGER NOT NULL,
    max_ns      INTEGER NOT NULL,
    mean_ns     REAL    NOT NULL,
    at          INTEGER NOT NULL
);

CREATE TABLE band_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    mode         TEXT    NOT NULL,
    venue        INTEGER NOT NULL,
    venue_name   TEXT    NOT NULL,
    from_band    TEXT    NOT NULL,
    to_band      TEXT    NOT NULL,
    measurement  TEXT,
    statistic_ns INTEGER,
    at           INTEGER NOT NULL
);

CREATE TABLE risk_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    mode      TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    rule      TEXT    NOT NULL,
    strategy  INTEGER,
    cid       TEXT,
    detail    TEXT    NOT NULL,
    at        INTEGER NOT NULL
);

CREATE TABLE activity (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    mode     TEXT    NOT NULL,
    level    TEXT    NOT NULL,
    source   TEXT    NOT NULL,
    message  TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
";

/// Version 2: trades as their strategies count them, with the exit rule that closed each and
/// the model that opened it (so results can be told apart by model after a swap).
const V2: &str = "
CREATE TABLE strategy_trades (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    mode        TEXT    NOT NULL,
    strategy    INTEGER NOT NULL,
    instrument  INTEGER NOT NULL,
    qty_e8      INTEGER NOT NULL,
    entry_e8    INTEGER,
    exit_e8     INTEGER,
    pnl_e16     TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    -- SHA-256 of the model file that opened the trade (strategies that predict with one).
    model       TEXT,
    confidence  REAL,
    opened_at   INTEGER NOT NULL,
    closed_at   INTEGER NOT NULL
);
CREATE INDEX strategy_trades_model ON strategy_trades (strategy, model);
";

/// Every table the schema defines (tests and `mako` tools check for them).
pub const TABLES: [&str; 11] = [
    "runs",
    "orders",
    "order_events",
    "fills",
    "round_trips",
    "balances",
    "latency",
    "band_changes",
    "risk_events",
    "activity",
    "strategy_trades",
];

/// Opens (creating if needed) the database at `path`, sets WAL mode and migrates it to
/// `SCHEMA_VERSION`.
///
/// Durability: WAL with `synchronous = NORMAL`. A commit appends the transaction to the WAL
/// file with `write(2)` before `COMMIT` returns, so once the writer has acknowledged a commit
/// the data is in the kernel's page cache and survives any crash of this process (SIGKILL,
/// panic, OOM kill): the next open replays the WAL. Only an OS crash or power loss can lose
/// the last commits since the last checkpoint's fsync; `FULL` would close that too, at an
/// fsync per batch.
pub fn open(path: &Path) -> Result<Connection, PersistError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| PersistError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
    }
    let conn = Connection::open(path).map_err(|e| PersistError::open(path, e))?;
    configure(&conn).map_err(|e| PersistError::open(path, e))?;
    migrate(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // Another connection (a reader, `sqlite3` on the operator's terminal) may hold a lock
    // for a moment; wait rather than fail the batch.
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidQuery);
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// The database's schema version.
pub fn version(conn: &Connection) -> Result<u32, PersistError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
        .map_err(PersistError::Sql)
}

/// Applies every migration the database lacks.
pub fn migrate(conn: &Connection) -> Result<(), PersistError> {
    let mut have = version(conn)?;
    if have > SCHEMA_VERSION {
        return Err(PersistError::SchemaTooNew {
            found: have,
            supported: SCHEMA_VERSION,
        });
    }
    while have < SCHEMA_VERSION {
        let step = MIGRATIONS[have as usize];
        let next = have + 1;
        let sql = format!("BEGIN IMMEDIATE;\n{step}\nPRAGMA user_version = {next};\nCOMMIT;");
        if let Err(e) = conn.execute_batch(&sql) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(PersistError::Migration {
                to: next,
                source: e,
            });
        }
        tracing::info!(version = next, "database schema migrated");
        have = next;
    }
    Ok(())
}
