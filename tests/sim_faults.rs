//! Every fault the simulator injects, switched on at run time and observed by a real client;
//! plus the connection lifecycle: server pings and the pong deadline, the (scaled) 24 h
//! limit, serverShutdown, request-weight 429/418 and the order-rate limit.

mod sim_support;

use std::time::{Duration, Instant};

use serde_json::json;
use sim_support::*;

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_until_closed(ws: &mut Ws) {
    let deadline = Instant::now() + WAIT;
    while next_text(ws).is_some() {
        assert!(Instant::now() < deadline, "connection was not closed");
    }
}

#[test]
fn pings_pong_deadline_and_connection_age() {
    let sim = start("walk_interval_ms = 10\nping_interval_ms = 100\npong_timeout_ms = 2000\n");
    // A client that never reads never answers the pings: closed after the deadline.
    let _silent = ws_connect(&format!("{}/ws/btcusdt@trade", sim.ws_url()));
    wait_until("one market connection", || sim.market_connections() == 1);
    wait_until("the silent client to be dropped", || {
        sim.market_connections() == 0
    });
    // A client that reads (tungstenite answers pings) outlives several deadlines.
    let mut live = ws_connect(&format!("{}/ws/btcusdt@depth@100ms", sim.ws_url()));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        assert!(
            next_text(&mut live).is_some(),
            "a responsive client was disconnected"
        );
    }
    drop(live);
    // The connection-age limit (24 h at Binance) scaled down.
    let sim = start("max_connection_age_ms = 800\nwalk_interval_ms = 10\n");
    let mut ws = ws_connect(&format!("{}/ws/btcusdt@depth@100ms", sim.ws_url()));
    read_until_closed(&mut ws);
}

#[test]
fn server_shutdown_event_then_close() {
    let sim = start("");
    let mut ws = ws_connect(&format!("{}/ws/btcusdt@trade", sim.ws_url()));
    wait_until("connection registered", || sim.market_connections() == 1);
    sim.server_shutdown_event();
    let v = wait_json(&mut ws, |v| v["e"] == "serverShutdown");
    assert_shape(
        &doc_sample("binance_server_shutdown_raw.json"),
        &v,
        "serverShutdown",
    );
    read_until_closed(&mut ws);
}

#[test]
fn http_faults_switch_on_and_off() {
    let sim = start("");
    let time = || {
        try_http(
            "GET",
            &format!("{}/api/v3/time", sim.rest_url()),
            None,
            None,
        )
    };
    assert_eq!(time().unwrap().status, 200);
    sim.faults().set_http_5xx_rate(1.0);
    assert_eq!(time().unwrap().status, 503);
    sim.faults().set_http_5xx_rate(0.0);
    sim.faults().set_http_429_rate(1.0);
    let r = time().unwrap();
    assert_eq!((r.status, r.json()["code"].as_i64()), (429, Some(-1003)));
    assert!(r.header("Retry-After").is_some());
    sim.faults().set_http_429_rate(0.0);
    // Through the admin endpoint too.
    let r = http(
        "POST",
        &format!("{}/faults", sim.admin_url()),
        None,
        Some(&json!({"http_5xx_rate": 1.0}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(time().unwrap().status, 503);
    assert_eq!(
        http("GET", &format!("{}/faults", sim.admin_url()), None, None).json()["http_5xx_rate"],
        1.0
    );
    http(
        "POST",
        &format!("{}/faults", sim.admin_url()),
        None,
        Some(&json!({"http_5xx_rate": 0.0, "slow_response_ms": 300}).to_string()),
    );
    let t = Instant::now();
    assert_eq!(time().unwrap().status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "slow response fault not applied"
    );
    let r = http(
        "POST",
        &format!("{}/faults", sim.admin_url()),
        None,
        Some(&json!({"nonsense": 1}).to_string()),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn a_5xx_after_execution_leaves_the_outcome_unknown_but_done() {
    let sim = start("");
    sim.pause_market(true);
    sim.faults().set_http_5xx_after_rate(1.0);
    let r = signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000&newClientOrderId=u1",
    );
    assert_eq!((r.status, r.json()["code"].as_i64()), (503, Some(-1006)));
    sim.faults().set_http_5xx_after_rate(0.0);
    // The order was placed all the same: a query by client id finds it.
    let q = signed(
        &sim,
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=u1",
    );
    assert_eq!((q.status, q.json()["status"].as_str()), (200, Some("NEW")));
    // Cancels too: executed, answered 503.
    sim.faults().set_http_5xx_after_rate(1.0);
    let c = signed(
        &sim,
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=u1",
    );
    assert_eq!(c.status, 503);
    sim.faults().set_http_5xx_after_rate(0.0);
    let q = signed(
        &sim,
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=u1",
    );
    assert_eq!(q.json()["status"], "CANCELED");
    // Queries are not order requests: never hit by this fault.
    sim.faults().set_http_5xx_after_rate(1.0);
    let q = signed(
        &sim,
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=u1",
    );
    assert_eq!(q.status, 200);
}

#[test]
fn dropped_and_delayed_acks() {
    let sim = start("");
    sim.pause_market(true);
    sim.faults().set_drop_ack_rate(1.0);
    let q = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000&newClientOrderId=mkDrop&timestamp={}",
        now_ms()
    );
    let url = format!(
        "{}/api/v3/order?{q}&signature={}",
        sim.rest_url(),
        sign(SECRET, &q)
    );
    assert!(
        try_http("POST", &url, Some(KEY), None).is_err(),
        "the ack should have been dropped"
    );
    // The order exists on the exchange all the same: the client must reconcile.
    let st = sim.state();
    assert_eq!(st["accounts"][0]["orders"][0]["clientOrderId"], "mkDrop");
    // Over the WS API: no response to order.place; the next request's answer comes first.
    let mut ws = ws_connect(&sim.ws_api_url());
    send(
        &mut ws,
        &json!({"id": "drop", "method": "order.place", "params": {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
        "price": "50000", "apiKey": KEY, "timestamp": now_ms(), "signature": "00"}}),
    );
    send(&mut ws, &json!({"id": "after", "method": "ping"}));
    let v = wait_json(&mut ws, |v| v.get("id").is_some());
    assert_eq!(v["id"], "after");
    sim.faults().set_drop_ack_rate(0.0);
    sim.faults().set_ack_delay(Duration::from_millis(300));
    let t = Instant::now();
    send(
        &mut ws,
        &json!({"id": "slow", "method": "order.cancel", "params": {"symbol": "BTCUSDT", "orderId": 1, "apiKey": KEY, "timestamp": now_ms(), "signature": "00"}}),
    );
    let v = wait_json(&mut ws, |v| v["id"] == "slow");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "ack delay not applied"
    );
    assert_eq!(v["error"]["code"], -1022);
}

#[test]
fn dropped_user_events() {
    let sim = start("");
    sim.pause_market(true);
    let mut ws = ws_connect(&sim.ws_api_url());
    let ts = now_ms();
    let payload = format!("apiKey={KEY}&timestamp={ts}");
    send(
        &mut ws,
        &json!({"id": "sub", "method": "userDataStream.subscribe.signature", "params": {"apiKey": KEY, "timestamp": ts, "signature": sign(SECRET, &payload)}}),
    );
    assert_eq!(wait_json(&mut ws, |v| v["id"] == "sub")["status"], 200);
    sim.faults().set_drop_user_event_rate(1.0);
    signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000",
    );
    // Events are sent before the REST answer returns; a ping answered after it proves none came.
    send(&mut ws, &json!({"id": "p", "method": "ping"}));
    let first = next_json(&mut ws);
    assert_eq!(first["id"], "p", "an event got through: {first}");
    sim.faults().set_drop_user_event_rate(0.0);
    signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000",
    );
    let v = next_json(&mut ws);
    assert_eq!(v["event"]["e"], "executionReport");
}

#[test]
fn feed_faults_disconnect_gap_and_delay() {
    let sim = start("walk_interval_ms = 5\n");
    // Sequence gaps in the diff stream.
    sim.faults().set_depth_gap_every(2);
    let mut ws = ws_connect(&format!("{}/ws/btcusdt@depth@100ms", sim.ws_url()));
    let mut last_u = next_json(&mut ws)["u"].as_u64().unwrap();
    let mut gap = false;
    for _ in 0..10 {
        let v = next_json(&mut ws);
        gap |= v["U"].as_u64().unwrap() > last_u + 1;
        last_u = v["u"].as_u64().unwrap();
    }
    assert!(gap, "no sequence gap seen");
    sim.faults().set_depth_gap_every(0);
    // Market-data delay: frames leave at least the delay after their event time.
    sim.faults().set_market_delay(Duration::from_millis(300));
    let mut trades = ws_connect(&format!("{}/ws/btcusdt@trade", sim.ws_url()));
    for _ in 0..3 {
        let v = next_json(&mut trades);
        let lag = now_ms() as i64 - v["E"].as_i64().unwrap();
        assert!(lag >= 299, "frame arrived {lag} ms after its event time");
    }
    sim.faults().set_market_delay(Duration::ZERO);
    // Periodic disconnects.
    sim.faults()
        .set_disconnect_every(Duration::from_millis(300));
    read_until_closed(&mut ws);
    read_until_closed(&mut trades);
    sim.faults().set_disconnect_every(Duration::ZERO);
}

#[test]
fn weight_and_order_limits() {
    let sim = start("[limits]\nweight_per_minute = 30\nbans_after = 1\norders_per_10s = 2\n");
    sim.pause_market(true);
    let info = || {
        http(
            "GET",
            &format!("{}/api/v3/exchangeInfo", sim.rest_url()),
            None,
            None,
        )
    };
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = info();
        if r.status == 429 {
            assert!(r.header("Retry-After").is_some());
            assert_eq!(r.json()["code"], -1003);
        }
        statuses.push(r.status);
        if r.status == 418 {
            break;
        }
    }
    let first_429 = statuses.iter().position(|s| *s == 429).expect("a 429");
    assert!(
        statuses[first_429..].contains(&418),
        "no ban after repeated 429s: {statuses:?}"
    );
    sim.reset_limits();
    let mut codes = Vec::new();
    for _ in 0..8 {
        let r = signed(
            &sim,
            "POST",
            "/api/v3/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000",
        );
        codes.push(if r.status == 200 {
            0
        } else {
            r.json()["code"].as_i64().unwrap()
        });
        if r.status != 200 {
            assert_eq!(r.status, 429);
            break;
        }
    }
    assert!(codes.contains(&-1015), "{codes:?}");
}

#[test]
fn shutdown_closes_every_connection_and_returns() {
    let mut sim = start("walk_interval_ms = 10\n");
    let mut market = ws_connect(&format!("{}/ws/btcusdt@trade", sim.ws_url()));
    let mut api = ws_connect(&sim.ws_api_url());
    send(&mut api, &json!({"id": 1, "method": "ping"}));
    assert_eq!(wait_json(&mut api, |v| v["id"] == 1)["status"], 200);
    // A keep-alive REST connection stays open between requests.
    let rest = std::net::TcpStream::connect(sim.addr()).unwrap();
    wait_until("market connection", || sim.market_connections() == 1);
    sim.shutdown();
    let v = wait_json(&mut market, |v| v["e"] == "serverShutdown");
    assert!(v["E"].is_u64());
    read_until_closed(&mut market);
    read_until_closed(&mut api);
    use std::io::Read;
    rest.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        (&rest).read(&mut buf).unwrap_or(0),
        0,
        "REST connection still open after shutdown"
    );
    assert!(
        std::net::TcpStream::connect(sim.addr()).is_err(),
        "still listening after shutdown"
    );
}
