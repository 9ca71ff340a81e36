//! What the engine asks the writer to store: one `Record` enum, split into the records that
//! must never be lost (orders, fills, trades, balances, risk events) and telemetry that may
//! be dropped under overload (latency snapshots, band changes, the activity log), counted.
//!
//! Records carry neither run id nor mode: the writer stamps both on every row from the run it
//! opened, so a producer cannot mislabel a row and paper or sim rows can never pass for live.

use std::sync::Arc;

use crate::latency::{BandChange, LatencySnapshot};
use crate::risk::{KillReason, Rule};
use crate::types::{AssetCode, FillDelta, Order, StrategyTrade};
use crate::types::{
    ClientOrderId, InstrumentId, Notional, Qty, Side, StrategyId, UnixNanos, VenueId,
};

/// Whether a record may be dropped when the writer falls behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordClass {
    /// Orders, fills, round trips, balances, risk events: never dropped. While they cannot be
    /// queued, the gateway refuses new orders.
    MustKeep,
    /// Latency snapshots, band changes, the activity log: dropped when the queue is full,
    /// counted.
    Telemetry,
}

/// One thing to store.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An order's full state after a change (new, sent, acked, fill, end, cancel request).
    /// The writer appends the change to `order_events` and keeps the latest state in `orders`.
    Order(Order),
    Fill(FillRecord),
    RoundTrip(RoundTrip),
    /// A trade as its strategy counted it (exit reason, model).
    Trade(StrategyTrade),
    /// A perpetual position's funding payment.
    Funding(FundingRecord),
    /// Fees learned after a round trip was stored (see [`RoundTripFee`]).
    RoundTripFee(RoundTripFee),
    Balance(BalanceRecord),
    Risk(RiskEvent),
    /// Latency percentiles per venue and measurement over the monitor's window.
    Latency(Arc<LatencySnapshot>),
    /// A venue's latency band changed. Telemetry: the latency snapshot keeps the last ones too.
    Band(BandChange),
    Activity(Activity),
}

impl Record {
    pub fn class(&self) -> RecordClass {
        match self {
            Record::Order(_)
            | Record::Fill(_)
            | Record::RoundTrip(_)
            | Record::Trade(_)
            | Record::Funding(_)
            | Record::RoundTripFee(_)
            | Record::Balance(_)
            | Record::Risk(_) => RecordClass::MustKeep,
            Record::Latency(_) | Record::Band(_) | Record::Activity(_) => RecordClass::Telemetry,
        }
    }

    /// Stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Order(_) => "order",
            Record::Fill(_) => "fill",
            Record::RoundTrip(_) => "round_trip",
            Record::Trade(_) => "strategy_trade",
            Record::Funding(_) => "funding",
            Record::RoundTripFee(_) => "round_trip_fee",
            Record::Balance(_) => "balance",
            Record::Risk(_) => "risk",
            Record::Latency(_) => "latency",
            Record::Band(_) => "band",
            Record::Activity(_) => "activity",
        }
    }
}

/// One fill of one order, exactly as `Order::apply` reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillRecord {
    pub cid: ClientOrderId,
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub fill: FillDelta,
    pub at: UnixNanos,
}

/// A position opened and closed again: what a strategy earned on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrip {
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    /// Side of the opening fills.
    pub side: Side,
    pub qty: Qty,
    /// Quote amount of the opening and the closing fills.
    pub entry_quote: Notional,
    pub exit_quote: Notional,
    /// Realized PnL before fees, quote units at 10^-16 (signed).
    pub pnl: Notional,
    /// Fees paid in the quote asset over both legs.
    pub quote_fees: Qty,
    pub opened_at: UnixNanos,
    pub closed_at: UnixNanos,
}

/// Fees in the quote asset learned after the round trip they belong to was stored (the
/// venue reported an order's fees after its fills: CoinDCX, fills learned by a query):
/// added to that trip's `quote_fees`. The trip is the one of `strategy` in `instrument`
/// opened at `opened_at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTripFee {
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub opened_at: UnixNanos,
    pub delta: Qty,
}

/// A funding payment of a perpetual position at one funding time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingRecord {
    pub venue: VenueId,
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    /// The position at the funding time, venue units, signed.
    pub qty: Qty,
    pub mark: crate::types::Price,
    pub rate: crate::types::FundingRate,
    /// Paid (positive) or received (negative), settlement asset at 10^-16.
    pub paid: i128,
    /// The funding time.
    pub at: UnixNanos,
}

/// A venue balance of one asset at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalanceRecord {
    pub venue: VenueId,
    pub asset: AssetCode,
    pub free: Qty,
    pub locked: Qty,
    pub at: UnixNanos,
}

/// Something risk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskAction {
    /// An order was refused by a rule.
    Rejected(Rule),
    /// The kill switch was tripped.
    KillTripped(KillReason),
    /// The operator reset the kill switch.
    KillReset,
}

impl RiskAction {
    /// `(action, rule or reason)` as stored.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            RiskAction::Rejected(r) => ("rejected", r.as_str()),
            RiskAction::KillTripped(r) => ("kill_tripped", r.as_str()),
            RiskAction::KillReset => ("kill_reset", ""),
        }
    }
}

/// A risk event. `detail` is static text, so recording one on the hot path never allocates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskEvent {
    pub action: RiskAction,
    pub strategy: Option<StrategyId>,
    pub cid: Option<ClientOrderId>,
    pub detail: &'static str,
    pub at: UnixNanos,
}

/// Severity of an activity-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// A line of the activity log (start, stop, reconnects, reloads, operator commands).
/// Written by low-priority code only: it allocates.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub level: Level,
    /// Who wrote it (`gateway:<venue>`, `engine`, `status`).
    pub source: String,
    pub message: String,
    pub at: UnixNanos,
}
