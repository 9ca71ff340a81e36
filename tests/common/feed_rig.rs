//! The feed actor of one venue on its own host against the in-process simulator's front end
//! for that venue, on loopback: two books, a cache, and the comparison of the cache with the
//! simulator's own books. Shared by the feed tests of OKX, Coinbase and BitMart.

use std::sync::Arc;
use std::time::Duration;

use mako::book::{BookCache, CacheReader, Level};
use mako::config::{OrderTransport, StreamKind, VenueConfig, VenueKind};
use mako::feed::actor::{FeedActor, FeedOptions, FeedSpec, FeedStats, TradeEvent};
use mako::net::Connector;
use mako::runtime::{self, Clock, FullPolicy, HostSpec, IdlePolicy, Rx, Shutdown, bounded};
use mako::sim::SimHandle;
use mako::types::{Instrument, InstrumentId, Price, Qty, Side, VenueId};
use mako::venue::md::MarketData;

use super::{start_sim, wait_for};

/// (the venue's instrument name, the simulator's symbol, base, start price)
pub type Inst = (&'static str, &'static str, &'static str, &'static str);

/// The venue under test.
pub struct FeedVenue {
    pub name: &'static str,
    pub kind: VenueKind,
    pub ws_url: String,
    pub rest_url: String,
    pub order_transport: OrderTransport,
    pub quote: &'static str,
    pub insts: &'static [Inst],
}

/// A simulator with `insts` quoted in `quote`, 30 levels a side.
pub fn sim_of(insts: &[Inst], quote: &str) -> SimHandle {
    let symbols: String = insts
        .iter()
        .map(|(_, s, b, p)| {
            format!("[[symbols]]\nsymbol = \"{s}\"\nbase = \"{b}\"\nquote = \"{quote}\"\nstart_price = \"{p}\"\nlevels = 30\n")
        })
        .collect();
    start_sim(&symbols)
}

pub struct Rig {
    pub sim: SimHandle,
    pub reader: CacheReader,
    pub stats: Arc<FeedStats>,
    pub trades: Rx<TradeEvent>,
    pub insts: &'static [Inst],
    shutdown: Shutdown,
    host: Option<runtime::HostHandle>,
}

/// Starts the feed of `v` with the market data `md` builds for its config and instruments.
pub fn rig<M: MarketData>(
    sim: SimHandle,
    v: FeedVenue,
    md: impl FnOnce(&VenueConfig, &[Instrument]) -> M,
) -> Rig {
    let instruments: Vec<Instrument> = v
        .insts
        .iter()
        .enumerate()
        .map(|(i, (inst, _, b, _))| {
            Instrument::new(
                InstrumentId(i as u32),
                VenueId(0),
                inst,
                b,
                v.quote,
                Price::parse("0.01").unwrap(),
                Qty::parse("0.00001").unwrap(),
            )
            .unwrap()
        })
        .collect();
    let venue = VenueConfig {
        id: VenueId(0),
        name: v.name.into(),
        kind: v.kind,
        ws_url: v.ws_url,
        rest_url: v.rest_url,
        ws_api_url: None,
        order_transport: v.order_transport,
        streams: vec![StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: None,
        demo_trading: false,
        fills_poll: None,
        book_stale_after: None,
        margin_currency: None,
    };
    let cache = BookCache::new(v.insts.len());
    let writers = (0..v.insts.len())
        .map(|i| cache.writer(InstrumentId(i as u32)).unwrap())
        .collect();
    let (trades_tx, trades) = bounded("trades", 4096, FullPolicy::DropNewest);
    let mut options = FeedOptions::default();
    options.snapshot.limit = 400;
    options.snapshot_retry = Duration::from_millis(100);
    let md = md(&venue, &instruments);
    let feed = FeedActor::new(
        FeedSpec {
            venue,
            instruments,
            connector: Connector::with_public_roots(Duration::from_secs(5)).unwrap(),
            writers,
            trades: vec![trades_tx],
            book_changed: vec![],
            recorder: None,
            clock_offset: None,
            record_to: None,
            options,
        },
        md,
    )
    .unwrap();
    let stats = feed.stats();
    let shutdown = Shutdown::new();
    let host = runtime::host::spawn(
        HostSpec {
            name: "feed",
            core: None,
            idle: IdlePolicy::Backoff,
            low_priority: false,
            actors: vec![Box::new(feed)],
            stats: Default::default(),
        },
        Clock::live(),
        shutdown.clone(),
    )
    .unwrap();
    Rig {
        sim,
        reader: cache.reader(),
        stats,
        trades,
        insts: v.insts,
        shutdown,
        host: Some(host),
    }
}

impl Rig {
    /// Whether every book in the cache is valid and equal, level for level, to the
    /// simulator's.
    pub fn books_equal(&self) -> Result<(), String> {
        for (i, (inst, ..)) in self.insts.iter().enumerate() {
            let d = self.reader.depth(InstrumentId(i as u32));
            if !d.valid {
                return Err(format!("{inst} not valid"));
            }
            let levels = |side, n| -> Vec<Level> {
                self.sim.with_exchange(|ex| {
                    ex.symbols[i]
                        .book
                        .top(side, n)
                        .into_iter()
                        .map(|(price, qty)| Level { price, qty })
                        .collect()
                })
            };
            let (bids, asks) = (
                levels(Side::Buy, d.bids.len()),
                levels(Side::Sell, d.asks.len()),
            );
            if d.bid_levels() != bids.as_slice() || d.ask_levels() != asks.as_slice() {
                return Err(format!(
                    "{inst}: cache {:?} / {:?}, sim {bids:?} / {asks:?}",
                    d.bid_levels(),
                    d.ask_levels()
                ));
            }
        }
        Ok(())
    }

    /// Pauses the simulated market and waits for the cache to equal the simulator's books.
    pub fn assert_books_equal_when_quiet(&self, what: &str) {
        self.sim.pause_market(true);
        let mut last = String::new();
        let ok = wait_for(Duration::from_secs(30), || match self.books_equal() {
            Ok(()) => Some(()),
            Err(e) => {
                last = e;
                None
            }
        });
        assert!(ok.is_some(), "{what}: books differ: {last}");
        self.sim.pause_market(false);
    }

    pub fn stat(&self, f: impl Fn(&FeedStats) -> u64) -> u64 {
        f(&self.stats)
    }

    pub fn wait_stat(&self, what: &str, f: impl Fn(&FeedStats) -> u64, at_least: u64) {
        let ok = wait_for(Duration::from_secs(30), || {
            (f(&self.stats) >= at_least).then_some(())
        });
        assert!(ok.is_some(), "{what}: {} < {at_least}", f(&self.stats));
    }

    pub fn stop(&mut self) {
        self.shutdown.request();
        if let Some(h) = self.host.take() {
            assert!(h.join(), "feed host ends cleanly");
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.shutdown.request();
    }
}
