//! The simulator's Coinstore private front end, checked the way a Coinstore client uses it,
//! from the documentation (exchanges.md §6.2–6.6 and the 2022 private WebSocket) and not
//! through the engine's codec: every signature is computed here with `hmac`/`sha2` (the key
//! of `floor(expires / 30000)`, its hex text keying the HMAC of the bytes sent), answers are
//! read with serde_json. A wrong signature, a changed body byte, an unknown key and an
//! `X-CS-EXPIRES` outside the accepted buckets are refused (1401, 401), on both sides of a
//! bucket boundary; an order placed over REST is queried by `clOrdId`, listed as active,
//! freezes its quote in the account list and is cancelled by `ordId`; the per-user limit
//! answers 429; and the 2022 LOGIN brings order pushes (no client id, `version`, the match
//! fields) and account pushes, every message numbered by the session's `S`.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{start_sim, wait_for};
use hmac::{Hmac, KeyInit, Mac};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use serde_json::{Value, json};
use sha2::Sha256;
use tungstenite::Message;

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `X-CS-SIGN` with the key of `bucket`.
fn sign_in(bucket: u64, payload: &[u8]) -> String {
    let key = hmac_hex(DOC_SECRET.as_bytes(), bucket.to_string().as_bytes());
    hmac_hex(key.as_bytes(), payload)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// One request as a client sends it.
struct Call<'a> {
    method: &'a str,
    path: &'a str,
    /// The query string (GET) or the body (POST).
    payload: &'a str,
    key: &'a str,
    expires: u64,
    /// The signature sent.
    sign: String,
}

impl<'a> Call<'a> {
    fn new(method: &'a str, path: &'a str, payload: &'a str, expires: u64) -> Self {
        Self {
            method,
            path,
            payload,
            key: DOC_API_KEY,
            expires,
            sign: sign_in(expires / 30_000, payload.as_bytes()),
        }
    }

    fn send(&self, base: &str) -> (u16, Value) {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let headers = [
            ("X-CS-APIKEY", self.key.to_owned()),
            ("X-CS-EXPIRES", self.expires.to_string()),
            ("X-CS-SIGN", self.sign.clone()),
        ];
        let mut resp = if self.method == "GET" {
            let mut r = agent.get(format!("{base}{}?{}", self.path, self.payload));
            for (k, v) in &headers {
                r = r.header(*k, v);
            }
            r.call().unwrap()
        } else {
            let mut r = agent
                .post(format!("{base}{}", self.path))
                .header("Content-Type", "application/json");
            for (k, v) in &headers {
                r = r.header(*k, v);
            }
            r.send(self.payload).unwrap()
        };
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&body).unwrap())
    }
}

fn code(v: &Value) -> i64 {
    match &v["code"] {
        Value::String(s) => s.parse().unwrap(),
        c => c.as_i64().unwrap(),
    }
}

fn place_body(cl: &str, side: &str, price: &str, qty: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","side":"{side}","ordType":"LIMIT","timeInForce":"GTC","ordPrice":"{price}","ordQty":"{qty}","clOrdId":"{cl}","timestamp":{}}}"#,
        now_ms()
    )
}

#[test]
fn signatures_are_checked_over_the_bytes_sent_and_inside_their_bucket() {
    let s = start_sim("");
    let base = s.rest_url();
    let body = place_body("cs-1", "BUY", "1000", "0.01");
    let (status, v) = Call::new("POST", "/api/trade/order/place", &body, now_ms()).send(&base);
    assert_eq!((status, code(&v)), (200, 0), "{v}");
    // A changed byte in the body sent: refused (the signature is of the original).
    let mut c = Call::new("POST", "/api/trade/order/place", &body, now_ms());
    let tampered = body.replace("0.01", "0.02");
    c.payload = &tampered;
    assert_eq!(code(&c.send(&base).1), 1401);
    // A spoiled signature and an unknown key.
    let mut c = Call::new("POST", "/api/trade/order/place", &body, now_ms());
    c.sign
        .replace_range(0..1, if c.sign.starts_with('0') { "1" } else { "0" });
    assert_eq!(code(&c.send(&base).1), 1401);
    let mut c = Call::new("POST", "/api/trade/order/place", &body, now_ms());
    c.key = "not-a-key";
    assert_eq!(code(&c.send(&base).1), 401);
    // Pin the server's clock mid-bucket (the skew fault), then sign on both sides of the
    // bucket's edges: its last ms and the one before it (a request may cross into the next
    // bucket in flight) are accepted; the next bucket and two back are not.
    let now = now_ms();
    let skew = 15_000 - (now % 30_000) as i64;
    s.faults().set_clock_skew_ms(skew);
    let server = (now as i64 + skew) as u64;
    let start = server / 30_000 * 30_000;
    let q = "symbol=BTCUSDT";
    let at = |expires: u64| {
        code(
            &Call::new("GET", "/api/v2/trade/order/active", q, expires)
                .send(&base)
                .1,
        )
    };
    assert_eq!(at(start), 0);
    assert_eq!(at(start + 29_999), 0);
    assert_eq!(at(start + 30_000), 1401);
    assert_eq!(at(start - 1), 0);
    assert_eq!(at(start - 30_001), 1401);
    // The right expires with the neighbouring bucket's key: refused on both sides.
    for bucket in [start / 30_000 - 1, start / 30_000 + 1] {
        let mut c = Call::new("GET", "/api/v2/trade/order/active", q, start + 10);
        c.sign = sign_in(bucket, q.as_bytes());
        assert_eq!(code(&c.send(&base).1), 1401, "bucket {bucket}");
    }
}

#[test]
fn an_order_is_queried_listed_frozen_and_cancelled() {
    let s = start_sim("");
    let base = s.rest_url();
    let call = |m: &str, p: &str, payload: &str| Call::new(m, p, payload, now_ms()).send(&base);
    let (_, v) = call(
        "POST",
        "/api/trade/order/place",
        &place_body("cs-7", "BUY", "1000", "0.01"),
    );
    let ord = v["data"]["order_id"]
        .as_u64()
        .expect("the docs' sample form");
    let (_, v) = call("GET", "/api/v2/trade/order/orderInfo", "clOrdId=cs-7");
    assert_eq!(code(&v), 0, "{v}");
    let d = &v["data"];
    assert_eq!(
        (d["ordId"].as_u64(), d["ordState"].as_str()),
        (Some(ord), Some("SUBMITTED"))
    );
    assert_eq!(
        (d["ordPrice"].as_str(), d["ordQty"].as_str()),
        (Some("1000"), Some("0.01"))
    );
    let (_, v) = call("GET", "/api/v2/trade/order/active", "symbol=BTCUSDT");
    let list = v["data"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["ordId"], json!(ord.to_string()));
    assert_eq!(list[0]["ordStatus"], "SUBMITTED");
    let (_, v) = call("POST", "/api/spot/accountList", "{}");
    let frozen = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["currency"] == "USDT" && r["type"] == 4)
        .expect("a FROZEN USDT row");
    assert_eq!(frozen["balance"], "10", "{frozen}");
    assert_eq!(frozen["typeName"], "FROZEN");
    // Refusals with the documented codes.
    let (_, v) = call(
        "POST",
        "/api/trade/order/place",
        &place_body("cs-8", "SELL", "100000", "11"),
    );
    assert_eq!(code(&v), 3113, "{v}");
    let (_, v) = call(
        "POST",
        "/api/trade/order/place",
        &place_body("cs-9", "BUY", "1", "1").replace("BTCUSDT", "NOPE"),
    );
    assert_eq!(code(&v), 3011, "{v}");
    let cancel = format!(r#"{{"symbol":"BTCUSDT","ordId":{ord}}}"#);
    let (_, v) = call("POST", "/api/trade/order/cancel", &cancel);
    assert_eq!(
        (code(&v), v["data"]["state"].as_str()),
        (0, Some("CANCELED")),
        "{v}"
    );
    let (_, v) = call("POST", "/api/trade/order/cancel", &cancel);
    assert_eq!(code(&v), 3103, "{v}");
    let (_, v) = call(
        "GET",
        "/api/v2/trade/order/orderInfo",
        &format!("ordId={ord}"),
    );
    assert_eq!(v["data"]["ordState"], "CANCELED");
    let (_, v) = call("GET", "/api/v2/trade/order/orderInfo", "clOrdId=never");
    assert_eq!(code(&v), 3103);
}

#[test]
fn the_per_user_limit_answers_429() {
    let s = start_sim("");
    let base = s.rest_url();
    // 120 per 3 s per user: some request of the next 300 is over it, whichever windows they
    // fall in.
    let limited = (0..300).find_map(|_| {
        let (status, v) = Call::new("POST", "/api/spot/accountList", "{}", now_ms()).send(&base);
        (status == 429).then_some(v)
    });
    let v = limited.expect("a 429 within 300 requests");
    assert_eq!(code(&v), 429);
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn next(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("the socket stays open") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            _ => continue,
        }
    }
}

#[test]
fn login_brings_order_and_account_pushes_numbered_by_s() {
    let s = start_sim("");
    let base = s.rest_url();
    let (mut ws, _) = tungstenite::connect(s.coinstore_ws_url()).unwrap();
    let hello = next(&mut ws);
    assert_eq!(
        (hello["S"].as_u64(), hello["M"].as_str()),
        (Some(1), Some("established"))
    );
    let uid = mako::sim::coinstore_private::user_id_for_key(DOC_API_KEY);
    let login = |uid: u64| {
        json!({"op": "LOGIN", "channel": ["!@order", "!@account"],
            "auth": {"user-id": uid, "token": DOC_API_KEY, "type": "api"}, "id": 2})
        .to_string()
    };
    ws.send(Message::text(login(uid + 1))).unwrap();
    let no = next(&mut ws);
    assert_eq!(
        (no["S"].as_u64(), no["C"].as_i64()),
        (Some(2), Some(401)),
        "{no}"
    );
    ws.send(Message::text(login(uid))).unwrap();
    let ok = next(&mut ws);
    assert_eq!(
        (ok["T"].as_str(), ok["C"].as_i64(), ok["M"].as_str()),
        (Some("resp"), Some(200), Some("login.success"))
    );
    // A marketable buy: the order is pushed as it fills, without a client id.
    let text = ureq::get(format!("{base}/api/v3/ticker/bookTicker?symbol=BTCUSDT"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let bid_ask: Value = serde_json::from_str(&text).unwrap();
    let ask: f64 = bid_ask["askPrice"].as_str().unwrap().parse().unwrap();
    let body = place_body("cs-ws", "BUY", &format!("{:.2}", ask + 5.0), "0.001");
    let (_, v) = Call::new("POST", "/api/trade/order/place", &body, now_ms()).send(&base);
    let ord = v["data"]["order_id"].as_u64().unwrap();
    let mut last_s = ok["S"].as_u64().unwrap();
    let mut fill = None;
    let mut account = None;
    let got = wait_for(Duration::from_secs(10), || {
        let m = next(&mut ws);
        let s_now = m["S"].as_u64().unwrap();
        assert_eq!(s_now, last_s + 1, "S rises by one: {m}");
        last_s = s_now;
        match m["T"].as_str() {
            Some("order") => {
                assert_eq!(m["ordId"].as_u64(), Some(ord), "{m}");
                assert!(
                    m.get("clOrdId").is_none(),
                    "the 2022 push names no client id"
                );
                if m["matchQty"] != "0" {
                    fill = Some(m);
                }
            }
            Some("account") => account = Some(m),
            _ => {}
        }
        (fill.is_some() && account.is_some()).then_some(())
    });
    assert!(
        got.is_some(),
        "an order push with a match and an account push"
    );
    let f = fill.unwrap();
    assert_eq!(f["matchRole"], "TAKER", "the 2022 push's form");
    assert!(f["version"].as_u64().unwrap() >= 1);
    assert!(
        f["fee"].is_string() && f["feeCurrencyId"].as_u64().unwrap() > 0,
        "{f}"
    );
    let a = account.unwrap();
    assert!(a["currency"] == "BTC" || a["currency"] == "USDT", "{a}");
    // The engine's own decoder reads the simulator's pushes as the docs' samples.
    let pushes = mako::venue::coinstore::private::decode_private(&f.to_string()).unwrap();
    assert_eq!(pushes.len(), 1);
}
