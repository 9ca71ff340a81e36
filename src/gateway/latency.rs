//! The gateway's latency hooks: order and cancel acknowledgements, tick-to-order and the
//! gateway's own stages, recorded on its hot thread into a `Recorder` (no allocation, no
//! locks). Without a recorder every hook is a no-op and the clock is never read.

use crate::latency::{Measurement, Recorder};
use crate::runtime::Clock;
use crate::types::UnixNanos;

use crate::types::order::{OrderEvent, SnapshotStatus, VenueFinal};

/// What a gateway records, per venue.
pub const GATEWAY_MEASUREMENTS: [Measurement; 6] = [
    Measurement::OrderAck,
    Measurement::CancelAck,
    Measurement::TickToOrder,
    Measurement::TickToFirstOrder,
    Measurement::StageRisk,
    Measurement::StageEncode,
];

/// The gateway's recorder and the clock it reads instants from (the engine's clock, taken at
/// start, so instants compare with the feed's frame read times).
#[derive(Debug, Default)]
pub(super) struct Timing {
    recorder: Option<Recorder>,
    clock: Option<Clock>,
    /// When the venue frame being handled was read.
    frame_read: Option<UnixNanos>,
}

impl Timing {
    pub fn new(recorder: Recorder) -> Self {
        Self {
            recorder: Some(recorder),
            clock: None,
            frame_read: None,
        }
    }

    /// The actor's start step: take the clock and begin the first interval.
    pub fn start(&mut self, clock: &Clock) {
        if let Some(r) = &mut self.recorder {
            r.start(clock.now());
            self.clock = Some(clock.clone());
        }
    }

    /// Whether a recorder is attached (hooks that need lookups check this first).
    #[inline]
    pub fn is_on(&self) -> bool {
        self.recorder.is_some()
    }

    /// Now, read only when recording (one clock read); `None` otherwise.
    #[inline]
    pub fn now(&self) -> Option<UnixNanos> {
        self.clock.as_ref().map(Clock::now)
    }

    #[inline]
    fn between(&mut self, m: Measurement, from: Option<UnixNanos>, to: Option<UnixNanos>) {
        if let (Some(r), Some(from), Some(to)) = (&mut self.recorder, from, to) {
            r.record_between(m, from, to);
        }
    }

    /// A venue frame was just read (the instant acknowledgements are measured to).
    #[inline]
    pub fn frame_read(&mut self) {
        self.frame_read = self.now();
    }

    /// An order's bytes were written at `written`: the intent was taken at `taken`, passed
    /// the pre-trade checks at `checked`, and was caused by the market frame read at
    /// `tick_at` (`UnixNanos::ZERO`: by no market frame, e.g. a timer; not recorded).
    /// `first`: it is the first order of the gateway's burst (also `TickToFirstOrder`).
    #[inline]
    pub fn order_written(
        &mut self,
        taken: Option<UnixNanos>,
        checked: Option<UnixNanos>,
        written: Option<UnixNanos>,
        tick_at: UnixNanos,
        first: bool,
    ) {
        self.between(Measurement::StageRisk, taken, checked);
        self.between(Measurement::StageEncode, checked, written);
        if tick_at != UnixNanos::ZERO {
            self.between(Measurement::TickToOrder, Some(tick_at), written);
            if first {
                self.between(Measurement::TickToFirstOrder, Some(tick_at), written);
            }
        }
    }

    /// A venue event is about to be applied to an order. `sent_at` is when its bytes were
    /// written if it is still waiting for its acknowledgement; `cancel_written` when a
    /// cancel of it was last written if one is pending. Records the acknowledgement the
    /// event carries: the venue's first answer to the order (accepted, traded, ended or
    /// rejected; query answers do not count), or, while a cancel is pending, the first word
    /// that the order is cancelled (the cancel's response or the private stream's report).
    #[inline]
    pub fn venue_event(
        &mut self,
        ev: &OrderEvent,
        sent_at: Option<UnixNanos>,
        cancel_written: Option<UnixNanos>,
    ) {
        if self.recorder.is_none() {
            return;
        }
        let answers_order = matches!(
            ev,
            OrderEvent::Accepted { .. }
                | OrderEvent::Trade { .. }
                | OrderEvent::Ended { .. }
                | OrderEvent::RejectedByVenue { .. }
        );
        if answers_order {
            self.between(Measurement::OrderAck, sent_at, self.frame_read);
        }
        // The cancel response carries the cancelled order (a snapshot); the private stream's
        // report of it (an end) may come first. Whichever is read first is the answer.
        let cancelled = matches!(
            ev,
            OrderEvent::Ended {
                kind: VenueFinal::Cancelled,
                ..
            } | OrderEvent::Snapshot {
                status: SnapshotStatus::Cancelled,
                ..
            }
        );
        if cancelled {
            self.between(Measurement::CancelAck, cancel_written, self.frame_read);
        }
    }

    /// Hands the histograms to the monitor when the interval has passed (one comparison).
    #[inline]
    pub fn maybe_flush(&mut self, now: UnixNanos) {
        if let Some(r) = &mut self.recorder {
            r.maybe_flush(now);
        }
    }

    /// The actor's stop step: hand over everything recorded.
    pub fn finish(&mut self, now: UnixNanos) {
        if let Some(r) = &mut self.recorder {
            r.finish(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::LatencyHub;
    use crate::types::{Notional, Qty, VenueId};

    fn hub() -> LatencyHub {
        let config = crate::latency::monitor_tests::config();
        match LatencyHub::new(&config, vec!["v".into()]) {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn records_acks_stages_and_tick_to_order_and_nothing_without_a_recorder() {
        let mut hub = hub();
        let rec = hub.recorder(VenueId(0), &GATEWAY_MEASUREMENTS).unwrap();
        let (clock, hand) = Clock::manual(UnixNanos(1_000_000));
        let mut t = Timing::new(rec);
        t.start(&clock);
        let taken = t.now();
        hand.advance(2_000);
        let checked = t.now();
        hand.advance(5_000);
        let written = t.now();
        t.order_written(taken, checked, written, UnixNanos(990_000), true);
        hand.advance(3_000);
        let second = t.now();
        // The burst's second order: tick-to-order, not tick-to-first-order.
        t.order_written(taken, checked, second, UnixNanos(990_000), false);
        t.order_written(taken, checked, written, UnixNanos::ZERO, true); // no market frame
        hand.advance(297_000);
        t.frame_read();
        let accepted = OrderEvent::Accepted {
            venue_order_id: 1.into(),
            at: UnixNanos(0),
        };
        t.venue_event(&accepted, written, None);
        t.venue_event(&accepted, None, None); // not waiting for an ack: nothing
        let cancelled = OrderEvent::Ended {
            kind: VenueFinal::Cancelled,
            venue_order_id: Some(1.into()),
            cum_qty: Qty::ZERO,
            cum_quote: Notional(0),
            at: UnixNanos(0),
        };
        t.venue_event(&cancelled, None, Some(UnixNanos(1_107_000)));
        let cancel_response = OrderEvent::Snapshot {
            venue_order_id: 1.into(),
            status: SnapshotStatus::Cancelled,
            cum_qty: Qty::ZERO,
            cum_quote: Notional(0),
            terms: None,
            at: UnixNanos(0),
        };
        t.venue_event(&cancel_response, None, Some(UnixNanos(1_207_000)));
        t.venue_event(&cancel_response, None, None); // no cancel pending: a query answer
        t.finish(UnixNanos(2_000_000));

        let mut monitor = hub.into_monitor();
        while monitor.drain_batches() > 0 {}
        let run = |m: Measurement| {
            monitor
                .window(VenueId(0), m)
                .map(|w| (w.run().len(), w.run().max()))
        };
        let eq = |got: Option<(u64, u64)>, n: u64, v: u64| {
            let (len, max) = got.expect("recorded");
            len == n && crate::latency::new_histogram().equivalent(max, v)
        };
        assert!(eq(run(Measurement::StageRisk), 3, 2_000));
        assert!(eq(run(Measurement::StageEncode), 3, 8_000));
        assert!(
            eq(run(Measurement::TickToOrder), 2, 20_000),
            "{:?}",
            run(Measurement::TickToOrder)
        );
        assert!(
            eq(run(Measurement::TickToFirstOrder), 1, 17_000),
            "{:?}",
            run(Measurement::TickToFirstOrder)
        );
        assert!(
            eq(run(Measurement::OrderAck), 1, 300_000),
            "snapshots are not order acks"
        );
        assert!(eq(run(Measurement::CancelAck), 2, 200_000));

        let mut off = Timing::default();
        off.start(&clock);
        assert_eq!(off.now(), None, "no recorder: the clock is never read");
        off.order_written(None, None, None, UnixNanos(5), true);
        off.venue_event(&accepted, Some(UnixNanos(1)), None);
    }
}
