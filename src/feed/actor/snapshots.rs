//! The feed's REST snapshots (asked for when the venue's book rule wants one, the answers
//! applied, a too-old one asked again after a growing wait, a failed one after the retry
//! wait) and the totals it publishes for the status room.

use super::*;

impl<M: MarketData> FeedActor<M> {
    /// A snapshot was older than the buffered diffs: the next is asked for after a wait that
    /// doubles with each one in a row (`snapshot_too_old_wait` up to `snapshot_retry`).
    pub(super) fn snapshot_too_old(&mut self, k: usize, now: UnixNanos) {
        let o = &self.options;
        let first = o.snapshot_too_old_wait.as_nanos() as u64;
        let cap = (o.snapshot_retry.as_nanos() as u64).max(first);
        let b = &mut self.books[k];
        b.too_old = b.too_old.saturating_add(1);
        let wait = first
            .saturating_mul(1u64 << (b.too_old - 1).min(20))
            .min(cap);
        b.snapshot_retry_at = now.plus_nanos(wait);
    }

    /// Sends wanted snapshot requests and applies the answers.
    pub(super) fn drive_snapshots(&mut self, ctx: &Ctx) -> usize {
        let mut n = 0;
        while let Some(a) = self.snapshots.try_answer() {
            n += 1;
            let now = ctx.clock.now();
            let Some(k) = self.book_slot(a.instrument) else {
                continue;
            };
            self.books[k].snapshot_in_flight = false;
            match a.result {
                Ok(body) => {
                    if let Some(r) = &mut self.record {
                        self.handler
                            .record_snapshot(a.instrument, &body, &mut self.snapshot_line);
                        if r.write(now, &self.snapshot_line).is_err() {
                            self.record_errors += 1;
                        }
                    }
                    let res = self.handler.on_snapshot(a.instrument, &body);
                    self.apply(res, now, ctx);
                }
                Err(_) => {
                    self.snapshot_failures += 1;
                    self.books[k].snapshot_retry_at =
                        now.plus_nanos(self.options.snapshot_retry.as_nanos() as u64);
                }
            }
        }
        if !self.slots[self.active].link.is_up() {
            return n;
        }
        let now = ctx.clock.now();
        for k in 0..self.books.len() {
            let b = &self.books[k];
            if b.snapshot_in_flight || now < b.snapshot_retry_at {
                continue;
            }
            let wanted = self.handler.snapshot_wanted(b.id);
            if wanted && self.snapshots.request(b.id) {
                self.books[k].snapshot_in_flight = true;
                self.snapshot_requests += 1;
                n += 1;
            }
        }
        n
    }

    pub(super) fn publish_stats(&self) {
        let s = &self.stats;
        let c = self.handler.counters();
        s.frames.store(c.frames, Relaxed);
        s.malformed.store(c.malformed, Relaxed);
        let (mut resyncs, mut gaps, mut live, mut verified, mut mismatched) = (0, 0, 0, 0, 0);
        for b in &self.books {
            if let Some(c) = self.handler.sync_counters(b.id) {
                resyncs += c.resyncs;
                gaps += c.gaps;
                verified += c.checksums_verified;
                mismatched += c.checksum_mismatches;
            }
            live += u64::from(self.handler.state(b.id) == Some(SyncState::Live));
        }
        s.resyncs.store(resyncs, Relaxed);
        s.gaps.store(gaps, Relaxed);
        s.checksums_verified.store(verified, Relaxed);
        s.checksum_mismatches.store(mismatched, Relaxed);
        s.books_live.store(live, Relaxed);
        s.reconnects.store(self.reconnects, Relaxed);
        s.rotations.store(self.rotations, Relaxed);
        s.snapshot_requests.store(self.snapshot_requests, Relaxed);
        s.snapshots_applied.store(self.snapshots_applied, Relaxed);
        s.snapshot_failures.store(self.snapshot_failures, Relaxed);
        s.publishes.store(self.publishes, Relaxed);
        s.invalidations.store(self.invalidations, Relaxed);
        s.trades.store(self.trades_sent, Relaxed);
        s.trades_dropped.store(self.trades_dropped, Relaxed);
        s.record_errors.store(self.record_errors, Relaxed);
        s.connected
            .store(u64::from(self.slots[self.active].link.is_up()), Relaxed);
    }
}
