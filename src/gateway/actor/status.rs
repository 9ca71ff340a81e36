//! What the gateway tells the status room: every order change and fill as it is recorded
//! (orders are plain data: sending one allocates nothing), and at the snapshot interval its
//! connection state, order counts and risk figures. The channel is `DropNewest`: status is
//! telemetry, a lost update is superseded by the next.

use crate::persist::Record;
use crate::runtime::Tx;
use crate::status::{
    ConnState, ORDER_STATES, RiskUpdate, StatusUpdate, StrategyRiskUpdate, VenueUpdate,
};
use crate::types::{StrategyId, UnixNanos};

use super::Gateway;

/// Quote amounts at 10^-16 as `f64` (reporting edge).
fn quote_f64(v: i128) -> f64 {
    v as f64 / 1e16
}

impl Gateway {
    /// Publishes orders, fills, connection state and risk figures to the status room.
    pub fn with_status(mut self, tx: Tx<StatusUpdate>) -> Self {
        self.status = Some(tx);
        self
    }

    /// Tees an order or fill record to the status room.
    pub(super) fn status_record(&self, r: &Record) {
        let Some(tx) = &self.status else {
            return;
        };
        let u = match r {
            Record::Order(o) => StatusUpdate::Order(o.clone()),
            Record::Fill(f) => StatusUpdate::Fill(*f),
            _ => return,
        };
        let _ = tx.send(u);
    }

    /// The venue's order side, risk totals and each of its strategies' risk figures.
    pub(super) fn publish_status(&self, now: UnixNanos) {
        let Some(tx) = &self.status else {
            return;
        };
        let mut by_state = [0u64; 8];
        for o in self.table.iter() {
            if let Some(i) = ORDER_STATES.iter().position(|s| *s == o.status) {
                by_state[i] += 1;
            }
        }
        let mut v = VenueUpdate::new(self.venue.id, now);
        v.orders = Some(if self.banned {
            ConnState::Banned
        } else if self.link.is_up() && self.user_stream {
            ConnState::Connected
        } else if self.link.connects > 0 {
            ConnState::Down
        } else {
            ConnState::Connecting
        });
        v.orders_by_state = Some(by_state);
        v.fills = Some(self.counters.fills);
        v.venue_rejects = Some(self.counters.venue_rejects);
        let _ = tx.send(StatusUpdate::Venue(v));

        let mut daily = 0i128;
        let mut trades = 0u64;
        for (i, _) in self.updates.iter().enumerate().filter(|(_, u)| u.is_some()) {
            let Ok(id) = u16::try_from(i) else { break };
            let s = StrategyId(id);
            let mark = self.risk.instrument_of(s).and_then(|i| (self.mid)(i));
            let day = self.risk.day_pnl(s, mark);
            daily += day;
            let t = u64::from(self.risk.trades_today(s));
            trades += t;
            let (position, realized) = self.risk.position(s).map_or((0, 0.0), |p| {
                let fees = i128::from(p.quote_fees) * i128::from(crate::types::SCALE);
                (p.qty, quote_f64(p.realized - fees))
            });
            let _ = tx.send(StatusUpdate::StrategyRisk(StrategyRiskUpdate {
                strategy: s,
                position: crate::types::Qty::from_units(position),
                realized_pnl: realized,
                day_pnl: quote_f64(day),
                trades_today: t,
                open_orders: self.risk.open_orders(s),
                at: now,
            }));
        }
        let mut rejections = [0u64; crate::risk::Rule::ALL.len()];
        for (r, n) in self.risk.rejections() {
            rejections[r as usize] = n;
        }
        let kill = self.risk.kill_switch();
        let _ = tx.send(StatusUpdate::Risk(RiskUpdate {
            venue: self.venue.id,
            daily_pnl: quote_f64(daily),
            trades_today: trades,
            kill_switch: kill.is_tripped(),
            kill_reason: kill.reason(),
            rejections,
            at: now,
        }));
    }
}
