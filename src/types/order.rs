//! One order and its state machine. Every change to an order's state goes through
//! [`Order::apply`], which accepts venue events in any arrival order and never counts a fill
//! twice.
//!
//! Fills are tracked by the venue's **cumulative** figures (Binance `z` executed quantity and
//! `Z` cumulative quote), not by adding up individual fills: an event that reports a
//! cumulative quantity at or below what the order already holds is a duplicate or a late
//! copy and changes nothing; one above it moves the order to that point. That makes
//! duplicated, reordered and reconciled (queried) information converge on the venue's truth.

use crate::types::{
    ClientOrderId, InstrumentId, Notional, Price, Qty, Side, StrategyId, TradeId, UnixNanos,
    VenueOrderId,
};

/// Order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Limit,
    /// Post-only: the venue rejects it if it would take liquidity.
    LimitMaker,
    Market,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrderStatus {
    /// Created and risk-checked, not yet written to the venue.
    New,
    /// Written to the venue; no answer yet.
    Sent,
    /// The venue accepted it (on the book, or being matched).
    Acked,
    PartiallyFilled,
    Filled,
    Cancelled,
    Rejected,
    Expired,
}

impl OrderStatus {
    #[inline]
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Cancelled | Self::Rejected | Self::Expired
        )
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Sent => "sent",
            Self::Acked => "acked",
            Self::PartiallyFilled => "partially_filled",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
}

/// Terminal outcomes a venue can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueFinal {
    Cancelled,
    Rejected,
    Expired,
}

/// What the venue told us about an order, from a response, the private stream or a query.
/// `cum_qty`/`cum_quote` are the venue's cumulative executed quantity and quote amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderEvent {
    /// The order's bytes were written to the venue.
    Sent { at: UnixNanos },
    /// The venue accepted the order.
    Accepted {
        venue_order_id: VenueOrderId,
        at: UnixNanos,
    },
    /// A trade: `last_qty` at `last_price`, bringing the cumulative figures to `cum_qty`
    /// and `cum_quote`; `fee` paid in `fee_asset` for this trade.
    Trade {
        venue_order_id: VenueOrderId,
        trade_id: TradeId,
        last_qty: Qty,
        last_price: Price,
        cum_qty: Qty,
        cum_quote: Notional,
        fee: Qty,
        fee_asset: AssetCode,
        is_maker: bool,
        at: UnixNanos,
    },
    /// The order ended without filling completely; `cum_qty`/`cum_quote` as of its end.
    Ended {
        kind: VenueFinal,
        /// The venue's id for the order, when the report carries it.
        venue_order_id: Option<VenueOrderId>,
        cum_qty: Qty,
        cum_quote: Notional,
        at: UnixNanos,
    },
    /// A venue rejection before the order existed there (error code from the venue).
    RejectedByVenue { code: i32, at: UnixNanos },
    /// A queried snapshot (reconciliation): status and cumulative figures, no trade detail;
    /// and the order's price and total quantity as the venue has them, when the answer
    /// carries them (an amend whose answer and push were both lost shows here).
    Snapshot {
        venue_order_id: VenueOrderId,
        status: SnapshotStatus,
        cum_qty: Qty,
        cum_quote: Notional,
        terms: Option<(Price, Qty)>,
        at: UnixNanos,
    },
    /// The venue says it has no such order (queried after the deadline).
    Unknown { at: UnixNanos },
    /// The venue amended the order in place: its price and total quantity are now these
    /// (same client id, same venue id).
    Amended {
        price: Price,
        qty: Qty,
        at: UnixNanos,
    },
    /// The venue refused an amend (the order is unchanged; it may have ended meanwhile).
    AmendRejected { code: i32, at: UnixNanos },
}

/// Order status as a venue query reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    Open,
    Filled,
    Cancelled,
    Rejected,
    Expired,
}

/// A short asset code (`USDT`, `BNB`), inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AssetCode {
    len: u8,
    bytes: [u8; 15],
}

impl AssetCode {
    /// Up to 15 ASCII alphanumerics; anything else is `None`.
    pub fn new(s: &[u8]) -> Option<Self> {
        if s.len() > 15 || !s.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let mut bytes = [0u8; 15];
        bytes[..s.len()].copy_from_slice(s);
        Some(Self {
            len: s.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for AssetCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fill the order took on: exactly what positions and balances must move by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillDelta {
    pub side: Side,
    pub qty: Qty,
    pub quote: Notional,
    /// Venue trade id, or `None` for a fill learned from a query (reconciliation).
    pub trade_id: Option<TradeId>,
    pub fee: Qty,
    pub fee_asset: AssetCode,
    pub is_maker: bool,
    /// The fee above covers the whole fill. False when the fill was learned from a query or
    /// covers trades whose reports were missed: the order's trades must be fetched.
    pub fees_complete: bool,
    /// Filled inside the engine by the paper gateway, never by a venue (the trade id is the
    /// engine's own).
    pub paper: bool,
}

/// The result of applying one event.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Applied {
    /// The state, filled figures or ids changed.
    pub changed: bool,
    pub fill: Option<FillDelta>,
    /// Something that should not happen did (the event is ignored or clamped); counted.
    pub anomaly: Option<&'static str>,
}

/// One order as the engine holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub cid: ClientOrderId,
    pub strategy: StrategyId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: TimeInForce,
    pub price: Price,
    pub qty: Qty,
    pub status: OrderStatus,
    pub venue_order_id: Option<VenueOrderId>,
    /// Cumulative executed quantity, as the venue last reported it (never decreases).
    pub filled_qty: Qty,
    /// Cumulative executed quote amount.
    pub filled_quote: Notional,
    /// Fees by asset; at most two assets per order in practice (quote and BNB-like).
    pub fees: [(AssetCode, Qty); 2],
    /// A cancel was requested and not yet answered.
    pub cancel_pending: bool,
    /// An amend in place was requested and not yet answered.
    pub amend_pending: bool,
    pub created_at: UnixNanos,
    pub sent_at: Option<UnixNanos>,
    pub acked_at: Option<UnixNanos>,
    pub updated_at: UnixNanos,
    /// Last trade id applied, for records (correctness relies on cumulative figures).
    pub last_trade_id: Option<TradeId>,
    /// Fees were set from the venue's trade list up to this trade id (see `set_fees`).
    pub fees_cover_trade: Option<TradeId>,
    /// Perpetuals: the order may only reduce the position.
    pub reduce_only: bool,
    /// The venue's rate for this order's fees paid in another asset than the instrument's
    /// quote: `(asset, units of it per unit of quote)` (an order margined in another currency
    /// than the quote). Fees in that asset count in the quote at this rate ([`Order::quote_fees`]).
    pub fee_rate: Option<(AssetCode, Price)>,
}

impl Order {
    /// The same order, reduce-only (perpetuals) if `yes`.
    pub fn reducing(mut self, yes: bool) -> Self {
        self.reduce_only = yes;
        self
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cid: ClientOrderId,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        kind: OrderKind,
        tif: TimeInForce,
        price: Price,
        qty: Qty,
        at: UnixNanos,
    ) -> Self {
        Self {
            cid,
            strategy,
            instrument,
            side,
            kind,
            tif,
            price,
            qty,
            status: OrderStatus::New,
            venue_order_id: None,
            filled_qty: Qty::ZERO,
            filled_quote: Notional::default(),
            fees: [(AssetCode::default(), Qty::ZERO); 2],
            cancel_pending: false,
            amend_pending: false,
            created_at: at,
            sent_at: None,
            acked_at: None,
            updated_at: at,
            last_trade_id: None,
            fees_cover_trade: None,
            reduce_only: false,
            fee_rate: None,
        }
    }

    /// `fee` paid in `asset`, in the instrument's quote asset `quote`: itself when paid in
    /// the quote, converted at the venue's rate when the venue gave one for `asset`
    /// ([`Order::fee_rate`]; rounded to the nearest 10^-8), `None` otherwise (a base-asset or
    /// third-asset fee: valued elsewhere, or not at all).
    pub fn fee_in_quote(&self, asset: AssetCode, fee: Qty, quote: &str) -> Option<Qty> {
        if asset.as_str() == quote {
            return Some(fee);
        }
        let (rated, per_quote) = self.fee_rate?;
        if rated != asset || per_quote.units() <= 0 {
            return None;
        }
        let num = i128::from(fee.units()) * i128::from(crate::types::SCALE);
        let den = i128::from(per_quote.units());
        let q = (num.abs() + den / 2) / den;
        let q = if num < 0 { -q } else { q };
        i64::try_from(q).ok().map(Qty::from_units)
    }

    /// Every fee of this order that counts in the quote asset `quote` (see
    /// [`Order::fee_in_quote`]), summed.
    pub fn quote_fees(&self, quote: &str) -> Qty {
        let units = self
            .fees
            .iter()
            .filter(|(_, fee)| !fee.is_zero())
            .filter_map(|&(asset, fee)| self.fee_in_quote(asset, fee, quote))
            .fold(0i64, |sum, q| sum.saturating_add(q.units()));
        Qty::from_units(units)
    }

    /// Fees paid in `asset` so far.
    pub fn fee_in(&self, asset: AssetCode) -> Qty {
        self.fees
            .iter()
            .filter(|f| f.0 == asset)
            .map(|f| f.1)
            .next()
            .unwrap_or(Qty::ZERO)
    }

    /// Quantity still open on the venue.
    #[inline]
    pub fn leaves_qty(&self) -> Qty {
        if self.status.is_final() {
            Qty::ZERO
        } else {
            self.qty.saturating_sub(self.filled_qty)
        }
    }

    /// Average fill price (reporting only).
    pub fn avg_price(&self) -> Option<f64> {
        (!self.filled_qty.is_zero()).then(|| self.filled_quote.to_f64() / self.filled_qty.to_f64())
    }

    /// Applies one venue event. See the module docs for the rules.
    pub fn apply(&mut self, ev: &OrderEvent) -> Applied {
        let mut out = Applied::default();
        match *ev {
            OrderEvent::Sent { at } => {
                if self.status == OrderStatus::New {
                    self.status = OrderStatus::Sent;
                    self.sent_at = Some(at);
                    self.touch(at, &mut out);
                }
            }
            OrderEvent::Accepted { venue_order_id, at } => {
                self.learn_venue_id(venue_order_id, &mut out);
                if self.acked_at.is_none() {
                    self.acked_at = Some(at);
                }
                if matches!(self.status, OrderStatus::New | OrderStatus::Sent) {
                    self.status = OrderStatus::Acked;
                    self.touch(at, &mut out);
                }
            }
            OrderEvent::Trade {
                venue_order_id,
                trade_id,
                last_qty,
                last_price: _,
                cum_qty,
                cum_quote,
                fee,
                fee_asset,
                is_maker,
                at,
            } => {
                self.learn_venue_id(venue_order_id, &mut out);
                if self.acked_at.is_none() {
                    self.acked_at = Some(at);
                }
                // A trade whose cumulative is not past ours is a duplicate or late copy.
                if cum_qty > self.filled_qty {
                    let mut fill = self.advance_to(cum_qty, cum_quote, &mut out);
                    // The trade's own fee belongs to it, unless fetched trades already counted
                    // it; a skipped (missed) earlier trade's fee comes from fetching trades.
                    let counted = self.fees_cover_trade.is_some_and(|upto| trade_id <= upto);
                    if !counted {
                        self.add_fee(fee_asset, fee);
                    }
                    fill.trade_id = Some(trade_id);
                    fill.fee = if counted { Qty::ZERO } else { fee };
                    fill.fee_asset = fee_asset;
                    fill.is_maker = is_maker;
                    fill.fees_complete = fill.qty == last_qty;
                    self.last_trade_id = Some(trade_id);
                    out.fill = Some(fill);
                    self.settle_open_status();
                    self.touch(at, &mut out);
                }
            }
            OrderEvent::Ended {
                kind,
                venue_order_id,
                cum_qty,
                cum_quote,
                at,
            } => {
                if let Some(id) = venue_order_id {
                    self.learn_venue_id(id, &mut out);
                }
                if cum_qty > self.filled_qty {
                    out.fill = Some(self.advance_to(cum_qty, cum_quote, &mut out));
                }
                if !self.status.is_final() {
                    self.status = if self.filled_qty >= self.qty {
                        OrderStatus::Filled
                    } else {
                        match kind {
                            VenueFinal::Cancelled => OrderStatus::Cancelled,
                            VenueFinal::Rejected if self.filled_qty.is_zero() => {
                                OrderStatus::Rejected
                            }
                            VenueFinal::Rejected => {
                                out.anomaly = Some("rejected after fills; kept as cancelled");
                                OrderStatus::Cancelled
                            }
                            VenueFinal::Expired => OrderStatus::Expired,
                        }
                    };
                    self.cancel_pending = false;
                    self.amend_pending = false;
                    self.touch(at, &mut out);
                }
            }
            OrderEvent::RejectedByVenue { code: _, at } => {
                if matches!(self.status, OrderStatus::New | OrderStatus::Sent) {
                    self.status = OrderStatus::Rejected;
                    self.touch(at, &mut out);
                } else if !self.status.is_final() {
                    out.anomaly =
                        Some("rejection for an order the venue already accepted; ignored");
                }
            }
            OrderEvent::Snapshot {
                venue_order_id,
                status,
                cum_qty,
                cum_quote,
                terms,
                at,
            } => {
                self.learn_venue_id(venue_order_id, &mut out);
                if self.acked_at.is_none() {
                    self.acked_at = Some(at);
                }
                self.adopt_terms(terms, cum_qty, at, &mut out);
                if cum_qty > self.filled_qty {
                    out.fill = Some(self.advance_to(cum_qty, cum_quote, &mut out));
                }
                match status {
                    SnapshotStatus::Open => {
                        if matches!(self.status, OrderStatus::New | OrderStatus::Sent) {
                            self.status = OrderStatus::Acked;
                            self.touch(at, &mut out);
                        }
                        self.settle_open_status();
                    }
                    SnapshotStatus::Filled => {
                        if self.filled_qty < self.qty {
                            out.anomaly = Some("venue says filled but its quantity is short");
                        }
                        if !self.status.is_final() {
                            self.status = OrderStatus::Filled;
                            self.touch(at, &mut out);
                        }
                    }
                    SnapshotStatus::Cancelled
                    | SnapshotStatus::Rejected
                    | SnapshotStatus::Expired => {
                        let kind = match status {
                            SnapshotStatus::Cancelled => VenueFinal::Cancelled,
                            SnapshotStatus::Rejected => VenueFinal::Rejected,
                            _ => VenueFinal::Expired,
                        };
                        let ended = OrderEvent::Ended {
                            kind,
                            venue_order_id: Some(venue_order_id),
                            cum_qty,
                            cum_quote,
                            at,
                        };
                        let more = self.apply(&ended);
                        out.changed |= more.changed;
                        out.anomaly = out.anomaly.or(more.anomaly);
                    }
                }
            }
            OrderEvent::Amended { price, qty, at } => {
                self.amend_pending = false;
                if self.status.is_final() {
                    out.anomaly = Some("amend confirmed for an order that has ended; ignored");
                } else if qty < self.filled_qty {
                    out.anomaly = Some("amended below the filled quantity; ignored");
                } else if price != self.price || qty != self.qty {
                    self.price = price;
                    self.qty = qty;
                    self.settle_open_status();
                    self.touch(at, &mut out);
                } else {
                    self.touch(at, &mut out);
                }
            }
            OrderEvent::AmendRejected { code: _, at } => {
                if self.amend_pending {
                    self.amend_pending = false;
                    self.touch(at, &mut out);
                }
            }
            OrderEvent::Unknown { at } => {
                // Only an order the venue never accepted can be unknown to it.
                if matches!(self.status, OrderStatus::New | OrderStatus::Sent)
                    && self.filled_qty.is_zero()
                {
                    self.status = OrderStatus::Rejected;
                    self.touch(at, &mut out);
                } else if !self.status.is_final() {
                    out.anomaly = Some("venue does not know an order it accepted");
                }
            }
        }
        if self.status == OrderStatus::PartiallyFilled && self.filled_qty >= self.qty {
            self.status = OrderStatus::Filled;
        }
        out
    }

    /// Replaces the fee totals with the venue's list of this order's trades `(trade id, fee,
    /// asset)`. Returns the change per asset (for positions and PnL).
    pub fn set_fees(&mut self, trades: &[(TradeId, Qty, AssetCode)]) -> [(AssetCode, i64); 2] {
        let before = self.fees;
        self.fees = [(AssetCode::default(), Qty::ZERO); 2];
        for (_, fee, asset) in trades {
            self.add_fee(*asset, *fee);
        }
        self.fees_cover_trade = trades.iter().map(|t| t.0).max().or(self.fees_cover_trade);
        let mut delta = [(AssetCode::default(), 0i64); 2];
        for (i, (asset, fee)) in self.fees.iter().enumerate() {
            let old = before
                .iter()
                .find(|b| b.0 == *asset)
                .map(|b| b.1.units())
                .unwrap_or(0);
            delta[i] = (*asset, fee.units() - old);
        }
        delta
    }

    /// Marks a cancel as requested (the request itself goes through the gateway).
    pub fn request_cancel(&mut self) -> bool {
        if self.status.is_final() || self.cancel_pending {
            return false;
        }
        self.cancel_pending = true;
        true
    }

    fn learn_venue_id(&mut self, id: VenueOrderId, out: &mut Applied) {
        match self.venue_order_id {
            None => {
                self.venue_order_id = Some(id);
                out.changed = true;
            }
            Some(have) if have != id => out.anomaly = Some("venue order id changed"),
            Some(_) => {}
        }
    }

    /// Moves the cumulative figures to the venue's and returns the difference as a fill.
    fn advance_to(&mut self, cum_qty: Qty, cum_quote: Notional, out: &mut Applied) -> FillDelta {
        let cum_qty = if cum_qty > self.qty {
            out.anomaly = Some("venue cumulative quantity above order quantity; clamped");
            self.qty
        } else {
            cum_qty
        };
        let qty = cum_qty.saturating_sub(self.filled_qty);
        let quote = Notional((cum_quote.0 - self.filled_quote.0).max(0));
        self.filled_qty = cum_qty;
        self.filled_quote = Notional(self.filled_quote.0.max(cum_quote.0));
        out.changed = true;
        FillDelta {
            side: self.side,
            qty,
            quote,
            trade_id: None,
            fee: Qty::ZERO,
            fee_asset: AssetCode::default(),
            is_maker: false,
            fees_complete: false,
            paper: false,
        }
    }

    fn add_fee(&mut self, asset: AssetCode, fee: Qty) {
        if fee.is_zero() {
            return;
        }
        for slot in self.fees.iter_mut() {
            if slot.0 == asset || slot.1.is_zero() {
                slot.0 = asset;
                slot.1 = slot.1.checked_add(fee).unwrap_or(Qty::MAX);
                return;
            }
        }
        // A third fee asset on one order: fold into the last slot's count is wrong, so keep
        // the first two exact and let reconciliation report the rest.
    }

    /// The order's price and quantity as a venue query reports them, while an amend's
    /// outcome is unknown (its answer and push lost, or not yet here): the venue's terms are
    /// ours from now on, and the amend is no longer pending (if it arrives later, its own
    /// answer or push still applies). Without an amend pending, ours are the venue's last
    /// confirmed ones and a query cannot be newer than they are.
    fn adopt_terms(
        &mut self,
        terms: Option<(Price, Qty)>,
        cum_qty: Qty,
        at: UnixNanos,
        out: &mut Applied,
    ) {
        let Some((price, qty)) = terms else { return };
        if !self.amend_pending || self.status.is_final() {
            return;
        }
        if !price.is_positive() || qty < cum_qty.max(self.filled_qty) {
            out.anomaly = Some("queried price or quantity impossible; ignored");
            return;
        }
        self.amend_pending = false;
        self.price = price;
        self.qty = qty;
        self.touch(at, out);
    }

    fn settle_open_status(&mut self) {
        if self.status.is_final() {
            return;
        }
        if self.filled_qty >= self.qty {
            self.status = OrderStatus::Filled;
        } else if !self.filled_qty.is_zero() {
            self.status = OrderStatus::PartiallyFilled;
        } else if matches!(self.status, OrderStatus::New | OrderStatus::Sent) {
            self.status = OrderStatus::Acked;
        }
    }

    fn touch(&mut self, at: UnixNanos, out: &mut Applied) {
        self.updated_at = self.updated_at.max(at);
        out.changed = true;
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
