//! `SpotMdHandler`: one Binance Spot market-data connection's frames → codec → the
//! `BookSync` of each instrument. The live feed actor and the replay tools drive this same
//! code; it does no I/O.
//!
//! **Publishing.** `on_frame` and `on_snapshot` return what changed. This is the single place
//! the book cache hooks in: when the result's `published()` is `Some(Publish::Book(id))`, the
//! caller publishes `book(id)` to the cache; on `Some(Publish::Invalid(id))` it marks that
//! instrument's cached book invalid. Nothing else changes a book.

use crate::book::L2Book;
use crate::feed::sync::{BookSync, SyncEvent, SyncLimits};
use crate::types::{InstrumentId, UnixNanos};
use crate::venue::binance::md::{BookTicker, MdError, MdEvent, MdParser, TimeUnit, Trade};
use crate::venue::binance::symbols::{SymbolError, SymbolTable};

/// Why a frame could not be used. Counted by the caller, never fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Codec(#[from] MdError),
    #[error("depth snapshot names no symbol and no single book is waiting for one")]
    UnroutedSnapshot,
}

/// What one frame did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// A depth update or snapshot went to this instrument's book.
    Book {
        instrument: InstrumentId,
        event: SyncEvent,
        /// The venue's event time of a depth update (for feed-lag samples); `None` for a
        /// snapshot.
        event_time: Option<UnixNanos>,
    },
    /// A bookTicker, already checked against the book (see `BookSync::on_book_ticker`).
    BookTicker(BookTicker),
    Trade(Trade),
    /// Binance will close the connection soon: reconnect.
    ServerShutdown,
    /// The reply to a control message.
    CommandReply {
        id: Option<u64>,
        ok: bool,
    },
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

/// Per-connection totals (per-book totals are in each `BookSync`).
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

/// The market-data side of one Binance Spot connection.
pub struct SpotMdHandler {
    parser: MdParser,
    /// One per symbol, in symbol-table order.
    books: Vec<BookSync>,
    limits: SyncLimits,
    counters: FeedCounters,
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
            books,
            limits,
            counters: FeedCounters::default(),
        }
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
                .ok_or(HandleError::Codec(MdError::UnknownSymbol))
        };
        let event = parser.parse(frame)?;
        if snapshot_for.is_some() && !matches!(event, MdEvent::Snapshot(_)) {
            return Err(HandleError::Codec(MdError::UnknownEvent));
        }
        match event {
            MdEvent::BookTicker(t) => {
                counters.book_tickers += 1;
                let i = book_of(books, t.instrument)?;
                books[i].on_book_ticker(t.update_id, t.bid, t.ask);
                Ok(Handled::BookTicker(t))
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
                Ok(Handled::Trade(t))
            }
            MdEvent::Snapshot(s) => {
                let i = match (s.instrument, snapshot_for) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(HandleError::Codec(MdError::SymbolMismatch));
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
                Ok(Handled::ServerShutdown)
            }
            MdEvent::CommandReply { id, ok } => {
                counters.command_replies += 1;
                Ok(Handled::CommandReply { id, ok })
            }
        }
    }
}

/// The only book, or else the only book waiting for a snapshot.
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
    use crate::feed::sync::{ResyncReason, SyncState};

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
            Err(HandleError::Codec(MdError::UnknownEvent))
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
            Ok(Handled::ServerShutdown)
        );
        assert_eq!(
            h.on_frame(br#"{"result":null,"id":3}"#),
            Ok(Handled::CommandReply {
                id: Some(3),
                ok: true
            })
        );
        let t = h.on_frame(br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"1.5","q":"2","T":1,"m":false,"M":true}}"#);
        assert!(matches!(t, Ok(Handled::Trade(tr)) if tr.trade_id == 7 && tr.instrument == BTC));
        assert!(matches!(
            h.on_frame(b"{}"),
            Err(HandleError::Codec(MdError::UnknownEvent))
        ));
        assert_eq!(h.counters().malformed, 1);
    }
}
