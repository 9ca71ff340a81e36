//! The feed actor on BitMart spot against the simulator's BitMart public front end, on
//! loopback: the same feed code as every venue's, with BitMart's `MarketData` (compressed
//! binary pushes inflated, `spot/depth/increase100` snapshots and versioned updates, the text
//! ping). It syncs two books and, once the market is paused, the cache holds exactly the
//! simulator's books; it survives disconnects, and a lost update (a `version` gap) makes the
//! feed ask the same connection for that book's snapshot, no new connection needed.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{start_sim, wait_for};
use mako::book::{BookCache, CacheReader, Level};
use mako::config::{OrderTransport, StreamKind, VenueConfig, VenueKind};
use mako::feed::actor::{FeedActor, FeedOptions, FeedSpec, FeedStats, TradeEvent};
use mako::net::Connector;
use mako::runtime::{self, Clock, FullPolicy, HostSpec, IdlePolicy, Rx, Shutdown, bounded};
use mako::sim::SimHandle;
use mako::types::{Instrument, InstrumentId, Price, Qty, Side, VenueId};
use mako::venue::bitmart::BitmartMd;
use mako::venue::md::SyncLimits;

/// (BitMart symbol, the simulator's symbol, base, start price)
const INSTS: [(&str, &str, &str, &str); 2] = [
    ("BTC_USDT", "BTCUSDT", "BTC", "60000"),
    ("ETH_USDT", "ETHUSDT", "ETH", "3000"),
];

fn sim() -> SimHandle {
    let symbols: String = INSTS
        .iter()
        .map(|(_, s, b, p)| {
            format!("[[symbols]]\nsymbol = \"{s}\"\nbase = \"{b}\"\nquote = \"USDT\"\nstart_price = \"{p}\"\nlevels = 30\n")
        })
        .collect();
    start_sim(&symbols)
}

struct Rig {
    sim: SimHandle,
    reader: CacheReader,
    stats: Arc<FeedStats>,
    trades: Rx<TradeEvent>,
    shutdown: Shutdown,
    host: Option<runtime::HostHandle>,
}

fn rig(sim: SimHandle) -> Rig {
    let instruments: Vec<Instrument> = INSTS
        .iter()
        .enumerate()
        .map(|(i, (inst, _, b, _))| {
            Instrument::new(
                InstrumentId(i as u32),
                VenueId(0),
                inst,
                b,
                "USDT",
                Price::parse("0.01").unwrap(),
                Qty::parse("0.00001").unwrap(),
            )
            .unwrap()
        })
        .collect();
    let venue = VenueConfig {
        id: VenueId(0),
        name: "bitmart".into(),
        kind: VenueKind::BitmartSpot,
        ws_url: sim.bitmart_ws_url(),
        rest_url: sim.rest_url(),
        ws_api_url: None,
        order_transport: OrderTransport::Rest,
        streams: vec![StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: None,
        demo_trading: false,
    };
    let cache = BookCache::new(INSTS.len());
    let writers = (0..INSTS.len())
        .map(|i| cache.writer(InstrumentId(i as u32)).unwrap())
        .collect();
    let (trades_tx, trades) = bounded("trades", 4096, FullPolicy::DropNewest);
    let mut options = FeedOptions::default();
    options.snapshot.limit = 400;
    options.snapshot_retry = Duration::from_millis(100);
    let md = BitmartMd::for_venue(&venue, &instruments, SyncLimits::default());
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
        shutdown,
        host: Some(host),
    }
}

impl Rig {
    fn books_equal(&self) -> Result<(), String> {
        for (i, (inst, ..)) in INSTS.iter().enumerate() {
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
fn syncs_bitmart_books_and_resyncs_after_disconnects_and_version_gaps() {
    let mut r = rig(sim());
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    r.wait_stat("frames", |s| s.frames.load(Relaxed), 50);
    r.assert_books_equal_when_quiet("after sync");
    assert_eq!(r.stat(|s| s.resyncs.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.gaps.load(Relaxed)), 0);
    // Books came whole over the WebSocket: no REST snapshot is ever asked for.
    assert_eq!(r.stat(|s| s.snapshot_requests.load(Relaxed)), 0);
    let t = wait_for(Duration::from_secs(30), || r.trades.try_recv()).expect("a trade arrived");
    assert!((t.instrument.0 as usize) < INSTS.len() && t.qty > Qty::ZERO);

    // Disconnects: counted, every book resynced from the next subscription's snapshot.
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    r.sim.disconnect_market();
    r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), 1);
    r.wait_stat("resyncs", |s| s.resyncs.load(Relaxed), resyncs + 2);
    r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after a disconnect");

    // A withheld update costs a version: each gap throws that book away and the feed asks
    // the same connection for its snapshot (BitMart's `request` op), which brings it back.
    let gaps = r.stat(|s| s.gaps.load(Relaxed));
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    let (reconnects, rotations, connects) = (
        r.stat(|s| s.reconnects.load(Relaxed)),
        r.stat(|s| s.rotations.load(Relaxed)),
        r.stat(|s| s.connects.load(Relaxed)),
    );
    r.sim.faults().set_depth_gap_every(15);
    r.wait_stat("gaps", |s| s.gaps.load(Relaxed), gaps + 3);
    r.sim.faults().set_depth_gap_every(0);
    r.wait_stat("books live after gaps", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after gaps");
    assert!(r.stat(|s| s.resyncs.load(Relaxed)) >= resyncs + 3);
    assert_eq!(
        (
            r.stat(|s| s.reconnects.load(Relaxed)),
            r.stat(|s| s.rotations.load(Relaxed)),
            r.stat(|s| s.connects.load(Relaxed)),
        ),
        (reconnects, rotations, connects),
        "the gaps were mended on the same connection"
    );
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_a_bitmart_recording() {
    let s = sim();
    let dir = std::env::temp_dir().join(format!("mako-record-bitmart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"bitmart\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"bitmart\"\nkind = \"bitmart-spot\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"bookTicker\", \"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.bitmart_ws_url(),
            s.rest_url()
        ),
    )
    .unwrap();
    // Plain text (not --gzip), so `mako decode` reads it too.
    let out = dir.join("bitmart.rec");
    let rec = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["record", cfg.to_str().unwrap(), "--out"])
        .arg(&out)
        .args(["--for", "2s"])
        .output()
        .unwrap();
    assert!(
        rec.status.success(),
        "mako record: {}",
        String::from_utf8_lossy(&rec.stderr)
    );
    let book = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .arg("book")
        .arg(&out)
        .args(["--venue", "bitmart-spot", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&book.stdout);
    assert!(book.status.success(), "mako book: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (
            v["malformed_frames"].as_u64(),
            v["malformed_lines"].as_u64()
        ),
        (Some(0), Some(0)),
        "{v}"
    );
    let books = v["books"].as_array().unwrap();
    assert_eq!(books.len(), 2, "{v}");
    for b in books {
        assert_eq!(b["live"], true, "{b}");
        assert_eq!(b["gaps"], 0, "{b}");
    }
    // The recording holds the inflated text: `mako decode` reads it line by line.
    let dec = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["decode", "--venue", "bitmart-spot"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dec.stdout);
    assert!(dec.status.success(), "mako decode: {text}");
    assert!(
        text.lines()
            .any(|l| l.contains("\"kind\":\"book\"") && l.contains("\"type\":\"snapshot\"")),
        "{text}"
    );
    assert!(!text.contains("\"error\""), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
