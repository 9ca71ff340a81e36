//! `FeedActor`: the network half of a market-data feed, written once for every venue. It owns
//! the connection(s) on its own `mio::Poll`, sends the venue's subscribe frames and text
//! keepalives, drives the venue's `MarketData` (codec and book-sync rule), publishes every
//! book change to the book cache, fetches REST snapshots off-thread when the venue's rule asks
//! for one, reconnects with backoff and rotates its connection before the venue's age limit.
//!
//! **Connections.** Two `Link` slots, each with its connector thread. One is active; the
//! other is parked until rotation (connection older than the venue's age limit, or a
//! notice that the venue will close it) connects it. The spare takes over when its first frame arrives:
//! the old connection is read to the end of what it has, then closed, so the diff stream goes
//! on without a gap (a duplicate is stale, a gap resyncs as usual). When the active
//! connection drops with no spare up, every book restarts (`on_reconnect`), is marked invalid
//! in the cache, and the link reconnects with jittered backoff.
//!
//! **Channels.** Book changes go out as instrument ids on `Conflate` channels (the cache holds
//! the state). Trades go out as `TradeEvent`s; those channels should be `DropNewest`: a
//! strategy that falls behind loses trades (counted by the channel, and by the feed when a
//! `Backpressure` channel hands one back) and the feed never waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::book::{CacheWriter, TopOfBook};
use crate::config::VenueConfig;
use crate::feed::record::{FileSink, RecordWriter};
use crate::feed::snapshot::{SnapshotFetcher, SnapshotOptions};
use crate::latency::{ClockOffset, Measurement, Recorder};
use crate::net::{Connector, Endpoint, Incoming, Link};
use crate::runtime::{Actor, Ctx, SendError, Tx};
pub use crate::types::TradeEvent;
use crate::types::{Instrument, InstrumentId, TradeId, TradePrint, UnixNanos, VenueId};
use crate::venue::md::{
    ConnectPlan, HandleError, Handled, Keepalive, MarketData, Publish, SyncEvent, SyncLimits,
    SyncState,
};

mod links;
mod snapshots;

/// Tunables; `Default` is what production uses.
#[derive(Clone, Copy, Debug)]
pub struct FeedOptions {
    /// A connection older than this is replaced (also before the venue's own limit, when it
    /// has one, e.g. 24 h).
    pub max_connection_age: Duration,
    pub sync_limits: SyncLimits,
    pub snapshot: SnapshotOptions,
    /// Wait before asking again after a snapshot request failed (rate limits are waited out
    /// by the snapshot thread itself).
    pub snapshot_retry: Duration,
    /// Wait before asking again after a snapshot older than the buffered diffs (the venue's
    /// REST side behind its stream); it doubles with each such snapshot in a row, up to
    /// `snapshot_retry`. Asked again at once, a stream a few milliseconds ahead of the REST
    /// side spent the minute's request weight in milliseconds (24 snapshots of 1,000 levels
    /// at the weights of a venue that charges 50 a snapshot) and left the book unsynced for
    /// the rest of the minute.
    pub snapshot_too_old_wait: Duration,
    /// Frames read per `poll` before yielding to the host's other actors.
    pub max_frames_per_poll: usize,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            max_connection_age: Duration::from_secs(23 * 3600),
            sync_limits: SyncLimits::default(),
            snapshot: SnapshotOptions::default(),
            snapshot_retry: Duration::from_secs(1),
            snapshot_too_old_wait: Duration::from_millis(50),
            max_frames_per_poll: 256,
        }
    }
}

/// Everything a feed needs; built by the engine from the config.
pub struct FeedSpec {
    pub venue: VenueConfig,
    /// This venue's instruments (others are ignored).
    pub instruments: Vec<Instrument>,
    pub connector: Connector,
    /// The cache writer of each instrument the feed publishes (an instrument without one is
    /// synced but not published: `mako record`).
    pub writers: Vec<CacheWriter>,
    /// Trade subscribers (channels should be `DropNewest`, see the module docs).
    pub trades: Vec<Tx<TradeEvent>>,
    /// "Book changed" subscribers (`Conflate` channels).
    pub book_changed: Vec<Tx<InstrumentId>>,
    pub recorder: Option<Recorder>,
    pub clock_offset: Option<ClockOffset>,
    /// Every frame received and every REST snapshot is written here (`mako record`).
    pub record_to: Option<RecordWriter<FileSink>>,
    pub options: FeedOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("URL: {0}")]
    Url(#[from] crate::net::url::UrlError),
    #[error("the venue's market data: {0}")]
    Venue(String),
    #[error("starting a thread or poller: {0}")]
    Io(#[from] std::io::Error),
    #[error("the feed has no instruments on venue {0}")]
    NoInstruments(String),
}

/// Running totals, readable from any thread (Relaxed: statistics). Updated by the actor
/// when it did work, at most every few milliseconds otherwise.
#[derive(Debug, Default)]
pub struct FeedStats {
    pub frames: AtomicU64,
    pub malformed: AtomicU64,
    /// Active connection lost (closed, failed, or replaced after a `serverShutdown`).
    pub reconnects: AtomicU64,
    /// Connections established.
    pub connects: AtomicU64,
    /// Switches to a fresh connection (age or `serverShutdown`) without a drop.
    pub rotations: AtomicU64,
    /// Books thrown away and synced again (all causes, summed over instruments).
    pub resyncs: AtomicU64,
    /// Sequence gaps in the diff stream (summed over instruments).
    pub gaps: AtomicU64,
    /// Venue checksums compared with the local books, and the mismatches among them
    /// (summed over instruments; venues that publish none leave both at 0).
    pub checksums_verified: AtomicU64,
    pub checksum_mismatches: AtomicU64,
    pub snapshot_requests: AtomicU64,
    pub snapshots_applied: AtomicU64,
    pub snapshot_failures: AtomicU64,
    pub trades: AtomicU64,
    /// Trades a full `Backpressure` trade channel handed back (dropped).
    pub trades_dropped: AtomicU64,
    pub record_errors: AtomicU64,
    /// Instruments whose book is live.
    pub books_live: AtomicU64,
    /// Books and tops written to the book cache (what strategies read), and invalidations
    /// written there.
    pub publishes: AtomicU64,
    pub invalidations: AtomicU64,
    /// 1 while the active connection is up.
    pub connected: AtomicU64,
}

/// One connection slot.
struct Slot {
    link: Link,
    token: Token,
    registered: bool,
    /// mio said readable and we have not read to `WouldBlock` since (mio is edge-triggered).
    readable: bool,
    up_since: UnixNanos,
}

/// Per-instrument state beside the handler's `BookSync`.
struct BookSlot {
    id: InstrumentId,
    writer: Option<CacheWriter>,
    snapshot_in_flight: bool,
    snapshot_retry_at: UnixNanos,
    last_trade_id: Option<TradeId>,
    last_event: UnixNanos,
    /// The newest bookTicker published as the top (`update_id` 0: none since the last
    /// invalidation). A depth publish older than it is followed by this top again.
    ticker: TopOfBook,
    /// A book or top was written to the cache at least once (strategies could read it).
    published: bool,
    /// Snapshots in a row that were older than the buffered diffs.
    too_old: u32,
}

pub struct FeedActor<M: MarketData> {
    name: String,
    venue: VenueId,
    handler: M,
    /// The venue's connection plan (URL, subscribe frames, keepalive).
    plan: ConnectPlan,
    /// The keepalive text was sent and no answer has come yet (since then).
    ping_sent_at: Option<UnixNanos>,
    /// When the active connection last delivered anything.
    last_rx: UnixNanos,
    slots: [Slot; 2],
    active: usize,
    /// The spare was asked to connect and will take over on its first frame.
    rotating: bool,
    poll: Poll,
    events: Events,
    snapshots: SnapshotFetcher,
    books: Vec<BookSlot>,
    /// `books` index per `InstrumentId.0` (`u32::MAX`: not this feed's).
    book_index: Vec<u32>,
    trades: Vec<Tx<TradeEvent>>,
    book_changed: Vec<Tx<InstrumentId>>,
    recorder: Option<Recorder>,
    clock_offset: Option<ClockOffset>,
    record: Option<RecordWriter<FileSink>>,
    snapshot_line: Vec<u8>,
    options: FeedOptions,
    stats: Arc<FeedStats>,
    next_stats: UnixNanos,
    reconnects: u64,
    rotations: u64,
    snapshot_requests: u64,
    snapshots_applied: u64,
    snapshot_failures: u64,
    publishes: u64,
    invalidations: u64,
    trades_sent: u64,
    trades_dropped: u64,
    record_errors: u64,
}

impl<M: MarketData> FeedActor<M> {
    /// Builds the feed and starts its connector and snapshot threads (nothing connects
    /// before the first `poll`).
    pub fn new(spec: FeedSpec, handler: M) -> Result<Self, FeedError> {
        Self::build(spec, handler, true)
    }

    /// A feed for replays: frames are handed to [`on_frame`](Self::on_frame) directly, so no
    /// connector or snapshot thread is started and nothing ever connects (a snapshot the
    /// venue's rule asks for comes from the recording, or not at all).
    pub fn offline(spec: FeedSpec, handler: M) -> Result<Self, FeedError> {
        Self::build(spec, handler, false)
    }

    fn build(spec: FeedSpec, handler: M, online: bool) -> Result<Self, FeedError> {
        let FeedSpec {
            venue,
            instruments,
            connector,
            writers,
            trades,
            book_changed,
            recorder,
            clock_offset,
            record_to,
            options,
        } = spec;
        let mine: Vec<&Instrument> = instruments.iter().filter(|i| i.venue == venue.id).collect();
        if mine.is_empty() {
            return Err(FeedError::NoInstruments(venue.name.clone()));
        }
        let plan = handler.connect_plan(&venue.ws_url);
        let endpoint = Endpoint::parse(&plan.url)?;
        let name = format!("feed:{}", venue.name);
        let slot = |n: usize| -> Result<Slot, FeedError> {
            let mut link = if online {
                Link::new(
                    connector.clone(),
                    endpoint.clone(),
                    &format!("{}-{n}", venue.name),
                )?
            } else {
                Link::idle(endpoint.clone())
            };
            if n == 1 {
                link.park();
            }
            Ok(Slot {
                link,
                token: Token(n),
                registered: false,
                readable: false,
                up_since: UnixNanos::ZERO,
            })
        };
        let slots = [slot(0)?, slot(1)?];
        let snap_requests: Vec<(InstrumentId, String, u32)> = mine
            .iter()
            .filter_map(|i| {
                let (path, weight) = handler.snapshot_request(i.id, options.snapshot.limit)?;
                Some((i.id, path, weight))
            })
            .collect();
        let snapshots = if online {
            SnapshotFetcher::spawn(
                &venue.name,
                &venue.rest_url,
                &snap_requests,
                options.snapshot,
            )?
        } else {
            SnapshotFetcher::idle()
        };
        let mut writers: Vec<Option<CacheWriter>> = writers.into_iter().map(Some).collect();
        let max_id = mine.iter().map(|i| i.id.0 as usize).max().unwrap_or(0);
        let mut book_index = vec![u32::MAX; max_id + 1];
        let books = mine
            .iter()
            .enumerate()
            .map(|(k, i)| {
                book_index[i.id.0 as usize] = k as u32;
                let writer = writers
                    .iter_mut()
                    .find(|w| w.as_ref().is_some_and(|w| w.instrument() == i.id))
                    .and_then(Option::take);
                BookSlot {
                    id: i.id,
                    writer,
                    snapshot_in_flight: false,
                    snapshot_retry_at: UnixNanos::ZERO,
                    last_trade_id: None,
                    last_event: UnixNanos::ZERO,
                    ticker: TopOfBook::default(),
                    published: false,
                    too_old: 0,
                }
            })
            .collect();
        Ok(Self {
            name,
            venue: venue.id,
            handler,
            plan,
            ping_sent_at: None,
            last_rx: UnixNanos::ZERO,
            slots,
            active: 0,
            rotating: false,
            poll: Poll::new()?,
            events: Events::with_capacity(8),
            snapshots,
            books,
            book_index,
            trades,
            book_changed,
            recorder,
            clock_offset,
            record: record_to,
            snapshot_line: Vec::with_capacity(1 << 16),
            options,
            stats: Arc::new(FeedStats::default()),
            next_stats: UnixNanos::ZERO,
            reconnects: 0,
            rotations: 0,
            snapshot_requests: 0,
            snapshots_applied: 0,
            snapshot_failures: 0,
            publishes: 0,
            invalidations: 0,
            trades_sent: 0,
            trades_dropped: 0,
            record_errors: 0,
        })
    }

    /// The feed's counters, shared with whoever watches it (status, tests).
    pub fn stats(&self) -> Arc<FeedStats> {
        Arc::clone(&self.stats)
    }

    pub fn handler(&self) -> &M {
        &self.handler
    }

    #[inline]
    fn book_slot(&self, id: InstrumentId) -> Option<usize> {
        match self.book_index.get(id.0 as usize) {
            Some(&k) if k != u32::MAX => Some(k as usize),
            _ => None,
        }
    }

    /// The venue's timers (Socket.IO pings, stale snapshot-only books) on the active
    /// connection.
    fn drive_timers(&mut self, now: UnixNanos, ctx: &Ctx) -> usize {
        if !self.slots[self.active].link.is_up() {
            return 0;
        }
        let mut n = 0;
        while let Some(h) = self.handler.on_timer(now) {
            n += 1;
            self.apply(Ok(h), now, ctx);
        }
        self.send_requests(now);
        n
    }

    fn invalidate(&mut self, k: usize) {
        let b = &mut self.books[k];
        b.ticker = TopOfBook::default();
        if let Some(w) = &mut b.writer {
            w.invalidate();
            self.invalidations += 1;
        }
        for tx in &self.book_changed {
            let _ = tx.send(b.id);
        }
    }

    /// One market-data frame received at `recv`: parsed, applied to its book, published to
    /// the cache and announced, exactly as `poll` does for each frame it reads. Public so
    /// benches and replay tools can drive the feed without a socket.
    #[inline]
    pub fn on_frame(&mut self, frame: &[u8], recv: UnixNanos, ctx: &Ctx) {
        if let Some(r) = &mut self.record
            && r.write(recv, frame).is_err()
        {
            self.record_errors += 1;
        }
        let res = self.handler.on_frame(frame);
        self.apply(res, recv, ctx);
        self.publish_marks(recv);
        self.send_requests(recv);
    }

    /// One binary frame received at `recv` (compressed, on venues that compress): the venue
    /// inflates and handles it; a recording gets the text it inflated to.
    #[inline]
    pub fn on_binary_frame(&mut self, frame: &[u8], recv: UnixNanos, ctx: &Ctx) {
        let res = self.handler.on_binary(frame);
        if let Some(r) = &mut self.record
            && r.write(recv, self.handler.inflated().unwrap_or(frame))
                .is_err()
        {
            self.record_errors += 1;
        }
        self.apply(res, recv, ctx);
        self.publish_marks(recv);
        self.send_requests(recv);
    }

    /// Publishes the perpetuals' marks the last frame completed into the cache beside their
    /// books.
    #[inline]
    fn publish_marks(&mut self, recv: UnixNanos) {
        while let Some(m) = self.handler.mark_update() {
            if let Some(k) = self.book_slot(m.instrument)
                && let Some(w) = &mut self.books[k].writer
            {
                w.publish_mark(&m, recv);
            }
        }
    }

    /// Sends what the venue's book rule asked for (a snapshot request) on the active
    /// connection; a failed send loses the connection, whose successor resubscribes.
    #[inline]
    fn send_requests(&mut self, now: UnixNanos) {
        let a = self.active;
        let mut failed = None;
        while let Some(text) = self.handler.next_request() {
            let Some(conn) = self.slots[a].link.conn() else {
                continue;
            };
            if let Err(e) = conn.send_text(text).and_then(|()| conn.flush()) {
                failed = Some(e.to_string());
                break;
            }
        }
        if let Some(e) = failed {
            self.conn_lost(a, now, format!("sending a snapshot request: {e}"));
        }
    }

    /// Publishes what one frame or snapshot did.
    #[inline]
    fn apply(&mut self, res: Result<Handled, HandleError>, recv: UnixNanos, ctx: &Ctx) {
        let handled = match res {
            Ok(h) => h,
            // Counted by the handler.
            Err(_) => return,
        };
        match handled {
            Handled::Book {
                instrument,
                event_time,
                event,
            } => {
                let Some(k) = self.book_slot(instrument) else {
                    return;
                };
                if let Some(et) = event_time {
                    self.books[k].last_event = et;
                    self.record_lag(recv, et);
                }
                match event {
                    SyncEvent::SnapshotApplied { .. } => {
                        self.snapshots_applied += 1;
                        self.books[k].too_old = 0;
                    }
                    SyncEvent::SnapshotTooOld => self.snapshot_too_old(k, recv),
                    _ => {}
                }
                match handled.published() {
                    Some(Publish::Book(id)) => {
                        let b = &mut self.books[k];
                        if let (Some(w), Some(book)) = (&mut b.writer, self.handler.book(id)) {
                            w.publish(book, b.last_event, recv);
                            b.published = true;
                            self.publishes += 1;
                            // A bookTicker newer than this (batched) diff stays the top.
                            if b.ticker.update_id > book.update_id() {
                                w.publish_top(b.ticker);
                            }
                        }
                        for tx in &self.book_changed {
                            let _ = tx.send(id);
                        }
                        if let Some(r) = &mut self.recorder {
                            r.record_between(Measurement::StageBook, recv, ctx.clock.now());
                        }
                    }
                    Some(Publish::Invalid(_)) => self.invalidate(k),
                    None => {}
                }
            }
            Handled::Trade(t) => self.on_trade(t, recv),
            Handled::Trades => {
                let mut trades = std::mem::take(self.handler.trades());
                for t in trades.drain(..) {
                    self.on_trade(t, recv);
                }
                // The buffer goes back, emptied, with its capacity.
                *self.handler.trades() = trades;
            }
            // The venue closes this connection soon: open the next one now.
            Handled::ReconnectSoon => {
                if !self.rotating {
                    self.start_rotation();
                }
            }
            // The connection lost messages: every book is invalid until a new connection's
            // snapshots arrive.
            Handled::Resync => {
                for k in 0..self.books.len() {
                    self.invalidate(k);
                }
                if !self.rotating {
                    self.start_rotation();
                }
            }
            Handled::Bbo {
                instrument,
                update_id,
                bid,
                ask,
                event_time,
            } => self.on_bbo(instrument, update_id, bid, ask, event_time, recv, ctx),
            Handled::CommandReply { .. } | Handled::Pong | Handled::Ignored => {}
        }
    }

    /// One public trade: dropped if a rotation already delivered it, else sent on.
    #[inline]
    fn on_trade(&mut self, t: TradePrint, recv: UnixNanos) {
        self.record_lag(recv, t.event_time);
        let Some(k) = self.book_slot(t.instrument) else {
            return;
        };
        // After a rotation both connections may have carried the same trades.
        // Numeric ids rise with time; other ids (UUIDs) only say whether two are the
        // same trade.
        if self.books[k].last_trade_id.is_some_and(|last| {
            match (t.trade_id.as_u64(), last.as_u64()) {
                (Some(_), Some(_)) => t.trade_id <= last,
                _ => t.trade_id == last,
            }
        }) {
            return;
        }
        self.books[k].last_trade_id = Some(t.trade_id);
        let ev = TradeEvent {
            venue: self.venue,
            instrument: t.instrument,
            trade_id: t.trade_id,
            price: t.price,
            qty: t.qty,
            aggressor: t.aggressor,
            trade_time: t.trade_time,
            exchange_ts: t.event_time,
            recv_ts: recv,
        };
        self.trades_sent += 1;
        for tx in &self.trades {
            if let Err(SendError::Full(_)) = tx.send(ev) {
                self.trades_dropped += 1;
            }
        }
    }

    /// A best bid/offer is real time where a diff stream may be batched (100 ms on some venues,
    /// books 100 ms against bbo-tbt 10 ms): while the book is live, one newer than what the
    /// cache holds becomes the published top and wakes the strategies. Older or crossed ones
    /// change nothing.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn on_bbo(
        &mut self,
        instrument: InstrumentId,
        update_id: u64,
        bid: crate::book::Level,
        ask: crate::book::Level,
        event_time: Option<UnixNanos>,
        recv: UnixNanos,
        ctx: &Ctx,
    ) {
        let Some(k) = self.book_slot(instrument) else {
            return;
        };
        if self.handler.state(instrument) != Some(SyncState::Live) {
            return;
        }
        let Some(book) = self.handler.book(instrument) else {
            return;
        };
        let b = &mut self.books[k];
        if update_id <= book.update_id().max(b.ticker.update_id) || bid.price >= ask.price {
            return;
        }
        if let Some(et) = event_time {
            b.last_event = et;
        }
        let Some(w) = &mut b.writer else {
            return;
        };
        b.ticker = TopOfBook {
            bid,
            ask,
            update_id,
            // Without an event time of its own, the latest update's stands in.
            exchange_ts: b.last_event,
            recv_ts: recv,
            seq: 0,
            valid: true,
        };
        w.publish_top(b.ticker);
        b.published = true;
        self.publishes += 1;
        for tx in &self.book_changed {
            let _ = tx.send(instrument);
        }
        if let Some(r) = &mut self.recorder {
            r.record_between(Measurement::StageBook, recv, ctx.clock.now());
        }
    }

    #[inline]
    fn record_lag(&mut self, recv: UnixNanos, event: UnixNanos) {
        if let Some(r) = &mut self.recorder {
            let lag = match &self.clock_offset {
                Some(o) => o.lag_ns(recv, event),
                None => recv.since(event),
            };
            r.record(Measurement::FeedLag, lag);
        }
    }
}

impl<M: MarketData> Actor for FeedActor<M> {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), crate::runtime::StartError> {
        let now = ctx.clock.now();
        if let Some(r) = &mut self.recorder {
            r.start(now);
        }
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let now = ctx.clock.now();
        let mut n = self.drive_links(now);
        if self
            .poll
            .poll(&mut self.events, Some(Duration::ZERO))
            .is_ok()
        {
            for ev in self.events.iter() {
                if let Some(s) = self.slots.iter_mut().find(|s| s.token == ev.token()) {
                    s.readable = true;
                }
            }
        }
        let budget = self.options.max_frames_per_poll;
        // The spare first: its first frame switches over (and reads the old one dry).
        let spare = 1 - self.active;
        n += self.read_slot(spare, budget, ctx);
        n += self.read_slot(self.active, budget, ctx);
        n += self.drive_snapshots(ctx);
        let now = ctx.clock.now();
        n += self.drive_timers(now, ctx);
        if let Some(r) = &mut self.recorder {
            r.maybe_flush(now);
        }
        if n > 0 || now >= self.next_stats {
            self.publish_stats();
            self.next_stats = now.plus_nanos(10_000_000);
        }
        n
    }

    fn stop(&mut self, ctx: &mut Ctx) {
        let now = ctx.clock.now();
        for i in 0..2 {
            self.unregister(i);
            self.slots[i].link.park();
        }
        if let Some(r) = &mut self.recorder {
            r.finish(now);
        }
        if let Some(w) = self.record.take()
            && w.finish().is_err()
        {
            self.record_errors += 1;
        }
        self.publish_stats();
        // A book no strategy could ever read says so: a run that traded nothing is explained.
        for b in self
            .books
            .iter()
            .filter(|b| !b.published && b.writer.is_some())
        {
            let c = self.handler.sync_counters(b.id).unwrap_or_default();
            tracing::warn!(
                feed = %self.name,
                instrument = b.id.index(),
                state = ?self.handler.state(b.id),
                frames = self.handler.counters().frames,
                snapshot_requests = self.snapshot_requests,
                snapshots_applied = c.snapshots_applied,
                snapshots_too_old = c.snapshots_too_old,
                snapshot_failures = self.snapshot_failures,
                diffs_applied = c.diffs_applied,
                stale_dropped = c.stale_dropped,
                "this book was never published to the cache: no strategy could read it"
            );
        }
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
