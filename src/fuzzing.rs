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
mod md;
mod private;
use binance::binance_typed_agrees;
pub use md::{
    binance_md, bitmart_md, bybit_md, coinbase_md, coindcx_md, coinstore_md, delta_md, okx_md,
};
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
