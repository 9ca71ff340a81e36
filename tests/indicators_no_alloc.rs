//! The indicators allocate nothing per bar once built: every one is fed a long series (with
//! flat stretches, so the exact-zero path runs too) with a counting global allocator armed
//! around each update.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use mako::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};

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
fn updates_allocate_nothing() {
    let mut sma = Sma::new(20).unwrap();
    let mut ema = Ema::new(12).unwrap();
    let mut rsi = Rsi::new(14).unwrap();
    let mut macd = Macd::new(12, 26, 9).unwrap();
    let mut bb = Bbands::new(20, 2.0).unwrap();
    let mut atr = Atr::new(14).unwrap();
    let mut vol = LogReturnVol::new(20).unwrap();
    // The signal bot's score on top (its own RSI, averages and MACD, components, weights).
    let params = mako::strategy::signal::SignalParams::from_table(&toml::Table::new()).unwrap();
    let mut scorer = mako::strategy::signal::Scorer::new(&params).unwrap();
    let mut scores = 0u64;
    let mut price = 100.0_f64;
    let mut outputs = 0u64;
    for i in 0..20_000u64 {
        // A walk that stands still for 50 bars out of every 200.
        if i % 200 >= 50 {
            price *= 1.0 + ((i * 7919 % 101) as f64 - 50.0) * 1e-4;
        }
        let (high, low) = (price * 1.001, price * 0.999);
        ARMED.with(|a| a.set(true));
        let got = (
            sma.update(price),
            ema.update(price),
            rsi.update(price),
            macd.update(price),
            bb.update(price),
            atr.update(high, low, price),
            vol.update(price),
            scorer.update(price),
        );
        ARMED.with(|a| a.set(false));
        let got = black_box(got);
        outputs += u64::from(got.6.is_some());
        scores += u64::from(got.7.is_some());
    }
    assert_eq!(
        scores,
        20_000 - 33,
        "the score ran from MACD's first value on"
    );
    assert_eq!(
        outputs,
        20_000 - 20,
        "the last indicator to start (vol 20) ran"
    );
    assert_eq!(
        ALLOCS.load(Ordering::Relaxed),
        0,
        "allocations during updates"
    );
}
