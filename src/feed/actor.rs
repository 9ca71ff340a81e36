//! `FeedActor`: the network half of a Binance Spot market-data feed. It owns the combined
//! stream connection(s) on its own `mio::Poll`, drives `SpotMdHandler`, publishes every book
//! change to the book cache, fetches depth snapshots off-thread, reconnects with backoff and
//! rotates its connection before the venue's 24 h limit.
//!
//! **Connections.** Two `Link` slots, each with its connector thread. One is active; the
//! other is parked until rotation (connection older than `max_connection_age`, or a
//! `serverShutdown` notice) connects it. The spare takes over when its first frame arrives:
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
use crate::config::{StreamKind, VenueConfig};
use crate::feed::handler::{HandleError, Handled, Publish, SpotMdHandler};
use crate::feed::record::{FileSink, RecordWriter, snapshot_frame};
use crate::feed::snapshot::{SnapshotFetcher, SnapshotOptions};
use crate::feed::sync::{SyncEvent, SyncLimits, SyncState};
use crate::latency::{ClockOffset, Measurement, Recorder};
use crate::net::{Connector, Endpoint, Incoming, Link};
use crate::runtime::{Actor, Ctx, SendError, Tx};
use crate::types::{Instrument, InstrumentId, Price, Qty, Side, UnixNanos, VenueId};
use crate::venue::binance::md::{BookTicker, TimeUnit};
use crate::venue::binance::symbols::SymbolTable;

/// A public trade, as the feed hands it to strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeEvent {
    pub venue: VenueId,
    pub instrument: InstrumentId,
    pub trade_id: u64,
    pub price: Price,
    pub qty: Qty,
    /// The aggressor's side (Binance's `m` = buyer is maker → the seller aggressed).
    pub aggressor: Side,
    pub trade_time: UnixNanos,
    /// The venue's event time.
    pub exchange_ts: UnixNanos,
    pub recv_ts: UnixNanos,
}

/// Tunables; `Default` is what production uses.
#[derive(Clone, Copy, Debug)]
pub struct FeedOptions {
    /// A connection older than this is replaced (Binance closes them at 24 h).
    pub max_connection_age: Duration,
    pub sync_limits: SyncLimits,
    pub snapshot: SnapshotOptions,
    /// Wait before asking again after a snapshot request failed (rate limits are waited out
    /// by the snapshot thread itself).
    pub snapshot_retry: Duration,
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
    #[error("symbol: {0}")]
    Symbol(#[from] crate::venue::binance::symbols::SymbolError),
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
    pub snapshot_requests: AtomicU64,
    pub snapshots_applied: AtomicU64,
    pub snapshot_failures: AtomicU64,
    pub trades: AtomicU64,
    /// Trades a full `Backpressure` trade channel handed back (dropped).
    pub trades_dropped: AtomicU64,
    pub record_errors: AtomicU64,
    /// Instruments whose book is live.
    pub books_live: AtomicU64,
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
    last_trade_id: Option<u64>,
    last_event: UnixNanos,
    /// The newest bookTicker published as the top (`update_id` 0: none since the last
    /// invalidation). A depth publish older than it is followed by this top again.
    ticker: TopOfBook,
}

pub struct FeedActor {
    name: String,
    venue: VenueId,
    handler: SpotMdHandler,
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
    trades_sent: u64,
    trades_dropped: u64,
    record_errors: u64,
}

/// The combined-stream URL for `symbols` and `streams`:
/// `{ws_url}/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@trade/...`.
pub fn stream_url(ws_url: &str, symbols: &[&str], streams: &[StreamKind]) -> String {
    let mut names = Vec::new();
    for s in symbols {
        let s = s.to_ascii_lowercase();
        for k in streams {
            names.push(match k {
                StreamKind::BookTicker => format!("{s}@bookTicker"),
                StreamKind::Depth => format!("{s}@depth@100ms"),
                StreamKind::Trade => format!("{s}@trade"),
            });
        }
    }
    format!(
        "{}/stream?streams={}",
        ws_url.trim_end_matches('/'),
        names.join("/")
    )
}

impl FeedActor {
    /// Builds the feed and starts its connector and snapshot threads (nothing connects
    /// before the first `poll`).
    pub fn new(spec: FeedSpec) -> Result<Self, FeedError> {
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
        let mut table = SymbolTable::new();
        for i in &mine {
            table.insert(&i.symbol, i.id)?;
        }
        let symbols: Vec<&str> = mine.iter().map(|i| i.symbol.as_str()).collect();
        let endpoint = Endpoint::parse(&stream_url(&venue.ws_url, &symbols, &venue.streams))?;
        let name = format!("feed:{}", venue.name);
        let slot = |n: usize| -> Result<Slot, FeedError> {
            let mut link = Link::new(
                connector.clone(),
                endpoint.clone(),
                &format!("{}-{n}", venue.name),
            )?;
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
        let snap_symbols: Vec<(InstrumentId, String)> =
            mine.iter().map(|i| (i.id, i.symbol.clone())).collect();
        let snapshots = SnapshotFetcher::spawn(
            &venue.name,
            &venue.rest_url,
            &snap_symbols,
            options.snapshot,
        )?;
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
                }
            })
            .collect();
        Ok(Self {
            name,
            venue: venue.id,
            handler: SpotMdHandler::new(table, TimeUnit::Millis, options.sync_limits),
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
            trades_sent: 0,
            trades_dropped: 0,
            record_errors: 0,
        })
    }

    /// The feed's counters, shared with whoever watches it (status, tests).
    pub fn stats(&self) -> Arc<FeedStats> {
        Arc::clone(&self.stats)
    }

    pub fn handler(&self) -> &SpotMdHandler {
        &self.handler
    }

    #[inline]
    fn book_slot(&self, id: InstrumentId) -> Option<usize> {
        match self.book_index.get(id.0 as usize) {
            Some(&k) if k != u32::MAX => Some(k as usize),
            _ => None,
        }
    }

    /// Connects, hands over, and starts rotations. Returns work done.
    fn drive_links(&mut self, now: UnixNanos) -> usize {
        let mut n = 0;
        for i in 0..2 {
            if self.slots[i].link.poll(now) {
                n += 1;
                self.on_up(i, now);
            }
        }
        let a = self.active;
        let age = now.since(self.slots[a].up_since);
        if !self.rotating
            && self.slots[a].link.is_up()
            && age >= self.options.max_connection_age.as_nanos() as u64
        {
            self.start_rotation();
        }
        n
    }

    fn start_rotation(&mut self) {
        let spare = 1 - self.active;
        if self.slots[spare].link.is_parked() {
            self.slots[spare].link.connect_now();
            self.rotating = true;
        }
    }

    fn on_up(&mut self, i: usize, now: UnixNanos) {
        self.stats.connects.fetch_add(1, Relaxed);
        if i != self.active && !self.rotating {
            // A spare nobody waits for any more (its rotation was overtaken by a drop).
            self.slots[i].link.park();
            return;
        }
        let token = self.slots[i].token;
        let Some(conn) = self.slots[i].link.conn() else {
            return;
        };
        let fd = conn.raw_fd();
        match self
            .poll
            .registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
        {
            Ok(()) => {
                let s = &mut self.slots[i];
                s.registered = true;
                // Bytes may already sit in the TLS or WebSocket buffers.
                s.readable = true;
                s.up_since = now;
            }
            Err(e) => self.conn_lost(i, now, format!("registering with the poller: {e}")),
        }
    }

    fn unregister(&mut self, i: usize) {
        let s = &mut self.slots[i];
        if s.registered {
            if let Some(conn) = s.link.conn() {
                let fd = conn.raw_fd();
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            s.registered = false;
        }
        s.readable = false;
    }

    /// Slot `i`'s connection closed or failed.
    fn conn_lost(&mut self, i: usize, now: UnixNanos, why: String) {
        self.unregister(i);
        if i != self.active {
            // The spare failed: give up this rotation; the age check starts another.
            self.slots[i].link.park();
            self.rotating = false;
            return;
        }
        self.reconnects += 1;
        let spare = 1 - i;
        if self.slots[spare].link.is_up() {
            // The spare is already subscribed: it takes over; the diff chain tells whether
            // anything was missed.
            self.slots[i].link.park();
            self.active = spare;
            self.rotating = false;
            return;
        }
        self.slots[i].link.down(now, why);
        self.rotating = false;
        self.handler.on_reconnect();
        for k in 0..self.books.len() {
            self.invalidate(k);
        }
    }

    /// The spare's first frame arrived: read the old connection dry, close it, switch.
    fn promote(&mut self, spare: usize, ctx: &Ctx) {
        let old = self.active;
        // Read to `WouldBlock` whether or not mio has reported the latest bytes yet.
        self.slots[old].readable = self.slots[old].registered;
        self.read_slot(old, usize::MAX, ctx);
        if self.active == old {
            self.unregister(old);
            self.slots[old].link.park();
            self.active = spare;
        }
        self.rotating = false;
        self.rotations += 1;
    }

    fn invalidate(&mut self, k: usize) {
        let b = &mut self.books[k];
        b.ticker = TopOfBook::default();
        if let Some(w) = &mut b.writer {
            w.invalidate();
        }
        for tx in &self.book_changed {
            let _ = tx.send(b.id);
        }
    }

    /// Reads up to `budget` frames from slot `i`.
    fn read_slot(&mut self, i: usize, budget: usize, ctx: &Ctx) -> usize {
        let mut n = 0;
        while n < budget && self.slots[i].readable {
            let Some(conn) = self.slots[i].link.conn() else {
                break;
            };
            let msg = conn.read();
            let now = ctx.clock.now();
            match msg {
                Ok(Some(Incoming::Text(t))) => {
                    n += 1;
                    if i != self.active {
                        self.promote(i, ctx);
                    }
                    self.on_frame(t.as_bytes(), now, ctx);
                }
                Ok(Some(Incoming::Binary(b))) => {
                    n += 1;
                    if i != self.active {
                        self.promote(i, ctx);
                    }
                    self.on_frame(&b, now, ctx);
                }
                Ok(Some(Incoming::Ping | Incoming::Pong)) => n += 1,
                Ok(Some(Incoming::Close(code))) => {
                    self.conn_lost(i, now, format!("venue closed the connection ({code:?})"));
                    break;
                }
                Ok(None) => self.slots[i].readable = false,
                Err(e) => {
                    self.conn_lost(i, now, e.to_string());
                    break;
                }
            }
        }
        n
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
                if let SyncEvent::SnapshotApplied { .. } = event {
                    self.snapshots_applied += 1;
                }
                match handled.published() {
                    Some(Publish::Book(id)) => {
                        let b = &mut self.books[k];
                        if let (Some(w), Some(book)) = (&mut b.writer, self.handler.book(id)) {
                            w.publish(book, b.last_event, recv);
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
            Handled::Trade(t) => {
                self.record_lag(recv, t.event_time);
                let Some(k) = self.book_slot(t.instrument) else {
                    return;
                };
                // After a rotation both connections may have carried the same trades.
                if self.books[k]
                    .last_trade_id
                    .is_some_and(|last| t.trade_id <= last)
                {
                    return;
                }
                self.books[k].last_trade_id = Some(t.trade_id);
                let ev = TradeEvent {
                    venue: self.venue,
                    instrument: t.instrument,
                    trade_id: t.trade_id,
                    price: t.price,
                    qty: t.qty,
                    aggressor: if t.buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
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
            // Binance closes this connection soon: open the next one now.
            Handled::ServerShutdown => {
                if !self.rotating {
                    self.start_rotation();
                }
            }
            Handled::BookTicker(t) => self.on_ticker(t, recv, ctx),
            Handled::CommandReply { .. } => {}
        }
    }

    /// A bookTicker is real time where the diff stream is batched (100 ms): while the book is
    /// live, a ticker newer than what the cache holds becomes the published top and wakes the
    /// strategies. Older or crossed tickers change nothing.
    #[inline]
    fn on_ticker(&mut self, t: BookTicker, recv: UnixNanos, ctx: &Ctx) {
        let Some(k) = self.book_slot(t.instrument) else {
            return;
        };
        let Some(sync) = self.handler.sync(t.instrument) else {
            return;
        };
        let b = &mut self.books[k];
        if sync.state() != SyncState::Live
            || t.update_id <= sync.book().update_id().max(b.ticker.update_id)
            || t.bid.price >= t.ask.price
        {
            return;
        }
        let Some(w) = &mut b.writer else {
            return;
        };
        b.ticker = TopOfBook {
            bid: t.bid,
            ask: t.ask,
            update_id: t.update_id,
            // A bookTicker carries no event time: the latest diff's stands in.
            exchange_ts: b.last_event,
            recv_ts: recv,
            seq: 0,
            valid: true,
        };
        w.publish_top(b.ticker);
        for tx in &self.book_changed {
            let _ = tx.send(t.instrument);
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

    /// Sends wanted snapshot requests and applies the answers.
    fn drive_snapshots(&mut self, ctx: &Ctx) -> usize {
        let mut n = 0;
        while let Some(a) = self.snapshots.try_answer() {
            n += 1;
            let now = ctx.clock.now();
            let Some(k) = self.book_slot(a.instrument) else {
                continue;
            };
            self.books[k].snapshot_in_flight = false;
            match a.result {
                Ok(body) => {
                    if let Some(r) = &mut self.record {
                        let sym = self
                            .handler
                            .symbols()
                            .symbol_of(a.instrument)
                            .unwrap_or_default();
                        snapshot_frame(sym, &body, &mut self.snapshot_line);
                        if r.write(now, &self.snapshot_line).is_err() {
                            self.record_errors += 1;
                        }
                    }
                    let res = self.handler.on_snapshot(a.instrument, &body);
                    self.apply(res, now, ctx);
                }
                Err(_) => {
                    self.snapshot_failures += 1;
                    self.books[k].snapshot_retry_at =
                        now.plus_nanos(self.options.snapshot_retry.as_nanos() as u64);
                }
            }
        }
        if !self.slots[self.active].link.is_up() {
            return n;
        }
        let now = ctx.clock.now();
        for k in 0..self.books.len() {
            let b = &self.books[k];
            if b.snapshot_in_flight || now < b.snapshot_retry_at {
                continue;
            }
            let wanted = self.handler.sync(b.id).is_some_and(|s| s.snapshot_wanted());
            if wanted && self.snapshots.request(b.id) {
                self.books[k].snapshot_in_flight = true;
                self.snapshot_requests += 1;
                n += 1;
            }
        }
        n
    }

    fn publish_stats(&self) {
        let s = &self.stats;
        let c = self.handler.counters();
        s.frames.store(c.frames, Relaxed);
        s.malformed.store(c.malformed, Relaxed);
        let (mut resyncs, mut gaps, mut live) = (0, 0, 0);
        for b in self.handler.books() {
            resyncs += b.counters().resyncs;
            gaps += b.counters().gaps;
            live += u64::from(b.state() == crate::feed::sync::SyncState::Live);
        }
        s.resyncs.store(resyncs, Relaxed);
        s.gaps.store(gaps, Relaxed);
        s.books_live.store(live, Relaxed);
        s.reconnects.store(self.reconnects, Relaxed);
        s.rotations.store(self.rotations, Relaxed);
        s.snapshot_requests.store(self.snapshot_requests, Relaxed);
        s.snapshots_applied.store(self.snapshots_applied, Relaxed);
        s.snapshot_failures.store(self.snapshot_failures, Relaxed);
        s.trades.store(self.trades_sent, Relaxed);
        s.trades_dropped.store(self.trades_dropped, Relaxed);
        s.record_errors.store(self.record_errors, Relaxed);
        s.connected
            .store(u64::from(self.slots[self.active].link.is_up()), Relaxed);
    }
}

impl Actor for FeedActor {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::BookCache;
    use crate::config::{OrderTransport, VenueKind};
    use crate::runtime::{Clock, FullPolicy, Shutdown, bounded};

    fn diff(first: u64, last: u64, bid: &str) -> String {
        format!(
            r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":{first},"u":{last},"b":[["{bid}","1"]],"a":[["200","1"]]}}}}"#
        )
    }

    fn ticker(u: u64, bid: &str, ask: &str) -> String {
        format!(
            r#"{{"stream":"btcusdt@bookTicker","data":{{"u":{u},"s":"BTCUSDT","b":"{bid}","B":"1","a":"{ask}","A":"2"}}}}"#
        )
    }

    #[test]
    fn live_book_tickers_become_the_published_top_until_a_newer_diff() {
        let cache = BookCache::new(1);
        let (tx, changed) = bounded("book-changed", 64, FullPolicy::Conflate);
        let inst = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "BTCUSDT",
            "BTC",
            "USDT",
            Price::parse("0.01").unwrap(),
            Qty::parse("0.00001").unwrap(),
        )
        .unwrap();
        let mut feed = FeedActor::new(FeedSpec {
            venue: VenueConfig {
                id: VenueId(0),
                name: "binance".into(),
                kind: VenueKind::BinanceSpot,
                // Never connected: the test hands frames to `on_frame`.
                ws_url: "ws://127.0.0.1:9".into(),
                rest_url: "http://127.0.0.1:9".into(),
                ws_api_url: None,
                order_transport: OrderTransport::Rest,
                streams: vec![StreamKind::BookTicker, StreamKind::Depth],
                credentials: None,
                recv_window: Duration::from_secs(5),
                cancel_unknown_orders: false,
            },
            instruments: vec![inst],
            connector: Connector::with_public_roots(Duration::from_secs(1)).unwrap(),
            writers: vec![cache.writer(InstrumentId(0)).unwrap()],
            trades: vec![],
            book_changed: vec![tx],
            recorder: None,
            clock_offset: None,
            record_to: None,
            options: FeedOptions::default(),
        })
        .unwrap();
        let reader = cache.reader();
        let ctx = Ctx {
            clock: Clock::live(),
            shutdown: Shutdown::new(),
            host: "test",
        };
        let px = |s: &str| Price::parse(s).unwrap();
        let mut feed_in = |f: &str| {
            feed.on_frame(f.as_bytes(), UnixNanos(7), &ctx);
            let top = reader.top(InstrumentId(0));
            let announced = changed.try_recv().is_some();
            (top, announced)
        };
        // Not live yet: a ticker publishes nothing.
        let (top, announced) = feed_in(&ticker(9, "100", "150"));
        assert!(!top.valid && !announced);
        feed_in(r#"{"lastUpdateId":10,"bids":[["99","1"]],"asks":[["200","1"]]}"#);
        let (top, _) = feed_in(&diff(11, 12, "99"));
        assert!(top.valid);
        assert_eq!((top.bid.price, top.update_id), (px("99"), 12));
        // A newer ticker is the top, announced.
        let (top, announced) = feed_in(&ticker(15, "100", "150"));
        assert!(announced && top.valid);
        assert_eq!(
            (top.bid.price, top.ask.price, top.update_id, top.recv_ts),
            (px("100"), px("150"), 15, UnixNanos(7))
        );
        // An older ticker changes nothing; a crossed one neither.
        let (top, announced) = feed_in(&ticker(14, "101", "150"));
        assert!(!announced);
        assert_eq!(top.update_id, 15);
        let (top, announced) = feed_in(&ticker(16, "150", "150"));
        assert!(!announced);
        assert_eq!(top.update_id, 15);
        // A diff older than the ticker publishes depth, but the ticker stays the top.
        let (top, announced) = feed_in(&diff(13, 14, "99.5"));
        assert!(announced);
        assert_eq!((top.bid.price, top.update_id), (px("100"), 15));
        // A newer diff takes over.
        let (top, _) = feed_in(&diff(15, 16, "99.7"));
        assert_eq!(
            (top.bid.price, top.ask.price, top.update_id),
            (px("99.7"), px("200"), 16)
        );
    }

    #[test]
    fn combined_stream_url_names_every_stream_of_every_symbol() {
        let u = stream_url(
            "wss://stream.binance.com:9443/",
            &["BTCUSDT", "ethusdt"],
            &[StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade],
        );
        assert_eq!(
            u,
            "wss://stream.binance.com:9443/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/\
             btcusdt@trade/ethusdt@bookTicker/ethusdt@depth@100ms/ethusdt@trade"
        );
    }
}
