//! What the gateway publishes about itself at a modest rate (DropNewest): its orders,
//! the venue's balances and its counters, for the status endpoint and for tests that compare
//! the engine's books with the venue's.

use crate::types::{ClientOrderId, Notional, Qty, StrategyId};
use crate::venue::order::Balance;

use crate::types::order::{AssetCode, OrderStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct OrderView {
    pub cid: ClientOrderId,
    pub strategy: StrategyId,
    pub status: OrderStatus,
    pub venue_order_id: Option<crate::types::VenueOrderId>,
    pub qty: Qty,
    pub filled_qty: Qty,
    pub filled_quote: Notional,
    pub fees: [(AssetCode, Qty); 2],
    pub cancel_pending: bool,
}

/// A perpetual's position as the engine holds it beside the venue's last report.
#[derive(Debug, Clone, PartialEq)]
pub struct PerpView {
    pub instrument: crate::types::InstrumentId,
    pub symbol: String,
    /// The net over the venue's strategies, order units at `10^-8`, signed.
    pub engine: i64,
    /// The venue's last reported size (`None` before its first report).
    pub venue: Option<i64>,
    /// The venue holds the configured leverage (or the codec leaves it to reports that
    /// have not disagreed): new exposure is allowed.
    pub leverage_ok: bool,
    /// Funding the venue booked on it, settlement asset at `10^-16` (positive paid).
    pub funding_paid: i128,
}

/// Counters kept by the gateway (monotonic over the run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayCounters {
    pub orders_sent: u64,
    /// Polls whose WebSocket requests were queued and left together in one flush.
    pub bursts: u64,
    /// Write calls on the current private WebSocket connection (0 while it is down).
    pub ws_writes: u64,
    pub cancels_sent: u64,
    /// Amends in place written to the venue.
    pub amends_sent: u64,
    /// Re-quotes written as one cancel-replace request (each also counts one order sent and
    /// one cancel sent).
    pub cancel_replaces_sent: u64,
    pub queries_sent: u64,
    pub sweeps: u64,
    pub fills: u64,
    pub refused: u64,
    pub venue_rejects: u64,
    pub unknown_order_events: u64,
    pub unknown_venue_orders: u64,
    pub undecodable: u64,
    pub anomalies: u64,
    pub connects: u64,
    pub disconnects: u64,
    pub rate_limited: u64,
    /// Gaps in the private stream's sequence, each reconciled at once.
    pub stream_gaps: u64,
    /// Recent-fills polls sent (no private WebSocket: `GatewayOptions::fills_poll`).
    pub fill_polls: u64,
    /// Updates that waited because a strategy's update channel was full (never dropped).
    pub updates_held: u64,
    /// Perpetuals: positions the venue reported (pushes and sweeps), each compared.
    pub position_reports: u64,
    /// Perpetuals: differences with the venue's position confirmed (and corrected where
    /// one strategy holds the instrument).
    pub position_drifts: u64,
    /// Perpetuals: the venue refused or reported another leverage than configured.
    pub leverage_mismatches: u64,
    /// Perpetuals: funding payments the venue booked.
    pub funding_payments: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GatewaySnapshot {
    pub orders: Vec<OrderView>,
    pub balances: Vec<Balance>,
    pub counters: GatewayCounters,
    pub link_up: bool,
    pub user_stream: bool,
    /// Orders not final and past their deadline without an answer (should stay zero).
    pub overdue: usize,
    /// The REST transport's figures, when orders go over REST.
    pub rest: Option<super::rest::RestStats>,
    /// The venue's perpetuals: positions beside the venue's, and their leverage state.
    pub perps: Vec<PerpView>,
    /// Each strategy's fees that count in the quote asset (paid in it, or rated in it by
    /// the venue: fees in an order's margin currency), on this venue, as risk counts them
    /// against PnL; indexed by strategy.
    pub quote_fees: Vec<Qty>,
}
