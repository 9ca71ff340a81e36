//! `mako indicators` end to end: the built binary on the TA-Lib fixtures (its columns equal
//! TA-Lib's, its input columns come back unchanged) and on bad input (a clear message on
//! stderr, a non-zero exit, nothing on stdout).

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/indicators")
        .join(name)
}

fn mako(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mako"))
        .arg("indicators")
        .args(args)
        .output()
        .expect("run mako")
}

fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect());
    (lines.next().expect("header"), lines.collect())
}

/// Runs the binary on `<series>.csv` with `<series>.args` and compares with the fixture.
fn matches_talib(series: &str) {
    let input = fixture(&format!("{series}.csv"));
    let args = std::fs::read_to_string(fixture(&format!("{series}.args"))).unwrap();
    let mut argv = vec![input.to_str().unwrap()];
    argv.extend(args.split_whitespace());
    let out = mako(&argv);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{series}: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (header, rows) = table(&stdout);
    let input_text = std::fs::read_to_string(&input).unwrap();
    let (in_header, in_rows) = table(&input_text);
    let (want_header, want_rows) =
        table(&std::fs::read_to_string(fixture(&format!("{series}.talib.csv"))).unwrap());

    // The input's columns, then TA-Lib's (less its time column), in the flags' order.
    assert_eq!(header[..in_header.len()], in_header[..], "{series}");
    assert_eq!(header[in_header.len()..], want_header[1..], "{series}");
    assert_eq!(rows.len(), want_rows.len(), "{series}");
    for (t, ((row, input_row), want)) in rows.iter().zip(&in_rows).zip(&want_rows).enumerate() {
        assert_eq!(
            row[..input_row.len()],
            input_row[..],
            "{series} bar {t}: input echoed"
        );
        for (name, (got, want)) in want_header[1..]
            .iter()
            .zip(row[input_row.len()..].iter().zip(&want[1..]))
        {
            if want.is_empty() {
                assert!(
                    got.is_empty(),
                    "{series} {name} bar {t}: {got} before TA-Lib's first value"
                );
                continue;
            }
            let (g, w): (f64, f64) = (got.parse().unwrap(), want.parse().unwrap());
            // The library test states the tolerance per column; here the CLI must print what
            // the library computed, which is within 1e-12 relative of TA-Lib (or both tiny).
            assert!(
                (g - w).abs() <= 1e-12 * g.abs().max(w.abs()) || (g - w).abs() < 1e-15,
                "{series} {name} bar {t}: printed {got}, TA-Lib {want}"
            );
        }
    }
}

#[test]
fn fixture_series_equal_talib_through_the_cli() {
    matches_talib("walk");
    matches_talib("edge");
    matches_talib("short");
    matches_talib("tiny");
}

fn fails(args: &[&str], want: &str) {
    let out = mako(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(want),
        "{args:?}: stderr {stderr:?} lacks {want:?}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

fn temp_csv(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mako-indicators-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_invocations_and_bad_files_are_refused_clearly() {
    let walk = fixture("walk.csv");
    let walk = walk.to_str().unwrap();
    fails(&[walk], "no indicator asked for");
    fails(
        &[walk, "--sma", "0"],
        "--sma 0: SMA period 0: must be between 1 and 100000",
    );
    fails(&[walk, "--macd", "12,26"], "expected FAST,SLOW,SIGNAL");
    fails(&[walk, "--rsi"], "--rsi needs a value");
    fails(
        &["/nonexistent/prices.csv", "--sma", "5"],
        "cannot read /nonexistent/prices.csv",
    );

    let ragged = temp_csv("ragged.csv", "time,close\nt0,1\nt1,2,3\n");
    fails(
        &[ragged.to_str().unwrap(), "--sma", "2"],
        "line 3: 3 fields where the header has 2",
    );
    let text = temp_csv("text.csv", "time,close\nt0,1\nt1,1.5\nt2,abc\n");
    fails(
        &[text.to_str().unwrap(), "--ema", "2"],
        "line 4: close \"abc\" is not a number",
    );
    let no_high = temp_csv("no_high.csv", "time,low,close\nt0,1,1\n");
    fails(
        &[no_high.to_str().unwrap(), "--atr", "14"],
        "no column named \"high\"",
    );
    let no_close = temp_csv("no_close.csv", "time,price\nt0,1\n");
    fails(
        &[no_close.to_str().unwrap(), "--sma", "2"],
        "no column named \"close\"",
    );
    let _ = std::fs::remove_dir_all(no_close.parent().unwrap());
}
