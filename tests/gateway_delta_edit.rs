//! Delta's edit (`PUT /v2/orders`) as the gateway's in-place amend, against the simulator's
//! Delta front end on its perpetual account: a resting BTCUSD buy amended to a new price and
//! a larger size keeps its client id and its venue id; the strategy hears the new terms; the
//! simulator's own record of the order (and its book level) shows the new price and size;
//! the order is then filled at its new size by crossing it, and an edit of an order that has
//! ended is refused (`open_order_not_found`), the order staying as it was.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_perp};
use common::{start_sim, wait_for};
use mako::config::VenueKind;
use mako::gateway::{GatewayOptions, OrderIntent};
use mako::types::{OrderKind, OrderStatus, Price, Qty, Side, StrategyId, TimeInForce};
use serde_json::Value;

const DELTA_SIM: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\ntick_size = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\nmax_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000.0\"\nlevels = 200\nkind = \"linear-perpetual\"\nleverage = \"10\"\ncontract_value = \"0.001\"\n\n[[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", USD = \"5000000\" }\n";

fn options() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

fn book(r: &Rig) -> (Price, Price) {
    let url = format!(
        "{}/api/v3/ticker/bookTicker?symbol=BTCUSD",
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

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}

/// The simulator's quantity resting at `price` on the bid side of BTCUSD (units at 10^-8).
fn bid_level(r: &Rig, price: Price) -> i64 {
    let state = r.sim.state();
    let b = state["books"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["symbol"] == "BTCUSD")
        .unwrap()
        .clone();
    b["bids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| px(l[0].as_str().unwrap()) == price)
        .map_or(0, |l| Qty::parse(l[1].as_str().unwrap()).unwrap().units())
}

#[test]
fn an_edited_order_keeps_its_ids_and_the_venue_holds_the_new_terms() {
    let mut r = rig_perp(
        VenueKind::DeltaIndia,
        start_sim(DELTA_SIM),
        options(),
        "10",
        true,
    );
    // A buy 10 ticks under the bid: it rests.
    let (bid, _) = book(&r);
    let first = Price::from_units(bid.units() - 5 * 100_000_000);
    let cid = r.send(Side::Buy, OrderKind::Limit, TimeInForce::Gtc, first, "2");
    let venue_id = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.status == OrderStatus::Acked).then_some(o.venue_order_id)?
    })
    .expect("the order rests on the venue");
    let sim = r.sim_orders();
    let before = &sim[cid.as_str()];
    assert_eq!(px(before["price"].as_str().unwrap()), first);
    let sim_id = before["orderId"].clone();
    let level_before = bid_level(&r, first);
    assert!(level_before >= 2 * 100_000_000, "{level_before}");

    // Amend to 3 ticks lower and 3 contracts: in place, same ids.
    let second = Price::from_units(first.units() - 150_000_000);
    r.intents
        .send(OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price: second,
            qty: Qty::parse("3").unwrap(),
        })
        .unwrap();
    let heard = wait_for(Duration::from_secs(20), || {
        while let Some(u) = r.updates.try_recv() {
            if u.cid == cid && u.price == second && u.qty == Qty::parse("3").unwrap() {
                return Some(u);
            }
        }
        None
    });
    assert!(heard.is_some(), "the strategy heard the new terms");
    let agreed = wait_for(Duration::from_secs(20), || {
        let o = r.sim_orders().remove(cid.as_str())?;
        (px(o["price"].as_str()?) == second && o["origQty"] == "3.00000000").then_some(o)
    })
    .expect("the simulator holds the new price and size");
    assert_eq!(agreed["orderId"], sim_id, "the venue id is kept");
    assert_eq!(agreed["status"], "NEW");
    // The gateway's published view catches up with the amend it applied.
    let o = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.qty == Qty::parse("3").unwrap()).then(|| o.clone())
    })
    .expect("the engine's order holds the new terms");
    assert_eq!(
        o.venue_order_id,
        Some(venue_id),
        "the engine keeps the venue id"
    );
    assert_eq!(r.last.counters.amends_sent, 1, "{:?}", r.last.counters);
    // The book's new level holds our 3 contracts. (The simulated market moves its own
    // liquidity meanwhile, so the levels' other quantities are not compared.)
    assert!(bid_level(&r, second) >= 3 * 100_000_000);

    // Cancel it, then edit it again: refused, and the order stays cancelled at its terms.
    r.cancel(cid);
    wait_for(Duration::from_secs(20), || {
        r.refresh();
        let o = r.last.orders.iter().find(|o| o.cid == cid)?;
        (o.status == OrderStatus::Cancelled).then_some(())
    })
    .expect("cancelled");
    r.intents
        .send(OrderIntent::Amend {
            strategy: StrategyId(0),
            cid,
            price: first,
            qty: Qty::parse("4").unwrap(),
        })
        .unwrap();
    // The gateway refuses an amend of a final order itself (nothing is sent).
    let refused = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.counters.refused >= 1).then_some(())
    });
    assert!(refused.is_some(), "{:?}", r.last.counters);
    assert_eq!(r.last.counters.amends_sent, 1);
    let o = r.sim_orders().remove(cid.as_str()).unwrap();
    assert_eq!(o["origQty"], "3.00000000");
    r.assert_nothing_overdue();
    r.stop();
}
