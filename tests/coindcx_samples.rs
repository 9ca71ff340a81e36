//! Every CoinDCX futures market-data sample of the reference (exchanges.md §7.5) decodes, with
//! literal expected values: through the engine's codec and book rule (`CoindcxMd`, the
//! `MarketData` a feed runs, fed Socket.IO frames) and through `mako decode`'s normalised
//! records; the private samples (`df-order-update`, `df-position-update`, `balance-update`)
//! through `mako decode`. The samples are payloads only; the frames here wrap them as
//! `42["<event>",{"channel":…,"data":<payload as a JSON string>}]` (mako's reading of the
//! undocumented envelope, `venue::coindcx::UNCONFIRMED`) and, for the connection's only pair,
//! bare.

use mako::book::Level;
use mako::types::{FundingRate, InstrumentId, MarkUpdate, Price, Qty, Side, TradeId, UnixNanos};
use mako::venue::coindcx::decode::decode;
use mako::venue::coindcx::handler::{Channels, CoindcxMd};
use mako::venue::decode::strip_comments;
use mako::venue::md::{Handled, Keepalive, MarketData, SyncEvent, SyncLimits, SyncState};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/coindcx/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    strip_comments(&text)
}

/// The sample as one line of compact JSON.
fn compact(name: &str) -> String {
    let v: Value = serde_json::from_str(&sample(name)).unwrap();
    v.to_string()
}

/// `42["event",{"channel":…,"event":…,"data":"<payload>"}]`.
fn framed(event: &str, channel: &str, payload: &str) -> String {
    let arg = json!({"channel": channel, "event": event, "data": payload});
    format!("42{}", json!([event, arg]))
}

const ALL: Channels = Channels {
    book: true,
    trades: true,
    prices: true,
    marks: true,
};

fn md(pairs: &[(&str, InstrumentId)]) -> CoindcxMd {
    CoindcxMd::new(pairs, ALL, SyncLimits::default())
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

fn records(line: &str) -> Vec<Value> {
    decode(line)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .into_iter()
        .map(|r| r.into_value())
        .collect()
}

fn top(m: &CoindcxMd, id: InstrumentId) -> (Vec<Level>, Vec<Level>) {
    let b = m.book(id).unwrap();
    let mut bids = [Level::default(); 5];
    let mut asks = [Level::default(); 5];
    let nb = b.top_n(Side::Buy, &mut bids);
    let na = b.top_n(Side::Sell, &mut asks);
    (bids[..nb].to_vec(), asks[..na].to_vec())
}

#[test]
fn the_depth_snapshot_is_the_book() {
    let payload = compact("coindcx_ws_depth_snapshot.json");
    let eth = InstrumentId(7);
    for (frame, pairs) in [
        // In the envelope, on a connection of two pairs: the channel routes it.
        (
            framed(
                "depth-snapshot",
                "B-ETH_USDT@orderbook@20-futures",
                &payload,
            ),
            vec![("B-BTC_USDT", InstrumentId(0)), ("B-ETH_USDT", eth)],
        ),
        // Bare, on a connection of one pair.
        (
            format!("42[\"depth-snapshot\",{payload}]"),
            vec![("B-ETH_USDT", eth)],
        ),
    ] {
        let mut m = md(&pairs);
        let h = m.on_frame(frame.as_bytes()).unwrap();
        assert_eq!(
            h,
            Handled::Book {
                instrument: eth,
                event: SyncEvent::SnapshotApplied {
                    replayed: 0,
                    live: true
                },
                event_time: Some(UnixNanos::from_millis(1_705_913_767_265)),
            }
        );
        assert_eq!(m.state(eth), Some(SyncState::Live));
        assert_eq!(m.book(eth).unwrap().update_id(), 53_727_235);
        assert_eq!(
            top(&m, eth),
            (
                vec![
                    l("2409.76", "12.417"),
                    l("2409.75", "1.516"),
                    l("2409.74", "15.876")
                ],
                vec![
                    l("2409.77", "55.997"),
                    l("2409.78", "5.912"),
                    l("2410", "112.442")
                ],
            )
        );
        // The same version again is stale: dropped, counted, the book unchanged.
        assert_eq!(
            m.on_frame(frame.as_bytes()).unwrap(),
            Handled::Book {
                instrument: eth,
                event: SyncEvent::Stale,
                event_time: Some(UnixNanos::from_millis(1_705_913_767_265)),
            }
        );
        assert_eq!(m.sync_counters(eth).unwrap().stale_dropped, 1);
        assert_eq!(m.counters().malformed, 0);
    }
    let r = records(&payload);
    assert_eq!(
        r,
        vec![json!({"kind": "book", "type": "snapshot", "seq": 53727235,
            "best_bid": "2409.76", "bid_qty": "12.417", "best_ask": "2409.77", "ask_qty": "55.997",
            "bid_levels": 3, "ask_levels": 3, "ts": "1705913767265"})]
    );
    let r = records(&framed(
        "depth-snapshot",
        "B-ETH_USDT@orderbook@20-futures",
        &payload,
    ));
    assert_eq!(r[0]["symbol"], "B-ETH_USDT");
    assert_eq!(r[0]["best_ask"], "2409.77");
}

#[test]
fn the_new_trade_sample() {
    let payload = compact("coindcx_ws_new_trade.json");
    let id = InstrumentId(2);
    let mut m = md(&[("B-BTC_USDT", InstrumentId(0)), ("B-ID_USDT", id)]);
    let frame = framed("new-trade", "B-ID_USDT@trades-futures", &payload);
    let t = 1_705_516_361_108u64;
    let expected = mako::types::TradePrint {
        instrument: id,
        trade_id: TradeId::from_u64(t * 1024),
        price: px("0.3473"),
        qty: Qty::parse("40").unwrap(),
        // m = 1: the buyer was the maker, the seller took.
        aggressor: Side::Sell,
        trade_time: UnixNanos::from_millis(t),
        event_time: UnixNanos::from_millis(t),
    };
    assert_eq!(m.on_frame(frame.as_bytes()), Ok(Handled::Trade(expected)));
    // A second trade in the same millisecond gets the next id.
    let Ok(Handled::Trade(second)) = m.on_frame(frame.as_bytes()) else {
        panic!("not a trade");
    };
    assert_eq!(second.trade_id, TradeId::from_u64(t * 1024 + 1));
    assert_eq!(
        records(&payload),
        vec![
            json!({"kind": "trade", "symbol": "B-ID_USDT", "price": "0.3473", "qty": "40",
            "side": "sell", "ts": "1705516361108"})
        ]
    );
}

#[test]
fn the_price_change_sample() {
    let payload = compact("coindcx_ws_price_change.json");
    let mut m = md(&[
        ("B-ID_USDT", InstrumentId(0)),
        ("B-BTC_USDT", InstrumentId(1)),
    ]);
    let frame = framed("price-change", "B-ID_USDT@prices-futures", &payload);
    assert_eq!(m.on_frame(frame.as_bytes()), Ok(Handled::Ignored));
    assert_eq!(m.sio.last_prices, 1);
    // Bare, with two pairs on the connection, it cannot be routed: an error, counted.
    assert!(
        m.on_frame(format!("42[\"price-change\",{payload}]").as_bytes())
            .is_err()
    );
    assert_eq!(m.counters().malformed, 1);
    assert_eq!(
        records(&framed(
            "price-change",
            "B-ID_USDT@prices-futures",
            &payload
        )),
        vec![
            json!({"kind": "ticker", "price": "0.3473", "symbol": "B-ID_USDT", "ts": "1705516361108"})
        ]
    );
}

#[test]
fn the_current_prices_sample_gives_marks() {
    let payload = compact("coindcx_ws_current_prices.json");
    let ldo = InstrumentId(4);
    let uni = InstrumentId(5);
    let mut m = md(&[("B-LDO_USDT", ldo), ("B-UNI_USDT", uni)]);
    let frame = framed(
        "currentPrices@futures#update",
        "currentPrices@futures@rt",
        &payload,
    );
    assert_eq!(m.on_frame(frame.as_bytes()), Ok(Handled::Ignored));
    // B-UNI_USDT carries no mp: only B-LDO_USDT's mark.
    assert_eq!(
        m.mark_update(),
        Some(MarkUpdate {
            instrument: ldo,
            mark: px("2.87559482"),
            index: px("2.87559482"),
            funding_rate: FundingRate::default(),
            next_funding_ms: 0,
            exchange_ts: UnixNanos::from_millis(1_707_384_027_242),
        })
    );
    assert_eq!(m.mark_update(), None);
    assert_eq!(
        records(&payload),
        vec![
            json!({"kind": "mark", "symbol": "B-LDO_USDT", "mark": "2.87559482", "ts": "1707384027242"})
        ]
    );
}

#[test]
fn the_candlestick_sample_is_not_joined_but_decodes() {
    let payload = compact("coindcx_ws_candlestick.json");
    // The feed joins no candle channel: the event is an error, counted, not a hang.
    let mut m = md(&[("B-ID_USDT", InstrumentId(0))]);
    assert!(
        m.on_frame(format!("42[\"candlestick\",{payload}]").as_bytes())
            .is_err()
    );
    assert_eq!((m.counters().malformed, m.sio.unjoined_events), (1, 1));
    assert_eq!(
        records(&payload),
        vec![
            json!({"kind": "candle", "symbol": "B-ID_USDT", "interval": "1h",
            "open": "0.3524", "high": "0.3531", "low": "0.3466", "close": "0.3472",
            "volume": "5020395", "open_time": "1705514400"})
        ]
    );
}

#[test]
fn the_private_samples_decode() {
    assert_eq!(
        records(&sample("coindcx_ws_df_order_update.jsonc")),
        vec![
            json!({"kind": "order", "venue_order_id": "ff5a645f-84b7-4d63-b513-9e2f960855fc",
            "symbol": "B-ID_USDT", "side": "sell", "order_type": "take_profit_limit",
            "status": "cancelled", "price": "0.9", "qty": "0", "filled_qty": "0",
            "avg_price": "0", "fee": "0", "margin_currency": "INR", "conversion_price": "89",
            "ts": "1705999727686"})
        ]
    );
    assert_eq!(
        records(&sample("coindcx_ws_df_position_update.jsonc")),
        vec![
            json!({"kind": "position", "symbol": "B-BNB_USDT", "qty": "0",
            "entry_price": "0", "leverage": "10", "mark": "0", "liquidation_price": "0",
            "margin_type": "isolated", "margin_currency": "INR", "conversion_price": "89",
            "ts": "1717754279737"})
        ]
    );
    assert_eq!(
        records(&sample("coindcx_ws_balance_update.json")),
        vec![
            json!({"kind": "balance", "asset": "USDT", "total": "1.0221449",
            "locked": "0.99478995"})
        ]
    );
}

#[test]
fn the_join_examples_are_what_the_feed_sends() {
    let m = CoindcxMd::new(
        &[("B-ID_USDT", InstrumentId(0))],
        ALL,
        SyncLimits::default(),
    );
    let plan = m.connect_plan("wss://stream.coindcx.com");
    assert_eq!(
        plan.url,
        "wss://stream.coindcx.com/socket.io/?EIO=3&transport=websocket"
    );
    assert_eq!(plan.keepalive, Keepalive::VenueTimers);
    // The docs' join examples (coindcx_ws_join_examples.txt) as Socket.IO v2 event packets;
    // the docs use the 50-level book, mako the 20-level one.
    assert_eq!(
        plan.subscribe,
        vec![
            r#"42["join",{"channelName":"B-ID_USDT@orderbook@20-futures"}]"#,
            r#"42["join",{"channelName":"B-ID_USDT@trades-futures"}]"#,
            r#"42["join",{"channelName":"B-ID_USDT@prices-futures"}]"#,
            r#"42["join",{"channelName":"currentPrices@futures@rt"}]"#,
        ]
    );
    let examples = sample("coindcx_ws_join_examples.txt");
    for channel in [
        "B-ID_USDT@trades-futures",
        "B-ID_USDT@prices-futures",
        "currentPrices@futures@rt",
    ] {
        assert!(examples.contains(channel), "{channel}");
    }
}
