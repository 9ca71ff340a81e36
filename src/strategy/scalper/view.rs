//! The scalper's view on `/status` (the seed's terminal view): per venue its band, the band's
//! entry spread, size and throttle and the free balance; the day's PnL, round trips used of
//! the maximum and the loss limit; the last trades. Built about once a second, off the tick
//! path.

use serde_json::{Value, json};

use crate::types::{Notional, Price, Side};

use super::bot::Scalper;

/// Trades shown, latest first.
const SHOWN: usize = 10;

fn quote_f64(v: i128) -> f64 {
    v as f64 / Notional::SCALE as f64
}

pub fn detail(s: &Scalper) -> Value {
    let p = s.params();
    let drawdown = s.drawdown();
    let venues: Vec<Value> = s
        .venues()
        .iter()
        .map(|v| {
            let b = &p.bands[v.band_rank.min(p.bands.len() - 1)];
            let size = (b.quote_size.units() as f64 * b.throttle * drawdown).floor() as i64;
            let fees = p.fees_of(&v.name);
            json!({
                "venue": v.name,
                "band": b.name,
                "entry_min_spread_percent": f64::from(b.entry_min_spread_ppm) / 10_000.0,
                "quote_size": b.quote_size.to_string(),
                "throttle": b.throttle,
                "entry_size_now": Price::from_units(size).to_string(),
                "free_quote": v.free_quote.map(|q| q.to_string()),
                "quote_asset": v.quote,
                "maker_fee_percent": f64::from(fees.maker_ppm) / 10_000.0,
                "taker_fee_percent": f64::from(fees.taker_ppm) / 10_000.0,
            })
        })
        .collect();
    let trades: Vec<Value> = s
        .trades()
        .rev()
        .take(SHOWN)
        .map(|t| {
            json!({
                "closed_at_ns": t.closed_at.0,
                "venue": s.venues().iter().find(|v| v.venue == t.venue).map(|v| v.name.as_str()),
                "symbol": s.instrument(t.instrument).map(|i| i.symbol.as_str()),
                "side": if t.side == Side::Buy { "long" } else { "short" },
                "qty": t.qty.to_string(),
                "entry": t.entry.to_string(),
                "exit": t.exit.to_string(),
                "pnl": t.pnl_f64(),
                "duration_s": t.closed_at.0.saturating_sub(t.opened_at.0) as f64 / 1e9,
                "exit_reason": t.reason.as_str(),
                "entry_order": t.entry_cid.to_string(),
            })
        })
        .collect();
    json!({
        "venues": venues,
        "day": {
            "pnl": quote_f64(s.day_pnl()),
            "round_trips": s.trades_today(),
            "max_round_trips": p.max_trades_per_day,
            "max_loss": p.max_daily_loss.to_string(),
            "drawdown_factor": drawdown,
            "entries_stopped": s.stopped().map(|r| r.as_str()),
            "skipped_for_fees": s.skipped_for_fees(),
        },
        "open_trades": s.open_trades(),
        "last_trades": trades,
    })
}
