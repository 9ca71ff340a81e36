//! One strategy's entry on the status page: its identity, the strategy's own report, the
//! engine's books of it (summed over the venues it trades on) and its parameters.

use serde_json::{Value, json};

use super::{QuoteLevel, StatusState, StrategyRiskUpdate, toml_json};

impl StatusState {
    pub(super) fn strategy_json(&self, i: usize) -> Value {
        let info = &self.setup.strategies[i];
        let quote = |q: Option<QuoteLevel>| {
            q.map(|q| json!({"price": q.price.to_string(), "qty": q.qty.to_string()}))
        };
        let base = json!({
            "id": info.name,
            "index": i,
            "kind": info.kind,
            "venue": self.setup.venue_name(info.venue),
            "instrument": self.setup.instrument_name(info.instrument),
        });
        let Value::Object(mut m) = base else {
            return Value::Null;
        };
        match self.strategies[i] {
            Some(s) => {
                m.insert("state".into(), json!(s.state.as_str()));
                m.insert("position".into(), json!(s.position.to_string()));
                m.insert("realized_pnl".into(), json!(s.realized_pnl));
                m.insert("pnl".into(), json!(s.total_pnl));
                m.insert("trades".into(), json!(s.trades));
                m.insert("open_orders".into(), json!(s.open_orders));
                m.insert("mid".into(), json!(s.mid.map(|p| p.to_string())));
                m.insert(
                    "quotes".into(),
                    json!({"bid": quote(s.bid), "ask": quote(s.ask)}),
                );
                m.insert("round_trips".into(), json!(s.round_trips));
                m.insert("last_fill_ns".into(), json!(s.last_fill.map(|t| t.0)));
                m.insert("prints".into(), json!(s.prints));
                m.insert("prints_lost".into(), json!(s.prints_lost));
                m.insert("decisions".into(), json!(s.decisions));
                m.insert("entries_stopped".into(), json!(s.entries_stopped));
                m.insert("skipped".into(), json!(s.skipped));
                m.insert("updated_at_ns".into(), json!(s.at.0));
            }
            None => {
                m.insert("state".into(), json!("unknown"));
                m.insert("position".into(), json!("0"));
                m.insert("realized_pnl".into(), json!(0.0));
                m.insert("pnl".into(), json!(0.0));
                m.insert("trades".into(), json!(0));
                m.insert("open_orders".into(), json!(0));
                m.insert("mid".into(), Value::Null);
                m.insert("quotes".into(), json!({"bid": null, "ask": null}));
                m.insert("round_trips".into(), json!(0));
                m.insert("last_fill_ns".into(), Value::Null);
                m.insert("prints".into(), json!(0));
                m.insert("prints_lost".into(), json!(0));
                m.insert("decisions".into(), json!(0));
                m.insert("entries_stopped".into(), Value::Null);
                m.insert("skipped".into(), json!(0));
                m.insert("updated_at_ns".into(), Value::Null);
            }
        }
        // The engine's own books (its gateway's risk state) are the authority on position,
        // realized PnL, trades and open orders; the strategy's report fills in the rest.
        // On several venues: the figures summed (position: the net across its markets), and
        // each venue's under `markets`.
        match self.strategy_risk.get(i).filter(|l| !l.is_empty()) {
            Some(list) => {
                let position: i64 = list.iter().map(|r| r.position.units()).sum();
                let sum = |f: fn(&StrategyRiskUpdate) -> f64| list.iter().map(f).sum::<f64>();
                m.insert(
                    "position".into(),
                    json!(crate::types::Qty::from_units(position).to_string()),
                );
                m.insert("realized_pnl".into(), json!(sum(|r| r.realized_pnl)));
                m.insert("day_pnl".into(), json!(sum(|r| r.day_pnl)));
                m.insert(
                    "trades".into(),
                    json!(list.iter().map(|r| r.trades_today).sum::<u64>()),
                );
                m.insert(
                    "open_orders".into(),
                    json!(list.iter().map(|r| r.open_orders).sum::<u32>()),
                );
                let markets: Vec<Value> = list
                    .iter()
                    .map(|r| {
                        json!({
                            "venue": self.setup.venue_name(r.venue),
                            "position": r.position.to_string(),
                            "realized_pnl": r.realized_pnl,
                            "day_pnl": r.day_pnl,
                            "trades": r.trades_today,
                            "open_orders": r.open_orders,
                            "perp": r.perp.as_ref().map(perp_json),
                        })
                    })
                    .collect();
                m.insert("markets".into(), Value::Array(markets));
                // The main market's perpetual figures at the top, for the dashboard.
                m.insert(
                    "perp".into(),
                    list.iter()
                        .find_map(|r| r.perp.as_ref())
                        .map_or(Value::Null, perp_json),
                );
            }
            None => {
                m.insert("day_pnl".into(), Value::Null);
            }
        }
        if let Some(Some((detail, at))) = self.details.get(i) {
            m.insert("detail".into(), detail.clone());
            m.insert("detail_at_ns".into(), json!(at.0));
        }
        if let Some((params, at)) = self.params.get(i) {
            m.insert(
                "params".into(),
                toml_json(&toml::Value::Table(params.clone())),
            );
            m.insert("params_reloaded_at_ns".into(), json!(at.map(|t| t.0)));
        }
        Value::Object(m)
    }
}

impl StatusState {
    /// `/stats`: the bots counted by state, and PnL and trades per bot and in total (the
    /// figures of `/status`'s strategy entries). A bot is "active" while starting, running
    /// or waiting; "unknown" until its first report.
    pub fn stats_json(&self, now: crate::types::UnixNanos) -> Value {
        let bots: Vec<Value> = (0..self.setup.strategies.len())
            .filter(|i| self.is_listed(*i))
            .map(|i| self.strategy_json(i))
            .collect();
        // A vacant slot still holding what a deleted bot left is listed, but is not a bot.
        let n = self.setup.strategies.len();
        let holding = (0..n)
            .filter(|i| self.is_vacant(*i) && self.is_listed(*i))
            .count();
        let count = |states: &[&str]| {
            bots.iter()
                .filter(|b| states.contains(&b["state"].as_str().unwrap_or("")))
                .count()
        };
        let sum = |key: &str| bots.iter().filter_map(|b| b[key].as_f64()).sum::<f64>();
        let total = |key: &str| bots.iter().filter_map(|b| b[key].as_u64()).sum::<u64>();
        json!({
            "generated_at_ns": now.0,
            "mode": self.setup.mode.as_str(),
            "bots": {
                "total": bots.len() - holding,
                "vacant_slots": (0..n).filter(|i| self.is_vacant(*i)).count(),
                "vacant_slots_holding": holding,
                "active": count(&["starting", "running", "waiting"]),
                "paused": count(&["paused"]),
                "stopped": count(&["stopped"]),
                "unknown": count(&["unknown"]),
            },
            "pnl": sum("pnl"),
            "realized_pnl": sum("realized_pnl"),
            "trades": total("trades"),
            "round_trips": total("round_trips"),
            "per_bot": bots.iter().map(|b| json!({
                "id": b["id"],
                "kind": b["kind"],
                "venue": b["venue"],
                "instrument": b["instrument"],
                "state": b["state"],
                "pnl": b["pnl"],
                "realized_pnl": b["realized_pnl"],
                "trades": b["trades"],
                "decisions": b["decisions"],
                "round_trips": b["round_trips"],
                "last_fill_ns": b["last_fill_ns"],
            })).collect::<Vec<_>>(),
        })
    }
}

/// A perpetual position's figures as `/status` gives them: prices and amounts as exact
/// decimal text (amounts in the settlement asset, cut to 10^-8).
fn perp_json(p: &crate::risk::PerpFigures) -> Value {
    let amount = |v: i128| crate::types::Price::from_units(crate::types::perp::to_e8(v.abs()));
    let signed = |v: i128| {
        let a = amount(v).to_string();
        if v < 0 && a != "0" {
            format!("-{a}")
        } else {
            a
        }
    };
    json!({
        "kind": p.kind.as_str(),
        "margin_mode": p.margin_mode.as_str(),
        "leverage": p.leverage.to_string(),
        "entry": p.entry.map(|x| x.to_string()),
        "mark": p.mark.map(|x| x.to_string()),
        "unrealized_pnl": signed(p.unrealized),
        "liquidation": p.liquidation.map(|x| x.to_string()),
        "funding_paid": signed(p.funding_paid),
    })
}
