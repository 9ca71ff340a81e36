//! Every Bybit v5 market-data sample of the reference (exchanges.md §3.2–3.3) decodes, with
//! literal expected values: through the engine's codec and book rule (`BybitMd`, the
//! `MarketData` a feed runs) and through `mako decode`'s normalised records. The reference has
//! no linear ticker sample; the linear ticker here is written in the shape of Bybit's ticker
//! documentation (a snapshot, then a delta of the changed fields) and says so.

use mako::book::Level;
use mako::types::{FundingRate, InstrumentId, MarkUpdate, Price, Qty, Side, TradeId, UnixNanos};
use mako::venue::bybit::decode::decode;
use mako::venue::bybit::{BybitMd, Category};
use mako::venue::decode::strip_comments;
use mako::venue::md::{Handled, Keepalive, MarketData, SyncEvent, SyncLimits, SyncState};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/bybit/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    // The snapshot sample elides levels with `...` lines: dropped, with the trailing commas
    // they leave, so that the rest is the JSON Bybit sends.
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().trim_end_matches(',').eq("..."))
        .collect();
    strip_comments(&kept.join("\n"))
}

fn md(category: Category) -> BybitMd {
    BybitMd::new(
        category,
        &[("BTCUSDT", InstrumentId(0)), ("ETHUSDT", InstrumentId(1))],
        SyncLimits::default(),
    )
}

fn l(p: &str, q: &str) -> Level {
    Level {
        price: Price::parse(p).unwrap(),
        qty: Qty::parse(q).unwrap(),
    }
}

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn records(name: &str) -> Vec<Value> {
    decode(&sample(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| r.into_value())
        .collect()
}

#[test]
fn the_orderbook_snapshot_sets_the_book() {
    for category in [Category::Spot, Category::Linear] {
        let mut m = md(category);
        assert_eq!(
            m.on_frame(sample("bybit_orderbook_snapshot.json").as_bytes()),
            Ok(Handled::Book {
                instrument: InstrumentId(0),
                event: SyncEvent::SnapshotApplied {
                    replayed: 0,
                    live: true
                },
                event_time: Some(UnixNanos::from_millis(1_672_304_484_978)),
            })
        );
        assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Live));
        assert_eq!(m.sync(InstrumentId(0)).unwrap().u(), Some(18_521_288));
        let book = m.book(InstrumentId(0)).unwrap();
        // The book's update id is the cross sequence `seq`.
        assert_eq!(book.update_id(), 7_961_638_724);
        assert_eq!(book.best_bid(), Some(l("16493.50", "0.006")));
        assert_eq!(book.best_ask(), Some(l("16611.00", "0.029")));
        assert_eq!(
            book.qty_at(Side::Buy, px("16493")),
            Qty::parse("0.1").unwrap()
        );
        assert_eq!(
            book.qty_at(Side::Sell, px("16612")),
            Qty::parse("0.213").unwrap()
        );
        assert_eq!((book.depth(Side::Buy), book.depth(Side::Sell)), (2, 2));
    }
}

#[test]
fn the_orderbook_delta_applies_on_the_previous_u_and_deletes_zero_sizes() {
    let mut m = md(Category::Linear);
    // Before any snapshot the delta cannot be placed: dropped, and the book re-subscribed.
    let delta = sample("bybit_orderbook_delta.json");
    assert_eq!(
        m.on_frame(delta.as_bytes()),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Stale,
            event_time: Some(UnixNanos::from_millis(1_687_940_967_466)),
        })
    );
    assert_eq!(
        m.next_request(),
        Some(r#"{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]}"#)
    );
    assert_eq!(
        m.next_request(),
        Some(r#"{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}"#)
    );
    // A snapshot one update before it (made up here: the docs' two samples are of
    // different days), holding the levels the delta deletes.
    let snap = json!({
        "topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": 1_687_940_967_400u64,
        "data": {"s": "BTCUSDT",
            "b": [["30247.20", "1"], ["30240.00", "5"], ["30239.00", "2"]],
            "a": [["30248.70", "3"], ["30249.60", "1"], ["30260.00", "1"]],
            "u": 177_400_506u64, "seq": 66_544_703_300u64},
        "cts": 1_687_940_967_398u64
    });
    assert!(
        m.on_frame(snap.to_string().as_bytes())
            .unwrap()
            .published()
            .is_some()
    );
    assert_eq!(
        m.on_frame(delta.as_bytes()),
        Ok(Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Applied,
            event_time: Some(UnixNanos::from_millis(1_687_940_967_466)),
        })
    );
    let book = m.book(InstrumentId(0)).unwrap();
    assert_eq!(book.update_id(), 66_544_703_342);
    assert_eq!(book.best_bid(), Some(l("30247.20", "30.028")));
    assert_eq!(book.best_ask(), Some(l("30249.30", "0.892")));
    assert_eq!((book.depth(Side::Buy), book.depth(Side::Sell)), (5, 6));
    assert!(book.qty_at(Side::Buy, px("30240.00")).is_zero());
    assert!(book.qty_at(Side::Sell, px("30248.70")).is_zero());
    assert!(book.qty_at(Side::Sell, px("30249.60")).is_zero());
    assert_eq!(
        book.qty_at(Side::Buy, px("30239")),
        Qty::parse("2").unwrap()
    );
    assert_eq!(
        book.qty_at(Side::Sell, px("30252.50")),
        Qty::parse("4.591").unwrap()
    );
    assert_eq!(m.sync(InstrumentId(0)).unwrap().u(), Some(177_400_507));
    // The same delta again (u not the previous + 1): the book is resynced.
    assert_eq!(
        m.on_frame(delta.as_bytes()).unwrap().published(),
        Some(mako::venue::md::Publish::Invalid(InstrumentId(0)))
    );
}

#[test]
fn the_public_trade_keeps_its_uuid_id() {
    let mut m = md(Category::Spot);
    assert_eq!(
        m.on_frame(sample("bybit_public_trade.json").as_bytes()),
        Ok(Handled::Trades)
    );
    let trades = std::mem::take(m.trades());
    assert_eq!(trades.len(), 1);
    let t = trades[0];
    assert_eq!(t.instrument, InstrumentId(0));
    assert_eq!(t.trade_id.as_str(), "20f43950-d8dd-5b31-9112-a178eb6023af");
    assert_eq!(
        t.trade_id,
        TradeId::new(b"20f43950-d8dd-5b31-9112-a178eb6023af").unwrap()
    );
    assert_eq!(
        (t.price, t.qty),
        (px("16578.50"), Qty::parse("0.001").unwrap())
    );
    assert_eq!(t.aggressor, Side::Buy);
    assert_eq!(t.trade_time, UnixNanos::from_millis(1_672_304_486_865));
}

#[test]
fn the_spot_ticker_decodes_and_gives_no_mark() {
    let mut m = md(Category::Spot);
    assert_eq!(
        m.on_frame(sample("bybit_ticker_spot.json").as_bytes()),
        Ok(Handled::Ignored)
    );
    assert_eq!(m.mark_update(), None);
    assert_eq!(m.counters().malformed, 0);
    let r = records("bybit_ticker_spot.json");
    assert_eq!(
        r,
        vec![
            json!({"kind": "ticker", "symbol": "BTCUSDT", "type": "snapshot",
            "price": "21109.77", "ts": "1673853746003"})
        ]
    );
}

#[test]
fn a_linear_ticker_snapshot_and_delta_give_marks() {
    // In the shape of Bybit's ticker page (docs/v5/websocket/public/ticker.mdx, linear):
    // not a reference sample.
    let snap = r#"{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"PlusTick","price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50","lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36","openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499","volume24h":"91705.276","nextFundingTime":"1673280000000","fundingRate":"-0.000212","bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"},"cs":24987956059,"ts":1673272861686}"#;
    let delta = r#"{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"17219.10","fundingRate":"0.0001"},"cs":24987956100,"ts":1673272861786}"#;
    let mut m = md(Category::Linear);
    assert_eq!(m.on_frame(snap.as_bytes()), Ok(Handled::Ignored));
    assert_eq!(
        m.mark_update(),
        Some(MarkUpdate {
            instrument: InstrumentId(0),
            mark: px("17217.33"),
            index: px("17227.36"),
            funding_rate: FundingRate::from_units(-21_200),
            next_funding_ms: 1_673_280_000_000,
            exchange_ts: UnixNanos::from_millis(1_673_272_861_686),
        })
    );
    let _ = m.on_frame(delta.as_bytes());
    assert_eq!(
        m.mark_update(),
        Some(MarkUpdate {
            instrument: InstrumentId(0),
            mark: px("17219.10"),
            index: px("17227.36"),
            funding_rate: FundingRate::from_units(10_000),
            next_funding_ms: 1_673_280_000_000,
            exchange_ts: UnixNanos::from_millis(1_673_272_861_786),
        })
    );
    let d: Vec<Value> = decode(delta)
        .unwrap()
        .into_iter()
        .map(|r| r.into_value())
        .collect();
    assert_eq!(
        d,
        vec![
            json!({"kind": "ticker", "symbol": "BTCUSDT", "type": "delta",
            "mark": "17219.1", "funding_rate": "0.0001", "ts": "1673272861786"})
        ]
    );
}

#[test]
fn pongs_and_subscribe_requests() {
    let mut m = md(Category::Spot);
    for name in [
        "bybit_ws_pong_public_spot.json",
        "bybit_ws_pong_private.json",
    ] {
        assert_eq!(
            m.on_frame(sample(name).as_bytes()),
            Ok(Handled::Pong),
            "{name}"
        );
        assert_eq!(
            records(name),
            vec![json!({"kind": "keepalive", "text": "pong"})]
        );
    }
    // What a client sends: mako decode gives no record; the feed never receives it.
    assert!(records("bybit_ws_subscribe_request.jsonc").is_empty());
    assert!(
        m.on_frame(sample("bybit_ws_subscribe_request.jsonc").as_bytes())
            .is_err()
    );
    // The ping the feed sends is the documented one.
    let plan = m.connect_plan("wss://stream.bybit.com");
    assert!(matches!(
        plan.keepalive,
        Keepalive::Text {
            ping: r#"{"op":"ping"}"#,
            ..
        }
    ));
    assert_eq!(plan.url, "wss://stream.bybit.com/v5/public/spot");
}

#[test]
fn mako_decode_reads_the_book_and_trade_samples() {
    assert_eq!(
        records("bybit_orderbook_snapshot.json"),
        vec![
            json!({"kind": "book", "symbol": "BTCUSDT", "type": "snapshot",
            "seq": 18_521_288, "cross_seq": "7961638724",
            "best_bid": "16493.5", "bid_qty": "0.006", "best_ask": "16611", "ask_qty": "0.029",
            "bid_levels": 2, "ask_levels": 2, "ts": "1672304484978"})
        ]
    );
    assert_eq!(
        records("bybit_orderbook_delta.json"),
        vec![json!({"kind": "book", "symbol": "BTCUSDT", "type": "delta",
            "seq": 177_400_507, "cross_seq": "66544703342",
            "best_bid": "30247.2", "bid_qty": "30.028", "best_ask": "30249.3", "ask_qty": "0.892",
            "bid_levels": 5, "ask_levels": 7, "ts": "1687940967466"})]
    );
    assert_eq!(
        records("bybit_public_trade.json"),
        vec![
            json!({"kind": "trade", "symbol": "BTCUSDT", "price": "16578.5", "qty": "0.001",
            "side": "buy", "trade_id": "20f43950-d8dd-5b31-9112-a178eb6023af",
            "ts": "1672304486865"})
        ]
    );
}

#[test]
fn a_subscribe_error_is_a_failed_reply() {
    let mut m = md(Category::Linear);
    let err = r#"{"success":false,"ret_msg":"error:handler not found,topic:orderbook.50.XYZ","conn_id":"c","req_id":"","op":"subscribe"}"#;
    assert_eq!(
        m.on_frame(err.as_bytes()),
        Ok(Handled::CommandReply {
            id: None,
            ok: false
        })
    );
    assert!(decode(err).unwrap_err().contains("handler not found"));
}
