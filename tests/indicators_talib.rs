//! Every indicator against TA-Lib's own output on fixed series (`tests/fixtures/indicators/`,
//! written by `tools/talib_fixtures.py`, which names the TA-Lib version): the same first
//! valid index (`None` before it, `Some` from it) and every value equal.
//!
//! Equal means: within 1e-9 of the larger magnitude (relative), or within 1e-12 of the
//! column's largest magnitude (absolute, in the column's own unit), for values near zero
//! such as a MACD histogram crossing zero, where a last-bit difference in the two EMAs is a
//! large relative one. `vol_<n>` is compared with numpy (TA-Lib has none).

use mako::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};

const REL: f64 = 1e-9;
const ABS_OF_COLUMN_MAX: f64 = 1e-12;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/indicators/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A CSV as (header, rows of fields); the fixtures have no quoted fields.
fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect());
    let header = lines.next().expect("header");
    (header, lines.collect())
}

fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = header.iter().position(|h| h == name).expect(name);
    rows.iter().map(|r| r[i].as_str()).collect()
}

fn numbers(fields: &[&str]) -> Vec<f64> {
    fields.iter().map(|f| f.parse().expect(f)).collect()
}

/// The columns the flags in `<series>.args` ask for, computed by mako bar by bar.
fn computed(
    args: &str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
) -> Vec<(String, Vec<Option<f64>>)> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut cols = Vec::new();
    for pair in words.chunks(2) {
        let (flag, value) = (pair[0], pair[1]);
        let nums: Vec<f64> = value.split(',').map(|v| v.parse().unwrap()).collect();
        let n = nums[0] as usize;
        let one = |name: String, f: &mut dyn FnMut(usize) -> Option<f64>| {
            (name, (0..close.len()).map(f).collect::<Vec<_>>())
        };
        match flag {
            "--sma" => {
                let mut i = Sma::new(n).unwrap();
                cols.push(one(format!("sma_{n}"), &mut |t| i.update(close[t])));
            }
            "--ema" => {
                let mut i = Ema::new(n).unwrap();
                cols.push(one(format!("ema_{n}"), &mut |t| i.update(close[t])));
            }
            "--rsi" => {
                let mut i = Rsi::new(n).unwrap();
                cols.push(one(format!("rsi_{n}"), &mut |t| i.update(close[t])));
            }
            "--atr" => {
                let mut i = Atr::new(n).unwrap();
                cols.push(one(format!("atr_{n}"), &mut |t| {
                    i.update(high[t], low[t], close[t])
                }));
            }
            "--vol" => {
                let mut i = LogReturnVol::new(n).unwrap();
                cols.push(one(format!("vol_{n}"), &mut |t| i.update(close[t])));
            }
            "--macd" => {
                let mut i = Macd::new(n, nums[1] as usize, nums[2] as usize).unwrap();
                let v: Vec<_> = close.iter().map(|&x| i.update(x)).collect();
                cols.push(("macd".into(), v.iter().map(|v| v.map(|v| v.macd)).collect()));
                let signal = v.iter().map(|v| v.map(|v| v.signal)).collect();
                cols.push(("macd_signal".into(), signal));
                cols.push((
                    "macd_hist".into(),
                    v.iter().map(|v| v.map(|v| v.hist)).collect(),
                ));
            }
            "--bbands" => {
                let mut i = Bbands::new(n, nums[1]).unwrap();
                let v: Vec<_> = close.iter().map(|&x| i.update(x)).collect();
                let band = |f: fn(&mako::strategy::indicators::Bands) -> f64| {
                    v.iter().map(|b| b.as_ref().map(f)).collect()
                };
                cols.push((format!("bb_upper_{n}"), band(|b| b.upper)));
                cols.push((format!("bb_middle_{n}"), band(|b| b.middle)));
                cols.push((format!("bb_lower_{n}"), band(|b| b.lower)));
            }
            other => panic!("fixture flag {other}"),
        }
    }
    cols
}

/// Where `got` and `want` (the fixture's fields, empty for no value) disagree, or `None`.
fn disagreement(got: &[Option<f64>], want: &[&str]) -> Option<String> {
    assert_eq!(got.len(), want.len());
    let first_got = got.iter().position(Option::is_some);
    let first_want = want.iter().position(|f| !f.is_empty());
    if first_got != first_want {
        return Some(format!(
            "first value at {first_got:?}, TA-Lib's at {first_want:?}"
        ));
    }
    let scale = want
        .iter()
        .filter(|f| !f.is_empty())
        .map(|f| f.parse::<f64>().unwrap().abs())
        .fold(0.0, f64::max);
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        match (g, w.is_empty()) {
            (None, true) => {}
            (Some(g), false) => {
                let w: f64 = w.parse().unwrap();
                let diff = (g - w).abs();
                if diff > REL * g.abs().max(w.abs()) && diff > ABS_OF_COLUMN_MAX * scale {
                    return Some(format!("bar {t}: {g} where TA-Lib has {w}"));
                }
            }
            (g, _) => return Some(format!("bar {t}: {g:?} where TA-Lib has {w:?}")),
        }
    }
    None
}

/// Checks every column of `<series>.talib.csv`; returns how many values were compared.
fn check(series: &str) -> usize {
    let (in_header, in_rows) = table(&fixture(&format!("{series}.csv")));
    let (header, rows) = table(&fixture(&format!("{series}.talib.csv")));
    let args = fixture(&format!("{series}.args"));
    assert_eq!(rows.len(), in_rows.len(), "{series}: row counts");
    let get = |name| numbers(&column(&in_header, &in_rows, name));
    let (high, low, close) = (get("high"), get("low"), get("close"));
    let cols = computed(&args, &high, &low, &close);
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        header[1..],
        names,
        "{series}: the fixture's columns are the flags'"
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, got) in &cols {
        let want = column(&header, &rows, name);
        compared += want.iter().filter(|f| !f.is_empty()).count();
        if let Some(why) = disagreement(got, &want) {
            failures.push(format!("{series} {name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    compared
}

#[test]
fn random_walk_of_300_bars() {
    // 19 columns, each with a value from its first valid index on.
    assert!(check("walk") > 19 * 250);
}

#[test]
fn flat_stretches_straight_runs_and_a_spike() {
    assert!(check("edge") > 19 * 80);
}

#[test]
fn a_series_shorter_than_most_periods() {
    // Period-9 ATR, RSI and vol and period-10 SMA, EMA and bands give one value, on the
    // last bar; the longer ones none; the period-5 SMA six.
    assert_eq!(check("short"), 6 + 1 + 1 + 1 + 3 + 1 + 1);
}

#[test]
fn a_coin_quoted_near_two_hundred_thousandths() {
    assert!(check("tiny") > 14 * 170);
}

#[test]
fn the_comparison_catches_a_wrong_value_and_a_wrong_first_index() {
    let want = ["", "1.0", "2.0"];
    assert_eq!(disagreement(&[None, Some(1.0), Some(2.0)], &want), None);
    assert!(disagreement(&[None, Some(1.0), Some(2.0 + 1e-8)], &want).is_some());
    assert!(disagreement(&[Some(0.0), Some(1.0), Some(2.0)], &want).is_some());
    assert!(disagreement(&[None, None, Some(2.0)], &want).is_some());
}
