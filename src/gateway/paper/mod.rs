//! The paper gateway of one venue (`mode = "paper"`): the same interfaces as the venue
//! gateway (order intents in, order updates out, the same risk checks, order state machine
//! and persistence records), but orders fill inside the engine against the live book cache
//! and the feed's public trades, by the rules in [`matcher`]. Nothing is sent anywhere.
//!
//! Every fill it makes carries `FillDelta::paper = true` and an engine-minted trade id; every
//! record is stamped `mode = 'paper'` by the writer (the run's mode), so a paper fill can never
//! pass for a venue's. Balances start from each strategy's allocation and move with fills
//! only: buys pay quote and receive base less the fee (in base), sells pay base and receive
//! quote less the fee (in quote): the fee is taken from the asset received.

mod intents;
pub mod margin;
pub mod matcher;
mod perp;
mod wallet;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::book::{CacheReader, Depth};
use crate::config::{PaperConfig, VenueConfig};
use crate::feed::actor::TradeEvent;
use crate::persist::{FillRecord, PersistSink, Record};
use crate::risk::{KillReason, OrderCheck, RiskEngine};
use crate::runtime::{Actor, Ctx, Rx, StartError, Tx};
use crate::types::{
    ClientOrderId, Instrument, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos,
};
use crate::venue::order::Balance;

use super::events::GatewayEvent;
use super::intent::{NewOrderIntent, OrderIntent, OrderUpdate, Refusal};
use super::snapshot::{GatewayCounters, GatewaySnapshot, OrderView};
use super::table::{OrderTable, TableError};
use crate::types::order::{
    AssetCode, Order, OrderEvent, OrderKind, OrderStatus, TimeInForce, VenueFinal,
};
use crate::types::{TradeId, VenueOrderId};
use matcher::{Matcher, PrintFill, Take};
use wallet::Wallet;

/// A paper rejection (insufficient balance, a post-only order that would match) has no
/// venue behind it, so no venue's error code: it is recorded with code 0.
const REJECT_CODE: i32 = 0;
/// Intents and prints handled per poll, so one busy inbox cannot starve the host.
const BATCH: usize = 64;

/// Everything a paper gateway needs, handed over by the engine.
pub struct PaperSpec {
    pub venue: VenueConfig,
    /// Every instrument of the config, indexed by `InstrumentId` (others' are ignored).
    pub instruments: Vec<Instrument>,
    pub intents: Rx<OrderIntent>,
    /// Public trades of this venue's instruments, from the feed (`DropNewest`: a print lost
    /// when the gateway falls behind is a fill it does not make, the conservative side).
    pub trades: Rx<TradeEvent>,
    /// Per `StrategyId`; `None` for strategies on other venues.
    pub updates: Vec<Option<Tx<OrderUpdate>>>,
    pub risk: RiskEngine,
    pub book: CacheReader,
    pub fees: PaperConfig,
    /// Per `StrategyId`: its instrument and starting (base, quote) balances; `None` for
    /// strategies on other venues.
    pub balances: Vec<Option<(InstrumentId, Qty, Qty)>>,
    pub snapshots: Option<Tx<GatewaySnapshot>>,
    pub run_start_ms: u64,
    /// Strategies whose orders are cancelled when the engine stops, by `StrategyId`.
    pub cancel_on_stop: Vec<bool>,
    pub snapshot_interval: Duration,
    pub persist: Option<PersistSink>,
    /// Non-final paper orders of earlier runs: their book is gone, so they end as expired.
    pub recovered: Vec<Order>,
}

pub struct PaperGateway {
    name: String,
    venue: VenueConfig,
    instruments: Vec<Instrument>,
    table: OrderTable,
    matcher: Matcher,
    risk: RiskEngine,
    book: CacheReader,
    fees: PaperConfig,
    wallets: Vec<Option<Wallet>>,
    /// Per strategy trading a perpetual here: its margin account (its `wallets` entry is
    /// then `None`).
    margins: Vec<Option<margin::MarginAccount>>,
    /// Funds each resting order holds (quote units for buys, base units for sells; initial
    /// margin in the settlement asset on a perpetual).
    locks: HashMap<ClientOrderId, i64>,
    intents: Rx<OrderIntent>,
    trades: Rx<TradeEvent>,
    updates: Vec<Option<Tx<OrderUpdate>>>,
    held: VecDeque<OrderUpdate>,
    snapshots: Option<Tx<GatewaySnapshot>>,
    snapshot_interval_ns: u64,
    next_snapshot: UnixNanos,
    cancel_on_stop: Vec<bool>,
    counters: GatewayCounters,
    persist: Option<PersistSink>,
    /// Paper "venue" order ids and trade ids, minted here: unique within the run (and the
    /// order's client id, which they are stored with, encodes the run).
    next_order_id: u64,
    next_trade_id: u64,
    recovered: Vec<Order>,
    /// Scratch buffers reused for every arrival and print.
    takes: Vec<Take>,
    prints: Vec<PrintFill>,
    /// Fills, risk refusals and the stop, for the telemetry actor (round trips, notices).
    telemetry: super::events::EventSender,
    /// The status room's inbox (`with_status`): orders, fills and risk figures.
    status: Option<Tx<crate::status::StatusUpdate>>,
}

/// `qty × price` in quote units at 10^-8, rounded down.
fn quote_units(price: Price, qty: Qty) -> i64 {
    (Notional::of(price, qty).0 / i128::from(crate::types::SCALE)) as i64
}

/// `units × rate`, rounded down (rate at 10^-8, as a `Price`).
fn fee_units(units: i64, rate: Price) -> i64 {
    ((i128::from(units) * i128::from(rate.units())) / i128::from(crate::types::SCALE)) as i64
}

impl PaperGateway {
    pub fn new(spec: PaperSpec) -> Self {
        let n_strategies = spec.updates.len();
        let perp = |inst: InstrumentId| {
            spec.instruments
                .get(inst.index())
                .filter(|i| i.margin.is_some())
        };
        let wallets = spec
            .balances
            .iter()
            .map(|b| {
                b.filter(|(inst, _, _)| perp(*inst).is_none())
                    .map(|(inst, base, quote)| Wallet::new(inst, base, quote))
            })
            .collect();
        // A perpetual's deposit is the allocation in its settlement asset.
        let margins = spec
            .balances
            .iter()
            .map(|b| {
                let (inst, base, quote) = (*b)?;
                let i = perp(inst)?;
                let deposit = if i.settle == i.base { base } else { quote };
                margin::MarginAccount::new(
                    i,
                    i128::from(deposit.units()) * i128::from(crate::types::SCALE),
                    spec.run_start_ms,
                )
            })
            .collect();
        Self {
            name: format!("gateway:{}", spec.venue.name),
            matcher: Matcher::new(spec.instruments.len()),
            venue: spec.venue,
            instruments: spec.instruments,
            table: OrderTable::new(spec.run_start_ms, n_strategies),
            risk: spec.risk,
            book: spec.book,
            fees: spec.fees,
            wallets,
            margins,
            locks: HashMap::with_capacity(1024),
            intents: spec.intents,
            trades: spec.trades,
            updates: spec.updates,
            held: VecDeque::with_capacity(1024),
            snapshots: spec.snapshots,
            snapshot_interval_ns: spec.snapshot_interval.as_nanos() as u64,
            next_snapshot: UnixNanos::ZERO,
            cancel_on_stop: spec.cancel_on_stop,
            counters: GatewayCounters::default(),
            persist: spec.persist,
            next_order_id: 1,
            next_trade_id: 1,
            recovered: spec.recovered,
            takes: Vec::with_capacity(crate::book::CACHE_DEPTH),
            prints: Vec::with_capacity(64),
            telemetry: super::events::EventSender::default(),
            status: None,
        }
    }

    pub fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    /// A strategy's paper balances: (base, quote) as (free, locked) pairs, 10^-8 units.
    pub fn wallet(&self, strategy: StrategyId) -> Option<((i64, i64), (i64, i64))> {
        let w = self.wallets.get(strategy.index())?.as_ref()?;
        Some(((w.base, w.base_locked), (w.quote, w.quote_locked)))
    }

    pub fn order(&self, cid: &ClientOrderId) -> Option<&Order> {
        self.table.get(cid)
    }

    fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments
            .get(id.index())
            .filter(|i| i.venue == self.venue.id)
    }

    fn assets(&self, id: InstrumentId) -> (AssetCode, AssetCode) {
        match self.instrument(id) {
            Some(i) => (
                AssetCode::new(i.base.as_bytes()).unwrap_or_default(),
                AssetCode::new(i.quote.as_bytes()).unwrap_or_default(),
            ),
            None => (AssetCode::default(), AssetCode::default()),
        }
    }

    /// The asset a perpetual settles in.
    fn settle_asset(&self, id: InstrumentId) -> AssetCode {
        self.instrument(id)
            .and_then(|i| AssetCode::new(i.settle.as_bytes()))
            .unwrap_or_default()
    }

    fn mid(&self, id: InstrumentId) -> Option<Price> {
        let t = self.book.top(id);
        t.valid
            .then(|| Price::from_units((t.bid.price.units() + t.ask.price.units()) / 2))
    }

    fn keep(&mut self, r: Record) {
        if let Some(tx) = &self.status {
            super::actor::status::tee_record(tx, &r);
        }
        if let Some(p) = self.persist.as_mut()
            && p.keep(r).is_err()
        {
            self.risk.kill_switch().trip(KillReason::PersistenceDown);
        }
    }

    fn notify(&mut self, u: OrderUpdate) {
        super::deliver::notify(
            &self.updates,
            &mut self.held,
            &mut self.counters.updates_held,
            u,
        );
    }

    fn flush_held(&mut self) -> usize {
        super::deliver::flush_held(&self.updates, &mut self.held)
    }

    fn update_of(o: &Order, fill: Option<crate::types::FillDelta>, at: UnixNanos) -> OrderUpdate {
        OrderUpdate {
            cid: o.cid,
            strategy: o.strategy,
            status: o.status,
            side: o.side,
            price: o.price,
            qty: o.qty,
            filled_qty: o.filled_qty,
            fill,
            refused: None,
            fee_correction: None,
            at,
        }
    }

    /// Applies one event to an order: risk, records and the strategy, as the venue gateway
    /// does. A fill here is always a paper fill.
    fn apply(&mut self, cid: ClientOrderId, ev: &OrderEvent, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            self.counters.unknown_order_events += 1;
            return;
        };
        let was_final = o.status.is_final();
        let r = o.apply(ev);
        if r.anomaly.is_some() {
            self.counters.anomalies += 1;
        }
        if !r.changed {
            return;
        }
        let fill = r.fill.map(|mut f| {
            f.paper = true;
            f
        });
        let (strategy, side, instrument) = (o.strategy, o.side, o.instrument);
        let unfilled = o.qty.saturating_sub(o.filled_qty);
        let now_final = o.status.is_final();
        let update = Self::update_of(o, fill, now);
        let record = o.clone();
        self.keep(Record::Order(record));
        if let Some(f) = fill {
            let record = FillRecord {
                cid,
                strategy,
                instrument,
                fill: f,
                at: now,
            };
            self.keep(Record::Fill(record));
            self.telemetry.emit(GatewayEvent::Fill(record));
            self.counters.fills += 1;
            let (_, quote) = self.assets(instrument);
            let quote_fee = if f.fee_asset == quote {
                f.fee
            } else {
                Qty::ZERO
            };
            self.risk
                .on_fill(strategy, instrument, side, f.qty, f.quote, quote_fee, now);
            self.risk
                .on_order_reduced(strategy, instrument, side, f.qty, false);
        }
        if now_final && !was_final {
            self.risk
                .on_order_reduced(strategy, instrument, side, unfilled, true);
        }
        self.notify(update);
    }

    /// One paper trade of `qty` at `price` on order `cid`: balances, then the state machine.
    fn fill(&mut self, cid: ClientOrderId, price: Price, qty: Qty, maker: bool, now: UnixNanos) {
        let Some(o) = self.table.get(&cid) else {
            return;
        };
        let (strategy, side, instrument) = (o.strategy, o.side, o.instrument);
        let cum_qty = o.filled_qty.checked_add(qty).unwrap_or(Qty::MAX);
        let cum_quote = Notional(o.filled_quote.0 + Notional::of(price, qty).0);
        let venue_order_id = o.venue_order_id.unwrap_or(VenueOrderId::from_u64(0));
        let rate = if maker {
            self.fees.maker_fee
        } else {
            self.fees.taker_fee
        };
        let (base, quote) = self.assets(instrument);
        let quote_amount = quote_units(price, qty);
        let perp_fee = self.perp_fill(cid, strategy, side, qty, price, rate);
        let (fee, fee_asset) = match side {
            _ if perp_fee.is_some() => (perp_fee.unwrap_or(0), self.settle_asset(instrument)),
            Side::Buy => (fee_units(qty.units(), rate), base),
            Side::Sell => (fee_units(quote_amount, rate), quote),
        };
        // Funds the order held for this quantity are released as it fills (a taker's were
        // held at the level's price, a resting order's at its own, which is `price`).
        let held_for = match side {
            Side::Buy => quote_amount,
            Side::Sell => qty.units(),
        };
        let release = match self.locks.get_mut(&cid) {
            _ if perp_fee.is_some() => 0,
            Some(l) => {
                let r = held_for.min(*l);
                *l -= r;
                r
            }
            None => 0,
        };
        if let Some(Some(w)) = self.wallets.get_mut(strategy.index()) {
            w.trade(side, qty.units(), quote_amount, fee, release);
        }
        let trade_id = TradeId::from_u64(self.next_trade_id);
        self.next_trade_id += 1;
        let ev = OrderEvent::Trade {
            venue_order_id,
            trade_id,
            last_qty: qty,
            last_price: price,
            cum_qty,
            cum_quote,
            fee: Qty::from_units(fee),
            fee_asset,
            is_maker: maker,
            at: now,
        };
        self.apply(cid, &ev, now);
        self.keep_balances(instrument, now);
        if self.table.get(&cid).is_some_and(|o| o.status.is_final()) {
            self.unlock(cid);
        }
    }

    /// Releases whatever a finished order still holds.
    fn unlock(&mut self, cid: ClientOrderId) {
        let Some(left) = self.locks.remove(&cid) else {
            return;
        };
        let Some(o) = self.table.get(&cid) else {
            return;
        };
        let (strategy, side) = (o.strategy, o.side);
        if self.perp_release(strategy, left) {
            return;
        }
        if let Some(Some(w)) = self.wallets.get_mut(strategy.index()) {
            w.release(side, left);
        }
    }

    /// The venue-wide paper balances of an instrument's two assets, as records.
    fn keep_balances(&mut self, instrument: InstrumentId, now: UnixNanos) {
        if self.persist.is_none() {
            return;
        }
        let (base, quote) = self.assets(instrument);
        for asset in [base, quote] {
            let (free, locked) = self.total(asset);
            self.keep(Record::Balance(crate::persist::BalanceRecord {
                venue: self.venue.id,
                asset,
                free: Qty::from_units(free),
                locked: Qty::from_units(locked),
                at: now,
            }));
        }
    }

    /// Free and locked totals of one asset over every strategy's paper wallet.
    fn total(&self, asset: AssetCode) -> (i64, i64) {
        let mut out = (0, 0);
        for (s, w) in self.wallets.iter().enumerate() {
            let Some(w) = w else { continue };
            let Some(inst) = self.strategy_instrument(s) else {
                continue;
            };
            let (b, q) = self.assets(inst);
            if b == asset {
                out = (out.0 + w.base, out.1 + w.base_locked);
            }
            if q == asset {
                out = (out.0 + w.quote, out.1 + w.quote_locked);
            }
        }
        out
    }

    fn strategy_instrument(&self, s: usize) -> Option<InstrumentId> {
        self.wallets.get(s)?.as_ref()?.instrument
    }

    fn on_print(&mut self, t: &TradeEvent, now: UnixNanos) {
        if self.instrument(t.instrument).is_none() {
            return;
        }
        let mut prints = std::mem::take(&mut self.prints);
        self.matcher.on_trade(t, &mut prints);
        for p in &prints {
            self.fill(p.cid, p.price, p.qty, true, now);
        }
        self.prints = prints;
    }

    /// Orders left open by earlier paper runs cannot fill any more: they end as expired.
    fn expire_recovered(&mut self, now: UnixNanos) {
        for mut o in std::mem::take(&mut self.recovered) {
            let ev = OrderEvent::Ended {
                kind: VenueFinal::Expired,
                venue_order_id: o.venue_order_id,
                cum_qty: o.filled_qty,
                cum_quote: o.filled_quote,
                at: now,
            };
            if o.apply(&ev).changed {
                self.keep(Record::Order(o));
            }
        }
    }

    /// The orders and paper balances as the gateway holds them.
    pub fn snapshot(&self) -> GatewaySnapshot {
        let mut balances: Vec<Balance> = Vec::new();
        for s in 0..self.wallets.len() {
            let Some(inst) = self.strategy_instrument(s) else {
                continue;
            };
            let (b, q) = self.assets(inst);
            for asset in [b, q] {
                if !balances.iter().any(|x| x.asset == asset) {
                    let (free, locked) = self.total(asset);
                    balances.push(Balance {
                        asset,
                        free: Qty::from_units(free),
                        locked: Qty::from_units(locked),
                    });
                }
            }
        }
        GatewaySnapshot {
            rest: None,
            // Paper perpetuals are the engine's own: there is no venue position to compare.
            perps: Vec::new(),
            orders: self
                .table
                .iter()
                .map(|o| OrderView {
                    cid: o.cid,
                    strategy: o.strategy,
                    status: o.status,
                    venue_order_id: o.venue_order_id,
                    qty: o.qty,
                    filled_qty: o.filled_qty,
                    filled_quote: o.filled_quote,
                    fees: o.fees,
                    cancel_pending: o.cancel_pending,
                })
                .collect(),
            balances,
            counters: self.counters.clone(),
            link_up: true,
            user_stream: true,
            overdue: 0,
            quote_fees: self.risk.quote_fees(),
        }
    }

    fn publish(&mut self, now: UnixNanos) {
        if let Some(tx) = &self.status {
            let mid = |id| self.mid(id);
            super::actor::status::publish_figures(
                tx,
                super::actor::status::Figures {
                    venue: self.venue.id,
                    // Paper trading needs only the market data: its "venue" is always up.
                    conn: crate::status::ConnState::Connected,
                    table: &self.table,
                    counters: &self.counters,
                    risk: &self.risk,
                    strategies: self.updates.iter().map(Option::is_some),
                    mid: &mid,
                    balances: &[],
                },
                now,
            );
        }
        if let Some(tx) = &self.snapshots {
            let _ = tx.send(self.snapshot());
        }
    }

    /// Publishes orders, fills and risk figures to the status room, as the venue gateway does.
    pub fn with_status(mut self, tx: Tx<crate::status::StatusUpdate>) -> Self {
        self.status = Some(tx);
        self
    }

    /// One step: held updates, prints, intents, snapshot. Returns the work done.
    /// Sends fills, risk refusals and the stop to `events` (the telemetry actor).
    pub fn with_events(mut self, events: super::events::EventSender) -> Self {
        self.telemetry = events;
        self
    }

    pub fn step(&mut self, now: UnixNanos) -> usize {
        let mut work = self.flush_held();
        if let Some(p) = self.persist.as_mut()
            && p.pump().is_err()
        {
            self.risk.kill_switch().trip(KillReason::PersistenceDown);
        }
        // Prints first: they happened before the intents now waiting were decided.
        let mut n = 0;
        while n < BATCH {
            let Some(t) = self.trades.try_recv() else {
                break;
            };
            n += 1;
            self.on_print(&t, now);
        }
        while n < 2 * BATCH {
            let Some(intent) = self.intents.try_recv() else {
                break;
            };
            n += 1;
            self.on_intent(intent, now);
        }
        work += n;
        work += self.settle_perps(now);
        if now >= self.next_snapshot {
            self.next_snapshot = now.plus_nanos(self.snapshot_interval_ns);
            self.publish(now);
        }
        work
    }
}

impl Actor for PaperGateway {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        self.expire_recovered(ctx.clock.now());
        tracing::info!(gateway = %self.name, "paper execution: orders fill inside the engine, nothing is sent to the venue");
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        self.step(ctx.clock.now())
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        let now = ctx.clock.now();
        let to_cancel: Vec<(StrategyId, ClientOrderId)> = self
            .table
            .iter()
            .filter(|o| !o.status.is_final())
            .filter(|o| {
                self.cancel_on_stop
                    .get(o.strategy.index())
                    .copied()
                    .unwrap_or(false)
            })
            .map(|o| (o.strategy, o.cid))
            .collect();
        for (s, cid) in to_cancel {
            self.on_cancel(s, cid, now);
        }
        self.flush_held();
        self.publish(now);
        if let Some(p) = self.persist.as_mut()
            && !p.finish(Duration::from_secs(2))
        {
            tracing::error!(gateway = %self.name, "order records not all committed at shutdown");
        }
        self.telemetry.emit(GatewayEvent::Stopped {
            venue: self.venue.id,
            at: now,
        });
    }
}
