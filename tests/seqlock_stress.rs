//! Stress tests of the seqlock and the book cache: one writer publishing as fast as it can,
//! several readers checking that every snapshot is whole and that nothing goes backwards.
//!
//! Every published value carries an invariant (all words derive from one counter `k`), so a
//! torn snapshot (words from two writes) is detected by the reader. Both sides run until the
//! other has done its share, so they overlap for the whole test. Nothing here depends on
//! timing: counts are fixed, waits are for the other side's progress.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::thread::{self, JoinHandle};

use mako::book::{BookCache, CACHE_DEPTH, L2Book, Level, SeqLock};
use mako::types::{InstrumentId, Price, Qty, Side, UnixNanos};

const READERS: usize = 3;

/// Serialises the tests of this file: on a 2-core machine two stress tests at once would
/// mostly time-slice instead of overlapping their writer and readers.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Between writes the writer spins for 0..=7 pause hints, mixing back-to-back writes (readers
/// retry a lot) with slightly spaced ones (readers get through and see each new value).
fn writer_pause(k: u64) {
    for _ in 0..k % 8 {
        std::hint::spin_loop();
    }
}

/// Words of the stressed lock: more than a cache line, so a write spans two lines.
const W: usize = 12;

fn encode(k: u64) -> [u64; W] {
    std::array::from_fn(|i| {
        k.rotate_left(i as u32 * 5) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    })
}

/// Readers only return after the writer is done, so one that finished early has failed: the
/// writer stops instead of waiting forever for it, and `join` reports the failure. Checked
/// every 1024 writes.
fn any_finished<T>(readers: &[JoinHandle<T>], k: u64) -> bool {
    k.is_multiple_of(1024) && readers.iter().any(JoinHandle::is_finished)
}

/// What a reader saw.
#[derive(Debug, Default)]
struct ReaderStats {
    reads: u64,
    failed_attempts: u64,
    distinct_values: u64,
}

#[test]
fn seqlock_readers_never_see_a_torn_write() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (reads_per_reader, min_writes) = if cfg!(miri) {
        (50, 50)
    } else {
        (1_000_000u64, 1_000_000u64)
    };
    let lock = Arc::new(SeqLock::<W>::with_words(encode(0)));
    let writer_done = Arc::new(AtomicBool::new(false));
    let readers_done = Arc::new(AtomicUsize::new(0));

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (lock, writer_done, readers_done) =
                (lock.clone(), writer_done.clone(), readers_done.clone());
            thread::spawn(move || {
                let mut st = ReaderStats::default();
                let (mut last_version, mut last_k) = (0u64, 0u64);
                let mut counted = false;
                loop {
                    // Check `done` before reading: a read that starts after the writer finished
                    // must see its last value.
                    let finished = writer_done.load(Acquire);
                    let snap = match lock.try_read() {
                        Some(s) => s,
                        None => {
                            st.failed_attempts += 1;
                            lock.read()
                        }
                    };
                    let k = snap.version;
                    assert_eq!(snap.words, encode(k), "torn snapshot at version {k}");
                    assert!(
                        k >= last_version,
                        "version went backwards: {last_version} -> {k}"
                    );
                    assert!(
                        snap.words[0] >= last_k || k == last_version,
                        "value went backwards"
                    );
                    if k != last_version {
                        st.distinct_values += 1;
                    }
                    (last_version, last_k) = (k, snap.words[0]);
                    st.reads += 1;
                    if st.reads == reads_per_reader && !counted {
                        counted = true;
                        readers_done.fetch_add(1, Release);
                    }
                    if finished && counted {
                        return (st, last_version);
                    }
                }
            })
        })
        .collect();

    let mut k = 0u64;
    while (k < min_writes || readers_done.load(Acquire) < READERS) && !any_finished(&readers, k) {
        k += 1;
        lock.write(&encode(k));
        writer_pause(k);
    }
    writer_done.store(true, Release);

    let mut total = ReaderStats::default();
    for r in readers {
        let (st, last_version) = r.join().expect("reader panicked");
        assert!(st.reads >= reads_per_reader);
        assert_eq!(
            last_version, k,
            "a read after the writer finished must see its last write"
        );
        total.reads += st.reads;
        total.failed_attempts += st.failed_attempts;
        total.distinct_values += st.distinct_values;
    }
    eprintln!("seqlock stress: {k} writes, {total:?}");
}

/// One feed publishing a moving book; strategies reading top and depth. The book at step `k`
/// has its best bid at `base + k` ticks with quantities derived from `k`, CACHE_DEPTH + 2
/// levels per side, and update id `k`; every read must match exactly that book.
#[test]
fn cache_readers_never_see_a_torn_publish() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (reads_per_reader, min_publishes) = if cfg!(miri) {
        (20, 20)
    } else {
        (200_000u64, 200_000u64)
    };
    const TICK: i64 = 1_000_000; // 0.01
    const BASE: i64 = 6_183_763_000_000; // 61837.63
    const LEVELS: i64 = CACHE_DEPTH as i64 + 2;
    fn bid(k: i64, j: i64) -> Level {
        Level {
            price: Price::from_units(BASE + (k - j) * TICK),
            qty: Qty::from_units(k * 16 + j + 1),
        }
    }
    fn ask(k: i64, j: i64) -> Level {
        Level {
            price: Price::from_units(BASE + (k + 1 + j) * TICK),
            qty: Qty::from_units(k * 16 + j + 2),
        }
    }

    let cache = BookCache::new(2);
    let id = InstrumentId(1);
    let mut writer = cache.writer(id).expect("writer");
    let writer_done = Arc::new(AtomicBool::new(false));
    let readers_done = Arc::new(AtomicUsize::new(0));

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (r, writer_done, readers_done) =
                (cache.reader(), writer_done.clone(), readers_done.clone());
            thread::spawn(move || {
                let (mut reads, mut last_seq, mut last_depth_seq, mut counted) =
                    (0u64, 0u64, 0u64, false);
                loop {
                    let finished = writer_done.load(Acquire);
                    let cheap = r.seq(id);
                    let top = r.top(id);
                    assert!(top.seq >= cheap, "top older than the seq checked before it");
                    assert!(top.seq >= last_seq, "top seq went backwards");
                    last_seq = top.seq;
                    if top.seq > 0 {
                        let k = top.update_id as i64;
                        assert!(top.valid);
                        assert_eq!(top.seq, top.update_id, "seq counts publishes");
                        assert_eq!(
                            (top.bid, top.ask),
                            (bid(k, 0), ask(k, 0)),
                            "torn top at {k}"
                        );
                        assert_eq!(
                            (top.exchange_ts, top.recv_ts),
                            (UnixNanos(k as u64), UnixNanos(k as u64 + 1))
                        );
                    }
                    let d = r.depth(id);
                    assert!(d.seq >= last_depth_seq, "depth seq went backwards");
                    assert!(
                        d.seq >= top.seq,
                        "depth is written before top: never older than a top read before it"
                    );
                    last_depth_seq = d.seq;
                    if d.seq > 0 {
                        let k = d.update_id as i64;
                        assert_eq!(d.seq, d.update_id);
                        assert_eq!((d.bid_count, d.ask_count), (CACHE_DEPTH, CACHE_DEPTH));
                        for j in 0..CACHE_DEPTH {
                            assert_eq!(d.bids[j], bid(k, j as i64), "torn depth at {k}");
                            assert_eq!(d.asks[j], ask(k, j as i64), "torn depth at {k}");
                        }
                    }
                    reads += 1;
                    if reads == reads_per_reader && !counted {
                        counted = true;
                        readers_done.fetch_add(1, Release);
                    }
                    if finished && counted {
                        return (reads, last_seq);
                    }
                }
            })
        })
        .collect();

    let mut book = L2Book::with_capacity(64);
    let mut k = 0i64;
    while ((k as u64) < min_publishes || readers_done.load(Acquire) < READERS)
        && !any_finished(&readers, k as u64)
    {
        k += 1;
        // Move the book up one tick as a feed would: level diffs, not snapshots.
        book.apply_level(Side::Sell, ask(k - 1, 0).price, Qty::ZERO);
        for j in 0..LEVELS {
            book.apply_level(Side::Buy, bid(k, j).price, bid(k, j).qty);
            book.apply_level(Side::Sell, ask(k, j).price, ask(k, j).qty);
        }
        book.apply_level(Side::Buy, bid(k - 1, LEVELS - 1).price, Qty::ZERO);
        book.set_update_id(k as u64);
        writer.publish(&book, UnixNanos(k as u64), UnixNanos(k as u64 + 1));
        writer_pause(k as u64);
    }
    writer_done.store(true, Release);

    let mut total = 0;
    for r in readers {
        let (reads, last_seq) = r.join().expect("reader panicked");
        assert_eq!(
            last_seq, k as u64,
            "a read after the writer finished must see its last publish"
        );
        total += reads;
    }
    assert_eq!(
        book.depth(Side::Buy),
        LEVELS as usize,
        "the test book keeps a fixed depth"
    );
    // The untouched slot stayed empty.
    assert_eq!(cache.reader().seq(InstrumentId(0)), 0);
    eprintln!("cache stress: {k} publishes, {total} reads of top + depth");
}
