//! A prediction allocates nothing once the model is read: every fixture row of the 120-tree
//! binary, the categorical and the multiclass models is predicted (raw and transformed) with
//! a counting global allocator armed around each call. Nor does the LightGBM bot's feature
//! set, fed bars past its buffer's size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use mako::strategy::model::{Model, rows};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Only allocations made on the thread under test, while armed, are counted.
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    for name in ["binary_120", "categorical", "multiclass"] {
        let m = model(name);
        let text = std::fs::read_to_string(fixture(&format!("{name}.rows.csv"))).unwrap();
        let rows = rows::read(&m, &text).unwrap();
        let mut out = vec![0.0; m.outputs()];
        for row in &rows {
            ARMED.with(|a| a.set(true));
            m.predict(black_box(row), &mut out).unwrap();
            m.predict_raw_limit(black_box(row), 3, &mut out).unwrap();
            ARMED.with(|a| a.set(false));
            black_box(&out);
            calls += 2;
        }
    }
    assert!(calls > 400);
    assert_eq!(
        ALLOCS.load(Ordering::Relaxed),
        0,
        "allocations in {calls} predictions"
    );
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
        ARMED.with(|a| a.set(true));
        set.update(black_box(&c));
        set.values(&mut row);
        let ready = set.ready();
        ARMED.with(|a| a.set(false));
        black_box((&row, ready));
    }
    assert!(set.ready());
    assert_eq!(
        ALLOCS.load(Ordering::Relaxed),
        0,
        "allocations in feature updates"
    );
}
