//! The latency-adaptive scalper: one strategy over several symbols on several venues. Each
//! declared instrument is a market; markets with the same base and quote are one symbol, which
//! holds at most one trade at a time. On every book change a market's mid joins its momentum
//! window; a symbol enters on the venue whose spread passes its band's entry filter and whose
//! momentum passes `eps`, the better band first (then the wider spread), sized by the band,
//! throttled by the day's loss and capped by the venue's free balance. A trade exits by
//! take-profit, stop-loss or time stop as IOC orders; its PnL is its fills'.

use crate::gateway::OrderUpdate;
use crate::strategy::api::{OrderSpec, Strategy, StrategyCtx, StrategyReport};
use crate::types::{ClientOrderId, Instrument, InstrumentId, Notional, OrderKind, Price, Qty};
use crate::types::{Side, TimeInForce, UnixNanos, VenueId};

use super::params::{Fees, ScalperParams};
use super::signals::{self, Candidate, ExitReason, Momentum};
use super::trip::{TradeRecord, Trip};

const NS_PER_DAY: u64 = 86_400_000_000_000;
/// Closed trades kept for reports (the count of all is kept apart).
pub const KEEP_TRADES: usize = 64;

/// Why the scalper is not entering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    MaxTradesPerDay,
    MaxDailyLoss,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::MaxTradesPerDay => "max_trades_per_day reached",
            StopReason::MaxDailyLoss => "max_daily_loss reached",
        }
    }
}

/// What the scalper last saw of one venue (for its view on `/status`), refreshed every tick
/// without allocating.
#[derive(Debug, Clone)]
pub struct VenueSnap {
    pub venue: VenueId,
    pub name: String,
    /// The quote asset of its first market (whose free balance sizes entries).
    pub quote: String,
    /// Rank in the scalper's band table (an unknown latency band is the last).
    pub band_rank: usize,
    /// Its free balance of `quote` as last reported; `None` before any report.
    pub free_quote: Option<Qty>,
}

/// The order a market is waiting on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Working {
    cid: ClientOrderId,
    entry: bool,
    /// The market's mid when the order was decided.
    mid: Price,
    placed_at: UnixNanos,
    cancelling: bool,
}

/// A trade under way in a market.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Open {
    side: Side,
    trip: Trip,
    opened_at: UnixNanos,
    /// The mid the entry was decided at: exits judge the mid's move from it.
    entry_mid: Price,
    entry_cid: ClientOrderId,
    /// Set once an exit is decided; kept until the trade is closed.
    exiting: Option<ExitReason>,
}

/// One declared instrument.
#[derive(Debug, Clone)]
struct Market {
    inst: Instrument,
    /// Index of its symbol (same base and quote across venues).
    symbol: usize,
    fees: Fees,
    momentum: Momentum,
    last_seq: u64,
    last_mid: Option<Price>,
    working: Option<Working>,
    open: Option<Open>,
    /// No entry before this (after a trade or a failed entry).
    idle_until: UnixNanos,
}

pub struct Scalper {
    params: ScalperParams,
    markets: Vec<Market>,
    venues: Vec<VenueSnap>,
    n_symbols: usize,
    /// Candidates of the symbol being decided (reused).
    candidates: Vec<Candidate>,
    day: u64,
    /// Round trips begun today (an entry's first fill counts one) and today's PnL of closed
    /// trades at 10^-16, fees included.
    trades_today: u32,
    day_pnl: i128,
    realized: i128,
    round_trips: u64,
    fills: u64,
    last_fill: Option<UnixNanos>,
    /// Entries skipped because the expected edge could not pay the round trip's fees.
    skipped_for_fees: u64,
    stopped: Option<StopReason>,
    trades: std::collections::VecDeque<TradeRecord>,
    paused: bool,
}

impl Scalper {
    /// `markets`: every declared instrument, the main one first; `venue_names` by venue id.
    pub fn new(params: ScalperParams, markets: &[Instrument], venue_names: &[String]) -> Self {
        let mut symbols: Vec<(String, String)> = Vec::new();
        let markets = markets
            .iter()
            .map(|i| {
                let key = (i.base.clone(), i.quote.clone());
                let symbol = symbols.iter().position(|s| *s == key).unwrap_or_else(|| {
                    symbols.push(key);
                    symbols.len() - 1
                });
                let venue = venue_names.get(i.venue.index()).map_or("", String::as_str);
                Market {
                    inst: i.clone(),
                    symbol,
                    fees: params.fees_of(venue),
                    momentum: Momentum::new(params.momentum_window),
                    last_seq: 0,
                    last_mid: None,
                    working: None,
                    open: None,
                    idle_until: UnixNanos::ZERO,
                }
            })
            .collect::<Vec<_>>();
        let mut venues: Vec<VenueSnap> = Vec::new();
        for m in &markets {
            if venues.iter().all(|v| v.venue != m.inst.venue) {
                venues.push(VenueSnap {
                    venue: m.inst.venue,
                    name: venue_names
                        .get(m.inst.venue.index())
                        .cloned()
                        .unwrap_or_default(),
                    quote: m.inst.quote.clone(),
                    band_rank: params.bands.len() - 1,
                    free_quote: None,
                });
            }
        }
        Self {
            venues,
            candidates: Vec::with_capacity(markets.len()),
            n_symbols: symbols.len(),
            markets,
            params,
            day: 0,
            trades_today: 0,
            day_pnl: 0,
            realized: 0,
            round_trips: 0,
            fills: 0,
            last_fill: None,
            skipped_for_fees: 0,
            stopped: None,
            trades: std::collections::VecDeque::with_capacity(KEEP_TRADES),
            paused: false,
        }
    }

    /// Closed trades, the latest last (at most [`KEEP_TRADES`]).
    pub fn trades(&self) -> impl DoubleEndedIterator<Item = &TradeRecord> {
        self.trades.iter()
    }

    pub fn trades_today(&self) -> u32 {
        self.trades_today
    }

    /// Today's PnL of closed trades, fees included, 10^-16 quote units.
    pub fn day_pnl(&self) -> i128 {
        self.day_pnl
    }

    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped
    }

    pub fn skipped_for_fees(&self) -> u64 {
        self.skipped_for_fees
    }

    pub fn params(&self) -> &ScalperParams {
        &self.params
    }

    /// Each venue as last seen: band and free quote balance.
    pub fn venues(&self) -> &[VenueSnap] {
        &self.venues
    }

    /// The drawdown factor entries are sized with now.
    pub fn drawdown(&self) -> f64 {
        signals::drawdown_factor(-self.day_pnl, self.max_loss())
    }

    fn max_loss(&self) -> i128 {
        i128::from(self.params.max_daily_loss.units()) * Notional::SCALE
            / i128::from(crate::types::SCALE)
    }

    /// Refreshes what the view shows of each venue.
    fn observe_venues(&mut self, cx: &StrategyCtx<'_>) {
        for v in &mut self.venues {
            let name = cx.band_on(v.venue).map(|b| b.name.as_str());
            v.band_rank = self.params.band(name).0;
            v.free_quote = cx.balance(v.venue, &v.quote).map(|b| b.free);
        }
    }

    /// Trades under way.
    pub fn open_trades(&self) -> usize {
        self.markets.iter().filter(|m| m.open.is_some()).count()
    }

    /// A new UTC day: the round-trip count and the day's PnL start again.
    fn roll_day(&mut self, now: UnixNanos) {
        let day = now.0 / NS_PER_DAY;
        if day != self.day {
            self.day = day;
            self.trades_today = 0;
            self.day_pnl = 0;
            self.stopped = None;
        }
    }

    /// Why no entry may start now, if any; entries under way count against the trade limit.
    fn check_limits(&mut self) -> Option<StopReason> {
        let max_loss = self.max_loss();
        let in_flight = self
            .markets
            .iter()
            .filter(|m| m.working.is_some_and(|w| w.entry) && m.open.is_none())
            .count() as u32;
        let reason = if -self.day_pnl >= max_loss {
            Some(StopReason::MaxDailyLoss)
        } else if self.trades_today + in_flight >= self.params.max_trades_per_day {
            Some(StopReason::MaxTradesPerDay)
        } else {
            None
        };
        if reason.is_some() && self.stopped.is_none() {
            tracing::warn!(reason = reason.map(StopReason::as_str), "scalper stops entering");
        }
        if reason.is_some() {
            self.stopped = reason;
        }
        reason
    }

    /// New mids join their market's momentum window (once per book change).
    fn observe_books(&mut self, cx: &StrategyCtx<'_>) {
        for m in &mut self.markets {
            let Some(top) = cx.top(m.inst.id) else {
                continue;
            };
            if !top.valid || top.seq == m.last_seq {
                continue;
            }
            m.last_seq = top.seq;
            let mid = Price::from_units((top.bid.price.units() + top.ask.price.units()) / 2);
            m.momentum.push(mid);
            m.last_mid = Some(mid);
        }
    }

    /// Exits due, and post-only entries that waited too long.
    fn manage(&mut self, cx: &mut StrategyCtx<'_>) {
        let now = cx.now;
        for k in 0..self.markets.len() {
            let m = &mut self.markets[k];
            if let Some(w) = &mut m.working {
                let late = now.0.saturating_sub(w.placed_at.0)
                    >= self.params.entry_timeout.as_nanos() as u64;
                if w.entry && !w.cancelling && late {
                    w.cancelling = true;
                    cx.intents.cancel(w.cid);
                }
                continue;
            }
            let Some(open) = &mut m.open else {
                continue;
            };
            if open.exiting.is_some() && now < m.idle_until {
                continue; // an exit that did not complete is retried after the cooldown
            }
            let Some(top) = cx.top(m.inst.id).filter(|t| t.valid) else {
                continue;
            };
            let mid = Price::from_units((top.bid.price.units() + top.ask.price.units()) / 2);
            let exits = signals::Exits {
                take_profit_ppm: self.params.take_profit_ppm,
                stop_loss_ppm: self.params.stop_loss_ppm,
                time_stop: self.params.time_stop,
            };
            let reason = open.exiting.or_else(|| {
                signals::exit_reason(open.side, open.entry_mid, mid, open.opened_at, now, &exits)
            });
            let Some(reason) = reason else {
                continue;
            };
            open.exiting = Some(reason);
            let qty = exit_qty(open, &m.inst, mid);
            if qty.is_zero() {
                self.close(k, now);
                continue;
            }
            let side = open.side.opposite();
            if let Some(cid) = cx.market(m.inst.id, side, qty, self.params.exit_collar_bps) {
                m.working = Some(Working {
                    cid,
                    entry: false,
                    mid,
                    placed_at: now,
                    cancelling: false,
                });
            }
        }
    }

    /// Enters where a symbol with no trade qualifies.
    fn enter(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.paused || cx.halted || self.check_limits().is_some() {
            return;
        }
        let drawdown = self.drawdown();
        for symbol in 0..self.n_symbols {
            let busy = self
                .markets
                .iter()
                .any(|m| m.symbol == symbol && (m.open.is_some() || m.working.is_some()));
            if busy {
                continue;
            }
            self.candidates.clear();
            for (k, m) in self.markets.iter().enumerate() {
                if m.symbol != symbol || cx.now < m.idle_until {
                    continue;
                }
                let Some(top) = cx.top(m.inst.id).filter(|t| t.valid) else {
                    continue;
                };
                let band_name = cx.band_on(m.inst.venue).map(|b| b.name.as_str());
                let (rank, band) = self.params.band(band_name);
                if !signals::spread_ok(top.bid.price, top.ask.price, band.entry_min_spread_ppm)
                    || m
                        .momentum
                        .signal(self.params.momentum_min_updates, self.params.momentum_eps_ppm)
                        .is_none()
                {
                    continue;
                }
                self.candidates.push(Candidate {
                    market: k,
                    band_rank: rank,
                    spread_ppm: signals::spread_ppm(top.bid.price, top.ask.price),
                });
            }
            let Some(c) = signals::choose(&self.candidates) else {
                continue;
            };
            self.enter_on(c, drawdown, cx);
        }
    }

    fn enter_on(&mut self, c: Candidate, drawdown: f64, cx: &mut StrategyCtx<'_>) {
        let p = &self.params;
        let m = &mut self.markets[c.market];
        let Some(side) = m.momentum.signal(p.momentum_min_updates, p.momentum_eps_ppm) else {
            return;
        };
        let Some(top) = cx.top(m.inst.id) else {
            return;
        };
        if !signals::edge_pays(p.take_profit_ppm, c.spread_ppm, m.fees, p.post_only) {
            self.skipped_for_fees += 1;
            m.idle_until = cx.now.plus_nanos(p.cooldown.as_nanos() as u64);
            return;
        }
        let mid = Price::from_units((top.bid.price.units() + top.ask.price.units()) / 2);
        // IOC at the far touch (takes it), or post-only at the near touch (joins it).
        let price = match (side, p.post_only) {
            (Side::Buy, false) | (Side::Sell, true) => top.ask.price,
            (Side::Sell, false) | (Side::Buy, true) => top.bid.price,
        };
        let asset = match side {
            Side::Buy => m.inst.quote.as_str(),
            Side::Sell => m.inst.base.as_str(),
        };
        let available = cx
            .balance(m.inst.venue, asset)
            .map_or(Qty::ZERO, |b| b.free);
        let band_name = cx.band_on(m.inst.venue).map(|b| b.name.as_str());
        let (_, band) = p.band(band_name);
        let qty = signals::entry_qty(
            band,
            drawdown,
            side,
            price,
            available,
            p.balance_cap_ppm,
            m.inst.lot_size,
        );
        let notional_ok = m.inst.min_notional.is_zero()
            || price.notional(qty).0 >= Notional::from_price(m.inst.min_notional).0;
        if qty.is_zero() || qty < m.inst.min_qty || !notional_ok {
            m.idle_until = cx.now.plus_nanos(p.cooldown.as_nanos() as u64);
            return;
        }
        let (kind, tif) = if p.post_only {
            (OrderKind::LimitMaker, TimeInForce::Gtc)
        } else {
            (OrderKind::Limit, TimeInForce::Ioc)
        };
        let spec = OrderSpec {
            reduce_only: false,
            instrument: m.inst.id,
            side,
            kind,
            tif,
            price,
            qty,
        };
        let tick_at = cx.tick_at;
        if let Some(cid) = cx.intents.place(spec, tick_at) {
            m.working = Some(Working {
                cid,
                entry: true,
                mid,
                placed_at: cx.now,
                cancelling: false,
            });
        }
    }

    /// The trade in market `k` is done: book it from its fills.
    fn close(&mut self, k: usize, now: UnixNanos) {
        let m = &mut self.markets[k];
        let Some(open) = m.open.take() else {
            return;
        };
        m.idle_until = now.plus_nanos(self.params.cooldown.as_nanos() as u64);
        m.momentum.clear();
        let exit_side = open.side.opposite();
        let entry = open.trip.avg_price(open.side).unwrap_or(Price::ZERO);
        let exit = open.trip.avg_price(exit_side).unwrap_or(entry);
        let pnl = open.trip.pnl(exit);
        self.realized += pnl;
        self.day_pnl += pnl;
        self.round_trips += 1;
        let qty = match open.side {
            Side::Buy => open.trip.bought_qty,
            Side::Sell => open.trip.sold_qty,
        };
        if self.trades.len() == KEEP_TRADES {
            self.trades.pop_front();
        }
        self.trades.push_back(TradeRecord {
            opened_at: open.opened_at,
            closed_at: now,
            venue: m.inst.venue,
            instrument: m.inst.id,
            side: open.side,
            qty: Qty::from_units(qty),
            entry,
            exit,
            pnl: Notional(pnl),
            reason: open.exiting.unwrap_or(ExitReason::TimeStop),
            entry_cid: open.entry_cid,
        });
    }

    /// One of its markets' instrument, by id.
    pub fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.markets.iter().find(|m| m.inst.id == id).map(|m| &m.inst)
    }
}

/// What closing `open` takes now at about `price`, rounded down to the lot: a long sells the
/// base it holds (what it bought, less base fees, less what it sold); a short buys back what
/// it sold. Zero when what is left is below the instrument's minimums (that dust stays, valued
/// in the PnL).
fn exit_qty(open: &Open, inst: &Instrument, price: Price) -> Qty {
    let t = &open.trip;
    let left = match open.side {
        Side::Buy => t.bought_qty - t.base_fees - t.sold_qty,
        Side::Sell => t.sold_qty - t.bought_qty,
    };
    let lot = inst.lot_size.units().max(1);
    let q = Qty::from_units(left.max(0) / lot * lot);
    let below_notional = inst.min_notional.is_positive()
        && price.is_positive()
        && price.notional(q).0 < Notional::from_price(inst.min_notional).0;
    if q.is_zero() || q < inst.min_qty || below_notional {
        return Qty::ZERO;
    }
    q
}

impl Strategy for Scalper {
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        self.roll_day(cx.now);
        self.observe_books(cx);
        self.observe_venues(cx);
        self.manage(cx);
        self.enter(cx);
    }

    fn on_order_update(&mut self, u: &OrderUpdate, cx: &mut StrategyCtx<'_>) {
        self.roll_day(cx.now);
        let Some(k) = self
            .markets
            .iter()
            .position(|m| m.working.is_some_and(|w| w.cid == u.cid))
        else {
            return;
        };
        let m = &mut self.markets[k];
        let Some(w) = m.working else {
            return;
        };
        if let Some(f) = &u.fill {
            self.fills += 1;
            self.last_fill = Some(u.at);
            if m.open.is_none() && w.entry {
                m.open = Some(Open {
                    side: f.side,
                    trip: Trip::default(),
                    opened_at: u.at,
                    entry_mid: w.mid,
                    entry_cid: w.cid,
                    exiting: None,
                });
                // A round trip counts once, at its entry's first fill.
                self.trades_today += 1;
            }
            if let Some(open) = &mut m.open {
                open.trip.add(f, &m.inst.base, &m.inst.quote);
            }
        }
        if !u.status.is_final() {
            return;
        }
        m.working = None;
        let cooldown = self.params.cooldown.as_nanos() as u64;
        match (&m.open, w.entry) {
            (None, _) => m.idle_until = cx.now.plus_nanos(cooldown),
            (Some(_), true) => {}
            (Some(open), false) => {
                let mark = m.last_mid.or(open.trip.avg_price(open.side));
                if exit_qty(open, &m.inst, mark.unwrap_or(Price::ZERO)).is_zero() {
                    self.close(k, cx.now);
                } else {
                    m.idle_until = cx.now.plus_nanos(cooldown);
                }
            }
        }
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.params.cancel_on_shutdown {
            cx.intents.cancel_all();
        }
    }

    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        let p = ScalperParams::from_table(params)?;
        if p.momentum_window != self.params.momentum_window {
            for m in &mut self.markets {
                m.momentum = Momentum::new(p.momentum_window);
            }
        }
        self.params = p;
        Ok(())
    }

    fn report(&self, _mark: Option<Price>) -> StrategyReport {
        let open: i128 = self
            .markets
            .iter()
            .filter_map(|m| Some(m.open?.trip.pnl(m.last_mid?)))
            .sum();
        let f = |v: i128| v as f64 / Notional::SCALE as f64;
        StrategyReport {
            fills: self.fills,
            pnl: f(self.realized + open),
            realized_pnl: f(self.realized),
            round_trips: self.round_trips,
            last_fill: self.last_fill,
            paused: self.paused,
            entries_stopped: self.stopped.map(StopReason::as_str),
            skipped: self.skipped_for_fees,
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
