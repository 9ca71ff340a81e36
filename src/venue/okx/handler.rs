//! `OkxMd`: one OKX public connection's frames → codec → the `OkxBookSync` of each
//! instrument; OKX's side of the `MarketData` seam (connect plan, subscribe frames, the text
//! keepalive, REST snapshot path).

use std::time::Duration;

use crate::book::L2Book;
use crate::types::{InstrumentId, TradePrint};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

use super::md::{InstTable, Msg, OkxMdError, OkxMdParser};
use super::sync::OkxBookSync;

impl From<OkxMdError> for HandleError {
    fn from(e: OkxMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// The market-data side of one OKX public connection.
pub struct OkxMd {
    parser: OkxMdParser,
    books: Vec<OkxBookSync>,
    limits: SyncLimits,
    counters: FeedCounters,
    /// Channels subscribed per instrument.
    channels: Vec<&'static str>,
}

impl OkxMd {
    /// A handler for `insts` (`instId`, instrument), subscribing to `bbo-tbt`, `books` and
    /// `trades`.
    pub fn new(insts: &[(&str, InstrumentId)], limits: SyncLimits) -> Self {
        let mut table = InstTable::default();
        for (s, id) in insts {
            table.insert(s, *id);
        }
        let books = table
            .iter()
            .map(|(_, id)| OkxBookSync::new(id, limits))
            .collect();
        Self {
            parser: OkxMdParser::new(table, limits.book_levels.min(4096)),
            books,
            limits,
            counters: FeedCounters::default(),
            channels: vec!["bbo-tbt", "books", "trades"],
        }
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
                StreamKind::BookTicker => "bbo-tbt",
                StreamKind::Depth => "books",
                StreamKind::Trade => "trades",
            })
            .collect();
        md
    }

    /// Adds an instrument and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, inst_id: &str, id: InstrumentId) {
        if self.parser.insts().get(inst_id).is_none() {
            self.parser.insts_mut().insert(inst_id, id);
            self.books.push(OkxBookSync::new(id, self.limits));
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn books(&self) -> &[OkxBookSync] {
        &self.books
    }

    #[inline]
    fn slot(&self, id: InstrumentId) -> Result<usize, HandleError> {
        self.books
            .iter()
            .position(|b| b.instrument() == id)
            .ok_or(HandleError::UnknownInstrument)
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&OkxBookSync> {
        self.books.iter().find(|b| b.instrument() == id)
    }

    fn dispatch(&mut self, msg: Msg) -> Result<Handled, HandleError> {
        match msg {
            Msg::Book {
                instrument,
                snapshot,
                seq,
                prev,
                checksum,
                ts,
            } => {
                let i = self.slot(instrument)?;
                let (bids, asks, canonical) =
                    (&self.parser.bids, &self.parser.asks, self.parser.canonical);
                let event = if snapshot {
                    self.counters.snapshots += 1;
                    self.books[i].on_ws_snapshot(seq, bids, asks, checksum, canonical)
                } else {
                    self.counters.depth_updates += 1;
                    self.books[i].on_update(prev, seq, bids, asks, checksum, canonical)
                };
                Ok(Handled::Book {
                    instrument,
                    event,
                    event_time: Some(ts),
                })
            }
            Msg::Bbo {
                instrument,
                bid,
                ask,
                seq,
                ts,
            } => {
                self.counters.book_tickers += 1;
                Ok(Handled::Bbo {
                    instrument,
                    update_id: seq.map_or(0, |s| s.max(0) as u64),
                    bid,
                    ask,
                    event_time: Some(ts),
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
            Msg::Notice { code: 64008 } => {
                self.counters.server_shutdowns += 1;
                Ok(Handled::ReconnectSoon)
            }
            Msg::Notice { .. } | Msg::Ignored => Ok(Handled::Ignored),
            Msg::Pong => Ok(Handled::Pong),
        }
    }
}

impl MarketData for OkxMd {
    fn venue_kind(&self) -> &'static str {
        "okx-spot"
    }

    /// `ws_base` is the public endpoint's host (`wss://ws.okx.com:8443`); a base that already
    /// names a path is used as it is.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let base = ws_base.trim_end_matches('/');
        let has_path = base
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'));
        let url = if has_path {
            base.to_owned()
        } else {
            format!("{base}/ws/v5/public")
        };
        let mut args = Vec::new();
        for (inst, _) in self.parser.insts().iter() {
            for ch in &self.channels {
                args.push(format!(r#"{{"channel":"{ch}","instId":"{inst}"}}"#));
            }
        }
        ConnectPlan {
            url,
            subscribe: vec![format!(
                r#"{{"op":"subscribe","args":[{}]}}"#,
                args.join(",")
            )],
            // OKX drops a connection 30 s after its last push: ping after 20 s of silence.
            keepalive: Keepalive::Text {
                ping: "ping",
                pong: "pong",
                idle: Duration::from_secs(20),
            },
            max_age: None,
        }
    }

    fn snapshot_request(&self, id: InstrumentId, depth: u32) -> Option<(String, u32)> {
        let inst = self.parser.insts().inst_id_of(id)?;
        Some((
            format!("/api/v5/market/books?instId={inst}&sz={}", depth.min(400)),
            1,
        ))
    }

    /// A REST book answer as a `books` snapshot push of its instrument, so that a replay of
    /// the recording routes it (the answer names no instrument).
    fn record_snapshot(&self, id: InstrumentId, body: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let inst = self.parser.insts().inst_id_of(id).unwrap_or("?");
        let data = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("data").cloned());
        match data {
            Some(data) => out.extend_from_slice(
                serde_json::json!({"arg": {"channel": "books", "instId": inst}, "action": "snapshot", "data": data})
                    .to_string()
                    .as_bytes(),
            ),
            // Not a book answer: kept as it came; the replay counts it as malformed.
            None => out.extend(
                body.trim_ascii()
                    .iter()
                    .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
            ),
        }
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        let res = match self.parser.parse(frame) {
            Ok(msg) => self.dispatch(msg),
            Err(e) => Err(e.into()),
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    fn on_snapshot(&mut self, id: InstrumentId, body: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        let res = match self.parser.parse_rest_books(body, id) {
            Ok(Msg::Book { seq, ts, .. }) => self.slot(id).map(|i| {
                self.counters.snapshots += 1;
                let event =
                    self.books[i].on_rest_snapshot(seq, &self.parser.bids, &self.parser.asks);
                Handled::Book {
                    instrument: id,
                    event,
                    event_time: Some(ts),
                }
            }),
            Ok(_) => Err(HandleError::Codec("not a book snapshot")),
            Err(e) => Err(e.into()),
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    fn on_reconnect(&mut self) {
        for b in &mut self.books {
            let _ = b.on_reconnect();
        }
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        &mut self.parser.trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books.iter().map(OkxBookSync::instrument).collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(OkxBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(OkxBookSync::state)
    }

    fn sync_counters(&self, id: InstrumentId) -> Option<SyncCounters> {
        self.sync(id).map(|b| *b.counters())
    }

    fn snapshot_requests(&self, id: InstrumentId) -> u64 {
        self.sync(id).map_or(0, OkxBookSync::snapshot_requests)
    }

    fn snapshot_wanted(&self, id: InstrumentId) -> bool {
        self.sync(id).is_some_and(OkxBookSync::snapshot_wanted)
    }

    fn counters(&self) -> &FeedCounters {
        &self.counters
    }
}
