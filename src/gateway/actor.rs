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
mod events;
mod intents;
mod link;
mod positions;
mod reconcile;
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
        // New orders first, then cancels and amends, all in one write (`actor/burst.rs`).
        // Once the session can take orders, the poll's intents go before the venue's frames
        // are read: no read (a system call, most often answering "nothing yet") stands in
        // front of an order. Until then, frames first: one of them may be what readies it.
        let ready = self.polled() || (self.link.is_up() && self.user_stream);
        if ready {
            work += self.handle_intents(now);
        }
        work += self.read_frames(now);
        self.keep_alive(now);
        work += self.read_rest(now);
        if !ready {
            work += self.handle_intents(now);
        }
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
