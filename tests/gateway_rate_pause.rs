//! A gateway whose orders go over Binance's WebSocket API, flooded past the venue's order
//! limit: after the venue's first rate-limit answer it holds new orders back (refused
//! `rate_limited`, the strategy told) until the pause has passed, instead of sending on until
//! the venue bans the key (each refused request still costs weight, and the weight limit's
//! repeated 429s end in a 418). The simulator allows 5 orders per 10 s.

mod common;
mod sim_support;

use std::time::Duration;

use common::gateway_rig::rig_with;
use common::{start_sim, wait_for};
use mako::config::OrderTransport;
use mako::gateway::{GatewayOptions, Refusal};
use mako::types::{OrderKind, Price, Side, TimeInForce};

#[test]
fn a_flood_past_the_order_limit_is_held_back_and_never_gets_the_key_banned() {
    let sim = start_sim("[limits]\norders_per_10s = 5\n");
    let mut r = rig_with(
        sim,
        OrderTransport::WsApi,
        GatewayOptions::default(),
        1_700_000_000_777,
        None,
    );
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap().units();
    let mut sent = 0usize;
    let mut refused_here = 0usize;
    let mut answered = 0usize;
    // Rounds of 8 resting bids, each round sent once the last one's answers are in.
    for round in 0..3 {
        let cids: Vec<_> = (0..8)
            .map(|k| {
                r.send(
                    Side::Buy,
                    OrderKind::LimitMaker,
                    TimeInForce::Gtc,
                    Price::from_units(bid.units() - (200 + 8 * round + k) * tick),
                    "0.0001",
                )
            })
            .collect();
        sent += cids.len();
        let mut open: std::collections::HashSet<_> = cids.into_iter().collect();
        let done = wait_for(Duration::from_secs(30), || {
            while let Some(u) = r.updates.try_recv() {
                if open.contains(&u.cid) && u.status != mako::types::OrderStatus::Sent {
                    open.remove(&u.cid);
                    answered += 1;
                    if u.refused == Some(Refusal::RateLimited) {
                        refused_here += 1;
                    }
                }
            }
            open.is_empty().then_some(())
        });
        assert!(done.is_some(), "round {round}: {} unanswered", open.len());
    }
    r.refresh();
    assert_eq!(answered, sent);
    assert!(
        refused_here > 0,
        "orders held back by the gateway after the venue's 429s: {:?}",
        r.last.counters
    );
    // The gateway's published counters show the venue's answers it paused for.
    let seen = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.counters.rate_limited > 0).then_some(())
    });
    assert!(seen.is_some(), "{:?}", r.last.counters);
    assert!(
        !r.kill.is_tripped(),
        "the venue banned the key: {:?}",
        r.last.counters
    );
    r.stop();
}
