//! Serves the status endpoint and dashboard with sample snapshots, for working on the page
//! without running an engine (`docs/dashboard/` holds screenshots of a real engine, taken
//! by the browser test).
//!
//! `cargo run --example status_demo -- [bind, default 127.0.0.1:8089] [seconds, default 60]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use mako::config::{Mode, StatusConfig};
use mako::latency::monitor::{Stats, VenueBand};
use mako::latency::{LatencySnapshot, Measurement, Summary};
use mako::persist::{FillRecord, PersistHub, RunInfo};
use mako::risk::{KillReason, Rule};
use mako::runtime::host::{self, HostSpec};
use mako::runtime::{Clock, IdlePolicy, Shutdown};
use mako::status::{
    ConnState, QuoteLevel, RiskUpdate, StatusHub, StatusSetup, StatusSources, StatusUpdate,
    StrategyInfo, StrategyState, StrategyUpdate, VenueUpdate,
};
use mako::types::{AssetCode, FillDelta, Order, OrderEvent, OrderKind, TimeInForce};
use mako::types::{
    ClientOrderId, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos, VenueId,
};

fn stats(p50_us: u64) -> Stats {
    Stats {
        count: 1200,
        p50: p50_us * 1_000,
        p90: p50_us * 1_600,
        p99: p50_us * 2_900,
        p999: p50_us * 4_100,
        p9999: p50_us * 5_000,
        max: p50_us * 6_000,
        mean: p50_us as f64 * 1_150.0,
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let bind = args
        .get(1)
        .map_or("127.0.0.1:8089", String::as_str)
        .parse()?;
    let seconds: u64 = args.get(2).map_or(Ok(60), |s| s.parse())?;
    let clock = Clock::live();
    let start = clock.now();
    let dir = std::env::temp_dir().join(format!("mako-status-demo-{}", std::process::id()));
    let mut persist = PersistHub::open_path(
        &dir.join("demo.db"),
        Duration::from_millis(50),
        1024,
        &RunInfo {
            mode: Mode::Paper,
            engine_name: "demo".into(),
            config_hash: "demo".into(),
            started_at: start,
            catalog: Default::default(),
        },
    )?;
    let mut sink = persist.sink("demo")?;
    let setup = StatusSetup {
        run_id: persist.run().id,
        mode: Mode::Paper,
        engine_name: "demo".into(),
        started_at: UnixNanos(start.0 - 3_723_000_000_000),
        venues: vec!["binance".into()],
        instruments: vec!["BTCUSDT".into(), "ETHUSDT".into()],
        strategies: vec![
            StrategyInfo {
                name: "mm-btc".into(),
                kind: "spread".into(),
                venue: VenueId(0),
                instrument: InstrumentId(0),
                params: toml::Table::new(),
            },
            StrategyInfo {
                name: "mm-eth".into(),
                kind: "spread".into(),
                venue: VenueId(0),
                instrument: InstrumentId(1),
                params: toml::Table::new(),
            },
        ],
        instrument_specs: Vec::new(),
    };
    let latency = Arc::new(LatencySnapshot {
        at: start,
        bands: vec![VenueBand {
            venue: VenueId(0),
            venue_name: "binance".into(),
            band: 1,
            band_name: "normal".into(),
            measurement: Some(Measurement::RestRtt),
            statistic_ns: Some(stats(2_100).p99),
        }],
        summaries: [
            (Measurement::FeedLag, 850),
            (Measurement::RestRtt, 2_100),
            (Measurement::OrderAck, 1_900),
            (Measurement::TickToOrder, 9),
        ]
        .into_iter()
        .map(|(m, us)| Summary {
            venue: VenueId(0),
            measurement: m,
            window: stats(us),
            run: stats(us),
            last_sample: Some(start),
        })
        .collect(),
        ..Default::default()
    });
    let config = StatusConfig {
        bind: Some(bind),
        token: None,
        publish_interval: Duration::from_millis(250),
        console_interval: None,
    };
    let hub = StatusHub::new(setup, &config)?.with_sources(StatusSources {
        latency: Some(Box::new(move || Arc::clone(&latency))),
        persist: Some(persist.stats()),
        ..Default::default()
    });
    let addr = hub.local_addr();
    let tx = hub.updates();
    let shutdown = Shutdown::new();
    let h = host::spawn(
        HostSpec {
            name: "status",
            core: None,
            idle: IdlePolicy::Park,
            low_priority: true,
            actors: vec![Box::new(hub.into_actor()), Box::new(persist.into_writer())],
            stats: Arc::default(),
        },
        clock.clone(),
        shutdown.clone(),
    )?;
    println!(
        "dashboard at http://{}/",
        addr.map_or("?".into(), |a| a.to_string())
    );

    let t0 = Instant::now();
    let mut seq = 1;
    let mut messages = 0u64;
    while t0.elapsed() < Duration::from_secs(seconds) {
        let now = clock.now();
        let wobble = (t0.elapsed().as_millis() % 10_000) as i64;
        messages += 4_321;
        let mut v = VenueUpdate::new(VenueId(0), now);
        v.market_data = Some(ConnState::Connected);
        v.orders = Some(ConnState::Connected);
        v.messages = Some(messages);
        v.resyncs = Some(1);
        v.last_message = Some(now);
        v.orders_by_state = Some([0, 0, 3, 1, 42, 57, 2, 0]);
        v.fills = Some(44);
        let _ = tx.send(StatusUpdate::Venue(v));
        for (i, (mid, pos)) in [
            (Price::parse("60012.5")?, 1_500_000i64),
            (Price::parse("3001.2")?, -25_000_000),
        ]
        .into_iter()
        .enumerate()
        {
            let half = Price::from_units(mid.units() / 2_000).floor_to(Price::parse("0.01")?);
            let _ = tx.send(StatusUpdate::Strategy(StrategyUpdate {
                strategy: StrategyId(i as u16),
                state: if i == 0 {
                    StrategyState::Running
                } else {
                    StrategyState::Paused
                },
                position: Qty::from_units(pos),
                realized_pnl: 18.75 - i as f64 * 4.0,
                total_pnl: 21.4 - i as f64 * 9.0 + wobble as f64 / 5_000.0,
                trades: 31 - i as u64 * 18,
                open_orders: if i == 0 { 2 } else { 0 },
                bid: (i == 0).then(|| QuoteLevel {
                    price: Price::from_units(mid.units() - half.units()),
                    qty: Qty::parse("0.004").unwrap_or(Qty::ZERO),
                }),
                ask: (i == 0).then(|| QuoteLevel {
                    price: Price::from_units(mid.units() + half.units()),
                    qty: Qty::parse("0.004").unwrap_or(Qty::ZERO),
                }),
                mid: Some(mid),
                round_trips: 0,
                last_fill: None,
                prints: 0,
                prints_lost: 0,
                decisions: 0,
                entries_stopped: None,
                skipped: 0,
                at: now,
            }));
        }
        let mut rejections = [0u64; Rule::ALL.len()];
        rejections[Rule::MaxPosition as usize] = 3;
        rejections[Rule::OrderRate as usize] = 1;
        let _ = tx.send(StatusUpdate::Risk(RiskUpdate {
            venue: VenueId(0),
            daily_pnl: 12.4 + wobble as f64 / 5_000.0,
            trades_today: 44,
            kill_switch: false,
            kill_reason: KillReason::None,
            rejections,
            at: now,
        }));
        if seq < 12 {
            let side = if seq % 2 == 0 { Side::Buy } else { Side::Sell };
            let price = Price::parse(if side == Side::Buy {
                "60010.1"
            } else {
                "60014.9"
            })?;
            let qty = Qty::parse("0.004")?;
            let mut o = Order::new(
                ClientOrderId::mint(start.as_millis(), StrategyId(0), seq)?,
                StrategyId(0),
                InstrumentId(0),
                side,
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                price,
                qty,
                now,
            );
            o.apply(&OrderEvent::Accepted {
                venue_order_id: (1000 + seq).into(),
                at: now,
            });
            if seq < 10 {
                let fill = FillDelta {
                    fees_complete: true,
                    side,
                    qty,
                    quote: Notional::of(price, qty),
                    trade_id: Some((5000 + seq).into()),
                    fee: Qty::ZERO,
                    fee_asset: AssetCode::new(b"USDT").unwrap_or_default(),
                    is_maker: true,
                    paper: false,
                };
                let rec = FillRecord {
                    cid: o.cid,
                    strategy: o.strategy,
                    instrument: o.instrument,
                    fill,
                    at: now,
                };
                let _ = tx.send(StatusUpdate::Fill(rec));
                let _ = sink.keep(mako::persist::Record::Fill(rec));
                o.apply(&OrderEvent::Trade {
                    venue_order_id: (1000 + seq).into(),
                    trade_id: (5000 + seq).into(),
                    last_qty: qty,
                    last_price: price,
                    cum_qty: qty,
                    cum_quote: Notional::of(price, qty),
                    fee: Qty::ZERO,
                    fee_asset: fill.fee_asset,
                    is_maker: true,
                    at: now,
                });
            }
            let _ = sink.keep(mako::persist::Record::Order(o.clone()));
            let _ = tx.send(StatusUpdate::Order(o));
            seq += 1;
        }
        let _ = sink.pump();
        std::thread::sleep(Duration::from_millis(200));
    }
    sink.finish(Duration::from_secs(5));
    shutdown.request();
    h.join();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
