//! The `Strategy` contract: what a strategy sees (clock, its book, its order updates, its
//! venue's latency band) and what it may do (send order intents). Strategies never see
//! sockets or keys, so the same code runs live, in paper mode and over recorded data.

use crate::book::{CacheReader, Depth, TopOfBook};
use crate::gateway::{CidMinter, NewOrderIntent, OrderIntent, OrderUpdate};
use crate::latency::bands::Band;
use crate::latency::board::BandBoard;
use crate::risk::{Position, PositionBoard};
use crate::runtime::{SendError, Tx};
use crate::types::StrategyTrade;
use crate::types::{ClientOrderId, Instrument, InstrumentId, Price, Qty, Side, StrategyId};
use crate::types::{OrderKind, OrderStatus, TimeInForce, TradeEvent, UnixNanos, VenueId, bps_of};
use crate::venue::order::{AmendLimits, Balance};

use super::candles::Candle;
use super::timers::Timers;

/// A new order as a strategy describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderSpec {
    pub instrument: InstrumentId,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: TimeInForce,
    /// Limit price (for `OrderKind::Market`, the price risk checks the collar against).
    pub price: Price,
    pub qty: Qty,
    /// Perpetuals: the order may only reduce the position (risk refuses it otherwise, and on
    /// spot).
    pub reduce_only: bool,
}

/// One of the strategy's orders that has not reached a final state, as the engine knows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenOrder {
    pub cid: ClientOrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: TimeInForce,
    pub price: Price,
    pub qty: Qty,
    pub filled: Qty,
    /// `New` until the gateway reports on it.
    pub status: OrderStatus,
}

/// Where a strategy's intents go: one route per venue it declared (its gateway's inbox), the
/// main venue first. Intents are never dropped: if a gateway's inbox is full the intent waits
/// here and goes first on the next call. The sink also keeps the strategy's open orders (from
/// what it sent and the updates the gateways returned).
pub struct IntentSink {
    routes: Vec<Tx<OrderIntent>>,
    held: std::collections::VecDeque<(usize, OrderIntent)>,
    minter: CidMinter,
    pub(crate) strategy: StrategyId,
    /// The main instrument (`limit` and `replace` place on it).
    pub(crate) instrument: InstrumentId,
    /// Every instrument the strategy declared, with its venue's route (orders on others are
    /// not sent).
    declared: Vec<(InstrumentId, usize)>,
    open: Vec<OpenOrder>,
    /// Per route: which amends its gateway makes in place (`None`, or an amend these limits
    /// do not allow: cancel + new).
    amends: Vec<Option<AmendLimits>>,
    /// Intents sent (or held) so far.
    pub sent: u64,
    /// While set (`gather`), intents wait in `held` and leave together at `release`: a
    /// re-quote's cancels and orders reach the gateway back to back, in one of its polls.
    gathering: bool,
}

impl IntentSink {
    pub fn new(
        tx: Tx<OrderIntent>,
        minter: CidMinter,
        strategy: StrategyId,
        instrument: InstrumentId,
    ) -> Self {
        Self {
            routes: vec![tx],
            held: std::collections::VecDeque::with_capacity(64),
            minter,
            strategy,
            instrument,
            declared: vec![(instrument, 0)],
            open: Vec::with_capacity(64),
            amends: vec![None],
            sent: 0,
            gathering: false,
        }
    }

    /// Amends on the venue of `instrument` go in place (`OrderIntent::Amend`): its gateway's
    /// session amends any order in place. Unchanged if `instrument` is not declared.
    pub fn with_amends_in_place(mut self, instrument: InstrumentId) -> Self {
        self = self.with_amend_limits(instrument, AmendLimits::Any);
        self
    }

    /// Amends on the venue of `instrument` that `limits` allow go in place (for example
    /// `AmendLimits::QuantityDownOnly`: a smaller quantity at the same price); others are
    /// cancel + new.
    /// Unchanged if `instrument` is not declared.
    pub fn with_amend_limits(mut self, instrument: InstrumentId, limits: AmendLimits) -> Self {
        if let Some(route) = self.route_of(instrument) {
            self.amends[route] = Some(limits);
        }
        self
    }

    /// A further market: orders on `instrument` go to `tx` (its venue's gateway).
    pub fn with_market(mut self, instrument: InstrumentId, tx: Tx<OrderIntent>) -> Self {
        self.routes.push(tx);
        self.amends.push(None);
        self.declared.push((instrument, self.routes.len() - 1));
        self
    }

    /// A further market on a venue already routed: orders on `instrument` go where orders on
    /// `beside` go (one route per venue, so cancel-all reaches each gateway once). Unchanged
    /// if `beside` is not declared.
    pub fn with_market_beside(mut self, instrument: InstrumentId, beside: InstrumentId) -> Self {
        if let Some(route) = self.route_of(beside) {
            self.declared.push((instrument, route));
        }
        self
    }

    fn route_of(&self, instrument: InstrumentId) -> Option<usize> {
        self.declared
            .iter()
            .find(|(i, _)| *i == instrument)
            .map(|(_, r)| *r)
    }

    fn push(&mut self, route: usize, i: OrderIntent) {
        self.sent += 1;
        if self.held.is_empty() && !self.gathering {
            match self.routes[route].send(i) {
                Ok(()) => {}
                Err(SendError::Full(i)) => self.held.push_back((route, i)),
                Err(SendError::Disconnected(_)) => {}
            }
        } else {
            self.held.push_back((route, i));
        }
    }

    /// From now on intents wait here until `release` (one strategy call's intents).
    pub fn gather(&mut self) {
        self.gathering = true;
    }

    /// Sends what was gathered, back to back; returns how many went out.
    pub fn release(&mut self) -> usize {
        self.gathering = false;
        self.flush()
    }

    /// Intents waiting for room in the gateway's inbox.
    pub fn pending(&self) -> usize {
        self.held.len()
    }

    /// Retries held intents; returns how many went out.
    #[inline]
    pub fn flush(&mut self) -> usize {
        if self.held.is_empty() {
            return 0;
        }
        self.flush_held()
    }

    #[inline(never)]
    fn flush_held(&mut self) -> usize {
        let mut n = 0;
        while let Some((route, i)) = self.held.pop_front() {
            match self.routes[route].send(i) {
                Ok(()) => n += 1,
                Err(SendError::Full(i)) => {
                    self.held.push_front((route, i));
                    break;
                }
                Err(SendError::Disconnected(_)) => {}
            }
        }
        n
    }

    /// The strategy's orders not yet final.
    pub fn open_orders(&self) -> &[OpenOrder] {
        &self.open
    }

    /// Keeps the open orders true: called with every update before the strategy sees it.
    pub fn observe(&mut self, u: &OrderUpdate) {
        if let Some(i) = self.open.iter().position(|o| o.cid == u.cid) {
            if u.status.is_final() {
                self.open.swap_remove(i);
            } else {
                let o = &mut self.open[i];
                o.status = u.status;
                o.filled = u.filled_qty;
                // An amend in place changes both; any other update repeats them.
                o.price = u.price;
                o.qty = u.qty;
            }
        }
    }

    fn intent(&mut self, o: OrderSpec, tick_at: UnixNanos) -> NewOrderIntent {
        let cid = self.minter.mint();
        self.open.push(OpenOrder {
            cid,
            instrument: o.instrument,
            side: o.side,
            kind: o.kind,
            tif: o.tif,
            price: o.price,
            qty: o.qty,
            filled: Qty::ZERO,
            status: OrderStatus::New,
        });
        NewOrderIntent {
            cid,
            strategy: self.strategy,
            instrument: o.instrument,
            side: o.side,
            kind: o.kind,
            tif: o.tif,
            price: o.price,
            qty: o.qty,
            reduce_only: o.reduce_only,
            tick_at,
        }
    }

    /// Any order on a declared instrument: limit GTC, post-only, IOC, FOK or market. `None`
    /// (nothing sent) for an instrument the strategy did not declare.
    pub fn place(&mut self, o: OrderSpec, tick_at: UnixNanos) -> Option<ClientOrderId> {
        let route = self.route_of(o.instrument)?;
        let i = self.intent(o, tick_at);
        self.push(route, OrderIntent::New(i));
        Some(i.cid)
    }

    fn limit_spec(&self, side: Side, price: Price, qty: Qty, post_only: bool) -> OrderSpec {
        OrderSpec {
            reduce_only: false,
            instrument: self.instrument,
            side,
            kind: if post_only {
                OrderKind::LimitMaker
            } else {
                OrderKind::Limit
            },
            tif: TimeInForce::Gtc,
            price,
            qty,
        }
    }

    /// A new GTC limit (or post-only) order on the main instrument; returns its id.
    pub fn limit(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
        post_only: bool,
        tick_at: UnixNanos,
    ) -> ClientOrderId {
        let i = self.intent(self.limit_spec(side, price, qty, post_only), tick_at);
        self.push(0, OrderIntent::New(i));
        i.cid
    }

    /// Cancels `old` and places a new limit order on the main instrument in its place;
    /// returns the new order's id.
    pub fn replace(
        &mut self,
        old: ClientOrderId,
        side: Side,
        price: Price,
        qty: Qty,
        post_only: bool,
        tick_at: UnixNanos,
    ) -> ClientOrderId {
        let new = self.intent(self.limit_spec(side, price, qty, post_only), tick_at);
        self.push(0, OrderIntent::Replace { cid: old, new });
        new.cid
    }

    /// Moves open order `old` to `price` and total `qty` (same instrument, side and type).
    /// On a venue that amends in place the order keeps its id, which is returned; its
    /// update then carries the new price and quantity, or the old ones if the venue refused
    /// (the order may have filled meanwhile). Elsewhere this is a cancel/replace: the new
    /// order has a new id, and if `old` filled meanwhile both count. `None` if `old` is not
    /// open.
    pub fn amend(
        &mut self,
        old: ClientOrderId,
        price: Price,
        qty: Qty,
        tick_at: UnixNanos,
    ) -> Option<ClientOrderId> {
        let o = *self.open.iter().find(|o| o.cid == old)?;
        let spec = OrderSpec {
            reduce_only: false,
            instrument: o.instrument,
            side: o.side,
            kind: o.kind,
            tif: o.tif,
            price,
            qty,
        };
        let route = self.route_of(o.instrument)?;
        if self.amends[route].is_some_and(|l| l.allows(o.price, o.qty, price, qty)) {
            self.push(
                route,
                OrderIntent::Amend {
                    strategy: self.strategy,
                    cid: old,
                    price,
                    qty,
                },
            );
            return Some(old);
        }
        let new = self.intent(spec, tick_at);
        self.push(route, OrderIntent::Replace { cid: old, new });
        Some(new.cid)
    }

    /// Cancels one order (sent to its instrument's venue; the main venue for an order the
    /// sink no longer holds as open).
    pub fn cancel(&mut self, cid: ClientOrderId) {
        let route = if self.routes.len() == 1 {
            0
        } else {
            self.open
                .iter()
                .find(|o| o.cid == cid)
                .and_then(|o| self.route_of(o.instrument))
                .unwrap_or(0)
        };
        self.push(
            route,
            OrderIntent::Cancel {
                strategy: self.strategy,
                cid,
            },
        );
    }

    /// Cancels every open order of the strategy, on every venue it declared.
    pub fn cancel_all(&mut self) {
        for route in 0..self.routes.len() {
            self.push(
                route,
                OrderIntent::CancelAll {
                    strategy: self.strategy,
                },
            );
        }
    }
}

/// What a strategy sees on each call.
pub struct StrategyCtx<'a> {
    pub now: UnixNanos,
    /// Its instrument's top of book as last published (check `valid`).
    pub book: TopOfBook,
    /// When the market frame this call reacts to was read: the book's `recv_ts` when the
    /// call is for a new book, `UnixNanos::ZERO` when it is not (a timer tick, an order
    /// update, stop). Intents sent from this call carry it (tick-to-order is measured from it).
    pub tick_at: UnixNanos,
    /// Its venue's current latency band.
    pub band: &'a Band,
    /// The kill switch is tripped: hold no orders.
    pub halted: bool,
    pub intents: &'a mut IntentSink,
    /// Depth, instruments, the engine's positions and balances, and its timers.
    pub env: &'a mut Env,
}

impl StrategyCtx<'_> {
    /// The best levels (up to the cache's depth) of a declared instrument.
    pub fn depth(&self, id: InstrumentId) -> Option<Depth> {
        self.env.declared(id)?;
        self.env.cache.as_ref().map(|c| c.depth(id))
    }

    /// The top of book of a declared instrument (`self.book` is the main one's).
    pub fn top(&self, id: InstrumentId) -> Option<TopOfBook> {
        self.env.declared(id)?;
        match &self.env.cache {
            Some(c) => Some(c.top(id)),
            None => (id == self.intents.instrument).then_some(self.book),
        }
    }

    /// A declared instrument's filters (tick, lot, minimums) and assets.
    pub fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.env.declared(id)
    }

    /// The engine's position of this strategy in its main instrument, from the venue's fills
    /// (zero before any).
    pub fn position(&self) -> Position {
        self.position_of(self.intents.instrument)
    }

    /// The engine's position of this strategy in `instrument`, from the venue's fills (zero
    /// before any).
    pub fn position_of(&self, instrument: InstrumentId) -> Position {
        self.env
            .board
            .as_ref()
            .map(|b| b.position(self.intents.strategy, instrument))
            .unwrap_or_default()
    }

    /// The latency band of `venue` (the main venue's is `self.band`); `None` when no latency
    /// monitor runs.
    pub fn band_on(&self, venue: VenueId) -> Option<&Band> {
        self.env.bands.as_ref().map(|b| b.band(venue))
    }

    /// The venue's balance of `asset` as the venue last reported it.
    pub fn balance(&self, venue: VenueId, asset: &str) -> Option<Balance> {
        self.env.board.as_ref()?.balance(venue, asset)
    }

    /// Its orders not yet final, as far as the engine knows.
    pub fn open_orders(&self) -> &[OpenOrder] {
        self.intents.open_orders()
    }

    /// Wakes the strategy (`on_timer(tag)`) at `at`.
    pub fn timer_at(&mut self, tag: u32, at: UnixNanos) {
        self.env.timers.at(tag, at);
    }

    /// Wakes the strategy every `period`, first one period from now.
    pub fn timer_every(&mut self, tag: u32, period: std::time::Duration) {
        let now = self.now;
        self.env.timers.every(tag, period.as_nanos() as u64, now);
    }

    pub fn cancel_timer(&mut self, tag: u32) {
        self.env.timers.cancel(tag);
    }

    /// A market order protected by a collar: sent as an IOC limit at the far touch moved
    /// `collar_bps` against the strategy, so it fills at once up to that price and never
    /// beyond; whatever the book cannot fill within the collar is cancelled by the venue.
    /// `None` (nothing sent) when the instrument is not declared or its book is not valid.
    pub fn market(
        &mut self,
        id: InstrumentId,
        side: Side,
        qty: Qty,
        collar_bps: u32,
    ) -> Option<ClientOrderId> {
        let top = self.top(id).filter(|t| t.valid)?;
        let tick = self.instrument(id)?.tick_size;
        let far = match side {
            Side::Buy => top.ask.price,
            Side::Sell => top.bid.price,
        };
        if !far.is_positive() {
            return None;
        }
        let shift = bps_of(far.units(), i64::from(collar_bps));
        let price = match side {
            Side::Buy => Price::from_units(far.units() + shift).floor_to(tick),
            Side::Sell => Price::from_units(far.units() - shift).ceil_to(tick),
        };
        let tick_at = self.tick_at;
        self.intents.place(
            OrderSpec {
                reduce_only: false,
                instrument: id,
                side,
                kind: OrderKind::Limit,
                tif: TimeInForce::Ioc,
                price,
                qty,
            },
            tick_at,
        )
    }
}

/// Read access a strategy has besides its own book: the cache, its declared instruments, the
/// engine's positions and balances, and its timers.
#[derive(Default)]
pub struct Env {
    cache: Option<CacheReader>,
    /// Its declared instruments, the main one first.
    instruments: Vec<Instrument>,
    board: Option<PositionBoard>,
    bands: Option<BandBoard>,
    pub timers: Timers,
    /// Trades the strategy closed since its host last looked (for `strategy_trades`).
    closed: Vec<StrategyTrade>,
}

impl Env {
    /// How many times the engine corrected `strategy`'s position in `instrument` from the
    /// venue's (see [`Strategy::on_position_corrected`]); 0 without a board.
    pub fn corrections(&self, strategy: StrategyId, instrument: InstrumentId) -> u32 {
        self.board
            .as_ref()
            .map_or(0, |b| b.position(strategy, instrument).corrections)
    }

    pub fn new(
        cache: Option<CacheReader>,
        instruments: Vec<Instrument>,
        board: Option<PositionBoard>,
    ) -> Self {
        Self {
            cache,
            instruments,
            board,
            bands: None,
            timers: Timers::default(),
            closed: Vec::new(),
        }
    }

    /// Records a trade the strategy closed; its host stores it (the database's
    /// `strategy_trades`). Seldom (once a trade), so it may allocate.
    pub fn trade_closed(&mut self, t: StrategyTrade) {
        self.closed.push(t);
    }

    /// The trades closed and not yet taken by the host.
    pub fn closed_trades(&mut self) -> &mut Vec<StrategyTrade> {
        &mut self.closed
    }

    /// Every venue's latency band, for strategies on several venues.
    pub fn with_bands(mut self, bands: Option<BandBoard>) -> Self {
        self.bands = bands;
        self
    }

    /// Without a cache or board (tests of one strategy): instruments only.
    pub fn detached(instruments: Vec<Instrument>) -> Self {
        Self::new(None, instruments, None)
    }

    fn declared(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.iter().find(|i| i.id == id)
    }

    /// A declared instrument.
    pub fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.declared(id)
    }

    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }
}

/// What the engine tells a strategy about trade prints or candles it missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// This many trade prints were dropped because the strategy fell behind; candles open
    /// meanwhile are marked incomplete.
    Trades(u64),
}

/// Figures a strategy reports for the status line and endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StrategyReport {
    pub bid: Option<(Price, Qty)>,
    pub ask: Option<(Price, Qty)>,
    pub base: Qty,
    /// Quote-asset balance at 10^-8 (may be negative in a report if fees exceed it).
    pub quote: i64,
    pub fills: u64,
    /// Realized plus marked PnL in quote units (reporting only).
    pub pnl: f64,
    /// PnL of completed round trips, where the strategy counts them (reporting only).
    pub realized_pnl: f64,
    /// Round trips completed, where the strategy counts them.
    pub round_trips: u64,
    /// When its last fill arrived.
    pub last_fill: Option<UnixNanos>,
    pub paused: bool,
    /// Why the strategy stopped opening new positions by its own limits, if it did.
    pub entries_stopped: Option<&'static str>,
    /// Orders the strategy decided against by its own filters (e.g. fees), where it counts.
    pub skipped: u64,
}

/// What a strategy asks the engine to deliver besides its book and order updates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Trade prints of its instruments (`on_trade`).
    pub trades: bool,
    /// Candle widths in nanoseconds (`on_candle`), built from its instruments' trades.
    pub candles: Vec<u64>,
}

/// A trading strategy. Every method is called on the strategy's host thread and must not
/// block; it reacts by sending intents through `cx.intents`.
pub trait Strategy: Send {
    /// What it wants delivered (asked once, when the engine wires it).
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions::default()
    }
    /// The book changed, or time passed (called at least every few milliseconds).
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>);
    /// A trade print of one of its instruments (if subscribed).
    fn on_trade(&mut self, _t: &TradeEvent, _cx: &mut StrategyCtx<'_>) {}
    /// A candle closed (if subscribed), oldest first.
    fn on_candle(&mut self, _c: &Candle, _cx: &mut StrategyCtx<'_>) {}
    /// A timer it set is due.
    fn on_timer(&mut self, _tag: u32, _cx: &mut StrategyCtx<'_>) {}
    /// Prints it subscribed to were lost: its series has a hole.
    fn on_gap(&mut self, _gap: Gap, _cx: &mut StrategyCtx<'_>) {}
    /// One of its orders changed.
    fn on_order_update(&mut self, u: &OrderUpdate, cx: &mut StrategyCtx<'_>);
    /// Fees of one of its orders' fills that were reported without them (a fill the engine
    /// learned by a query) are now known: `fix` adds to what those fills said. The order may
    /// have ended long before. A strategy that keeps PnL or balances from fills applies it;
    /// the default ignores it (the engine's risk and records apply it regardless).
    fn on_fee_correction(
        &mut self,
        _u: &OrderUpdate,
        _fix: crate::gateway::FeeCorrection,
        _cx: &mut StrategyCtx<'_>,
    ) {
    }
    /// The engine's position of this strategy in `instrument` was corrected from the venue's
    /// (a confirmed drift: a liquidation, an auto-deleverage, a trade by hand); `cx.position_of`
    /// gives the corrected figure. Learned within a report period (250 ms) of the correction.
    /// A strategy that keeps its own books of what it holds must not trade on them as they
    /// were; the default ignores it (a strategy reading `cx.position()` sees the new figure).
    fn on_position_corrected(&mut self, _instrument: InstrumentId, _cx: &mut StrategyCtx<'_>) {}
    /// The engine is stopping: cancel what it should.
    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>);
    /// New parameters (validated first; on `Err` nothing changed).
    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>>;
    /// A new model, read and checked off this thread, to predict with from the next
    /// prediction on. Kinds without a model refuse it.
    fn swap_model(&mut self, model: std::sync::Arc<super::model::Model>) -> Result<(), String> {
        let _ = model;
        Err("this strategy kind predicts with no model".into())
    }
    fn report(&self, mark: Option<Price>) -> StrategyReport;
    /// What it shows on `/status` beyond its report (its own view), if its kind has one.
    /// Asked about once a second, not on the tick path: it may allocate.
    fn detail(&self) -> Option<serde_json::Value> {
        None
    }
    fn set_paused(&mut self, paused: bool);
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
