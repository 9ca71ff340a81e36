//! Feed actor tests: frames handed to `on_frame` (a Binance handler stands in for any venue).
use super::*;
use crate::book::BookCache;
use crate::config::StreamKind;
use crate::config::{OrderTransport, VenueKind};
use crate::runtime::{Clock, FullPolicy, Shutdown, bounded};
use crate::types::{Price, Qty};
use crate::venue::binance::handler::SpotMdHandler;

fn diff(first: u64, last: u64, bid: &str) -> String {
    format!(
        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":{first},"u":{last},"b":[["{bid}","1"]],"a":[["200","1"]]}}}}"#
    )
}

fn ticker(u: u64, bid: &str, ask: &str) -> String {
    format!(
        r#"{{"stream":"btcusdt@bookTicker","data":{{"u":{u},"s":"BTCUSDT","b":"{bid}","B":"1","a":"{ask}","A":"2"}}}}"#
    )
}

/// A Binance feed on BTCUSDT (never connected: tests hand frames to `on_frame`), its cache and
/// the receiver of its book announcements.
fn binance_feed() -> (
    FeedActor<SpotMdHandler>,
    std::sync::Arc<BookCache>,
    crate::runtime::Rx<InstrumentId>,
) {
    let cache = BookCache::new(1);
    let (tx, changed) = bounded("book-changed", 64, FullPolicy::Conflate);
    let inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        Price::parse("0.01").unwrap(),
        Qty::parse("0.00001").unwrap(),
    )
    .unwrap();
    let spec = FeedSpec {
        venue: VenueConfig {
            id: VenueId(0),
            name: "binance".into(),
            kind: VenueKind::BinanceSpot,
            // Never connected: the test hands frames to `on_frame`.
            ws_url: "ws://127.0.0.1:9".into(),
            rest_url: "http://127.0.0.1:9".into(),
            ws_api_url: None,
            order_transport: OrderTransport::Rest,
            streams: vec![StreamKind::BookTicker, StreamKind::Depth],
            credentials: None,
            recv_window: Duration::from_secs(5),
            cancel_unknown_orders: false,
            private_ws_url: None,
            demo_trading: false,
            fills_poll: None,
            book_stale_after: None,
            margin_currency: None,
        },
        instruments: vec![inst],
        connector: Connector::with_public_roots(Duration::from_secs(1)).unwrap(),
        writers: vec![cache.writer(InstrumentId(0)).unwrap()],
        trades: vec![],
        book_changed: vec![tx],
        recorder: None,
        clock_offset: None,
        record_to: None,
        options: FeedOptions::default(),
    };
    let md =
        SpotMdHandler::for_venue(&spec.venue, &spec.instruments, SyncLimits::default()).unwrap();
    (FeedActor::new(spec, md).unwrap(), cache, changed)
}

#[test]
fn live_book_tickers_become_the_published_top_until_a_newer_diff() {
    let (mut feed, cache, changed) = binance_feed();
    let reader = cache.reader();
    let ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "test",
    };
    let px = |s: &str| Price::parse(s).unwrap();
    let mut feed_in = |f: &str| {
        feed.on_frame(f.as_bytes(), UnixNanos(7), &ctx);
        let top = reader.top(InstrumentId(0));
        let announced = changed.try_recv().is_some();
        (top, announced)
    };
    // Not live yet: a ticker publishes nothing.
    let (top, announced) = feed_in(&ticker(9, "100", "150"));
    assert!(!top.valid && !announced);
    feed_in(r#"{"lastUpdateId":10,"bids":[["99","1"]],"asks":[["200","1"]]}"#);
    let (top, _) = feed_in(&diff(11, 12, "99"));
    assert!(top.valid);
    assert_eq!((top.bid.price, top.update_id), (px("99"), 12));
    // A newer ticker is the top, announced.
    let (top, announced) = feed_in(&ticker(15, "100", "150"));
    assert!(announced && top.valid);
    assert_eq!(
        (top.bid.price, top.ask.price, top.update_id, top.recv_ts),
        (px("100"), px("150"), 15, UnixNanos(7))
    );
    // An older ticker changes nothing; a crossed one neither.
    let (top, announced) = feed_in(&ticker(14, "101", "150"));
    assert!(!announced);
    assert_eq!(top.update_id, 15);
    let (top, announced) = feed_in(&ticker(16, "150", "150"));
    assert!(!announced);
    assert_eq!(top.update_id, 15);
    // A diff older than the ticker publishes depth, but the ticker stays the top.
    let (top, announced) = feed_in(&diff(13, 14, "99.5"));
    assert!(announced);
    assert_eq!((top.bid.price, top.update_id), (px("100"), 15));
    // A newer diff takes over.
    let (top, _) = feed_in(&diff(15, 16, "99.7"));
    assert_eq!(
        (top.bid.price, top.ask.price, top.update_id),
        (px("99.7"), px("200"), 16)
    );
}

/// Regression: Bybit's trade ids are UUIDs, whose byte order says nothing about time; the
/// duplicate check once compared every id by order and would have dropped about half of
/// them. A linear ticker's mark reaches the cache beside the book.
#[test]
fn uuid_trade_ids_are_all_delivered_and_marks_are_published() {
    use crate::venue::bybit::{BybitMd, Category};
    let cache = BookCache::new(1);
    let (trades_tx, trades) = bounded("trades", 16, FullPolicy::DropNewest);
    let inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        Price::parse("0.01").unwrap(),
        Qty::parse("0.00001").unwrap(),
    )
    .unwrap();
    let spec = FeedSpec {
        venue: VenueConfig {
            id: VenueId(0),
            name: "bybit".into(),
            kind: VenueKind::BybitLinear,
            // Never connected: the test hands frames to `on_frame`.
            ws_url: "ws://127.0.0.1:9".into(),
            rest_url: "http://127.0.0.1:9".into(),
            ws_api_url: None,
            order_transport: OrderTransport::Rest,
            streams: vec![StreamKind::Depth, StreamKind::Trade],
            credentials: None,
            recv_window: Duration::from_secs(5),
            cancel_unknown_orders: false,
            private_ws_url: None,
            demo_trading: false,
            fills_poll: None,
            book_stale_after: None,
            margin_currency: None,
        },
        instruments: vec![inst],
        connector: Connector::with_public_roots(Duration::from_secs(1)).unwrap(),
        writers: vec![cache.writer(InstrumentId(0)).unwrap()],
        trades: vec![trades_tx],
        book_changed: vec![],
        recorder: None,
        clock_offset: None,
        record_to: None,
        options: FeedOptions::default(),
    };
    let md = BybitMd::for_venue(
        Category::Linear,
        &spec.venue,
        &spec.instruments,
        SyncLimits::default(),
    );
    let mut feed = FeedActor::new(spec, md).unwrap();
    let ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "test",
    };
    let trade = |id: &str| {
        format!(
            r#"{{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"100","L":"PlusTick","i":"{id}","BT":false,"seq":1}}]}}"#
        )
    };
    let (high, low) = (
        "f0000000-0000-5000-8000-000000000001",
        "00000000-0000-5000-8000-000000000002",
    );
    for id in [high, low, low] {
        feed.on_frame(trade(id).as_bytes(), UnixNanos(7), &ctx);
    }
    let got: Vec<String> = std::iter::from_fn(|| trades.try_recv())
        .map(|t| t.trade_id.as_str().to_owned())
        .collect();
    // Both ids, and the repeat of the last one dropped as a duplicate.
    assert_eq!(got, vec![high.to_owned(), low.to_owned()]);
    feed.on_frame(
        br#"{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","markPrice":"100.5","indexPrice":"100.4","fundingRate":"-0.0001","nextFundingTime":"1673280000000"},"cs":1,"ts":1673272861686}"#,
        UnixNanos(9),
        &ctx,
    );
    let m = cache.reader().mark(InstrumentId(0));
    assert_eq!(
        (
            m.mark,
            m.index,
            m.funding_rate.units(),
            m.next_funding_ms,
            m.recv_ts,
            m.seq
        ),
        (
            Price::parse("100.5").unwrap(),
            Price::parse("100.4").unwrap(),
            -10_000,
            1_673_280_000_000,
            UnixNanos(9),
            1
        )
    );
}

/// A snapshot older than the buffered diffs is asked for again after a wait that doubles with
/// each one in a row (up to the failure retry), and a snapshot that applies ends the run; asked
/// again at once, a REST side a few milliseconds behind the stream spent the minute's request
/// weight in milliseconds (`mako bench` once waited out its whole run that way).
#[test]
fn a_snapshot_older_than_the_stream_is_asked_again_after_a_growing_wait() {
    let (mut feed, _cache, _changed) = binance_feed();
    let ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "test",
    };
    let o = feed.options;
    assert_eq!(o.snapshot_too_old_wait, Duration::from_millis(50));
    feed.on_frame(diff(100, 110, "99").as_bytes(), UnixNanos(1), &ctx);
    assert!(feed.handler.snapshot_wanted(InstrumentId(0)));
    let old = r#"{"lastUpdateId":50,"bids":[["99","1"]],"asks":[["200","1"]]}"#;
    let mut waits = Vec::new();
    for k in 0..7u64 {
        let at = UnixNanos(1_000 + k);
        feed.on_frame(old.as_bytes(), at, &ctx);
        assert!(
            feed.handler.snapshot_wanted(InstrumentId(0)),
            "still wanted after {k}"
        );
        waits.push(feed.books[0].snapshot_retry_at.0 - at.0);
    }
    let ms = 1_000_000;
    assert_eq!(
        waits,
        [
            50 * ms,
            100 * ms,
            200 * ms,
            400 * ms,
            800 * ms,
            1_000 * ms,
            1_000 * ms
        ]
    );
    // One that covers the buffer applies and ends the run of waits.
    feed.on_frame(
        r#"{"lastUpdateId":105,"bids":[["99","1"]],"asks":[["200","1"]]}"#.as_bytes(),
        UnixNanos(2_000),
        &ctx,
    );
    assert_eq!(feed.books[0].too_old, 0);
    assert!(!feed.handler.snapshot_wanted(InstrumentId(0)));
}
