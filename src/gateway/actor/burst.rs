//! One poll's intents as one burst (issue 25): every new order of the poll goes on the wire
//! before the poll's cancels and amends, so nothing the venue does not need first waits in
//! front of an order; and all of the burst's WebSocket requests are queued on the connection
//! and leave in one write at its end (`WsConn::queue_text` + one `flush`). REST requests are
//! separate requests anyway: they go to the REST worker as they come.
//!
//! Risk sees the same state as before: an order counts as open (`max_open_orders`, and its
//! quantity for `max_position`) from its send until the venue ends it, so a cancel written
//! before or after the new order frees nothing at check time. A new order that the still
//! open order it replaces makes break a limit is **refused** (the strategy is told); its
//! cancel still goes, after the poll's other new orders.
//!
//! `CancelAll` cancels what was live when it came: the orders placed by intents before it in
//! the poll, not the ones after. Amends keep their place among the cancels.
//!
//! Tick-to-order with a burst: the orders queued in it are written when it is flushed, so
//! each is recorded to that instant (`TickToOrder`), and the burst's first order also to
//! `TickToFirstOrder`.

use crate::gateway::intent::OrderIntent;
use crate::net::LinkState;
use crate::types::{ClientOrderId, Price, Qty, StrategyId, UnixNanos};

use super::{BATCH, Gateway};
use crate::venue::order::OrderSession;
use crate::venue::rest::RestCodec;

/// A cancel or amend held until the poll's new orders are on the wire.
#[derive(Debug, Clone, Copy)]
enum Deferred {
    Cancel {
        strategy: StrategyId,
        cid: ClientOrderId,
    },
    Amend {
        strategy: StrategyId,
        cid: ClientOrderId,
        price: Price,
        qty: Qty,
    },
}

/// An order queued in the burst, not yet written: its instants for the latency hooks.
#[derive(Debug, Clone, Copy)]
pub(super) struct Queued {
    pub cid: ClientOrderId,
    pub taken: Option<UnixNanos>,
    pub checked: Option<UnixNanos>,
    pub tick_at: UnixNanos,
}

/// The burst's buffers (reused every poll: no allocation once warm) and state.
#[derive(Debug)]
pub(super) struct Burst {
    intents: Vec<OrderIntent>,
    deferred: Vec<Deferred>,
    /// While set, WebSocket requests are queued on the connection instead of written.
    pub open: bool,
    /// Requests queued since the burst opened.
    pub queued: u32,
    /// Orders queued in the burst (WebSocket transport), recorded when it is flushed.
    pub orders: Vec<Queued>,
    /// The burst's first order has been recorded (`TickToFirstOrder`).
    pub first_done: bool,
    /// New orders held for batch requests (`actor/batch.rs`), sent before the cancels.
    pub held: Vec<super::batch::Held>,
    /// Cancels held for batch cancels, sent after the other deferred requests.
    pub cancels: Vec<ClientOrderId>,
    /// Amends held for batch amends (client id, new price, new total quantity), sent with
    /// the held cancels.
    pub amends: Vec<(ClientOrderId, Price, Qty)>,
}

impl Default for Burst {
    fn default() -> Self {
        Self {
            intents: Vec::with_capacity(BATCH),
            deferred: Vec::with_capacity(BATCH * 2),
            open: false,
            queued: 0,
            orders: Vec::with_capacity(BATCH),
            first_done: false,
            held: Vec::with_capacity(BATCH),
            cancels: Vec::with_capacity(BATCH),
            amends: Vec::with_capacity(BATCH),
        }
    }
}

impl Burst {
    /// Whether the order being recorded now is the burst's first (and marks it taken).
    pub fn take_first(&mut self) -> bool {
        !std::mem::replace(&mut self.first_done, true)
    }
}

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    /// Takes up to `BATCH` intents and handles them as one burst: new orders first (in the
    /// order they came), then cancels and amends (in the order they came), then one write.
    /// Returns how many intents were taken.
    pub(super) fn handle_intents(&mut self, now: UnixNanos) -> usize {
        let mut intents = std::mem::take(&mut self.burst.intents);
        while intents.len() < BATCH {
            match self.intents.try_recv() {
                Some(i) => intents.push(i),
                None => break,
            }
        }
        let n = intents.len();
        if n == 0 {
            self.burst.intents = intents;
            return 0;
        }
        let mut deferred = std::mem::take(&mut self.burst.deferred);
        self.burst.open = true;
        self.burst.first_done = false;
        for intent in intents.drain(..) {
            match intent {
                OrderIntent::New(i) => self.on_new(i, now),
                // One cancel-replace request where the session makes one (an order, so
                // among the orders); else the new order now and its cancel after.
                OrderIntent::Replace { cid, new } if self.replaces_in_one(&cid, &new) => {
                    self.on_replace(cid, new, now);
                }
                OrderIntent::Replace { cid, new } => {
                    deferred.push(Deferred::Cancel {
                        strategy: new.strategy,
                        cid,
                    });
                    self.on_new(new, now);
                }
                OrderIntent::Cancel { strategy, cid } => {
                    deferred.push(Deferred::Cancel { strategy, cid })
                }
                OrderIntent::CancelAll { strategy } => {
                    deferred.extend(self.table.live_of(strategy).map(|o| Deferred::Cancel {
                        strategy,
                        cid: o.cid,
                    }))
                }
                OrderIntent::Amend {
                    strategy,
                    cid,
                    price,
                    qty,
                } => deferred.push(Deferred::Amend {
                    strategy,
                    cid,
                    price,
                    qty,
                }),
            }
        }
        // The held orders go as batch requests (`actor/batch.rs`), still before the cancels.
        self.send_held(now);
        for d in deferred.drain(..) {
            match d {
                Deferred::Cancel { strategy, cid } => self.on_cancel(strategy, cid, now),
                Deferred::Amend {
                    strategy,
                    cid,
                    price,
                    qty,
                } => self.on_amend(strategy, cid, price, qty, now),
            }
        }
        self.send_held_amends(now);
        self.send_held_cancels(now);
        self.end_burst(now);
        self.burst.intents = intents;
        self.burst.deferred = deferred;
        n
    }

    /// Writes what the burst queued in one flush, then records its orders as written now.
    fn end_burst(&mut self, now: UnixNanos) {
        self.burst.open = false;
        let queued = std::mem::take(&mut self.burst.queued);
        if queued > 0 {
            self.counters.bursts += 1;
            if let Some(conn) = self.link.conn()
                && let Err(e) = conn.flush()
            {
                self.on_link_down(now, e.to_string());
            }
        }
        if self.burst.orders.is_empty() {
            return;
        }
        let written = self.timing.now();
        for (k, q) in self.burst.orders.drain(..).enumerate() {
            self.timing
                .order_written(q.taken, q.checked, written, q.tick_at, k == 0);
            // The acknowledgement is measured from the write, not from the queueing.
            if let (Some(at), Some(o)) = (written, self.table.get_mut(&q.cid))
                && o.sent_at.is_some()
            {
                o.sent_at = Some(at);
            }
        }
    }

    /// Write calls made on the current private connection (0 while it is down).
    pub(super) fn ws_writes(&self) -> u64 {
        match &self.link.state {
            LinkState::Up(c) => c.writes(),
            _ => 0,
        }
    }
}
