//! The feed actor on Bybit v5 (spot and linear) against the simulator's Bybit public front
//! end, on loopback: the same feed code as every venue's, with Bybit's `MarketData`
//! (`orderbook.50` snapshots and `u`-chained deltas, `orderbook.1` as the best bid and offer,
//! `publicTrade` with UUID trade ids, the JSON ping; on linear the tickers' mark, index and
//! funding). Once the market is paused the cache holds exactly the simulator's books; a
//! disconnect recovers; a lost delta (a `u` gap) re-subscribes that book on the same
//! connection; on linear a strategy-side cache reader sees the mark beside the book.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig, sim_of};
use common::wait_for;
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::{FundingRate, InstrumentId, Price, Qty};
use mako::venue::bybit::{BybitMd, Category};
use mako::venue::md::SyncLimits;

/// (Bybit symbol, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("BTCUSDT", "BTCUSDT", "BTC", "60000"),
    ("ETHUSDT", "ETHUSDT", "ETH", "3000"),
];

fn sim() -> SimHandle {
    sim_of(&INSTS, "USDT")
}

fn rig(sim: SimHandle, category: Category) -> Rig {
    let venue = FeedVenue {
        name: "bybit",
        kind: match category {
            Category::Spot => VenueKind::BybitSpot,
            Category::Linear => VenueKind::BybitLinear,
        },
        ws_url: sim.bybit_ws_url(),
        rest_url: sim.rest_url(),
        order_transport: OrderTransport::Rest,
        quote: "USDT",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, move |v, insts| {
        BybitMd::for_venue(category, v, insts, SyncLimits::default())
    })
}

/// Sync, trades, a disconnect, then lost deltas mended on the same connection.
fn books_follow_the_simulator(r: &Rig) {
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    r.wait_stat("frames", |s| s.frames.load(Relaxed), 50);
    r.assert_books_equal_when_quiet("after sync");
    assert_eq!(r.stat(|s| s.resyncs.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.gaps.load(Relaxed)), 0);
    // Books came whole over the WebSocket: no REST snapshot is ever asked for.
    assert_eq!(r.stat(|s| s.snapshot_requests.load(Relaxed)), 0);
    let t = wait_for(Duration::from_secs(30), || r.trades.try_recv()).expect("a trade arrived");
    assert!((t.instrument.0 as usize) < INSTS.len() && t.qty > Qty::ZERO);
    assert_eq!(
        t.trade_id.as_str().len(),
        36,
        "a UUID-shaped id: {:?}",
        t.trade_id
    );

    // Disconnects: counted, every book resynced from the next subscription's snapshot.
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    r.sim.disconnect_market();
    r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), 1);
    r.wait_stat("resyncs", |s| s.resyncs.load(Relaxed), resyncs + 2);
    r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after a disconnect");

    // A lost delta spends its `u`: each gap throws that book away and the feed re-subscribes
    // its topic on the same connection, whose snapshot brings it back.
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
}

#[test]
fn syncs_bybit_spot_books_through_disconnects_and_u_gaps() {
    let mut r = rig(sim(), Category::Spot);
    books_follow_the_simulator(&r);
    // Spot has no mark.
    assert_eq!(r.reader.mark(InstrumentId(0)).seq, 0);
    r.stop();
}

#[test]
fn syncs_bybit_linear_books_and_publishes_marks_beside_them() {
    let mut r = rig(sim(), Category::Linear);
    books_follow_the_simulator(&r);
    // A strategy-side reader sees each perpetual's mark: the simulator states mark = index =
    // the mid, its configured funding rate (0.0001) and the next 8-hour boundary.
    r.sim.pause_market(true);
    for (i, (sym, ..)) in INSTS.iter().enumerate() {
        let id = InstrumentId(i as u32);
        let mid = r.sim.with_exchange(|ex| {
            let (b, a) = ex.symbols[i].book.top_of_book();
            Price::from_units((b.unwrap().0.units() + a.unwrap().0.units()) / 2)
        });
        let m = wait_for(Duration::from_secs(30), || {
            let m = r.reader.mark(id);
            (m.seq > 0 && m.mark == mid).then_some(m)
        })
        .unwrap_or_else(|| panic!("{sym}: mark {:?}, sim mid {mid}", r.reader.mark(id)));
        assert_eq!(m.index, mid, "{sym}");
        assert_eq!(
            m.funding_rate,
            FundingRate::parse("0.0001").unwrap(),
            "{sym}"
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        const EIGHT_HOURS: u64 = 8 * 3600 * 1000;
        assert_eq!(m.next_funding_ms % EIGHT_HOURS, 0, "{sym}");
        assert!(
            m.next_funding_ms > now - 60_000 && m.next_funding_ms <= now + EIGHT_HOURS,
            "{sym}: next funding {} against now {now}",
            m.next_funding_ms
        );
        assert!(m.recv_ts.0 > 0 && m.exchange_ts.0 > 0);
        // The mark lives beside the book: the book is still valid.
        assert!(r.reader.top(id).valid, "{sym}");
    }
    r.sim.pause_market(false);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_a_bybit_recording() {
    let s = sim();
    let dir = std::env::temp_dir().join(format!("mako-record-bybit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"bybit\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"bybit\"\nkind = \"bybit-linear\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"bookTicker\", \"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.bybit_ws_url(),
            s.rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("bybit.rec");
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
        .args(["--venue", "bybit-linear", "--json"])
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
    let dec = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["decode", "--venue", "bybit-linear"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dec.stdout);
    assert!(dec.status.success(), "mako decode: {text}");
    for kind in [
        "\"type\":\"snapshot\"",
        "\"type\":\"delta\"",
        "\"kind\":\"ticker\"",
        "\"mark\":",
        "\"funding_rate\":\"0.0001\"",
    ] {
        assert!(text.contains(kind), "no {kind} in {text}");
    }
    assert!(!text.contains("\"error\""), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
