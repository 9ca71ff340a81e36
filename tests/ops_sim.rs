//! What an operator reads from a run, checked on a real one: `config/demo.toml` in sim mode
//! (ports from the OS, a scratch data directory) until both bots have closed round trips and
//! the latency monitor has published, then
//! - the database it wrote: the run's catalog, every fill's, order's and round trip's view
//!   text against the engine's numbers for the same rows, and every example query of
//!   `docs/database.md`;
//! - the Grafana dashboard `deploy/grafana/mako.json`: every metric name in every panel's
//!   PromQL (and the template variables' queries) is one `/metrics` served during the run,
//!   with the label values its exact matchers ask for.
//!
//! Both tests read the same run (started once, by whichever test asks first).

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{RunScope, load_fills, load_orders, quote_text, schema};
use mako::runtime::{Clock, Shutdown};
use mako::types::{Price, Qty};
use rusqlite::Connection;

/// What the run left: its database and the `/metrics` text it served at the end.
struct Run {
    db: PathBuf,
    metrics: String,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mako-ops-sim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml"))
                .unwrap()
                .replace("19400", "0")
                .replace("127.0.0.1:8787", "127.0.0.1:0")
                .replace("log_filter = \"info\"", "log_filter = \"warn\"")
                .replace(
                    "data_dir = \"data/demo\"",
                    &format!("data_dir = {:?}", dir.display().to_string()),
                );
        let config = mako::config::parse(&text, Path::new("demo.toml")).expect("valid demo");
        assert_eq!(config.engine.mode, Mode::Sim);
        let db = dir.join("demo.sqlite");
        let shutdown = Shutdown::new();
        let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("builds");
        let addr = engine.status_addr().expect("status endpoint");
        let metrics = Mutex::new(String::new());
        let reader = Mutex::new(None::<Connection>);
        common::run_until(
            engine,
            shutdown,
            "round trips of two bots, fills on both venues and latency on /metrics",
            Duration::from_secs(300),
            |_| {
                let mut r = reader.lock().unwrap();
                if r.is_none() {
                    *r = schema::open(&db).ok();
                }
                let Some(conn) = r.as_ref() else {
                    return false;
                };
                let count =
                    |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0) };
                let trips = count("SELECT COUNT(DISTINCT strategy) FROM round_trips");
                let venues = count(
                    "SELECT COUNT(DISTINCT i.venue) FROM fills f JOIN run_instruments i
                     ON i.run_id = f.run_id AND i.instrument = f.instrument",
                );
                if trips < 2 || venues < 2 {
                    return false;
                }
                let Some(text) = get(addr, "/metrics") else {
                    return false;
                };
                let ready = text.contains("mako_latency_seconds{")
                    && text.contains("mako_fills_total{venue=\"okx\"}");
                *metrics.lock().unwrap() = text;
                ready
            },
        );
        Run {
            db,
            metrics: metrics.into_inner().unwrap(),
        }
    })
}

fn get(addr: std::net::SocketAddr, path: &str) -> Option<String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build(),
    );
    let mut r = agent.get(&format!("http://{addr}{path}")).call().ok()?;
    r.body_mut().read_to_string().ok()
}

/// Every column of every row of `sql`, as text (integers printed, NULL as `NULL`).
fn rows(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut st = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Null => "NULL".to_owned(),
                    rusqlite::types::Value::Blob(_) => "BLOB".to_owned(),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn the_views_read_what_a_sim_run_wrote_as_the_engine_holds_it() {
    let conn = schema::open(&run().db).expect("database");

    // The catalog is the config's.
    assert_eq!(
        rows(
            &conn,
            "SELECT venue, symbol, kind, qty_unit, contract_size, settle, tick, lot, price_scale,
             qty_scale, quote_scale FROM instruments_view ORDER BY instrument"
        ),
        [
            [
                "binance", "SOLUSDT", "spot", "base", "1", "USDT", "0.01", "0.001", "8", "8", "16"
            ],
            [
                "okx", "SOL-USDT", "spot", "base", "1", "USDT", "0.01", "0.001", "8", "8", "16"
            ],
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT s.name, s.kind, v.name FROM run_strategies s JOIN run_venues v
             ON v.run_id = s.run_id AND v.venue = s.venue ORDER BY s.strategy"
        ),
        [
            ["mm-sol", "spread", "binance"],
            ["mm-sol-okx", "spread", "okx"],
            ["grid-sol", "grid", "binance"],
        ]
    );

    // Every fill: the view's text is the engine's decimal printing of the stored fill.
    let fills = load_fills(&conn, Mode::Sim, RunScope::All).unwrap();
    let view = rows(
        &conn,
        "SELECT cid, mode, qty, quote, price, fee, fee_asset, side, venue, symbol, strategy
         FROM fills_view ORDER BY id",
    );
    assert!(fills.len() >= 4, "{} fills", fills.len());
    assert_eq!(view.len(), fills.len());
    let names = ["mm-sol", "mm-sol-okx", "grid-sol"];
    for (f, v) in fills.iter().zip(&view) {
        let price = Price::from_units((f.fill.quote.0 / i128::from(f.fill.qty.units())) as i64);
        assert_eq!(
            Price::from_units(price.units()).notional(f.fill.qty),
            f.fill.quote,
            "a sim fill is at one price"
        );
        let (venue, symbol) = if f.instrument.0 == 0 {
            ("binance", "SOLUSDT")
        } else {
            ("okx", "SOL-USDT")
        };
        let side = if f.fill.side == mako::types::Side::Buy {
            "buy"
        } else {
            "sell"
        };
        assert_eq!(
            *v,
            [
                f.cid.as_str().to_owned(),
                "sim".to_owned(),
                f.fill.qty.to_string(),
                quote_text(f.fill.quote.0),
                price.to_string(),
                f.fill.fee.to_string(),
                f.fill.fee_asset.as_str().to_owned(),
                side.to_owned(),
                venue.to_owned(),
                symbol.to_owned(),
                names[f.strategy.0 as usize].to_owned(),
            ],
        );
    }

    // Every order: prices, quantities, filled quote and both fees.
    let orders: HashMap<String, _> = load_orders(&conn, Mode::Sim, RunScope::All)
        .unwrap()
        .into_iter()
        .map(|o| (o.cid.as_str().to_owned(), o))
        .collect();
    let view = rows(
        &conn,
        "SELECT cid, price, qty, filled_qty, filled_quote, fee1_asset, fee1, fee2_asset, fee2,
         status FROM orders_view",
    );
    assert_eq!(view.len(), orders.len());
    for v in &view {
        let o = &orders[&v[0]];
        assert_eq!(
            v[1..],
            [
                o.price.to_string(),
                o.qty.to_string(),
                o.filled_qty.to_string(),
                quote_text(o.filled_quote.0),
                o.fees[0].0.as_str().to_owned(),
                o.fees[0].1.to_string(),
                o.fees[1].0.as_str().to_owned(),
                o.fees[1].1.to_string(),
                o.status.as_str().to_owned(),
            ],
        );
    }

    // Every round trip: the view's text from the stored integers, the engine's printing.
    let raw = rows(
        &conn,
        "SELECT id, qty_e8, entry_quote_e16, exit_quote_e16, pnl_e16, quote_fees_e8
         FROM round_trips ORDER BY id",
    );
    let view = rows(
        &conn,
        "SELECT id, qty, entry_quote, exit_quote, pnl, quote_fees FROM round_trips_view
         ORDER BY id",
    );
    assert!(raw.len() >= 2);
    for (r, v) in raw.iter().zip(&view) {
        let e8 = |s: &str| Qty::from_units(s.parse().unwrap()).to_string();
        let e16 = |s: &str| quote_text(s.parse().unwrap());
        assert_eq!(
            *v,
            [
                r[0].clone(),
                e8(&r[1]),
                e16(&r[2]),
                e16(&r[3]),
                e16(&r[4]),
                e8(&r[5])
            ]
        );
    }

    // Every example query of docs/database.md runs on this database; those over what this
    // run has (round trips, fills, orders with fees) answer with rows.
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/database.md")).unwrap();
    let queries: Vec<&str> = doc
        .split("```sql\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(queries.len(), 6);
    let mut answered = HashSet::new();
    for q in &queries {
        let got = rows(&conn, q);
        for (marker, name) in [
            ("FROM round_trips_view", "pnl per bot per day"),
            ("FROM fills_view", "fills per venue"),
            ("fee1_asset AS asset", "fees per asset"),
        ] {
            if q.contains(marker) {
                assert!(!got.is_empty(), "{name}: no rows\n{q}");
                answered.insert(name);
            }
        }
        if q.contains("FROM fills_view") {
            let venues: HashSet<&str> = got.iter().map(|r| r[0].as_str()).collect();
            assert_eq!(venues, HashSet::from(["binance", "okx"]), "{got:?}");
        }
        if q.contains("FROM round_trips_view") {
            let bots: HashSet<&str> = got.iter().map(|r| r[0].as_str()).collect();
            assert!(bots.len() >= 2, "{got:?}");
        }
    }
    assert_eq!(answered.len(), 3);
}

/// Metric names and exact label matchers in a PromQL expression: identifiers that are not
/// functions (followed by `(`), keywords, label names inside `{}` or `by (...)`, durations
/// or numbers.
fn metric_refs(expr: &str) -> Vec<(String, Vec<(String, String)>)> {
    const KEYWORDS: [&str; 13] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
    ];
    const AGGREGATORS: [&str; 12] = [
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    let b = expr.as_bytes();
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut i = 0;
    let mut after_grouping = false;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            // A string outside braces (e.g. in label_replace): skip it.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i += 1;
        } else if c == b'[' {
            while i < b.len() && b[i] != b']' {
                i += 1;
            }
        } else if c == b'{' {
            let end = expr[i..].find('}').expect("closed matcher") + i;
            let matchers = parse_matchers(&expr[i + 1..end]);
            if let Some(last) = out.last_mut().filter(|l| l.1.is_empty()) {
                last.1 = matchers;
            }
            i = end + 1;
        } else if c == b'(' && after_grouping {
            // by (...) / without (...): label names.
            i = expr[i..].find(')').expect("closed grouping") + i + 1;
            after_grouping = false;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            let word = &expr[start..i];
            let next = expr[i..].trim_start().as_bytes().first().copied();
            let lower = word.to_ascii_lowercase();
            if AGGREGATORS.contains(&lower.as_str()) {
                // sum by (..) (..): an operator, not a metric.
            } else if KEYWORDS.contains(&lower.as_str()) {
                after_grouping = matches!(
                    lower.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                );
            } else if next != Some(b'(') && !word.starts_with('$') {
                out.push((word.to_owned(), Vec::new()));
            }
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// `name="value"` matchers (exact ones only; `=~`, `!=` and `!~` are not checked).
fn parse_matchers(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|m| {
            let (k, v) = m.split_once('=')?;
            if k.ends_with('!') || v.starts_with('~') {
                return None;
            }
            let v = v.trim().trim_matches('"');
            Some((k.trim().to_owned(), v.to_owned()))
        })
        .collect()
}

/// Sample name and labels of every sample line of a Prometheus exposition.
fn samples(text: &str) -> Vec<(String, HashMap<String, String>)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let name_end = l.find(['{', ' ']).unwrap();
            let mut labels = HashMap::new();
            if l.as_bytes()[name_end] == b'{' {
                let end = l.rfind('}').unwrap();
                for kv in l[name_end + 1..end].split("\",") {
                    let (k, v) = kv.split_once('=').unwrap();
                    labels.insert(k.to_owned(), v.trim_matches('"').to_owned());
                }
            }
            (l[..name_end].to_owned(), labels)
        })
        .collect()
}

#[test]
fn the_parser_finds_metric_names_and_exact_matchers() {
    assert_eq!(
        metric_refs(
            "histogram_quantile(0.99, sum by (venue, le) (rate(x_bucket{venue=~\"$venue\"}[5m]))) / on (venue) mako_a{quantile=\"0.5\", stream!=\"orders\"} > bool 1e3"
        ),
        [
            ("x_bucket".to_owned(), vec![]),
            (
                "mako_a".to_owned(),
                vec![("quantile".to_owned(), "0.5".to_owned())]
            ),
        ]
    );
}

#[test]
fn every_grafana_panel_reads_metrics_the_engine_serves() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/mako.json"
    ))
    .unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut panels = Vec::new();
    let mut stack: Vec<&serde_json::Value> = dash["panels"].as_array().unwrap().iter().collect();
    while let Some(p) = stack.pop() {
        if let Some(inner) = p["panels"].as_array() {
            stack.extend(inner);
        }
        if p["type"] != "row" {
            panels.push(p);
        }
    }
    assert!(panels.len() >= 10, "{} panels", panels.len());
    let mut exprs: Vec<(String, String)> = Vec::new();
    for p in &panels {
        let title = p["title"].as_str().unwrap_or("?").to_owned();
        let targets = p["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("{title}: no targets"));
        assert!(!targets.is_empty(), "{title}: no targets");
        for t in targets {
            let e = t["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("{title}: a target without expr"));
            exprs.push((title.clone(), e.to_owned()));
        }
    }
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        let q = v["query"]["query"].as_str().or(v["query"].as_str());
        if let (Some(q), Some("query")) = (q, v["type"].as_str()) {
            exprs.push((format!("variable {}", v["name"]), q.to_owned()));
        }
    }

    let served = samples(&run().metrics);
    let mut used = HashSet::new();
    for (title, e) in &exprs {
        // label_values(metric, label) in a variable's query names its metric as an argument.
        let e = e.replace("label_values(", "(");
        let refs = metric_refs(&e);
        assert!(!refs.is_empty(), "{title}: no metric in {e}");
        for (name, matchers) in refs {
            if name.chars().all(|c| c.is_ascii_lowercase()) && !name.contains('_') {
                // A bare lower-case word is a label name (label_values' second argument).
                continue;
            }
            let found = served.iter().any(|(n, labels)| {
                *n == name
                    && matchers
                        .iter()
                        .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
            });
            assert!(
                found,
                "panel {title:?}: {name} {matchers:?} is not in /metrics:\n{}",
                run().metrics
            );
            used.insert(name);
        }
    }
    // The dashboard covers what an operator watches.
    for family in [
        "mako_latency_seconds",
        "mako_orders",
        "mako_fills_total",
        "mako_strategy_pnl",
        "mako_strategy_position",
        "mako_venue_connected",
        "mako_queue_dropped_total",
        "mako_persist_telemetry_dropped_total",
    ] {
        assert!(used.contains(family), "no panel shows {family}");
    }
}
