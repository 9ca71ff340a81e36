//! What the signal bot tells its view and reports: its parameters, the latest reading, the
//! pending signal, the day's limits, and its trades and their PnL.

use crate::types::{Instrument, Price, Qty};

use super::super::params::SignalParams;
use super::super::rules::{Blocked, Day, ExitReason};
use super::super::score::{Reading, Signal, Temperature, temperature};
use super::{ClosedTrade, SignalBot};

impl SignalBot {
    pub fn params(&self) -> &SignalParams {
        &self.params
    }

    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    /// The latest reading (after the indicators' warm-up).
    pub fn reading(&self) -> Option<&Reading> {
        self.reading.as_ref()
    }

    /// The last valid bid seen.
    pub fn last_bid(&self) -> Option<Price> {
        self.bid
    }

    pub fn bars(&self) -> u64 {
        self.bars
    }

    pub fn temperature(&self) -> Option<Temperature> {
        self.reading
            .map(|r| temperature(r.score, &self.params.bands))
    }

    /// The signal being confirmed and the time left, as of the last call.
    pub fn pending(&self) -> Option<(Signal, u64)> {
        self.confirm.pending(self.now)
    }

    pub fn cooldown_left(&self) -> u64 {
        self.cooldown.remaining(self.now)
    }

    pub fn closed_trades(&self) -> &[ClosedTrade] {
        &self.closed
    }

    pub fn day(&self) -> Day {
        self.day
    }

    pub fn blocked(&self) -> Option<Blocked> {
        self.blocked
    }

    /// The day's limit that stops new trades, if one does.
    pub fn entries_stopped(&self) -> Option<Blocked> {
        match self.day.new_trade(&self.limits(), 0, self.open_pnl()) {
            Err(b @ (Blocked::DailyLoss | Blocked::TradesPerDay)) => Some(b),
            _ => None,
        }
    }

    /// Base held by open trades.
    pub fn held(&self) -> Qty {
        Qty::from_units(self.trades.iter().map(|t| t.held().units()).sum())
    }

    /// Average entry of the open trades' buys.
    pub fn avg_entry(&self) -> Option<Price> {
        let (q, n) = self.trades.iter().fold((0i128, 0i64), |(q, n), t| {
            (q + t.trip.bought, n + t.trip.bought_qty)
        });
        (n > 0).then(|| Price::from_units((q / i128::from(n)) as i64))
    }

    pub fn open_trades(&self) -> usize {
        self.trades.len()
    }

    /// The open trades' exit reasons once decided.
    pub fn exiting(&self) -> Option<ExitReason> {
        self.trades.iter().find_map(|t| t.exit)
    }

    /// Realized PnL of closed trades, quote 10^-16.
    pub fn realized(&self) -> i128 {
        self.realized
    }

    /// Open trades valued at `mark`, quote 10^-16.
    pub fn unrealized(&self, mark: Price) -> i128 {
        self.trades.iter().map(|t| t.trip.pnl(mark)).sum()
    }
}
