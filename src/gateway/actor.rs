//! The gateway actor of one venue: takes order intents from strategies, checks them against
//! risk, sends them over the venue's WebSocket API or REST (`order_transport`; REST through
//! `gateway::rest`), applies every answer and private-stream
//! event to the order state machine, reports back to the strategies, and reconciles with the
//! venue so that no order stays pending because a message was missed.

use std::collections::VecDeque;
use std::time::Duration;

use crate::config::{Secret, VenueConfig};
use crate::net::{Connector, Endpoint, Incoming};
use crate::risk::rate::SlidingWindow;
use crate::risk::{KillReason, OrderCheck, RiskEngine};
use crate::runtime::{Actor, Ctx, Rx, StartError, Tx};
use crate::types::{ClientOrderId, Instrument, InstrumentId, Price, StrategyId, UnixNanos};
use crate::venue::order::{
    Balance, OrderSession, OrderSnapshot, PlaceOrder, Purpose, SessionEvent,
};
use crate::venue::rest::RestCodec;

use super::chase::ChaseBook;
use super::events::{EventSender, GatewayEvent};
use super::intent::{NewOrderIntent, OrderIntent, OrderUpdate, Refusal};
use super::rest::{OrderRequests, RestOptions, RestOrders};
use super::snapshot::{GatewayCounters, GatewaySnapshot, OrderView};
use super::table::OrderTable;
use crate::net::Link;
use crate::types::order::{Order, OrderEvent, OrderKind, OrderStatus, TimeInForce};

mod batch;
mod burst;
mod positions;
/// A re-quote in one request: the `Replace` intent as a cancel-replace.
mod replace;
pub(super) mod status;

/// Timings of the reconciliation rules.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// An order sent (or a cancel requested) and not answered within this is queried.
    pub ack_deadline: Duration,
    /// Open orders and balances are compared with the venue's this often.
    pub sweep_interval: Duration,
    /// Cancel orders found open on the venue that this engine does not know.
    pub cancel_unknown: bool,
    /// How often a snapshot is published.
    pub snapshot_interval: Duration,
    /// How long the stop step waits for the venue to confirm shutdown cancels.
    pub stop_timeout: Duration,
    /// Strategies whose orders are cancelled when the engine stops, by `StrategyId`.
    pub cancel_on_stop: Vec<bool>,
    /// The REST transport's settings (used when the venue's `order_transport` is `rest`).
    pub rest: RestOptions,
    /// No private WebSocket: fills and order changes are learned by polling the venue's
    /// recent fills (`RestCodec::recent_fills`) and open orders over REST this often, on the
    /// REST worker. The private link is never opened. `None`: the private WebSocket.
    pub fills_poll: Option<Duration>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            ack_deadline: Duration::from_secs(2),
            sweep_interval: Duration::from_secs(10),
            cancel_unknown: false,
            snapshot_interval: Duration::from_millis(200),
            stop_timeout: Duration::from_secs(3),
            cancel_on_stop: Vec::new(),
            rest: RestOptions::default(),
            fills_poll: None,
        }
    }
}

/// Everything a gateway needs, handed over by the engine.
pub struct GatewaySpec {
    pub venue: VenueConfig,
    /// Every instrument of the config, indexed by `InstrumentId` (others' are ignored).
    pub instruments: Vec<Instrument>,
    pub api_key: Secret,
    pub api_secret: Secret,
    /// The key's third credential (a passphrase or a memo), for venues that have one.
    pub passphrase: Option<Secret>,
    pub connector: Connector,
    pub intents: Rx<OrderIntent>,
    /// Per `StrategyId`; `None` for strategies on other venues.
    pub updates: Vec<Option<Tx<OrderUpdate>>>,
    pub risk: RiskEngine,
    /// The book's mid for an instrument, or `None` if the book is not usable (price collar).
    pub mid: Box<dyn Fn(InstrumentId) -> Option<Price> + Send>,
    pub snapshots: Option<Tx<GatewaySnapshot>>,
    pub run_start_ms: u64,
    pub options: GatewayOptions,
    /// Where order and fill records go (never dropped); `None` without persistence.
    pub persist: Option<crate::persist::PersistSink>,
    /// Non-final orders of earlier runs, loaded from the database, to reconcile at start.
    pub recovered: Vec<Order>,
}

/// Per-order bookkeeping beside the state machine: when it was last asked about.
#[derive(Debug, Clone, Copy, Default)]
struct Chase {
    queried_at: Option<UnixNanos>,
    /// The next query is due now (an uncertain answer or a lost request).
    query_now: bool,
    /// A fill was learned without its fees: fetch the order's trades.
    fetch_trades: bool,
    /// When a cancel of it was last written (cancel acknowledgement latency).
    cancel_written_at: Option<UnixNanos>,
    /// A trades request failed: fetch again from then on.
    trades_after: Option<UnixNanos>,
    /// When an amend of it was last written (its outcome is chased after the deadline).
    amend_written_at: Option<UnixNanos>,
}

pub struct Gateway<S: OrderSession, C: RestCodec> {
    name: String,
    venue: VenueConfig,
    instruments: Vec<Instrument>,
    /// The venue's order session (codec, signing, answer decoding): the one venue-specific
    /// part, statically dispatched.
    session: S,
    link: Link,
    user_stream: bool,
    table: OrderTable,
    chase: ChaseBook<Chase>,
    /// The venue's published limits on new orders: one window per instrument (indexed like
    /// `instruments`) and one for the account; empty when the venue publishes none.
    instrument_windows: Vec<SlidingWindow>,
    account_window: Option<SlidingWindow>,
    risk: RiskEngine,
    mid: Box<dyn Fn(InstrumentId) -> Option<Price> + Send>,
    intents: Rx<OrderIntent>,
    updates: Vec<Option<Tx<OrderUpdate>>>,
    /// Updates a full strategy channel could not take yet, sent first on the next poll.
    held: VecDeque<OrderUpdate>,
    snapshots: Option<Tx<GatewaySnapshot>>,
    options: GatewayOptions,
    balances: Vec<Balance>,
    counters: GatewayCounters,
    /// Scratch buffers reused for every request and event batch.
    out: Vec<u8>,
    events: Vec<SessionEvent>,
    next_sweep: UnixNanos,
    /// When the next recent-fills poll is due (`GatewayOptions::fills_poll`).
    next_fills_poll: UnixNanos,
    next_deadline_check: UnixNanos,
    next_snapshot: UnixNanos,
    /// Requests other than orders and cancels wait until then (429 / Retry-After).
    quiet_until: UnixNanos,
    banned: bool,
    persist: Option<crate::persist::PersistSink>,
    /// Fills, refusals, balances, connection and errors for the telemetry actor.
    telemetry: EventSender,
    /// Latency hooks (order and cancel acks, tick-to-order, stages); no-ops without a recorder.
    timing: super::latency::Timing,
    /// The status room's inbox (`with_status`; see `actor/status.rs`).
    status: Option<Tx<crate::status::StatusUpdate>>,
    /// Venue clock minus local clock, when measured (`with_clock_offset`).
    clock_offset: Option<crate::latency::probe::ClockOffset>,
    /// Orders, cancels, queries and sweeps go over REST when set (the user data stream
    /// stays on the WebSocket API session).
    rest: Option<RestOrders<C>>,
    /// The private connection's text keepalive: when sent, and when a frame last came.
    ping_sent_at: Option<UnixNanos>,
    last_rx: UnixNanos,
    /// When the session's periodic ping (`OrderSession::periodic_ping`) last went.
    periodic_ping_at: UnixNanos,
    /// New orders and cancels go over REST too (`order_transport = "rest"`); otherwise REST,
    /// when present, carries only queries and sweeps.
    orders_over_rest: bool,
    /// The venue's perpetuals: their leverage and position checks (`actor/positions.rs`).
    perps: Vec<positions::PerpWatch>,
    /// Set while `on_new` encodes the new half of a cancel-replace (`actor/replace.rs`): the
    /// order it replaces. Taken when the request is written.
    replacing: Option<ClientOrderId>,
    /// One poll's intents as one burst: orders first, one write (`actor/burst.rs`).
    burst: burst::Burst,
}

/// Intents and frames handled per poll, so one busy inbox cannot starve the host.
const BATCH: usize = 64;
const DEADLINE_CHECK_NS: u64 = 50_000_000;

/// `now` (local, ns) as the venue's time in ms, given venue minus local in ns.
fn venue_ms(now: UnixNanos, offset_ns: Option<i64>) -> u64 {
    let local = i128::from(now.0);
    let venue = local + i128::from(offset_ns.unwrap_or(0));
    (venue.max(0) / 1_000_000).min(i128::from(u64::MAX)) as u64
}

fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    /// The gateway of `spec.venue` over `session`, its private WebSocket at `private_ws`;
    /// with `rest`, orders (`order_transport = "rest"`) and queries go over REST.
    pub fn new(
        spec: GatewaySpec,
        session: S,
        private_ws: &str,
        rest: Option<C>,
    ) -> Result<Self, String> {
        // Polled (no private WebSocket): the link is never opened; an empty URL stands for
        // no socket at all.
        let polled = spec.options.fills_poll.is_some();
        let ws = if polled && private_ws.is_empty() {
            "ws://127.0.0.1:9/no-private-link"
        } else {
            private_ws
        };
        let endpoint = Endpoint::parse(ws).map_err(|e| e.to_string())?;
        let link =
            Link::new(spec.connector, endpoint, &spec.venue.name).map_err(|e| e.to_string())?;
        let n_strategies = spec.updates.len();
        let mut table = OrderTable::new(spec.run_start_ms, n_strategies);
        let mut chase = ChaseBook::new(spec.run_start_ms, n_strategies);
        for o in spec.recovered {
            // Whatever became of them while the engine was away is asked at once.
            chase.insert(
                o.cid,
                Chase {
                    queried_at: None,
                    query_now: true,
                    cancel_written_at: None,
                    ..Chase::default()
                },
            );
            table.insert_recovered(o);
        }
        let spec_transport = spec.venue.order_transport;
        let rest = rest.map(|codec| {
            RestOrders::new(
                &spec.venue.name,
                &spec.venue.rest_url,
                codec,
                spec.options.rest.clone(),
            )
        });
        let limits = session.order_limits();
        let window = |(n, w): (u32, Duration)| SlidingWindow::new(n, w.as_nanos() as u64);
        let instrument_windows = limits
            .per_instrument
            .map(|l| spec.instruments.iter().map(|_| window(l)).collect())
            .unwrap_or_default();
        let account_window = limits.per_account.map(window);
        let perps = positions::watches(&spec.instruments, spec.venue.id);
        Ok(Self {
            burst: burst::Burst::default(),
            perps,
            name: format!("gateway:{}", spec.venue.name),
            instrument_windows,
            account_window,
            session,
            venue: spec.venue,
            instruments: spec.instruments,
            link,
            // Polled: no stream to wait for; REST answers and polls stand in for it.
            user_stream: polled,
            table,
            chase,
            risk: spec.risk,
            mid: spec.mid,
            intents: spec.intents,
            updates: spec.updates,
            held: VecDeque::with_capacity(1024),
            snapshots: spec.snapshots,
            options: spec.options,
            balances: Vec::new(),
            counters: GatewayCounters::default(),
            out: Vec::with_capacity(1024),
            events: Vec::with_capacity(64),
            next_sweep: UnixNanos::ZERO,
            next_fills_poll: UnixNanos::ZERO,
            next_deadline_check: UnixNanos::ZERO,
            next_snapshot: UnixNanos::ZERO,
            quiet_until: UnixNanos::ZERO,
            banned: false,
            persist: spec.persist,
            telemetry: EventSender::default(),
            timing: super::latency::Timing::default(),
            status: None,
            clock_offset: None,
            ping_sent_at: None,
            last_rx: UnixNanos::ZERO,
            periodic_ping_at: UnixNanos::ZERO,
            orders_over_rest: rest.is_some()
                && spec_transport == crate::config::OrderTransport::Rest,
            rest,
            replacing: None,
        })
    }

    /// Signs with the venue's time: this machine's clock corrected by `offset` (the REST
    /// probe's estimate of venue minus local), so a drifting local clock cannot earn -1021
    /// ("timestamp outside of the recvWindow"). Without one, this machine's clock is used.
    pub fn with_clock_offset(mut self, offset: crate::latency::probe::ClockOffset) -> Self {
        self.clock_offset = Some(offset);
        self
    }

    /// The venue's time in ms: the `timestamp` of signed requests.
    #[inline]
    fn venue_ms(&self, now: UnixNanos) -> u64 {
        venue_ms(now, self.clock_offset.as_ref().and_then(|o| o.get()))
    }

    /// Records this venue's order and cancel acknowledgements, tick-to-order and the
    /// gateway's stages (`GATEWAY_MEASUREMENTS`) into `recorder`.
    pub fn with_latency(mut self, recorder: crate::latency::Recorder) -> Self {
        self.timing = super::latency::Timing::new(recorder);
        self
    }

    /// Sends fills, risk refusals, balances, connection changes and errors to `events`.
    pub fn with_events(mut self, events: EventSender) -> Self {
        self.telemetry = events;
        self
    }

    pub fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    fn instrument(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments
            .get(id.index())
            .filter(|i| i.venue == self.venue.id)
    }

    fn symbols(&self) -> Vec<String> {
        self.instruments
            .iter()
            .filter(|i| i.venue == self.venue.id)
            .map(|i| i.symbol.clone())
            .collect()
    }

    /// Whether requests can reach the venue: REST needs no WebSocket link.
    fn can_send(&self) -> bool {
        self.orders_over_rest || self.link.is_up()
    }

    /// No private WebSocket: fills come from polling (`GatewayOptions::fills_poll`).
    fn polled(&self) -> bool {
        self.options.fills_poll.is_some() && self.rest.is_some()
    }

    /// Asks the venue's recent fills of every symbol (polled mode), off the hot path: the
    /// REST worker sends them; the codec turns new fills into the same `Trade` events the
    /// stream gives, each trade once.
    fn poll_fills(&mut self, now: UnixNanos) {
        if now < self.quiet_until || self.banned {
            return;
        }
        let vms = self.venue_ms(now);
        let symbols = self.symbols();
        if let Some(r) = self.rest.as_mut()
            && r.poll_fills(&symbols, now, vms)
        {
            self.counters.fill_polls += 1;
        }
    }

    /// Applies every REST answer that has arrived.
    fn read_rest(&mut self, now: UnixNanos) -> usize {
        let Some(rest) = self.rest.as_mut() else {
            return 0;
        };
        let mut events = std::mem::take(&mut self.events);
        let n = rest.drain(now, &mut events);
        if n > 0 {
            // Over REST, acknowledgements are measured from the hand-off to the worker to
            // the answer taken back here (both include the hop to and from the worker).
            self.timing.frame_read();
        }
        for ev in events.drain(..) {
            self.on_session_event(ev, now);
        }
        self.events = events;
        n
    }

    /// Writes the request in `self.out` to the venue (during a burst: queues it, and the
    /// burst's end writes all it queued at once); a failed write takes the link down.
    fn transmit(&mut self, now: UnixNanos) -> bool {
        let Some(conn) = self.link.conn() else {
            return false;
        };
        let text = match std::str::from_utf8(&self.out) {
            Ok(t) => t,
            Err(_) => return false,
        };
        let sent = if self.burst.open {
            self.burst.queued += 1;
            conn.queue_text(text)
        } else {
            conn.send_text(text)
        };
        match sent {
            Ok(()) => true,
            Err(e) => {
                self.on_link_down(now, e.to_string());
                false
            }
        }
    }

    /// Hands a record to the writer. Order and fill records are never dropped: a full queue
    /// holds them in the sink (and refuses new orders); a writer that is gone stops trading.
    fn keep(&mut self, r: crate::persist::Record) {
        self.status_record(&r);
        if let Some(p) = self.persist.as_mut()
            && p.keep(r).is_err()
        {
            self.risk.kill_switch().trip(KillReason::PersistenceDown);
        }
    }

    fn notify(&mut self, u: OrderUpdate) {
        super::deliver::notify(
            &self.updates,
            &mut self.held,
            &mut self.counters.updates_held,
            u,
        );
    }

    fn flush_held(&mut self) -> usize {
        super::deliver::flush_held(&self.updates, &mut self.held)
    }

    fn update_of(
        o: &Order,
        fill: Option<crate::types::order::FillDelta>,
        refused: Option<Refusal>,
        at: UnixNanos,
    ) -> OrderUpdate {
        OrderUpdate {
            cid: o.cid,
            strategy: o.strategy,
            status: o.status,
            side: o.side,
            price: o.price,
            qty: o.qty,
            filled_qty: o.filled_qty,
            fill,
            refused,
            fee_correction: None,
            at,
        }
    }

    fn refuse(&mut self, i: &NewOrderIntent, why: Refusal, now: UnixNanos) {
        self.counters.refused += 1;
        let u = OrderUpdate {
            cid: i.cid,
            strategy: i.strategy,
            status: OrderStatus::Rejected,
            side: i.side,
            price: i.price,
            qty: i.qty,
            filled_qty: crate::types::Qty::ZERO,
            fill: None,
            refused: Some(why),
            fee_correction: None,
            at: now,
        };
        self.notify(u);
    }

    fn on_new(&mut self, i: NewOrderIntent, now: UnixNanos) {
        let taken_at = self.timing.now();
        if self.banned || (!self.polled() && (!self.link.is_up() || !self.user_stream)) {
            return self.refuse(&i, Refusal::VenueUnavailable, now);
        }
        if let Some(why) = self
            .rest
            .as_ref()
            .filter(|_| self.orders_over_rest)
            .and_then(|r| r.refusal(now))
        {
            return self.refuse(&i, why, now);
        }
        // Orders over the session: after a rate-limit answer (until its pause has passed) and
        // with 90 % of the venue's request weight used, new orders wait (cancels still go);
        // sending on is what gets a key banned.
        if !self.orders_over_rest
            && (now < self.quiet_until || self.session.budget_used_percent() >= 90)
        {
            return self.refuse(&i, Refusal::RateLimited, now);
        }
        if let Some(p) = self.persist.as_mut()
            && !p.admit_order()
        {
            return self.refuse(&i, Refusal::PersistenceBehind, now);
        }
        let Some(inst) = self.instrument(i.instrument) else {
            return self.refuse(&i, Refusal::Grid, now);
        };
        let grid_ok = match i.kind {
            OrderKind::Market => inst.check_qty(i.qty).is_ok(),
            _ => inst.check_order(i.price, i.qty).is_ok(),
        };
        if !grid_ok {
            return self.refuse(&i, Refusal::Grid, now);
        }
        if !i.reduce_only && !self.leverage_allows(i.instrument) {
            return self.refuse(&i, Refusal::LeverageUnconfirmed, now);
        }
        // The symbol is read in place where the request is encoded: no copy per order.
        let (pd, qd) = (inst.price_decimals, inst.qty_decimals);
        let check = OrderCheck {
            strategy: i.strategy,
            instrument: i.instrument,
            side: i.side,
            price: i.price,
            qty: i.qty,
            mid: (self.mid)(i.instrument),
            reduce_only: i.reduce_only,
        };
        let instrument_window = self.instrument_windows.get(i.instrument.index());
        if !instrument_window.is_none_or(|w| w.admits(now))
            || !self.account_window.as_ref().is_none_or(|w| w.admits(now))
        {
            return self.refuse(&i, Refusal::OrderLimit, now);
        }
        if let Err(rule) = self.risk.check(&check, now) {
            self.telemetry.emit(GatewayEvent::RiskRejected {
                strategy: i.strategy,
                cid: i.cid,
                rule,
                at: now,
            });
            return self.refuse(&i, Refusal::Risk(rule), now);
        }
        if let Some(w) = self.instrument_windows.get_mut(i.instrument.index()) {
            w.record(now);
        }
        if let Some(w) = self.account_window.as_mut() {
            w.record(now);
        }
        let checked_at = self.timing.now();
        let order = Order::new(
            i.cid,
            i.strategy,
            i.instrument,
            i.side,
            i.kind,
            i.tif,
            i.price,
            i.qty,
            now,
        )
        .reducing(i.reduce_only);
        if let Err(e) = self.table.insert(order) {
            let why = match e {
                super::table::TableError::Duplicate => Refusal::DuplicateId,
                _ => Refusal::TableFull,
            };
            return self.refuse(&i, why, now);
        }
        let mut queued = true;
        let vms = self.venue_ms(now);
        let order = PlaceOrder {
            reduce_only: i.reduce_only,
            symbol: &self.instruments[i.instrument.index()].symbol,
            cid: &i.cid,
            side: i.side,
            kind: i.kind,
            tif: i.tif,
            price: i.price,
            qty: i.qty,
            price_decimals: pd,
            qty_decimals: qd,
        };
        let held = self.holds_for_batch(&order);
        if held {
            // Held for a batch request (`actor/batch.rs`): recorded when that is queued.
            let h = batch::Held::new(i, (pd, qd), taken_at, checked_at);
            self.burst.held.push(h);
        } else if let (true, Some(rest)) = (self.orders_over_rest, self.rest.as_mut()) {
            // Queued for the REST worker (a full queue or a dead worker was refused above).
            queued = match self.replacing.take() {
                Some(old) => rest.cancel_replace(&old, &order, now, vms),
                None => rest.place(&order, now, vms),
            };
        } else {
            let mut out = std::mem::take(&mut self.out);
            match self.replacing.take() {
                Some(old) => {
                    self.session.cancel_replace(&old, &order, vms, &mut out);
                }
                None => self.session.place(&order, vms, &mut out),
            }
            self.out = out;
            self.transmit(now);
        }
        let written_at = self.timing.now();
        if held {
            // Recorded when its batch request is queued (`actor/batch.rs`).
        } else if self.burst.open && !self.orders_over_rest {
            // Written when the burst is flushed: recorded then (`actor/burst.rs`).
            self.burst.orders.push(burst::Queued {
                cid: i.cid,
                taken: taken_at,
                checked: checked_at,
                tick_at: i.tick_at,
            });
        } else {
            let first = self.burst.take_first();
            self.timing
                .order_written(taken_at, checked_at, written_at, i.tick_at, first);
        }
        // Even if the write failed, the order may have left: it is chased like any other.
        self.counters.orders_sent += 1;
        self.risk
            .on_order_opened(i.strategy, i.instrument, i.side, i.qty);
        self.chase.insert(i.cid, Chase::default());
        let update = self.table.get_mut(&i.cid).map(|o| {
            o.apply(&OrderEvent::Sent {
                at: written_at.unwrap_or(now),
            });
            (Self::update_of(o, None, None, now), o.clone())
        });
        if let Some((u, o)) = update {
            self.keep(crate::persist::Record::Order(o));
            self.notify(u);
        }
        if !queued {
            // It never left: the venue cannot know it.
            self.apply(i.cid, &OrderEvent::Unknown { at: now }, now);
        }
    }

    /// Encodes a request about order `cid` on its symbol (`encode` gets the transport, the
    /// symbol, the venue's order id if known, and the buffer; it answers `None` if there is
    /// nothing to send, else whether the transport took it) and writes it. `None` if the
    /// order or its instrument is unknown, else whether the request went. A cancel goes the
    /// orders' way; a query (`query`) goes over REST whenever the gateway has it.
    fn request_about(
        &mut self,
        cid: ClientOrderId,
        now: UnixNanos,
        query: bool,
        encode: impl FnOnce(
            &mut dyn OrderRequests,
            &str,
            Option<crate::types::VenueOrderId>,
            &mut Vec<u8>,
        ) -> Option<bool>,
    ) -> Option<bool> {
        let o = self.table.get(&cid)?;
        let venue_id = o.venue_order_id;
        // Direct field borrows: the symbol is read in place, not cloned per request.
        let inst = self
            .instruments
            .get(o.instrument.index())
            .filter(|i| i.venue == self.venue.id)?;
        let over_rest = self.rest.is_some() && (query || self.orders_over_rest);
        let requests: &mut dyn OrderRequests = match self.rest.as_mut() {
            Some(rest) if over_rest => rest,
            _ => &mut self.session,
        };
        let taken = encode(requests, &inst.symbol, venue_id, &mut self.out)?;
        if over_rest || !taken {
            return Some(taken);
        }
        Some(self.transmit(now))
    }

    fn send_cancel(&mut self, cid: ClientOrderId, now: UnixNanos) {
        let ms = self.venue_ms(now);
        let sent = self.request_about(cid, now, false, |s, symbol, _, out| {
            Some(s.cancel(symbol, &cid, ms, out))
        });
        if sent.is_none() {
            return;
        }
        if sent == Some(true) {
            self.counters.cancels_sent += 1;
        }
        let c = self.chase.entry(cid).or_default();
        c.queried_at = Some(now);
        if sent == Some(true) {
            c.cancel_written_at = self.timing.now();
        }
    }

    fn on_cancel(&mut self, strategy: StrategyId, cid: ClientOrderId, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            self.counters.refused += 1;
            return;
        };
        if o.strategy != strategy {
            self.counters.refused += 1;
            return;
        }
        if o.request_cancel() && self.can_send() && !self.hold_cancel(cid) {
            self.send_cancel(cid, now);
        }
        // While the link is down the cancel stays pending and is sent after reconnecting.
    }

    /// Amends open order `cid` in place, if its venue session can and the order is in a
    /// state to be amended (open, acknowledged, no cancel or amend under way), the new price
    /// and quantity on the instrument's grid, above what has filled, and risk agrees. Else
    /// the strategy gets the order's update as it stands (nothing changed).
    fn on_amend(
        &mut self,
        strategy: StrategyId,
        cid: ClientOrderId,
        price: crate::types::Price,
        qty: crate::types::Qty,
        now: UnixNanos,
    ) {
        let Some(o) = self.table.get(&cid).filter(|o| o.strategy == strategy) else {
            self.counters.refused += 1;
            return;
        };
        let (in_place, limits) = if self.orders_over_rest {
            let r = self.rest.as_ref();
            (
                r.is_some_and(|r| r.amends_in_place()),
                r.map(|r| r.amend_limits()).unwrap_or_default(),
            )
        } else {
            (self.session.amends_in_place(), self.session.amend_limits())
        };
        let amendable = in_place
            && limits.allows(o.price, o.qty, price, qty)
            && self.can_send()
            && matches!(o.status, OrderStatus::Acked | OrderStatus::PartiallyFilled)
            && !o.cancel_pending
            && !o.amend_pending
            && qty > o.filled_qty
            && self
                .instrument(o.instrument)
                .is_some_and(|i| i.check_order(price, qty).is_ok());
        let check = OrderCheck {
            strategy,
            instrument: o.instrument,
            side: o.side,
            price,
            qty: qty.saturating_sub(o.filled_qty),
            mid: (self.mid)(o.instrument),
            reduce_only: o.reduce_only,
        };
        let replaced = o.leaves_qty();
        let risk = if amendable {
            self.risk.check_amend(&check, replaced, now)
        } else {
            Ok(())
        };
        if let Err(rule) = risk {
            self.telemetry.emit(GatewayEvent::RiskRejected {
                strategy,
                cid,
                rule,
                at: now,
            });
        }
        if !amendable || risk.is_err() {
            self.counters.refused += 1;
            if let Some(o) = self.table.get(&cid) {
                let u = Self::update_of(o, None, None, now);
                self.notify(u);
            }
            return;
        }
        let vms = self.venue_ms(now);
        let Some(inst) = self.instruments.get(check.instrument.index()) else {
            return;
        };
        let order = PlaceOrder {
            reduce_only: o.reduce_only,
            symbol: &inst.symbol,
            cid: &cid,
            side: check.side,
            kind: o.kind,
            tif: o.tif,
            price,
            qty,
            price_decimals: inst.price_decimals,
            qty_decimals: inst.qty_decimals,
        };
        // Held for a batch amend (`actor/batch.rs`): counted as written now, as the burst
        // sends it before it ends.
        let held = self.amends_batched();
        if held {
            self.burst.amends.push((cid, price, qty));
        }
        let written = match self.rest.as_mut().filter(|_| self.orders_over_rest) {
            Some(_) if held => true,
            Some(rest) => rest.amend(&order, now, vms),
            None => {
                let mut out = std::mem::take(&mut self.out);
                let written = self.session.amend(&order, vms, &mut out);
                self.out = out;
                if written {
                    self.transmit(now);
                }
                written
            }
        };
        if written {
            self.counters.amends_sent += 1;
            if let Some(o) = self.table.get_mut(&cid) {
                o.amend_pending = true;
            }
            self.chase.entry(cid).or_default().amend_written_at = Some(now);
        }
    }

    fn query(&mut self, cid: ClientOrderId, now: UnixNanos) {
        let ms = self.venue_ms(now);
        let sent = self.request_about(cid, now, true, |s, symbol, _, out| {
            Some(s.status(symbol, &cid, ms, out))
        });
        if sent.is_none() {
            return;
        }
        if sent == Some(true) {
            self.counters.queries_sent += 1;
        }
        let c = self.chase.entry(cid).or_default();
        c.queried_at = Some(now);
        c.query_now = false;
    }

    /// Applies one venue event to an order, keeps risk in step and tells the strategy.
    fn apply(&mut self, cid: ClientOrderId, ev: &OrderEvent, now: UnixNanos) {
        let Some(o) = self.table.get_mut(&cid) else {
            self.counters.unknown_order_events += 1;
            return;
        };
        let was_final = o.status.is_final();
        let leaves_before = o.leaves_qty();
        let qty_before = o.qty;
        if self.timing.is_on() {
            let sent_at = o.sent_at.filter(|_| o.status == OrderStatus::Sent);
            let cancel_written = self
                .chase
                .get(&cid)
                .and_then(|c| c.cancel_written_at)
                .filter(|_| o.cancel_pending);
            self.timing.venue_event(ev, sent_at, cancel_written);
        }
        let r = o.apply(ev);
        if r.anomaly.is_some() {
            self.counters.anomalies += 1;
        }
        if !r.changed {
            return;
        }
        let (strategy, side, instrument) = (o.strategy, o.side, o.instrument);
        let unfilled = o.qty.saturating_sub(o.filled_qty);
        let qty_after = o.qty;
        let now_final = o.status.is_final();
        let update = Self::update_of(o, r.fill, None, now);
        let record = o.clone();
        // The fill's fee in the quote asset, for PnL, and whether the venue rated it in the
        // quote from another asset (converted here).
        let (quote_fee, rated) = r
            .fill
            .and_then(|f| {
                let quote = &self.instrument(instrument)?.quote;
                let q = record.fee_in_quote(f.fee_asset, f.fee, quote)?;
                Some((q, f.fee_asset.as_str() != quote))
            })
            .unwrap_or((crate::types::Qty::ZERO, false));
        self.keep(crate::persist::Record::Order(record));
        if let Some(f) = r.fill {
            let fill = crate::persist::FillRecord {
                cid,
                strategy,
                instrument,
                fill: f,
                at: now,
            };
            self.keep(crate::persist::Record::Fill(fill));
            self.telemetry.emit(GatewayEvent::Fill(fill));
            if rated && !quote_fee.is_zero() {
                // Paid in an asset the venue rated in the quote: the round trips count it.
                self.telemetry.emit(GatewayEvent::QuoteFee {
                    cid,
                    in_quote: quote_fee,
                    at: now,
                });
            }
        }
        let needs_trades = r.fill.is_some_and(|f| !f.fees_complete);
        if needs_trades {
            self.chase.entry(cid).or_default().fetch_trades = true;
        }
        if let Some(f) = r.fill {
            self.counters.fills += 1;
            self.note_perp_fill(instrument);
            self.risk
                .on_fill(strategy, instrument, side, f.qty, f.quote, quote_fee, now);
            self.risk
                .on_order_reduced(strategy, instrument, side, f.qty, false);
        }
        if qty_before != qty_after && !was_final {
            // The open quantity risk counts follows an amend, confirmed or learned by a query
            // (the fills this event carried were counted above).
            let resized = leaves_before
                .checked_add(qty_after)
                .map(|l| l.saturating_sub(qty_before))
                .unwrap_or(leaves_before);
            self.risk
                .on_order_resized(strategy, instrument, side, leaves_before, resized);
        }
        if now_final && !was_final {
            self.risk
                .on_order_reduced(strategy, instrument, side, unfilled, true);
            if !self.chase.get(&cid).is_some_and(|c| c.fetch_trades) {
                self.chase.remove(&cid);
            }
        }
        self.notify(update);
    }

    fn on_session_event(&mut self, ev: SessionEvent, now: UnixNanos) {
        match ev {
            SessionEvent::Order { cid, event } => self.apply(cid, &event, now),
            SessionEvent::PlaceRejected { cid, error } => {
                self.counters.venue_rejects += 1;
                self.apply(
                    cid,
                    &OrderEvent::RejectedByVenue {
                        code: error.code,
                        at: now,
                    },
                    now,
                );
            }
            SessionEvent::Uncertain { cid } | SessionEvent::CancelRejected { cid, .. } => {
                self.chase.entry(cid).or_default().query_now = true;
            }
            SessionEvent::NotFound { cid } => {
                self.apply(cid, &OrderEvent::Unknown { at: now }, now)
            }
            SessionEvent::Trades { cid, trades } => self.on_trades(cid, &trades, now),
            SessionEvent::FeeRate {
                cid,
                asset,
                per_quote,
            } => {
                if let Some(o) = self.table.get_mut(&cid) {
                    o.fee_rate = Some((asset, per_quote));
                }
            }
            SessionEvent::OpenOrders { symbol, orders } => {
                self.reconcile_open(&symbol, orders, now)
            }
            SessionEvent::Balances(b) => {
                self.risk.on_balances(&b);
                if self.telemetry.is_on() {
                    for balance in &b {
                        self.telemetry.emit(GatewayEvent::Balance {
                            venue: self.venue.id,
                            balance: *balance,
                            at: now,
                        });
                    }
                }
                self.balances = b;
            }
            SessionEvent::BalanceUpdate(b) => {
                self.risk.on_balances(std::slice::from_ref(&b));
                if self.telemetry.is_on() {
                    let (venue, at) = (self.venue.id, now);
                    self.telemetry.emit(GatewayEvent::Balance {
                        venue,
                        balance: b,
                        at,
                    });
                }
                match self.balances.iter_mut().find(|x| x.asset == b.asset) {
                    Some(x) => *x = b,
                    None => self.balances.push(b),
                }
            }
            SessionEvent::Position(p) => self.on_position(p, now),
            SessionEvent::Funding(f) => self.on_funding(f),
            SessionEvent::LeverageSet { symbol, leverage } => {
                self.on_leverage_set(&symbol, leverage)
            }
            SessionEvent::Subscribed => self.user_stream = true,
            SessionEvent::LoggedIn => {
                let vms = self.venue_ms(now);
                let mut out = std::mem::take(&mut self.out);
                let wrote = self.session.after_login(vms, &mut out);
                self.out = out;
                if wrote {
                    self.transmit(now);
                }
            }
            SessionEvent::RateLimited { retry_after_ms } => {
                self.counters.rate_limited += 1;
                self.quiet_until = now.plus_nanos(retry_after_ms * 1_000_000);
            }
            SessionEvent::Banned => {
                self.banned = true;
                self.risk.kill_switch().trip(KillReason::VenueBanned);
                self.telemetry.emit(GatewayEvent::Banned {
                    venue: self.venue.id,
                    at: now,
                });
                tracing::error!(gateway = %self.name, "venue answered 418 (IP banned): no more requests");
            }
            SessionEvent::Failed { purpose, error } => {
                if let Purpose::Trades(cid) = purpose {
                    // Fees still wanted: ask again after a deadline, not at once.
                    let c = self.chase.entry(cid).or_default();
                    c.fetch_trades = true;
                    c.trades_after = Some(now.plus_nanos(ns(self.options.ack_deadline)));
                }
                self.on_leverage_failed(&purpose, &error);
                tracing::warn!(gateway = %self.name, ?purpose, code = error.code, msg = %error.msg, "request failed");
                self.telemetry.emit(GatewayEvent::Failed {
                    venue: self.venue.id,
                    code: i64::from(error.code),
                    message: error.msg,
                    at: now,
                });
            }
            SessionEvent::Undecodable(_) => self.counters.undecodable += 1,
            SessionEvent::StreamGap(why) => {
                // Events may have been lost: query every order not yet final, and sweep
                // open orders and balances, now rather than at their deadlines.
                self.counters.stream_gaps += 1;
                let open: Vec<ClientOrderId> = self
                    .table
                    .iter()
                    .filter(|o| !o.status.is_final())
                    .map(|o| o.cid)
                    .collect();
                for cid in open {
                    self.chase.entry(cid).or_default().query_now = true;
                }
                self.next_sweep = now;
                tracing::warn!(gateway = %self.name, %why, "private stream gap: reconciling");
            }
            SessionEvent::Other(_) | SessionEvent::Ignored(_) => {}
        }
    }

    /// The venue's trade list of an order: its fees become exact, and the strategy is told
    /// what they add to the fills it was sent (one update per asset whose fees changed).
    fn on_trades(
        &mut self,
        cid: ClientOrderId,
        trades: &[(
            crate::types::TradeId,
            crate::types::Qty,
            crate::types::order::AssetCode,
        )],
        now: UnixNanos,
    ) {
        let Some(instrument) = self.table.get(&cid).map(|o| o.instrument) else {
            return;
        };
        let quote = self
            .instrument(instrument)
            .map(|i| i.quote.clone())
            .unwrap_or_default();
        let Some(o) = self.table.get_mut(&cid) else {
            return;
        };
        let (strategy, is_final) = (o.strategy, o.status.is_final());
        // Fees in the quote asset, and those the venue rated in it (fees in an order's
        // margin currency), move PnL by the change of their total in quote.
        let quote_before = o.quote_fees(&quote);
        let delta = o.set_fees(trades);
        let record = o.clone();
        let quote_delta = record.quote_fees(&quote).units() - quote_before.units();
        if quote_delta != 0 {
            let d = crate::types::Qty::from_units(quote_delta);
            self.risk.adjust_quote_fees(strategy, instrument, d);
            self.telemetry.emit(GatewayEvent::QuoteFee {
                cid,
                in_quote: d,
                at: now,
            });
        }
        let mut corrections = [None; 2];
        for (k, (asset, d)) in delta.into_iter().enumerate() {
            if d == 0 {
                continue;
            }
            let d = crate::types::Qty::from_units(d);
            let mut u = Self::update_of(&record, None, None, now);
            u.fee_correction = Some(super::FeeCorrection {
                asset,
                delta: d,
                in_quote: record.fee_in_quote(asset, d, &quote),
            });
            corrections[k] = Some(u);
        }
        self.keep(crate::persist::Record::Order(record));
        for u in corrections.into_iter().flatten() {
            self.notify(u);
        }
        if is_final
            && !self
                .chase
                .get(&cid)
                .is_some_and(|c| c.fetch_trades || c.query_now)
        {
            self.chase.remove(&cid);
        }
    }

    fn fetch_trades(&mut self, cid: ClientOrderId, now: UnixNanos) {
        let ms = self.venue_ms(now);
        let sent = self.request_about(cid, now, true, |s, symbol, venue_id, out| {
            venue_id.map(|id| s.trades(symbol, &cid, id, ms, out))
        });
        if sent == Some(true) {
            self.counters.queries_sent += 1;
            if let Some(c) = self.chase.get_mut(&cid) {
                c.fetch_trades = false;
                c.trades_after = None;
            }
        }
    }

    /// Compares the venue's open orders on `symbol` with ours.
    fn reconcile_open(&mut self, symbol: &str, orders: Vec<OrderSnapshot>, now: UnixNanos) {
        let Some(inst) = self
            .instruments
            .iter()
            .find(|i| i.venue == self.venue.id && i.symbol == symbol)
        else {
            return;
        };
        let inst_id = inst.id;
        for s in &orders {
            if self.table.get(&s.cid).is_some() {
                self.apply(s.cid, &s.event(now), now);
                continue;
            }
            self.counters.unknown_venue_orders += 1;
            tracing::warn!(gateway = %self.name, cid = %s.cid, symbol, "open order on the venue unknown to the engine");
            let strategy = s
                .cid
                .decode()
                .map(|(_, st, _)| st)
                .unwrap_or(StrategyId(u16::MAX));
            let mut o = Order::new(
                s.cid,
                strategy,
                inst_id,
                s.side,
                OrderKind::Limit,
                TimeInForce::Gtc,
                s.price,
                s.orig_qty,
                now,
            );
            o.apply(&OrderEvent::Sent { at: now });
            o.apply(&s.event(now));
            self.table.insert_recovered(o);
            if self.options.cancel_unknown
                && let Some(o) = self.table.get_mut(&s.cid)
                && o.request_cancel()
            {
                self.send_cancel(s.cid, now);
            }
        }
        // Ours that the venue no longer lists as open: ask what became of them.
        let open: Vec<ClientOrderId> = orders.iter().map(|s| s.cid).collect();
        let grace = ns(self.options.ack_deadline);
        let missing: Vec<ClientOrderId> = self
            .table
            .iter()
            .filter(|o| o.instrument == inst_id && !o.status.is_final() && !open.contains(&o.cid))
            .filter(|o| o.sent_at.is_some_and(|t| now.since(t) >= grace) || o.sent_at.is_none())
            .map(|o| o.cid)
            .collect();
        for cid in missing {
            self.chase.entry(cid).or_default().query_now = true;
        }
    }

    fn sweep(&mut self, now: UnixNanos) {
        if now < self.quiet_until || self.banned {
            return;
        }
        // Keep reconciliation far from the weight limit, so it can never get the key banned.
        if self.session.budget_used_percent() > 80 {
            return;
        }
        let vms = self.venue_ms(now);
        if self.rest.is_some() {
            // The REST transport holds sweeps back itself as the weight nears the limit.
            let symbols = self.symbols();
            if self
                .rest
                .as_mut()
                .is_some_and(|r| r.sweep(&symbols, now, vms))
            {
                self.counters.sweeps += 1;
            }
            if !self.perps.is_empty() {
                self.set_leverages(now);
                let perps = self.perp_symbols();
                if let Some(r) = self.rest.as_mut() {
                    r.positions(&perps, now, vms);
                }
            }
            return;
        }
        self.counters.sweeps += 1;
        for symbol in self.symbols() {
            let mut out = std::mem::take(&mut self.out);
            let wrote = self.session.open_orders(&symbol, vms, &mut out);
            self.out = out;
            if wrote {
                self.transmit(now);
            }
        }
        let mut out = std::mem::take(&mut self.out);
        let wrote = self.session.account(vms, &mut out);
        self.out = out;
        if wrote {
            self.transmit(now);
        }
    }

    /// Queries every order that has waited past its deadline, and resends pending cancels.
    fn chase_overdue(&mut self, now: UnixNanos) {
        if !self.can_send() || now < self.quiet_until || self.banned {
            return;
        }
        let deadline = ns(self.options.ack_deadline);
        let mut due = Vec::new();
        for o in self.table.iter() {
            if o.status.is_final() {
                continue;
            }
            let c = self.chase.get(&o.cid).copied().unwrap_or_default();
            let waiting_ack = o.status == OrderStatus::Sent
                && o.sent_at.is_some_and(|t| now.since(t) >= deadline);
            let waiting_cancel = o.cancel_pending;
            // An amend neither answered nor pushed: the query's answer carries the venue's
            // terms, which settle it.
            let waiting_amend =
                o.amend_pending && c.amend_written_at.is_some_and(|t| now.since(t) >= deadline);
            let recently = c.queried_at.is_some_and(|t| now.since(t) < deadline);
            if c.query_now || ((waiting_ack || waiting_cancel || waiting_amend) && !recently) {
                due.push((o.cid, waiting_cancel && !c.query_now));
            }
        }
        for (cid, resend_cancel) in due {
            if resend_cancel {
                self.send_cancel(cid, now);
            } else {
                self.query(cid, now);
            }
        }
        // Fees of fills learned without their trade reports: ask for the order's trades once
        // its venue id is known and no query about it is outstanding.
        // A final order is never queried again, so a query it still waits for (an uncertain
        // cancel after it ended) must not hold its fees back.
        let fetch: Vec<ClientOrderId> = self
            .chase
            .iter()
            .filter(|(cid, c)| {
                c.fetch_trades
                    && (!c.query_now || self.table.get(cid).is_none_or(|o| o.status.is_final()))
            })
            .filter(|(_, c)| c.trades_after.is_none_or(|t| now >= t))
            .map(|(cid, _)| *cid)
            .collect();
        for cid in fetch {
            self.fetch_trades(cid, now);
        }
    }

    fn on_link_up(&mut self, now: UnixNanos) {
        self.counters.connects += 1;
        self.user_stream = false;
        // Answers to requests on the old connection never come: chase those orders.
        for p in self.session.reset_inflight() {
            match p {
                Purpose::Place(cid) | Purpose::Cancel(cid) | Purpose::Status(cid) => {
                    self.chase.entry(cid).or_default().query_now = true;
                }
                // The amend's answer is lost with the connection: the order is taken as
                // unchanged (a later push of the amended order still applies) and queried.
                Purpose::Amend(cid) => {
                    self.apply(cid, &OrderEvent::AmendRejected { code: 0, at: now }, now);
                    self.chase.entry(cid).or_default().query_now = true;
                }
                Purpose::Trades(cid) => self.chase.entry(cid).or_default().fetch_trades = true,
                _ => {}
            }
        }
        let vms = self.venue_ms(now);
        let mut out = std::mem::take(&mut self.out);
        self.session.on_connected(vms, &mut out);
        self.out = out;
        self.transmit(now);
        // Reconcile at once: open orders and balances.
        self.next_sweep = now;
        tracing::info!(gateway = %self.name, "venue connection up");
        self.telemetry.emit(GatewayEvent::Connected {
            venue: self.venue.id,
            at: now,
        });
    }

    fn on_link_down(&mut self, now: UnixNanos, why: String) {
        self.counters.disconnects += 1;
        self.user_stream = false;
        tracing::warn!(gateway = %self.name, reason = %why, "venue connection down; reconnecting");
        if self.telemetry.is_on() {
            self.telemetry.emit(GatewayEvent::Disconnected {
                venue: self.venue.id,
                reason: why.clone(),
                at: now,
            });
        }
        self.link.down(now, why);
    }

    /// The venue's text keepalive on the private connection: after `idle` without a frame,
    /// send the ping; with no frame back within another `idle`, the connection is dead.
    fn keep_alive(&mut self, now: UnixNanos) {
        if let Some((ping, every)) = self.session.periodic_ping()
            && self.link.is_up()
            && now.since(self.periodic_ping_at) >= every.as_nanos() as u64
        {
            self.out.clear();
            self.out.extend_from_slice(ping.as_bytes());
            if self.transmit(now) {
                self.periodic_ping_at = now;
            }
        }
        let crate::venue::md::Keepalive::Text { ping, idle, .. } = self.session.keepalive() else {
            return;
        };
        if !self.link.is_up() {
            return;
        }
        let idle = idle.as_nanos() as u64;
        match self.ping_sent_at {
            Some(at) if now.since(at) >= idle && self.last_rx <= at => {
                self.ping_sent_at = None;
                self.on_link_down(now, "no answer to the keepalive".into());
            }
            Some(_) => {}
            None if now.since(self.last_rx) >= idle => {
                self.out.clear();
                self.out.extend_from_slice(ping.as_bytes());
                if self.transmit(now) {
                    self.ping_sent_at = Some(now);
                }
            }
            None => {}
        }
    }

    fn read_frames(&mut self, now: UnixNanos) -> usize {
        let mut n = 0;
        while n < BATCH {
            let Some(conn) = self.link.conn() else { break };
            let msg = conn.read();
            if let Ok(Some(_)) = msg {
                self.last_rx = now;
                self.ping_sent_at = None;
            }
            match msg {
                Ok(None) => break,
                Ok(Some(Incoming::Text(t))) => {
                    n += 1;
                    self.timing.frame_read();
                    let mut events = std::mem::take(&mut self.events);
                    self.session.on_frame(t.as_bytes(), now, &mut events);
                    for ev in events.drain(..) {
                        self.on_session_event(ev, now);
                    }
                    self.events = events;
                }
                Ok(Some(Incoming::Binary(b))) => {
                    // Some venues push compressed binary frames: the session reads them.
                    n += 1;
                    self.timing.frame_read();
                    let mut events = std::mem::take(&mut self.events);
                    self.session.on_binary_frame(&b, now, &mut events);
                    for ev in events.drain(..) {
                        self.on_session_event(ev, now);
                    }
                    self.events = events;
                }
                Ok(Some(Incoming::Close(code))) => {
                    self.on_link_down(now, format!("venue closed the connection ({code:?})"));
                    break;
                }
                Ok(Some(_)) => n += 1,
                Err(e) => {
                    self.on_link_down(now, e.to_string());
                    break;
                }
            }
        }
        if let Some(conn) = self.link.conn()
            && let Err(e) = conn.flush()
        {
            self.on_link_down(now, e.to_string());
        }
        n
    }

    /// The orders as the gateway holds them at `now`.
    pub fn snapshot(&self, now: UnixNanos) -> GatewaySnapshot {
        let overdue_after = ns(self.options.ack_deadline) * 3;
        let mut counters = self.counters.clone();
        counters.connects = self.link.connects;
        counters.ws_writes = self.ws_writes();
        GatewaySnapshot {
            orders: self
                .table
                .iter()
                .map(|o| OrderView {
                    cid: o.cid,
                    strategy: o.strategy,
                    status: o.status,
                    venue_order_id: o.venue_order_id,
                    qty: o.qty,
                    filled_qty: o.filled_qty,
                    filled_quote: o.filled_quote,
                    fees: o.fees,
                    cancel_pending: o.cancel_pending,
                })
                .collect(),
            balances: self.balances.clone(),
            counters,
            link_up: self.link.is_up(),
            user_stream: self.user_stream,
            overdue: self
                .table
                .iter()
                .filter(|o| !o.status.is_final())
                .filter(|o| o.status == OrderStatus::Sent || o.cancel_pending)
                .filter(|o| now.since(o.updated_at) > overdue_after)
                .count(),
            rest: self.rest.as_ref().map(|r| r.stats(now)),
            perps: self.perp_views(),
            quote_fees: self.risk.quote_fees(),
        }
    }

    fn publish(&mut self, now: UnixNanos) {
        self.publish_status(now);
        if let Some(tx) = &self.snapshots {
            let _ = tx.send(self.snapshot(now));
        }
    }
}

impl<S: OrderSession, C: RestCodec> Actor for Gateway<S, C> {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        // The first signed requests go out before the latency probe's first answer: measure
        // the venue's clock once here (start-up, not the hot loop).
        if let Some(offset) = self.clock_offset.as_ref().filter(|o| o.get().is_none()) {
            match crate::latency::probe::measure_offset(
                self.venue.kind,
                &self.venue.rest_url,
                &ctx.clock,
                Duration::from_secs(2),
            ) {
                Ok((off, rtt)) => {
                    offset.set(off, rtt);
                    tracing::info!(gateway = %self.name, offset_ms = off / 1_000_000, "venue clock measured");
                }
                Err(e) => {
                    tracing::warn!(gateway = %self.name, error = %e, "venue clock not measured: signing with this machine's clock until the probe answers")
                }
            }
        }
        let now = ctx.clock.now();
        self.timing.start(&ctx.clock);
        if let Some(rest) = self.rest.as_mut() {
            rest.start().map_err(|e| StartError {
                actor: self.name.clone(),
                message: format!("REST order worker: {e}"),
            })?;
        }
        if !self.polled() {
            self.link.poll(now);
        }
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let now = ctx.clock.now();
        self.timing.maybe_flush(now);
        let mut work = self.flush_held();
        if let Some(p) = self.persist.as_mut()
            && p.pump().is_err()
        {
            self.risk.kill_switch().trip(KillReason::PersistenceDown);
        }
        if !self.polled() && self.link.poll(now) {
            self.last_rx = now;
            self.ping_sent_at = None;
            self.periodic_ping_at = now;
            self.on_link_up(now);
            work += 1;
        }
        work += self.read_frames(now);
        self.keep_alive(now);
        work += self.read_rest(now);
        // New orders first, then cancels and amends, all in one write (`actor/burst.rs`).
        work += self.handle_intents(now);
        if (self.link.is_up() || self.polled()) && now >= self.next_sweep {
            // Polled: open orders and balances are asked at the poll interval too.
            let every = self.options.sweep_interval;
            let every = self.options.fills_poll.map_or(every, |p| p.min(every));
            self.next_sweep = now.plus_nanos(ns(every));
            self.sweep(now);
        }
        if let Some(every) = self.options.fills_poll
            && now >= self.next_fills_poll
        {
            self.next_fills_poll = now.plus_nanos(ns(every));
            self.poll_fills(now);
        }
        if now >= self.next_deadline_check {
            self.next_deadline_check = now.plus_nanos(DEADLINE_CHECK_NS);
            self.chase_overdue(now);
            if !self.perps.is_empty() {
                self.recheck_positions(now);
            }
        }
        if now >= self.next_snapshot {
            self.next_snapshot = now.plus_nanos(ns(self.options.snapshot_interval));
            self.publish(now);
        }
        work
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        let start = ctx.clock.now();
        let to_cancel: Vec<ClientOrderId> = self
            .table
            .iter()
            .filter(|o| !o.status.is_final())
            .filter(|o| {
                self.options
                    .cancel_on_stop
                    .get(o.strategy.index())
                    .copied()
                    .unwrap_or(false)
            })
            .map(|o| o.cid)
            .collect();
        for cid in &to_cancel {
            if let Some(o) = self.table.get_mut(cid) {
                o.request_cancel();
            }
            if self.can_send() {
                self.send_cancel(*cid, start);
            }
        }
        // Wait (bounded) for the venue to confirm, chasing as usual.
        let until = start.plus_nanos(ns(self.options.stop_timeout));
        while !to_cancel.is_empty() && ctx.clock.now() < until {
            let now = ctx.clock.now();
            if !self.polled() && self.link.poll(now) {
                self.on_link_up(now);
            }
            self.read_frames(now);
            self.read_rest(now);
            self.chase_overdue(now);
            let open = to_cancel
                .iter()
                .filter(|c| self.table.get(c).is_some_and(|o| !o.status.is_final()))
                .count();
            if open == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let left = to_cancel
            .iter()
            .filter(|c| self.table.get(c).is_some_and(|o| !o.status.is_final()))
            .count();
        if left > 0 {
            tracing::error!(gateway = %self.name, left, "orders still open on the venue at shutdown");
        }
        self.flush_held();
        self.publish(ctx.clock.now());
        if let Some(p) = self.persist.as_mut()
            && !p.finish(Duration::from_secs(2))
        {
            tracing::error!(gateway = %self.name, "order records not all committed at shutdown");
        }
        if let Some(c) = self.link.conn() {
            c.close();
        }
        if let Some(rest) = self.rest.as_mut() {
            rest.shutdown();
        }
        self.timing.finish(ctx.clock.now());
        self.telemetry.emit(GatewayEvent::Stopped {
            venue: self.venue.id,
            at: ctx.clock.now(),
        });
    }
}
