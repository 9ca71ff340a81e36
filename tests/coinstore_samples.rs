//! Every Coinstore spot market-data sample of the documentation (exchanges.md §6.5 and its
//! `samples/`) decodes, with literal expected values: through the engine's codec and book
//! rule (`CoinstoreMd`, the `MarketData` a feed runs) and through `mako decode`'s normalised
//! records. The docs' samples are annotated (`//` comments; the depth sample lacks a comma
//! after `"symbol"`; the all-ticker sample ends its list with `...`): `plain` mends exactly
//! those and nothing else.

use mako::book::Level;
use mako::types::{InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};
use mako::venue::coinstore::CoinstoreMd;
use mako::venue::coinstore::decode::decode;
use mako::venue::coinstore::md::{CoinstoreMdParser, InstTable, Msg};
use mako::venue::decode::strip_comments;
use mako::venue::md::{
    HandleError, Handled, Keepalive, MarketData, SyncEvent, SyncLimits, SyncState,
};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/coinstore/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// The sample as one line of plain JSON (what a connection would carry).
fn plain(name: &str) -> String {
    let text = strip_comments(&sample(name))
        .replace("\"BTCUSDT\"\n  \"b\"", "\"BTCUSDT\",\n  \"b\"")
        .replace(",\n        ...", "");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    v.to_string()
}

const BTC: InstrumentId = InstrumentId(0);
const USDTBTC: InstrumentId = InstrumentId(1);
const BTCJJ: InstrumentId = InstrumentId(2);
const EOSUSD: InstrumentId = InstrumentId(3);

fn md() -> CoinstoreMd {
    CoinstoreMd::new(
        &[
            ("BTCUSDT", BTC),
            ("USDTBTC", USDTBTC),
            ("BTCJJ", BTCJJ),
            ("EOSUSD", EOSUSD),
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

fn records(line: &str) -> Vec<Value> {
    decode(line)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .into_iter()
        .map(|r| r.into_value())
        .collect()
}

fn trade(
    instrument: InstrumentId,
    id: u64,
    price: &str,
    qty: &str,
    aggressor: Side,
    ms: u64,
) -> TradePrint {
    TradePrint {
        instrument,
        trade_id: TradeId::from_u64(id),
        price: Price::parse(price).unwrap(),
        qty: Qty::parse(qty).unwrap(),
        aggressor,
        trade_time: UnixNanos::from_millis(ms),
        event_time: UnixNanos::from_millis(ms),
    }
}

#[test]
fn the_depth_push_is_the_whole_book() {
    let mut m = md();
    assert_eq!(m.state(BTC), Some(SyncState::Syncing));
    assert_eq!(
        m.on_frame(plain("coinstore_ws_depth.jsonc").as_bytes()),
        Ok(Handled::Book {
            instrument: BTC,
            event: SyncEvent::SnapshotApplied {
                replayed: 0,
                live: true
            },
            event_time: None,
        })
    );
    assert_eq!(m.state(BTC), Some(SyncState::Live));
    let book = m.book(BTC).unwrap();
    assert_eq!(book.best_bid(), Some(l("0.0024", "10")));
    assert_eq!(book.best_ask(), Some(l("0.0026", "100")));
    assert_eq!((book.depth(Side::Buy), book.depth(Side::Sell)), (1, 1));
    assert_eq!(
        records(&plain("coinstore_ws_depth.jsonc")),
        vec![
            json!({"kind": "book", "symbol": "BTCUSDT", "type": "snapshot",
            "best_bid": "0.0024", "bid_qty": "10", "best_ask": "0.0026", "ask_qty": "100",
            "bid_levels": 1, "ask_levels": 1})
        ]
    );
}

#[test]
fn the_rest_depth_answer_decodes_with_its_direction_column() {
    let mut insts = InstTable::default();
    insts.insert("BTCUSDT", BTC);
    let mut p = CoinstoreMdParser::new(insts, 16);
    let d = p
        .parse(plain("coinstore_rest_depth_response.json").as_bytes())
        .unwrap();
    assert_eq!(d.seq, None);
    assert_eq!(d.msg, Msg::Depth { instrument: BTC });
    assert_eq!(
        p.bids,
        vec![l("41991.5", "0.548567"), l("41991", "0.013168")]
    );
    assert_eq!(
        p.asks,
        vec![l("41995", "0.018144"), l("41995.5", "0.008279")]
    );
    assert_eq!(
        records(&plain("coinstore_rest_depth_response.json")),
        vec![
            json!({"kind": "book", "symbol": "BTCUSDT", "type": "snapshot",
            "best_bid": "41991.5", "bid_qty": "0.548567", "best_ask": "41995",
            "ask_qty": "0.018144", "bid_levels": 2, "ask_levels": 2})
        ]
    );
    // The feed's books come from the WebSocket: a REST answer handed to it is refused.
    let mut m = md();
    assert!(
        m.on_snapshot(BTC, plain("coinstore_rest_depth_response.json").as_bytes())
            .is_err()
    );
}

#[test]
fn a_single_trade_push() {
    let mut m = md();
    assert_eq!(
        m.on_frame(plain("coinstore_ws_trade_incremental.jsonc").as_bytes()),
        Ok(Handled::Trades)
    );
    assert_eq!(
        m.trades().as_slice(),
        &[trade(
            USDTBTC,
            12345,
            "0.001",
            "100",
            Side::Buy,
            1_612_685_313_400
        )]
    );
    assert_eq!(
        records(&plain("coinstore_ws_trade_incremental.jsonc")),
        vec![
            json!({"kind": "trade", "symbol": "USDTBTC", "trade_id": "12345",
            "price": "0.001", "qty": "100", "side": "buy", "ts": "1612685313400"})
        ]
    );
}

#[test]
fn a_batch_of_trades_with_the_docs_bull_spelling() {
    let mut m = md();
    assert_eq!(
        m.on_frame(plain("coinstore_ws_trade_full.jsonc").as_bytes()),
        Ok(Handled::Trades)
    );
    assert_eq!(
        m.trades().as_slice(),
        &[
            trade(BTCJJ, 21704, "384.32", "2", Side::Buy, 1_612_685_697_087),
            trade(
                BTCJJ,
                21705,
                "644.96",
                "1.1932988",
                Side::Sell,
                1_612_685_698_157
            ),
        ]
    );
    assert_eq!(m.last_seq(), Some(15));
    assert_eq!(
        records(&plain("coinstore_ws_trade_full.jsonc")),
        vec![
            json!({"kind": "trade", "symbol": "BTCJJ", "trade_id": "21704", "price": "384.32",
                "qty": "2", "side": "buy", "ts": "1612685697087", "seq": 15}),
            json!({"kind": "trade", "symbol": "BTCJJ", "trade_id": "21705", "price": "644.96",
                "qty": "1.1932988", "side": "sell", "ts": "1612685698157", "seq": 15}),
        ]
    );
}

#[test]
fn the_wscat_transcript_greeting_echo_reply_and_trade() {
    let mut m = md();
    let text = sample("coinstore_ws_wscat_transcript.txt");
    let lines: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("< ")).collect();
    assert_eq!(lines.len(), 4);
    let ok = Ok(Handled::CommandReply { id: None, ok: true });
    assert_eq!(m.on_frame(lines[0].as_bytes()), ok, "established");
    assert_eq!(m.on_frame(lines[1].as_bytes()), ok, "command.received");
    assert_eq!(m.on_frame(lines[2].as_bytes()), ok, "sub.channel.success");
    assert_eq!(m.on_frame(lines[3].as_bytes()), Ok(Handled::Trades));
    // No `ts`: the trade time is `time`, in seconds.
    assert_eq!(
        m.trades().as_slice(),
        &[trade(
            EOSUSD,
            26461,
            "9811.7494086",
            "7.505",
            Side::Sell,
            1_604_040_975_000
        )]
    );
    assert_eq!(m.last_seq(), Some(4));
    assert_eq!(m.counters().command_replies, 3);
    assert!(records(lines[0]).is_empty());
    assert_eq!(
        records(lines[3]),
        vec![
            json!({"kind": "trade", "symbol": "EOSUSD", "trade_id": "26461",
            "price": "9811.7494086", "qty": "7.505", "side": "sell", "ts": "1604040975000",
            "seq": 4})
        ]
    );
}

#[test]
fn tickers_klines_lists_and_pongs_are_read_for_nothing_the_book_needs() {
    let mut m = md();
    for name in [
        "coinstore_ws_ticker.jsonc",
        "coinstore_ws_all_ticker.jsonc",
        "coinstore_ws_kline.jsonc",
    ] {
        assert_eq!(
            m.on_frame(plain(name).as_bytes()),
            Ok(Handled::Ignored),
            "{name}"
        );
    }
    assert_eq!(
        m.on_frame(plain("coinstore_ws_list_response.json").as_bytes()),
        Ok(Handled::CommandReply { id: None, ok: true })
    );
    assert_eq!(
        m.on_frame(plain("coinstore_ws_pong_message.json").as_bytes()),
        Ok(Handled::Pong)
    );
    assert_eq!(m.counters().malformed, 0);

    assert_eq!(
        records(&plain("coinstore_ws_ticker.jsonc")),
        vec![
            json!({"kind": "ticker", "symbol": "USDTBTC", "open": "0.001", "high": "0.0025",
            "low": "0.001", "close": "0.0025", "volume": "10000"})
        ]
    );
    let all = records(&plain("coinstore_ws_all_ticker.jsonc"));
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["symbol"], "ETHUSD");
    assert_eq!(all[1]["close"], "9832.91038");
    assert_eq!(
        records(&plain("coinstore_ws_kline.jsonc")),
        vec![json!({"kind": "candle", "symbol": "USDTBTC", "width": "1m",
            "start": "1603732500", "open": "0.001", "high": "0.0025", "low": "0.0015",
            "close": "0.002", "volume": "1000"})]
    );
    assert_eq!(
        records(&plain("coinstore_ws_pong_message.json")),
        vec![json!({"kind": "keepalive", "text": "pong"})]
    );
    // The client's own requests give no record.
    assert!(records(&plain("coinstore_ws_subscribe_request.json")).is_empty());
    assert!(records(&plain("coinstore_ws_list_response.json")).is_empty());
}

#[test]
fn a_gap_in_the_session_sequence_resyncs_every_book() {
    let mut m = md();
    let depth = |s: u64| {
        format!(
            r#"{{"S":{s},"T":"depth","channel":"btcusdt@depth@20","level":20,"symbol":"BTCUSDT","instrumentId":4,"b":[["100","1"]],"a":[["101","2"]]}}"#
        )
    };
    assert!(matches!(
        m.on_frame(depth(7).as_bytes()),
        Ok(Handled::Book { .. })
    ));
    assert!(matches!(
        m.on_frame(depth(8).as_bytes()),
        Ok(Handled::Book { .. })
    ));
    // A copy (S at or below the last) is dropped.
    assert_eq!(m.on_frame(depth(8).as_bytes()), Ok(Handled::Ignored));
    assert_eq!(m.stale_messages, 1);
    // S 10 after 8: message 9 was lost.
    assert_eq!(m.on_frame(depth(10).as_bytes()), Ok(Handled::Resync));
    assert_eq!(m.state(BTC), Some(SyncState::Syncing));
    assert_eq!(m.sync_counters(BTC).unwrap().gaps, 1);
    assert_eq!(m.gaps, 1);
    // A new connection starts S again, and its first snapshot makes the book live.
    m.on_reconnect();
    assert_eq!(
        m.on_frame(depth(1).as_bytes()).map(|h| h.published()),
        Ok(Some(mako::venue::md::Publish::Book(BTC)))
    );
    assert_eq!(m.book(BTC).unwrap().best_ask(), Some(l("101", "2")));
    let c = m.sync_counters(BTC).unwrap();
    assert_eq!((c.snapshots_applied, c.resyncs, c.reconnects), (3, 1, 1));
}

#[test]
fn an_error_reply_and_bad_input_are_refused_without_harm() {
    let mut m = md();
    // The docs give no error reply; C other than 200 is read as one (exchanges.md §6.5).
    assert_eq!(
        m.on_frame(br#"{"S":1,"T":"resp","sid":"x","C":400,"M":"invalid.channel"}"#),
        Ok(Handled::CommandReply {
            id: None,
            ok: false
        })
    );
    assert_eq!(m.error_replies, 1);
    assert!(decode(r#"{"S":1,"T":"resp","C":400,"M":"invalid.channel"}"#).is_err());
    let bad: &[&[u8]] = &[
        b"",
        b"not json",
        b"[]",
        br#"{"S":"2","T":"depth"}"#,
        br#"{"S":2,"T":"depth","symbol":"NOPE","b":[],"a":[]}"#,
        br#"{"S":2,"T":"depth","symbol":"BTCUSDT","b":[["x","1"]],"a":[]}"#,
        br#"{"S":2,"T":"depth","symbol":"BTCUSDT","b":[["0","1"]],"a":[]}"#,
        br#"{"S":2,"T":"trade","symbol":"BTCUSDT","tradeId":1,"takerSide":"UP","price":"1","volume":"1","ts":1}"#,
        br#"{"S":2,"T":"surprise"}"#,
    ];
    for f in bad {
        assert!(
            matches!(
                m.on_frame(f),
                Err(HandleError::Codec(_) | HandleError::UnknownInstrument)
            ),
            "{}",
            String::from_utf8_lossy(f)
        );
    }
    assert_eq!(m.counters().malformed, bad.len() as u64);
    assert_eq!(m.state(BTC), Some(SyncState::Syncing));
}

#[test]
fn the_connection_plan_subscribes_lowercase_streams_once() {
    let m = CoinstoreMd::new(
        &[("BTCUSDT", BTC), ("ETHUSDT", InstrumentId(1))],
        SyncLimits::default(),
    );
    let plan = m.connect_plan("wss://ws.coinstore.com");
    assert_eq!(plan.url, "wss://ws.coinstore.com/s/ws");
    assert_eq!(
        m.connect_plan("ws://127.0.0.1:9/s/ws").url,
        "ws://127.0.0.1:9/s/ws"
    );
    assert_eq!(plan.subscribe.len(), 1);
    let sub: Value = serde_json::from_str(&plan.subscribe[0]).unwrap();
    assert_eq!(
        sub,
        json!({"op": "SUB", "channel": ["btcusdt@depth@20", "btcusdt@trade",
            "ethusdt@depth@20", "ethusdt@trade"], "id": 1})
    );
    assert!(matches!(
        plan.keepalive,
        Keepalive::Text { ping, .. } if ping.starts_with(r#"{"op":"pong""#)
    ));
    assert!(plan.max_age.unwrap() < std::time::Duration::from_secs(24 * 3600));
}
