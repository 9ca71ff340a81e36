//! The feed's per-frame path allocates nothing once built: replays the real recording
//! through `SpotMdHandler` with a counting global allocator armed around each `on_frame`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use mako::feed::record::RecordReader;
use mako::types::InstrumentId;
use mako::venue::binance::handler::SpotMdHandler;
use mako::venue::binance::{SymbolTable, TimeUnit};
use mako::venue::md::SyncLimits;

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

#[test]
fn replaying_the_recording_allocates_nothing_per_frame() {
    let mut symbols = SymbolTable::new();
    symbols.insert("btcusdt", InstrumentId(0)).unwrap();
    let mut h = SpotMdHandler::new(symbols, TimeUnit::Millis, SyncLimits::default());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
    );
    let mut reader = RecordReader::open(path).unwrap();
    let mut frames = 0u64;
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        ARMED.with(|a| a.set(true));
        let res = h.on_frame(rec.frame);
        ARMED.with(|a| a.set(false));
        assert!(res.is_ok(), "line {}", rec.line);
        frames += 1;
    }
    assert_eq!(frames, 41249);
    // Sanity: the counter does count when armed.
    ARMED.with(|a| a.set(true));
    let v: Vec<u64> = Vec::with_capacity(4);
    ARMED.with(|a| a.set(false));
    drop(v);
    assert_eq!(
        ALLOCS.load(Ordering::Relaxed),
        1,
        "allocations while handling frames (the last one is the sanity check)"
    );
}
