//! The run's report: `report.json` (figures), `report.md` (the same for people, with the
//! plots), `fills.csv` (every fill, mode `backtest`), `equity.csv` (the per-minute samples)
//! and the SVG plots (`equity.svg`, `price.svg`, `position.svg`, see `plot`). Everything but
//! `wall_seconds` and `events_per_second` is a function of the inputs and the seed; those two
//! are the only figures that depend on the machine.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::engine::round_trips::RoundTrips;
use crate::types::{Notional, Qty, Side};

use super::driver::{Run, SAMPLE_NS};

const MINUTES_PER_YEAR: f64 = 525_600.0;
const DAYS_PER_YEAR: f64 = 365.0;
const NS_PER_DAY: u64 = 86_400_000_000_000;

/// Figures derived from a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub pnl_total: f64,
    pub round_trips: u64,
    pub wins: u64,
    pub round_trip_pnl: f64,
    pub max_drawdown: f64,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub sharpe_daily: Option<f64>,
    pub sortino_daily: Option<f64>,
    pub fill_ratio: Option<f64>,
    pub time_in_market: f64,
    pub max_inventory: f64,
    pub maker_fills: u64,
    pub volume_quote: f64,
}

/// Sharpe and Sortino of `returns`, annualised by `per_year` periods; `None` with fewer than
/// two returns or no spread.
fn ratios(returns: &[f64], per_year: f64) -> (Option<f64>, Option<f64>) {
    if returns.len() < 2 {
        return (None, None);
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let down = returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n;
    let sharpe = (var > 0.0).then(|| mean / var.sqrt() * per_year.sqrt());
    let sortino = (down > 0.0).then(|| mean / down.sqrt() * per_year.sqrt());
    (sharpe, sortino)
}

pub fn figures(run: &Run) -> Figures {
    let pnl_total = run.realised + run.unrealised - run.fees - run.funding.unwrap_or(0.0);
    let mut trips = RoundTrips::default();
    let (mut n_trips, mut wins, mut trip_pnl) = (0u64, 0u64, 0.0);
    for f in &run.fills {
        let quote = Notional::of(f.price, f.qty);
        if let Some(t) = trips.apply(
            f.strategy,
            f.instrument,
            f.side,
            f.qty,
            quote,
            Qty::from_units(f.fee),
            f.at,
        ) {
            n_trips += 1;
            let net = t.pnl.to_f64() - t.quote_fees.to_f64();
            trip_pnl += net;
            if net > 0.0 {
                wins += 1;
            }
        }
    }
    // Drawdown and returns over the equity samples (per minute of recording time).
    let (mut peak, mut max_dd) = (0.0f64, 0.0f64);
    for s in &run.samples {
        peak = peak.max(s.equity);
        max_dd = max_dd.max(peak - s.equity);
    }
    let minute: Vec<f64> = run
        .samples
        .windows(2)
        .map(|w| w[1].equity - w[0].equity)
        .collect();
    let (sharpe, sortino) = ratios(&minute, MINUTES_PER_YEAR);
    let mut daily = Vec::new();
    let mut day_start: Option<(u64, f64)> = None;
    for s in &run.samples {
        let day = s.at.0 / NS_PER_DAY;
        match day_start {
            Some((d, e)) if d != day => {
                daily.push(s.equity - e);
                day_start = Some((day, s.equity));
            }
            None => day_start = Some((day, s.equity)),
            _ => {}
        }
    }
    let (sharpe_daily, sortino_daily) = ratios(&daily, DAYS_PER_YEAR);
    // Time in market and inventory from the fills, exactly.
    let (mut pos, mut since, mut in_market, mut max_inv) = (0i64, run.first.0, 0u64, 0i64);
    for f in &run.fills {
        if pos != 0 {
            in_market += f.at.0.saturating_sub(since);
        }
        since = f.at.0;
        pos += f.qty.units() * f.side.sign();
        max_inv = max_inv.max(pos.abs());
    }
    if pos != 0 {
        in_market += run.last.0.saturating_sub(since);
    }
    let span = run.last.0.saturating_sub(run.first.0);
    let filled_orders = {
        let mut cids: Vec<_> = run.fills.iter().map(|f| f.cid).collect();
        cids.sort_by_key(|c| c.to_string());
        cids.dedup();
        cids.len() as u64
    };
    Figures {
        pnl_total,
        round_trips: n_trips,
        wins,
        round_trip_pnl: trip_pnl,
        max_drawdown: max_dd,
        sharpe,
        sortino,
        sharpe_daily,
        sortino_daily,
        fill_ratio: (run.counts.orders_sent > 0)
            .then(|| filled_orders as f64 / run.counts.orders_sent as f64),
        time_in_market: if span > 0 {
            in_market as f64 / span as f64
        } else {
            0.0
        },
        max_inventory: max_inv as f64 / 1e8,
        maker_fills: run.fills.iter().filter(|f| f.maker).count() as u64,
        volume_quote: run
            .fills
            .iter()
            .map(|f| Notional::of(f.price, f.qty).to_f64())
            .sum(),
    }
}

/// Rounds for the report: figures printed with a fixed number of decimals, so that two runs
/// on different machines print the same text.
fn r(v: f64, decimals: i32) -> Value {
    if !v.is_finite() {
        return Value::Null;
    }
    let k = 10f64.powi(decimals);
    json!((v * k).round() / k)
}

fn opt(v: Option<f64>, decimals: i32) -> Value {
    v.map_or(Value::Null, |v| r(v, decimals))
}

/// The report as JSON. `wall_seconds` and `events_per_second` are the machine's.
pub fn to_json(run: &Run, f: &Figures, wall_seconds: f64) -> Value {
    let span_s = run.last.0.saturating_sub(run.first.0) as f64 / 1e9;
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("mode", json!("backtest"));
    put("venue", json!(run.venue));
    put("instruments", json!(run.instruments));
    put("strategies", json!(run.strategies));
    put(
        "recordings",
        json!(
            run.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        ),
    );
    put("from_ns", json!(run.first.0));
    put("to_ns", json!(run.last.0));
    put("recording_seconds", json!(r(span_s, 3)));
    put("events", json!(run.events));
    put("malformed_lines", json!(run.malformed_lines));
    put("wall_seconds", json!(r(wall_seconds, 6)));
    put(
        "events_per_second",
        json!(r(
            if wall_seconds > 0.0 {
                run.events as f64 / wall_seconds
            } else {
                0.0
            },
            0
        )),
    );
    put("latency_model", json!(run.latency_kind));
    put("latency", json!(run.latency_model));
    put("queue_model", json!(run.queue_model));
    put("seed", json!(run.seed));
    put("pnl_total", json!(r(f.pnl_total, 8)));
    put("pnl_realised", json!(r(run.realised, 8)));
    put("pnl_unrealised", json!(r(run.unrealised, 8)));
    put("fees", json!(r(run.fees, 8)));
    put("funding", opt(run.funding, 8));
    if run.funding.is_some() {
        let (recorded, configured, skipped) = run.funding_counts;
        put("funding_payments", json!(run.funding_rows.len()));
        put("funding_at_recorded_rate", json!(recorded));
        put("funding_at_configured_rate", json!(configured));
        put("funding_times_unpaid", json!(skipped));
    }
    put("trades", json!(run.fills.len()));
    put("maker_fills", json!(f.maker_fills));
    put("volume_quote", json!(r(f.volume_quote, 8)));
    put("round_trips", json!(f.round_trips));
    put("round_trip_pnl_net", json!(r(f.round_trip_pnl, 8)));
    put(
        "win_rate",
        json!(if f.round_trips > 0 {
            r(f.wins as f64 / f.round_trips as f64, 6)
        } else {
            Value::Null
        }),
    );
    put("max_drawdown", json!(r(f.max_drawdown, 8)));
    put("sharpe", json!(opt(f.sharpe, 4)));
    put("sortino", json!(opt(f.sortino, 4)));
    put("sharpe_daily", json!(opt(f.sharpe_daily, 4)));
    put("sortino_daily", json!(opt(f.sortino_daily, 4)));
    put(
        "returns",
        json!(
            "per-minute (and per-day) changes of equity in quote units, annualised; daily figures need two days or more"
        ),
    );
    put("fill_ratio", json!(opt(f.fill_ratio, 6)));
    put("time_in_market", json!(r(f.time_in_market, 6)));
    put("final_position", json!(r(run.final_position, 8)));
    put("max_inventory", json!(r(f.max_inventory, 8)));
    put("last_mid", json!(opt(run.last_mid, 8)));
    put("orders_sent", json!(run.counts.orders_sent));
    put("orders_refused", json!(run.counts.refused));
    put("refusals", json!(run.refusals));
    put("cancels_sent", json!(run.counts.cancels_sent));
    put("orders_filled", json!(run.counts.filled));
    put("orders_cancelled", json!(run.counts.cancelled));
    put("orders_expired", json!(run.counts.expired));
    put("venue_rejects", json!(run.counts.venue_rejects));
    put("anomalies", json!(run.counts.anomalies));
    put("open_at_end", json!(run.open_at_end));
    put("sample_seconds", json!(SAMPLE_NS / 1_000_000_000));
    Value::Object(m)
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// Every fill, mode `backtest`.
pub fn fills_csv(run: &Run) -> String {
    let mut s = String::from("mode,time_ns,strategy,cid,side,price,qty,fee_quote,liquidity\n");
    for f in &run.fills {
        let _ = writeln!(
            s,
            "backtest,{},{},{},{},{},{},{},{}",
            f.at.0,
            run.strategies
                .get(f.strategy.index())
                .map_or("?", String::as_str),
            f.cid,
            side(f.side),
            f.price,
            f.qty,
            Qty::from_units(f.fee),
            if f.maker { "maker" } else { "taker" }
        );
    }
    s
}

/// The samples: equity, position and mid per minute of recording time.
pub fn equity_csv(run: &Run) -> String {
    let mut s = String::from("time_ns,equity_quote,position_base,mid\n");
    for x in &run.samples {
        let _ = writeln!(
            s,
            "{},{:.8},{:.8},{:.8}",
            x.at.0, x.equity, x.position, x.mid
        );
    }
    s
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "n/a".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The report for people.
pub fn to_markdown(j: &Value) -> String {
    let mut s = String::new();
    let g = |k: &str| show(&j[k]);
    let _ = writeln!(s, "# Backtest report (mode: backtest, simulated fills)\n");
    let _ = writeln!(
        s,
        "Strategies {} on {} ({}), recordings {}.\n",
        g("strategies"),
        g("venue"),
        g("instruments"),
        g("recordings")
    );
    let _ = writeln!(
        s,
        "- Events replayed: {} over {} s of recording ({} malformed lines); {} events/s on this machine ({} s wall).",
        g("events"),
        g("recording_seconds"),
        g("malformed_lines"),
        g("events_per_second"),
        g("wall_seconds")
    );
    let _ = writeln!(s, "- Latency model: {}.", g("latency"));
    let _ = writeln!(s, "- Queue model: {}.", g("queue_model"));
    let _ = writeln!(s, "- Seed: {}.\n", g("seed"));
    let _ = writeln!(s, "| figure | value |\n|---|---|");
    for k in [
        "pnl_total",
        "pnl_realised",
        "pnl_unrealised",
        "fees",
        "funding",
        "trades",
        "maker_fills",
        "volume_quote",
        "round_trips",
        "round_trip_pnl_net",
        "win_rate",
        "max_drawdown",
        "sharpe",
        "sortino",
        "sharpe_daily",
        "sortino_daily",
        "fill_ratio",
        "time_in_market",
        "final_position",
        "max_inventory",
        "orders_sent",
        "orders_refused",
        "refusals",
        "cancels_sent",
        "orders_filled",
        "orders_cancelled",
        "orders_expired",
        "venue_rejects",
        "open_at_end",
    ] {
        let _ = writeln!(s, "| {k} | {} |", g(k));
    }
    let _ = writeln!(
        s,
        "\nPnL in the quote asset: realised before fees, unrealised at the last mid, fees paid in quote. Sharpe and Sortino: {}.",
        g("returns")
    );
    let _ = writeln!(
        s,
        "Every fill is simulated (`fills.csv`, mode `backtest`); `equity.csv` holds equity, position and mid per minute."
    );
    let _ = writeln!(
        s,
        "\n## Plots\n\n![equity and drawdown](equity.svg)\n\n![mid price and fills](price.svg)\n\n![position](position.svg)"
    );
    s
}

/// Writes `report.json`, `report.md`, `fills.csv` and `equity.csv` into `dir`.
pub fn write(dir: &Path, run: &Run, wall_seconds: f64) -> Result<Value, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let f = figures(run);
    let j = to_json(run, &f, wall_seconds);
    let put = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut text = serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?;
    text.push('\n');
    put("report.json", text)?;
    put("report.md", to_markdown(&j))?;
    put("fills.csv", fills_csv(run))?;
    put("equity.csv", equity_csv(run))?;
    for (name, svg) in super::plot::all(run) {
        put(name, svg)?;
    }
    Ok(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_need_two_returns_and_spread() {
        assert_eq!(ratios(&[1.0], 1.0), (None, None));
        assert_eq!(ratios(&[1.0, 1.0], 1.0), (None, None));
        let (sh, so) = ratios(&[1.0, -1.0, 2.0, 2.0], 1.0);
        // mean 1, sample sd sqrt(2), downside sqrt(1/4).
        assert!((sh.unwrap() - 1.0 / 2f64.sqrt()).abs() < 1e-12);
        assert!((so.unwrap() - 2.0).abs() < 1e-12);
    }
}
