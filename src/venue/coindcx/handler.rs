//! `CoindcxMd`: one CoinDCX Socket.IO connection's frames → the Engine.IO / Socket.IO codec →
//! the event decoder → each pair's `CoindcxBookSync`; CoinDCX's side of the `MarketData`
//! seam (the `/socket.io/` URL, `join` emits as the subscribe frames, the client's pings on
//! timers, books whole over the WebSocket, marks from `currentPrices@futures@rt`).

use std::time::Duration;

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, MarkUpdate, TradePrint, UnixNanos};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncEvent, SyncLimits, SyncState,
};

use super::md::{CoindcxMdError, CoindcxMdParser, InstTable, Msg};
use super::socketio::{self, Beat, Heartbeat, Packet, SioError};
use super::sync::CoindcxBookSync;

impl From<CoindcxMdError> for HandleError {
    fn from(e: CoindcxMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

impl From<SioError> for HandleError {
    fn from(e: SioError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// The order-book depth joined (`@orderbook@20-futures`; 10, 20 and 50 are documented).
pub const BOOK_DEPTH: u32 = 20;

/// The mark-price channel (all pairs in one).
pub const CURRENT_PRICES_CHANNEL: &str = "currentPrices@futures@rt";

/// How long a book may go without a snapshot before it is marked stale, unless set with
/// [`CoindcxMd::with_stale_after`], or the venue block's `book_stale_after`. CoinDCX documents
/// no push rate; 5 s is many snapshots.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(5);

/// The path and query of the Socket.IO v2 endpoint over WebSocket.
pub const SOCKET_IO_PATH: &str = "/socket.io/?EIO=3&transport=websocket";

/// Which channels of a pair are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channels {
    pub book: bool,
    pub trades: bool,
    /// `@prices-futures` (the last traded price; read and counted, not published).
    pub prices: bool,
    /// `currentPrices@futures@rt` (marks).
    pub marks: bool,
}

impl Default for Channels {
    fn default() -> Self {
        Self {
            book: true,
            trades: true,
            prices: false,
            marks: true,
        }
    }
}

/// Socket.IO-level totals of one handler (the refused ones are also in `malformed`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SioCounters {
    pub opens: u64,
    pub connects: u64,
    /// `41` or `1` from the server: the session ended (the feed reconnects).
    pub disconnects: u64,
    /// `44` packets.
    pub server_errors: u64,
    pub pings_sent: u64,
    pub pongs: u64,
    /// Frames whose Engine.IO or Socket.IO packet type this codec does not know.
    pub unknown_packets: u64,
    /// Events this connection never joined a channel for (or does not read).
    pub unjoined_events: u64,
    /// Sessions given up because no pong came in pingInterval + pingTimeout.
    pub dead_sessions: u64,
    /// `price-change` events read.
    pub last_prices: u64,
}

/// The market-data side of one CoinDCX futures connection.
pub struct CoindcxMd {
    parser: CoindcxMdParser,
    books: Vec<CoindcxBookSync>,
    channels: Channels,
    heartbeat: Heartbeat,
    /// A keepalive the heartbeat asked for, waiting for `next_request`.
    beat: Option<&'static str>,
    /// Marks of the last `currentPrices` not yet handed to the feed (index in `parser.marks`).
    marks_left: usize,
    marks_ts: UnixNanos,
    /// The feed's latest time (from `on_timer`).
    now: Option<UnixNanos>,
    stale_after: u64,
    limits: SyncLimits,
    counters: FeedCounters,
    pub sio: SioCounters,
}

impl CoindcxMd {
    /// A handler for `pairs` (`B-BTC_USDT`, instrument) joining `channels`.
    pub fn new(pairs: &[(&str, InstrumentId)], channels: Channels, limits: SyncLimits) -> Self {
        let mut md = Self {
            parser: CoindcxMdParser::new(InstTable::default(), limits.book_levels.min(4096)),
            books: Vec::new(),
            channels,
            heartbeat: Heartbeat::default(),
            beat: None,
            marks_left: 0,
            marks_ts: UnixNanos::ZERO,
            now: None,
            stale_after: DEFAULT_STALE_AFTER.as_nanos() as u64,
            limits,
            counters: FeedCounters::default(),
            sio: SioCounters::default(),
        };
        for (p, id) in pairs {
            md.add_instrument(p, *id);
        }
        md
    }

    /// One venue's instruments (`instruments` may hold other venues' too), joining the
    /// channels of its configured streams (`bookTicker` is the top of the book channel: CoinDCX
    /// has no best bid/offer channel); marks are always joined.
    pub fn for_venue(
        venue: &crate::config::VenueConfig,
        instruments: &[crate::types::Instrument],
        limits: SyncLimits,
    ) -> Self {
        use crate::config::StreamKind;
        let mine: Vec<(&str, InstrumentId)> = instruments
            .iter()
            .filter(|i| i.venue == venue.id)
            .map(|i| (i.symbol.as_str(), i.id))
            .collect();
        let channels = Channels {
            book: venue
                .streams
                .iter()
                .any(|k| matches!(k, StreamKind::Depth | StreamKind::BookTicker)),
            trades: venue.streams.contains(&StreamKind::Trade),
            prices: false,
            marks: true,
        };
        let md = Self::new(&mine, channels, limits);
        match venue.book_stale_after {
            Some(after) => md.with_stale_after(after),
            None => md,
        }
    }

    /// Books without a snapshot for `after` are marked stale.
    pub fn with_stale_after(mut self, after: Duration) -> Self {
        self.stale_after = after.as_nanos() as u64;
        self
    }

    /// Adds a pair and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, pair: &str, id: InstrumentId) {
        if self.parser.insts().get(pair).is_none() {
            self.parser.add(pair, id);
            self.books.push(CoindcxBookSync::new(id, self.limits));
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&CoindcxBookSync> {
        self.books.iter().find(|b| b.instrument() == id)
    }

    /// The channels joined, in join order.
    pub fn channel_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (p, _) in self.parser.insts().iter() {
            if self.channels.book {
                out.push(format!("{p}@orderbook@{BOOK_DEPTH}-futures"));
            }
            if self.channels.trades {
                out.push(format!("{p}@trades-futures"));
            }
            if self.channels.prices {
                out.push(format!("{p}@prices-futures"));
            }
        }
        if self.channels.marks {
            out.push(CURRENT_PRICES_CHANNEL.to_owned());
        }
        out
    }

    #[inline]
    fn slot(&self, id: InstrumentId) -> Result<usize, HandleError> {
        self.books
            .iter()
            .position(|b| b.instrument() == id)
            .ok_or(HandleError::UnknownInstrument)
    }

    /// The Socket.IO session ended (the server's close or disconnect, or no pong): every
    /// book waits for the next session's snapshots, which the feed's new connection brings.
    fn end_session(&mut self) {
        self.marks_left = 0;
        for b in &mut self.books {
            let _: SyncEvent = b.on_reconnect();
        }
    }

    fn unjoined(&mut self) -> HandleError {
        self.sio.unjoined_events += 1;
        HandleError::Codec("event for a channel this connection never joined")
    }

    #[inline]
    fn on_event(&mut self, name: &str, args: &[u8]) -> Result<Handled, HandleError> {
        let joined = match name {
            super::md::DEPTH_SNAPSHOT => self.channels.book,
            super::md::NEW_TRADE => self.channels.trades,
            super::md::PRICE_CHANGE => self.channels.prices,
            super::md::CURRENT_PRICES => self.channels.marks,
            _ => false,
        };
        if !joined {
            return Err(self.unjoined());
        }
        match self.parser.parse(name, args)? {
            Msg::Depth {
                instrument,
                vs,
                ts_ms,
            } => {
                self.counters.snapshots += 1;
                let i = self.slot(instrument)?;
                let (bids, asks): (&[Level], &[Level]) = (&self.parser.bids, &self.parser.asks);
                let event = self.books[i].on_snapshot(vs, bids, asks, self.now);
                Ok(Handled::Book {
                    instrument,
                    event,
                    event_time: Some(UnixNanos::from_millis(ts_ms)),
                })
            }
            Msg::Trade => {
                self.counters.trades += 1;
                match self.parser.trades.first() {
                    Some(&t) => Ok(Handled::Trade(t)),
                    None => Ok(Handled::Ignored),
                }
            }
            Msg::LastPrice { .. } => {
                self.sio.last_prices += 1;
                Ok(Handled::Ignored)
            }
            Msg::Marks { ts_ms } => {
                self.marks_left = self.parser.marks.len();
                self.marks_ts = UnixNanos::from_millis(ts_ms);
                Ok(Handled::Ignored)
            }
        }
    }
}

impl MarketData for CoindcxMd {
    fn venue_kind(&self) -> &'static str {
        "coindcx-futures"
    }

    /// `ws_base` is the stream host (`wss://stream.coindcx.com`); the Socket.IO path and
    /// query are added unless the base already names a path.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let base = ws_base.trim_end_matches('/');
        let has_path = base
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'));
        let url = if has_path {
            base.to_owned()
        } else {
            format!("{base}{SOCKET_IO_PATH}")
        };
        ConnectPlan {
            url,
            subscribe: self
                .channel_names()
                .iter()
                .map(|c| socketio::join(c))
                .collect(),
            keepalive: Keepalive::VenueTimers,
            max_age: None,
        }
    }

    fn snapshot_request(&self, _id: InstrumentId, _depth: u32) -> Option<(String, u32)> {
        None
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        let res = match socketio::parse(frame) {
            Ok(Packet::Event { name, args }) => self.on_event(name, args),
            Ok(Packet::Open(open)) => {
                self.sio.opens += 1;
                self.heartbeat.on_open(open);
                Ok(Handled::Ignored)
            }
            Ok(Packet::Connect) => {
                self.sio.connects += 1;
                Ok(Handled::CommandReply { id: None, ok: true })
            }
            Ok(Packet::Pong) => {
                self.sio.pongs += 1;
                self.heartbeat.on_pong();
                Ok(Handled::Pong)
            }
            Ok(Packet::Ping) => {
                // EIO3 servers do not ping; a probe is answered all the same.
                self.beat = Some(socketio::EIO_PONG);
                Ok(Handled::Ignored)
            }
            Ok(Packet::Close | Packet::Disconnect) => {
                self.sio.disconnects += 1;
                self.end_session();
                Ok(Handled::Resync)
            }
            Ok(Packet::Error(_)) => {
                self.sio.server_errors += 1;
                Err(HandleError::Codec("Socket.IO error packet from the venue"))
            }
            Ok(Packet::Ack | Packet::Noop) => Ok(Handled::Ignored),
            Err(e) => {
                if matches!(
                    e,
                    SioError::UnknownEngineType(_) | SioError::UnknownSocketType(_)
                ) {
                    self.sio.unknown_packets += 1;
                }
                Err(e.into())
            }
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    #[inline]
    fn next_request(&mut self) -> Option<&str> {
        let b = self.beat.take()?;
        if b != socketio::EIO_PONG {
            self.sio.pings_sent += 1;
        }
        Some(b)
    }

    #[inline]
    fn mark_update(&mut self) -> Option<MarkUpdate> {
        if self.marks_left == 0 {
            return None;
        }
        self.marks_left -= 1;
        let (instrument, mark) = self.parser.marks[self.marks_left];
        // The sample's currentPrices carry the mark only: no index and no funding rate, so
        // the index is the mark and the rate 0 with no next funding time (see UNCONFIRMED).
        Some(MarkUpdate {
            instrument,
            mark,
            index: mark,
            funding_rate: crate::types::FundingRate::default(),
            next_funding_ms: 0,
            exchange_ts: self.marks_ts,
        })
    }

    fn on_timer(&mut self, now: UnixNanos) -> Option<Handled> {
        self.now = Some(now);
        if self.beat.is_none() {
            match self.heartbeat.tick(now) {
                Beat::Nothing => {}
                Beat::Send(frame) => self.beat = Some(frame),
                Beat::Dead => {
                    self.sio.dead_sessions += 1;
                    self.end_session();
                    return Some(Handled::Resync);
                }
            }
        }
        for b in &mut self.books {
            if let Some(event) = b.on_timer(now, self.stale_after) {
                return Some(Handled::Book {
                    instrument: b.instrument(),
                    event,
                    event_time: None,
                });
            }
        }
        None
    }

    fn on_snapshot(&mut self, _id: InstrumentId, _body: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        self.counters.malformed += 1;
        Err(HandleError::Codec(
            "CoinDCX books come from depth-snapshot events, not REST",
        ))
    }

    fn on_reconnect(&mut self) {
        self.heartbeat.reset();
        self.beat = None;
        self.parser.reset();
        self.end_session();
    }

    fn on_connection_switch(&mut self) {
        // The new connection has its own Engine.IO session and timers.
        self.heartbeat.reset();
        self.beat = None;
        self.parser.reset();
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        &mut self.parser.trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books.iter().map(CoindcxBookSync::instrument).collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(CoindcxBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(CoindcxBookSync::state)
    }

    fn sync_counters(&self, id: InstrumentId) -> Option<SyncCounters> {
        self.sync(id).map(|b| *b.counters())
    }

    fn snapshot_requests(&self, _id: InstrumentId) -> u64 {
        0
    }

    fn snapshot_wanted(&self, _id: InstrumentId) -> bool {
        false
    }

    fn counters(&self) -> &FeedCounters {
        &self.counters
    }
}

#[cfg(test)]
mod config_tests {
    //! The venue block's `book_stale_after`, from the TOML to the handler.

    use std::path::Path;
    use std::time::Duration;

    use super::*;

    const DEMO: &str = include_str!("../../../config/grid-coindcx-delta-demo.toml");

    /// The demo with its CoinDCX block's stale time set to `value`, and `extra` after the
    /// Delta block's kind line.
    fn demo(value: &str, extra: &str) -> String {
        DEMO.replace(
            "book_stale_after = \"5s\"",
            &format!("book_stale_after = {value}"),
        )
        .replace(
            "kind = \"delta-india\"\n",
            &format!("kind = \"delta-india\"\n{extra}"),
        )
    }

    fn errors(text: &str) -> Vec<String> {
        match crate::config::parse(text, Path::new("demo.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|e| e.path.clone()).collect(),
        }
    }

    #[test]
    fn book_stale_after_is_read_from_the_venue_block_and_used_by_the_handler() {
        let c = crate::config::parse(&demo("\"1500ms\"", ""), Path::new("demo.toml"))
            .expect("the demo with the key parses");
        let v = c.venues.iter().find(|v| v.name == "coindcx").unwrap();
        assert_eq!(v.book_stale_after, Some(Duration::from_millis(1500)));
        let delta = c.venues.iter().find(|v| v.name == "delta").unwrap();
        assert_eq!(delta.book_stale_after, None);
        let md = CoindcxMd::for_venue(v, &c.instruments, SyncLimits::default());
        assert_eq!(md.stale_after, 1_500_000_000);
        // Without the key: the codec's default.
        let mut plain = v.clone();
        plain.book_stale_after = None;
        let md = CoindcxMd::for_venue(&plain, &c.instruments, SyncLimits::default());
        assert_eq!(md.stale_after, DEFAULT_STALE_AFTER.as_nanos() as u64);
    }

    #[test]
    fn book_stale_after_must_be_positive_and_is_for_coindcx_only() {
        assert_eq!(errors(&demo("\"0s\"", "")), ["venues[0].book_stale_after"]);
        assert_eq!(errors(&demo("\"5\"", "")), ["venues[0].book_stale_after"]);
        assert_eq!(
            errors(&demo("\"5s\"", "book_stale_after = \"5s\"\n")),
            ["venues[1].book_stale_after"]
        );
        assert!(errors(&demo("\"5s\"", "")).is_empty());
    }
}
