//! The simulator's Coinbase private front end on its own, spoken to as Coinbase's
//! documentation describes (exchanges.md §4.1–4.3), with tokens from the SDK's published
//! test keys: a good JWT is let in (ES256 and EdDSA); a missing, tampered, expired or
//! not-yet-valid token, one for another request (`uri`) or one of an unknown key is a 401.
//! An order placed over REST is listed, filled and reported on the `user` channel with
//! cumulative figures and consecutive `sequence_num`s; a dropped `user` event costs one.

mod common;

use std::time::{Duration, Instant};

use common::start_sim;
use mako::sim::SimHandle;
use mako::venue::coinbase::jwt::JwtSigner;
use serde_json::{Value, json};
use tungstenite::Message;

const KEY_NAME: &str = "organizations/test-organization/apiKeys/test-api-key";
const EC_SECRET: &str = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\\n-----END EC PRIVATE KEY-----\\n";
const ED_NAME: &str = "organizations/test-organization/apiKeys/test-ed-key";
const ED_SECRET: &str =
    "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==";

fn sim() -> SimHandle {
    start_sim(&format!(
        "[[accounts]]\napi_key = \"{KEY_NAME}\"\nsecret = \"{EC_SECRET}\"\nbalances = {{ BTC = \"10\", USDT = \"1000000\" }}\n\
         [[accounts]]\napi_key = \"{ED_NAME}\"\nsecret = \"{ED_SECRET}\"\nbalances = {{ USDT = \"500\" }}\n"
    ))
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// One request with `token` (if any) as `Authorization: Bearer`: status and JSON body.
fn call(
    s: &SimHandle,
    method: &str,
    path_query: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = format!("{}{path_query}", s.rest_url());
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build(),
    );
    let mut resp = match method {
        "POST" => {
            let mut r = agent.post(&url);
            if let Some(t) = token {
                r = r.header("Authorization", format!("Bearer {t}"));
            }
            r.content_type("application/json")
                .send(body.map(Value::to_string).unwrap_or_default())
                .unwrap()
        }
        _ => {
            let mut r = agent.get(&url);
            if let Some(t) = token {
                r = r.header("Authorization", format!("Bearer {t}"));
            }
            r.call().unwrap()
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn token(signer: &JwtSigner, s: &SimHandle, at: u64, method: &str, path: &str) -> String {
    let host = s.rest_url().trim_start_matches("http://").to_owned();
    signer.rest_token(at, method, &host, path).unwrap()
}

#[test]
fn tokens_are_checked_as_coinbase_checks_them() {
    let s = sim();
    let ec = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    let ed = JwtSigner::from_parts(ED_NAME, ED_SECRET).unwrap();
    let path = "/api/v3/brokerage/accounts";
    // Good tokens, each key its own account.
    let (st, v) = call(
        &s,
        "GET",
        path,
        Some(&token(&ec, &s, now_s(), "GET", path)),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert!(
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["currency"] == "BTC")
    );
    let (st, v) = call(
        &s,
        "GET",
        path,
        Some(&token(&ed, &s, now_s(), "GET", path)),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let ccys: Vec<&str> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["currency"].as_str().unwrap())
        .collect();
    assert_eq!(ccys, vec!["USDT"]);
    assert_eq!(v["accounts"][0]["available_balance"]["value"], "500");
    // No token, a tampered one, expired, not yet valid, for another request, unknown key.
    let good = token(&ec, &s, now_s(), "GET", path);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let flip = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flip);
    let tampered = parts.join(".");
    let stranger = JwtSigner::from_parts("organizations/x/apiKeys/stranger", EC_SECRET).unwrap();
    for (why, t) in [
        ("no token", None),
        ("tampered claims", Some(tampered)),
        ("expired", Some(token(&ec, &s, now_s() - 300, "GET", path))),
        (
            "not yet valid",
            Some(token(&ec, &s, now_s() + 300, "GET", path)),
        ),
        (
            "another path",
            Some(token(
                &ec,
                &s,
                now_s(),
                "GET",
                "/api/v3/brokerage/orders/historical/fills",
            )),
        ),
        (
            "another method",
            Some(token(&ec, &s, now_s(), "POST", path)),
        ),
        (
            "unknown key",
            Some(token(&stranger, &s, now_s(), "GET", path)),
        ),
    ] {
        let (st, v) = call(&s, "GET", path, t.as_deref(), None);
        assert_eq!(st, 401, "{why}: {v}");
        assert_eq!(v["error"], "UNAUTHENTICATED", "{why}");
    }
    // The token's uri names the path, never the query.
    let q = "/api/v3/brokerage/accounts?limit=250";
    let (st, _) = call(
        &s,
        "GET",
        q,
        Some(&token(&ec, &s, now_s(), "GET", path)),
        None,
    );
    assert_eq!(st, 200);
    // Server time needs no token.
    let (st, v) = call(&s, "GET", "/api/v3/brokerage/time", None, None);
    assert_eq!(st, 200);
    assert!(v["epochMillis"].as_str().unwrap().parse::<u64>().is_ok());
}

fn next_json(
    ws: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
) -> Value {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn orders_over_rest_are_reported_on_the_user_channel() {
    let s = sim();
    let ec = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    let (mut ws, _) = tungstenite::connect(s.coinbase_user_ws_url()).unwrap();
    // A user subscription with a bad token is refused; with a good one it is confirmed and
    // followed by the open-order snapshot (none: one batch of fewer than 50).
    ws.send(Message::text(
        json!({"type": "subscribe", "channel": "user", "product_ids": ["BTC-USDT"], "jwt": "x.y.z"}).to_string(),
    ))
    .unwrap();
    let v = next_json(&mut ws);
    assert_eq!(v["type"], "error", "{v}");
    let jwt = ec.ws_token(now_s()).unwrap();
    ws.send(Message::text(
        json!({"type": "subscribe", "channel": "user", "product_ids": ["BTC-USDT"], "jwt": jwt})
            .to_string(),
    ))
    .unwrap();
    let subs = next_json(&mut ws);
    assert_eq!(subs["channel"], "subscriptions");
    assert_eq!(
        subs["events"][0]["subscriptions"]["user"],
        json!(["BTC-USDT"])
    );
    let snap = next_json(&mut ws);
    assert_eq!(snap["channel"], "user");
    assert_eq!(snap["events"][0]["type"], "snapshot");
    assert_eq!(snap["events"][0]["orders"], json!([]));
    let mut seq = snap["sequence_num"].as_u64().unwrap();
    assert_eq!(seq, subs["sequence_num"].as_u64().unwrap() + 1);

    // A marketable buy: accepted, then FILLED on the user channel with cumulative figures.
    let path = "/api/v3/brokerage/orders";
    let body = json!({"client_order_id": "t-1", "product_id": "BTC-USDT", "side": "BUY",
        "order_configuration": {"sor_limit_ioc": {"base_size": "0.001", "limit_price": "1000000"}}});
    let (st, v) = call(
        &s,
        "POST",
        path,
        Some(&token(&ec, &s, now_s(), "POST", path)),
        Some(&body),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["success"], true);
    let order_id = v["success_response"]["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let until = Instant::now() + Duration::from_secs(10);
    let mut last = Value::Null;
    while Instant::now() < until {
        let m = next_json(&mut ws);
        let n = m["sequence_num"].as_u64().unwrap();
        assert_eq!(n, seq + 1, "consecutive sequence numbers");
        seq = n;
        let o = &m["events"][0]["orders"][0];
        assert_eq!(o["order_id"], order_id.as_str());
        assert_eq!(o["client_order_id"], "t-1");
        last = o.clone();
        if o["status"] == "FILLED" {
            break;
        }
    }
    assert_eq!(last["status"], "FILLED", "{last}");
    assert_eq!(last["cumulative_quantity"], "0.001");
    assert_eq!(last["leaves_quantity"], "0");
    assert_eq!(last["order_side"], "BUY");
    // The REST views agree: the order by id, in the list by client id, and its fills.
    let by_id = format!("/api/v3/brokerage/orders/historical/{order_id}");
    let (st, v) = call(
        &s,
        "GET",
        &by_id,
        Some(&token(&ec, &s, now_s(), "GET", &by_id)),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["order"]["status"], "FILLED");
    assert_eq!(v["order"]["filled_size"], "0.001");
    assert_eq!(v["order"]["filled_value"], last["filled_value"]);
    let list = "/api/v3/brokerage/orders/historical/batch";
    let (st, v) = call(
        &s,
        "GET",
        &format!("{list}?order_ids={order_id}"),
        Some(&token(&ec, &s, now_s(), "GET", list)),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(v["orders"].as_array().unwrap().len(), 1);
    let (_, v) = call(
        &s,
        "GET",
        &format!("{list}?order_status=OPEN&product_ids=BTC-USDT"),
        Some(&token(&ec, &s, now_s(), "GET", list)),
        None,
    );
    assert_eq!(v["orders"], json!([]), "nothing open");
    let fills = "/api/v3/brokerage/orders/historical/fills";
    let (_, v) = call(
        &s,
        "GET",
        &format!("{fills}?order_ids={order_id}"),
        Some(&token(&ec, &s, now_s(), "GET", fills)),
        None,
    );
    let size: f64 = v["fills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["size"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((size - 0.001).abs() < 1e-12, "{v}");
    // A cancel of the filled order fails; insufficient funds is INSUFFICIENT_FUND.
    let cancel = "/api/v3/brokerage/orders/batch_cancel";
    let (_, v) = call(
        &s,
        "POST",
        cancel,
        Some(&token(&ec, &s, now_s(), "POST", cancel)),
        Some(&json!({"order_ids": [order_id]})),
    );
    assert_eq!(v["results"][0]["success"], false);
    let big = json!({"client_order_id": "t-2", "product_id": "BTC-USDT", "side": "BUY",
        "order_configuration": {"limit_limit_gtc": {"base_size": "200", "limit_price": "10000", "post_only": true}}});
    let (st, v) = call(
        &s,
        "POST",
        path,
        Some(&token(&ec, &s, now_s(), "POST", path)),
        Some(&big),
    );
    assert_eq!(st, 200);
    assert_eq!(v["success"], false);
    assert_eq!(v["error_response"]["error"], "INSUFFICIENT_FUND", "{v}");

    // A dropped user event costs its sequence number: the next message shows the gap.
    s.faults().set_drop_user_event_rate(1.0);
    let rest = json!({"client_order_id": "t-3", "product_id": "BTC-USDT", "side": "BUY",
        "order_configuration": {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "1000", "post_only": false}}});
    let (_, v) = call(
        &s,
        "POST",
        path,
        Some(&token(&ec, &s, now_s(), "POST", path)),
        Some(&rest),
    );
    assert_eq!(v["success"], true, "{v}");
    let t3 = v["success_response"]["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.faults().set_drop_user_event_rate(0.0);
    let (_, v) = call(
        &s,
        "POST",
        cancel,
        Some(&token(&ec, &s, now_s(), "POST", cancel)),
        Some(&json!({"order_ids": [t3]})),
    );
    assert_eq!(v["results"][0]["success"], true, "{v}");
    let m = next_json(&mut ws);
    assert_eq!(m["events"][0]["orders"][0]["status"], "CANCELLED", "{m}");
    assert_eq!(
        m["sequence_num"].as_u64().unwrap(),
        seq + 2,
        "one number lost with the dropped event"
    );
}
