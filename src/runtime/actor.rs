//! The actor contract: state plus inboxes, driven by a host through a non-blocking `poll`.

use super::clock::Clock;
use super::shutdown::Shutdown;

/// What a host hands its actors on every call.
pub struct Ctx {
    pub clock: Clock,
    /// Lets an actor stop the whole engine (an unrecoverable error), never just itself.
    pub shutdown: Shutdown,
    /// The host's name, for logs.
    pub host: &'static str,
}

/// An actor that failed to start; the engine stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("{actor}: {message}")]
pub struct StartError {
    pub actor: String,
    pub message: String,
}

/// A unit of work placed on a host thread.
///
/// `poll` must never block: it does the work that is ready (bounded, so the other actors on
/// the host get their turn) and returns how much it did; zero tells the host it may idle.
pub trait Actor: Send {
    /// Stable name for logs and metrics (`feed:binance`, `strategy:mm-btc`, ...).
    fn name(&self) -> &str;

    /// Runs once on the host thread before the first `poll`.
    fn start(&mut self, _ctx: &mut Ctx) -> Result<(), StartError> {
        Ok(())
    }

    /// Does the work that is ready; returns the number of items handled.
    fn poll(&mut self, ctx: &mut Ctx) -> usize;

    /// Runs once when the engine stops (cancel orders, flush, close). It may take a little
    /// time, bounded by `runtime.shutdown_timeout` for the whole engine.
    fn stop(&mut self, _ctx: &mut Ctx) {}
}
