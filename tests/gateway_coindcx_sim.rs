//! The order gateway on CoinDCX futures (`B-BTC_USDT`, a linear perpetual) against the
//! simulator's CoinDCX private front end: orders over signed REST, updates on the Socket.IO
//! private channel `coindcx`, written once with the other venues' gateways. Orders are
//! placed, filled and cancelled with and without faults (dropped answers, dropped pushes, a
//! Socket.IO disconnect and reconnect, 5xx before and after execution, 429s). Afterwards every
//! order the engine holds agrees with the simulator's own record, found by venue id (CoinDCX
//! takes no client order id): status, filled quantity, quote amount (to the precision of
//! CoinDCX's `avg_price`, 10^-8 per unit filled: the venue reports no cumulative quote), fees;
//! every order of the simulator is known to the engine; the USDT balance (free, and locked =
//! the margin of orders and the position) equals the simulator's; the engine's fills netted
//! equal the simulator's position; and nothing is overdue.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::gateway_rig::{Rig, instrument, trade_a_while};
use common::{start_sim, wait_for};
use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::gateway::{CidMinter, Gateway, GatewayOptions, GatewaySnapshot, GatewaySpec};
use mako::net::Connector;
use mako::risk::{KillSwitch, RiskEngine};
use mako::runtime::{self, Clock, FullPolicy, HostSpec, IdlePolicy, Shutdown, bounded};
use mako::sim::coindcx_private::order_uuid;
use mako::sim::{DOC_API_KEY, DOC_SECRET, SimHandle};
use mako::types::{InstrumentId, Notional, OrderStatus, Price, Qty, Side, StrategyId, UnixNanos};
use mako::venue::coindcx::ids::SharedIds;
use mako::venue::coindcx::rest::CoindcxRest;
use mako::venue::coindcx::session::CoindcxSession;
use mako::venue::coindcx::sign::CoindcxSigner;
use serde_json::Value;

/// The simulator's BTCUSDT as a linear perpetual at 10× (CoinDCX's `B-BTC_USDT`).
const LINEAR: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

const RUN_START_MS: u64 = 1_700_000_000_123;

fn rig(options: GatewayOptions) -> Rig {
    let sim = start_sim(LINEAR);
    let mut inst = instrument();
    inst.symbol = "B-BTC_USDT".into();
    let venue = VenueConfig {
        id: mako::types::VenueId(0),
        name: "coindcx-futures".into(),
        kind: VenueKind::CoindcxFutures,
        ws_url: sim.coindcx_ws_url(),
        rest_url: sim.rest_url(),
        ws_api_url: None,
        order_transport: OrderTransport::Rest,
        streams: vec![StreamKind::BookTicker],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: Some(sim.coindcx_private_ws_url()),
        demo_trading: false,
        fills_poll: None,
        book_stale_after: None,
    };
    let (intents_tx, intents_rx) = bounded("intents", 1024, FullPolicy::Backpressure);
    let (updates_tx, updates_rx) = bounded("updates", 4096, FullPolicy::Backpressure);
    let (snap_tx, snap_rx) = bounded("snapshots", 4, FullPolicy::DropNewest);
    let kill = KillSwitch::default();
    let risk = RiskEngine::new(
        RiskLimits::default(),
        &[(RiskLimits::default(), InstrumentId(0))],
        1,
        kill.clone(),
        UnixNanos(0),
    );
    let spec = GatewaySpec {
        venue,
        instruments: vec![inst],
        api_key: Secret::new(DOC_API_KEY),
        api_secret: Secret::new(DOC_SECRET),
        passphrase: None,
        connector: Connector::with_public_roots(Duration::from_secs(5)).unwrap(),
        intents: intents_rx,
        updates: vec![Some(updates_tx)],
        risk,
        mid: Box::new(|_| None),
        snapshots: Some(snap_tx),
        run_start_ms: RUN_START_MS,
        options,
        persist: None,
        recovered: Vec::new(),
    };
    let ids = SharedIds::default();
    let signer = CoindcxSigner::new(&Secret::new(DOC_SECRET));
    let session = CoindcxSession::new(DOC_API_KEY, signer.clone(), ids.clone());
    let rest = CoindcxRest::new(DOC_API_KEY, signer, "USDT", ids);
    let gw = Gateway::new(spec, session, &sim.coindcx_private_ws_url(), Some(rest)).unwrap();
    let shutdown = Shutdown::new();
    let host = runtime::host::spawn(
        HostSpec {
            name: "gateway",
            core: None,
            idle: IdlePolicy::Backoff,
            low_priority: false,
            actors: vec![Box::new(gw)],
            stats: Default::default(),
        },
        Clock::live(),
        shutdown.clone(),
    )
    .unwrap();
    let mut r = Rig {
        sim,
        intents: intents_tx,
        updates: updates_rx,
        snapshots: snap_rx,
        shutdown,
        host: Some(host),
        minter: CidMinter::new(RUN_START_MS, StrategyId(0)),
        last: GatewaySnapshot::default(),
        kill,
        sides: HashMap::new(),
    };
    let up = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.link_up && r.last.user_stream).then_some(())
    });
    assert!(
        up.is_some(),
        "gateway connected and joined the private channel"
    );
    r
}

/// The simulator's orders of account 0 by venue id (as CoinDCX renders it), each with the
/// fees of its fills.
fn sim_orders(sim: &SimHandle) -> HashMap<String, Value> {
    let state = sim.state();
    let mut fees: HashMap<u64, i64> = HashMap::new();
    for f in state["fills"].as_array().unwrap() {
        if f["account"] == 0 {
            assert_eq!(f["commissionAsset"], "USDT", "perpetual fees are in USDT");
            *fees.entry(f["orderId"].as_u64().unwrap()).or_default() +=
                Qty::parse(f["commission"].as_str().unwrap())
                    .unwrap()
                    .units();
        }
    }
    state["accounts"][0]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let id = o["orderId"].as_u64().unwrap();
            let mut o = o.clone();
            o["fee"] = serde_json::json!(fees.get(&id).copied().unwrap_or(0));
            (order_uuid(id), o)
        })
        .collect()
}

fn same_status(engine: OrderStatus, sim: &str) -> bool {
    match engine {
        OrderStatus::Acked => sim == "NEW",
        OrderStatus::PartiallyFilled => sim == "PARTIALLY_FILLED",
        OrderStatus::Filled => sim == "FILLED",
        // CoinDCX has no expired status: an IOC's rest is `cancelled` there.
        OrderStatus::Cancelled => matches!(sim, "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH"),
        _ => false,
    }
}

fn differences(engine: &GatewaySnapshot, sim: &HashMap<String, Value>) -> Vec<String> {
    let mut d = Vec::new();
    let mut seen = Vec::new();
    for o in &engine.orders {
        let cid = o.cid.as_str();
        let Some(vid) = o.venue_order_id else {
            if o.status != OrderStatus::Rejected {
                d.push(format!("{cid}: engine {:?} without a venue id", o.status));
            }
            continue;
        };
        let Some(s) = sim.get(vid.as_str()) else {
            d.push(format!("{cid}: venue id {vid} unknown to the simulator"));
            continue;
        };
        seen.push(vid.as_str().to_owned());
        let status = s["status"].as_str().unwrap();
        if !same_status(o.status, status) {
            d.push(format!(
                "{cid}: status engine {:?} vs simulator {status}",
                o.status
            ));
        }
        let exec = Qty::parse(s["executedQty"].as_str().unwrap()).unwrap();
        if o.filled_qty != exec {
            d.push(format!(
                "{cid}: filled engine {} vs simulator {exec}",
                o.filled_qty
            ));
        }
        let quote =
            Notional::from_price(Price::parse(s["cummulativeQuoteQty"].as_str().unwrap()).unwrap());
        // `avg_price` is cut to 10^-8: the product differs by at most 10^-8 per unit filled
        // (and the simulator's own quote is floored per fill).
        let slack = i128::from(exec.units()) + 10 * 100_000_000;
        if (o.filled_quote.0 - quote.0).abs() > slack {
            d.push(format!(
                "{cid}: quote engine {:?} vs simulator {quote:?}",
                o.filled_quote
            ));
        }
        let fee = o
            .fees
            .iter()
            .filter(|f| f.0.as_str() == "USDT")
            .map(|f| f.1.units())
            .sum::<i64>();
        if fee != s["fee"].as_i64().unwrap() {
            d.push(format!("{cid}: fee engine {fee} vs simulator {}", s["fee"]));
        }
    }
    for id in sim.keys() {
        if !seen.contains(id) {
            d.push(format!("{id}: on the simulator, unknown to the engine"));
        }
    }
    d
}

fn assert_books_agree(r: &mut Rig, limit: Duration, at_least: usize) -> usize {
    let mut diffs = Vec::new();
    let ok = wait_for(limit, || {
        r.refresh();
        diffs = differences(&r.last, &sim_orders(&r.sim));
        if r.last.orders.len() < at_least {
            diffs.push(format!("engine holds {} orders", r.last.orders.len()));
        }
        diffs.is_empty().then_some(r.last.orders.len())
    });
    ok.unwrap_or_else(|| panic!("engine and simulator disagree:\n{}", diffs.join("\n")))
}

/// The USDT balance (free, and locked = the margin held) equals the simulator's.
fn assert_balance_agrees(r: &mut Rig, limit: Duration) {
    let mut last = String::new();
    let ok = wait_for(limit, || {
        r.refresh();
        let state = r.sim.state();
        let q = |k: &str| Qty::parse(state["accounts"][0]["balances"]["USDT"][k].as_str()?).ok();
        let (free, locked) = (q("free")?, q("locked")?);
        let mine = r.last.balances.iter().find(|b| b.asset.as_str() == "USDT");
        last = format!("engine {mine:?} vs simulator free {free} locked {locked}");
        mine.filter(|b| (b.free, b.locked) == (free, locked))
            .map(|_| ())
    });
    assert!(ok.is_some(), "USDT disagrees: {last}");
}

/// The engine's fills netted equal the simulator's position.
fn assert_position_agrees(r: &Rig) {
    let mut units = 0i64;
    for o in &r.last.orders {
        units += match r.sides.get(&o.cid) {
            Some(Side::Buy) => o.filled_qty.units(),
            Some(Side::Sell) => -o.filled_qty.units(),
            None => 0,
        };
    }
    let state = r.sim.state();
    let pos = &state["accounts"][0]["positions"][0];
    let venue = Qty::parse(pos["size"].as_str().unwrap()).unwrap();
    assert_eq!(Qty::from_units(units), venue, "position: {pos}");
}

/// No order waits past its deadline (the last chases settle first).
fn assert_nothing_overdue(r: &mut Rig) {
    let ok = wait_for(Duration::from_secs(10), || {
        r.refresh();
        (r.last.overdue == 0).then_some(())
    });
    let open: Vec<_> = r
        .last
        .orders
        .iter()
        .filter(|o| {
            !matches!(
                o.status,
                OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Rejected
            )
        })
        .collect();
    assert!(ok.is_some(), "overdue {}: {open:?}", r.last.overdue);
}

fn fast() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}

#[test]
fn coindcx_orders_positions_and_margin_match_the_venue_without_faults() {
    let mut r = rig(GatewayOptions::default());
    trade_a_while(&mut r, 6);
    // The session keeps CoinDCX's 16 requests per second as its order limit: orders beyond
    // it are refused before they leave, so not all 30 reach the venue.
    let n = assert_books_agree(&mut r, Duration::from_secs(30), 16);
    assert!(n >= 16, "orders compared: {n}");
    assert_balance_agrees(&mut r, Duration::from_secs(20));
    assert_position_agrees(&r);
    let count = |s: OrderStatus| r.last.orders.iter().filter(|o| o.status == s).count();
    assert!(
        count(OrderStatus::Filled) >= 4,
        "taker fills: {:?}",
        r.last.orders
    );
    assert!(count(OrderStatus::Cancelled) >= 3);
    assert!(
        count(OrderStatus::Rejected) >= 1,
        "a crossing post-only order refused (the book may move away from the others)"
    );
    assert!(count(OrderStatus::Acked) >= 1, "resting orders stay open");
    assert!(
        r.last
            .orders
            .iter()
            .any(|o| !o.fees.iter().all(|f| f.1.is_zero())),
        "fees learned"
    );
    assert_eq!(r.last.overdue, 0);
    r.stop();
}

#[test]
fn coindcx_orders_match_with_dropped_answers_pushes_and_a_socketio_reconnect() {
    let mut r = rig(fast());
    let set = |r: &Rig, ack: f64, user: f64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
    };
    set(&r, 0.3, 0.4);
    trade_a_while(&mut r, 4);
    // The private channel's connection drops: the gateway reconnects, joins again and
    // reconciles.
    r.sim.disconnect_api();
    trade_a_while(&mut r, 4);
    set(&r, 0.0, 0.0);
    let n = assert_books_agree(&mut r, Duration::from_secs(40), 16);
    assert!(n >= 16, "orders compared: {n}");
    assert_balance_agrees(&mut r, Duration::from_secs(20));
    assert_position_agrees(&r);
    assert!(r.last.counters.queries_sent > 0, "lost answers were chased");
    assert!(r.last.counters.disconnects >= 1, "{:?}", r.last.counters);
    assert!(
        r.last.counters.connects >= 2,
        "reconnected: {:?}",
        r.last.counters
    );
    assert_nothing_overdue(&mut r);
    r.stop();
}

#[test]
fn coindcx_orders_match_with_5xx_before_and_after_execution_and_429s() {
    let mut r = rig(fast());
    trade_a_while(&mut r, 2);
    let set = |r: &Rig, before: f64, after: f64, limited: f64| {
        let f = r.sim.faults();
        f.set_http_5xx_rate(before);
        f.set_http_5xx_after_rate(after);
        f.set_http_429_rate(limited);
    };
    set(&r, 0.15, 0.2, 0.1);
    common::gateway_rig::trade_until_unknown(&mut r);
    trade_a_while(&mut r, 2);
    set(&r, 0.0, 0.0, 0.0);
    let n = assert_books_agree(&mut r, Duration::from_secs(60), 10);
    assert!(n >= 10, "orders compared: {n}");
    assert_balance_agrees(&mut r, Duration::from_secs(20));
    assert_position_agrees(&r);
    let rest = r.last.rest.expect("REST figures");
    assert!(rest.unknown > 0, "5xx answers happened: {rest:?}");
    assert!(
        r.last.counters.queries_sent > 0,
        "unknown outcomes were queried"
    );
    assert_nothing_overdue(&mut r);
    r.stop();
}
