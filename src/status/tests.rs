//! Status endpoint tests against the running server with a real HTTP client: every
//! endpoint's JSON shape, Prometheus text checked by a parser, control refused without or
//! with a wrong token and routed with the right one, malformed requests answered 4xx while
//! the server keeps serving.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::{Mode, SecretSource, StatusConfig};
use crate::latency::monitor::{Stats, VenueBand};
use crate::latency::{LatencySnapshot, Measurement, Summary};
use crate::persist::FillRecord;
use crate::risk::{KillReason, KillSwitch, Rule};
use crate::runtime::host::{self, HostHandle};
use crate::runtime::{Clock, HostSpec, IdlePolicy, Rx, Shutdown, Tx};
use crate::types::{AssetCode, FillDelta, Order, OrderEvent, OrderKind, TimeInForce};
use crate::types::{
    ClientOrderId, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos, VenueId,
};

use super::*;

const TOKEN: &str = "s3cret-status-token";
const T0: u64 = 1_722_000_000_000_000_000;

fn setup() -> StatusSetup {
    StatusSetup {
        run_id: 42,
        mode: Mode::Paper,
        engine_name: "test-engine".into(),
        started_at: UnixNanos(T0),
        venues: vec!["binance".into(), "sim\"x".into()],
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
        instrument_specs: vec![
            crate::types::Instrument::new(
                InstrumentId(0),
                VenueId(0),
                "BTCUSDT",
                "BTC",
                "USDT",
                Price::parse("0.01").unwrap(),
                Qty::parse("0.00001").unwrap(),
            )
            .unwrap(),
        ],
    }
}

fn token_file(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mako-status-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn latency_snapshot() -> Arc<LatencySnapshot> {
    let stats = Stats {
        count: 100,
        p50: 1_000_000,
        p90: 2_000_000,
        p99: 3_000_000,
        p999: 4_000_000,
        p9999: 4_500_000,
        max: 5_000_000,
        mean: 1_200_000.0,
    };
    Arc::new(LatencySnapshot {
        at: UnixNanos(T0 + 5),
        bands: vec![VenueBand {
            venue: VenueId(0),
            venue_name: "binance".into(),
            band: 1,
            band_name: "normal".into(),
            measurement: Some(Measurement::RestRtt),
            statistic_ns: Some(3_000_000),
        }],
        summaries: vec![Summary {
            venue: VenueId(0),
            measurement: Measurement::RestRtt,
            window: stats,
            run: stats,
            last_sample: Some(UnixNanos(T0 + 4)),
        }],
        ..Default::default()
    })
}

struct Running {
    addr: SocketAddr,
    updates: Tx<StatusUpdate>,
    control: Rx<ControlCommand>,
    kill: KillSwitch,
    host: Option<HostHandle>,
    shutdown: Shutdown,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.request();
        if let Some(h) = self.host.take() {
            h.join();
        }
    }
}

fn start(token: Option<SecretSource>) -> Running {
    let config = StatusConfig {
        bind: Some("127.0.0.1:0".parse().unwrap()),
        token,
        publish_interval: Duration::from_millis(20),
        console_interval: None,
    };
    let kill = KillSwitch::default();
    let snap = latency_snapshot();
    let hub = StatusHub::new(setup(), &config)
        .unwrap()
        .with_kill_switch(kill.clone())
        .with_sources(StatusSources {
            latency: Some(Box::new(move || Arc::clone(&snap))),
            ..Default::default()
        });
    let addr = hub.local_addr().unwrap();
    let updates = hub.updates();
    let control = hub.control();
    let shutdown = Shutdown::new();
    let spec = HostSpec {
        name: "status-test",
        core: None,
        idle: IdlePolicy::Park,
        low_priority: true,
        actors: vec![Box::new(hub.into_actor())],
        stats: Arc::default(),
    };
    let host = host::spawn(spec, Clock::live(), shutdown.clone()).unwrap();
    Running {
        addr,
        updates,
        control,
        kill,
        host: Some(host),
        shutdown,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

/// `(status, content type, body)`.
fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut r = agent().get(&format!("http://{addr}{path}")).call().unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        r.status().as_u16(),
        ct,
        r.body_mut().read_to_string().unwrap(),
    )
}

fn post(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, Value) {
    let mut req = agent().post(&format!("http://{addr}{path}"));
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let mut r = req.send_empty().unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap(),
    )
}

/// A PUT or DELETE without a token: its status.
fn call(addr: SocketAddr, method: &str, path: &str) -> u16 {
    let url = format!("http://{addr}{path}");
    let r = match method {
        "PUT" => agent().put(&url).send("{}"),
        _ => agent().delete(&url).call(),
    };
    r.map(|r| r.status().as_u16()).unwrap_or(0)
}

fn json(addr: SocketAddr, path: &str) -> Value {
    let (status, ct, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(ct, "application/json", "{path}");
    serde_json::from_str(&body).unwrap()
}

/// Waits (generously) until `f` holds of `/status`.
fn wait_status(addr: SocketAddr, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = json(addr, "/status");
        if f(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn order(seq: u64, strategy: u16) -> Order {
    Order::new(
        ClientOrderId::mint(1_722_000_000_000, StrategyId(strategy), seq).unwrap(),
        StrategyId(strategy),
        InstrumentId(u32::from(strategy)),
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::parse("60000.5").unwrap(),
        Qty::parse("0.002").unwrap(),
        UnixNanos(T0 + seq),
    )
}

fn feed_engine_state(tx: &Tx<StatusUpdate>) {
    let mut v = VenueUpdate::new(VenueId(0), UnixNanos(T0 + 10));
    v.market_data = Some(ConnState::Connected);
    v.orders = Some(ConnState::Connected);
    v.messages = Some(12_345);
    v.resyncs = Some(2);
    v.malformed = Some(3);
    v.orders_by_state = Some([0, 0, 1, 1, 3, 4, 1, 0]);
    v.fills = Some(7);
    v.balances = Some(vec![crate::venue::order::Balance {
        asset: crate::types::order::AssetCode::new(b"USDT").unwrap(),
        free: crate::types::Qty::parse("950.5").unwrap(),
        locked: crate::types::Qty::parse("49.5").unwrap(),
    }]);
    tx.send(StatusUpdate::Venue(v)).unwrap();
    tx.send(StatusUpdate::Strategy(StrategyUpdate {
        strategy: StrategyId(1),
        state: StrategyState::Running,
        position: Qty::from_units(-1_500_000),
        realized_pnl: 12.5,
        total_pnl: 10.25,
        trades: 9,
        open_orders: 2,
        bid: Some(QuoteLevel {
            price: Price::parse("3000.1").unwrap(),
            qty: Qty::parse("0.5").unwrap(),
        }),
        ask: None,
        mid: Some(Price::parse("3001").unwrap()),
        round_trips: 0,
        last_fill: None,
        prints: 0,
        prints_lost: 0,
        decisions: 0,
        entries_stopped: Some("max_daily_loss reached"),
        skipped: 3,
        at: UnixNanos(T0 + 11),
    }))
    .unwrap();
    let mut rejections = [0u64; Rule::ALL.len()];
    rejections[Rule::MaxPosition as usize] = 3;
    tx.send(StatusUpdate::Risk(RiskUpdate {
        venue: VenueId(0),
        daily_pnl: -4.5,
        trades_today: 9,
        kill_switch: false,
        kill_reason: KillReason::None,
        rejections,
        at: UnixNanos(T0 + 12),
    }))
    .unwrap();
    let open = order(1, 0);
    let mut done = order(2, 1);
    done.apply(&OrderEvent::Accepted {
        venue_order_id: 77.into(),
        at: UnixNanos(T0 + 20),
    });
    done.apply(&OrderEvent::Ended {
        venue_order_id: None,
        kind: crate::types::order::VenueFinal::Cancelled,
        cum_qty: Qty::ZERO,
        cum_quote: Notional::default(),
        at: UnixNanos(T0 + 21),
    });
    tx.send(StatusUpdate::Order(open)).unwrap();
    tx.send(StatusUpdate::Order(order(2, 1))).unwrap();
    tx.send(StatusUpdate::Order(done)).unwrap();
    let qty = Qty::parse("0.002").unwrap();
    tx.send(StatusUpdate::Fill(FillRecord {
        cid: order(3, 0).cid,
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        fill: FillDelta {
            fees_complete: true,
            paper: false,
            side: Side::Sell,
            qty,
            quote: Notional::of(Price::parse("60001").unwrap(), qty),
            trade_id: Some(555.into()),
            fee: Qty::parse("0.12").unwrap(),
            fee_asset: AssetCode::new(b"USDT").unwrap(),
            is_maker: true,
        },
        at: UnixNanos(T0 + 30),
    }))
    .unwrap();
}

fn keys(v: &Value) -> HashSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn has_all(v: &Value, want: &[&str], what: &str) {
    let k = keys(v);
    for w in want {
        assert!(k.contains(w), "{what}: missing {w} in {v}");
    }
}

const HEADER: [&str; 7] = [
    "run_id",
    "mode",
    "mode_label",
    "engine",
    "version",
    "uptime_s",
    "generated_at_ns",
];

#[test]
fn every_endpoint_serves_its_shape_with_run_and_mode() {
    let s = start(Some(SecretSource::File(token_file("shape"))));
    feed_engine_state(&s.updates);
    let st = wait_status(s.addr, "the fill", |v| {
        v["recent_trades"].as_array().is_some_and(|a| !a.is_empty())
    });
    has_all(&st, &HEADER, "/status");
    has_all(
        &st,
        &[
            "venues",
            "strategies",
            "risk",
            "open_orders",
            "open_orders_count",
            "recent_trades",
            "latency",
            "persistence",
            "notifications",
            "queues",
            "hosts",
        ],
        "/status",
    );
    assert_eq!(st["run_id"], 42);
    assert_eq!(st["mode"], "paper");
    assert_eq!(st["mode_label"], "PAPER");
    let v0 = &st["venues"][0];
    has_all(
        v0,
        &[
            "name",
            "market_data",
            "orders",
            "messages",
            "resyncs",
            "band",
            "orders_by_state",
            "fills",
        ],
        "venue",
    );
    assert_eq!(v0["name"], "binance");
    assert_eq!(v0["market_data"], "connected");
    assert_eq!(v0["messages"], 12_345);
    assert_eq!(v0["malformed"], 3);
    assert_eq!(v0["band"], "normal");
    assert_eq!(v0["orders_by_state"]["cancelled"], 4);
    assert_eq!(
        v0["balances"],
        serde_json::json!([{"asset": "USDT", "free": "950.5", "locked": "49.5"}])
    );
    assert_eq!(st["venues"][1]["balances"], serde_json::json!([]));
    assert_eq!(
        st["venues"][1]["market_data"], "connecting",
        "no update yet"
    );
    let eth = &st["strategies"][1];
    has_all(
        eth,
        &[
            "id",
            "state",
            "position",
            "pnl",
            "trades",
            "open_orders",
            "quotes",
        ],
        "strategy",
    );
    assert_eq!(eth["id"], "mm-eth");
    assert_eq!(eth["state"], "running");
    assert_eq!(eth["position"], "-0.015");
    assert_eq!(eth["pnl"], 10.25);
    assert_eq!(eth["quotes"]["bid"]["price"], "3000.1");
    assert_eq!(eth["quotes"]["ask"], Value::Null);
    assert_eq!(eth["entries_stopped"], "max_daily_loss reached");
    assert_eq!(eth["skipped"], 3);
    assert_eq!(st["strategies"][0]["state"], "unknown");
    assert_eq!(st["strategies"][0]["entries_stopped"], Value::Null);
    let risk = &st["risk"];
    has_all(
        risk,
        &[
            "daily_pnl",
            "trades_today",
            "kill_switch",
            "kill_reason",
            "rejections",
        ],
        "risk",
    );
    assert_eq!(risk["rejections"]["max_position"], 3);
    assert_eq!(risk["kill_switch"], false);
    assert_eq!(
        st["open_orders_count"], 1,
        "the cancelled order left the open set"
    );
    assert_eq!(st["open_orders"][0]["price"], "60000.5");
    assert_eq!(st["open_orders"][0]["strategy"], "mm-btc");
    let t = &st["recent_trades"][0];
    has_all(
        t,
        &["cid", "side", "qty", "price", "fee", "trade_id", "is_maker"],
        "trade",
    );
    assert_eq!(t["price"], "60001");
    // Venue ids are strings: they hold what the venue sends (numbers, UUIDs).
    assert_eq!(t["trade_id"], "555");

    let orders = json(s.addr, "/orders");
    has_all(&orders, &HEADER, "/orders");
    has_all(&orders, &["open", "open_count", "recent"], "/orders");
    assert_eq!(orders["mode"], "paper");
    assert_eq!(
        orders["recent"].as_array().unwrap().len(),
        2,
        "one row per order"
    );
    assert_eq!(orders["recent"][0]["status"], "cancelled", "newest first");

    let trades = json(s.addr, "/trades");
    has_all(&trades, &HEADER, "/trades");
    assert_eq!(trades["trades"][0]["fee_asset"], "USDT");

    // /stats counts the bots by state and sums /status's figures: mm-btc has not reported
    // (unknown), mm-eth runs.
    let stats = json(s.addr, "/stats");
    assert_eq!(
        stats["bots"],
        serde_json::json!({"total": 2, "vacant_slots": 0, "vacant_slots_holding": 0, "active": 1, "paused": 0, "stopped": 0, "unknown": 1})
    );
    let per = stats["per_bot"].as_array().unwrap();
    assert_eq!(per.len(), 2);
    assert_eq!(
        (&per[1]["id"], &per[1]["state"]),
        (&eth["id"], &eth["state"])
    );
    let sum = |k: &str| {
        st["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b[k].as_f64())
            .sum::<f64>()
    };
    assert_eq!(stats["pnl"].as_f64(), Some(sum("pnl")));
    assert_eq!(stats["trades"].as_f64(), Some(sum("trades")));

    let lat = json(s.addr, "/latency");
    has_all(&lat, &HEADER, "/latency");
    let p = &lat["latency"]["percentiles"][0];
    assert_eq!(p["venue"], "binance");
    assert_eq!(p["measurement"], "rest_rtt");
    has_all(
        &p["window"],
        &["count", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"],
        "window",
    );
    assert_eq!(p["window"]["p99_ns"], 3_000_000);

    let health = json(s.addr, "/health");
    assert_eq!(health["ok"], true);
    assert_eq!(health["mode"], "paper");
    assert_eq!(health["run_id"], 42);

    let (status, ct, page) = get(s.addr, "/");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    assert!(
        page.contains("/status") && page.contains("PAPER"),
        "dashboard polls /status and labels paper"
    );
}

/// A strict reading of the exposition format on top of the parser: every sample belongs to
/// a family declared with HELP and TYPE before it, names are `mako_…`, values are numbers.
#[test]
fn risk_is_summed_over_venues_and_the_engine_books_and_reloads_show_per_strategy() {
    let mut s = StatusState::new(setup());
    let risk = |venue: u16, pnl: f64, trades: u64, kill: bool| {
        let mut rejections = [0u64; Rule::ALL.len()];
        rejections[Rule::OrderRate as usize] = u64::from(venue) + 1;
        StatusUpdate::Risk(RiskUpdate {
            venue: VenueId(venue),
            daily_pnl: pnl,
            trades_today: trades,
            kill_switch: kill,
            kill_reason: if kill {
                KillReason::DailyLoss
            } else {
                KillReason::None
            },
            rejections,
            at: UnixNanos(T0 + u64::from(venue)),
        })
    };
    s.apply(risk(0, 1.5, 3, false));
    s.apply(risk(1, -4.0, 2, true));
    s.apply(StatusUpdate::StrategyRisk(StrategyRiskUpdate {
        strategy: StrategyId(0),
        venue: VenueId(0),
        position: Qty::from_units(-25_000_000),
        realized_pnl: 2.0,
        day_pnl: 1.5,
        trades_today: 3,
        open_orders: 1,
        perp: None,
        at: UnixNanos(T0),
    }));
    let mut params = toml::Table::new();
    params.insert("spread_bps".into(), toml::Value::Integer(30));
    s.apply(StatusUpdate::Params {
        strategy: StrategyId(1),
        params,
        at: UnixNanos(T0 + 9),
    });
    let v = s.status_json(UnixNanos(T0 + 10), &state::Readings::default());
    let r = &v["risk"];
    assert_eq!(r["daily_pnl"], -2.5);
    assert_eq!(r["trades_today"], 5);
    assert_eq!(r["kill_switch"], true);
    assert_eq!(r["kill_reason"], "daily_loss");
    assert_eq!(r["rejections"]["order_rate"], 3);
    let btc = &v["strategies"][0];
    assert_eq!(btc["position"], "-0.25");
    assert_eq!(btc["realized_pnl"], 2.0);
    assert_eq!(btc["trades"], 3);
    assert_eq!(btc["open_orders"], 1);
    assert_eq!(btc["markets"].as_array().unwrap().len(), 1);
    assert_eq!(btc["params_reloaded_at_ns"], Value::Null);
    // The same strategy on a second venue: figures summed, each venue's listed.
    s.apply(StatusUpdate::StrategyRisk(StrategyRiskUpdate {
        strategy: StrategyId(0),
        venue: VenueId(1),
        position: Qty::from_units(10_000_000),
        realized_pnl: -0.5,
        day_pnl: 0.25,
        trades_today: 2,
        open_orders: 3,
        // A short perpetual on the second venue.
        perp: Some(crate::risk::PerpFigures {
            kind: crate::types::InstrumentKind::LinearPerpetual,
            margin_mode: crate::types::MarginMode::Isolated,
            leverage: crate::types::Rate::from_int(10),
            entry: Some(crate::types::Price::parse("50000").unwrap()),
            mark: Some(crate::types::Price::parse("50100.5").unwrap()),
            unrealized: -10_050 * crate::types::Notional::SCALE / 1_000,
            liquidation: Some(crate::types::Price::parse("54750").unwrap()),
            funding_paid: -3 * crate::types::Notional::SCALE / 100,
        }),
        at: UnixNanos(T0 + 1),
    }));
    let both = s.status_json(UnixNanos(T0 + 10), &state::Readings::default());
    let btc2 = &both["strategies"][0];
    assert_eq!(btc2["position"], "-0.15");
    assert_eq!(
        btc2["perp"],
        serde_json::json!({
            "kind": "linear-perpetual",
            "margin_mode": "isolated",
            "leverage": "10",
            "entry": "50000",
            "mark": "50100.5",
            "unrealized_pnl": "-10.05",
            "liquidation": "54750",
            "funding_paid": "-0.03",
        })
    );
    assert_eq!(btc2["markets"][0]["perp"], Value::Null);
    assert_eq!(btc2["realized_pnl"], 1.5);
    assert_eq!(btc2["day_pnl"], 1.75);
    assert_eq!(
        (btc2["trades"].as_u64(), btc2["open_orders"].as_u64()),
        (Some(5), Some(4))
    );
    let markets = btc2["markets"].as_array().unwrap();
    assert_eq!(markets.len(), 2);
    assert_eq!(markets[1]["position"], "0.1");
    let eth = &v["strategies"][1];
    assert_eq!(eth["params"]["spread_bps"], 30);
    assert_eq!(eth["params_reloaded_at_ns"], T0 + 9);
    assert_eq!(
        eth["day_pnl"],
        Value::Null,
        "no figures from its gateway yet"
    );
}

/// `/openapi.json` describes exactly the routes the endpoint has: the same (method, path)
/// pairs as `route::ROUTES`, each of which answers on a live server (reads 200; control calls
/// 401 without the token, so they exist and are guarded), while a path it does not describe
/// answers 404.
#[test]
fn the_openapi_document_describes_every_route_the_server_has() {
    let s = start(Some(SecretSource::File(token_file("openapi"))));
    let doc = json(s.addr, "/openapi.json");
    assert_eq!(doc["openapi"], "3.0.3");
    let mut described: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let mut routes: Vec<(String, String)> = super::route::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    described.sort();
    routes.sort();
    assert_eq!(described, routes);
    for (method, path) in &routes {
        let path = path.replace("{id}", "mm-btc");
        let status = match method.as_str() {
            "GET" => get(s.addr, &path).0,
            "POST" => post(s.addr, &path, None).0,
            m => call(s.addr, m, &path),
        };
        let want = if method == "GET" { 200 } else { 401 };
        assert_eq!(status, want, "{method} {path}");
    }
    for (method, path) in [
        ("GET", "/nope"),
        ("POST", "/control/strategies/mm-btc/explode"),
    ] {
        let status = if method == "GET" {
            get(s.addr, path).0
        } else {
            post(s.addr, path, Some(&format!("Bearer {TOKEN}"))).0
        };
        assert_eq!(status, 404, "{method} {path}");
    }
}

mod dashboard;
mod http;
mod vacant;
