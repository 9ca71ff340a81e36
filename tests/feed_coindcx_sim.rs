//! The feed actor on CoinDCX futures against the simulator's CoinDCX Socket.IO front end, on
//! loopback: the same feed code as every venue's, with CoinDCX's `MarketData` (Engine.IO 3
//! open and pings, `join` emits, `depth-snapshot` books replaced whole and ordered by `vs`,
//! `new-trade`, marks from `currentPrices`). Once the market is paused the cache holds exactly
//! the simulator's published top of book; a disconnect recovers on a new Socket.IO session; a
//! strategy-side cache reader sees the mark beside the book; an unknown packet type and an
//! event for a channel never joined are refused and counted on `/status`'s `malformed`, and
//! the feed carries on.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::feed_rig::{self, FeedVenue, Inst, Rig, sim_of};
use common::wait_for;
use mako::config::{OrderTransport, VenueKind};
use mako::sim::SimHandle;
use mako::types::{FundingRate, InstrumentId, Price, Qty};
use mako::venue::coindcx::CoindcxMd;
use mako::venue::md::SyncLimits;

/// (CoinDCX pair, the simulator's symbol, base, start price)
const INSTS: [Inst; 2] = [
    ("B-BTC_USDT", "BTCUSDT", "BTC", "60000"),
    ("B-ETH_USDT", "ETHUSDT", "ETH", "3000"),
];

fn sim() -> SimHandle {
    sim_of(&INSTS, "USDT")
}

fn rig(sim: SimHandle) -> Rig {
    let venue = FeedVenue {
        name: "coindcx",
        kind: VenueKind::CoindcxFutures,
        ws_url: sim.coindcx_ws_url(),
        rest_url: sim.rest_url(),
        order_transport: OrderTransport::Rest,
        quote: "USDT",
        insts: &INSTS,
    };
    feed_rig::rig(sim, venue, |v, insts| {
        CoindcxMd::for_venue(v, insts, SyncLimits::default())
    })
}

#[test]
fn syncs_coindcx_books_through_disconnects_and_refuses_unknown_packets() {
    let mut r = rig(sim());
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    r.wait_stat("frames", |s| s.frames.load(Relaxed), 50);
    r.assert_books_equal_when_quiet("after sync");
    assert_eq!(r.stat(|s| s.resyncs.load(Relaxed)), 0);
    // Books came whole over the socket: no REST snapshot is ever asked for.
    assert_eq!(r.stat(|s| s.snapshot_requests.load(Relaxed)), 0);
    let t = wait_for(Duration::from_secs(30), || r.trades.try_recv()).expect("a trade arrived");
    assert!((t.instrument.0 as usize) < INSTS.len() && t.qty > Qty::ZERO);
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 0);

    // A dropped transport: a new connection, a new Engine.IO session, joins again, and every
    // book comes back from its first snapshot.
    let resyncs = r.stat(|s| s.resyncs.load(Relaxed));
    r.sim.disconnect_market();
    r.wait_stat("reconnects", |s| s.reconnects.load(Relaxed), 1);
    r.wait_stat("resyncs", |s| s.resyncs.load(Relaxed), resyncs + 2);
    r.wait_stat("books live again", |s| s.books_live.load(Relaxed), 2);
    r.assert_books_equal_when_quiet("after a disconnect");

    // An unknown Engine.IO packet type, an unknown Socket.IO packet type and an event for a
    // channel never joined: each refused and counted, the connection and books untouched.
    let (reconnects, frames) = (
        r.stat(|s| s.reconnects.load(Relaxed)),
        r.stat(|s| s.frames.load(Relaxed)),
    );
    r.sim.send_market_text("9oops");
    r.sim.send_market_text("49[]");
    r.sim
        .send_market_text(r#"42["candlestick",{"channel":"B-BTC_USDT_1m-futures","data":"{}"}]"#);
    r.wait_stat("malformed", |s| s.malformed.load(Relaxed), 3);
    r.wait_stat("frames after", |s| s.frames.load(Relaxed), frames + 10);
    assert_eq!(r.stat(|s| s.reconnects.load(Relaxed)), reconnects);
    r.assert_books_equal_when_quiet("after unknown packets");
    assert_eq!(r.stat(|s| s.malformed.load(Relaxed)), 3);
    r.stop();
}

#[test]
fn marks_from_current_prices_sit_beside_the_books() {
    let mut r = rig(sim());
    r.wait_stat("books live", |s| s.books_live.load(Relaxed), 2);
    // The simulator states mark = the mid; the stream carries no funding rate.
    r.sim.pause_market(true);
    for (i, (pair, ..)) in INSTS.iter().enumerate() {
        let id = InstrumentId(i as u32);
        let mid = r.sim.with_exchange(|ex| {
            let (b, a) = ex.symbols[i].book.top_of_book();
            Price::from_units((b.unwrap().0.units() + a.unwrap().0.units()) / 2)
        });
        let m = wait_for(Duration::from_secs(30), || {
            let m = r.reader.mark(id);
            (m.seq > 0 && m.mark == mid).then_some(m)
        })
        .unwrap_or_else(|| panic!("{pair}: mark {:?}, sim mid {mid}", r.reader.mark(id)));
        assert_eq!(m.index, mid, "{pair}");
        assert_eq!(m.funding_rate, FundingRate::default(), "{pair}");
        assert!(m.recv_ts.0 > 0 && m.exchange_ts.0 > 0);
        assert!(r.reader.top(id).valid, "{pair}");
    }
    r.sim.pause_market(false);
    r.stop();
}

#[test]
fn mako_record_then_mako_book_replays_a_coindcx_recording() {
    let s = sim();
    let dir = std::env::temp_dir().join(format!("mako-record-coindcx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("record.toml");
    let instruments: String = INSTS
        .iter()
        .map(|(inst, _, b, _)| {
            format!(
                "[[instruments]]\nvenue = \"coindcx\"\nsymbol = \"{inst}\"\nbase = \"{b}\"\n\
                 quote = \"USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.00001\"\n"
            )
        })
        .collect();
    std::fs::write(
        &cfg,
        format!(
            "[engine]\nname = \"rec\"\nmode = \"paper\"\ndata_dir = \"{}\"\n\n\
             [[venues]]\nname = \"coindcx\"\nkind = \"coindcx-futures\"\nws_url = \"{}\"\nrest_url = \"{}\"\n\
             streams = [\"depth\", \"trade\"]\n\n{instruments}",
            dir.join("data").display(),
            s.coindcx_ws_url(),
            s.rest_url()
        ),
    )
    .unwrap();
    let out = dir.join("coindcx.rec");
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
        .args(["--venue", "coindcx-futures", "--json"])
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
    }
    let dec = std::process::Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["decode", "--venue", "coindcx-futures"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dec.stdout);
    assert!(dec.status.success(), "mako decode: {text}");
    for kind in [
        "\"packet\":\"open\"",
        "\"packet\":\"connect\"",
        "\"type\":\"snapshot\"",
        "\"symbol\":\"B-BTC_USDT\"",
        "\"kind\":\"mark\"",
    ] {
        assert!(text.contains(kind), "no {kind} in {text}");
    }
    assert!(!text.contains("\"error\""), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
