//! The feed actor on OKX against the simulator's OKX public front end, on loopback: the same
//! feed code as Binance's, with OKX's `MarketData` (subscribe by message, text keepalive,
//! seqId chains and checksums). It syncs two books and, once the market is paused, the cache
//! holds exactly the simulator's books, every published checksum verified; it survives
//! disconnects and sequence gaps (resynced from REST snapshots), and builds its books from
//! REST when OKX sends no snapshot (its 2026 change).

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig, sim_of};
use common::wait_for;
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::Qty;
use mako::venue::md::SyncLimits;
use mako::venue::okx::OkxMd;

/// (OKX instId, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("BTC-USDT", "BTCUSDT", "BTC", "60000"),
    ("ETH-USDT", "ETHUSDT", "ETH", "3000"),
];

fn sim() -> SimHandle {
    sim_of(&INSTS, "USDT")
}

fn rig(sim: SimHandle) -> Rig {
    let venue = FeedVenue {
        name: "okx",
        kind: VenueKind::OkxSpot,
        ws_url: sim.okx_public_ws_url(),
        rest_url: sim.okx_rest_url(),
        order_transport: OrderTransport::WsApi,
        quote: "USDT",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, |v, insts| {
        OkxMd::for_venue(v, insts, SyncLimits::default())
    })
}

#[test]
fn syncs_okx_books_with_checksums_and_survives_disconnects_and_gaps() {
    let mut r = rig(sim());
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    r.wait_stat(
        "checksums verified",
        |s| s.checksums_verified.load(Relaxed),
        20,
    );
    r.assert_books_equal_when_quiet("after sync");
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.resyncs.load(Relaxed)), 0);
    // Books came whole over the WebSocket: no REST snapshot was needed.
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

    // Withheld updates break the seqId chain: each gap resyncs the book from REST.
    let gaps = r.stat(|s| s.gaps.load(Relaxed));
    let snaps = r.stat(|s| s.snapshots_applied.load(Relaxed));
    r.sim.faults().set_depth_gap_every(15);
    r.wait_stat("gaps", |s| s.gaps.load(Relaxed), gaps + 2);
    r.sim.faults().set_depth_gap_every(0);
    r.wait_stat(
        "REST snapshots after gaps",
        |s| s.snapshots_applied.load(Relaxed),
        snaps + 2,
    );
    r.wait_stat("books live after gaps", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after gaps");
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);
    r.stop();
}

#[test]
fn without_a_snapshot_push_books_come_from_rest() {
    let s = sim();
    s.faults().set_okx_no_snapshot(true);
    let mut r = rig(s);
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    assert!(r.stat(|s| s.snapshot_requests.load(Relaxed)) >= 2);
    r.wait_stat(
        "checksums verified",
        |s| s.checksums_verified.load(Relaxed),
        10,
    );
    r.assert_books_equal_when_quiet("books from REST");
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    // After OKX deprecates the field, a zero checksum is not compared and the books stay live.
    r.sim.faults().set_okx_checksum_zero(true);
    let verified = r.stat(|s| s.checksums_verified.load(Relaxed));
    let frames = r.stat(|s| s.frames.load(Relaxed));
    r.wait_stat(
        "frames with zero checksums",
        |s| s.frames.load(Relaxed),
        frames + 100,
    );
    // At most the few updates already queued when the switch flipped were compared.
    let after = r.stat(|s| s.checksums_verified.load(Relaxed));
    assert!(
        after <= verified + 4,
        "{after} checksums verified, {verified} before the switch"
    );
    assert_eq!(r.stat(|s| s.books_live.load(Relaxed)), 2);
    r.assert_books_equal_when_quiet("with zero checksums");
    assert_eq!(r.stat(|s| s.checksum_mismatches.load(Relaxed)), 0);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_an_okx_recording() {
    let s = sim();
    // Books come from REST, so the recording holds REST snapshots too.
    s.faults().set_okx_no_snapshot(true);
    let dir = std::env::temp_dir().join(format!("mako-record-okx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"okx\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"okx\"\nkind = \"okx-spot\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"bookTicker\", \"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.okx_public_ws_url(),
            s.okx_rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("okx.gz");
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
        .arg("book")
        .arg(&out)
        .args(["--venue", "okx-spot", "--json"])
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
    assert!(
        v["snapshots"].as_u64().unwrap() >= 2,
        "the REST snapshots were recorded: {v}"
    );
    assert!(v["checksums_verified"].as_u64().unwrap() > 10, "{v}");
    assert_eq!(v["checksum_mismatches"], 0, "{v}");
    for b in v["books"].as_array().unwrap() {
        assert_eq!(b["live"], true, "{b}");
        assert_eq!(b["gaps"], 0, "{b}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
