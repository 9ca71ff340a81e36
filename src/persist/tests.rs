//! Persistence tests: migration from an empty file, records read back exactly, mode labels,
//! backpressure without loss, and a SIGKILL mid-run losing nothing acknowledged.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Mode;
use crate::risk::{KillReason, Rule};
use crate::runtime::host::{self, HostHandle};
use crate::runtime::{Actor, Clock, Ctx, HostSpec, IdlePolicy, Shutdown};
use crate::types::order::VenueFinal;
use crate::types::{AssetCode, Order, OrderEvent, OrderKind, TimeInForce};
use crate::types::{
    ClientOrderId, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos,
};

use super::schema::{self, SCHEMA_VERSION, TABLES};

mod views;
use super::store::count_rows;
use super::*;

const RUN_MS: u64 = 1_722_000_000_000;
const T0: u64 = 1_722_000_000_000_000_000;

fn temp_db(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mako-persist-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("mako.db")
}

fn info(mode: Mode) -> RunInfo {
    RunInfo {
        mode,
        engine_name: "test".into(),
        config_hash: "abc123".into(),
        started_at: UnixNanos(T0),
        catalog: Default::default(),
    }
}

fn ctx() -> Ctx {
    Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "test",
    }
}

/// Runs the writer on its own host thread; stop with the returned shutdown.
fn spawn_writer(w: PersistWriter) -> (HostHandle, Shutdown) {
    let shutdown = Shutdown::new();
    let spec = HostSpec {
        name: "persist-test",
        core: None,
        idle: IdlePolicy::Park,
        low_priority: true,
        actors: vec![Box::new(w)],
        stats: Arc::default(),
    };
    let h = host::spawn(spec, Clock::live(), shutdown.clone()).unwrap();
    (h, shutdown)
}

fn usdt() -> AssetCode {
    AssetCode::new(b"USDT").unwrap()
}

/// The records a gateway would write over the life of order `i`: every state change, and
/// the fill when it trades. Deterministic, so a parent process can recompute what a killed
/// child wrote.
fn order_script(i: u64) -> Vec<Record> {
    let at = |k: u64| UnixNanos(T0 + i * 1_000 + k);
    let cid = ClientOrderId::mint(RUN_MS, StrategyId((i % 3) as u16), i).unwrap();
    let side = if i.is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let price = Price::from_units(100_00000000 + (i % 7) as i64 * 1_000_000);
    let qty = Qty::from_units(10_000_000 + (i % 5) as i64);
    let mut o = Order::new(
        cid,
        StrategyId((i % 3) as u16),
        InstrumentId((i % 2) as u32),
        side,
        if i.is_multiple_of(6) {
            OrderKind::LimitMaker
        } else {
            OrderKind::Limit
        },
        TimeInForce::Gtc,
        price,
        qty,
        at(0),
    );
    let mut out = vec![Record::Order(o.clone())];
    let step = |o: &mut Order, ev: OrderEvent, out: &mut Vec<Record>| {
        let r = o.apply(&ev);
        if let Some(fill) = r.fill {
            out.push(Record::Fill(FillRecord {
                cid: o.cid,
                strategy: o.strategy,
                instrument: o.instrument,
                fill,
                at: o.updated_at,
            }));
        }
        if r.changed {
            out.push(Record::Order(o.clone()));
        }
    };
    step(&mut o, OrderEvent::Sent { at: at(1) }, &mut out);
    if !i.is_multiple_of(4) {
        step(
            &mut o,
            OrderEvent::Accepted {
                venue_order_id: (9_000_000_000 + i).into(),
                at: at(2),
            },
            &mut out,
        );
    }
    if i.is_multiple_of(3) {
        let half = Qty::from_units(qty.units() / 2);
        step(
            &mut o,
            OrderEvent::Trade {
                venue_order_id: (9_000_000_000 + i).into(),
                trade_id: (50_000 + i).into(),
                last_qty: half,
                last_price: price,
                cum_qty: half,
                cum_quote: Notional::of(price, half),
                fee: Qty::from_units(7 + i as i64),
                fee_asset: usdt(),
                is_maker: i.is_multiple_of(2),
                at: at(3),
            },
            &mut out,
        );
    }
    if i.is_multiple_of(9) {
        step(
            &mut o,
            OrderEvent::Trade {
                venue_order_id: (9_000_000_000 + i).into(),
                trade_id: (60_000 + i).into(),
                last_qty: qty,
                last_price: price,
                cum_qty: qty,
                cum_quote: Notional::of(price, qty),
                fee: Qty::from_units(3),
                fee_asset: AssetCode::new(b"BNB").unwrap(),
                is_maker: false,
                at: at(4),
            },
            &mut out,
        );
    }
    if i.is_multiple_of(5) {
        let ended = OrderEvent::Ended {
            venue_order_id: None,
            kind: VenueFinal::Cancelled,
            cum_qty: o.filled_qty,
            cum_quote: o.filled_quote,
            at: at(5),
        };
        step(&mut o, ended, &mut out);
    }
    out
}

/// The script of orders `1..=n`, flattened in the order a gateway would send it.
fn script(n: u64) -> Vec<Record> {
    (1..=n).flat_map(order_script).collect()
}

/// The gateway's final state after a script: last state per order, and every fill.
fn final_state(records: &[Record]) -> (Vec<Order>, Vec<FillRecord>) {
    let mut orders: Vec<Order> = Vec::new();
    let mut index: HashMap<ClientOrderId, usize> = HashMap::new();
    let mut fills = Vec::new();
    for r in records {
        match r {
            Record::Order(o) => match index.get(&o.cid) {
                Some(&i) => orders[i] = o.clone(),
                None => {
                    index.insert(o.cid, orders.len());
                    orders.push(o.clone());
                }
            },
            Record::Fill(f) => fills.push(*f),
            _ => {}
        }
    }
    (orders, fills)
}

fn sorted(mut v: Vec<Order>) -> Vec<Order> {
    v.sort_by(|a, b| (a.created_at, a.cid.as_str()).cmp(&(b.created_at, b.cid.as_str())));
    v
}

#[test]
fn schema_migrates_from_an_empty_file_and_refuses_a_newer_one() {
    let path = temp_db("schema");
    std::fs::write(&path, b"").unwrap();
    let conn = schema::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for t in TABLES.iter().chain(&schema::CATALOG) {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [t],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "table {t}");
    }
    drop(conn);
    // Reopening an up-to-date database changes nothing.
    let conn = schema::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), SCHEMA_VERSION);
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = schema::open(&path).unwrap_err();
    assert!(
        matches!(err, PersistError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1),
        "{err}"
    );
}

#[test]
fn orders_and_fills_read_back_exactly_as_the_gateway_holds_them() {
    let path = temp_db("exact");
    let mut hub =
        PersistHub::open_path(&path, Duration::from_millis(5), 64, &info(Mode::Live)).unwrap();
    let run = hub.run();
    let mut sink = hub.sink("gateway:test").unwrap();
    let (h, shutdown) = spawn_writer(hub.into_writer());
    let records = script(120);
    for r in &records {
        sink.keep(r.clone()).unwrap();
        let _ = sink.pump();
    }
    assert!(sink.finish(Duration::from_secs(60)), "all committed");
    shutdown.request();
    assert!(h.join());

    let conn = schema::open(&path).unwrap();
    let (want_orders, want_fills) = final_state(&records);
    let got = load_orders(&conn, Mode::Live, RunScope::Run(run.id)).unwrap();
    assert_eq!(got.len(), 120);
    assert_eq!(sorted(got), sorted(want_orders.clone()));
    assert_eq!(
        load_fills(&conn, Mode::Live, RunScope::Run(run.id)).unwrap(),
        want_fills
    );
    let open = load_open_orders(&conn, Mode::Live, RunScope::All).unwrap();
    let want_open: Vec<Order> = want_orders
        .iter()
        .filter(|o| !o.status.is_final())
        .cloned()
        .collect();
    assert!(!want_open.is_empty() && want_open.len() < 120);
    assert_eq!(sorted(open), sorted(want_open));
    let changes = records
        .iter()
        .filter(|r| matches!(r, Record::Order(_)))
        .count() as i64;
    assert_eq!(
        count_rows(&conn, "order_events", Some(Mode::Live)).unwrap(),
        changes,
        "every state change is a row"
    );
    let runs = runs(&conn).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].mode, "live");
    assert!(runs[0].stopped_at.is_some(), "a clean stop is recorded");
}

#[test]
fn paper_rows_carry_the_paper_mode_and_never_load_as_live() {
    let path = temp_db("paper");
    let mut hub =
        PersistHub::open_path(&path, Duration::from_millis(1), 64, &info(Mode::Paper)).unwrap();
    let mut sink = hub.sink("gateway:paper").unwrap();
    let tele = hub.telemetry();
    let mut w = hub.into_writer();
    let mut records = script(10);
    records.push(Record::Risk(RiskEvent {
        action: RiskAction::Rejected(Rule::MaxPosition),
        strategy: Some(StrategyId(1)),
        cid: None,
        detail: "position limit",
        at: UnixNanos(T0),
    }));
    records.push(Record::Risk(RiskEvent {
        action: RiskAction::KillTripped(KillReason::Operator),
        strategy: None,
        cid: None,
        detail: "",
        at: UnixNanos(T0),
    }));
    records.push(Record::Balance(BalanceRecord {
        venue: crate::types::VenueId(0),
        asset: usdt(),
        free: Qty::from_int(1000),
        locked: Qty::from_int(5),
        at: UnixNanos(T0),
    }));
    records.push(Record::RoundTrip(RoundTrip {
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        side: Side::Buy,
        qty: Qty::from_int(1),
        entry_quote: Notional::of(Price::from_int(100), Qty::from_int(1)),
        exit_quote: Notional::of(Price::from_int(101), Qty::from_int(1)),
        pnl: Notional::of(Price::from_int(1), Qty::from_int(1)),
        quote_fees: Qty::from_units(20_000_000),
        opened_at: UnixNanos(T0),
        closed_at: UnixNanos(T0 + 1),
    }));
    records.push(Record::Trade(crate::types::StrategyTrade {
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        opened_at: UnixNanos(T0),
        closed_at: UnixNanos(T0 + 1),
        qty: Qty::from_int(1),
        entry: Some(Price::from_int(100)),
        exit: None,
        pnl: Notional::of(Price::from_int(1), Qty::from_int(1)),
        reason: "max_hold",
        model: None,
        confidence: None,
    }));
    records.push(Record::Funding(crate::persist::FundingRecord {
        venue: crate::types::VenueId(0),
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        qty: Qty::from_int(2),
        mark: Price::from_int(30_000),
        rate: crate::types::FundingRate::parse("0.0001").unwrap(),
        paid: 6 * Notional::SCALE,
        at: UnixNanos(T0),
    }));
    for r in records {
        sink.keep(r).unwrap();
    }
    tele.send(Record::Activity(Activity {
        level: Level::Info,
        source: "engine".into(),
        message: "paper run started".into(),
        at: UnixNanos(T0),
    }));
    tele.send(Record::Band(crate::latency::BandChange {
        venue: crate::types::VenueId(0),
        venue_name: "binance".into(),
        from: 1,
        to: 0,
        from_name: "normal".into(),
        to_name: "aggressive".into(),
        measurement: Some(crate::latency::Measurement::RestRtt),
        statistic_ns: Some(1_500_000),
        at: UnixNanos(T0),
    }));
    let mut snap = crate::latency::LatencySnapshot::default();
    snap.summaries.push(crate::latency::Summary {
        venue: crate::types::VenueId(0),
        measurement: crate::latency::Measurement::FeedLag,
        window: crate::latency::monitor::Stats {
            count: 10,
            p50: 1000,
            p90: 2000,
            p99: 3000,
            p999: 4000,
            p9999: 4000,
            max: 5000,
            mean: 1500.0,
        },
        run: Default::default(),
        last_sample: None,
    });
    tele.send(Record::Latency(Arc::new(snap)));
    let mut c = ctx();
    let last = sink.last_ticket();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sink.is_durable(last) {
        w.poll(&mut c);
        assert!(Instant::now() < deadline, "writer never committed");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Telemetry went in the same batches (queued before the last must-keep poll finished).
    while w.has_pending() {
        w.poll(&mut c);
    }
    let conn = schema::open(&path).unwrap();
    for t in TABLES.iter().filter(|t| **t != "runs") {
        let all = count_rows(&conn, t, None).unwrap();
        assert!(all > 0, "{t} has rows");
        assert_eq!(
            count_rows(&conn, t, Some(Mode::Paper)).unwrap(),
            all,
            "{t}: every row is paper"
        );
    }
    assert!(
        load_open_orders(&conn, Mode::Live, RunScope::All)
            .unwrap()
            .is_empty()
    );
    assert!(
        !load_open_orders(&conn, Mode::Paper, RunScope::All)
            .unwrap()
            .is_empty()
    );
    let bad_rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM fills WHERE run_id NOT IN (SELECT id FROM runs WHERE mode = 'paper')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad_rows, 0);
}

#[test]
fn a_full_queue_refuses_orders_and_loses_nothing() {
    let path = temp_db("backpressure");
    let mut hub = PersistHub::open_path(&path, Duration::ZERO, 4, &info(Mode::Sim)).unwrap();
    let mut sink = hub.sink("gateway:test").unwrap();
    let tele = hub.telemetry();
    let stats = hub.stats();
    let mut w = hub.into_writer();
    let records = script(8);
    assert!(sink.admit_order());
    for r in &records {
        sink.keep(r.clone()).unwrap();
    }
    // Writer not polled yet: 4 queued, the rest held by the sink.
    assert_eq!(sink.backlog_len(), records.len() - 4);
    assert!(!sink.admit_order());
    assert!(!sink.admit_order());
    for k in 0..10 {
        tele.send(Record::Activity(Activity {
            level: Level::Warn,
            source: "t".into(),
            message: format!("line {k}"),
            at: UnixNanos(T0),
        }));
    }
    let c0 = stats.read();
    assert_eq!(c0.orders_refused, 2);
    assert_eq!(c0.backlog as usize, records.len() - 4);
    assert_eq!(c0.queue_depth, 4);
    assert_eq!(
        c0.telemetry_dropped, 6,
        "telemetry over capacity is dropped, counted"
    );
    let mut c = ctx();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sink.is_durable(sink.last_ticket()) {
        w.poll(&mut c);
        let _ = sink.pump();
        assert!(Instant::now() < deadline);
    }
    assert!(sink.admit_order(), "caught up: orders admitted again");
    let c1 = stats.read();
    assert_eq!(c1.records_committed as usize, records.len());
    assert_eq!(c1.backlog, 0);
    assert_eq!(c1.queue_depth, 0);
    assert!(c1.batches >= 2);
    let conn = schema::open(&path).unwrap();
    let (want, fills) = final_state(&records);
    assert_eq!(
        sorted(load_orders(&conn, Mode::Sim, RunScope::All).unwrap()),
        sorted(want)
    );
    assert_eq!(load_fills(&conn, Mode::Sim, RunScope::All).unwrap(), fills);
}

/// Env var naming the database the crash child writes to.
const CHILD_ENV: &str = "MAKO_PERSIST_CRASH_CHILD_DB";

/// Child side of the crash test: writes the script forever, printing every acknowledged
/// ticket, until killed (or 120 s pass, so an orphan cannot live on).
fn crash_child(db: &Path) {
    let mut hub =
        PersistHub::open_path(db, Duration::from_millis(2), 128, &info(Mode::Sim)).unwrap();
    let mut sink = hub.sink("gateway:crash").unwrap();
    let (_h, _shutdown) = spawn_writer(hub.into_writer());
    let start = Instant::now();
    let mut last_ack = 0;
    let mut i = 1;
    while start.elapsed() < Duration::from_secs(120) {
        for r in order_script(i) {
            sink.keep(r).unwrap();
        }
        i += 1;
        let _ = sink.pump();
        let ack = sink.committed().0;
        if ack != last_ack {
            println!("ACK {ack}");
            last_ack = ack;
        }
        if sink.backlog_len() > 0 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    std::process::exit(3);
}

#[test]
fn kill_9_loses_nothing_acknowledged_and_open_orders_load_back() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        crash_child(Path::new(&db));
        return;
    }
    let path = temp_db("crash");
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "persist::tests::kill_9_loses_nothing_acknowledged_and_open_orders_load_back",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    // Let it commit a good number of batches, then kill it mid-stream.
    while acked < 3_000 {
        assert!(Instant::now() < deadline, "child never acknowledged enough");
        match lines.next() {
            Some(Ok(l)) => {
                if let Some(n) = l.strip_prefix("ACK ") {
                    acked = acked.max(n.trim().parse().unwrap());
                }
            }
            _ => panic!("child ended before being killed"),
        }
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    // Acknowledgements printed before the kill are still in the pipe.
    for l in lines.map_while(Result::ok) {
        if let Some(n) = l.strip_prefix("ACK ") {
            acked = acked.max(n.trim().parse().unwrap());
        }
    }

    // Restart: a new run on the same file.
    let mut hub =
        PersistHub::open_path(&path, Duration::from_millis(1), 64, &info(Mode::Sim)).unwrap();
    assert_eq!(hub.run().id, 2, "the crashed run stays; a new one starts");
    let conn = schema::open(&path).unwrap();
    let all_runs = runs(&conn).unwrap();
    assert_eq!(
        all_runs[0].stopped_at, None,
        "the killed run never stopped cleanly"
    );

    // Every acknowledged record is there.
    let n_orders = 1 + acked; // each order has at least one record: enough script
    let full = script(n_orders);
    let acked_records = &full[..acked as usize];
    let (_, want_fills) = final_state(acked_records);
    let got_fills = load_fills(&conn, Mode::Sim, RunScope::Run(1)).unwrap();
    assert!(got_fills.len() >= want_fills.len());
    assert_eq!(&got_fills[..want_fills.len()], &want_fills[..]);
    let stored = load_orders(&conn, Mode::Sim, RunScope::All).unwrap();
    let by_cid: HashMap<ClientOrderId, &Order> = stored.iter().map(|o| (o.cid, o)).collect();
    // Per order, its states in script order; the stored one is the last acknowledged one
    // or a later one (committed after the last acknowledgement the child printed).
    let mut states: HashMap<ClientOrderId, Vec<&Order>> = HashMap::new();
    for r in &full {
        if let Record::Order(o) = r {
            states.entry(o.cid).or_default().push(o);
        }
    }
    let mut last_acked: HashMap<ClientOrderId, usize> = HashMap::new();
    for r in acked_records {
        if let Record::Order(o) = r {
            *last_acked.entry(o.cid).or_insert(0) += 1;
        }
    }
    assert!(last_acked.len() > 100);
    let mut reached_open = 0;
    for (cid, n_acked) in &last_acked {
        let got = by_cid
            .get(cid)
            .unwrap_or_else(|| panic!("acknowledged order {cid} missing"));
        let seq = &states[cid];
        let k = seq
            .iter()
            .position(|s| *s == *got)
            .unwrap_or_else(|| panic!("order {cid}: stored state is not one it had"));
        assert!(
            k + 1 >= *n_acked,
            "order {cid}: stored state older than acknowledged"
        );
        reached_open += usize::from(!got.status.is_final());
    }
    let events: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM order_events WHERE run_id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let acked_changes = acked_records
        .iter()
        .filter(|r| matches!(r, Record::Order(_)))
        .count() as i64;
    assert!(events >= acked_changes, "{events} < {acked_changes}");

    // The non-final orders load back for reconciliation, from the crashed run and overall.
    let open = load_open_orders(&conn, Mode::Sim, RunScope::All).unwrap();
    let want_open: Vec<Order> = stored
        .iter()
        .filter(|o| !o.status.is_final())
        .cloned()
        .collect();
    assert!(open.len() >= reached_open && reached_open > 0);
    assert_eq!(sorted(open.clone()), sorted(want_open));
    assert_eq!(
        load_open_orders(&conn, Mode::Sim, RunScope::Run(1))
            .unwrap()
            .len(),
        open.len()
    );
    assert!(
        load_open_orders(&conn, Mode::Live, RunScope::All)
            .unwrap()
            .is_empty()
    );
    assert!(
        load_open_orders(&conn, Mode::Sim, RunScope::Run(2))
            .unwrap()
            .is_empty()
    );

    // The new run writes on top: an open order reconciled (cancelled) in run 2.
    let mut sink = hub.sink("gateway:restart").unwrap();
    let (h, shutdown) = spawn_writer(hub.into_writer());
    let mut o = open[0].clone();
    o.apply(&OrderEvent::Ended {
        venue_order_id: None,
        kind: VenueFinal::Cancelled,
        cum_qty: o.filled_qty,
        cum_quote: o.filled_quote,
        at: UnixNanos(T0 + 999_999_999),
    });
    sink.keep(Record::Order(o.clone())).unwrap();
    assert!(sink.finish(Duration::from_secs(60)));
    shutdown.request();
    assert!(h.join());
    assert_eq!(
        load_order(&conn, Mode::Sim, &o.cid).unwrap(),
        Some(o.clone())
    );
    let open_after = load_open_orders(&conn, Mode::Sim, RunScope::All).unwrap();
    assert_eq!(open_after.len(), open.len() - 1);
    assert_eq!(
        load_orders(&conn, Mode::Sim, RunScope::Run(2)).unwrap(),
        vec![o],
        "run 2 touched exactly the order it reconciled"
    );
}
