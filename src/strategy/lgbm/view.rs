//! The LightGBM bot's view on `/status` and the dashboard: the model (its hash, objective and
//! features), the last prediction, the open position, PnL and the last trades, each with the
//! hash of the model that opened it. Built about once a second, off the tick path.

use serde_json::{Value, json};

use crate::types::Notional;

use super::bot::LgbmBot;
use super::params::{EntryMode, OnTimeout};

/// Trades shown, latest first.
const SHOWN: usize = 10;

fn quote_f64(v: i128) -> f64 {
    v as f64 / Notional::SCALE as f64
}

pub fn detail(b: &LgbmBot) -> Value {
    let p = b.params();
    let open = b.last_bid().map_or(0, |m| b.unrealized(m));
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
                "duration_s": t.closed_at.since(t.opened_at) as f64 / 1e9,
                "exit_reason": t.reason.as_str(),
                "entry_order": t.entry_cid.map(|c| c.to_string()),
                "confidence": t.confidence,
                "model": &*t.model,
            })
        })
        .collect();
    let pred = b.prediction();
    json!({
        "lgbm": {
            "symbol": b.instrument().symbol,
            "model": {
                "path": p.model_path.display().to_string(),
                "hash": b.model_hash(),
                "objective": p.model.objective().to_string(),
                "features": p.model.features(),
                "swaps": b.model_swaps(),
            },
            "bars": b.bars(),
            "predictions": b.predictions(),
            "prediction": pred.map(|p| json!({
                "at_ns": p.at.0,
                "outputs": p.outputs.iter().filter(|v| !v.is_nan()).collect::<Vec<_>>(),
                "confidence": p.confidence,
                "up": p.up,
            })),
            "threshold": p.threshold,
            "position": b.held().to_string(),
            "open_trades": b.open_trades(),
            "max_open_positions": p.max_open_positions,
            "signals_at_max": b.at_max(),
            "entries_given_up": b.given_up(),
            "pnl": quote_f64(b.realized() + open),
            "realized_pnl": quote_f64(b.realized()),
            "trade_size": p.trade_size.to_string(),
            "entry": match p.entry {
                EntryMode::PostOnly => "post_only",
                EntryMode::Ioc => "ioc",
            },
            "on_timeout": match p.on_timeout {
                OnTimeout::GiveUp => "give_up",
                OnTimeout::Cross => "cross",
            },
        },
        "last_trades": trades,
    })
}
