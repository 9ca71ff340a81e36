//! The gateway: order state that matches the venue's, pre-trade risk in front of every order,
//! transports, reconciliation and paper execution.

pub mod order;

pub use order::{
    Applied, AssetCode, FillDelta, Order, OrderEvent, OrderKind, OrderStatus, TimeInForce,
};
