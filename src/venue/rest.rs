//! Order entry over REST, the venue-neutral half: the request head a venue's codec encodes,
//! what became of it, the request-weight / 429 / 418 policy, and the `RestCodec` trait the
//! gateway's REST worker (written once) drives. No I/O here.

use crate::types::{ClientOrderId, UnixNanos, VenueOrderId};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
    /// A DELETE whose signed buffer is its JSON body, not a query (Delta's cancel).
    DeleteJson,
    /// A GET whose signed buffer ends the path (a path parameter such as Delta's
    /// `/v2/orders/client_order_id/{id}`), with no query.
    GetPath,
    /// A PUT whose signed buffer is its form body, as a POST's (Binance's keep-priority amend).
    Put,
    /// Not HTTP: the signed buffer is one text frame for the codec's trade WebSocket
    /// (`RestCodec::trade_socket`, Bybit's `/v5/trade`); its answer is the frame that names
    /// the request's id, handed to `on_answer` as `Answer::Http` with status 200 and that
    /// frame as the body.
    WsText,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete | Method::DeleteJson => "DELETE",
            Method::GetPath => "GET",
            Method::Put => "PUT",
            Method::WsText => "WS",
        }
    }
}

/// How much a request matters when request weight runs short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Reconciliation sweeps (open orders, balances): first to wait.
    Sweep,
    /// Queries that chase one order (status, trades).
    Query,
    /// New orders and cancels: held back only by a 429 wait or a ban.
    Order,
}

/// Where a signed request goes. The signed query itself is in the caller's buffer: the body
/// of a POST or `DeleteJson`, the query string of a GET or DELETE, the path's last segment
/// of a `GetPath`, byte for byte as signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestHead {
    /// Matches the answer to the request (never 0: 0 is the worker's own keep-alive).
    pub id: u64,
    pub method: Method,
    pub path: &'static str,
    pub class: Class,
    /// Headers signed per request (OKX: `OK-ACCESS-SIGN`, `OK-ACCESS-TIMESTAMP`), sent as
    /// they are; venues that sign the query (Binance) leave them empty.
    pub signed: SignedHeaders,
    /// The REST worker mints this request's `Authorization: Bearer` token for its method and
    /// path with the plan's [`BearerMint`] just before sending it (Coinbase's JWT: too slow
    /// to sign on the gateway thread, too long for `signed`). False: no token.
    pub bearer: bool,
}

/// The longest signed header value held: a hex HMAC-SHA256 (BitMart's `X-BM-SIGN`).
pub const MAX_SIGNED_HEADER: usize = 64;

/// Up to two per-request header values, inline (a signature and its timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHeaders {
    names: [&'static str; 2],
    values: [[u8; MAX_SIGNED_HEADER]; 2],
    lens: [u8; 2],
}

impl Default for SignedHeaders {
    fn default() -> Self {
        Self {
            names: [""; 2],
            values: [[0; MAX_SIGNED_HEADER]; 2],
            lens: [0; 2],
        }
    }
}

impl SignedHeaders {
    /// Adds `name: value`; false (not added) when both places are taken or the value is
    /// longer than `MAX_SIGNED_HEADER` bytes or not visible ASCII.
    pub fn push(&mut self, name: &'static str, value: &[u8]) -> bool {
        let Some(k) = self.lens.iter().position(|&l| l == 0) else {
            return false;
        };
        if value.is_empty()
            || value.len() > MAX_SIGNED_HEADER
            || !value.iter().all(u8::is_ascii_graphic)
        {
            return false;
        }
        self.names[k] = name;
        self.values[k][..value.len()].copy_from_slice(value);
        self.lens[k] = value.len() as u8;
        true
    }

    /// The headers, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        (0..2).filter(|&k| self.lens[k] > 0).map(|k| {
            let v = &self.values[k][..usize::from(self.lens[k])];
            (self.names[k], std::str::from_utf8(v).unwrap_or(""))
        })
    }
}

/// The rate-limit headers of one response, as the venue's codec reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// The IP's request weight in the current minute (Binance `X-MBX-USED-WEIGHT-1M`).
    pub used_weight_1m: Option<u32>,
    /// The account's unfilled order counts (Binance `X-MBX-ORDER-COUNT-10S` / `-1D`).
    pub order_count_10s: Option<u32>,
    pub order_count_1d: Option<u32>,
    /// `Retry-After`, in seconds (429 and 418).
    pub retry_after_s: Option<u64>,
    /// A request window the venue reports (Coinbase's `x-ratelimit-*`): its limit, what is
    /// left of it, and the ms until it starts again.
    pub window: Option<RateWindow>,
}

/// Requests allowed in the venue's current window, as its answer reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateWindow {
    pub limit: u32,
    pub remaining: u32,
    /// Until the window starts again, in ms from the answer.
    pub reset_in_ms: u64,
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// The venue answered.
    Http {
        status: u16,
        headers: RateHeaders,
        body: &'a [u8],
    },
    /// No answer in time: the request may or may not have been executed.
    Timeout,
    /// The connection failed (refused, reset, closed mid-answer): outcome unknown too.
    Transport,
    /// The worker held the request back (a 429 wait or a ban it learned of): never sent.
    NotSent,
}

/// Why a request may not go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The minute's weight is near the limit for this class of request.
    Busy,
    /// A 429 asked us to wait.
    RateLimited,
    /// The IP is banned (418) until then.
    Banned,
}

/// Request weight, order counts and the 429/418 waits as the venue reported them. A venue
/// that reports no weight (OKX) is never held back as busy, only by its 429s.
#[derive(Debug, Clone)]
pub struct RatePolicy {
    /// The IP's request weight per minute (Binance: 6000).
    pub weight_limit: u32,
    /// Last reported weight, and the minute (ms / 60000) it was reported in.
    weight_used: u32,
    weight_minute: u64,
    pub order_count_10s: Option<u32>,
    pub order_count_1d: Option<u32>,
    quiet_until: UnixNanos,
    banned_until: UnixNanos,
    /// Consecutive 429s without a `Retry-After` (the wait doubles).
    strikes: u32,
    /// The venue's request window as last reported (limit, remaining) and when it ends.
    window: Option<(u32, u32, UnixNanos)>,
}

/// A 429 without `Retry-After` waits 1 s, doubling per consecutive 429, at most this long.
const MAX_429_WAIT_S: u64 = 120;
/// A 418 without `Retry-After` waits this long (Binance bans last 2 minutes to 3 days).
const DEFAULT_BAN_S: u64 = 120;
const MAX_BAN_S: u64 = 3 * 86_400;

impl RatePolicy {
    pub fn new(weight_limit: u32) -> Self {
        Self {
            weight_limit: weight_limit.max(1),
            weight_used: 0,
            weight_minute: 0,
            order_count_10s: None,
            order_count_1d: None,
            quiet_until: UnixNanos::ZERO,
            banned_until: UnixNanos::ZERO,
            strikes: 0,
            window: None,
        }
    }

    /// The weight used in the current minute as far as we know (the venue's counter resets
    /// with the minute).
    pub fn weight_used(&self, now: UnixNanos) -> u32 {
        if now.as_millis() / 60_000 == self.weight_minute {
            self.weight_used
        } else {
            0
        }
    }

    /// The venue's request window at `now`: (limit, remaining), if one is running.
    pub fn window(&self, now: UnixNanos) -> Option<(u32, u32)> {
        self.window
            .filter(|&(_, _, until)| now < until)
            .map(|(l, left, _)| (l, left))
    }

    pub fn banned_until(&self, now: UnixNanos) -> Option<UnixNanos> {
        (now < self.banned_until).then_some(self.banned_until)
    }

    /// Whether a request of `class` may go at `now`. Sweeps wait from 80 % of the minute's
    /// weight, queries from 90 %; orders and cancels go until the venue says otherwise.
    pub fn admit(&self, class: Class, now: UnixNanos) -> Result<(), Hold> {
        if now < self.banned_until {
            return Err(Hold::Banned);
        }
        if now < self.quiet_until {
            return Err(Hold::RateLimited);
        }
        let used = u64::from(self.weight_used(now)) * 10;
        let limit = u64::from(self.weight_limit);
        // The venue's request window, while it lasts, counts the same way.
        let (w_used, w_limit) = match self.window {
            Some((l, left, until)) if now < until => {
                (u64::from(l.saturating_sub(left)) * 10, u64::from(l))
            }
            _ => (0, u64::MAX / 10),
        };
        let busy = match class {
            Class::Sweep => used >= limit * 8 || w_used >= w_limit * 8,
            Class::Query => used >= limit * 9 || w_used >= w_limit * 9,
            Class::Order => false,
        };
        if busy { Err(Hold::Busy) } else { Ok(()) }
    }

    /// Notes an answer's headers and status; returns the wait a 429 or 418 imposes, in ms.
    pub fn note(&mut self, status: u16, h: &RateHeaders, now: UnixNanos) -> Option<u64> {
        if let Some(w) = h.used_weight_1m {
            self.weight_used = w;
            self.weight_minute = now.as_millis() / 60_000;
        }
        if h.order_count_10s.is_some() {
            self.order_count_10s = h.order_count_10s;
        }
        if h.order_count_1d.is_some() {
            self.order_count_1d = h.order_count_1d;
        }
        if let Some(w) = h.window {
            let until = now.plus_nanos(w.reset_in_ms.saturating_mul(1_000_000));
            self.window = Some((w.limit, w.remaining.min(w.limit), until));
        }
        match status {
            429 => {
                self.strikes += 1;
                let doubling = 1u64 << (self.strikes - 1).min(7);
                let secs = h.retry_after_s.unwrap_or(doubling).min(MAX_429_WAIT_S);
                let ms = secs.max(1) * 1000;
                self.quiet_until = self.quiet_until.max(now.plus_nanos(ms * 1_000_000));
                Some(ms)
            }
            418 => {
                let secs = h.retry_after_s.unwrap_or(DEFAULT_BAN_S).clamp(1, MAX_BAN_S);
                let ms = secs * 1000;
                self.banned_until = self.banned_until.max(now.plus_nanos(ms * 1_000_000));
                Some(ms)
            }
            _ => {
                self.strikes = 0;
                None
            }
        }
    }
}

/// Reads an answer's rate-limit headers from its `(name, value)` pairs.
pub type ReadRateHeaders = fn(&[(&str, &[u8])]) -> RateHeaders;

/// Mints a request's bearer token on the REST worker thread, just before the request goes
/// (Coinbase: a fresh JWT per request, 55–261 µs to sign). Holds its own copy of the key.
pub trait BearerMint: Send + Sync + std::fmt::Debug {
    /// Writes the token for `method path` at Unix time `now_s` into `out` (cleared first);
    /// false if none could be minted (the request then goes without one and is refused).
    fn mint(&self, method: Method, path: &str, now_s: u64, out: &mut String) -> bool;
}

/// How the REST worker talks to a venue: fixed headers, the content type of a body, the
/// paths it warms and keeps the connection alive with, and how to read rate-limit headers.
#[derive(Debug, Clone)]
pub struct RestPlan {
    /// Sent with every request (the API key header, a passphrase, demo-trading flags).
    pub headers: Vec<(&'static str, String)>,
    /// Content type of a POST body (`application/x-www-form-urlencoded`, `application/json`).
    pub content_type: &'static str,
    /// Asked once at start, to open the connection before the first order.
    pub warm_path: &'static str,
    /// Asked when the connection was idle for the keep-alive period.
    pub keepalive_path: &'static str,
    /// Reads the rate-limit headers of an answer from `(name, value)` pairs.
    pub rate_headers: ReadRateHeaders,
    /// Mints the bearer token of requests whose head asks for one (`RestHead.bearer`);
    /// `None` for venues that sign on the codec (an HMAC costs less than a microsecond).
    pub bearer: Option<std::sync::Arc<dyn BearerMint>>,
}

/// A venue's REST side as pure code: signs each request into the caller's buffer and returns
/// its head, remembers what it was for, and maps its answer into `SessionEvent`s (5xx,
/// timeouts and lost connections leave an order's outcome unknown: it is queried, never
/// assumed rejected).
pub trait RestCodec: Send + 'static {
    fn plan(&self) -> RestPlan;

    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead;
    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead;
    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead;
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead;
    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead;
    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead;

    /// Whether the venue amends an open order in place over REST (`amend`).
    fn amends_in_place(&self) -> bool {
        false
    }
    /// Amends an open order in place to `o.price` and total quantity `o.qty` (same ids);
    /// `None`, writing nothing, where `amends_in_place` is false.
    fn amend(&mut self, _o: &PlaceOrder<'_>, _now_ms: u64, _buf: &mut Vec<u8>) -> Option<RestHead> {
        None
    }

    /// Which amends `amend` can make (see `order::AmendLimits`).
    fn amend_limits(&self) -> crate::venue::order::AmendLimits {
        crate::venue::order::AmendLimits::Any
    }
    /// Whether the venue cancels one order and places another in one REST request.
    fn cancel_replaces(&self) -> bool {
        false
    }
    /// Cancels `old` and places `new` in one request (answered for both orders); `None`,
    /// writing nothing, where `cancel_replaces` is false.
    fn cancel_replace(
        &mut self,
        _old: &ClientOrderId,
        _new: &PlaceOrder<'_>,
        _now_ms: u64,
        _buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        None
    }

    /// Batches: the most new orders (or cancels) one batch request carries (at most
    /// `CidBatch::CAP`); 1, the default: the codec does not batch, every order is its own
    /// request.
    fn batch_limit(&self) -> usize {
        1
    }
    /// Whether `o` may go in a batch request (Delta: GTC limit orders only).
    fn batchable(&self, _o: &PlaceOrder<'_>) -> bool {
        false
    }
    /// New orders of one symbol in one request (2 to `batch_limit`, each `batchable`), with
    /// `Purpose::PlaceBatch`: the answer settles each order by its own item (accepted,
    /// refused with its reason, or unknown); no answer (5xx, timeout, lost connection) leaves
    /// every one unknown. `None`, writing nothing, where the codec cannot.
    fn place_batch(
        &mut self,
        _orders: &[PlaceOrder<'_>],
        _now_ms: u64,
        _buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        None
    }
    /// Cancels of one symbol's orders in one request (2 to `batch_limit`), by client id,
    /// with `Purpose::CancelBatch`: an item refused is that order's `CancelRejected`.
    fn cancel_batch(
        &mut self,
        _symbol: &str,
        _cids: &[ClientOrderId],
        _now_ms: u64,
        _buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        None
    }
    /// Whether in-place amends of one symbol's orders go in batch requests
    /// ([`RestCodec::amend_batch`], at most `batch_limit`).
    fn amends_in_batch(&self) -> bool {
        false
    }
    /// Amends of one symbol's orders in one request (2 to `batch_limit`), each to its new
    /// price and total quantity, with `Purpose::AmendBatch`: each order is settled by its own
    /// item (its new terms, a refusal leaving it as it was, or unknown and queried); no
    /// answer leaves every amend unknown. `None`, writing nothing, where the codec cannot.
    fn amend_batch(
        &mut self,
        _orders: &[PlaceOrder<'_>],
        _now_ms: u64,
        _buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        None
    }

    /// Perpetuals: the account's position in `symbol` (`Position`, size zero when flat);
    /// `None`, writing nothing, on a venue without positions or whose codec does not ask.
    fn positions(&mut self, _symbol: &str, _now_ms: u64, _buf: &mut Vec<u8>) -> Option<RestHead> {
        None
    }
    /// Perpetuals: sets the leverage of `symbol` (answered by `LeverageSet`, or `Failed`
    /// with `Purpose::SetLeverage`); `None`, writing nothing, where the codec cannot.
    fn set_leverage(
        &mut self,
        _symbol: &str,
        _leverage: crate::types::Rate,
        _now_ms: u64,
        _buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        None
    }

    /// The request/answer WebSocket that carries this codec's `Method::WsText` requests
    /// (Bybit's `/v5/trade`), opened and logged in by the REST worker; `None`: HTTP only.
    fn trade_socket(&self) -> Option<Box<dyn crate::venue::trade_ws::TradeSocket>> {
        None
    }

    /// Pagination: the follow-up request for the next page of a list whose answer said there
    /// is more (the codec keeps the pages in a [`super::pages::Pager`] and hands the merged
    /// list on once the last came). The transport asks after every answer until `None`.
    fn next_page(&mut self, _now_ms: u64, _buf: &mut Vec<u8>) -> Option<RestHead> {
        None
    }

    /// Without a private WebSocket: the account's recent fills on `symbol` (the gateway
    /// polls them at `GatewayOptions::fills_poll`). The answer gives the new ones as
    /// `Order { Trade }` events with cumulative figures, each trade once (the codec keeps
    /// the trade ids it has given). `None`, writing nothing, where the codec cannot.
    fn recent_fills(
        &mut self,
        _symbol: &str,
        _now_ms: u64,
        _buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        None
    }

    /// The venue's published request windows (per endpoint or account), kept on the
    /// engine's side: the transport takes a slot for each request before it leaves and
    /// refuses it when there is none. `None`: the venue's answers (429s) are the only check.
    fn windows(&mut self) -> Option<&mut super::windows::RateWindows> {
        None
    }
    /// The same windows, read (whether a new order would find room).
    fn windows_ref(&self) -> Option<&super::windows::RateWindows> {
        None
    }

    /// Forgets a request that never left (the worker's queue was full).
    fn abandon(&mut self, id: u64) -> Option<Purpose>;

    /// Turns the answer to request `id` (0: the worker's own keep-alive) into events.
    fn on_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    );

    fn policy(&self) -> &RatePolicy;
}

/// The requests a REST codec sent and has not had answered, by id: a ring of slots, each
/// id's slot reused `Inflight::SLOTS` ids later (by then its answer has long come or been
/// given up). Ids start at 1 (0 is the worker's own keep-alive).
#[derive(Debug, Clone)]
pub struct Inflight {
    next_id: u64,
    slots: Vec<Option<(u64, Purpose)>>,
}

impl Default for Inflight {
    fn default() -> Self {
        Self {
            next_id: 1,
            slots: vec![None; Self::SLOTS],
        }
    }
}

impl Inflight {
    pub const SLOTS: usize = 1024;

    /// A new request for `p`: its id.
    pub fn insert(&mut self, p: Purpose) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.slots[id as usize & (Self::SLOTS - 1)] = Some((id, p));
        id
    }

    /// The purpose of request `id`, forgotten; `None` if it is not (or no longer) in flight.
    pub fn take(&mut self, id: u64) -> Option<Purpose> {
        let slot = &mut self.slots[id as usize & (Self::SLOTS - 1)];
        match slot {
            Some((have, _)) if *have == id => slot.take().map(|(_, p)| p),
            _ => None,
        }
    }
}

/// No answer came (a timeout, a 5xx, a lost connection): the venue may or may not have acted,
/// so an order or cancel in that state is queried by client id, never assumed rejected.
pub fn unknown_outcome(purpose: Purpose, out: &mut Vec<SessionEvent>) {
    out.push(match purpose {
        Purpose::Place(cid) | Purpose::Cancel(cid) | Purpose::Status(cid) => {
            SessionEvent::Uncertain { cid }
        }
        // Every order of the batch.
        // Each amend of the batch as a single amend with no answer.
        Purpose::AmendBatch(ids) => {
            out.extend(ids.as_slice().iter().map(|&cid| SessionEvent::Failed {
                purpose: Purpose::Amend(cid),
                error: VenueError {
                    code: 0,
                    msg: "no answer (timeout, 5xx or connection lost)".into(),
                },
            }));
            return;
        }
        Purpose::PlaceBatch(ids) | Purpose::CancelBatch(ids) => {
            out.extend(
                ids.as_slice()
                    .iter()
                    .map(|&cid| SessionEvent::Uncertain { cid }),
            );
            return;
        }
        p => SessionEvent::Failed {
            purpose: p,
            error: VenueError {
                code: 0,
                msg: "no answer (timeout, 5xx or connection lost)".into(),
            },
        },
    });
}
