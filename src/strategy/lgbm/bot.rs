//! The LightGBM bot: one pair, long only (spot). Each closed candle updates the features; once
//! every feature has a value the model predicts, and a confident "up" opens a trade while
//! fewer than `max_open_positions` are open. The entry is a post-only bid at the touch given
//! up (or crossed with an IOC, by config) after its timeout, or an IOC at once; the trade
//! closes with an IOC sell at take-profit, stop-loss (both checked against the bid on every
//! tick: triggered, not resting, so one position never has two orders selling the same coins
//! and a stop is never a resting order a spot venue would refuse) or at its maximum holding
//! time.
//!
//! Inference runs on the strategy's own thread, once per closed candle (once a second in the
//! seed), not per tick: one allocation-free call of a few microseconds (`benches/lgbm.rs`).
//!
//! What the bot knows of its orders comes only from the engine's order updates; PnL is counted
//! from the fills' own quote amounts and fees. Every trade records the hash of the model that
//! opened it.

use std::sync::Arc;

use crate::gateway::OrderUpdate;
use crate::strategy::api::{OrderSpec, Strategy, StrategyCtx, StrategyReport, Subscriptions};
use crate::strategy::candles::Candle;
use crate::strategy::model::{Model, Objective};
use crate::strategy::scalper::Trip;
use crate::strategy::signal::rules::{ExitReason, Exits};
use crate::types::{ClientOrderId, Instrument, Notional, OrderKind, Price, Qty, SCALE, Side};
use crate::types::{StrategyId, StrategyTrade, TimeInForce, UnixNanos};

use super::FeatureSet;
use super::params::{EntryMode, LgbmParams, OnTimeout};

/// A cancel not answered by the order's end within this is sent again.
const CANCEL_RETRY_NS: u64 = 5_000_000_000;
/// An IOC exit the book could not fill is sent again after this.
const RETRY_NS: u64 = 200_000_000;
/// Closed trades kept for the view (the count is kept apart).
const KEEP_TRADES: usize = 256;
/// Orders remembered with their trade, for fee corrections that come after the order ended.
const KEEP_ORDERS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Entry,
    /// The IOC that buys what a timed-out maker entry left.
    Cross,
    Exit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Working {
    cid: ClientOrderId,
    role: Role,
    price: Price,
    qty: Qty,
    filled: Qty,
    placed_at: UnixNanos,
    cancel_at: Option<UnixNanos>,
    /// Cancelled by the bot at its timeout (not refused or expired by the venue).
    timed_out: bool,
}

#[derive(Debug, Clone)]
struct Trade {
    opened_at: UnixNanos,
    /// When its first fill arrived (the holding time counts from it).
    first_fill: Option<UnixNanos>,
    trip: Trip,
    orders: Vec<Working>,
    exit: Option<ExitReason>,
    retry_at: UnixNanos,
    entry_cid: Option<ClientOrderId>,
    serial: u64,
    model: Arc<str>,
    /// The prediction that opened it.
    confidence: f64,
}

impl Trade {
    fn held(&self) -> Qty {
        Qty::from_units(self.trip.base_left().max(0))
    }
}

/// A closed trade, for the view.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedTrade {
    pub opened_at: UnixNanos,
    pub closed_at: UnixNanos,
    pub qty: Qty,
    pub entry: Option<Price>,
    pub exit: Option<Price>,
    /// Exact PnL from the fills (dust left valued at the exit's average price).
    pub pnl: Notional,
    pub reason: ExitReason,
    pub entry_cid: Option<ClientOrderId>,
    pub serial: u64,
    /// SHA-256 of the model file that opened it.
    pub model: Arc<str>,
    pub confidence: f64,
}

/// The last prediction: the model's outputs (one, or down/flat/up) and the confidence in up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub at: UnixNanos,
    pub outputs: [f64; 3],
    pub confidence: f64,
    pub up: bool,
}

pub struct LgbmBot {
    params: LgbmParams,
    instrument: Instrument,
    model: Arc<Model>,
    model_hash: Arc<str>,
    features: FeatureSet,
    row: Vec<f64>,
    out: Vec<f64>,
    prediction: Option<Prediction>,
    bars: u64,
    predictions: u64,
    trades: Vec<Trade>,
    closed: Vec<ClosedTrade>,
    closed_count: u64,
    /// Models swapped in since the start (reload, upload or file change).
    swaps: u64,
    /// The last orders sent and the trade (serial) each belongs to.
    order_trades: std::collections::VecDeque<(ClientOrderId, u64)>,
    opened_count: u64,
    /// Entries given up with nothing bought.
    given_up: u64,
    /// Up signals not taken because `max_open_positions` were open.
    at_max: u64,
    realized: i128,
    fills: u64,
    last_fill: Option<UnixNanos>,
    skipped: u64,
    paused: bool,
    now: UnixNanos,
    bid: Option<Price>,
}

fn ns(d: std::time::Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

fn ppm(percent: f64) -> u32 {
    (percent * 10_000.0).round() as u32
}

impl LgbmBot {
    pub fn new(params: LgbmParams, instrument: Instrument) -> Self {
        let model = params.model.clone();
        let features = params.feature_set();
        Self {
            model_hash: Arc::from(model.hash()),
            row: vec![0.0; model.features().len()],
            out: vec![0.0; model.outputs()],
            model,
            features,
            params,
            instrument,
            prediction: None,
            bars: 0,
            predictions: 0,
            trades: Vec::with_capacity(4),
            closed: Vec::new(),
            closed_count: 0,
            swaps: 0,
            order_trades: std::collections::VecDeque::with_capacity(KEEP_ORDERS),
            opened_count: 0,
            given_up: 0,
            at_max: 0,
            realized: 0,
            fills: 0,
            last_fill: None,
            skipped: 0,
            paused: false,
            now: UnixNanos::ZERO,
            bid: None,
        }
    }

    pub fn params(&self) -> &LgbmParams {
        &self.params
    }

    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    /// Predicts with `model` from now on (checked by the caller); `restart` when its
    /// features differ, so the features are built again from the next candles.
    fn install(&mut self, model: Arc<Model>, restart: bool) {
        if restart {
            self.features = self.params.feature_set();
            self.prediction = None;
        }
        self.row = vec![0.0; model.features().len()];
        self.out = vec![0.0; model.outputs()];
        self.model_hash = Arc::from(model.hash());
        self.model = model;
        self.swaps += 1;
    }

    /// Models swapped in since the start.
    pub fn model_swaps(&self) -> u64 {
        self.swaps
    }

    pub fn model_hash(&self) -> &str {
        &self.model_hash
    }

    pub fn prediction(&self) -> Option<&Prediction> {
        self.prediction.as_ref()
    }

    pub fn bars(&self) -> u64 {
        self.bars
    }

    pub fn predictions(&self) -> u64 {
        self.predictions
    }

    pub fn closed_trades(&self) -> &[ClosedTrade] {
        &self.closed
    }

    pub fn open_trades(&self) -> usize {
        self.trades.len()
    }

    pub fn given_up(&self) -> u64 {
        self.given_up
    }

    pub fn at_max(&self) -> u64 {
        self.at_max
    }

    pub fn last_bid(&self) -> Option<Price> {
        self.bid
    }

    /// Base held by open trades.
    pub fn held(&self) -> Qty {
        Qty::from_units(self.trades.iter().map(|t| t.held().units()).sum())
    }

    /// Realized PnL of closed trades, quote 10^-16.
    pub fn realized(&self) -> i128 {
        self.realized
    }

    /// Open trades valued at `mark`, quote 10^-16.
    pub fn unrealized(&self, mark: Price) -> i128 {
        self.trades.iter().map(|t| t.trip.pnl(mark)).sum()
    }

    fn exits(&self) -> Exits {
        let p = &self.params;
        Exits {
            on_signal: false,
            take_profit_ppm: ppm(p.take_profit_percent),
            stop_loss_ppm: ppm(p.stop_loss_percent),
            max_hold_ns: ns(p.max_hold),
        }
    }

    fn collar_bps(&self) -> u32 {
        (self.params.collar_percent * 100.0).round() as u32
    }

    /// Base worth `quote` (10^-8) at `price`, down to the lot.
    fn qty_for(&self, quote: i64, price: Price) -> Qty {
        if !price.is_positive() {
            return Qty::ZERO;
        }
        let units = i128::from(quote) * i128::from(SCALE) / i128::from(price.units());
        Qty::from_units(units.min(i128::from(i64::MAX)) as i64).floor_to(self.instrument.lot_size)
    }

    /// The model's reading of the features now (they are all valued).
    fn predict(&mut self, now: UnixNanos) -> Option<Prediction> {
        self.features.values(&mut self.row);
        // The row and output were sized for this model; a mismatch cannot happen.
        self.model.predict(&self.row, &mut self.out).ok()?;
        self.predictions += 1;
        let mut outputs = [f64::NAN; 3];
        for (o, v) in outputs.iter_mut().zip(&self.out) {
            *o = *v;
        }
        let (confidence, up) = match self.model.objective() {
            Objective::Binary { .. } | Objective::Regression => {
                (outputs[0], outputs[0] >= self.params.threshold)
            }
            Objective::Multiclass { .. } => {
                let best = outputs[2] >= outputs[0] && outputs[2] >= outputs[1];
                (outputs[2], best && outputs[2] >= self.params.threshold)
            }
        };
        Some(Prediction {
            at: now,
            outputs,
            confidence,
            up,
        })
    }

    fn cancel(o: &mut Working, cx: &mut StrategyCtx<'_>) {
        o.cancel_at = Some(cx.now);
        cx.intents.cancel(o.cid);
    }

    fn open(&mut self, confidence: f64, cx: &mut StrategyCtx<'_>) {
        let book = cx.book;
        let price = match self.params.entry {
            EntryMode::PostOnly => book.bid.price,
            EntryMode::Ioc => book.ask.price,
        };
        let qty = self.qty_for(self.params.trade_size.units(), price);
        if self.instrument.check_order(price, qty).is_err() {
            self.skipped += 1;
            return;
        }
        let (cid, role) = match self.params.entry {
            EntryMode::PostOnly => {
                let spec = OrderSpec {
                    reduce_only: false,
                    instrument: self.instrument.id,
                    side: Side::Buy,
                    kind: OrderKind::LimitMaker,
                    tif: TimeInForce::Gtc,
                    price,
                    qty,
                };
                (cx.intents.place(spec, cx.tick_at), Role::Entry)
            }
            EntryMode::Ioc => (
                cx.market(self.instrument.id, Side::Buy, qty, self.collar_bps()),
                Role::Entry,
            ),
        };
        let Some(cid) = cid else { return };
        self.remember(cid, self.opened_count);
        self.trades.push(Trade {
            opened_at: cx.now,
            first_fill: None,
            trip: Trip::default(),
            orders: vec![Working {
                cid,
                role,
                price,
                qty,
                filled: Qty::ZERO,
                placed_at: cx.now,
                cancel_at: None,
                timed_out: false,
            }],
            exit: None,
            retry_at: UnixNanos::ZERO,
            entry_cid: Some(cid),
            serial: self.opened_count,
            model: self.model_hash.clone(),
            confidence,
        });
        self.opened_count += 1;
    }

    /// Timeouts of maker entries, repeated cancels, exits due, and trades that are done.
    fn manage(&mut self, cx: &mut StrategyCtx<'_>) {
        let bid = cx.book.bid.price;
        let exits = self.exits();
        let timeout = ns(self.params.entry_timeout);
        let mut i = 0;
        while i < self.trades.len() {
            let t = &mut self.trades[i];
            for o in &mut t.orders {
                match o.cancel_at {
                    Some(at) if cx.now.since(at) >= CANCEL_RETRY_NS => Self::cancel(o, cx),
                    None if o.role == Role::Entry
                        && self.params.entry == EntryMode::PostOnly
                        && cx.now.since(o.placed_at) >= timeout =>
                    {
                        o.timed_out = true;
                        Self::cancel(o, cx);
                    }
                    _ => {}
                }
            }
            if t.exit.is_none()
                && let (Some(since), Some(entry)) = (t.first_fill, t.trip.avg_price(Side::Buy))
            {
                t.exit = exits.due(entry, bid, since, cx.now, false, false);
                if t.exit.is_some() {
                    for o in t.orders.iter_mut().filter(|o| o.role != Role::Exit) {
                        if o.cancel_at.is_none() {
                            Self::cancel(o, cx);
                        }
                    }
                }
            }
            let t = &self.trades[i];
            if t.exit.is_some()
                && !t.orders.iter().any(|o| o.role == Role::Exit)
                && cx.now >= t.retry_at
            {
                let qty = self.sellable(t.held(), cx);
                if self.instrument.check_order(bid, qty).is_ok() {
                    if let Some(cid) =
                        cx.market(self.instrument.id, Side::Sell, qty, self.collar_bps())
                    {
                        self.remember(cid, self.trades[i].serial);
                        self.trades[i].orders.push(Working {
                            cid,
                            role: Role::Exit,
                            price: bid,
                            qty,
                            filled: Qty::ZERO,
                            placed_at: cx.now,
                            cancel_at: None,
                            timed_out: false,
                        });
                    }
                } else if t.orders.is_empty() {
                    // Nothing sellable left (dust below the venue's minimums).
                    self.close(i, cx, bid);
                    continue;
                }
            }
            i += 1;
        }
    }

    /// What an exit may sell of `held`: no more than the venue's free balance of the base
    /// asset when the engine knows it, down to the lot.
    fn sellable(&self, held: Qty, cx: &StrategyCtx<'_>) -> Qty {
        let free = cx
            .balance(self.instrument.venue, &self.instrument.base)
            .map(|b| b.free);
        match free {
            Some(f) if f < held => f,
            _ => held,
        }
        .floor_to(self.instrument.lot_size)
    }

    fn remember(&mut self, cid: ClientOrderId, serial: u64) {
        if self.order_trades.len() == KEEP_ORDERS {
            self.order_trades.pop_front();
        }
        self.order_trades.push_back((cid, serial));
    }

    /// Fees learned after the fills (`fix` adds to them): an open trade counts them in its
    /// fills; a closed one has its PnL lowered by them, valued at its exit price when paid
    /// in the base asset.
    fn correct_fees(&mut self, u: &OrderUpdate, fix: crate::gateway::FeeCorrection) {
        let (base, quote) = (self.instrument.base.as_str(), self.instrument.quote.as_str());
        let Some(serial) = self
            .order_trades
            .iter()
            .rev()
            .find(|(c, _)| *c == u.cid)
            .map(|(_, s)| *s)
        else {
            return;
        };
        if let Some(t) = self.trades.iter_mut().find(|t| t.serial == serial) {
            t.trip.add_fee(fix.asset.as_str(), fix.delta, base, quote);
            return;
        }
        let Some(c) = self.closed.iter_mut().find(|c| c.serial == serial) else {
            return;
        };
        let price = if fix.asset.as_str() == quote {
            SCALE
        } else if let (true, Some(p)) = (fix.asset.as_str() == base, c.exit.or(c.entry)) {
            p.units()
        } else {
            return;
        };
        let cost = i128::from(fix.delta.units()) * i128::from(price);
        c.pnl = Notional(c.pnl.0 - cost);
        self.realized -= cost;
    }

    /// Closes trade `i`; its dust is valued at the exit's average price (at `bid` when
    /// nothing was sold).
    fn close(&mut self, i: usize, cx: &mut StrategyCtx<'_>, bid: Price) {
        let now = cx.now;
        let t = self.trades.remove(i);
        let mark = t.trip.avg_price(Side::Sell).unwrap_or(bid);
        let pnl = t.trip.pnl(mark);
        self.realized += pnl;
        self.closed_count += 1;
        if self.closed.len() == KEEP_TRADES {
            self.closed.remove(0);
        }
        self.closed.push(ClosedTrade {
            opened_at: t.opened_at,
            closed_at: now,
            qty: Qty::from_units(t.trip.bought_qty),
            entry: t.trip.avg_price(Side::Buy),
            exit: t.trip.avg_price(Side::Sell),
            pnl: Notional(pnl),
            reason: t.exit.unwrap_or(ExitReason::MaxHold),
            entry_cid: t.entry_cid,
            serial: t.serial,
            model: t.model,
            confidence: t.confidence,
        });
        if let Some(c) = self.closed.last() {
            cx.env.trade_closed(StrategyTrade {
                strategy: StrategyId(0),
                instrument: self.instrument.id,
                opened_at: c.opened_at,
                closed_at: c.closed_at,
                qty: c.qty,
                entry: c.entry,
                exit: c.exit,
                pnl: c.pnl,
                reason: c.reason.as_str(),
                model: Some(c.model.clone()),
                confidence: Some(c.confidence),
            });
        }
    }

    fn step(&mut self, cx: &mut StrategyCtx<'_>, up: Option<f64>) {
        self.now = cx.now;
        if cx.halted || self.paused {
            for t in &mut self.trades {
                for o in &mut t.orders {
                    if o.cancel_at.is_none() {
                        Self::cancel(o, cx);
                    }
                }
            }
            return;
        }
        let b = cx.book;
        if !(b.valid && b.bid.price.is_positive() && b.ask.price.is_positive()) {
            return;
        }
        self.bid = Some(b.bid.price);
        self.manage(cx);
        if let Some(confidence) = up {
            if self.trades.len() < self.params.max_open_positions as usize {
                self.open(confidence, cx);
            } else {
                self.at_max += 1;
            }
        }
    }
}

impl Strategy for LgbmBot {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            trades: false,
            candles: vec![ns(self.params.candle)],
        }
    }

    fn on_candle(&mut self, c: &Candle, cx: &mut StrategyCtx<'_>) {
        if c.instrument != self.instrument.id || c.width_ns != ns(self.params.candle) {
            return;
        }
        self.bars += 1;
        self.features.update(c);
        let mut up = None;
        if self.features.ready()
            && let Some(p) = self.predict(cx.now)
        {
            self.prediction = Some(p);
            up = p.up.then_some(p.confidence);
        }
        self.step(cx, up);
    }

    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        self.step(cx, None);
    }

    fn on_order_update(&mut self, u: &OrderUpdate, cx: &mut StrategyCtx<'_>) {
        self.now = cx.now;
        let Some((i, k)) = self.trades.iter().enumerate().find_map(|(i, t)| {
            t.orders.iter().position(|o| o.cid == u.cid).map(|k| (i, k))
        }) else {
            return;
        };
        if let Some(f) = &u.fill {
            self.fills += 1;
            self.last_fill = Some(u.at);
            let inst = &self.instrument;
            let t = &mut self.trades[i];
            t.trip.add(f, inst.base.as_str(), inst.quote.as_str());
            t.first_fill.get_or_insert(cx.now);
        }
        let t = &mut self.trades[i];
        t.orders[k].filled = u.filled_qty;
        if !u.status.is_final() {
            return;
        }
        let o = t.orders.remove(k);
        if o.role == Role::Exit && o.filled < o.qty {
            t.retry_at = cx.now.plus_nanos(RETRY_NS);
        }
        let left = o.qty.saturating_sub(o.filled).floor_to(self.instrument.lot_size);
        if o.role == Role::Entry
            && o.timed_out
            && t.exit.is_none()
            && self.params.on_timeout == OnTimeout::Cross
            && self.instrument.check_order(o.price, left).is_ok()
            && let Some(cid) = cx.market(self.instrument.id, Side::Buy, left, self.collar_bps())
        {
            self.remember(cid, self.trades[i].serial);
            let t = &mut self.trades[i];
            t.orders.push(Working {
                cid,
                role: Role::Cross,
                price: o.price,
                qty: left,
                filled: Qty::ZERO,
                placed_at: cx.now,
                cancel_at: None,
                timed_out: false,
            });
            return;
        }
        let t = &self.trades[i];
        if t.orders.is_empty() && t.trip.bought_qty == 0 {
            // Nothing bought and nothing working: the entry was given up (timed out, refused
            // or expired).
            self.given_up += 1;
            self.trades.remove(i);
            return;
        }
        if t.exit.is_some() && t.orders.is_empty() {
            let bid = self.bid.unwrap_or(u.price);
            let qty = t.held().floor_to(self.instrument.lot_size);
            if self.instrument.check_order(bid, qty).is_err() {
                self.close(i, cx, bid);
            }
        }
    }

    fn on_fee_correction(
        &mut self,
        u: &OrderUpdate,
        fix: crate::gateway::FeeCorrection,
        _cx: &mut StrategyCtx<'_>,
    ) {
        self.correct_fees(u, fix);
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.params.cancel_on_shutdown {
            cx.intents.cancel_all();
        }
    }

    /// New thresholds, sizes and exits apply from the next candle; open trades keep going.
    /// A new model (path or feature map) is read and checked by `from_table` before anything
    /// changes, and swapped in between two predictions; the features start over when the
    /// model's feature set differs.
    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        let p = LgbmParams::from_table(params)?;
        if p.model.hash() != self.model.hash()
            || p.features != self.params.features
            || p.buffer != self.params.buffer
        {
            let restart = p.model.features() != self.model.features()
                || p.features != self.params.features
                || p.buffer != self.params.buffer;
            self.params = p;
            self.install(self.params.model.clone(), restart);
        } else {
            self.params = p;
        }
        Ok(())
    }

    /// The new model predicts from the next closed candle on; open trades keep the hash of
    /// the model that opened them. Checked against the bot's feature map and buffer first.
    fn swap_model(&mut self, model: Arc<Model>) -> Result<(), String> {
        super::params::check_model(&model, &self.params.features, self.params.buffer)?;
        let restart = model.features() != self.model.features();
        self.params.model = model.clone();
        self.install(model, restart);
        Ok(())
    }

    fn report(&self, mark: Option<Price>) -> StrategyReport {
        let f = |v: i128| v as f64 / Notional::SCALE as f64;
        let open = mark.or(self.bid).map_or(0, |m| self.unrealized(m));
        let live = |role: Role| {
            self.trades.iter().find_map(|t| {
                t.orders
                    .iter()
                    .find(|o| o.role == role && o.cancel_at.is_none())
                    .map(|o| (o.price, o.qty.saturating_sub(o.filled)))
            })
        };
        StrategyReport {
            bid: live(Role::Entry),
            ask: live(Role::Exit),
            base: self.held(),
            fills: self.fills,
            pnl: f(self.realized + open),
            realized_pnl: f(self.realized),
            round_trips: self.closed_count,
            last_fill: self.last_fill,
            paused: self.paused,
            skipped: self.skipped,
            ..StrategyReport::default()
        }
    }

    fn detail(&self) -> Option<serde_json::Value> {
        Some(super::view::detail(self))
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }
}
