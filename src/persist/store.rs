//! Rows in and out: how each `Record` becomes rows (stamped with the run id and mode), the
//! run rows, and the readers the engine uses at start-up (`load_open_orders`) and tests use
//! to check what was written.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::config::Mode;
use crate::types::{AssetCode, FillDelta, Order, OrderKind, OrderStatus, TimeInForce};
use crate::types::{
    ClientOrderId, InstrumentId, Notional, Price, Qty, Side, StrategyId, TradeId, UnixNanos,
    VenueOrderId,
};

use super::PersistError;
use super::record::{FillRecord, Record};

/// The run every row of one engine run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunMeta {
    pub id: i64,
    pub mode: Mode,
}

/// What the engine says about itself when a run starts.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub mode: Mode,
    pub engine_name: String,
    /// Hash of the config the run started with (hex), to tell runs of different configs apart.
    pub config_hash: String,
    pub started_at: UnixNanos,
    /// The run's venues, instruments and strategies by name, so rows that store their
    /// indices can be read without mako (`run_venues`, `run_instruments`, `run_strategies`
    /// and the `*_view` views).
    pub catalog: super::catalog::Catalog,
}

/// A row of `runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub mode: String,
    pub engine_name: String,
    pub config_hash: String,
    pub started_at: UnixNanos,
    pub stopped_at: Option<UnixNanos>,
    pub stop_reason: Option<String>,
}

/// Which runs a reader looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunScope {
    /// Every run of the mode.
    All,
    /// Rows of one run (for orders: created or last updated by it).
    Run(i64),
}

impl RunScope {
    fn id(self) -> Option<i64> {
        match self {
            RunScope::All => None,
            RunScope::Run(id) => Some(id),
        }
    }
}

/// Inserts the run row; its id stamps every row of the run.
pub fn start_run(conn: &Connection, info: &RunInfo) -> Result<RunMeta, PersistError> {
    conn.execute(
        "INSERT INTO runs (mode, engine_name, config_hash, version, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            info.mode.as_str(),
            info.engine_name,
            info.config_hash,
            env!("CARGO_PKG_VERSION"),
            ns(info.started_at)
        ],
    )?;
    let id = conn.last_insert_rowid();
    super::catalog::insert(conn, id, &info.catalog)?;
    Ok(RunMeta {
        id,
        mode: info.mode,
    })
}

/// Marks the run stopped.
pub fn stop_run(
    conn: &Connection,
    run: RunMeta,
    at: UnixNanos,
    reason: &str,
) -> Result<(), PersistError> {
    conn.execute(
        "UPDATE runs SET stopped_at = ?2, stop_reason = ?3 WHERE id = ?1",
        params![run.id, ns(at), reason],
    )?;
    Ok(())
}

pub fn runs(conn: &Connection) -> Result<Vec<RunRow>, PersistError> {
    let mut st = conn.prepare(
        "SELECT id, mode, engine_name, config_hash, started_at, stopped_at, stop_reason
         FROM runs ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(RunRow {
            id: r.get(0)?,
            mode: r.get(1)?,
            engine_name: r.get(2)?,
            config_hash: r.get(3)?,
            started_at: UnixNanos(r.get::<_, i64>(4)? as u64),
            stopped_at: r.get::<_, Option<i64>>(5)?.map(|v| UnixNanos(v as u64)),
            stop_reason: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes one record's rows. Runs inside the writer's batch transaction.
pub fn insert(conn: &Connection, run: RunMeta, rec: &Record) -> rusqlite::Result<()> {
    let mode = run.mode.as_str();
    match rec {
        Record::Order(o) => insert_order(conn, run, o),
        Record::Fill(f) => {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO fills (run_id, mode, cid, strategy, instrument, trade_id,
                 side, qty_e8, quote_e16, fee_e8, fee_asset, is_maker, fees_complete, at,
                 price_e8)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                run.id,
                mode,
                f.cid.as_str(),
                f.strategy.0,
                f.instrument.0,
                f.fill.trade_id.as_ref().map(|t| t.as_str()),
                side_str(f.fill.side),
                f.fill.qty.units(),
                f.fill.quote.0.to_string(),
                f.fill.fee.units(),
                f.fill.fee_asset.as_str(),
                f.fill.is_maker,
                f.fill.fees_complete,
                ns(f.at),
                fill_price(f.fill.quote, f.fill.qty)
            ])?;
            Ok(())
        }
        Record::RoundTrip(t) => {
            conn.prepare_cached(
                "INSERT INTO round_trips (run_id, mode, strategy, instrument, side, qty_e8,
                 entry_quote_e16, exit_quote_e16, pnl_e16, quote_fees_e8, opened_at, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                run.id,
                mode,
                t.strategy.0,
                t.instrument.0,
                side_str(t.side),
                t.qty.units(),
                t.entry_quote.0.to_string(),
                t.exit_quote.0.to_string(),
                t.pnl.0.to_string(),
                t.quote_fees.units(),
                ns(t.opened_at),
                ns(t.closed_at)
            ])?;
            Ok(())
        }
        Record::RoundTripFee(f) => {
            conn.prepare_cached(
                "UPDATE round_trips SET quote_fees_e8 = quote_fees_e8 + ?1 WHERE id = (
                 SELECT max(id) FROM round_trips
                 WHERE run_id = ?2 AND strategy = ?3 AND instrument = ?4 AND opened_at = ?5)",
            )?
            .execute(params![
                f.delta.units(),
                run.id,
                f.strategy.0,
                f.instrument.0,
                ns(f.opened_at)
            ])?;
            Ok(())
        }
        Record::Trade(t) => {
            conn.prepare_cached(
                "INSERT INTO strategy_trades (run_id, mode, strategy, instrument, qty_e8,
                 entry_e8, exit_e8, pnl_e16, reason, model, confidence, opened_at, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                run.id,
                mode,
                t.strategy.0,
                t.instrument.0,
                t.qty.units(),
                t.entry.map(|p| p.units()),
                t.exit.map(|p| p.units()),
                t.pnl.0.to_string(),
                t.reason,
                t.model.as_deref(),
                t.confidence,
                ns(t.opened_at),
                ns(t.closed_at)
            ])?;
            Ok(())
        }
        Record::Funding(f) => {
            conn.prepare_cached(
                "INSERT INTO funding (run_id, mode, venue, strategy, instrument, qty_e8, mark_e8,
                 rate_e8, paid_e16, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                run.id,
                mode,
                f.venue.0,
                f.strategy.0,
                f.instrument.0,
                f.qty.units(),
                f.mark.units(),
                f.rate.units(),
                f.paid.to_string(),
                ns(f.at)
            ])?;
            Ok(())
        }
        Record::Balance(b) => {
            conn.prepare_cached(
                "INSERT INTO balances (run_id, mode, venue, asset, free_e8, locked_e8, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                run.id,
                mode,
                b.venue.0,
                b.asset.as_str(),
                b.free.units(),
                b.locked.units(),
                ns(b.at)
            ])?;
            Ok(())
        }
        Record::Risk(e) => {
            let (action, rule) = e.action.names();
            conn.prepare_cached(
                "INSERT INTO risk_events (run_id, mode, action, rule, strategy, cid, detail, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                run.id,
                mode,
                action,
                rule,
                e.strategy.map(|s| s.0),
                e.cid.as_ref().map(|c| c.as_str()),
                e.detail,
                ns(e.at)
            ])?;
            Ok(())
        }
        Record::Latency(s) => {
            let mut st = conn.prepare_cached(
                "INSERT INTO latency (run_id, mode, venue, measurement, count, p50_ns, p90_ns,
                 p99_ns, p999_ns, max_ns, mean_ns, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for m in s.summaries.iter().filter(|m| m.window.count > 0) {
                let w = &m.window;
                st.execute(params![
                    run.id,
                    mode,
                    m.venue.0,
                    m.measurement.as_str(),
                    w.count as i64,
                    w.p50 as i64,
                    w.p90 as i64,
                    w.p99 as i64,
                    w.p999 as i64,
                    w.max as i64,
                    w.mean,
                    ns(s.at)
                ])?;
            }
            Ok(())
        }
        Record::Band(c) => {
            conn.prepare_cached(
                "INSERT INTO band_changes (run_id, mode, venue, venue_name, from_band, to_band,
                 measurement, statistic_ns, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                run.id,
                mode,
                c.venue.0,
                c.venue_name,
                c.from_name,
                c.to_name,
                c.measurement.map(|m| m.as_str()),
                c.statistic_ns.map(|v| v as i64),
                ns(c.at)
            ])?;
            Ok(())
        }
        Record::Activity(a) => {
            conn.prepare_cached(
                "INSERT INTO activity (run_id, mode, level, source, message, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                run.id,
                mode,
                a.level.as_str(),
                a.source,
                a.message,
                ns(a.at)
            ])?;
            Ok(())
        }
    }
}

fn insert_order(conn: &Connection, run: RunMeta, o: &Order) -> rusqlite::Result<()> {
    let mode = run.mode.as_str();
    let quote = o.filled_quote.0.to_string();
    conn.prepare_cached(
        "INSERT INTO orders (mode, cid, run_id, last_run_id, strategy, instrument, side, kind,
         tif, price_e8, qty_e8, status, final, venue_order_id, filled_qty_e8, filled_quote_e16,
         fee1_asset, fee1_e8, fee2_asset, fee2_e8, cancel_pending, created_at, sent_at,
         acked_at, updated_at, last_trade_id)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)
         ON CONFLICT (mode, cid) DO UPDATE SET
            last_run_id = excluded.last_run_id, strategy = excluded.strategy,
            instrument = excluded.instrument, side = excluded.side, kind = excluded.kind,
            tif = excluded.tif, price_e8 = excluded.price_e8, qty_e8 = excluded.qty_e8,
            status = excluded.status, final = excluded.final,
            venue_order_id = excluded.venue_order_id, filled_qty_e8 = excluded.filled_qty_e8,
            filled_quote_e16 = excluded.filled_quote_e16, fee1_asset = excluded.fee1_asset,
            fee1_e8 = excluded.fee1_e8, fee2_asset = excluded.fee2_asset,
            fee2_e8 = excluded.fee2_e8, cancel_pending = excluded.cancel_pending,
            created_at = excluded.created_at, sent_at = excluded.sent_at,
            acked_at = excluded.acked_at, updated_at = excluded.updated_at,
            last_trade_id = excluded.last_trade_id",
    )?
    .execute(params![
        mode,
        o.cid.as_str(),
        run.id,
        o.strategy.0,
        o.instrument.0,
        side_str(o.side),
        kind_str(o.kind),
        tif_str(o.tif),
        o.price.units(),
        o.qty.units(),
        o.status.as_str(),
        o.status.is_final(),
        o.venue_order_id.as_ref().map(|v| v.as_str()),
        o.filled_qty.units(),
        quote,
        o.fees[0].0.as_str(),
        o.fees[0].1.units(),
        o.fees[1].0.as_str(),
        o.fees[1].1.units(),
        o.cancel_pending,
        ns(o.created_at),
        o.sent_at.map(ns),
        o.acked_at.map(ns),
        ns(o.updated_at),
        o.last_trade_id.as_ref().map(|v| v.as_str()),
    ])?;
    conn.prepare_cached(
        "INSERT INTO order_events (run_id, mode, cid, status, venue_order_id, filled_qty_e8,
         filled_quote_e16, cancel_pending, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        run.id,
        mode,
        o.cid.as_str(),
        o.status.as_str(),
        o.venue_order_id.as_ref().map(|v| v.as_str()),
        o.filled_qty.units(),
        o.filled_quote.0.to_string(),
        o.cancel_pending,
        ns(o.updated_at),
    ])?;
    Ok(())
}

const ORDER_COLUMNS: &str = "cid, strategy, instrument, side, kind, tif, price_e8, qty_e8,
    status, venue_order_id, filled_qty_e8, filled_quote_e16, fee1_asset, fee1_e8, fee2_asset,
    fee2_e8, cancel_pending, created_at, sent_at, acked_at, updated_at, last_trade_id";

/// Orders of `mode` not in a final state, oldest first: what the engine reconciles with the
/// venue at start-up. `RunScope::All` looks at every earlier run of the mode.
pub fn load_open_orders(
    conn: &Connection,
    mode: Mode,
    scope: RunScope,
) -> Result<Vec<Order>, PersistError> {
    load_orders_where(conn, mode, scope, true)
}

/// Every order of `mode` in scope, final or not, oldest first.
pub fn load_orders(
    conn: &Connection,
    mode: Mode,
    scope: RunScope,
) -> Result<Vec<Order>, PersistError> {
    load_orders_where(conn, mode, scope, false)
}

fn load_orders_where(
    conn: &Connection,
    mode: Mode,
    scope: RunScope,
    open_only: bool,
) -> Result<Vec<Order>, PersistError> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE mode = ?1
         AND (?2 IS NULL OR run_id = ?2 OR last_run_id = ?2)
         AND (?3 = 0 OR final = 0)
         ORDER BY created_at, cid"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![mode.as_str(), scope.id(), open_only])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(order_from_row(r)?);
    }
    Ok(out)
}

/// The latest stored state of one order.
pub fn load_order(
    conn: &Connection,
    mode: Mode,
    cid: &ClientOrderId,
) -> Result<Option<Order>, PersistError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE mode = ?1 AND cid = ?2");
    let mut st = conn.prepare(&sql)?;
    let row = st
        .query_row(params![mode.as_str(), cid.as_str()], |r| {
            Ok(order_from_row(r))
        })
        .optional()?;
    row.transpose()
}

/// Fills of `mode` in scope, in the order they were written.
pub fn load_fills(
    conn: &Connection,
    mode: Mode,
    scope: RunScope,
) -> Result<Vec<FillRecord>, PersistError> {
    let mut st = conn.prepare(
        "SELECT cid, strategy, instrument, trade_id, side, qty_e8, quote_e16, fee_e8,
                fee_asset, is_maker, fees_complete, at
         FROM fills WHERE mode = ?1 AND (?2 IS NULL OR run_id = ?2) ORDER BY id",
    )?;
    let mut rows = st.query(params![mode.as_str(), scope.id()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(FillRecord {
            cid: cid(r, 0)?,
            strategy: StrategyId(r.get(1)?),
            instrument: InstrumentId(r.get(2)?),
            fill: FillDelta {
                trade_id: venue_id(r, 3, TradeId::new)?,
                side: parse_side(&r.get::<_, String>(4)?)?,
                qty: Qty::from_units(r.get(5)?),
                quote: notional(r, 6)?,
                fee: Qty::from_units(r.get(7)?),
                fee_asset: asset(r, 8)?,
                is_maker: r.get(9)?,
                fees_complete: r.get(10)?,
                // Only the paper gateway fills orders in a paper run; a backtest's are simulated.
                paper: matches!(mode, Mode::Paper | Mode::Backtest),
            },
            at: UnixNanos(r.get::<_, i64>(11)? as u64),
        });
    }
    Ok(out)
}

/// Rows in `table` (one of `schema::TABLES`, not `runs`), only those of `mode` if given.
pub fn count_rows(conn: &Connection, table: &str, mode: Option<Mode>) -> Result<i64, PersistError> {
    if !super::schema::TABLES.contains(&table) {
        return Err(PersistError::Corrupt(format!("no table {table}")));
    }
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE (?1 IS NULL OR mode = ?1)");
    Ok(conn.query_row(&sql, params![mode.map(Mode::as_str)], |r| r.get(0))?)
}

fn order_from_row(r: &Row<'_>) -> Result<Order, PersistError> {
    let mut o = Order::new(
        cid(r, 0)?,
        StrategyId(r.get(1)?),
        InstrumentId(r.get(2)?),
        parse_side(&r.get::<_, String>(3)?)?,
        parse_kind(&r.get::<_, String>(4)?)?,
        parse_tif(&r.get::<_, String>(5)?)?,
        Price::from_units(r.get(6)?),
        Qty::from_units(r.get(7)?),
        UnixNanos(r.get::<_, i64>(17)? as u64),
    );
    o.status = parse_status(&r.get::<_, String>(8)?)?;
    o.venue_order_id = venue_id(r, 9, VenueOrderId::new)?;
    o.filled_qty = Qty::from_units(r.get(10)?);
    o.filled_quote = notional(r, 11)?;
    o.fees = [
        (asset(r, 12)?, Qty::from_units(r.get(13)?)),
        (asset(r, 14)?, Qty::from_units(r.get(15)?)),
    ];
    o.cancel_pending = r.get(16)?;
    o.sent_at = r.get::<_, Option<i64>>(18)?.map(|v| UnixNanos(v as u64));
    o.acked_at = r.get::<_, Option<i64>>(19)?.map(|v| UnixNanos(v as u64));
    o.updated_at = UnixNanos(r.get::<_, i64>(20)? as u64);
    o.last_trade_id = venue_id(r, 21, TradeId::new)?;
    Ok(o)
}

/// A fill's price at 10^-8: its quote amount over its quantity, truncated toward zero (exact
/// for a fill at one price; the average of a fill the venue reported for several trades).
/// `None` for a zero quantity or a price past 64 bits.
pub fn fill_price(quote: Notional, qty: Qty) -> Option<i64> {
    let q = i128::from(qty.units());
    if q == 0 {
        return None;
    }
    i64::try_from(quote.0 / q).ok()
}

/// Nanoseconds as SQLite's signed integer (exact until the year 2262).
fn ns(t: UnixNanos) -> i64 {
    t.0 as i64
}

fn cid(r: &Row<'_>, i: usize) -> Result<ClientOrderId, PersistError> {
    let s: String = r.get(i)?;
    ClientOrderId::parse(&s)
        .map_err(|e| PersistError::Corrupt(format!("client order id {s:?}: {e}")))
}

/// A venue's order or trade id. Written as text; SQLite's `INTEGER` column affinity stores a
/// numeric one as an integer and keeps any other (a UUID) as text.
fn venue_id<T>(
    r: &Row<'_>,
    i: usize,
    make: fn(&[u8]) -> Option<T>,
) -> Result<Option<T>, PersistError> {
    use rusqlite::types::ValueRef;
    let bad = |what: String| PersistError::Corrupt(format!("venue id {what}"));
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(v) => make(v.to_string().as_bytes())
            .map(Some)
            .ok_or_else(|| bad(v.to_string())),
        ValueRef::Text(t) => make(t)
            .map(Some)
            .ok_or_else(|| bad(String::from_utf8_lossy(t).into_owned())),
        other => Err(bad(format!("of type {:?}", other.data_type()))),
    }
}

fn notional(r: &Row<'_>, i: usize) -> Result<Notional, PersistError> {
    let s: String = r.get(i)?;
    s.parse::<i128>()
        .map(Notional)
        .map_err(|_| PersistError::Corrupt(format!("quote amount {s:?}")))
}

fn asset(r: &Row<'_>, i: usize) -> Result<AssetCode, PersistError> {
    let s: String = r.get(i)?;
    if s.is_empty() {
        return Ok(AssetCode::default());
    }
    AssetCode::new(s.as_bytes()).ok_or_else(|| PersistError::Corrupt(format!("asset {s:?}")))
}

pub(crate) fn side_str(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn parse_side(s: &str) -> Result<Side, PersistError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(PersistError::Corrupt(format!("side {s:?}"))),
    }
}

pub(crate) fn kind_str(k: OrderKind) -> &'static str {
    match k {
        OrderKind::Limit => "limit",
        OrderKind::LimitMaker => "limit_maker",
        OrderKind::Market => "market",
    }
}

fn parse_kind(s: &str) -> Result<OrderKind, PersistError> {
    match s {
        "limit" => Ok(OrderKind::Limit),
        "limit_maker" => Ok(OrderKind::LimitMaker),
        "market" => Ok(OrderKind::Market),
        _ => Err(PersistError::Corrupt(format!("order kind {s:?}"))),
    }
}

fn tif_str(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "gtc",
        TimeInForce::Ioc => "ioc",
        TimeInForce::Fok => "fok",
    }
}

fn parse_tif(s: &str) -> Result<TimeInForce, PersistError> {
    match s {
        "gtc" => Ok(TimeInForce::Gtc),
        "ioc" => Ok(TimeInForce::Ioc),
        "fok" => Ok(TimeInForce::Fok),
        _ => Err(PersistError::Corrupt(format!("time in force {s:?}"))),
    }
}

const STATUSES: [OrderStatus; 8] = [
    OrderStatus::New,
    OrderStatus::Sent,
    OrderStatus::Acked,
    OrderStatus::PartiallyFilled,
    OrderStatus::Filled,
    OrderStatus::Cancelled,
    OrderStatus::Rejected,
    OrderStatus::Expired,
];

fn parse_status(s: &str) -> Result<OrderStatus, PersistError> {
    STATUSES
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| PersistError::Corrupt(format!("order status {s:?}")))
}
