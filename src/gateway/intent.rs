//! What strategies send the gateway (intents) and what the gateway sends back (updates).
//! Both travel on `Backpressure` channels: neither is ever dropped.

use crate::types::{ClientOrderId, InstrumentId, Price, Qty, Side, StrategyId, UnixNanos};

use crate::types::order::{AssetCode, FillDelta, OrderKind, OrderStatus, TimeInForce};

/// Mints client order ids for one strategy: unique across strategies (the id encodes the
/// strategy) and across restarts (it encodes the run's start).
#[derive(Debug, Clone)]
pub struct CidMinter {
    run_start_ms: u64,
    strategy: StrategyId,
    next_seq: u64,
    /// The last id minted (sequence 0 at first): the next is it plus one
    /// (`ClientOrderId::next_seq`). `None` if the run does not fit the layout.
    last: Option<ClientOrderId>,
}

impl CidMinter {
    pub fn new(run_start_ms: u64, strategy: StrategyId) -> Self {
        Self {
            run_start_ms,
            strategy,
            next_seq: 1,
            last: ClientOrderId::mint(run_start_ms, strategy, 0).ok(),
        }
    }

    pub fn mint(&mut self) -> ClientOrderId {
        let seq = self.next_seq;
        self.next_seq += 1;
        // The layout holds 12 base-36 digits of sequence: 4.7e18 orders per run.
        let id = match &self.last {
            Some(last) => last.next_seq(),
            None => ClientOrderId::mint(self.run_start_ms, self.strategy, seq),
        }
        .unwrap_or_else(|_| unreachable!());
        self.last = self.last.map(|_| id);
        id
    }
}

/// A new order a strategy wants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewOrderIntent {
    pub cid: ClientOrderId,
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: TimeInForce,
    pub price: Price,
    pub qty: Qty,
    /// Perpetuals: only reduce the position.
    pub reduce_only: bool,
    /// When the market frame that led to this decision was read (tick-to-order start).
    pub tick_at: UnixNanos,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderIntent {
    New(NewOrderIntent),
    Cancel {
        strategy: StrategyId,
        cid: ClientOrderId,
    },
    /// Cancel every open order of the strategy.
    CancelAll {
        strategy: StrategyId,
    },
    /// Cancel order `cid` and place `new` (a fresh client id) in the same step. Like
    /// a venue's cancel-replace that allows failure: the new order is placed even if the old
    /// one had already ended (filled meanwhile), so a strategy must count both.
    Replace {
        cid: ClientOrderId,
        new: NewOrderIntent,
    },
    /// Amend open order `cid` in place to `price` and total quantity `qty` (same id, same
    /// side, kind and time in force), on a venue whose session amends in place. The outcome
    /// comes back as the order's update: its new price and quantity, or, if the venue or the
    /// gateway would not amend, the order as it was.
    Amend {
        strategy: StrategyId,
        cid: ClientOrderId,
        price: Price,
        qty: Qty,
    },
}

/// Why the gateway refused an intent before it reached the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Risk(crate::risk::Rule),
    /// The instrument's grid or minimums (tick, lot, min notional).
    Grid,
    /// Too many live orders for the strategy's order table.
    TableFull,
    /// Persistence is behind: no new orders until it catches up.
    PersistenceBehind,
    /// The venue connection is down or banned.
    VenueUnavailable,
    /// The venue banned this IP (HTTP 418): no orders until the ban ends.
    VenueBanned,
    /// The venue asked for a pause (HTTP 429): no orders until its `Retry-After` has passed.
    RateLimited,
    /// The venue's published limit on new orders (per instrument or per account) would be
    /// exceeded: refused here rather than by the venue.
    OrderLimit,
    /// A perpetual whose leverage the venue has not confirmed as configured (set at start,
    /// checked on every position report): only reduce-only orders go.
    LeverageUnconfirmed,
    UnknownOrder,
    DuplicateId,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Risk(r) => r.as_str(),
            Refusal::Grid => "grid",
            Refusal::TableFull => "table_full",
            Refusal::PersistenceBehind => "persistence_behind",
            Refusal::VenueUnavailable => "venue_unavailable",
            Refusal::VenueBanned => "venue_banned",
            Refusal::RateLimited => "rate_limited",
            Refusal::OrderLimit => "order_limit",
            Refusal::LeverageUnconfirmed => "leverage_unconfirmed",
            Refusal::UnknownOrder => "unknown_order",
            Refusal::DuplicateId => "duplicate_id",
        }
    }
}

/// What a strategy learns about one of its orders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderUpdate {
    pub cid: ClientOrderId,
    pub strategy: StrategyId,
    pub status: OrderStatus,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    pub filled_qty: Qty,
    /// The fill this update carries, if it is one.
    pub fill: Option<FillDelta>,
    /// Set when the gateway refused the intent (the order never reached the venue).
    pub refused: Option<Refusal>,
    /// Set on an update that carries only this: fees of the order's fills that were reported
    /// without them (a fill learned by a query), now known from the venue's trade list.
    pub fee_correction: Option<FeeCorrection>,
    pub at: UnixNanos,
}

/// Fees to add to what an order's fills reported (negative: to take back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeCorrection {
    pub asset: AssetCode,
    pub delta: Qty,
    /// `delta` in the instrument's quote asset: itself for a quote-asset fee, converted at
    /// the venue's rate for a fee the venue rated in the quote (a fee paid in the
    /// order's margin currency); `None` otherwise (a base-asset or third-asset fee).
    pub in_quote: Option<Qty>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_are_unique_and_traceable() {
        let mut a = CidMinter::new(1_700_000_000_000, StrategyId(1));
        let mut b = CidMinter::new(1_700_000_000_000, StrategyId(2));
        let (x, y, z) = (a.mint(), a.mint(), b.mint());
        assert!(x != y && x != z && y != z);
        assert_eq!(y.decode(), Some((1_700_000_000_000, StrategyId(1), 2)));
    }

    #[test]
    fn the_minters_step_gives_the_ids_mint_gives() {
        let mut m = CidMinter::new(1_700_000_000_000, StrategyId(3));
        for seq in 1..5_000 {
            assert_eq!(
                Ok(m.mint()),
                ClientOrderId::mint(1_700_000_000_000, StrategyId(3), seq)
            );
        }
    }
}
