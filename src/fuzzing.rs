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

/// One target: its name (the file in `fuzz/fuzz_targets/`) and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target by name, for the corpus test.
pub const TARGETS: &[Target] = &[
    ("binance_md", binance_md),
    ("okx_md", okx_md),
    ("binance_private", binance_private),
    ("okx_private", okx_private),
    ("rest_answers", rest_answers),
    ("sim_http", sim_http),
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

/// OKX market data: the hand-shaped decoder and the general one agree on every input, and
/// so do the levels and trades they leave in the parser.
pub fn okx_md(data: &[u8]) {
    use crate::venue::okx::md::{InstTable, OkxMdParser};
    let parser = || {
        let mut t = InstTable::default();
        t.insert("BTC-USDT", InstrumentId(0));
        t.insert("SOL-USDT", InstrumentId(1));
        OkxMdParser::new(t, 64)
    };
    let (mut a, mut b) = (parser(), parser());
    let fast = a.parse(data).map(|m| format!("{m:?}"));
    let general = b.parse_generic(data).map(|m| format!("{m:?}"));
    match (&fast, &general) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x, y, "the OKX decoders disagree");
            assert_eq!(
                format!("{:?}", (&a.bids, &a.asks, &a.trades, a.canonical)),
                format!("{:?}", (&b.bids, &b.asks, &b.trades, b.canonical)),
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

fn drive_rest(c: &mut impl RestCodec, data: &[u8]) {
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap_or_else(|_| unreachable!());
    let mut buf = Vec::new();
    let o = PlaceOrder {
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
