//! Every OKX public market-data sample of the documentation decodes, with literal expected
//! values, through the engine's OKX codec and book sync (`OkxMd`, the `MarketData` the feed
//! runs).

use mako::book::Level;
use mako::types::{InstrumentId, Price, Qty, Side, TradeId, UnixNanos};
use mako::venue::md::{Handled, MarketData, SyncEvent, SyncLimits, SyncState};
use mako::venue::okx::OkxMd;

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/okx/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn md() -> OkxMd {
    OkxMd::new(
        &[
            ("BTC-USDT", InstrumentId(0)),
            ("BCH-USDT-SWAP", InstrumentId(1)),
        ],
        SyncLimits::default(),
    )
}

fn l(p: &str, q: &str) -> Level {
    Level {
        price: Price::parse(p).unwrap(),
        qty: Qty::parse(q).unwrap(),
    }
}

#[test]
fn bbo_tbt() {
    let mut m = md();
    assert_eq!(
        m.on_frame(&sample("okx_bbo_tbt.json")),
        Ok(Handled::Bbo {
            instrument: InstrumentId(1),
            update_id: 363_996_337,
            bid: l("111.05", "57745"),
            ask: l("111.06", "55154"),
            event_time: Some(UnixNanos::from_millis(1_670_324_386_802)),
        })
    );
}

#[test]
fn books5_is_read_as_its_top_level() {
    let mut m = md();
    let h = m.on_frame(&sample("okx_books5.json")).unwrap();
    assert!(matches!(
        h,
        Handled::Bbo { instrument: InstrumentId(1), bid, ask, .. }
            if bid == l("111.05", "57745") && ask == l("111.06", "55154")
    ));
}

#[test]
fn trades() {
    let mut m = md();
    assert_eq!(m.on_frame(&sample("okx_trades.json")), Ok(Handled::Trades));
    let t = m.trades();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].instrument, InstrumentId(0));
    assert_eq!(t[0].trade_id, TradeId::new(b"130639474").unwrap());
    assert_eq!(t[0].price, Price::parse("42219.9").unwrap());
    assert_eq!(t[0].qty, Qty::parse("0.12060306").unwrap());
    assert_eq!(t[0].aggressor, Side::Buy);
    assert_eq!(t[0].trade_time, UnixNanos::from_millis(1_630_048_897_897));
}

#[test]
fn books_snapshot_then_update() {
    let mut m = md();
    let h = m.on_frame(&sample("okx_books_snapshot.json")).unwrap();
    let Handled::Book {
        instrument,
        event,
        event_time,
    } = h
    else {
        panic!("{h:?}")
    };
    assert_eq!(instrument, InstrumentId(0));
    assert_eq!(event_time, Some(UnixNanos::from_millis(1_597_026_383_085)));
    // The documentation's sample checksum (-855196043) is an illustration, not the CRC of
    // its own levels (computed outside mako, the CRC of the sample's levels is -2102840145):
    // the sync compares it, finds the mismatch and throws the book away, as it must.
    assert_eq!(
        event,
        SyncEvent::Invalidated(mako::venue::md::ResyncReason::ChecksumMismatch)
    );
    let c = m.sync_counters(InstrumentId(0)).unwrap();
    assert_eq!((c.checksums_verified, c.checksum_mismatches), (1, 1));
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Syncing));
    // The same levels with their true checksum make a live book.
    let fixed = String::from_utf8(sample("okx_books_snapshot.json"))
        .unwrap()
        .replace("-855196043", "-2102840145");
    let h = m.on_frame(fixed.as_bytes()).unwrap();
    assert!(matches!(
        h,
        Handled::Book {
            event: SyncEvent::SnapshotApplied { live: true, .. },
            ..
        }
    ));
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.best_bid(), Some(l("8476.97", "256")));
    assert_eq!(book.best_ask(), Some(l("8476.98", "415")));
    assert_eq!(book.update_id(), 123_456);
    // The update sample continues it (prevSeqId 123456 → 123457) and carries the same
    // illustrative checksum, so it is compared and refused too.
    let h = m.on_frame(&sample("okx_books_update.json")).unwrap();
    assert!(
        matches!(
            h,
            Handled::Book {
                event: SyncEvent::Invalidated(_),
                ..
            }
        ),
        "{h:?}"
    );
    assert_eq!(
        m.sync_counters(InstrumentId(0))
            .unwrap()
            .checksum_mismatches,
        2
    );
}

#[test]
fn the_rest_book_answer_is_a_snapshot() {
    let mut m = md();
    // Updates first (no snapshot push): the book asks for REST.
    let update = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["41006.3","0.5","0","1"]],"ts":"1629966436397","checksum":0,"prevSeqId":5,"seqId":6}]}"#;
    let h = m.on_frame(update).unwrap();
    assert!(matches!(
        h,
        Handled::Book {
            event: SyncEvent::Buffered,
            ..
        }
    ));
    assert!(m.snapshot_wanted(InstrumentId(0)));
    assert_eq!(
        m.snapshot_request(InstrumentId(0), 1000),
        Some(("/api/v5/market/books?instId=BTC-USDT&sz=400".to_owned(), 1))
    );
    // The documented answer carries no seqId (the 2026 procedure's field is an inference):
    // without one the snapshot, fetched after the held update, is taken as newer than it.
    let h = m
        .on_snapshot(InstrumentId(0), &sample("okx_rest_books_response.json"))
        .unwrap();
    assert!(
        matches!(
            h,
            Handled::Book {
                event: SyncEvent::SnapshotApplied { live: true, .. },
                ..
            }
        ),
        "{h:?}"
    );
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.best_bid(), Some(l("41006.3", "0.30178218")));
    assert_eq!(book.best_ask(), Some(l("41006.8", "0.60038921")));
}

#[test]
fn events_notices_and_pong() {
    let mut m = md();
    assert_eq!(m.on_frame(b"pong"), Ok(Handled::Pong));
    assert_eq!(
        m.on_frame(&sample("okx_books_subscribe_error.json")),
        Ok(Handled::CommandReply {
            id: None,
            ok: false
        })
    );
    assert_eq!(
        m.on_frame(&sample("okx_ws_notice_service_upgrade.json")),
        Ok(Handled::ReconnectSoon)
    );
    assert_eq!(
        m.on_frame(&sample("okx_tickers.json")),
        Ok(Handled::Ignored)
    );
    assert!(
        m.on_frame(b"{\"arg\":{\"channel\":\"books\",\"instId\":\"ETH-USDT\"},\"data\":[]}")
            .is_err()
    );
    assert!(m.on_frame(b"\xff\xfe").is_err());
    assert_eq!(m.counters().malformed, 2);
}

#[test]
fn the_connection_subscribes_by_message_and_pings_in_text() {
    let m = md();
    let plan = m.connect_plan("wss://ws.okx.com:8443");
    assert_eq!(plan.url, "wss://ws.okx.com:8443/ws/v5/public");
    assert_eq!(plan.subscribe.len(), 1);
    let sub: serde_json::Value = serde_json::from_str(&plan.subscribe[0]).unwrap();
    assert_eq!(sub["op"], "subscribe");
    assert_eq!(sub["args"].as_array().map(Vec::len), Some(6));
    assert_eq!(sub["args"][1]["channel"], "books");
    assert_eq!(sub["args"][1]["instId"], "BTC-USDT");
    assert!(matches!(
        plan.keepalive,
        mako::venue::md::Keepalive::Text { ping: "ping", .. }
    ));
    assert_eq!(
        m.connect_plan("ws://127.0.0.1:9/ws/v5/public").url,
        "ws://127.0.0.1:9/ws/v5/public"
    );
}

/// The hand-shaped reader and the general decoder agree on every frame, and the reader takes
/// the compact `bbo-tbt` and `trades` pushes OKX sends.
#[test]
fn the_fast_reader_agrees_with_the_general_decoder() {
    use mako::venue::okx::md::{InstTable, Msg, OkxMdParser};
    let mut insts = InstTable::default();
    for (i, s) in [
        "BTC-USDT",
        "BCH-USDT-SWAP",
        "UNI-USD-SWAP",
        "BTC-USD-220527",
    ]
    .iter()
    .enumerate()
    {
        insts.insert(s, InstrumentId(i as u32));
    }
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for name in [
        "okx_bbo_tbt.json",
        "okx_trades.json",
        "okx_books_snapshot.json",
        "okx_tickers.json",
    ] {
        let v: serde_json::Value = serde_json::from_slice(&sample(name)).unwrap();
        frames.push(v.to_string().into_bytes()); // compact, OKX's key order kept
        frames.push(sample(name)); // pretty-printed: the general decoder's
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/okx/OKX.ws.1.0"
    ))
    .unwrap();
    frames.extend(
        text.lines()
            .filter(|l| !l.starts_with("wss"))
            .map(|l| l.split_once(": ").unwrap().1.as_bytes().to_vec()),
    );
    // Shapes the reader must pass on: several trades, a second level, an escape, junk.
    frames.push(br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1.5","sz":"2","side":"sell","ts":"7","count":"1"},{"instId":"BTC-USDT","tradeId":"2","px":"1.6","sz":"0.1","side":"buy","ts":"8","count":"2","seqId":9}]}"#.to_vec());
    frames.push(br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["2","1","0","1"],["3","1","0","1"]],"bids":[["1","1","0","1"]],"ts":"1","seqId":5}]}"#.to_vec());
    frames.push(br#"{"arg":{"channel":"bbo-tbt","instId":"BTC\u002dUSDT"},"data":[]}"#.to_vec());
    frames.push(br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["1.10","2","0","1"]],"ts":"5","checksum":0,"prevSeqId":3,"seqId":4}]}"#.to_vec());
    frames.push(br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["0","2","0","1"]],"bids":[],"ts":"5"}]}"#.to_vec());
    frames.push(br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["2","1","0","1"]],"bids":[["1","x","0","1"]],"ts":"1"}]}"#.to_vec());
    let (mut fast, mut general) = (
        OkxMdParser::new(insts.clone(), 64),
        OkxMdParser::new(insts, 64),
    );
    let mut hits = 0;
    for f in &frames {
        let misses = fast.fast_misses();
        let a = fast.parse(f);
        let b = general.parse_generic(f);
        assert_eq!(a, b, "{}", String::from_utf8_lossy(f));
        if matches!(a, Ok(Msg::Trades)) {
            assert_eq!(
                fast.trades,
                general.trades,
                "{}",
                String::from_utf8_lossy(f)
            );
        }
        // A best bid/offer carries its levels in the message; a book's are in the buffers.
        if matches!(a, Ok(Msg::Book { .. })) {
            assert_eq!((&fast.bids, &fast.asks), (&general.bids, &general.asks));
            assert_eq!(fast.canonical, general.canonical);
        }
        hits += usize::from(fast.fast_misses() == misses);
    }
    // The compact bbo-tbt, trades and books samples, the capture's trades and books pushes
    // (74 + 287) and the two-trade frame went the fast way.
    assert!(hits >= 4 + 74 + 287, "{hits} frames read by the fast path");
}
