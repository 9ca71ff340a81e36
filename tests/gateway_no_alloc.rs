//! The order path allocates nothing from the strategy's decision to the wire and back, once
//! warm: a spread maker on the real `StrategyActor` re-quotes on every new top of book, its
//! `Replace` intents go over the real intent channel to the real `Gateway` (risk, order
//! table, the Binance session's `order.cancelReplace` encoded — HMAC-signed, or unsigned on an
//! Ed25519 session logged on — queued and written to a WebSocket in one write), the
//! simulator answers over loopback, and the gateway reads the answers and the user-stream
//! events (`executionReport`s, `outboundAccountPosition`s) back, applies them and tells the
//! strategy. Everything runs on the test's thread, with a counting allocator armed around
//! each call into the engine (`CacheWriter::publish_top`, `StrategyActor::poll`,
//! `Gateway::poll`); the simulator runs on its own threads and is not counted. The first
//! re-quotes warm the buffers up and are not counted.

mod alloc_count;
mod common;

use std::time::{Duration, Instant};

use mako::book::{BookCache, Level, TopOfBook};
use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::gateway::{CidMinter, Gateway, GatewayOptions, GatewaySnapshot, GatewaySpec};
use mako::net::Connector;
use mako::risk::{KillSwitch, RiskEngine};
use mako::runtime::{Actor, Clock, Ctx, FullPolicy, Shutdown, bounded};
use mako::sim::{DOC_API_KEY, DOC_SECRET};
use mako::strategy::IntentSink;
use mako::strategy::actor::StrategyActor;
use mako::strategy::spread::{SpreadMaker, SpreadParams};
use mako::types::{InstrumentId, OrderStatus, Price, Qty, StrategyId, UnixNanos, VenueId};
use mako::venue::binance::rest::BinanceRest;
use mako::venue::binance::session::Session;

use alloc_count::{counted, counter_counts};

/// RFC 8032 §7.1 test 1: a published test seed and its public key, base64.
const SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
const PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

const BTC: InstrumentId = InstrumentId(0);
const SID: StrategyId = StrategyId(0);
const RUN: u64 = 1_700_000_000_777;

/// What one run saw.
#[derive(Debug)]
struct Counts {
    /// Allocations in the warm-up re-quotes (buffers reaching their size), not asserted.
    warm_up: u64,
    /// Allocations in the counted re-quotes.
    allocations: u64,
    /// Re-quotes counted.
    requotes: u64,
    /// Orders the gateway sent (places and cancel-replaces).
    orders_sent: u64,
}

/// The simulator's book holds still at 60,000.00 (bid) with no random walk, so the maker's
/// quotes rest; its order-rate limits are lifted for the many re-quotes.
fn sim(ed25519: bool) -> mako::sim::SimHandle {
    let key = if ed25519 {
        format!("ed25519_public_key = \"{PUBLIC}\"\n")
    } else {
        String::new()
    };
    common::start_sim(&format!(
        "source = \"path\"\n[limits]\norders_per_10s = 100000000\nweight_per_minute = 100000000\n\
         [[accounts]]\nbalances = {{ BTC = \"10\", USDT = \"1000000\" }}\n{key}"
    ))
}

fn top(mid_cents: i64, update_id: u64, now: UnixNanos) -> TopOfBook {
    let level = |cents: i64| Level {
        price: Price::from_units(cents * 1_000_000),
        qty: Qty::parse("1").unwrap(),
    };
    TopOfBook {
        bid: level(mid_cents - 500),
        ask: level(mid_cents + 500),
        update_id,
        exchange_ts: now,
        recv_ts: now,
        seq: 0,
        valid: true,
    }
}

/// The maker's two quotes are acknowledged and nothing else is under way.
fn settled(s: &GatewaySnapshot) -> bool {
    let live: Vec<_> = s.orders.iter().filter(|o| !o.status.is_final()).collect();
    live.len() == 2
        && live
            .iter()
            .all(|o| o.status == OrderStatus::Acked && !o.cancel_pending)
}

fn run(ed25519: bool, warm: u64, counted_requotes: u64) -> Counts {
    let sim = sim(ed25519);
    let inst = common::gateway_rig::instrument();
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
        private_ws_url: None,
        demo_trading: false,
        fills_poll: None,
        book_stale_after: None,
        margin_currency: None,
    };
    let cache = BookCache::new(1);
    let mut writer = cache.writer(BTC).unwrap();
    let (intents_tx, intents_rx) = bounded("order-intents", 1024, FullPolicy::Backpressure);
    let (updates_tx, updates_rx) = bounded("order-updates", 1024, FullPolicy::Backpressure);
    let limits = RiskLimits::default();
    let spec = GatewaySpec {
        venue,
        instruments: vec![inst.clone()],
        api_key: Secret::new(DOC_API_KEY),
        api_secret: Secret::new(DOC_SECRET),
        passphrase: None,
        connector: Connector::with_public_roots(Duration::from_secs(5)).unwrap(),
        intents: intents_rx,
        updates: vec![Some(updates_tx)],
        risk: RiskEngine::new(
            limits.clone(),
            &[(limits, BTC)],
            1,
            KillSwitch::default(),
            UnixNanos(0),
        ),
        mid: Box::new(|_| None),
        snapshots: None,
        run_start_ms: RUN,
        // No query or sweep comes in between: every request is the strategy's.
        options: GatewayOptions {
            ack_deadline: Duration::from_secs(600),
            sweep_interval: Duration::from_secs(600),
            ..GatewayOptions::default()
        },
        persist: None,
        recovered: Vec::new(),
    };
    let (key, secret) = (Secret::new(DOC_API_KEY), Secret::new(DOC_SECRET));
    let session = if ed25519 {
        Session::new_ed25519(&key, &Secret::new(SEED), 5_000).unwrap()
    } else {
        Session::new(&key, &secret, 5_000)
    };
    let mut gw = Gateway::new(spec, session, &sim.ws_api_url(), None::<BinanceRest>).unwrap();
    let params: toml::Table = r#"
        spread_bps = 200
        order_size = "0.001"
        stale_tolerance_bps = 0
        refresh_interval = "1h"
        max_book_age = "1h"
        base_allocation = "1"
        quote_allocation = "100000"
        post_only = true
    "#
    .parse()
    .unwrap();
    let maker = SpreadMaker::new(
        SpreadParams::from_table(&params).unwrap(),
        inst,
        Qty::parse("1").unwrap(),
        Price::parse("100000").unwrap(),
    );
    let mut strategy = StrategyActor::new(
        "strategy:alloc".into(),
        SID,
        VenueId(0),
        BTC,
        Box::new(maker),
        cache.reader(),
        None,
        updates_rx,
        IntentSink::new(intents_tx, CidMinter::new(RUN, SID), SID, BTC),
        KillSwitch::default(),
    );
    let mut ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "test",
    };
    gw.start(&mut ctx).unwrap();
    let up = common::wait_for(Duration::from_secs(20), || {
        gw.poll(&mut ctx);
        let s = gw.snapshot(ctx.clock.now());
        (s.link_up && s.user_stream).then_some(())
    });
    assert!(up.is_some(), "the gateway's session came up and subscribed");

    let (mut warm_up, mut allocations, mut requotes) = (0, 0, 0);
    // Mid 60,000.00 and 60,001.00 in turn: the quotes (2 % around it) rest on either side
    // of the simulator's book and move by a tick or more each time, so both are replaced.
    for k in 0..warm + counted_requotes + 1 {
        let counting = k > warm;
        let mid = 6_000_000 + (k as i64 % 2) * 100;
        let mut n = 0;
        let now = ctx.clock.now();
        n += counted(|| writer.publish_top(top(mid, k + 1, now))).1;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            n += counted(|| strategy.poll(&mut ctx)).1;
            n += counted(|| gw.poll(&mut ctx)).1;
            // Observed from outside (not counted): the two new quotes acknowledged, the
            // replaced ones cancelled.
            let s = gw.snapshot(ctx.clock.now());
            let placed = if k == 0 { 2 } else { 2 + 2 * k };
            if s.counters.orders_sent == placed && settled(&s) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "re-quote {k} did not settle: {:?}",
                s.orders
                    .iter()
                    .filter(|o| !o.status.is_final())
                    .collect::<Vec<_>>()
            );
            std::thread::yield_now();
        }
        // The strategy reads the last updates.
        n += counted(|| strategy.poll(&mut ctx)).1;
        if counting {
            allocations += n;
            requotes += 1;
        } else {
            warm_up += n;
        }
    }
    let s = gw.snapshot(ctx.clock.now());
    Counts {
        warm_up,
        allocations,
        requotes,
        orders_sent: s.counters.orders_sent,
    }
}

fn check(ed25519: bool) {
    let c = run(ed25519, 30, 200);
    eprintln!(
        "ed25519 {ed25519}: {} allocations warming up, {} in {} re-quotes ({} orders sent)",
        c.warm_up, c.allocations, c.requotes, c.orders_sent
    );
    assert_eq!(c.requotes, 200);
    assert_eq!(c.orders_sent, 2 + 2 * 230);
    assert_eq!(
        c.allocations, 0,
        "allocations in {} re-quotes (strategy, gateway, session, socket and back)",
        c.requotes
    );
    assert!(counter_counts());
}

#[test]
fn requotes_over_an_hmac_session_allocate_nothing_once_warm() {
    check(false);
}

#[test]
fn requotes_over_an_ed25519_session_allocate_nothing_once_warm() {
    check(true);
}

/// The socket's part on its own: `WsConn::queue_text` + `flush` (the gateway's burst write)
/// allocate nothing once warm, where tungstenite's own `Message::text` send, which it
/// replaced, allocates for every frame (the payload copied into a new buffer).
#[test]
fn queued_frames_allocate_nothing_where_tungstenites_messages_do() {
    use mako::net::Endpoint;
    use std::net::{TcpListener, TcpStream};
    // A server that reads every message until the client goes away.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming().take(2) {
            let s = s.unwrap();
            std::thread::spawn(move || {
                let mut ws = tungstenite::accept(s).unwrap();
                while ws.read().is_ok() {}
            });
        }
    });
    let text = "x".repeat(300);
    let url = format!("ws://{addr}/ws-api/v3");
    let mut conn = Connector::with_public_roots(Duration::from_secs(5))
        .unwrap()
        .websocket(&Endpoint::parse(&url).unwrap())
        .unwrap();
    conn.set_nonblocking().unwrap();
    let mut burst = || {
        conn.queue_text(&text).unwrap();
        conn.queue_text(&text).unwrap();
        conn.flush().unwrap();
    };
    for _ in 0..10 {
        burst();
    }
    let ((), ours) = counted(|| (0..1000).for_each(|_| burst()));
    let (mut ws, _) = tungstenite::client(url.as_str(), TcpStream::connect(addr).unwrap()).unwrap();
    for _ in 0..10 {
        ws.send(tungstenite::Message::text(text.as_str())).unwrap();
    }
    let ((), theirs) = counted(|| {
        (0..1000).for_each(|_| ws.send(tungstenite::Message::text(text.as_str())).unwrap())
    });
    eprintln!(
        "2,000 frames in 1,000 writes: {ours} allocations; 1,000 tungstenite sends: {theirs}"
    );
    assert_eq!(ours, 0, "allocations writing 2,000 frames");
    assert!(
        theirs >= 1000,
        "tungstenite's send allocates per frame: {theirs}"
    );
}
