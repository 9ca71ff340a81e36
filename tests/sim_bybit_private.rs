//! The simulator's Bybit private front end, checked the way a Bybit client uses it, from
//! Bybit's documentation (exchanges.md §3.4–3.9) and not through the engine's codec: every
//! signature here is computed in the test with `hmac`/`sha2` over the documented payloads
//! (`timestamp + api_key + recv_window + body or query`, and `GET/realtime + expires`), and
//! answers are read with serde_json. A wrong signature, a timestamp outside the receive
//! window and an unknown key are refused with their documented `retCode`s; an order placed
//! over REST is listed by `/v5/order/realtime`, locks its quote in the wallet, and a crossing
//! order arrives on the private WebSocket as an `order.spot` push (cumulative figures) and an
//! `execution.spot` push (a UUID-shaped `execId`, its fee and fee coin).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::start_sim;
use hmac::{Hmac, KeyInit, Mac};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use serde_json::Value;
use sha2::Sha256;
use tungstenite::Message;

fn hex_hmac(msg: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A signed request: `(HTTP status, JSON answer)`. `sign` may spoil the signature.
fn call(
    base: &str,
    method: &str,
    path: &str,
    payload: &str,
    key: &str,
    ts: u64,
    spoil: bool,
) -> (u16, Value) {
    let mut sig = hex_hmac(&format!("{ts}{key}5000{payload}"));
    if spoil {
        sig.replace_range(0..1, if sig.starts_with('0') { "1" } else { "0" });
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let headers = [
        ("X-BAPI-API-KEY", key.to_owned()),
        ("X-BAPI-TIMESTAMP", ts.to_string()),
        ("X-BAPI-RECV-WINDOW", "5000".to_owned()),
        ("X-BAPI-SIGN", sig),
    ];
    let mut resp = if method == "GET" {
        let mut r = agent.get(format!("{base}{path}?{payload}"));
        for (k, v) in &headers {
            r = r.header(*k, v);
        }
        r.call().unwrap()
    } else {
        let mut r = agent
            .post(format!("{base}{path}"))
            .header("Content-Type", "application/json");
        for (k, v) in &headers {
            r = r.header(*k, v);
        }
        r.send(payload).unwrap()
    };
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn next(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("the private socket stays open") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            _ => continue,
        }
    }
}

#[test]
fn signed_rest_refuses_bad_signatures_and_places_lists_and_locks() {
    let s = start_sim("");
    let base = s.rest_url();
    let body = r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"1000","timeInForce":"GTC","orderLinkId":"test-1"}"#;
    let post = |payload: &str, key: &str, ts: u64, spoil: bool| {
        call(&base, "POST", "/v5/order/create", payload, key, ts, spoil)
    };
    let (status, v) = post(body, DOC_API_KEY, now_ms(), true);
    assert_eq!((status, v["retCode"].as_i64()), (200, Some(10004)), "{v}");
    let (_, v) = post(body, DOC_API_KEY, now_ms() - 60_000, false);
    assert_eq!(v["retCode"], 10002, "{v}");
    let (_, v) = post(body, "not-a-key", now_ms(), false);
    assert_eq!(v["retCode"], 10003, "{v}");
    let (_, v) = post(
        r#"{"category":"spot","symbol":"NOPE","side":"Buy","orderType":"Limit","qty":"1","price":"1"}"#,
        DOC_API_KEY,
        now_ms(),
        false,
    );
    assert_eq!(v["retCode"], 170121, "{v}");
    let (_, v) = post(
        &body.replace("\"spot\"", "\"linear\""),
        DOC_API_KEY,
        now_ms(),
        false,
    );
    assert_eq!(v["retCode"], 10001, "the simulator trades spot only: {v}");
    // Signed over the body exactly as sent (a space after a colon is part of it).
    let spaced = body.replace("\"test-1\"", " \"test-1\"");
    let (_, v) = post(&spaced, DOC_API_KEY, now_ms(), false);
    assert_eq!(v["retCode"], 0, "{v}");
    assert_eq!(v["result"]["orderLinkId"], "test-1");
    let order_id = v["result"]["orderId"].as_str().unwrap().to_owned();
    assert!(
        order_id.parse::<u64>().is_ok(),
        "spot order ids are numeric strings"
    );

    let get = |q: &str| {
        call(
            &base,
            "GET",
            "/v5/order/realtime",
            q,
            DOC_API_KEY,
            now_ms(),
            false,
        )
    };
    let (_, v) = get("category=spot&symbol=BTCUSDT&orderLinkId=test-1");
    let o = &v["result"]["list"][0];
    assert_eq!(o["orderId"], order_id.as_str());
    assert_eq!(o["orderStatus"], "New");
    assert_eq!(o["price"], "1000");
    assert_eq!(o["qty"], "0.01");
    assert_eq!(o["cumExecQty"], "0");
    assert_eq!(o["leavesQty"], "0.01");
    let (_, v) = get("category=spot&symbol=BTCUSDT&openOnly=0&limit=50");
    assert_eq!(v["result"]["list"].as_array().unwrap().len(), 1);

    let (_, v) = call(
        &base,
        "GET",
        "/v5/account/wallet-balance",
        "accountType=UNIFIED",
        DOC_API_KEY,
        now_ms(),
        false,
    );
    let usdt = v["result"]["list"][0]["coin"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["coin"] == "USDT")
        .unwrap()
        .clone();
    assert_eq!(usdt["locked"], "10", "0.01 × 1000 locked: {usdt}");

    let cancel = r#"{"category":"spot","symbol":"BTCUSDT","orderLinkId":"test-1"}"#;
    let (_, v) = call(
        &base,
        "POST",
        "/v5/order/cancel",
        cancel,
        DOC_API_KEY,
        now_ms(),
        false,
    );
    assert_eq!(v["retCode"], 0, "{v}");
    let (_, v) = call(
        &base,
        "POST",
        "/v5/order/cancel",
        cancel,
        DOC_API_KEY,
        now_ms(),
        false,
    );
    assert_eq!(
        v["retCode"], 170213,
        "a second cancel: the order no longer exists: {v}"
    );
    let (_, v) = get("category=spot&symbol=BTCUSDT&orderLinkId=test-1");
    assert_eq!(v["result"]["list"][0]["orderStatus"], "Cancelled");
}

#[test]
fn the_private_socket_authenticates_and_pushes_orders_and_executions() {
    let s = start_sim("");
    let url = format!(
        "ws://{}/v5/private",
        s.rest_url().trim_start_matches("http://")
    );
    let mut ws: Ws = tungstenite::connect(url).unwrap().0;
    ws.send(Message::text(
        r#"{"req_id":"s0","op":"subscribe","args":["order.spot"]}"#,
    ))
    .unwrap();
    let v = next(&mut ws);
    assert_eq!(v["success"], false, "not authorized yet: {v}");
    let expires = now_ms() + 10_000;
    let bad = format!(
        r#"{{"req_id":"a0","op":"auth","args":["{DOC_API_KEY}",{expires},"{}"]}}"#,
        hex_hmac(&format!("GET/realtime{}", expires + 1))
    );
    ws.send(Message::text(bad)).unwrap();
    let v = next(&mut ws);
    assert_eq!(
        (v["op"].as_str(), v["success"].as_bool()),
        (Some("auth"), Some(false)),
        "{v}"
    );
    let good = format!(
        r#"{{"req_id":"a1","op":"auth","args":["{DOC_API_KEY}",{expires},"{}"]}}"#,
        hex_hmac(&format!("GET/realtime{expires}"))
    );
    ws.send(Message::text(good)).unwrap();
    let v = next(&mut ws);
    assert_eq!(
        (v["op"].as_str(), v["success"].as_bool()),
        (Some("auth"), Some(true)),
        "{v}"
    );
    ws.send(Message::text(
        r#"{"req_id":"s1","op":"subscribe","args":["order.spot","execution.spot"]}"#,
    ))
    .unwrap();
    let v = next(&mut ws);
    assert_eq!(
        (v["req_id"].as_str(), v["success"].as_bool()),
        (Some("s1"), Some(true)),
        "{v}"
    );
    ws.send(Message::text(r#"{"req_id":"p1","op":"ping"}"#))
        .unwrap();
    let v = next(&mut ws);
    assert_eq!(
        (v["op"].as_str(), v["req_id"].as_str()),
        (Some("pong"), Some("p1")),
        "{v}"
    );

    // A market buy of 0.01 BTC (base units) crosses the simulated book.
    let body = r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","marketUnit":"baseCoin","orderLinkId":"take-1"}"#;
    let (_, v) = call(
        &s.rest_url(),
        "POST",
        "/v5/order/create",
        body,
        DOC_API_KEY,
        now_ms(),
        false,
    );
    assert_eq!(v["retCode"], 0, "{v}");
    let (mut filled, mut executions) = (None, Vec::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while filled.is_none() && std::time::Instant::now() < deadline {
        let v = next(&mut ws);
        match v["topic"].as_str() {
            Some("order.spot") => {
                let o = &v["data"][0];
                assert_eq!(o["orderLinkId"], "take-1");
                if o["orderStatus"] == "Filled" {
                    filled = Some(o.clone());
                }
            }
            Some("execution.spot") => executions.push(v["data"][0].clone()),
            other => panic!("unexpected push {other:?}: {v}"),
        }
    }
    let o = filled.expect("the order's Filled push");
    assert_eq!(o["cumExecQty"], "0.01");
    assert_eq!(o["orderType"], "Market");
    assert_eq!(o["side"], "Buy");
    // The executions that filled it (the last may follow the order's push).
    while executions
        .iter()
        .map(|e| e["execQty"].as_str().unwrap().parse::<f64>().unwrap())
        .sum::<f64>()
        < 0.01 - 1e-12
    {
        let v = next(&mut ws);
        if v["topic"] == "execution.spot" {
            executions.push(v["data"][0].clone());
        }
    }
    for e in &executions {
        let id = e["execId"].as_str().unwrap();
        assert_eq!(id.len(), 36, "UUID-shaped execId: {id}");
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(e["orderLinkId"], "take-1");
        assert_eq!(
            e["feeCurrency"], "BTC",
            "a spot buy pays its fee in the base coin"
        );
        assert_eq!(e["isMaker"], false);
    }
}

/// `category=linear` on a perpetual symbol (the core's perpetual accounts): set-leverage,
/// a position opened by a market buy against the simulated book, the position list with its
/// leverage and margin, the wallet's initial margins, and a reduce-only order
/// that would add refused with 110017; a spot category on the perpetual is refused.
#[test]
fn linear_orders_positions_leverage_and_margins() {
    let s = start_sim(
        "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n\
         [[accounts]]\nbalances = { USDT = \"100000\" }\n",
    );
    let base = s.rest_url();
    let post =
        |path: &str, body: &str| call(&base, "POST", path, body, DOC_API_KEY, now_ms(), false);
    let get = |path: &str, q: &str| call(&base, "GET", path, q, DOC_API_KEY, now_ms(), false);
    let (_, v) = post(
        "/v5/position/set-leverage",
        r#"{"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"5"}"#,
    );
    assert_eq!(v["retCode"], 0, "{v}");
    let (_, v) = post(
        "/v5/position/set-leverage",
        r#"{"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"5"}"#,
    );
    assert_eq!(v["retCode"], 110043, "unchanged: {v}");
    let spot =
        r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01"}"#;
    let (_, v) = post("/v5/order/create", spot);
    assert_eq!(v["retCode"], 10001, "the symbol is linear: {v}");
    // A market buy of 0.01 opens a long at 5x.
    let (_, v) = post(
        "/v5/order/create",
        r#"{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","orderLinkId":"open-1"}"#,
    );
    assert_eq!(v["retCode"], 0, "{v}");
    let (_, v) = get("/v5/position/list", "category=linear&symbol=BTCUSDT");
    let p = &v["result"]["list"][0];
    assert_eq!(
        (p["side"].as_str(), p["size"].as_str()),
        (Some("Buy"), Some("0.01")),
        "{p}"
    );
    assert_eq!(p["leverage"], "5");
    let value: f64 = p["positionValue"].as_str().unwrap().parse().unwrap();
    let im: f64 = p["positionIM"].as_str().unwrap().parse().unwrap();
    assert!((im - value / 5.0).abs() < 1e-6, "margin = value / 5: {p}");
    let (_, v) = get("/v5/account/wallet-balance", "accountType=UNIFIED");
    let usdt = v["result"]["list"][0]["coin"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["coin"] == "USDT")
        .unwrap()
        .clone();
    assert_eq!(usdt["totalPositionIM"], p["positionIM"], "{usdt}");
    assert_eq!(usdt["totalOrderIM"], "0");
    assert_eq!(usdt["locked"], "0", "no spot order holds anything");
    // Reduce-only: a buy would add to the long.
    let (_, v) = post(
        "/v5/order/create",
        r#"{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","reduceOnly":true}"#,
    );
    assert_eq!(v["retCode"], 110017, "{v}");
    // A reduce-only sell closes it.
    let (_, v) = post(
        "/v5/order/create",
        r#"{"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.01","reduceOnly":true}"#,
    );
    assert_eq!(v["retCode"], 0, "{v}");
    let (_, v) = get("/v5/position/list", "category=linear&symbol=BTCUSDT");
    let p = &v["result"]["list"][0];
    assert_eq!(
        (p["side"].as_str(), p["size"].as_str()),
        (Some(""), Some("0")),
        "{p}"
    );
    assert_eq!(p["positionIM"], "0");
}

/// A POST signed over `signed` but sending `sent` (the two differ when a test changes a
/// byte after signing).
fn post_signed_over(base: &str, path: &str, signed: &str, sent: &str) -> Value {
    let ts = now_ms();
    let sig = hex_hmac(&format!("{ts}{DOC_API_KEY}5000{signed}"));
    let mut resp = ureq::post(format!("{base}{path}"))
        .header("Content-Type", "application/json")
        .header("X-BAPI-API-KEY", DOC_API_KEY)
        .header("X-BAPI-TIMESTAMP", ts.to_string())
        .header("X-BAPI-RECV-WINDOW", "5000")
        .header("X-BAPI-SIGN", sig)
        .send(sent)
        .unwrap();
    serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
}

/// `POST /v5/order/amend` as Bybit's "Amend Order" page gives it: by `orderLinkId`, a new
/// `qty` and `price`; the order keeps its ids and rests at the new terms, with its funds
/// (spot) or margin (linear) held for them; signed over the body as sent.
#[test]
fn rest_amends_move_spot_and_linear_orders_in_place() {
    let s = start_sim(
        "[[symbols]]\nsymbol = \"BTCUSDT\"\n\
         [[symbols]]\nsymbol = \"ETHUSDT\"\nbase = \"ETH\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n\
         [[accounts]]\nbalances = { USDT = \"100000\" }\n",
    );
    let base = s.rest_url();
    let post =
        |path: &str, body: &str| call(&base, "POST", path, body, DOC_API_KEY, now_ms(), false);
    let get = |q: &str| {
        call(
            &base,
            "GET",
            "/v5/order/realtime",
            q,
            DOC_API_KEY,
            now_ms(),
            false,
        )
        .1
    };
    let coin = |name: &str| {
        let (_, v) = call(
            &base,
            "GET",
            "/v5/account/wallet-balance",
            "accountType=UNIFIED",
            DOC_API_KEY,
            now_ms(),
            false,
        );
        v["result"]["list"][0]["coin"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["coin"] == name)
            .unwrap()
            .clone()
    };
    for (cat, sym, link) in [
        ("spot", "BTCUSDT", "am-spot"),
        ("linear", "ETHUSDT", "am-lin"),
    ] {
        let (_, v) = post(
            "/v5/order/create",
            &format!(
                r#"{{"category":"{cat}","symbol":"{sym}","side":"Buy","orderType":"Limit","qty":"0.1","price":"100","timeInForce":"GTC","orderLinkId":"{link}"}}"#
            ),
        );
        assert_eq!(v["retCode"], 0, "{v}");
        let order_id = v["result"]["orderId"].clone();
        let amend = format!(
            r#"{{"category":"{cat}","symbol":"{sym}","orderLinkId":"{link}","qty":"0.2","price":"110"}}"#
        );
        // One byte changed after signing: refused, the order unchanged.
        let changed = amend.replace("110", "111");
        let v = post_signed_over(&base, "/v5/order/amend", &amend, &changed);
        assert_eq!(v["retCode"], 10004, "{v}");
        let q = format!("category={cat}&symbol={sym}&orderLinkId={link}");
        assert_eq!(get(&q)["result"]["list"][0]["price"], "100");
        // The category must be the symbol's.
        let other = if cat == "spot" { "linear" } else { "spot" };
        let (_, v) = post(
            "/v5/order/amend",
            &amend.replace(&format!("\"{cat}\""), &format!("\"{other}\"")),
        );
        assert_eq!(v["retCode"], 10001, "{v}");
        // Amended in place: same ids, new terms.
        let (_, v) = post("/v5/order/amend", &amend);
        assert_eq!(v["retCode"], 0, "{v}");
        assert_eq!(
            (&v["result"]["orderId"], v["result"]["orderLinkId"].as_str()),
            (&order_id, Some(link))
        );
        let o = get(&q)["result"]["list"][0].clone();
        assert_eq!(
            (
                o["orderId"].clone(),
                o["price"].as_str(),
                o["qty"].as_str(),
                o["orderStatus"].as_str()
            ),
            (order_id, Some("110"), Some("0.2"), Some("New")),
            "{o}"
        );
        // An order that does not exist: the category's code.
        let (_, v) = post("/v5/order/amend", &amend.replace(link, "no-such-order"));
        let gone = if cat == "spot" { 170213 } else { 110001 };
        assert_eq!(v["retCode"], gone, "{v}");
    }
    // Funds held for the new terms: spot 0.2 × 110 = 22 USDT locked; linear 22 / 10 of
    // initial margin.
    let usdt = coin("USDT");
    assert_eq!(usdt["locked"], "22", "{usdt}");
    assert_eq!(usdt["totalOrderIM"], "2.2", "{usdt}");
}
