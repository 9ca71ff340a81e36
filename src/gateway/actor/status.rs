//! What the gateway tells the status room: every order change and fill as it is recorded
//! (orders are plain data: sending one allocates nothing), and at the snapshot interval its
//! connection state, order counts and risk figures. The channel is `DropNewest`: status is
//! telemetry, a lost update is superseded by the next.

use crate::persist::Record;
use crate::risk::RiskEngine;
use crate::runtime::Tx;
use crate::status::{
    ConnState, ORDER_STATES, RiskUpdate, StatusUpdate, StrategyRiskUpdate, VenueUpdate,
};
use crate::types::{InstrumentId, Price, StrategyId, UnixNanos, VenueId};

use super::Gateway;
use crate::gateway::snapshot::GatewayCounters;
use crate::gateway::table::OrderTable;

/// Quote amounts at 10^-16 as `f64` (reporting edge).
fn quote_f64(v: i128) -> f64 {
    v as f64 / 1e16
}

impl<S: crate::venue::order::OrderSession, C: crate::venue::rest::RestCodec> Gateway<S, C> {
    /// Publishes orders, fills, connection state and risk figures to the status room.
    pub fn with_status(mut self, tx: Tx<StatusUpdate>) -> Self {
        self.status = Some(tx);
        self
    }

    /// Tees an order or fill record to the status room.
    pub(super) fn status_record(&self, r: &Record) {
        if let Some(tx) = &self.status {
            tee_record(tx, r);
        }
    }

    /// The venue's order side, risk totals and each of its strategies' risk figures.
    pub(super) fn publish_status(&self, now: UnixNanos) {
        let Some(tx) = &self.status else {
            return;
        };
        let conn = if self.banned {
            ConnState::Banned
        } else if (self.link.is_up() || self.polled()) && self.user_stream {
            ConnState::Connected
        } else if self.link.connects > 0 {
            ConnState::Down
        } else {
            ConnState::Connecting
        };
        publish_figures(
            tx,
            Figures {
                venue: self.venue.id,
                conn,
                table: &self.table,
                counters: &self.counters,
                risk: &self.risk,
                strategies: self.updates.iter().map(Option::is_some),
                mid: &*self.mid,
                balances: &self.balances,
            },
            now,
        );
    }
}

/// Tees an order or fill record to the status room (other records are not its business).
pub(in crate::gateway) fn tee_record(tx: &Tx<StatusUpdate>, r: &Record) {
    let u = match r {
        Record::Order(o) => StatusUpdate::Order(o.clone()),
        Record::Fill(f) => StatusUpdate::Fill(*f),
        _ => return,
    };
    let _ = tx.send(u);
}

/// What a gateway (venue or paper) publishes about itself at its snapshot interval.
pub(in crate::gateway) struct Figures<'a, S> {
    pub venue: VenueId,
    pub conn: ConnState,
    pub table: &'a OrderTable,
    pub counters: &'a GatewayCounters,
    pub risk: &'a RiskEngine,
    /// Per strategy index: whether it trades through this gateway.
    pub strategies: S,
    pub mid: &'a dyn Fn(InstrumentId) -> Option<Price>,
    /// The venue's balances as last read (none yet, or a paper venue: empty).
    pub balances: &'a [crate::venue::order::Balance],
}

/// The venue's order side, risk totals and each of its strategies' risk figures.
pub(in crate::gateway) fn publish_figures<S: Iterator<Item = bool>>(
    tx: &Tx<StatusUpdate>,
    f: Figures<'_, S>,
    now: UnixNanos,
) {
    let mut by_state = [0u64; 8];
    for o in f.table.iter() {
        if let Some(i) = ORDER_STATES.iter().position(|s| *s == o.status) {
            by_state[i] += 1;
        }
    }
    let mut v = VenueUpdate::new(f.venue, now);
    v.orders = Some(f.conn);
    v.orders_by_state = Some(by_state);
    v.fills = Some(f.counters.fills);
    v.venue_rejects = Some(f.counters.venue_rejects);
    v.position_drifts = Some(f.counters.position_drifts);
    v.leverage_mismatches = Some(f.counters.leverage_mismatches);
    v.balances = (!f.balances.is_empty()).then(|| f.balances.to_vec());
    let _ = tx.send(StatusUpdate::Venue(v));

    let mut daily = 0i128;
    let mut trades = 0u64;
    for (i, _) in f.strategies.enumerate().filter(|(_, mine)| *mine) {
        let Ok(id) = u16::try_from(i) else { break };
        let s = StrategyId(id);
        let day = f.risk.day_pnl(s, |i| (f.mid)(i));
        daily += day;
        let t = u64::from(f.risk.trades_today(s));
        trades += t;
        // The main instrument's position here; realized PnL over all its instruments here.
        let position = f.risk.position(s).map_or(0, |p| p.qty);
        let realized = quote_f64(f.risk.realized_net(s));
        let _ = tx.send(StatusUpdate::StrategyRisk(StrategyRiskUpdate {
            strategy: s,
            venue: f.venue,
            position: crate::types::Qty::from_units(position),
            realized_pnl: realized,
            day_pnl: quote_f64(day),
            trades_today: t,
            open_orders: f.risk.open_orders(s),
            perp: f
                .risk
                .perp_figures(s, f.risk.instrument_of(s).and_then(|i| (f.mid)(i))),
            at: now,
        }));
    }
    let mut rejections = [0u64; crate::risk::Rule::ALL.len()];
    for (r, n) in f.risk.rejections() {
        rejections[r as usize] = n;
    }
    let kill = f.risk.kill_switch();
    let _ = tx.send(StatusUpdate::Risk(RiskUpdate {
        venue: f.venue,
        daily_pnl: quote_f64(daily),
        trades_today: trades,
        kill_switch: kill.is_tripped(),
        kill_reason: kill.reason(),
        rejections,
        at: now,
    }));
}
