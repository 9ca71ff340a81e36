//! The `Strategy` contract: what a strategy sees (clock, its book, its order updates, its
//! venue's latency band) and what it may do (send order intents). Strategies never see
//! sockets or keys, so the same code runs live, in paper mode and over recorded data.

use crate::book::TopOfBook;
use crate::gateway::{CidMinter, NewOrderIntent, OrderIntent, OrderUpdate};
use crate::latency::bands::Band;
use crate::runtime::{SendError, Tx};
use crate::types::{ClientOrderId, InstrumentId, Price, Qty, Side, StrategyId, UnixNanos};
use crate::types::{OrderKind, TimeInForce};

/// Where a strategy's intents go. Intents are never dropped: if the gateway's inbox is full
/// the intent waits here and goes first on the next call.
pub struct IntentSink {
    tx: Tx<OrderIntent>,
    held: std::collections::VecDeque<OrderIntent>,
    minter: CidMinter,
    strategy: StrategyId,
    instrument: InstrumentId,
    /// Intents sent (or held) so far.
    pub sent: u64,
}

impl IntentSink {
    pub fn new(
        tx: Tx<OrderIntent>,
        minter: CidMinter,
        strategy: StrategyId,
        instrument: InstrumentId,
    ) -> Self {
        Self {
            tx,
            held: std::collections::VecDeque::with_capacity(64),
            minter,
            strategy,
            instrument,
            sent: 0,
        }
    }

    fn push(&mut self, i: OrderIntent) {
        self.sent += 1;
        if self.held.is_empty() {
            match self.tx.send(i) {
                Ok(()) => {}
                Err(SendError::Full(i)) => self.held.push_back(i),
                Err(SendError::Disconnected(_)) => {}
            }
        } else {
            self.held.push_back(i);
        }
    }

    /// Intents waiting for room in the gateway's inbox.
    pub fn pending(&self) -> usize {
        self.held.len()
    }

    /// Retries held intents; returns how many went out.
    pub fn flush(&mut self) -> usize {
        let mut n = 0;
        while let Some(i) = self.held.pop_front() {
            match self.tx.send(i) {
                Ok(()) => n += 1,
                Err(SendError::Full(i)) => {
                    self.held.push_front(i);
                    break;
                }
                Err(SendError::Disconnected(_)) => {}
            }
        }
        n
    }

    /// A new limit (or post-only) order on the strategy's instrument; returns its id.
    pub fn limit(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
        post_only: bool,
        tick_at: UnixNanos,
    ) -> ClientOrderId {
        let cid = self.minter.mint();
        self.push(OrderIntent::New(NewOrderIntent {
            cid,
            strategy: self.strategy,
            instrument: self.instrument,
            side,
            kind: if post_only {
                OrderKind::LimitMaker
            } else {
                OrderKind::Limit
            },
            tif: TimeInForce::Gtc,
            price,
            qty,
            tick_at,
        }));
        cid
    }

    /// Cancels `old` and places a new limit order in its place; returns the new order's id.
    pub fn replace(
        &mut self,
        old: ClientOrderId,
        side: Side,
        price: Price,
        qty: Qty,
        post_only: bool,
        tick_at: UnixNanos,
    ) -> ClientOrderId {
        let cid = self.minter.mint();
        self.push(OrderIntent::Replace {
            cid: old,
            new: NewOrderIntent {
                cid,
                strategy: self.strategy,
                instrument: self.instrument,
                side,
                kind: if post_only {
                    OrderKind::LimitMaker
                } else {
                    OrderKind::Limit
                },
                tif: TimeInForce::Gtc,
                price,
                qty,
                tick_at,
            },
        });
        cid
    }

    pub fn cancel(&mut self, cid: ClientOrderId) {
        self.push(OrderIntent::Cancel {
            strategy: self.strategy,
            cid,
        });
    }

    pub fn cancel_all(&mut self) {
        self.push(OrderIntent::CancelAll {
            strategy: self.strategy,
        });
    }
}

/// What a strategy sees on each call.
pub struct StrategyCtx<'a> {
    pub now: UnixNanos,
    /// Its instrument's top of book as last published (check `valid`).
    pub book: TopOfBook,
    /// When the market frame this call reacts to was read: the book's `recv_ts` when the
    /// call is for a new book, `UnixNanos::ZERO` when it is not (a timer tick, an order
    /// update, stop). Intents sent from this call carry it (tick-to-order is measured from it).
    pub tick_at: UnixNanos,
    /// Its venue's current latency band.
    pub band: &'a Band,
    /// The kill switch is tripped: hold no orders.
    pub halted: bool,
    pub intents: &'a mut IntentSink,
}

/// Figures a strategy reports for the status line and endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StrategyReport {
    pub bid: Option<(Price, Qty)>,
    pub ask: Option<(Price, Qty)>,
    pub base: Qty,
    /// Quote-asset balance at 10^-8 (may be negative in a report if fees exceed it).
    pub quote: i64,
    pub fills: u64,
    /// Realized plus marked PnL in quote units (reporting only).
    pub pnl: f64,
    pub paused: bool,
}

/// A trading strategy. Every method is called on the strategy's host thread and must not
/// block; it reacts by sending intents through `cx.intents`.
pub trait Strategy: Send {
    /// The book changed, or time passed (called at least every few milliseconds).
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>);
    /// One of its orders changed.
    fn on_order_update(&mut self, u: &OrderUpdate, cx: &mut StrategyCtx<'_>);
    /// The engine is stopping: cancel what it should.
    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>);
    /// New parameters (validated first; on `Err` nothing changed).
    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>>;
    fn report(&self, mark: Option<Price>) -> StrategyReport;
    fn set_paused(&mut self, paused: bool);
}
