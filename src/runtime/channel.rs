//! Bounded channels between actors, each with a stated policy for when it is full.
//!
//! | policy        | used for                                   | when full                          |
//! |---------------|--------------------------------------------|------------------------------------|
//! | `Backpressure`| order intents, order updates, order records| never dropped: the sender gets the item back and must hold it (and stop taking new work) |
//! | `Conflate`    | "book changed" notifications               | dropped and counted: the cache already holds the latest state |
//! | `DropNewest`  | telemetry, notifications to people         | dropped and counted                |

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};

/// What a channel does with a message it has no room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullPolicy {
    Backpressure,
    Conflate,
    DropNewest,
}

/// Counters of one channel, readable from any thread (Relaxed: statistics only).
#[derive(Debug, Default)]
pub struct ChannelStats {
    pub sent: AtomicU64,
    /// Messages dropped (`DropNewest`) or conflated away (`Conflate`).
    pub dropped: AtomicU64,
    /// Times a `Backpressure` send found the channel full.
    pub full: AtomicU64,
}

impl ChannelStats {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.full.load(Ordering::Relaxed),
        )
    }
}

/// The item a full `Backpressure` channel handed back, or the message sent to a channel
/// whose receiver is gone.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError<T> {
    Full(T),
    Disconnected(T),
}

/// The sending half. Never blocks.
#[derive(Debug)]
pub struct Tx<T> {
    inner: Sender<T>,
    policy: FullPolicy,
    name: &'static str,
    stats: Arc<ChannelStats>,
}

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            policy: self.policy,
            name: self.name,
            stats: Arc::clone(&self.stats),
        }
    }
}

/// The receiving half.
#[derive(Debug)]
pub struct Rx<T> {
    inner: Receiver<T>,
    name: &'static str,
    stats: Arc<ChannelStats>,
}

impl<T> Clone for Rx<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            name: self.name,
            stats: Arc::clone(&self.stats),
        }
    }
}

/// A bounded channel of `capacity` messages with the given full policy.
pub fn bounded<T>(name: &'static str, capacity: usize, policy: FullPolicy) -> (Tx<T>, Rx<T>) {
    let (s, r) = crossbeam_channel::bounded(capacity);
    let stats = Arc::new(ChannelStats::default());
    (
        Tx {
            inner: s,
            policy,
            name,
            stats: Arc::clone(&stats),
        },
        Rx {
            inner: r,
            name,
            stats,
        },
    )
}

impl<T> Tx<T> {
    /// Sends without blocking. `Ok` means the message is queued, or was dropped/conflated as
    /// the channel's policy says (counted). Only a `Backpressure` channel returns `Full`.
    #[inline]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        match self.inner.try_send(msg) {
            Ok(()) => {
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(m)) => match self.policy {
                FullPolicy::Backpressure => {
                    self.stats.full.fetch_add(1, Ordering::Relaxed);
                    Err(SendError::Full(m))
                }
                FullPolicy::Conflate | FullPolicy::DropNewest => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            },
            Err(TrySendError::Disconnected(m)) => Err(SendError::Disconnected(m)),
        }
    }

    /// Whether a send now would find room (a hint; another sender may take it first).
    #[inline]
    pub fn has_room(&self) -> bool {
        !self.inner.is_full()
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn policy(&self) -> FullPolicy {
        self.policy
    }

    pub fn stats(&self) -> &Arc<ChannelStats> {
        &self.stats
    }
}

impl<T> Rx<T> {
    /// The next message, if one is waiting.
    #[inline]
    pub fn try_recv(&self) -> Option<T> {
        self.inner.try_recv().ok()
    }

    /// Hands up to `max` waiting messages to `f`; returns how many. Bounding the batch keeps
    /// one busy inbox from starving the other actors on the same host.
    #[inline]
    pub fn drain(&self, max: usize, mut f: impl FnMut(T)) -> usize {
        let mut n = 0;
        while n < max {
            match self.inner.try_recv() {
                Ok(m) => {
                    f(m);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        n
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn stats(&self) -> &Arc<ChannelStats> {
        &self.stats
    }

    /// Blocks up to `timeout` for a message; for low-priority actors and tests, never the
    /// hot path.
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<T> {
        self.inner.recv_timeout(timeout).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_when_full() {
        let table = [
            (FullPolicy::Backpressure, true, 0u64, 1u64),
            (FullPolicy::Conflate, false, 1, 0),
            (FullPolicy::DropNewest, false, 1, 0),
        ];
        for (policy, hands_back, dropped, full) in table {
            let (tx, rx) = bounded::<u32>("t", 2, policy);
            assert!(tx.send(1).is_ok());
            assert!(tx.send(2).is_ok());
            let r = tx.send(3);
            assert_eq!(r == Err(SendError::Full(3)), hands_back, "{policy:?}");
            assert_eq!(tx.stats().snapshot(), (2, dropped, full), "{policy:?}");
            let mut got = vec![];
            assert_eq!(rx.drain(10, |m| got.push(m)), 2);
            assert_eq!(
                got,
                vec![1, 2],
                "{policy:?}: oldest kept, nothing reordered"
            );
        }
    }

    #[test]
    fn drain_is_bounded_and_disconnect_is_reported() {
        let (tx, rx) = bounded::<u32>("t", 8, FullPolicy::Backpressure);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.drain(3, |_| {}), 3);
        assert_eq!(rx.len(), 2);
        drop(rx);
        assert_eq!(tx.send(9), Err(SendError::Disconnected(9)));
    }
}
