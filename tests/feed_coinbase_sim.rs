//! The feed actor on Coinbase Advanced Trade against the simulator's Coinbase market-data
//! front end, on loopback: the same feed code as every venue's, with Coinbase's
//! `MarketData` (one subscribe message per channel, `level2` snapshots and absolute updates,
//! `sequence_num` per connection). It syncs two books and, once the market is paused, the
//! cache holds exactly the simulator's books; it survives disconnects, and a lost message
//! (a `sequence_num` gap) invalidates the books until a new connection's snapshots.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig, sim_of};
use common::wait_for;
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::Qty;
use mako::venue::coinbase::CoinbaseMd;
use mako::venue::md::SyncLimits;

/// (Coinbase product id, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("BTC-USD", "BTCUSD", "BTC", "60000"),
    ("ETH-USD", "ETHUSD", "ETH", "3000"),
];

fn sim() -> SimHandle {
    sim_of(&INSTS, "USD")
}

fn rig(sim: SimHandle) -> Rig {
    let venue = FeedVenue {
        name: "coinbase",
        kind: VenueKind::Coinbase,
        ws_url: sim.coinbase_ws_url(),
        rest_url: sim.rest_url(),
        order_transport: OrderTransport::Rest,
        quote: "USD",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, |v, insts| {
        CoinbaseMd::for_venue(v, insts, SyncLimits::default())
    })
}

#[test]
fn syncs_coinbase_books_and_resyncs_after_disconnects_and_sequence_gaps() {
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

    // A withheld book diff costs a sequence number: the gap invalidates both books, the feed
    // moves to a new connection and its snapshots bring them back.
    let gaps = r.stat(|s| s.gaps.load(Relaxed));
    let rotations = r.stat(|s| s.rotations.load(Relaxed));
    r.sim.faults().set_depth_gap_every(15);
    r.wait_stat("gaps", |s| s.gaps.load(Relaxed), gaps + 2);
    r.sim.faults().set_depth_gap_every(0);
    r.wait_stat(
        "a new connection",
        |s| s.rotations.load(Relaxed),
        rotations + 1,
    );
    r.wait_stat("books live after gaps", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after gaps");
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_a_coinbase_recording() {
    let s = sim();
    let dir = std::env::temp_dir().join(format!("mako-record-coinbase-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"coinbase\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USD\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"coinbase\"\nkind = \"coinbase\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"bookTicker\", \"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.coinbase_ws_url(),
            s.rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("coinbase.gz");
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
        .args(["--venue", "coinbase", "--json"])
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
    let _ = std::fs::remove_dir_all(&dir);
}
