//! Market-data events every venue's codec produces and every room reads: trade prints and best
//! bid/offer, in the engine's fixed point, with the venue's own ids.

use crate::types::{InstrumentId, Price, Qty, Side, TradeId, UnixNanos, VenueId};

/// A public trade, as the feed hands it to strategies and the paper gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeEvent {
    pub venue: VenueId,
    pub instrument: InstrumentId,
    /// The venue's trade id (numeric ids order as numbers, which the feed uses to drop the
    /// copies two overlapping connections deliver).
    pub trade_id: TradeId,
    pub price: Price,
    pub qty: Qty,
    /// The side that took liquidity.
    pub aggressor: Side,
    pub trade_time: UnixNanos,
    /// The venue's event time.
    pub exchange_ts: UnixNanos,
    /// When the frame that carried it was read.
    pub recv_ts: UnixNanos,
}

/// A public trade as a venue's codec decodes it (before the feed stamps venue and receive time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradePrint {
    pub instrument: InstrumentId,
    pub trade_id: TradeId,
    pub price: Price,
    pub qty: Qty,
    pub aggressor: Side,
    pub trade_time: UnixNanos,
    /// The venue's event time (the trade time where the venue sends only one).
    pub event_time: UnixNanos,
}
