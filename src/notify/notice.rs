//! What is worth telling a person, and how each notice reads as one line of a message.
//!
//! Notices sent from hot actors (fills, risk refusals, the kill switch) are small `Copy`
//! values; the notifier turns ids into names and formats text on its own thread.

use crate::config::Mode;
use crate::latency::BandChange;
use crate::persist::FillRecord;
use crate::risk::{KillReason, Rule};
use crate::types::{InstrumentId, Notional, Price, StrategyId};

/// One thing to notify.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Started {
        run_id: i64,
    },
    Stopped {
        reason: &'static str,
    },
    KillSwitch(KillReason),
    /// Sent only when `notify_fills` is on.
    Fill(FillRecord),
    Band(BandChange),
    RiskRejected {
        rule: Rule,
        strategy: StrategyId,
    },
    /// A strategy stopped opening positions by its own limits (e.g. its daily loss).
    EntriesStopped {
        strategy: StrategyId,
        reason: &'static str,
    },
    Error(String),
    /// An operator's change through the bot management API (created, stopped, deleted…).
    Operator(String),
}

impl Notice {
    /// Fills are the only notices the config can turn off.
    pub fn is_fill(&self) -> bool {
        matches!(self, Notice::Fill(_))
    }
}

/// Names behind the ids notices carry, and who is talking.
#[derive(Debug, Clone)]
pub struct NotifyNames {
    pub engine: String,
    pub mode: Mode,
    /// Indexed by `StrategyId`.
    pub strategies: Vec<String>,
    /// Indexed by `InstrumentId`.
    pub instruments: Vec<String>,
}

impl NotifyNames {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            engine: config.engine.name.clone(),
            mode: config.engine.mode,
            strategies: config.strategies.iter().map(|s| s.name.clone()).collect(),
            instruments: config
                .instruments
                .iter()
                .map(|i| i.symbol.clone())
                .collect(),
        }
    }

    fn strategy(&self, s: StrategyId) -> &str {
        self.strategies.get(s.index()).map_or("?", String::as_str)
    }

    fn instrument(&self, i: InstrumentId) -> &str {
        self.instruments.get(i.index()).map_or("?", String::as_str)
    }

    /// First line of every message: who, and in which mode (paper and sim shouted).
    pub fn header(&self) -> String {
        let label = match self.mode {
            Mode::Live => "LIVE",
            Mode::Paper => "PAPER",
            Mode::Sim => "SIM",
            Mode::Backtest => "BACKTEST",
        };
        format!("mako {} [{label}]", self.engine)
    }

    /// The notice as one line.
    pub fn line(&self, n: &Notice) -> String {
        match n {
            Notice::Started { run_id } => format!("started (run {run_id})"),
            Notice::Stopped { reason } => format!("stopped: {reason}"),
            Notice::KillSwitch(r) => format!("KILL SWITCH tripped: {}", r.as_str()),
            Notice::Fill(f) => {
                let price = if f.fill.qty.is_zero() {
                    "?".to_string()
                } else {
                    let units = f.fill.quote.0 / i128::from(f.fill.qty.units());
                    i64::try_from(units)
                        .map_or("?".to_string(), |u| Price::from_units(u).to_string())
                };
                format!(
                    "fill: {} {} {} {} @ {} ({}){}",
                    self.strategy(f.strategy),
                    self.instrument(f.instrument),
                    f.fill.side,
                    f.fill.qty,
                    price,
                    if f.fill.is_maker { "maker" } else { "taker" },
                    if f.fill.quote == Notional::default() {
                        " [no quote]"
                    } else {
                        ""
                    }
                )
            }
            Notice::Band(c) => {
                let stat = match (c.measurement, c.statistic_ns) {
                    (Some(m), Some(ns)) => format!(" ({m} {:.3} ms)", ns as f64 / 1e6),
                    _ => " (no fresh measurement)".to_string(),
                };
                format!(
                    "band: {} {} -> {}{stat}",
                    c.venue_name, c.from_name, c.to_name
                )
            }
            Notice::RiskRejected { rule, strategy } => {
                format!(
                    "risk refused an order of {}: {}",
                    self.strategy(*strategy),
                    rule.as_str()
                )
            }
            Notice::EntriesStopped { strategy, reason } => {
                format!(
                    "{} stops opening positions: {reason}",
                    self.strategy(*strategy)
                )
            }
            Notice::Error(e) => format!("error: {e}"),
            Notice::Operator(m) => format!("operator: {m}"),
        }
    }
}
