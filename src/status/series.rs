//! History for the dashboard's charts: bounded rings of time series the status actor samples
//! from the documents it renders, served as `GET /series`.
//!
//! Per strategy (by its config id): mid, its best bid and ask quote, PnL (total and
//! realized) and position, one point every `SAMPLE_EVERY`, and its fills (side, price,
//! quantity) as they arrive. Per venue and latency measurement: the window's p50 and p99,
//! one point every `SAMPLE_EVERY`. Everything is read from the `/status` and `/trades`
//! documents the actor has just built, so a strategy created at run time gets its series
//! without anything else to wire; a strategy that leaves `/status` loses its series.
//!
//! Memory is bounded: `POINTS` points and `FILLS` fills per strategy, `POINTS` points per
//! (venue, measurement), at most `MAX_STRATEGIES` strategies and `MAX_LATENCY` latency series
//! (more are not recorded, and counted). Numbers are `f64`: this is for drawing, the exact
//! figures are on `/status`, `/trades` and in the database.
//!
//! The ring sits behind a mutex shared by the status actor (one lock per render) and the
//! HTTP threads (one lock per `/series` request, held while the answer is rendered).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::types::UnixNanos;

/// One point per strategy and per latency series at most this often.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Points kept per series: 20 minutes at one a second.
pub const POINTS: usize = 1200;
/// Fills kept per strategy.
pub const FILLS: usize = 1000;
/// Strategies with a series; more are counted in `strategies_refused`.
pub const MAX_STRATEGIES: usize = 256;
/// (venue, measurement) series; more are counted in `latency_refused`.
pub const MAX_LATENCY: usize = 256;

/// A bounded queue of timestamped items, oldest first.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    cap: usize,
    items: VecDeque<T>,
}

impl<T> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            items: VecDeque::new(),
        }
    }

    /// Appends, dropping the oldest item when full.
    pub fn push(&mut self, item: T) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }
}

/// One sample of a strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyPoint {
    pub at_ms: u64,
    pub mid: Option<f64>,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub pnl: Option<f64>,
    pub realized_pnl: Option<f64>,
    pub position: Option<f64>,
}

/// One fill of a strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct FillPoint {
    pub at_ms: u64,
    /// `buy` or `sell`.
    pub side: String,
    pub price: Option<f64>,
    pub qty: Option<f64>,
}

/// One sample of a venue's latency measurement over the monitor's window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyPoint {
    pub at_ms: u64,
    pub p50_ns: Option<f64>,
    pub p99_ns: Option<f64>,
}

#[derive(Debug)]
struct StrategySeries {
    points: Ring<StrategyPoint>,
    fills: Ring<FillPoint>,
}

/// Every series, and what it could not keep.
#[derive(Debug, Default)]
pub struct SeriesStore {
    strategies: BTreeMap<String, StrategySeries>,
    /// Keyed by (venue, measurement).
    latency: BTreeMap<(String, String), Ring<LatencyPoint>>,
    last_sample_ms: Option<u64>,
    /// `/trades`' `fills_seen` at the last look: the fills since are the newest entries.
    fills_seen: Option<u64>,
    /// Fills that came and went from `/trades` between two renders (more than it lists).
    pub fills_missed: u64,
    pub strategies_refused: u64,
    pub latency_refused: u64,
}

/// The store shared by the status actor and the HTTP threads.
#[derive(Debug, Clone, Default)]
pub struct SeriesBoard(Arc<Mutex<SeriesStore>>);

impl SeriesBoard {
    /// Records what the documents just rendered show (see `SeriesStore::record`).
    pub fn record(&self, now: UnixNanos, status: &Value, trades: &Value) {
        self.0.lock().record(now, status, trades);
    }

    /// The answer to `GET /series?<query>`: (HTTP status, JSON body).
    pub fn answer(&self, query: &str) -> (u16, Value) {
        self.0.lock().answer(query)
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

fn to_ms(ns: u64) -> u64 {
    ns / 1_000_000
}

impl SeriesStore {
    /// Takes the fills `trades` (a `/trades` document) lists since the last call, and, when
    /// `SAMPLE_EVERY` has passed since the last sample, one point per strategy and latency
    /// series of `status` (a `/status` document).
    pub fn record(&mut self, now: UnixNanos, status: &Value, trades: &Value) {
        let now_ms = to_ms(now.0);
        let names: Vec<&str> = status["strategies"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["id"].as_str()).collect())
            .unwrap_or_default();
        self.strategies
            .retain(|name, _| names.contains(&name.as_str()));
        self.take_fills(trades, &names);
        let due = self
            .last_sample_ms
            .is_none_or(|t| now_ms >= t + SAMPLE_EVERY.as_millis() as u64);
        if !due {
            return;
        }
        self.last_sample_ms = Some(now_ms);
        for s in status["strategies"].as_array().into_iter().flatten() {
            let Some(name) = s["id"].as_str() else {
                continue;
            };
            let point = StrategyPoint {
                at_ms: now_ms,
                mid: num(&s["mid"]),
                bid: num(&s["quotes"]["bid"]["price"]),
                ask: num(&s["quotes"]["ask"]["price"]),
                pnl: num(&s["pnl"]),
                realized_pnl: num(&s["realized_pnl"]),
                position: num(&s["position"]),
            };
            if let Some(series) = self.strategy(name) {
                series.points.push(point);
            }
        }
        for p in status["latency"]["percentiles"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (Some(venue), Some(m)) = (p["venue"].as_str(), p["measurement"].as_str()) else {
                continue;
            };
            let key = (venue.to_owned(), m.to_owned());
            if !self.latency.contains_key(&key) && self.latency.len() >= MAX_LATENCY {
                self.latency_refused += 1;
                continue;
            }
            self.latency
                .entry(key)
                .or_insert_with(|| Ring::new(POINTS))
                .push(LatencyPoint {
                    at_ms: now_ms,
                    p50_ns: num(&p["window"]["p50_ns"]),
                    p99_ns: num(&p["window"]["p99_ns"]),
                });
        }
    }

    fn strategy(&mut self, name: &str) -> Option<&mut StrategySeries> {
        if !self.strategies.contains_key(name) {
            if self.strategies.len() >= MAX_STRATEGIES {
                self.strategies_refused += 1;
                return None;
            }
            self.strategies.insert(
                name.to_owned(),
                StrategySeries {
                    points: Ring::new(POINTS),
                    fills: Ring::new(FILLS),
                },
            );
        }
        self.strategies.get_mut(name)
    }

    /// `/trades` lists the newest fills first and counts every fill in `fills_seen`: the
    /// fills since the last look are its first (`fills_seen` − last) entries. Only fills of
    /// the strategies in `names` (those on `/status`) are kept.
    fn take_fills(&mut self, trades: &Value, names: &[&str]) {
        let Some(seen) = trades["fills_seen"].as_u64() else {
            return;
        };
        let list = trades["trades"].as_array().map_or(&[][..], Vec::as_slice);
        let new = match self.fills_seen {
            Some(before) => seen.saturating_sub(before),
            None => seen,
        };
        self.fills_seen = Some(seen);
        let shown = (new as usize).min(list.len());
        self.fills_missed += new - shown as u64;
        for f in list[..shown].iter().rev() {
            let Some(name) = f["strategy"].as_str() else {
                continue;
            };
            let fill = FillPoint {
                at_ms: to_ms(f["at_ns"].as_u64().unwrap_or(0)),
                side: f["side"].as_str().unwrap_or("?").to_owned(),
                price: num(&f["price"]),
                qty: num(&f["qty"]),
            };
            // Fills of a strategy not (or no longer) on /status are not kept.
            if names.contains(&name)
                && let Some(series) = self.strategy(name)
            {
                series.fills.push(fill);
            }
        }
    }

    /// `GET /series`: without `strategy` or `venue`, the list of series; with
    /// `strategy=<id>` that strategy's points and fills after `since=<ms>` (0: all kept);
    /// with `venue=<name>` that venue's latency series. 400 for a query it cannot read,
    /// 404 for a name it has no series of.
    pub fn answer(&self, query: &str) -> (u16, Value) {
        let q = match Query::parse(query) {
            Ok(q) => q,
            Err(e) => return (400, json!({"error": e, "status": 400})),
        };
        let common = json!({
            "sample_every_ms": SAMPLE_EVERY.as_millis() as u64,
            "points_kept": POINTS,
            "fills_kept": FILLS,
            "last_sample_ms": self.last_sample_ms,
        });
        let Value::Object(mut m) = common else {
            return (500, json!({"error": "internal", "status": 500}));
        };
        match (&q.strategy, &q.venue) {
            (Some(_), Some(_)) => {
                let e = "ask for one series: strategy or venue, not both";
                (400, json!({"error": e, "status": 400}))
            }
            (Some(name), None) => match self.strategies.get(name) {
                None => (
                    404,
                    json!({"error": "no series for this strategy", "status": 404}),
                ),
                Some(s) => {
                    m.insert("strategy".into(), json!(name));
                    m.insert("since_ms".into(), json!(q.since));
                    m.insert("points".into(), points_json(&s.points, q.since));
                    m.insert(
                        "fills".into(),
                        s.fills
                            .iter()
                            .filter(|f| f.at_ms > q.since)
                            .map(|f| {
                                json!({"at_ms": f.at_ms, "side": f.side,
                                       "price": f.price, "qty": f.qty})
                            })
                            .collect(),
                    );
                    (200, Value::Object(m))
                }
            },
            (None, Some(venue)) => {
                let series: serde_json::Map<String, Value> = self
                    .latency
                    .iter()
                    .filter(|((v, _), _)| v == venue)
                    .map(|((_, meas), ring)| (meas.clone(), latency_json(ring, q.since)))
                    .collect();
                if series.is_empty() {
                    return (
                        404,
                        json!({"error": "no latency series for this venue", "status": 404}),
                    );
                }
                m.insert("venue".into(), json!(venue));
                m.insert("since_ms".into(), json!(q.since));
                m.insert("measurements".into(), Value::Object(series));
                (200, Value::Object(m))
            }
            (None, None) => {
                let mut venues: Vec<&str> = self.latency.keys().map(|(v, _)| v.as_str()).collect();
                venues.dedup();
                m.insert(
                    "strategies".into(),
                    json!(self.strategies.keys().collect::<Vec<_>>()),
                );
                m.insert("venues".into(), json!(venues));
                m.insert("fills_missed".into(), json!(self.fills_missed));
                m.insert("strategies_refused".into(), json!(self.strategies_refused));
                m.insert("latency_refused".into(), json!(self.latency_refused));
                (200, Value::Object(m))
            }
        }
    }
}

/// Columns, as a chart takes them: `at_ms` and one array per figure (null where absent).
fn points_json(ring: &Ring<StrategyPoint>, since: u64) -> Value {
    let pts: Vec<&StrategyPoint> = ring.iter().filter(|p| p.at_ms > since).collect();
    let col = |f: fn(&StrategyPoint) -> Option<f64>| pts.iter().map(|p| f(p)).collect::<Vec<_>>();
    json!({
        "at_ms": pts.iter().map(|p| p.at_ms).collect::<Vec<_>>(),
        "mid": col(|p| p.mid),
        "bid": col(|p| p.bid),
        "ask": col(|p| p.ask),
        "pnl": col(|p| p.pnl),
        "realized_pnl": col(|p| p.realized_pnl),
        "position": col(|p| p.position),
    })
}

fn latency_json(ring: &Ring<LatencyPoint>, since: u64) -> Value {
    let pts: Vec<&LatencyPoint> = ring.iter().filter(|p| p.at_ms > since).collect();
    json!({
        "at_ms": pts.iter().map(|p| p.at_ms).collect::<Vec<_>>(),
        "p50_ns": pts.iter().map(|p| p.p50_ns).collect::<Vec<_>>(),
        "p99_ns": pts.iter().map(|p| p.p99_ns).collect::<Vec<_>>(),
    })
}

/// `/series`' query: `strategy`, `venue`, `since` (ms since the epoch; points after it).
#[derive(Debug, Default, PartialEq)]
struct Query {
    strategy: Option<String>,
    venue: Option<String>,
    since: u64,
}

impl Query {
    fn parse(query: &str) -> Result<Self, String> {
        let mut q = Query::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v).ok_or_else(|| format!("{k}: bad percent-encoding"))?;
            match k {
                "strategy" => q.strategy = Some(v),
                "venue" => q.venue = Some(v),
                "since" => {
                    q.since = v
                        .parse()
                        .map_err(|_| format!("since: not milliseconds since the epoch: {v:?}"))?;
                }
                _ => {
                    return Err(format!(
                        "unknown parameter {k:?}; use strategy, venue, since"
                    ));
                }
            }
        }
        Ok(q)
    }
}

/// `%XX` and `+` decoded; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
