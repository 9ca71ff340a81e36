//! The feed: turns venue frames into a synchronised L2 book per instrument. Offline parts
//! here (book sync, recording and replay, the frame handler); the connection actor joins later.

/// Per-frame driver: codec → book sync, and the single place the book cache gets published.
pub mod handler;
/// Recording files: `<receive ns> <frame>` per line, optionally gzip.
pub mod record;
/// The local order book synchroniser (Binance's documented procedure).
pub mod sync;
