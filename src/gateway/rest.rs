//! Order entry over REST for the gateway (`order_transport = "rest"`, and queries for venues
//! whose private WebSocket cannot answer them): a worker thread owned by the gateway holds
//! one ureq `Agent` whose kept-alive connection is warmed at start; the gateway signs each
//! request into one buffer (through the venue's `RestCodec`) and hands it over a bounded
//! channel, and drains the answers in its `poll`, so the hot thread never blocks on the
//! network. Answers become the same `SessionEvent`s the private WebSocket produces.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use crate::types::{ClientOrderId, UnixNanos};
use crate::venue::order::PlaceOrder;
use crate::venue::order::{OrderSession, SessionEvent};
use crate::venue::rest::{
    Answer, Class, Hold, Method, RateHeaders, RestCodec, RestHead, RestPlan, SignedHeaders,
};

use super::intent::Refusal;

/// Batch requests (several orders of one symbol in one request).
mod batch;
mod worker;
use worker::Worker;
pub use worker::get_once;

/// How the REST transport behaves.
#[derive(Debug, Clone)]
pub struct RestOptions {
    /// A request without an answer after this has an unknown outcome (venues themselves wait up
    /// to 10 s for its matching engine before answering -1007).
    pub timeout: Duration,
    /// Requests queued or in flight at most; more are refused (orders) or retried later.
    pub queue: usize,
    /// An idle connection is kept warm with the venue's cheapest request this often.
    pub keepalive: Duration,
    /// The IP's request weight per minute (e.g. 6000; venues without weights ignore it).
    /// Sweeps wait from 80 % of it, order queries from 90 %.
    pub weight_limit: u32,
}

impl Default for RestOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            queue: 64,
            keepalive: Duration::from_secs(20),
            weight_limit: 6000,
        }
    }
}

/// What the REST transport has seen (for snapshots and reports).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestStats {
    pub sent: u64,
    pub answered: u64,
    /// Timeouts, 5xx and lost connections: outcomes that had to be queried.
    pub unknown: u64,
    /// Requests not sent: held by the weight policy, a 429 wait, a ban, or a full queue.
    pub held: u64,
    /// The last request's round trip on the worker (write to last byte read).
    pub last_round_trip: Option<Duration>,
    /// The IP's request weight this minute, as the venue last reported it.
    pub weight_used: u32,
    /// The account's unfilled order count in the last 10 s, as last reported.
    pub order_count_10s: Option<u32>,
    /// The IP is banned (418) at the time of the figures.
    pub banned: bool,
    /// Requests refused before sending for want of a slot in the venue's published request
    /// windows (`RestCodec::windows`).
    pub window_refused: u64,
}

/// The gateway's requests about one order, over either transport: the WebSocket API session
/// writes the request into `out` for the gateway to send; the REST transport signs and queues
/// it itself. Each returns whether the request went (or was queued) to the venue.
pub trait OrderRequests {
    fn cancel(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>)
    -> bool;
    fn status(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, out: &mut Vec<u8>)
    -> bool;
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool;
}

impl<S: OrderSession> OrderRequests for S {
    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        OrderSession::cancel(self, symbol, cid, now_ms, out);
        true
    }
    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        OrderSession::status(self, symbol, cid, now_ms, out)
    }
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        OrderSession::trades(self, symbol, cid, venue_order_id, now_ms, out)
    }
}

/// One request for the worker: where it goes and its signed query (the buffer comes back
/// with the answer, to be reused).
struct Job {
    head: RestHead,
    query: Vec<u8>,
    /// The venue's time when the request was queued (Unix ms): a bearer token minted on the
    /// worker is dated from it, so it follows the gateway's venue clock.
    venue_ms: u64,
}

enum Outcome {
    Http {
        status: u16,
        headers: RateHeaders,
        body: Vec<u8>,
    },
    Timeout,
    Transport,
    NotSent,
}

/// The worker's answer to one job (id 0: its own keep-alive).
struct Done {
    id: u64,
    outcome: Outcome,
    query: Vec<u8>,
    sent_at: Instant,
    received_at: Instant,
}

/// The gateway's end of the REST transport.
pub struct RestOrders<C: RestCodec> {
    name: String,
    base_url: String,
    opts: RestOptions,
    codec: C,
    jobs: Option<Sender<Job>>,
    done: Option<Receiver<Done>>,
    worker: Option<JoinHandle<()>>,
    /// Request buffers handed back by the worker, reused (no allocation per order once warm).
    free: Vec<Vec<u8>>,
    in_flight: usize,
    /// The venue's clock minus the gateway's (ms), as the last sweep was dated: follow-up
    /// pages written while draining are dated by it.
    venue_offset_ms: i64,
    pub stats: RestStats,
}

impl<C: RestCodec> RestOrders<C> {
    pub fn new(name: &str, base_url: &str, codec: C, opts: RestOptions) -> Self {
        let free = (0..opts.queue.max(1))
            .map(|_| Vec::with_capacity(512))
            .collect();
        Self {
            name: name.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            codec,
            opts,
            jobs: None,
            done: None,
            worker: None,
            free,
            in_flight: 0,
            venue_offset_ms: 0,
            stats: RestStats::default(),
        }
    }

    /// Spawns the worker; it opens and warms its connection at once.
    pub fn start(&mut self) -> std::io::Result<()> {
        let cap = self.opts.queue.max(1);
        let (jobs_tx, jobs_rx) = crossbeam_channel::bounded::<Job>(cap);
        // Room for every job plus the keep-alive: the worker never waits on the gateway.
        let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(cap + 2);
        let mut worker = Worker::new(&self.base_url, self.codec.plan(), &self.opts);
        worker.trade = self.codec.trade_socket().map(super::trade_ws::TradeWs::new);
        let keepalive = self.opts.keepalive;
        let handle = std::thread::Builder::new()
            .name(format!("mako-rest-{}", self.name))
            .spawn(move || {
                crate::runtime::affinity::keep_off_hot("rest");
                worker.run(&jobs_rx, &done_tx, keepalive)
            })?;
        self.jobs = Some(jobs_tx);
        self.done = Some(done_rx);
        self.worker = Some(handle);
        Ok(())
    }

    /// Ends the worker after the request it is on (if any) and waits for it.
    pub fn shutdown(&mut self) {
        self.jobs = None;
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
        self.done = None;
    }

    /// The weight the venue last reported for this minute.
    pub fn weight_used(&self, now: UnixNanos) -> u32 {
        self.codec.policy().weight_used(now)
    }

    /// The transport's figures at `now`.
    pub fn stats(&self, now: UnixNanos) -> RestStats {
        RestStats {
            weight_used: self.codec.policy().weight_used(now),
            order_count_10s: self.codec.policy().order_count_10s,
            banned: self.codec.policy().banned_until(now).is_some(),
            ..self.stats
        }
    }

    /// Why a new order cannot go now, if it cannot.
    pub fn refusal(&self, now: UnixNanos) -> Option<Refusal> {
        match self.codec.policy().admit(Class::Order, now) {
            Err(Hold::Banned) => return Some(Refusal::VenueBanned),
            Err(Hold::RateLimited) => return Some(Refusal::RateLimited),
            Err(Hold::Busy) | Ok(()) => {}
        }
        if self
            .codec
            .windows_ref()
            .is_some_and(|w| !w.room_for_order(now.as_millis()))
        {
            return Some(Refusal::RateLimited);
        }
        let worker_gone = self.worker.as_ref().is_none_or(|h| h.is_finished());
        if worker_gone || self.in_flight >= self.opts.queue.max(1) {
            return Some(Refusal::VenueUnavailable);
        }
        None
    }

    fn admit(&mut self, class: Class, now: UnixNanos) -> bool {
        let ok = self.codec.policy().admit(class, now).is_ok();
        if !ok {
            self.stats.held += 1;
        }
        ok
    }

    fn buffer(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_else(|| Vec::with_capacity(512))
    }

    /// Queues a signed request; false (and forgotten) if the queue is full or the worker gone.
    fn submit(&mut self, head: RestHead, query: Vec<u8>, venue_ms: u64) -> bool {
        if let Some(w) = self.codec.windows()
            && !w.take_request(head.method, head.path, venue_ms)
        {
            self.stats.held += 1;
            self.stats.window_refused += 1;
            self.codec.abandon(head.id);
            self.free.push(query);
            return false;
        }
        let Some(jobs) = &self.jobs else {
            self.codec.abandon(head.id);
            self.free.push(query);
            return false;
        };
        match jobs.try_send(Job {
            head,
            query,
            venue_ms,
        }) {
            Ok(()) => {
                self.in_flight += 1;
                self.stats.sent += 1;
                true
            }
            Err(TrySendError::Full(j) | TrySendError::Disconnected(j)) => {
                self.stats.held += 1;
                self.codec.abandon(j.head.id);
                self.free.push(j.query);
                false
            }
        }
    }

    /// A new order; false if it could not be queued (the order never left).
    pub fn place(&mut self, order: &PlaceOrder<'_>, now: UnixNanos, venue_ms: u64) -> bool {
        if !self.admit(Class::Order, now) {
            return false;
        }
        let mut buf = self.buffer();
        let head = self.codec.place(order, venue_ms, &mut buf);
        self.submit(head, buf, venue_ms)
    }

    /// Whether the venue amends in place over REST.
    pub fn amends_in_place(&self) -> bool {
        self.codec.amends_in_place()
    }

    /// Which amends the venue makes over REST.
    pub fn amend_limits(&self) -> crate::venue::order::AmendLimits {
        self.codec.amend_limits()
    }

    /// Whether the venue cancels and places in one REST request.
    pub fn cancel_replaces(&self) -> bool {
        self.codec.cancel_replaces()
    }

    /// A cancel-replace of `old` by `order`; false if it could not be queued (nothing left).
    pub fn cancel_replace(
        &mut self,
        old: &ClientOrderId,
        order: &PlaceOrder<'_>,
        now: UnixNanos,
        venue_ms: u64,
    ) -> bool {
        if !self.codec.cancel_replaces() || !self.admit(Class::Order, now) {
            return false;
        }
        let mut buf = self.buffer();
        match self.codec.cancel_replace(old, order, venue_ms, &mut buf) {
            Some(head) => self.submit(head, buf, venue_ms),
            None => {
                self.free.push(buf);
                false
            }
        }
    }

    /// An amend in place; false if it could not be queued (nothing left).
    pub fn amend(&mut self, order: &PlaceOrder<'_>, now: UnixNanos, venue_ms: u64) -> bool {
        if !self.codec.amends_in_place() || !self.admit(Class::Order, now) {
            return false;
        }
        let mut buf = self.buffer();
        match self.codec.amend(order, venue_ms, &mut buf) {
            Some(head) => self.submit(head, buf, venue_ms),
            None => {
                self.free.push(buf);
                false
            }
        }
    }

    /// Open orders of every symbol, then balances; false if the weight policy held it back.
    /// `venue_ms` is the venue's time (the signed requests' `timestamp`).
    pub fn sweep(&mut self, symbols: &[String], now: UnixNanos, venue_ms: u64) -> bool {
        if !self.admit(Class::Sweep, now) {
            return false;
        }
        self.venue_offset_ms = venue_ms as i64 - now.as_millis() as i64;
        for symbol in symbols {
            let mut buf = self.buffer();
            let head = self.codec.open_orders(symbol, venue_ms, &mut buf);
            self.submit(head, buf, venue_ms);
        }
        let mut buf = self.buffer();
        let head = self.codec.account(venue_ms, &mut buf);
        self.submit(head, buf, venue_ms)
    }

    /// The recent fills of each of `symbols` (no private WebSocket: fills are polled), as
    /// queries; false if the weight policy held them back or the codec cannot ask.
    pub fn poll_fills(&mut self, symbols: &[String], now: UnixNanos, venue_ms: u64) -> bool {
        if symbols.is_empty() || !self.admit(Class::Query, now) {
            return false;
        }
        let mut sent = false;
        for symbol in symbols {
            let mut buf = self.buffer();
            match self.codec.recent_fills(symbol, venue_ms, &mut buf) {
                Some(head) => sent |= self.submit(head, buf, venue_ms),
                None => self.free.push(buf),
            }
        }
        sent
    }

    /// Perpetuals: the position of each of `symbols` (a sweep request); false if the weight
    /// policy held it back or the codec asks no venue positions.
    pub fn positions(&mut self, symbols: &[String], now: UnixNanos, venue_ms: u64) -> bool {
        if symbols.is_empty() || !self.admit(Class::Sweep, now) {
            return false;
        }
        let mut sent = false;
        for symbol in symbols {
            let mut buf = self.buffer();
            match self.codec.positions(symbol, venue_ms, &mut buf) {
                Some(head) => sent |= self.submit(head, buf, venue_ms),
                None => self.free.push(buf),
            }
        }
        sent
    }

    /// Perpetuals: sets `symbol`'s leverage: whether it was queued, or `None` when the codec
    /// cannot set one.
    pub fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: crate::types::Rate,
        now: UnixNanos,
        venue_ms: u64,
    ) -> Option<bool> {
        let mut buf = self.buffer();
        let Some(head) = self
            .codec
            .set_leverage(symbol, leverage, venue_ms, &mut buf)
        else {
            self.free.push(buf);
            return None;
        };
        if !self.admit(Class::Query, now) {
            self.codec.abandon(head.id);
            self.free.push(buf);
            return Some(false);
        }
        Some(self.submit(head, buf, venue_ms))
    }

    /// Maps every answer that has arrived into events (appended to `out`); returns how many.
    pub fn drain(&mut self, now: UnixNanos, out: &mut Vec<SessionEvent>) -> usize {
        let mut n = 0;
        while let Some(d) = self.done.as_ref().and_then(|r| r.try_recv().ok()) {
            n += 1;
            if d.id != 0 {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.stats.answered += 1;
            }
            self.stats.last_round_trip = Some(d.received_at.duration_since(d.sent_at));
            let answer = match &d.outcome {
                Outcome::Http {
                    status,
                    headers,
                    body,
                } => {
                    if *status >= 500 {
                        self.stats.unknown += 1;
                    }
                    if *status == 418 && self.codec.policy().banned_until(now).is_none() {
                        tracing::error!(gateway = %self.name, "venue answered 418: this IP is banned; no requests until the ban ends");
                    }
                    Answer::Http {
                        status: *status,
                        headers: *headers,
                        body,
                    }
                }
                Outcome::Timeout => {
                    self.stats.unknown += 1;
                    Answer::Timeout
                }
                Outcome::Transport => {
                    self.stats.unknown += 1;
                    Answer::Transport
                }
                Outcome::NotSent => Answer::NotSent,
            };
            self.codec.on_answer(d.id, answer, now, out);
            let mut q = d.query;
            q.clear();
            self.free.push(q);
            self.follow_pages(now);
        }
        n
    }

    /// Sends the follow-up page requests the codec asks for (a list answer that said "more";
    /// the codec caps the pages per list). They ride on the sweep or query that asked the
    /// first page, so the rate policy is not asked again; a 429 wait still holds them on the
    /// worker (answered `NotSent`, and the list is asked again at the next sweep).
    fn follow_pages(&mut self, now: UnixNanos) {
        loop {
            let venue_ms = (now.as_millis() as i64 + self.venue_offset_ms).max(0) as u64;
            let mut buf = self.buffer();
            match self.codec.next_page(venue_ms, &mut buf) {
                Some(head) => {
                    self.submit(head, buf, venue_ms);
                }
                None => {
                    self.free.push(buf);
                    return;
                }
            }
        }
    }
}

impl<C: RestCodec> OrderRequests for RestOrders<C> {
    fn cancel(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, _: &mut Vec<u8>) -> bool {
        if !self.admit(Class::Order, UnixNanos::from_millis(now_ms)) {
            return false;
        }
        let mut buf = self.buffer();
        let head = self.codec.cancel(symbol, cid, now_ms, &mut buf);
        self.submit(head, buf, now_ms)
    }
    fn status(&mut self, symbol: &str, cid: &ClientOrderId, now_ms: u64, _: &mut Vec<u8>) -> bool {
        if !self.admit(Class::Query, UnixNanos::from_millis(now_ms)) {
            return false;
        }
        let mut buf = self.buffer();
        let head = self.codec.status(symbol, cid, now_ms, &mut buf);
        self.submit(head, buf, now_ms)
    }
    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: crate::types::VenueOrderId,
        now_ms: u64,
        _: &mut Vec<u8>,
    ) -> bool {
        if !self.admit(Class::Query, UnixNanos::from_millis(now_ms)) {
            return false;
        }
        let mut buf = self.buffer();
        let head = self
            .codec
            .trades(symbol, cid, venue_order_id, now_ms, &mut buf);
        self.submit(head, buf, now_ms)
    }
}

impl<C: RestCodec> Drop for RestOrders<C> {
    fn drop(&mut self) {
        self.shutdown();
    }
}
