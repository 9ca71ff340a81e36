//! The exchange simulator: a local Binance Spot that speaks the documented protocol
//! (exchanges.md §1) over loopback — market-data WebSocket streams driven by a random walk or
//! a replayed recording, REST and WebSocket-API order entry with real HMAC checks, a matching
//! engine with fees and balances, the user data stream, rate limits, and faults that tests
//! switch on and off at run time. It is a test fixture, written from the documentation and
//! not from the engine's codecs, so that one misunderstanding cannot hide on both sides.
//!
//! ```no_run
//! let sim = mako::sim::Simulator::start(mako::sim::SimConfig::default()).unwrap();
//! println!("market data at {}, REST at {}", sim.ws_url(), sim.rest_url());
//! ```

/// Simulator accounts and balances.
pub mod accounts;
/// Venue operations shared by REST and the WS API.
pub mod api;
/// Request signing and timestamp checks.
pub mod auth;
/// Tick-to-trade stamps for `mako bench`.
pub mod bench;
/// The BitMart spot private front end: memo-signed REST orders and queries, the private
/// WebSocket's login and compressed `spot/user/order` pushes.
pub mod bitmart_private;
/// The BitMart spot public WebSocket front end: compressed pushes, depth/increase100 with
/// versions and snapshot requests, ticker, trades.
pub mod bitmart_public;
/// The simulated book and its diff accumulators.
pub mod book;
/// The Bybit v5 public WebSocket front end, spot and linear: orderbook snapshot and deltas
/// with `u`, publicTrade, tickers (linear: mark, index, funding).
pub mod bybit_amend;
pub mod bybit_private;
pub mod bybit_public;
/// Bybit's trade WebSocket (`/v5/trade`): auth, `order.create` / `order.amend` /
/// `order.cancel`, answers by `reqId`.
pub mod bybit_trade;
/// The Coinbase Advanced Trade private front end: JWT-checked REST and the `user` channel.
pub mod coinbase_keep;
pub mod coinbase_private;
/// The Coinbase Advanced Trade market-data front end: level2 with sequence numbers, ticker,
/// market_trades.
pub mod coinbase_public;
/// The CoinDCX futures private front end: signed REST orders on perpetual accounts and the
/// Socket.IO private channel `coindcx`.
pub mod coindcx_private;
/// The CoinDCX futures Socket.IO v2 front end: Engine.IO 3 open and pings, join/leave,
/// depth-snapshot, new-trade, price-change, currentPrices.
pub mod coindcx_public;
/// The Coinstore spot private front end: signed REST under `/api`, the 2022 LOGIN channels.
pub mod coinstore_private;
/// The Coinstore spot public WebSocket front end: depth@N snapshots, trades, ticker, the
/// session sequence `S`.
pub mod coinstore_public;
/// `SimConfig` and its validation.
pub mod config;
/// Delta's edit and batch order endpoints.
mod delta_orders;
/// The Delta Exchange private front end: signed `/v2/…` REST on the perpetual accounts.
pub mod delta_private;
/// The Delta Exchange private WebSocket: auth and the orders, fills, positions and margins
/// channels.
pub mod delta_private_ws;
/// The Delta Exchange public WebSocket front end (India and global): ob_updates with seq
/// and CRC32 checksums, ob_l1, trades, mark_price, funding_rate, heartbeats.
pub mod delta_public;
/// The exchange core: symbols, accounts, orders, fills.
pub mod exchange;
/// Run-time switchable faults.
pub mod faults;
/// Fan-out of events to WebSocket connections.
pub mod hub;
/// Request-weight and order-rate limits.
pub mod limits;
/// The market thread: source, depth clocks, disconnect fault.
pub mod market;
/// Matching in price-time priority.
pub mod matching;
/// Listeners, connections, upgrade dispatch.
pub mod net;
/// The OKX v5 private front end: `/ws/v5/private` and the signed REST endpoints.
pub mod okx_private;
/// The OKX v5 public front end: `/ws/v5/public` and the public REST books and time.
pub mod okx_public;
/// Orders, fills and their JSON shapes.
pub mod orders;
/// The scripted price-path market source.
pub mod path;
pub mod perp;
/// Replay of recordings.
pub mod replay;
/// REST routes and admin endpoints.
pub mod rest;
/// The seeded generator.
pub mod rng;
/// A perpetual's margin asset (its quote, or INR at a conversion price).
pub mod settle;
/// Self-signed TLS.
pub mod tls;
/// The random-walk market source.
pub mod walk;
/// The WebSocket connection loop.
pub mod ws;
/// WebSocket API sessions.
pub mod ws_api;
/// Market-data WebSocket sessions.
pub mod ws_market;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use serde_json::{Value, json};

pub use config::{
    ConfigError, DOC_API_KEY, DOC_MEMO, DOC_SECRET, FaultConfig, SimConfig, SourceConfig,
};
pub use faults::Faults;

use exchange::{Exchange, now_ms};
use hub::{Hub, Mailbox, Outbound};
use limits::Limits;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Replay(#[from] replay::ReplayError),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("cannot start a simulator thread: {0}")]
    Thread(std::io::Error),
}

/// State every simulator thread shares.
pub struct Shared {
    pub cfg: SimConfig,
    pub ex: Mutex<Exchange>,
    pub hub: Hub,
    pub faults: Faults,
    pub limits: Limits,
    /// Frame-write and order-read stamps (`[sim] bench = true`).
    pub bench: bench::BenchStamps,
    pub shutdown: AtomicBool,
    /// While set, the market source holds still (depth clocks keep running).
    pub paused: AtomicBool,
    pub next_conn: AtomicU64,
    /// Every open WebSocket connection's mailbox (to close them all at shutdown).
    pub conns: Mutex<HashMap<u64, Mailbox>>,
    pub conn_threads: Mutex<Vec<JoinHandle<()>>>,
    /// Every REST request answered (or dropped), in arrival order (the last `REST_LOG`).
    pub rest_log: Mutex<std::collections::VecDeque<RestLogEntry>>,
    /// Coinstore's per-IP and per-user request windows.
    pub coinstore: coinstore_private::Windows,
}

/// One REST request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestLogEntry {
    /// When the whole request had been read.
    pub at: std::time::Instant,
    pub method: String,
    pub path: String,
    /// The status answered; 0 when the connection was dropped without an answer (a fault).
    pub status: u16,
}

/// REST requests kept in the log.
pub const REST_LOG: usize = 100_000;

pub struct Simulator;

impl Simulator {
    /// Binds the listeners, starts the market thread and returns at once.
    pub fn start(cfg: SimConfig) -> Result<SimHandle, SimError> {
        let (replay, lines) = match &cfg.source {
            SourceConfig::Replay { file, .. } => (true, Some(replay::load(file)?)),
            SourceConfig::Walk { .. } | SourceConfig::Path { .. } => (false, None),
        };
        let seed = match &cfg.source {
            SourceConfig::Walk { seed, .. } => *seed,
            SourceConfig::Replay { .. } | SourceConfig::Path { .. } => 42,
        };
        let (listener, addr) = net::bind(&cfg.host, cfg.port).map_err(|source| SimError::Bind {
            addr: format!("{}:{}", cfg.host, cfg.port),
            source,
        })?;
        let tls = match cfg.tls_port {
            Some(port) => {
                let id = tls::self_signed().map_err(SimError::Tls)?;
                let (l, a) = net::bind(&cfg.host, port).map_err(|source| SimError::Bind {
                    addr: format!("{}:{port}", cfg.host),
                    source,
                })?;
                Some((l, a, id))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            ex: Mutex::new(Exchange::new(&cfg, replay)),
            hub: Hub::default(),
            faults: Faults::new(&cfg.faults, seed),
            limits: Limits::new(cfg.limits.clone()),
            bench: bench::BenchStamps::new(cfg.bench),
            shutdown: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            conns: Mutex::new(HashMap::new()),
            conn_threads: Mutex::new(Vec::new()),
            rest_log: Mutex::new(std::collections::VecDeque::new()),
            coinstore: Default::default(),
            cfg,
        });
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(1);
        let mut threads = Vec::new();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    crate::runtime::affinity::keep_off_hot("sim");
                    f()
                })
                .map_err(SimError::Thread)
        };
        let s = shared.clone();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        threads.push(spawn(
            "sim-market",
            Box::new(move || market::run(s, stop_rx, lines, ready_tx)),
        )?);
        // Connections are taken only once the market has its first books: a client that
        // came earlier would get a snapshot of an empty book followed by diffs that leave
        // out the seeding (the listener is bound already; early clients wait in its backlog).
        let _ = ready_rx.recv();
        let s = shared.clone();
        threads.push(spawn(
            "sim-accept",
            Box::new(move || net::accept_loop(s, listener, None)),
        )?);
        let (mut tls_addr, mut cert_pem, mut cert_der) = (None, None, None);
        if let Some((l, a, id)) = tls {
            let s = shared.clone();
            let cfg = id.config.clone();
            threads.push(spawn(
                "sim-accept-tls",
                Box::new(move || net::accept_loop(s, l, Some(cfg))),
            )?);
            tls_addr = Some(a);
            cert_pem = Some(id.cert_pem);
            cert_der = Some(id.cert_der);
        }
        Ok(SimHandle {
            shared,
            addr,
            tls_addr,
            cert_pem,
            cert_der,
            stop_tx,
            threads,
        })
    }
}

/// A running simulator. Dropping it stops it.
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    cert_pem: Option<String>,
    cert_der: Option<Vec<u8>>,
    stop_tx: Sender<()>,
    threads: Vec<JoinHandle<()>>,
}

impl SimHandle {
    /// The plain listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Market-data WebSocket base (`{ws_url}/ws/<stream>`, `{ws_url}/stream?streams=…`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }
    /// REST base (`{rest_url}/api/v3/…`).
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// OKX's public WebSocket endpoint (`/ws/v5/public`).
    pub fn okx_public_ws_url(&self) -> String {
        format!("ws://{}/ws/v5/public", self.addr)
    }
    /// Coinbase's market-data WebSocket (`/ws/coinbase`; the venue's own host has no path).
    pub fn coinbase_ws_url(&self) -> String {
        format!("ws://{}/ws/coinbase", self.addr)
    }
    /// Coinbase's user-data WebSocket (`/ws/coinbase-user`: the `user` channel).
    pub fn coinbase_user_ws_url(&self) -> String {
        format!("ws://{}/ws/coinbase-user", self.addr)
    }
    /// BitMart's public WebSocket (`/api?protocol=1.1`, the venue's own path).
    pub fn bitmart_ws_url(&self) -> String {
        format!("ws://{}/api?protocol=1.1", self.addr)
    }
    /// BitMart's private WebSocket (`/user?protocol=1.1`, the venue's own path).
    pub fn bitmart_private_ws_url(&self) -> String {
        format!("ws://{}/user?protocol=1.1", self.addr)
    }
    /// Coinstore's public WebSocket (`/s/ws`, the venue's own path).
    pub fn coinstore_ws_url(&self) -> String {
        format!("ws://{}/s/ws", self.addr)
    }
    /// Bybit's public WebSocket host: the feed adds `/v5/public/spot` or `/v5/public/linear`.
    pub fn bybit_ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }
    /// Bybit's private WebSocket (`/v5/private`: auth, `order`, `execution`, `wallet`).
    pub fn bybit_private_ws_url(&self) -> String {
        format!("ws://{}/v5/private", self.addr)
    }
    /// Bybit's trade WebSocket (`/v5/trade`: auth, then orders by `reqId`).
    pub fn bybit_trade_ws_url(&self) -> String {
        format!("ws://{}/v5/trade", self.addr)
    }
    /// Delta's public WebSocket (`/ws/delta`; the venue's own endpoint has no path).
    pub fn delta_ws_url(&self) -> String {
        format!("ws://{}/ws/delta", self.addr)
    }
    /// Delta's private WebSocket (`/ws/delta-private`; the venue's own endpoint has no path).
    pub fn delta_private_ws_url(&self) -> String {
        format!("ws://{}/ws/delta-private", self.addr)
    }
    /// CoinDCX's stream host: the feed adds `/socket.io/?EIO=3&transport=websocket`.
    pub fn coindcx_ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }
    /// CoinDCX's Socket.IO endpoint as the order gateway's private connection (the
    /// `coindcx` channel is joined on it).
    pub fn coindcx_private_ws_url(&self) -> String {
        format!("ws://{}/socket.io/?EIO=3&transport=websocket", self.addr)
    }
    /// OKX's private WebSocket endpoint (`/ws/v5/private`).
    pub fn okx_private_ws_url(&self) -> String {
        format!("ws://{}/ws/v5/private", self.addr)
    }
    /// OKX's REST base (`{okx_rest_url}/api/v5/…`): the same listener as Binance's.
    pub fn okx_rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// WebSocket API endpoint.
    pub fn ws_api_url(&self) -> String {
        format!("ws://{}/ws-api/v3", self.addr)
    }
    /// Admin base (`/sim/state`, `/sim/faults`).
    pub fn admin_url(&self) -> String {
        format!("http://{}/sim", self.addr)
    }
    /// The TLS listener's address, when configured.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }
    /// `wss://` market-data base on the TLS listener.
    pub fn wss_url(&self) -> Option<String> {
        self.tls_addr.map(|a| format!("wss://{a}"))
    }
    /// `https://` REST base on the TLS listener.
    pub fn https_url(&self) -> Option<String> {
        self.tls_addr.map(|a| format!("https://{a}"))
    }
    /// The self-signed certificate (PEM) clients must trust for the TLS listener.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }
    /// The same certificate in DER.
    pub fn tls_cert_der(&self) -> Option<&[u8]> {
        self.cert_der.as_deref()
    }
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }
    /// The live fault switches.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The REST requests answered so far, oldest first (tests check timing rules with it).
    pub fn rest_log(&self) -> Vec<RestLogEntry> {
        self.shared.rest_log.lock().iter().cloned().collect()
    }
    /// The simulator's own view: balances, orders, fills, fees, books (as `/sim/state`).
    pub fn state(&self) -> Value {
        self.shared.ex.lock().state_json()
    }
    /// Runs `f` on the exchange core (tests that need exact integers).
    pub fn with_exchange<R>(&self, f: impl FnOnce(&mut Exchange) -> R) -> R {
        let mut ex = self.shared.ex.lock();
        let r = f(&mut ex);
        self.shared.hub.dispatch(&mut ex, &self.shared.faults);
        r
    }
    /// Sends `serverShutdown` on every market-data connection, then closes them.
    pub fn server_shutdown_event(&self) {
        let ev = json!({"e": "serverShutdown", "E": now_ms()}).to_string();
        self.shared.hub.broadcast_market(Outbound::Text(ev));
        self.shared.hub.broadcast_market(Outbound::Close);
    }
    /// Closes every market-data connection now (as the disconnect fault does).
    pub fn disconnect_market(&self) {
        self.shared.hub.broadcast_market(Outbound::Close);
    }
    /// Sends `text` as it is on every market-data connection (a fault: an unknown Socket.IO
    /// packet type, an event for a channel never joined).
    pub fn send_market_text(&self, text: &str) {
        self.shared
            .hub
            .broadcast_market(Outbound::Text(text.to_owned()));
    }
    /// Closes every WebSocket API connection that holds a user-data subscription, as a
    /// venue's restart or a network cut would.
    pub fn disconnect_api(&self) {
        self.shared.hub.broadcast_user(Outbound::Close);
    }
    /// Open market-data connections.
    pub fn market_connections(&self) -> usize {
        self.shared.hub.market_connections()
    }
    /// Holds the market source still (true) or lets it run again (false), so a test can
    /// compare books at rest.
    pub fn pause_market(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::SeqCst);
    }
    /// Forgets request weights, bans and order counts.
    pub fn reset_limits(&self) {
        self.shared.limits.reset();
    }

    /// Stops every thread: listeners, market thread and connections. Idempotent.
    pub fn shutdown(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        let _ = self.stop_tx.try_send(());
        // serverShutdown and the close go through the mailboxes before the flag is set, so
        // every connection sends what it holds before it sees the flag.
        let ev = json!({"e": "serverShutdown", "E": now_ms()}).to_string();
        self.shared.hub.broadcast_market(Outbound::Text(ev));
        for m in self.shared.conns.lock().values() {
            m.send(Outbound::Close);
        }
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accepts.
        for a in std::iter::once(self.addr).chain(self.tls_addr) {
            let _ = std::net::TcpStream::connect_timeout(&a, Duration::from_millis(200));
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let conns: Vec<JoinHandle<()>> = std::mem::take(&mut *self.shared.conn_threads.lock());
        for t in conns {
            let _ = t.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
