//! What a gateway tells the rest of the engine besides order updates: fills, risk refusals,
//! balances, its connection and its errors, for the database and the notifier.
//!
//! The gateway sends these with one `try_send` into a bounded drop-newest channel (dropped
//! events are counted in the channel's stats) and never waits: the telemetry actor
//! (`engine::telemetry`) turns them into records and notices on a low-priority thread.
//! Order and fill *records* do not travel here: they go through the gateway's `PersistSink`,
//! which never drops them.

use crate::persist::FillRecord;
use crate::risk::Rule;
use crate::runtime::Tx;
use crate::types::{ClientOrderId, StrategyId, UnixNanos, VenueId};
use crate::venue::order::Balance;

/// One thing a gateway saw. Small and cheap to send; only the rare connection and error
/// events carry text.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayEvent {
    /// A fill, exactly as stored in `fills`.
    Fill(FillRecord),
    /// Fees of order `cid` that count in the quote asset and that its fill events did not
    /// carry as quote-asset fees: learned after the fills (a venue that reports an order's
    /// fee after its fill; a fill learned by a query has its fees fetched), or paid in another
    /// asset the venue rated in the quote (the margin currency of an order margined in another
    /// asset than the quote). Negative: taken back.
    QuoteFee {
        cid: ClientOrderId,
        in_quote: crate::types::Qty,
        at: UnixNanos,
    },
    /// Pre-trade risk refused a new order.
    RiskRejected {
        strategy: StrategyId,
        cid: ClientOrderId,
        rule: Rule,
        at: UnixNanos,
    },
    /// One asset's balance as the venue reported it (account query or balance update).
    Balance {
        venue: VenueId,
        balance: Balance,
        at: UnixNanos,
    },
    /// The order connection came up (a reconnect when it is not the first).
    Connected { venue: VenueId, at: UnixNanos },
    Disconnected {
        venue: VenueId,
        reason: String,
        at: UnixNanos,
    },
    /// A request failed at the venue (not an order rejection, which the order records hold).
    Failed {
        venue: VenueId,
        code: i64,
        message: String,
        at: UnixNanos,
    },
    /// A perpetual position differed from the venue's twice, with no fill between: the
    /// venue's was taken (`corrected`) or could not be attributed to one strategy.
    PositionDrift {
        venue: VenueId,
        instrument: crate::types::InstrumentId,
        /// Order units at `10^-8`, signed.
        engine: i64,
        venue_size: i64,
        corrected: bool,
        at: UnixNanos,
    },
    /// The venue banned the key or address (HTTP 418): the gateway sends nothing more.
    Banned { venue: VenueId, at: UnixNanos },
    /// The gateway finished its stop step: nothing more comes from it.
    Stopped { venue: VenueId, at: UnixNanos },
}

/// The gateway's end of the event channel; `None` when nobody listens.
#[derive(Debug, Clone, Default)]
pub struct EventSender(Option<Tx<GatewayEvent>>);

impl EventSender {
    pub fn new(tx: Tx<GatewayEvent>) -> Self {
        Self(Some(tx))
    }

    /// Queues the event, or drops it (counted by the channel) when the queue is full.
    #[inline]
    pub fn emit(&self, ev: GatewayEvent) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(ev);
        }
    }

    /// Whether anyone listens (to skip building events nobody reads).
    #[inline]
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }
}
