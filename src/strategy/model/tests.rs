//! A hand-written model whose every path is known: each split kind, missing values, and the
//! refusals of a damaged file. LightGBM's own predictions are checked in tests/lgbm_model.rs.

use super::*;

/// Tree 0: `a <= 1.5` (NaN missing, default left) → leaf 0.1, else `b` in {1, 3} → 0.2 else
/// 0.3. Tree 1: `a <= -1` with zero as missing (default right) → 1.0 else 2.0.
const MODEL: &str = "tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=regression
feature_names=a b
feature_infos=none none
tree_sizes=1 1

Tree=0
num_leaves=3
num_cat=1
split_feature=0 1
split_gain=1 1
threshold=1.5 0
decision_type=10 1
left_child=-1 -2
right_child=1 -3
leaf_value=0.1 0.2 0.3
leaf_weight=1 1 1
leaf_count=1 1 1
internal_value=0 0
internal_weight=0 0
internal_count=3 2
cat_boundaries=0 1
cat_threshold=10
is_linear=0
shrinkage=1


Tree=1
num_leaves=2
num_cat=0
split_feature=0
split_gain=1
threshold=-1
decision_type=4
left_child=-1
right_child=-2
leaf_value=1 2
leaf_weight=1 1
leaf_count=1 1
internal_value=0
internal_weight=0
internal_count=2
is_linear=0
shrinkage=1


end of trees

feature_importances:
a=2
";

fn model() -> Model {
    Model::from_bytes(MODEL.as_bytes()).expect("the hand-written model reads")
}

#[test]
fn every_path_of_the_hand_written_model() {
    let m = model();
    let nan = f64::NAN;
    // (a, b, tree 0's leaf, tree 1's leaf)
    let cases = [
        (1.0, 0.0, 0.1, 2.0),
        (1.5, 0.0, 0.1, 2.0),
        (nan, 1.0, 0.1, 2.0), // NaN: tree 0's default (left); tree 1 reads it as zero: missing
        (2.0, 3.0, 0.2, 2.0),
        (2.0, 1.0, 0.2, 2.0),
        (2.0, 3.9, 0.2, 2.0), // category 3
        (2.0, 2.0, 0.3, 2.0),
        (2.0, nan, 0.3, 2.0),  // NaN category: right
        (2.0, -0.5, 0.3, 2.0), // category 0, not in {1, 3}
        (2.0, -3.0, 0.3, 2.0), // negative: right
        (2.0, 1e10, 0.3, 2.0), // past the bitset: right
        (-2.0, 0.0, 0.1, 1.0),
        (0.0, 0.0, 0.1, 2.0),   // zero is missing in tree 1: default right
        (1e-40, 0.0, 0.1, 2.0), // within 1e-35: zero
        (-1e-40, 0.0, 0.1, 2.0),
    ];
    let mut out = [0.0];
    for (a, b, t0, t1) in cases {
        m.predict_raw(&[a, b], &mut out).unwrap();
        assert_eq!(out[0], t0 + t1, "a={a} b={b}");
        m.predict_raw_limit(&[a, b], 1, &mut out).unwrap();
        assert_eq!(out[0], t0, "a={a} b={b}, one iteration");
    }
    assert_eq!(m.split_counts(), (1, 1, 1));
    assert_eq!(m.features(), ["a", "b"]);
    assert_eq!(m.hash().len(), 64);
}

#[test]
fn wrong_row_and_output_sizes_are_errors() {
    let m = model();
    let mut out = [0.0];
    assert_eq!(
        m.predict(&[1.0], &mut out),
        Err(PredictError::Features { want: 2, got: 1 })
    );
    assert_eq!(
        m.predict(&[1.0, 2.0], &mut [0.0, 0.0]),
        Err(PredictError::Outputs { want: 1, got: 2 })
    );
}

/// The model with `from` replaced by `to`, read: the error's text.
fn refused(from: &str, to: &str) -> String {
    assert!(MODEL.contains(from), "{from:?}");
    Model::from_bytes(MODEL.replacen(from, to, 1).as_bytes())
        .expect_err("refused")
        .to_string()
}

#[test]
fn damaged_models_are_refused_with_line_and_tree() {
    let cases = [
        (
            "objective=regression",
            "objective=lambdarank",
            "line 7: objective \"lambdarank\" is not supported",
        ),
        (
            "objective=regression",
            "objective=regression sqrt",
            "line 7: objective regression: parameter `sqrt`",
        ),
        (
            "threshold=1.5 0",
            "threshold=1.5 x",
            "line 17 (tree 0): `threshold` value 1 (\"x\") is not a valid number",
        ),
        (
            "threshold=1.5 0",
            "threshold=1.5",
            "line 17 (tree 0): `threshold` has 1 values, expected 2",
        ),
        (
            "decision_type=10 1",
            "decision_type=10 64",
            "node 1: decision_type 64",
        ),
        (
            "decision_type=4",
            "decision_type=12",
            "line 39 (tree 1): node 0: decision_type 12 has an unknown missing type",
        ),
        (
            "right_child=1 -3",
            "right_child=1 -2",
            "line 20 (tree 0): node 1: right_child -2 is out of range or used twice",
        ),
        (
            "right_child=1 -3",
            "right_child=0 -3",
            "right_child 0 is out of range",
        ),
        (
            "split_feature=0 1",
            "split_feature=0 2",
            "node 1: feature 2 but the model has 2 features",
        ),
        (
            "is_linear=0",
            "is_linear=1",
            "line 29 (tree 0): linear trees",
        ),
        ("Tree=1", "Tree=2", "(tree 1): expected Tree=1"),
        (
            "max_feature_idx=1",
            "max_feature_idx=2",
            "feature_names has 2 names but max_feature_idx=2",
        ),
        ("version=v4", "version=v9", "line 2: model version \"v9\""),
        ("tree\n", "booster\n", "line 1: expected `tree`"),
        (
            "end of trees\n\nfeature_importances:\na=2\n",
            "",
            "without `end of trees` (truncated?)",
        ),
        (
            "end of trees",
            "",
            "expected `Tree=N` or `end of trees`; found \"feature_importances:\"",
        ),
        (
            "cat_threshold=10",
            "cat_threshold=10 11",
            "cat_boundaries do not describe",
        ),
        (
            "label_index=0",
            "average_output\nlabel_index=0",
            "average_output (a random forest model)",
        ),
    ];
    for (from, to, want) in cases {
        let got = refused(from, to);
        assert!(got.contains(want), "{from:?} -> {to:?}: {got}");
    }
}

#[test]
fn a_truncated_model_is_refused_wherever_it_is_cut() {
    let end = MODEL.find("end of trees").unwrap();
    for cut in (0..end).step_by(7) {
        let e = Model::from_bytes(&MODEL.as_bytes()[..cut]).expect_err("a cut model is refused");
        assert!(!e.to_string().is_empty());
    }
}
