//! The order gateway on CoinDCX futures' INR wallet (`margin_currency = "INR"`: `B-BTC_USDT`
//! margined in INR at 89 INR per USDT) against the simulator's CoinDCX private front end.
//! Orders are placed, filled and cancelled, then with faults (dropped pushes on the private
//! channel, 5xx answers after a create executed). Afterwards every order the engine holds
//! agrees with the simulator's record, found by venue id, with its fees in INR; the INR
//! balance the engine reports (free, and locked = the margin held) equals the simulator's,
//! the USDT wallet is reported untouched; the engine's fills netted equal the simulator's
//! position; risk counts the INR fees against PnL in USDT at the venue's 89 INR per USDT;
//! nothing is overdue. A re-price asked of the gateway is not sent as an edit (the
//! docs' edit is USDT-only): the order stays as it was at the venue, for the strategy to
//! cancel and replace.

mod common;

use std::time::Duration;

use common::coindcx_rig::{
    LINEAR_INR, assert_balance_agrees, assert_books_agree, assert_nothing_overdue,
    assert_position_agrees, fast, rig, sim_orders,
};
use common::gateway_rig::{trade_a_while, trade_until_unknown};
use common::{start_sim, wait_for};
use mako::gateway::OrderIntent;
use mako::types::{OrderKind, OrderStatus, Price, Qty, Side, StrategyId, TimeInForce};

#[test]
fn inr_orders_fees_margin_and_position_match_the_venue_with_dropped_pushes_and_5xx_after_execution()
{
    let mut r = rig(start_sim(LINEAR_INR), "INR", fast());
    trade_a_while(&mut r, 3);
    let n = assert_books_agree(&mut r, "INR", Duration::from_secs(30), 5);
    assert!(n >= 5, "orders compared: {n}");
    assert_balance_agrees(&mut r, "INR", Duration::from_secs(20));
    assert_position_agrees(&r);

    // Pushes on the private channel dropped, and creates answered 502 after executing.
    let f = r.sim.faults();
    f.set_drop_user_event_rate(0.4);
    f.set_http_5xx_after_rate(0.3);
    trade_until_unknown(&mut r);
    trade_a_while(&mut r, 2);
    let f = r.sim.faults();
    f.set_drop_user_event_rate(0.0);
    f.set_http_5xx_after_rate(0.0);

    let n = assert_books_agree(&mut r, "INR", Duration::from_secs(60), 16);
    assert!(n >= 16, "orders compared: {n}");
    assert_balance_agrees(&mut r, "INR", Duration::from_secs(20));
    // The USDT wallet is reported as the simulator holds it: untouched.
    assert_balance_agrees(&mut r, "USDT", Duration::from_secs(20));
    let usdt = r.last.balances.iter().find(|b| b.asset.as_str() == "USDT");
    assert_eq!(
        usdt.map(|b| (b.free, b.locked)),
        Some((Qty::parse("1000000").unwrap(), Qty::ZERO))
    );
    assert_position_agrees(&r);
    let rest = r.last.rest.expect("REST figures");
    assert!(
        rest.unknown > 0,
        "5xx answers after execution happened: {rest:?}"
    );
    // Every fee the engine holds is in INR, and some were charged.
    let fees: Vec<_> = r
        .last
        .orders
        .iter()
        .flat_map(|o| o.fees.iter())
        .filter(|f| !f.1.is_zero())
        .collect();
    assert!(!fees.is_empty(), "fees learned");
    assert!(fees.iter().all(|f| f.0.as_str() == "INR"), "{fees:?}");
    // Risk counts each order's INR fee against PnL in USDT at the venue's rate for that
    // order, 89 INR per USDT: the order's INR total / 89, rounded to 10^-8, summed over the
    // orders (computed here from the simulator's fills).
    let expected: i64 = sim_orders(&r.sim, "INR")
        .values()
        .map(|o| (o["fee"].as_i64().unwrap() + 44) / 89)
        .sum();
    assert!(expected > 0, "fees charged");
    let counted = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.quote_fees.first().map(|q| q.units()) == Some(expected)).then_some(())
    });
    assert!(
        counted.is_some(),
        "risk's quote fees {:?} vs the simulator's INR fees / 89: {expected}",
        r.last.quote_fees
    );
    // The margin held is INR: the simulator's position and orders lock it there.
    let state = r.sim.state();
    assert_eq!(state["accounts"][0]["positions"][0]["marginAsset"], "INR");
    assert_nothing_overdue(&mut r);
    r.stop();
}

#[test]
fn an_inr_order_is_not_edited_in_place() {
    let mut r = rig(start_sim(LINEAR_INR), "INR", fast());
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap().units();
    let first = Price::from_units((bid.units() / 1000 * 990) / tick * tick);
    let cid = r.send(Side::Buy, OrderKind::Limit, TimeInForce::Gtc, first, "0.01");
    let rests = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.status == OrderStatus::Acked).then_some(())
    });
    assert!(rests.is_some(), "the order rests on the venue");
    let refused = r.last.counters.refused;
    r.intents
        .send(OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price: Price::from_units(first.units() - 5 * tick),
            qty: Qty::parse("0.02").unwrap(),
        })
        .unwrap();
    // The strategy hears the order as it stands; nothing is sent.
    let heard = wait_for(Duration::from_secs(10), || {
        while let Some(u) = r.updates.try_recv() {
            if u.cid == cid && u.price == first {
                return Some(());
            }
        }
        None
    });
    assert!(heard.is_some(), "the strategy heard the order unchanged");
    let counted = wait_for(Duration::from_secs(10), || {
        r.refresh();
        (r.last.counters.refused > refused).then_some(())
    });
    assert!(counted.is_some(), "refused: {:?}", r.last.counters);
    assert_eq!(r.last.counters.amends_sent, 0, "{:?}", r.last.counters);
    let venue = r.sim.state()["accounts"][0]["orders"].clone();
    let venue = venue.as_array().unwrap();
    assert_eq!(venue.len(), 1, "{venue:?}");
    assert_eq!(venue[0]["status"], "NEW");
    assert_eq!(
        Price::parse(venue[0]["price"].as_str().unwrap()).unwrap(),
        first
    );
    r.stop();
}
