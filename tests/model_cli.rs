//! `mako model` end to end: `predict` on the LightGBM fixtures prints LightGBM's values (to
//! the bit on these fixtures) with the documented header, matches columns by name in any
//! order, and refuses bad input with a message and a non-zero exit; `check` describes a
//! model and refuses a damaged one.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lgbm")
        .join(name)
}

fn mako(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mako"))
        .arg("model")
        .args(args)
        .output()
        .expect("run mako")
}

fn table(text: &str) -> (String, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header = lines.next().expect("header").to_string();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse().expect(v)).collect())
        .collect();
    (header, rows)
}

fn predicts_as_lightgbm(name: &str, raw: bool) {
    let model = fixture(&format!("{name}.model.txt"));
    let rows = fixture(&format!("{name}.rows.csv"));
    let mut args = vec!["predict", model.to_str().unwrap(), rows.to_str().unwrap()];
    if raw {
        args.push("--raw");
    }
    let out = mako(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, got) = table(&String::from_utf8(out.stdout).unwrap());
    let kind = if raw { "raw" } else { "pred" };
    let want_text = std::fs::read_to_string(fixture(&format!("{name}.{kind}.csv"))).unwrap();
    let (want_header, want) = table(&want_text);
    assert_eq!(header, want_header);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let g: Vec<u64> = g.iter().map(|v| v.to_bits()).collect();
        let w: Vec<u64> = w.iter().map(|v| v.to_bits()).collect();
        assert_eq!(g, w, "{name} {kind} row {i}");
    }
}

#[test]
fn predict_prints_lightgbm_values() {
    for name in [
        "binary_nan",
        "zero_missing",
        "categorical",
        "multiclass",
        "regression",
    ] {
        predicts_as_lightgbm(name, false);
        predicts_as_lightgbm(name, true);
    }
}

#[test]
fn predict_matches_columns_by_name_in_any_order_and_by_position_otherwise() {
    let dir = std::env::temp_dir().join(format!("mako-model-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = fixture("regression.model.txt");
    let text = std::fs::read_to_string(fixture("regression.rows.csv")).unwrap();
    // Columns reversed, with an extra label column: matched by name.
    let reversed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.reverse();
            format!("{},{}\n", f.join(","), if i == 0 { "label" } else { "7" })
        })
        .collect();
    // Unknown names, as many columns as features: by position.
    let renamed = text.replacen("f0,f1,f2", "x,y,z", 1);
    let want = mako(&[
        "predict",
        model.to_str().unwrap(),
        fixture("regression.rows.csv").to_str().unwrap(),
    ]);
    for (file, body) in [("reversed.csv", reversed), ("renamed.csv", renamed)] {
        let path = dir.join(file);
        std::fs::write(&path, body).unwrap();
        let got = mako(&["predict", model.to_str().unwrap(), path.to_str().unwrap()]);
        assert!(
            got.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(got.stdout, want.stdout, "{file}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_refused_with_a_message() {
    let dir = std::env::temp_dir().join(format!("mako-model-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = fixture("binary_nan.model.txt");
    let text = std::fs::read_to_string(&model).unwrap();
    let truncated = dir.join("truncated.txt");
    std::fs::write(&truncated, &text[..text.len() / 3]).unwrap();
    let rows3 = dir.join("rows3.csv");
    std::fs::write(&rows3, "a,b,c\n1,2,3\n").unwrap();
    let notnum = dir.join("notnum.csv");
    std::fs::write(&notnum, "f0,f1,f2,f3\n1,2,x,4\n").unwrap();
    let m = model.to_str().unwrap();
    let cases: [(Vec<&str>, &str); 4] = [
        (vec!["check", truncated.to_str().unwrap()], "(tree "),
        (
            vec!["predict", m, rows3.to_str().unwrap()],
            "wrong feature count: the model has 4 features",
        ),
        (
            vec!["predict", m, notnum.to_str().unwrap()],
            "line 2, column \"f2\": \"x\" is not a number",
        ),
        (
            vec!["predict", m, "/nonexistent/rows.csv"],
            "cannot read /nonexistent/rows.csv",
        ),
    ];
    for (args, want) in cases {
        let out = mako(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_describes_the_model() {
    let out = mako(&["check", fixture("multiclass.model.txt").to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "objective: multiclass (3 classes)",
        "trees: 45 (15 iterations x 3 per iteration), at most 8 leaves",
        "features (5): f0 f1 f2 f3 f4",
        "unsupported: nothing",
    ] {
        assert!(text.contains(want), "{want:?} in {text}");
    }
}
