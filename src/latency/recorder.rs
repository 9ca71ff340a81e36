//! The hot side: a `Recorder` owned by one hot actor records samples into preallocated
//! histograms and hands full ones to the latency monitor at intervals, getting emptied
//! ones back, so it never allocates or locks in steady state.

use std::mem;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::runtime::{Rx, SendError, Tx};
use crate::types::{UnixNanos, VenueId};

use super::measurement::{Measurement, new_histogram};

/// Histograms a recorder owns per measurement: the live one plus spares, so a flush finds
/// a replacement while the previous interval is still with the monitor.
pub const HISTOGRAMS_PER_MEASUREMENT: usize = 3;

/// One interval of one measurement, travelling hot actor → monitor.
#[derive(Debug)]
pub struct HistBatch {
    /// The recorder that owns `hist`; the monitor returns it there, emptied.
    pub recorder: u16,
    pub venue: VenueId,
    pub measurement: Measurement,
    /// The interval the samples were taken in (the recorder's clock).
    pub start: UnixNanos,
    pub end: UnixNanos,
    pub hist: Histogram<u64>,
}

/// What a recorder counted about itself (plain counters: the recorder has one owner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Samples handed to the monitor (counted per batch, so `record` stays a bare
    /// histogram update; samples of the live interval are not included yet).
    pub samples_flushed: u64,
    /// Samples for a measurement this recorder was not built for (ignored).
    pub unregistered: u64,
    /// Batches handed to the monitor.
    pub flushed: u64,
    /// Flushes put off because no empty histogram had come back yet (samples kept).
    pub deferred_no_spare: u64,
    /// Flushes put off because the monitor's inbox was full or gone (samples kept).
    pub deferred_channel: u64,
}

/// The live histogram of one measurement and when its interval began.
#[derive(Debug)]
struct Live {
    hist: Histogram<u64>,
    since: UnixNanos,
}

/// Records latency samples of one venue on a hot thread.
///
/// `record` is a few arithmetic operations on a preallocated counts array: the histograms
/// have fixed bounds and no auto-resize, values above the bound saturate. `maybe_flush`
/// swaps full histograms for spares and sends them over a bounded channel without blocking;
/// when the channel is full, or no spare has come back, the samples simply stay in the live
/// histogram until the next flush (nothing is lost, nothing allocates).
#[derive(Debug)]
pub struct Recorder {
    id: u16,
    venue: VenueId,
    /// Indexed by `Measurement::index`; `None` for measurements this recorder does not take.
    live: [Option<Live>; Measurement::COUNT],
    /// Empty histograms ready to swap in. Capacity is fixed at build to the total number of
    /// histograms this recorder owns, so pushing back never reallocates.
    spares: Vec<Histogram<u64>>,
    flush_every_ns: u64,
    next_flush: UnixNanos,
    tx: Tx<HistBatch>,
    returns: Rx<Histogram<u64>>,
    stats: RecorderStats,
}

impl Recorder {
    /// Built by `LatencyHub::recorder`, which owns the other ends of both channels.
    pub(crate) fn new(
        id: u16,
        venue: VenueId,
        measurements: &[Measurement],
        flush_every: Duration,
        tx: Tx<HistBatch>,
        returns: Rx<Histogram<u64>>,
    ) -> Self {
        let mut live: [Option<Live>; Measurement::COUNT] = Default::default();
        let mut active = 0;
        for m in measurements {
            if live[m.index()].is_none() {
                live[m.index()] = Some(Live {
                    hist: new_histogram(),
                    since: UnixNanos::ZERO,
                });
                active += 1;
            }
        }
        let total = active * HISTOGRAMS_PER_MEASUREMENT;
        let mut spares = Vec::with_capacity(total);
        for _ in 0..active * (HISTOGRAMS_PER_MEASUREMENT - 1) {
            spares.push(new_histogram());
        }
        Self {
            id,
            venue,
            live,
            spares,
            flush_every_ns: flush_every.as_nanos().min(u64::MAX as u128) as u64,
            next_flush: UnixNanos::ZERO,
            tx,
            returns,
            stats: RecorderStats::default(),
        }
    }

    pub fn venue(&self) -> VenueId {
        self.venue
    }

    pub fn stats(&self) -> RecorderStats {
        self.stats
    }

    /// Whether this recorder takes samples of `m`.
    pub fn records(&self, m: Measurement) -> bool {
        self.live[m.index()].is_some()
    }

    /// Records one sample of `ns` nanoseconds. Never allocates, never fails: values above
    /// the histogram bound are counted at the bound.
    #[inline]
    pub fn record(&mut self, m: Measurement, ns: u64) {
        match &mut self.live[m.index()] {
            Some(l) => l.hist.saturating_record(ns),
            None => self.stats.unregistered += 1,
        }
    }

    /// Records the time from `from` to `to` (zero if `to` is earlier).
    #[inline]
    pub fn record_between(&mut self, m: Measurement, from: UnixNanos, to: UnixNanos) {
        self.record(m, to.since(from));
    }

    /// Starts the first interval at `now` (otherwise the first flush comes on the first call).
    pub fn start(&mut self, now: UnixNanos) {
        for l in self.live.iter_mut().flatten() {
            l.since = now;
        }
        self.next_flush = now.plus_nanos(self.flush_every_ns);
    }

    /// Hands the intervals to the monitor if the flush interval has passed. Cheap when it
    /// has not (one comparison); call it once per poll.
    #[inline]
    pub fn maybe_flush(&mut self, now: UnixNanos) -> bool {
        if now < self.next_flush {
            return false;
        }
        self.flush(now);
        true
    }

    /// Hands every non-empty live histogram to the monitor now.
    pub fn flush(&mut self, now: UnixNanos) {
        self.reclaim();
        for (i, slot) in self.live.iter_mut().enumerate() {
            let Some(l) = slot else { continue };
            if l.hist.is_empty() {
                l.since = now;
                continue;
            }
            let Some(fresh) = self.spares.pop() else {
                self.stats.deferred_no_spare += 1;
                continue;
            };
            let full = mem::replace(&mut l.hist, fresh);
            let samples = full.len();
            let batch = HistBatch {
                recorder: self.id,
                venue: self.venue,
                measurement: Measurement::ALL[i],
                start: l.since,
                end: now,
                hist: full,
            };
            match self.tx.send(batch) {
                Ok(()) => {
                    self.stats.flushed += 1;
                    self.stats.samples_flushed += samples;
                    l.since = now;
                }
                Err(SendError::Full(b) | SendError::Disconnected(b)) => {
                    // Keep the samples: swap the full histogram back and keep recording.
                    let fresh = mem::replace(&mut l.hist, b.hist);
                    debug_assert!(
                        self.spares.len() < self.spares.capacity(),
                        "Invariant: spare pool never grows"
                    );
                    self.spares.push(fresh);
                    self.stats.deferred_channel += 1;
                }
            }
        }
        self.next_flush = now.plus_nanos(self.flush_every_ns);
    }

    /// Hands over everything still recorded, without needing spares: for an actor's stop
    /// step. The recorder takes no further samples of the measurements it sent (they count
    /// as unregistered), so call it last.
    pub fn finish(&mut self, now: UnixNanos) {
        for (i, slot) in self.live.iter_mut().enumerate() {
            let Some(l) = slot.take_if(|l| !l.hist.is_empty()) else {
                continue;
            };
            let samples = l.hist.len();
            let batch = HistBatch {
                recorder: self.id,
                venue: self.venue,
                measurement: Measurement::ALL[i],
                start: l.since,
                end: now,
                hist: l.hist,
            };
            match self.tx.send(batch) {
                Ok(()) => {
                    self.stats.flushed += 1;
                    self.stats.samples_flushed += samples;
                }
                Err(SendError::Full(b) | SendError::Disconnected(b)) => {
                    *slot = Some(Live {
                        hist: b.hist,
                        since: b.start,
                    });
                    self.stats.deferred_channel += 1;
                }
            }
        }
    }

    /// Takes back the emptied histograms the monitor returned.
    fn reclaim(&mut self) {
        while let Some(h) = self.returns.try_recv() {
            debug_assert!(
                h.is_empty(),
                "Invariant: the monitor returns histograms reset"
            );
            if self.spares.len() < self.spares.capacity() {
                self.spares.push(h);
            }
        }
    }

    /// Spare histograms on hand (for tests and status).
    pub fn spares(&self) -> usize {
        self.spares.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{FullPolicy, bounded};

    fn recorder(capacity: usize) -> (Recorder, Rx<HistBatch>, Tx<Histogram<u64>>) {
        let (tx, rx) = bounded("batches", capacity, FullPolicy::Backpressure);
        let (ret_tx, ret_rx) = bounded("returns", 8, FullPolicy::DropNewest);
        let r = Recorder::new(
            3,
            VenueId(1),
            &[Measurement::FeedLag, Measurement::TickToOrder],
            Duration::from_secs(1),
            tx,
            ret_rx,
        );
        (r, rx, ret_tx)
    }

    const S: u64 = 1_000_000_000;

    #[test]
    fn flushes_full_intervals_and_reuses_returned_histograms() {
        let (mut r, rx, ret) = recorder(16);
        r.start(UnixNanos(10 * S));
        r.record(Measurement::FeedLag, 1_500);
        r.record(Measurement::FeedLag, 2_500);
        r.record(Measurement::StageRisk, 9); // not registered
        assert!(
            !r.maybe_flush(UnixNanos(10 * S + S / 2)),
            "interval not over yet"
        );
        assert!(rx.is_empty());
        assert!(r.maybe_flush(UnixNanos(11 * S)));
        let b = rx.try_recv().expect("one batch");
        assert!(
            rx.try_recv().is_none(),
            "empty tick_to_order histogram is not sent"
        );
        assert_eq!(
            (b.recorder, b.venue, b.measurement),
            (3, VenueId(1), Measurement::FeedLag)
        );
        assert_eq!((b.start, b.end), (UnixNanos(10 * S), UnixNanos(11 * S)));
        assert_eq!(b.hist.len(), 2);
        assert!(b.hist.equivalent(b.hist.max(), 2_500));
        assert_eq!(r.stats().unregistered, 1);
        assert_eq!(r.stats().samples_flushed, 2);
        let spares_after_send = r.spares();

        // The monitor returns it emptied; the next flush puts it back in the pool.
        let mut h = b.hist;
        h.reset();
        ret.send(h).unwrap();
        r.record(Measurement::FeedLag, 7);
        assert!(r.maybe_flush(UnixNanos(12 * S)));
        let b2 = rx.try_recv().expect("second batch");
        assert_eq!(
            b2.hist.len(),
            1,
            "the new interval holds only its own sample"
        );
        assert_eq!(b2.start, UnixNanos(11 * S));
        assert_eq!(r.spares(), spares_after_send, "one taken, one returned");
    }

    #[test]
    fn full_channel_keeps_samples_until_there_is_room() {
        let (mut r, rx, _ret) = recorder(1);
        r.start(UnixNanos(0));
        r.record(Measurement::FeedLag, 100);
        r.record(Measurement::TickToOrder, 200);
        r.flush(UnixNanos(S));
        // Room for one batch: the second one is deferred, its samples kept.
        assert_eq!(r.stats().flushed, 1);
        assert_eq!(r.stats().deferred_channel, 1);
        let first = rx.try_recv().unwrap();
        assert_eq!(first.measurement, Measurement::FeedLag);
        r.record(Measurement::TickToOrder, 300);
        r.flush(UnixNanos(2 * S));
        let second = rx.try_recv().unwrap();
        assert_eq!(second.measurement, Measurement::TickToOrder);
        assert_eq!(second.hist.len(), 2, "deferred sample plus the new one");
        assert_eq!(
            second.start,
            UnixNanos(0),
            "the interval runs from the last successful flush"
        );
    }

    #[test]
    fn finish_sends_everything_even_without_spares() {
        let (mut r, rx, _ret) = recorder(64);
        r.start(UnixNanos(0));
        for i in 1..=4u64 {
            r.record(Measurement::FeedLag, i);
            r.flush(UnixNanos(i * S)); // spares run out after these
        }
        r.record(Measurement::FeedLag, 99);
        r.record(Measurement::FeedLag, 98);
        r.finish(UnixNanos(5 * S));
        let mut last = None;
        rx.drain(100, |b| last = Some(b));
        let last = last.unwrap();
        assert_eq!((last.hist.len(), last.end), (2, UnixNanos(5 * S)));
        r.record(Measurement::FeedLag, 1);
        assert_eq!(r.stats().unregistered, 1, "nothing recorded after finish");
    }

    #[test]
    fn no_spare_left_defers_instead_of_allocating() {
        let (mut r, rx, _ret) = recorder(64);
        r.start(UnixNanos(0));
        // Nothing is ever returned: after the spares run out, flushes are deferred.
        for i in 1..=5u64 {
            r.record(Measurement::FeedLag, i);
            r.flush(UnixNanos(i * S));
        }
        let sent = rx.len() as u64;
        // Two measurements registered, so the pool holds both measurements' spares.
        assert_eq!(
            sent,
            (2 * (HISTOGRAMS_PER_MEASUREMENT - 1)) as u64,
            "every spare used once"
        );
        assert_eq!(r.stats().flushed, sent);
        assert_eq!(r.stats().deferred_no_spare, 5 - sent);
        let mut total = 0;
        rx.drain(100, |b| total += b.hist.len());
        assert_eq!(
            total, sent,
            "one sample per sent interval; the rest still live"
        );
    }
}
