//! The feed: turns venue frames into a synchronised L2 book per instrument: the connection
//! actor, the frame handler, book sync, REST snapshots, recording and replay.

/// The feed actor: connections, reconnects, rotation, snapshots, publishing.
pub mod actor;
/// Recording files: `<receive ns> <frame>` per line, optionally gzip.
pub mod record;
/// REST book snapshots fetched on a low-priority thread.
pub mod snapshot;
