//! The gateway: order state that matches the venue's, pre-trade risk in front of every order,
//! transports, reconciliation and paper execution.

pub mod actor;
mod chase;
mod deliver;
pub mod events;
pub mod intent;
pub mod latency;
pub mod paper;
/// Order entry over REST: the worker thread and the gateway's end of it.
pub mod rest;
pub mod snapshot;
pub mod table;
mod trade_ws;

pub use actor::{Gateway, GatewayOptions, GatewaySpec};
pub use events::{EventSender, GatewayEvent};
pub use intent::{CidMinter, FeeCorrection, NewOrderIntent, OrderIntent, OrderUpdate, Refusal};
pub use latency::GATEWAY_MEASUREMENTS;
pub use paper::{PaperGateway, PaperSpec};
pub use snapshot::{GatewayCounters, GatewaySnapshot, OrderView};
