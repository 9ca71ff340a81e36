//! One single-row prediction of the 120-tree, 31-leaf binary LightGBM model
//! (tests/fixtures/lgbm/binary_120, 10 features), cycling through its 100 fixture rows (2 %
//! of values missing). Baseline: the same loop reading the row and summing it. Cases: the
//! probability (raw score and sigmoid), the raw score alone (every tree at once, by the
//! sorted-threshold layout of `strategy/model/scorer.rs` with its scans done in advance as
//! tables), the same layout scanned per row (before the tables), the raw score with the trees walked
//! eight at a time in step (the walk models with categorical splits or over 32 leaves take),
//! and one tree at a time. The same model and rows are
//! timed through LightGBM's own `LGBM_BoosterPredictForMatSingleRowFast` by
//! `tools/lgbm/fast_single_row.c` (run by hand; see tools/lgbm/README.md).
//!
//! Run: `cargo bench --bench lgbm`.

use std::hint::black_box;
use std::io::Read as _;

use criterion::{Criterion, criterion_group, criterion_main};
use mako::strategy::model::{Model, rows};

const MODEL_GZ: &[u8] = include_bytes!("../tests/fixtures/lgbm/binary_120.model.txt.gz");
const ROWS: &str = include_str!("../tests/fixtures/lgbm/binary_120.rows.csv");

fn bench(c: &mut Criterion) {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(MODEL_GZ)
        .read_to_end(&mut text)
        .expect("gzip");
    let model = Model::from_bytes(&text).expect("model");
    let rows = rows::read(&model, ROWS).expect("rows");
    let mut g = c.benchmark_group("lgbm 120 trees x 31 leaves, one row");
    g.bench_function("baseline: read the row", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % rows.len();
            black_box(black_box(&rows[i]).iter().sum::<f64>())
        })
    });
    g.bench_function("predict (probability)", |b| {
        let (mut i, mut out) = (0, [0.0]);
        b.iter(|| {
            i = (i + 1) % rows.len();
            model.predict(black_box(&rows[i]), &mut out).expect("row");
            black_box(out[0])
        })
    });
    g.bench_function("predict_raw", |b| {
        let (mut i, mut out) = (0, [0.0]);
        b.iter(|| {
            i = (i + 1) % rows.len();
            model
                .predict_raw(black_box(&rows[i]), &mut out)
                .expect("row");
            black_box(out[0])
        })
    });
    g.bench_function(
        "predict_raw, the sorted-threshold scan per row (no tables)",
        |b| {
            let (mut i, mut out) = (0, [0.0]);
            b.iter(|| {
                i = (i + 1) % rows.len();
                model
                    .predict_raw_scan(black_box(&rows[i]), &mut out)
                    .expect("fast layout")
                    .expect("row");
                black_box(out[0])
            })
        },
    );
    g.bench_function("predict_raw, trees walked eight at a time in step", |b| {
        let (mut i, mut out) = (0, [0.0]);
        b.iter(|| {
            i = (i + 1) % rows.len();
            model
                .predict_raw_in_step(black_box(&rows[i]), &mut out)
                .expect("row");
            black_box(out[0])
        })
    });
    g.bench_function("predict_raw, one tree at a time", |b| {
        let (mut i, mut out) = (0, [0.0]);
        b.iter(|| {
            i = (i + 1) % rows.len();
            model
                .predict_raw_one_at_a_time(black_box(&rows[i]), &mut out)
                .expect("row");
            black_box(out[0])
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
