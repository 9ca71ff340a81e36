//! mako's LightGBM predictions against LightGBM's own (tests/fixtures/lgbm/, written by
//! tools/lgbm/fixtures.py with lightgbm 4.7.0): raw scores and predictions within 1e-12 on
//! every fixture row, with `num_iteration` limits; and refusals of damaged fixtures.

use std::io::Read as _;
use std::path::PathBuf;

use mako::strategy::model::{Model, PredictError, rows};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lgbm")
        .join(name)
}

/// The model file's bytes (`binary_120` is stored gzipped to keep the fixtures small).
fn model_bytes(name: &str) -> Vec<u8> {
    let plain = fixture(&format!("{name}.model.txt"));
    if plain.exists() {
        return std::fs::read(plain).unwrap();
    }
    let gz = std::fs::read(fixture(&format!("{name}.model.txt.gz"))).unwrap();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut text)
        .unwrap();
    text
}

fn model(name: &str) -> Model {
    Model::from_bytes(&model_bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A CSV of numbers with a header: (header, rows).
fn table(path: PathBuf) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

/// Predicts every fixture row of `name` (over `iters` iterations, all if `None`) and holds
/// the raw scores and predictions against LightGBM's. Returns how many values were equal to
/// the bit.
fn matches_lightgbm(name: &str, iters: Option<usize>) -> usize {
    let m = model(name);
    let rows = rows::read(
        &m,
        &std::fs::read_to_string(fixture(&format!("{name}.rows.csv"))).unwrap(),
    )
    .unwrap();
    let suffix = iters.map(|k| format!(".iter{k}")).unwrap_or_default();
    let (raw_header, want_raw) = table(fixture(&format!("{name}{suffix}.raw.csv")));
    let (pred_header, want_pred) = table(fixture(&format!("{name}{suffix}.pred.csv")));
    assert_eq!(raw_header.len(), m.outputs(), "{name}");
    assert_eq!(pred_header.len(), m.outputs(), "{name}");
    assert_eq!(rows.len(), want_raw.len(), "{name}");
    assert!(rows.len() >= 50, "{name}: enough rows to mean something");
    let limit = iters.unwrap_or(usize::MAX);
    let mut out = vec![0.0; m.outputs()];
    let mut exact = 0;
    for (i, row) in rows.iter().enumerate() {
        for (kind, want, predict) in [
            (
                "raw",
                &want_raw[i],
                Model::predict_raw_limit
                    as fn(&Model, &[f64], usize, &mut [f64]) -> Result<(), PredictError>,
            ),
            ("pred", &want_pred[i], Model::predict_limit),
        ] {
            predict(&m, row, limit, &mut out).unwrap();
            for (k, (got, want)) in out.iter().zip(want).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-12,
                    "{name}{suffix} row {i} {kind}{k}: mako {got:?}, LightGBM {want:?}"
                );
                exact += usize::from(got.to_bits() == want.to_bits());
            }
        }
    }
    exact
}

#[test]
fn nan_missing_values_equal_lightgbm() {
    assert!(
        model("binary_nan").split_counts().1 > 0,
        "the model has NaN-missing splits"
    );
    matches_lightgbm("binary_nan", None);
    matches_lightgbm("binary_nan", Some(5));
}

#[test]
fn zero_as_missing_equals_lightgbm() {
    assert!(
        model("zero_missing").split_counts().2 > 0,
        "the model has zero-missing splits"
    );
    matches_lightgbm("zero_missing", None);
}

#[test]
fn categorical_splits_equal_lightgbm() {
    assert!(
        model("categorical").split_counts().0 > 0,
        "the model has categorical splits"
    );
    matches_lightgbm("categorical", None);
}

#[test]
fn multiclass_equals_lightgbm() {
    let m = model("multiclass");
    assert_eq!((m.outputs(), m.trees()), (3, 45));
    matches_lightgbm("multiclass", None);
    matches_lightgbm("multiclass", Some(4));
}

#[test]
fn regression_equals_lightgbm() {
    matches_lightgbm("regression", None);
}

#[test]
fn a_hundred_and_twenty_trees_equal_lightgbm() {
    let m = model("binary_120");
    assert_eq!(
        (m.trees(), m.max_leaves(), m.features().len()),
        (120, 31, 10)
    );
    let exact = matches_lightgbm("binary_120", None);
    // 100 rows, raw and probability: every one equal to the bit, as LightGBM sums in the
    // same order in the same arithmetic.
    assert_eq!(exact, 200);
    matches_lightgbm("binary_120", Some(37));
}

/// The three walks (the fast all-trees-at-once layout `predict_raw` takes, the in-step walk,
/// one tree at a time) agree to the bit on every fixture row, and on rows made to hit the
/// edges: NaN, exact 0, values within LightGBM's zero threshold, and every threshold itself.
#[test]
fn the_three_walks_agree_to_the_bit() {
    for name in [
        "binary_120",
        "binary_nan",
        "zero_missing",
        "multiclass",
        "regression",
    ] {
        let m = model(name);
        let text = std::fs::read_to_string(fixture(&format!("{name}.rows.csv"))).unwrap();
        let model_text = String::from_utf8(model_bytes(name)).unwrap();
        let thresholds: Vec<f64> = model_text
            .lines()
            .filter_map(|l| l.strip_prefix("threshold="))
            .flat_map(|l| l.split(' ').filter_map(|v| v.parse().ok()))
            .collect();
        let mut rows = rows::read(&m, &text).unwrap();
        let n = m.features().len();
        let edges = [f64::NAN, 0.0, -0.0, 1e-36, -1e-36, 1e-30];
        for (i, e) in edges.iter().enumerate() {
            rows.push(
                (0..n)
                    .map(|f| if (f + i) % 2 == 0 { *e } else { 0.5 })
                    .collect(),
            );
        }
        for (i, t) in thresholds.iter().enumerate() {
            rows.push(
                (0..n)
                    .map(|f| if (f + i) % 3 == 0 { *t } else { -*t })
                    .collect(),
            );
        }
        let mut a = vec![0.0; m.outputs()];
        let mut b = vec![0.0; m.outputs()];
        let mut c = vec![0.0; m.outputs()];
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for row in &rows {
            m.predict_raw(row, &mut a).unwrap();
            m.predict_raw_in_step(row, &mut b).unwrap();
            m.predict_raw_one_at_a_time(row, &mut c).unwrap();
            assert_eq!(bits(&a), bits(&c), "{name}: fast layout, row {row:?}");
            assert_eq!(bits(&b), bits(&c), "{name}: in step, row {row:?}");
        }
    }
}

#[test]
fn the_comparison_catches_a_wrong_leaf() {
    // One leaf value of the first tree changed in its last digits: some row must differ.
    let text = String::from_utf8(model_bytes("regression")).unwrap();
    let start = text.find("leaf_value=").unwrap() + "leaf_value=".len();
    let end = start + text[start..].find(' ').unwrap();
    let changed = format!("{}{}", &text[..start], &text[start..]).replacen(
        &text[start..end],
        &format!("{}", text[start..end].parse::<f64>().unwrap() + 1e-9),
        1,
    );
    let m = Model::from_bytes(changed.as_bytes()).unwrap();
    let rows = rows::read(
        &m,
        &std::fs::read_to_string(fixture("regression.rows.csv")).unwrap(),
    )
    .unwrap();
    let (_, want) = table(fixture("regression.raw.csv"));
    let mut out = [0.0];
    let differ = rows
        .iter()
        .zip(&want)
        .filter(|(row, want)| {
            m.predict_raw(row, &mut out).unwrap();
            (out[0] - want[0]).abs() > 1e-12
        })
        .count();
    assert!(differ > 0);
}

#[test]
fn a_truncated_model_is_refused() {
    let bytes = model_bytes("binary_nan");
    let text = std::str::from_utf8(&bytes).unwrap();
    let half = text.len() / 2;
    let e = Model::from_bytes(&bytes[..half]).unwrap_err().to_string();
    assert!(e.contains("(tree ") || e.contains("truncated"), "{e}");
    // Cut just before `end of trees`: every tree whole, the end marker absent.
    let end = text.find("end of trees").unwrap();
    let e = Model::from_bytes(&bytes[..end]).unwrap_err().to_string();
    assert!(e.contains("without `end of trees` (truncated?)"), "{e}");
}

#[test]
fn an_unknown_objective_is_refused() {
    let text = String::from_utf8(model_bytes("binary_nan")).unwrap();
    let e = Model::from_bytes(
        text.replace("objective=binary sigmoid:1", "objective=tweedie")
            .as_bytes(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "line 7: objective \"tweedie\" is not supported (supported: binary, multiclass, regression)"
    );
}

#[test]
fn a_wrong_feature_count_is_refused() {
    let m = model("binary_nan");
    let mut out = [0.0];
    assert_eq!(
        m.predict(&[0.0; 3], &mut out),
        Err(PredictError::Features { want: 4, got: 3 })
    );
    let e = rows::read(&m, "a,b,c\n1,2,3\n").unwrap_err();
    assert!(
        e.starts_with("wrong feature count: the model has 4 features, the CSV has 3 columns"),
        "{e}"
    );
}

/// The fast layout's tables (its scans done when the model is read) give the same bits as
/// its scan done per row, on the fixture rows and on rows at every threshold, on each side
/// of it, at NaN, 0, -0 and within the zero threshold; `predict_raw` takes the tables on
/// these models (checked), and both are held against the walk one tree at a time.
#[test]
fn the_tables_and_the_scan_agree_to_the_bit() {
    for name in ["binary_120", "binary_nan", "zero_missing", "regression"] {
        let m = model(name);
        assert!(m.fast_tables(), "{name}: small enough for tables");
        let text = std::fs::read_to_string(fixture(&format!("{name}.rows.csv"))).unwrap();
        let model_text = String::from_utf8(model_bytes(name)).unwrap();
        let mut values: Vec<f64> = model_text
            .lines()
            .filter_map(|l| l.strip_prefix("threshold="))
            .flat_map(|l| l.split(' ').filter_map(|v| v.parse::<f64>().ok()))
            .flat_map(|t| [t, t.next_down(), t.next_up()])
            .collect();
        values.extend([f64::NAN, 0.0, -0.0, 1e-36, -1e-36, 1e-30, f64::INFINITY]);
        values.push(f64::NEG_INFINITY);
        let mut rows = rows::read(&m, &text).unwrap();
        let n = m.features().len();
        for (i, v) in values.iter().enumerate() {
            rows.push((0..n).map(|f| values[(i + 7 * f) % values.len()]).collect());
            rows.push(vec![*v; n]);
        }
        let (mut a, mut b, mut c) = ([0.0], [0.0], [0.0]);
        for row in &rows {
            m.predict_raw(row, &mut a).unwrap();
            m.predict_raw_scan(row, &mut b)
                .expect("fast layout")
                .unwrap();
            m.predict_raw_one_at_a_time(row, &mut c).unwrap();
            assert_eq!(a[0].to_bits(), b[0].to_bits(), "{name}: scan, row {row:?}");
            assert_eq!(
                a[0].to_bits(),
                c[0].to_bits(),
                "{name}: tree walk, row {row:?}"
            );
        }
    }
}
