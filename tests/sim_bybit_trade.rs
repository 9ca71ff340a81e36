//! The simulator's Bybit trade WebSocket (`/v5/trade`) used as a Bybit client would, from
//! Bybit's "WebSocket Trade Guideline": the auth signature computed here with hmac/sha2 (not
//! mako's signer), a wrong signature and an unknown key refused, orders refused before auth,
//! a header timestamp outside the receive window refused (10002), a `reqId` used twice
//! refused (20006), `order.create` / `order.amend` / `order.cancel` answered by `reqId` with
//! the order's ids and the `X-Bapi-Limit*` header, and each order's effect visible in
//! `/sim/state`.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

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

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn ask(ws: &mut Ws, frame: &str) -> Value {
    ws.send(Message::text(frame)).unwrap();
    loop {
        match ws.read().expect("the trade socket stays open") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            _ => continue,
        }
    }
}

fn order_frame(req: &str, ts: u64, op: &str, args: &str) -> String {
    format!(
        r#"{{"reqId":"{req}","header":{{"X-BAPI-TIMESTAMP":"{ts}","X-BAPI-RECV-WINDOW":"5000"}},"op":"{op}","args":[{args}]}}"#
    )
}

#[test]
fn the_trade_socket_authenticates_answers_by_req_id_and_trades() {
    let s = start_sim("");
    let url = format!(
        "ws://{}/v5/trade",
        s.rest_url().trim_start_matches("http://")
    );
    let mut ws: Ws = tungstenite::connect(url).unwrap().0;
    let create = r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.002","price":"10000.00","timeInForce":"GTC","orderLinkId":"t-1"}"#;
    let v = ask(
        &mut ws,
        &order_frame("r0", now_ms(), "order.create", create),
    );
    assert_eq!(v["retCode"], 10003, "not authorized yet: {v}");
    assert_eq!(v["reqId"], "r0");

    let expires = now_ms() + 10_000;
    let auth = |key: &str, sig: String| {
        format!(r#"{{"reqId":"a","op":"auth","args":["{key}",{expires},"{sig}"]}}"#)
    };
    let v = ask(
        &mut ws,
        &auth(
            DOC_API_KEY,
            hex_hmac(&format!("GET/realtime{}", expires + 1)),
        ),
    );
    assert_eq!(
        (v["op"].as_str(), v["retCode"].as_i64()),
        (Some("auth"), Some(10004)),
        "{v}"
    );
    let v = ask(
        &mut ws,
        &auth("not-a-key", hex_hmac(&format!("GET/realtime{expires}"))),
    );
    assert_eq!(v["retCode"], 10003, "{v}");
    let good = auth(DOC_API_KEY, hex_hmac(&format!("GET/realtime{expires}")));
    let v = ask(&mut ws, &good);
    assert_eq!(
        (v["op"].as_str(), v["retCode"].as_i64()),
        (Some("auth"), Some(0)),
        "{v}"
    );
    let v = ask(&mut ws, &good);
    assert_eq!(v["retCode"], 20001, "repeat auth: {v}");
    let v = ask(&mut ws, r#"{"op":"ping"}"#);
    assert_eq!(v["op"], "pong", "{v}");

    // A timestamp 10 s old is outside the 5 s receive window: nothing is placed.
    let v = ask(
        &mut ws,
        &order_frame("r1", now_ms() - 10_000, "order.create", create),
    );
    assert_eq!(v["retCode"], 10002, "{v}");
    assert!(
        s.state()["accounts"][0]["orders"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let v = ask(
        &mut ws,
        &order_frame("r2", now_ms(), "order.create", create),
    );
    assert_eq!(
        (v["retCode"].as_i64(), v["op"].as_str()),
        (Some(0), Some("order.create")),
        "{v}"
    );
    assert_eq!(v["reqId"], "r2");
    assert_eq!(v["data"]["orderLinkId"], "t-1");
    let order_id = v["data"]["orderId"].as_str().unwrap().to_owned();
    assert_eq!(v["header"]["X-Bapi-Limit"], "20", "{v}");
    let left: u32 = v["header"]["X-Bapi-Limit-Status"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(left < 20, "{v}");
    let reset: u64 = v["header"]["X-Bapi-Limit-Reset-Timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > now_ms() - 2_000, "{v}");

    // The same reqId again: refused, nothing placed.
    let v = ask(
        &mut ws,
        &order_frame("r2", now_ms(), "order.create", create),
    );
    assert_eq!(v["retCode"], 20006, "{v}");
    let state = s.state();
    let orders = state["accounts"][0]["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["orderId"].to_string(), order_id);

    // Amended in place: same ids, new price and quantity.
    let amend = r#"{"category":"spot","symbol":"BTCUSDT","orderLinkId":"t-1","qty":"0.003","price":"10001.00"}"#;
    let v = ask(&mut ws, &order_frame("r3", now_ms(), "order.amend", amend));
    assert_eq!(v["retCode"], 0, "{v}");
    assert_eq!(v["data"]["orderId"], order_id.as_str());
    let o = &s.state()["accounts"][0]["orders"][0];
    assert_eq!(
        (o["price"].as_str(), o["origQty"].as_str()),
        (Some("10001.00000000"), Some("0.00300000")),
        "{o}"
    );

    let cancel = r#"{"category":"spot","symbol":"BTCUSDT","orderLinkId":"t-1"}"#;
    let v = ask(
        &mut ws,
        &order_frame("r4", now_ms(), "order.cancel", cancel),
    );
    assert_eq!(v["retCode"], 0, "{v}");
    assert_eq!(s.state()["accounts"][0]["orders"][0]["status"], "CANCELED");
    let v = ask(
        &mut ws,
        &order_frame("r5", now_ms(), "order.cancel", cancel),
    );
    assert_eq!(v["retCode"], 170213, "cancelled already: {v}");
    let v = ask(&mut ws, &order_frame("r6", now_ms(), "order.amend", amend));
    assert_eq!(v["retCode"], 170213, "amend of an ended order: {v}");
}
