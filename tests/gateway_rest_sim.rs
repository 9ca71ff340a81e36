//! The order gateway against the simulator with orders over REST (`order_transport =
//! "rest"`) and the user data stream over the WebSocket API: orders placed, filled and
//! cancelled with faults on (HTTP 5xx and 429, dropped acks, dropped private events,
//! disconnects). Afterwards every order the engine holds has the simulator's state, filled
//! quantity, quote amount, fees and venue id, balances agree, and none is left pending past
//! its deadline. Also: reconciliation stays under the weight limit, and a 418 ban refuses new
//! orders until it ends.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{start_sim, wait_for};
use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::gateway::rest::RestOptions;
use mako::gateway::{
    CidMinter, Gateway, GatewayOptions, GatewaySnapshot, GatewaySpec, NewOrderIntent, OrderIntent,
    OrderKind, OrderStatus, OrderUpdate, Refusal, TimeInForce,
};
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

/// The runs place more than Binance's default 50 orders per 10 s.
const MANY_ORDERS: &str = "[limits]\norders_per_10s = 100000\n";

fn rig(sim_extra: &str, options: GatewayOptions) -> Rig {
    rig_on(start_sim(sim_extra), options, 1_700_000_000_123)
}

/// A gateway for a run that started at `run_start_ms`, on an existing simulator.
fn rig_on(sim: SimHandle, options: GatewayOptions, run_start_ms: u64) -> Rig {
    let venue = VenueConfig {
        id: VenueId(0),
        name: "binance".into(),
        kind: VenueKind::BinanceSpot,
        ws_url: sim.ws_url(),
        rest_url: sim.rest_url(),
        ws_api_url: Some(sim.ws_api_url()),
        order_transport: OrderTransport::Rest,
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

    /// The simulator's best bid and ask (asked again while HTTP faults refuse the request).
    fn book(&self) -> (Price, Price) {
        let url = format!(
            "{}/api/v3/ticker/bookTicker?symbol=BTCUSDT",
            self.sim.rest_url()
        );
        let body = wait_for(Duration::from_secs(20), || {
            let mut resp = ureq::get(&url)
                .config()
                .http_status_as_error(false)
                .build()
                .call()
                .ok()?;
            if resp.status().as_u16() != 200 {
                return None;
            }
            resp.body_mut().read_to_string().ok()
        })
        .expect("the simulator answers bookTicker");
        let v: Value = serde_json::from_str(&body).unwrap();
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

/// Every difference between the engine's balances and the simulator's account.
fn balance_differences(engine: &GatewaySnapshot, state: &Value) -> Vec<String> {
    let sim = &state["accounts"][0]["balances"];
    let mut d = Vec::new();
    for asset in ["BTC", "USDT"] {
        if !engine.balances.iter().any(|b| b.asset.as_str() == asset) {
            d.push(format!("{asset}: the engine holds no balance"));
        }
    }
    for b in &engine.balances {
        let asset = b.asset.as_str();
        let q = |k: &str| {
            sim[asset][k]
                .as_str()
                .map(|s| Qty::parse(s).unwrap())
                .unwrap_or(Qty::ZERO)
        };
        if (b.free, b.locked) != (q("free"), q("locked")) {
            d.push(format!(
                "{asset}: engine free {} locked {} vs simulator free {} locked {}",
                b.free,
                b.locked,
                q("free"),
                q("locked")
            ));
        }
    }
    d
}

impl Rig {
    /// Waits until the engine's balances equal the simulator's (a sweep brings them).
    fn assert_balances_agree(&mut self, limit: Duration) {
        let mut diffs = Vec::new();
        let ok = wait_for(limit, || {
            self.refresh();
            diffs = balance_differences(&self.last, &self.sim.state());
            diffs.is_empty().then_some(())
        });
        assert!(ok.is_some(), "balances disagree:\n{}", diffs.join("\n"));
    }

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
