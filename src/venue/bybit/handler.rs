//! `BybitMd`: one Bybit public connection's frames → codec → the `BybitBookSync` of each
//! symbol; Bybit's side of the `MarketData` seam (the category's public endpoint, subscribe
//! requests of at most 10 topics, the JSON ping, books whole over the WebSocket, a per-book
//! re-subscribe when a book loses its `u` chain, and the linear tickers merged into marks).

use std::time::Duration;

use crate::book::{L2Book, Level};
use crate::types::{InstrumentId, MarkUpdate, TradePrint, UnixNanos};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

use super::Category;
use super::md::{BybitMdError, BybitMdParser, InstTable, Msg, TickerFields};
use super::sync::{BybitBookSync, Want};

impl From<BybitMdError> for HandleError {
    fn from(e: BybitMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// The book depth subscribed to (spot and linear both offer 1, 50, 200, 1000; 50 is pushed
/// every 20 ms and covers the cache's 10 levels many times over).
pub const BOOK_DEPTH: u32 = 50;

/// Bybit's heartbeat (exchanges.md §3.2): `{"op":"ping"}` about every 20 s.
pub const PING: &str = r#"{"op":"ping"}"#;

/// What a subscription carries per symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    /// `orderbook.50`: the book.
    Book,
    /// `orderbook.1`: the best bid and offer (snapshot-only).
    Bbo,
    Trades,
    /// `tickers`: mark, index and funding on linear (spot tickers carry only last-price
    /// statistics, which the engine does not read).
    Tickers,
}

/// A linear ticker's fields as merged so far (a delta carries the changed ones only).
#[derive(Clone, Copy, Debug, Default)]
struct MarkState {
    fields: TickerFields,
}

/// The market-data side of one Bybit connection.
pub struct BybitMd {
    category: Category,
    parser: BybitMdParser,
    books: Vec<BybitBookSync>,
    marks: Vec<MarkState>,
    /// `unsubscribe` and `subscribe` of each book's topic, built once.
    resubscribe: Vec<[String; 2]>,
    /// Messages waiting to be sent, as (book, 0 = unsubscribe / 1 = subscribe), last first.
    pending: Vec<(usize, usize)>,
    /// The mark the last frame completed.
    mark: Option<MarkUpdate>,
    limits: SyncLimits,
    counters: FeedCounters,
    channels: Vec<Channel>,
    /// The depth of the book messages read: the subscribed `BOOK_DEPTH`, or a recording's.
    book_depth: u32,
    /// Re-subscribes handed to the feed, and connections given up on because one went
    /// unanswered.
    pub resubscribes: u64,
    pub abandoned: u64,
}

impl BybitMd {
    /// A handler for `symbols` (`BTCUSDT`, instrument) of `category`, subscribing to the book,
    /// trades, and on linear the tickers.
    pub fn new(category: Category, symbols: &[(&str, InstrumentId)], limits: SyncLimits) -> Self {
        let mut md = Self {
            category,
            parser: BybitMdParser::new(InstTable::default(), limits.book_levels.min(4096)),
            books: Vec::new(),
            marks: Vec::new(),
            resubscribe: Vec::new(),
            pending: Vec::new(),
            mark: None,
            limits,
            counters: FeedCounters::default(),
            channels: vec![Channel::Book, Channel::Trades],
            book_depth: BOOK_DEPTH,
            resubscribes: 0,
            abandoned: 0,
        };
        if category == Category::Linear {
            md.channels.push(Channel::Tickers);
        }
        for (s, id) in symbols {
            md.add_instrument(s, *id);
        }
        md
    }

    /// One venue's instruments (`instruments` may hold other venues' too), subscribing to
    /// the topics of its configured streams (`bookTicker` is `orderbook.1`); a linear feed
    /// always takes the tickers, which carry the marks.
    pub fn for_venue(
        category: Category,
        venue: &crate::config::VenueConfig,
        instruments: &[crate::types::Instrument],
        limits: SyncLimits,
    ) -> Self {
        let mine: Vec<(&str, InstrumentId)> = instruments
            .iter()
            .filter(|i| i.venue == venue.id)
            .map(|i| (i.symbol.as_str(), i.id))
            .collect();
        let mut md = Self::new(category, &mine, limits);
        use crate::config::StreamKind;
        md.channels = venue
            .streams
            .iter()
            .map(|k| match k {
                StreamKind::BookTicker => Channel::Bbo,
                StreamKind::Depth => Channel::Book,
                StreamKind::Trade => Channel::Trades,
            })
            .collect();
        if category == Category::Linear {
            md.channels.push(Channel::Tickers);
        }
        md
    }

    pub fn category(&self) -> Category {
        self.category
    }

    /// Adds a symbol and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, symbol: &str, id: InstrumentId) {
        if self.parser.insts().get(symbol).is_none() {
            self.parser.add(symbol, id);
            self.books.push(BybitBookSync::new(id, self.limits));
            self.marks.push(MarkState::default());
            let topic = format!("orderbook.{BOOK_DEPTH}.{symbol}");
            self.resubscribe.push([
                serde_json::json!({"op": "unsubscribe", "args": [topic]}).to_string(),
                serde_json::json!({"op": "subscribe", "args": [topic]}).to_string(),
            ]);
            self.pending.reserve(2);
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&BybitBookSync> {
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
            Msg::Book {
                instrument,
                depth: 1,
                seq,
                ts_ms,
                ..
            } => {
                self.counters.book_tickers += 1;
                let (Some(&bid), Some(&ask)) = (self.parser.bids.first(), self.parser.asks.first())
                else {
                    // One side empty: nothing to publish as a best bid and offer.
                    return Ok(Handled::Ignored);
                };
                Ok(Handled::Bbo {
                    instrument,
                    update_id: seq,
                    bid,
                    ask,
                    event_time: Some(UnixNanos::from_millis(ts_ms)),
                })
            }
            Msg::Book {
                instrument,
                depth,
                snapshot,
                u,
                seq,
                ts_ms,
            } => {
                if depth != self.book_depth {
                    // A depth this handler did not subscribe to. A recording of another depth
                    // (Bybit's history files are `orderbook.500`) is read at its own depth when
                    // its first book message is a snapshot; otherwise it is not the book's.
                    if !(snapshot && self.counters.snapshots == 0) {
                        return Ok(Handled::Ignored);
                    }
                    self.book_depth = depth;
                }
                let i = self.slot(instrument)?;
                let (bids, asks): (&[Level], &[Level]) = (&self.parser.bids, &self.parser.asks);
                let (event, want) = if snapshot {
                    self.counters.snapshots += 1;
                    self.books[i].on_snapshot(seq, u, bids, asks)
                } else {
                    self.counters.depth_updates += 1;
                    self.books[i].on_delta(seq, u, bids, asks)
                };
                match want {
                    Want::Nothing => {}
                    Want::Resubscribe => {
                        if !self.pending.iter().any(|&(b, _)| b == i) {
                            // Popped last first: the unsubscribe goes out before the subscribe.
                            self.pending.push((i, 1));
                            self.pending.push((i, 0));
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
                Ok(Handled::Book {
                    instrument,
                    event,
                    event_time: Some(UnixNanos::from_millis(ts_ms)),
                })
            }
            Msg::Trades => {
                self.counters.trades += self.parser.trades.len() as u64;
                Ok(Handled::Trades)
            }
            Msg::Ticker {
                instrument,
                snapshot,
                fields,
                ts_ms,
            } => {
                if self.category != Category::Linear {
                    return Ok(Handled::Ignored);
                }
                let i = self.slot(instrument)?;
                let m = &mut self.marks[i].fields;
                if snapshot {
                    *m = TickerFields::default();
                }
                m.last = fields.last.or(m.last);
                m.mark = fields.mark.or(m.mark);
                m.index = fields.index.or(m.index);
                m.funding_rate = fields.funding_rate.or(m.funding_rate);
                m.next_funding_ms = fields.next_funding_ms.or(m.next_funding_ms);
                let changed = fields.mark.is_some()
                    || fields.index.is_some()
                    || fields.funding_rate.is_some()
                    || fields.next_funding_ms.is_some();
                if let (true, Some(mark), Some(index), Some(funding_rate), Some(next)) =
                    (changed, m.mark, m.index, m.funding_rate, m.next_funding_ms)
                {
                    self.mark = Some(MarkUpdate {
                        instrument,
                        mark,
                        index,
                        funding_rate,
                        next_funding_ms: next,
                        exchange_ts: UnixNanos::from_millis(ts_ms),
                    });
                }
                Ok(Handled::Ignored)
            }
            Msg::Reply { ok } => {
                self.counters.command_replies += 1;
                Ok(Handled::CommandReply { id: None, ok })
            }
            Msg::Pong => Ok(Handled::Pong),
        }
    }

    /// The topics of one symbol.
    fn topics(&self, symbol: &str, out: &mut Vec<String>) {
        for ch in &self.channels {
            out.push(match ch {
                Channel::Book => format!("orderbook.{BOOK_DEPTH}.{symbol}"),
                Channel::Bbo => format!("orderbook.1.{symbol}"),
                Channel::Trades => format!("publicTrade.{symbol}"),
                Channel::Tickers => format!("tickers.{symbol}"),
            });
        }
    }
}

impl MarketData for BybitMd {
    fn venue_kind(&self) -> &'static str {
        self.category.kind_name()
    }

    /// `ws_base` is the public host (`wss://stream.bybit.com`), to which the category's path
    /// (`/v5/public/spot`, `/v5/public/linear`) is added; a base that already names a path is
    /// used as it is.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let base = ws_base.trim_end_matches('/');
        let has_path = base
            .split_once("://")
            .is_some_and(|(_, rest)| rest.contains('/'));
        let url = if has_path {
            base.to_owned()
        } else {
            format!("{base}{}", self.category.public_path())
        };
        let mut topics = Vec::new();
        for (sym, _) in self.parser.insts().iter() {
            self.topics(sym, &mut topics);
        }
        let subscribe = topics
            .chunks(self.category.args_per_subscribe())
            .map(|c| serde_json::json!({"op": "subscribe", "args": c}).to_string())
            .collect();
        ConnectPlan {
            url,
            subscribe,
            // Bybit closes a connection idle for 10 minutes and asks for a ping about every
            // 20 s; the feed pings after 20 s without a frame and drops the connection when
            // nothing answers within another 20 s.
            keepalive: Keepalive::Text {
                ping: PING,
                pong: "pong",
                idle: Duration::from_secs(20),
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
        let res = match self.parser.parse(frame) {
            Ok(msg) => self.dispatch(msg),
            Err(e) => Err(e.into()),
        };
        if res.is_err() {
            self.counters.malformed += 1;
        }
        res
    }

    #[inline]
    fn next_request(&mut self) -> Option<&str> {
        let (book, k) = self.pending.pop()?;
        if k == 1 {
            self.resubscribes += 1;
        }
        Some(&self.resubscribe[book][k])
    }

    #[inline]
    fn mark_update(&mut self) -> Option<MarkUpdate> {
        self.mark.take()
    }

    fn on_snapshot(&mut self, _id: InstrumentId, _body: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        self.counters.malformed += 1;
        Err(HandleError::Codec(
            "Bybit books come from orderbook.{depth} snapshots, not REST",
        ))
    }

    fn on_reconnect(&mut self) {
        self.pending.clear();
        for b in &mut self.books {
            let _ = b.on_reconnect();
        }
        for m in &mut self.marks {
            *m = MarkState::default();
        }
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        &mut self.parser.trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books.iter().map(BybitBookSync::instrument).collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(BybitBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(BybitBookSync::state)
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
mod tests {
    use super::*;
    use crate::types::{FundingRate, Price};

    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    #[test]
    fn subscribes_per_category_in_requests_of_ten() {
        let syms: Vec<(String, InstrumentId)> = (0..4)
            .map(|k| (format!("S{k}USDT"), InstrumentId(k)))
            .collect();
        let refs: Vec<(&str, InstrumentId)> = syms.iter().map(|(s, i)| (s.as_str(), *i)).collect();
        let md = BybitMd::new(Category::Linear, &refs, SyncLimits::default());
        let plan = md.connect_plan("wss://stream.bybit.com");
        assert_eq!(plan.url, "wss://stream.bybit.com/v5/public/linear");
        assert_eq!(plan.subscribe.len(), 2);
        assert_eq!(
            plan.subscribe[0],
            r#"{"op":"subscribe","args":["orderbook.50.S0USDT","publicTrade.S0USDT","tickers.S0USDT","orderbook.50.S1USDT","publicTrade.S1USDT","tickers.S1USDT","orderbook.50.S2USDT","publicTrade.S2USDT","tickers.S2USDT","orderbook.50.S3USDT"]}"#
        );
        let spot = BybitMd::new(Category::Spot, &refs[..1], SyncLimits::default());
        let plan = spot.connect_plan("ws://127.0.0.1:9/");
        assert_eq!(plan.url, "ws://127.0.0.1:9/v5/public/spot");
        assert_eq!(
            plan.subscribe,
            vec![r#"{"op":"subscribe","args":["orderbook.50.S0USDT","publicTrade.S0USDT"]}"#]
        );
        assert_eq!(spot.venue_kind(), "bybit-spot");
    }

    #[test]
    fn a_gap_resubscribes_the_book_on_the_same_connection() {
        let mut md = BybitMd::new(
            Category::Spot,
            &[("BTCUSDT", InstrumentId(3))],
            SyncLimits::default(),
        );
        let book = |ty: &str, u: u64, bid: &str| {
            format!(
                r#"{{"topic":"orderbook.50.BTCUSDT","type":"{ty}","ts":1,"data":{{"s":"BTCUSDT","b":[["{bid}","1"]],"a":[["200","1"]],"u":{u},"seq":{u}}},"cts":1}}"#
            )
        };
        assert!(matches!(
            md.on_frame(book("snapshot", 5, "100").as_bytes()),
            Ok(Handled::Book { .. })
        ));
        assert_eq!(md.next_request(), None);
        let h = md.on_frame(book("delta", 7, "101").as_bytes()).unwrap();
        assert_eq!(
            h.published(),
            Some(crate::venue::md::Publish::Invalid(InstrumentId(3)))
        );
        assert_eq!(
            md.next_request(),
            Some(r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]}"#)
        );
        assert_eq!(
            md.next_request(),
            Some(r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}"#)
        );
        assert_eq!(md.next_request(), None);
        let h = md.on_frame(book("snapshot", 9, "102").as_bytes()).unwrap();
        assert_eq!(
            h.published(),
            Some(crate::venue::md::Publish::Book(InstrumentId(3)))
        );
        assert_eq!(md.resubscribes, 1);
    }

    #[test]
    fn linear_ticker_deltas_merge_into_marks() {
        let mut md = BybitMd::new(
            Category::Linear,
            &[("BTCUSDT", InstrumentId(0))],
            SyncLimits::default(),
        );
        let snap = r#"{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"17216.00","markPrice":"17217.33","indexPrice":"17227.36","nextFundingTime":"1673280000000","fundingRate":"-0.000212"},"cs":24987956059,"ts":1673272861686}"#;
        assert_eq!(md.on_frame(snap.as_bytes()), Ok(Handled::Ignored));
        let m = md.mark_update().unwrap();
        assert_eq!(
            m,
            MarkUpdate {
                instrument: InstrumentId(0),
                mark: px("17217.33"),
                index: px("17227.36"),
                funding_rate: FundingRate::from_units(-21_200),
                next_funding_ms: 1_673_280_000_000,
                exchange_ts: UnixNanos::from_millis(1_673_272_861_686),
            }
        );
        assert_eq!(md.mark_update(), None);
        // A delta of the last price only changes no mark.
        let last = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"17220.00"},"cs":1,"ts":1673272861786}"#;
        let _ = md.on_frame(last.as_bytes());
        assert_eq!(md.mark_update(), None);
        // A delta of the mark keeps the other fields.
        let delta = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"17218.00"},"cs":2,"ts":1673272861886}"#;
        let _ = md.on_frame(delta.as_bytes());
        let m2 = md.mark_update().unwrap();
        assert_eq!(
            (m2.mark, m2.index, m2.funding_rate, m2.next_funding_ms),
            (px("17218.00"), m.index, m.funding_rate, m.next_funding_ms)
        );
        // A delta before any snapshot, after a reconnect, completes nothing.
        md.on_reconnect();
        let _ = md.on_frame(delta.as_bytes());
        assert_eq!(md.mark_update(), None);
    }

    #[test]
    fn pings_and_replies() {
        let mut md = BybitMd::new(Category::Spot, &[], SyncLimits::default());
        for pong in [
            r#"{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}"#,
            r#"{"req_id":"test","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}"#,
        ] {
            assert_eq!(md.on_frame(pong.as_bytes()), Ok(Handled::Pong));
        }
        assert_eq!(
            md.on_frame(br#"{"success":false,"ret_msg":"error:handler not found","conn_id":"x","req_id":"","op":"subscribe"}"#),
            Ok(Handled::CommandReply { id: None, ok: false })
        );
        assert_eq!(
            md.on_frame(
                br#"{"success":true,"ret_msg":"","conn_id":"x","req_id":"r","op":"subscribe"}"#
            ),
            Ok(Handled::CommandReply { id: None, ok: true })
        );
        assert!(md.on_frame(b"pong").is_err());
        assert_eq!(md.counters().malformed, 1);
    }
}
