//! The order gateway on Coinbase Advanced Trade against the simulator's Coinbase private
//! front end: orders, cancels and queries over REST with a JWT per request (minted on the
//! REST worker), fills and order changes from the `user` channel, reconciliation by REST.
//! With and without faults (disconnects, dropped `user` events, 5xx before and after
//! execution, 429): afterwards every order the engine holds has the simulator's state,
//! filled quantity, quote amount and order id, its balances equal the simulator's, and none
//! is left pending past its deadline.
//!
//! The simulator charges fees here (0.4 % maker, 0.6 % taker, Coinbase's entry tier): an
//! account whose key is a CDP key name pays them in the quote currency, as Coinbase does, and
//! every order's fees on the engine's side equal the simulator's, asset and amount.

mod common;

use std::time::Duration;

use common::gateway_rig::{Rig, coinbase_sim_account, rig_for, trade_a_while, trade_until_unknown};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, VenueKind};
use mako::gateway::{GatewayOptions, Refusal};
use mako::types::order::{OrderKind, TimeInForce};
use mako::types::{ClientOrderId, OrderStatus, Price, Qty, Side};

fn rig(options: GatewayOptions) -> Rig {
    let sim = start_sim(&format!(
        "maker_fee = \"0.004\"\ntaker_fee = \"0.006\"\n{}",
        coinbase_sim_account()
    ));
    rig_for(
        VenueKind::Coinbase,
        sim,
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
    )
}

fn faulty() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

/// Every refusal the strategy got so far, by client id (drained from the updates).
fn refusals(r: &Rig, into: &mut std::collections::HashMap<ClientOrderId, Refusal>) {
    while let Some(u) = r.updates.try_recv() {
        if let Some(why) = u.refused {
            into.insert(u.cid, why);
        }
    }
}

/// Waits until each of the `sent` orders is held by the engine or was refused, and returns
/// the refusals; a refused order never reached the simulator.
fn settle(r: &mut Rig, sent: usize) -> std::collections::HashMap<ClientOrderId, Refusal> {
    let mut refused = std::collections::HashMap::new();
    let settled = wait_for(Duration::from_secs(30), || {
        r.refresh();
        refusals(r, &mut refused);
        (r.last.orders.len() + refused.len() >= sent).then_some(())
    });
    assert!(
        settled.is_some(),
        "{} held, {} refused of {sent}",
        r.last.orders.len(),
        refused.len()
    );
    let sim = r.sim_orders();
    for cid in refused.keys() {
        assert!(
            !sim.contains_key(cid.as_str()),
            "{cid:?} refused yet at the venue"
        );
    }
    refused
}

/// The rig's rounds put 5 orders, a cancel and the fills' fee queries on the wire every
/// 50 ms: above the engine-side cap of 30 requests a second, so the orders past it are
/// refused to the strategy as rate-limited (never sent); every order that went agrees with
/// the simulator.
#[test]
fn coinbase_orders_match_the_venue_without_faults() {
    let mut r = rig(GatewayOptions::default());
    trade_a_while(&mut r, 6);
    let refused = settle(&mut r, 30);
    assert!(
        refused.values().all(|w| *w == Refusal::RateLimited),
        "{refused:?}"
    );
    let went = 30 - refused.len();
    let n = r.assert_books_agree(Duration::from_secs(30), went);
    assert_eq!(n, went);
    r.assert_balances_agree(Duration::from_secs(20));
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 6,
        "taker fills: {:?}",
        r.last.orders
    );
    // The first three rounds always fit in the cap (15 orders, 3 cancels, 6 fills' fee
    // queries and the first sweep: 26 requests), and each cancels one resting order.
    assert!(
        count(OrderStatus::Cancelled) >= 3,
        "cancels: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    // Fees were charged, in the quote currency only (the per-order amounts are compared
    // with the simulator's above).
    let fee_in = |asset: &str| -> i64 {
        r.last
            .orders
            .iter()
            .flat_map(|o| o.fees.iter())
            .filter(|f| f.0.as_str() == asset)
            .map(|f| f.1.units())
            .sum()
    };
    assert!(fee_in("USDT") > 0, "quote fees: {:?}", r.last.orders);
    assert_eq!(fee_in("BTC"), 0, "no fee in the base asset");
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn coinbase_orders_match_the_venue_with_disconnects_and_dropped_user_events() {
    let mut r = rig(faulty());
    r.sim.faults().set_drop_user_event_rate(0.4);
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    r.sim.faults().set_drop_user_event_rate(0.0);
    // Orders sent while the user channel is down are refused by the gateway (never sent), as
    // are those past the request cap.
    let refused = settle(&mut r, 40);
    let went = 40 - refused.len();
    let n = r.assert_books_agree(Duration::from_secs(40), went);
    assert_eq!(n, went);
    assert!(n >= 10, "orders compared: {n}");
    r.assert_balances_agree(Duration::from_secs(20));
    assert!(
        r.last.counters.queries_sent > 0,
        "lost events were chased with REST queries"
    );
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    r.assert_nothing_overdue();
    r.stop();
}

#[test]
fn coinbase_orders_match_the_venue_with_5xx_and_rate_limits() {
    let mut r = rig(faulty());
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    // 5xx before and after the order was executed, and 429s: outcomes unknown, queried.
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
    // A cancel whose answer was a 5xx or a 429 just before the faults stopped may still be
    // waiting for its resend (after the 429's wait, or at the order's deadline): nothing may
    // stay overdue, which is a condition to wait for, not a state at one instant.
    let settled = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.overdue == 0).then_some(())
    });
    assert!(settled.is_some(), "overdue orders: {:?}", r.last.orders);
    r.stop();
}

/// The seed's bug: an order filled on Coinbase while the `user` event that said so was lost
/// stayed "pending" in the bot's database for good. Here every `user` event is dropped while
/// a marketable order fills; the gateway still learns the fill (by REST) and the order ends
/// filled, as the simulator has it.
#[test]
fn an_order_filled_while_its_user_event_was_lost_never_stays_pending() {
    let mut r = rig(faulty());
    let (_, ask) = r.book();
    r.sim.faults().set_drop_user_event_rate(1.0);
    let tick = Price::parse("0.01").unwrap();
    let cid = r.send(
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::from_units(ask.units() + 10 * tick.units()),
        "0.001",
    );
    let filled = wait_for(Duration::from_secs(20), || {
        r.refresh();
        r.last
            .orders
            .iter()
            .find(|o| o.cid == cid && o.status == OrderStatus::Filled)
            .map(|o| o.filled_qty)
    });
    let sim = r.sim_orders();
    assert_eq!(sim[cid.as_str()]["status"], "FILLED");
    let executed = Qty::parse(sim[cid.as_str()]["executedQty"].as_str().unwrap()).unwrap();
    assert_eq!(
        filled,
        Some(executed),
        "the engine saw the fill without its user event: {:?}",
        r.last.orders
    );
    r.sim.faults().set_drop_user_event_rate(0.0);
    r.assert_books_agree(Duration::from_secs(20), 1);
    r.assert_nothing_overdue();
    r.stop();
}

/// A gap in the `user` channel's `sequence_num` starts a reconciliation at once: with order
/// deadlines and sweeps a minute away, an order whose fill event was lost is learned filled
/// as soon as the next `user` message shows the numbers it skipped.
#[test]
fn a_gap_in_the_user_sequence_reconciles_at_once() {
    let mut r = rig(GatewayOptions {
        ack_deadline: Duration::from_secs(60),
        sweep_interval: Duration::from_secs(120),
        ..Default::default()
    });
    let (bid, ask) = r.book();
    let tick = Price::parse("0.01").unwrap();
    r.sim.faults().set_drop_user_event_rate(1.0);
    let cid = r.send(
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::from_units(ask.units() + 10 * tick.units()),
        "0.001",
    );
    let on_sim = wait_for(Duration::from_secs(10), || {
        (r.sim_orders().get(cid.as_str())?["status"] == "FILLED").then_some(())
    });
    assert!(on_sim.is_some(), "the simulator filled the order");
    // Acknowledged by the create answer; its fill was in the events that were lost.
    let acked = wait_for(Duration::from_secs(10), || {
        r.refresh();
        r.last
            .orders
            .iter()
            .find(|o| o.cid == cid)
            .map(|o| o.status)
            .filter(|s| *s != OrderStatus::Sent)
    });
    assert_eq!(acked, Some(OrderStatus::Acked), "{:?}", r.last.orders);
    assert_eq!(r.last.counters.stream_gaps, 0);
    r.sim.faults().set_drop_user_event_rate(0.0);
    // The next user message (a resting order's) comes after the skipped numbers.
    r.send(
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::from_units(bid.units() - 300 * tick.units()),
        "0.001",
    );
    let filled = wait_for(Duration::from_secs(15), || {
        r.refresh();
        r.last
            .orders
            .iter()
            .any(|o| o.cid == cid && o.status == OrderStatus::Filled)
            .then_some(())
    });
    assert!(filled.is_some(), "not reconciled: {:?}", r.last);
    assert!(r.last.counters.stream_gaps >= 1, "{:?}", r.last.counters);
    r.assert_books_agree(Duration::from_secs(10), 2);
    r.stop();
}

/// The rate-limited refusals the strategy got so far, by client id (drained from the
/// updates); a refusal for any other reason fails the test.
fn rate_limited(r: &Rig, into: &mut std::collections::HashSet<ClientOrderId>) {
    while let Some(u) = r.updates.try_recv() {
        match u.refused {
            Some(Refusal::RateLimited) => {
                into.insert(u.cid);
            }
            Some(other) => panic!("{:?} refused for another reason: {other:?}", u.cid),
            None => {}
        }
    }
}

/// The engine-side cap of 30 private requests per second (`venue::coinbase::rest`): a burst
/// within it goes whole and at once; a burst above it never puts more than 30 requests in one
/// of the simulator's seconds (the simulator counts them per key per second, as it reports
/// in `x-ratelimit-*`), the orders past the cap are refused to the strategy as rate-limited
/// and never reach the venue, and every order that went, and its cancel (sent again when the
/// window was full), ends as the simulator has it.
#[test]
fn a_burst_above_the_request_cap_never_puts_more_than_the_cap_on_the_wire() {
    use std::collections::HashSet;
    let mut r = rig(faulty());
    let (bid, _) = r.book();
    let tick = Price::parse("0.01").unwrap();
    let resting = |k: i64| Price::from_units(bid.units() - (100 + k) * tick.units());
    let mut refused = HashSet::new();
    // Within the cap: 20 orders at once, none refused.
    let first: Vec<_> = (0..20)
        .map(|k| {
            r.send(
                Side::Buy,
                OrderKind::Limit,
                TimeInForce::Gtc,
                resting(k),
                "0.001",
            )
        })
        .collect();
    let acked = wait_for(Duration::from_secs(20), || {
        r.refresh();
        rate_limited(&r, &mut refused);
        let done = first.iter().all(|c| {
            r.last
                .orders
                .iter()
                .any(|o| o.cid == *c && o.status == OrderStatus::Acked)
        });
        done.then_some(())
    });
    assert!(
        acked.is_some(),
        "the first burst is acknowledged: {:?}",
        r.last.orders
    );
    assert!(
        refused.is_empty(),
        "a burst within the cap goes whole: {refused:?}"
    );
    // Above the cap: 60 orders at once.
    let second: Vec<_> = (0..60)
        .map(|k| {
            r.send(
                Side::Buy,
                OrderKind::Limit,
                TimeInForce::Gtc,
                resting(20 + k),
                "0.001",
            )
        })
        .collect();
    // Each order of the second burst is either held by the engine past Sent or refused.
    let settled = wait_for(Duration::from_secs(20), || {
        r.refresh();
        rate_limited(&r, &mut refused);
        second
            .iter()
            .all(|c| {
                refused.contains(c)
                    || r.last
                        .orders
                        .iter()
                        .any(|o| o.cid == *c && o.status != OrderStatus::Sent)
            })
            .then_some(())
    });
    assert!(
        settled.is_some(),
        "the second burst settles: {:?}",
        r.last.orders
    );
    assert!(
        refused.len() >= 30,
        "60 orders in one burst: at least 30 refused, {} were",
        refused.len()
    );
    assert!(refused.iter().all(|c| second.contains(c)));
    let sim = r.sim_orders();
    for c in &refused {
        assert!(
            !sim.contains_key(c.as_str()),
            "{c:?} was refused yet reached the venue"
        );
        assert!(!r.last.orders.iter().any(|o| o.cid == *c));
    }
    // Cancel every order that went, at once: past the cap, cancels wait for their deadline.
    let went: Vec<_> = first
        .iter()
        .chain(&second)
        .filter(|c| !refused.contains(c))
        .copied()
        .collect();
    for c in &went {
        r.cancel(*c);
    }
    let cancelled = wait_for(Duration::from_secs(60), || {
        r.refresh();
        went.iter()
            .all(|c| {
                r.last
                    .orders
                    .iter()
                    .any(|o| o.cid == *c && o.status == OrderStatus::Cancelled)
            })
            .then_some(())
    });
    assert!(
        cancelled.is_some(),
        "every order cancelled: {:?}",
        r.last.orders
    );
    let n = r.assert_books_agree(Duration::from_secs(20), went.len());
    assert_eq!(n, went.len());
    let peak = r
        .sim
        .with_exchange(|ex| ex.requests_per_s.values().map(|w| w.2).max());
    let peak = peak.expect("the simulator counted the key's requests");
    assert!(
        peak <= mako::venue::coinbase::rest::PRIVATE_REQUESTS_PER_S,
        "{peak} requests in one second reached the simulator"
    );
    r.assert_nothing_overdue();
    r.stop();
}

/// The Coinbase demo (`config/signal-coinbase-demo.toml`) on OS-chosen ports and a temporary
/// data directory, with `edit` applied to its text.
fn demo_config(
    tag: &str,
    edit: impl Fn(String) -> String,
) -> (mako::config::Config, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("mako-cb-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/signal-coinbase-demo.toml"
    ))
    .unwrap()
    .replace("127.0.0.1:19421", "127.0.0.1:0")
    .replace("port = 19421", "port = 0")
    .replace("bind = \"127.0.0.1:8792\"", "bind = \"127.0.0.1:0\"")
    .replace(
        "data_dir = \"data/signal-coinbase-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let text = edit(text);
    let config = mako::config::parse(&text, std::path::Path::new("signal-coinbase-demo.toml"))
        .expect("the edited demo is a valid config");
    (config, dir)
}

/// The products check at start, through the engine's own wiring (`engine/venues.rs`): the
/// gateway fetches the simulator's `/api/v3/brokerage/products` before it runs, and an
/// instrument whose `tick_size` is not a multiple of the product's `price_increment`, or a
/// product the venue does not list, fails `Engine::build` with an error naming the field and
/// both values; the demo as it is builds and runs (its gateway reads the venue's balances).
#[test]
fn the_products_check_runs_when_the_engine_builds() {
    use mako::engine::Engine;
    use mako::runtime::{Clock, Shutdown};
    // SOL-USD ticks by 0.01 on the simulated venue (its SOLUSD symbol).
    let cases = [
        (
            "tick",
            "symbol = \"SOL-USD\"\nbase = \"SOL\"\nquote = \"USD\"\ntick_size = \"0.01\"",
            "symbol = \"SOL-USD\"\nbase = \"SOL\"\nquote = \"USD\"\ntick_size = \"0.005\"",
            "SOL-USD: tick_size = 0.005 does not fit the venue's price_increment = 0.01",
        ),
        (
            // The instrument and the strategy trading it.
            "unlisted",
            "\"ADA-USD\"",
            "\"XRP-USD\"",
            "XRP-USD: the venue lists no such product",
        ),
    ];
    for (tag, from, to, want) in cases {
        let (config, dir) = demo_config(tag, |t| {
            assert!(t.contains(from), "the demo has {from:?}");
            t.replace(from, to)
        });
        let e = match Engine::build(config, Clock::live(), Shutdown::new()) {
            Ok(_) => panic!("{tag}: the engine built"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("the products check at start"), "{tag}: {e}");
        assert!(e.contains(want), "{tag}: {e}");
        std::fs::remove_dir_all(&dir).ok();
    }
    let (config, dir) = demo_config("good", |t| t);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("the demo builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    common::run_until(
        engine,
        shutdown,
        "the Coinbase gateway's balances",
        Duration::from_secs(60),
        |v| {
            v["venues"][0]["balances"]
                .as_array()
                .is_some_and(|b| b.iter().any(|b| b["asset"] == "USD"))
        },
    );
    std::fs::remove_dir_all(&dir).ok();
}
