//! A gateway on CoinDCX futures (`B-BTC_USDT`, a linear perpetual) against the simulator's
//! CoinDCX private front end, on the USDT or the INR wallet, and what checks it against the
//! simulator's own record (`tests/gateway_coindcx_sim.rs`, `tests/gateway_coindcx_inr.rs`):
//! every order found by venue id (CoinDCX takes no client order id) with its status, filled
//! quantity, quote amount and fees in the margin currency; the margin currency's balance; the
//! position; nothing overdue.

use std::collections::HashMap;
use std::time::Duration;

use super::gateway_rig::{Rig, instrument};
use super::wait_for;
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

/// The simulator's BTCUSDT as a linear perpetual at 10× (CoinDCX's `B-BTC_USDT`),
/// USDT-margined.
pub const LINEAR: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n";

/// The same pair margined in INR at 89 INR per USDT (the docs' samples), on an account with
/// an INR wallet beside its USDT one.
pub const LINEAR_INR: &str = "coindcx_inr_per_usdt = \"89\"\n[[symbols]]\nsymbol = \"BTCUSDT\"\n\
    kind = \"linear-perpetual\"\nleverage = \"10\"\nmargin_currency = \"INR\"\n\
    [[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", INR = \"100000000\" }\n";

const RUN_START_MS: u64 = 1_700_000_000_123;

/// A gateway on `margin` (`"USDT"` or `"INR"`) against `sim`, connected and joined.
pub fn rig(sim: SimHandle, margin: &str, options: GatewayOptions) -> Rig {
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
        margin_currency: Some(margin.to_owned()),
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
    let session =
        CoindcxSession::new(DOC_API_KEY, signer.clone(), ids.clone()).with_margin_currency(margin);
    let rest = CoindcxRest::new(DOC_API_KEY, signer, margin, ids);
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
/// fees of its fills (all in `margin`).
pub fn sim_orders(sim: &SimHandle, margin: &str) -> HashMap<String, Value> {
    let state = sim.state();
    let mut fees: HashMap<u64, i64> = HashMap::new();
    for f in state["fills"].as_array().unwrap() {
        if f["account"] == 0 {
            assert_eq!(
                f["commissionAsset"], margin,
                "perpetual fees are in the margin currency"
            );
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

pub fn same_status(engine: OrderStatus, sim: &str) -> bool {
    match engine {
        OrderStatus::Acked => sim == "NEW",
        OrderStatus::PartiallyFilled => sim == "PARTIALLY_FILLED",
        OrderStatus::Filled => sim == "FILLED",
        // CoinDCX has no expired status: an IOC's rest is `cancelled` there.
        OrderStatus::Cancelled => matches!(sim, "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH"),
        _ => false,
    }
}

/// What the engine's orders and the simulator's disagree on (fees compared in `margin`).
pub fn differences(
    engine: &GatewaySnapshot,
    sim: &HashMap<String, Value>,
    margin: &str,
) -> Vec<String> {
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
            .filter(|f| f.0.as_str() == margin)
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

/// Waits until the engine's orders (at least `at_least`) agree with the simulator's.
pub fn assert_books_agree(r: &mut Rig, margin: &str, limit: Duration, at_least: usize) -> usize {
    let mut diffs = Vec::new();
    let ok = wait_for(limit, || {
        r.refresh();
        diffs = differences(&r.last, &sim_orders(&r.sim, margin), margin);
        if r.last.orders.len() < at_least {
            diffs.push(format!("engine holds {} orders", r.last.orders.len()));
        }
        diffs.is_empty().then_some(r.last.orders.len())
    });
    ok.unwrap_or_else(|| panic!("engine and simulator disagree:\n{}", diffs.join("\n")))
}

/// The `asset` balance (free, and locked = the margin held) equals the simulator's.
pub fn assert_balance_agrees(r: &mut Rig, asset: &str, limit: Duration) {
    let mut last = String::new();
    let ok = wait_for(limit, || {
        r.refresh();
        let state = r.sim.state();
        let q = |k: &str| Qty::parse(state["accounts"][0]["balances"][asset][k].as_str()?).ok();
        let (free, locked) = (q("free")?, q("locked")?);
        let mine = r.last.balances.iter().find(|b| b.asset.as_str() == asset);
        last = format!("engine {mine:?} vs simulator free {free} locked {locked}");
        mine.filter(|b| (b.free, b.locked) == (free, locked))
            .map(|_| ())
    });
    assert!(ok.is_some(), "{asset} disagrees: {last}");
}

/// The engine's fills netted equal the simulator's position.
pub fn assert_position_agrees(r: &Rig) {
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
pub fn assert_nothing_overdue(r: &mut Rig) {
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

/// Short deadlines and sweeps, for the fault tests.
pub fn fast() -> GatewayOptions {
    GatewayOptions {
        ack_deadline: Duration::from_millis(300),
        sweep_interval: Duration::from_millis(700),
        ..Default::default()
    }
}
