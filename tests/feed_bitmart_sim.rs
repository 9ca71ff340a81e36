//! The feed actor on BitMart spot against the simulator's BitMart public front end, on
//! loopback: the same feed code as every venue's, with BitMart's `MarketData` (compressed
//! binary pushes inflated, `spot/depth/increase100` snapshots and versioned updates, the text
//! ping). It syncs two books and, once the market is paused, the cache holds exactly the
//! simulator's books; it survives disconnects, and a lost update (a `version` gap) makes the
//! feed ask the same connection for that book's snapshot, no new connection needed.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig, sim_of};
use common::wait_for;
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::Qty;
use mako::venue::bitmart::BitmartMd;
use mako::venue::md::SyncLimits;

/// (BitMart symbol, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("BTC_USDT", "BTCUSDT", "BTC", "60000"),
    ("ETH_USDT", "ETHUSDT", "ETH", "3000"),
];

fn sim() -> SimHandle {
    sim_of(&INSTS, "USDT")
}

fn rig(sim: SimHandle) -> Rig {
    let venue = FeedVenue {
        name: "bitmart",
        kind: VenueKind::BitmartSpot,
        ws_url: sim.bitmart_ws_url(),
        rest_url: sim.rest_url(),
        order_transport: OrderTransport::Rest,
        quote: "USDT",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, |v, insts| {
        BitmartMd::for_venue(v, insts, SyncLimits::default())
    })
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
