//! Every indicator against real TA-Lib: the fixtures in `tests/fixtures/indicators/` were
//! written by `tools/talib_fixtures.py` (TA-Lib 0.8.2 from PyPI; the script names it). For
//! each series, the flags in `<series>.args` name the indicators, `<series>.csv` is the input
//! and `<series>.talib.csv` TA-Lib's output, one column per output named as `mako indicators`
//! names them, empty where TA-Lib has no value yet. Every value must equal TA-Lib's within
//! 1e-9 relative (1e-12 absolute for values within 1e-3 of zero, where a relative bound means
//! nothing: MACD histograms cross zero), and the first valid index must be TA-Lib's exactly
//! (`None` before it, a value from it on). No Python is needed to run this test.

use mako::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/indicators");
const SERIES: [&str; 4] = ["walk", "edge", "short", "tiny"];

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read(path: &str) -> Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("a header")
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    Table { header, rows }
}

impl Table {
    fn column(&self, name: &str) -> Vec<Option<f64>> {
        let k = self
            .header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        self.rows
            .iter()
            .map(|r| {
                let f = r[k].trim();
                (!f.is_empty()).then(|| f.parse().unwrap_or_else(|e| panic!("{name} {f}: {e}")))
            })
            .collect()
    }
}

/// Each output column an indicator flag gives, with mako's values over the input.
fn compute(flag: &str, arg: &str, input: &Table) -> Vec<(String, Vec<Option<f64>>)> {
    let close: Vec<f64> = input
        .column("close")
        .into_iter()
        .map(Option::unwrap)
        .collect();
    let nums: Vec<&str> = arg.split(',').collect();
    let n = |i: usize| nums[i].parse::<usize>().unwrap();
    let series = |mut f: Box<dyn FnMut(f64) -> Option<f64>>| close.iter().map(|x| f(*x)).collect();
    match flag {
        "--sma" => {
            let mut s = Sma::new(n(0)).unwrap();
            vec![(format!("sma_{arg}"), series(Box::new(move |x| s.update(x))))]
        }
        "--ema" => {
            let mut s = Ema::new(n(0)).unwrap();
            vec![(format!("ema_{arg}"), series(Box::new(move |x| s.update(x))))]
        }
        "--rsi" => {
            let mut s = Rsi::new(n(0)).unwrap();
            vec![(format!("rsi_{arg}"), series(Box::new(move |x| s.update(x))))]
        }
        "--vol" => {
            let mut s = LogReturnVol::new(n(0)).unwrap();
            vec![(format!("vol_{arg}"), series(Box::new(move |x| s.update(x))))]
        }
        "--macd" => {
            let mut m = Macd::new(n(0), n(1), n(2)).unwrap();
            let v: Vec<_> = close.iter().map(|x| m.update(*x)).collect();
            vec![
                ("macd".into(), v.iter().map(|o| o.map(|v| v.macd)).collect()),
                (
                    "macd_signal".into(),
                    v.iter().map(|o| o.map(|v| v.signal)).collect(),
                ),
                (
                    "macd_hist".into(),
                    v.iter().map(|o| o.map(|v| v.hist)).collect(),
                ),
            ]
        }
        "--bbands" => {
            let mut b = Bbands::new(n(0), nums[1].parse().unwrap()).unwrap();
            let v: Vec<_> = close.iter().map(|x| b.update(*x)).collect();
            let p = nums[0];
            vec![
                (
                    format!("bb_upper_{p}"),
                    v.iter().map(|o| o.map(|b| b.upper)).collect(),
                ),
                (
                    format!("bb_middle_{p}"),
                    v.iter().map(|o| o.map(|b| b.middle)).collect(),
                ),
                (
                    format!("bb_lower_{p}"),
                    v.iter().map(|o| o.map(|b| b.lower)).collect(),
                ),
            ]
        }
        "--atr" => {
            let mut a = Atr::new(n(0)).unwrap();
            let high = input.column("high");
            let low = input.column("low");
            let v = (0..close.len())
                .map(|i| a.update(high[i].unwrap(), low[i].unwrap(), close[i]))
                .collect();
            vec![(format!("atr_{arg}"), v)]
        }
        other => panic!("unknown flag {other}"),
    }
}

fn equal(got: f64, want: f64) -> bool {
    if want.abs() < 1e-3 {
        (got - want).abs() <= 1e-12
    } else {
        ((got - want) / want).abs() <= 1e-9
    }
}

#[test]
fn every_indicator_equals_talib_from_its_first_value_on() {
    let mut compared = 0usize;
    for name in SERIES {
        let input = read(&format!("{DIR}/{name}.csv"));
        let want = read(&format!("{DIR}/{name}.talib.csv"));
        let args = std::fs::read_to_string(format!("{DIR}/{name}.args")).unwrap();
        let flags: Vec<&str> = args.split_whitespace().collect();
        // Several flags of one kind (two --bbands) give the same column names only when
        // their periods are equal, which no fixture does.
        for pair in flags.chunks(2) {
            for (col, got) in compute(pair[0], pair[1], &input) {
                let expected = want.column(&col);
                assert_eq!(got.len(), expected.len(), "{name} {col}");
                let first_got = got.iter().position(Option::is_some);
                let first_want = expected.iter().position(Option::is_some);
                assert_eq!(first_got, first_want, "{name} {col}: first valid index");
                for (i, (g, w)) in got.iter().zip(&expected).enumerate() {
                    match (g, w) {
                        (Some(g), Some(w)) => {
                            assert!(equal(*g, *w), "{name} {col} row {i}: {g} vs TA-Lib {w}");
                            compared += 1;
                        }
                        (None, None) => {}
                        _ => panic!("{name} {col} row {i}: {g:?} vs TA-Lib {w:?}"),
                    }
                }
            }
        }
    }
    // The four series hold thousands of values; none was skipped.
    assert!(compared > 5_000, "{compared} values compared");
}

/// `mako indicators` on every fixture with its flags: the input's columns, then TA-Lib's
/// columns in the flags' order, each value equal to TA-Lib's and empty exactly where TA-Lib
/// has none.
#[test]
fn mako_indicators_prints_talibs_columns() {
    for name in SERIES {
        let args = std::fs::read_to_string(format!("{DIR}/{name}.args")).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
            .arg("indicators")
            .arg(format!("{DIR}/{name}.csv"))
            .args(args.split_whitespace())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got_path =
            std::env::temp_dir().join(format!("mako-indicators-{}-{name}.csv", std::process::id()));
        std::fs::write(&got_path, &out.stdout).unwrap();
        let got = read(got_path.to_str().unwrap());
        let _ = std::fs::remove_file(&got_path);
        let input = read(&format!("{DIR}/{name}.csv"));
        let want = read(&format!("{DIR}/{name}.talib.csv"));
        assert_eq!(got.rows.len(), input.rows.len(), "{name}");
        let expected_header: Vec<String> = input
            .header
            .iter()
            .chain(want.header.iter().skip(1))
            .cloned()
            .collect();
        assert_eq!(got.header, expected_header, "{name}");
        for col in want.header.iter().skip(1) {
            for (i, (g, w)) in got.column(col).iter().zip(want.column(col)).enumerate() {
                match (g, w) {
                    (Some(g), Some(w)) => assert!(equal(*g, w), "{name} {col} row {i}: {g} vs {w}"),
                    (None, None) => {}
                    _ => panic!("{name} {col} row {i}: {g:?} vs TA-Lib {w:?}"),
                }
            }
        }
    }
}

/// Bad input is an error naming what is wrong, with a non-zero exit and nothing on stdout
/// past the header.
#[test]
fn mako_indicators_refuses_bad_input_clearly() {
    let dir = std::env::temp_dir().join(format!("mako-indicators-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |n: &str, body: &str| {
        let p = dir.join(n);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let ok = file("ok.csv", "close\n1\n2\n");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![ok.clone()], "no indicator asked for"),
        (vec![ok.clone(), "--sma".into()], "--sma needs a value"),
        (
            vec![ok.clone(), "--sma".into(), "x".into()],
            "is not a whole number",
        ),
        (
            vec![ok.clone(), "--sma".into(), "0".into()],
            "must be between 1",
        ),
        (
            vec![ok.clone(), "--macd".into(), "12,26".into()],
            "expected 3",
        ),
        (
            vec![ok.clone(), "--bbands".into(), "20,x".into()],
            "is not a number",
        ),
        (
            vec![ok.clone(), "--atr".into(), "14".into()],
            "needs `high` and `low`",
        ),
        (vec![ok.clone(), "--wma".into(), "3".into()], "unknown flag"),
        (
            vec![file("nc.csv", "open\n1\n"), "--sma".into(), "2".into()],
            "no `close` column",
        ),
        (
            vec![
                file("ragged.csv", "time,close\na,1\nb\n"),
                "--sma".into(),
                "2".into(),
            ],
            "line 3: 1 fields, the header has 2",
        ),
        (
            vec![
                file("nan.csv", "close\n1\nNaN\n"),
                "--sma".into(),
                "2".into(),
            ],
            "line 3: close: \"NaN\" is not a number",
        ),
        (
            vec![file("empty.csv", "close\n"), "--sma".into(), "2".into()],
            "no rows after the header",
        ),
        (
            vec![
                dir.join("absent.csv").to_str().unwrap().into(),
                "--sma".into(),
                "2".into(),
            ],
            "absent.csv",
        ),
    ];
    for (args, want) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
            .arg("indicators")
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
