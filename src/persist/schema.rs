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
pub const SCHEMA_VERSION: u32 = 6;

/// Statements that take the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1, V2, V3, V4, V5, V6];

/// Version 6: `runs.mode` may be 'backtest' (`mako backtest --db`). SQLite cannot change a
/// CHECK in place: the table is copied, rebuilt and refilled with the same ids in the
/// migration's transaction; the tables that reference `runs` are checked at commit.
const V6: &str = "
PRAGMA defer_foreign_keys = ON;
CREATE TABLE runs_v4 AS SELECT * FROM runs;
DROP TABLE runs;
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mode          TEXT    NOT NULL CHECK (mode IN ('live', 'paper', 'sim', 'backtest')),
    engine_name   TEXT    NOT NULL,
    config_hash   TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    stopped_at    INTEGER,
    stop_reason   TEXT
);
INSERT INTO runs (id, mode, engine_name, config_hash, version, started_at, stopped_at, stop_reason)
    SELECT id, mode, engine_name, config_hash, version, started_at, stopped_at, stop_reason
    FROM runs_v4 ORDER BY id;
DROP TABLE runs_v4;
";

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

/// A 10^-8 integer column as decimal text (`-0.5`, `61800.12`, `3`), in SQL any reader has.
macro_rules! dec8 {
    ($c:literal) => {
        concat!(
            "(CASE WHEN ",
            $c,
            " < 0 THEN '-' ELSE '' END || (abs(",
            $c,
            ") / 100000000) || ",
            "rtrim(rtrim('.' || printf('%08d', abs(",
            $c,
            ") % 100000000), '0'), '.'))"
        )
    };
}

/// A 10^-16 integer held as text (too wide for SQLite's integers) as decimal text, by string
/// operations only (exact). The fraction is zero-padded to 16 digits: before version 5 it was
/// not, so an amount whose integer has fewer than 16 digits (under 1) read too large (`1`, one
/// unit, read `0.1`); version 5 recreates every view that uses it.
macro_rules! dec16 {
    ($c:literal) => {
        concat!(
            "(CASE WHEN substr(",
            $c,
            ", 1, 1) = '-' THEN '-' ELSE '' END || ",
            "substr(substr('0000000000000000' || ltrim(",
            $c,
            ", '-'), -max(length(ltrim(",
            $c,
            ", '-')), 17)), 1, max(length(ltrim(",
            $c,
            ", '-')), 17) - 16) || ",
            "rtrim(rtrim('.' || substr('0000000000000000' || ltrim(",
            $c,
            ", '-'), -16), '0'), '.'))"
        )
    };
}

/// Nanoseconds since the epoch as UTC text with milliseconds (`2026-12-05T23:04:53.123Z`).
macro_rules! utc {
    ($c:literal) => {
        concat!(
            "strftime('%Y-%m-%dT%H:%M:%fZ', ",
            $c,
            " / 1000000000.0, 'unixepoch')"
        )
    };
}

/// The `orders_view` statement (versions 3 and 5).
macro_rules! orders_view {
    () => {
        concat!(
            "CREATE VIEW orders_view AS SELECT o.run_id, o.mode, o.cid, v.name AS venue, i.symbol,
    s.name AS strategy, o.side, o.kind, o.tif, ",
            dec8!("o.price_e8"),
            " AS price, ",
            dec8!("o.qty_e8"),
            " AS qty, o.status, ",
            dec8!("o.filled_qty_e8"),
            " AS filled_qty, ",
            dec16!("o.filled_quote_e16"),
            " AS filled_quote, o.fee1_asset, ",
            dec8!("o.fee1_e8"),
            " AS fee1, o.fee2_asset, ",
            dec8!("o.fee2_e8"),
            " AS fee2, o.venue_order_id, ",
            utc!("o.created_at"),
            " AS created_at, ",
            utc!("o.updated_at"),
            " AS updated_at
FROM orders o
LEFT JOIN run_strategies s ON s.run_id = o.run_id AND s.strategy = o.strategy
LEFT JOIN run_instruments i ON i.run_id = o.run_id AND i.instrument = o.instrument
LEFT JOIN run_venues v ON v.run_id = o.run_id AND v.venue = i.venue;
"
        )
    };
}

/// The `round_trips_view` statement (versions 3 and 5).
macro_rules! round_trips_view {
    () => {
        concat!(
            "CREATE VIEW round_trips_view AS SELECT t.id, t.run_id, t.mode, v.name AS venue, i.symbol,
    s.name AS strategy, t.side, ",
    dec8!("t.qty_e8"),
    " AS qty, ",
    dec16!("t.entry_quote_e16"),
    " AS entry_quote, ",
    dec16!("t.exit_quote_e16"),
    " AS exit_quote, ",
    dec16!("t.pnl_e16"),
    " AS pnl, ",
    dec8!("t.quote_fees_e8"),
    " AS quote_fees, ",
    utc!("t.opened_at"),
    " AS opened_at, ",
    utc!("t.closed_at"),
    " AS closed_at
FROM round_trips t
LEFT JOIN run_strategies s ON s.run_id = t.run_id AND s.strategy = t.strategy
LEFT JOIN run_instruments i ON i.run_id = t.run_id AND i.instrument = t.instrument
LEFT JOIN run_venues v ON v.run_id = t.run_id AND v.venue = i.venue;
"
        )
    };
}

/// The `strategy_trades_view` statement (versions 3 and 5).
macro_rules! strategy_trades_view {
    () => {
        concat!(
            "CREATE VIEW strategy_trades_view AS SELECT t.id, t.run_id, t.mode, v.name AS venue, i.symbol,
    s.name AS strategy, ",
    dec8!("t.qty_e8"),
    " AS qty, ",
    dec8!("t.entry_e8"),
    " AS entry, ",
    dec8!("t.exit_e8"),
    " AS exit, ",
    dec16!("t.pnl_e16"),
    " AS pnl, t.reason, t.model, t.confidence, ",
    utc!("t.opened_at"),
    " AS opened_at, ",
    utc!("t.closed_at"),
    " AS closed_at
FROM strategy_trades t
LEFT JOIN run_strategies s ON s.run_id = t.run_id AND s.strategy = t.strategy
LEFT JOIN run_instruments i ON i.run_id = t.run_id AND i.instrument = t.instrument
LEFT JOIN run_venues v ON v.run_id = t.run_id AND v.venue = i.venue;
"
        )
    };
}

/// The `funding_view` statement (versions 4 and 5).
macro_rules! funding_view {
    () => {
        concat!(
            "CREATE VIEW funding_view AS SELECT f.id, f.run_id, f.mode, v.name AS venue, i.symbol,
    s.name AS strategy, ",
            dec8!("f.qty_e8"),
            " AS qty, ",
            dec8!("f.mark_e8"),
            " AS mark, ",
            dec8!("f.rate_e8"),
            " AS rate, ",
            dec16!("f.paid_e16"),
            " AS paid, ",
            utc!("f.at"),
            " AS at
FROM funding f
LEFT JOIN run_strategies s ON s.run_id = f.run_id AND s.strategy = f.strategy
LEFT JOIN run_instruments i ON i.run_id = f.run_id AND i.instrument = f.instrument
LEFT JOIN run_venues v ON v.run_id = f.run_id AND v.venue = f.venue;
"
        )
    };
}

/// Version 3: records people can read. Each run's venues, instruments and strategies by
/// name, and views of the orders, fills, round trips and strategy trades with those names
/// and every price, quantity, fee and PnL as decimal text (docs/database.md).
const V3: &str = concat!(
    "
CREATE TABLE run_venues (
    run_id  INTEGER NOT NULL REFERENCES runs(id),
    venue   INTEGER NOT NULL,
    name    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    PRIMARY KEY (run_id, venue)
);
CREATE TABLE run_instruments (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    instrument  INTEGER NOT NULL,
    venue       INTEGER NOT NULL,
    symbol      TEXT    NOT NULL,
    base        TEXT    NOT NULL,
    quote       TEXT    NOT NULL,
    PRIMARY KEY (run_id, instrument)
);
CREATE TABLE run_strategies (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    strategy    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    venue       INTEGER NOT NULL,
    instrument  INTEGER NOT NULL,
    PRIMARY KEY (run_id, strategy)
);
",
    orders_view!(),
    "CREATE VIEW fills_view AS SELECT f.id, f.run_id, f.mode, f.cid, v.name AS venue, i.symbol,
    s.name AS strategy, f.trade_id, f.side, ",
    dec8!("f.qty_e8"),
    " AS qty, ",
    dec16!("f.quote_e16"),
    " AS quote, printf('%.8f', CAST(f.quote_e16 AS REAL) / 100000000.0 / f.qty_e8) AS price, ",
    dec8!("f.fee_e8"),
    " AS fee, f.fee_asset, f.is_maker, ",
    utc!("f.at"),
    " AS at
FROM fills f
LEFT JOIN run_strategies s ON s.run_id = f.run_id AND s.strategy = f.strategy
LEFT JOIN run_instruments i ON i.run_id = f.run_id AND i.instrument = f.instrument
LEFT JOIN run_venues v ON v.run_id = f.run_id AND v.venue = i.venue;
",
    round_trips_view!(),
    strategy_trades_view!()
);

/// Version 4: perpetuals' funding payments, one row per position and funding time, and
/// their readable view.
const V4: &str = concat!(
    "
CREATE TABLE funding (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    mode        TEXT    NOT NULL,
    venue       INTEGER NOT NULL,
    strategy    INTEGER NOT NULL,
    instrument  INTEGER NOT NULL,
    -- The position at the funding time, venue units (contracts or base), signed.
    qty_e8      INTEGER NOT NULL,
    mark_e8     INTEGER NOT NULL,
    rate_e8     INTEGER NOT NULL,
    -- Paid (positive) or received (negative), settlement asset at 10^-16.
    paid_e16    TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX funding_strategy ON funding (strategy, at);
",
    funding_view!()
);

/// Version 5: the catalog says how to read the numbers (each instrument's kind, contract,
/// settlement asset, tick and lot, and the scales its prices, quantities and quote amounts are
/// stored at), fills keep their price as an integer so `fills_view.price` is exact decimal text
/// (rows of older versions get theirs from `backfill_fill_prices`), `instruments_view`, and
/// the views printing 10^-16 amounts recreated with `dec16!`'s zero-padded fraction.
const V5: &str = concat!(
    "
ALTER TABLE run_instruments ADD COLUMN kind TEXT;
ALTER TABLE run_instruments ADD COLUMN qty_unit TEXT;
ALTER TABLE run_instruments ADD COLUMN contract_size_e8 INTEGER;
ALTER TABLE run_instruments ADD COLUMN settle TEXT;
ALTER TABLE run_instruments ADD COLUMN tick_e8 INTEGER;
ALTER TABLE run_instruments ADD COLUMN lot_e8 INTEGER;
-- Decimals of the stored integers: a price is price_e8 / 10^price_scale.
ALTER TABLE run_instruments ADD COLUMN price_scale INTEGER;
ALTER TABLE run_instruments ADD COLUMN qty_scale INTEGER;
ALTER TABLE run_instruments ADD COLUMN quote_scale INTEGER;
-- quote_e16 / qty_e8, truncated: exact for a fill at one price.
ALTER TABLE fills ADD COLUMN price_e8 INTEGER;
-- Every view printing 10^-16 amounts again, with the zero-padded fraction (see dec16!).
DROP VIEW fills_view;
DROP VIEW orders_view;
DROP VIEW round_trips_view;
DROP VIEW strategy_trades_view;
DROP VIEW funding_view;
CREATE VIEW fills_view AS SELECT f.id, f.run_id, f.mode, f.cid, v.name AS venue, i.symbol,
    s.name AS strategy, f.trade_id, f.side, ",
    dec8!("f.qty_e8"),
    " AS qty, ",
    dec16!("f.quote_e16"),
    " AS quote, ",
    dec8!("f.price_e8"),
    " AS price, ",
    dec8!("f.fee_e8"),
    " AS fee, f.fee_asset, f.fees_complete, f.is_maker, ",
    utc!("f.at"),
    " AS at
FROM fills f
LEFT JOIN run_strategies s ON s.run_id = f.run_id AND s.strategy = f.strategy
LEFT JOIN run_instruments i ON i.run_id = f.run_id AND i.instrument = f.instrument
LEFT JOIN run_venues v ON v.run_id = f.run_id AND v.venue = i.venue;
",
    orders_view!(),
    round_trips_view!(),
    strategy_trades_view!(),
    funding_view!(),
    "CREATE VIEW instruments_view AS SELECT i.run_id, i.instrument, v.name AS venue, i.symbol,
    i.base, i.quote, i.kind, i.qty_unit, ",
    dec8!("i.contract_size_e8"),
    " AS contract_size, i.settle, ",
    dec8!("i.tick_e8"),
    " AS tick, ",
    dec8!("i.lot_e8"),
    " AS lot, i.price_scale, i.qty_scale, i.quote_scale
FROM run_instruments i
LEFT JOIN run_venues v ON v.run_id = i.run_id AND v.venue = i.venue;
"
);

/// The readable views (versions 3 to 5).
pub const VIEWS: [&str; 6] = [
    "orders_view",
    "fills_view",
    "round_trips_view",
    "strategy_trades_view",
    "funding_view",
    "instruments_view",
];

/// Every table the schema defines (tests and `mako` tools check for them).
pub const TABLES: [&str; 12] = [
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
    "funding",
];

/// The names of what each run's rows number by index (version 3): keyed by run, no mode.
pub const CATALOG: [&str; 3] = ["run_venues", "run_instruments", "run_strategies"];

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
    migrate_to(conn, SCHEMA_VERSION)
}

/// Applies the migrations up to `target` (tests build older databases with it).
pub fn migrate_to(conn: &Connection, target: u32) -> Result<(), PersistError> {
    let mut have = version(conn)?;
    if have > SCHEMA_VERSION {
        return Err(PersistError::SchemaTooNew {
            found: have,
            supported: SCHEMA_VERSION,
        });
    }
    while have < target.min(SCHEMA_VERSION) {
        let step = MIGRATIONS[have as usize];
        let next = have + 1;
        let done = conn
            .execute_batch(&format!("BEGIN IMMEDIATE;\n{step}"))
            .and_then(|()| after_migration(conn, next))
            .and_then(|()| conn.execute_batch(&format!("PRAGMA user_version = {next};\nCOMMIT;")));
        if let Err(e) = done {
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

/// What a migration needs beyond SQL, in its transaction.
fn after_migration(conn: &Connection, version: u32) -> rusqlite::Result<()> {
    if version == 5 {
        backfill_fill_prices(conn)?;
    }
    Ok(())
}

/// Gives fills stored before version 5 their price: `quote_e16` is text wider than SQLite's
/// integers, so the division is done here, exactly, as the writer does it for new rows.
fn backfill_fill_prices(conn: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String, i64)> = conn
        .prepare("SELECT id, quote_e16, qty_e8 FROM fills WHERE price_e8 IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut set = conn.prepare("UPDATE fills SET price_e8 = ?2 WHERE id = ?1")?;
    for (id, quote, qty) in rows {
        // A quote that does not parse stays without a price (the view shows NULL).
        let Ok(quote) = quote.parse::<i128>() else {
            continue;
        };
        let price = super::store::fill_price(
            crate::types::Notional(quote),
            crate::types::Qty::from_units(qty),
        );
        set.execute(rusqlite::params![id, price])?;
    }
    Ok(())
}

#[cfg(test)]
mod decimal_tests {
    use rusqlite::Connection;

    use crate::persist::quote_text;
    use crate::types::Qty;

    /// The views' SQL prints every stored integer as the engine prints it: the same text as
    /// `Display` of a 10^-8 value and `quote_text` of a 10^-16 one, negatives, one unit and
    /// the extremes included.
    #[test]
    fn the_views_decimal_text_is_the_engines() {
        let conn = Connection::open_in_memory().unwrap();
        for v in [
            0i64,
            1,
            -1,
            5,
            -45,
            10,
            99_999_999,
            100_000_000,
            -100_000_000,
            -100_000_001,
            6_180_012_000_000,
            -50_000_000,
            i64::MAX,
            i64::MIN + 1,
        ] {
            let sql: String = conn
                .query_row(
                    concat!("SELECT ", dec8!("x"), " FROM (SELECT ?1 AS x)"),
                    [v],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(sql, Qty::from_units(v).to_string(), "{v}");
        }
        for v in [
            0i128,
            1,
            -1,
            9_999_999_999_999_999,
            10_000_000_000_000_000,
            -10_000_000_000_000_000,
            -5_000_000_000_000_000,
            309_000_600_000_000_000,
            618_001_200_000_000_000_000,
            -15_450_003_000_000_000,
            i128::MAX,
            i128::MIN + 1,
        ] {
            let sql: String = conn
                .query_row(
                    concat!("SELECT ", dec16!("x"), " FROM (SELECT ?1 AS x)"),
                    [v.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(sql, quote_text(v), "{v}");
        }
    }
}
