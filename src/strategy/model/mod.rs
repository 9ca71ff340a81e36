//! LightGBM models in the engine: the text model format (`model.txt`, as
//! `Booster.save_model` writes it) read into flat arrays, and predictions equal to LightGBM's
//! own (`Booster.predict`), with no allocation per prediction.
//!
//! What is read and predicted as LightGBM does it (see `tree.h` in LightGBM):
//! - numerical splits `value <= threshold` in `f64`, with the node's missing type: `None`
//!   (NaN reads as 0), `Zero` (0 and NaN take the default side: `zero_as_missing`) or `NaN`
//!   (NaN takes the default side); values within ±1e-35 (LightGBM's `kZeroThreshold`) read as
//!   0, as LightGBM's row conversion drops them;
//! - categorical splits: the value's integer part looked up in the node's bitset; NaN and
//!   negative values go right;
//! - the trees summed in order from 0, per class; then the objective's transform: `binary`
//!   (sigmoid with the model's `sigmoid:` factor), `multiclass` (softmax), `regression`
//!   (identity); or the raw score;
//! - `num_iteration`: only the first iterations' trees.
//!
//! Anything else (linear trees, averaged output, other objectives, decision bits it does not
//! know) is refused when the model is read, with the line and tree: never a prediction that
//! might differ from LightGBM's.

mod parse;
pub mod rows;
mod scorer;

use std::fmt;
use std::path::Path;

/// LightGBM's `kZeroThreshold`: the `float` 1e-35 as a `double`.
const ZERO_THRESHOLD: f64 = 1e-35_f32 as f64;

/// Trees walked in step by the branch-free walk.
const LANES: usize = 8;

/// A model that could not be read or uses something mako does not predict exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ModelError {
    /// 1-based line of the model file, when the problem is on one line.
    pub line: Option<usize>,
    /// The tree (`Tree=N`) the problem is in.
    pub tree: Option<usize>,
    /// What is wrong, and what to do.
    pub what: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.tree) {
            (Some(l), Some(t)) => write!(f, "line {l} (tree {t}): {}", self.what),
            (Some(l), None) => write!(f, "line {l}: {}", self.what),
            (None, Some(t)) => write!(f, "tree {t}: {}", self.what),
            (None, None) => f.write_str(&self.what),
        }
    }
}

/// A row or output buffer that does not fit the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PredictError {
    #[error("wrong feature count: the model has {want} features, the row has {got} values")]
    Features { want: usize, got: usize },
    #[error("the output holds {got} values; the model gives {want} per row")]
    Outputs { want: usize, got: usize },
}

/// What the model's outputs mean, and the transform from raw scores to predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// One output: the probability of class 1, `1 / (1 + exp(-sigmoid * raw))`.
    Binary { sigmoid: f64 },
    /// One output per class: softmax over the classes' raw scores.
    Multiclass { classes: usize },
    /// One output: the raw score itself (L2 regression).
    Regression,
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Objective::Binary { sigmoid } => write!(f, "binary (sigmoid:{sigmoid})"),
            Objective::Multiclass { classes } => write!(f, "multiclass ({classes} classes)"),
            Objective::Regression => f.write_str("regression (L2)"),
        }
    }
}

/// How a node decides. Numerical kinds carry the node's missing type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Split {
    /// Missing type None: NaN reads as 0.
    Num = 0,
    /// Missing type Zero: 0 (and NaN) take the default side.
    NumZeroMissing = 1,
    /// Missing type NaN: NaN takes the default side.
    NumNanMissing = 2,
    /// Bitset over the value's integer part.
    Categorical = 3,
}

/// One internal node, 32 bytes. Children: `>= 0` an index into [`Model::nodes`]; `< 0` the
/// leaf `!child` in [`Model::leaves`]. Both are absolute, so no per-tree offset is added.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Node {
    /// Numerical: the threshold. Categorical: unused.
    threshold: f64,
    /// Index into the row; `< Model::features.len()` (checked at load).
    feature: u32,
    split: Split,
    default_left: bool,
    /// Numerical with zero as missing (`split == NumZeroMissing`), for the branch-free walk.
    zero_missing: bool,
    /// Numerical with NaN as missing (`split == NumNanMissing`), for the branch-free walk.
    nan_missing: bool,
    left: i32,
    right: i32,
    /// Categorical: the node's bitset is `cat_bits[cat_start..cat_start + cat_len]`.
    cat_start: u32,
    cat_len: u32,
}

impl Node {
    /// [`Node::goes_left`] for a numerical node, written without branches so that several
    /// trees can be walked in step (the walks' loads overlap instead of waiting in turn).
    #[inline(always)]
    fn goes_left_numerical(&self, v: f64) -> bool {
        let nan = v.is_nan();
        let v0 = if nan | (v.abs() <= ZERO_THRESHOLD) {
            0.0
        } else {
            v
        };
        let missing = (self.zero_missing & (v0 == 0.0)) | (self.nan_missing & nan);
        if missing {
            self.default_left
        } else {
            v0 <= self.threshold
        }
    }

    /// True when `v` goes to the left child.
    #[inline(always)]
    fn goes_left(&self, v: f64, cat_bits: &[u32]) -> bool {
        let nan = v.is_nan();
        // LightGBM's rows drop values within ±kZeroThreshold (they read as 0), and a NaN
        // reads as 0 unless the node's missing type is NaN.
        let v0 = if nan || v.abs() <= ZERO_THRESHOLD {
            0.0
        } else {
            v
        };
        match self.split {
            Split::Num => v0 <= self.threshold,
            Split::NumZeroMissing => {
                if v0 == 0.0 {
                    self.default_left
                } else {
                    v0 <= self.threshold
                }
            }
            Split::NumNanMissing => {
                if nan {
                    self.default_left
                } else {
                    v0 <= self.threshold
                }
            }
            Split::Categorical => {
                // `as i32` truncates toward zero as C++'s cast does (-0.5 is category 0);
                // NaN and negatives go right; a value past the bitset's end is not in it
                // (Rust saturates where x86 C++ gives i32::MIN: both go right).
                if nan {
                    return false;
                }
                let c = v as i32;
                if c < 0 {
                    return false;
                }
                let (word, bit) = ((c / 32) as u32, (c % 32) as u32);
                word < self.cat_len
                    && cat_bits
                        .get((self.cat_start + word) as usize)
                        .is_some_and(|w| (w >> bit) & 1 == 1)
            }
        }
    }
}

/// A LightGBM model laid out for prediction: every tree's nodes in one array, every leaf in
/// another, trees in LightGBM's order (iteration-major, then class).
#[derive(Debug, Clone)]
pub struct Model {
    objective: Objective,
    /// Trees per iteration: the number of outputs (classes for multiclass, else 1).
    per_iteration: usize,
    features: Vec<String>,
    nodes: Vec<Node>,
    leaves: Vec<f64>,
    /// Each tree's root: a node index, or `!leaf` for a tree that is one leaf.
    roots: Vec<i32>,
    /// Each tree's depth (splits on its longest path).
    depths: Vec<u32>,
    cat_bits: Vec<u32>,
    /// SHA-256 of the file's bytes, lower-case hex.
    hash: String,
    max_leaves: usize,
    categorical_splits: usize,
    nan_missing_splits: usize,
    zero_missing_splits: usize,
    /// The fast walk's layout, for models it can take.
    scorer: Option<scorer::Scorer>,
}

impl Model {
    /// Reads a model file. The error names the file and what is wrong where.
    pub fn from_file(path: &Path) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError {
            line: None,
            tree: None,
            what: format!("cannot read {}: {e}", path.display()),
        })?;
        Model::from_bytes(&bytes)
    }

    /// Reads a model from the bytes of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        use sha2::{Digest, Sha256};
        let text = std::str::from_utf8(bytes).map_err(|e| ModelError {
            line: Some(
                1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count(),
            ),
            tree: None,
            what: "the file is not UTF-8 text (a binary model? save it with save_model)".into(),
        })?;
        let mut model = parse::parse(text)?;
        model.scorer = scorer::Scorer::build(&model);
        model.hash = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(model)
    }

    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// Outputs per row: the classes of a multiclass model, else 1.
    pub fn outputs(&self) -> usize {
        self.per_iteration
    }

    /// The model's feature names, in the row's order.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    pub fn trees(&self) -> usize {
        self.roots.len()
    }

    pub fn iterations(&self) -> usize {
        self.roots.len() / self.per_iteration
    }

    /// SHA-256 of the model file, lower-case hex: tells trades made by different models apart.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn max_leaves(&self) -> usize {
        self.max_leaves
    }

    /// Splits of each kind: (categorical, numerical with NaN missing, numerical with zero
    /// missing).
    pub fn split_counts(&self) -> (usize, usize, usize) {
        (
            self.categorical_splits,
            self.nan_missing_splits,
            self.zero_missing_splits,
        )
    }

    fn check(&self, row: &[f64], out: &[f64]) -> Result<(), PredictError> {
        if row.len() != self.features.len() {
            return Err(PredictError::Features {
                want: self.features.len(),
                got: row.len(),
            });
        }
        if out.len() != self.per_iteration {
            return Err(PredictError::Outputs {
                want: self.per_iteration,
                got: out.len(),
            });
        }
        Ok(())
    }

    /// Raw scores of `row` over all trees into `out` (one per output).
    pub fn predict_raw(&self, row: &[f64], out: &mut [f64]) -> Result<(), PredictError> {
        self.predict_raw_limit(row, usize::MAX, out)
    }

    /// Raw scores over the first `num_iteration` iterations (all if there are fewer), as
    /// LightGBM's `num_iteration`.
    pub fn predict_raw_limit(
        &self,
        row: &[f64],
        num_iteration: usize,
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        self.check(row, out)?;
        let k = self.per_iteration;
        let trees = num_iteration.min(self.iterations()) * k;
        out.fill(0.0);
        match &self.scorer {
            Some(s) => s.add_raw(row, trees, k, out),
            None => self.walk_in_step(row, trees, out),
        }
        Ok(())
    }

    /// Raw scores over all trees by the fast layout's scan (without its tables), or `None`
    /// when the model is not in the fast layout: for the benchmark and the tests that hold
    /// the tables against the scan.
    #[doc(hidden)]
    pub fn predict_raw_scan(
        &self,
        row: &[f64],
        out: &mut [f64],
    ) -> Option<Result<(), PredictError>> {
        let s = self.scorer.as_ref()?;
        Some(self.check(row, out).map(|()| {
            out.fill(0.0);
            s.add_raw_by(row, self.roots.len(), self.per_iteration, out, false);
        }))
    }

    /// True when the fast layout's scans are done in advance (tables), for `mako model check`
    /// and the tests.
    #[doc(hidden)]
    pub fn fast_tables(&self) -> bool {
        self.scorer.as_ref().is_some_and(|s| s.has_tables())
    }

    /// Raw scores over all trees by the in-step walk (the walk models the fast layout cannot
    /// take use): for the benchmark and the tests that hold the walks against each other.
    #[doc(hidden)]
    pub fn predict_raw_in_step(&self, row: &[f64], out: &mut [f64]) -> Result<(), PredictError> {
        self.check(row, out)?;
        out.fill(0.0);
        self.walk_in_step(row, self.roots.len(), out);
        Ok(())
    }

    /// Adds the first `trees` trees' leaves for `row` to `out`: trees with categorical splits
    /// one at a time, others LANES at a time in step.
    fn walk_in_step(&self, row: &[f64], trees: usize, out: &mut [f64]) {
        let k = self.per_iteration;
        if self.categorical_splits > 0 {
            for (i, &root) in self.roots[..trees].iter().enumerate() {
                out[i % k] += self.tree_value(root, row);
            }
            return;
        }
        // Numerical splits only: trees walked LANES at a time, in step, for as many steps as
        // the deepest of them; a walk that has reached its leaf stays there. The leaves are
        // then added in tree order, so the sum is LightGBM's to the bit.
        let mut start = 0;
        while start < trees {
            let end = (start + LANES).min(trees);
            let mut at = [-1i32; LANES];
            at[..end - start].copy_from_slice(&self.roots[start..end]);
            let steps = self.depths[start..end].iter().copied().max().unwrap_or(0);
            for _ in 0..steps {
                for n in &mut at {
                    let node = &self.nodes[(*n).max(0) as usize];
                    let v = row[node.feature as usize];
                    let next = if node.goes_left_numerical(v) {
                        node.left
                    } else {
                        node.right
                    };
                    *n = if *n >= 0 { next } else { *n };
                }
            }
            for (i, &n) in (start..end).zip(&at) {
                debug_assert!(
                    n < 0,
                    "Invariant: every walk ends at a leaf within its depth"
                );
                out[i % k] += self.leaves[!n as usize];
            }
            start = end;
        }
    }

    /// Raw scores over all trees walked one at a time (the walk categorical models take):
    /// for the benchmark and the tests that hold the in-step walk against it.
    #[doc(hidden)]
    pub fn predict_raw_one_at_a_time(
        &self,
        row: &[f64],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        self.check(row, out)?;
        let k = self.per_iteration;
        out.fill(0.0);
        for (i, &root) in self.roots.iter().enumerate() {
            out[i % k] += self.tree_value(root, row);
        }
        Ok(())
    }

    /// Predictions of `row` (the objective's transform of the raw scores) into `out`.
    pub fn predict(&self, row: &[f64], out: &mut [f64]) -> Result<(), PredictError> {
        self.predict_limit(row, usize::MAX, out)
    }

    /// Predictions over the first `num_iteration` iterations.
    pub fn predict_limit(
        &self,
        row: &[f64],
        num_iteration: usize,
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        self.predict_raw_limit(row, num_iteration, out)?;
        self.transform(out);
        Ok(())
    }

    /// The objective's transform of raw scores, in place, in LightGBM's arithmetic.
    fn transform(&self, out: &mut [f64]) {
        match self.objective {
            Objective::Binary { sigmoid } => {
                for v in out.iter_mut() {
                    *v = 1.0 / (1.0 + (-sigmoid * *v).exp());
                }
            }
            Objective::Multiclass { .. } => {
                let max = out.iter().copied().fold(out[0], f64::max);
                let mut sum = 0.0;
                for v in out.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                for v in out.iter_mut() {
                    *v /= sum;
                }
            }
            Objective::Regression => {}
        }
    }

    /// The leaf value `row` reaches in the tree rooted at `root`.
    #[inline]
    fn tree_value(&self, root: i32, row: &[f64]) -> f64 {
        let mut n = root;
        while n >= 0 {
            let node = &self.nodes[n as usize];
            let v = row[node.feature as usize];
            n = if node.goes_left(v, &self.cat_bits) {
                node.left
            } else {
                node.right
            };
        }
        self.leaves[!n as usize]
    }
}

#[cfg(test)]
mod tests;
