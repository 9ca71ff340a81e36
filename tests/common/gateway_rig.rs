//! The order gateway on its own host against the simulator, as the gateway tests drive it:
//! a rig that sends intents and reads snapshots, and the comparison of the engine's orders
//! with the simulator's own record. Shared by the WebSocket API and REST transport tests.

use mako::sim::okx_private::OKX_SIM_PASSPHRASE;
use mako::venue::binance::rest::BinanceRest;
use mako::venue::binance::session::Session;
use mako::venue::binance::sign::HmacSigner;
use mako::venue::bitmart::rest::BitmartRest;
use mako::venue::bitmart::session::BitmartSession;
use mako::venue::bybit::Category;
use mako::venue::bybit::rest::BybitRest;
use mako::venue::bybit::session::BybitSession;
use mako::venue::bybit::sign::BybitSigner;
use mako::venue::coinbase::jwt::JwtSigner;
use mako::venue::coinbase::rest::CoinbaseRest;
use mako::venue::coinbase::session::CoinbaseUserSession;
use mako::venue::coinstore::rest::CoinstoreRest;
use mako::venue::coinstore::session::CoinstoreSession;
use mako::venue::coinstore::sign::CoinstoreSigner;
use mako::venue::delta::Platform;
use mako::venue::delta::rest::DeltaRest;
use mako::venue::delta::session::DeltaSession;
use mako::venue::delta::sign::DeltaSigner;
use mako::venue::okx::{OkxRest, OkxSession};
use std::collections::HashMap;
use std::time::Duration;

use super::wait_for;
use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::gateway::{
    CidMinter, Gateway, GatewayOptions, GatewaySnapshot, GatewaySpec, NewOrderIntent, OrderIntent,
    OrderUpdate,
};
use mako::latency::probe::ClockOffset;
use mako::net::Connector;
use mako::risk::{KillSwitch, RiskEngine};
use mako::runtime::{self, Clock, FullPolicy, HostSpec, IdlePolicy, Rx, Shutdown, Tx, bounded};
use mako::sim::{DOC_API_KEY, DOC_SECRET, SimHandle};
use mako::types::{
    Instrument, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos, VenueId,
};
use mako::types::{OrderKind, OrderStatus, TimeInForce};
use serde_json::Value;

pub struct Rig {
    pub sim: SimHandle,
    pub intents: Tx<OrderIntent>,
    pub updates: Rx<OrderUpdate>,
    pub snapshots: Rx<GatewaySnapshot>,
    pub shutdown: Shutdown,
    pub host: Option<runtime::HostHandle>,
    pub minter: CidMinter,
    pub last: GatewaySnapshot,
    /// The gateway's kill switch (the engine shares one between its gateways and control).
    pub kill: KillSwitch,
    /// The side of every order sent.
    pub sides: HashMap<mako::types::ClientOrderId, Side>,
}

thread_local! {
    /// The last rig's burst sender on this thread ([`bursts`]).
    static BURSTS: std::cell::RefCell<Option<std::sync::mpsc::Sender<Vec<OrderIntent>>>> =
        const { std::cell::RefCell::new(None) };
}

/// The sender of the rig made last on this thread: each `Vec` sent is handed to the
/// gateway's inbox all at once by an actor on the gateway's own host thread, so the gateway
/// reads it in one poll (one burst).
pub fn bursts() -> std::sync::mpsc::Sender<Vec<OrderIntent>> {
    BURSTS
        .with(|b| b.borrow().clone())
        .expect("a rig was made on this thread")
}

/// Moves each burst of intents into the gateway's inbox in one poll (see [`bursts`]).
struct Bursts {
    rx: std::sync::mpsc::Receiver<Vec<OrderIntent>>,
    tx: Tx<OrderIntent>,
}

impl mako::runtime::Actor for Bursts {
    fn name(&self) -> &str {
        "test:bursts"
    }
    fn poll(&mut self, _: &mut mako::runtime::Ctx) -> usize {
        let mut n = 0;
        while let Ok(burst) = self.rx.try_recv() {
            for i in burst {
                n += 1;
                assert!(self.tx.send(i).is_ok(), "the gateway's inbox is full");
            }
        }
        n
    }
}

pub fn instrument() -> Instrument {
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

/// A gateway on `transport` for a run that started at `run_start_ms`, on an existing
/// simulator; with `offset`, it signs with the venue's clock as that measures it.
pub fn rig_with(
    sim: SimHandle,
    transport: OrderTransport,
    options: GatewayOptions,
    run_start_ms: u64,
    offset: Option<ClockOffset>,
) -> Rig {
    rig_for(
        VenueKind::BinanceSpot,
        sim,
        transport,
        options,
        run_start_ms,
        offset,
    )
}

/// The Coinbase SDK's published test key name and EC key (exchanges.md §4.1): the
/// simulator account a Coinbase rig trades on ([`COINBASE_SIM_ACCOUNT`]).
pub const COINBASE_KEY_NAME: &str = "organizations/test-organization/apiKeys/test-api-key";
pub const COINBASE_EC_SECRET: &str = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\\n-----END EC PRIVATE KEY-----\\n";

/// The simulator's account 0 as a Coinbase CDP key (for `start_sim`).
pub fn coinbase_sim_account() -> String {
    format!(
        "[[accounts]]\napi_key = \"{COINBASE_KEY_NAME}\"\nsecret = \"{COINBASE_EC_SECRET}\"\nbalances = {{ BTC = \"10\", USDT = \"1000000\" }}\n"
    )
}

/// The same rig on a venue of `kind`: Binance's WebSocket API, OKX's private WebSocket
/// (with its REST side for queries, and orders too over `OrderTransport::Rest`), or
/// Coinbase's `user` channel with orders over REST (the simulator's account 0 must be the
/// Coinbase key: [`coinbase_sim_account`]).
pub fn rig_for(
    kind: VenueKind,
    sim: SimHandle,
    transport: OrderTransport,
    options: GatewayOptions,
    run_start_ms: u64,
    offset: Option<ClockOffset>,
) -> Rig {
    rig_inner(
        kind,
        sim,
        transport,
        options,
        run_start_ms,
        offset,
        None,
        None,
    )
}

/// A Binance WebSocket API rig whose key is the Ed25519 private key `ed25519` (base64 or
/// PEM): the session logs on and sends unsigned requests. The simulator's account 0 must
/// carry the matching `ed25519_public_key`.
pub fn rig_ed25519(
    sim: SimHandle,
    options: GatewayOptions,
    run_start_ms: u64,
    ed25519: &str,
) -> Rig {
    rig_inner(
        VenueKind::BinanceSpot,
        sim,
        OrderTransport::WsApi,
        options,
        run_start_ms,
        None,
        Some(ed25519),
        None,
    )
}

/// A Bybit linear rig whose instrument is the linear perpetual BTCUSDT at `leverage`
/// (isolated, 0.5 % maintenance): the gateway sets that leverage on the venue at start and
/// compares the venue's positions with its own. Waits for the leverage to be confirmed unless
/// `expect_confirmed` is false (a leverage the venue refuses).
pub fn rig_linear_perp(
    sim: SimHandle,
    options: GatewayOptions,
    leverage: &str,
    expect_confirmed: bool,
) -> Rig {
    let mut r = rig_inner(
        VenueKind::BybitLinear,
        sim,
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
        None,
        Some(leverage),
    );
    if expect_confirmed {
        let ok = wait_for(Duration::from_secs(20), || {
            r.refresh();
            r.last.perps.first().filter(|p| p.leverage_ok).map(|_| ())
        });
        assert!(ok.is_some(), "leverage confirmed: {:?}", r.last.perps);
    }
    r
}

thread_local! {
    /// Orders the next rig's gateway recovers from a previous run ([`rig_restarted`]).
    static RECOVERED: std::cell::RefCell<Vec<mako::types::Order>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A rig whose gateway starts as after a restart: `recovered` are the orders the store kept
/// from the previous run (the minter starts at `run_start_ms`, a later run's).
pub fn rig_restarted(
    kind: VenueKind,
    sim: SimHandle,
    options: GatewayOptions,
    run_start_ms: u64,
    recovered: Vec<mako::types::Order>,
) -> Rig {
    RECOVERED.with(|r| *r.borrow_mut() = recovered);
    rig_inner(
        kind,
        sim,
        OrderTransport::Rest,
        options,
        run_start_ms,
        None,
        None,
        None,
    )
}

/// A rig on the perpetual of `kind` at `leverage` (isolated, 0.5 % maintenance): Bybit's
/// BTCUSDT in base, Delta's BTCUSD in contracts of 0.001 BTC, CoinDCX's B-BTC_USDT in base.
/// The gateway sets that leverage on the venue at start and compares the venue's positions
/// with its own. Waits for the leverage to be confirmed unless `expect_confirmed` is false.
pub fn rig_perp(
    kind: VenueKind,
    sim: SimHandle,
    options: GatewayOptions,
    leverage: &str,
    expect_confirmed: bool,
) -> Rig {
    let mut r = rig_inner(
        kind,
        sim,
        OrderTransport::Rest,
        options,
        1_700_000_000_123,
        None,
        None,
        Some(leverage),
    );
    if expect_confirmed {
        let ok = wait_for(Duration::from_secs(20), || {
            r.refresh();
            r.last.perps.first().filter(|p| p.leverage_ok).map(|_| ())
        });
        assert!(ok.is_some(), "leverage confirmed: {:?}", r.last.perps);
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn rig_inner(
    kind: VenueKind,
    sim: SimHandle,
    transport: OrderTransport,
    options: GatewayOptions,
    run_start_ms: u64,
    offset: Option<ClockOffset>,
    ed25519: Option<&str>,
    perp_leverage: Option<&str>,
) -> Rig {
    let okx = kind == VenueKind::OkxSpot;
    let coinbase = kind == VenueKind::Coinbase;
    let bybit = matches!(kind, VenueKind::BybitSpot | VenueKind::BybitLinear);
    let bitmart = kind == VenueKind::BitmartSpot;
    let coinstore = kind == VenueKind::CoinstoreSpot;
    // Fills polled over REST: no private WebSocket at all.
    let polled = options.fills_poll.is_some();
    let category = if kind == VenueKind::BybitLinear {
        Category::Linear
    } else {
        Category::Spot
    };
    let delta = matches!(kind, VenueKind::DeltaIndia | VenueKind::DeltaGlobal);
    let coindcx = kind == VenueKind::CoindcxFutures;
    let mut inst = instrument();
    if okx || coinbase {
        inst.symbol = "BTC-USDT".into();
    }
    if coindcx {
        inst.symbol = "B-BTC_USDT".into();
    }
    if bitmart {
        inst.symbol = "BTC_USDT".into();
    }
    if delta {
        // Delta India's BTCUSD: whole contracts on a 0.5 tick, settled in USD.
        inst = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "BTCUSD",
            "BTC",
            "USD",
            Price::parse("0.5").unwrap(),
            Qty::parse("1").unwrap(),
        )
        .unwrap();
    }
    if let Some(l) = perp_leverage {
        inst.contract = if delta {
            mako::types::Contract {
                kind: mako::types::InstrumentKind::LinearPerpetual,
                unit: mako::types::QtyUnit::Contracts,
                size: Qty::parse("0.001").unwrap(),
            }
        } else {
            mako::types::Contract::LINEAR_BASE
        };
        inst.margin = Some(mako::types::Margin {
            mode: mako::types::MarginMode::Isolated,
            leverage: mako::types::Rate::parse(l).unwrap(),
            maintenance: mako::types::Rate::parse("0.005").unwrap(),
            funding_interval_ms: 8 * 3_600_000,
        });
    }
    let venue = VenueConfig {
        id: VenueId(0),
        name: kind.as_str().into(),
        kind,
        ws_url: if coindcx {
            sim.coindcx_ws_url()
        } else {
            sim.ws_url()
        },
        rest_url: sim.rest_url(),
        ws_api_url: Some(sim.ws_api_url()),
        order_transport: transport,
        streams: vec![StreamKind::BookTicker],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: if coinbase {
            Some(sim.coinbase_user_ws_url())
        } else if delta {
            Some(sim.delta_private_ws_url())
        } else if coindcx {
            Some(sim.coindcx_private_ws_url())
        } else if bybit {
            Some(sim.bybit_private_ws_url())
        } else if bitmart {
            Some(sim.bitmart_private_ws_url())
        } else if coinstore {
            Some(sim.coinstore_ws_url())
        } else {
            okx.then(|| sim.okx_private_ws_url())
        },
        demo_trading: okx,
        fills_poll: None,
        book_stale_after: None,
        margin_currency: None,
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
        run_start_ms,
        options,
        persist: None,
        recovered: RECOVERED.with(|r| r.take()),
    };
    let (key, secret) = (Secret::new(DOC_API_KEY), Secret::new(DOC_SECRET));
    let gw: Box<dyn mako::runtime::Actor> = if coinbase {
        let signer = JwtSigner::from_parts(COINBASE_KEY_NAME, COINBASE_EC_SECRET).unwrap();
        let session = CoinbaseUserSession::new(signer.clone(), vec!["BTC-USDT".into()]);
        let host = sim.rest_url().trim_start_matches("http://").to_owned();
        let rest = CoinbaseRest::with_signer(signer, &host);
        let gw = Gateway::new(spec, session, &sim.coinbase_user_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if delta {
        let platform = if kind == VenueKind::DeltaGlobal {
            Platform::Global
        } else {
            Platform::India
        };
        let signer = DeltaSigner::new(key.expose(), &secret);
        let session = DeltaSession::new(platform, signer.clone(), vec!["BTCUSD".into()])
            .with_contract_values(vec![("BTCUSD".into(), Qty::parse("0.001").unwrap())]);
        let usd = mako::types::order::AssetCode::new(b"USD").unwrap();
        let rest = DeltaRest::new(signer, vec![("BTCUSD".into(), usd)]);
        let gw = Gateway::new(spec, session, &sim.delta_private_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if coindcx {
        let ids = mako::venue::coindcx::ids::SharedIds::default();
        // As engine::venues does: the recovered orders are the codec's from the start.
        ids.lock()
            .adopt_recovered(&spec.recovered, |_| Some("B-BTC_USDT".into()));
        let signer = mako::venue::coindcx::sign::CoindcxSigner::new(&secret);
        let session = mako::venue::coindcx::session::CoindcxSession::new(
            DOC_API_KEY,
            signer.clone(),
            ids.clone(),
        );
        let rest = mako::venue::coindcx::rest::CoindcxRest::new(DOC_API_KEY, signer, "USDT", ids);
        let gw = Gateway::new(spec, session, &sim.coindcx_private_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if bybit && transport == OrderTransport::WsApi {
        // Orders over the trade WebSocket (`/v5/trade`), queries over REST: the gateway's
        // transport is the REST side's.
        let signer = BybitSigner::new(key.expose(), &secret);
        let session = BybitSession::new(category, signer.clone());
        let connector = spec.connector.clone();
        let url = sim.bybit_trade_ws_url();
        let rest =
            mako::venue::bybit::trade::BybitTrade::new(category, signer, 5000, connector, &url)
                .unwrap();
        let mut spec = spec;
        spec.venue.order_transport = OrderTransport::Rest;
        let gw = Gateway::new(spec, session, &sim.bybit_private_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if bybit {
        let signer = BybitSigner::new(key.expose(), &secret);
        let session = BybitSession::new(category, signer.clone());
        let rest = BybitRest::new(category, signer, 5000);
        let gw = Gateway::new(spec, session, &sim.bybit_private_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if bitmart {
        // The simulator account's memo (BitMart's documented example, `test001`).
        let memo = Secret::new(mako::sim::DOC_MEMO);
        let session = BitmartSession::new(&key, &secret, &memo, vec!["BTC_USDT".into()]);
        let rest = BitmartRest::new(&key, &secret, &memo, 5000);
        let gw = Gateway::new(spec, session, &sim.bitmart_private_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if coinstore {
        let ids = mako::venue::coinstore::session::Ids::default();
        let uid = mako::sim::coinstore_private::user_id_for_key(DOC_API_KEY);
        let session = CoinstoreSession::new(uid, &key, ids.clone());
        let pair = |a: &[u8]| mako::types::AssetCode::new(a).unwrap();
        let rest = CoinstoreRest::new(&key, CoinstoreSigner::new(&secret), ids).with_pairs(vec![(
            "BTCUSDT".into(),
            pair(b"BTC"),
            pair(b"USDT"),
        )]);
        let ws = if polled {
            String::new()
        } else {
            sim.coinstore_ws_url()
        };
        let gw = Gateway::new(spec, session, &ws, Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else if okx {
        let pass = Secret::new(OKX_SIM_PASSPHRASE);
        let session = OkxSession::new(&key, &secret, &pass);
        let rest = OkxRest::new(&key, &secret, &pass, true);
        let gw = Gateway::new(spec, session, &sim.okx_private_ws_url(), Some(rest)).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    } else {
        let rw = spec.venue.recv_window.as_millis() as u64;
        let session = match ed25519 {
            Some(k) => Session::new_ed25519(&key, &Secret::new(k), rw).unwrap(),
            None => Session::new(&key, &secret, rw),
        };
        let weight_limit = spec.options.rest.weight_limit;
        let rest = (transport == OrderTransport::Rest)
            .then(|| BinanceRest::new(&key, HmacSigner::new(&secret), 5000, weight_limit));
        let gw = Gateway::new(spec, session, &sim.ws_api_url(), rest).unwrap();
        match offset {
            Some(o) => Box::new(gw.with_clock_offset(o)),
            None => Box::new(gw),
        }
    };
    let shutdown = Shutdown::new();
    let (bursts, rx) = std::sync::mpsc::channel();
    BURSTS.with(|b| *b.borrow_mut() = Some(bursts));
    let feeder = Box::new(Bursts {
        rx,
        tx: intents_tx.clone(),
    });
    let host = runtime::host::spawn(
        HostSpec {
            name: "gateway",
            core: None,
            idle: IdlePolicy::Backoff,
            low_priority: false,
            actors: vec![feeder, gw],
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
        kill,
        sides: HashMap::new(),
    };
    let up = wait_for(Duration::from_secs(20), || {
        r.refresh();
        ((r.last.link_up || polled) && r.last.user_stream).then_some(())
    });
    assert!(
        up.is_some(),
        "gateway connected and subscribed to the user stream"
    );
    r
}

impl Rig {
    pub fn refresh(&mut self) {
        while let Some(s) = self.snapshots.try_recv() {
            self.last = s;
        }
    }

    /// The simulator's best bid and ask (asked again while HTTP faults refuse the request).
    pub fn book(&self) -> (Price, Price) {
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

    pub fn send(
        &mut self,
        side: Side,
        kind: OrderKind,
        tif: TimeInForce,
        price: Price,
        qty: &str,
    ) -> mako::types::ClientOrderId {
        let cid = self.minter.mint();
        self.sides.insert(cid, side);
        let i = NewOrderIntent {
            reduce_only: false,
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

    pub fn cancel(&mut self, cid: mako::types::ClientOrderId) {
        self.intents
            .send(OrderIntent::Cancel {
                strategy: StrategyId(0),
                cid,
            })
            .unwrap();
    }

    /// The simulator's own record of the account's orders, by client id, each with the
    /// fees of its fills added as `fees: {asset: total}`.
    pub fn sim_orders(&self) -> HashMap<String, Value> {
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
    pub fn assert_books_agree(&mut self, limit: Duration, at_least: usize) -> usize {
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

    /// Waits until no order waits past its deadline (a chase still in flight settles
    /// first); panics with the orders not final if one still does after 20 s.
    pub fn assert_nothing_overdue(&mut self) {
        let ok = wait_for(Duration::from_secs(20), || {
            self.refresh();
            (self.last.overdue == 0).then_some(())
        });
        if ok.is_none() {
            let open: Vec<_> = self
                .last
                .orders
                .iter()
                .filter(|o| !o.status.is_final())
                .collect();
            panic!("{} orders overdue: {open:?}", self.last.overdue);
        }
    }

    pub fn stop(&mut self) {
        self.shutdown.request();
        if let Some(h) = self.host.take() {
            assert!(h.join());
        }
        self.refresh();
    }
}

pub fn status_name(s: OrderStatus) -> &'static str {
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
pub fn differences(engine: &GatewaySnapshot, sim: &HashMap<String, Value>) -> Vec<String> {
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
        // Coinbase's order ids are UUIDs: the simulator writes its numeric id as one.
        let venue_id_agrees = match o.venue_order_id.and_then(|v| v.as_u64()) {
            Some(n) => Some(n) == s["orderId"].as_u64(),
            None => {
                o.venue_order_id.map(|v| v.as_str().to_owned())
                    == s["orderId"]
                        .as_u64()
                        .map(mako::sim::coinbase_private::order_uuid)
            }
        };
        if !venue_id_agrees {
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
/// Trades a round at a time, while the faults set stay on, until the gateway has seen an
/// answer whose outcome was unknown (a 5xx, a timeout): under load a fixed number of rounds
/// may send too few requests for the faults to hit one. At most `max_rounds`.
/// Trades until the gateway has seen a REST outcome it could not know (a 5xx). The deadline
/// only bounds a hang: under load, or with 429s pausing the gateway, the injected faults can
/// take many rounds to land, so no round count is assumed.
pub fn trade_until_unknown(r: &mut Rig) {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        r.refresh();
        if r.last.rest.as_ref().is_some_and(|x| x.unknown > 0)
            || std::time::Instant::now() >= deadline
        {
            return;
        }
        trade_a_while(r, 1);
    }
}

/// Trades rounds until the engine holds at least `n` orders, within 60 s: orders refused
/// before they reach the venue (a 429's wait, a full request window) are never held, so how
/// many a fixed number of rounds leaves held depends on when the faults struck.
pub fn trade_until_held(r: &mut Rig, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        r.refresh();
        if r.last.orders.len() >= n || std::time::Instant::now() >= deadline {
            return;
        }
        trade_a_while(r, 1);
    }
}

pub fn trade_a_while(r: &mut Rig, rounds: usize) {
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
pub fn balance_differences(engine: &GatewaySnapshot, state: &Value) -> Vec<String> {
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
    pub fn assert_balances_agree(&mut self, limit: Duration) {
        let mut diffs = Vec::new();
        let ok = wait_for(limit, || {
            self.refresh();
            diffs = balance_differences(&self.last, &self.sim.state());
            diffs.is_empty().then_some(())
        });
        assert!(ok.is_some(), "balances disagree:\n{}", diffs.join("\n"));
    }
}
