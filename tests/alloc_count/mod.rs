//! The counting global allocator of the allocation tests (`mod alloc_count;` in a test
//! file installs it for that test binary): it forwards every call to the system allocator
//! and counts the allocations and reallocations made on a thread while that thread is armed
//! ([`counted`]), per thread, so tests running in parallel never count each other's. Other
//! threads (a simulator, a test server) are never counted.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Only allocations made on the thread under test, while armed, are counted.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations and reallocations while armed.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` armed: its result and the allocations it made on this thread.
pub fn counted<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCS.with(Cell::get);
    let was = ARMED.with(|a| a.replace(true));
    let r = f();
    ARMED.with(|a| a.set(was));
    (r, ALLOCS.with(Cell::get) - before)
}

/// Whether the counter counts (a test's sanity check): one allocation, armed, is one.
pub fn counter_counts() -> bool {
    let (v, n) = counted(|| Vec::<u64>::with_capacity(4));
    drop(v);
    n == 1
}
