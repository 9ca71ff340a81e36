//! The exchange core: symbols with their books, accounts, orders and fills; order placement,
//! cancellation and queries. Matching itself lives in `matching.rs`. All of it sits behind one
//! mutex; every change queues the public and private events it causes in `events`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{Value, json};

use super::accounts::Account;
use super::book::{SimBook, Top};
use super::config::{SimConfig, SymbolConfig};
use super::orders::{ExecInfo, Fill, Order, OrderType, Status, Tif, execution_report, fx};
use crate::types::{Price, Qty, SCALE, Side};

mod changes;

/// A Binance error answer: HTTP status, error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: i64,
    pub msg: String,
    /// The error's `data` (Binance's cancel-replace reports its two halves there).
    pub data: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, code: i64, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            msg: msg.into(),
            data: None,
        }
    }
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self::new(400, code, msg)
    }
    pub fn mandatory(name: &str) -> Self {
        Self::bad(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }
    pub fn insufficient() -> Self {
        Self::bad(
            -2010,
            "Account has insufficient balance for requested action.",
        )
    }
    pub fn json(&self) -> Value {
        match &self.data {
            Some(d) => json!({"code": self.code, "msg": self.msg, "data": d}),
            None => json!({"code": self.code, "msg": self.msg}),
        }
    }
}

/// Something the exchange wants sent: public market events or one account's private event.
#[derive(Debug, Clone)]
pub enum Event {
    Trade {
        symbol: usize,
        data: Value,
    },
    BookTicker {
        symbol: usize,
        data: Value,
    },
    /// An executionReport or outboundAccountPosition, unwrapped.
    User {
        account: usize,
        data: Value,
    },
}

/// A validated new-order request.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub symbol: usize,
    pub side: Side,
    pub kind: OrderType,
    pub tif: Tif,
    pub price: Price,
    pub qty: Qty,
    pub quote_qty: Price,
    pub client_order_id: Option<String>,
    /// Perpetuals: refused if it would open or add to the position.
    pub reduce_only: bool,
}

pub struct SymbolState {
    pub cfg: SymbolConfig,
    pub book: SimBook,
    pub next_trade_id: u64,
    /// Resting simulator orders per side and price, in time priority. 0 = bids, 1 = asks.
    pub resting: [BTreeMap<Price, VecDeque<u64>>; 2],
    pub last_top: Top,
    /// A path posted to `/sim/path`, taken by the path source at its next step.
    pub next_path: Option<Vec<Price>>,
}

pub struct Exchange {
    pub symbols: Vec<SymbolState>,
    pub accounts: Vec<Account>,
    /// Starting balances, for conservation checks.
    pub initial: Vec<BTreeMap<String, i64>>,
    pub orders: HashMap<u64, Order>,
    pub fills: Vec<Fill>,
    /// Commission collected per asset.
    pub fees: BTreeMap<String, i64>,
    /// Net amount per asset that external liquidity handed to accounts (negative: received).
    pub external: BTreeMap<String, i64>,
    pub maker_fee: i64,
    pub taker_fee: i64,
    /// By account: whether a spot buy's fee is charged in the quote asset (Coinbase's rule;
    /// the accounts whose key is a CDP key name) rather than in the base asset bought
    /// (Binance's rule, every other account). A sell's fee is in quote either way.
    pub fees_in_quote: Vec<bool>,
    /// By account: private REST requests in the current second (Unix s, count, and the most
    /// any second has seen), for a venue that limits and reports them per second (Coinbase's
    /// `x-ratelimit-*`).
    pub requests_per_s: HashMap<usize, (u64, u32, u32)>,
    /// Whether external liquidity is consumed when simulator orders take it (false in replay).
    pub consume_market: bool,
    /// Whether the exchange emits its own trade and bookTicker events (false in replay, whose
    /// recorded frames are served as they are).
    pub synthetic_public: bool,
    pub events: Vec<Event>,
    pub(super) next_order_id: u64,
    pub(super) next_seq: u64,
    pub(super) next_exec_id: u64,
    /// Accounts and assets whose balances changed in the current operation.
    pub(super) dirty: BTreeMap<usize, BTreeSet<String>>,
    /// Perpetuals: funding paid, liquidations, and the next funding time (0: not set yet).
    pub funding: Vec<super::perp::FundingPayment>,
    pub liquidations: Vec<super::perp::Liquidation>,
    pub(super) next_funding_ms: u64,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Quote amount of `qty` at `price`, in `Price` units, rounded down.
pub fn quote_of(price: Price, qty: Qty) -> i64 {
    ((price.units() as i128 * qty.units() as i128) / SCALE as i128) as i64
}

/// A Coinbase CDP key name, `organizations/{org_id}/apiKeys/{key_id}` (exchanges.md §4.1):
/// the account is a Coinbase account.
pub fn is_cdp_key_name(api_key: &str) -> bool {
    api_key
        .strip_prefix("organizations/")
        .and_then(|r| r.split_once("/apiKeys/"))
        .is_some_and(|(org, key)| !org.is_empty() && !key.is_empty() && !key.contains('/'))
}

/// `units × rate`, rounded down (commission).
pub fn fee_of(units: i64, rate: i64) -> i64 {
    ((units as i128 * rate as i128) / SCALE as i128) as i64
}

pub(super) fn side_idx(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

impl Exchange {
    pub fn new(cfg: &SimConfig, replay: bool) -> Self {
        let symbols = cfg
            .symbols
            .iter()
            .map(|s| SymbolState {
                cfg: s.clone(),
                book: SimBook::new(!replay, 1_000),
                next_trade_id: 1,
                resting: Default::default(),
                last_top: (None, None),
                next_path: None,
            })
            .collect();
        let accounts: Vec<Account> = cfg.accounts.iter().map(Account::new).collect();
        let initial = accounts
            .iter()
            .map(|a| {
                a.balances
                    .iter()
                    .map(|(k, b)| (k.clone(), b.free))
                    .collect()
            })
            .collect();
        Exchange {
            symbols,
            accounts,
            initial,
            orders: HashMap::new(),
            fills: Vec::new(),
            fees: BTreeMap::new(),
            external: BTreeMap::new(),
            maker_fee: cfg.maker_fee.units(),
            taker_fee: cfg.taker_fee.units(),
            fees_in_quote: cfg
                .accounts
                .iter()
                .map(|a| is_cdp_key_name(&a.api_key))
                .collect(),
            requests_per_s: HashMap::new(),
            consume_market: !replay,
            synthetic_public: !replay,
            events: Vec::new(),
            next_order_id: 1,
            next_seq: 1,
            next_exec_id: 1,
            dirty: BTreeMap::new(),
            funding: Vec::new(),
            liquidations: Vec::new(),
            next_funding_ms: 0,
        }
    }

    pub fn symbol_index(&self, name: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s.cfg.symbol == name)
    }

    pub fn account_by_key(&self, api_key: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.api_key == api_key)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Checks a request against the symbol's filters (PRICE_FILTER, LOT_SIZE, NOTIONAL).
    fn check_filters(&self, o: &NewOrder) -> Result<(), ApiError> {
        let c = &self.symbols[o.symbol].cfg;
        let fail = |f: &str| ApiError::bad(-1013, format!("Filter failure: {f}"));
        if o.kind != OrderType::Market {
            let p = o.price;
            if !p.is_positive() {
                return Err(ApiError::bad(-1013, "Invalid price."));
            }
            if (c.min_price.is_positive() && p < c.min_price)
                || (c.max_price.is_positive() && p > c.max_price)
                || (c.tick_size.is_positive() && !p.is_multiple_of(c.tick_size))
            {
                return Err(fail("PRICE_FILTER"));
            }
        }
        if o.qty.is_positive() || o.kind != OrderType::Market {
            let q = o.qty;
            if (c.min_qty.is_positive() && q < c.min_qty)
                || (c.max_qty.is_positive() && q > c.max_qty)
                || (c.step_size.is_positive() && !q.is_multiple_of(c.step_size))
            {
                return Err(fail("LOT_SIZE"));
            }
        }
        if o.kind != OrderType::Market {
            let notional = quote_of(o.price, o.qty);
            if notional < c.min_notional.units()
                || (c.max_notional.is_positive() && notional > c.max_notional.units())
            {
                return Err(fail("NOTIONAL"));
            }
        }
        Ok(())
    }

    fn open_with_client_id(&self, account: usize, symbol: usize, cid: &str) -> bool {
        self.orders.values().any(|o| {
            o.account == account
                && o.symbol == symbol
                && o.status.is_open()
                && o.client_order_id == cid
        })
    }

    /// Places an order: checks filters and balances, locks funds, matches, rests the rest.
    /// Returns the order id and the fills it made while taking.
    pub fn place(&mut self, account: usize, req: NewOrder) -> Result<(u64, Vec<Fill>), ApiError> {
        self.check_filters(&req)?;
        let now = now_ms();
        let cid = match req.client_order_id.clone() {
            Some(c) => c,
            None => format!("sim{:019}", self.next_order_id),
        };
        if self.open_with_client_id(account, req.symbol, &cid) {
            return Err(ApiError::bad(-2010, "Duplicate order sent."));
        }
        let (base, quote) = {
            let c = &self.symbols[req.symbol].cfg;
            (c.base.clone(), c.quote.clone())
        };
        let opp = req.side.opposite();
        if req.kind == OrderType::LimitMaker
            && self
                .best_opposite(req.symbol, opp, None)
                .is_some_and(|p| crosses(req.side, req.price, p))
        {
            return Err(ApiError::bad(
                -2010,
                "Order would immediately match and take.",
            ));
        }
        // Funds to lock: the whole worst case for limits; the estimated sweep for markets.
        let limit = (req.kind != OrderType::Market).then_some(req.price);
        let perp = self.perp_spec(req.symbol).is_some();
        if req.reduce_only && !perp {
            return Err(ApiError::bad(
                -1106,
                "Parameter 'reduceOnly' sent when not required.",
            ));
        }
        let (lock_asset, lock_units) = if perp {
            // Margin in the margin asset (`settle.rs`) for the part that opens: at the limit, or a market
            // order's estimated average.
            let price = match limit {
                Some(p) => p,
                None => {
                    let (filled, cost) =
                        self.sweep(req.symbol, opp, None, req.qty.units(), i64::MAX);
                    if filled <= 0 {
                        return Err(ApiError::bad(
                            -2010,
                            "No liquidity to fill the market order.",
                        ));
                    }
                    Price::from_units(
                        (i128::from(cost) * i128::from(SCALE) / i128::from(filled)) as i64,
                    )
                }
            };
            let m = self.perp_order_margin(
                account,
                req.symbol,
                req.side,
                req.qty,
                price,
                req.reduce_only,
            )?;
            (self.lock_asset(req.symbol, req.side), m)
        } else {
            match (req.side, req.kind) {
                (Side::Buy, OrderType::Market) if req.quote_qty.is_positive() => {
                    (quote.clone(), req.quote_qty.units())
                }
                (Side::Buy, OrderType::Market) => {
                    let (filled, cost) =
                        self.sweep(req.symbol, opp, None, req.qty.units(), i64::MAX);
                    let _ = filled;
                    (quote.clone(), cost)
                }
                (Side::Buy, _) => (quote.clone(), quote_of(req.price, req.qty)),
                (Side::Sell, OrderType::Market) if req.quote_qty.is_positive() => {
                    let (filled, _) =
                        self.sweep(req.symbol, opp, None, i64::MAX, req.quote_qty.units());
                    (base.clone(), filled)
                }
                (Side::Sell, _) => (base.clone(), req.qty.units()),
            }
        };
        if perp && req.kind == OrderType::Market && req.quote_qty.is_positive() {
            return Err(ApiError::bad(
                -1106,
                "Perpetual market orders take a quantity.",
            ));
        }
        if !self.accounts[account].lock(&lock_asset, lock_units) {
            return Err(ApiError::insufficient());
        }
        let order_id = self.next_order_id;
        self.next_order_id += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        let symbol_name = self.symbols[req.symbol].cfg.symbol.clone();
        // A quoteOrderQty market order becomes the quantity its budget buys (or sells for).
        let orig_qty = if req.kind == OrderType::Market && req.quote_qty.is_positive() {
            Qty::from_units(
                self.sweep(req.symbol, opp, None, i64::MAX, req.quote_qty.units())
                    .0,
            )
        } else {
            req.qty
        };
        let order = Order {
            order_id,
            account,
            symbol: req.symbol,
            symbol_name,
            client_order_id: cid,
            side: req.side,
            kind: req.kind,
            tif: req.tif,
            price: if req.kind == OrderType::Market {
                Price::ZERO
            } else {
                req.price
            },
            orig_qty,
            quote_order_qty: req.quote_qty,
            executed: Qty::ZERO,
            cum_quote: 0,
            status: Status::New,
            time_ms: now,
            update_ms: now,
            working_ms: Some(now),
            on_book: false,
            locked: lock_units,
            queue_ahead: 0,
            seq,
        };
        self.orders.insert(order_id, order);
        self.mark_dirty(account, &lock_asset);
        // The NEW report shows `w` (on the book) for an order that is allowed to rest.
        let may_rest = req.kind != OrderType::Market && req.tif == Tif::Gtc;
        self.set_on_book(order_id, may_rest);
        self.report(order_id, "NEW", None, None);
        self.set_on_book(order_id, false);

        let fok_short = req.tif == Tif::Fok && {
            let (filled, _) = self.sweep(req.symbol, opp, limit, req.qty.units(), i64::MAX);
            filled < req.qty.units()
        };
        let fills = if fok_short || orig_qty.is_zero() {
            Vec::new()
        } else {
            self.take(order_id, limit)
        };
        let leaves = self.orders.get(&order_id).map_or(Qty::ZERO, |o| o.leaves());
        if orig_qty.is_zero()
            || (leaves.is_positive() && (req.kind == OrderType::Market || req.tif != Tif::Gtc))
        {
            self.finish(order_id, Status::Expired, "EXPIRED");
        } else if leaves.is_positive() {
            self.rest(order_id);
        }
        self.release_if_done(order_id);
        self.flush_positions();
        self.after_change(req.symbol);
        Ok((order_id, fills))
    }

    fn set_on_book(&mut self, order_id: u64, on: bool) {
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.on_book = on;
        }
    }

    /// Puts an order's leaves on the book.
    fn rest(&mut self, order_id: u64) {
        let Some(o) = self.orders.get(&order_id) else {
            return;
        };
        let (sym, side, price, leaves) = (o.symbol, o.side, o.price, o.leaves());
        let ahead = self.symbols[sym].book.market_qty(side, price).units();
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.on_book = true;
            o.queue_ahead = ahead;
        }
        let s = &mut self.symbols[sym];
        s.resting[side_idx(side)]
            .entry(price)
            .or_default()
            .push_back(order_id);
        s.book.add_own(side, price, leaves.units());
    }

    /// Takes an open order off the book (if it rests) and gives it a final status.
    pub(super) fn finish(&mut self, order_id: u64, status: Status, exec_type: &str) {
        let Some(o) = self.orders.get_mut(&order_id) else {
            return;
        };
        o.status = status;
        o.update_ms = now_ms();
        let (sym, side, price, leaves, rested) = (o.symbol, o.side, o.price, o.leaves(), o.on_book);
        o.on_book = false;
        if rested {
            self.unrest(order_id, sym, side, price, leaves);
        }
        self.release_if_done(order_id);
        if exec_type != "CANCELED" {
            self.report(order_id, exec_type, None, None);
        }
    }

    /// Takes a resting order's `leaves` at `price` off the book and out of its queue.
    fn unrest(&mut self, order_id: u64, sym: usize, side: Side, price: Price, leaves: Qty) {
        let s = &mut self.symbols[sym];
        let lvl = &mut s.resting[side_idx(side)];
        if let Some(q) = lvl.get_mut(&price) {
            q.retain(|id| *id != order_id);
            if q.is_empty() {
                lvl.remove(&price);
            }
        }
        s.book.add_own(side, price, -leaves.units());
    }

    /// Releases whatever an order still has locked once it is no longer open.
    pub(super) fn release_if_done(&mut self, order_id: u64) {
        let Some(o) = self.orders.get_mut(&order_id) else {
            return;
        };
        if o.status.is_open() || o.locked == 0 {
            return;
        }
        let units = std::mem::take(&mut o.locked);
        let (account, sym, side) = (o.account, o.symbol, o.side);
        let asset = self.lock_asset(sym, side);
        let b = self.accounts[account].bal(&asset);
        b.locked -= units;
        b.free += units;
        self.mark_dirty(account, &asset);
    }

    pub(super) fn mark_dirty(&mut self, account: usize, asset: &str) {
        self.dirty
            .entry(account)
            .or_default()
            .insert(asset.to_string());
    }

    /// Queues an executionReport for an order's current state.
    pub(super) fn report(
        &mut self,
        order_id: u64,
        exec_type: &str,
        cancel_id: Option<&str>,
        fill: Option<&Fill>,
    ) {
        let Some(o) = self.orders.get(&order_id) else {
            return;
        };
        let exec_id = self.next_exec_id;
        self.next_exec_id += 1;
        let info = ExecInfo {
            exec_type,
            cancel_client_id: cancel_id,
            reject_reason: "NONE",
            fill,
            execution_id: exec_id,
            event_ms: now_ms(),
        };
        let data = execution_report(o, &info);
        self.events.push(Event::User {
            account: o.account,
            data,
        });
    }

    /// Queues one outboundAccountPosition per account whose balances changed.
    pub(super) fn flush_positions(&mut self) {
        let now = now_ms();
        for (account, assets) in std::mem::take(&mut self.dirty) {
            let a = &mut self.accounts[account];
            a.update_ms = now;
            let assets: Vec<String> = assets.into_iter().collect();
            let data = json!({"e": "outboundAccountPosition", "E": now, "u": now, "B": a.position_json(&assets)});
            self.events.push(Event::User { account, data });
        }
    }

    /// Queues a bookTicker event if the top of the book changed.
    pub fn after_change(&mut self, symbol: usize) {
        if !self.synthetic_public {
            return;
        }
        let s = &mut self.symbols[symbol];
        let top = s.book.top_of_book();
        if top == s.last_top {
            return;
        }
        s.last_top = top;
        let (b, a) = top;
        let lvl = |l: Option<(Price, Qty)>| {
            l.map_or((fx(0), fx(0)), |(p, q)| (fx(p.units()), fx(q.units())))
        };
        let ((bp, bq), (ap, aq)) = (lvl(b), lvl(a));
        let data =
            json!({"u": s.book.update_id(), "s": s.cfg.symbol, "b": bp, "B": bq, "a": ap, "A": aq});
        self.events.push(Event::BookTicker { symbol, data });
    }

    /// `GET /api/v3/depth` body.
    pub fn depth_json(&self, symbol: usize, limit: usize) -> Value {
        let s = &self.symbols[symbol];
        let lv = |side| -> Vec<[String; 2]> {
            s.book
                .top(side, limit)
                .into_iter()
                .map(|(p, q)| [fx(p.units()), fx(q.units())])
                .collect()
        };
        json!({"lastUpdateId": s.book.update_id(), "bids": lv(Side::Buy), "asks": lv(Side::Sell)})
    }

    /// The simulator's whole state for tests: balances, orders, fills, fees, external flow.
    pub fn state_json(&self) -> Value {
        let accounts: Vec<Value> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let balances: BTreeMap<&String, Value> = a
                    .balances
                    .iter()
                    .map(|(k, b)| (k, json!({"free": fx(b.free), "locked": fx(b.locked)})))
                    .collect();
                let mut orders: Vec<&Order> =
                    self.orders.values().filter(|o| o.account == i).collect();
                orders.sort_by_key(|o| o.seq);
                json!({
                    "apiKey": a.api_key,
                    "balances": balances,
                    "orders": orders.iter().map(|o| o.query_json()).collect::<Vec<_>>(),
                    "positions": self.positions_json(i),
                })
            })
            .collect();
        let fills: Vec<Value> = self
            .fills
            .iter()
            .map(|f| {
                json!({
                    "tradeId": f.trade_id, "orderId": f.order_id, "account": f.account,
                    "symbol": self.symbols[f.symbol].cfg.symbol, "side": f.side.as_upper(),
                    "price": fx(f.price.units()), "qty": fx(f.qty.units()), "quoteQty": fx(f.quote),
                    "commission": fx(f.commission), "commissionAsset": f.commission_asset,
                    "isMaker": f.maker, "time": f.time_ms,
                })
            })
            .collect();
        let books: Vec<Value> = (0..self.symbols.len())
            .map(|i| {
                let mut d = self.depth_json(i, 20);
                if let Some(m) = d.as_object_mut() {
                    m.insert("symbol".into(), json!(self.symbols[i].cfg.symbol));
                }
                d
            })
            .collect();
        let fmt_map = |m: &BTreeMap<String, i64>| -> BTreeMap<String, String> {
            m.iter().map(|(k, v)| (k.clone(), fx(*v))).collect()
        };
        let (funding, liquidations) = self.perp_events_json();
        json!({
            "accounts": accounts,
            "funding": funding,
            "liquidations": liquidations,
            "fills": fills,
            "fees": fmt_map(&self.fees),
            "external": fmt_map(&self.external),
            "books": books,
        })
    }
}

/// Whether a `side` order at `price` would trade against a resting level at `level`.
pub(super) fn crosses(side: Side, price: Price, level: Price) -> bool {
    match side {
        Side::Buy => price >= level,
        Side::Sell => price <= level,
    }
}
