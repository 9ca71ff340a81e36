//! The simulator's CoinDCX futures private front end, checked the way a CoinDCX client uses
//! it, from CoinDCX's documentation (exchanges.md §7.2–7.6) and not through the engine's
//! codec: every signature here is computed in the test with `hmac`/`sha2` over the body
//! bytes sent (and over `{"channel":"coindcx"}` for the private channel's join), answers are
//! read with serde_json. A wrong signature, a body changed by one byte after signing, an
//! unknown key and a `timestamp` older than 10 s are refused; an order placed over REST is
//! listed, holds margin in the wallet, is cancelled by its id; leverage and positions answer;
//! and a market order arrives on the private channel as `df-order-update` (cumulative
//! figures), `df-position-update` and `balance-update`.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::start_sim;
use hmac::{Hmac, KeyInit, Mac};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use mako::types::Qty;
use serde_json::Value;
use sha2::Sha256;
use tungstenite::Message;

/// BTCUSDT as a linear perpetual at 10× (CoinDCX's `B-BTC_USDT`).
const LINEAR: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

const PREFIX: &str = "/exchange/v1/derivatives/futures/";

fn hex_hmac(msg: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(msg);
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

/// Sends `sent` signed as `signed` (the same bytes unless a test spoils them):
/// `(HTTP status, JSON answer)`.
fn call_as(
    base: &str,
    method: &str,
    path: &str,
    signed: &str,
    sent: &str,
    key: &str,
) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{base}{PREFIX}{path}");
    let sig = hex_hmac(signed.as_bytes());
    let mut resp = if method == "GET" {
        agent
            .get(url)
            .header("X-AUTH-APIKEY", key)
            .header("X-AUTH-SIGNATURE", &sig)
            .force_send_body()
            .content_type("application/json")
            .send(sent)
            .unwrap()
    } else {
        agent
            .post(url)
            .header("X-AUTH-APIKEY", key)
            .header("X-AUTH-SIGNATURE", &sig)
            .content_type("application/json")
            .send(sent)
            .unwrap()
    };
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

fn call(base: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    call_as(base, method, path, body, body, DOC_API_KEY)
}

fn create_body(ts: u64, order: &str) -> String {
    format!(r#"{{"timestamp":{ts},"order":{order}}}"#)
}

const RESTING: &str = r#"{"side":"buy","pair":"B-BTC_USDT","order_type":"limit_order","price":"1000","total_quantity":0.01,"time_in_force":"good_till_cancel","notification":"no_notification","margin_currency_short_name":"USDT"}"#;

#[test]
fn signed_rest_refuses_bad_signatures_and_old_timestamps_and_trades_a_perpetual() {
    let s = start_sim(LINEAR);
    let base = s.rest_url();
    let body = create_body(now_ms(), RESTING);
    // The signature of other bytes (one byte changed after signing): refused.
    let tampered = body.replace("\"1000\"", "\"1001\"");
    let (status, v) = call_as(
        &base,
        "POST",
        "orders/create",
        &body,
        &tampered,
        DOC_API_KEY,
    );
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["message"], "Invalid signature");
    let (status, _) = call_as(&base, "POST", "orders/create", &body, &body, "not-a-key");
    assert_eq!(status, 401);
    // 11 s old: refused (the venue's 10 s rule).
    let old = create_body(now_ms() - 11_000, RESTING);
    let (status, v) = call(&base, "POST", "orders/create", &old);
    assert_eq!(status, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("10 seconds"), "{v}");
    // An order leverage other than the position's: 422.
    let lev = create_body(
        now_ms(),
        &RESTING.replace("\"notification\"", "\"leverage\":5,\"notification\""),
    );
    let (status, v) = call(&base, "POST", "orders/create", &lev);
    assert_eq!(
        (status, v["message"].as_str()),
        (
            422,
            Some("Order leverage must be equal to position leverage")
        )
    );
    // The position's leverage set to 1 (the order's margin is then its whole value).
    let (status, v) = call(
        &base,
        "POST",
        "positions/update_leverage",
        &format!(
            r#"{{"timestamp":{},"leverage":"1","pair":"B-BTC_USDT"}}"#,
            now_ms()
        ),
    );
    assert_eq!(status, 200, "{v}");
    // Too large for the wallet.
    let big = create_body(now_ms(), &RESTING.replace("0.01", "1500"));
    let (status, v) = call(&base, "POST", "orders/create", &big);
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Insufficient funds")),
        "{v}"
    );

    // Signed over the body exactly as sent (a space after a colon is part of it).
    let spaced = body.replace("\"side\":", "\"side\": ");
    let (status, v) = call(&base, "POST", "orders/create", &spaced);
    assert_eq!(status, 200, "{v}");
    let o = &v[0];
    assert_eq!(o["status"], "initial");
    assert_eq!(
        (o["pair"].as_str(), o["side"].as_str()),
        (Some("B-BTC_USDT"), Some("buy"))
    );
    assert_eq!(
        (o["price"].as_f64(), o["total_quantity"].as_f64()),
        (Some(1000.0), Some(0.01))
    );
    let id = o["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID-shaped id: {id}");

    let list = |status: &str| {
        call(
            &base,
            "POST",
            "orders",
            &format!(
                r#"{{"timestamp":{},"status":"{status}","side":"buy","page":"1","size":"10","margin_currency_short_name":["USDT"]}}"#,
                now_ms()
            ),
        )
    };
    let (_, v) = list("open,partially_filled");
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["id"], id.as_str());
    assert_eq!(v[0]["remaining_quantity"].as_f64(), Some(0.01));

    // The order's margin (0.01 × 1000 / 1 = 10 USDT) is held in the wallet.
    let (status, w) = call(
        &base,
        "GET",
        "wallets",
        &format!(r#"{{"timestamp":{}}}"#, now_ms()),
    );
    assert_eq!(status, 200, "{w}");
    let usdt = w
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency_short_name"] == "USDT")
        .unwrap();
    assert_eq!(usdt["locked_balance"], "10", "{usdt}");

    let cancel = |id: &str| {
        call(
            &base,
            "POST",
            "orders/cancel",
            &format!(r#"{{"timestamp":{},"id":"{id}"}}"#, now_ms()),
        )
    };
    let (status, v) = cancel(&id);
    assert_eq!(
        (status, v["message"].as_str(), v["code"].as_i64()),
        (200, Some("success"), Some(200))
    );
    let (status, _) = cancel(&id);
    assert_eq!(status, 400, "a second cancel is refused");
    let (_, v) = list("cancelled");
    assert_eq!(v[0]["id"], id.as_str());
    assert_eq!(v[0]["cancelled_quantity"].as_f64(), Some(0.01));

    let (_, p) = call(
        &base,
        "POST",
        "positions",
        &format!(
            r#"{{"timestamp":{},"page":"1","size":"10","margin_currency_short_name":["USDT"]}}"#,
            now_ms()
        ),
    );
    assert_eq!(
        (p[0]["pair"].as_str(), p[0]["leverage"].as_f64()),
        (Some("B-BTC_USDT"), Some(1.0))
    );
    assert_eq!(p[0]["active_pos"].as_f64(), Some(0.0));
    let (status, _) = call(
        &base,
        "POST",
        "orders/edit",
        &format!(r#"{{"timestamp":{}}}"#, now_ms()),
    );
    assert_eq!(status, 400, "the simulator does not edit perpetual orders");
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn next_text(ws: &mut Ws) -> String {
    loop {
        match ws.read().expect("the socket stays open") {
            Message::Text(t) => return t.as_str().to_owned(),
            _ => continue,
        }
    }
}

/// The next private event `name` (other frames skipped): its `data` list.
fn next_event(ws: &mut Ws, name: &str) -> Value {
    loop {
        let t = next_text(ws);
        let Some(body) = t.strip_prefix("42") else {
            continue;
        };
        let v: Value = serde_json::from_str(body).unwrap();
        if v[0] == name {
            assert_eq!(
                (v[1]["channel"].as_str(), v[1]["event"].as_str()),
                (Some("coindcx"), Some(name))
            );
            return serde_json::from_str(v[1]["data"].as_str().unwrap()).unwrap();
        }
    }
}

#[test]
fn the_private_channel_pushes_orders_positions_and_balances() {
    let s = start_sim(LINEAR);
    let mut ws: Ws = tungstenite::connect(s.coindcx_private_ws_url()).unwrap().0;
    assert!(next_text(&mut ws).starts_with("0{"), "Engine.IO open");
    assert_eq!(next_text(&mut ws), "40");
    let join = |sig: &str| {
        format!(
            r#"42["join",{{"channelName":"coindcx","authSignature":"{sig}","apiKey":"{DOC_API_KEY}"}}]"#
        )
    };
    ws.send(Message::text(join(&"0".repeat(64)))).unwrap();
    let refusal = next_text(&mut ws);
    assert!(refusal.starts_with("44"), "{refusal}");
    ws.send(Message::text(join(&hex_hmac(br#"{"channel":"coindcx"}"#))))
        .unwrap();
    // Engine.IO ping → pong (the join is processed before it, in order).
    ws.send(Message::text("2")).unwrap();
    assert_eq!(next_text(&mut ws), "3");

    let market = r#"{"side":"buy","pair":"B-BTC_USDT","order_type":"market_order","total_quantity":0.002,"notification":"no_notification","margin_currency_short_name":"USDT"}"#;
    let (status, v) = call(
        &s.rest_url(),
        "POST",
        "orders/create",
        &create_body(now_ms(), market),
    );
    assert_eq!(status, 200, "{v}");
    let id = v[0]["id"].as_str().unwrap().to_owned();
    let filled = loop {
        let u = next_event(&mut ws, "df-order-update");
        assert_eq!(u[0]["id"], id.as_str());
        if u[0]["status"] == "filled" {
            break u;
        }
    };
    let o = &filled[0];
    assert_eq!(
        (
            o["total_quantity"].as_f64(),
            o["remaining_quantity"].as_f64()
        ),
        (Some(0.002), Some(0.0))
    );
    assert!(o["avg_price"].as_f64().unwrap() > 0.0, "{o}");
    assert!(o["fee_amount"].as_f64().unwrap() > 0.0, "a taker fee: {o}");
    let p = next_event(&mut ws, "df-position-update");
    assert_eq!(
        (p[0]["pair"].as_str(), p[0]["active_pos"].as_f64()),
        (Some("B-BTC_USDT"), Some(0.002))
    );
    let b = next_event(&mut ws, "balance-update");
    let usdt = b
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency_short_name"] == "USDT")
        .unwrap();
    // The simulator's own record agrees: the position's margin is held.
    let state = s.state();
    let q = |v: &Value| Qty::parse(v.as_str().unwrap()).unwrap();
    let held = q(&state["accounts"][0]["balances"]["USDT"]["locked"]);
    assert_eq!(q(&usdt["locked_balance"]), held, "{usdt}");
    assert!(!held.is_zero());
    assert_eq!(
        q(&state["accounts"][0]["positions"][0]["size"]),
        Qty::parse("0.002").unwrap()
    );
}
