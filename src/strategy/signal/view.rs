//! The signal bot's view on `/status` and the dashboard: its score and the indicators behind
//! it, its temperature, the signal being confirmed and the time left, the cooldown left, its
//! position and PnL, the day's limits and its last trades. Built about once a second, off the
//! tick path.

use serde_json::{Value, json};

use crate::types::{Notional, Price};

use super::bot::SignalBot;

/// Trades shown, latest first.
const SHOWN: usize = 10;

fn quote_f64(v: i128) -> f64 {
    v as f64 / Notional::SCALE as f64
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

pub fn detail(b: &SignalBot) -> Value {
    let p = b.params();
    let r = b.reading();
    let pending = b.pending();
    let mark = b.bid_or_entry();
    let open = mark.map_or(0, |m| b.unrealized(m));
    let day = b.day();
    let trades: Vec<Value> = b
        .closed_trades()
        .iter()
        .rev()
        .take(SHOWN)
        .map(|t| {
            json!({
                "closed_at_ns": t.closed_at.0,
                "symbol": b.instrument().symbol,
                "side": "long",
                "qty": t.qty.to_string(),
                "entry": t.entry.map(|p| p.to_string()),
                "exit": t.exit.map(|p| p.to_string()),
                "pnl": quote_f64(t.pnl.0),
                "duration_s": secs(t.closed_at.since(t.opened_at)),
                "exit_reason": t.reason.as_str(),
                "entry_order": t.entry_cid.map(|c| c.to_string()),
            })
        })
        .collect();
    json!({
        "signal": {
            "symbol": b.instrument().symbol,
            "bars": b.bars(),
            "score": r.map(|r| r.score),
            "temperature": b.temperature().map(|t| t.as_str()),
            "components": r.map(|r| json!({"rsi": r.c_rsi, "ma": r.c_ma, "macd": r.c_macd})),
            "indicators": r.map(|r| json!({
                "close": r.close,
                "rsi": r.rsi,
                "ma_fast": r.ma_fast,
                "ma_slow": r.ma_slow,
                "macd": r.macd,
                "macd_signal": r.macd_signal,
                "macd_hist": r.macd_hist,
            })),
            "pending_signal": pending.map(|(s, _)| s.as_str()),
            "confirm_in_s": pending.map(|(_, left)| secs(left)),
            "cooldown_s": secs(b.cooldown_left()),
            "position": b.held().to_string(),
            "avg_entry": b.avg_entry().map(|p| p.to_string()),
            "open_trades": b.open_trades(),
            "exiting": b.exiting().map(|x| x.as_str()),
            "pnl": quote_f64(b.realized() + open),
            "realized_pnl": quote_f64(b.realized()),
            "trade_size": p.trade_size.to_string(),
            "entry": match p.entry {
                super::params::EntryMode::PostOnly => "post_only",
                super::params::EntryMode::Ioc => "ioc",
            },
            "blocked_by": b.blocked().map(|x| x.as_str()),
        },
        "day": {
            "pnl": quote_f64(day.realized),
            "round_trips": day.entries,
            "max_round_trips": p.max_trades_per_day,
            "max_loss": p.max_daily_loss.to_string(),
            "drawdown_factor": 1.0,
            "entries_stopped": b.entries_stopped().map(|x| x.as_str()),
        },
        "last_trades": trades,
    })
}

impl SignalBot {
    /// The price open trades are valued at in the view: the last bid, else their entry.
    fn bid_or_entry(&self) -> Option<Price> {
        self.last_bid().or_else(|| self.avg_entry())
    }
}
