//! Every Coinbase Advanced Trade sample of the documentation (exchanges.md §4.3) decodes,
//! with literal expected values: through the engine's codec and book rule (`CoinbaseMd`, the
//! `MarketData` a feed runs) and through `mako decode`'s normalised records.

use mako::book::Level;
use mako::types::{InstrumentId, Price, Qty, Side, TradeId, UnixNanos};
use mako::venue::coinbase::CoinbaseMd;
use mako::venue::coinbase::decode::decode;
use mako::venue::md::{Handled, MarketData, SyncEvent, SyncLimits, SyncState};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/coinbase/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn md() -> CoinbaseMd {
    CoinbaseMd::new(
        &[("BTC-USD", InstrumentId(0)), ("ETH-USD", InstrumentId(1))],
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
fn level2_snapshot_sets_the_book() {
    let mut m = md();
    let h = m.on_frame(sample("coinbase_level2_l2_data.json").as_bytes());
    assert_eq!(
        h,
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
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.best_bid(), Some(l("21921.73", "0.06317902")));
    assert_eq!(book.depth(Side::Buy), 2);
    assert_eq!(
        book.qty_at(Side::Buy, Price::parse("21921.3").unwrap()),
        Qty::parse("0.02").unwrap()
    );
    assert_eq!(book.best_ask(), None);
    assert_eq!(
        records("coinbase_level2_l2_data.json"),
        vec![
            json!({"kind": "book", "symbol": "BTC-USD", "type": "snapshot", "seq": 0,
                    "best_bid": "21921.73", "bid_qty": "0.06317902",
                    "bid_levels": 2, "ask_levels": 0})
        ]
    );
}

#[test]
fn ticker_is_a_best_bid_and_offer() {
    let mut m = md();
    assert_eq!(
        m.on_frame(sample("coinbase_ticker.json").as_bytes()),
        Ok(Handled::Bbo {
            instrument: InstrumentId(0),
            update_id: 1,
            bid: l("21931.98", "8000.21"),
            ask: l("21933.98", "8038.07770938"),
            event_time: Some(UnixNanos(1_675_974_637_167_359_596)),
        })
    );
    assert_eq!(
        records("coinbase_ticker.json"),
        vec![
            json!({"kind": "bbo", "symbol": "BTC-USD", "price": "21932.98",
                    "best_bid": "21931.98", "best_ask": "21933.98",
                    "bid_qty": "8000.21", "ask_qty": "8038.07770938", "seq": 0})
        ]
    );
}

#[test]
fn market_trades_name_the_maker_side() {
    let mut m = md();
    assert_eq!(
        m.on_frame(sample("coinbase_market_trades.json").as_bytes()),
        Ok(Handled::Trades)
    );
    let trades = std::mem::take(m.trades());
    assert_eq!(trades.len(), 1);
    let t = trades[0];
    assert_eq!(t.instrument, InstrumentId(1));
    assert_eq!(t.trade_id, TradeId::new(b"000000000").unwrap());
    assert_eq!(t.price, Price::parse("1260.01").unwrap());
    assert_eq!(t.qty, Qty::parse("0.3").unwrap());
    // "side": "BUY" is the maker's: a seller took the bid.
    assert_eq!(t.aggressor, Side::Sell);
    assert_eq!(t.trade_time, UnixNanos(1_565_815_347_265_000_000));
    assert_eq!(
        records("coinbase_market_trades.json"),
        vec![
            json!({"kind": "trade", "symbol": "ETH-USD", "trade_id": "000000000",
                    "price": "1260.01", "qty": "0.3", "side": "sell", "maker_side": "BUY"})
        ]
    );
}

#[test]
fn heartbeats_candles_and_status_are_sequenced_only() {
    for name in [
        "coinbase_heartbeats.json",
        "coinbase_candles.json",
        "coinbase_status.json",
    ] {
        let mut m = md();
        assert_eq!(
            m.on_frame(sample(name).as_bytes()),
            Ok(Handled::Ignored),
            "{name}"
        );
        assert_eq!(m.counters().malformed, 0, "{name}");
    }
    assert_eq!(
        records("coinbase_heartbeats.json"),
        vec![json!({"kind": "heartbeat", "counter": "3049", "seq": 0})]
    );
    assert_eq!(
        records("coinbase_candles.json"),
        vec![
            json!({"kind": "candle", "symbol": "ETH-USD", "start": "1688998200",
                    "open": "1867.38", "high": "1867.72", "low": "1865.63",
                    "close": "1866.81", "volume": "0.20269406"})
        ]
    );
    assert_eq!(
        records("coinbase_status.json"),
        vec![
            json!({"kind": "instrument", "symbol": "BTC-USD", "base": "BTC", "quote": "USD",
                    "lot_size": "0.00000001", "tick_size": "0.01", "state": "online"})
        ]
    );
}

#[test]
fn user_order_decodes() {
    assert_eq!(
        records("coinbase_user.json"),
        vec![
            json!({"kind": "order", "cid": "XXX", "venue_order_id": "YYY",
                    "symbol": "BTC-USD", "side": "buy", "status": "filled",
                    "venue_status": "FILLED", "filled_qty": "0.01", "price": "50000",
                    "avg_price": "50000", "leaves_qty": "0", "fee": "2"})
        ]
    );
}

#[test]
fn subscribe_requests_are_recognised_as_requests() {
    for name in [
        "coinbase_subscribe_heartbeats_request.json",
        "coinbase_subscribe_level2_request.json",
        "coinbase_subscribe_user_request.json",
    ] {
        assert_eq!(records(name), Vec::<Value>::new(), "{name}");
        let v: Value = serde_json::from_str(&sample(name)).unwrap();
        assert_eq!(v["type"], "subscribe");
        assert!(v["channel"].is_string());
    }
}

#[test]
fn the_subscribe_plan_is_one_channel_per_message() {
    let m = md();
    let plan = m.connect_plan("wss://advanced-trade-ws.coinbase.com");
    assert_eq!(plan.url, "wss://advanced-trade-ws.coinbase.com");
    let frames: Vec<Value> = plan
        .subscribe
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect();
    assert_eq!(
        frames,
        vec![
            json!({"type": "subscribe", "channel": "heartbeats"}),
            json!({"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "level2"}),
            json!({"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "ticker"}),
            json!({"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "market_trades"}),
        ]
    );
}

/// The sample's snapshot at `seq`, then updates as the channel sends them.
fn l2(seq: u64, kind: &str, updates: &[(&str, &str, &str)]) -> Vec<u8> {
    let ups: Vec<Value> = updates
        .iter()
        .map(|(side, p, q)| {
            json!({"side": side, "event_time": "2023-02-09T20:32:50.01Z",
                   "price_level": p, "new_quantity": q})
        })
        .collect();
    json!({"channel": "l2_data", "client_id": "", "timestamp": "2023-02-09T20:32:50.714964855Z",
           "sequence_num": seq,
           "events": [{"type": kind, "product_id": "BTC-USD", "updates": ups}]})
    .to_string()
    .into_bytes()
}

fn heartbeat(seq: u64) -> Vec<u8> {
    json!({"channel": "heartbeats", "client_id": "", "timestamp": "2023-06-23T20:31:26.122969572Z",
           "sequence_num": seq,
           "events": [{"current_time": "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105",
                       "heartbeat_counter": "3049"}]})
    .to_string()
    .into_bytes()
}

#[test]
fn a_sequence_gap_on_any_channel_invalidates_every_book_until_a_new_connection() {
    let mut m = md();
    let snap = l2(0, "snapshot", &[("bid", "100", "1"), ("offer", "101", "2")]);
    assert!(m.on_frame(&snap).unwrap().published().is_some());
    assert_eq!(m.on_frame(&heartbeat(1)), Ok(Handled::Ignored));
    let up = l2(
        2,
        "update",
        &[
            ("bid", "100.5", "3"),
            ("offer", "101", "0"),
            ("offer", "102", "1"),
        ],
    );
    assert!(matches!(
        m.on_frame(&up),
        Ok(Handled::Book {
            event: SyncEvent::Applied,
            ..
        })
    ));
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.best_bid(), Some(l("100.5", "3")));
    assert_eq!(book.best_ask(), Some(l("102", "1")));
    // A copy of an earlier message is ignored.
    assert_eq!(m.on_frame(&heartbeat(1)), Ok(Handled::Ignored));
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Live));
    // Message 3 (a heartbeat, or a book update: nothing says which) was lost.
    assert_eq!(m.on_frame(&heartbeat(4)), Ok(Handled::Resync));
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Syncing));
    assert_eq!(m.sync_counters(InstrumentId(0)).unwrap().gaps, 1);
    // Updates on the old connection cannot be placed.
    assert!(matches!(
        m.on_frame(&l2(5, "update", &[("bid", "99", "1")])),
        Ok(Handled::Book {
            event: SyncEvent::Stale,
            ..
        })
    ));
    // The new connection starts its own sequence, with a snapshot.
    m.on_connection_switch();
    let h = m
        .on_frame(&l2(
            0,
            "snapshot",
            &[("bid", "98", "1"), ("offer", "99", "1")],
        ))
        .unwrap();
    assert!(h.published().is_some());
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Live));
    assert_eq!(
        m.book(InstrumentId(0)).unwrap().best_bid(),
        Some(l("98", "1"))
    );
    // Update ids keep rising across connections (tickers are compared with them).
    assert!(m.book(InstrumentId(0)).unwrap().update_id() > 3);
}

#[test]
fn malformed_messages_are_counted_not_fatal() {
    let mut m = md();
    let cases: &[&[u8]] = &[
        b"not json",
        br#"{"channel":"l2_data","sequence_num":0}"#,
        br#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"DOGE-USD","updates":[]}]}"#,
        br#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"1e5","new_quantity":"1"}]}]}"#,
        br#"{"channel":"nope","sequence_num":0,"events":[]}"#,
    ];
    for c in cases {
        assert!(m.on_frame(c).is_err(), "{}", String::from_utf8_lossy(c));
    }
    assert_eq!(m.counters().malformed, cases.len() as u64);
    assert_eq!(
        m.on_frame(br#"{"type":"error","message":"failure to subscribe"}"#),
        Ok(Handled::CommandReply {
            id: None,
            ok: false
        })
    );
}
