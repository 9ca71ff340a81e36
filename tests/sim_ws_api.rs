//! The WebSocket API against the simulator: session.logon with the documented HMAC vector,
//! signed requests, order entry, queries, and the user data stream subscription delivering
//! wrapped executionReport and outboundAccountPosition events.

mod sim_support;

use serde_json::{Map, Value, json};
use sim_support::*;

/// Signs WS API params as documented: all but `signature`, sorted by name, `k=v` joined by `&`.
fn sign_params(params: &mut Map<String, Value>) {
    let mut keys: Vec<&String> = params.keys().collect();
    keys.sort();
    let payload = keys
        .iter()
        .map(|k| match &params[k.as_str()] {
            Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join("&");
    let sig = sign(SECRET, &payload);
    params.insert("signature".into(), json!(sig));
}

fn request(ws: &mut Ws, id: &str, method: &str, params: Value) -> Value {
    send(ws, &json!({"id": id, "method": method, "params": params}));
    wait_json(ws, |v| v["id"] == id)
}

#[test]
fn documented_signed_requests_check_out() {
    let sim = start("");
    let mut ws = ws_connect(&sim.ws_api_url());
    // The docs' logon request verbatim: signature valid, timestamp (2022) stale.
    let logon = doc_sample("binance_wsapi_session_logon_request.json");
    send(&mut ws, &logon);
    let v = wait_json(&mut ws, |v| v["id"] == logon["id"]);
    assert_eq!(v["status"], 400);
    assert_eq!(v["error"]["code"], -1021, "{v}");
    // The docs' signed order.place verbatim: same story.
    let place = doc_sample("binance_wsapi_order_place_hmac_signed_request.json");
    send(&mut ws, &place);
    let v = wait_json(&mut ws, |v| v["id"] == place["id"]);
    assert_eq!(v["error"]["code"], -1021, "{v}");
    assert!(v["rateLimits"].is_array());
    // Tampered: the price changed after signing.
    let mut bad = place.clone();
    bad["params"]["price"] = json!("52000.01");
    bad["id"] = json!("tampered");
    send(&mut ws, &bad);
    let v = wait_json(&mut ws, |v| v["id"] == "tampered");
    assert_eq!(v["error"]["code"], -1022, "{v}");
    assert_shape(
        &doc_sample("binance_wsapi_error_response.json"),
        &v,
        "error response",
    );
}

#[test]
fn logon_orders_and_user_data_stream() {
    let sim = start("");
    sim.pause_market(true);
    let mut ws = ws_connect(&sim.ws_api_url());
    // Unauthenticated subscribe is refused.
    let v = request(&mut ws, "s0", "userDataStream.subscribe", json!({}));
    assert_ne!(v["status"], 200, "{v}");
    let mut p = Map::new();
    p.insert("apiKey".into(), json!(KEY));
    p.insert("timestamp".into(), json!(now_ms()));
    sign_params(&mut p);
    let v = request(&mut ws, "logon", "session.logon", Value::Object(p));
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["result"]["apiKey"], KEY);
    let v = request(&mut ws, "sub", "userDataStream.subscribe", json!({}));
    assert_eq!(v["result"]["subscriptionId"], 0, "{v}");
    // A resting limit buy (session-authenticated: only a timestamp).
    let v = request(
        &mut ws,
        "p1",
        "order.place",
        json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01000", "price": "50000.00", "newClientOrderId": "mkWs1", "newOrderRespType": "RESULT", "timestamp": now_ms()}),
    );
    assert_eq!(v["status"], 200, "{v}");
    assert_shape(
        &doc_sample("binance_wsapi_order_place_response.json"),
        &v,
        "order.place",
    );
    let order_id = v["result"]["orderId"].as_u64().unwrap();
    let er = wait_json(&mut ws, |v| v["event"]["e"] == "executionReport");
    let mut sample = doc_sample("binance_execution_report.json");
    // `v` is documented as present only when the order expired through self-trade prevention.
    sample["event"].as_object_mut().unwrap().remove("v");
    assert_shape(&sample, &er, "executionReport NEW");
    assert_eq!(er["event"]["w"], true, "a resting order is on the book");
    assert_eq!(
        (
            er["subscriptionId"].as_u64(),
            er["event"]["x"].as_str(),
            er["event"]["c"].as_str()
        ),
        (Some(0), Some("NEW"), Some("mkWs1"))
    );
    let pos = wait_json(&mut ws, |v| v["event"]["e"] == "outboundAccountPosition");
    assert_shape(
        &doc_sample("binance_outbound_account_position.json"),
        &pos,
        "outboundAccountPosition",
    );
    assert!(
        pos["event"]["B"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["a"] == "USDT" && b["l"] == "500.00000000"),
        "{pos}"
    );
    let v = request(
        &mut ws,
        "st",
        "order.status",
        json!({"symbol": "BTCUSDT", "orderId": order_id, "timestamp": now_ms()}),
    );
    assert_shape(
        &doc_sample("binance_query_order_response.json"),
        &v["result"],
        "order.status",
    );
    let v = request(
        &mut ws,
        "oo",
        "openOrders.status",
        json!({"symbol": "BTCUSDT", "timestamp": now_ms()}),
    );
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    let v = request(
        &mut ws,
        "c1",
        "order.cancel",
        json!({"symbol": "BTCUSDT", "origClientOrderId": "mkWs1", "timestamp": now_ms()}),
    );
    assert_eq!(v["result"]["status"], "CANCELED", "{v}");
    let er = wait_json(&mut ws, |v| v["event"]["x"] == "CANCELED");
    assert_eq!(er["event"]["C"], "mkWs1");
    // A market sell that trades: TRADE report with commission in the quote asset.
    let v = request(
        &mut ws,
        "m1",
        "order.place",
        json!({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.00200", "timestamp": now_ms()}),
    );
    assert_eq!(v["result"]["status"], "FILLED", "{v}");
    let er = wait_json(&mut ws, |v| v["event"]["x"] == "TRADE");
    assert_eq!(er["event"]["N"], "USDT");
    assert_eq!(er["event"]["m"], false);
    assert_eq!(er["event"]["X"], "FILLED");
    // Per-request signature on a fresh connection (no logon).
    let mut ws2 = ws_connect(&sim.ws_api_url());
    let mut p = Map::new();
    for (k, v) in [
        ("symbol", json!("BTCUSDT")),
        ("apiKey", json!(KEY)),
        ("timestamp", json!(now_ms())),
    ] {
        p.insert(k.into(), v);
    }
    sign_params(&mut p);
    let v = request(&mut ws2, "acct", "account.status", Value::Object(p.clone()));
    assert_eq!(v["status"], 200, "{v}");
    assert_shape(
        &doc_sample("binance_account_response.json"),
        &v["result"],
        "account.status",
    );
    let v = request(
        &mut ws2,
        "sig-sub",
        "userDataStream.subscribe.signature",
        json!({"apiKey": KEY, "timestamp": p["timestamp"], "signature": p["signature"]}),
    );
    // That signature covered `symbol` too, so it does not match these params.
    assert_eq!(v["error"]["code"], -1022, "{v}");
    let mut p = Map::new();
    p.insert("apiKey".into(), json!(KEY));
    p.insert("timestamp".into(), json!(now_ms()));
    sign_params(&mut p);
    let v = request(
        &mut ws2,
        "sig-sub2",
        "userDataStream.subscribe.signature",
        Value::Object(p),
    );
    assert_eq!(v["result"]["subscriptionId"], 0, "{v}");
    let v = request(&mut ws2, "unsub", "userDataStream.unsubscribe", json!({}));
    assert_eq!(v["status"], 200, "{v}");
}
