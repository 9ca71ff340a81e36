//! Order books: the L2 book a feed owns, and the lock-free cache that publishes its top to
//! readers on other threads.

/// The seqlock-published per-instrument cache of top of book and top-N depth.
pub mod cache;
/// The L2 book of one instrument, owned by its feed.
pub mod l2;
/// One side of the L2 book: a dense tick window plus a sorted overflow.
mod ladder;
/// A single-writer, many-reader seqlock over atomic words.
pub mod seqlock;

pub use cache::{BookCache, CACHE_DEPTH, CacheReader, CacheWriter, Depth, MarkPrice, TopOfBook};
pub use l2::{L2Book, Level};
pub use seqlock::{SeqLock, Snapshot};
