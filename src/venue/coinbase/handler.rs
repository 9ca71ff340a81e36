//! `CoinbaseMd`: one Coinbase Advanced Trade market-data connection's frames → codec →
//! sequence check → the `CoinbaseBookSync` of each product; Coinbase's side of the
//! `MarketData` seam (connect plan with one subscribe message per channel, `heartbeats` to
//! keep the connection open, no REST snapshots: books come whole on subscribing).

use crate::book::L2Book;
use crate::types::{InstrumentId, TradePrint};
use crate::venue::md::{
    ConnectPlan, FeedCounters, HandleError, Handled, Keepalive, MarketData, SyncCounters,
    SyncLimits, SyncState,
};

use super::md::{CoinbaseMdError, CoinbaseMdParser, InstTable, Msg};
use super::sync::{CoinbaseBookSync, ConnSeq, SeqCheck};

impl From<CoinbaseMdError> for HandleError {
    fn from(e: CoinbaseMdError) -> Self {
        HandleError::Codec(e.as_str())
    }
}

/// The channels a connection subscribes to.
const DEFAULT_CHANNELS: [&str; 3] = ["level2", "ticker", "market_trades"];

/// The market-data side of one Coinbase connection.
pub struct CoinbaseMd {
    parser: CoinbaseMdParser,
    books: Vec<CoinbaseBookSync>,
    limits: SyncLimits,
    counters: FeedCounters,
    seq: ConnSeq,
    /// Messages taken in order, across connections: the books' and tickers' update ids
    /// (a connection's own `sequence_num` starts again at each connection).
    stamp: u64,
    /// Messages dropped as out-of-order copies, and gaps seen.
    pub stale_messages: u64,
    pub gaps: u64,
    channels: Vec<&'static str>,
}

impl CoinbaseMd {
    /// A handler for `products` (`product_id`, instrument), subscribing to `level2`, `ticker`
    /// and `market_trades` (and always `heartbeats`).
    pub fn new(products: &[(&str, InstrumentId)], limits: SyncLimits) -> Self {
        let mut table = InstTable::default();
        for (s, id) in products {
            table.insert(s, *id);
        }
        let books = table
            .iter()
            .map(|(_, id)| CoinbaseBookSync::new(id, limits))
            .collect();
        Self {
            parser: CoinbaseMdParser::new(table, limits.book_levels.min(4096)),
            books,
            limits,
            counters: FeedCounters::default(),
            seq: ConnSeq::default(),
            stamp: 0,
            stale_messages: 0,
            gaps: 0,
            channels: DEFAULT_CHANNELS.to_vec(),
        }
    }

    /// One venue's instruments (`instruments` may hold other venues' too), subscribing to
    /// the channels of its configured streams; a `-USDC` instrument (other than `USDT-USDC`
    /// and `EURC-USDC`) is fed from its `-USD` product's market data.
    pub fn for_venue(
        venue: &crate::config::VenueConfig,
        instruments: &[crate::types::Instrument],
        limits: SyncLimits,
    ) -> Self {
        // A `-USDC` product's market data is its `-USD` product's (the aliasing rule): the
        // feed subscribes to and books it under that id. Two instruments sharing one
        // product's data (`BTC-USD` and `BTC-USDC`): the first configured gets the book.
        let mut ids: Vec<(String, InstrumentId)> = Vec::new();
        for i in instruments.iter().filter(|i| i.venue == venue.id) {
            let p = super::products::market_data_product(&i.symbol).into_owned();
            if ids.iter().all(|(have, _)| *have != p) {
                ids.push((p, i.id));
            }
        }
        let mine: Vec<(&str, InstrumentId)> = ids.iter().map(|(p, id)| (p.as_str(), *id)).collect();
        let mut md = Self::new(&mine, limits);
        use crate::config::StreamKind;
        md.channels = venue
            .streams
            .iter()
            .map(|k| match k {
                StreamKind::BookTicker => "ticker",
                StreamKind::Depth => "level2",
                StreamKind::Trade => "market_trades",
            })
            .collect();
        md
    }

    /// Adds a product and its book (replay tools; allocates).
    pub fn add_instrument(&mut self, product_id: &str, id: InstrumentId) {
        if self.parser.insts().get(product_id).is_none() {
            self.parser.insts_mut().insert(product_id, id);
            self.books.push(CoinbaseBookSync::new(id, self.limits));
        }
    }

    pub fn insts(&self) -> &InstTable {
        self.parser.insts()
    }

    pub fn sync(&self, id: InstrumentId) -> Option<&CoinbaseBookSync> {
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
        if let Some(seq) = msg.seq() {
            match self.seq.check(seq) {
                SeqCheck::InOrder => self.stamp += 1,
                SeqCheck::Stale => {
                    self.stale_messages += 1;
                    return Ok(Handled::Ignored);
                }
                SeqCheck::Gap { .. } => {
                    self.gaps += 1;
                    for b in &mut self.books {
                        let _ = b.on_gap();
                    }
                    // The message after a gap is not used either: the books wait for the
                    // snapshots of a new connection.
                    return Ok(Handled::Resync);
                }
            }
        }
        match msg {
            Msg::L2 { ts, .. } => {
                let mut last = None;
                for k in 0..self.parser.events.len() {
                    let e = self.parser.events[k];
                    let i = self.slot(e.instrument)?;
                    let bids = &self.parser.bids[e.bids.0..e.bids.1];
                    let asks = &self.parser.asks[e.asks.0..e.asks.1];
                    let event = if e.snapshot {
                        self.counters.snapshots += 1;
                        self.books[i].on_snapshot(self.stamp, bids, asks)
                    } else {
                        self.counters.depth_updates += 1;
                        self.books[i].on_update(self.stamp, bids, asks)
                    };
                    last = Some(Handled::Book {
                        instrument: e.instrument,
                        event,
                        event_time: if e.snapshot { None } else { Some(ts) },
                    });
                }
                Ok(last.unwrap_or(Handled::Ignored))
            }
            Msg::Ticker {
                instrument,
                bid,
                ask,
                ts,
                ..
            } => {
                self.counters.book_tickers += 1;
                Ok(Handled::Bbo {
                    instrument,
                    update_id: self.stamp,
                    bid,
                    ask,
                    event_time: Some(ts),
                })
            }
            Msg::Trades { .. } => {
                self.counters.trades += self.parser.trades.len() as u64;
                Ok(Handled::Trades)
            }
            Msg::Sequenced { .. } => Ok(Handled::Ignored),
            Msg::Error => {
                self.counters.command_replies += 1;
                Ok(Handled::CommandReply {
                    id: None,
                    ok: false,
                })
            }
        }
    }
}

impl MarketData for CoinbaseMd {
    fn venue_kind(&self) -> &'static str {
        "coinbase"
    }

    /// `ws_base` is the market-data endpoint (`wss://advanced-trade-ws.coinbase.com`), used
    /// as it is. One subscribe message per channel (the docs' rule), `heartbeats` first: the
    /// feed sends them all right after the handshake, well within the 5 s Coinbase allows.
    fn connect_plan(&self, ws_base: &str) -> ConnectPlan {
        let products: Vec<String> = self
            .parser
            .insts()
            .iter()
            .map(|(p, _)| serde_json::Value::from(p).to_string())
            .collect();
        let ids = products.join(",");
        let mut subscribe = vec![r#"{"type":"subscribe","channel":"heartbeats"}"#.to_owned()];
        for ch in &self.channels {
            subscribe.push(format!(
                r#"{{"type":"subscribe","product_ids":[{ids}],"channel":"{ch}"}}"#
            ));
        }
        ConnectPlan {
            url: ws_base.trim_end_matches('/').to_owned(),
            subscribe,
            // Heartbeats arrive every second; the WebSocket layer answers the server's pings.
            keepalive: Keepalive::ServerPings,
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

    fn on_snapshot(&mut self, _id: InstrumentId, _body: &[u8]) -> Result<Handled, HandleError> {
        self.counters.frames += 1;
        self.counters.malformed += 1;
        Err(HandleError::Codec(
            "Coinbase books come from the level2 channel, not REST",
        ))
    }

    fn on_reconnect(&mut self) {
        self.seq.reset();
        for b in &mut self.books {
            let _ = b.on_reconnect();
        }
    }

    /// The spare connection took over: its `sequence_num` starts again; its `level2`
    /// snapshots replace the books.
    fn on_connection_switch(&mut self) {
        self.seq.reset();
    }

    fn trades(&mut self) -> &mut Vec<TradePrint> {
        &mut self.parser.trades
    }

    fn instruments(&self) -> Vec<InstrumentId> {
        self.books
            .iter()
            .map(CoinbaseBookSync::instrument)
            .collect()
    }

    #[inline]
    fn book(&self, id: InstrumentId) -> Option<&L2Book> {
        self.sync(id).map(CoinbaseBookSync::book)
    }

    fn state(&self, id: InstrumentId) -> Option<SyncState> {
        self.sync(id).map(CoinbaseBookSync::state)
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
    use crate::config::{OrderTransport, StreamKind, VenueConfig, VenueKind};
    use crate::types::{Instrument, Price, Qty, VenueId};

    #[test]
    fn a_usdc_instrument_is_fed_from_its_usd_product() {
        let venue = VenueConfig {
            id: VenueId(0),
            name: "coinbase".into(),
            kind: VenueKind::Coinbase,
            ws_url: "ws://127.0.0.1:1".into(),
            rest_url: "http://127.0.0.1:1".into(),
            ws_api_url: None,
            order_transport: OrderTransport::Rest,
            streams: vec![StreamKind::Depth],
            credentials: None,
            recv_window: std::time::Duration::from_secs(5),
            cancel_unknown_orders: false,
            private_ws_url: None,
            demo_trading: false,
            fills_poll: None,
            book_stale_after: None,
            margin_currency: None,
        };
        let inst = |id: u32, sym: &str, venue: u16| {
            let (base, quote) = sym.split_once('-').unwrap();
            let tick = Price::parse("0.01").unwrap();
            let lot = Qty::parse("0.001").unwrap();
            Instrument::new(
                InstrumentId(id),
                VenueId(venue),
                sym,
                base,
                quote,
                tick,
                lot,
            )
            .unwrap()
        };
        let all = [
            inst(0, "ETH-USDC", 0),
            inst(1, "USDT-USDC", 0),
            inst(2, "BTC-USD", 0),
            // Shares BTC-USD's data: the first configured keeps the book.
            inst(3, "BTC-USDC", 0),
            inst(4, "SOL-USDC", 1),
        ];
        let md = CoinbaseMd::for_venue(&venue, &all, SyncLimits::default());
        assert_eq!(md.insts().get("ETH-USD"), Some(InstrumentId(0)));
        assert_eq!(md.insts().get("ETH-USDC"), None);
        assert_eq!(md.insts().get("USDT-USDC"), Some(InstrumentId(1)));
        assert_eq!(md.insts().get("BTC-USD"), Some(InstrumentId(2)));
        assert_eq!(md.insts().get("SOL-USD"), None);
        let plan = md.connect_plan("ws://x");
        assert_eq!(
            plan.subscribe[1],
            r#"{"type":"subscribe","product_ids":["ETH-USD","USDT-USDC","BTC-USD"],"channel":"level2"}"#
        );
    }
}
