//! Signed REST order entry against the simulator: the official signature vectors, tampered
//! and stale requests, order types, fills, fees, balances, documented error codes, and the
//! `/sim/state` view.

mod sim_support;

use serde_json::Value;
use sim_support::*;

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/sim/signature_test_vectors.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    v.into_iter()
        .filter(|v| {
            v["venue"] == "binance" && v["official"] == true && v["algorithm"] == "hmac-sha256-hex"
        })
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn balance(sim: &mako::sim::SimHandle, asset: &str) -> (f64, f64) {
    let a = signed(sim, "GET", "/api/v3/account", "").json();
    let b = a["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset)
        .cloned()
        .unwrap();
    (num(&b["free"]), num(&b["locked"]))
}

#[test]
fn official_vectors_are_accepted_and_tampered_ones_refused() {
    let sim = start("");
    let rest = vectors()
        .into_iter()
        .find(|v| {
            v["message"]
                .as_str()
                .unwrap()
                .starts_with("symbol=LTCBTC&side=BUY")
        })
        .unwrap();
    let (msg, sig) = (
        rest["message"].as_str().unwrap(),
        rest["expected"].as_str().unwrap(),
    );
    // The documented request verbatim: its signature checks out, its 2017 timestamp does not.
    let url = format!("{}/api/v3/order?{msg}&signature={sig}", sim.rest_url());
    let r = http("POST", &url, Some(KEY), None);
    assert_eq!(
        (r.status, r.json()["code"].as_i64()),
        (400, Some(-1021)),
        "{}",
        r.body
    );
    // Same with the legacy example 3 split: query + body concatenated without '&'.
    let (q, b) = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
    );
    let legacy = vectors()
        .into_iter()
        .find(|v| v["message"].as_str() == Some(&format!("{q}{b}")))
        .unwrap();
    let r = http(
        "POST",
        &format!("{}/api/v3/order?{q}", sim.rest_url()),
        Some(KEY),
        Some(&format!(
            "{b}&signature={}",
            legacy["expected"].as_str().unwrap()
        )),
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-1021), "{}", r.body);
    // Tampered: one parameter changed after signing.
    let tampered = msg.replace("quantity=1", "quantity=2");
    let r = http(
        "POST",
        &format!("{}/api/v3/order?{tampered}&signature={sig}", sim.rest_url()),
        Some(KEY),
        None,
    );
    assert_eq!(
        (r.status, r.json()["code"].as_i64()),
        (400, Some(-1022)),
        "{}",
        r.body
    );
    // A fresh request signed with the doc secret is accepted (upper-case hex too).
    let q = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000&recvWindow=5000&timestamp={}",
        now_ms()
    );
    let r = http(
        "POST",
        &format!(
            "{}/api/v3/order?{q}&signature={}",
            sim.rest_url(),
            sign(SECRET, &q).to_uppercase()
        ),
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Stale by more than recvWindow.
    let q = format!(
        "symbol=BTCUSDT&orderId=1&recvWindow=1000&timestamp={}",
        now_ms() - 5_000
    );
    let r = http(
        "GET",
        &format!(
            "{}/api/v3/order?{q}&signature={}",
            sim.rest_url(),
            sign(SECRET, &q)
        ),
        Some(KEY),
        None,
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-1021));
    // Key problems.
    let q = format!("symbol=BTCUSDT&orderId=1&timestamp={}", now_ms());
    let r = http(
        "GET",
        &format!(
            "{}/api/v3/order?{q}&signature={}",
            sim.rest_url(),
            sign(SECRET, &q)
        ),
        Some("nope"),
        None,
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-2015));
    let r = http(
        "GET",
        &format!(
            "{}/api/v3/order?{q}&signature={}",
            sim.rest_url(),
            sign(SECRET, &q)
        ),
        None,
        None,
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-2014));
    let r = http(
        "GET",
        &format!("{}/api/v3/order?{q}", sim.rest_url()),
        Some(KEY),
        None,
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-1102));
}

#[test]
fn limit_orders_rest_query_and_cancel_with_documented_shapes() {
    let sim = start("");
    sim.pause_market(true);
    let (usdt0, _) = balance(&sim, "USDT");
    let r = signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01000&price=50000.00&newClientOrderId=mkTest1",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("X-MBX-ORDER-COUNT-10S").is_some());
    let placed = r.json();
    assert_shape(
        &doc_sample("binance_new_order_response_full.json"),
        &placed,
        "new order",
    );
    assert_eq!(placed["status"], "NEW");
    assert_eq!(placed["clientOrderId"], "mkTest1");
    let (usdt, locked) = balance(&sim, "USDT");
    assert_eq!(locked, 500.0);
    assert_eq!(usdt, usdt0 - 500.0);
    let id = placed["orderId"].as_u64().unwrap();
    let q = signed(
        &sim,
        "GET",
        "/api/v3/order",
        &format!("symbol=BTCUSDT&orderId={id}"),
    )
    .json();
    assert_shape(
        &doc_sample("binance_query_order_response.json"),
        &q,
        "query",
    );
    assert_eq!(q["isWorking"], true);
    let open = signed(&sim, "GET", "/api/v3/openOrders", "symbol=BTCUSDT").json();
    assert_shape(
        &doc_sample("binance_open_orders_response.json"),
        &open,
        "open orders",
    );
    assert_eq!(open.as_array().unwrap().len(), 1);
    let c = signed(
        &sim,
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=mkTest1",
    );
    assert_eq!(c.status, 200, "{}", c.body);
    let c = c.json();
    assert_shape(
        &doc_sample("binance_cancel_order_response.json"),
        &c,
        "cancel",
    );
    assert_eq!(c["status"], "CANCELED");
    assert_eq!(c["origClientOrderId"], "mkTest1");
    assert_eq!(balance(&sim, "USDT"), (usdt0, 0.0));
    // Errors: cancel again, query unknown, cancel-all with nothing open.
    let r = signed(
        &sim,
        "DELETE",
        "/api/v3/order",
        &format!("symbol=BTCUSDT&orderId={id}"),
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-2011));
    let r = signed(
        &sim,
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&orderId=999999",
    );
    assert_eq!(r.json()["code"].as_i64(), Some(-2013));
    let r = signed(&sim, "DELETE", "/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(r.json()["code"].as_i64(), Some(-2011));
    let acct = signed(&sim, "GET", "/api/v3/account", "").json();
    assert_shape(
        &doc_sample("binance_account_response.json"),
        &acct,
        "account",
    );
}

#[test]
fn filters_balances_and_order_types_are_enforced() {
    let sim = start("[[accounts]]\nbalances = { BTC = \"1\", USDT = \"1000\" }\n");
    sim.pause_market(true);
    let code = |r: Resp| r.json()["code"].as_i64();
    let place = |p: &str| {
        signed(
            &sim,
            "POST",
            "/api/v3/order",
            &format!("symbol=BTCUSDT&{p}"),
        )
    };
    assert_eq!(
        code(place(
            "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000.000000001"
        )),
        Some(-1111)
    );
    assert_eq!(
        code(place(
            "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000.005"
        )),
        Some(-1013)
    );
    assert_eq!(
        code(place(
            "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.000015&price=50000"
        )),
        Some(-1013)
    );
    assert_eq!(
        code(place(
            "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00001&price=50000"
        )),
        Some(-1013),
        "notional 0.5 < 5"
    );
    assert_eq!(
        code(place(
            "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=50000"
        )),
        Some(-2010),
        "5000 USDT > 1000"
    );
    assert_eq!(
        code(place("side=BUY&type=LIMIT&quantity=0.001&price=50000")),
        Some(-1102)
    );
    assert_eq!(
        code(place("side=BUY&type=STOP&quantity=0.001")),
        Some(-1116)
    );
    assert_eq!(code(place("side=BUY&type=MARKET")), Some(-1102));
    let ask = http(
        "GET",
        &format!("{}/api/v3/ticker/bookTicker?symbol=BTCUSDT", sim.rest_url()),
        None,
        None,
    )
    .json();
    let ask_px = ask["askPrice"].as_str().unwrap().to_string();
    assert_eq!(
        code(place(&format!(
            "side=BUY&type=LIMIT_MAKER&quantity=0.001&price={ask_px}"
        ))),
        Some(-2010),
        "post-only would take"
    );
    // FOK for more than the best level holds (the walk's levels hold at most 0.9): expired,
    // nothing filled. IOC for the same: the level fills, the rest expires.
    let bid_px = ask["bidPrice"].as_str().unwrap().to_string();
    let bid_qty = ask["bidQty"].as_str().unwrap().to_string();
    let r = place(&format!(
        "side=SELL&type=LIMIT&timeInForce=FOK&quantity=0.95&price={bid_px}"
    ))
    .json();
    assert_eq!(
        (r["status"].as_str(), r["executedQty"].as_str()),
        (Some("EXPIRED"), Some("0.00000000")),
        "{r}"
    );
    let r = place(&format!(
        "side=SELL&type=LIMIT&timeInForce=IOC&quantity=0.95&price={bid_px}"
    ))
    .json();
    assert_eq!(
        (r["status"].as_str(), r["executedQty"].as_str()),
        (Some("EXPIRED"), Some(bid_qty.as_str())),
        "{r}"
    );
    assert_eq!(balance(&sim, "BTC").1, 0.0, "nothing stays locked");
}

#[test]
fn market_orders_fill_against_the_book_with_fees_and_balances() {
    let sim = start("taker_fee = \"0.001\"\n");
    sim.pause_market(true);
    let (btc0, _) = balance(&sim, "BTC");
    let (usdt0, _) = balance(&sim, "USDT");
    let r = signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.05000",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_shape(
        &doc_sample("binance_new_order_response_full.json"),
        &v,
        "market FULL",
    );
    assert_eq!(v["status"], "FILLED");
    let fills = v["fills"].as_array().unwrap();
    assert!(!fills.is_empty());
    let qty: f64 = fills.iter().map(|f| num(&f["qty"])).sum();
    let cost: f64 = fills
        .iter()
        .map(|f| num(&f["price"]) * num(&f["qty"]))
        .sum();
    let fee: f64 = fills.iter().map(|f| num(&f["commission"])).sum();
    assert!(
        fills.iter().all(|f| f["commissionAsset"] == "BTC"),
        "a buyer pays commission in the base asset"
    );
    assert!((qty - 0.05).abs() < 1e-9);
    assert!((fee - 0.05 * 0.001).abs() < 1e-8);
    assert!((num(&v["cummulativeQuoteQty"]) - cost).abs() < 1e-6);
    let (btc, _) = balance(&sim, "BTC");
    let (usdt, ul) = balance(&sim, "USDT");
    assert!(
        (btc - (btc0 + qty - fee)).abs() < 1e-8,
        "{btc} vs {btc0}+{qty}-{fee}"
    );
    assert!(
        (usdt - (usdt0 - cost)).abs() < 1e-6,
        "{usdt} vs {usdt0}-{cost}"
    );
    assert_eq!(ul, 0.0);
    // The simulator's own record agrees.
    let st = http("GET", &format!("{}/state", sim.admin_url()), None, None).json();
    assert_eq!(st["fills"].as_array().unwrap().len(), fills.len());
    assert_eq!(st["accounts"][0]["orders"][0]["status"], "FILLED");
    assert!((num(&st["fees"]["BTC"]) - fee).abs() < 1e-9);
    // quoteOrderQty: spend about 100 USDT.
    let v = signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=100&newOrderRespType=RESULT",
    )
    .json();
    assert_eq!(v["status"], "FILLED", "{v}");
    assert!(
        num(&v["cummulativeQuoteQty"]) <= 100.0 && num(&v["cummulativeQuoteQty"]) > 99.0,
        "{v}"
    );
    let ack = signed(
        &sim,
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001&newOrderRespType=ACK",
    )
    .json();
    assert_shape(
        &doc_sample("binance_new_order_response_ack.json"),
        &ack,
        "ACK",
    );
    assert!(ack.get("status").is_none());
}

#[test]
fn resting_orders_fill_as_makers_when_the_market_trades_through() {
    let sim = start("walk_interval_ms = 2\nseed = 3\nmaker_fee = \"0.0005\"\n");
    sim.pause_market(true);
    // A buy one tick under the best bid and a sell one tick over the best ask: the walk will
    // trade through one of them sooner or later.
    let bt = http(
        "GET",
        &format!("{}/api/v3/ticker/bookTicker?symbol=BTCUSDT", sim.rest_url()),
        None,
        None,
    )
    .json();
    let bid = num(&bt["bidPrice"]);
    let ask = num(&bt["askPrice"]);
    let r = signed(
        &sim,
        "POST",
        "/api/v3/order",
        &format!(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100&price={:.2}",
            bid - 0.01
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = signed(
        &sim,
        "POST",
        "/api/v3/order",
        &format!(
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.00100&price={:.2}",
            ask + 0.01
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        sim.state()["fills"].as_array().unwrap().is_empty(),
        "both orders rest"
    );
    sim.pause_market(false);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        assert!(std::time::Instant::now() < deadline, "no maker fill");
        let st = sim.state();
        if let Some(f) = st["fills"].as_array().unwrap().first() {
            assert_eq!(f["isMaker"], true);
            let expected_asset = if f["side"] == "BUY" { "BTC" } else { "USDT" };
            assert_eq!(f["commissionAsset"], expected_asset);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
