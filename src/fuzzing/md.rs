//! The market-data targets: each venue's codec, and its book and trade handling, on outside
//! bytes.

use super::*;

/// Binance market data: the hand-shaped decoder and the general one agree on every input.
pub fn binance_md(data: &[u8]) {
    let mut t = crate::venue::binance::SymbolTable::new();
    let _ = t.insert("btcusdt", InstrumentId(0));
    let _ = t.insert("ethusdt", InstrumentId(1));
    let mut p =
        crate::venue::binance::MdParser::new(t, crate::venue::binance::TimeUnit::Millis, 64);
    let fast = p.parse(data).map(|e| format!("{e:?}"));
    let general = p.parse_generic(data).map(|e| format!("{e:?}"));
    assert_eq!(fast, general, "the Binance decoders disagree");
    let _ = p
        .parse_snapshot(data, InstrumentId(0))
        .map(|s| s.last_update_id);
}

/// Coinbase market data and CDP tokens: a used parser answers like a fresh one (message and
/// the levels, events and trades it leaves); `mako decode`'s Coinbase decoder and the JWT
/// decoder never panic; `CoinbaseMd` (codec, sequence check, books) over the input's lines
/// as successive frames, with connection switches and reconnects, never panics.
pub fn coinbase_md(data: &[u8]) {
    use crate::venue::coinbase::CoinbaseMd;
    use crate::venue::coinbase::md::{CoinbaseMdParser, InstTable, Msg};
    use crate::venue::md::{MarketData, SyncLimits};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTC-USD", InstrumentId(0));
        t.insert("ETH-USD", InstrumentId(1));
        CoinbaseMdParser::new(t, 64)
    };
    // What a message leaves in the parser is read only for its own kind.
    let decoded = |p: &mut CoinbaseMdParser, d: &[u8]| {
        p.parse(d).map(|m| match m {
            Msg::L2 { .. } => format!("{m:?} {:?} {:?} {:?}", p.bids, p.asks, p.events),
            Msg::Trades { .. } => format!("{m:?} {:?}", p.trades),
            _ => format!("{m:?}"),
        })
    };
    let mut used = parser();
    let _ = used.parse(br#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"1","new_quantity":"1"}]}]}"#);
    assert_eq!(
        decoded(&mut parser(), data),
        decoded(&mut used, data),
        "a used Coinbase parser answers differently from a fresh one"
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::venue::coinbase::decode::decode(text);
        let _ = crate::venue::coinbase::jwt::decode(text);
        let _ = crate::venue::coinbase::products::parse_products(text);
    }
    let mut h = CoinbaseMd::new(
        &[("BTC-USD", InstrumentId(0)), ("ETH-USD", InstrumentId(1))],
        SyncLimits {
            book_levels: 16,
            max_buffered_diffs: 4,
            max_buffered_levels: 64,
            max_pending_tickers: 2,
        },
    );
    for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
        let _ = h.on_frame(frame);
        match k % 7 {
            5 => h.on_connection_switch(),
            6 => h.on_reconnect(),
            _ => {}
        }
    }
    for id in [InstrumentId(0), InstrumentId(1)] {
        if let Some(b) = h.book(id) {
            let _ = (b.best_bid(), b.best_ask());
        }
    }
}

/// BitMart market data: a used parser answers like a fresh one (message and the levels,
/// events and trades it leaves, trade ids aside: they count trades of one millisecond);
/// `mako decode`'s BitMart decoder never panics; the inflater on the raw input never panics
/// and, when it inflates, its text decodes as that text does; `BitmartMd` (codec, version
/// rule, snapshot requests) over the input's lines as successive frames, text or binary by
/// the line's first byte, with reconnects, never panics.
pub fn bitmart_md(data: &[u8]) {
    use crate::venue::bitmart::BitmartMd;
    use crate::venue::bitmart::inflate::Inflater;
    use crate::venue::bitmart::md::{BitmartMdParser, InstTable, Msg};
    use crate::venue::md::{MarketData, SyncLimits};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTC_USDT", InstrumentId(0));
        t.insert("ETH_USDT", InstrumentId(1));
        BitmartMdParser::new(t, 64)
    };
    let decoded = |p: &mut BitmartMdParser, d: &[u8]| {
        p.parse(d).map(|m| match m {
            Msg::Depth => format!("{m:?} {:?} {:?} {:?}", p.bids, p.asks, p.events),
            Msg::Trades => {
                let t: Vec<_> = p
                    .trades
                    .iter()
                    .map(|t| (t.instrument, t.price, t.qty, t.aggressor, t.trade_time))
                    .collect();
                format!("{m:?} {t:?}")
            }
            _ => format!("{m:?}"),
        })
    };
    let mut used = parser();
    let _ = used.parse(br#"{"table":"spot/depth/increase100","data":[{"symbol":"BTC_USDT","type":"snapshot","version":1,"ms_t":1,"bids":[["1","1"]],"asks":[]}]}"#);
    let _ = used.parse(br#"{"table":"spot/trade","data":[{"symbol":"ETH_USDT","price":"1","size":"1","side":"buy","ms_t":1}]}"#);
    assert_eq!(
        decoded(&mut parser(), data),
        decoded(&mut used, data),
        "a used BitMart parser answers differently from a fresh one"
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::venue::bitmart::decode::decode(text);
    }
    if let Ok(text) = Inflater::new().inflate(data) {
        let text = text.to_vec();
        let mut a = parser();
        assert_eq!(
            decoded(&mut a, &text),
            decoded(&mut parser(), &text),
            "the same text decodes differently"
        );
    }
    let mut h = BitmartMd::new(
        &[("BTC_USDT", InstrumentId(0)), ("ETH_USDT", InstrumentId(1))],
        SyncLimits {
            book_levels: 16,
            max_buffered_diffs: 4,
            max_buffered_levels: 64,
            max_pending_tickers: 2,
        },
    );
    for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
        let _ = match frame.first() {
            Some(b'{') | Some(b'p') | None => h.on_frame(frame),
            Some(_) => h.on_binary(frame),
        };
        let _ = h.inflated();
        while h.next_request().is_some() {}
        if k % 9 == 8 {
            h.on_reconnect();
        }
    }
    for id in [InstrumentId(0), InstrumentId(1)] {
        if let Some(b) = h.book(id) {
            let _ = (b.best_bid(), b.best_ask());
        }
    }
}

/// Coinstore market data: a used parser answers like a fresh one (message, and the levels or
/// trades it leaves); `mako decode`'s Coinstore decoder never panics; `CoinstoreMd` (codec,
/// snapshot rule, the `S` sequence) over the input's lines as successive frames with
/// reconnects and connection switches, never panics.
pub fn coinstore_md(data: &[u8]) {
    use crate::venue::coinstore::CoinstoreMd;
    use crate::venue::coinstore::md::{CoinstoreMdParser, InstTable, Msg};
    use crate::venue::md::{MarketData, SyncLimits};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTCUSDT", InstrumentId(0));
        t.insert("ETHUSDT", InstrumentId(1));
        CoinstoreMdParser::new(t, 64)
    };
    let decoded = |p: &mut CoinstoreMdParser, d: &[u8]| {
        p.parse(d).map(|m| match m.msg {
            Msg::Depth { .. } => format!("{m:?} {:?} {:?}", p.bids, p.asks),
            Msg::Trades => format!("{m:?} {:?}", p.trades),
            _ => format!("{m:?}"),
        })
    };
    let mut used = parser();
    let _ =
        used.parse(br#"{"S":3,"T":"depth","symbol":"BTCUSDT","b":[["1","1"]],"a":[["2","1"]]}"#);
    let _ = used.parse(br#"{"S":4,"T":"trade","data":[{"symbol":"ETHUSDT","tradeId":1,"takerSide":"BUY","price":"1","volume":"1","ts":1}]}"#);
    assert_eq!(
        decoded(&mut parser(), data),
        decoded(&mut used, data),
        "a used Coinstore parser answers differently from a fresh one"
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::venue::coinstore::decode::decode(text);
    }
    let mut h = CoinstoreMd::new(
        &[("BTCUSDT", InstrumentId(0)), ("ETHUSDT", InstrumentId(1))],
        SyncLimits {
            book_levels: 16,
            max_buffered_diffs: 4,
            max_buffered_levels: 64,
            max_pending_tickers: 2,
        },
    );
    for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
        let _ = h.on_frame(frame);
        match k % 11 {
            9 => h.on_reconnect(),
            10 => h.on_connection_switch(),
            _ => {}
        }
    }
    for id in [InstrumentId(0), InstrumentId(1)] {
        if let Some(b) = h.book(id) {
            let _ = (b.best_bid(), b.best_ask());
        }
    }
}

/// Bybit market data: a used parser answers like a fresh one (message, and the levels or
/// trades it leaves);
/// `mako decode`'s Bybit decoder never panics; `BybitMd` (codec, `u` rule, re-subscribes,
/// ticker merging), spot and linear, over the input's lines as successive frames with
/// re-subscribe requests and marks drained and reconnects, never panics.
pub fn bybit_md(data: &[u8]) {
    use crate::venue::bybit::md::{BybitMdParser, InstTable, Msg};
    use crate::venue::bybit::{BybitMd, Category};
    use crate::venue::md::{MarketData, SyncLimits};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTCUSDT", InstrumentId(0));
        t.insert("ETHUSDT", InstrumentId(1));
        BybitMdParser::new(t, 64)
    };
    let decoded = |p: &mut BybitMdParser, d: &[u8]| {
        p.parse(d).map(|m| match m {
            Msg::Book { .. } => format!("{m:?} {:?} {:?}", p.bids, p.asks),
            Msg::Trades => format!("{m:?} {:?}", p.trades),
            _ => format!("{m:?}"),
        })
    };
    let mut used = parser();
    let _ = used.parse(br#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["1","1"]],"a":[["2","1"]],"u":1,"seq":1},"cts":1}"#);
    let _ = used.parse(br#"{"topic":"publicTrade.ETHUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"ETHUSDT","S":"Buy","v":"1","p":"1","i":"x","BT":false,"seq":1}]}"#);
    assert_eq!(
        decoded(&mut parser(), data),
        decoded(&mut used, data),
        "a used Bybit parser answers differently from a fresh one"
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::venue::bybit::decode::decode(text);
    }
    let limits = SyncLimits {
        book_levels: 16,
        max_buffered_diffs: 4,
        max_buffered_levels: 64,
        max_pending_tickers: 2,
    };
    for category in [Category::Spot, Category::Linear] {
        let mut h = BybitMd::new(
            category,
            &[("BTCUSDT", InstrumentId(0)), ("ETHUSDT", InstrumentId(1))],
            limits,
        );
        for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
            let _ = h.on_frame(frame);
            while h.next_request().is_some() {}
            while h.mark_update().is_some() {}
            if k % 9 == 8 {
                h.on_reconnect();
            }
        }
        for id in [InstrumentId(0), InstrumentId(1)] {
            if let Some(b) = h.book(id) {
                let _ = (b.best_bid(), b.best_ask());
            }
        }
    }
}

/// Delta Exchange market data: a used parser answers like a fresh one (message, and the
/// levels or trades it leaves; the trade-id ordinal, which is meant to carry over between
/// frames, is reset first); `mako decode`'s Delta decoder never panics; `DeltaMd` (codec,
/// `seq` and checksum rule, re-subscribes, marks), India and global, over the input's lines as
/// successive frames with re-subscribe requests and marks drained and reconnects, never
/// panics.
pub fn delta_md(data: &[u8]) {
    use crate::venue::delta::md::{DeltaMdParser, InstTable, Msg};
    use crate::venue::delta::{DeltaMd, Platform};
    use crate::venue::md::{MarketData, SyncLimits};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTCUSD", InstrumentId(0));
        t.insert("ETHUSD", InstrumentId(1));
        DeltaMdParser::new(t, 64)
    };
    let decoded = |p: &mut DeltaMdParser, d: &[u8]| {
        p.parse(d).map(|m| match m {
            Msg::Book { .. } => format!("{m:?} {:?} {:?}", p.bids, p.asks),
            Msg::Trades => format!("{m:?} {:?}", p.trades),
            _ => format!("{m:?}"),
        })
    };
    let mut used = parser();
    let _ = used.parse(br#"{"action":"snapshot","a":[["2.0","1"]],"b":[["1.0","1"]],"seq":1,"sy":"BTCUSD","type":"ob_updates","ts":1,"cs":1}"#);
    let _ = used.parse(br#"{"p":"1","r":"t","s":1.0,"sy":"ETHUSD","t":1,"ts":1,"type":"trades"}"#);
    used.reset_trades();
    assert_eq!(
        decoded(&mut parser(), data),
        decoded(&mut used, data),
        "a used Delta parser answers differently from a fresh one"
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::venue::delta::decode::decode(text);
    }
    let limits = SyncLimits {
        book_levels: 16,
        max_buffered_diffs: 4,
        max_buffered_levels: 64,
        max_pending_tickers: 2,
    };
    for platform in [Platform::India, Platform::Global] {
        let mut h = DeltaMd::new(
            platform,
            &[("BTCUSD", InstrumentId(0)), ("ETHUSD", InstrumentId(1))],
            limits,
        );
        for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
            let _ = h.on_frame(frame);
            while h.next_request().is_some() {}
            while h.mark_update().is_some() {}
            if k % 9 == 8 {
                h.on_reconnect();
            }
        }
        for id in [InstrumentId(0), InstrumentId(1)] {
            if let Some(b) = h.book(id) {
                let _ = (b.best_bid(), b.best_ask());
            }
        }
    }
}

/// OKX market data: the hand-shaped decoder and the general one agree on every input, and
/// so do a book's levels and a push's trades, which they leave in the parser.
pub fn okx_md(data: &[u8]) {
    use crate::venue::okx::md::{InstTable, Msg, OkxMdParser};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTC-USDT", InstrumentId(0));
        t.insert("SOL-USDT", InstrumentId(1));
        OkxMdParser::new(t, 64)
    };
    let (mut a, mut b) = (parser(), parser());
    let fast = a.parse(data);
    let general = b.parse_generic(data);
    match (&fast, &general) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x, y, "the OKX decoders disagree");
            // What a message leaves in the parser: a book's levels and checksum flag, a push's
            // trades (a `bbo-tbt` carries its levels in the message itself).
            let left = |p: &OkxMdParser| match x {
                Msg::Book { .. } => format!("{:?}", (&p.bids, &p.asks, p.canonical)),
                Msg::Trades => format!("{:?}", p.trades),
                _ => String::new(),
            };
            assert_eq!(
                left(&a),
                left(&b),
                "the OKX decoders left different levels or trades"
            );
        }
        (Err(_), Err(_)) => {}
        _ => panic!("one OKX decoder failed, the other did not: {fast:?} / {general:?}"),
    }
    let _ = a.parse_rest_books(data, InstrumentId(0));
}

/// CoinDCX market data: the Socket.IO codec never panics and a used event parser answers like
/// a fresh one (message, and the levels, trades or marks it leaves); `mako decode`'s CoinDCX
/// decoder never panics; `CoindcxMd` (codec, `vs` rule, marks, timers) over the input's lines
/// as successive frames with timer ticks, requests and marks drained and reconnects, never
/// panics.
pub fn coindcx_md(data: &[u8]) {
    use crate::venue::coindcx::handler::{Channels, CoindcxMd};
    use crate::venue::coindcx::md::{CoindcxMdParser, InstTable, Msg};
    use crate::venue::coindcx::socketio::{Packet, parse};
    use crate::venue::md::{MarketData, SyncLimits};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("B-BTC_USDT", InstrumentId(0));
        t.insert("B-ID_USDT", InstrumentId(1));
        CoindcxMdParser::new(t, 64)
    };
    let decoded = |p: &mut CoindcxMdParser, name: &str, d: &[u8]| {
        p.parse(name, d).map(|m| match m {
            Msg::Depth { .. } => format!("{m:?} {:?} {:?}", p.bids, p.asks),
            Msg::Trade => format!("{m:?} {:?}", p.trades),
            Msg::Marks { .. } => format!("{m:?} {:?}", p.marks),
            Msg::LastPrice { .. } => format!("{m:?}"),
        })
    };
    let mut used = parser();
    let _ = used.parse("depth-snapshot", br#"{"channel":"B-BTC_USDT@orderbook@20-futures","data":"{\"ts\":1,\"vs\":1,\"asks\":{\"2\":\"1\"},\"bids\":{\"1\":\"1\"}}"}"#);
    let _ = used.parse(
        "currentPrices@futures#update",
        br#"{"ts":1,"vs":1,"prices":{"B-ID_USDT":{"mp":2.5}}}"#,
    );
    if let Ok(Packet::Event { name, args }) = parse(data) {
        assert_eq!(
            decoded(&mut parser(), name, args),
            decoded(&mut used, name, args),
            "a used CoinDCX parser answers differently from a fresh one"
        );
    }
    for name in [
        "depth-snapshot",
        "new-trade",
        "price-change",
        "currentPrices@futures#update",
    ] {
        let _ = decoded(&mut parser(), name, data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::venue::coindcx::decode::decode(text);
    }
    let limits = SyncLimits {
        book_levels: 16,
        max_buffered_diffs: 4,
        max_buffered_levels: 64,
        max_pending_tickers: 2,
    };
    let all = Channels {
        book: true,
        trades: true,
        prices: true,
        marks: true,
    };
    for pairs in [
        &[("B-BTC_USDT", InstrumentId(0))][..],
        &[
            ("B-BTC_USDT", InstrumentId(0)),
            ("B-ID_USDT", InstrumentId(1)),
        ],
    ] {
        let mut h = CoindcxMd::new(pairs, all, limits).with_stale_after(Duration::from_secs(1));
        for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
            let _ = h.on_frame(frame);
            while h.next_request().is_some() {}
            while h.mark_update().is_some() {}
            let mut ticks = 0;
            while h.on_timer(UnixNanos::from_millis(k as u64 * 700)).is_some() && ticks < 8 {
                ticks += 1;
            }
            if k % 9 == 8 {
                h.on_reconnect();
            }
        }
        if let Some(b) = h.book(InstrumentId(0)) {
            let _ = (b.best_bid(), b.best_ask());
        }
    }
}
