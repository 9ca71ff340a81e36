//! The REST transport's batch requests (`RestCodec::place_batch` / `cancel_batch` /
//! `amend_batch`): several orders of one symbol in one signed request, admitted and queued
//! as one order request.

use crate::types::{ClientOrderId, UnixNanos};
use crate::venue::order::{CidBatch, PlaceOrder};
use crate::venue::rest::{Class, RestCodec};

use super::RestOrders;

impl<C: RestCodec> RestOrders<C> {
    /// The most orders (or cancels) one batch request carries; 1: the venue's codec does not
    /// batch.
    pub fn batch_limit(&self) -> usize {
        self.codec.batch_limit().clamp(1, CidBatch::CAP)
    }

    /// Whether `o` may go in a batch request.
    pub fn batchable(&self, o: &PlaceOrder<'_>) -> bool {
        self.codec.batchable(o)
    }

    /// New orders of one symbol in one request; false if it could not be queued (none of
    /// them left).
    pub fn place_batch(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now: UnixNanos,
        venue_ms: u64,
    ) -> bool {
        if !self.admit(Class::Order, now) {
            return false;
        }
        let mut buf = self.buffer();
        match self.codec.place_batch(orders, venue_ms, &mut buf) {
            Some(head) => self.submit(head, buf, venue_ms),
            None => {
                self.free.push(buf);
                false
            }
        }
    }

    /// Cancels of one symbol's orders in one request; false if it could not be queued.
    pub fn cancel_batch(
        &mut self,
        symbol: &str,
        cids: &[ClientOrderId],
        now: UnixNanos,
        venue_ms: u64,
    ) -> bool {
        if !self.admit(Class::Order, now) {
            return false;
        }
        let mut buf = self.buffer();
        match self.codec.cancel_batch(symbol, cids, venue_ms, &mut buf) {
            Some(head) => self.submit(head, buf, venue_ms),
            None => {
                self.free.push(buf);
                false
            }
        }
    }

    /// Whether in-place amends of one symbol's orders go in batch requests.
    pub fn amends_in_batch(&self) -> bool {
        self.codec.amends_in_place() && self.codec.amends_in_batch() && self.batch_limit() > 1
    }

    /// Amends of one symbol's orders in one request; false if it could not be queued (none
    /// of them left).
    pub fn amend_batch(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now: UnixNanos,
        venue_ms: u64,
    ) -> bool {
        if !self.admit(Class::Order, now) {
            return false;
        }
        let mut buf = self.buffer();
        match self.codec.amend_batch(orders, venue_ms, &mut buf) {
            Some(head) => self.submit(head, buf, venue_ms),
            None => {
                self.free.push(buf);
                false
            }
        }
    }
}
