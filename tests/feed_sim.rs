//! The feed actor against the simulator on loopback, three instruments on one connection:
//! it subscribes, syncs, and once the market is paused the book cache holds exactly the
//! simulator's books; it survives disconnects, sequence gaps and connection rotation (each
//! counted, resynced, and the books equal again afterwards); `mako record` records the
//! simulator and `mako book` replays the file.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{start_sim, wait_for};
use mako::book::{BookCache, CacheReader, Level};
use mako::config::{
    BandConfig, LatencyConfig, OrderTransport, Statistic, StreamKind, VenueConfig, VenueKind,
};
use mako::feed::actor::{FeedActor, FeedOptions, FeedSpec, FeedStats, TradeEvent};
use mako::latency::{LatencyHub, Measurement, Recorder};
use mako::net::Connector;
use mako::runtime::{self, Clock, FullPolicy, HostSpec, IdlePolicy, Rx, Shutdown, bounded};
use mako::sim::SimHandle;
use mako::types::{Instrument, InstrumentId, Price, Qty, Side, VenueId};
use mako::venue::binance::handler::SpotMdHandler;

const SYMBOLS: [(&str, &str, &str); 3] = [
    ("BTCUSDT", "BTC", "60000"),
    ("ETHUSDT", "ETH", "3000"),
    ("SOLUSDT", "SOL", "150"),
];

fn sim_symbols() -> String {
    SYMBOLS
        .iter()
        .map(|(s, b, p)| {
            format!(
                "[[symbols]]\nsymbol = \"{s}\"\nbase = \"{b}\"\nstart_price = \"{p}\"\nlevels = 30\n"
            )
        })
        .collect()
}

fn instruments() -> Vec<Instrument> {
    SYMBOLS
        .iter()
        .enumerate()
        .map(|(i, (s, b, _))| {
            Instrument::new(
                InstrumentId(i as u32),
                VenueId(0),
                s,
                b,
                "USDT",
                Price::parse("0.01").unwrap(),
                Qty::parse("0.00001").unwrap(),
            )
            .unwrap()
        })
        .collect()
}

fn venue(sim: &SimHandle) -> VenueConfig {
    VenueConfig {
        id: VenueId(0),
        name: "binance".into(),
        kind: VenueKind::BinanceSpot,
        ws_url: sim.ws_url(),
        rest_url: sim.rest_url(),
        ws_api_url: None,
        order_transport: OrderTransport::Rest,
        streams: vec![StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: None,
        demo_trading: false,
        fills_poll: None,
        book_stale_after: None,
        margin_currency: None,
    }
}

struct Rig {
    sim: SimHandle,
    reader: CacheReader,
    stats: Arc<FeedStats>,
    changed: Rx<InstrumentId>,
    trades: Rx<TradeEvent>,
    shutdown: Shutdown,
    host: Option<runtime::HostHandle>,
}

fn rig(options: FeedOptions) -> Rig {
    rig_on(start_sim(&sim_symbols()), options, None)
}

fn rig_on(sim: SimHandle, options: FeedOptions, recorder: Option<Recorder>) -> Rig {
    let cache = BookCache::new(SYMBOLS.len());
    let writers = (0..SYMBOLS.len())
        .map(|i| cache.writer(InstrumentId(i as u32)).unwrap())
        .collect();
    let (changed_tx, changed) = bounded("book-changed", 64, FullPolicy::Conflate);
    let (trades_tx, trades) = bounded("trades", 4096, FullPolicy::DropNewest);
    let md = SpotMdHandler::for_venue(&venue(&sim), &instruments(), options.sync_limits).unwrap();
    let feed = FeedActor::new(
        FeedSpec {
            venue: venue(&sim),
            instruments: instruments(),
            connector: Connector::with_public_roots(Duration::from_secs(5)).unwrap(),
            writers,
            trades: vec![trades_tx],
            book_changed: vec![changed_tx],
            recorder,
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
        changed,
        trades,
        shutdown,
        host: Some(host),
    }
}

fn test_options() -> FeedOptions {
    let mut o = FeedOptions::default();
    // The simulator's weight limit is Binance's; this test may spend all of it.
    o.snapshot.weight_per_minute = 6000;
    o.snapshot.limit = 100;
    o.snapshot_retry = Duration::from_millis(100);
    o
}

impl Rig {
    /// The simulator's best `n` levels of symbol `i`, best first.
    fn sim_levels(&self, i: usize, side: Side, n: usize) -> Vec<Level> {
        self.sim.with_exchange(|ex| {
            ex.symbols[i]
                .book
                .top(side, n)
                .into_iter()
                .map(|(price, qty)| Level { price, qty })
                .collect()
        })
    }

    /// Whether every instrument's cached depth is valid and equals the simulator's book.
    fn books_equal(&self) -> Result<(), String> {
        for (i, (sym, _, _)) in SYMBOLS.iter().enumerate() {
            let d = self.reader.depth(InstrumentId(i as u32));
            if !d.valid {
                return Err(format!("{} not valid", sym));
            }
            let bids = self.sim_levels(i, Side::Buy, d.bids.len());
            let asks = self.sim_levels(i, Side::Sell, d.asks.len());
            if d.bid_levels() != bids.as_slice() || d.ask_levels() != asks.as_slice() {
                return Err(format!(
                    "{}: cache bids {:?} asks {:?}, sim bids {:?} asks {:?}",
                    sym,
                    d.bid_levels(),
                    d.ask_levels(),
                    bids,
                    asks
                ));
            }
            let top = self.reader.top(InstrumentId(i as u32));
            if !top.valid || Some(&top.bid) != bids.first() || Some(&top.ask) != asks.first() {
                return Err(format!("{}: top {top:?} differs", sym));
            }
        }
        Ok(())
    }

    /// Pauses the market, waits until the cache equals the simulator, resumes.
    fn assert_books_equal_when_quiet(&self, what: &str) {
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

    fn stat(&self, f: impl Fn(&FeedStats) -> u64) -> u64 {
        f(&self.stats)
    }

    fn wait_stat(&self, what: &str, f: impl Fn(&FeedStats) -> u64, at_least: u64) {
        let ok = wait_for(Duration::from_secs(30), || {
            (f(&self.stats) >= at_least).then_some(())
        });
        assert!(ok.is_some(), "{what}: {} < {at_least}", f(&self.stats));
    }

    fn stop(&mut self) {
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

#[test]
fn syncs_three_books_and_matches_the_simulator() {
    let mut r = rig(test_options());
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 3);
    r.assert_books_equal_when_quiet("after sync");
    // Trades and change notifications flowed, each for our instruments.
    let mut seen = [false; 3];
    let got = wait_for(Duration::from_secs(30), || {
        while let Some(id) = r.changed.try_recv() {
            seen[id.0 as usize] = true;
        }
        seen.iter().all(|s| *s).then_some(())
    });
    assert!(
        got.is_some(),
        "book-changed notices for every instrument: {seen:?}"
    );
    let t = wait_for(Duration::from_secs(30), || r.trades.try_recv());
    let t = t.expect("a trade arrived");
    assert!((t.instrument.0 as usize) < SYMBOLS.len());
    assert!(t.price > Price::ZERO && t.qty > Qty::ZERO);
    assert!(r.stat(|s| s.snapshot_requests.load(Relaxed)) >= 3);
    assert!(r.stat(|s| s.snapshots_applied.load(Relaxed)) >= 3);
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);
    assert!(r.stat(|s| s.frames.load(Relaxed)) > 0);
    r.stop();
}

#[test]
fn survives_disconnects_and_sequence_gaps() {
    let mut r = rig(test_options());
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 3);
    r.assert_books_equal_when_quiet("after sync");

    // Disconnects: each one counted, every book resynced.
    for k in 1..=2u64 {
        let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
        r.sim.disconnect_market();
        r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), k);
        r.wait_stat("resyncs", |s| s.resyncs.load(Relaxed), resyncs + 3);
        r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 3);
        r.assert_books_equal_when_quiet("after a disconnect");
    }

    // Gaps in the diff stream: detected, resynced from a new snapshot.
    let gaps = r.stat(|s| s.gaps.load(Relaxed));
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    let snaps = r.stat(|s| s.snapshots_applied.load(Relaxed));
    r.sim.faults().set_depth_gap_every(15);
    r.wait_stat("gaps", |s| s.gaps.load(Relaxed), gaps + 3);
    r.sim.faults().set_depth_gap_every(0);
    assert!(r.stat(|s| s.resyncs.load(Relaxed)) >= resyncs + 3);
    r.wait_stat(
        "snapshots after gaps",
        |s| s.snapshots_applied.load(Relaxed),
        snaps + 3,
    );
    r.wait_stat("books live after gaps", |s| s.books_live.load(Relaxed), 3);
    r.assert_books_equal_when_quiet("after gaps");
    r.stop();
}

#[test]
fn rotates_connections_before_they_get_old() {
    let mut o = test_options();
    o.max_connection_age = Duration::from_millis(1500);
    let mut r = rig(o);
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 3);
    r.wait_stat("rotations", |s| s.rotations.load(Relaxed), 3);
    // Rotation is not a drop.
    assert_eq!(r.stat(|s| s.reconnects.load(Relaxed)), 0);
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 3);
    r.assert_books_equal_when_quiet("after rotations");
    // The old connections were closed: at most the active one and a spare remain.
    let conns = wait_for(Duration::from_secs(10), || {
        let n = r.sim.market_connections();
        (n <= 2).then_some(n)
    });
    assert!(conns.is_some(), "old connections closed");
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_the_recording() {
    let sim = start_sim(&sim_symbols());
    let dir = std::env::temp_dir().join(format!("mako-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = SYMBOLS[..2]
        .iter()
        .map(|(s, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"binance\"\nsymbol = \"{s}\"\nbase = \"{b}\"\n\
                 quote = \"USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"binance\"\nkind = \"binance-spot\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\n{instruments}",
            dir.join("data").display(),
            sim.ws_url(),
            sim.rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("md.gz");
    let rec = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["record", cfg.to_str().unwrap(), "--out"])
        .arg(&out)
        .args(["--for", "2s", "--gzip"])
        .output()
        .unwrap();
    assert!(
        rec.status.success(),
        "mako record: {}",
        String::from_utf8_lossy(&rec.stderr)
    );
    let book = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["book"])
        .arg(&out)
        .args(["--venue", "binance-spot", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&book.stdout);
    assert!(
        book.status.success(),
        "mako book: {stdout}\n{}",
        String::from_utf8_lossy(&book.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["malformed_frames"], 0, "{v}");
    assert_eq!(v["malformed_lines"], 0, "{v}");
    assert!(v["frames"].as_u64().unwrap() > 10, "{v}");
    assert!(v["snapshots"].as_u64().unwrap() >= 2, "{v}");
    let books = v["books"].as_array().unwrap();
    assert_eq!(books.len(), 2, "{v}");
    for b in books {
        // Each recorded snapshot found its book, and the diffs after it chained.
        assert_eq!(b["live"], true, "{b}");
        assert!(b["snapshots_applied"].as_u64().unwrap() >= 1, "{b}");
        assert_eq!(b["gaps"], 0, "{b}");
        assert!(!b["bids"].as_array().unwrap().is_empty(), "{b}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn latency_config() -> LatencyConfig {
    LatencyConfig {
        window: Duration::from_secs(60),
        statistic: Statistic::P99,
        evaluate_every: Duration::from_secs(1),
        degrade_after: 1,
        recover_after: 2,
        stale_after: Duration::from_secs(5),
        probe_interval: Duration::from_secs(1),
        bands: vec![BandConfig {
            name: "only".into(),
            max_latency: None,
            min_spread_bps: 1,
            size_multiplier: 1.0,
            throttle: Duration::ZERO,
        }],
    }
}

#[test]
fn rate_limited_snapshots_and_server_shutdown_with_latency_recorded() {
    let sim = start_sim(&sim_symbols());
    // Every REST answer is 429 (Retry-After: 1) at first: requests fail, are counted, and
    // are retried after the wait; no book can go live.
    sim.faults().set_http_429_rate(1.0);
    let mut hub = LatencyHub::new(&latency_config(), vec!["binance".into()])
        .unwrap()
        .with_flush_every(Duration::from_millis(100));
    let recorder = hub
        .recorder(VenueId(0), &[Measurement::FeedLag, Measurement::StageBook])
        .unwrap();
    let mut monitor = hub.into_monitor();
    let mut r = rig_on(sim, test_options(), Some(recorder));
    r.wait_stat("failed snapshots", |s| s.snapshot_failures.load(Relaxed), 3);
    assert_eq!(r.stat(|s| s.books_live.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.snapshots_applied.load(Relaxed)), 0);
    r.sim.faults().set_http_429_rate(0.0);
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 3);
    r.assert_books_equal_when_quiet("after rate-limited snapshots");
    let requests = r.stat(|s| s.snapshot_requests.load(Relaxed));
    let failures = r.stat(|s| s.snapshot_failures.load(Relaxed));
    assert!(
        requests >= failures + 3,
        "requests {requests} failures {failures}"
    );

    // serverShutdown then close: the feed opens a spare at once. If the spare is up when the
    // old connection closes it takes over and the diff chain says nothing was missed (no
    // resync); if not, the feed reconnects and resyncs every book. Which one happens is a
    // race between the simulator's close and the spare's connect: either way the books end
    // live and equal to the simulator's.
    r.sim.server_shutdown_event();
    r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), 1);
    r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 3);
    r.assert_books_equal_when_quiet("after serverShutdown");
    r.stop();

    // The feed flushed its histograms on stop: lag and book-stage samples arrived.
    while monitor.drain_batches() > 0 {}
    for m in [Measurement::FeedLag, Measurement::StageBook] {
        let n = monitor.window(VenueId(0), m).map_or(0, |w| w.run().len());
        assert!(n > 0, "{m:?}: no samples");
    }
}
