//! The order half of the venue seam: what a venue's order session provides to the gateway
//! (which is written once), and the venue-neutral events it hands back. A session is pure
//! code: it writes signed requests into the gateway's buffer and decodes what the venue
//! sends; the gateway moves the bytes, keeps order state and reconciles.

use crate::types::order::{AssetCode, OrderEvent, OrderKind, SnapshotStatus, TimeInForce};
use crate::types::{ClientOrderId, Notional, Price, Qty, Side, UnixNanos, VenueOrderId};
use crate::venue::md::Keepalive;

/// A venue's error: its code (Binance `-2010`, OKX `51008`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueError {
    pub code: i32,
    pub msg: String,
}

/// One asset's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub asset: AssetCode,
    pub free: Qty,
    pub locked: Qty,
}

/// What an order query, an open-orders entry or a cancel response says about one order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSnapshot {
    pub cid: ClientOrderId,
    pub symbol: String,
    pub venue_order_id: VenueOrderId,
    pub status: SnapshotStatus,
    pub cum_qty: Qty,
    pub cum_quote: Notional,
    pub price: Price,
    pub orig_qty: Qty,
    pub side: crate::types::Side,
}

impl OrderSnapshot {
    pub fn event(&self, at: UnixNanos) -> OrderEvent {
        OrderEvent::Snapshot {
            venue_order_id: self.venue_order_id,
            status: self.status,
            cum_qty: self.cum_qty,
            cum_quote: self.cum_quote,
            terms: Some((self.price, self.orig_qty)),
            at,
        }
    }
}

/// What a request was for, kept by request id until its answer arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    Place(ClientOrderId),
    Cancel(ClientOrderId),
    /// An amend in place (new price and quantity of an open order).
    Amend(ClientOrderId),
    Status(ClientOrderId),
    Trades(ClientOrderId),
    OpenOrders(String),
    Account,
    Subscribe,
    /// A login that authenticates the whole connection (Binance's `session.logon`).
    Logon,
    /// Perpetuals: the account's position in one symbol.
    Positions(String),
    /// Perpetuals: the leverage set on one symbol (at start, from config).
    SetLeverage {
        symbol: String,
        leverage: crate::types::Rate,
    },
    /// New orders in one batch request, by client id in the order sent (`RestCodec::
    /// place_batch`). Boxed: the variant stays a pointer, the box comes from the codec's
    /// [`BatchPool`] and goes back to it with the answer.
    PlaceBatch(Box<CidBatch>),
    /// Cancels in one batch request, by client id in the order sent.
    CancelBatch(Box<CidBatch>),
    /// Amends in one batch request, by client id in the order sent (`RestCodec::
    /// amend_batch`); each order's new terms stay with the codec until the answer.
    AmendBatch(Box<CidBatch>),
}

/// The client ids one batch request carries, in the order sent: a fixed-capacity array.
#[derive(Debug, Clone)]
pub struct CidBatch {
    /// Past `len`: stale ids or the placeholder, never read.
    ids: [ClientOrderId; CidBatch::CAP],
    len: usize,
}

impl Default for CidBatch {
    fn default() -> Self {
        let blank = match ClientOrderId::parse("0") {
            Ok(c) => c,
            Err(_) => unreachable!("\"0\" is a valid client order id"),
        };
        Self {
            ids: [blank; CidBatch::CAP],
            len: 0,
        }
    }
}

/// Batches are equal when they carry the same ids in the same order.
impl PartialEq for CidBatch {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl CidBatch {
    /// The most orders one batch request carries on any venue mako batches on (Delta's
    /// documented cap, 50; Bybit's is 20 or 10).
    pub const CAP: usize = 50;

    /// Adds `cid`; false (not added) when full.
    pub fn push(&mut self, cid: ClientOrderId) -> bool {
        if self.len == Self::CAP {
            return false;
        }
        self.ids[self.len] = cid;
        self.len += 1;
        true
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn as_slice(&self) -> &[ClientOrderId] {
        &self.ids[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Boxed [`CidBatch`]es kept for reuse by a codec that batches: a batch request takes one,
/// its answer (or abandonment) gives it back, so a warm codec allocates none per batch.
#[derive(Debug, Default)]
pub struct BatchPool {
    /// Boxed on purpose: each box moves into a `Purpose` and back, never its contents.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<CidBatch>>,
}

impl BatchPool {
    /// An empty batch holding `cids` (at most `CidBatch::CAP`; the rest are not taken).
    pub fn take(&mut self, cids: impl IntoIterator<Item = ClientOrderId>) -> Box<CidBatch> {
        let mut b = self.spare.pop().unwrap_or_default();
        b.clear();
        for c in cids {
            if !b.push(c) {
                break;
            }
        }
        b
    }

    /// Keeps `b` for the next batch (at most 64 are kept).
    pub fn give(&mut self, b: Box<CidBatch>) {
        if self.spare.len() < 64 {
            self.spare.push(b);
        }
    }
}

/// `VenueError.code` of a `Failed` set-leverage that asks to be sent again at once: the
/// codec first had to learn something the request names (Delta: the product id in the
/// leverage path), and has learned it. Any other code 0 ("no answer") waits for the sweep.
pub const LEVERAGE_SEND_AGAIN: i32 = -1;

/// A perpetual position as the venue states it (a push or a query's answer).
#[derive(Debug, Clone, PartialEq)]
pub struct VenuePosition {
    pub symbol: String,
    /// Signed size in the instrument's order units (base or contracts, as orders count
    /// them) at `10^-8`: positive long, negative short, zero flat.
    pub size: i64,
    /// The position's average entry price, when open and reported.
    pub entry: Option<Price>,
    /// The leverage the venue holds for the symbol, when reported.
    pub leverage: Option<crate::types::Rate>,
}

/// A funding payment the venue booked on a position.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueFunding {
    pub symbol: String,
    /// The position at the funding time, signed, in order units at `10^-8`.
    pub size: i64,
    pub mark: Price,
    pub rate: crate::types::FundingRate,
    /// Paid by the account (negative: received), settlement asset at `10^-8`.
    pub paid: i64,
    /// The funding time.
    pub at: UnixNanos,
}

/// What the venue told us, in the gateway's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// An event for one order (response, execution report or query answer).
    Order {
        cid: ClientOrderId,
        event: OrderEvent,
    },
    /// The venue refused a new order (nothing was placed).
    PlaceRejected {
        cid: ClientOrderId,
        error: VenueError,
    },
    /// The outcome of a request for this order is unknown (timeout, 5xx): query it.
    Uncertain {
        cid: ClientOrderId,
    },
    /// A cancel was refused (unknown or already final): the order's state must be queried.
    CancelRejected {
        cid: ClientOrderId,
        error: VenueError,
    },
    /// A query says the venue has no such order (Binance -2013, OKX 51603).
    NotFound {
        cid: ClientOrderId,
    },
    /// The venue's trades of one order: `(trade id, fee, fee asset)`.
    Trades {
        cid: ClientOrderId,
        trades: Vec<(crate::types::TradeId, Qty, AssetCode)>,
    },
    /// The venue converts this order's fees paid in `asset` at `per_quote` units of it per
    /// unit of the instrument's quote asset (CoinDCX's INR-margined orders: their
    /// `settlement_currency_conversion_price`, INR per USDT). Sent before the fees it rates.
    FeeRate {
        cid: ClientOrderId,
        asset: AssetCode,
        per_quote: crate::types::Price,
    },
    /// The venue's open orders on one symbol.
    OpenOrders {
        symbol: String,
        orders: Vec<OrderSnapshot>,
    },
    Balances(Vec<Balance>),
    /// One asset's balance as a push states it (venues that push one currency at a time:
    /// Coinstore's `account` channel). Applied to that asset alone: the others are kept.
    BalanceUpdate(Balance),
    /// Perpetuals: the account's position in one symbol (pushed, or a query's answer; a
    /// query for a symbol without a position answers size zero).
    Position(VenuePosition),
    /// Perpetuals: a funding payment.
    Funding(VenueFunding),
    /// Perpetuals: the venue holds this leverage on the symbol now (a set-leverage answer,
    /// or "not modified": it already did).
    LeverageSet {
        symbol: String,
        leverage: crate::types::Rate,
    },
    /// The session's login was accepted (venues that log in: OKX); the gateway then calls
    /// `OrderSession::after_login`.
    LoggedIn,
    /// The private stream (orders, balances) is subscribed on this connection.
    Subscribed,
    /// Too many requests: back off for this long (HTTP 429, Binance -1003, OKX 50011).
    RateLimited {
        retry_after_ms: u64,
    },
    /// The IP is banned (Binance 418): stop sending.
    Banned,
    /// A request failed in a way that concerns no single order.
    Failed {
        purpose: Purpose,
        error: VenueError,
    },
    /// A frame that could not be decoded (counted, skipped).
    Undecodable(String),
    /// The private stream skipped messages (Coinbase's `sequence_num` jumped): events may
    /// be lost, so the gateway reconciles at once (every open order queried, a sweep).
    StreamGap(String),
    /// Another private-stream event, by type (counted).
    Other(String),
    /// A private-stream event of a documented type the gateway has no use for (Binance's
    /// `balanceUpdate` and `listStatus`), by type: like `Other`, named without allocating.
    Ignored(&'static str),
}

/// A new order, as the gateway asks a session to encode it.
#[derive(Debug, Clone, Copy)]
pub struct PlaceOrder<'a> {
    /// The venue's symbol (`BTCUSDT`, `BTC-USDT`).
    pub symbol: &'a str,
    pub cid: &'a ClientOrderId,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: TimeInForce,
    pub price: Price,
    pub qty: Qty,
    /// Decimals the venue accepts for price and quantity (from the instrument's tick and lot).
    pub price_decimals: u32,
    pub qty_decimals: u32,
    /// Perpetuals: the venue must only reduce the position with it (risk refuses it on spot,
    /// so spot codecs never see it set).
    pub reduce_only: bool,
}

/// One venue's authenticated order session on its private WebSocket. Every encoder writes
/// one text frame into `out` (cleared first) and remembers what the request was for, so the
/// answer decodes into the right `SessionEvent`s.
pub trait OrderSession: Send + 'static {
    /// The venue's kind name, for logs.
    fn venue_kind(&self) -> &'static str;

    /// How the private connection is kept alive.
    fn keepalive(&self) -> Keepalive {
        Keepalive::ServerPings
    }

    /// A keepalive sent every `Duration` while the connection is up, whatever else flows
    /// (CoinDCX's Engine.IO ping every `pingInterval`): `None` for venues whose keepalive
    /// waits for silence (`keepalive`).
    fn periodic_ping(&self) -> Option<(&'static str, std::time::Duration)> {
        None
    }

    /// The first frame after connecting: Binance subscribes to the user data stream (signed,
    /// no login); a venue that logs in (OKX) writes its login here and subscribes in
    /// `after_login`.
    fn on_connected(&mut self, now_ms: u64, out: &mut Vec<u8>);

    /// The frame to send once `SessionEvent::LoggedIn` arrived; false when there is none.
    fn after_login(&mut self, now_ms: u64, out: &mut Vec<u8>) -> bool {
        let _ = (now_ms, out);
        false
    }

    fn place(&mut self, order: &PlaceOrder<'_>, now_ms: u64, out: &mut Vec<u8>);

    /// Cancel by client id.
    fn cancel(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>);

    /// Whether this session amends open orders in place (`amend`). A venue without an amend
    /// (or whose amend mako does not speak) answers false, and strategies' amends become
    /// cancel + new.
    fn amends_in_place(&self) -> bool {
        false
    }

    /// Amends open order `order.cid` in place to `order.price` and total `order.qty` (its
    /// side, kind and time in force are the order's own and are not sent). The answer or the
    /// private stream reports the outcome as `OrderEvent::Amended` or `AmendRejected`. False,
    /// writing nothing, when `amends_in_place` is false.
    fn amend(&mut self, order: &PlaceOrder<'_>, now_ms: u64, out: &mut Vec<u8>) -> bool {
        let _ = (order, now_ms, out);
        false
    }

    /// Which amends `amend` can make (when `amends_in_place`): any, or (Binance's
    /// keep-priority amend) only a smaller quantity at the same price.
    fn amend_limits(&self) -> AmendLimits {
        AmendLimits::Any
    }

    /// Whether this session cancels one order and places another in one request
    /// (`cancel_replace`). A venue without one answers false, and a replace is cancel + new.
    fn cancel_replaces(&self) -> bool {
        false
    }

    /// Cancels open order `old` and places `new` in one request (Binance's
    /// `order.cancelReplace`, new order only if the cancel succeeded). The answer reports
    /// both orders: the old one's cancel (or `CancelRejected`) and the new one's acceptance
    /// (or `PlaceRejected`). False, writing nothing, when `cancel_replaces` is false.
    fn cancel_replace(
        &mut self,
        old: &ClientOrderId,
        new: &PlaceOrder<'_>,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        let _ = (old, new, now_ms, out);
        false
    }

    /// Query one order by client id. This and the other queries answer false, writing
    /// nothing, on a venue whose private WebSocket cannot answer queries (OKX): the gateway
    /// then sends them over REST.
    fn status(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>)
    -> bool;

    /// The venue's trades (fills with fees) of one order.
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool;

    /// Open orders on one symbol.
    fn open_orders(&mut self, symbol: &str, now_ms: u64, out: &mut Vec<u8>) -> bool;

    /// Balances.
    fn account(&mut self, now_ms: u64, out: &mut Vec<u8>) -> bool;

    /// Whether queries (status, trades, open orders, balances) go over this WebSocket; when
    /// not, the gateway needs the venue's REST side for them.
    fn queries_over_ws(&self) -> bool {
        true
    }

    /// Forgets every request in flight (after a reconnect their answers never come; the
    /// reconciliation sweep finds out what happened) and returns what they were for.
    fn reset_inflight(&mut self) -> Vec<Purpose>;

    /// Decodes one frame into events (appended to `out`).
    fn on_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>);

    /// Decodes one binary frame (BitMart may compress its private pushes with raw DEFLATE).
    /// A venue that sends no binary frames counts one as undecodable.
    fn on_binary_frame(&mut self, frame: &[u8], at: UnixNanos, out: &mut Vec<SessionEvent>) {
        let _ = at;
        out.push(SessionEvent::Undecodable(format!(
            "unexpected binary frame of {} bytes",
            frame.len()
        )));
    }

    /// Share of the venue's request budget in use, in percent (sweeps hold back from 80).
    fn budget_used_percent(&self) -> u32;

    /// The venue's published limits on new orders, kept on the engine's side so an order the
    /// venue would refuse for its rate is refused before it leaves.
    fn order_limits(&self) -> OrderLimits {
        OrderLimits::default()
    }
}

/// Which in-place amends a session (or REST codec) makes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AmendLimits {
    /// A new price and quantity (OKX).
    #[default]
    Any,
    /// Only a smaller quantity at the same price; the order keeps its place in the queue
    /// (Binance's `order.amend.keepPriority`).
    QuantityDownOnly,
}

impl AmendLimits {
    /// Whether an amend from `(old_price, old_qty)` to `(price, qty)` is one these limits allow.
    pub fn allows(
        self,
        old_price: crate::types::Price,
        old_qty: Qty,
        price: crate::types::Price,
        qty: Qty,
    ) -> bool {
        match self {
            AmendLimits::Any => true,
            AmendLimits::QuantityDownOnly => price == old_price && qty < old_qty,
        }
    }
}

/// Limits on new orders as a venue publishes them: at most `n` in any `window`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderLimits {
    /// Per instrument (OKX: 60 per 2 s per instrument).
    pub per_instrument: Option<(u32, std::time::Duration)>,
    /// Per account (OKX: 1,000 new and amended orders per 2 s per sub-account).
    pub per_account: Option<(u32, std::time::Duration)>,
}
