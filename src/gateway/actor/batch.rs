//! Batch requests from one burst (issues 21/22): when the venue's REST codec batches
//! (`RestCodec::batch_limit` ≥ 2), the burst's new orders that may go in a batch
//! (`batchable`), past their checks (unchanged, one order at a time, in `on_new`), are held
//! until the poll's intents are all read; then each symbol's held orders go as requests of at
//! most `batch_limit` orders, before the poll's cancels. A symbol with one held order (or a
//! chunk's remainder of one) goes as the single-order request, byte for byte. The burst's
//! cancels are held the same way and go per symbol as batch cancels after the other
//! deferred requests were handled. Where the codec amends in batches
//! (`RestCodec::amends_in_batch`), the burst's in-place amends, past their checks in
//! `on_amend`, are held and go per symbol as batch amends just before the held cancels.
//!
//! An order is `Sent` (open for risk, chased) from its check, as before; a batch that could
//! not be queued leaves each of its orders unknown (queried, as a single order that could
//! not be queued). Each order's tick-to-order is recorded when its request is queued.

use crate::types::{ClientOrderId, Price, Qty, UnixNanos};
use crate::venue::order::{CidBatch, OrderSession, PlaceOrder};
use crate::venue::rest::RestCodec;

use super::{Gateway, NewOrderIntent};
use crate::types::order::OrderEvent;

/// A new order held for a batch: its intent, decimals and latency instants.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub i: NewOrderIntent,
    pub decimals: (u32, u32),
    pub taken: Option<UnixNanos>,
    pub checked: Option<UnixNanos>,
    /// Already in a request.
    pub done: bool,
}

impl Held {
    pub fn new(
        i: NewOrderIntent,
        decimals: (u32, u32),
        taken: Option<UnixNanos>,
        checked: Option<UnixNanos>,
    ) -> Self {
        Self {
            i,
            decimals,
            taken,
            checked,
            done: false,
        }
    }

    fn order<'a>(&'a self, symbol: &'a str) -> PlaceOrder<'a> {
        PlaceOrder {
            symbol,
            cid: &self.i.cid,
            side: self.i.side,
            kind: self.i.kind,
            tif: self.i.tif,
            price: self.i.price,
            qty: self.i.qty,
            price_decimals: self.decimals.0,
            qty_decimals: self.decimals.1,
            reduce_only: self.i.reduce_only,
        }
    }
}

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    /// Whether orders (and cancels) of the open burst are held for batch requests.
    pub(super) fn batching(&self) -> bool {
        self.burst.open
            && self.orders_over_rest
            && self.rest.as_ref().is_some_and(|r| r.batch_limit() > 1)
    }

    /// Whether new order `o` is to be held for a batch (then `on_new` holds it, and queues
    /// nothing for it now).
    pub(super) fn holds_for_batch(&self, o: &PlaceOrder<'_>) -> bool {
        self.replacing.is_none()
            && self.batching()
            && self.rest.as_ref().is_some_and(|r| r.batchable(o))
    }

    /// Sends the held orders: per symbol, chunks of at most `batch_limit` (one alone goes
    /// as a single order).
    pub(super) fn send_held(&mut self, now: UnixNanos) {
        let mut held = std::mem::take(&mut self.burst.held);
        if held.is_empty() {
            self.burst.held = held;
            return;
        }
        let vms = self.venue_ms(now);
        let limit = self.rest.as_ref().map_or(1, |r| r.batch_limit());
        for start in 0..held.len() {
            if held[start].done {
                continue;
            }
            let inst = held[start].i.instrument;
            // This symbol's held orders from `start` on, in the order they came.
            let mut chunk = [0usize; CidBatch::CAP];
            let mut n = 0;
            for k in start..held.len() {
                if !held[k].done && held[k].i.instrument == inst {
                    chunk[n] = k;
                    n += 1;
                    held[k].done = true;
                    if n == limit {
                        self.send_chunk(&held, &chunk[..n], now, vms);
                        n = 0;
                    }
                }
            }
            if n > 0 {
                self.send_chunk(&held, &chunk[..n], now, vms);
            }
        }
        held.clear();
        self.burst.held = held;
    }

    /// One request for `held[k]` for each `k` in `chunk` (all of one instrument).
    fn send_chunk(&mut self, held: &[Held], chunk: &[usize], now: UnixNanos, vms: u64) {
        let Some(first) = chunk.first().map(|&k| &held[k]) else {
            return;
        };
        let Some(inst) = self.instruments.get(first.i.instrument.index()) else {
            return;
        };
        let Some(rest) = self.rest.as_mut() else {
            return;
        };
        let mut orders = [first.order(&inst.symbol); CidBatch::CAP];
        for (j, &k) in chunk.iter().enumerate() {
            orders[j] = held[k].order(&inst.symbol);
        }
        let queued = match chunk.len() {
            1 => rest.place(&orders[0], now, vms),
            n => rest.place_batch(&orders[..n], now, vms),
        };
        let written = self.timing.now();
        for &k in chunk {
            let h = &held[k];
            let first = self.burst.take_first();
            self.timing
                .order_written(h.taken, h.checked, written, h.i.tick_at, first);
            if let (Some(at), Some(o)) = (written, self.table.get_mut(&h.i.cid))
                && o.sent_at.is_some()
            {
                o.sent_at = Some(at);
            }
            if !queued {
                // It never left: the venue cannot know it.
                self.apply(h.i.cid, &OrderEvent::Unknown { at: now }, now);
            }
        }
    }

    /// Holds a cancel of the open burst for a batch cancel; false: send it now.
    pub(super) fn hold_cancel(&mut self, cid: ClientOrderId) -> bool {
        if !self.batching() {
            return false;
        }
        self.burst.cancels.push(cid);
        true
    }

    /// Sends the held cancels: per symbol, chunks of at most `batch_limit` (one alone goes
    /// as a single cancel).
    pub(super) fn send_held_cancels(&mut self, now: UnixNanos) {
        let mut cids = std::mem::take(&mut self.burst.cancels);
        let limit = self.rest.as_ref().map_or(1, |r| r.batch_limit());
        let vms = self.venue_ms(now);
        let mut k = 0;
        while k < cids.len() {
            let Some(inst) = self.table.get(&cids[k]).map(|o| o.instrument) else {
                k += 1;
                continue;
            };
            // This symbol's cancels from `k` on move to its front, in the order they came.
            let mut n = 0;
            for j in k..cids.len() {
                if self
                    .table
                    .get(&cids[j])
                    .is_some_and(|o| o.instrument == inst)
                {
                    cids[k + n..=j].rotate_right(1);
                    n += 1;
                }
            }
            let group = &cids[k..k + n];
            for part in group.chunks(limit.max(1)) {
                self.cancel_part(inst, part, now, vms);
            }
            k += n;
        }
        cids.clear();
        self.burst.cancels = cids;
    }

    fn cancel_part(
        &mut self,
        inst: crate::types::InstrumentId,
        part: &[ClientOrderId],
        now: UnixNanos,
        vms: u64,
    ) {
        if let [one] = part {
            return self.send_cancel(*one, now);
        }
        let sent = match (
            self.instruments
                .get(inst.index())
                .filter(|i| i.venue == self.venue.id),
            self.rest.as_mut(),
        ) {
            (Some(i), Some(rest)) => rest.cancel_batch(&i.symbol, part, now, vms),
            _ => return,
        };
        if sent {
            self.counters.cancels_sent += part.len() as u64;
        }
        let written = self.timing.now();
        for cid in part {
            let c = self.chase.entry(*cid).or_default();
            c.queried_at = Some(now);
            if sent {
                c.cancel_written_at = written;
            }
        }
    }

    /// Whether the open burst's in-place amends are held for batch amends.
    pub(super) fn amends_batched(&self) -> bool {
        self.batching() && self.rest.as_ref().is_some_and(|r| r.amends_in_batch())
    }

    /// Sends the held amends: per symbol, chunks of at most `batch_limit` (one alone goes as
    /// a single amend). Each was counted as written in `on_amend` (pending, chased at its
    /// deadline); one whose request could not be queued is settled by that query.
    pub(super) fn send_held_amends(&mut self, now: UnixNanos) {
        let mut held = std::mem::take(&mut self.burst.amends);
        if held.is_empty() {
            self.burst.amends = held;
            return;
        }
        let limit = self.rest.as_ref().map_or(1, |r| r.batch_limit());
        let vms = self.venue_ms(now);
        let mut k = 0;
        while k < held.len() {
            let Some(inst) = self.table.get(&held[k].0).map(|o| o.instrument) else {
                k += 1;
                continue;
            };
            // This symbol's amends from `k` on move to its front, in the order they came.
            let mut n = 0;
            for j in k..held.len() {
                if self
                    .table
                    .get(&held[j].0)
                    .is_some_and(|o| o.instrument == inst)
                {
                    held[k + n..=j].rotate_right(1);
                    n += 1;
                }
            }
            for part in held[k..k + n].chunks(limit.max(1)) {
                self.amend_part(inst, part, now, vms);
            }
            k += n;
        }
        held.clear();
        self.burst.amends = held;
    }

    fn amend_part(
        &mut self,
        inst: crate::types::InstrumentId,
        part: &[(ClientOrderId, Price, Qty)],
        now: UnixNanos,
        vms: u64,
    ) {
        let Some(i) = self
            .instruments
            .get(inst.index())
            .filter(|i| i.venue == self.venue.id)
        else {
            return;
        };
        let Some(first) = self.table.get(&part[0].0) else {
            return;
        };
        let blank = PlaceOrder {
            symbol: &i.symbol,
            cid: &first.cid,
            side: first.side,
            kind: first.kind,
            tif: first.tif,
            price: first.price,
            qty: first.qty,
            price_decimals: i.price_decimals,
            qty_decimals: i.qty_decimals,
            reduce_only: first.reduce_only,
        };
        let mut orders = [blank; CidBatch::CAP];
        let mut n = 0;
        for (cid, price, qty) in part {
            if let Some(o) = self.table.get(cid) {
                orders[n] = PlaceOrder {
                    cid: &o.cid,
                    side: o.side,
                    kind: o.kind,
                    tif: o.tif,
                    price: *price,
                    qty: *qty,
                    reduce_only: o.reduce_only,
                    ..blank
                };
                n += 1;
            }
        }
        let Some(rest) = self.rest.as_mut() else {
            return;
        };
        match n {
            0 => {}
            1 => {
                rest.amend(&orders[0], now, vms);
            }
            n => {
                rest.amend_batch(&orders[..n], now, vms);
            }
        }
    }
}
