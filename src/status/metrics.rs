//! `GET /metrics`: the Prometheus text exposition format (0.0.4), written by hand. Every
//! family has `# HELP` and `# TYPE`; names start with `mako_`; the run id and mode are on
//! `mako_info`.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::risk::Rule;
use crate::types::UnixNanos;

use super::snapshot::ORDER_STATES;
use super::state::{Readings, StatusState};

/// Builds one exposition. Families must be written whole, one after another.
struct Prom {
    out: String,
}

impl Prom {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_label(v, &mut self.out);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        write_value(value, &mut self.out);
        self.out.push('\n');
    }

    /// A family with one sample per `(labels, value)`.
    fn all<'a>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, f64)>,
    ) {
        self.family(name, kind, help);
        for (labels, v) in samples {
            self.sample(name, &labels, v);
        }
    }
}

fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn write_value(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// The whole `/metrics` page.
pub fn render(state: &StatusState, r: &Readings, now: UnixNanos) -> String {
    let mut p = Prom {
        out: String::with_capacity(8 * 1024),
    };
    let s = &state.setup;
    let run_id = s.run_id.to_string();
    p.all(
        "mako_info",
        "gauge",
        "The engine run: run id, mode (live/paper/sim), name and version.",
        [(
            vec![
                ("run_id", run_id.as_str()),
                ("mode", s.mode.as_str()),
                ("engine", s.engine_name.as_str()),
                ("version", env!("CARGO_PKG_VERSION")),
            ],
            1.0,
        )],
    );
    p.all(
        "mako_uptime_seconds",
        "gauge",
        "Seconds since the engine started.",
        [(vec![], now.since(s.started_at) as f64 / 1e9)],
    );

    let venues: Vec<_> = state.venue_views().collect();
    let per_venue = |f: &dyn Fn(&super::state::VenueReading) -> f64| {
        venues
            .iter()
            .map(|(n, v)| (vec![("venue", *n)], f(v)))
            .collect::<Vec<_>>()
    };
    p.all(
        "mako_venue_messages_total",
        "counter",
        "Market-data messages received per venue.",
        per_venue(&|v| v.messages as f64),
    );
    p.all(
        "mako_venue_resyncs_total",
        "counter",
        "Book resynchronisations per venue.",
        per_venue(&|v| v.resyncs as f64),
    );
    p.all(
        "mako_venue_reconnects_total",
        "counter",
        "Reconnections per venue.",
        per_venue(&|v| v.reconnects as f64),
    );
    p.family(
        "mako_venue_connected",
        "gauge",
        "1 when the venue's connection is up, per stream (market_data, orders).",
    );
    for (n, v) in &venues {
        p.sample(
            "mako_venue_connected",
            &[("venue", n), ("stream", "market_data")],
            f64::from(u8::from(v.market_data_up)),
        );
        p.sample(
            "mako_venue_connected",
            &[("venue", n), ("stream", "orders")],
            f64::from(u8::from(v.orders_up)),
        );
    }
    p.family(
        "mako_orders",
        "gauge",
        "Orders the gateway holds, by venue and state.",
    );
    for (n, v) in &venues {
        for (st, count) in ORDER_STATES.iter().zip(v.orders_by_state) {
            p.sample(
                "mako_orders",
                &[("venue", n), ("state", st.as_str())],
                count as f64,
            );
        }
    }
    p.all(
        "mako_fills_total",
        "counter",
        "Fills per venue.",
        per_venue(&|v| v.fills as f64),
    );
    p.all(
        "mako_venue_rejects_total",
        "counter",
        "Orders the venue rejected, per venue.",
        per_venue(&|v| v.venue_rejects as f64),
    );

    let risk = state.risk();
    p.all(
        "mako_risk_rejections_total",
        "counter",
        "Orders refused by pre-trade risk, per rule.",
        Rule::ALL.iter().map(|rule| {
            (
                vec![("rule", rule.as_str())],
                risk.map_or(0, |r| r.rejections[*rule as usize]) as f64,
            )
        }),
    );
    p.all(
        "mako_kill_switch",
        "gauge",
        "1 while the kill switch is tripped.",
        [(
            vec![],
            f64::from(u8::from(risk.is_some_and(|r| r.kill_switch))),
        )],
    );
    p.all(
        "mako_daily_pnl",
        "gauge",
        "Today's PnL over all strategies, quote units.",
        [(vec![], risk.map_or(0.0, |r| r.daily_pnl))],
    );
    p.all(
        "mako_trades_today",
        "gauge",
        "Fills today over all strategies.",
        [(vec![], risk.map_or(0, |r| r.trades_today) as f64)],
    );

    let strategies: Vec<_> = state.strategy_views().collect();
    let per_strategy = |f: &dyn Fn(&super::snapshot::StrategyUpdate) -> f64| {
        strategies
            .iter()
            .map(|(n, s)| (vec![("strategy", *n)], s.map_or(0.0, f)))
            .collect::<Vec<_>>()
    };
    p.all(
        "mako_strategy_position",
        "gauge",
        "Base-asset position per strategy.",
        per_strategy(&|s| s.position.to_f64()),
    );
    p.all(
        "mako_strategy_pnl",
        "gauge",
        "Realized plus unrealized PnL net of fees per strategy, quote units.",
        per_strategy(&|s| s.total_pnl),
    );
    p.all(
        "mako_strategy_trades",
        "gauge",
        "Fills today per strategy.",
        per_strategy(&|s| s.trades as f64),
    );
    p.all(
        "mako_strategy_open_orders",
        "gauge",
        "Open orders per strategy.",
        per_strategy(&|s| f64::from(s.open_orders)),
    );
    p.all(
        "mako_strategy_paused",
        "gauge",
        "1 while the operator has paused the strategy.",
        per_strategy(&|s| f64::from(u8::from(s.state == super::snapshot::StrategyState::Paused))),
    );

    p.all(
        "mako_queue_depth",
        "gauge",
        "Messages waiting per channel.",
        r.queues
            .iter()
            .map(|q| (vec![("queue", q.name)], q.depth as f64)),
    );
    p.all(
        "mako_queue_capacity",
        "gauge",
        "Capacity per channel.",
        r.queues
            .iter()
            .map(|q| (vec![("queue", q.name)], q.capacity as f64)),
    );
    p.all(
        "mako_queue_sent_total",
        "counter",
        "Messages queued per channel.",
        r.queues
            .iter()
            .map(|q| (vec![("queue", q.name)], q.sent as f64)),
    );
    p.all(
        "mako_queue_dropped_total",
        "counter",
        "Messages dropped or conflated per channel (telemetry only).",
        r.queues
            .iter()
            .map(|q| (vec![("queue", q.name)], q.dropped as f64)),
    );
    p.all(
        "mako_queue_full_total",
        "counter",
        "Times a never-drop channel was found full.",
        r.queues
            .iter()
            .map(|q| (vec![("queue", q.name)], q.full as f64)),
    );
    p.all(
        "mako_status_updates_dropped_total",
        "counter",
        "Status updates dropped because the status inbox was full.",
        [(vec![], r.updates_dropped as f64)],
    );
    p.all(
        "mako_host_work_total",
        "counter",
        "Units of work done per host thread.",
        r.hosts
            .iter()
            .map(|(n, h)| (vec![("host", *n)], h.work.load(Ordering::Relaxed) as f64)),
    );

    if let Some(c) = &r.persist {
        let one = |p: &mut Prom, name: &str, kind: &str, help: &str, v: u64| {
            p.all(name, kind, help, [(vec![], v as f64)]);
        };
        one(
            &mut p,
            "mako_persist_records_total",
            "counter",
            "Must-keep records committed.",
            c.records_committed,
        );
        one(
            &mut p,
            "mako_persist_telemetry_total",
            "counter",
            "Telemetry records committed.",
            c.telemetry_committed,
        );
        one(
            &mut p,
            "mako_persist_batches_total",
            "counter",
            "Transactions committed.",
            c.batches,
        );
        one(
            &mut p,
            "mako_persist_commit_errors_total",
            "counter",
            "Failed commits (batch kept, retried).",
            c.commit_errors,
        );
        one(
            &mut p,
            "mako_persist_queue_depth",
            "gauge",
            "Must-keep records waiting for the writer.",
            c.queue_depth,
        );
        one(
            &mut p,
            "mako_persist_backlog",
            "gauge",
            "Must-keep records held by producers while the queue is full.",
            c.backlog,
        );
        one(
            &mut p,
            "mako_persist_orders_refused_total",
            "counter",
            "New orders refused because persistence was behind.",
            c.orders_refused,
        );
        one(
            &mut p,
            "mako_persist_telemetry_dropped_total",
            "counter",
            "Telemetry records dropped at a full queue.",
            c.telemetry_dropped,
        );
    }
    if let Some(n) = &r.notify {
        p.all(
            "mako_notify_messages_total",
            "counter",
            "Notification messages by outcome.",
            [
                (vec![("outcome", "sent")], n.sent as f64),
                (vec![("outcome", "failed")], n.failed as f64),
                (vec![("outcome", "retried")], n.retries as f64),
            ],
        );
        p.all(
            "mako_notify_dropped_total",
            "counter",
            "Notices dropped (inbox full or batch over its line limit).",
            [(vec![], n.dropped as f64)],
        );
    }

    if let Some(l) = &r.latency {
        p.all(
            "mako_band",
            "gauge",
            "Current latency band index per venue (0 is the best).",
            l.bands
                .iter()
                .map(|b| (vec![("venue", b.venue_name.as_str())], f64::from(b.band))),
        );
        p.family(
            "mako_latency_seconds",
            "summary",
            "Latency per venue and measurement over the monitor's rolling window.",
        );
        for m in &l.summaries {
            let venue = s.venues.get(m.venue.index()).map_or("?", String::as_str);
            let meas = m.measurement.as_str();
            let w = &m.window;
            for (q, v) in [
                ("0.5", w.p50),
                ("0.9", w.p90),
                ("0.99", w.p99),
                ("0.999", w.p999),
            ] {
                p.sample(
                    "mako_latency_seconds",
                    &[("venue", venue), ("measurement", meas), ("quantile", q)],
                    v as f64 / 1e9,
                );
            }
            p.sample(
                "mako_latency_seconds_sum",
                &[("venue", venue), ("measurement", meas)],
                w.mean * w.count as f64 / 1e9,
            );
            p.sample(
                "mako_latency_seconds_count",
                &[("venue", venue), ("measurement", meas)],
                w.count as f64,
            );
        }
    }
    p.out
}
