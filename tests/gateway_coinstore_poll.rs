//! The order gateway on Coinstore spot WITHOUT the private WebSocket (`private_ws_url`
//! absent): fills and order changes are learned by polling the match list
//! (`GET /api/trade/match/accountMatches`), open orders and balances over signed REST on the
//! REST worker (`GatewayOptions::fills_poll`), against the simulator with faults (dropped
//! answers, 5xx before and after execution, 429s). Afterwards every order the engine holds
//! has the simulator's state, filled quantity, quote amount, venue id and fees, balances
//! agree, nothing is overdue, the private link was never opened, and the fills the strategy
//! was told of add up to exactly the simulator's filled quantity per order (no fill counted
//! twice though every poll lists the same recent matches again).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::gateway_rig::{Rig, rig_for, trade_a_while, trade_until_unknown};
use common::start_sim;
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::GatewayOptions;
use mako::types::{ClientOrderId, OrderStatus, Qty};

fn polled_rig() -> Rig {
    rig_for(
        VenueKind::CoinstoreSpot,
        start_sim(""),
        OrderTransport::Rest,
        GatewayOptions {
            ack_deadline: Duration::from_millis(300),
            sweep_interval: Duration::from_millis(700),
            fills_poll: Some(Duration::from_millis(200)),
            ..Default::default()
        },
        1_700_000_000_123,
        None,
    )
}

/// Fill quantities the strategy was told of, per order, and how many carried a trade id.
#[derive(Default)]
struct Told {
    qty: HashMap<ClientOrderId, i64>,
    with_trade_id: usize,
}

impl Told {
    fn drain(&mut self, r: &Rig) {
        while let Some(u) = r.updates.try_recv() {
            if let Some(f) = u.fill {
                *self.qty.entry(u.cid).or_default() += f.qty.units();
                if f.trade_id.is_some() {
                    self.with_trade_id += 1;
                }
            }
        }
    }
}

/// Every order's fills as told equal the simulator's executed quantity.
fn told_differences(told: &Told, r: &Rig) -> Vec<String> {
    let sim = r.sim_orders();
    let mut d = Vec::new();
    for o in &r.last.orders {
        let exec = sim
            .get(o.cid.as_str())
            .map(|s| {
                Qty::parse(s["executedQty"].as_str().unwrap())
                    .unwrap()
                    .units()
            })
            .unwrap_or(0);
        let mine = told.qty.get(&o.cid).copied().unwrap_or(0);
        if mine != exec {
            d.push(format!("{}: told {mine} vs simulator {exec}", o.cid));
        }
    }
    d
}

#[test]
fn coinstore_fills_by_polling_match_the_venue_without_the_private_socket() {
    let mut r = polled_rig();
    let mut told = Told::default();
    r.assert_balances_agree(Duration::from_secs(20));
    trade_a_while(&mut r, 4);
    told.drain(&r);
    let set = |r: &Rig, drop: f64, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(drop);
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    set(&r, 0.2, 0.1, 0.15, 0.05);
    trade_a_while(&mut r, 4);
    trade_until_unknown(&mut r);
    told.drain(&r);
    set(&r, 0.0, 0.0, 0.0, 0.0);
    trade_a_while(&mut r, 2);
    let n = r.assert_books_agree(Duration::from_secs(40), 30);
    assert!(n >= 30, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    // Polls keep listing the same matches: what the strategy was told adds up once.
    let mut diffs = Vec::new();
    let agreed = common::wait_for(Duration::from_secs(20), || {
        told.drain(&r);
        r.refresh();
        diffs = told_differences(&told, &r);
        diffs.is_empty().then_some(())
    });
    assert!(
        agreed.is_some(),
        "fills told twice or missed:\n{}",
        diffs.join("\n")
    );
    let filled = r
        .last
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Filled)
        .count();
    assert!(filled >= 6, "taker fills: {:?}", r.last.orders);
    assert!(
        told.with_trade_id >= 6,
        "fills came from the polled match list (with trade ids): {}",
        told.with_trade_id
    );
    let c = &r.last.counters;
    // Polls pause while a 429's wait lasts, so the count is not a multiple of the run time.
    assert!(c.fill_polls >= 3, "polls sent: {c:?}");
    assert_eq!(c.connects, 0, "the private link is never opened: {c:?}");
    assert!(!r.last.link_up);
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    assert_eq!(r.last.overdue, 0);
    r.stop();
}
