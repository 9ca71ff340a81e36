//! A seqlock over `N` atomic `u64` words: one writer publishes, any number of readers copy a
//! consistent snapshot without locking, without writing shared memory, and without ever
//! blocking the writer.
//!
//! # Why it is sound without `unsafe`
//!
//! The classic seqlock reads the payload with plain loads that race with the writer, which is
//! undefined behaviour under Rust's (C++20) memory model even though the torn value is thrown
//! away. Here the payload itself is atomic words, so every access is an atomic access and there
//! is no data race at all; the orderings below are what make a snapshot consistent. They are
//! the fence-based variant from H.-J. Boehm, "Can seqlocks get along with programming language
//! memory models?" (MSPC 2012, doi:10.1145/2247684.2247688), the same shape crossbeam's
//! `AtomicCell` lock uses:
//!
//! ```text
//! writer (one thread)                      reader (any thread)
//! s = seq.load(Relaxed)         // even    s1 = seq.load(Acquire)        // retry if odd
//! seq.store(s + 1, Relaxed)     // odd     w[i] = words[i].load(Relaxed) // for each i
//! fence(Release)                   (F_w)   fence(Acquire)                   (F_r)
//! words[i].store(v[i], Relaxed)  // each   s2 = seq.load(Relaxed)
//! seq.store(s + 2, Release)     // even    consistent iff s1 == s2
//! ```
//!
//! - If `s1` reads the even value stored (Release) at the end of write `k`, the Acquire load
//!   synchronises with it, so every word load sees write `k`'s value or a later one.
//! - If any word load sees a value from a later write `j > k`, that store is sequenced after
//!   `F_w` of write `j`, and the load is sequenced before `F_r`, so `F_w` synchronises with
//!   `F_r` (fence-to-fence synchronisation). The odd store that opened write `j` is sequenced
//!   before `F_w`, hence happens before the `s2` load, which by coherence must see that odd
//!   value or a later one: `s2 != s1`, and the reader retries.
//! - So `s1 == s2` (even) implies every word came from write `k`: the snapshot is exactly what
//!   the writer published, never a mix of two writes.
//!
//! Without `F_w` the word stores could become visible before the odd `seq` store; without
//! `F_r` the `s2` load could be satisfied before the word loads. On x86-64 both fences and all
//! the loads and stores here compile to plain `mov`s; the fences only restrain the compiler.
//!
//! # One writer
//!
//! [`SeqLock::write`] takes `&self` but assumes a single writer at a time: two concurrent
//! writers cannot cause undefined behaviour (everything is atomic), but readers could then
//! accept a mixed snapshot. Owners enforce the single writer by construction (the book cache
//! hands out one writer handle per slot); debug builds assert it.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU64, fence};

/// Failed read attempts that spin with [`std::hint::spin_loop`] before each further attempt
/// yields the thread instead. A writer holds the lock for a few nanoseconds, so spinning is
/// almost always enough; yielding covers a writer preempted mid-write on a busy core.
pub const SPINS_BEFORE_YIELD: u32 = 64;

/// `N` words published by one writer and read consistently by many readers.
///
/// Readers never write shared memory, so any number of them cost the writer nothing beyond the
/// cache-line transfers of the words they read. Wrap the lock in
/// `crossbeam_utils::CachePadded` when several locks sit side by side.
#[derive(Debug)]
pub struct SeqLock<const N: usize> {
    /// Twice the number of completed writes, plus one while a write is in progress (odd).
    /// Only the writer stores it: Relaxed for the odd store (followed by a Release fence),
    /// Release for the even store that ends a write. Readers load it Acquire before the
    /// payload and Relaxed after their Acquire fence.
    seq: AtomicU64,
    /// The payload. All accesses are Relaxed; the fences around them order them (see the
    /// module docs).
    words: [AtomicU64; N],
}

/// A consistent copy of a lock's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot<const N: usize> {
    /// The number of writes completed when the snapshot was taken: `words` are exactly what
    /// write number `version` stored (0: the initial value).
    pub version: u64,
    pub words: [u64; N],
}

impl<const N: usize> Default for SeqLock<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> SeqLock<N> {
    /// A lock holding all-zero words, version 0.
    pub const fn new() -> Self {
        Self {
            seq: AtomicU64::new(0),
            words: [const { AtomicU64::new(0) }; N],
        }
    }

    /// A lock holding `words` as its initial value, version 0.
    pub fn with_words(words: [u64; N]) -> Self {
        Self {
            seq: AtomicU64::new(0),
            words: words.map(AtomicU64::new),
        }
    }

    /// Publishes `words`. Never blocks and never waits for readers.
    ///
    /// Only one thread may write at a time (see the module docs); the caller guarantees it.
    #[inline]
    pub fn write(&self, words: &[u64; N]) {
        // Relaxed: only this thread stores `seq`, so this sees our own last store.
        let s = self.seq.load(Relaxed);
        debug_assert!(
            s & 1 == 0,
            "Invariant: one writer at a time (seq {s} is odd)"
        );
        self.seq.store(s.wrapping_add(1), Relaxed);
        // F_w: no payload store below may become visible before the odd `seq` above.
        fence(Release);
        for (slot, &v) in self.words.iter().zip(words) {
            slot.store(v, Relaxed);
        }
        // Release: a reader that sees the even value sees every payload store above.
        self.seq.store(s.wrapping_add(2), Release);
    }

    /// One read attempt: the snapshot, or `None` if a write was in progress or overlapped.
    #[inline]
    pub fn try_read(&self) -> Option<Snapshot<N>> {
        let s1 = self.seq.load(Acquire);
        if s1 & 1 != 0 {
            return None;
        }
        let mut words = [0u64; N];
        for (out, slot) in words.iter_mut().zip(&self.words) {
            *out = slot.load(Relaxed);
        }
        // F_r: the `seq` load below cannot be satisfied before the payload loads above.
        fence(Acquire);
        let s2 = self.seq.load(Relaxed);
        (s1 == s2).then_some(Snapshot {
            version: s1 >> 1,
            words,
        })
    }

    /// A consistent snapshot. Retries while a write overlaps: spins up to
    /// [`SPINS_BEFORE_YIELD`] times, then yields between attempts. Returns as soon as the
    /// writer leaves the lock alone for the length of one read.
    #[inline]
    pub fn read(&self) -> Snapshot<N> {
        if let Some(snap) = self.try_read() {
            return snap;
        }
        self.read_slow()
    }

    #[cold]
    #[inline(never)]
    fn read_slow(&self) -> Snapshot<N> {
        let mut spins = 0u32;
        loop {
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            if let Some(snap) = self.try_read() {
                return snap;
            }
        }
    }

    /// The number of completed writes (Acquire). A cheap "did it change" check: after it
    /// returns `v`, a later [`read`](Self::read) on the same thread returns `version >= v`.
    #[inline]
    pub fn version(&self) -> u64 {
        self.seq.load(Acquire) >> 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn reads_what_was_written_with_versions() {
        // (words to write, expected version after the write)
        let cases: [([u64; 3], u64); 4] = [
            ([1, 2, 3], 1),
            ([0, 0, 0], 2),
            ([u64::MAX, 7, u64::MAX], 3),
            ([9, 9, 9], 4),
        ];
        let lock = SeqLock::<3>::new();
        assert_eq!(
            lock.read(),
            Snapshot {
                version: 0,
                words: [0; 3]
            }
        );
        assert_eq!(lock.version(), 0);
        for (words, version) in cases {
            lock.write(&words);
            assert_eq!(lock.read(), Snapshot { version, words });
            assert_eq!(lock.try_read(), Some(Snapshot { version, words }));
            assert_eq!(lock.version(), version);
        }
    }

    #[test]
    fn initial_words_are_version_zero() {
        let lock = SeqLock::with_words([4u64, 5]);
        assert_eq!(
            lock.read(),
            Snapshot {
                version: 0,
                words: [4, 5]
            }
        );
        let empty = SeqLock::<0>::default();
        empty.write(&[]);
        assert_eq!(
            empty.read(),
            Snapshot {
                version: 1,
                words: []
            }
        );
    }

    #[test]
    fn a_write_in_progress_is_not_readable() {
        let lock = SeqLock::<2>::new();
        lock.write(&[1, 1]);
        // Simulate the writer between its odd store and its final even store.
        lock.seq.store(3, Relaxed);
        lock.words[0].store(2, Relaxed);
        assert_eq!(lock.try_read(), None);
        assert_eq!(lock.version(), 1);
        lock.words[1].store(2, Relaxed);
        lock.seq.store(4, Release);
        assert_eq!(
            lock.try_read(),
            Some(Snapshot {
                version: 2,
                words: [2, 2]
            })
        );
    }

    /// One writer publishes `[k, !k, k*3, k^0x5555]` for k = 1, 2, ...; readers on other
    /// threads must only ever see a whole tuple, with versions and k never going backwards.
    /// Small enough to run under Miri, which explores weak-memory outcomes of the orderings.
    #[test]
    fn concurrent_readers_see_whole_writes() {
        const WRITES: u64 = if cfg!(miri) { 60 } else { 20_000 };
        const READERS: usize = 2;
        fn encode(k: u64) -> [u64; 4] {
            [k, !k, k.wrapping_mul(3), k ^ 0x5555]
        }
        let lock = Arc::new(SeqLock::<4>::with_words(encode(0)));
        let done = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (lock, done) = (Arc::clone(&lock), Arc::clone(&done));
                std::thread::spawn(move || {
                    let (mut last_version, mut last_k, mut reads) = (0u64, 0u64, 0u64);
                    loop {
                        let finished = done.load(Acquire);
                        let snap = lock.read();
                        let k = snap.words[0];
                        assert_eq!(snap.words, encode(k), "torn snapshot");
                        assert_eq!(snap.version, k, "version must equal the write number");
                        assert!(snap.version >= last_version, "version went backwards");
                        assert!(k >= last_k, "value went backwards");
                        (last_version, last_k) = (snap.version, k);
                        reads += 1;
                        if finished {
                            return (reads, last_k);
                        }
                    }
                })
            })
            .collect();
        for k in 1..=WRITES {
            lock.write(&encode(k));
        }
        done.store(true, Release);
        for r in readers {
            let (reads, last_k) = r.join().expect("reader thread panicked");
            assert!(reads > 0);
            // The read after seeing `done` happens after the last write.
            assert_eq!(last_k, WRITES);
        }
    }
}
