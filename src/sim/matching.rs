//! Matching: simulator orders against external liquidity and against each other, in
//! price-time priority, and external market trades against resting simulator orders.
//!
//! At one price the queue is: the external quantity that was there when a simulator order
//! arrived (`queue_ahead`), that order, later simulator orders (each behind its own
//! `queue_ahead`), then the rest of the external quantity.

use serde_json::json;

use super::exchange::{Exchange, crosses, fee_of, now_ms, quote_of, side_idx};
use super::orders::{Counterparty, Fill, Status};
use crate::types::{Price, Qty, Side};

/// Who is taking liquidity at a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggressor {
    /// External flow (the random walk or a recorded trade).
    Market,
    Order(u64),
}

impl Exchange {
    /// Best price on `resting_side` among external levels and resting simulator orders, no
    /// worse than `limit` for the aggressor.
    pub(super) fn best_opposite(
        &self,
        symbol: usize,
        resting_side: Side,
        limit: Option<Price>,
    ) -> Option<Price> {
        let s = &self.symbols[symbol];
        let m = s.book.market_levels_best(resting_side);
        let r = &s.resting[side_idx(resting_side)];
        let o = if resting_side == Side::Buy {
            r.keys().next_back().copied()
        } else {
            r.keys().next().copied()
        };
        let best = match (m, o) {
            (Some(a), Some(b)) => Some(if resting_side == Side::Buy {
                a.max(b)
            } else {
                a.min(b)
            }),
            (a, b) => a.or(b),
        };
        best.filter(|p| limit.is_none_or(|l| crosses(resting_side.opposite(), l, *p)))
    }

    /// Quantity available at one price: external plus resting simulator leaves.
    fn level_qty(&self, symbol: usize, side: Side, price: Price) -> i64 {
        let s = &self.symbols[symbol];
        let own: i64 = s.resting[side_idx(side)].get(&price).map_or(0, |q| {
            q.iter()
                .filter_map(|id| self.orders.get(id))
                .map(|o| o.leaves().units())
                .sum()
        });
        s.book.market_qty(side, price).units() + own
    }

    /// Dry run of a sweep of `resting_side` up to `max_qty` base and `max_quote` quote:
    /// returns (base filled, quote cost). Quantities are whole steps.
    pub(super) fn sweep(
        &self,
        symbol: usize,
        resting_side: Side,
        limit: Option<Price>,
        max_qty: i64,
        max_quote: i64,
    ) -> (i64, i64) {
        let step = self.symbols[symbol].cfg.step_size.units().max(1);
        let mut prices: Vec<Price> = self.symbols[symbol]
            .book
            .market_levels(resting_side)
            .into_iter()
            .map(|l| l.0)
            .collect();
        prices.extend(
            self.symbols[symbol].resting[side_idx(resting_side)]
                .keys()
                .copied(),
        );
        prices.sort_unstable();
        prices.dedup();
        if resting_side == Side::Buy {
            prices.reverse();
        }
        let (mut filled, mut cost) = (0i64, 0i64);
        for p in prices {
            if limit.is_some_and(|l| !crosses(resting_side.opposite(), l, p)) || filled >= max_qty {
                break;
            }
            let mut take = self
                .level_qty(symbol, resting_side, p)
                .min(max_qty - filled);
            if max_quote != i64::MAX {
                let affordable = ((max_quote - cost) as i128 * crate::types::SCALE as i128
                    / p.units().max(1) as i128) as i64;
                take = take.min(affordable / step * step);
            }
            if take <= 0 {
                break;
            }
            filled += take;
            cost += quote_of(p, Qty::from_units(take));
        }
        (filled, cost)
    }

    /// Matches an incoming simulator order against the book until it is filled, out of
    /// price, or out of liquidity.
    pub(super) fn take(&mut self, order_id: u64, limit: Option<Price>) -> Vec<Fill> {
        let mut fills = Vec::new();
        while let Some(o) = self.orders.get(&order_id) {
            let (symbol, side, leaves) = (o.symbol, o.side, o.leaves().units());
            if leaves <= 0 {
                break;
            }
            let Some(price) = self.best_opposite(symbol, side.opposite(), limit) else {
                break;
            };
            let before = fills.len();
            fills.extend(self.consume_level(
                symbol,
                side.opposite(),
                price,
                leaves,
                Aggressor::Order(order_id),
            ));
            if fills.len() == before {
                break;
            }
        }
        fills
    }

    /// Trades up to `qty` at one price level in queue order; returns the aggressor's fills.
    pub(super) fn consume_level(
        &mut self,
        symbol: usize,
        side: Side,
        price: Price,
        qty: i64,
        aggressor: Aggressor,
    ) -> Vec<Fill> {
        let market_avail = self.symbols[symbol].book.market_qty(side, price).units();
        let queue: Vec<u64> = self.symbols[symbol].resting[side_idx(side)]
            .get(&price)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default();
        let mut chunks: Vec<(Counterparty, i64)> = Vec::new();
        let (mut remaining, mut market_used) = (qty, 0i64);
        let mut ahead_used: Vec<(u64, i64)> = Vec::new();
        for &id in &queue {
            if remaining == 0 {
                break;
            }
            let Some(o) = self.orders.get(&id) else {
                continue;
            };
            let x = (o.queue_ahead - market_used)
                .max(0)
                .min(remaining)
                .min(market_avail - market_used);
            if x > 0 {
                chunks.push((Counterparty::Market, x));
                remaining -= x;
                market_used += x;
            }
            ahead_used.push((id, market_used));
            if remaining == 0 {
                break;
            }
            let y = o.leaves().units().min(remaining);
            if y > 0 {
                chunks.push((Counterparty::Order(id), y));
                remaining -= y;
            }
        }
        let z = remaining.min(market_avail - market_used);
        if z > 0 {
            chunks.push((Counterparty::Market, z));
            market_used += z;
        }
        // External quantity leaves the book (not in replay, where recorded diffs rule it).
        let consume = self.consume_market || aggressor == Aggressor::Market;
        let new_market = if consume {
            market_avail - market_used
        } else {
            market_avail
        };
        for &id in &queue {
            let used = ahead_used
                .iter()
                .find(|(i, _)| *i == id)
                .map_or(market_used, |(_, u)| *u);
            if let Some(o) = self.orders.get_mut(&id) {
                let ahead = if consume {
                    o.queue_ahead - used
                } else {
                    o.queue_ahead
                };
                o.queue_ahead = ahead.max(0).min(new_market);
            }
        }
        if consume && market_used > 0 {
            self.symbols[symbol]
                .book
                .set_market(side, price, Qty::from_units(new_market));
        }
        let mut fills = Vec::new();
        for (cp, q) in chunks {
            let qty = Qty::from_units(q);
            if let Counterparty::Order(maker) = cp {
                let counter = match aggressor {
                    Aggressor::Market => Counterparty::Market,
                    Aggressor::Order(t) => Counterparty::Order(t),
                };
                self.execute(maker, price, qty, true, counter);
            }
            if let Aggressor::Order(taker) = aggressor
                && let Some(f) = self.execute(taker, price, qty, false, cp)
            {
                fills.push(f);
            }
            if self.synthetic_public {
                self.public_trade(symbol, price, qty, side == Side::Buy);
            }
        }
        fills
    }

    /// Books one fill on one simulator order: order state, balances, fees, events.
    fn execute(
        &mut self,
        order_id: u64,
        price: Price,
        qty: Qty,
        maker: bool,
        counterparty: Counterparty,
    ) -> Option<Fill> {
        let now = now_ms();
        let o = self.orders.get_mut(&order_id)?;
        let (account, symbol, side) = (o.account, o.symbol, o.side);
        let quote = quote_of(price, qty);
        let prev_exec = o.executed;
        o.executed = Qty::from_units(o.executed.units() + qty.units());
        o.cum_quote += quote;
        o.update_ms = now;
        o.status = if o.leaves().is_zero() {
            Status::Filled
        } else {
            Status::PartiallyFilled
        };
        // Funds leave the lock: a limit buy releases its own price's worth (telescoping, so
        // the total is exactly what was locked), a market buy what it spent, a sell its base.
        let release = match side {
            Side::Buy if o.price.is_positive() => {
                quote_of(o.price, o.executed) - quote_of(o.price, prev_exec)
            }
            Side::Buy => quote,
            Side::Sell => qty.units(),
        };
        let perp = self.symbols[symbol].cfg.perp.is_some();
        // A perpetual's margin leaves the lock in proportion to the fill (the last fill
        // frees the rest).
        let release = if perp {
            let leaves_before = o.orig_qty.units() - prev_exec.units();
            if o.leaves().is_zero() || leaves_before <= 0 {
                o.locked
            } else {
                (i128::from(o.locked) * i128::from(qty.units()) / i128::from(leaves_before)) as i64
            }
        } else {
            release
        };
        let release = release.min(o.locked);
        o.locked -= release;
        let (resting, limit_price) = (o.on_book, o.price);
        let c = &self.symbols[symbol].cfg;
        let (base, quote_asset) = (c.base.clone(), c.quote.clone());
        let rate = if maker {
            self.maker_fee
        } else {
            self.taker_fee
        };
        let (commission, commission_asset) = if perp {
            self.perp_fill(order_id, release, price, qty, maker)?
        } else {
            let acct = &mut self.accounts[account];
            match side {
                // Coinbase accounts pay a buy's fee in quote, out of the free balance.
                Side::Buy if self.fees_in_quote.get(account) == Some(&true) => {
                    let fee = fee_of(quote, rate);
                    let qb = acct.bal(&quote_asset);
                    qb.locked -= release;
                    qb.free += release - quote - fee;
                    acct.bal(&base).free += qty.units();
                    (fee, quote_asset.clone())
                }
                Side::Buy => {
                    let fee = fee_of(qty.units(), rate);
                    let qb = acct.bal(&quote_asset);
                    qb.locked -= release;
                    qb.free += release - quote;
                    acct.bal(&base).free += qty.units() - fee;
                    (fee, base.clone())
                }
                Side::Sell => {
                    let fee = fee_of(quote, rate);
                    acct.bal(&base).locked -= release;
                    acct.bal(&base).free += release - qty.units();
                    acct.bal(&quote_asset).free += quote - fee;
                    (fee, quote_asset.clone())
                }
            }
        };
        *self.fees.entry(commission_asset.clone()).or_default() += commission;
        // Spot against the market: the base and quote that changed hands; a perpetual's
        // realized PnL is booked as external by `perp_fill`.
        if counterparty == Counterparty::Market && !perp {
            let (b, q) = (qty.units() * side.sign(), quote * side.sign());
            *self.external.entry(base.clone()).or_default() += b;
            *self.external.entry(quote_asset.clone()).or_default() -= q;
        }
        self.mark_dirty(account, &base);
        self.mark_dirty(account, &quote_asset);
        if resting {
            self.symbols[symbol]
                .book
                .add_own(side, limit_price, -qty.units());
            if let Some(o) = self.orders.get_mut(&order_id)
                && !o.status.is_open()
            {
                o.on_book = false;
                let lvl = &mut self.symbols[symbol].resting[side_idx(side)];
                if let Some(q) = lvl.get_mut(&limit_price) {
                    q.retain(|id| *id != order_id);
                    if q.is_empty() {
                        lvl.remove(&limit_price);
                    }
                }
            }
        }
        let trade_id = self.symbols[symbol].next_trade_id;
        let fill = Fill {
            trade_id,
            order_id,
            account,
            symbol,
            side,
            price,
            qty,
            quote,
            commission,
            commission_asset,
            maker,
            counterparty,
            time_ms: now,
        };
        self.fills.push(fill.clone());
        self.report(order_id, "TRADE", None, Some(&fill));
        self.release_if_done(order_id);
        Some(fill)
    }

    fn public_trade(&mut self, symbol: usize, price: Price, qty: Qty, buyer_maker: bool) {
        let now = now_ms();
        let s = &mut self.symbols[symbol];
        let t = s.next_trade_id;
        s.next_trade_id += 1;
        let data = json!({
            "e": "trade", "E": now, "s": s.cfg.symbol, "t": t,
            "p": super::orders::fx(price.units()), "q": super::orders::fx(qty.units()),
            "T": now, "m": buyer_maker, "M": true,
        });
        self.events
            .push(super::exchange::Event::Trade { symbol, data });
    }

    /// External flow takes `qty` from `resting_side` starting at the best level and going no
    /// further than `limit` (inclusive). Simulator orders in the way fill as makers.
    pub fn market_sweep(&mut self, symbol: usize, resting_side: Side, limit: Price, qty: i64) {
        let mut remaining = qty;
        while remaining > 0 {
            let Some(p) = self.best_opposite(symbol, resting_side, Some(limit)) else {
                break;
            };
            let avail = self.level_qty(symbol, resting_side, p);
            let take = avail.min(remaining);
            if take <= 0 {
                break;
            }
            self.consume_level(symbol, resting_side, p, take, Aggressor::Market);
            remaining -= take;
        }
        self.flush_positions();
        self.after_change(symbol);
    }

    /// A recorded trade (replay): resting simulator orders priced through it fill whole; those
    /// at its price fill behind the external queue ahead of them, up to the trade's size.
    pub fn recorded_trade(&mut self, symbol: usize, price: Price, qty: Qty, buyer_maker: bool) {
        let resting_side = if buyer_maker { Side::Buy } else { Side::Sell };
        let through: Vec<Price> = self.symbols[symbol].resting[side_idx(resting_side)]
            .keys()
            .copied()
            .filter(|p| {
                if resting_side == Side::Buy {
                    *p > price
                } else {
                    *p < price
                }
            })
            .collect();
        for p in through {
            let ids: Vec<u64> = self.symbols[symbol].resting[side_idx(resting_side)]
                .get(&p)
                .map(|q| q.iter().copied().collect())
                .unwrap_or_default();
            for id in ids {
                let leaves = self.orders.get(&id).map_or(Qty::ZERO, |o| o.leaves());
                if leaves.is_positive() {
                    self.execute(id, p, leaves, true, Counterparty::Market);
                }
            }
        }
        let queue_len = self.symbols[symbol].resting[side_idx(resting_side)]
            .get(&price)
            .map_or(0, |q| q.len());
        if queue_len > 0 {
            // The recorded trade is already in the recording: no second public trade here.
            let ids: Vec<u64> = self.symbols[symbol].resting[side_idx(resting_side)]
                .get(&price)
                .map(|q| q.iter().copied().collect())
                .unwrap_or_default();
            let mut remaining = qty.units();
            for id in ids {
                let Some(o) = self.orders.get_mut(&id) else {
                    continue;
                };
                let skip = o.queue_ahead.min(remaining);
                o.queue_ahead -= skip;
                remaining -= skip;
                let fill = o.leaves().units().min(remaining);
                if fill > 0 {
                    remaining -= fill;
                    self.execute(id, price, Qty::from_units(fill), true, Counterparty::Market);
                }
                if remaining == 0 {
                    break;
                }
            }
        }
        self.flush_positions();
    }
}
