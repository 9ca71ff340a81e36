//! The order gateway against the simulator, over the real WebSocket API: orders placed,
//! filled and cancelled, with faults on (dropped acks, dropped private events, disconnects,
//! rate limiting). Afterwards every order the engine holds has the simulator's state, filled
//! quantity, quote amount and venue id, and none is left pending past its deadline.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{start_sim, wait_for};
use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::gateway::{
    CidMinter, Gateway, GatewayOptions, GatewaySnapshot, GatewaySpec, NewOrderIntent, OrderIntent,
    OrderKind, OrderStatus, OrderUpdate, TimeInForce,
};
use mako::latency::probe::ClockOffset;
use mako::net::Connector;
use mako::risk::{KillSwitch, RiskEngine};
use mako::runtime::{self, Clock, FullPolicy, HostSpec, IdlePolicy, Rx, Shutdown, Tx, bounded};
use mako::sim::{DOC_API_KEY, DOC_SECRET, SimHandle};
use mako::types::{
    Instrument, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos, VenueId,
};
use serde_json::Value;

struct Rig {
    sim: SimHandle,
    intents: Tx<OrderIntent>,
    updates: Rx<OrderUpdate>,
    snapshots: Rx<GatewaySnapshot>,
    shutdown: Shutdown,
    host: Option<runtime::HostHandle>,
    minter: CidMinter,
    last: GatewaySnapshot,
}

fn instrument() -> Instrument {
    let mut i = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        Price::parse("0.01").unwrap(),
        Qty::parse("0.00001").unwrap(),
    )
    .unwrap();
    i.min_notional = Price::parse("5").unwrap();
    i
}

fn rig(sim_extra: &str, options: GatewayOptions) -> Rig {
    rig_on(start_sim(sim_extra), options, 1_700_000_000_123)
}

/// A gateway for a run that started at `run_start_ms`, on an existing simulator.
fn rig_on(sim: SimHandle, options: GatewayOptions, run_start_ms: u64) -> Rig {
    rig_with_clock(sim, options, run_start_ms, None)
}

/// As `rig_on`, signing with the venue's clock as `offset` measures it.
fn rig_with_clock(
    sim: SimHandle,
    options: GatewayOptions,
    run_start_ms: u64,
    offset: Option<ClockOffset>,
) -> Rig {
    let venue = VenueConfig {
        id: VenueId(0),
        name: "binance".into(),
        kind: VenueKind::BinanceSpot,
        ws_url: sim.ws_url(),
        rest_url: sim.rest_url(),
        ws_api_url: Some(sim.ws_api_url()),
        order_transport: OrderTransport::WsApi,
        streams: vec![StreamKind::BookTicker],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
    };
    let (intents_tx, intents_rx) = bounded("intents", 1024, FullPolicy::Backpressure);
    let (updates_tx, updates_rx) = bounded("updates", 4096, FullPolicy::Backpressure);
    let (snap_tx, snap_rx) = bounded("snapshots", 4, FullPolicy::DropNewest);
    let risk = RiskEngine::new(
        RiskLimits::default(),
        &[(RiskLimits::default(), InstrumentId(0))],
        1,
        KillSwitch::default(),
        UnixNanos(0),
    );
    let spec = GatewaySpec {
        venue,
        instruments: vec![instrument()],
        api_key: Secret::new(DOC_API_KEY),
        api_secret: Secret::new(DOC_SECRET),
        connector: Connector::with_public_roots(Duration::from_secs(5)).unwrap(),
        intents: intents_rx,
        updates: vec![Some(updates_tx)],
        risk,
        mid: Box::new(|_| None),
        snapshots: Some(snap_tx),
        run_start_ms,
        options,
        persist: None,
        recovered: Vec::new(),
    };
    let gw = Gateway::new(spec).unwrap();
    let gw = match offset {
        Some(o) => gw.with_clock_offset(o),
        None => gw,
    };
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
        minter: CidMinter::new(run_start_ms, StrategyId(0)),
        last: GatewaySnapshot::default(),
    };
    let up = wait_for(Duration::from_secs(20), || {
        r.refresh();
        (r.last.link_up && r.last.user_stream).then_some(())
    });
    assert!(
        up.is_some(),
        "gateway connected and subscribed to the user stream"
    );
    r
}

impl Rig {
    fn refresh(&mut self) {
        while let Some(s) = self.snapshots.try_recv() {
            self.last = s;
        }
    }

    fn book(&self) -> (Price, Price) {
        let v: Value = serde_json::from_str(
            &ureq::get(format!(
                "{}/api/v3/ticker/bookTicker?symbol=BTCUSDT",
                self.sim.rest_url()
            ))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
        )
        .unwrap();
        let p = |k: &str| Price::parse(v[k].as_str().unwrap()).unwrap();
        (p("bidPrice"), p("askPrice"))
    }

    fn send(
        &mut self,
        side: Side,
        kind: OrderKind,
        tif: TimeInForce,
        price: Price,
        qty: &str,
    ) -> mako::types::ClientOrderId {
        let cid = self.minter.mint();
        let i = NewOrderIntent {
            cid,
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            side,
            kind,
            tif,
            price,
            qty: Qty::parse(qty).unwrap(),
            tick_at: UnixNanos(0),
        };
        self.intents.send(OrderIntent::New(i)).unwrap();
        cid
    }

    fn cancel(&mut self, cid: mako::types::ClientOrderId) {
        self.intents
            .send(OrderIntent::Cancel {
                strategy: StrategyId(0),
                cid,
            })
            .unwrap();
    }

    /// The simulator's own record of the account's orders, by client id, each with the
    /// fees of its fills added as `fees: {asset: total}`.
    fn sim_orders(&self) -> HashMap<String, Value> {
        let state = self.sim.state();
        let mut fees: HashMap<u64, HashMap<String, i64>> = HashMap::new();
        for f in state["fills"].as_array().unwrap() {
            if f["account"] != 0 {
                continue;
            }
            let fee = Qty::parse(f["commission"].as_str().unwrap())
                .unwrap()
                .units();
            *fees
                .entry(f["orderId"].as_u64().unwrap())
                .or_default()
                .entry(f["commissionAsset"].as_str().unwrap().to_owned())
                .or_default() += fee;
        }
        state["accounts"][0]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let mut o = o.clone();
                let f = fees
                    .remove(&o["orderId"].as_u64().unwrap())
                    .unwrap_or_default();
                o["fees"] = serde_json::json!(f);
                (o["clientOrderId"].as_str().unwrap().to_owned(), o)
            })
            .collect()
    }

    /// Waits until the engine holds at least `at_least` orders and they agree with the
    /// simulator's, and returns the number of orders compared; panics with the differences
    /// if they never do.
    fn assert_books_agree(&mut self, limit: Duration, at_least: usize) -> usize {
        let mut diffs = Vec::new();
        let ok = wait_for(limit, || {
            self.refresh();
            diffs = differences(&self.last, &self.sim_orders());
            if self.last.orders.len() < at_least {
                diffs.push(format!(
                    "engine holds {} orders, expected at least {at_least}",
                    self.last.orders.len()
                ));
            }
            diffs.is_empty().then_some(self.last.orders.len())
        });
        ok.unwrap_or_else(|| panic!("engine and simulator disagree:\n{}", diffs.join("\n")))
    }

    fn stop(&mut self) {
        self.shutdown.request();
        if let Some(h) = self.host.take() {
            assert!(h.join());
        }
        self.refresh();
    }
}

fn status_name(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New | OrderStatus::Sent => "UNSENT",
        OrderStatus::Acked => "NEW",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELED",
        OrderStatus::Rejected => "REJECTED",
        OrderStatus::Expired => "EXPIRED",
    }
}

/// Every difference between the engine's view and the simulator's record.
fn differences(engine: &GatewaySnapshot, sim: &HashMap<String, Value>) -> Vec<String> {
    let mut d = Vec::new();
    for o in &engine.orders {
        let cid = o.cid.as_str();
        let Some(s) = sim.get(cid) else {
            // The venue never had it: the engine must hold it as rejected.
            if o.status != OrderStatus::Rejected {
                d.push(format!(
                    "{cid}: engine {:?}, simulator has no such order",
                    o.status
                ));
            }
            continue;
        };
        let sim_status = s["status"].as_str().unwrap();
        let sim_status = if sim_status == "EXPIRED_IN_MATCH" {
            "EXPIRED"
        } else {
            sim_status
        };
        if status_name(o.status) != sim_status {
            d.push(format!(
                "{cid}: status engine {:?} vs simulator {sim_status}",
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
        if o.filled_quote != quote {
            d.push(format!(
                "{cid}: quote engine {:?} vs simulator {quote:?}",
                o.filled_quote
            ));
        }
        let sim_fees: HashMap<String, i64> = serde_json::from_value(s["fees"].clone()).unwrap();
        for (asset, total) in &sim_fees {
            let mine = o
                .fees
                .iter()
                .find(|f| f.0.as_str() == asset)
                .map(|f| f.1.units())
                .unwrap_or(0);
            if mine != *total {
                d.push(format!(
                    "{cid}: fee in {asset} engine {mine} vs simulator {total}"
                ));
            }
        }
        if o.fees
            .iter()
            .any(|f| !f.1.is_zero() && !sim_fees.contains_key(f.0.as_str()))
        {
            d.push(format!(
                "{cid}: engine has fees {:?} the simulator never charged",
                o.fees
            ));
        }
        if o.venue_order_id != s["orderId"].as_u64() {
            d.push(format!(
                "{cid}: venue id engine {:?} vs simulator {}",
                o.venue_order_id, s["orderId"]
            ));
        }
    }
    let engine_ids: Vec<&str> = engine.orders.iter().map(|o| o.cid.as_str()).collect();
    for cid in sim.keys() {
        if !engine_ids.contains(&cid.as_str()) {
            d.push(format!("{cid}: on the simulator, unknown to the engine"));
        }
    }
    d
}

/// Places a mix: resting bids and asks, marketable limits (taker fills), a post-only that
/// would cross (rejected), and cancels half of the resting ones.
fn trade_a_while(r: &mut Rig, rounds: usize) {
    for round in 0..rounds {
        let (bid, ask) = r.book();
        let tick = Price::parse("0.01").unwrap();
        let below = Price::from_units(bid.units() - 50 * tick.units());
        let above = Price::from_units(ask.units() + 50 * tick.units());
        let a = r.send(
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Gtc,
            below,
            "0.001",
        );
        let b = r.send(
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            above,
            "0.001",
        );
        r.send(
            Side::Buy,
            OrderKind::Limit,
            TimeInForce::Ioc,
            Price::from_units(ask.units() + 10 * tick.units()),
            "0.0005",
        );
        r.send(
            Side::Sell,
            OrderKind::Limit,
            TimeInForce::Gtc,
            Price::from_units(bid.units() - 10 * tick.units()),
            "0.0004",
        );
        r.send(
            Side::Buy,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            ask,
            "0.001",
        );
        std::thread::sleep(Duration::from_millis(30));
        if round % 2 == 0 {
            r.cancel(a);
        } else {
            r.cancel(b);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn orders_match_the_venue_without_faults() {
    let mut r = rig("", GatewayOptions::default());
    trade_a_while(&mut r, 6);
    let n = r.assert_books_agree(Duration::from_secs(20), 30);
    assert_eq!(n, 30);
    // Every kind of outcome happened, so the comparison covered them.
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
    // Updates reached the strategy for every order.
    let mut seen = std::collections::HashSet::new();
    while let Some(u) = r.updates.try_recv() {
        seen.insert(u.cid);
    }
    assert_eq!(seen.len(), 30);
    r.stop();
}

#[test]
fn orders_match_the_venue_with_faults() {
    let options = GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    };
    let mut r = rig("", options);
    let set = |r: &Rig, ack: f64, user: f64, delay: u64| {
        let f = r.sim.faults();
        f.set_drop_ack_rate(ack);
        f.set_drop_user_event_rate(user);
        f.set_ack_delay(Duration::from_millis(delay));
    };
    set(&r, 0.4, 0.4, 20);
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    std::thread::sleep(Duration::from_millis(300));
    trade_a_while(&mut r, 4);
    r.sim.disconnect_api();
    trade_a_while(&mut r, 2);
    set(&r, 0.0, 0.0, 0);
    let n = r.assert_books_agree(Duration::from_secs(30), 20);
    assert!(n >= 20, "orders compared: {n}");
    assert!(
        r.last.counters.queries_sent > 0,
        "lost answers were chased with queries"
    );
    assert!(r.last.counters.disconnects >= 2, "{:?}", r.last.counters);
    assert_eq!(r.last.overdue, 0);
    r.stop();
}

#[test]
fn cancel_on_stop_leaves_nothing_open_on_the_venue() {
    let options = GatewayOptions {
        cancel_on_stop: vec![true],
        ..Default::default()
    };
    let mut r = rig("", options);
    let (bid, ask) = r.book();
    let tick = Price::parse("0.01").unwrap();
    for k in 1..=5 {
        r.send(
            Side::Buy,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(bid.units() - 100 * k * tick.units()),
            "0.001",
        );
        r.send(
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(ask.units() + 100 * k * tick.units()),
            "0.001",
        );
    }
    let open = wait_for(Duration::from_secs(10), || {
        let n = r
            .sim_orders()
            .values()
            .filter(|o| o["status"] == "NEW")
            .count();
        (n == 10).then_some(n)
    });
    assert_eq!(open, Some(10));
    r.stop();
    let still_open = r
        .sim_orders()
        .values()
        .filter(|o| o["status"] == "NEW" || o["status"] == "PARTIALLY_FILLED")
        .count();
    assert_eq!(still_open, 0, "shutdown cancelled every open order");
    let n = r.assert_books_agree(Duration::from_secs(5), 10);
    assert_eq!(n, 10);
}

#[test]
fn a_restarted_engine_reconciles_the_orders_of_the_run_it_replaces() {
    // First run: rest orders, then die without cancelling anything.
    let mut first = rig("", GatewayOptions::default());
    let (bid, ask) = first.book();
    let tick = Price::parse("0.01").unwrap();
    let mut placed = Vec::new();
    for k in 1..=3 {
        placed.push(first.send(
            Side::Buy,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(bid.units() - 200 * k * tick.units()),
            "0.001",
        ));
        placed.push(first.send(
            Side::Sell,
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            Price::from_units(ask.units() + 200 * k * tick.units()),
            "0.001",
        ));
    }
    first.assert_books_agree(Duration::from_secs(10), 6);
    // The engine goes away with those orders open on the venue.
    first.stop();
    let sim = std::mem::replace(&mut first.sim, start_sim(""));
    // Second run, with a later start: its ids differ; it finds the first run's open orders,
    // reports them and (as configured) cancels them.
    let options = GatewayOptions {
        cancel_unknown: true,
        sweep_interval: Duration::from_millis(300),
        ..Default::default()
    };
    let mut second = rig_on(sim, options, 1_700_000_999_000);
    let n = second.assert_books_agree(Duration::from_secs(15), 6);
    assert_eq!(n, 6, "every order of the first run is known to the second");
    assert!(
        second.last.counters.unknown_venue_orders >= 6,
        "{:?}",
        second.last.counters
    );
    let cancelled = wait_for(Duration::from_secs(15), || {
        second.refresh();
        let open_on_venue = second
            .sim_orders()
            .values()
            .filter(|o| o["status"] == "NEW")
            .count();
        (open_on_venue == 0).then_some(())
    });
    assert!(
        cancelled.is_some(),
        "orders unknown to the engine were cancelled"
    );
    second.assert_books_agree(Duration::from_secs(10), 6);
    for cid in placed {
        let o = second
            .last
            .orders
            .iter()
            .find(|o| o.cid == cid)
            .expect("recovered");
        assert!(o.status.is_final(), "{:?}", o);
    }
    second.stop();
}

#[test]
fn a_venue_clock_far_from_ours_is_measured_and_signed_with() {
    // The venue's clock runs 30 s behind this machine's: far outside the 5 s recvWindow, so
    // every request stamped with the local clock would be refused with -1021.
    let sim = start_sim("");
    sim.faults().set_clock_skew_ms(-30_000);
    let body = ureq::get(format!("{}/api/v3/time", sim.rest_url()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let server_ms = mako::latency::probe::parse_server_time(body.as_bytes()).unwrap();
    let local_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        local_ms - server_ms >= 29_000,
        "the venue's clock is behind"
    );
    let offset = ClockOffset::new();
    let mut r = rig_with_clock(
        sim,
        GatewayOptions::default(),
        1_700_000_000_123,
        Some(offset.clone()),
    );
    let measured = offset.get().expect("measured at start");
    assert!(
        (-31_000_000_000..=-29_000_000_000).contains(&measured),
        "offset {measured} ns"
    );
    trade_a_while(&mut r, 2);
    let n = r.assert_books_agree(Duration::from_secs(20), 10);
    assert_eq!(n, 10);
    let accepted = r
        .last
        .orders
        .iter()
        .filter(|o| o.venue_order_id.is_some())
        .count();
    assert!(
        accepted >= 8,
        "the venue accepted the signed orders: {accepted}"
    );
    r.stop();
}
