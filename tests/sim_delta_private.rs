//! The simulator's Delta Exchange private front end, checked the way a Delta client uses it,
//! from Delta's documentation (reference/delta.md §2–§7) and not through the engine's codec:
//! every signature here is computed in the test with `hmac`/`sha2` over the documented
//! prehash (`METHOD + timestamp + path + "?" query + body`, and `"GET" + timestamp + "/live"`),
//! and answers are read with serde_json. A wrong signature, a body changed after signing, an
//! expired timestamp, an unknown key and a missing User-Agent are refused in the documented
//! shapes; an order placed over REST is found by client id and in the open orders and holds
//! its margin in the wallet; the documented order refusals come back with their codes; a fill
//! arrives on the private WebSocket as `orders`, `v2/user_trades`, `positions` and `margins`
//! frames that agree with REST and `/sim/state`.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{start_sim, wait_for};
use hmac::{Hmac, KeyInit, Mac};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use serde_json::{Value, json};
use sha2::Sha256;
use tungstenite::Message;

/// Delta India's BTCUSD as a simulated perpetual (sizes in whole contracts) at 10×.
pub const DELTA_SIM: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\ntick_size = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\nmax_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000.0\"\nlevels = 200\nkind = \"linear-perpetual\"\nleverage = \"10\"\n\n[[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", USD = \"500000\" }\n";

fn hex_hmac(msg: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How a request is spoiled.
#[derive(Clone, Copy, PartialEq)]
enum Spoil {
    None,
    /// One hex digit of the signature changed.
    Signature,
    /// The body sent differs by one byte from the body signed.
    Body,
    /// No User-Agent.
    Agent,
}

/// A signed request: `(HTTP status, JSON answer)`.
fn call(
    base: &str,
    method: &str,
    path_and_query: &str,
    body: &str,
    key: &str,
    ts: u64,
    spoil: Spoil,
) -> (u16, Value) {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (path_and_query, String::new()),
    };
    let mut sig = hex_hmac(&format!("{method}{ts}{path}{query}{body}"));
    if spoil == Spoil::Signature {
        sig.replace_range(0..1, if sig.starts_with('0') { "1" } else { "0" });
    }
    let sent = if spoil == Spoil::Body {
        body.replacen(":1,", ":2,", 1)
    } else {
        body.to_owned()
    };
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(if spoil == Spoil::Agent {
            ""
        } else {
            "mako-test"
        })
        .build()
        .new_agent();
    let url = format!("{base}{path_and_query}");
    let headers = [
        ("api-key", key.to_owned()),
        ("timestamp", ts.to_string()),
        ("signature", sig),
    ];
    let mut resp = match method {
        "GET" => {
            let mut r = agent.get(&url);
            for (k, v) in &headers {
                r = r.header(*k, v);
            }
            r.call().unwrap()
        }
        "DELETE" => {
            let mut r = agent
                .delete(&url)
                .force_send_body()
                .header("Content-Type", "application/json");
            for (k, v) in &headers {
                r = r.header(*k, v);
            }
            r.send(sent.as_str()).unwrap()
        }
        _ => {
            let mut r = agent.post(&url).header("Content-Type", "application/json");
            for (k, v) in &headers {
                r = r.header(*k, v);
            }
            r.send(sent.as_str()).unwrap()
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({"raw": text})),
    )
}

fn ok(base: &str, method: &str, path: &str, body: &str) -> Value {
    let (status, v) = call(base, method, path, body, DOC_API_KEY, now_s(), Spoil::None);
    assert_eq!(
        (status, &v["success"]),
        (200, &json!(true)),
        "{method} {path}: {v}"
    );
    v["result"].clone()
}

fn refused(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, v) = call(base, method, path, body, DOC_API_KEY, now_s(), Spoil::None);
    assert_eq!(v["success"], false, "{v}");
    (
        status,
        v["error"]["code"]
            .as_str()
            .unwrap_or(&v.to_string())
            .to_owned(),
    )
}

/// A decimal string as a price (the simulator's state writes 8 decimals, Delta fewer).
fn px(v: &Value) -> mako::types::Price {
    mako::types::Price::parse(v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))).unwrap()
}

fn sim_fill_price(state: &Value) -> Value {
    state["fills"][0]["price"].clone()
}

fn usd(wallet: &Value) -> Value {
    wallet
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset_symbol"] == "USD")
        .unwrap()
        .clone()
}

#[test]
fn signed_rest_refuses_bad_requests_and_places_finds_locks_and_cancels() {
    let s = start_sim(DELTA_SIM);
    let base = s.rest_url();
    let body = r#"{"product_symbol":"BTCUSD","size":1,"side":"buy","order_type":"limit_order","limit_price":"50000","time_in_force":"gtc","client_order_id":"test-1"}"#;
    let post = |spoil, key: &str, ts| call(&base, "POST", "/v2/orders", body, key, ts, spoil);
    let (st, v) = post(Spoil::Signature, DOC_API_KEY, now_s());
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (401, Some("Signature Mismatch")),
        "{v}"
    );
    // The bytes sent are not the bytes signed: refused too.
    let (st, v) = post(Spoil::Body, DOC_API_KEY, now_s());
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (401, Some("Signature Mismatch")),
        "{v}"
    );
    let (st, v) = post(Spoil::None, DOC_API_KEY, now_s() - 60);
    assert_eq!(
        (st, v["error"].as_str()),
        (401, Some("SignatureExpired")),
        "{v}"
    );
    let (st, v) = post(Spoil::None, "not-a-key", now_s());
    assert_eq!(
        (st, v["error"].as_str()),
        (401, Some("InvalidApiKey")),
        "{v}"
    );
    let (st, v) = post(Spoil::Agent, DOC_API_KEY, now_s());
    assert_eq!((st, v["error"].as_str()), (403, Some("Forbidden")), "{v}");
    assert!(
        s.state()["accounts"][0]["orders"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Placed: resting, found by client id and among the open orders; its margin held.
    let o = ok(&base, "POST", "/v2/orders", &body.replace(":1,", ":2,"));
    assert_eq!(
        (
            &o["state"],
            &o["size"],
            &o["unfilled_size"],
            &o["client_order_id"],
            &o["product_id"]
        ),
        (
            &json!("open"),
            &json!(2),
            &json!(2),
            &json!("test-1"),
            &json!(1)
        ),
        "{o}"
    );
    let found = ok(&base, "GET", "/v2/orders/client_order_id/test-1", "");
    assert_eq!(
        (&found["id"], &found["limit_price"]),
        (&o["id"], &json!("50000"))
    );
    let open = ok(&base, "GET", "/v2/orders?states=open,pending", "");
    assert_eq!(open.as_array().unwrap().len(), 1);
    // 2 contracts × 50000 / 10× (a simulated contract is one BTC).
    let w = usd(&ok(&base, "GET", "/v2/wallet/balances", ""));
    assert_eq!(
        (&w["order_margin"], &w["blocked_margin"]),
        (&json!("10000"), &json!("10000")),
        "{w}"
    );
    assert_eq!(w["balance"], "500000");
    assert_eq!(w["available_balance"], "490000");

    // The documented refusals.
    for (i, (b, want)) in [
        (body.replace(":1,", ":1.5,"), "bad_schema"),
        (body.replace("\"gtc\"", "\"fok\""), "bad_schema"),
        (
            body.replace("test-1", "a-client-order-id-longer-than-32-chars"),
            "bad_schema",
        ),
        (body.replace("BTCUSD", "NOPE"), "invalid_contract"),
        (
            body.replace("\"time_in_force\":\"gtc\"", "\"reduce_only\":true"),
            "reduce_only_order_rejected",
        ),
        (
            body.replace("50000", "90000")
                .replace("\"time_in_force\":\"gtc\"", "\"post_only\":true"),
            "immediate_execution_post_only",
        ),
        (
            body.replace(":1,", ":140,").replace("50000", "59000"),
            "insufficient_margin",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let b = b.replace("test-1", &format!("refused-{i}"));
        let (st, code) = refused(&base, "POST", "/v2/orders", &b);
        assert_eq!((st, code.as_str()), (400, want), "{b}");
    }

    // Leverage is refused while an order is open, then set once it is cancelled.
    let lev = r#"{"leverage":"5"}"#;
    let (st, code) = refused(&base, "POST", "/v2/products/1/orders/leverage", lev);
    assert_eq!((st, code.as_str()), (400, "leverage_update_not_allowed"));
    let c = ok(
        &base,
        "DELETE",
        "/v2/orders",
        r#"{"client_order_id":"test-1","product_symbol":"BTCUSD"}"#,
    );
    assert_eq!(
        (&c["state"], &c["cancellation_reason"]),
        (&json!("cancelled"), &json!("cancelled_by_user"))
    );
    let (_, code) = refused(
        &base,
        "DELETE",
        "/v2/orders",
        r#"{"client_order_id":"test-1","product_symbol":"BTCUSD"}"#,
    );
    assert_eq!(code, "open_order_not_found");
    // A closed order is still found by its client id.
    let found = ok(&base, "GET", "/v2/orders/client_order_id/test-1", "");
    assert_eq!(found["state"], "cancelled");
    let (st, code) = refused(&base, "GET", "/v2/orders/client_order_id/never-sent", "");
    assert_eq!((st, code.as_str()), (404, "open_order_not_found"));
    let l = ok(&base, "POST", "/v2/products/1/orders/leverage", lev);
    assert_eq!((&l["leverage"], &l["product_id"]), (&json!("5"), &json!(1)));
    assert_eq!(
        ok(&base, "GET", "/v2/products/1/orders/leverage", "")["leverage"],
        "5"
    );
    let w = usd(&ok(&base, "GET", "/v2/wallet/balances", ""));
    assert_eq!(w["available_balance"], "500000");
    // The public clock.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let t: Value = serde_json::from_str(
        &agent
            .get(format!("{base}/v2/settings"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert!(t["result"]["server_time"].as_u64().unwrap() > 1_700_000_000_000_000);
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn next(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("the private socket answers in time") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            _ => continue,
        }
    }
}

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).unwrap();
}

fn auth(ws: &mut Ws, ts: u64, sig: String) -> Value {
    send(
        ws,
        json!({"type": "key-auth", "payload": {"api-key": DOC_API_KEY, "timestamp": ts, "signature": sig}}),
    );
    next(ws)
}

#[test]
fn the_private_socket_authenticates_and_pushes_orders_fills_positions_and_margins() {
    let s = start_sim(DELTA_SIM);
    let base = s.rest_url();
    let (mut ws, _) = tungstenite::connect(s.delta_private_ws_url()).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(t) = ws.get_ref() {
        t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    }
    let channels = json!({"type": "subscribe", "payload": {"channels": [
        {"name": "orders", "symbols": ["BTCUSD"]}, {"name": "v2/user_trades", "symbols": ["BTCUSD"]},
        {"name": "positions", "symbols": ["BTCUSD"]}, {"name": "margins"}]}});
    // Before auth the private channels are refused.
    send(&mut ws, channels.clone());
    let ack = next(&mut ws);
    assert!(
        ack["channels"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Unauthorized user"),
        "{ack}"
    );
    let ts = now_s();
    // One hex digit changed, always (replacing a letter was a no-op when the digest had none).
    let good = hex_hmac(&format!("GET{ts}/live"));
    let flipped = if good.starts_with('0') { "1" } else { "0" };
    let a = auth(&mut ws, ts, format!("{flipped}{}", &good[1..]));
    assert_eq!(
        (&a["success"], &a["status"]),
        (&json!(false), &json!("invalid_signature")),
        "{a}"
    );
    let old = ts - 60;
    let a = auth(&mut ws, old, hex_hmac(&format!("GET{old}/live")));
    assert_eq!(a["status"], "request_expired", "{a}");
    let a = auth(&mut ws, ts, hex_hmac(&format!("GET{ts}/live")));
    assert_eq!(
        (&a["type"], &a["success"], &a["status"]),
        (&json!("key-auth"), &json!(true), &json!("authenticated"))
    );
    send(&mut ws, channels);
    let ack = next(&mut ws);
    assert_eq!(ack["type"], "subscriptions");
    assert_eq!(ack["channels"].as_array().unwrap().len(), 4, "{ack}");
    let snap = next(&mut ws);
    assert_eq!(
        (&snap["type"], &snap["action"]),
        (&json!("orders"), &json!("snapshot")),
        "{snap}"
    );
    let snap = next(&mut ws);
    assert_eq!(
        (&snap["type"], &snap["result"][0]["size"]),
        (&json!("positions"), &json!(0)),
        "{snap}"
    );
    send(&mut ws, json!({"type": "ping"}));
    assert_eq!(next(&mut ws)["type"], "pong");

    // A marketable IOC buy of one contract fills at once.
    let o = ok(
        &base,
        "POST",
        "/v2/orders",
        r#"{"product_symbol":"BTCUSD","size":1,"side":"buy","order_type":"limit_order","limit_price":"61000","time_in_force":"ioc","client_order_id":"taker-1"}"#,
    );
    assert_eq!(
        (&o["state"], &o["unfilled_size"]),
        (&json!("closed"), &json!(0)),
        "{o}"
    );
    let mut seen: std::collections::BTreeMap<String, Value> = Default::default();
    let all = wait_for(Duration::from_secs(20), || {
        let f = next(&mut ws);
        let mut k = f["type"].as_str().unwrap_or("").to_owned();
        if k == "margins" {
            k = format!("margins:{}", f["asset_symbol"].as_str().unwrap_or(""));
        }
        // The last frame of each kind is kept (an order is created, then filled).
        seen.insert(k, f);
        ["orders", "v2/user_trades", "positions", "margins:USD"]
            .iter()
            .all(|k| seen.contains_key(*k))
            .then_some(())
    });
    assert!(all.is_some(), "pushes: {seen:?}");
    let state = s.state();
    let sim_order = &state["accounts"][0]["orders"][0];
    let order = &seen["orders"];
    assert_eq!(
        (&order["client_order_id"], &order["state"], &order["reason"]),
        (&json!("taker-1"), &json!("closed"), &json!("fill")),
        "{order}"
    );
    assert_eq!(
        px(&order["average_fill_price"]),
        px(&sim_fill_price(&state))
    );
    assert_eq!(px(&sim_order["executedQty"]), px(&json!("1")));
    let fill = &seen["v2/user_trades"];
    let sim_fill = &state["fills"][0];
    assert_eq!(
        (&fill["s"], &fill["po"], &fill["c"], &fill["S"]),
        (&json!(1), &json!(1), &json!("taker-1"), &json!("buy")),
        "{fill}"
    );
    assert_eq!(
        px(&fill["p"]),
        px(&sim_fill["price"]),
        "{fill} vs {sim_fill}"
    );
    let pos = &seen["positions"];
    assert_eq!(pos["size"], 1, "{pos}");
    assert_eq!(px(&pos["entry_price"]), px(&sim_fill["price"]), "{pos}");
    let margins = &seen["margins:USD"];
    assert!(px(&margins["position_margin"]).is_positive(), "{margins}");
    // REST agrees with the pushes and with /sim/state.
    let p = ok(&base, "GET", "/v2/positions/margined", "");
    assert_eq!(p[0]["size"], 1);
    let fills = ok(&base, "GET", "/v2/fills", "");
    assert_eq!(fills[0]["order_id"], o["id"]);
    assert!(
        px(&sim_fill["commission"]).is_positive(),
        "a taker fee: {sim_fill}"
    );
    assert_eq!(px(&fills[0]["commission"]), px(&sim_fill["commission"]));
    let paid = ok(&base, "GET", "/v2/orders/client_order_id/taker-1", "");
    assert_eq!(px(&paid["paid_commission"]), px(&sim_fill["commission"]));
    let w = usd(&ok(&base, "GET", "/v2/wallet/balances", ""));
    let sim_usd = &state["accounts"][0]["balances"]["USD"];
    assert_eq!(
        px(&w["available_balance"]),
        px(&sim_usd["free"]),
        "{w} vs {sim_usd}"
    );
    assert_eq!(
        px(&w["blocked_margin"]),
        px(&sim_usd["locked"]),
        "{w} vs {sim_usd}"
    );
    assert!(px(&w["position_margin"]).is_positive(), "{w}");
}
