//! The simulator's perpetual accounts: the matching core trades linear perpetuals (margined
//! and settled in the quote asset, as Bybit's USDT perpetuals, or in INR at a conversion
//! price as CoinDCX's INR-margined futures: `settle.rs`) beside spot, so sim mode on a
//! perpetual keeps what the venue keeps. Written from the venues' published rules, not from
//! the engine's `types::perp`, so the two can be compared:
//!
//! - a unit of quantity is `contract_value` base units (`[[sim.symbols]] contract_value`,
//!   default 1: quantities in base, as Bybit and CoinDCX count them; Delta counts contracts of
//!   0.001 BTC): a fill's value — for margins, PnL, fees, funding and liquidation — is
//!   price × quantity × contract value (reference/delta.md §7, "size × contract_value ×
//!   price" for vanilla contracts), and entry prices are value / (size × contract value);
//!
//! - isolated margin per position: an order holds `value / leverage` of the margin asset (the
//!   quote, or INR: the value converted first) for the part that opens or adds to the
//!   position (a part that closes needs none), a fill moves that into the position's margin;
//! - a closing fill realizes `(exit − entry) × qty` (long; the opposite for a short) into the
//!   free margin-asset balance and frees the closed part's margin; fees are charged in the
//!   margin asset on the fill's value;
//! - reduce-only orders are refused when they would open or add;
//! - funding at every funding time (`sim.funding_interval_ms` from the epoch, 8 h by default):
//!   position value at the mark × `sim.bybit_funding_rate`, paid by longs when positive;
//! - liquidation when the mark reaches the isolated liquidation price (entry less the margin
//!   left above the maintenance margin per unit, for a long): the position is closed at the
//!   mark by the venue and the account's open orders on the symbol are cancelled.
//!
//! The mark is the mid of the simulated book (what the Bybit front end publishes as
//! `markPrice`). Positions, funding and liquidations are on `/sim/state`.

use serde_json::{Value, json};

use super::exchange::{ApiError, Exchange, fee_of, now_ms, quote_of};
use super::orders::{Order, fx};
use crate::types::{FundingRate, Price, Qty, SCALE, Side};

/// A perpetual symbol's margin rules (`[[sim.symbols]] kind = "linear-perpetual"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerpSpec {
    /// Default leverage of every account, `10^-8` units (`10` = 10×).
    pub leverage: i64,
    /// Maintenance margin rate, `10^-8` units (`0.005` = 0.5 %).
    pub maintenance: i64,
    /// Base units per unit of quantity, `10^-8` units (`1` = quantities in base).
    pub contract_value: i64,
    /// Units of the margin asset per quote unit, `10^-8` (`1`: margined in the quote; 89
    /// for a USDT perpetual margined in INR, `sim/settle.rs`).
    pub settle_rate: i64,
}

/// One account's position on one perpetual.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// Signed base units (long positive).
    pub size: i64,
    /// Quote value at entry of the open size (quote units), unsigned.
    pub cost: i64,
    /// Margin held for the position (margin-asset units — the quote's unless INR-margined,
    /// `settle.rs` —, part of that balance's `locked`).
    pub margin: i64,
    /// Realized PnL over the run (margin-asset units).
    pub realized: i64,
    /// Funding paid over the run (margin-asset units; negative: received).
    pub funding: i64,
}

/// A funding payment, as `/sim/state` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct FundingPayment {
    pub account: usize,
    pub symbol: usize,
    pub time_ms: u64,
    pub rate: FundingRate,
    pub mark: Price,
    pub size: i64,
    /// Paid by the account (negative: received), margin-asset units.
    pub amount: i64,
}

/// A liquidation, as `/sim/state` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Liquidation {
    pub account: usize,
    pub symbol: usize,
    pub time_ms: u64,
    pub size: i64,
    pub mark: Price,
    pub pnl: i64,
}

/// `a × SCALE / b`, rounded up, for positive `b`.
fn div_up(a: i128, b: i128) -> i64 {
    let q = a.div_euclid(b) + i128::from(a.rem_euclid(b) != 0);
    q.clamp(0, i128::from(i64::MAX)) as i64
}

/// Initial margin of `value` (margin-asset units) at `leverage` (`10^-8`), rounded up.
pub fn margin_of(value: i64, leverage: i64) -> i64 {
    div_up(
        i128::from(value) * i128::from(SCALE),
        i128::from(leverage.max(1)),
    )
}

impl Exchange {
    pub(super) fn perp_spec(&self, symbol: usize) -> Option<PerpSpec> {
        self.symbols.get(symbol)?.cfg.perp
    }

    /// Base units per unit of quantity of a symbol, `10^-8` units (1 on spot).
    pub fn contract_value(&self, symbol: usize) -> i64 {
        self.perp_spec(symbol).map_or(SCALE, |s| s.contract_value)
    }

    /// The quote value of `qty` units of `symbol` at `price`: price × qty × contract value.
    pub fn perp_value(&self, symbol: usize, price: Price, qty: Qty) -> i64 {
        let cv = self.contract_value(symbol);
        let v = quote_of(price, qty);
        if cv == SCALE {
            return v;
        }
        (i128::from(v) * i128::from(cv) / i128::from(SCALE)) as i64
    }

    /// A position's average entry price: its value at entry over size × contract value (0
    /// when flat).
    pub fn entry_price(&self, account: usize, symbol: usize) -> i64 {
        let p = self.position(account, symbol);
        let base = i128::from(p.size.abs()) * i128::from(self.contract_value(symbol));
        if base == 0 {
            return 0;
        }
        (i128::from(p.cost) * i128::from(SCALE) * i128::from(SCALE) / base) as i64
    }

    /// The account's leverage on a perpetual symbol (its setting, else the symbol's default).
    pub fn leverage(&self, account: usize, symbol: usize) -> Option<i64> {
        let spec = self.perp_spec(symbol)?;
        Some(
            self.accounts[account]
                .leverage
                .get(&symbol)
                .copied()
                .unwrap_or(spec.leverage),
        )
    }

    /// Sets the account's leverage on a perpetual (Bybit's set-leverage): refused while the
    /// account has a position or open orders there (the simulator does not re-margin them).
    pub fn set_leverage(
        &mut self,
        account: usize,
        symbol: usize,
        lev: i64,
    ) -> Result<(), ApiError> {
        if self.perp_spec(symbol).is_none() {
            return Err(ApiError::bad(-4000, "Not a perpetual symbol."));
        }
        if !(SCALE..=100 * SCALE).contains(&lev) {
            return Err(ApiError::bad(-4028, "Leverage must be 1 to 100."));
        }
        let busy = self.position(account, symbol).size != 0
            || self
                .orders
                .values()
                .any(|o| o.account == account && o.symbol == symbol && o.status.is_open());
        if busy {
            return Err(ApiError::bad(
                -4047,
                "Leverage cannot be changed with a position or open orders.",
            ));
        }
        self.accounts[account].leverage.insert(symbol, lev);
        Ok(())
    }

    pub fn position(&self, account: usize, symbol: usize) -> Position {
        self.accounts[account]
            .positions
            .get(&symbol)
            .copied()
            .unwrap_or_default()
    }

    /// The mark: the simulated book's mid, on the tick grid (rounded down).
    pub fn mark_price(&self, symbol: usize) -> Option<Price> {
        let s = self.symbols.get(symbol)?;
        let (b, a) = s.book.top_of_book();
        let mid = (b?.0.units() + a?.0.units()) / 2;
        let t = s.cfg.tick_size.units().max(1);
        Some(Price::from_units(mid - mid.rem_euclid(t)))
    }

    /// The quantity of an order of `qty` on `side` that opens or adds to the position (the
    /// rest closes it).
    fn opening_qty(&self, account: usize, symbol: usize, side: Side, qty: i64) -> i64 {
        let size = self.position(account, symbol).size;
        if size == 0 || size.signum() == side.sign() {
            qty
        } else {
            (qty - size.abs()).max(0)
        }
    }

    /// Checks a perpetual order and gives the margin it holds: `value / leverage` of its
    /// opening part at `price` (the limit, or a market order's estimated average). A
    /// reduce-only order that would open or add is refused.
    pub(super) fn perp_order_margin(
        &self,
        account: usize,
        symbol: usize,
        side: Side,
        qty: Qty,
        price: Price,
        reduce_only: bool,
    ) -> Result<i64, ApiError> {
        let opening = self.opening_qty(account, symbol, side, qty.units());
        if reduce_only {
            if opening > 0 {
                return Err(ApiError::bad(
                    -2022,
                    "ReduceOnly Order is rejected: it would open or add to the position.",
                ));
            }
            return Ok(0);
        }
        let lev = self.leverage(account, symbol).unwrap_or(SCALE);
        Ok(margin_of(
            self.settle_value(symbol, price, Qty::from_units(opening)),
            lev,
        ))
    }

    /// Books a fill of a perpetual: the order's margin for the filled part moves into the
    /// position (or is freed with the realized PnL when it closes), the fee is charged in
    /// the margin asset (the quote, or INR at the conversion price: `settle.rs`). Returns the
    /// fee and its asset.
    pub(super) fn perp_fill(
        &mut self,
        order_id: u64,
        release: i64,
        price: Price,
        qty: Qty,
        maker: bool,
    ) -> Option<(i64, String)> {
        let o: &Order = self.orders.get(&order_id)?;
        let (account, symbol, side) = (o.account, o.symbol, o.side);
        let asset = self.margin_asset(symbol).to_owned();
        let lev = self.leverage(account, symbol).unwrap_or(SCALE);
        let rate = if maker {
            self.maker_fee
        } else {
            self.taker_fee
        };
        let value = self.perp_value(symbol, price, qty);
        let fee = fee_of(self.to_settle(symbol, value), rate);
        let mut pos = self.position(account, symbol);
        let s = side.sign();
        let q = qty.units();
        // The order's margin for this fill goes back to free first.
        let mut free_delta = release - fee;
        let mut locked_delta = -release;
        let mut pnl = 0;
        let opening = if pos.size == 0 || pos.size.signum() == s {
            q
        } else {
            let closed = q.min(pos.size.abs());
            let held = pos.size.abs();
            let closed_cost = (i128::from(pos.cost) * i128::from(closed) / i128::from(held)) as i64;
            let closed_margin =
                (i128::from(pos.margin) * i128::from(closed) / i128::from(held)) as i64;
            let closed_value = (i128::from(value) * i128::from(closed) / i128::from(q)) as i64;
            pnl = self.to_settle(
                symbol,
                if pos.size > 0 {
                    closed_value - closed_cost
                } else {
                    closed_cost - closed_value
                },
            );
            pos.size += s * closed;
            pos.cost -= closed_cost;
            pos.margin -= closed_margin;
            pos.realized += pnl;
            free_delta += closed_margin + pnl;
            locked_delta -= closed_margin;
            q - closed
        };
        if opening > 0 {
            let open_value = (i128::from(value) * i128::from(opening) / i128::from(q)) as i64;
            let m = margin_of(self.to_settle(symbol, open_value), lev);
            pos.size += s * opening;
            pos.cost += open_value;
            pos.margin += m;
            free_delta -= m;
            locked_delta += m;
        }
        if pos.size == 0 {
            // Rounding leftovers of a closed position go back to free.
            free_delta += pos.margin;
            locked_delta -= pos.margin;
            pos.margin = 0;
            pos.cost = 0;
        }
        let b = self.accounts[account].bal(&asset);
        b.free += free_delta;
        b.locked += locked_delta;
        self.accounts[account].positions.insert(symbol, pos);
        // Realized PnL is paid by the venue's clearing (the counterparties' side of the
        // positions), which the conservation check counts as external.
        if pnl != 0 {
            *self.external.entry(asset.clone()).or_default() += pnl;
        }
        self.mark_dirty(account, &asset);
        Some((fee, asset))
    }

    /// The isolated liquidation price of a position: where its margin less the maintenance
    /// margin (on the value at entry) is lost.
    pub fn liquidation_price(&self, account: usize, symbol: usize) -> Option<Price> {
        let spec = self.perp_spec(symbol)?;
        let pos = self.position(account, symbol);
        if pos.size == 0 {
            return None;
        }
        // The held size in base units (size × contract value), 10^-8.
        let held = i128::from(pos.size.abs()) * i128::from(spec.contract_value) / i128::from(SCALE);
        if held == 0 {
            return None;
        }
        let maintenance = i128::from(pos.cost) * i128::from(spec.maintenance) / i128::from(SCALE);
        let margin = self.settle_to_quote(symbol, pos.margin);
        let spare = i128::from(margin) - maintenance;
        let entry = i128::from(pos.cost) * i128::from(SCALE) / held;
        let shift = spare * i128::from(SCALE) / held;
        let p = if pos.size > 0 {
            entry - shift
        } else {
            entry + shift
        };
        (p > 0).then(|| Price::from_units(p as i64))
    }

    /// Funding at the funding times and liquidations at the mark; called by the market
    /// thread. `interval_ms` 0 never funds.
    pub fn perp_tick(&mut self, now_ms: u64, rate: FundingRate, interval_ms: u64) {
        if !self.symbols.iter().any(|s| s.cfg.perp.is_some()) {
            return;
        }
        self.liquidate_at_mark();
        if interval_ms == 0 {
            return;
        }
        let due = self.next_funding_ms;
        if due == 0 {
            self.next_funding_ms = (now_ms / interval_ms + 1) * interval_ms;
            return;
        }
        if now_ms < due {
            return;
        }
        self.next_funding_ms = (now_ms / interval_ms + 1) * interval_ms;
        for account in 0..self.accounts.len() {
            let held: Vec<(usize, Position)> = self.accounts[account]
                .positions
                .iter()
                .filter(|(_, p)| p.size != 0)
                .map(|(s, p)| (*s, *p))
                .collect();
            for (symbol, mut pos) in held {
                let Some(mark) = self.mark_price(symbol) else {
                    continue;
                };
                let value = self.perp_value(symbol, mark, Qty::from_units(pos.size.abs()));
                let amount = self.to_settle(
                    symbol,
                    (i128::from(value) * i128::from(rate.units()) / i128::from(SCALE)) as i64,
                ) * pos.size.signum();
                pos.funding += amount;
                self.accounts[account].positions.insert(symbol, pos);
                let asset = self.margin_asset(symbol).to_owned();
                self.accounts[account].bal(&asset).free -= amount;
                *self.external.entry(asset.clone()).or_default() -= amount;
                self.mark_dirty(account, &asset);
                self.funding.push(FundingPayment {
                    account,
                    symbol,
                    time_ms: due,
                    rate,
                    mark,
                    size: pos.size,
                    amount,
                });
                // The account's private streams hear of it (a front end words it as its
                // venue does: Bybit's execution of execType Funding).
                let data = serde_json::json!({"e": "funding", "E": due, "T": due,
                    "s": self.symbols[symbol].cfg.symbol, "r": rate.to_string(),
                    "p": mark.to_string(), "q": Qty::from_units(pos.size).to_string(),
                    "n": Qty::from_units(amount).to_string(), "N": asset});
                self.events
                    .push(super::exchange::Event::User { account, data });
            }
        }
        self.flush_positions();
    }

    fn liquidate_at_mark(&mut self) {
        for account in 0..self.accounts.len() {
            let held: Vec<usize> = self.accounts[account]
                .positions
                .iter()
                .filter(|(_, p)| p.size != 0)
                .map(|(s, _)| *s)
                .collect();
            for symbol in held {
                let (Some(mark), Some(liq)) = (
                    self.mark_price(symbol),
                    self.liquidation_price(account, symbol),
                ) else {
                    continue;
                };
                let pos = self.position(account, symbol);
                let hit = if pos.size > 0 {
                    mark <= liq
                } else {
                    mark >= liq
                };
                if !hit {
                    continue;
                }
                let _ = self.cancel_all(account, symbol);
                let value = self.perp_value(symbol, mark, Qty::from_units(pos.size.abs()));
                let pnl = self.to_settle(
                    symbol,
                    if pos.size > 0 {
                        value - pos.cost
                    } else {
                        pos.cost - value
                    },
                );
                let asset = self.margin_asset(symbol).to_owned();
                let b = self.accounts[account].bal(&asset);
                b.locked -= pos.margin;
                b.free += pos.margin + pnl;
                *self.external.entry(asset.clone()).or_default() += pnl;
                self.accounts[account].positions.insert(
                    symbol,
                    Position {
                        realized: pos.realized + pnl,
                        funding: pos.funding,
                        ..Position::default()
                    },
                );
                self.mark_dirty(account, &asset);
                self.liquidations.push(Liquidation {
                    account,
                    symbol,
                    time_ms: now_ms(),
                    size: pos.size,
                    mark,
                    pnl,
                });
            }
        }
        self.flush_positions();
    }

    /// An account's perpetual positions for `/sim/state`.
    pub(super) fn positions_json(&self, account: usize) -> Vec<Value> {
        self.accounts[account]
            .positions
            .iter()
            .map(|(&symbol, p)| {
                let entry = self.entry_price(account, symbol);
                json!({
                    "symbol": self.symbols[symbol].cfg.symbol,
                    "size": fx(p.size), "entryPrice": fx(entry), "value": fx(p.cost),
                    "margin": fx(p.margin), "marginAsset": self.margin_asset(symbol),
                    "realizedPnl": fx(p.realized),
                    "fundingPaid": fx(p.funding),
                    "leverage": fx(self.leverage(account, symbol).unwrap_or(SCALE)),
                    "liquidationPrice": self.liquidation_price(account, symbol)
                        .map(|l| fx(l.units())),
                })
            })
            .collect()
    }

    /// Funding payments and liquidations for `/sim/state`.
    pub(super) fn perp_events_json(&self) -> (Vec<Value>, Vec<Value>) {
        let funding = self
            .funding
            .iter()
            .map(|f| {
                json!({"account": f.account, "symbol": self.symbols[f.symbol].cfg.symbol,
                       "time": f.time_ms, "rate": f.rate.to_string(), "mark": fx(f.mark.units()),
                       "size": fx(f.size), "amount": fx(f.amount),
                       "asset": self.margin_asset(f.symbol)})
            })
            .collect();
        let liquidations = self
            .liquidations
            .iter()
            .map(|l| {
                json!({"account": l.account, "symbol": self.symbols[l.symbol].cfg.symbol,
                       "time": l.time_ms, "size": fx(l.size), "mark": fx(l.mark.units()),
                       "pnl": fx(l.pnl)})
            })
            .collect();
        (funding, liquidations)
    }
}
