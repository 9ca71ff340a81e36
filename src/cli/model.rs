//! `mako model check <model.txt>` says what a LightGBM model is (or why mako refuses it);
//! `mako model predict <model.txt> <rows.csv> [--raw] [--num-iteration N]` prints mako's
//! predictions, so a user can hold them against their Python pipeline before trading on it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::strategy::model::{Model, rows};

pub const USAGE: &str = "\
usage: mako model check <model.txt>
       mako model predict <model.txt> <rows.csv> [--raw] [--num-iteration N]
  check: the model's objective, classes, trees, features and split kinds, or why it is refused.
  predict: the CSV has a header; columns are matched to the model's features by name when
  every feature has a column of its name, otherwise by position; an empty field is a missing
  value. Output: a header pred0[,pred1...] (raw0... with --raw), one line per input row, each
  value printed so it reads back as the same double.";

pub fn run(args: &[String]) -> ExitCode {
    let result = match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        Some("predict") => predict(&args[1..]),
        _ => Err(String::new()),
    };
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(text.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.is_empty() => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("mako model: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &str) -> Result<Model, String> {
    Model::from_file(Path::new(path)).map_err(|e| format!("{path}: {e}"))
}

fn check(args: &[String]) -> Result<String, String> {
    let [path] = args else {
        return Err(String::new());
    };
    let m = load(path)?;
    let (cat, nan, zero) = m.split_counts();
    let mut s = String::new();
    let _ = writeln!(s, "model: {path}");
    let _ = writeln!(s, "sha256: {}", m.hash());
    let _ = writeln!(s, "objective: {}", m.objective());
    let _ = writeln!(s, "outputs per row: {}", m.outputs());
    let _ = writeln!(
        s,
        "trees: {} ({} iterations x {} per iteration), at most {} leaves",
        m.trees(),
        m.iterations(),
        m.outputs(),
        m.max_leaves()
    );
    let _ = writeln!(
        s,
        "features ({}): {}",
        m.features().len(),
        m.features().join(" ")
    );
    let _ = writeln!(
        s,
        "splits: {cat} categorical, {nan} numerical with NaN as missing, {zero} numerical with zero as missing"
    );
    let _ = writeln!(
        s,
        "unsupported: nothing (mako predicts this model as LightGBM does)"
    );
    Ok(s)
}

fn predict(args: &[String]) -> Result<String, String> {
    let (mut files, mut raw, mut limit) = (Vec::new(), false, usize::MAX);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--raw" => raw = true,
            "--num-iteration" => {
                let v = it.next().ok_or("--num-iteration needs a number")?;
                limit = v.parse().ok().filter(|&n| n > 0).ok_or(format!(
                    "--num-iteration {v:?}: expected a whole number above 0"
                ))?;
            }
            f if f.starts_with("--") => return Err(format!("unknown flag {f:?}\n{USAGE}")),
            f => files.push(f),
        }
    }
    let [model_path, rows_path] = files[..] else {
        return Err(String::new());
    };
    let m = load(model_path)?;
    let text =
        std::fs::read_to_string(rows_path).map_err(|e| format!("cannot read {rows_path}: {e}"))?;
    let rows = rows::read(&m, &text).map_err(|e| format!("{rows_path}: {e}"))?;
    let name = if raw { "raw" } else { "pred" };
    let mut s = (0..m.outputs())
        .map(|k| format!("{name}{k}"))
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    let mut out = vec![0.0; m.outputs()];
    for row in &rows {
        let r = if raw {
            m.predict_raw_limit(row, limit, &mut out)
        } else {
            m.predict_limit(row, limit, &mut out)
        };
        r.map_err(|e| e.to_string())?;
        for (k, v) in out.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            // `{:?}` prints the shortest text that reads back as the same double.
            let _ = write!(s, "{v:?}");
        }
        s.push('\n');
    }
    Ok(s)
}
