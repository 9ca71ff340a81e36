//! The simulator's BitMart private front end, checked the way a BitMart client uses it, from
//! BitMart's documentation (exchanges.md §5.2–5.8) and not through the engine's codec: every
//! signature here is computed in the test with `hmac`/`sha2` over the documented payloads
//! (`timestamp#memo#body`, `timestamp#memo#bitmart.WebSocket`), pushes are inflated here with
//! `flate2`, and answers are read with serde_json. The test's HMAC reproduces BitMart's
//! official vectors first. A wrong memo, one changed byte of the body, a missing or unknown
//! key and a timestamp outside the window on either side are refused with their documented
//! codes; an order lives through submit, query, open orders, the wallet's frozen funds,
//! cancel; the per-endpoint 2-second limit answers 30013; the private socket logs in, answers
//! `ping`, and pushes a fill compressed.

mod common;

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::start_sim;
use hmac::{Hmac, KeyInit, Mac};
use mako::sim::{DOC_API_KEY, DOC_MEMO, DOC_SECRET};
use serde_json::Value;
use sha2::Sha256;
use tungstenite::Message;

fn hex_hmac(secret: &str, msg: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(msg);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `X-BM-SIGN` of `body` at `ts` with `memo`, with the simulator account's secret.
fn bm_sign(ts: u64, memo: &str, body: &[u8]) -> String {
    let mut msg = format!("{ts}#{memo}#").into_bytes();
    msg.extend_from_slice(body);
    hex_hmac(DOC_SECRET, &msg)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// An answer: HTTP status, body, and the `X-BM-RateLimit-*` headers (remaining, limit).
struct Answer {
    status: u16,
    body: Value,
    used: Option<u32>,
    limit: Option<u32>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn read(mut resp: ureq::http::Response<ureq::Body>) -> Answer {
    let h = |k: &str| {
        resp.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    let (used, limit) = (h("X-BM-RateLimit-Remaining"), h("X-BM-RateLimit-Limit"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        used,
        limit,
    }
}

/// A POST with the given headers (`None` leaves one out) and body bytes.
fn post(
    base: &str,
    path: &str,
    key: Option<&str>,
    ts: Option<&str>,
    sign: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut r = agent()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json");
    for (k, v) in [
        ("X-BM-KEY", key),
        ("X-BM-TIMESTAMP", ts),
        ("X-BM-SIGN", sign),
    ] {
        if let Some(v) = v {
            r = r.header(k, v);
        }
    }
    read(r.send(body).unwrap())
}

/// A correctly signed POST at `ts`.
fn signed(base: &str, path: &str, ts: u64, body: &str) -> Answer {
    let sig = bm_sign(ts, DOC_MEMO, body.as_bytes());
    post(
        base,
        path,
        Some(DOC_API_KEY),
        Some(&ts.to_string()),
        Some(&sig),
        body.as_bytes(),
    )
}

fn wallet(base: &str) -> Answer {
    read(
        agent()
            .get(format!("{base}/spot/v1/wallet"))
            .header("X-BM-KEY", DOC_API_KEY)
            .call()
            .unwrap(),
    )
}

#[test]
fn the_tests_hmac_reproduces_bitmarts_official_vectors() {
    let secret = "6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9";
    assert_eq!(
        hex_hmac(
            secret,
            br#"1589793796145#test001#{"symbol":"BTC_USDT","price":"8600","count":"100"}"#
        ),
        "c31dc326bf87f38bfb49a3f8494961abfa291bd549d0d98d9578e87516cee46d"
    );
    assert_eq!(
        hex_hmac(secret, b"1589267764859#test001#bitmart.WebSocket"),
        "3ceeb7e1b8cb165a975e28a2e2dfaca4d30b358873c0351c1a071d8c83314556"
    );
    assert_eq!(
        DOC_MEMO, "test001",
        "the simulator's default memo is the docs'"
    );
}

#[test]
fn signed_rest_refuses_a_wrong_memo_a_changed_byte_bad_keys_and_stale_timestamps() {
    let s = start_sim("");
    let base = s.rest_url();
    let body = r#"{"symbol":"BTC_USDT","side":"buy","type":"limit","client_order_id":"t1","size":"0.01","price":"1000"}"#;
    let submit = "/spot/v2/submit_order";
    let ts = now_ms();
    let code = |a: &Answer| a.body["code"].as_i64();

    // The memo is part of what is signed: another memo's signature is wrong.
    let wrong_memo = bm_sign(ts, "test002", body.as_bytes());
    let a = post(
        &base,
        submit,
        Some(DOC_API_KEY),
        Some(&ts.to_string()),
        Some(&wrong_memo),
        body.as_bytes(),
    );
    assert_eq!((a.status, code(&a)), (401, Some(30005)), "{}", a.body);
    // One byte of the body changed after signing.
    let good = bm_sign(ts, DOC_MEMO, body.as_bytes());
    let tampered = body.replace("0.01", "0.02");
    let a = post(
        &base,
        submit,
        Some(DOC_API_KEY),
        Some(&ts.to_string()),
        Some(&good),
        tampered.as_bytes(),
    );
    assert_eq!(code(&a), Some(30005), "{}", a.body);
    // Keys, timestamps and signatures missing or malformed.
    let t = ts.to_string();
    let b = body.as_bytes();
    // (X-BM-KEY, X-BM-TIMESTAMP, X-BM-SIGN, the code answered)
    type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, i64);
    let cases: [Case; 5] = [
        (None, Some(&t), Some(&good), 30001),
        (Some("not-a-key"), Some(&t), Some(&good), 30002),
        (Some(DOC_API_KEY), Some(&t), None, 30004),
        (Some(DOC_API_KEY), None, Some(&good), 30006),
        (Some(DOC_API_KEY), Some("soon"), Some(&good), 30006),
    ];
    for (key, ts_h, sig, want) in cases {
        let a = post(&base, submit, key, ts_h, sig, b);
        assert_eq!((a.status, code(&a)), (401, Some(want)), "{}", a.body);
    }
    // Outside v4, the timestamp must be within a minute of the server's, either side.
    for off in [-70_000i64, 70_000] {
        let a = signed(&base, submit, (ts as i64 + off) as u64, body);
        assert_eq!(code(&a), Some(30007), "{off} ms: {}", a.body);
    }
    // A v4 request: `timestamp < server + 1000` and `server − timestamp ≤ recvWindow`.
    let q = |ts: u64, window: u64| {
        let b = format!(r#"{{"clientOrderId":"t1","recvWindow":{window}}}"#);
        signed(&base, "/spot/v4/query/client-order", ts, &b)
    };
    let a = q(now_ms() - 7_000, 5_000);
    assert_eq!(code(&a), Some(30007), "older than recvWindow: {}", a.body);
    let a = q(now_ms() + 3_000, 60_000);
    assert_eq!(code(&a), Some(30007), "ahead of the server: {}", a.body);
    for bad in [0, 60_001] {
        let a = q(now_ms(), bad);
        assert_eq!(code(&a), Some(30007), "recvWindow {bad}: {}", a.body);
    }
    // Inside both windows the query is heard (the order does not exist yet).
    let a = q(now_ms() - 3_000, 10_000);
    assert_eq!((a.status, code(&a)), (400, Some(50005)), "{}", a.body);
    let a = signed(&base, submit, now_ms() - 50_000, body);
    assert_eq!(
        code(&a),
        Some(1000),
        "50 s old is within a minute: {}",
        a.body
    );
    let order_id = a.body["data"]["order_id"].as_str().unwrap().to_owned();
    assert!(order_id.parse::<u64>().is_ok(), "{order_id}");

    // The same client id again: 50042. More than the balance: 50020.
    let a = signed(&base, submit, now_ms(), body);
    assert_eq!(code(&a), Some(50042), "{}", a.body);
    let big = body.replace("\"t1\"", "\"t2\"").replace("0.01", "5000");
    let a = signed(&base, submit, now_ms(), &big);
    assert_eq!(code(&a), Some(50020), "{}", a.body);

    // The order as v4 queries and the wallet show it.
    let a = q(now_ms(), 5_000);
    assert_eq!(code(&a), Some(1000), "{}", a.body);
    let o = &a.body["data"];
    assert_eq!(o["orderId"], order_id.as_str());
    assert_eq!(o["clientOrderId"], "t1");
    assert_eq!(o["symbol"], "BTC_USDT");
    assert_eq!(o["state"], "new");
    assert_eq!(o["type"], "limit");
    assert_eq!(o["price"], "1000");
    assert_eq!(o["size"], "0.01");
    assert_eq!(o["filledSize"], "0");
    let a = signed(
        &base,
        "/spot/v4/query/open-orders",
        now_ms(),
        r#"{"symbol":"BTC_USDT","orderMode":"spot","limit":200,"recvWindow":5000}"#,
    );
    let list = a.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", a.body);
    assert_eq!(list[0]["orderId"], order_id.as_str());
    let a = wallet(&base);
    let usdt = a.body["data"]["wallet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "USDT")
        .unwrap()
        .clone();
    assert_eq!(usdt["frozen"], "10", "0.01 × 1000 frozen: {usdt}");
    assert_eq!(usdt["available"], "999990");

    // Cancelled once (true), then already ended (false); an order never seen: 50005.
    let cancel = r#"{"symbol":"BTC_USDT","client_order_id":"t1"}"#;
    let a = signed(&base, "/spot/v3/cancel_order", now_ms(), cancel);
    assert_eq!(a.body["data"]["result"], true, "{}", a.body);
    let a = signed(&base, "/spot/v3/cancel_order", now_ms(), cancel);
    assert_eq!(a.body["data"]["result"], false, "{}", a.body);
    let a = signed(
        &base,
        "/spot/v3/cancel_order",
        now_ms(),
        r#"{"symbol":"BTC_USDT","client_order_id":"never"}"#,
    );
    assert_eq!(code(&a), Some(50005), "{}", a.body);
    let a = q(now_ms(), 5_000);
    assert_eq!(a.body["data"]["state"], "canceled", "{}", a.body);
    assert_eq!(a.body["data"]["cancelSource"], "user");
}

#[test]
fn each_endpoint_is_limited_per_two_second_window_with_30013() {
    let s = start_sim("");
    let base = s.rest_url();
    // The wallet allows 12 requests per 2 s. Requests are counted in windows, so a run may
    // straddle a window's end: go on until refused, and check what the refusal says.
    let mut last_used = 0;
    let refused = (0..60).find_map(|_| {
        let a = wallet(&base);
        if a.status == 429 {
            return Some(a);
        }
        assert_eq!(a.body["code"], 1000, "{}", a.body);
        assert_eq!(a.limit, Some(12));
        last_used = a.used.unwrap();
        None
    });
    let a = refused.expect("the 13th request in a window is refused");
    assert_eq!(a.body["code"], 30013, "{}", a.body);
    assert_eq!(a.body["message"], "Request too many requests");
    assert_eq!((a.used, a.limit), (Some(12), Some(12)));
    assert_eq!(last_used, 12, "Remaining counts the requests used");
    // Another endpoint keeps its own window.
    let a = signed(
        &base,
        "/spot/v4/query/open-orders",
        now_ms(),
        r#"{"recvWindow":5000}"#,
    );
    assert_eq!(a.body["code"], 1000, "{}", a.body);
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The next message: text as is, binary frames inflated (raw DEFLATE), as JSON or a string.
fn next(ws: &mut Ws) -> (bool, Value) {
    loop {
        match ws.read().expect("the private socket stays open") {
            Message::Text(t) => {
                let t = t.as_str();
                return (
                    false,
                    serde_json::from_str(t).unwrap_or(Value::String(t.to_owned())),
                );
            }
            Message::Binary(b) => {
                let mut text = String::new();
                flate2::read::DeflateDecoder::new(&b[..])
                    .read_to_string(&mut text)
                    .expect("a raw DEFLATE push");
                return (true, serde_json::from_str(&text).unwrap());
            }
            _ => continue,
        }
    }
}

fn login(ts: u64, memo: &str) -> String {
    let sign = hex_hmac(
        DOC_SECRET,
        format!("{ts}#{memo}#bitmart.WebSocket").as_bytes(),
    );
    format!(r#"{{"op":"login","args":["{DOC_API_KEY}","{ts}","{sign}"]}}"#)
}

/// Reads until the connection closes; true if it did.
fn closes(ws: &mut Ws) -> bool {
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

#[test]
fn the_private_socket_logs_in_answers_ping_and_pushes_fills_compressed() {
    let s = start_sim("");
    let url = s.bitmart_private_ws_url();
    // A wrong memo, or a stale timestamp: refused, and the connection is closed.
    for (ts, memo, want) in [
        (now_ms(), "test002", "91011"),
        (now_ms() - 61_000, DOC_MEMO, "91022"),
    ] {
        let mut ws: Ws = tungstenite::connect(&url).unwrap().0;
        ws.send(Message::text(login(ts, memo))).unwrap();
        let (_, v) = next(&mut ws);
        assert_eq!(
            (v["event"].as_str(), v["errorCode"].as_str()),
            (Some("login"), Some(want)),
            "{v}"
        );
        assert!(closes(&mut ws), "a failed login closes the connection");
    }
    let mut ws: Ws = tungstenite::connect(&url).unwrap().0;
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["spot/user/order:BTC_USDT"]}"#,
    ))
    .unwrap();
    let (_, v) = next(&mut ws);
    assert_eq!(v["errorCode"], "90004", "not logged in yet: {v}");
    ws.send(Message::text(login(now_ms(), DOC_MEMO))).unwrap();
    let (binary, v) = next(&mut ws);
    assert_eq!(v, serde_json::json!({"event": "login"}));
    assert!(!binary, "replies are text");
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["spot/user/order:BTC_USDT","spot/user/order:NOPE_USDT"]}"#,
    ))
    .unwrap();
    let (_, v) = next(&mut ws);
    assert_eq!(
        v,
        serde_json::json!({"event": "subscribe", "topic": "spot/user/order:BTC_USDT"})
    );
    let (_, v) = next(&mut ws);
    assert_eq!(v["errorCode"], "90004", "{v}");
    ws.send(Message::text("ping")).unwrap();
    assert_eq!(next(&mut ws), (false, Value::String("pong".into())));

    // A marketable limit buy: pushes until it is filled, each compressed.
    let ticker = read(
        agent()
            .get(format!(
                "{}/api/v3/ticker/bookTicker?symbol=BTCUSDT",
                s.rest_url()
            ))
            .call()
            .unwrap(),
    );
    let ask = mako::types::Price::parse(ticker.body["askPrice"].as_str().unwrap()).unwrap();
    // 100 USDT above the ask: it takes at once.
    let price = mako::types::Price::from_units(ask.units() + 100 * 100_000_000);
    let body = format!(
        r#"{{"symbol":"BTC_USDT","side":"buy","type":"limit","client_order_id":"take1","size":"0.001","price":"{price}"}}"#
    );
    let a = signed(&s.rest_url(), "/spot/v2/submit_order", now_ms(), &body);
    assert_eq!(a.body["code"], 1000, "{}", a.body);
    let order_id = a.body["data"]["order_id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = Value::Null;
    while std::time::Instant::now() < deadline {
        let (binary, v) = next(&mut ws);
        assert!(binary, "pushes are compressed binary frames: {v}");
        assert_eq!(v["table"], "spot/user/order", "{v}");
        last = v["data"][0].clone();
        assert_eq!(last["order_id"], order_id.as_str());
        assert_eq!(last["client_order_id"], "take1");
        if last["order_state"] == "filled" {
            break;
        }
    }
    assert_eq!(last["order_state"], "filled", "{last}");
    assert_eq!(last["filled_size"], "0.001");
    assert_eq!(last["side"], "buy");
    assert_eq!(last["symbol"], "BTC_USDT");
    assert_eq!(last["exec_type"], "T", "it took liquidity");
    assert!(!last["detail_id"].as_str().unwrap().is_empty());
    assert_eq!(
        last["deal_fee_coin_name"], "BTC",
        "a buy pays its fee in the base"
    );
    // The trade list has the fills with their fees, as the simulator charged them.
    let a = signed(
        &s.rest_url(),
        "/spot/v4/query/order-trades",
        now_ms(),
        &format!(r#"{{"orderId":"{order_id}","recvWindow":5000}}"#),
    );
    let trades = a.body["data"].as_array().unwrap().clone();
    assert!(!trades.is_empty(), "{}", a.body);
    let state = s.state();
    let fills: Vec<&Value> = state["fills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["orderId"].as_u64() == order_id.parse().ok())
        .collect();
    assert_eq!(trades.len(), fills.len());
    for (t, f) in trades.iter().zip(&fills) {
        let n = |v: &Value| mako::types::Qty::parse(v.as_str().unwrap()).unwrap();
        assert_eq!(n(&t["fee"]), n(&f["commission"]), "{t} vs {f}");
        assert_eq!(t["feeCoinName"], f["commissionAsset"]);
        assert_eq!(t["tradeRole"], "taker");
    }
}
