//! Entry points for the fuzz targets (`fuzz/fuzz_targets/`), one per parser of outside bytes.
//! Each must return on any input without panicking; where two paths decode the same bytes
//! (the fast and the general market-data decoders) it panics if they disagree, so the fuzzer
//! reports a disagreement as a crash. `tests/fuzz_corpus.rs` runs every committed corpus and
//! regression input through the same functions in plain `cargo test`.

use std::io::Cursor;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::config::Secret;
use crate::types::{ClientOrderId, InstrumentId, OrderKind, Price, Qty, Side, StrategyId};
use crate::types::{TimeInForce, UnixNanos, VenueOrderId};
use crate::venue::order::{OrderSession, PlaceOrder, SessionEvent};
use crate::venue::rest::{Answer, RestCodec};

mod binance;
mod private;
use binance::binance_typed_agrees;
pub use private::delta_private;
pub use private::{bitmart_private, bybit_private, coindcx_private, coinstore_private};

/// One target: its name (the file in `fuzz/fuzz_targets/`) and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target by name, for the corpus test.
pub const TARGETS: &[Target] = &[
    ("binance_md", binance_md),
    ("okx_md", okx_md),
    ("coinbase_md", coinbase_md),
    ("bitmart_md", bitmart_md),
    ("bybit_md", bybit_md),
    ("delta_md", delta_md),
    ("coindcx_md", coindcx_md),
    ("coinstore_md", coinstore_md),
    ("binance_private", binance_private),
    ("okx_private", okx_private),
    ("coinbase_private", coinbase_private),
    ("bybit_private", bybit_private),
    ("bitmart_private", bitmart_private),
    ("coinstore_private", coinstore_private),
    ("delta_private", delta_private),
    ("coindcx_private", coindcx_private),
    ("rest_answers", rest_answers),
    ("sim_http", sim_http),
    ("status_http", status_http),
    ("recording", recording),
    ("hgrm", hgrm),
    ("config", config),
];

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

fn secret(s: &str) -> Secret {
    Secret::new(s.to_owned())
}

fn drive_session(s: &mut impl OrderSession, data: &[u8]) {
    let mut out: Vec<SessionEvent> = Vec::new();
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap_or_else(|_| unreachable!());
    let mut buf = Vec::new();
    let o = PlaceOrder {
        reduce_only: false,
        symbol: "BTCUSDT",
        cid: &cid,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::from_int(100),
        qty: Qty::from_int(1),
        price_decimals: 2,
        qty_decimals: 5,
    };
    // Requests in flight, so answers can match them.
    s.place(&o, 1_700_000_000_000, &mut buf);
    buf.clear();
    s.cancel("BTCUSDT", &cid, 1_700_000_000_000, &mut buf);
    for frame in data.split(|b| *b == b'\n') {
        s.on_frame(frame, UnixNanos(1), &mut out);
    }
}

/// The private streams and WebSocket API answers of both venues' order sessions, and the
/// Binance user-data decoders on their own.
pub fn binance_private(data: &[u8]) {
    let mut s = crate::venue::binance::session::Session::new(&secret("k"), &secret("s"), 5_000);
    drive_session(&mut s, data);
    binance_typed_agrees(data);
    use crate::venue::binance::user;
    let _ = user::ws_api_message(data);
    let _ = user::venue_error(data);
    let _ = user::order_snapshot_bytes(data);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = user::execution_report(&v);
        let _ = user::order_snapshots(&v);
        let _ = user::new_order_ack(&v);
        let _ = user::trade_fees(&v);
        let _ = user::account_balances(&v);
    }
}

/// OKX's private WebSocket (login, order answers, `orders` and `account` pushes) and its
/// item decoders.
pub fn okx_private(data: &[u8]) {
    let mut s = crate::venue::okx::OkxSession::new(&secret("k"), &secret("s"), &secret("p"));
    drive_session(&mut s, data);
    use crate::venue::okx::private;
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = private::floor8(text);
        let _ = private::state_of(text);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = private::order_item(&v);
        let _ = private::balances(&v);
        let _ = private::item_error(&v);
        let _ = private::code_of(&v, "code");
        if let Some(a) = v.as_array() {
            let _ = private::fill_fees(a);
        }
    }
}

/// The SDK's published Ed25519 test secret (exchanges.md §4.1): signing needs a real key.
const COINBASE_ED_SECRET: &str =
    "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==";

/// Coinbase private messages: a `CoinbaseUserSession` fed each line of the input as a `user`
/// channel frame; the REST codec's answer to each kind of request; the item decoders on the
/// whole value and on every element of `orders`, `fills` and `accounts`.
pub fn coinbase_private(data: &[u8]) {
    use crate::venue::coinbase::{jwt::JwtSigner, private, rest::CoinbaseRest};
    let Ok(signer) = JwtSigner::from_parts("organizations/o/apiKeys/k", COINBASE_ED_SECRET) else {
        unreachable!("the SDK's test key reads")
    };
    let mut s = crate::venue::coinbase::session::CoinbaseUserSession::new(
        signer.clone(),
        vec!["BTC-USD".into()],
    );
    drive_session(&mut s, data);
    let mut c = CoinbaseRest::with_signer(signer, "api.coinbase.com");
    drive_rest(&mut c, data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = private::state_of(text);
        let _ = private::classify(text);
        let _ = private::quote_asset(text);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = private::order_item(&v);
        let _ = private::create_failure(&v);
        let _ = private::http_error(400, Some(&v));
        for (k, f) in [("orders", 0), ("fills", 1), ("accounts", 2)] {
            if let Some(items) = v.get(k).and_then(serde_json::Value::as_array) {
                match f {
                    0 => items.iter().take(16).for_each(|i| {
                        let _ = private::order_item(i);
                    }),
                    1 => {
                        let _ = private::fill_fees(items);
                    }
                    _ => {
                        let _ = private::balances(items);
                    }
                }
            }
        }
    }
}

fn drive_rest(c: &mut impl RestCodec, data: &[u8]) {
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap_or_else(|_| unreachable!());
    let mut buf = Vec::new();
    let o = PlaceOrder {
        reduce_only: false,
        symbol: "BTCUSDT",
        cid: &cid,
        side: Side::Sell,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::from_int(100),
        qty: Qty::from_int(1),
        price_decimals: 2,
        qty_decimals: 5,
    };
    let now = 1_700_000_000_000;
    let mut ids = vec![0];
    ids.push(c.place(&o, now, &mut buf).id);
    ids.push(c.cancel("BTCUSDT", &cid, now, &mut buf).id);
    ids.push(c.status("BTCUSDT", &cid, now, &mut buf).id);
    ids.push(
        c.trades("BTCUSDT", &cid, VenueOrderId::from_u64(7), now, &mut buf)
            .id,
    );
    ids.push(c.open_orders("BTCUSDT", now, &mut buf).id);
    ids.push(c.account(now, &mut buf).id);
    // First byte: which request is answered; next two: the HTTP status; the rest: the body.
    let (Some(&which), Some(status)) = (data.first(), data.get(1..3)) else {
        return;
    };
    let status = 100 + u16::from_be_bytes([status[0], status[1]]) % 500;
    let id = ids[usize::from(which) % ids.len()];
    let mut out = Vec::new();
    let headers = crate::venue::binance::rest::rate_headers(&[
        ("x-mbx-used-weight-1m", data.get(3..6).unwrap_or_default()),
        ("retry-after", data.get(6..8).unwrap_or_default()),
    ]);
    let body = data.get(3..).unwrap_or_default();
    c.on_answer(
        id,
        Answer::Http {
            status,
            headers,
            body,
        },
        UnixNanos(1),
        &mut out,
    );
}

/// REST answers of both venues' REST codecs, for every kind of request.
pub fn rest_answers(data: &[u8]) {
    let mut b = crate::venue::binance::rest::BinanceRest::new(
        &secret("k"),
        crate::venue::sign::HmacSigner::from_bytes(b"s"),
        5_000,
        6_000,
    );
    drive_rest(&mut b, data);
    let mut o = crate::venue::okx::OkxRest::new(&secret("k"), &secret("s"), &secret("p"), false);
    drive_rest(&mut o, data);
}

/// The simulator's HTTP request reader (what any client can send it) and its query helpers.
pub fn sim_http(data: &[u8]) {
    let stop = AtomicBool::new(false);
    let mut buf = Vec::new();
    let mut r = Cursor::new(data);
    // The idle limit only matters for a socket that stays silent; a cursor answers at once
    // and ends with a closed read.
    for _ in 0..8 {
        let limits = crate::sim::net::HTTP_LIMITS;
        let idle = Duration::from_secs(5);
        if crate::net::http::read_request(&mut r, &mut buf, &stop, idle, limits).is_err() {
            break;
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::net::http::parse_pairs(text);
        let _ = crate::net::http::percent_decode(text);
    }
}

/// Bytes in, bytes out: a connection without a socket.
struct Duplex<'a> {
    input: Cursor<&'a [u8]>,
    output: Vec<u8>,
}

impl std::io::Read for Duplex<'_> {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        std::io::Read::read(&mut self.input, b)
    }
}

impl std::io::Write for Duplex<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The status endpoint: the input as the bytes of one connection, served without a socket
/// by `status::server::serve_requests` (the request reader, `route`, the token check, the
/// control calls; token `fuzz-token`, strategies `grid` and `twap`, a kill switch, no reload
/// replies). The answers are HTTP/1.1 responses framed by their `Content-Length` (no body
/// after `HEAD`), one per request read and one for a refusal, and nothing after them; the
/// server counts each; a command reaches the engine exactly when its answer is 202.
pub fn status_http(data: &[u8]) {
    use crate::net::http::{ReadError, read_request};
    use crate::status::server::{LIMITS, REQUEST_WAIT, REQUESTS_PER_CONNECTION};
    use crate::status::{Board, Published, ServerStats, TokenCheck, server};

    let (control, commands) =
        crate::runtime::bounded("fuzz-control", 8, crate::runtime::FullPolicy::Backpressure);
    let kill = crate::risk::KillSwitch::default();
    let parts = server::ServerParts {
        board: Board::new(Published {
            rendered_at: std::time::Instant::now(),
            run_id: 1,
            mode: "paper",
            status: r#"{"ok":true}"#.into(),
            orders: "[]".into(),
            trades: "[]".into(),
            stats: "{}".into(),
            latency: "{}".into(),
            metrics: "mako_up 1\n".into(),
        }),
        control,
        token: TokenCheck::new(Some(&secret("fuzz-token"))),
        strategies: std::sync::Arc::new(parking_lot::RwLock::new(vec![
            "grid".into(),
            "twap".into(),
        ])),
        activity: Default::default(),
        kill: Some(kill.clone()),
        stale_after: Duration::from_secs(3600),
        stats: std::sync::Arc::new(ServerStats::default()),
        replies: None,
        next_request: std::sync::atomic::AtomicU64::new(1),
        series: crate::status::series::SeriesBoard::default(),
    };
    let stop = AtomicBool::new(false);
    let mut conn = Duplex {
        input: Cursor::new(data),
        output: Vec::new(),
    };
    server::serve_requests(&mut conn, &parts, &stop);

    // The requests as the server read them: whether each was a HEAD.
    let mut heads = Vec::new();
    let (mut input, mut buf) = (Cursor::new(data), Vec::new());
    while heads.len() < REQUESTS_PER_CONNECTION {
        match read_request(&mut input, &mut buf, &stop, REQUEST_WAIT, LIMITS) {
            Ok(r) => {
                heads.push(r.method == "HEAD");
                if !r.keep_alive() {
                    break;
                }
            }
            Err(ReadError::Refused { .. }) => {
                heads.push(false);
                break;
            }
            Err(_) => break,
        }
    }
    let mut out = &conn.output[..];
    let mut accepted = 0;
    for (i, head) in heads.iter().enumerate() {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut r = httparse::Response::new(&mut headers);
        let n = match r.parse(out) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!(
                "answer {i} is not an HTTP response ({other:?}): {:?}",
                String::from_utf8_lossy(&out[..out.len().min(200)])
            ),
        };
        assert_eq!(r.version, Some(1), "answer {i} is not HTTP/1.1");
        let len: usize = r
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
            .unwrap_or_else(|| panic!("answer {i} has no Content-Length"));
        let len = if *head { 0 } else { len };
        assert!(out.len() >= n + len, "answer {i} is cut short");
        if r.code == Some(202) {
            accepted += 1;
        }
        out = &out[n + len..];
    }
    assert!(
        out.is_empty(),
        "bytes after the {} answers: {:?}",
        heads.len(),
        String::from_utf8_lossy(&out[..out.len().min(200)])
    );
    let counted = parts
        .stats
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(counted, heads.len() as u64, "answers counted");
    let routed = std::iter::from_fn(|| commands.try_recv()).count();
    assert_eq!(routed, accepted, "commands routed and answers 202");
    assert!(routed > 0 || !kill.is_tripped(), "a kill without a command");
}

/// The recording reader (mako's own and cryptofeed's line formats) to the end.
pub fn recording(data: &[u8]) {
    let mut r = crate::feed::record::RecordReader::new(Cursor::new(data));
    while let Some(rec) = r.next() {
        let _ = rec.map(|x| (x.line, x.recv, x.frame.len()));
    }
}

/// `.hgrm` files (HdrHistogram's percentile output).
pub fn hgrm(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::latency::hgrm::parse_hgrm(text);
    }
}

/// Config files: the engine's and the simulator's.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::config::parse(text, std::path::Path::new("fuzz.toml"));
    if let Ok(t) = text.parse::<toml::Table>() {
        let _ = crate::sim::SimConfig::from_table(&t);
    }
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
