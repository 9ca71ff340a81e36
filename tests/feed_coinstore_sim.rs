//! The feed actor on Coinstore spot against the simulator's Coinstore public front end, on
//! loopback: the same feed code as every venue's, with Coinstore's `MarketData` (`depth@20`
//! whole snapshots, trades, the session sequence `S`). It syncs two books and, once the
//! market is paused, the cache holds exactly the simulator's top 20 levels; it survives
//! disconnects, and a lost message (a jump in `S`) throws every book away until a new
//! connection's snapshots bring them back.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig, sim_of};
use common::wait_for;
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::Qty;
use mako::venue::coinstore::CoinstoreMd;
use mako::venue::md::SyncLimits;

/// (Coinstore symbol, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("BTCUSDT", "BTCUSDT", "BTC", "60000"),
    ("ETHUSDT", "ETHUSDT", "ETH", "3000"),
];

fn sim() -> SimHandle {
    sim_of(&INSTS, "USDT")
}

fn rig(sim: SimHandle) -> Rig {
    let venue = FeedVenue {
        name: "coinstore",
        kind: VenueKind::CoinstoreSpot,
        ws_url: sim.coinstore_ws_url(),
        rest_url: sim.rest_url(),
        order_transport: OrderTransport::Rest,
        quote: "USDT",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, |v, insts| {
        CoinstoreMd::for_venue(v, insts, SyncLimits::default())
    })
}

#[test]
fn syncs_coinstore_books_and_resyncs_after_disconnects_and_lost_messages() {
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

    // Disconnects: counted, every book resynced from the next connection's snapshots.
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    r.sim.disconnect_market();
    r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), 1);
    r.wait_stat("resyncs", |s| s.resyncs.load(Relaxed), resyncs + 2);
    r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after a disconnect");

    // A withheld depth push spends an `S`: the feed sees the jump, throws both books away
    // and moves to a new connection, whose snapshots bring them back.
    let gaps = r.stat(|s| s.gaps.load(Relaxed));
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    let connects = r.stat(|s| s.connects.load(Relaxed));
    r.sim.faults().set_depth_gap_every(15);
    r.wait_stat("gaps", |s| s.gaps.load(Relaxed), gaps + 2);
    r.sim.faults().set_depth_gap_every(0);
    r.wait_stat("books live after gaps", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after gaps");
    assert!(r.stat(|s| s.resyncs.load(Relaxed)) >= resyncs + 2);
    assert!(
        r.stat(|s| s.connects.load(Relaxed)) > connects,
        "a new connection was opened"
    );
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_a_coinstore_recording() {
    let s = sim();
    let dir = std::env::temp_dir().join(format!("mako-record-coinstore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"coinstore\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"coinstore\"\nkind = \"coinstore-spot\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.coinstore_ws_url(),
            s.rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("coinstore.rec");
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
        .args(["--venue", "coinstore-spot", "--json"])
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
        .args(["decode", "--venue", "coinstore-spot"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dec.stdout);
    assert!(dec.status.success(), "mako decode: {text}");
    assert!(
        text.lines()
            .any(|l| l.contains("\"kind\":\"book\"") && l.contains("\"symbol\":\"BTCUSDT\"")),
        "{text}"
    );
    assert!(!text.contains("\"error\""), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
