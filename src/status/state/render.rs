//! Pieces of the documents: latency, persistence and notifier figures, prices as text.

use serde_json::{Value, json};

use super::*;

pub(super) fn stats_json(s: &Stats) -> Value {
    json!({"count": s.count, "p50_ns": s.p50, "p90_ns": s.p90, "p99_ns": s.p99,
           "p999_ns": s.p999, "max_ns": s.max, "mean_ns": s.mean})
}

pub(super) fn latency_json(setup: &StatusSetup, l: Option<&LatencySnapshot>) -> Value {
    let Some(l) = l else {
        return json!({"at_ns": null, "bands": [], "percentiles": [], "recent_changes": []});
    };
    json!({
        "at_ns": l.at.0,
        "bands": l.bands.iter().map(|b| json!({
            "venue": b.venue_name, "band": b.band_name, "band_index": b.band,
            "measurement": b.measurement.map(|m| m.as_str()), "statistic_ns": b.statistic_ns,
        })).collect::<Vec<_>>(),
        "percentiles": l.summaries.iter().map(|s| json!({
            "venue": setup.venue_name(s.venue), "measurement": s.measurement.as_str(),
            "window": stats_json(&s.window), "run": stats_json(&s.run),
            "last_sample_ns": s.last_sample.map(|t| t.0),
        })).collect::<Vec<_>>(),
        "recent_changes": l.recent_changes.iter().rev().map(|c| json!({
            "venue": c.venue_name, "from": c.from_name, "to": c.to_name,
            "measurement": c.measurement.map(|m| m.as_str()), "statistic_ns": c.statistic_ns,
            "at_ns": c.at.0,
        })).collect::<Vec<_>>(),
        "batches": l.batches,
        "events_dropped": l.events_dropped,
    })
}

pub(super) fn persist_json(p: Option<&PersistCounters>) -> Value {
    match p {
        None => json!({"enabled": false}),
        Some(p) => json!({
            "enabled": true,
            "records_committed": p.records_committed,
            "telemetry_committed": p.telemetry_committed,
            "batches": p.batches,
            "commit_errors": p.commit_errors,
            "queue_depth": p.queue_depth,
            "backlog": p.backlog,
            "orders_refused": p.orders_refused,
            "telemetry_dropped": p.telemetry_dropped,
            "last_commit_ns": p.last_commit_ns,
        }),
    }
}

pub(super) fn notify_json(n: Option<&NotifyCounters>) -> Value {
    match n {
        None => json!({"enabled": false}),
        Some(n) => json!({
            "enabled": true,
            "sent": n.sent,
            "failed": n.failed,
            "retries": n.retries,
            "dropped": n.dropped,
            "pending": n.pending,
        }),
    }
}

/// Average price of a fill as exact text (quote / qty, rounded to 10^-8).
pub(super) fn avg_price(quote: Notional, qty: crate::types::Qty) -> Option<String> {
    if qty.is_zero() {
        return None;
    }
    let units = quote.0 / i128::from(qty.units());
    i64::try_from(units)
        .ok()
        .map(|u| Price::from_units(u).to_string())
}

/// A quote amount (10^-16) as decimal text.
pub(super) fn notional_str(n: Notional) -> String {
    let scale = Notional::SCALE;
    let sign = if n.0 < 0 { "-" } else { "" };
    let abs = n.0.unsigned_abs();
    let int = abs / scale as u128;
    let frac = abs % scale as u128;
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let f = format!("{frac:016}");
    format!("{sign}{int}.{}", f.trim_end_matches('0'))
}
