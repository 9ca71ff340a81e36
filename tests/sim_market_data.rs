//! The simulator's market data over real WebSockets and REST: documented message shapes, the
//! control messages, and a REST snapshot plus the diff stream rebuilding its book exactly.

mod sim_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sim_support::*;

const FAST_WALK: &str = "walk_interval_ms = 5\nseed = 7\n";

#[test]
fn stream_payloads_match_the_documented_shapes() {
    let sim = start(FAST_WALK);
    let mut ws = ws_connect(&format!(
        "{}/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@trade/btcusdt@depth5@100ms/btcusdt@aggTrade",
        sim.ws_url()
    ));
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    let deadline = Instant::now() + WAIT;
    while seen.len() < 5 {
        assert!(Instant::now() < deadline, "only saw {:?}", seen.keys());
        let v = next_json(&mut ws);
        let stream = v["stream"]
            .as_str()
            .expect("combined frames name their stream")
            .to_string();
        assert!(
            v["data"].is_object(),
            "combined frames wrap the payload in data"
        );
        seen.entry(stream).or_insert(v["data"].clone());
    }
    assert_shape(
        &doc_sample("binance_bookticker.json"),
        &seen["btcusdt@bookTicker"],
        "bookTicker",
    );
    assert_shape(
        &doc_sample("binance_depth_diff.json"),
        &seen["btcusdt@depth@100ms"],
        "depthUpdate",
    );
    assert_shape(
        &doc_sample("binance_trade.json"),
        &seen["btcusdt@trade"],
        "trade",
    );
    assert_shape(
        &doc_sample("binance_aggtrade.json"),
        &seen["btcusdt@aggTrade"],
        "aggTrade",
    );
    assert_shape(
        &doc_sample("binance_partial_depth.json"),
        &seen["btcusdt@depth5@100ms"],
        "depth5",
    );
    let d = &seen["btcusdt@depth@100ms"];
    assert_eq!(d["e"], "depthUpdate");
    assert_eq!(d["s"], "BTCUSDT");
    assert!(d["U"].as_u64().unwrap() <= d["u"].as_u64().unwrap());
    assert_eq!(
        seen["btcusdt@depth5@100ms"]["bids"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // Event time is the wall clock in ms, so a client can measure feed lag.
    let e = seen["btcusdt@trade"]["E"].as_u64().unwrap();
    assert!(e.abs_diff(now_ms()) < 60_000, "E={e} is not wall-clock ms");

    // The raw endpoint sends the bare payload.
    let mut raw = ws_connect(&format!("{}/ws/btcusdt@bookTicker", sim.ws_url()));
    let v = next_json(&mut raw);
    assert!(v.get("stream").is_none());
    assert_shape(&doc_sample("binance_bookticker.json"), &v, "raw bookTicker");
}

#[test]
fn control_messages_follow_the_docs() {
    let sim = start(FAST_WALK);
    let mut ws = ws_connect(&format!("{}/ws", sim.ws_url()));
    send(&mut ws, &doc_sample("binance_ws_subscribe_request.json"));
    let v = wait_json(&mut ws, |v| v.get("id").is_some());
    assert_eq!(v, doc_sample("binance_ws_subscribe_response.json"));
    // Raw endpoint: payloads arrive unwrapped.
    let v = wait_json(&mut ws, |v| v.get("e").is_some());
    assert!(v["e"] == "aggTrade" || v["e"] == "depthUpdate", "{v}");
    send(&mut ws, &json!({"method": "LIST_SUBSCRIPTIONS", "id": 3}));
    let v = wait_json(&mut ws, |v| v["id"] == 3);
    assert_eq!(v["result"], json!(["btcusdt@aggTrade", "btcusdt@depth"]));
    send(
        &mut ws,
        &json!({"method": "UNSUBSCRIBE", "params": ["btcusdt@aggTrade", "btcusdt@depth"], "id": "u1"}),
    );
    let v = wait_json(&mut ws, |v| v["id"] == "u1");
    assert_eq!(v, json!({"result": null, "id": "u1"}));
    send(
        &mut ws,
        &json!({"method": "SET_PROPERTY", "params": ["combined", true], "id": 5}),
    );
    assert_eq!(
        wait_json(&mut ws, |v| v["id"] == 5),
        json!({"result": null, "id": 5})
    );
    send(
        &mut ws,
        &json!({"method": "GET_PROPERTY", "params": ["combined"], "id": 6}),
    );
    assert_eq!(
        wait_json(&mut ws, |v| v["id"] == 6),
        json!({"result": true, "id": 6})
    );
    std::thread::sleep(Duration::from_millis(1100)); // 5 messages per second
    send(
        &mut ws,
        &json!({"method": "SUBSCRIBE", "params": ["nosuch@trade"], "id": 7}),
    );
    let v = wait_json(&mut ws, |v| v["id"] == 7);
    assert!(v["error"]["code"].is_number(), "{v}");
    send(
        &mut ws,
        &json!({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 8}),
    );
    wait_json(&mut ws, |v| v["id"] == 8);
    let v = wait_json(&mut ws, |v| v.get("stream").is_some());
    assert_eq!(
        v["stream"], "btcusdt@trade",
        "combined property wraps frames"
    );
    // More than 5 messages in a second: disconnected, as documented.
    for i in 0..8 {
        let _ = ws.send(tungstenite::Message::text(
            json!({"method": "LIST_SUBSCRIPTIONS", "id": 100 + i}).to_string(),
        ));
    }
    let deadline = Instant::now() + WAIT;
    while next_text(&mut ws).is_some() {
        assert!(
            Instant::now() < deadline,
            "connection stayed open past the message limit"
        );
    }
}

type Side = BTreeMap<String, String>;

fn apply(book: &mut Side, levels: &Value) {
    for l in levels.as_array().unwrap() {
        let (p, q) = (
            l[0].as_str().unwrap().to_string(),
            l[1].as_str().unwrap().to_string(),
        );
        if q.parse::<f64>().unwrap() == 0.0 {
            book.remove(&p);
        } else {
            book.insert(p, q);
        }
    }
}

#[test]
fn snapshot_plus_diffs_rebuild_the_simulators_book_exactly() {
    let sim = start(FAST_WALK);
    let mut ws = ws_connect(&format!("{}/ws/btcusdt@depth@100ms", sim.ws_url()));
    // Step 2 of the documented procedure: buffer, remember the first U.
    let first = next_json(&mut ws);
    let first_u = first["U"].as_u64().unwrap();
    let mut buffered = vec![first];
    // Some resting orders from the account, so the published book includes them.
    let r = signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01000&price=59990.00",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let snap = loop {
        let s = http(
            "GET",
            &format!("{}/api/v3/depth?symbol=BTCUSDT&limit=5000", sim.rest_url()),
            None,
            None,
        )
        .json();
        if s["lastUpdateId"].as_u64().unwrap() >= first_u {
            break s;
        }
    };
    let last_id = snap["lastUpdateId"].as_u64().unwrap();
    let (mut bids, mut asks) = (Side::new(), Side::new());
    apply(&mut bids, &snap["bids"]);
    apply(&mut asks, &snap["asks"]);
    let mut book_id = last_id;
    let mut applied = 0;
    let step = |ev: &Value, bids: &mut Side, asks: &mut Side, book_id: &mut u64| {
        let (u_first, u_last) = (ev["U"].as_u64().unwrap(), ev["u"].as_u64().unwrap());
        if u_last <= *book_id {
            return;
        }
        assert!(u_first <= *book_id + 1, "gap: U={u_first} after {book_id}");
        apply(bids, &ev["b"]);
        apply(asks, &ev["a"]);
        *book_id = u_last;
    };
    let started = Instant::now();
    // Live events for a while, with an order placed and cancelled among them.
    while started.elapsed() < Duration::from_millis(1500) {
        let ev = next_json(&mut ws);
        buffered.push(ev);
        for ev in buffered.drain(..) {
            step(&ev, &mut bids, &mut asks, &mut book_id);
            applied += 1;
        }
    }
    let r = signed(&sim, "DELETE", "/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(r.status, 200, "{}", r.body);
    // Hold the market still, then read until the stream reaches the book's id.
    sim.pause_market(true);
    let target = sim.with_exchange(|ex| ex.symbols[0].book.update_id());
    while book_id < target {
        let ev = next_json(&mut ws);
        step(&ev, &mut bids, &mut asks, &mut book_id);
    }
    assert_eq!(book_id, target);
    let truth = http(
        "GET",
        &format!("{}/api/v3/depth?symbol=BTCUSDT&limit=5000", sim.rest_url()),
        None,
        None,
    )
    .json();
    assert_eq!(truth["lastUpdateId"].as_u64().unwrap(), book_id);
    let (mut tb, mut ta) = (Side::new(), Side::new());
    apply(&mut tb, &truth["bids"]);
    apply(&mut ta, &truth["asks"]);
    assert!(applied > 3, "too few events to mean anything");
    assert_eq!(bids, tb, "bids differ");
    assert_eq!(asks, ta, "asks differ");
}

#[test]
fn rest_market_endpoints_have_the_documented_shapes() {
    let sim = start("");
    sim.pause_market(true);
    let r = http(
        "GET",
        &format!("{}/api/v3/time", sim.rest_url()),
        None,
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["serverTime"].as_u64().unwrap().abs_diff(now_ms()) < 60_000);
    assert_eq!(r.header("X-MBX-USED-WEIGHT-1M"), Some("1"));
    let mut info = http(
        "GET",
        &format!("{}/api/v3/exchangeInfo", sim.rest_url()),
        None,
        None,
    )
    .json();
    let mut sample = doc_sample("binance_exchangeinfo_response_skeleton.json");
    sample.as_object_mut().unwrap().remove("sors");
    assert_shape(&sample, &info, "exchangeInfo");
    let filters = info["symbols"][0]["filters"].take();
    assert_shape(
        &doc_sample("binance_filter_price_filter.json"),
        &filters[0],
        "PRICE_FILTER",
    );
    assert_shape(
        &doc_sample("binance_filter_lot_size.json"),
        &filters[1],
        "LOT_SIZE",
    );
    assert_shape(
        &doc_sample("binance_filter_notional.json"),
        &filters[2],
        "NOTIONAL",
    );
    assert_eq!(filters[0]["tickSize"], "0.01000000");
    assert_eq!(filters[1]["stepSize"], "0.00001000");
    let d = http(
        "GET",
        &format!("{}/api/v3/depth?symbol=BTCUSDT&limit=5", sim.rest_url()),
        None,
        None,
    );
    assert_eq!(
        d.header("X-MBX-USED-WEIGHT-1M"),
        Some("26"),
        "depth weight 5 after exchangeInfo 20 and time 1"
    );
    let d = d.json();
    assert_shape(&doc_sample("binance_depth_snapshot_rest.json"), &d, "depth");
    assert_eq!(d["bids"].as_array().unwrap().len(), 5);
    let bt = http(
        "GET",
        &format!("{}/api/v3/ticker/bookTicker?symbol=BTCUSDT", sim.rest_url()),
        None,
        None,
    )
    .json();
    assert_eq!(bt["bidPrice"], d["bids"][0][0]);
    assert_eq!(bt["askQty"], d["asks"][0][1]);
    let bad = http(
        "GET",
        &format!("{}/api/v3/depth?symbol=NOPE", sim.rest_url()),
        None,
        None,
    );
    assert_eq!(
        (bad.status, bad.json()["code"].as_i64()),
        (400, Some(-1121))
    );
}

/// The simulator takes connections only once its books are seeded: the very first request
/// after it starts sees the whole ladder (a client that came earlier used to get an empty
/// snapshot, then diffs that left the seeding out, so its book never matched).
#[test]
fn the_first_request_sees_the_seeded_books() {
    for _ in 0..5 {
        let s = start("[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nlevels = 30\n");
        let r = http(
            "GET",
            &format!("{}/api/v3/depth?symbol=BTCUSDT&limit=100", s.rest_url()),
            None,
            None,
        );
        let v = r.json();
        // 30 levels a side as seeded (the walk's later steps keep about as many).
        assert!(v["bids"].as_array().map(Vec::len) >= Some(25), "{v}");
        assert!(v["asks"].as_array().map(Vec::len) >= Some(25), "{v}");
        assert!(v["lastUpdateId"].as_u64() >= Some(1_060), "{v}");
    }
}
