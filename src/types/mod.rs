//! The vocabulary every room shares: fixed-point prices and quantities, ids, sides, instruments, time.

pub mod fixed;
pub mod ids;
pub mod instrument;
pub mod order_id;
pub mod side;
pub mod time;

pub use fixed::{DECIMALS, DecimalError, Notional, Price, Qty, SCALE};
pub use ids::{InstrumentId, StrategyId, VenueId};
pub use instrument::{GridError, Instrument};
pub use order_id::{ClientOrderId, ClientOrderIdError};
pub use side::Side;
pub use time::UnixNanos;
