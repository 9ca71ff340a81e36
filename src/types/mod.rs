//! The vocabulary every room shares: fixed-point prices and quantities, ids, sides, instruments,
//! time, and orders with their events and fills.

pub mod fixed;
pub mod ids;
pub mod instrument;
pub mod market;
pub mod order;
pub mod order_id;
pub mod perp;
pub mod side;
pub mod time;
pub mod trade;
pub mod venue_ids;

pub use fixed::{DECIMALS, DecimalError, Notional, Price, Qty, Rate, SCALE, bps_of};
pub use ids::{InstrumentId, StrategyId, VenueId};
pub use instrument::{GridError, Instrument};
pub use market::{FundingRate, MarkUpdate, TradeEvent, TradePrint};
pub use order::{
    Applied, AssetCode, FillDelta, Order, OrderEvent, OrderKind, OrderStatus, SnapshotStatus,
    TimeInForce, VenueFinal,
};
pub use order_id::{ClientOrderId, ClientOrderIdError, RunTag};
pub use perp::{Contract, InstrumentKind, Margin, MarginMode, QtyUnit};
pub use side::Side;
pub use time::UnixNanos;
pub use trade::StrategyTrade;
pub use venue_ids::{MAX_VENUE_ID_LEN, TradeId, VenueOrderId};
