//! The gateway: order state that matches the venue's, pre-trade risk in front of every order,
//! transports, reconciliation and paper execution.

pub mod actor;
pub mod intent;
pub mod order;
/// Order entry over REST: the worker thread and the gateway's end of it.
pub mod rest;
pub mod snapshot;
pub mod table;

pub use actor::{Gateway, GatewayOptions, GatewaySpec};
pub use intent::{CidMinter, NewOrderIntent, OrderIntent, OrderUpdate, Refusal};
pub use order::{
    Applied, AssetCode, FillDelta, Order, OrderEvent, OrderKind, OrderStatus, TimeInForce,
};
pub use snapshot::{GatewayCounters, GatewaySnapshot, OrderView};
