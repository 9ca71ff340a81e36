//! The telemetry actor driven by hand (manual clock) against a real writer and database:
//! every kind of event becomes its row with the run's mode, notices reach the notifier's
//! inbox, and drops are counted and logged.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use super::*;
use crate::latency::Measurement;
use crate::persist::{FillRecord, PersistHub, RunInfo};
use crate::risk::Rule;
use crate::runtime::{Clock, FullPolicy, ManualClock, Shutdown, bounded};
use crate::types::FillDelta;
use crate::types::{ClientOrderId, InstrumentId, Notional, Price, Side, StrategyId};
use crate::venue::order::Balance;

const T0: u64 = 1_722_000_000_000_000_000;
const MS: u64 = 1_000_000;

fn temp_db(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mako-telemetry-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("mako.db")
}

fn ctx() -> (Ctx, ManualClock) {
    let (clock, hand) = Clock::manual(UnixNanos(T0));
    let c = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "test",
    };
    (c, hand)
}

fn asset(s: &str) -> AssetCode {
    AssetCode::new(s.as_bytes()).unwrap()
}

fn fill(side: Side, qty: i64, price: i64, at: u64) -> GatewayEvent {
    let q = Qty::from_int(qty);
    GatewayEvent::Fill(FillRecord {
        cid: ClientOrderId::mint(1, StrategyId(0), at).unwrap(),
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        fill: FillDelta {
            side,
            qty: q,
            quote: Price::from_int(price).notional(q),
            trade_id: Some(at.into()),
            fee: Qty::from_units(5_000),
            fee_asset: asset("USDT"),
            is_maker: true,
            fees_complete: true,
            paper: false,
        },
        at: UnixNanos(T0 + at),
    })
}

fn balance(a: &str, free: i64, at: u64) -> GatewayEvent {
    GatewayEvent::Balance {
        venue: VenueId(0),
        balance: Balance {
            asset: asset(a),
            free: Qty::from_int(free),
            locked: Qty::ZERO,
        },
        at: UnixNanos(T0 + at),
    }
}

fn strings(db: &Connection, sql: &str) -> Vec<String> {
    let mut st = db.prepare(sql).unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn every_event_becomes_its_row_with_the_runs_mode() {
    let path = temp_db("rows");
    let info = RunInfo {
        mode: Mode::Paper,
        engine_name: "test".into(),
        config_hash: "abc".into(),
        started_at: UnixNanos(T0),
        catalog: Default::default(),
    };
    let mut hub = PersistHub::open_path(&path, Duration::from_millis(1), 256, &info).unwrap();
    let run_id = hub.run().id;
    let sink = hub.sink("telemetry").unwrap();
    let writer = hub.into_writer();
    let done = Arc::new(AtomicBool::new(false));
    let stop_writer = Arc::clone(&done);
    let writer_thread = std::thread::spawn(move || {
        let mut w = writer;
        let mut c = Ctx {
            clock: Clock::live(),
            shutdown: Shutdown::new(),
            host: "writer",
        };
        while !stop_writer.load(Ordering::Relaxed) {
            if w.poll(&mut c) == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        w.stop(&mut c);
    });

    let (events_tx, events) = bounded("events", 8, FullPolicy::DropNewest);
    let (bands_tx, bands) = bounded("bands", 8, FullPolicy::DropNewest);
    let (trades_tx, trades) = bounded("trades", 8, FullPolicy::Backpressure);
    let (notify_tx, notices) = bounded("notices", 64, FullPolicy::DropNewest);
    let kill = KillSwitch::default();
    let note = StopNote::new(Some(notify_tx.clone()));
    let sol = crate::types::Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "SOLUSDT",
        "SOL",
        "USDT",
        Price::parse("0.01").unwrap(),
        Qty::parse("0.001").unwrap(),
    )
    .unwrap();
    let mut t = Telemetry::new(TelemetrySpec {
        mode: Mode::Paper,
        run_id: Some(run_id),
        venues: vec!["binance".into()],
        instruments: vec![sol],
        events,
        gateways: 1,
        band_changes: Some(bands),
        trades: Some(trades),
        latency: None,
        latency_every: Duration::from_secs(1),
        kill: kill.clone(),
        feeds: Vec::new(),
        persist: Some(sink),
        notify: Some(notify_tx),
        stop_note: note.clone(),
        status: None,
    });
    let (mut c, hand) = ctx();
    t.start(&mut c).unwrap();

    let send = |ev: GatewayEvent| events_tx.send(ev).unwrap();
    send(fill(Side::Buy, 2, 100, 1));
    send(fill(Side::Sell, 2, 110, 2));
    send(balance("SOL", 10, 3));
    send(balance("SOL", 10, 4)); // unchanged: not stored again
    send(balance("USDT", 500, 5));
    send(GatewayEvent::RiskRejected {
        strategy: StrategyId(0),
        cid: ClientOrderId::mint(1, StrategyId(0), 9).unwrap(),
        rule: Rule::MaxPosition,
        at: UnixNanos(T0 + 6),
    });
    send(GatewayEvent::Connected {
        venue: VenueId(0),
        at: UnixNanos(T0 + 7),
    });
    send(GatewayEvent::Failed {
        venue: VenueId(0),
        code: -1003,
        message: "too many requests".into(),
        at: UnixNanos(T0 + 8),
    });
    bands_tx
        .send(BandChange {
            venue: VenueId(0),
            venue_name: "binance".into(),
            from: 1,
            to: 0,
            from_name: "slow".into(),
            to_name: "fast".into(),
            measurement: Some(Measurement::OrderAck),
            statistic_ns: Some(250_000),
            at: UnixNanos(T0 + 9),
        })
        .unwrap();
    trades_tx
        .send(crate::types::StrategyTrade {
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            opened_at: UnixNanos(T0 + 1),
            closed_at: UnixNanos(T0 + 2),
            qty: Qty::parse("2").unwrap(),
            entry: Some(Price::parse("100").unwrap()),
            exit: Some(Price::parse("110").unwrap()),
            pnl: Notional(20 * Notional::SCALE),
            reason: "take_profit",
            model: Some(std::sync::Arc::from("ab12")),
            confidence: Some(0.75),
        })
        .unwrap();
    assert!(t.poll(&mut c) >= 10);
    // The closing sell's fee learned after its trip was stored (0.0003 quote): the stored
    // trip's fees grow by it.
    send(GatewayEvent::QuoteFee {
        cid: ClientOrderId::mint(1, StrategyId(0), 2).unwrap(),
        in_quote: Qty::from_units(30_000),
        at: UnixNanos(T0 + 10),
    });

    // The kill switch is read, not sent: the next watch sees it.
    kill.trip(KillReason::DailyLoss);
    hand.advance(200 * MS);
    t.poll(&mut c);
    // A burst the channel cannot hold: the rest is dropped, counted and logged.
    for i in 0..12 {
        let _ = events_tx.send(GatewayEvent::Connected {
            venue: VenueId(0),
            at: UnixNanos(T0 + 100 + i),
        });
    }
    assert_eq!(t.events_dropped(), 4);
    hand.advance(200 * MS);
    while t.poll(&mut c) > 0 {}
    send(GatewayEvent::Stopped {
        venue: VenueId(0),
        at: UnixNanos(T0 + 500 * MS),
    });
    note.stopping("test over");
    t.stop(&mut c);
    done.store(true, Ordering::Relaxed);
    writer_thread.join().unwrap();

    let db = Connection::open(&path).unwrap();
    let trade: (i64, i64, String, String, String, f64) = db
        .query_row(
            "SELECT qty_e8, exit_e8, pnl_e16, reason, model, confidence FROM strategy_trades",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        trade,
        (
            200_000_000,
            11_000_000_000,
            (20i128 * 10i128.pow(16)).to_string(),
            "take_profit".into(),
            "ab12".into(),
            0.75
        )
    );
    for table in [
        "strategy_trades",
        "round_trips",
        "balances",
        "risk_events",
        "band_changes",
        "activity",
    ] {
        assert!(
            count(&db, &format!("SELECT count(*) FROM {table}")) > 0,
            "{table} empty"
        );
        let other = count(
            &db,
            &format!("SELECT count(*) FROM {table} WHERE mode != 'paper' OR run_id != {run_id}"),
        );
        assert_eq!(other, 0, "{table}");
    }
    let (qty, pnl, fees): (i64, String, i64) = db
        .query_row(
            "SELECT qty_e8, pnl_e16, quote_fees_e8 FROM round_trips",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(qty, Qty::from_int(2).units());
    assert_eq!(pnl, (20 * Notional::SCALE).to_string());
    assert_eq!(fees, 10_000 + 30_000);
    assert_eq!(
        strings(&db, "SELECT asset FROM balances ORDER BY id"),
        ["SOL", "USDT"]
    );
    assert_eq!(
        strings(
            &db,
            "SELECT action || ':' || rule FROM risk_events ORDER BY id"
        ),
        ["rejected:max_position", "kill_tripped:daily_loss"]
    );
    assert_eq!(
        strings(&db, "SELECT from_band || '>' || to_band FROM band_changes"),
        ["slow>fast"]
    );
    let activity = strings(
        &db,
        "SELECT source || ': ' || message FROM activity ORDER BY id",
    );
    let has = |s: &str| activity.iter().any(|a| a.contains(s));
    assert!(has("engine: engine started (mode paper"), "{activity:#?}");
    assert!(has("gateway:binance: order connection up"), "{activity:#?}");
    assert!(
        has("gateway:binance: request failed: -1003 too many requests"),
        "{activity:#?}"
    );
    assert!(
        has("risk: kill switch tripped: daily_loss"),
        "{activity:#?}"
    );
    assert!(has("telemetry: 4 gateway events dropped"), "{activity:#?}");
    assert!(has("gateway:binance: stopped"), "{activity:#?}");
    assert_eq!(
        activity.last().map(String::as_str),
        Some("engine: engine stopped: test over")
    );

    let mut got = Vec::new();
    while let Some(n) = notices.try_recv() {
        got.push(n);
    }
    let kinds: Vec<&str> = got
        .iter()
        .map(|n| match n {
            Notice::Started { .. } => "started",
            Notice::Stopped { .. } => "stopped",
            Notice::KillSwitch(_) => "kill",
            Notice::Fill(_) => "fill",
            Notice::Band(_) => "band",
            Notice::RiskRejected { .. } => "risk",
            Notice::EntriesStopped { .. } => "entries_stopped",
            Notice::Error(_) => "error",
            Notice::Operator(_) => "operator",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "started", "fill", "fill", "risk", "error", "band", "kill", "stopped"
        ]
    );
    assert_eq!(got[0], Notice::Started { run_id });
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

#[test]
fn the_first_stop_reason_wins_and_is_told_once() {
    let (tx, rx) = bounded("n", 4, FullPolicy::DropNewest);
    let note = StopNote::new(Some(tx));
    assert_eq!(note.reason(), "stopped");
    note.stopping("signal");
    note.stopping("run time over");
    assert_eq!(note.clone().reason(), "signal");
    assert_eq!(rx.try_recv(), Some(Notice::Stopped { reason: "signal" }));
    assert_eq!(rx.try_recv(), None);
}
