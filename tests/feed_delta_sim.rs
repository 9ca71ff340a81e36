//! The feed actor on Delta Exchange (India and global) against the simulator's Delta public
//! front end, on loopback: the same feed code as every venue's, with Delta's `MarketData`
//! (`ob_updates` snapshots and `seq`-chained updates checked by their CRC32 `cs`, `ob_l1` as
//! the best bid and offer, `trades`, `mark_price` with `funding_rate`, heartbeats and the JSON
//! ping). The simulated products are in contracts (step 1) with a 0.5 tick, as Delta's BTCUSD.
//! Once the market is paused the cache holds exactly the simulator's books, every checksum
//! having agreed; a disconnect recovers; a lost update (a `seq` gap) re-subscribes that book
//! on the same connection; a strategy-side cache reader sees the mark and funding.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::{FundingRate, InstrumentId, Price, Qty};
use mako::venue::delta::{DeltaMd, Platform};
use mako::venue::md::SyncLimits;

/// (Delta symbol, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("BTCUSD", "BTCUSD", "BTC", "60000"),
    ("ETHUSD", "ETHUSD", "ETH", "3000"),
];

/// Contracts: a 0.5 tick, integer sizes.
fn sim() -> SimHandle {
    let symbols: String = INSTS
        .iter()
        .map(|(_, s, b, p)| {
            format!(
                "[[symbols]]\nsymbol = \"{s}\"\nbase = \"{b}\"\nquote = \"USD\"\n\
                 tick_size = \"0.5\"\nmin_price = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\n\
                 max_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"{p}\"\nlevels = 30\n"
            )
        })
        .collect();
    start_sim(&symbols)
}

fn rig(sim: SimHandle, platform: Platform) -> Rig {
    let venue = FeedVenue {
        name: "delta",
        kind: match platform {
            Platform::India => VenueKind::DeltaIndia,
            Platform::Global => VenueKind::DeltaGlobal,
        },
        ws_url: sim.delta_ws_url(),
        rest_url: sim.rest_url(),
        order_transport: OrderTransport::Rest,
        quote: "USD",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, move |v, insts| {
        DeltaMd::for_venue(platform, v, insts, SyncLimits::default())
    })
}

/// Sync, trades, a disconnect, then lost updates mended on the same connection.
fn books_follow_the_simulator(r: &Rig) {
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    r.wait_stat("frames", |s| s.frames.load(Relaxed), 50);
    r.assert_books_equal_when_quiet("after sync");
    assert_eq!(r.stat(|s| s.resyncs.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.gaps.load(Relaxed)), 0);
    // Every frame's checksum was compared, and agreed.
    r.wait_stat("checksums", |s| s.checksums_verified.load(Relaxed), 20);
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    // Books came whole over the WebSocket: no REST snapshot is ever asked for.
    assert_eq!(r.stat(|s| s.snapshot_requests.load(Relaxed)), 0);
    let t = wait_for(Duration::from_secs(30), || r.trades.try_recv()).expect("a trade arrived");
    assert!((t.instrument.0 as usize) < INSTS.len() && t.qty >= Qty::parse("1").unwrap());
    assert!(t.trade_id.as_u64().is_some(), "{:?}", t.trade_id);

    // Disconnects: counted, every book resynced from the next subscription's snapshot.
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    r.sim.disconnect_market();
    r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), 1);
    r.wait_stat("resyncs", |s| s.resyncs.load(Relaxed), resyncs + 2);
    r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after a disconnect");

    // A lost update spends its `seq`: each gap throws that book away and the feed
    // re-subscribes its ob_updates on the same connection, whose snapshot brings it back.
    let gaps = r.stat(|s| s.gaps.load(Relaxed));
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    let (reconnects, connects) = (
        r.stat(|s| s.reconnects.load(Relaxed)),
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
            r.stat(|s| s.connects.load(Relaxed)),
        ),
        (reconnects, connects),
        "the gaps were mended on the same connection"
    );
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);
}

/// A strategy-side reader sees each perpetual's mark: the simulator states mark = the mid,
/// its configured funding rate (0.0001, sent as 0.01 %) and the next 8-hour boundary. Delta's
/// mark_price carries no index: the index is zero.
fn marks_are_in_the_cache(r: &Rig) {
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
        assert_eq!(m.index, Price::ZERO, "{sym}");
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
        assert!(r.reader.top(id).valid, "{sym}");
    }
    r.sim.pause_market(false);
}

#[test]
fn syncs_delta_india_books_through_disconnects_and_seq_gaps_with_marks() {
    let mut r = rig(sim(), Platform::India);
    books_follow_the_simulator(&r);
    marks_are_in_the_cache(&r);
    r.stop();
}

#[test]
fn syncs_delta_global_books() {
    let mut r = rig(sim(), Platform::Global);
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after sync");
    r.wait_stat("checksums", |s| s.checksums_verified.load(Relaxed), 10);
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    marks_are_in_the_cache(&r);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_a_delta_recording() {
    let s = sim();
    let dir = std::env::temp_dir().join(format!("mako-record-delta-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"delta\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USD\"\ntick_size = \"0.5\"\nlot_size = \"1\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"delta\"\nkind = \"delta-india\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"bookTicker\", \"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.delta_ws_url(),
            s.rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("delta.rec");
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
        .args(["--venue", "delta-india", "--json"])
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
        .args(["decode", "--venue", "delta-india"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dec.stdout);
    assert!(dec.status.success(), "mako decode: {text}");
    for kind in [
        "\"type\":\"snapshot\"",
        "\"type\":\"update\"",
        "\"kind\":\"bbo\"",
        "\"kind\":\"mark\"",
        "\"funding_rate\":\"0.0001\"",
    ] {
        assert!(text.contains(kind), "no {kind} in {text}");
    }
    assert!(!text.contains("\"error\""), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
