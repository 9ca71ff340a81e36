//! `CoinstoreMd`: one Coinstore spot market-data connection's frames → codec → the
//! `CoinstoreBookSync` of each symbol; Coinstore's side of the `MarketData` seam (one `SUB`
//! message of lowercase `<symbol>@depth@20` / `@trade` streams, books whole over the
//! WebSocket, the session sequence `S` watched for lost messages, a JSON pong sent on silence,
//! and the connection replaced before Coinstore's 24 h limit).

use std::time::Duration;

use crate::book::L2Book;
use crate::types::{InstrumentId, TradePrint};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

use super::md::{CoinstoreMdError, CoinstoreMdParser, InstTable, Msg};
use super::sync::{CoinstoreBookSync, SeqCheck, SessionSeq};

impl From<CoinstoreMdError> for HandleError {
    fn from(e: CoinstoreMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// Levels of the depth snapshots subscribed to (Coinstore offers 5, 10, 20, 50, 100).
pub const DEPTH_LEVELS: u32 = 20;

/// The public WebSocket's path on its host (`wss://ws.coinstore.com/s/ws`).
pub const PUBLIC_PATH: &str = "/s/ws";

/// The JSON pong Coinstore accepts unsolicited (exchanges.md §6.5), sent when the connection
/// has been silent for [`SILENCE`]. Coinstore reads it as a keepalive; the docs give
/// `epochMillis` as the client's clock, which a `&'static str` cannot carry (see
/// `super::UNCONFIRMED`).
pub const JSON_PONG: &str = r#"{"op":"pong","epochMillis":0}"#;

/// Depth snapshots come every 100 ms to 1 s: this long without any frame means the books are
/// stale. The feed sends [`JSON_PONG`], and if nothing arrives for as long again the
/// connection is dead and every book resyncs on a new one.
pub const SILENCE: Duration = Duration::from_secs(5);

/// The market-data side of one Coinstore connection.
pub struct CoinstoreMd {
    parser: CoinstoreMdParser,
    books: Vec<CoinstoreBookSync>,
    seq: SessionSeq,
    limits: SyncLimits,
    counters: FeedCounters,
    /// Messages taken, across connections: the books' update ids.
    stamp: u64,
    /// Copies dropped (`S` at or below the last), sessions that lost messages, and replies
    /// whose code was not 200.
    pub stale_messages: u64,
    pub gaps: u64,
    pub error_replies: u64,
    /// Stream suffixes subscribed per symbol (`depth@20`, `trade`).
    streams: Vec<String>,
}

impl CoinstoreMd {
    /// A handler for `symbols` (`BTCUSDT` as Coinstore's REST spells it, instrument),
    /// subscribing to the depth snapshots and trades.
    pub fn new(symbols: &[(&str, InstrumentId)], limits: SyncLimits) -> Self {
        let mut md = Self {
            parser: CoinstoreMdParser::new(InstTable::default(), limits.book_levels.min(4096)),
            books: Vec::new(),
            seq: SessionSeq::default(),
            limits,
            counters: FeedCounters::default(),
            stamp: 0,
            stale_messages: 0,
            gaps: 0,
            error_replies: 0,
            streams: vec![format!("depth@{DEPTH_LEVELS}"), "trade".into()],
        };
        for (s, id) in symbols {
            md.add_instrument(s, *id);
        }
        md
    }

    /// One venue's instruments (`instruments` may hold other venues' too), subscribing to
    /// the streams its config names. Coinstore's ticker has no bid or ask, so a configured
    /// book ticker is read off the depth snapshots.
    pub fn for_venue(
        venue: &crate::config::VenueConfig,
        instruments: &[crate::types::Instrument],
        limits: SyncLimits,
    ) -> Self {
        let mine: Vec<(&str, InstrumentId)> = instruments
            .iter()
            .filter(|i| i.venue == venue.id)
            .map(|i| (i.symbol.as_str(), i.id))
            .collect();
        let mut md = Self::new(&mine, limits);
        use crate::config::StreamKind;
        let mut streams = Vec::new();
        for k in &venue.streams {
            let s = match k {
                StreamKind::BookTicker | StreamKind::Depth => format!("depth@{DEPTH_LEVELS}"),
                StreamKind::Trade => "trade".into(),
            };
            if !streams.contains(&s) {
                streams.push(s);
            }
        }
        md.streams = streams;
        md
    }

    /// Adds a symbol and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, symbol: &str, id: InstrumentId) {
        if self.parser.insts().get(symbol).is_none() {
            self.parser.add(symbol, id);
            self.books.push(CoinstoreBookSync::new(id, self.limits));
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&CoinstoreBookSync> {
        self.books.iter().find(|b| b.instrument() == id)
    }

    /// The session sequence `S` last seen on this connection.
    pub fn last_seq(&self) -> Option<u64> {
        self.seq.last()
    }

    #[inline]
    fn slot(&self, id: InstrumentId) -> Result<usize, HandleError> {
        self.books
            .iter()
            .position(|b| b.instrument() == id)
            .ok_or(HandleError::UnknownInstrument)
    }

    fn dispatch(&mut self, seq: Option<u64>, msg: Msg) -> Result<Handled, HandleError> {
        if let Some(seq) = seq {
            match self.seq.check(seq) {
                SeqCheck::InOrder => {}
                SeqCheck::Stale => {
                    self.stale_messages += 1;
                    return Ok(Handled::Ignored);
                }
                SeqCheck::Gap { .. } => {
                    self.gaps += 1;
                    for b in &mut self.books {
                        let _ = b.on_gap();
                    }
                    // Whatever this message holds, the books wait for a new session.
                    return Ok(Handled::Resync);
                }
            }
        }
        match msg {
            Msg::Depth { instrument } => {
                let i = self.slot(instrument)?;
                self.stamp += 1;
                self.counters.snapshots += 1;
                let event =
                    self.books[i].on_snapshot(self.stamp, &self.parser.bids, &self.parser.asks);
                Ok(Handled::Book {
                    instrument,
                    event,
                    event_time: None,
                })
            }
            Msg::Trades => {
                self.counters.trades += self.parser.trades.len() as u64;
                Ok(Handled::Trades)
            }
            Msg::Reply { ok, .. } => {
                self.counters.command_replies += 1;
                if !ok {
                    self.error_replies += 1;
                }
                Ok(Handled::CommandReply { id: None, ok })
            }
            Msg::Pong => Ok(Handled::Pong),
            Msg::Other => Ok(Handled::Ignored),
        }
    }
}

impl MarketData for CoinstoreMd {
    fn venue_kind(&self) -> &'static str {
        "coinstore-spot"
    }

    /// `ws_base` is the public host (`wss://ws.coinstore.com`), to which `/s/ws` is added; a
    /// base that already names a path is used as it is. One `SUB` for every stream.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let base = ws_base.trim_end_matches('/');
        let has_path = base
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'));
        let url = if has_path {
            base.to_owned()
        } else {
            format!("{base}{PUBLIC_PATH}")
        };
        let mut channels = Vec::new();
        for (sym, _) in self.parser.insts().iter() {
            let lower = sym.to_ascii_lowercase();
            for s in &self.streams {
                channels.push(format!("{lower}@{s}"));
            }
        }
        let subscribe = if channels.is_empty() {
            Vec::new()
        } else {
            vec![serde_json::json!({"op": "SUB", "channel": channels, "id": 1}).to_string()]
        };
        ConnectPlan {
            url,
            subscribe,
            // The server pings every 3 minutes and the WebSocket layer answers; the JSON pong
            // on silence is what notices snapshots that stopped.
            keepalive: Keepalive::Text {
                ping: JSON_PONG,
                pong: "pong",
                idle: SILENCE,
            },
            // Coinstore closes a connection after 24 h.
            max_age: Some(Duration::from_secs(23 * 3600 + 50 * 60)),
        }
    }

    fn snapshot_request(&self, _id: InstrumentId, _depth: u32) -> Option<(String, u32)> {
        None
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        let res = match self.parser.parse(frame) {
            Ok(d) => self.dispatch(d.seq, d.msg),
            Err(e) => Err(e.into()),
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    fn on_snapshot(&mut self, _id: InstrumentId, _body: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        self.counters.malformed += 1;
        Err(HandleError::Codec(
            "Coinstore books come whole from depth pushes, not REST",
        ))
    }

    fn on_reconnect(&mut self) {
        self.seq.reset();
        for b in &mut self.books {
            let _ = b.on_reconnect();
        }
    }

    /// The spare connection took over: its `S` starts again; its snapshots replace the books.
    fn on_connection_switch(&mut self) {
        self.seq.reset();
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        &mut self.parser.trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books
            .iter()
            .map(CoinstoreBookSync::instrument)
            .collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(CoinstoreBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(CoinstoreBookSync::state)
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
