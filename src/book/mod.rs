//! Order books: the L2 book a feed owns, and the lock-free cache that publishes its top to
//! readers on other threads.

pub mod l2;

pub use l2::{L2Book, Level};
