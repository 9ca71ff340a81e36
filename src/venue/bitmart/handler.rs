//! `BitmartMd`: one BitMart spot market-data connection's frames → inflater (binary frames)
//! → codec → the `BitmartBookSync` of each symbol; BitMart's side of the `MarketData` seam
//! (subscribe messages of at most 20 topics, the text `ping` keepalive, books whole over the
//! WebSocket, and a per-book snapshot request on the same connection when a book loses its
//! version chain).

use std::time::Duration;

use crate::book::L2Book;
use crate::types::{InstrumentId, TradePrint, UnixNanos};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

use super::inflate::Inflater;
use super::md::{BitmartMdError, BitmartMdParser, DEPTH_CHANNEL, InstTable, Msg};
use super::sync::{BitmartBookSync, Want};

impl From<BitmartMdError> for HandleError {
    fn from(e: BitmartMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// The channels a connection subscribes to, per symbol.
const DEFAULT_CHANNELS: [&str; 3] = [DEPTH_CHANNEL, "spot/ticker", "spot/trade"];

/// BitMart takes at most 20 topics per subscribe message (exchanges.md §5.6).
const TOPICS_PER_MESSAGE: usize = 20;

/// The public endpoint's path (the compressed one; the docs name no other for spot).
const PUBLIC_PATH: &str = "/api?protocol=1.1";

/// The market-data side of one BitMart connection.
pub struct BitmartMd {
    parser: BitmartMdParser,
    inflater: Inflater,
    /// Whether the last binary frame inflated (what `inflated` hands a recording).
    inflated_ok: bool,
    books: Vec<BitmartBookSync>,
    /// `{"op":"request",…}` of each book, built once.
    requests: Vec<String>,
    /// Books whose snapshot request waits to be sent (indices into `books`).
    pending: Vec<usize>,
    limits: SyncLimits,
    counters: FeedCounters,
    /// Messages taken, across connections: the books' and tickers' update ids.
    stamp: u64,
    /// Snapshot requests handed to the feed, and connections given up on because one went
    /// unanswered.
    pub snapshot_requests: u64,
    pub abandoned: u64,
    channels: Vec<&'static str>,
}

impl BitmartMd {
    /// A handler for `symbols` (`BTC_USDT`, instrument), subscribing to the incremental
    /// depth, the ticker and trades.
    pub fn new(symbols: &[(&str, InstrumentId)], limits: SyncLimits) -> Self {
        let mut table = InstTable::default();
        for (s, id) in symbols {
            table.insert(s, *id);
        }
        let mut md = Self {
            parser: BitmartMdParser::new(InstTable::default(), limits.book_levels.min(4096)),
            inflater: Inflater::new(),
            inflated_ok: false,
            books: Vec::new(),
            requests: Vec::new(),
            pending: Vec::new(),
            limits,
            counters: FeedCounters::default(),
            stamp: 0,
            snapshot_requests: 0,
            abandoned: 0,
            channels: DEFAULT_CHANNELS.to_vec(),
        };
        for (s, id) in table.iter() {
            md.add_instrument(s, id);
        }
        md
    }

    /// One venue's instruments (`instruments` may hold other venues' too), subscribing to
    /// the channels of its configured streams.
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
        md.channels = venue
            .streams
            .iter()
            .map(|k| match k {
                StreamKind::BookTicker => "spot/ticker",
                StreamKind::Depth => DEPTH_CHANNEL,
                StreamKind::Trade => "spot/trade",
            })
            .collect();
        md
    }

    /// Adds a symbol and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, symbol: &str, id: InstrumentId) {
        if self.parser.insts().get(symbol).is_none() {
            self.parser.add(symbol, id);
            self.books.push(BitmartBookSync::new(id, self.limits));
            self.requests.push(
                serde_json::json!({"op": "request", "args": [format!("{DEPTH_CHANNEL}:{symbol}")]})
                    .to_string(),
            );
            self.pending.reserve(1);
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&BitmartBookSync> {
        self.books.iter().find(|b| b.instrument() == id)
    }

    #[inline]
    fn slot(&self, id: InstrumentId) -> Result<usize, HandleError> {
        self.books
            .iter()
            .position(|b| b.instrument() == id)
            .ok_or(HandleError::UnknownInstrument)
    }

    fn dispatch(&mut self, msg: Msg) -> Result<Handled, HandleError> {
        match msg {
            Msg::Depth => {
                let mut last = Handled::Ignored;
                for k in 0..self.parser.events.len() {
                    let e = self.parser.events[k];
                    let i = self.slot(e.instrument)?;
                    self.stamp += 1;
                    let bids = &self.parser.bids[e.bids.0..e.bids.1];
                    let asks = &self.parser.asks[e.asks.0..e.asks.1];
                    let (event, want) = if e.snapshot {
                        self.counters.snapshots += 1;
                        self.books[i].on_snapshot(self.stamp, e.version, bids, asks)
                    } else {
                        self.counters.depth_updates += 1;
                        self.books[i].on_update(self.stamp, e.version, bids, asks)
                    };
                    match want {
                        Want::Nothing => {}
                        Want::Snapshot => {
                            if !self.pending.contains(&i) {
                                self.pending.push(i);
                            }
                        }
                        Want::NewConnection => {
                            self.abandoned += 1;
                            self.pending.clear();
                            for b in &mut self.books {
                                let _ = b.on_abandoned();
                            }
                            return Ok(Handled::Resync);
                        }
                    }
                    last = Handled::Book {
                        instrument: e.instrument,
                        event,
                        event_time: (!e.snapshot).then(|| UnixNanos::from_millis(e.ms)),
                    };
                }
                Ok(last)
            }
            Msg::Ticker {
                instrument,
                bid,
                ask,
                ms,
            } => {
                self.counters.book_tickers += 1;
                self.stamp += 1;
                Ok(Handled::Bbo {
                    instrument,
                    update_id: self.stamp,
                    bid,
                    ask,
                    event_time: Some(UnixNanos::from_millis(ms)),
                })
            }
            Msg::Trades => {
                self.counters.trades += self.parser.trades.len() as u64;
                Ok(Handled::Trades)
            }
            Msg::Event { ok } => {
                self.counters.command_replies += 1;
                Ok(Handled::CommandReply { id: None, ok })
            }
            Msg::Pong => Ok(Handled::Pong),
            Msg::Other => Ok(Handled::Ignored),
        }
    }

    #[inline]
    fn handle_text(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        let res = match self.parser.parse(frame) {
            Ok(msg) => self.dispatch(msg),
            Err(e) => Err(e.into()),
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }
}

impl MarketData for BitmartMd {
    fn venue_kind(&self) -> &'static str {
        "bitmart-spot"
    }

    /// `ws_base` is the public host (`wss://ws-manager-compress.bitmart.com`), to which the
    /// public path `/api?protocol=1.1` is added; a base that already names a path is used as
    /// it is. Subscribes of at most 20 topics each.
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
        let mut topics = Vec::new();
        for (sym, _) in self.parser.insts().iter() {
            for ch in &self.channels {
                topics.push(format!("{ch}:{sym}"));
            }
        }
        let subscribe = topics
            .chunks(TOPICS_PER_MESSAGE)
            .map(|c| serde_json::json!({"op": "subscribe", "args": c}).to_string())
            .collect();
        ConnectPlan {
            url,
            subscribe,
            // BitMart closes a connection that received nothing for 20 s and answers only
            // the text ping (not WebSocket pings): ping after 10 s of silence.
            keepalive: Keepalive::Text {
                ping: "ping",
                pong: "pong",
                idle: Duration::from_secs(10),
            },
            max_age: None,
        }
    }

    fn snapshot_request(&self, _id: InstrumentId, _depth: u32) -> Option<(String, u32)> {
        None
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        self.handle_text(frame)
    }

    /// A compressed push: inflated into the connection's kept buffer, then decoded.
    #[inline]
    fn on_binary(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        // The inflated text is read out of the inflater while the parser copies it.
        let text = match self.inflater.inflate(frame) {
            Ok(t) => t,
            Err(_) => {
                self.inflated_ok = false;
                self.counters.malformed += 1;
                return Err(HandleError::Codec("compressed frame does not inflate"));
            }
        };
        self.inflated_ok = true;
        let res = match self.parser.parse(text) {
            Ok(msg) => self.dispatch(msg),
            Err(e) => Err(e.into()),
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    fn inflated(&self) -> Option<&[u8]> {
        self.inflated_ok.then(|| self.inflater.last())
    }

    #[inline]
    fn next_request(&mut self) -> Option<&str> {
        let i = self.pending.pop()?;
        self.snapshot_requests += 1;
        Some(&self.requests[i])
    }

    fn on_snapshot(&mut self, _id: InstrumentId, _body: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        self.counters.malformed += 1;
        Err(HandleError::Codec(
            "BitMart books come from spot/depth/increase100, not REST",
        ))
    }

    fn on_reconnect(&mut self) {
        self.pending.clear();
        for b in &mut self.books {
            let _ = b.on_reconnect();
        }
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        &mut self.parser.trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books.iter().map(BitmartBookSync::instrument).collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(BitmartBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(BitmartBookSync::state)
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
