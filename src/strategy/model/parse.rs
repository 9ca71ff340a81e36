//! LightGBM's text model format read into a [`Model`]: the header (`key=value` lines after
//! `tree`), then one `Tree=N` block per tree, then `end of trees`; what follows (feature
//! importances, parameters) is not needed to predict and is not read. Every error names the
//! line, and the tree when it is in one.

use super::{Model, ModelError, Node, Objective, Split};

/// Header keys that do not change predictions.
const HEADER_IGNORED: &[&str] = &[
    "label_index",
    "feature_infos",
    "monotone_constraints",
    "tree_sizes",
    "parser_config_str",
];
/// Tree keys that do not change predictions (gains, weights, counts, the shrinkage already
/// folded into the leaf values).
const TREE_IGNORED: &[&str] = &[
    "split_gain",
    "leaf_weight",
    "leaf_count",
    "internal_value",
    "internal_weight",
    "internal_count",
    "shrinkage",
];

fn err(line: usize, tree: Option<usize>, what: impl Into<String>) -> ModelError {
    ModelError {
        line: Some(line),
        tree,
        what: what.into(),
    }
}

/// One `key=value` line of a tree block.
struct Field<'a> {
    line: usize,
    key: &'a str,
    value: &'a str,
}

/// A tree block's fields, looked up by key.
struct Block<'a> {
    tree: usize,
    /// The `Tree=N` line.
    line: usize,
    fields: Vec<Field<'a>>,
}

impl<'a> Block<'a> {
    fn get(&self, key: &str) -> Result<&Field<'a>, ModelError> {
        self.fields.iter().find(|f| f.key == key).ok_or_else(|| {
            err(
                self.line,
                Some(self.tree),
                format!("the tree has no `{key}=` line (a truncated or edited file?)"),
            )
        })
    }

    /// The values of `key`, each parsed, exactly `n` of them.
    fn array<T: std::str::FromStr>(&self, key: &str, n: usize) -> Result<Vec<T>, ModelError> {
        let f = self.get(key)?;
        let values: Vec<&str> = f.value.split(' ').filter(|s| !s.is_empty()).collect();
        if values.len() != n {
            return Err(err(
                f.line,
                Some(self.tree),
                format!("`{key}` has {} values, expected {n}", values.len()),
            ));
        }
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.parse().map_err(|_| {
                    err(
                        f.line,
                        Some(self.tree),
                        format!("`{key}` value {i} ({v:?}) is not a valid number"),
                    )
                })
            })
            .collect()
    }

    fn scalar<T: std::str::FromStr>(&self, key: &str) -> Result<T, ModelError> {
        Ok(self.array::<T>(key, 1)?.remove(0))
    }
}

/// The header's values that matter for prediction.
#[derive(Default)]
struct Header {
    num_class: Option<usize>,
    per_iteration: Option<usize>,
    max_feature_idx: Option<usize>,
    objective: Option<(usize, String)>,
    features: Option<Vec<String>>,
}

fn number(line: usize, key: &str, value: &str) -> Result<usize, ModelError> {
    value.trim().parse().map_err(|_| {
        err(
            line,
            None,
            format!("`{key}` {value:?} is not a whole number"),
        )
    })
}

fn objective(line: usize, text: &str, num_class: usize) -> Result<Objective, ModelError> {
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let name = words.next().unwrap_or("");
    let params: Vec<(&str, &str)> = words
        .map(|w| w.split_once(':').unwrap_or((w, "")))
        .collect();
    let param = |k: &str| params.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let unknown = |known: &[&str]| {
        params
            .iter()
            .find(|(k, _)| !known.contains(k))
            .map(|(k, _)| {
                err(
                    line,
                    None,
                    format!("objective {name}: parameter `{k}` is not supported"),
                )
            })
    };
    match name {
        "binary" => {
            if let Some(e) = unknown(&["sigmoid"]) {
                return Err(e);
            }
            let sigmoid = match param("sigmoid") {
                Some(s) => s.parse().map_err(|_| {
                    err(line, None, format!("binary: sigmoid {s:?} is not a number"))
                })?,
                None => 1.0,
            };
            if num_class != 1 {
                return Err(err(line, None, "binary with num_class other than 1"));
            }
            Ok(Objective::Binary { sigmoid })
        }
        "multiclass" => {
            if let Some(e) = unknown(&["num_class"]) {
                return Err(e);
            }
            let k = param("num_class")
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| err(line, None, "multiclass without a valid num_class"))?;
            if k != num_class || k < 2 {
                return Err(err(
                    line,
                    None,
                    format!("multiclass num_class:{k} disagrees with num_class={num_class}"),
                ));
            }
            Ok(Objective::Multiclass { classes: k })
        }
        "regression" => {
            // `sqrt` (a square-root transformed label) changes the output's transform.
            if let Some(e) = unknown(&[]) {
                return Err(e);
            }
            if num_class != 1 {
                return Err(err(line, None, "regression with num_class other than 1"));
            }
            Ok(Objective::Regression)
        }
        other => Err(err(
            line,
            None,
            format!(
                "objective {other:?} is not supported (supported: binary, multiclass, regression)"
            ),
        )),
    }
}

/// Reads the whole model text.
pub(super) fn parse(text: &str) -> Result<Model, ModelError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).peekable();
    // The model type line.
    match lines.find(|(_, l)| !l.trim().is_empty()) {
        Some((_, "tree")) => {}
        Some((n, l)) => {
            return Err(err(
                n,
                None,
                format!(
                    "expected `tree` (a LightGBM text model); found {:?}",
                    trunc(l)
                ),
            ));
        }
        None => {
            return Err(ModelError {
                line: None,
                tree: None,
                what: "the file is empty".into(),
            });
        }
    }

    let mut h = Header::default();
    let mut last_line = 1;
    while let Some(&(n, l)) = lines.peek() {
        if l.starts_with("Tree=") || l == "end of trees" {
            break;
        }
        lines.next();
        last_line = n;
        if l.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = l.split_once('=') else {
            return Err(err(
                n,
                None,
                match l.trim() {
                    "average_output" => {
                        "average_output (a random forest model) is not supported".to_string()
                    }
                    other => format!("header line {:?} is not key=value", trunc(other)),
                },
            ));
        };
        match key {
            "version" => {
                if value != "v4" && value != "v3" {
                    return Err(err(
                        n,
                        None,
                        format!("model version {value:?} is not supported (v3, v4 are)"),
                    ));
                }
            }
            "num_class" => h.num_class = Some(number(n, key, value)?),
            "num_tree_per_iteration" => h.per_iteration = Some(number(n, key, value)?),
            "max_feature_idx" => h.max_feature_idx = Some(number(n, key, value)?),
            "objective" => h.objective = Some((n, value.to_string())),
            "feature_names" => {
                h.features = Some(value.split(' ').map(String::from).collect());
            }
            k if HEADER_IGNORED.contains(&k) => {}
            other => {
                return Err(err(
                    n,
                    None,
                    format!("header key `{other}` is not supported"),
                ));
            }
        }
    }
    let missing = |what: &str| err(last_line, None, format!("the header has no `{what}=` line"));
    let num_class = h.num_class.ok_or_else(|| missing("num_class"))?;
    let per_iteration = h
        .per_iteration
        .ok_or_else(|| missing("num_tree_per_iteration"))?;
    let max_feature_idx = h
        .max_feature_idx
        .ok_or_else(|| missing("max_feature_idx"))?;
    let (obj_line, obj_text) = h.objective.ok_or_else(|| missing("objective"))?;
    let features = h.features.ok_or_else(|| missing("feature_names"))?;
    let objective = objective(obj_line, &obj_text, num_class)?;
    if per_iteration != num_class || per_iteration == 0 {
        return Err(err(
            last_line,
            None,
            format!(
                "num_tree_per_iteration={per_iteration} with num_class={num_class} is not supported"
            ),
        ));
    }
    if features.len() != max_feature_idx + 1 {
        return Err(err(
            last_line,
            None,
            format!(
                "feature_names has {} names but max_feature_idx={max_feature_idx}",
                features.len()
            ),
        ));
    }

    let mut model = Model {
        objective,
        per_iteration,
        features,
        nodes: Vec::new(),
        leaves: Vec::new(),
        roots: Vec::new(),
        depths: Vec::new(),
        cat_bits: Vec::new(),
        hash: String::new(),
        max_leaves: 0,
        categorical_splits: 0,
        nan_missing_splits: 0,
        zero_missing_splits: 0,
        scorer: None,
    };

    // Tree blocks, then `end of trees`.
    let mut ended = false;
    while let Some((n, l)) = lines.next() {
        last_line = n;
        if l.trim().is_empty() {
            continue;
        }
        if l == "end of trees" {
            ended = true;
            break;
        }
        let Some(id) = l.strip_prefix("Tree=") else {
            return Err(err(
                n,
                None,
                format!("expected `Tree=N` or `end of trees`; found {:?}", trunc(l)),
            ));
        };
        let tree = model.roots.len();
        if id.parse::<usize>().ok() != Some(tree) {
            return Err(err(
                n,
                Some(tree),
                format!("expected Tree={tree}, found {l:?}"),
            ));
        }
        let mut block = Block {
            tree,
            line: n,
            fields: Vec::new(),
        };
        while let Some(&(m, f)) = lines.peek() {
            if f.trim().is_empty() || f.starts_with("Tree=") || f == "end of trees" {
                break;
            }
            lines.next();
            last_line = m;
            let Some((key, value)) = f.split_once('=') else {
                return Err(err(
                    m,
                    Some(tree),
                    format!("tree line {:?} is not key=value", trunc(f)),
                ));
            };
            block.fields.push(Field {
                line: m,
                key,
                value,
            });
        }
        add_tree(&mut model, &block)?;
    }
    if !ended {
        return Err(err(
            last_line,
            None,
            format!(
                "the file ends after {} trees without `end of trees` (truncated?)",
                model.roots.len()
            ),
        ));
    }
    if model.roots.is_empty() || !model.roots.len().is_multiple_of(per_iteration) {
        return Err(err(
            last_line,
            None,
            format!(
                "{} trees is not a whole number of iterations of {per_iteration} trees",
                model.roots.len()
            ),
        ));
    }
    Ok(model)
}

fn trunc(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks one tree block and appends its nodes, leaves and bitsets to the model.
fn add_tree(model: &mut Model, b: &Block<'_>) -> Result<(), ModelError> {
    let t = Some(b.tree);
    for f in &b.fields {
        let known = [
            "num_leaves",
            "num_cat",
            "split_feature",
            "threshold",
            "decision_type",
            "left_child",
            "right_child",
            "leaf_value",
            "cat_boundaries",
            "cat_threshold",
            "is_linear",
        ];
        if !known.contains(&f.key) && !TREE_IGNORED.contains(&f.key) {
            return Err(err(
                f.line,
                t,
                format!("tree key `{}` is not supported", f.key),
            ));
        }
    }
    if let Ok(f) = b.get("is_linear")
        && f.value != "0"
    {
        return Err(err(
            f.line,
            t,
            "linear trees (linear_tree=true) are not supported",
        ));
    }
    let num_leaves: usize = b.scalar("num_leaves")?;
    if num_leaves == 0 || num_leaves > (i32::MAX / 2) as usize {
        return Err(err(b.get("num_leaves")?.line, t, "num_leaves out of range"));
    }
    let leaf_values: Vec<f64> = b.array("leaf_value", num_leaves)?;
    let leaf_base = model.leaves.len();
    let node_base = model.nodes.len();
    model.max_leaves = model.max_leaves.max(num_leaves);
    if num_leaves == 1 {
        model.roots.push(!(leaf_base as i32));
        model.depths.push(0);
        model.leaves.extend(leaf_values);
        return Ok(());
    }
    let internal = num_leaves - 1;
    let num_cat: usize = b.scalar("num_cat")?;
    let split_feature: Vec<u32> = b.array("split_feature", internal)?;
    let threshold: Vec<f64> = b.array("threshold", internal)?;
    let decision: Vec<i8> = b.array("decision_type", internal)?;
    let left: Vec<i32> = b.array("left_child", internal)?;
    let right: Vec<i32> = b.array("right_child", internal)?;
    let (bounds, bits): (Vec<u32>, Vec<u32>) = if num_cat > 0 {
        let bounds: Vec<u32> = b.array("cat_boundaries", num_cat + 1)?;
        let f = b.get("cat_threshold")?;
        let n = f.value.split(' ').filter(|s| !s.is_empty()).count();
        let bits: Vec<u32> = b.array("cat_threshold", n)?;
        if bounds[0] != 0
            || bounds.windows(2).any(|w| w[0] > w[1])
            || bounds[num_cat] as usize != bits.len()
        {
            return Err(err(
                b.get("cat_boundaries")?.line,
                t,
                "cat_boundaries do not describe cat_threshold",
            ));
        }
        (bounds, bits)
    } else {
        (Vec::new(), Vec::new())
    };
    let cat_base = model.cat_bits.len() as u32;

    // Every internal node but the root, and every leaf, is the child of exactly one node:
    // then the walk from the root ends at a leaf (no cycle can be reached from the root).
    let mut seen_node = vec![false; internal];
    let mut seen_leaf = vec![false; num_leaves];
    let dline = b.get("decision_type")?.line;
    for i in 0..internal {
        for (c, key) in [(left[i], "left_child"), (right[i], "right_child")] {
            let fresh = if c >= 0 {
                let c = c as usize;
                c != 0 && c < internal && !std::mem::replace(&mut seen_node[c], true)
            } else {
                let leaf = !c as usize;
                leaf < num_leaves && !std::mem::replace(&mut seen_leaf[leaf], true)
            };
            if !fresh {
                return Err(err(
                    b.get(key)?.line,
                    t,
                    format!("node {i}: {key} {c} is out of range or used twice"),
                ));
            }
        }
    }
    if seen_leaf.iter().any(|s| !s) {
        return Err(err(b.line, t, "a leaf is not reached by any node"));
    }

    for i in 0..internal {
        let d = decision[i];
        if !(0..16).contains(&d) {
            return Err(err(
                dline,
                t,
                format!("node {i}: decision_type {d} has bits mako does not know"),
            ));
        }
        if split_feature[i] as usize >= model.features.len() {
            return Err(err(
                b.get("split_feature")?.line,
                t,
                format!(
                    "node {i}: feature {} but the model has {} features",
                    split_feature[i],
                    model.features.len()
                ),
            ));
        }
        let categorical = d & 1 == 1;
        let (split, cat_start, cat_len) = if categorical {
            let idx = threshold[i];
            if !(idx >= 0.0 && (idx as usize) < num_cat && idx.fract() == 0.0) {
                return Err(err(
                    b.get("threshold")?.line,
                    t,
                    format!("node {i}: categorical split {idx} is not one of the tree's {num_cat}"),
                ));
            }
            let k = idx as usize;
            model.categorical_splits += 1;
            (
                Split::Categorical,
                cat_base + bounds[k],
                bounds[k + 1] - bounds[k],
            )
        } else {
            let split = match (d >> 2) & 3 {
                0 => Split::Num,
                1 => {
                    model.zero_missing_splits += 1;
                    Split::NumZeroMissing
                }
                2 => {
                    model.nan_missing_splits += 1;
                    Split::NumNanMissing
                }
                _ => {
                    return Err(err(
                        dline,
                        t,
                        format!("node {i}: decision_type {d} has an unknown missing type"),
                    ));
                }
            };
            (split, 0, 0)
        };
        let abs = |c: i32| {
            if c >= 0 {
                (node_base + c as usize) as i32
            } else {
                !((leaf_base + !c as usize) as i32)
            }
        };
        model.nodes.push(Node {
            threshold: threshold[i],
            feature: split_feature[i],
            split,
            default_left: d & 2 == 2,
            zero_missing: split == Split::NumZeroMissing,
            nan_missing: split == Split::NumNanMissing,
            left: abs(left[i]),
            right: abs(right[i]),
            cat_start,
            cat_len,
        });
    }
    // The tree's depth: its longest path from the root (checked above: a tree, so this ends).
    let mut deepest = 0;
    let mut stack = vec![(0usize, 1u32)];
    while let Some((i, d)) = stack.pop() {
        deepest = deepest.max(d);
        for c in [left[i], right[i]] {
            if c >= 0 {
                stack.push((c as usize, d + 1));
            }
        }
    }
    model.roots.push(node_base as i32);
    model.depths.push(deepest);
    model.leaves.extend(leaf_values);
    model.cat_bits.extend(bits);
    if model.nodes.len() > i32::MAX as usize / 2 || model.leaves.len() > i32::MAX as usize / 2 {
        return Err(err(b.line, t, "the model is too large"));
    }
    Ok(())
}
