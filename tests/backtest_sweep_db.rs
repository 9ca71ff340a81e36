//! `--db` with `--sweep`: every run of a sweep mints the same order ids (the cids start from
//! the recording's first time) and the engine's `orders` table is keyed by (mode, cid), so
//! each run writes a database of its own, named by the run. A 3-run sweep: every run's
//! orders, fills and round trips are present, each in its run's file, and told apart.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mako::backtest::Frames;
use mako::backtest::sweep::{self, Axis};
use mako::config::Mode;
use mako::persist::{RunScope, load_fills, load_orders, runs};

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";
const SPREAD: &str = "config/backtest-spread.toml";

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mako-bt-sweepdb-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_three_run_sweep_writes_every_run_into_its_own_database() {
    let out = out_dir("sweep");
    let base = out.join("runs.db");
    let frames = vec![(
        PathBuf::from(RECORDING),
        Frames::load(Path::new(RECORDING)).unwrap(),
    )];
    let axes: Vec<Axis> = vec![sweep::parse_axis("spread_bps=2,4,8").unwrap()];
    let o = sweep::run(
        Path::new(SPREAD),
        &frames,
        &axes,
        "pnl_total",
        &out,
        2,
        None,
        Some(&base),
    )
    .unwrap();
    assert_eq!(o.lines.len(), 3);
    assert!(!base.exists(), "no shared database: one per run");
    let mut paths = BTreeSet::new();
    let mut fill_sets = Vec::new();
    let mut first_cids = BTreeSet::new();
    let (mut fills_in_files, mut fills_in_reports) = (0, 0);
    for l in &o.lines {
        let (path, w) = l.db.as_ref().expect("each run names its database");
        assert_eq!(*path, sweep::db_path(&base, &l.name));
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .contains(&format!("spread_bps={}", l.combo[0].1)),
            "{} is named by its settings",
            path.display()
        );
        assert!(paths.insert(path.clone()), "two runs in one file");
        let conn = mako::persist::schema::open(path).unwrap();
        let r = runs(&conn).unwrap();
        assert_eq!(r.len(), 1, "one run per file");
        assert_eq!((r[0].id, r[0].mode.as_str()), (w.run_id, "backtest"));
        // Everything the run did is in its file: each fill of the report, each order sent.
        let fills = load_fills(&conn, Mode::Backtest, RunScope::All).unwrap();
        let trades = l.report["trades"].as_u64().unwrap();
        assert!(trades > 0, "run {} traded", l.name);
        assert_eq!(fills.len() as u64, trades, "run {}", l.name);
        assert_eq!(w.fills, trades);
        let orders = load_orders(&conn, Mode::Backtest, RunScope::All).unwrap();
        assert_eq!(
            orders.len() as u64,
            l.report["orders_sent"].as_u64().unwrap(),
            "run {}",
            l.name
        );
        let trips: i64 = conn
            .query_row(
                "SELECT count(*) FROM round_trips WHERE mode = 'backtest'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(trips as u64, w.round_trips);
        assert_eq!(
            trips as u64,
            l.report["round_trips"].as_u64().unwrap(),
            "run {}",
            l.name
        );
        fills_in_files += fills.len() as u64;
        fills_in_reports += trades;
        let mut by_cid: Vec<String> = orders.iter().map(|o| o.cid.to_string()).collect();
        by_cid.sort();
        first_cids.insert(by_cid[0].clone());
        let set: Vec<_> = fills
            .iter()
            .map(|f| (f.cid.to_string(), f.fill.quote, f.fill.qty, f.at))
            .collect();
        fill_sets.push(set);
    }
    assert_eq!(fills_in_files, fills_in_reports);
    // The runs mint the same ids (why one database cannot hold them) ...
    assert_eq!(first_cids.len(), 1, "every run's first cid is the same");
    // ... and their rows differ: three runs told apart by their files.
    for i in 0..fill_sets.len() {
        for j in i + 1..fill_sets.len() {
            assert_ne!(
                fill_sets[i], fill_sets[j],
                "runs {i} and {j} wrote the same fills"
            );
        }
    }
    let _ = std::fs::remove_dir_all(out);
}
