//! Perpetual positions kept true to the venue, on a simulated Bybit linear perpetual: the
//! gateway sets the configured leverage at start (the simulator's account holds it after),
//! compares every position the venue reports with its own, books the venue's funding
//! payments as they come (the same count and amounts as the simulator charged), takes the
//! venue's position when a trade made by hand on the same account moves it (a drift, counted
//! and corrected), and refuses new exposure when the venue refuses the configured leverage.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_linear_perp};
use common::{start_sim, wait_for};
use hmac::{Hmac, KeyInit, Mac};
use mako::gateway::{GatewayOptions, Refusal};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use mako::types::{OrderKind, Price, Qty, Side, TimeInForce};
use serde_json::Value;
use sha2::Sha256;

/// BTCUSDT as a linear perpetual at 10× by default, funded every 1.5 s at 0.1 %.
const PERP: &str = "funding_interval_ms = 1500\nbybit_funding_rate = \"0.001\"\n\
    [[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

fn options() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

/// Units of a `/sim/state` decimal, signed.
fn signed_units(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or("0");
    match s.strip_prefix('-') {
        Some(a) => -Qty::parse(a).unwrap().units(),
        None => Qty::parse(s).unwrap().units(),
    }
}

/// The simulator's position of account 0 in BTCUSDT: (size, leverage), units at 10^-8.
fn sim_position(r: &Rig) -> Option<(i64, i64)> {
    let state = r.sim.state();
    let p = state["accounts"][0]["positions"]
        .as_array()?
        .iter()
        .find(|p| p["symbol"] == "BTCUSDT")?
        .clone();
    Some((signed_units(&p["size"]), signed_units(&p["leverage"])))
}

/// Funding the simulator charged account 0: (payments, total paid at 10^-8).
fn sim_funding(r: &Rig) -> (usize, i64) {
    let state = r.sim.state();
    let list: Vec<Value> = state["funding"]
        .as_array()
        .map(|l| l.iter().filter(|f| f["account"] == 0).cloned().collect())
        .unwrap_or_default();
    (
        list.len(),
        list.iter().map(|f| signed_units(&f["amount"])).sum(),
    )
}

/// A market buy placed on the account by hand (not by mako), signed here as Bybit documents
/// (`timestamp + key + recvWindow + body`, hex HMAC-SHA256).
fn buy_by_hand(r: &Rig, qty: &str) {
    let body = format!(
        r#"{{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"{qty}","orderLinkId":"by-hand-1"}}"#
    );
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}{DOC_API_KEY}5000{body}").as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let url = format!("{}/v5/order/create", r.sim.rest_url());
    let text = ureq::post(&url)
        .header("X-BAPI-API-KEY", DOC_API_KEY)
        .header("X-BAPI-TIMESTAMP", &ts)
        .header("X-BAPI-RECV-WINDOW", "5000")
        .header("X-BAPI-SIGN", &sig)
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["retCode"], 0, "{answer}");
}

#[test]
fn leverage_positions_and_funding_agree_with_the_venue() {
    let mut r = rig_linear_perp(start_sim(PERP), options(), "5", true);
    // A long of 0.01 BTC, bought at the ask.
    let (_, ask) = r.book();
    r.send(
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Ioc,
        Price::from_units(ask.units() * 2),
        "0.01",
    );
    let long = Qty::parse("0.01").unwrap().units();
    let opened = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let p = r.last.perps.first()?;
        (p.engine == long && p.venue == Some(long)).then_some(())
    });
    assert!(opened.is_some(), "position opened: {:?}", r.last.perps);
    // The leverage the engine was configured with is the venue's now (it was 10).
    assert_eq!(
        sim_position(&r),
        Some((long, Qty::parse("5").unwrap().units()))
    );

    // Funding: every payment the simulator charged is booked, with the same total.
    let funded = wait_for(Duration::from_secs(30), || {
        r.refresh();
        let (n, total) = sim_funding(&r);
        let p = r.last.perps.first()?;
        let booked = r.last.counters.funding_payments as usize;
        (n >= 2 && booked == n && p.funding_paid == i128::from(total) * 100_000_000)
            .then_some((n, total))
    });
    let (n, total) = funded.unwrap_or_else(|| {
        panic!(
            "funding booked as charged: sim {:?}, engine {:?} {:?}",
            sim_funding(&r),
            r.last.counters,
            r.last.perps
        )
    });
    assert!(
        total > 0,
        "a long pays a positive rate: {n} payments, {total}"
    );

    // A trade by hand on the same account: the venue's position moves without mako.
    buy_by_hand(&r, "0.005");
    let both = Qty::parse("0.015").unwrap().units();
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
    assert_eq!(sim_position(&r).map(|p| p.0), Some(both));
    assert_eq!(r.last.counters.position_drifts, 1, "{:?}", r.last.counters);
    assert!(r.last.counters.position_reports > 2);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn a_leverage_the_venue_refuses_stops_new_exposure() {
    // 200× is beyond the venue's 1–100: the set-leverage request is refused.
    let mut r = rig_linear_perp(start_sim(PERP), options(), "200", false);
    let refused = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.counters.leverage_mismatches >= 1).then_some(())
    });
    assert!(refused.is_some(), "{:?}", r.last.counters);
    assert!(r.last.perps.first().is_some_and(|p| !p.leverage_ok));
    let (bid, _) = r.book();
    let cid = r.send(
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::from_units(bid.units() / 2 / 1_000_000 * 1_000_000),
        "0.01",
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
