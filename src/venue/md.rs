//! The market-data half of the venue seam: what a venue's market-data side provides to the
//! feed actor (which is written once), and the venue-neutral results it hands back.
//!
//! A venue implements [`MarketData`] as pure code (codec + book-sync rule + connection plan,
//! no I/O): the feed owns the sockets, keepalives, REST snapshot fetching, the book cache and
//! recording, and calls the venue for everything that differs between exchanges.

use std::time::Duration;

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, MarkUpdate, TradePrint, UnixNanos};

/// Whether the book may be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// No valid book: waiting for a snapshot, or for the first diff after it.
    Syncing,
    /// The book reflects every update up to `book().update_id()`.
    Live,
}

/// Why the book was thrown away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResyncReason {
    /// An update's sequence skipped past the book's: updates were missed.
    Gap,
    /// An update's sequence overlapped the book's without continuing it.
    Overlap,
    /// The venue's checksum of the top of book disagreed with the local book.
    ChecksumMismatch,
    /// The best bid reached the best ask after a diff.
    Crossed,
    /// The connection was re-established (`on_reconnect`).
    Reconnect,
}

/// What one input did. The feed publishes the book when `book_changed()` and marks it
/// invalid in the cache when `book_invalidated()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum SyncEvent {
    /// A live diff was applied.
    Applied,
    /// Held until a snapshot arrives.
    Buffered,
    /// Already contained in the book (or older than the snapshot): dropped.
    Stale,
    /// The snapshot was applied and `replayed` buffered diffs on top of it. `live` is false
    /// when no diff followed it yet (the book waits for one that straddles the snapshot).
    SnapshotApplied { replayed: u32, live: bool },
    /// The snapshot is older than the buffered diffs (or the first diff after it): a newer
    /// one is needed.
    SnapshotTooOld,
    /// A snapshot arrived while the book was live; nothing changed.
    SnapshotIgnored,
    /// The book was cleared; a fresh snapshot is needed.
    Invalidated(ResyncReason),
}

impl SyncEvent {
    /// The readable book changed: publish it.
    pub fn book_changed(self) -> bool {
        matches!(
            self,
            SyncEvent::Applied | SyncEvent::SnapshotApplied { live: true, .. }
        )
    }

    /// The book stopped being readable: mark it invalid where it is published.
    pub fn book_invalidated(self) -> bool {
        matches!(self, SyncEvent::Invalidated(_))
    }

    /// A (new) snapshot must be fetched.
    pub fn needs_snapshot(self) -> bool {
        matches!(self, SyncEvent::Invalidated(_) | SyncEvent::SnapshotTooOld)
    }
}

/// Running totals for one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncCounters {
    /// Diffs applied to the book, live or replayed from the buffer.
    pub diffs_applied: u64,
    /// Diffs put in the buffer while waiting for a snapshot.
    pub diffs_buffered: u64,
    /// Diffs dropped because the book (or snapshot) already contained them.
    pub stale_dropped: u64,
    /// Updates that skipped sequence numbers (live: the book is resynced; while buffering: the
    /// buffer restarts).
    pub gaps: u64,
    /// Updates that overlapped the previous one without continuing it.
    pub overlaps: u64,
    pub crossed: u64,
    pub reconnects: u64,
    /// Times the book was thrown away: live gaps and overlaps, checksum mismatches, crossed
    /// books, reconnects.
    pub resyncs: u64,
    pub snapshots_applied: u64,
    pub snapshots_too_old: u64,
    pub snapshots_ignored: u64,
    /// The buffer hit its limit and was restarted (a snapshot took too long).
    pub buffer_overflows: u64,
    /// Venue checksums compared with the local book, and how many of those disagreed (each
    /// mismatch also resyncs the book).
    pub checksums_verified: u64,
    pub checksum_mismatches: u64,
    /// Published checksums not compared because the message's decimals were not in their
    /// shortest form (the book keeps fixed point, from which the strings are rebuilt).
    pub checksums_unverifiable: u64,
    /// The venue restarted its sequence (e.g. OKX after maintenance: `seqId < prevSeqId`) and
    /// the book carried on from the new sequence.
    pub sequence_resets: u64,
    /// Best bid/offer messages compared with the book (Binance `bookTicker`).
    pub tickers_checked: u64,
    /// ... of which matched the book's best bid and ask, prices and quantities.
    pub tickers_agreed: u64,
    /// bookTickers that could not be compared: superseded before the book reached them,
    /// arrived after the book passed them, or dropped from a full pending queue.
    pub tickers_unchecked: u64,
}

/// Limits, fixed at construction so the hot path never grows a buffer past them.
#[derive(Clone, Copy, Debug)]
pub struct SyncLimits {
    /// Levels per side the book holds before it allocates.
    pub book_levels: usize,
    /// Diffs buffered while waiting for a snapshot before the buffer restarts.
    pub max_buffered_diffs: usize,
    /// Levels across buffered diffs before the buffer restarts.
    pub max_buffered_levels: usize,
    /// bookTickers waiting for the book to reach them.
    pub max_pending_tickers: usize,
}

impl Default for SyncLimits {
    fn default() -> Self {
        // 100 ms diffs: 600 is a minute of waiting for a snapshot.
        Self {
            book_levels: 8192,
            max_buffered_diffs: 600,
            max_buffered_levels: 200_000,
            max_pending_tickers: 64,
        }
    }
}

/// What one frame did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// A book update or snapshot went to this instrument's book.
    Book {
        instrument: InstrumentId,
        event: SyncEvent,
        /// The venue's event time of an update (for feed-lag samples); `None` for a snapshot
        /// that carries none.
        event_time: Option<UnixNanos>,
    },
    /// A best bid/offer, already checked against the book where the venue allows it.
    /// `update_id` is the book sequence it reflects (0 when the venue gives none).
    Bbo {
        instrument: InstrumentId,
        update_id: u64,
        bid: Level,
        ask: Level,
        /// The venue's event time, when the message has one.
        event_time: Option<UnixNanos>,
    },
    Trade(TradePrint),
    /// Several trades in one frame (OKX `data` arrays): read them from
    /// [`MarketData::trades`] until it is empty.
    Trades,
    /// The venue will close this connection soon: open the next one now.
    ReconnectSoon,
    /// Messages were lost on this connection and every book it carries is invalid; only a
    /// new connection (fresh subscriptions, fresh snapshots) brings them back (Coinbase,
    /// whose `sequence_num` covers the whole connection).
    Resync,
    /// The reply to a control message (subscribe).
    CommandReply {
        id: Option<u64>,
        ok: bool,
    },
    /// The answer to a text keepalive (`pong`).
    Pong,
    /// A message the feed reads nothing from (a ticker channel, a connection-count event).
    Ignored,
}

/// What the caller must do with the book cache after a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    /// Publish this instrument's book.
    Book(InstrumentId),
    /// Mark this instrument's book invalid.
    Invalid(InstrumentId),
}

impl Handled {
    /// The book cache action this frame calls for, if any.
    #[inline]
    pub fn published(self) -> Option<Publish> {
        match self {
            Handled::Book {
                instrument, event, ..
            } if event.book_changed() => Some(Publish::Book(instrument)),
            Handled::Book {
                instrument, event, ..
            } if event.book_invalidated() => Some(Publish::Invalid(instrument)),
            _ => None,
        }
    }
}

/// Why a frame could not be used. Counted by the caller, never fatal to the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error("{0}")]
    Codec(&'static str),
    #[error("message for an instrument this feed does not carry")]
    UnknownInstrument,
    #[error("depth snapshot names no symbol and no single book is waiting for one")]
    UnroutedSnapshot,
    #[error("the venue answered a request with an error: {0}")]
    Venue(String),
}

/// Per-connection totals (per-book totals are in each book's [`SyncCounters`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedCounters {
    /// Frames handed to `on_frame` / `on_snapshot`.
    pub frames: u64,
    /// Frames refused by the codec or unroutable.
    pub malformed: u64,
    pub book_tickers: u64,
    pub depth_updates: u64,
    pub trades: u64,
    pub snapshots: u64,
    pub server_shutdowns: u64,
    pub command_replies: u64,
}

/// How the feed keeps a connection alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keepalive {
    /// The server pings; the WebSocket layer answers (Binance).
    ServerPings,
    /// The venue's own timers send its keepalives through `on_timer` and `next_request`
    /// (CoinDCX's Socket.IO: the client pings every `pingInterval`, and the docs' `ping`
    /// event every 25 s).
    VenueTimers,
    /// Send this text when nothing arrived for `idle`, and expect `pong` back (OKX: `ping` →
    /// `pong` within 30 s of silence).
    Text {
        ping: &'static str,
        pong: &'static str,
        idle: Duration,
    },
}

/// Where and how to connect one market-data connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectPlan {
    /// Full WebSocket URL (Binance puts its streams here).
    pub url: String,
    /// Text frames sent right after the handshake (OKX subscribes by message).
    pub subscribe: Vec<String>,
    pub keepalive: Keepalive,
    /// Replace the connection before the venue closes it (Binance: 24 h).
    pub max_age: Option<Duration>,
}

/// The market-data side of one venue connection: codec, book sync per the venue's rule, and
/// the connection plan. Pure code; the feed actor does the I/O.
pub trait MarketData: Send + 'static {
    /// The venue's kind name (`binance-spot`, `okx-spot`), for logs.
    fn venue_kind(&self) -> &'static str;

    /// How to connect, given the venue's market-data base URL.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan;

    /// The REST path and query of a book snapshot for `id` (appended to the venue's REST
    /// base), and its request weight; `None` when the venue's books come whole over the
    /// WebSocket.
    fn snapshot_request(&self, id: InstrumentId, depth: u32) -> Option<(String, u32)>;

    /// How a REST snapshot answer of `id` is written into a recording, so that a replay can
    /// route it to its book (default: as it came).
    fn record_snapshot(&self, id: InstrumentId, body: &[u8], out: &mut Vec<u8>) {
        let _ = id;
        out.clear();
        out.extend_from_slice(body);
    }

    /// One received frame.
    fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError>;

    /// One received binary frame. Venues that compress their pushes (BitMart: raw DEFLATE)
    /// inflate it and handle the text; by default it is handled as it came.
    #[inline]
    fn on_binary(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.on_frame(frame)
    }

    /// The text the last binary frame inflated to, for recordings (which hold text lines);
    /// `None`: the frame is recorded as it came.
    fn inflated(&self) -> Option<&[u8]> {
        None
    }

    /// A control message the venue's book rule wants sent on the active connection now
    /// (BitMart's per-book snapshot request after a gap). The feed asks after every frame
    /// and sends each one until `None`.
    #[inline]
    fn next_request(&mut self) -> Option<&str> {
        None
    }

    /// A perpetual's mark, index and funding that the last frame completed (Bybit's linear
    /// `tickers`). The feed asks after every frame, publishes each one into the book cache
    /// beside its book, and asks again until `None`.
    #[inline]
    fn mark_update(&mut self) -> Option<MarkUpdate> {
        None
    }

    /// Time passed on the active connection (called on every poll with the feed's clock):
    /// venues whose keepalives run on timers queue them for [`next_request`]
    /// (Socket.IO's pings), and books that went quiet are invalidated. Returns what happened,
    /// one thing per call; the feed calls again until `None`.
    ///
    /// [`next_request`]: MarketData::next_request
    #[inline]
    fn on_timer(&mut self, now: UnixNanos) -> Option<Handled> {
        let _ = now;
        None
    }

    /// A REST snapshot answer for `id`.
    fn on_snapshot(&mut self, id: InstrumentId, body: &[u8]) -> Result<Handled, HandleError>;

    /// The connection was replaced: every book is resynced.
    fn on_reconnect(&mut self);

    /// A rotation's spare connection took over from the active one (its frames follow);
    /// venues whose sequence belongs to the connection start it again.
    fn on_connection_switch(&mut self) {}

    /// The trades of the last [`Handled::Trades`], oldest first; drained by the caller.
    fn trades(&mut self) -> &mut Vec<TradePrint>;

    /// Every instrument this connection carries, in a fixed order.
    fn instruments(&self) -> Vec<InstrumentId>;

    /// The book of `id` (readable only while its state is `Live`).
    fn book(&self, id: InstrumentId) -> Option<&L2Book>;

    fn state(&self, id: InstrumentId) -> Option<SyncState>;

    fn sync_counters(&self, id: InstrumentId) -> Option<SyncCounters>;

    /// A generation that rises each time `id` needs a fresh REST snapshot (never rises for a
    /// venue whose books come over the WebSocket).
    fn snapshot_requests(&self, id: InstrumentId) -> u64;

    /// Whether fetching `id`'s snapshot now is useful (the first update is buffered).
    fn snapshot_wanted(&self, id: InstrumentId) -> bool;

    fn counters(&self) -> &FeedCounters;
}

/// A venue's instrument name (OKX `instId`, Coinbase `product_id`) → instrument, for one
/// connection's few instruments (a linear scan of short
/// strings beats hashing here).
#[derive(Debug, Clone, Default)]
pub struct InstTable {
    entries: Vec<(Box<str>, InstrumentId)>,
}

impl InstTable {
    pub fn insert(&mut self, inst_id: &str, id: InstrumentId) {
        if self.get(inst_id).is_none() {
            self.entries.push((inst_id.into(), id));
        }
    }

    #[inline]
    pub fn get(&self, inst_id: &str) -> Option<InstrumentId> {
        self.entries
            .iter()
            .find(|(s, _)| &**s == inst_id)
            .map(|(_, id)| *id)
    }

    pub fn inst_id_of(&self, id: InstrumentId) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, i)| *i == id)
            .map(|(s, _)| &**s)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, InstrumentId)> {
        self.entries.iter().map(|(s, id)| (&**s, *id))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
