//! The fast walk for models with numerical splits only and at most 32 leaves per tree (the
//! default `num_leaves = 31`): every tree at once, by the QuickScorer method (Lucchese et
//! al., SIGIR 2015), reimplemented here from its description. Each tree's leaves are numbered
//! left to right and the tree keeps one bit per leaf, all set. For each feature, the nodes
//! that send the row right ("false" nodes) each clear the bits of their left subtree's leaves;
//! the exit leaf is then the lowest bit still set (every leaf left of it sits in the left
//! subtree of a node on the path that went right; the exit leaf is in no such subtree).
//!
//! A feature's nodes are sorted by threshold, so for an ordinary value the false nodes
//! (`threshold < value`: LightGBM goes left when `value <= threshold`) are a prefix of the
//! list and the scan stops at the first node that goes left: no branch per node on the row's
//! path, no pointer chasing. A value that reads as 0 (within LightGBM's `kZeroThreshold`) or
//! NaN decides each node by its missing type, which does not depend on the value any more:
//! those false nodes are listed apart, once, when the model is read.
//!
//! Trees are taken in blocks so that the bits fit on the stack; the leaves are summed in tree
//! order, so the raw score is LightGBM's to the bit.
//!
//! When the model is small enough ([`TABLE_LIMIT`]), the scan is done once per threshold when
//! the model is read, not once per row: for each feature, the row's bits after its scan
//! depend only on where the value falls among the feature's distinct thresholds (or on its
//! being NaN or reading as 0), so each of those places keeps the whole block's masks, ANDed
//! in advance (a [`Table`]). A prediction then finds each value's place by a binary search
//! and ANDs one row of masks per feature into the bits, trees side by side (the compiler's
//! vector instructions): the same bits as the scan, so the same leaves and the same sum.

use super::{Model, Split, ZERO_THRESHOLD};

/// Trees per block: their bits (4 bytes each) live on the stack during a prediction, and a
/// tree's index in its block is a `u8`, so indexing the bits needs no bounds check.
const BLOCK: usize = 256;

/// A node of the sorted list: 16 bytes, four to a cache line.
#[derive(Debug, Clone, Copy)]
struct Cut {
    threshold: f64,
    mask: u32,
    tree: u8,
}

/// One feature's nodes in one block.
#[derive(Debug, Clone, Default)]
struct Lists {
    /// Sorted by threshold.
    cuts: Vec<Cut>,
    /// The false nodes when the value reads as 0, and when it is NaN.
    zero: Vec<(u8, u32)>,
    nan: Vec<(u8, u32)>,
}

#[derive(Debug, Clone)]
struct Block {
    /// Index of its first tree in the model.
    first: usize,
    trees: usize,
    features: Vec<Lists>,
    /// The scan done in advance, when the model is small enough.
    table: Option<Table>,
}

/// Table bytes (all blocks) past which the model keeps the scan alone: a bigger table would
/// mostly come from memory further away than the scan's lists.
const TABLE_LIMIT: usize = 4 << 20;

/// Masks per row of a [`Table`] are padded to a multiple of this (vector width).
const PAD: usize = 8;

/// One block's scans, done in advance: for each feature, one row of masks (one per tree of
/// the block, padded to [`PAD`] with all-ones) per place a value can fall.
#[derive(Debug, Clone)]
struct Table {
    /// Masks per row: the block's trees rounded up to [`PAD`].
    stride: usize,
    /// Per feature: `None` when no node of the block splits on it.
    features: Vec<Option<FeatureTable>>,
    masks: Vec<u32>,
}

/// A feature's rows in [`Table::masks`], from `start`: row 0 for NaN, row 1 for a value that
/// reads as 0, row `2 + k` for a value above exactly `k` of the distinct `thresholds`.
#[derive(Debug, Clone)]
struct FeatureTable {
    /// The feature's distinct thresholds in the block, ascending.
    thresholds: Vec<f64>,
    start: usize,
}

impl Table {
    /// The table for a block's lists; its size in bytes is `masks.len() * 4`.
    fn build(features: &[Lists], trees: usize) -> Table {
        let stride = trees.div_ceil(PAD) * PAD;
        let mut masks = Vec::new();
        let mut tables = Vec::with_capacity(features.len());
        for l in features {
            if l.cuts.is_empty() {
                tables.push(None);
                continue;
            }
            let start = masks.len();
            let mut row = vec![u32::MAX; stride];
            for list in [&l.nan, &l.zero] {
                row.fill(u32::MAX);
                for &(t, m) in list {
                    row[usize::from(t)] &= m;
                }
                masks.extend_from_slice(&row);
            }
            // Row 2 + k: the cuts below the (k+1)-th distinct threshold applied.
            row.fill(u32::MAX);
            masks.extend_from_slice(&row);
            let mut thresholds = Vec::new();
            let mut i = 0;
            while i < l.cuts.len() {
                let t = l.cuts[i].threshold;
                // -0.0 and 0.0 sort apart but compare equal: one place.
                while i < l.cuts.len() && l.cuts[i].threshold == t {
                    row[usize::from(l.cuts[i].tree)] &= l.cuts[i].mask;
                    i += 1;
                }
                thresholds.push(t);
                masks.extend_from_slice(&row);
            }
            tables.push(Some(FeatureTable { thresholds, start }));
        }
        Table {
            stride,
            features: tables,
            masks,
        }
    }

    /// ANDs the masks of `row`'s places into `bits` (at least `stride` long).
    #[inline]
    fn apply(&self, row: &[f64], bits: &mut [u32]) {
        let bits = &mut bits[..self.stride];
        for (ft, &v) in self.features.iter().zip(row) {
            let Some(ft) = ft else { continue };
            let place = if v.is_nan() {
                0
            } else if v.abs() <= ZERO_THRESHOLD {
                1
            } else {
                2 + below(&ft.thresholds, v)
            };
            let at = ft.start + place * self.stride;
            let masks = &self.masks[at..at + self.stride];
            for (b, m) in bits.chunks_exact_mut(PAD).zip(masks.chunks_exact(PAD)) {
                for (b, m) in b.iter_mut().zip(m) {
                    *b &= *m;
                }
            }
        }
    }
}

/// How many of the ascending `thresholds` are below `v` (not NaN): a binary search without
/// a branch on the comparisons.
#[inline]
fn below(thresholds: &[f64], v: f64) -> usize {
    let mut base = 0;
    let mut size = thresholds.len();
    if size == 0 {
        return 0;
    }
    while size > 1 {
        let half = size / 2;
        // `base + half < len` holds: base + size <= len throughout.
        base = if thresholds[base + half] < v {
            base + half
        } else {
            base
        };
        size -= half;
    }
    base + usize::from(thresholds[base] < v)
}

/// A model's trees laid out for the fast walk.
#[derive(Debug, Clone)]
pub(super) struct Scorer {
    blocks: Vec<Block>,
    /// Each tree's leaf values, left to right, from `leaf_base[tree]`.
    leaves: Vec<f64>,
    leaf_base: Vec<u32>,
}

impl Scorer {
    /// The layout of `m`, or `None` when the model has categorical splits or a tree with
    /// more than 32 leaves (the in-step walk takes those).
    pub(super) fn build(m: &Model) -> Option<Scorer> {
        if m.categorical_splits > 0 || m.max_leaves > 32 {
            return None;
        }
        let mut leaves = Vec::new();
        let mut leaf_base = Vec::with_capacity(m.roots.len());
        let mut blocks = Vec::new();
        for first in (0..m.roots.len()).step_by(BLOCK) {
            let trees = BLOCK.min(m.roots.len() - first);
            let mut features = vec![Lists::default(); m.features.len()];
            let mut sorted: Vec<Vec<Cut>> = vec![Vec::new(); m.features.len()];
            for t in 0..trees {
                leaf_base.push(u32::try_from(leaves.len()).ok()?);
                let mut nodes = Vec::new();
                number(m, m.roots[first + t], &mut leaves, &mut nodes)?;
                for (n, lo, hi) in nodes {
                    let node = &m.nodes[n];
                    // Clears the left subtree's leaves lo..hi.
                    let span = hi - lo;
                    let left = if span == 32 {
                        u32::MAX
                    } else {
                        ((1u32 << span) - 1) << lo
                    };
                    let mask = !left;
                    let tree = u8::try_from(t).ok()?;
                    let f = node.feature as usize;
                    sorted[f].push(Cut {
                        threshold: node.threshold,
                        mask,
                        tree,
                    });
                    let goes_right_at = |missing: bool| {
                        if missing {
                            !node.default_left
                        } else {
                            node.threshold < 0.0
                        }
                    };
                    let (zero, nan) = match node.split {
                        Split::Num => (goes_right_at(false), goes_right_at(false)),
                        Split::NumZeroMissing => (goes_right_at(true), goes_right_at(true)),
                        Split::NumNanMissing => (goes_right_at(false), goes_right_at(true)),
                        Split::Categorical => return None,
                    };
                    if zero {
                        features[f].zero.push((tree, mask));
                    }
                    if nan {
                        features[f].nan.push((tree, mask));
                    }
                }
            }
            for (f, mut list) in sorted.into_iter().enumerate() {
                list.sort_by(|a, b| a.threshold.total_cmp(&b.threshold));
                features[f].cuts = list;
            }
            blocks.push(Block {
                first,
                trees,
                features,
                table: None,
            });
        }
        let tables: Vec<Table> = blocks
            .iter()
            .map(|b| Table::build(&b.features, b.trees))
            .collect();
        if tables.iter().map(|t| t.masks.len() * 4).sum::<usize>() <= TABLE_LIMIT {
            for (b, t) in blocks.iter_mut().zip(tables) {
                b.table = Some(t);
            }
        }
        Some(Scorer {
            blocks,
            leaves,
            leaf_base,
        })
    }

    /// Adds the leaf each of the first `trees` trees gives `row` to `out[tree % k]`, in tree
    /// order. `row` and `out` were checked against the model.
    #[inline]
    pub(super) fn add_raw(&self, row: &[f64], trees: usize, k: usize, out: &mut [f64]) {
        self.add_raw_by(row, trees, k, out, true)
    }

    /// True when the model's blocks have tables (it was small enough).
    pub(super) fn has_tables(&self) -> bool {
        self.blocks.iter().all(|b| b.table.is_some())
    }

    /// [`Scorer::add_raw`], with the tables when `tables` and they exist, else by the scan.
    #[inline]
    pub(super) fn add_raw_by(
        &self,
        row: &[f64],
        trees: usize,
        k: usize,
        out: &mut [f64],
        tables: bool,
    ) {
        let mut bits = [u32::MAX; BLOCK];
        for b in &self.blocks {
            if b.first >= trees {
                break;
            }
            bits[..b.trees.div_ceil(PAD) * PAD].fill(u32::MAX);
            if let (true, Some(t)) = (tables, &b.table) {
                t.apply(row, &mut bits);
                self.sum(b, &bits, trees, k, out);
                continue;
            }
            for (l, &v) in b.features.iter().zip(row) {
                if v.is_nan() {
                    for &(t, m) in &l.nan {
                        bits[usize::from(t)] &= m;
                    }
                } else if v.abs() <= ZERO_THRESHOLD {
                    for &(t, m) in &l.zero {
                        bits[usize::from(t)] &= m;
                    }
                } else {
                    for c in &l.cuts {
                        if c.threshold >= v {
                            break;
                        }
                        bits[usize::from(c.tree)] &= c.mask;
                    }
                }
            }
            self.sum(b, &bits, trees, k, out);
        }
    }

    /// Adds the exit leaves `bits` give the block's trees (up to `trees`), in tree order.
    #[inline]
    fn sum(&self, b: &Block, bits: &[u32; BLOCK], trees: usize, k: usize, out: &mut [f64]) {
        let end = (b.first + b.trees).min(trees);
        let leaf = |i: usize, set: u32| {
            self.leaves[self.leaf_base[i] as usize + set.trailing_zeros() as usize]
        };
        if k == 1 {
            // One output: summed in a register (same order, same sum), no `i % k`.
            let mut sum = out[0];
            for (i, &set) in (b.first..end).zip(bits.iter()) {
                sum += leaf(i, set);
            }
            out[0] = sum;
        } else {
            for (i, &set) in (b.first..end).zip(bits.iter()) {
                out[i % k] += leaf(i, set);
            }
        }
    }
}

/// Numbers the leaves under `n` left to right (appending their values to `leaves`) and lists
/// each internal node with the leaf range `lo..hi` of its left subtree, relative to the
/// tree's first leaf. `None` past 32 leaves.
fn number(
    m: &Model,
    root: i32,
    leaves: &mut Vec<f64>,
    nodes: &mut Vec<(usize, u32, u32)>,
) -> Option<()> {
    let base = leaves.len();
    // Recursive: a tree of at most 32 leaves is at most 31 deep.
    fn walk(
        m: &Model,
        n: i32,
        base: usize,
        leaves: &mut Vec<f64>,
        nodes: &mut Vec<(usize, u32, u32)>,
    ) -> Option<()> {
        if n < 0 {
            if leaves.len() - base >= 32 {
                return None;
            }
            leaves.push(m.leaves[!n as usize]);
            return Some(());
        }
        let node = &m.nodes[n as usize];
        let lo = (leaves.len() - base) as u32;
        walk(m, node.left, base, leaves, nodes)?;
        let hi = (leaves.len() - base) as u32;
        nodes.push((n as usize, lo, hi));
        walk(m, node.right, base, leaves, nodes)
    }
    walk(m, root, base, leaves, nodes)
}
