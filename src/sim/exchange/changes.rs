//! Orders after they are placed: a cancel (one, or all of a symbol), an amend in place (a
//! smaller size at the same price keeps the order's place in the queue), and finding an order
//! by id or client id, or listing the open ones.

use super::*;

impl Exchange {
    /// Cancels one open order of `account`, found by id or client id.
    pub fn cancel(
        &mut self,
        account: usize,
        symbol: usize,
        order_id: Option<u64>,
        orig_client_id: Option<&str>,
        new_client_id: Option<String>,
    ) -> Result<Value, ApiError> {
        let id = self
            .find(account, symbol, order_id, orig_client_id)
            .ok_or_else(|| ApiError::bad(-2011, "Unknown order sent."))?;
        let open = self.orders.get(&id).is_some_and(|o| o.status.is_open());
        if !open {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        }
        self.finish(id, Status::Canceled, "CANCELED");
        let cancel_id = new_client_id.unwrap_or_else(|| format!("simcancel{id}"));
        self.report(id, "CANCELED", Some(&cancel_id), None);
        self.flush_positions();
        self.after_change(symbol);
        let o = self
            .orders
            .get(&id)
            .ok_or_else(|| ApiError::bad(-2011, "Unknown order sent."))?;
        Ok(o.cancel_json(&o.client_order_id, &cancel_id))
    }

    /// Amends an open resting limit order of `account` in place (OKX's `amend-order`): a new
    /// price and total quantity, above what has filled. Only a smaller quantity at the same
    /// price keeps the order's place in the queue; otherwise it goes to the back of its new
    /// price, and a limit order whose new price crosses trades as it would if placed there
    /// (a post-only one is refused instead). Funds locked follow the new price and quantity.
    /// A `REPLACED` report tells the account. Answers the order id.
    pub fn amend(
        &mut self,
        account: usize,
        symbol: usize,
        order_id: Option<u64>,
        client_id: Option<&str>,
        price: Price,
        qty: Qty,
    ) -> Result<u64, ApiError> {
        let gone = || ApiError::bad(-2011, "Unknown order sent.");
        let perp = self.perp_spec(symbol).is_some();
        let id = self
            .find(account, symbol, order_id, client_id)
            .ok_or_else(gone)?;
        let o = self.orders.get(&id).ok_or_else(gone)?;
        if !o.status.is_open() || !o.on_book {
            return Err(gone());
        }
        let (side, kind, old_price, old_leaves, executed) =
            (o.side, o.kind, o.price, o.leaves(), o.executed);
        let check = NewOrder {
            symbol,
            side,
            kind: OrderType::Limit,
            tif: Tif::Gtc,
            price,
            qty,
            quote_qty: Price::ZERO,
            client_order_id: None,
            reduce_only: false,
        };
        self.check_filters(&check)?;
        if qty <= executed {
            return Err(ApiError::bad(
                -1013,
                "New quantity must be above the filled quantity.",
            ));
        }
        let crosses_now = self
            .best_opposite(symbol, side.opposite(), None)
            .is_some_and(|p| crosses(side, price, p));
        if kind == OrderType::LimitMaker && crosses_now {
            return Err(ApiError::bad(
                -2010,
                "Order would immediately match and take.",
            ));
        }
        // Funds: exactly what the new leaves need (a buy at its new price; a perpetual's
        // margin for the part of the new leaves that opens, in the margin asset).
        let new_leaves = qty.units() - executed.units();
        let need = match side {
            _ if perp => {
                let leaves = Qty::from_units(new_leaves);
                self.perp_order_margin(account, symbol, side, leaves, price, false)?
            }
            Side::Buy => quote_of(price, qty) - quote_of(price, executed),
            Side::Sell => new_leaves,
        };
        let asset = self.lock_asset(symbol, side);
        let locked = self.orders.get(&id).map_or(0, |o| o.locked);
        if need > locked {
            if !self.accounts[account].lock(&asset, need - locked) {
                return Err(ApiError::insufficient());
            }
        } else if need < locked {
            let b = self.accounts[account].bal(&asset);
            b.locked -= locked - need;
            b.free += locked - need;
        }
        self.mark_dirty(account, &asset);
        let keeps_place = price == old_price && new_leaves <= old_leaves.units();
        if keeps_place {
            self.symbols[symbol]
                .book
                .add_own(side, price, new_leaves - old_leaves.units());
        } else {
            self.unrest(id, symbol, side, old_price, old_leaves);
        }
        if let Some(o) = self.orders.get_mut(&id) {
            o.price = price;
            o.orig_qty = qty;
            o.locked = need;
            o.update_ms = now_ms();
            if !keeps_place {
                o.on_book = false;
            }
        }
        self.report(id, "REPLACED", None, None);
        if !keeps_place {
            if crosses_now {
                self.take(id, Some(price));
            }
            let leaves = self.orders.get(&id).map_or(Qty::ZERO, |o| o.leaves());
            if leaves.is_positive() {
                self.rest(id);
            }
            self.release_if_done(id);
        }
        self.flush_positions();
        self.after_change(symbol);
        Ok(id)
    }

    /// Cancels every open order of `account` on `symbol`; -2011 if there were none.
    pub fn cancel_all(&mut self, account: usize, symbol: usize) -> Result<Value, ApiError> {
        let mut ids: Vec<(u64, u64)> = self
            .orders
            .values()
            .filter(|o| o.account == account && o.symbol == symbol && o.status.is_open())
            .map(|o| (o.seq, o.order_id))
            .collect();
        if ids.is_empty() {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        }
        ids.sort_unstable();
        let mut out = Vec::new();
        for (_, id) in ids {
            if let Ok(v) = self.cancel(account, symbol, Some(id), None, None) {
                out.push(v);
            }
        }
        Ok(Value::Array(out))
    }

    pub fn find(
        &self,
        account: usize,
        symbol: usize,
        order_id: Option<u64>,
        client_id: Option<&str>,
    ) -> Option<u64> {
        if let Some(id) = order_id {
            return self
                .orders
                .get(&id)
                .filter(|o| o.account == account && o.symbol == symbol)
                .map(|o| o.order_id);
        }
        let cid = client_id?;
        // The newest order with that client id.
        self.orders
            .values()
            .filter(|o| o.account == account && o.symbol == symbol && o.client_order_id == cid)
            .max_by_key(|o| o.seq)
            .map(|o| o.order_id)
    }

    pub fn open_orders(&self, account: usize, symbol: Option<usize>) -> Vec<&Order> {
        let mut v: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| {
                o.account == account && o.status.is_open() && symbol.is_none_or(|s| o.symbol == s)
            })
            .collect();
        v.sort_by_key(|o| o.seq);
        v
    }
}
