//! A prediction allocates nothing once the model is read: every fixture row of the 120-tree
//! binary, the categorical and the multiclass models is predicted (raw and transformed) with
//! a counting global allocator armed around each call. Nor does the LightGBM bot's feature
//! set, fed bars past its buffer's size.

use std::hint::black_box;
use std::io::Read as _;
use std::path::PathBuf;

use mako::strategy::model::{Model, rows};

mod alloc_count;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lgbm")
        .join(name)
}

fn model(name: &str) -> Model {
    let plain = fixture(&format!("{name}.model.txt"));
    let bytes = if plain.exists() {
        std::fs::read(plain).unwrap()
    } else {
        let gz = std::fs::read(fixture(&format!("{name}.model.txt.gz"))).unwrap();
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut text)
            .unwrap();
        text
    };
    Model::from_bytes(&bytes).unwrap()
}

#[test]
fn predictions_allocate_nothing() {
    let mut calls = 0u64;
    let mut allocs = 0u64;
    for name in ["binary_120", "categorical", "multiclass"] {
        let m = model(name);
        let text = std::fs::read_to_string(fixture(&format!("{name}.rows.csv"))).unwrap();
        let rows = rows::read(&m, &text).unwrap();
        let mut out = vec![0.0; m.outputs()];
        for row in &rows {
            let ((), n) = alloc_count::counted(|| {
                m.predict(black_box(row), &mut out).unwrap();
                m.predict_raw_limit(black_box(row), 3, &mut out).unwrap();
            });
            allocs += n;
            black_box(&out);
            calls += 2;
        }
    }
    assert!(calls > 400);
    assert!(alloc_count::counter_counts(), "the counter counts");
    assert_eq!(allocs, 0, "allocations in {calls} predictions");
}

#[test]
fn features_allocate_nothing() {
    use mako::strategy::Candle;
    use mako::strategy::lgbm::FeatureSet;
    use mako::types::{InstrumentId, Notional, Price, Qty, UnixNanos};
    let names: Vec<String> = [
        "close",
        "net_flow",
        "sma_5",
        "sma_30",
        "price_change_10",
        "momentum_5",
        "volatility_20",
        "rsi_14",
        "volume_60",
        "net_flow_10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut set = FeatureSet::for_model(&names, &Default::default(), 60).unwrap();
    let mut row = vec![0.0; names.len()];
    let mut allocs = 0u64;
    for t in 0..200u64 {
        let price = Price::from_units(100_000_000 + ((t * 7919) % 1000) as i64 * 10_000);
        let c = Candle {
            instrument: InstrumentId(0),
            width_ns: 1_000_000_000,
            open_time: UnixNanos(t * 1_000_000_000),
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Qty::from_int(2),
            buy_volume: Qty::from_int(1),
            sell_volume: Qty::from_int(1),
            quote_volume: Notional::default(),
            trades: 3,
            flat: false,
            incomplete: false,
        };
        let (ready, n) = alloc_count::counted(|| {
            set.update(black_box(&c));
            set.values(&mut row);
            set.ready()
        });
        allocs += n;
        black_box((&row, ready));
    }
    assert!(set.ready());
    assert_eq!(allocs, 0, "allocations in feature updates");
}
