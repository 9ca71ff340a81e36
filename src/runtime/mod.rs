//! The actor runtime: actors, hosts (threads) and their placement, idle policies, bounded
//! channels with stated full policies, the injected clock, and shutdown.

pub mod actor;
pub mod affinity;
pub mod channel;
pub mod clock;
pub mod host;
pub mod idle;
pub mod shutdown;
pub mod warm;

pub use actor::{Actor, Ctx, StartError};
pub use channel::{FullPolicy, Rx, SendError, Tx, bounded};
pub use clock::{Clock, ManualClock};
pub use host::{HostHandle, HostSpec, HostStats};
pub use idle::IdlePolicy;
pub use shutdown::Shutdown;
