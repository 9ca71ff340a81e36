//! What a backtest writes besides its report: the sweep's runs and summary, the SVG plots and
//! the database rows (mode `backtest`), over the Binance Spot fixture.

use std::path::{Path, PathBuf};

use mako::backtest::sweep::{self, Axis};
use mako::backtest::{Frames, report, run};
use mako::cli::backtest::{load, load_str};
use mako::config::Mode;
use mako::persist::{RunScope, load_fills, load_orders, runs};

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";
const SPREAD: &str = "config/backtest-spread.toml";

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mako-bt-out-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `report.json` without the two figures that depend on the machine.
fn comparable(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let o = v.as_object_mut().unwrap();
    assert!(o.remove("wall_seconds").is_some());
    assert!(o.remove("events_per_second").is_some());
    v
}

/// The config's text with one `key = old` line replaced: the single run's config is edited as
/// a person would edit the file, not through the sweep's key paths.
fn edited(text: &str, key: &str, value: &str) -> String {
    let mut hits = 0;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with(&format!("{key} ")) && l.contains('=') {
                hits += 1;
                format!("{key} = {value}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_eq!(hits, 1, "{key} appears once in the config");
    out.join("\n")
}

#[test]
fn a_two_by_two_sweep_gives_four_runs_equal_to_single_runs() {
    let out = out_dir("sweep");
    let frames = vec![(
        PathBuf::from(RECORDING),
        Frames::load(Path::new(RECORDING)).unwrap(),
    )];
    let axes: Vec<Axis> = ["spread_bps=2,6", "order_size=0.001,0.002"]
        .iter()
        .map(|a| sweep::parse_axis(a).unwrap())
        .collect();
    let o = sweep::run(
        Path::new(SPREAD),
        &frames,
        &axes,
        "pnl_total",
        &out,
        2,
        None,
        None,
    )
    .unwrap();
    assert_eq!(o.lines.len(), 4);
    // Ranked by PnL, best first.
    let pnls: Vec<f64> = o
        .lines
        .iter()
        .map(|l| l.report["pnl_total"].as_f64().unwrap())
        .collect();
    assert!(pnls.windows(2).all(|w| w[0] >= w[1]), "{pnls:?}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.starts_with("rank,run,spread_bps,order_size,pnl_total"));
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert_eq!(md.matches("/report.md)").count(), 4);
    // Each run's report equals a single run of the config edited by hand to its values.
    let text = std::fs::read_to_string(SPREAD).unwrap();
    let mut trades = Vec::new();
    for l in &o.lines {
        let (spread, size) = (&l.combo[0].1, &l.combo[1].1);
        let t = edited(&text, "spread_bps", spread);
        let t = edited(&t, "order_size", &format!("\"{size}\""));
        let (c, s) = load_str(&t, Path::new(SPREAD)).unwrap();
        let single = run(&c, &s, &[PathBuf::from(RECORDING)]).unwrap();
        let dir = out_dir(&format!("single-{}", l.name));
        report::write(&dir, &single, 1.0).unwrap();
        let swept = out.join(&l.name);
        assert_eq!(comparable(&swept), comparable(&dir), "run {}", l.name);
        for f in ["fills.csv", "equity.csv", "price.svg"] {
            assert!(
                std::fs::read(swept.join(f)).unwrap() == std::fs::read(dir.join(f)).unwrap(),
                "{f} of run {}",
                l.name
            );
        }
        trades.push(single.fills.len());
        let _ = std::fs::remove_dir_all(dir);
    }
    // The values change the runs (else the comparison above would prove little).
    trades.sort();
    trades.dedup();
    assert!(trades.len() > 1, "every run traded the same: {trades:?}");
    let _ = std::fs::remove_dir_all(out);
}

/// The elements of an SVG document, by a small well-formedness check: every tag closes in
/// order, attributes are quoted, the root is `svg`. Returns the start tags as (name, attrs).
fn parse_xml(text: &str) -> Vec<(String, String)> {
    let body = text
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut tags = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let text_part = &rest[..i];
        assert!(!text_part.contains('>'), "stray > in text {text_part:?}");
        for ent in text_part.split('&').skip(1) {
            let name = ent.split(';').next().unwrap();
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&name),
                "entity {name}"
            );
        }
        let j = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..j];
        rest = &rest[j + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing tag order");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "tag name {name:?}"
        );
        // name="value" pairs, every value quoted.
        let mut a = attrs.trim();
        while !a.is_empty() {
            let eq = a
                .find("=\"")
                .unwrap_or_else(|| panic!("attribute in {tag:?}"));
            let key = &a[..eq];
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
                "attribute name {key:?}"
            );
            let end = a[eq + 2..].find('"').expect("closing quote") + eq + 2;
            assert!(!a[eq + 2..end].contains('<'));
            a = a[end + 1..].trim_start();
        }
        if stack.is_empty() {
            assert_eq!(name, "svg", "the root element");
            assert!(tags.is_empty(), "one root element");
        }
        tags.push((name.to_owned(), attrs.to_owned()));
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    tags
}

#[test]
fn the_plots_are_xml_with_one_mark_per_fill() {
    let (c, s) = load(Path::new(SPREAD)).unwrap();
    let r = run(&c, &s, &[PathBuf::from(RECORDING)]).unwrap();
    let dir = out_dir("plots");
    report::write(&dir, &r, 1.0).unwrap();
    assert!(!r.fills.is_empty());
    let price = parse_xml(&std::fs::read_to_string(dir.join("price.svg")).unwrap());
    let marks = |class: &str| {
        price
            .iter()
            .filter(|(n, a)| n == "path" && a.contains(&format!("class=\"{class}\"")))
            .count()
    };
    let buys = r
        .fills
        .iter()
        .filter(|f| f.side == mako::types::Side::Buy)
        .count();
    assert_eq!(marks("fill buy"), buys);
    assert_eq!(marks("fill sell"), r.fills.len() - buys);
    assert!(buys > 0 && buys < r.fills.len(), "both sides traded");
    assert_eq!(marks("mid"), 1);
    for (f, class) in [("equity.svg", "equity"), ("position.svg", "position")] {
        let tags = parse_xml(&std::fs::read_to_string(dir.join(f)).unwrap());
        assert!(
            tags.iter()
                .any(|(n, a)| n == "path" && a.contains(&format!("class=\"{class}\""))),
            "{f} draws its curve"
        );
    }
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for f in ["equity.svg", "price.svg", "position.svg"] {
        assert!(md.contains(&format!("]({f})")), "report.md links {f}");
    }
    // A malformed document is caught by the check (it can fail).
    let bad = std::panic::catch_unwind(|| {
        parse_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg><path></svg>")
    });
    assert!(bad.is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn database_rows_are_tagged_backtest_and_never_mix_with_paper_or_sim() {
    let dir = out_dir("db");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("mako.db");
    // A paper run's rows first, through the same writer.
    {
        let (c, _) = load(Path::new(SPREAD)).unwrap();
        let info = mako::persist::RunInfo {
            mode: Mode::Paper,
            engine_name: "paper-before".into(),
            config_hash: "00".into(),
            started_at: mako::types::UnixNanos(1),
            catalog: mako::persist::Catalog::of(&c),
        };
        let hub = mako::persist::PersistHub::open_path(&db, std::time::Duration::ZERO, 16, &info)
            .unwrap();
        drop(hub);
    }
    let (c, mut s) = load(Path::new(SPREAD)).unwrap();
    s.records = true;
    let r = run(&c, &s, &[PathBuf::from(RECORDING)]).unwrap();
    assert!(!r.fills.is_empty());
    let w = mako::backtest::db::write(&db, &c, &r).unwrap();
    assert_eq!(w.fills as usize, r.fills.len());
    assert!(w.round_trips > 0);
    let conn = mako::persist::schema::open(&db).unwrap();
    let all_runs = runs(&conn).unwrap();
    assert_eq!(all_runs.len(), 2);
    assert_eq!(all_runs[0].mode, "paper");
    assert_eq!(all_runs[1].mode, "backtest");
    assert_eq!(all_runs[1].id, w.run_id);
    // The backtest's fills, by mode: every one of the run's, at its price and quantity.
    let fills = load_fills(&conn, Mode::Backtest, RunScope::All).unwrap();
    assert_eq!(fills.len(), r.fills.len());
    for (a, b) in fills.iter().zip(&r.fills) {
        assert_eq!((a.cid, a.fill.qty, a.at), (b.cid, b.qty, b.at));
        assert!(a.fill.paper, "simulated, never a venue's");
    }
    let orders = load_orders(&conn, Mode::Backtest, RunScope::All).unwrap();
    assert_eq!(orders.len() as u64, r.counts.orders_sent);
    // None of it is paper's or sim's.
    assert!(
        load_fills(&conn, Mode::Paper, RunScope::All)
            .unwrap()
            .is_empty()
    );
    assert!(
        load_orders(&conn, Mode::Sim, RunScope::All)
            .unwrap()
            .is_empty()
    );
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM fills WHERE mode <> 'backtest'"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM round_trips WHERE mode = 'backtest'"),
        w.round_trips as i64
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM fills_view WHERE mode = 'backtest' AND run_id = {}",
            w.run_id
        )),
        r.fills.len() as i64
    );
    // The schema refuses a mode it does not know.
    assert!(
        conn.execute(
            "INSERT INTO runs (mode, engine_name, config_hash, version, started_at) VALUES ('bogus', 'x', 'x', 'x', 0)",
            [],
        )
        .is_err()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_version_4_database_migrates_keeping_its_runs() {
    let dir = out_dir("migrate");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.db");
    let conn = rusqlite_open(&path);
    mako::persist::schema::migrate_to(&conn, 4).unwrap();
    conn.execute_batch(
        "INSERT INTO runs (mode, engine_name, config_hash, version, started_at) VALUES ('sim', 'old', 'h', 'v', 5);
         INSERT INTO run_venues (run_id, venue, name, kind) VALUES (1, 0, 'binance', 'binance-spot');",
    )
    .unwrap();
    assert!(
        conn.execute(
            "INSERT INTO runs (mode, engine_name, config_hash, version, started_at) VALUES ('backtest', 'x', 'x', 'x', 0)",
            [],
        )
        .is_err(),
        "version 4 does not know backtest"
    );
    mako::persist::schema::migrate(&conn).unwrap();
    assert_eq!(
        mako::persist::schema::version(&conn).unwrap(),
        mako::persist::schema::SCHEMA_VERSION
    );
    let r = runs(&conn).unwrap();
    assert_eq!((r.len(), r[0].id, r[0].mode.as_str()), (1, 1, "sim"));
    conn.execute(
        "INSERT INTO runs (mode, engine_name, config_hash, version, started_at) VALUES ('backtest', 'x', 'x', 'x', 0)",
        [],
    )
    .unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM run_venues WHERE run_id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
    let _ = std::fs::remove_dir_all(dir);
}

/// A bare connection (version 0) with foreign keys on, as `schema::open` configures them.
fn rusqlite_open(path: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "foreign_keys", true).unwrap();
    c
}

#[test]
fn perpetual_funding_is_paid_on_the_position_at_each_funding_time() {
    // The fixture's BTCUSDT taken as a linear perpetual funding every minute at the configured
    // rate (the Binance Spot recording publishes no mark or funding rate).
    let text = std::fs::read_to_string(SPREAD).unwrap();
    let text = text
        .replace(
            "min_notional = \"5\"\n",
            "min_notional = \"5\"\nkind = \"linear-perpetual\"\nleverage = \"5\"\nfunding_interval = \"1m\"\n",
        )
        .replace("seed = 1\n", "seed = 1\nfunding_rate = \"0.0001\"\n");
    let (c, s) = load_str(&text, Path::new(SPREAD)).unwrap();
    assert!(c.instruments[0].contract.kind.is_perpetual());
    let r = run(&c, &s, &[PathBuf::from(RECORDING)]).unwrap();
    let funding = r.funding.expect("a perpetual run reports funding");
    assert!(
        !r.funding_rows.is_empty(),
        "the maker held a position at some minute"
    );
    assert_eq!(r.funding_counts, (0, r.funding_rows.len() as u64, 0));
    let mut total = 0i128;
    for row in &r.funding_rows {
        assert_eq!(row.at.0 % 60_000_000_000, 0, "at a funding time");
        assert_eq!(row.rate.units(), 10_000, "0.0001 at 10^-8");
        // The position then, from the fills before it.
        let pos: i64 = r
            .fills
            .iter()
            .filter(|f| f.at <= row.at)
            .map(|f| f.qty.units() * f.side.sign())
            .sum();
        assert_eq!(row.qty.units(), pos);
        // Longs pay at a positive rate: qty × mark × rate, quote at 10^-16.
        let expect = pos as f64 / 1e8 * row.mark.to_f64() * 0.0001;
        assert!(
            (row.paid as f64 / 1e16 - expect).abs() < 1e-9,
            "{} vs {expect}",
            row.paid
        );
        total += row.paid;
    }
    assert!((funding - total as f64 / 1e16).abs() < 1e-9);
    let dir = out_dir("funding");
    let j = report::write(&dir, &r, 1.0).unwrap();
    let pnl = r.realised + r.unrealised - r.fees - funding;
    assert!((j["pnl_total"].as_f64().unwrap() - pnl).abs() < 1e-7);
    assert_eq!(j["funding_payments"], r.funding_rows.len());
    // Spot never funds.
    let (c, s) = load(Path::new(SPREAD)).unwrap();
    let spot = run(&c, &s, &[PathBuf::from(RECORDING)]).unwrap();
    assert!(spot.funding.is_none() && spot.funding_rows.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
