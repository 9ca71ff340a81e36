//! The readable records: schema migrations that bring older databases to the catalog and
//! the exact views, and the views' names and decimal text on rows with known answers.

use super::*;

#[test]
fn a_version_1_database_gains_the_later_tables_and_keeps_its_rows() {
    let path = temp_db("schema-v1");
    let conn = schema::open(&path).unwrap();
    // Back to what a version-1 build left: no strategy_trades (v2), no catalog or views
    // (v3), user_version 1, one run.
    conn.execute_batch(
        "DROP VIEW orders_view; DROP VIEW fills_view; DROP VIEW round_trips_view;
         DROP VIEW strategy_trades_view; DROP TABLE run_venues; DROP TABLE run_instruments;
         DROP TABLE run_strategies; DROP TABLE strategy_trades; DROP VIEW funding_view;
         DROP TABLE funding; DROP VIEW instruments_view; ALTER TABLE fills DROP COLUMN price_e8;
         PRAGMA user_version = 1;
         INSERT INTO runs (mode, engine_name, config_hash, version, started_at)
         VALUES ('paper', 'old', 'h', '0', 1);
         INSERT INTO fills (run_id, mode, cid, strategy, instrument, side, qty_e8, quote_e16,
             fee_e8, fee_asset, is_maker, fees_complete, at)
         VALUES (1, 'paper', 'c1', 0, 0, 'sell', 150000000, '927001800000000000000', 0, '',
             1, 1, 1);",
    )
    .unwrap();
    drop(conn);
    let conn = schema::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), SCHEMA_VERSION);
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('strategy_trades',
             'run_venues', 'run_instruments', 'run_strategies', 'orders_view', 'fills_view',
             'round_trips_view', 'strategy_trades_view', 'funding', 'funding_view')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let runs: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM runs WHERE engine_name = 'old'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((tables, runs), (10, 1));
    // The old fill's quote (1.5 at 61800.12: wider than SQLite's integers) got its exact price.
    let price: String = conn
        .query_row("SELECT price FROM fills_view", [], |r| r.get(0))
        .unwrap();
    assert_eq!(price, "61800.12");
}

/// A version-4 database (views printing 10^-16 amounts under 1 too large, no catalog grid,
/// fills without a price) migrates to version 5: its views are recreated and print exactly.
#[test]
fn a_version_4_database_gets_the_exact_views() {
    let path = temp_db("schema-v4");
    let conn = schema::open(&path).unwrap();
    conn.execute_batch(
        "DROP VIEW instruments_view; DROP VIEW fills_view; DROP VIEW round_trips_view;
         ALTER TABLE fills DROP COLUMN price_e8;
         ALTER TABLE run_instruments DROP COLUMN kind;
         ALTER TABLE run_instruments DROP COLUMN qty_unit;
         ALTER TABLE run_instruments DROP COLUMN contract_size_e8;
         ALTER TABLE run_instruments DROP COLUMN settle;
         ALTER TABLE run_instruments DROP COLUMN tick_e8;
         ALTER TABLE run_instruments DROP COLUMN lot_e8;
         ALTER TABLE run_instruments DROP COLUMN price_scale;
         ALTER TABLE run_instruments DROP COLUMN qty_scale;
         ALTER TABLE run_instruments DROP COLUMN quote_scale;
         -- What version 4 printed: the fraction not zero-padded.
         CREATE VIEW round_trips_view AS SELECT rtrim(rtrim('.' || substr(pnl_e16, -16), '0'),
             '.') AS pnl FROM round_trips;
         CREATE VIEW fills_view AS SELECT id FROM fills;
         PRAGMA user_version = 4;
         INSERT INTO runs (mode, engine_name, config_hash, version, started_at)
         VALUES ('sim', 'old', 'h', '0', 1);
         INSERT INTO round_trips (run_id, mode, strategy, instrument, side, qty_e8,
             entry_quote_e16, exit_quote_e16, pnl_e16, quote_fees_e8, opened_at, closed_at)
         VALUES (1, 'sim', 0, 0, 'buy', 1, '1', '2', '-3', 0, 1, 2);",
    )
    .unwrap();
    let old: String = conn
        .query_row("SELECT pnl FROM round_trips_view", [], |r| r.get(0))
        .unwrap();
    assert_eq!(old, ".-3", "the stand-in for version 4's view misprints");
    drop(conn);
    let conn = schema::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), SCHEMA_VERSION);
    let row: (String, String, String) = conn
        .query_row(
            "SELECT entry_quote, exit_quote, pnl FROM round_trips_view",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "0.0000000000000001".to_owned(),
            "0.0000000000000002".to_owned(),
            "-0.0000000000000003".to_owned()
        )
    );
}

/// The views read as names and decimal text: prices, quantities, fees and PnL exactly as
/// mako holds them (negative and sub-unit values included), times as UTC.
#[test]
fn the_views_read_as_names_and_decimal_text() {
    let path = temp_db("views");
    let conn = schema::open(&path).unwrap();
    let mut run_info = info(Mode::Paper);
    run_info.catalog = Catalog {
        venues: vec![("bn".into(), "binance-spot".into())],
        instruments: vec![InstrumentRow::spot(
            0,
            "BTCUSDT",
            "BTC",
            "USDT",
            Price::parse("0.01").unwrap(),
            Qty::parse("0.00001").unwrap(),
        )],
        strategies: vec![("mm".into(), "spread".into(), 0, 0)],
    };
    let run = store::start_run(&conn, &run_info).unwrap();
    let price = Price::parse("61800.12").unwrap();
    let qty = Qty::parse("0.0005").unwrap();
    let cid = ClientOrderId::mint(RUN_MS, StrategyId(0), 1).unwrap();
    let o = Order::new(
        cid,
        StrategyId(0),
        InstrumentId(0),
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        price,
        qty,
        UnixNanos(T0 + 1_000_000),
    );
    store::insert(&conn, run, &Record::Order(o)).unwrap();
    let fill = crate::types::FillDelta {
        side: Side::Buy,
        qty,
        quote: price.notional(qty),
        trade_id: None,
        fee: Qty::parse("0.00000045").unwrap(),
        fee_asset: AssetCode::new(b"BTC").unwrap(),
        is_maker: true,
        fees_complete: true,
        paper: true,
    };
    store::insert(
        &conn,
        run,
        &Record::Fill(FillRecord {
            cid,
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            fill,
            at: UnixNanos(T0 + 2_000_000),
        }),
    )
    .unwrap();
    store::insert(
        &conn,
        run,
        &Record::RoundTrip(RoundTrip {
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            side: Side::Buy,
            qty,
            entry_quote: price.notional(qty),
            exit_quote: Price::parse("61799.12").unwrap().notional(qty),
            pnl: Notional(-5_000_000_000_000_000),
            quote_fees: Qty::parse("0.0123").unwrap(),
            opened_at: UnixNanos(T0),
            closed_at: UnixNanos(T0 + 1_000_000_000),
        }),
    )
    .unwrap();
    // A short of 0.5 received 1.5450003 at a negative rate.
    store::insert(
        &conn,
        run,
        &Record::Funding(crate::persist::FundingRecord {
            venue: crate::types::VenueId(0),
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            qty: Qty::parse("0.5").unwrap(),
            mark: price,
            rate: crate::types::FundingRate::from_units(-5_000),
            paid: -15_450_003 * Notional::SCALE / 10_000_000,
            at: UnixNanos(T0 + 2_000_000_000),
        }),
    )
    .unwrap();
    let text = |sql: &str| -> Vec<String> {
        conn.query_row(sql, [], |r| {
            (0..r.as_ref().column_count())
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        other => format!("{other:?}"),
                    })
                })
                .collect()
        })
        .unwrap()
    };
    assert_eq!(
        text(
            "SELECT venue, symbol, strategy, side, price, qty, filled_qty, filled_quote, created_at FROM orders_view"
        ),
        [
            "bn",
            "BTCUSDT",
            "mm",
            "buy",
            "61800.12",
            "0.0005",
            "0",
            "0",
            "2024-07-26T13:20:00.001Z"
        ]
    );
    assert_eq!(
        text(
            "SELECT venue, symbol, strategy, qty, quote, price, fee, fee_asset, at FROM fills_view"
        ),
        [
            "bn",
            "BTCUSDT",
            "mm",
            "0.0005",
            "30.90006",
            "61800.12",
            "0.00000045",
            "BTC",
            "2024-07-26T13:20:00.002Z"
        ]
    );
    assert_eq!(
        text(
            "SELECT strategy, qty, entry_quote, exit_quote, pnl, quote_fees, closed_at FROM round_trips_view"
        ),
        [
            "mm",
            "0.0005",
            "30.90006",
            "30.89956",
            "-0.5",
            "0.0123",
            "2024-07-26T13:20:01.000Z"
        ]
    );
    assert_eq!(
        text("SELECT venue, symbol, strategy, qty, mark, rate, paid, at FROM funding_view"),
        [
            "bn",
            "BTCUSDT",
            "mm",
            "0.5",
            "61800.12",
            "-0.00005",
            "-1.5450003",
            "2024-07-26T13:20:02.000Z"
        ]
    );
    assert_eq!(
        text(
            "SELECT venue, symbol, kind, qty_unit, contract_size, settle, tick, lot, price_scale, qty_scale, quote_scale FROM instruments_view"
        ),
        [
            "bn", "BTCUSDT", "spot", "base", "1", "USDT", "0.01", "0.00001", "8", "8", "16"
        ]
    );
    for v in schema::VIEWS {
        let n: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {v}"), [], |r| r.get(0))
            .unwrap();
        assert!(n <= 1, "{v}");
    }
    // Every example query of docs/database.md runs; the open-orders one finds the order.
    let doc = include_str!("../../../docs/database.md");
    let queries: Vec<&str> = doc
        .split("```sql\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(queries.len(), 6);
    for q in &queries {
        let mut st = conn.prepare(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let rows = st.query_map([], |_| Ok(())).unwrap().count();
        if q.contains("status IN") {
            assert_eq!(rows, 1, "{q}");
        }
    }
    let pnl: f64 = conn.query_row(queries[0], [], |r| r.get(3)).unwrap();
    assert!((pnl - (-0.5 - 0.0123)).abs() < 1e-12, "{pnl}");
}
