//! The status actor's in-memory picture of the engine, merged from updates, and its JSON
//! renderings (`/status`, `/orders`, `/trades`, `/latency`). Every document carries the run
//! id and the mode.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::config::{Config, Mode};
use crate::latency::LatencySnapshot;
use crate::latency::monitor::Stats;
use crate::notify::NotifyCounters;
use crate::persist::{FillRecord, PersistCounters};
use crate::risk::Rule;
use crate::runtime::HostStats;
use crate::types::Order;
use crate::types::{ClientOrderId, InstrumentId, Notional, Price, StrategyId, UnixNanos, VenueId};

mod activity;
mod render;
use render::{avg_price, latency_json, notify_json, notional_str, persist_json};
mod instruments;
mod strategy;

use super::snapshot::{
    ConnState, ORDER_STATES, QuoteLevel, RiskUpdate, StatusUpdate, StrategyRiskUpdate,
    StrategyUpdate, VenueUpdate,
};

/// Recent orders and trades kept for `/orders`, `/trades` and the dashboard.
pub const RECENT: usize = 100;
/// Most open orders shown (the count is always exact).
const OPEN_SHOWN: usize = 500;

/// A strategy as the config names it.
#[derive(Debug, Clone)]
pub struct StrategyInfo {
    pub name: String,
    pub kind: String,
    pub venue: VenueId,
    pub instrument: InstrumentId,
    /// Its parameters as the config gave them at start.
    pub params: toml::Table,
}

/// Who the engine is, and the names behind the ids updates carry.
#[derive(Debug, Clone)]
pub struct StatusSetup {
    pub run_id: i64,
    pub mode: Mode,
    pub engine_name: String,
    pub started_at: UnixNanos,
    /// Indexed by `VenueId`.
    pub venues: Vec<String>,
    /// Indexed by `InstrumentId`: the venue's symbol.
    pub instruments: Vec<String>,
    /// Indexed by `StrategyId`.
    pub strategies: Vec<StrategyInfo>,
    /// Indexed by `InstrumentId`: tick, lot and limits, for `/status`' `instruments` (the
    /// dashboard's form rounds to them). Empty: `/status` lists symbols only.
    pub instrument_specs: Vec<crate::types::Instrument>,
}

impl StatusSetup {
    pub fn from_config(config: &Config, run_id: i64, started_at: UnixNanos) -> Self {
        Self {
            run_id,
            mode: config.engine.mode,
            engine_name: config.engine.name.clone(),
            started_at,
            venues: config.venues.iter().map(|v| v.name.clone()).collect(),
            instruments: config
                .instruments
                .iter()
                .map(|i| i.symbol.clone())
                .collect(),
            strategies: config
                .strategies
                .iter()
                .map(|s| StrategyInfo {
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    venue: s.venue,
                    instrument: s.instrument,
                    params: s.params.clone(),
                })
                .collect(),
            instrument_specs: config.instruments.clone(),
        }
    }

    /// The id of the strategy the config calls `name`.
    pub fn strategy_by_name(&self, name: &str) -> Option<StrategyId> {
        self.strategies
            .iter()
            .position(|s| s.name == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(StrategyId)
    }

    fn venue_name(&self, v: VenueId) -> &str {
        self.venues.get(v.index()).map_or("?", String::as_str)
    }

    fn instrument_name(&self, i: InstrumentId) -> &str {
        self.instruments.get(i.index()).map_or("?", String::as_str)
    }

    fn strategy_name(&self, s: StrategyId) -> &str {
        self.strategies
            .get(s.index())
            .map_or("?", |x| x.name.as_str())
    }
}

/// The label a person reads: live runs are plain, paper and sim runs are shouted.
pub fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "LIVE",
        Mode::Paper => "PAPER",
        Mode::Sim => "SIM",
        Mode::Backtest => "BACKTEST",
    }
}

/// One venue, merged from its feed's and its gateway's updates.
#[derive(Debug, Clone)]
struct VenueView {
    market_data: ConnState,
    orders: ConnState,
    messages: u64,
    resyncs: u64,
    reconnects: u64,
    malformed: u64,
    last_message: Option<UnixNanos>,
    books: Option<crate::status::BookCounts>,
    orders_by_state: [u64; 8],
    fills: u64,
    venue_rejects: u64,
    position_drifts: u64,
    leverage_mismatches: u64,
    /// The venue's balances as its gateway last read them.
    balances: Vec<crate::venue::order::Balance>,
}

impl Default for VenueView {
    fn default() -> Self {
        Self {
            market_data: ConnState::Connecting,
            orders: ConnState::Connecting,
            messages: 0,
            resyncs: 0,
            reconnects: 0,
            malformed: 0,
            last_message: None,
            books: None,
            orders_by_state: [0; 8],
            fills: 0,
            venue_rejects: 0,
            position_drifts: 0,
            leverage_mismatches: 0,
            balances: Vec::new(),
        }
    }
}

/// Readings taken from the other rooms' shared counters when a document is rendered.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    pub latency: Option<Arc<LatencySnapshot>>,
    pub persist: Option<PersistCounters>,
    pub notify: Option<NotifyCounters>,
    /// (name, depth, capacity, sent, dropped, full).
    pub queues: Vec<QueueReading>,
    pub hosts: Vec<(&'static str, Arc<HostStats>)>,
    /// Status updates dropped because the status inbox was full.
    pub updates_dropped: u64,
}

/// One channel's depth and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueReading {
    pub name: &'static str,
    pub depth: u64,
    pub capacity: u64,
    pub sent: u64,
    pub dropped: u64,
    pub full: u64,
}

pub use activity::{ACTIVITY_KEPT, ActivityLog, Names, names};

/// The merged picture.
#[derive(Debug)]
pub struct StatusState {
    pub setup: StatusSetup,
    pub names: Names,
    pub activity: ActivityLog,
    venues: Vec<VenueView>,
    strategies: Vec<Option<StrategyUpdate>>,
    /// Per venue: its gateway's risk figures.
    risk: Vec<Option<RiskUpdate>>,
    /// Per strategy, the latest figures of each venue it trades on.
    strategy_risk: Vec<Vec<StrategyRiskUpdate>>,
    /// Per strategy: the parameters in force and when they were last reloaded.
    params: Vec<(toml::Table, Option<UnixNanos>)>,
    /// Per strategy: its own view, if its kind has one, and when it came.
    details: Vec<Option<(serde_json::Value, UnixNanos)>>,
    open: HashMap<ClientOrderId, Order>,
    recent_orders: VecDeque<Order>,
    recent_trades: VecDeque<FillRecord>,
    fills_seen: u64,
    /// Reloads applied and refused, and the latest.
    reloads: (u64, u64, Option<crate::status::snapshot::ReloadOutcome>),
}

impl StatusState {
    pub fn new(setup: StatusSetup) -> Self {
        Self {
            venues: vec![VenueView::default(); setup.venues.len()],
            strategies: vec![None; setup.strategies.len()],
            risk: vec![None; setup.venues.len()],
            strategy_risk: vec![Vec::new(); setup.strategies.len()],
            params: setup
                .strategies
                .iter()
                .map(|s| (s.params.clone(), None))
                .collect(),
            details: vec![None; setup.strategies.len()],
            open: HashMap::new(),
            recent_orders: VecDeque::with_capacity(RECENT),
            recent_trades: VecDeque::with_capacity(RECENT),
            fills_seen: 0,
            reloads: (0, 0, None),
            names: std::sync::Arc::new(parking_lot::RwLock::new(
                setup.strategies.iter().map(|s| s.name.clone()).collect(),
            )),
            activity: ActivityLog::default(),
            setup,
        }
    }

    /// Whether strategy `i` is a vacant bot slot.
    pub fn is_vacant(&self, i: usize) -> bool {
        self.setup
            .strategies
            .get(i)
            .is_some_and(|s| s.kind == crate::config::bots::VACANT)
    }

    /// Whether strategy `i` is listed on `/status` and `/stats`: every bot, and a vacant slot
    /// only while the engine's books still give it a position or open orders (what a deleted
    /// bot's flatten left behind stays visible until it is closed).
    pub fn is_listed(&self, i: usize) -> bool {
        !self.is_vacant(i)
            || self.strategy_risk.get(i).is_some_and(|l| {
                l.iter()
                    .any(|r| r.position.units() != 0 || r.open_orders > 0)
            })
    }

    pub fn apply(&mut self, u: StatusUpdate) {
        match u {
            StatusUpdate::Venue(v) => self.apply_venue(&v),
            StatusUpdate::Strategy(s) => {
                if let Some(slot) = self.strategies.get_mut(s.strategy.index()) {
                    *slot = Some(s);
                }
            }
            StatusUpdate::Risk(r) => {
                if let Some(slot) = self.risk.get_mut(r.venue.index()) {
                    *slot = Some(r);
                }
            }
            StatusUpdate::StrategyRisk(r) => {
                if let Some(list) = self.strategy_risk.get_mut(r.strategy.index()) {
                    match list.iter_mut().find(|x| x.venue == r.venue) {
                        Some(x) => *x = r,
                        None => list.push(r),
                    }
                }
            }
            StatusUpdate::Detail {
                strategy,
                detail,
                at,
            } => {
                if let Some(slot) = self.details.get_mut(strategy.index()) {
                    *slot = Some((detail, at));
                }
            }
            StatusUpdate::Params {
                strategy,
                params,
                at,
            } => {
                if let Some(slot) = self.params.get_mut(strategy.index()) {
                    *slot = (params, Some(at));
                }
            }
            StatusUpdate::Order(o) => {
                if o.status.is_final() {
                    self.open.remove(&o.cid);
                } else {
                    self.open.insert(o.cid, o.clone());
                }
                if let Some(pos) = self.recent_orders.iter().position(|x| x.cid == o.cid) {
                    self.recent_orders.remove(pos);
                }
                if self.recent_orders.len() == RECENT {
                    self.recent_orders.pop_front();
                }
                self.recent_orders.push_back(o);
            }
            StatusUpdate::Fill(f) => {
                self.fills_seen += 1;
                if self.recent_trades.len() == RECENT {
                    self.recent_trades.pop_front();
                }
                self.recent_trades.push_back(f);
            }
            StatusUpdate::Bot {
                strategy,
                name,
                kind,
                params,
            } => {
                let i = strategy.index();
                if let Some(info) = self.setup.strategies.get_mut(i) {
                    if info.name != name || info.kind != kind {
                        // Another bot in the slot: its figures start afresh. A slot made
                        // vacant keeps the engine's books' last figures (a position the
                        // flatten has not closed yet lists it) until the gateway's next.
                        self.strategies[i] = None;
                        if kind != crate::config::bots::VACANT {
                            self.strategy_risk[i].clear();
                        }
                        self.details[i] = None;
                    }
                    info.name.clone_from(&name);
                    info.kind = kind;
                    info.params = params.clone();
                    self.params[i] = (params, None);
                    if let Some(n) = self.names.write().get_mut(i) {
                        *n = name;
                    }
                }
            }
            StatusUpdate::Activity(row) => self.activity.push(row),
            StatusUpdate::Reload(r) => {
                if r.refused.is_none() {
                    self.reloads.0 += 1;
                } else {
                    self.reloads.1 += 1;
                }
                self.reloads.2 = Some(r);
            }
        }
    }

    fn apply_venue(&mut self, u: &VenueUpdate) {
        let Some(v) = self.venues.get_mut(u.venue.index()) else {
            return;
        };
        if let Some(s) = u.market_data {
            v.market_data = s;
        }
        if let Some(s) = u.orders {
            v.orders = s;
        }
        v.messages = u.messages.unwrap_or(v.messages);
        v.resyncs = u.resyncs.unwrap_or(v.resyncs);
        v.reconnects = u.reconnects.unwrap_or(v.reconnects);
        v.malformed = u.malformed.unwrap_or(v.malformed);
        v.last_message = u.last_message.or(v.last_message);
        v.books = u.books.or(v.books);
        v.orders_by_state = u.orders_by_state.unwrap_or(v.orders_by_state);
        v.fills = u.fills.unwrap_or(v.fills);
        v.venue_rejects = u.venue_rejects.unwrap_or(v.venue_rejects);
        v.position_drifts = u.position_drifts.unwrap_or(v.position_drifts);
        v.leverage_mismatches = u.leverage_mismatches.unwrap_or(v.leverage_mismatches);
        if let Some(b) = &u.balances {
            v.balances.clone_from(b);
        }
    }

    pub fn open_orders(&self) -> usize {
        self.open.len()
    }

    fn header(&self, now: UnixNanos) -> serde_json::Map<String, Value> {
        let s = &self.setup;
        let mut m = serde_json::Map::new();
        m.insert("run_id".into(), json!(s.run_id));
        m.insert("mode".into(), json!(s.mode.as_str()));
        m.insert("mode_label".into(), json!(mode_label(s.mode)));
        m.insert("engine".into(), json!(s.engine_name));
        m.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
        m.insert("started_at_ns".into(), json!(s.started_at.0));
        m.insert("generated_at_ns".into(), json!(now.0));
        m.insert(
            "uptime_s".into(),
            json!(now.since(s.started_at) as f64 / 1e9),
        );
        m
    }

    /// `GET /status`.
    pub fn status_json(&self, now: UnixNanos, r: &Readings) -> Value {
        let mut m = self.header(now);
        m.insert("venues".into(), self.venues_json(r));
        m.insert(
            "strategies".into(),
            Value::Array(
                (0..self.setup.strategies.len())
                    .filter(|i| self.is_listed(*i))
                    .map(|i| self.strategy_json(i))
                    .collect(),
            ),
        );
        m.insert("instruments".into(), self.instruments_json());
        m.insert("risk".into(), self.risk_json());
        let (applied, refused, last) = &self.reloads;
        m.insert(
            "reloads".into(),
            json!({
                "applied": applied,
                "refused": refused,
                "last": last.as_ref().map(|r| json!({
                    "source": r.source,
                    "applied": r.refused.is_none(),
                    "error": r.refused,
                    "at_ns": r.at.0,
                })),
            }),
        );
        m.insert("open_orders_count".into(), json!(self.open.len()));
        m.insert("open_orders".into(), self.open_orders_json());
        m.insert(
            "recent_trades".into(),
            Value::Array(
                self.recent_trades
                    .iter()
                    .rev()
                    .map(|f| self.fill_json(f))
                    .collect(),
            ),
        );
        m.insert(
            "latency".into(),
            latency_json(&self.setup, r.latency.as_deref()),
        );
        m.insert("persistence".into(), persist_json(r.persist.as_ref()));
        m.insert("notifications".into(), notify_json(r.notify.as_ref()));
        m.insert(
            "queues".into(),
            Value::Array(
                r.queues
                    .iter()
                    .map(|q| {
                        json!({"name": q.name, "depth": q.depth, "capacity": q.capacity,
                               "sent": q.sent, "dropped": q.dropped, "full": q.full})
                    })
                    .collect(),
            ),
        );
        m.insert(
            "hosts".into(),
            Value::Array(
                r.hosts
                    .iter()
                    .map(|(name, h)| {
                        json!({"name": name,
                               "passes": h.passes.load(Ordering::Relaxed),
                               "busy_passes": h.busy_passes.load(Ordering::Relaxed),
                               "work": h.work.load(Ordering::Relaxed)})
                    })
                    .collect(),
            ),
        );
        m.insert("status_updates_dropped".into(), json!(r.updates_dropped));
        Value::Object(m)
    }

    fn venues_json(&self, r: &Readings) -> Value {
        let bands = r.latency.as_ref().map(|l| &l.bands);
        Value::Array(
            self.venues
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let band = bands.and_then(|b| b.iter().find(|b| b.venue.index() == i));
                    let by_state: serde_json::Map<String, Value> = ORDER_STATES
                        .iter()
                        .zip(v.orders_by_state)
                        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
                        .collect();
                    json!({
                        "id": i,
                        "name": self.setup.venues[i],
                        "market_data": v.market_data.as_str(),
                        "orders": v.orders.as_str(),
                        "messages": v.messages,
                        "resyncs": v.resyncs,
                        "reconnects": v.reconnects,
                        "malformed": v.malformed,
                        "last_message_ns": v.last_message.map(|t| t.0),
                        "books": v.books.map(|b| json!({
                            "live": b.live,
                            "instruments": b.instruments,
                            "snapshot_requests": b.snapshot_requests,
                            "snapshots_applied": b.snapshots_applied,
                            "snapshot_failures": b.snapshot_failures,
                            "gaps": b.gaps,
                            "publishes": b.publishes,
                            "invalidations": b.invalidations,
                        })),
                        "band": band.map(|b| b.band_name.as_str()),
                        "band_measurement": band.and_then(|b| b.measurement).map(|m| m.as_str()),
                        "band_statistic_ns": band.and_then(|b| b.statistic_ns),
                        "orders_by_state": by_state,
                        "fills": v.fills,
                        "venue_rejects": v.venue_rejects,
                        "position_drifts": v.position_drifts,
                        "leverage_mismatches": v.leverage_mismatches,
                        "balances": v.balances.iter().map(|b| json!({
                            "asset": b.asset.as_str(),
                            "free": b.free.to_string(),
                            "locked": b.locked.to_string(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    }

    fn risk_json(&self) -> Value {
        let rejections = |r: Option<&RiskUpdate>| -> serde_json::Map<String, Value> {
            Rule::ALL
                .iter()
                .map(|rule| {
                    let n = r.map_or(0, |r| r.rejections[*rule as usize]);
                    (rule.as_str().to_string(), json!(n))
                })
                .collect()
        };
        match &self.risk() {
            Some(r) => json!({
                "daily_pnl": r.daily_pnl,
                "trades_today": r.trades_today,
                "kill_switch": r.kill_switch,
                "kill_reason": r.kill_reason.as_str(),
                "rejections": rejections(Some(r)),
                "updated_at_ns": r.at.0,
            }),
            None => json!({
                "daily_pnl": 0.0,
                "trades_today": 0,
                "kill_switch": false,
                "kill_reason": "none",
                "rejections": rejections(None),
                "updated_at_ns": null,
            }),
        }
    }

    fn open_orders_json(&self) -> Value {
        let mut open: Vec<&Order> = self.open.values().collect();
        open.sort_by_key(|o| (o.created_at, o.cid.as_str().to_string()));
        Value::Array(
            open.iter()
                .take(OPEN_SHOWN)
                .map(|o| self.order_json(o))
                .collect(),
        )
    }

    pub fn order_json(&self, o: &Order) -> Value {
        json!({
            "cid": o.cid.as_str(),
            "strategy": self.setup.strategy_name(o.strategy),
            "instrument": self.setup.instrument_name(o.instrument),
            "side": o.side.to_string(),
            "kind": crate::persist::store::kind_str(o.kind),
            "price": o.price.to_string(),
            "qty": o.qty.to_string(),
            "status": o.status.as_str(),
            "filled_qty": o.filled_qty.to_string(),
            "avg_price": o.avg_price(),
            "venue_order_id": o.venue_order_id,
            "cancel_pending": o.cancel_pending,
            "created_at_ns": o.created_at.0,
            "updated_at_ns": o.updated_at.0,
        })
    }

    pub fn fill_json(&self, f: &FillRecord) -> Value {
        json!({
            "cid": f.cid.as_str(),
            "strategy": self.setup.strategy_name(f.strategy),
            "instrument": self.setup.instrument_name(f.instrument),
            "side": f.fill.side.to_string(),
            "qty": f.fill.qty.to_string(),
            "price": avg_price(f.fill.quote, f.fill.qty),
            "quote": notional_str(f.fill.quote),
            "fee": f.fill.fee.to_string(),
            "fee_asset": f.fill.fee_asset.as_str(),
            "is_maker": f.fill.is_maker,
            "trade_id": f.fill.trade_id,
            "at_ns": f.at.0,
        })
    }

    /// `GET /orders`.
    pub fn orders_json(&self, now: UnixNanos) -> Value {
        let mut m = self.header(now);
        m.insert("open_count".into(), json!(self.open.len()));
        m.insert("open".into(), self.open_orders_json());
        m.insert(
            "recent".into(),
            Value::Array(
                self.recent_orders
                    .iter()
                    .rev()
                    .map(|o| self.order_json(o))
                    .collect(),
            ),
        );
        Value::Object(m)
    }

    /// `GET /trades`.
    pub fn trades_json(&self, now: UnixNanos) -> Value {
        let mut m = self.header(now);
        m.insert("fills_seen".into(), json!(self.fills_seen));
        m.insert(
            "trades".into(),
            Value::Array(
                self.recent_trades
                    .iter()
                    .rev()
                    .map(|f| self.fill_json(f))
                    .collect(),
            ),
        );
        Value::Object(m)
    }

    /// `GET /latency`.
    pub fn latency_doc(&self, now: UnixNanos, r: &Readings) -> Value {
        let mut m = self.header(now);
        m.insert(
            "latency".into(),
            latency_json(&self.setup, r.latency.as_deref()),
        );
        Value::Object(m)
    }

    pub(crate) fn venue_views(&self) -> impl Iterator<Item = (&str, VenueReading)> + '_ {
        self.venues.iter().enumerate().map(|(i, v)| {
            (
                self.setup.venues[i].as_str(),
                VenueReading {
                    market_data_up: v.market_data == ConnState::Connected,
                    orders_up: v.orders == ConnState::Connected,
                    messages: v.messages,
                    resyncs: v.resyncs,
                    reconnects: v.reconnects,
                    orders_by_state: v.orders_by_state,
                    fills: v.fills,
                    venue_rejects: v.venue_rejects,
                },
            )
        })
    }

    pub(crate) fn strategy_views(
        &self,
    ) -> impl Iterator<Item = (&str, Option<&StrategyUpdate>)> + '_ {
        self.setup
            .strategies
            .iter()
            .zip(self.strategies.iter())
            .map(|(i, s)| (i.name.as_str(), s.as_ref()))
    }

    /// Every venue's risk figures summed; the kill switch is shared, so any venue that saw
    /// it tripped speaks for all.
    pub(crate) fn risk(&self) -> Option<RiskUpdate> {
        let mut all = self.risk.iter().flatten();
        let mut sum = *all.next()?;
        for r in all {
            sum.daily_pnl += r.daily_pnl;
            sum.trades_today += r.trades_today;
            if r.kill_switch && !sum.kill_switch {
                sum.kill_switch = true;
                sum.kill_reason = r.kill_reason;
            }
            for (a, b) in sum.rejections.iter_mut().zip(r.rejections) {
                *a += b;
            }
            sum.at = sum.at.max(r.at);
        }
        Some(sum)
    }
}

/// What the metrics page needs of one venue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VenueReading {
    pub market_data_up: bool,
    pub orders_up: bool,
    pub messages: u64,
    pub resyncs: u64,
    pub reconnects: u64,
    pub orders_by_state: [u64; 8],
    pub fills: u64,
    pub venue_rejects: u64,
}

/// A TOML value as JSON (parameters on `/status`); datetimes become their text.
fn toml_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => json!(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => json!(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notional_text_is_exact() {
        let table = [
            (0i128, "0"),
            (Notional::SCALE * 12, "12"),
            (Notional::SCALE * 12 + Notional::SCALE / 4, "12.25"),
            (-(Notional::SCALE / 2), "-0.5"),
            (1, "0.0000000000000001"),
        ];
        for (v, want) in table {
            assert_eq!(notional_str(Notional(v)), want);
        }
    }
}
