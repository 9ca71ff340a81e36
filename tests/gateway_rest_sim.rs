//! The order gateway against the simulator with orders over REST (`order_transport =
//! "rest"`) and the user data stream over the WebSocket API: orders placed, filled and
//! cancelled with faults on (HTTP 5xx and 429, dropped acks, dropped private events,
//! disconnects). Afterwards every order the engine holds has the simulator's state, filled
//! quantity, quote amount, fees and venue id, balances agree, and none is left pending past
//! its deadline. Also: reconciliation stays under the weight limit, and a 418 ban refuses new
//! orders until it ends.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, rig_with, trade_a_while, trade_until_unknown};
use common::{start_sim, wait_for};
use mako::config::OrderTransport;
use mako::gateway::rest::RestOptions;
use mako::gateway::{GatewayOptions, OrderUpdate, Refusal};
use mako::sim::SimHandle;
use mako::types::{OrderKind, OrderStatus, TimeInForce};
use mako::types::{Price, Side};

/// The runs place more than Binance's default 50 orders per 10 s.
const MANY_ORDERS: &str = "[limits]\norders_per_10s = 100000\n";

fn rig(sim_extra: &str, options: GatewayOptions) -> Rig {
    rig_on(start_sim(sim_extra), options, 1_700_000_000_123)
}

/// A gateway with orders over REST for a run that started at `run_start_ms`.
fn rig_on(sim: SimHandle, options: GatewayOptions, run_start_ms: u64) -> Rig {
    rig_with(sim, OrderTransport::Rest, options, run_start_ms, None)
}

impl Rig {
    /// The next update about `cid` the strategy receives.
    fn update_of(&mut self, cid: mako::types::ClientOrderId, final_only: bool) -> OrderUpdate {
        wait_for(Duration::from_secs(20), || {
            while let Some(u) = self.updates.try_recv() {
                if u.cid == cid && (!final_only || u.status.is_final()) {
                    return Some(u);
                }
            }
            None
        })
        .unwrap_or_else(|| panic!("no update about {cid}"))
    }
}

#[test]
fn orders_match_the_venue_over_rest_without_faults() {
    let mut r = rig(MANY_ORDERS, GatewayOptions::default());
    trade_a_while(&mut r, 6);
    let n = r.assert_books_agree(Duration::from_secs(20), 30);
    assert_eq!(n, 30);
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 6,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 6);
    assert!(
        count(OrderStatus::Rejected) >= 1,
        "post-only crossing the book is refused"
    );
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    r.assert_balances_agree(Duration::from_secs(20));
    let rest = r.last.rest.expect("orders went over REST");
    assert!(rest.sent >= 30 + 6, "{rest:?}");
    assert!(rest.weight_used > 0, "the weight header was read: {rest:?}");
    assert_eq!(rest.unknown, 0, "{rest:?}");
    assert!(!rest.banned);
    let mut seen = std::collections::HashSet::new();
    while let Some(u) = r.updates.try_recv() {
        seen.insert(u.cid);
    }
    assert_eq!(seen.len(), 30);
    r.stop();
}

#[test]
fn orders_match_the_venue_over_rest_with_faults() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig(MANY_ORDERS, options);
    // 5xx both before anything is done and after the order or cancel was executed: either
    // way the gateway only learns that the outcome is unknown.
    let set = |r: &Rig, ack: f64, user: f64, delay: u64, http_5xx: f64, http_429: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
        f.set_ack_delay(Duration::from_millis(delay));
        f.set_http_5xx_rate(http_5xx);
        f.set_http_5xx_after_rate(http_5xx);
        f.set_http_429_rate(http_429);
    };
    set(&r, 0.3, 0.4, 20, 0.1, 0.03);
    trade_a_while(&mut r, 6);
    trade_until_unknown(&mut r);
    // A stretch where the venue answers every REST request with 429 (Retry-After 1 s).
    let (bid, _) = r.book();
    r.sim.faults().set_http_429_rate(1.0);
    for k in 1..=3 {
        let below = Price::from_units(bid.units() - 30 * k * Price::parse("0.01").unwrap().units());
        r.send(
            Side::Buy,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            below,
            "0.001",
        );
    }
    std::thread::sleep(Duration::from_millis(100));
    r.sim.faults().set_http_429_rate(0.03);
    r.sim.disconnect_api();
    std::thread::sleep(Duration::from_millis(300));
    trade_a_while(&mut r, 6);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    set(&r, 0.0, 0.0, 0, 0.0, 0.0);
    let n = r.assert_books_agree(Duration::from_secs(40), 10);
    assert!(n >= 10, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    let rest = r.last.rest.expect("orders went over REST");
    assert!(rest.unknown > 0, "5xx and lost answers were seen: {rest:?}");
    // The gateway waited out every 429's Retry-After (1 s) before its next request, as the
    // simulator saw them arrive (the test's own book and state requests left out).
    let gateway: Vec<_> = r
        .sim
        .rest_log()
        .into_iter()
        .filter(|e| e.path != "/api/v3/ticker/bookTicker" && !e.path.starts_with("/sim"))
        .collect();
    let mut waited = 0;
    for w in gateway.windows(2) {
        if w[0].status == 429 {
            let gap = w[1].at.duration_since(w[0].at);
            assert!(
                gap >= Duration::from_millis(990),
                "{} {} came {gap:?} after a 429 to {} {}",
                w[1].method,
                w[1].path,
                w[0].method,
                w[0].path
            );
            waited += 1;
        }
    }
    assert!(waited >= 1, "a 429 was answered and waited out: {waited}");
    assert!(
        r.last.counters.queries_sent > 0,
        "unknown outcomes were chased with queries"
    );
    assert!(r.last.counters.rate_limited > 0, "{:?}", r.last.counters);
    assert!(r.last.counters.disconnects >= 2, "{:?}", r.last.counters);
    // No order is left waiting past its deadline: none still unanswered (sent) and no cancel
    // still pending once the venue answers again.
    let settled = wait_for(Duration::from_secs(20), || {
        r.refresh();
        let waiting = r
            .last
            .orders
            .iter()
            .filter(|o| !o.status.is_final())
            .filter(|o| o.status == OrderStatus::Sent || o.cancel_pending)
            .count();
        (r.last.overdue == 0 && waiting == 0).then_some(())
    });
    assert!(
        settled.is_some(),
        "orders left waiting: {:?}",
        r.last.orders
    );
    r.assert_books_agree(Duration::from_secs(10), n);
    r.stop();
}

#[test]
fn reconciliation_stays_under_the_weight_limit() {
    // The venue allows 300 weight a minute; each sweep costs 26 (open orders 6, account 20)
    // and one is due every 50 ms. The gateway holds sweeps back from 80 % of the limit, so
    // the venue never has to refuse it.
    let options = GatewayOptions {
        sweep_interval: Duration::from_millis(50),
        rest: RestOptions {
            weight_limit: 300,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut r = rig("[limits]\nweight_per_minute = 300\n", options);
    let held = wait_for(Duration::from_secs(30), || {
        r.refresh();
        let rest = r.last.rest?;
        (rest.held > 0 && r.last.counters.sweeps >= 3).then_some(rest)
    });
    let rest = held.expect("sweeps were held back");
    assert!(rest.weight_used <= 300, "{rest:?}");
    // Orders still go while sweeps wait.
    let (bid, _) = r.book();
    let cid = r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::from_units(bid.units() - 100 * Price::parse("0.01").unwrap().units()),
        "0.001",
    );
    let u = r.update_of(cid, false);
    let u = if u.status == OrderStatus::Sent {
        r.update_of(cid, false)
    } else {
        u
    };
    assert_eq!(u.status, OrderStatus::Acked, "{u:?}");
    r.refresh();
    assert_eq!(r.last.counters.rate_limited, 0, "{:?}", r.last.counters);
    assert!(!r.last.rest.unwrap().banned);
    r.stop();
}

#[test]
fn a_418_ban_refuses_new_orders_until_it_ends() {
    // The venue bans an IP at its first request over 100 weight a minute, for 3 s.
    let mut r = rig(
        "[limits]\nweight_per_minute = 100\nbans_after = 0\nban_duration_ms = 3000\n",
        GatewayOptions::default(),
    );
    let (bid, _) = r.book();
    let price = Price::from_units(bid.units() - 100 * Price::parse("0.01").unwrap().units());
    // Something else on this machine's IP spends the weight until the venue bans the IP.
    let info = format!("{}/api/v3/exchangeInfo", r.sim.rest_url());
    let banned = wait_for(Duration::from_secs(20), || {
        let resp = ureq::get(&info)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        (resp.status().as_u16() == 418).then_some(())
    });
    assert!(banned.is_some(), "the simulator banned the IP");
    // The gateway's order meets the ban: refused by the venue, and the gateway learns of it.
    let first = r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        price,
        "0.001",
    );
    let u = r.update_of(first, true);
    assert_eq!(u.status, OrderStatus::Rejected, "{u:?}");
    let learned = wait_for(Duration::from_secs(10), || {
        r.refresh();
        r.last.rest.filter(|s| s.banned).map(|_| ())
    });
    assert!(learned.is_some(), "the gateway knows it is banned");
    // Meanwhile new orders are refused inside the engine, with the reason.
    let second = r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        price,
        "0.001",
    );
    let u = r.update_of(second, true);
    assert_eq!(u.refused, Some(Refusal::VenueBanned), "{u:?}");
    // The ban ends (the venue forgets this minute's weight too); orders go again.
    ureq::post(format!("{}/sim/limits/reset", r.sim.rest_url()))
        .send_empty()
        .unwrap();
    let over = wait_for(Duration::from_secs(30), || {
        r.refresh();
        r.last.rest.filter(|s| !s.banned).map(|_| ())
    });
    assert!(over.is_some(), "the ban ended");
    let third = r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        price,
        "0.001",
    );
    let acked = wait_for(Duration::from_secs(20), || {
        while let Some(u) = r.updates.try_recv() {
            if u.cid == third && u.status == OrderStatus::Acked {
                return Some(());
            }
            assert!(u.cid != third || u.refused.is_none(), "{u:?}");
        }
        None
    });
    assert!(acked.is_some(), "an order after the ban is placed");
    assert!(r.last.counters.rate_limited >= 1);
    r.assert_books_agree(Duration::from_secs(20), 2);
    r.stop();
}
