//! The order gateway on BitMart spot against the simulator's BitMart private front end
//! (memo-signed REST `/spot/v2/submit_order`, `/spot/v3/cancel_order`, the v4 queries and
//! trade lists, the KEYED wallet; the private WebSocket's login and compressed
//! `spot/user/order` pushes), written once with the other venues' gateways: orders placed,
//! filled and cancelled, with and without faults (dropped answers, dropped pushes, a
//! disconnect, 5xx before and after execution, the 30013 rate-limit answer). Afterwards every
//! order the engine holds has the simulator's state, filled quantity, quote amount, venue id
//! and fees (from the order-trades lists), its balances equal the simulator's from the first
//! sweep on (the spread bot's "balance shows 0"), and none is left pending past its deadline.
//! Also: the bytes the codec sends are the bytes it signed (one changed byte is refused).

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, balance_differences, rig_for, trade_a_while, trade_until_unknown};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, Secret, VenueKind};
use mako::gateway::GatewayOptions;
use mako::sim::{DOC_API_KEY, DOC_MEMO, DOC_SECRET};
use mako::types::{
    ClientOrderId, OrderKind, OrderStatus, Price, Qty, Side, TimeInForce, VenueOrderId,
};
use mako::venue::bitmart::rest::BitmartRest;
use mako::venue::order::PlaceOrder;
use mako::venue::rest::{Method, RestCodec};

fn rig(options: GatewayOptions) -> Rig {
    rig_for(
        VenueKind::BitmartSpot,
        start_sim(""),
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
    )
}

fn fault_options() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

/// Balances equal the simulator's once the start-up sweep answered, before any order.
fn assert_balances_from_start(r: &mut Rig) {
    let mut diffs = Vec::new();
    let ok = wait_for(Duration::from_secs(20), || {
        r.refresh();
        diffs = balance_differences(&r.last, &r.sim.state());
        diffs.is_empty().then_some(())
    });
    assert!(ok.is_some(), "balances after start:\n{}", diffs.join("\n"));
    let usdt = r
        .last
        .balances
        .iter()
        .find(|b| b.asset.as_str() == "USDT")
        .expect("USDT balance");
    assert_eq!(
        usdt.free,
        Qty::parse("1000000").unwrap(),
        "not 0: the wallet was read"
    );
}

#[test]
fn bitmart_orders_match_the_venue_without_faults() {
    let mut r = rig(GatewayOptions::default());
    assert_balances_from_start(&mut r);
    trade_a_while(&mut r, 6);
    let n = r.assert_books_agree(Duration::from_secs(30), 30);
    assert_eq!(n, 30);
    r.assert_balances_agree(Duration::from_secs(20));
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 6,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 6);
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    assert!(
        r.last
            .orders
            .iter()
            .filter(|o| o.status == OrderStatus::Filled)
            .all(|o| o.fees.iter().any(|f| !f.1.is_zero())),
        "every filled order holds its fees: {:?}",
        r.last.orders
    );
    assert_eq!(r.last.counters.undecodable, 0, "{:?}", r.last.counters);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn bitmart_orders_match_the_venue_with_dropped_answers_pushes_and_a_disconnect() {
    let mut r = rig(fault_options());
    assert_balances_from_start(&mut r);
    let set = |r: &Rig, ack: f64, user: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
    };
    set(&r, 0.3, 0.4);
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    set(&r, 0.0, 0.0);
    let n = r.assert_books_agree(Duration::from_secs(40), 20);
    assert!(n >= 20, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(
        r.last.counters.queries_sent > 0,
        "lost answers were chased with REST queries"
    );
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn bitmart_orders_match_the_venue_with_5xx_and_the_30013_limit() {
    let mut r = rig(fault_options());
    assert_balances_from_start(&mut r);
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    // 5xx before and after the order was executed, and 30013s: outcomes unknown, queried.
    set(&r, 0.15, 0.2, 0.1);
    trade_a_while(&mut r, 4);
    trade_until_unknown(&mut r);
    set(&r, 0.0, 0.0, 0.0);
    let n = r.assert_books_agree(Duration::from_secs(40), 10);
    assert!(n >= 10, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(
        r.last.counters.queries_sent > 0,
        "unknown outcomes were queried"
    );
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    assert!(
        r.last.counters.rate_limited > 0,
        "30013 answers held requests back: {:?}",
        r.last.counters
    );
    r.assert_nothing_overdue();
    r.stop();
}

/// The codec's request sent byte for byte is accepted; the same headers with one byte of
/// the body changed are refused by the simulator's own check (30005).
#[test]
fn the_bytes_sent_are_the_bytes_signed() {
    let sim = start_sim("");
    let (key, secret, memo) = (
        Secret::new(DOC_API_KEY),
        Secret::new(DOC_SECRET),
        Secret::new(DOC_MEMO),
    );
    let mut codec = BitmartRest::new(&key, &secret, &memo, 5000);
    let cid = ClientOrderId::parse("mk0bytes1").unwrap();
    let order = PlaceOrder {
        symbol: "BTC_USDT",
        cid: &cid,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse("1000").unwrap(),
        qty: Qty::parse("0.01").unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    };
    // `X-BM-KEY`, on every request.
    let keyed = codec.plan().headers;
    let send = |head: &mako::venue::rest::RestHead, body: &[u8]| {
        assert_eq!(head.method, Method::Post);
        let mut req = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent()
            .post(format!("{}{}", sim.rest_url(), head.path))
            .header("Content-Type", "application/json");
        for (k, v) in keyed.iter() {
            req = req.header(*k, v);
        }
        for (k, v) in head.signed.iter() {
            req = req.header(k, v);
        }
        let mut resp = req.send(body).unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let mut body = Vec::new();
    let head = codec.place(&order, now(), &mut body);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|&b| b == b'1').unwrap();
    tampered[at] = b'2';
    let v = send(&head, &tampered);
    assert_eq!(v["code"], 30005, "one byte changed: {v}");
    let v = send(&head, &body);
    assert_eq!(v["code"], 1000, "the bytes signed: {v}");
    let id = v["data"]["order_id"].as_str().unwrap();
    assert!(VenueOrderId::new(id.as_bytes()).is_some());
    // A v4 body too: the query of that order by its client id.
    let head = codec.status("BTC_USDT", &cid, now(), &mut body);
    let v = send(&head, &body);
    assert_eq!(v["data"]["clientOrderId"], "mk0bytes1", "{v}");
    let mut spaced = body.clone();
    spaced.insert(1, b' ');
    let v = send(&head, &spaced);
    assert_eq!(v["code"], 30005, "an added space: {v}");
}

/// The spread bot's "balance shows 0", pinned end to end: the engine in sim mode
/// (`config/spread-bitmart-demo.toml` with its mode, tick and private WebSocket set for the
/// simulator, ports from the OS) quotes BTC_USDT through the BitMart gateway, and the
/// balances its `/status` page shows for the venue equal the simulator's account, with
/// funds frozen by the resting quotes, not 0.
#[test]
fn status_shows_the_venues_balances_in_sim_mode() {
    use std::path::Path;

    use mako::engine::Engine;
    use mako::runtime::{Clock, Shutdown};

    let dir = std::env::temp_dir().join(format!("mako-sim-bitmart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/spread-bitmart-demo.toml"
    ))
    .unwrap()
    .replace("mode = \"paper\"", "mode = \"sim\"")
    .replace(
        "streams = [\"bookTicker\", \"depth\", \"trade\"]",
        "streams = [\"bookTicker\", \"depth\", \"trade\"]\nprivate_ws_url = \"ws://127.0.0.1:19422/user?protocol=1.1\"",
    )
    // The simulated venue's tick (its orders are refused off the 1 USDT tick).
    .replace("tick_size = \"0.01\"", "tick_size = \"1\"")
    // Fees are the simulator's in sim mode.
    .replace("[paper]\nmaker_fee = \"0.001\"\ntaker_fee = \"0.001\"\n", "")
    .replace("19422", "0")
    .replace("127.0.0.1:8793", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/spread-bitmart-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("spread-bitmart-sim.toml"))
        .expect("the demo in sim mode is valid");
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let sim = engine.sim_addr().expect("the in-process simulator");
    let sim_balances = move || -> Option<serde_json::Value> {
        let mut r = ureq::get(&format!("http://{sim}/sim/state")).call().ok()?;
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()?;
        Some(v["accounts"][0]["balances"].clone())
    };
    let agree = |status: &serde_json::Value| -> bool {
        let shown = status["venues"][0]["balances"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(venue) = sim_balances() else {
            return false;
        };
        let q = |v: &serde_json::Value| Qty::parse(v.as_str().unwrap_or("x")).ok();
        let usdt_locked = shown
            .iter()
            .find(|b| b["asset"] == "USDT")
            .and_then(|b| q(&b["locked"]));
        !shown.is_empty()
            && usdt_locked.is_some_and(|l| !l.is_zero())
            && shown.iter().all(|b| {
                let asset = b["asset"].as_str().unwrap_or("");
                q(&b["free"]).is_some()
                    && q(&b["free"]) == q(&venue[asset]["free"])
                    && q(&b["locked"]) == q(&venue[asset]["locked"])
            })
            && venue
                .as_object()
                .is_some_and(|m| m.keys().all(|a| shown.iter().any(|b| b["asset"] == *a)))
    };
    let report = common::run_until(
        engine,
        shutdown,
        "the venue's balances on /status, equal to the simulator's, with quotes resting",
        Duration::from_secs(120),
        agree,
    );
    assert!(report.sim_state.is_some());
}
