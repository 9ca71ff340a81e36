//! `SpotMdHandler`: one Binance Spot market-data connection's frames → codec → the
//! `BookSync` of each instrument; Binance's side of the `MarketData` seam. The live feed actor and the replay tools drive this same
//! code; it does no I/O.
//!
//! **Publishing.** `on_frame` and `on_snapshot` return what changed. This is the single place
//! the book cache hooks in: when the result's `published()` is `Some(Publish::Book(id))`, the
//! caller publishes `book(id)` to the cache; on `Some(Publish::Invalid(id))` it marks that
//! instrument's cached book invalid. Nothing else changes a book.

use crate::book::L2Book;
use crate::config::StreamKind;
use crate::types::{InstrumentId, Side, TradeId, TradePrint};
use crate::venue::binance::md::{MdError, MdEvent, MdParser, TimeUnit, Trade};
use crate::venue::binance::symbols::{SymbolError, SymbolTable};
use crate::venue::binance::sync::BookSync;
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

impl From<MdError> for HandleError {
    fn from(e: MdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// The decoded trade in the venue-neutral form (Binance's `m`: the buyer was the maker, so
/// the seller took liquidity).
#[inline]
pub fn trade_print(t: &Trade) -> TradePrint {
    TradePrint {
        instrument: t.instrument,
        trade_id: TradeId::from_u64(t.trade_id),
        price: t.price,
        qty: t.qty,
        aggressor: if t.buyer_is_maker {
            Side::Sell
        } else {
            Side::Buy
        },
        trade_time: t.trade_time,
        event_time: t.event_time,
    }
}

/// The market-data side of one Binance Spot connection.
pub struct SpotMdHandler {
    parser: MdParser,
    /// The streams subscribed per symbol (they go in the connection URL).
    streams: Vec<StreamKind>,
    /// One per symbol, in symbol-table order.
    books: Vec<BookSync>,
    limits: SyncLimits,
    counters: FeedCounters,
    /// Always empty: see `MarketData::trades`.
    no_trades: Vec<TradePrint>,
}

impl SpotMdHandler {
    /// A handler with one book per symbol in `symbols`.
    pub fn new(symbols: SymbolTable, time_unit: TimeUnit, limits: SyncLimits) -> Self {
        let books = symbols
            .iter()
            .map(|(_, id)| BookSync::new(id, limits))
            .collect();
        Self {
            parser: MdParser::new(symbols, time_unit, limits.book_levels),
            streams: vec![StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade],
            books,
            limits,
            counters: FeedCounters::default(),
            no_trades: Vec::new(),
        }
    }

    /// The handler of one venue's instruments (`instruments` may hold other venues' too),
    /// subscribing to the venue's configured streams.
    pub fn for_venue(
        venue: &crate::config::VenueConfig,
        instruments: &[crate::types::Instrument],
        limits: SyncLimits,
    ) -> Result<Self, SymbolError> {
        let mut table = SymbolTable::new();
        for i in instruments.iter().filter(|i| i.venue == venue.id) {
            table.insert(&i.symbol, i.id)?;
        }
        Ok(Self::new(table, TimeUnit::Millis, limits).with_streams(&venue.streams))
    }

    /// The streams each symbol subscribes to (default: bookTicker, depth, trade).
    pub fn with_streams(mut self, streams: &[StreamKind]) -> Self {
        self.streams = streams.to_vec();
        self
    }

    /// Adds a symbol and its book (start-up and replay tools only; allocates).
    pub fn add_symbol(&mut self, symbol: &str, id: InstrumentId) -> Result<(), SymbolError> {
        self.parser.symbols_mut().insert(symbol, id)?;
        self.books.push(BookSync::new(id, self.limits));
        Ok(())
    }

    pub fn symbols(&self) -> &SymbolTable {
        self.parser.symbols()
    }

    pub fn books(&self) -> &[BookSync] {
        &self.books
    }

    /// The synchroniser of `id`.
    #[inline]
    pub fn sync(&self, id: InstrumentId) -> Option<&BookSync> {
        self.books.iter().find(|b| b.instrument() == id)
    }

    /// The book of `id` (valid only while its sync is `Live`).
    #[inline]
    pub fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(BookSync::book)
    }

    pub fn counters(&self) -> &FeedCounters {
        &self.counters
    }

    /// Frames the codec's fast path handed to its general decoder.
    pub fn codec_fast_misses(&self) -> u64 {
        self.parser.fast_misses()
    }

    /// One WebSocket frame (or a recorded REST snapshot line).
    ///
    /// A snapshot that names no symbol goes to the only book, or else to the only book
    /// waiting for a snapshot; live code should call `on_snapshot` with the instrument it
    /// asked for instead.
    #[inline]
    pub fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        let res = Self::dispatch(
            &mut self.parser,
            &mut self.books,
            &mut self.counters,
            frame,
            None,
        );
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    /// The REST depth snapshot the caller fetched for `instrument`.
    pub fn on_snapshot(
        &mut self,
        instrument: InstrumentId,
        body: &[u8],
    ) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        let res = Self::dispatch(
            &mut self.parser,
            &mut self.books,
            &mut self.counters,
            body,
            Some(instrument),
        );
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    /// The connection was re-established: every book restarts. The caller marks every
    /// instrument invalid in the cache.
    pub fn on_reconnect(&mut self) {
        for b in &mut self.books {
            let _ = b.on_reconnect();
        }
    }

    #[inline]
    fn dispatch(
        parser: &mut MdParser,
        books: &mut [BookSync],
        counters: &mut FeedCounters,
        frame: &[u8],
        snapshot_for: Option<InstrumentId>,
    ) -> Result<Handled, HandleError> {
        let book_of = |books: &mut [BookSync], id: InstrumentId| -> Result<usize, HandleError> {
            books
                .iter()
                .position(|b| b.instrument() == id)
                .ok_or(HandleError::from(MdError::UnknownSymbol))
        };
        let event = parser.parse(frame)?;
        if snapshot_for.is_some() && !matches!(event, MdEvent::Snapshot(_)) {
            return Err(HandleError::from(MdError::UnknownEvent));
        }
        match event {
            MdEvent::BookTicker(t) => {
                counters.book_tickers += 1;
                let i = book_of(books, t.instrument)?;
                books[i].on_book_ticker(t.update_id, t.bid, t.ask);
                Ok(Handled::Bbo {
                    instrument: t.instrument,
                    update_id: t.update_id,
                    bid: t.bid,
                    ask: t.ask,
                    event_time: None,
                })
            }
            MdEvent::Depth(d) => {
                counters.depth_updates += 1;
                let i = book_of(books, d.instrument)?;
                let event = books[i].on_diff(d.first_update_id, d.final_update_id, d.bids, d.asks);
                Ok(Handled::Book {
                    instrument: d.instrument,
                    event,
                    event_time: Some(d.event_time),
                })
            }
            MdEvent::Trade(t) => {
                counters.trades += 1;
                Ok(Handled::Trade(trade_print(&t)))
            }
            MdEvent::Snapshot(s) => {
                let i = match (s.instrument, snapshot_for) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(HandleError::from(MdError::SymbolMismatch));
                    }
                    (Some(id), _) | (None, Some(id)) => book_of(books, id)?,
                    (None, None) => route_unnamed_snapshot(books)?,
                };
                counters.snapshots += 1;
                let event = books[i].on_snapshot(s.last_update_id, s.bids, s.asks);
                Ok(Handled::Book {
                    instrument: books[i].instrument(),
                    event,
                    event_time: None,
                })
            }
            MdEvent::ServerShutdown { .. } => {
                counters.server_shutdowns += 1;
                Ok(Handled::ReconnectSoon)
            }
            MdEvent::CommandReply { id, ok } => {
                counters.command_replies += 1;
                Ok(Handled::CommandReply { id, ok })
            }
        }
    }
}

/// The only book, or else the only book waiting for a snapshot.
/// Binance's weight of a depth request with this `limit`.
pub fn depth_weight(limit: u32) -> u32 {
    match limit {
        0..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}

/// The combined-stream URL for `symbols` and `streams`:
/// `{ws_url}/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@trade/...`.
pub fn stream_url(ws_url: &str, symbols: &[&str], streams: &[StreamKind]) -> String {
    let names: Vec<String> = symbols
        .iter()
        .flat_map(|sym| {
            let s = sym.to_ascii_lowercase();
            streams.iter().map(move |k| match k {
                StreamKind::BookTicker => format!("{s}@bookTicker"),
                StreamKind::Depth => format!("{s}@depth@100ms"),
                StreamKind::Trade => format!("{s}@trade"),
            })
        })
        .collect();
    format!(
        "{}/stream?streams={}",
        ws_url.trim_end_matches('/'),
        names.join("/")
    )
}

/// A REST depth snapshot as a recording line's frame: the body with `"symbol":"<SYMBOL>"`
/// put first, so a replay of several instruments knows whose it is (Binance's answer names
/// none), and raw line breaks (JSON whitespace only) turned into spaces. Fills `out`.
pub fn snapshot_frame(symbol: &str, body: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let body = body.trim_ascii();
    match body.strip_prefix(b"{") {
        Some(rest) => {
            out.extend_from_slice(b"{\"symbol\":\"");
            out.extend_from_slice(symbol.to_ascii_uppercase().as_bytes());
            out.extend_from_slice(b"\"");
            if rest.trim_ascii_start().first() != Some(&b'}') {
                out.push(b',');
            }
            out.extend_from_slice(rest);
        }
        // Not an object: kept as it came; the replay counts it as malformed.
        None => out.extend_from_slice(body),
    }
    for b in out.iter_mut() {
        if *b == b'\n' || *b == b'\r' {
            *b = b' ';
        }
    }
}

impl MarketData for SpotMdHandler {
    fn venue_kind(&self) -> &'static str {
        "binance-spot"
    }

    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let symbols: Vec<String> = self.symbols().iter().map(|(s, _)| s.to_owned()).collect();
        let symbols: Vec<&str> = symbols.iter().map(String::as_str).collect();
        ConnectPlan {
            url: stream_url(ws_base, &symbols, &self.streams),
            subscribe: Vec::new(),
            keepalive: Keepalive::ServerPings,
            // Binance closes connections at 24 h; replace them a little before.
            max_age: Some(std::time::Duration::from_secs(23 * 3600 + 50 * 60)),
        }
    }

    fn snapshot_request(&self, id: InstrumentId, depth: u32) -> Option<(String, u32)> {
        let (symbol, _) = self.symbols().iter().find(|(_, i)| *i == id)?;
        Some((
            format!(
                "/api/v3/depth?symbol={}&limit={depth}",
                symbol.to_ascii_uppercase()
            ),
            depth_weight(depth),
        ))
    }

    fn record_snapshot(&self, id: InstrumentId, body: &[u8], out: &mut Vec<u8>) {
        let symbol = self.symbols().symbol_of(id).unwrap_or_default();
        snapshot_frame(symbol, body, out);
    }

    #[inline]
    fn on_frame(&mut self, frame: &[u8]) -> Result<Handled, HandleError> {
        SpotMdHandler::on_frame(self, frame)
    }

    fn on_snapshot(&mut self, id: InstrumentId, body: &[u8]) -> Result<Handled, HandleError> {
        SpotMdHandler::on_snapshot(self, id, body)
    }

    fn on_reconnect(&mut self) {
        SpotMdHandler::on_reconnect(self)
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        // Binance sends one trade per frame (`Handled::Trade`); this stays empty.
        &mut self.no_trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books.iter().map(BookSync::instrument).collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        SpotMdHandler::book(self, id)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(BookSync::state)
    }

    fn sync_counters(&self, id: InstrumentId) -> Option<SyncCounters> {
        self.sync(id).map(|b| *b.counters())
    }

    fn snapshot_requests(&self, id: InstrumentId) -> u64 {
        self.sync(id).map_or(0, BookSync::snapshot_requests)
    }

    fn snapshot_wanted(&self, id: InstrumentId) -> bool {
        self.sync(id).is_some_and(BookSync::snapshot_wanted)
    }

    fn counters(&self) -> &FeedCounters {
        &self.counters
    }
}

fn route_unnamed_snapshot(books: &[BookSync]) -> Result<usize, HandleError> {
    if books.len() == 1 {
        return Ok(0);
    }
    let mut waiting = books.iter().enumerate().filter(|(_, b)| b.needs_snapshot());
    match (waiting.next(), waiting.next()) {
        (Some((i, _)), None) => Ok(i),
        _ => Err(HandleError::UnroutedSnapshot),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::UnixNanos;
    use crate::venue::md::{Publish, ResyncReason, SyncEvent};

    const BTC: InstrumentId = InstrumentId(4);
    const ETH: InstrumentId = InstrumentId(9);

    fn handler() -> SpotMdHandler {
        let mut t = SymbolTable::new();
        t.insert("btcusdt", BTC).unwrap();
        t.insert("ethusdt", ETH).unwrap();
        SpotMdHandler::new(t, TimeUnit::Millis, SyncLimits::default())
    }

    fn diff(sym: &str, first: u64, last: u64, bid: &str) -> String {
        format!(
            r#"{{"stream":"{sym}@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"{}","U":{first},"u":{last},"b":[["{bid}","1"]],"a":[["200","1"]]}}}}"#,
            sym.to_uppercase()
        )
    }

    const SNAP: &[u8] = br#"{"lastUpdateId":10,"bids":[["99","1"]],"asks":[["200","1"]]}"#;

    #[test]
    fn routes_per_instrument_and_signals_publishing() {
        let mut h = handler();
        let r = h
            .on_frame(diff("ethusdt", 9, 11, "100").as_bytes())
            .unwrap();
        assert_eq!(
            r,
            Handled::Book {
                instrument: ETH,
                event: SyncEvent::Buffered,
                event_time: Some(UnixNanos::from_millis(1))
            }
        );
        assert_eq!(r.published(), None);
        let _ = h.on_frame(diff("btcusdt", 5, 6, "100").as_bytes()).unwrap();
        // Both books wait for a snapshot: an unnamed one cannot be routed.
        assert_eq!(h.on_frame(SNAP), Err(HandleError::UnroutedSnapshot));
        // The REST answer the caller asked for ETH.
        let r = h.on_snapshot(ETH, SNAP).unwrap();
        assert_eq!(r.published(), Some(Publish::Book(ETH)));
        assert_eq!(h.sync(ETH).unwrap().state(), SyncState::Live);
        assert_eq!(
            h.book(ETH).unwrap().best_bid().unwrap().price,
            crate::types::Price::from_int(100)
        );
        // Now only BTC waits: the unnamed snapshot goes there; its buffered diff is stale.
        let r = h.on_frame(SNAP).unwrap();
        assert_eq!(
            r,
            Handled::Book {
                instrument: BTC,
                event: SyncEvent::SnapshotApplied {
                    replayed: 0,
                    live: false
                },
                event_time: None
            }
        );
        let r = h
            .on_frame(diff("ethusdt", 12, 12, "101").as_bytes())
            .unwrap();
        assert_eq!(r.published(), Some(Publish::Book(ETH)));
        let r = h
            .on_frame(diff("ethusdt", 14, 14, "101").as_bytes())
            .unwrap();
        assert_eq!(r.published(), Some(Publish::Invalid(ETH)));
        assert!(matches!(
            r,
            Handled::Book {
                event: SyncEvent::Invalidated(ResyncReason::Gap),
                ..
            }
        ));
        // Not a snapshot where one was expected.
        assert_eq!(
            h.on_snapshot(BTC, diff("btcusdt", 1, 1, "1").as_bytes()),
            Err(HandleError::from(MdError::UnknownEvent))
        );
        let c = *h.counters();
        assert_eq!(
            (c.frames, c.malformed, c.depth_updates, c.snapshots),
            (8, 2, 4, 2)
        );
    }

    #[test]
    fn reconnect_restarts_every_book_and_other_events_pass_through() {
        let mut h = handler();
        let _ = h
            .on_frame(diff("ethusdt", 9, 11, "100").as_bytes())
            .unwrap();
        let _ = h.on_snapshot(ETH, SNAP).unwrap();
        h.on_reconnect();
        assert!(
            h.books()
                .iter()
                .all(|b| b.state() == SyncState::Syncing && b.needs_snapshot())
        );
        assert_eq!(
            h.on_frame(br#"{"e":"serverShutdown","E":5}"#),
            Ok(Handled::ReconnectSoon)
        );
        assert_eq!(
            h.on_frame(br#"{"result":null,"id":3}"#),
            Ok(Handled::CommandReply {
                id: Some(3),
                ok: true
            })
        );
        let t = h.on_frame(br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"1.5","q":"2","T":1,"m":false,"M":true}}"#);
        assert!(
            matches!(t, Ok(Handled::Trade(tr)) if tr.trade_id == TradeId::from_u64(7) && tr.instrument == BTC)
        );
        assert_eq!(
            h.on_frame(b"{}"),
            Err(HandleError::from(MdError::UnknownEvent))
        );
        assert_eq!(h.counters().malformed, 1);
    }

    #[test]
    fn snapshot_lines_name_their_symbol_and_replay_to_that_book() {
        use crate::venue::md::Publish;

        let mut line = Vec::new();
        snapshot_frame(
            "ethusdt",
            b"{\"lastUpdateId\":10,\n\"bids\":[[\"99\",\"1\"]],\"asks\":[[\"200\",\"1\"]]}\r\n",
            &mut line,
        );
        assert_eq!(
            line,
            b"{\"symbol\":\"ETHUSDT\",\"lastUpdateId\":10, \"bids\":[[\"99\",\"1\"]],\"asks\":[[\"200\",\"1\"]]}"
        );
        snapshot_frame("x", b" {} ", &mut line);
        assert_eq!(line, b"{\"symbol\":\"X\"}");
        snapshot_frame("x", b"[1]", &mut line);
        assert_eq!(line, b"[1]");

        // Two books wait: an unnamed snapshot could not be routed, a named one can.
        let mut t = SymbolTable::new();
        t.insert("btcusdt", InstrumentId(0)).unwrap();
        t.insert("ethusdt", InstrumentId(1)).unwrap();
        let mut h = SpotMdHandler::new(t, TimeUnit::Millis, SyncLimits::default());
        let diff = br#"{"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":10,"u":11,"b":[["100","1"]],"a":[]}}"#;
        h.on_frame(diff).unwrap();
        snapshot_frame(
            "ETHUSDT",
            br#"{"lastUpdateId":10,"bids":[["99","1"]],"asks":[["200","1"]]}"#,
            &mut line,
        );
        let r = h.on_frame(&line).unwrap();
        assert_eq!(r.published(), Some(Publish::Book(InstrumentId(1))));
        snapshot_frame(
            "DOGEUSDT",
            br#"{"lastUpdateId":10,"bids":[],"asks":[]}"#,
            &mut line,
        );
        assert!(h.on_frame(&line).is_err());
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
