//! Every BitMart spot market-data sample of the documentation (exchanges.md §5.6) decodes,
//! with literal expected values: through the engine's codec and book rule (`BitmartMd`, the
//! `MarketData` a feed runs), as text and as the compressed binary frames BitMart sends, and
//! through `mako decode`'s normalised records.

use mako::book::Level;
use mako::types::{InstrumentId, Price, Qty, Side, TradeId, UnixNanos};
use mako::venue::bitmart::BitmartMd;
use mako::venue::bitmart::decode::decode;
use mako::venue::md::{
    HandleError, Handled, Keepalive, MarketData, ResyncReason, SyncEvent, SyncLimits, SyncState,
};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/bitmart/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn fixture(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/bitmart/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn md() -> BitmartMd {
    BitmartMd::new(
        &[("BTC_USDT", InstrumentId(0)), ("ETH_USDT", InstrumentId(1))],
        SyncLimits::default(),
    )
}

fn l(p: &str, q: &str) -> Level {
    Level {
        price: Price::parse(p).unwrap(),
        qty: Qty::parse(q).unwrap(),
    }
}

fn records(name: &str) -> Vec<Value> {
    decode(&sample(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| r.into_value())
        .collect()
}

#[test]
fn depth_increase_snapshot_then_update_keep_the_book() {
    let mut m = md();
    assert_eq!(
        m.on_frame(sample("bitmart_depth_increase_snapshot.json").as_bytes()),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true
            },
            event_time: None,
        })
    );
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Live));
    assert_eq!(m.sync(InstrumentId(0)).unwrap().version(), Some(4));
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.best_bid(), Some(l("23105", "1.80114")));
    assert_eq!(book.best_ask(), Some(l("23200", "0.69959")));
    assert_eq!(
        book.qty_at(Side::Sell, Price::parse("28000").unwrap()),
        Qty::parse("0.2").unwrap()
    );
    assert_eq!((book.depth(Side::Buy), book.depth(Side::Sell)), (1, 2));

    // The update (version 5) sets 23200 to an absolute 0.59959, as a compressed frame.
    assert_eq!(
        m.on_binary(&fixture("bitmart_depth_increase_update.deflate")),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Applied,
            event_time: Some(UnixNanos::from_millis(1_698_292_358_292)),
        })
    );
    assert_eq!(
        m.inflated(),
        Some(&fixture("bitmart_depth_increase_update.json")[..]),
        "a recording gets the text the frame inflated to"
    );
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.best_ask(), Some(l("23200", "0.59959")));
    assert_eq!(m.sync(InstrumentId(0)).unwrap().version(), Some(5));
    // The same update again is at the book's version: discarded.
    assert_eq!(
        m.on_frame(sample("bitmart_depth_increase_update.json").as_bytes()),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Stale,
            event_time: Some(UnixNanos::from_millis(1_698_292_358_292)),
        })
    );
    assert_eq!(m.next_request(), None, "nothing to ask for");

    assert_eq!(
        records("bitmart_depth_increase_snapshot.json"),
        vec![
            json!({"kind": "book", "symbol": "BTC_USDT", "type": "snapshot", "seq": 4,
            "best_bid": "23105", "bid_qty": "1.80114", "best_ask": "23200", "ask_qty": "0.69959",
            "bid_levels": 1, "ask_levels": 2, "ts": "1698292343610"})
        ]
    );
    assert_eq!(
        records("bitmart_depth_increase_update.json"),
        vec![
            json!({"kind": "book", "symbol": "BTC_USDT", "type": "update", "seq": 5,
            "best_ask": "23200", "ask_qty": "0.59959",
            "bid_levels": 0, "ask_levels": 1, "ts": "1698292358292"})
        ]
    );
}

/// The update of the samples with its `version` replaced.
fn update_at(version: u64) -> String {
    sample("bitmart_depth_increase_update.json")
        .replace("\"version\": 5", &format!("\"version\": {version}"))
}

#[test]
fn a_version_gap_or_an_update_before_the_snapshot_asks_the_connection_for_a_snapshot() {
    let mut m = md();
    // An update before any snapshot: dropped, and the documented request queued once.
    assert_eq!(
        m.on_frame(update_at(5).as_bytes()),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Stale,
            event_time: Some(UnixNanos::from_millis(1_698_292_358_292)),
        })
    );
    let want: Value =
        serde_json::from_str(&sample("bitmart_ws_depth_increase_request_snapshot.json")).unwrap();
    let got: Value = serde_json::from_str(m.next_request().unwrap()).unwrap();
    assert_eq!(got, want);
    assert_eq!(m.next_request(), None);
    assert_eq!(m.on_frame(update_at(6).as_bytes()).map(|_| ()), Ok(()));
    assert_eq!(m.next_request(), None, "asked once while it waits");
    // The answer (a snapshot) makes the book live; then version 7 after 4 is a gap.
    let _ = m.on_frame(sample("bitmart_depth_increase_snapshot.json").as_bytes());
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Live));
    assert_eq!(
        m.on_frame(update_at(7).as_bytes()),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Invalidated(ResyncReason::Gap),
            event_time: Some(UnixNanos::from_millis(1_698_292_358_292)),
        })
    );
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Syncing));
    let got: Value = serde_json::from_str(m.next_request().unwrap()).unwrap();
    assert_eq!(got, want);
    let c = m.sync_counters(InstrumentId(0)).unwrap();
    assert_eq!((c.gaps, c.resyncs, c.snapshots_applied), (1, 1, 1));
    assert_eq!(m.snapshot_requests, 2);
}

#[test]
fn ticker_is_a_best_bid_and_offer() {
    let mut m = md();
    assert_eq!(
        m.on_binary(&fixture("bitmart_ticker.deflate")),
        Ok(Handled::Bbo {
            instrument: InstrumentId(0),
            update_id: 1,
            bid: l("35000", "11"),
            ask: l("36000", "1.021"),
            event_time: Some(UnixNanos::from_millis(1_709_024_652_967)),
        })
    );
    assert_eq!(
        records("bitmart_ticker.json"),
        vec![
            json!({"kind": "bbo", "symbol": "BTC_USDT", "price": "35000",
            "best_bid": "35000", "bid_qty": "11", "best_ask": "36000", "ask_qty": "1.021",
            "ts": "1709024652967"})
        ]
    );
}

#[test]
fn trades_are_taker_prints_numbered_by_their_millisecond() {
    let mut m = md();
    assert_eq!(
        m.on_frame(sample("bitmart_trade.json").as_bytes()),
        Ok(Handled::Trades)
    );
    let trades = std::mem::take(m.trades());
    assert_eq!(trades.len(), 1);
    let t = trades[0];
    assert_eq!(t.instrument, InstrumentId(1));
    assert_eq!(t.price, Price::parse("162.12").unwrap());
    assert_eq!(t.qty, Qty::parse("11.085").unwrap());
    assert_eq!(t.aggressor, Side::Buy);
    assert_eq!(t.trade_time, UnixNanos::from_millis(1_542_337_219_120));
    assert_eq!(t.trade_id, TradeId::from_u64(1_542_337_219_120_000));
    // A second trade of the same millisecond comes after it.
    let _ = m.on_binary(&fixture("bitmart_trade.deflate"));
    assert_eq!(
        m.trades()[0].trade_id,
        TradeId::from_u64(1_542_337_219_120_001)
    );
    assert_eq!(
        records("bitmart_trade.json"),
        vec![
            json!({"kind": "trade", "symbol": "ETH_USDT", "price": "162.12",
            "qty": "11.085", "side": "buy", "ts": "1542337219120"})
        ]
    );
}

#[test]
fn the_other_public_samples() {
    let mut m = md();
    // depth5 and klines: read by `mako decode`, ignored by the feed.
    assert_eq!(
        m.on_frame(sample("bitmart_depth5.json").as_bytes()),
        Ok(Handled::Ignored)
    );
    assert_eq!(
        m.on_frame(sample("bitmart_kline.json").as_bytes()),
        Ok(Handled::Ignored)
    );
    assert_eq!(
        records("bitmart_depth5.json"),
        vec![
            json!({"kind": "book", "symbol": "ETH_USDT", "type": "snapshot",
            "best_bid": "161.94", "bid_qty": "4.552355", "best_ask": "161.96", "ask_qty": "7.37567",
            "bid_levels": 1, "ask_levels": 1, "ts": "1542337219120"})
        ]
    );
    assert_eq!(
        records("bitmart_kline.json"),
        vec![
            json!({"kind": "candle", "symbol": "BTC_USDT", "width": "1m", "start": "1709025360",
            "open": "162.01", "high": "162.02", "low": "162.03", "close": "162.04",
            "volume": "336.452694"})
        ]
    );
    // Replies: a subscribe answered, a refused one, and the keepalive's pong.
    assert_eq!(
        m.on_frame(sample("bitmart_ws_subscribe_response.json").as_bytes()),
        Ok(Handled::CommandReply { id: None, ok: true })
    );
    assert_eq!(
        m.on_frame(sample("bitmart_ws_subscribe_error.json").as_bytes()),
        Ok(Handled::CommandReply {
            id: None,
            ok: false
        })
    );
    assert_eq!(m.on_frame(b"pong"), Ok(Handled::Pong));
    assert_eq!(
        records("bitmart_ws_subscribe_response.json"),
        Vec::<Value>::new()
    );
    assert_eq!(
        records("bitmart_ws_subscribe_request.json"),
        Vec::<Value>::new()
    );
    assert_eq!(
        records("bitmart_ws_depth_increase_request_snapshot.json"),
        Vec::<Value>::new()
    );
    assert_eq!(
        decode(&sample("bitmart_ws_subscribe_error.json")),
        Err("venue error on subscribe: 90004 Invalid channel param".into())
    );
    assert_eq!(m.counters().malformed, 0);
}

#[test]
fn bad_frames_are_refused_and_counted() {
    let mut m = md();
    let good = fixture("bitmart_ticker.deflate");
    assert_eq!(
        m.on_binary(&good[..good.len() / 2]),
        Err(HandleError::Codec("compressed frame does not inflate"))
    );
    assert_eq!(m.inflated(), None);
    assert!(
        m.on_frame(br#"{"table":"spot/ticker","data":[{"symbol":"XRP_USDT"}]}"#)
            .is_err()
    );
    assert!(m.on_frame(br#"{"table":"spot/trade","data":[{"symbol":"BTC_USDT","price":"1","size":"1","side":"up","ms_t":1}]}"#).is_err());
    assert!(m.on_frame(br#"{"table":"spot/depth/increase100","data":[{"symbol":"BTC_USDT","type":"update","version":"5","ms_t":1,"bids":[],"asks":[]}]}"#).is_err());
    assert!(m.on_frame(br#"{"table":"spot/depth/increase100","data":[{"symbol":"BTC_USDT","type":"update","version":5,"ms_t":1,"bids":[["0","1"]],"asks":[]}]}"#).is_err());
    assert!(m.on_frame(b"[1,2]").is_err());
    assert!(m.on_frame(b"\xff").is_err());
    assert_eq!(m.counters().malformed, 7);
    // The next good frame still decodes.
    assert!(matches!(m.on_binary(&good), Ok(Handled::Bbo { .. })));
}

#[test]
fn the_connection_plan_follows_the_reference() {
    let m = BitmartMd::new(
        &(0..8)
            .map(|i| {
                (
                    [
                        "A_USDT", "B_USDT", "C_USDT", "D_USDT", "E_USDT", "F_USDT", "G_USDT",
                        "H_USDT",
                    ][i],
                    InstrumentId(i as u32),
                )
            })
            .collect::<Vec<_>>(),
        SyncLimits::default(),
    );
    let plan = m.connect_plan("wss://ws-manager-compress.bitmart.com");
    assert_eq!(
        plan.url,
        "wss://ws-manager-compress.bitmart.com/api?protocol=1.1"
    );
    // 8 symbols × 3 channels = 24 topics: at most 20 per subscribe message.
    let counts: Vec<usize> = plan
        .subscribe
        .iter()
        .map(|s| {
            let v: Value = serde_json::from_str(s).unwrap();
            assert_eq!(v["op"], "subscribe");
            v["args"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(counts, vec![20, 4]);
    let first: Value = serde_json::from_str(&plan.subscribe[0]).unwrap();
    assert_eq!(first["args"][0], "spot/depth/increase100:A_USDT");
    assert_eq!(first["args"][1], "spot/ticker:A_USDT");
    assert_eq!(first["args"][2], "spot/trade:A_USDT");
    match plan.keepalive {
        Keepalive::Text { ping, pong, idle } => {
            assert_eq!((ping, pong), ("ping", "pong"));
            assert!(idle < std::time::Duration::from_secs(20));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        m.connect_plan("ws://127.0.0.1:9/ws/bitmart").url,
        "ws://127.0.0.1:9/ws/bitmart"
    );
}
