//! Perpetual positions kept true to the venue on the grid bot's home venues, as
//! `gateway_bybit_perp.rs` shows them on Bybit: Delta India's BTCUSD (whole contracts of
//! 0.001 BTC; the product id learned from `GET /v2/products/{symbol}`, the leverage set with
//! `POST /v2/products/{id}/orders/leverage`, positions from `GET /v2/positions` and the
//! `positions` channel) and CoinDCX's B-BTC_USDT (`positions/update_leverage`, `POST
//! /positions`, `df-position-update`), each on the simulator's perpetual account. For each
//! venue: the configured leverage is the venue's before any exposure (the simulator's
//! default is another), a normal run of fills is never taken for drift, a trade made by hand
//! on the same account (signed here, as the venue's docs say, not by mako) is found as one
//! drift and corrected, and a leverage the venue refuses stops new exposure
//! (`leverage_unconfirmed`, nothing reaches the venue).

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_perp};
use common::{start_sim, wait_for};
use hmac::{Hmac, KeyInit, Mac};
use mako::config::VenueKind;
use mako::gateway::{GatewayOptions, Refusal};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use mako::types::{OrderKind, Price, Qty, Side, TimeInForce};
use serde_json::Value;
use sha2::Sha256;

/// Delta India's BTCUSD at 10× by default, contracts of 0.001 BTC.
const DELTA_SIM: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\ntick_size = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\nmax_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000.0\"\nlevels = 200\nkind = \"linear-perpetual\"\nleverage = \"10\"\ncontract_value = \"0.001\"\n\n[[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", USD = \"5000000\" }\n";

/// The simulator's BTCUSDT (CoinDCX's B-BTC_USDT) at 10× by default, quantities in BTC.
const COINDCX_SIM: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

fn options() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

fn hex_hmac(msg: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// Units of a `/sim/state` decimal, signed.
fn signed_units(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or("0");
    match s.strip_prefix('-') {
        Some(a) => -Qty::parse(a).unwrap().units(),
        None => Qty::parse(s).unwrap().units(),
    }
}

/// The simulator's position of account 0 in `symbol`: (size, leverage), units at 10^-8.
fn sim_position(r: &Rig, symbol: &str) -> Option<(i64, i64)> {
    let state = r.sim.state();
    let p = state["accounts"][0]["positions"]
        .as_array()?
        .iter()
        .find(|p| p["symbol"] == symbol)?
        .clone();
    Some((signed_units(&p["size"]), signed_units(&p["leverage"])))
}

/// The simulator's best bid and ask on `symbol`.
fn book(r: &Rig, symbol: &str) -> (Price, Price) {
    let url = format!(
        "{}/api/v3/ticker/bookTicker?symbol={symbol}",
        r.sim.rest_url()
    );
    let body = wait_for(Duration::from_secs(20), || {
        let mut resp = ureq::get(&url).call().ok()?;
        resp.body_mut().read_to_string().ok()
    })
    .expect("the simulator answers bookTicker");
    let v: Value = serde_json::from_str(&body).unwrap();
    let p = |k: &str| Price::parse(v[k].as_str().unwrap()).unwrap();
    (p("bidPrice"), p("askPrice"))
}

/// A market buy of `contracts` BTCUSD placed on the account by hand, signed as Delta
/// documents (`METHOD + timestamp + path + body`, hex HMAC-SHA256).
fn delta_buy_by_hand(r: &Rig, contracts: u32) {
    let body = format!(
        r#"{{"product_symbol":"BTCUSD","size":{contracts},"side":"buy","order_type":"market_order","client_order_id":"by-hand-1"}}"#
    );
    let ts = (now_ms() / 1000).to_string();
    let sig = hex_hmac(&format!("POST{ts}/v2/orders{body}"));
    let text = ureq::post(&format!("{}/v2/orders", r.sim.rest_url()))
        .header("api-key", DOC_API_KEY)
        .header("timestamp", &ts)
        .header("signature", &sig)
        .header("User-Agent", "by-hand")
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["success"], true, "{answer}");
}

/// A market buy of `qty` BTC on B-BTC_USDT placed on the account by hand, signed as CoinDCX
/// documents (hex HMAC-SHA256 of the body as sent).
fn coindcx_buy_by_hand(r: &Rig, qty: &str) {
    let body = format!(
        r#"{{"timestamp":{},"order":{{"side":"buy","pair":"B-BTC_USDT","order_type":"market_order","total_quantity":{qty},"notification":"no_notification","margin_currency_short_name":"USDT"}}}}"#,
        now_ms()
    );
    let sig = hex_hmac(&body);
    let url = format!(
        "{}/exchange/v1/derivatives/futures/orders/create",
        r.sim.rest_url()
    );
    let mut resp = ureq::post(&url)
        .header("X-AUTH-APIKEY", DOC_API_KEY)
        .header("X-AUTH-SIGNATURE", &sig)
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.body_mut().read_to_string().unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(answer.is_array(), "{answer}");
}

/// One venue's case: its kind, simulator symbol, the quantity of a mako order and of the
/// trade by hand (order units), and how to trade by hand.
struct Case {
    kind: VenueKind,
    sim: &'static str,
    symbol: &'static str,
    qty: &'static str,
    by_hand: &'static str,
    buy_by_hand: fn(&Rig),
}

fn delta() -> Case {
    Case {
        kind: VenueKind::DeltaIndia,
        sim: DELTA_SIM,
        symbol: "BTCUSD",
        qty: "10",
        by_hand: "5",
        buy_by_hand: |r| delta_buy_by_hand(r, 5),
    }
}

fn coindcx() -> Case {
    Case {
        kind: VenueKind::CoindcxFutures,
        sim: COINDCX_SIM,
        symbol: "BTCUSDT",
        qty: "0.01",
        by_hand: "0.005",
        buy_by_hand: |r| coindcx_buy_by_hand(r, "0.005"),
    }
}

/// The leverage set at start, fills never taken for drift, a trade by hand found as one.
fn positions_agree(c: Case) {
    let mut r = rig_perp(c.kind, start_sim(c.sim), options(), "5", true);
    let five = Qty::parse("5").unwrap().units();

    // A normal run: a long opened and partly closed over several fills, then flat again.
    let unit = Qty::parse(c.qty).unwrap().units();
    let mut expect = 0i64;
    for (side, n) in [
        (Side::Buy, 1),
        (Side::Buy, 1),
        (Side::Sell, 1),
        (Side::Buy, 1),
    ] {
        let (bid, ask) = book(&r, c.symbol);
        let price = match side {
            Side::Buy => Price::from_units(ask.units() / 100 * 102),
            Side::Sell => Price::from_units(bid.units() / 100 * 98),
        };
        let price = Price::from_units(price.units() - price.units() % 50_000_000);
        r.send(side, OrderKind::Limit, TimeInForce::Ioc, price, c.qty);
        expect += side.sign() * n * unit;
        let reached = wait_for(Duration::from_secs(20), || {
            r.refresh();
            let p = r.last.perps.first()?;
            (p.engine == expect && p.venue == Some(expect)).then_some(())
        });
        assert!(
            reached.is_some(),
            "engine and venue at {expect}: {:?}",
            r.last.perps
        );
        // Confirmed by the venue before the first order: its account holds 5× (its
        // default was 10×).
        assert_eq!(sim_position(&r, c.symbol).map(|p| p.1), Some(five));
    }
    // Several sweeps later the reports still agree: no drift, no leverage mismatch.
    let reports = r.last.counters.position_reports;
    let later = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.counters.position_reports >= reports + 3).then_some(())
    });
    assert!(later.is_some(), "{:?}", r.last.counters);
    assert_eq!(r.last.counters.position_drifts, 0, "{:?}", r.last.counters);
    assert_eq!(r.last.counters.leverage_mismatches, 0);
    assert_eq!(sim_position(&r, c.symbol).map(|p| p.0), Some(expect));

    // A trade by hand on the same account: the venue's position moves without mako.
    (c.buy_by_hand)(&r);
    let both = expect + Qty::parse(c.by_hand).unwrap().units();
    let corrected = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let p = r.last.perps.first()?;
        (r.last.counters.position_drifts >= 1 && p.engine == both).then_some(())
    });
    assert!(
        corrected.is_some(),
        "the drift was found and corrected: {:?} {:?}",
        r.last.counters,
        r.last.perps
    );
    assert_eq!(sim_position(&r, c.symbol).map(|p| p.0), Some(both));
    assert_eq!(r.last.counters.position_drifts, 1, "{:?}", r.last.counters);
    r.assert_nothing_overdue();
    r.stop();
}

/// A leverage the venue refuses (200× on a 1–100 account) stops new exposure.
fn refused_leverage_stops_exposure(c: Case) {
    let mut r = rig_perp(c.kind, start_sim(c.sim), options(), "200", false);
    let refused = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.counters.leverage_mismatches >= 1).then_some(())
    });
    assert!(refused.is_some(), "{:?}", r.last.counters);
    assert!(r.last.perps.first().is_some_and(|p| !p.leverage_ok));
    let (bid, _) = book(&r, c.symbol);
    let cid = r.send(
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::from_units(bid.units() / 2 / 100_000_000 * 100_000_000),
        c.qty,
    );
    let why = wait_for(Duration::from_secs(10), || {
        while let Some(u) = r.updates.try_recv() {
            if u.cid == cid {
                return Some(u.refused);
            }
        }
        None
    });
    assert_eq!(why, Some(Some(Refusal::LeverageUnconfirmed)));
    assert!(r.sim_orders().is_empty(), "nothing reached the venue");
    r.stop();
}

#[test]
fn delta_leverage_and_positions_agree_with_the_venue() {
    positions_agree(delta());
}

#[test]
fn delta_refused_leverage_stops_new_exposure() {
    refused_leverage_stops_exposure(delta());
}

#[test]
fn coindcx_leverage_and_positions_agree_with_the_venue() {
    positions_agree(coindcx());
}

#[test]
fn coindcx_refused_leverage_stops_new_exposure() {
    refused_leverage_stops_exposure(coindcx());
}
