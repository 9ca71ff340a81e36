//! A trade as a strategy counts it: opened by an entry, closed by an exit, with the reason it
//! closed and, for a model's strategy, the model that opened it. Stored as a row of
//! `strategy_trades`, so results can be told apart by exit rule and by model.

use std::sync::Arc;

use super::{InstrumentId, Notional, Price, Qty, StrategyId, UnixNanos};

#[derive(Debug, Clone, PartialEq)]
pub struct StrategyTrade {
    /// Set by the strategy's host (a strategy does not know its own id).
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub opened_at: UnixNanos,
    pub closed_at: UnixNanos,
    /// Base bought by the entry.
    pub qty: Qty,
    /// Average entry and exit prices (`None` when nothing was bought or sold).
    pub entry: Option<Price>,
    pub exit: Option<Price>,
    /// Exact PnL from the trade's own fills and fees, quote 10^-16.
    pub pnl: Notional,
    /// Why it closed: `take_profit`, `stop_loss`, `max_hold`, `signal`, ...
    pub reason: &'static str,
    /// SHA-256 of the model file that opened it, for a model's strategy.
    pub model: Option<Arc<str>>,
    /// The model's confidence when it opened.
    pub confidence: Option<f64>,
}
