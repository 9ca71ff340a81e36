//! The signal bot: one pair, long only (spot). Each closed candle updates the score; a hot
//! score that holds through the confirmation period opens a trade (outside the cooldown and
//! the bot's limits), bought in one or more tranches as post-only bids at the touch (re-priced,
//! given up after a timeout) or IOC; the trade closes with an IOC sell on a confirmed sell
//! signal, take-profit, stop-loss or maximum holding time.
//!
//! What the bot knows of its orders comes only from the engine's order updates (which the
//! gateway reconciles with the venue: a lost fill event arrives as a queried fill); it never
//! waits on an order forever (entries time out, cancels are repeated until an order ends).
//! PnL is counted from the fills' own quote amounts and fees.

use crate::gateway::OrderUpdate;
use crate::strategy::api::{OrderSpec, Strategy, StrategyCtx, StrategyReport, Subscriptions};
use crate::strategy::candles::Candle;
use crate::strategy::scalper::Trip;
use crate::types::{ClientOrderId, Instrument, Notional, OrderKind, Price, Qty, SCALE, Side};
use crate::types::{TimeInForce, UnixNanos};

use super::params::{EntryMode, SignalParams};
use super::rules::{Blocked, Confirmation, Cooldown, Day, Dca, ExitReason, Exits, Limits};
use super::score::{Reading, Scorer, Signal, signal_of};

mod reading;

/// A cancel not answered by the order's end within this is sent again.
const CANCEL_RETRY_NS: u64 = 5_000_000_000;
/// After a refusal (e.g. a post-only bid that met a book which had moved since the bot read
/// it), the bot waits this long before it tries that tranche again (at most `MAX_REFUSALS`
/// times per trade); an IOC exit the book could not fill waits as long.
const RETRY_NS: u64 = 200_000_000;
pub(super) const MAX_REFUSALS: u32 = 5;
/// Closed trades kept for the view (the count is kept apart).
const KEEP_TRADES: usize = 256;
/// Orders remembered with their trade, so fees learned after an order ended still reach it.
const KEEP_ORDERS: usize = 1_024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Entry,
    Exit,
}

/// One live order of a trade, as the engine's updates describe it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Working {
    cid: ClientOrderId,
    role: Role,
    price: Price,
    qty: Qty,
    filled: Qty,
    placed_at: UnixNanos,
    /// When the bot last asked for it to be cancelled.
    cancel_at: Option<UnixNanos>,
    /// Cancelled to follow the touch: what it leaves unfilled is bid again at the touch once
    /// the engine reports it ended (never before: if the cancel lost a race with a fill, a
    /// new bid would buy twice).
    requote: bool,
}

/// One trade: its fills, its live orders, its tranches and, once decided, why it closes.
#[derive(Debug, Clone)]
struct Trade {
    opened_at: UnixNanos,
    trip: Trip,
    orders: Vec<Working>,
    /// Tranches sent (or given up).
    tranches: u32,
    /// The next tranche waits until then (after a refusal).
    retry_at: UnixNanos,
    refusals: u32,
    exit: Option<ExitReason>,
    first_cid: Option<ClientOrderId>,
    /// The trade's number (its place in the bot's trades since start).
    serial: u64,
    /// The quote the tranche being bought was sized for, and what the trade had spent when
    /// it was sent: a re-priced entry bids for what is left of it, never re-derived from a
    /// quantity floored to the lot at every re-price (which wore the tranche down).
    tranche_quote: i64,
    spent_before: i64,
    /// What a re-priced entry has left to bid: the quote left of its tranche, and when the
    /// tranche began (the entry timeout runs from there).
    requote: Option<(i64, UnixNanos)>,
}

impl Trade {
    fn held(&self) -> Qty {
        Qty::from_units(self.trip.base_left().max(0))
    }

    fn live(&self, role: Role) -> impl Iterator<Item = &Working> {
        self.orders
            .iter()
            .filter(move |o| o.role == role && o.cancel_at.is_none())
    }

    /// Quote bought so far, 10^-8.
    fn spent(&self) -> i64 {
        (self.trip.bought / i128::from(SCALE)) as i64
    }
}

/// A closed trade, for the view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedTrade {
    pub opened_at: UnixNanos,
    pub closed_at: UnixNanos,
    /// Base bought.
    pub qty: Qty,
    pub entry: Option<Price>,
    pub exit: Option<Price>,
    /// Exact PnL from the fills (dust left valued at the exit's average price).
    pub pnl: Notional,
    pub reason: ExitReason,
    pub entry_cid: Option<ClientOrderId>,
    /// The trade's number, and the price its dust was valued at.
    pub serial: u64,
    pub mark: Price,
}

pub struct SignalBot {
    params: SignalParams,
    instrument: Instrument,
    scorer: Scorer,
    reading: Option<Reading>,
    bars: u64,
    confirm: Confirmation,
    cooldown: Cooldown,
    day: Day,
    trades: Vec<Trade>,
    closed: Vec<ClosedTrade>,
    closed_count: u64,
    opened_count: u64,
    /// The last orders placed, each with its trade's number.
    order_trades: std::collections::VecDeque<(ClientOrderId, u64)>,
    realized: i128,
    fills: u64,
    last_fill: Option<UnixNanos>,
    /// Entries or tranches not sent because an order would break the venue's filters.
    skipped: u64,
    /// The bot's own limit that last held back an entry.
    blocked: Option<Blocked>,
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

impl SignalBot {
    pub fn new(params: SignalParams, instrument: Instrument) -> Self {
        let scorer = match Scorer::new(&params) {
            Ok(s) => s,
            // `SignalParams::from_table` checked every period.
            Err(e) => unreachable!("validated periods: {e}"),
        };
        Self {
            confirm: Confirmation::new(ns(params.confirmation)),
            params,
            instrument,
            scorer,
            reading: None,
            bars: 0,
            cooldown: Cooldown::default(),
            day: Day::default(),
            trades: Vec::with_capacity(4),
            closed: Vec::new(),
            closed_count: 0,
            opened_count: 0,
            order_trades: std::collections::VecDeque::with_capacity(KEEP_ORDERS),
            realized: 0,
            fills: 0,
            last_fill: None,
            skipped: 0,
            blocked: None,
            paused: false,
            now: UnixNanos::ZERO,
            bid: None,
        }
    }

    /// Open trades' PnL at the last bid (0 before one), which the daily loss limit counts
    /// beside the day's closed trades.
    fn open_pnl(&self) -> i128 {
        self.bid.map_or(0, |b| self.unrealized(b))
    }

    fn limits(&self) -> Limits {
        let p = &self.params;
        Limits {
            max_per_trade: p.max_per_trade.units(),
            max_daily_loss: i128::from(p.max_daily_loss.units()) * i128::from(SCALE),
            max_open_positions: p.max_open_positions,
            max_trades_per_day: p.max_trades_per_day,
        }
    }

    fn exits(&self) -> Exits {
        let p = &self.params;
        Exits {
            on_signal: p.exit_on_signal,
            take_profit_ppm: ppm(p.take_profit_percent),
            stop_loss_ppm: ppm(p.stop_loss_percent),
            max_hold_ns: ns(p.max_hold),
        }
    }

    fn dca(&self) -> Dca {
        Dca {
            tranches: self.params.dca_tranches,
            interval_ns: ns(self.params.dca_interval),
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

    /// Sends tranche `k` of trade `i`; false if nothing could be sent.
    fn send_tranche(&mut self, i: usize, cx: &mut StrategyCtx<'_>) -> bool {
        let book = cx.book;
        let k = self.trades[i].tranches;
        let quote = self.dca().size(self.params.trade_size.units(), k);
        let price = match self.params.entry {
            EntryMode::PostOnly => book.bid.price,
            EntryMode::Ioc => book.ask.price,
        };
        let qty = self.qty_for(quote, price);
        let notional = (i128::from(price.units()) * i128::from(qty.units()) / i128::from(SCALE)) as i64;
        if let Err(b) = self
            .day
            .tranche(&self.limits(), self.trades[i].spent(), notional, self.open_pnl())
        {
            self.blocked = Some(b);
            self.trades[i].tranches = self.params.dca_tranches;
            return false;
        }
        if self.instrument.check_order(price, qty).is_err() {
            self.skipped += 1;
            self.trades[i].tranches += 1;
            return false;
        }
        let cid = match self.params.entry {
            EntryMode::PostOnly => cx.intents.place(
                OrderSpec {
                    reduce_only: false,
                    instrument: self.instrument.id,
                    side: Side::Buy,
                    kind: OrderKind::LimitMaker,
                    tif: TimeInForce::Gtc,
                    price,
                    qty,
                },
                cx.tick_at,
            ),
            EntryMode::Ioc => cx.market(self.instrument.id, Side::Buy, qty, self.collar_bps()),
        };
        let Some(cid) = cid else { return false };
        let t = &mut self.trades[i];
        t.tranches += 1;
        t.tranche_quote = quote;
        t.spent_before = t.spent();
        t.first_cid.get_or_insert(cid);
        let serial = t.serial;
        self.remember(cid, serial);
        let t = &mut self.trades[i];
        t.orders.push(Working {
            cid,
            role: Role::Entry,
            price,
            qty,
            filled: Qty::ZERO,
            placed_at: cx.now,
            cancel_at: None,
            requote: false,
        });
        true
    }

    /// Bids what a re-priced entry left at the touch, unless its tranche timed out.
    fn send_requote(&mut self, i: usize, cx: &mut StrategyCtx<'_>) {
        let Some((quote, started)) = self.trades[i].requote.take() else {
            return;
        };
        let price = cx.book.bid.price;
        let qty = self.qty_for(quote, price);
        if cx.now.since(started) >= ns(self.params.entry_timeout)
            || self.instrument.check_order(price, qty).is_err()
        {
            return;
        }
        let spec = OrderSpec {
            reduce_only: false,
            instrument: self.instrument.id,
            side: Side::Buy,
            kind: OrderKind::LimitMaker,
            tif: TimeInForce::Gtc,
            price,
            qty,
        };
        if let Some(cid) = cx.intents.place(spec, cx.tick_at) {
            self.remember(cid, self.trades[i].serial);
            self.trades[i].orders.push(Working {
                cid,
                role: Role::Entry,
                price,
                qty,
                filled: Qty::ZERO,
                placed_at: started,
                cancel_at: None,
                requote: false,
            });
        }
    }

    fn cancel(o: &mut Working, cx: &mut StrategyCtx<'_>) {
        o.cancel_at = Some(cx.now);
        cx.intents.cancel(o.cid);
    }

    /// Post-only entries: re-priced to the touch (cancelled, then bid again once the engine
    /// reports the cancel), given up after the timeout; cancels not answered are asked again.
    fn tend_orders(&mut self, i: usize, cx: &mut StrategyCtx<'_>) {
        let bid = cx.book.bid.price;
        let timeout = ns(self.params.entry_timeout);
        let post_only = self.params.entry == EntryMode::PostOnly;
        let reprice = self.params.reprice && post_only;
        for o in &mut self.trades[i].orders {
            if let Some(at) = o.cancel_at {
                if cx.now.since(at) >= CANCEL_RETRY_NS {
                    Self::cancel(o, cx);
                }
                continue;
            }
            if o.role != Role::Entry || !post_only {
                continue;
            }
            if cx.now.since(o.placed_at) >= timeout {
                Self::cancel(o, cx);
            } else if reprice && bid > o.price {
                o.requote = true;
                Self::cancel(o, cx);
            }
        }
    }

    /// Exits and tranches of each open trade; trades that are done are closed.
    fn manage(&mut self, cx: &mut StrategyCtx<'_>, sell: bool) {
        let bid = cx.book.bid.price;
        let exits = self.exits();
        let cooling = self.cooldown.active(cx.now);
        let mut i = 0;
        while i < self.trades.len() {
            self.tend_orders(i, cx);
            let t = &mut self.trades[i];
            if t.exit.is_none()
                && t.trip.bought_qty > 0
                && let Some(entry) = t.trip.avg_price(Side::Buy)
            {
                t.exit = exits.due(entry, bid, t.opened_at, cx.now, sell, cooling);
                if t.exit.is_some() {
                    for o in t.orders.iter_mut().filter(|o| o.role == Role::Entry) {
                        if o.cancel_at.is_none() {
                            Self::cancel(o, cx);
                        }
                    }
                }
            }
            let t = &self.trades[i];
            if t.exit.is_some() {
                if !t.orders.iter().any(|o| o.role == Role::Exit) && cx.now >= t.retry_at {
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
                                requote: false,
                            });
                        }
                    } else if t.orders.is_empty() {
                        // Nothing sellable left (dust below the venue's minimums).
                        self.close(i, cx, bid);
                        continue;
                    }
                }
            } else if t.orders.is_empty() && t.requote.is_some() {
                self.send_requote(i, cx);
            } else if t.orders.is_empty() && t.tranches < self.params.dca_tranches {
                let due = self.dca().due_at(t.opened_at, t.tranches).max(t.retry_at);
                if cx.now >= due {
                    self.send_tranche(i, cx);
                }
            }
            let t = &self.trades[i];
            if t.exit.is_none()
                && t.orders.is_empty()
                && t.requote.is_none()
                && t.tranches >= self.params.dca_tranches
                && t.trip.bought_qty == 0
            {
                // Every tranche ended unfilled: nothing was bought, nothing to close, and
                // no trade of the day was made (`max_trades_per_day` counts trades that
                // bought something).
                let opened_at = t.opened_at;
                self.day.unopen(opened_at);
                self.trades.remove(i);
                continue;
            }
            i += 1;
        }
    }

    /// What an exit may sell of `held`: no more than the venue's free balance of the base
    /// asset when the engine knows it (fees the bot was not told of, e.g. of a fill learned by
    /// a query, leave less in the account than its fills say), down to the lot.
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

    /// A confirmed buy opens a trade when the cooldown and the bot's limits allow.
    fn maybe_open(&mut self, cx: &mut StrategyCtx<'_>) {
        let buying = |t: &Trade| {
            t.exit.is_none() && (t.tranches < self.params.dca_tranches || t.requote.is_some())
        };
        if self.cooldown.active(cx.now) || self.trades.iter().any(buying) {
            return;
        }
        let open = self.trades.len() as u32;
        match self.day.new_trade(&self.limits(), open, self.open_pnl()) {
            Err(b) => self.blocked = Some(b),
            Ok(()) => {
                self.blocked = None;
                self.day.entries += 1;
                self.confirm.restart(cx.now);
                self.trades.push(Trade {
                    opened_at: cx.now,
                    trip: Trip::default(),
                    orders: Vec::with_capacity(4),
                    tranches: 0,
                    retry_at: UnixNanos::ZERO,
                    refusals: 0,
                    exit: None,
                    first_cid: None,
                    serial: self.opened_count,
                    tranche_quote: 0,
                    spent_before: 0,
                    requote: None,
                });
                self.opened_count += 1;
                let i = self.trades.len() - 1;
                self.send_tranche(i, cx);
            }
        }
    }

    fn remember(&mut self, cid: ClientOrderId, serial: u64) {
        if self.order_trades.len() == KEEP_ORDERS {
            self.order_trades.pop_front();
        }
        self.order_trades.push_back((cid, serial));
    }

    /// Fees learned after the fact (`u.cid`'s fills had been reported without them): an open
    /// trade's fills take them; a closed trade's PnL (and the bot's) gives them up, a base
    /// fee valued at the price that trade's dust was valued at.
    fn correct_fees(&mut self, u: &OrderUpdate, fix: crate::gateway::FeeCorrection) {
        let (base, quote) = (self.instrument.base.as_str(), self.instrument.quote.as_str());
        let serial = self
            .order_trades
            .iter()
            .rev()
            .find(|(c, _)| *c == u.cid)
            .map(|(_, s)| *s);
        let Some(serial) = serial else { return };
        if let Some(t) = self.trades.iter_mut().find(|t| t.serial == serial) {
            t.trip.add_fee(fix.asset.as_str(), fix.delta, base, quote);
            return;
        }
        let Some(c) = self.closed.iter_mut().find(|c| c.serial == serial) else {
            return;
        };
        let price = if fix.asset.as_str() == quote {
            SCALE
        } else if fix.asset.as_str() == base {
            c.mark.units()
        } else {
            return;
        };
        let cost = i128::from(fix.delta.units()) * i128::from(price);
        c.pnl = Notional(c.pnl.0 - cost);
        self.realized -= cost;
        self.day.realized -= cost;
    }

    /// Closes trade `i`. The dust it leaves (below the venue's minimums) is valued at the
    /// exit's average price: a figure from its fills, not from wherever the market is by the
    /// time the exit's outcome arrives; at `bid` when nothing was sold.
    fn close(&mut self, i: usize, cx: &mut StrategyCtx<'_>, bid: Price) {
        let now = cx.now;
        let t = self.trades.remove(i);
        let bid = t.trip.avg_price(Side::Sell).unwrap_or(bid);
        let pnl = t.trip.pnl(bid);
        self.realized += pnl;
        self.day.realized += pnl;
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
            reason: t.exit.unwrap_or(ExitReason::Signal),
            entry_cid: t.first_cid,
            serial: t.serial,
            mark: bid,
        });
        if let Some(c) = self.closed.last() {
            cx.env.trade_closed(crate::types::StrategyTrade {
                strategy: crate::types::StrategyId(0),
                instrument: self.instrument.id,
                opened_at: c.opened_at,
                closed_at: c.closed_at,
                qty: c.qty,
                entry: c.entry,
                exit: c.exit,
                pnl: c.pnl,
                reason: c.reason.as_str(),
                model: None,
                confidence: None,
            });
        }
    }

    fn step(&mut self, cx: &mut StrategyCtx<'_>) {
        self.now = cx.now;
        self.day.roll(cx.now);
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
        let confirmed = self.confirm.confirmed(cx.now);
        let sell = confirmed == Some(Signal::Sell);
        let by_signal =
            |b: &Self| b.trades.iter().filter(|t| t.exit == Some(ExitReason::Signal)).count();
        let before = by_signal(self);
        self.manage(cx, sell);
        if by_signal(self) > before {
            // Acted on: the sell must hold a whole period again before it counts again.
            self.confirm.restart(cx.now);
        }
        if confirmed == Some(Signal::Buy) {
            self.maybe_open(cx);
        }
    }
}

impl Strategy for SignalBot {
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
        if let Some(r) = self.scorer.update(c.close.to_f64()) {
            self.reading = Some(r);
            self.confirm
                .observe(signal_of(r.score, &self.params.bands), cx.now);
        }
        self.step(cx);
    }

    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        self.step(cx);
    }

    fn on_fee_correction(
        &mut self,
        u: &OrderUpdate,
        fix: crate::gateway::FeeCorrection,
        _cx: &mut StrategyCtx<'_>,
    ) {
        self.correct_fees(u, fix);
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
            self.trades[i]
                .trip
                .add(f, inst.base.as_str(), inst.quote.as_str());
        }
        let t = &mut self.trades[i];
        t.orders[k].filled = u.filled_qty;
        if !u.status.is_final() {
            return;
        }
        let o = t.orders.remove(k);
        if !o.filled.is_zero() {
            self.cooldown.start(cx.now, ns(self.params.cooldown));
        }
        if o.role == Role::Exit && o.filled < o.qty {
            // An IOC exit the book could not fill within its collar: the rest goes again soon.
            t.retry_at = cx.now.plus_nanos(RETRY_NS);
        }
        if o.role == Role::Entry && o.requote && t.exit.is_none() {
            let left = o.qty.saturating_sub(o.filled).floor_to(self.instrument.lot_size);
            let quote = t.tranche_quote - (t.spent() - t.spent_before);
            if !left.is_zero() && quote > 0 {
                t.requote = Some((quote, o.placed_at));
            }
        }
        if o.role == Role::Entry && o.cancel_at.is_none() && o.filled.is_zero() {
            // Refused or expired by the venue (not given up by the bot): try the tranche again
            // a little later, a few times.
            t.refusals += 1;
            if t.refusals <= MAX_REFUSALS {
                t.tranches = t.tranches.saturating_sub(1);
                t.retry_at = cx.now.plus_nanos(RETRY_NS);
            }
        }
        if t.exit.is_some() && t.orders.is_empty() {
            let bid = self.bid.unwrap_or(u.price);
            let qty = t.held().floor_to(self.instrument.lot_size);
            if self.instrument.check_order(bid, qty).is_err() {
                self.close(i, cx, bid);
            }
        }
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.params.cancel_on_shutdown {
            cx.intents.cancel_all();
        }
    }

    /// New thresholds, weights and durations apply from the next candle. New periods start
    /// the indicators over (no reading until they have warmed up again, and a signal being
    /// confirmed is dropped: it was read on the old series); open trades keep their exits.
    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        let p = SignalParams::from_table(params)?;
        let periods = |p: &SignalParams| {
            let f = (p.rsi_period, p.ma_fast, p.ma_slow, p.macd_fast, p.macd_slow);
            (f, p.macd_signal)
        };
        if periods(&p) != periods(&self.params) {
            // `from_table` checked the periods, as it did for `new`.
            self.scorer = Scorer::new(&p).map_err(|e| vec![("periods".into(), e.to_string())])?;
            self.reading = None;
            self.confirm = Confirmation::new(ns(p.confirmation));
        } else {
            self.scorer.retune(&p);
            self.confirm.set_period(ns(p.confirmation));
        }
        self.params = p;
        Ok(())
    }

    fn report(&self, mark: Option<Price>) -> StrategyReport {
        let f = |v: i128| v as f64 / Notional::SCALE as f64;
        let open = mark.or(self.bid).map_or(0, |m| self.unrealized(m));
        let live = |role: Role| {
            self.trades.iter().find_map(|t| {
                t.live(role)
                    .next()
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
            entries_stopped: self.entries_stopped().map(Blocked::as_str),
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
