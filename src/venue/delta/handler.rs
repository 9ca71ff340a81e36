//! `DeltaMd`: one Delta public connection's frames → codec → the `DeltaBookSync` of each
//! symbol; Delta's side of the `MarketData` seam (the platform's public endpoint, one
//! subscribe frame for every channel, the heartbeat and JSON ping, books whole over the
//! WebSocket, a per-book re-subscribe when a book loses its `seq` chain, its checksum or
//! gets an error frame, and `mark_price` with `funding_rate` merged into marks).

use std::time::Duration;

use crate::book::{L2Book, Level};
use crate::types::{FundingRate, InstrumentId, MarkUpdate, Price, TradePrint, UnixNanos};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

use super::Platform;
use super::md::{DeltaMdError, DeltaMdParser, InstTable, Msg};
use super::sync::{DeltaBookSync, Want};

impl From<DeltaMdError> for HandleError {
    fn from(e: DeltaMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// Delta's JSON ping (reference/delta.md §3.4), answered by `{"type":"pong"}`.
pub const PING: &str = r#"{"type":"ping"}"#;

/// Sent after every connect: the server then sends `{"type":"heartbeat"}` (every 30 s per the
/// docs; every 5 s as observed on global), which keeps the connection from its 60 s idle close.
pub const ENABLE_HEARTBEAT: &str = r#"{"type":"enable_heartbeat"}"#;

/// What a subscription carries per symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    /// `ob_updates`: the book.
    Book,
    /// `ob_l1`: the best bid and offer.
    Bbo,
    Trades,
    /// `mark_price` (subscribed as `MARK:<symbol>`).
    Mark,
    /// `funding_rate`.
    Funding,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Book => "ob_updates",
            Channel::Bbo => "ob_l1",
            Channel::Trades => "trades",
            Channel::Mark => "mark_price",
            Channel::Funding => "funding_rate",
        }
    }
}

/// A perpetual's mark and funding as received so far.
#[derive(Clone, Copy, Debug, Default)]
struct MarkState {
    mark: Option<Price>,
    funding: Option<(FundingRate, u64)>,
}

/// The market-data side of one Delta connection.
pub struct DeltaMd {
    platform: Platform,
    parser: DeltaMdParser,
    books: Vec<DeltaBookSync>,
    marks: Vec<MarkState>,
    /// `unsubscribe` and `subscribe` of each book's `ob_updates`, built once.
    resubscribe: Vec<[String; 2]>,
    /// Messages waiting to be sent, as (book, 0 = unsubscribe / 1 = subscribe), last first.
    pending: Vec<(usize, usize)>,
    /// The mark the last frame completed.
    mark: Option<MarkUpdate>,
    limits: SyncLimits,
    counters: FeedCounters,
    channels: Vec<Channel>,
    /// Re-subscribes handed to the feed, `ob_updates` error frames, refused subscriptions
    /// and connections given up on because a re-subscribe went unanswered.
    pub resubscribes: u64,
    pub book_errors: u64,
    pub refused: u64,
    pub abandoned: u64,
}

impl DeltaMd {
    /// A handler for `symbols` (`BTCUSD`, instrument) of `platform`, subscribing to the book,
    /// the best bid/offer, trades, mark price and funding rate.
    pub fn new(platform: Platform, symbols: &[(&str, InstrumentId)], limits: SyncLimits) -> Self {
        let mut md = Self {
            platform,
            parser: DeltaMdParser::new(InstTable::default(), limits.book_levels.min(4096)),
            books: Vec::new(),
            marks: Vec::new(),
            resubscribe: Vec::new(),
            pending: Vec::new(),
            mark: None,
            limits,
            counters: FeedCounters::default(),
            channels: vec![
                Channel::Book,
                Channel::Bbo,
                Channel::Trades,
                Channel::Mark,
                Channel::Funding,
            ],
            resubscribes: 0,
            book_errors: 0,
            refused: 0,
            abandoned: 0,
        };
        for (s, id) in symbols {
            md.add_instrument(s, *id);
        }
        md
    }

    /// One venue's instruments (`instruments` may hold other venues' too), subscribing to the
    /// channels of its configured streams (`bookTicker` is `ob_l1`); the mark price and funding
    /// rate are always taken (paper perpetuals read them).
    pub fn for_venue(
        platform: Platform,
        venue: &crate::config::VenueConfig,
        instruments: &[crate::types::Instrument],
        limits: SyncLimits,
    ) -> Self {
        let mine: Vec<(&str, InstrumentId)> = instruments
            .iter()
            .filter(|i| i.venue == venue.id)
            .map(|i| (i.symbol.as_str(), i.id))
            .collect();
        let mut md = Self::new(platform, &mine, limits);
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
        md.channels.push(Channel::Mark);
        md.channels.push(Channel::Funding);
        md
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Adds a symbol and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, symbol: &str, id: InstrumentId) {
        if self.parser.insts().get(symbol).is_none() {
            self.parser.add(symbol, id);
            self.books.push(DeltaBookSync::new(id, self.limits));
            self.marks.push(MarkState::default());
            self.resubscribe.push([
                frame(
                    "unsubscribe",
                    &[(Channel::Book.name(), vec![symbol.into()])],
                ),
                frame("subscribe", &[(Channel::Book.name(), vec![symbol.into()])]),
            ]);
            self.pending.reserve(2);
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&DeltaBookSync> {
        self.books.iter().find(|b| b.instrument() == id)
    }

    #[inline]
    fn slot(&self, id: InstrumentId) -> Result<usize, HandleError> {
        self.books
            .iter()
            .position(|b| b.instrument() == id)
            .ok_or(HandleError::UnknownInstrument)
    }

    fn want(&mut self, i: usize, want: Want) -> bool {
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
                return true;
            }
        }
        false
    }

    fn dispatch(&mut self, msg: Msg) -> Result<Handled, HandleError> {
        match msg {
            Msg::Book {
                instrument,
                snapshot,
                seq,
                cs,
                ts_us,
                price_form,
                size_form,
            } => {
                let i = self.slot(instrument)?;
                let (bids, asks): (&[Level], &[Level]) = (&self.parser.bids, &self.parser.asks);
                let forms = (price_form, size_form);
                let (event, want) = if snapshot {
                    self.counters.snapshots += 1;
                    self.books[i].on_snapshot(seq, bids, asks, cs, forms)
                } else {
                    self.counters.depth_updates += 1;
                    self.books[i].on_update(seq, bids, asks, cs, forms)
                };
                if self.want(i, want) {
                    return Ok(Handled::Resync);
                }
                Ok(Handled::Book {
                    instrument,
                    event,
                    event_time: Some(UnixNanos::from_micros(ts_us)),
                })
            }
            Msg::BookError { instrument } => {
                let i = self.slot(instrument)?;
                self.book_errors += 1;
                let (event, want) = self.books[i].on_error();
                if self.want(i, want) {
                    return Ok(Handled::Resync);
                }
                Ok(Handled::Book {
                    instrument,
                    event,
                    event_time: None,
                })
            }
            Msg::Bbo {
                instrument,
                bid,
                ask,
                ts_us,
            } => {
                self.counters.book_tickers += 1;
                let (Some(bid), Some(ask)) = (bid, ask) else {
                    // One side empty: nothing to publish as a best bid and offer.
                    return Ok(Handled::Ignored);
                };
                Ok(Handled::Bbo {
                    instrument,
                    update_id: 0,
                    bid,
                    ask,
                    event_time: Some(UnixNanos::from_micros(ts_us)),
                })
            }
            Msg::Trades => {
                self.counters.trades += self.parser.trades.len() as u64;
                Ok(Handled::Trades)
            }
            Msg::Mark {
                instrument,
                mark,
                ts_us,
            } => {
                let i = self.slot(instrument)?;
                self.marks[i].mark = Some(mark);
                self.complete_mark(i, instrument, ts_us);
                Ok(Handled::Ignored)
            }
            Msg::Funding {
                instrument,
                rate,
                next_us,
                ts_us,
                ..
            } => {
                let i = self.slot(instrument)?;
                let Some(next_us) = next_us else {
                    return Ok(Handled::Ignored);
                };
                self.marks[i].funding = Some((rate, next_us / 1000));
                self.complete_mark(i, instrument, ts_us);
                Ok(Handled::Ignored)
            }
            Msg::Subscriptions { ok } => {
                self.counters.command_replies += 1;
                if !ok {
                    self.refused += 1;
                }
                Ok(Handled::CommandReply { id: None, ok })
            }
            Msg::Error => {
                self.counters.command_replies += 1;
                self.refused += 1;
                Ok(Handled::CommandReply {
                    id: None,
                    ok: false,
                })
            }
            Msg::Pong => Ok(Handled::Pong),
            Msg::Heartbeat => Ok(Handled::Ignored),
        }
    }

    /// A mark once both the mark price and the funding are known. Delta's `mark_price` carries
    /// no index price (that is the `spot_price` channel of the product's index, which this
    /// build does not subscribe to): the update's `index` is zero.
    fn complete_mark(&mut self, i: usize, instrument: InstrumentId, ts_us: u64) {
        if let MarkState {
            mark: Some(mark),
            funding: Some((funding_rate, next_funding_ms)),
        } = self.marks[i]
        {
            self.mark = Some(MarkUpdate {
                instrument,
                mark,
                index: Price::ZERO,
                funding_rate,
                next_funding_ms,
                exchange_ts: UnixNanos::from_micros(ts_us),
            });
        }
    }
}

/// A `subscribe` / `unsubscribe` frame for these channels and symbols.
fn frame(kind: &str, channels: &[(&str, Vec<String>)]) -> String {
    let chans: Vec<serde_json::Value> = channels
        .iter()
        .map(|(name, symbols)| serde_json::json!({"name": name, "symbols": symbols}))
        .collect();
    serde_json::json!({"type": kind, "payload": {"channels": chans}}).to_string()
}

impl MarketData for DeltaMd {
    fn venue_kind(&self) -> &'static str {
        self.platform.kind_name()
    }

    /// `ws_base` is the public endpoint (`wss://public-socket.india.delta.exchange`), used as
    /// it is: Delta's public WebSocket has no path.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let symbols: Vec<String> = self
            .parser
            .insts()
            .iter()
            .map(|(s, _)| s.to_owned())
            .collect();
        let channels: Vec<(&str, Vec<String>)> = self
            .channels
            .iter()
            .map(|c| {
                let syms = match c {
                    Channel::Mark => symbols.iter().map(|s| format!("MARK:{s}")).collect(),
                    _ => symbols.clone(),
                };
                (c.name(), syms)
            })
            .collect();
        let mut subscribe = vec![ENABLE_HEARTBEAT.to_owned()];
        if !symbols.is_empty() {
            subscribe.push(frame("subscribe", &channels));
        }
        ConnectPlan {
            url: ws_base.trim_end_matches('/').to_owned(),
            subscribe,
            // Delta closes a connection without activity for 60 s; the heartbeat comes every
            // 5–30 s. The feed pings after 30 s of silence and drops the connection when
            // nothing answers within another 30 s.
            keepalive: Keepalive::Text {
                ping: PING,
                pong: "pong",
                idle: Duration::from_secs(30),
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
            "Delta books come from ob_updates snapshots, not REST (its REST book has no seq)",
        ))
    }

    fn on_reconnect(&mut self) {
        self.pending.clear();
        self.parser.reset_trades();
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
        self.books.iter().map(DeltaBookSync::instrument).collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(DeltaBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(DeltaBookSync::state)
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
    use crate::venue::md::Publish;

    #[test]
    fn subscribes_every_channel_in_one_frame_after_the_heartbeat() {
        let md = DeltaMd::new(
            Platform::India,
            &[("BTCUSD", InstrumentId(0)), ("ETHUSD", InstrumentId(1))],
            SyncLimits::default(),
        );
        let plan = md.connect_plan("wss://public-socket.india.delta.exchange/");
        assert_eq!(plan.url, "wss://public-socket.india.delta.exchange");
        assert_eq!(
            plan.subscribe,
            vec![
                r#"{"type":"enable_heartbeat"}"#.to_owned(),
                r#"{"type":"subscribe","payload":{"channels":[{"name":"ob_updates","symbols":["BTCUSD","ETHUSD"]},{"name":"ob_l1","symbols":["BTCUSD","ETHUSD"]},{"name":"trades","symbols":["BTCUSD","ETHUSD"]},{"name":"mark_price","symbols":["MARK:BTCUSD","MARK:ETHUSD"]},{"name":"funding_rate","symbols":["BTCUSD","ETHUSD"]}]}}"#.to_owned(),
            ]
        );
        assert_eq!(md.venue_kind(), "delta-india");
    }

    #[test]
    fn a_gap_and_an_error_frame_resubscribe_the_book() {
        let mut md = DeltaMd::new(
            Platform::Global,
            &[("BTCUSDT", InstrumentId(3))],
            SyncLimits::default(),
        );
        let book = |action: &str, seq: u64| {
            format!(
                r#"{{"action":"{action}","a":[["200.0","1"]],"b":[["100.0","1"]],"seq":{seq},"sy":"BTCUSDT","type":"ob_updates","ts":1}}"#
            )
        };
        let h = md.on_frame(book("snapshot", 5).as_bytes()).unwrap();
        assert_eq!(h.published(), Some(Publish::Book(InstrumentId(3))));
        let h = md.on_frame(book("update", 7).as_bytes()).unwrap();
        assert_eq!(h.published(), Some(Publish::Invalid(InstrumentId(3))));
        let unsub = r#"{"type":"unsubscribe","payload":{"channels":[{"name":"ob_updates","symbols":["BTCUSDT"]}]}}"#;
        let sub = r#"{"type":"subscribe","payload":{"channels":[{"name":"ob_updates","symbols":["BTCUSDT"]}]}}"#;
        assert_eq!(md.next_request(), Some(unsub));
        assert_eq!(md.next_request(), Some(sub));
        assert_eq!(md.next_request(), None);
        let h = md.on_frame(book("snapshot", 9).as_bytes()).unwrap();
        assert_eq!(h.published(), Some(Publish::Book(InstrumentId(3))));
        let err = br#"{"action":"error","symbol":"BTCUSDT","type":"ob_updates","msg":"Snapshot load failed. Verify if product is live and resubscribe after a few secs."}"#;
        let h = md.on_frame(err).unwrap();
        assert_eq!(h.published(), Some(Publish::Invalid(InstrumentId(3))));
        assert_eq!(md.next_request(), Some(unsub));
        assert_eq!(md.next_request(), Some(sub));
        assert_eq!((md.resubscribes, md.book_errors), (2, 1));
    }

    #[test]
    fn mark_and_funding_merge_into_marks() {
        let mut md = DeltaMd::new(
            Platform::India,
            &[("BTCUSD", InstrumentId(0))],
            SyncLimits::default(),
        );
        let mark =
            br#"{"p":"72150.5","sy":"MARK:BTCUSD","ts":1775817617000000,"type":"mark_price"}"#;
        assert_eq!(md.on_frame(mark), Ok(Handled::Ignored));
        // No funding yet: no mark.
        assert_eq!(md.mark_update(), None);
        let funding = br#"{"fi": 28800, "fr": 0.010000000000000002, "nfr": 1775836800000000, "sy": "BTCUSD", "ts": 1775817617666383, "type": "funding_rate"}"#;
        assert_eq!(md.on_frame(funding), Ok(Handled::Ignored));
        assert_eq!(
            md.mark_update(),
            Some(MarkUpdate {
                instrument: InstrumentId(0),
                mark: Price::parse("72150.5").unwrap(),
                index: Price::ZERO,
                funding_rate: FundingRate::from_units(10_000),
                next_funding_ms: 1_775_836_800_000,
                exchange_ts: UnixNanos::from_micros(1_775_817_617_666_383),
            })
        );
        assert_eq!(md.mark_update(), None);
        md.on_reconnect();
        assert_eq!(md.on_frame(mark), Ok(Handled::Ignored));
        assert_eq!(md.mark_update(), None);
    }

    #[test]
    fn control_frames() {
        let mut md = DeltaMd::new(Platform::India, &[], SyncLimits::default());
        assert_eq!(md.on_frame(br#"{"type":"pong"}"#), Ok(Handled::Pong));
        assert_eq!(
            md.on_frame(br#"{"ts_origin":1,"ts_publish":2,"type":"heartbeat"}"#),
            Ok(Handled::Ignored)
        );
        assert_eq!(
            md.on_frame(
                br#"{"type":"subscriptions","channels":[{"name":"ob_l1","symbols":["BTCUSD"]}]}"#
            ),
            Ok(Handled::CommandReply { id: None, ok: true })
        );
        assert_eq!(
            md.on_frame(br#"{"type":"subscriptions","channels":[{"name":"orders","symbols":["all"],"error":"subscription forbidden on trading_notifications. Unauthorized user"}]}"#),
            Ok(Handled::CommandReply { id: None, ok: false })
        );
        assert_eq!(
            md.on_frame(
                br#"{"message":"Subscription forbidden: Invalid channel array","type":"error"}"#
            ),
            Ok(Handled::CommandReply {
                id: None,
                ok: false
            })
        );
        assert_eq!(md.refused, 2);
        assert!(md.on_frame(b"pong").is_err());
        assert_eq!(md.counters().malformed, 1);
    }
}
