//! Both ends of the backtest's order path, on the simulated clock. The engine end is the live
//! gateway's bookkeeping (instrument grid, the same `RiskEngine`, the same `OrderTable` and
//! `Order::apply` state machine, updates to strategies that are never dropped); the venue end
//! is the [`QueueMatcher`] against the recorded book. Between them every message waits its
//! latency: an intent reaches the venue after the entry latency, the venue's answer reaches
//! the engine after the response latency, both first in first out (one connection each way).
//!
//! Every fill made here carries `FillDelta::paper = true` (never a venue's fill: the trade id
//! is the backtest's own) and is listed in the run's report as mode `backtest`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use crate::book::CacheReader;
use crate::config::PaperConfig;
use crate::gateway::table::{OrderTable, TableError};
use crate::gateway::{NewOrderIntent, OrderIntent, OrderUpdate, Refusal};
use crate::risk::{OrderCheck, RiskEngine};
use crate::runtime::{SendError, Tx};
use crate::types::order::{
    AssetCode, Order, OrderEvent, OrderKind, OrderStatus, TimeInForce, VenueFinal,
};
use crate::types::{
    ClientOrderId, Instrument, InstrumentId, Notional, Price, Qty, Side, StrategyId, TradeEvent,
    TradeId, UnixNanos, VenueOrderId,
};

use super::latency::{LatencyModel, Request};
use super::queue::{MakerFill, QueueMatcher, crosses, level_qty};

/// A backtest rejection has no venue behind it: recorded with code 0, as paper's.
const REJECT_CODE: i32 = 0;

/// What waits for its time.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// A new order reaches the venue.
    Arrive(NewOrderIntent),
    /// A cancel reaches the venue.
    Cancel(ClientOrderId),
    /// The venue's answer reaches the engine.
    Deliver(ClientOrderId, OrderEvent),
}

#[derive(Debug, Clone, Copy)]
struct Scheduled {
    at: UnixNanos,
    /// Scheduling order: ties in time keep it (deterministic).
    seq: u64,
    action: Action,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    /// Reversed: the heap pops the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// The venue's view of one order.
#[derive(Debug, Clone, Copy)]
struct VenueOrder {
    venue_order_id: VenueOrderId,
    cum_qty: Qty,
    cum_quote: Notional,
}

/// One fill, as the report lists it (mode `backtest`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillRow {
    pub at: UnixNanos,
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub cid: ClientOrderId,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    /// Fee in the quote asset, 10^-8 units.
    pub fee: i64,
    pub maker: bool,
}

/// Counts over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Orders that passed the engine's checks and were sent.
    pub orders_sent: u64,
    /// Orders refused by the engine before sending (risk, grid, table).
    pub refused: u64,
    pub cancels_sent: u64,
    pub venue_rejects: u64,
    pub cancelled: u64,
    pub expired: u64,
    /// Orders that filled completely.
    pub filled: u64,
    /// Events for orders the engine does not know, and state-machine anomalies.
    pub anomalies: u64,
}

/// The engine's gateway and the backtest venue of one venue of the config.
pub struct Exchange {
    instruments: Vec<Instrument>,
    table: OrderTable,
    risk: RiskEngine,
    cache: CacheReader,
    updates: Vec<Option<Tx<OrderUpdate>>>,
    held: VecDeque<OrderUpdate>,
    matcher: QueueMatcher,
    venue_orders: HashMap<ClientOrderId, VenueOrder>,
    latency: LatencyModel,
    fees: PaperConfig,
    pending: BinaryHeap<Scheduled>,
    seq: u64,
    /// The latest arrival at the venue and delivery at the engine (first in, first out).
    last_entry: UnixNanos,
    last_response: UnixNanos,
    next_order_id: u64,
    next_trade_id: u64,
    takes: Vec<(Price, Qty)>,
    maker_fills: Vec<MakerFill>,
    pub fills: Vec<FillRow>,
    pub counts: Counts,
    /// Refusals by reason (`Refusal::as_str`).
    pub refusals: BTreeMap<&'static str, u64>,
    /// Every order state and fill as the live gateway keeps them for the database, when the
    /// run writes one (`--db`); `None` otherwise.
    pub records: Option<Vec<crate::persist::Record>>,
    /// Whether the cache's depth is ever published (not by an event file's replay, which
    /// publishes tops only: its depth stays the empty one the cache starts with).
    depth_published: bool,
}

/// `qty × price` in quote units at 10^-8, rounded down.
fn quote_units(price: Price, qty: Qty) -> i64 {
    (Notional::of(price, qty).0 / i128::from(crate::types::SCALE)) as i64
}

/// `units × rate` (rate at 10^-8), rounded down.
fn fee_units(units: i64, rate: Price) -> i64 {
    ((i128::from(units) * i128::from(rate.units())) / i128::from(crate::types::SCALE)) as i64
}

impl Exchange {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        instruments: Vec<Instrument>,
        n_strategies: usize,
        risk: RiskEngine,
        cache: CacheReader,
        updates: Vec<Option<Tx<OrderUpdate>>>,
        matcher: QueueMatcher,
        latency: LatencyModel,
        fees: PaperConfig,
        run_start_ms: u64,
    ) -> Self {
        Self {
            instruments,
            table: OrderTable::new(run_start_ms, n_strategies),
            risk,
            cache,
            updates,
            held: VecDeque::with_capacity(256),
            matcher,
            venue_orders: HashMap::with_capacity(1024),
            latency,
            fees,
            pending: BinaryHeap::with_capacity(256),
            seq: 0,
            last_entry: UnixNanos::ZERO,
            last_response: UnixNanos::ZERO,
            next_order_id: 1,
            next_trade_id: 1,
            takes: Vec::with_capacity(16),
            maker_fills: Vec::with_capacity(16),
            fills: Vec::with_capacity(1024),
            counts: Counts::default(),
            refusals: BTreeMap::new(),
            records: None,
            depth_published: true,
        }
    }

    /// Books come as tops only (an event file's replay): a book change need not read the
    /// cache's depth, which is never published and stays empty (no level off the touch).
    pub fn tops_only(&mut self) {
        self.depth_published = false;
    }

    /// Keeps every order state and fill for the database (`--db`).
    pub fn keep_records(&mut self) {
        self.records.get_or_insert_with(|| Vec::with_capacity(4096));
    }

    pub fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    /// Risk, for what the venue books outside orders (funding).
    pub fn risk_mut(&mut self) -> &mut RiskEngine {
        &mut self.risk
    }

    pub fn latency(&self) -> &LatencyModel {
        &self.latency
    }

    pub fn order(&self, cid: &ClientOrderId) -> Option<&Order> {
        self.table.get(cid)
    }

    /// Orders the venue still holds.
    pub fn resting(&self) -> usize {
        self.matcher.resting().len()
    }

    /// When the next message is due, if any waits.
    #[inline]
    pub fn next_due(&self) -> Option<UnixNanos> {
        self.pending.peek().map(|s| s.at)
    }

    /// A market message was replayed at `t` (the message-rate latency counts them).
    #[inline]
    pub fn on_market(&mut self, t: UnixNanos) {
        self.latency.on_market(t);
    }

    fn schedule(&mut self, at: UnixNanos, action: Action) {
        self.seq += 1;
        self.pending.push(Scheduled {
            at,
            seq: self.seq,
            action,
        });
    }

    /// The venue answers at `at`: the engine hears it after the response latency.
    fn answer(&mut self, at: UnixNanos, response_ns: u64, cid: ClientOrderId, ev: OrderEvent) {
        let t = at.plus_nanos(response_ns).max(self.last_response);
        self.last_response = t;
        self.schedule(t, Action::Deliver(cid, ev));
    }

    /// Runs the one message due first, at its time; false when none is due by `until`.
    pub fn run_next(&mut self, until: UnixNanos) -> bool {
        match self.pending.peek() {
            Some(s) if s.at <= until => {}
            _ => return false,
        }
        let Some(s) = self.pending.pop() else {
            return false;
        };
        match s.action {
            Action::Arrive(i) => self.arrive(i, s.at),
            Action::Cancel(cid) => self.cancel_arrives(cid, s.at),
            Action::Deliver(cid, ev) => self.deliver(cid, &ev, s.at),
        }
        true
    }

    // ---- the engine end ----

    fn notify(&mut self, u: OrderUpdate) {
        if !self.held.is_empty() {
            self.held.push_back(u);
            return self.flush_held();
        }
        let Some(Some(tx)) = self.updates.get(u.strategy.index()) else {
            return;
        };
        match tx.send(u) {
            Ok(()) | Err(SendError::Disconnected(_)) => {}
            Err(SendError::Full(u)) => self.held.push_back(u),
        }
    }

    /// Hands held updates over (the driver drains the strategies between steps).
    pub fn flush_held(&mut self) {
        while let Some(u) = self.held.pop_front() {
            let Some(Some(tx)) = self.updates.get(u.strategy.index()) else {
                continue;
            };
            if let Err(SendError::Full(u)) = tx.send(u) {
                self.held.push_front(u);
                break;
            }
        }
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

    fn refuse(&mut self, i: &NewOrderIntent, why: Refusal, now: UnixNanos) {
        self.counts.refused += 1;
        *self.refusals.entry(why.as_str()).or_default() += 1;
        self.notify(OrderUpdate {
            cid: i.cid,
            strategy: i.strategy,
            status: OrderStatus::Rejected,
            side: i.side,
            price: i.price,
            qty: i.qty,
            filled_qty: Qty::ZERO,
            fill: None,
            refused: Some(why),
            fee_correction: None,
            at: now,
        });
    }

    fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id.index())
    }

    fn quote_asset(&self, id: InstrumentId) -> AssetCode {
        self.instrument(id)
            .and_then(|i| AssetCode::new(i.quote.as_bytes()))
            .unwrap_or_default()
    }

    /// An intent from a strategy, at `now` (its decision time).
    pub fn on_intent(&mut self, intent: OrderIntent, now: UnixNanos) {
        match intent {
            OrderIntent::New(i) => self.on_new(i, now),
            OrderIntent::Cancel { strategy, cid } => self.on_cancel(strategy, cid, now),
            OrderIntent::CancelAll { strategy } => {
                let cids: Vec<ClientOrderId> =
                    self.table.live_of(strategy).map(|o| o.cid).collect();
                for cid in cids {
                    self.on_cancel(strategy, cid, now);
                }
            }
            OrderIntent::Replace { cid, new } => {
                self.on_cancel(new.strategy, cid, now);
                self.on_new(new, now);
            }
            // Not amended in place (as on Binance): the order's update as it stands.
            OrderIntent::Amend { strategy, cid, .. } => {
                if let Some(o) = self.table.get(&cid).filter(|o| o.strategy == strategy) {
                    let u = Self::update_of(o, None, now);
                    self.notify(u);
                }
            }
        }
    }

    fn on_new(&mut self, i: NewOrderIntent, now: UnixNanos) {
        let Some(inst) = self.instrument(i.instrument) else {
            return self.refuse(&i, Refusal::Grid, now);
        };
        let grid_ok = match i.kind {
            OrderKind::Market => inst.check_qty(i.qty).is_ok(),
            _ => inst.check_order(i.price, i.qty).is_ok(),
        };
        if !grid_ok {
            return self.refuse(&i, Refusal::Grid, now);
        }
        let top = self.cache.top(i.instrument);
        if !top.valid {
            return self.refuse(&i, Refusal::VenueUnavailable, now);
        }
        let mid = Price::from_units((top.bid.price.units() + top.ask.price.units()) / 2);
        let check = OrderCheck {
            strategy: i.strategy,
            instrument: i.instrument,
            side: i.side,
            price: i.price,
            qty: i.qty,
            mid: Some(mid),
            reduce_only: i.reduce_only,
        };
        if let Err(rule) = self.risk.check(&check, now) {
            return self.refuse(&i, Refusal::Risk(rule), now);
        }
        let order = Order::new(
            i.cid,
            i.strategy,
            i.instrument,
            i.side,
            i.kind,
            i.tif,
            i.price,
            i.qty,
            now,
        )
        .reducing(i.reduce_only);
        if let Err(e) = self.table.insert(order) {
            let why = match e {
                TableError::Duplicate => Refusal::DuplicateId,
                _ => Refusal::TableFull,
            };
            return self.refuse(&i, why, now);
        }
        self.counts.orders_sent += 1;
        self.risk
            .on_order_opened(i.strategy, i.instrument, i.side, i.qty);
        self.apply(i.cid, &OrderEvent::Sent { at: now }, now);
        let (entry, _) = self.latency.draw(Request::Order);
        let at = now.plus_nanos(entry).max(self.last_entry);
        self.last_entry = at;
        self.schedule(at, Action::Arrive(i));
    }

    fn on_cancel(&mut self, strategy: StrategyId, cid: ClientOrderId, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            return;
        };
        if o.strategy != strategy || !o.request_cancel() {
            return;
        }
        self.counts.cancels_sent += 1;
        let (entry, _) = self.latency.draw(Request::Cancel);
        let at = now.plus_nanos(entry).max(self.last_entry);
        self.last_entry = at;
        self.schedule(at, Action::Cancel(cid));
    }

    /// The venue's answer reached the engine: the state machine, risk, the strategy.
    fn deliver(&mut self, cid: ClientOrderId, ev: &OrderEvent, now: UnixNanos) {
        self.apply(cid, ev, now);
    }

    fn apply(&mut self, cid: ClientOrderId, ev: &OrderEvent, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            self.counts.anomalies += 1;
            return;
        };
        let was_final = o.status.is_final();
        let r = o.apply(ev);
        if r.anomaly.is_some() {
            self.counts.anomalies += 1;
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
        let status = o.status;
        let update = Self::update_of(o, fill, now);
        if let Some(rec) = &mut self.records {
            rec.push(crate::persist::Record::Order(o.clone()));
            if let Some(f) = fill {
                rec.push(crate::persist::Record::Fill(crate::persist::FillRecord {
                    cid,
                    strategy,
                    instrument,
                    fill: f,
                    at: now,
                }));
            }
        }
        if let Some(f) = fill {
            let quote = self.quote_asset(instrument);
            let quote_fee = if f.fee_asset == quote {
                f.fee
            } else {
                Qty::ZERO
            };
            self.risk
                .on_fill(strategy, instrument, side, f.qty, f.quote, quote_fee, now);
            self.risk
                .on_order_reduced(strategy, instrument, side, f.qty, false);
            let price = Price::from_units(
                (f.quote.0 / i128::from(f.qty.units().max(1))).clamp(0, i128::from(i64::MAX))
                    as i64,
            );
            self.fills.push(FillRow {
                at: now,
                strategy,
                instrument,
                cid,
                side,
                price,
                qty: f.qty,
                fee: quote_fee.units(),
                maker: f.is_maker,
            });
        }
        if now_final && !was_final {
            self.risk
                .on_order_reduced(strategy, instrument, side, unfilled, true);
            match status {
                OrderStatus::Filled => self.counts.filled += 1,
                OrderStatus::Cancelled => self.counts.cancelled += 1,
                OrderStatus::Expired => self.counts.expired += 1,
                OrderStatus::Rejected => self.counts.venue_rejects += 1,
                _ => {}
            }
        }
        self.notify(update);
    }

    // ---- the venue end ----

    fn venue_trade(
        &mut self,
        cid: ClientOrderId,
        price: Price,
        qty: Qty,
        maker: bool,
        at: UnixNanos,
        response_ns: u64,
    ) {
        let Some(v) = self.venue_orders.get_mut(&cid) else {
            return;
        };
        v.cum_qty = v.cum_qty.checked_add(qty).unwrap_or(Qty::MAX);
        v.cum_quote = Notional(v.cum_quote.0 + Notional::of(price, qty).0);
        let rate = if maker {
            self.fees.maker_fee
        } else {
            self.fees.taker_fee
        };
        let fee = fee_units(quote_units(price, qty), rate);
        let trade_id = TradeId::from_u64(self.next_trade_id);
        self.next_trade_id += 1;
        let ev = OrderEvent::Trade {
            venue_order_id: v.venue_order_id,
            trade_id,
            last_qty: qty,
            last_price: price,
            cum_qty: v.cum_qty,
            cum_quote: v.cum_quote,
            fee: Qty::from_units(fee),
            fee_asset: self.fee_asset_of(cid),
            is_maker: maker,
            at,
        };
        self.answer(at, response_ns, cid, ev);
    }

    fn fee_asset_of(&self, cid: ClientOrderId) -> AssetCode {
        self.table
            .get(&cid)
            .map(|o| self.quote_asset(o.instrument))
            .unwrap_or_default()
    }

    fn venue_end(&mut self, cid: ClientOrderId, kind: VenueFinal, at: UnixNanos, resp: u64) {
        let Some(v) = self.venue_orders.remove(&cid) else {
            return;
        };
        let ev = OrderEvent::Ended {
            kind,
            venue_order_id: Some(v.venue_order_id),
            cum_qty: v.cum_qty,
            cum_quote: v.cum_quote,
            at,
        };
        self.answer(at, resp, cid, ev);
    }

    /// A new order reaches the venue at `at`, against the recorded book as it is then.
    fn arrive(&mut self, i: NewOrderIntent, at: UnixNanos) {
        let (_, resp) = self.latency.draw(Request::Order);
        let top = self.cache.top(i.instrument);
        let depth = self.cache.depth(i.instrument);
        let limit = (i.kind != OrderKind::Market).then_some(i.price);
        let crossing = match limit {
            Some(p) => crosses(i.side, p, &top),
            None => true,
        };
        if !top.valid || (i.kind == OrderKind::LimitMaker && crossing) {
            return self.answer(
                at,
                resp,
                i.cid,
                OrderEvent::RejectedByVenue {
                    code: REJECT_CODE,
                    at,
                },
            );
        }
        let mut takes = std::mem::take(&mut self.takes);
        let mut left = i.qty;
        if crossing {
            left = QueueMatcher::take(i.side, limit, i.qty, &top, &depth, &mut takes);
        }
        if i.tif == TimeInForce::Fok && !left.is_zero() {
            takes.clear();
            left = i.qty;
        }
        let venue_order_id = VenueOrderId::from_u64(self.next_order_id);
        self.next_order_id += 1;
        self.venue_orders.insert(
            i.cid,
            VenueOrder {
                venue_order_id,
                cum_qty: Qty::ZERO,
                cum_quote: Notional::default(),
            },
        );
        self.answer(at, resp, i.cid, OrderEvent::Accepted { venue_order_id, at });
        for &(price, qty) in &takes {
            self.venue_trade(i.cid, price, qty, false, at, resp);
        }
        self.takes = takes;
        let rests = !left.is_zero() && i.kind != OrderKind::Market && i.tif == TimeInForce::Gtc;
        if rests {
            let level = level_qty(i.side, i.price, &top, &depth);
            self.matcher
                .rest(i.cid, i.instrument, i.side, i.price, left, level);
        } else if !left.is_zero() {
            self.venue_end(i.cid, VenueFinal::Expired, at, resp);
        } else {
            self.venue_orders.remove(&i.cid);
        }
    }

    fn cancel_arrives(&mut self, cid: ClientOrderId, at: UnixNanos) {
        let (_, resp) = self.latency.draw(Request::Cancel);
        // Already filled (its fill is on the way): the venue has nothing to cancel.
        if self.matcher.remove(&cid).is_some() {
            self.venue_end(cid, VenueFinal::Cancelled, at, resp);
        }
    }

    #[inline]
    fn maker_fills(&mut self, at: UnixNanos) {
        if !self.maker_fills.is_empty() {
            self.send_maker_fills(at);
        }
    }

    #[inline(never)]
    fn send_maker_fills(&mut self, at: UnixNanos) {
        let fills = std::mem::take(&mut self.maker_fills);
        for f in &fills {
            let (_, resp) = self.latency.draw(Request::Order);
            self.venue_trade(f.cid, f.price, f.qty, true, at, resp);
            if !self.matcher.resting().iter().any(|r| r.cid == f.cid) {
                self.venue_orders.remove(&f.cid);
            }
        }
        self.maker_fills = fills;
    }

    /// The best resting bid and ask at the venue on `instrument` (orders in flight are not
    /// resting yet).
    pub fn quotes(&self, instrument: InstrumentId) -> (Option<Price>, Option<Price>) {
        let mut out = (None, None);
        for r in self.matcher.resting() {
            if r.instrument != instrument {
                continue;
            }
            match r.side {
                Side::Buy => out.0 = out.0.max(Some(r.price)),
                Side::Sell => out.1 = Some(out.1.map_or(r.price, |p: Price| p.min(r.price))),
            }
        }
        out
    }

    /// A public print at the venue at `at`.
    #[inline]
    pub fn on_print(&mut self, t: &TradeEvent, at: UnixNanos) {
        self.print(t.instrument, t.price, t.qty, t.aggressor, at);
    }

    /// A recorded trade by its fields (what [`on_print`](Self::on_print) reads of it).
    #[inline]
    pub fn print(
        &mut self,
        instrument: InstrumentId,
        price: Price,
        qty: Qty,
        aggressor: Side,
        at: UnixNanos,
    ) {
        if self.matcher.is_empty() {
            return;
        }
        self.matcher
            .on_print(instrument, price, qty, aggressor, &mut self.maker_fills);
        self.maker_fills(at);
    }

    /// The recorded book of `instrument` changed at `at`.
    #[inline]
    pub fn on_book(&mut self, instrument: InstrumentId, at: UnixNanos) {
        if self.matcher.is_empty() {
            return;
        }
        let top = self.cache.top(instrument);
        let cache = &self.cache;
        self.matcher.on_book_read(
            instrument,
            &top,
            self.depth_published.then_some(|| cache.depth(instrument)),
            &mut self.maker_fills,
        );
        self.maker_fills(at);
    }
}
