//! The validated configuration: what the rest of the engine trusts. Built only by
//! `config::load`/`config::parse` from the raw TOML structs, after every check has passed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::runtime::IdlePolicy;
use crate::types::{Instrument, InstrumentId, Price, Qty, StrategyId, VenueId};

use super::secret::SecretSource;

/// One validated engine configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub engine: EngineConfig,
    pub runtime: RuntimeConfig,
    /// Indexed by `VenueId`.
    pub venues: Vec<VenueConfig>,
    /// Indexed by `InstrumentId`.
    pub instruments: Vec<Instrument>,
    pub latency: LatencyConfig,
    pub risk: RiskConfig,
    /// Indexed by `StrategyId`.
    pub strategies: Vec<StrategyConfig>,
    pub persistence: PersistenceConfig,
    /// Paper execution (`[paper]`); defaults apply when the section is absent.
    pub paper: PaperConfig,
    pub status: StatusConfig,
    pub notifications: NotifyConfig,
    /// The in-process simulator, when the config asks for one (`[sim]`).
    pub sim: Option<SimSection>,
    /// `[bots]` slots and the runtime overlay (`bots.rs`).
    pub bots: super::bots::BotsConfig,
}

/// Whether orders reach a real venue. Every record the engine writes carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Real orders on a real venue.
    Live,
    /// Orders filled inside the engine against live market data; every fill is labelled paper.
    Paper,
    /// Real protocol against the built-in simulator; every record is labelled sim.
    Sim,
    /// A backtest (`mako backtest`) over recorded markets: never a config's engine mode, only
    /// the label of the rows a backtest writes.
    Backtest,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Paper => "paper",
            Mode::Sim => "sim",
            Mode::Backtest => "backtest",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub name: String,
    pub mode: Mode,
    /// Where recordings, histograms and the database live. Created at start if missing.
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// `tracing_subscriber::EnvFilter` directives; `RUST_LOG` overrides.
    pub log_filter: String,
}

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Every actor the config implies is placed on exactly one host.
    pub hosts: Vec<HostConfig>,
    /// How long shutdown waits for every actor's stop step before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// `warm_send_us`: a byte sent on a private loopback connection at this interval from
    /// every hot host, keeping the kernel's send path warm (`runtime::warm`); `None`: off.
    pub warm_send: Option<Duration>,
}

/// Whether a host runs hot-path actors or low-priority services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPriority {
    Hot,
    Low,
}

#[derive(Debug, Clone)]
pub struct HostConfig {
    pub name: String,
    /// Core to pin this host's thread to (`core_affinity`); `None` leaves it to the OS.
    pub core: Option<usize>,
    pub idle: IdlePolicy,
    pub priority: HostPriority,
    /// Names of the actors this host runs, in poll order (see `ActorName`).
    pub actors: Vec<ActorName>,
}

/// The actors a config implies, by name: `feed:<venue>`, `gateway:<venue>`,
/// `strategy:<strategy id>`, `latency`, `persist`, `status`, `notify`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActorName {
    Feed(VenueId),
    Gateway(VenueId),
    Strategy(StrategyId),
    Latency,
    Persist,
    Status,
    Notify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueKind {
    BinanceSpot,
    OkxSpot,
    /// Coinbase Advanced Trade (spot): CDP keys signing a JWT per request, orders over REST.
    Coinbase,
    /// BitMart spot: compressed public WebSocket, `version`-chained incremental books.
    BitmartSpot,
    /// Bybit v5 spot: `orderbook.{depth}` books chained by `u`.
    BybitSpot,
    /// Bybit v5 linear (USDT) perpetuals: the spot codec's books, plus mark, index and
    /// funding from `tickers`.
    BybitLinear,
    /// Delta Exchange India perpetuals (sizes in contracts): `ob_updates` books chained by
    /// `seq` and checked by CRC32, marks and funding from `mark_price` and `funding_rate`.
    DeltaIndia,
    /// Delta Exchange global: the India codec on the global hosts.
    DeltaGlobal,
    /// CoinDCX futures (USDT-margined perpetuals): Socket.IO v2 stream, snapshot-only books,
    /// marks from `currentPrices`.
    CoindcxFutures,
    /// Coinstore spot: `depth@N` limited-level snapshots, the session sequence `S`.
    CoinstoreSpot,
}

impl VenueKind {
    /// Every kind this build knows, in the order documentation lists them.
    pub const ALL: [VenueKind; 10] = [
        VenueKind::BinanceSpot,
        VenueKind::OkxSpot,
        VenueKind::Coinbase,
        VenueKind::BitmartSpot,
        VenueKind::BybitSpot,
        VenueKind::BybitLinear,
        VenueKind::DeltaIndia,
        VenueKind::DeltaGlobal,
        VenueKind::CoindcxFutures,
        VenueKind::CoinstoreSpot,
    ];

    /// The kind named `name` (`binance-spot`, `okx-spot`, `coinbase`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VenueKind::BinanceSpot => "binance-spot",
            VenueKind::OkxSpot => "okx-spot",
            VenueKind::Coinbase => "coinbase",
            VenueKind::BitmartSpot => "bitmart-spot",
            VenueKind::BybitSpot => "bybit-spot",
            VenueKind::BybitLinear => "bybit-linear",
            VenueKind::DeltaIndia => "delta-india",
            VenueKind::DeltaGlobal => "delta-global",
            VenueKind::CoindcxFutures => "coindcx-futures",
            VenueKind::CoinstoreSpot => "coinstore-spot",
        }
    }
}

/// How the gateway sends orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTransport {
    Rest,
    WsApi,
}

impl OrderTransport {
    /// As the config spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderTransport::Rest => "rest",
            OrderTransport::WsApi => "ws-api",
        }
    }

    /// What the value does, for `mako check` and the docs.
    /// What this transport means on a venue of `kind`.
    pub fn describe_for(self, kind: VenueKind) -> &'static str {
        match (kind, self) {
            (VenueKind::BinanceSpot, t) => t.describe(),
            (VenueKind::OkxSpot, OrderTransport::WsApi) => {
                "orders and cancels over the private WebSocket (private_ws_url: login, then the \
                 order and cancel-order ops), fills and balances from its orders and account \
                 channels; queries and reconciliation over signed REST (rest_url), which OKX \
                 answers only there"
            }
            (VenueKind::Coinbase, _) => {
                "orders, cancels, queries and reconciliation over REST with a fresh JWT per \
                 request (Coinbase has no WebSocket order entry); fills and order changes from \
                 the user channel"
            }
            (VenueKind::BitmartSpot, _) => {
                "orders, cancels, queries and reconciliation over signed REST (rest_url; the \
                 key's memo is signed into every request); order changes and fills from the \
                 private WebSocket's spot/user/order channel (private_ws_url, after its login)"
            }
            (VenueKind::BybitSpot | VenueKind::BybitLinear, OrderTransport::WsApi) => {
                "orders, amends and cancels over the trade WebSocket (ws_api_url, /v5/trade: \
                 auth, order.create / order.amend / order.cancel by reqId); queries and \
                 reconciliation over signed REST (rest_url); order changes, fills and the \
                 wallet from the private WebSocket (private_ws_url)"
            }
            (VenueKind::BybitSpot | VenueKind::BybitLinear, OrderTransport::Rest) => {
                "orders, cancels, queries and reconciliation over signed REST (rest_url); \
                 order changes, fills and the wallet from the private WebSocket's order, \
                 execution and wallet topics (private_ws_url)"
            }
            (VenueKind::DeltaIndia | VenueKind::DeltaGlobal, _) => {
                "orders over signed REST, order changes from the private WebSocket (not built \
                 yet: delta-india and delta-global run in paper mode only)"
            }
            (VenueKind::CoindcxFutures, _) => {
                "orders, cancels, queries and reconciliation over signed REST (rest_url; a \
                 compact JSON body with timestamp, HMAC-SHA256 hex); order changes and balances \
                 from the Socket.IO private channel coindcx (private_ws_url)"
            }
            (VenueKind::CoinstoreSpot, _) => {
                "orders, cancels and queries over signed REST (rest_url) (not built yet: \
                 coinstore-spot runs in paper mode only)"
            }
            (VenueKind::OkxSpot, OrderTransport::Rest) => {
                "orders, cancels, queries and reconciliation over signed REST (rest_url, one \
                 kept-alive connection on the gateway's worker thread); fills and balances from \
                 the private WebSocket's orders and account channels (private_ws_url)"
            }
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            OrderTransport::Rest => {
                "orders, cancels, queries and reconciliation over REST (rest_url, one kept-alive \
                 connection on the gateway's own worker thread, weight-aware); fills and balances \
                 from the WebSocket API user data stream (ws_api_url)"
            }
            OrderTransport::WsApi => {
                "orders, cancels, queries, reconciliation, fills and balances all over one \
                 WebSocket API session (ws_api_url): no HTTP round trip per order"
            }
        }
    }
}

/// Market-data streams a feed subscribes to for each of its instruments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    BookTicker,
    Depth,
    Trade,
}

#[derive(Debug, Clone)]
pub struct VenueConfig {
    pub id: VenueId,
    /// The name the config uses for this venue (`[[venues]] name`).
    pub name: String,
    pub kind: VenueKind,
    /// Market-data WebSocket base, e.g. `wss://stream.binance.com:9443`.
    pub ws_url: String,
    /// REST base, e.g. `https://api.binance.com`.
    pub rest_url: String,
    /// WebSocket API base, e.g. `wss://ws-api.binance.com:443/ws-api/v3`.
    pub ws_api_url: Option<String>,
    pub order_transport: OrderTransport,
    pub streams: Vec<StreamKind>,
    /// Required in `live` and `sim` modes; never in the file itself.
    pub credentials: Option<Credentials>,
    pub recv_window: Duration,
    /// Cancel open orders the venue lists that the engine has no record of (found at start-up
    /// and after reconnects). Off by default: they are reported and left alone.
    pub cancel_unknown_orders: bool,
    /// The private WebSocket (OKX: login, orders, the orders and account channels).
    pub private_ws_url: Option<String>,
    /// OKX demo trading: private requests carry `x-simulated-trading: 1`.
    pub demo_trading: bool,
    /// How often fills and order changes are polled over REST when the venue has no private
    /// WebSocket (coinstore-spot without `private_ws_url`); `None`: the venue's default.
    pub fills_poll: Option<Duration>,
    /// CoinDCX futures: a book without a depth snapshot for this long is marked stale
    /// (`None`: the codec's 5 s).
    pub book_stale_after: Option<Duration>,
    /// CoinDCX futures: the currency the account's orders, positions and wallet are margined
    /// in (`margin_currency`: `USDT`, or `INR`); `None`: USDT. Other venues: always `None`.
    pub margin_currency: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: SecretSource,
    pub api_secret: SecretSource,
    /// The passphrase chosen with the key (OKX); `None` for venues without one.
    pub passphrase: Option<SecretSource>,
    /// The memo chosen with the key (BitMart: signed into every request); `None` elsewhere.
    pub memo: Option<SecretSource>,
    /// Binance: the secret is an Ed25519 private key, and the WebSocket API session logs on
    /// with it (`session.logon`) instead of signing every request with HMAC.
    pub ed25519: bool,
    /// Coinstore: the account's user id, named by the private WebSocket's LOGIN.
    pub user_id: Option<u64>,
}

/// The statistic of the rolling window that picks a venue's band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    P50,
    P90,
    P99,
    Mean,
}

#[derive(Debug, Clone)]
pub struct LatencyConfig {
    /// Length of the rolling window the band is chosen from.
    pub window: Duration,
    pub statistic: Statistic,
    /// How often the monitor evaluates bands.
    pub evaluate_every: Duration,
    /// Consecutive agreeing evaluations before moving to a worse band.
    pub degrade_after: u32,
    /// Consecutive agreeing evaluations before moving to a better band (≥ `degrade_after`).
    pub recover_after: u32,
    /// A venue with no measurement newer than this falls to the most defensive band.
    pub stale_after: Duration,
    /// Interval of the REST round-trip probe.
    pub probe_interval: Duration,
    /// Ordered from best (lowest bound) to the defensive catch-all (no bound), at least one.
    pub bands: Vec<BandConfig>,
}

#[derive(Debug, Clone)]
pub struct BandConfig {
    pub name: String,
    /// Upper bound of the statistic for this band; `None` only for the last (catch-all) band.
    pub max_latency: Option<Duration>,
    /// The minimum spread a strategy quotes in this band.
    pub min_spread_bps: u32,
    /// Multiplier on order sizes in this band (0 < m ≤ 10).
    pub size_multiplier: f64,
    /// Minimum time between order actions of one strategy in this band.
    pub throttle: Duration,
}

/// Pre-trade limits. `None` disables a rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskLimits {
    pub max_order_qty: Option<Qty>,
    /// Quote-asset units.
    pub max_order_notional: Option<Price>,
    /// Absolute base-asset position per instrument.
    pub max_position: Option<Qty>,
    pub max_open_orders: Option<u32>,
    /// Limit prices must lie within this many bps of the book's mid.
    pub price_collar_bps: Option<u32>,
    /// Realized plus marked-to-market loss per UTC day, quote-asset units.
    pub max_daily_loss: Option<Price>,
    pub max_trades_per_day: Option<u32>,
    pub max_orders_per_sec: Option<u32>,
    /// Absolute position value per instrument, in the settlement asset (at the order's price).
    pub max_position_notional: Option<Price>,
    /// Perpetuals: the highest leverage an instrument may be configured or reported with.
    pub max_leverage: Option<crate::types::Rate>,
    /// Perpetuals: an order that would bring the liquidation price closer to the mid than this
    /// is refused.
    pub min_liquidation_distance_bps: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct RiskConfig {
    /// Limits every order must pass.
    pub global: RiskLimits,
}

#[derive(Debug, Clone)]
pub struct StrategyConfig {
    pub id: StrategyId,
    /// The config's name for it (`[[strategies]] id = "..."`), unique.
    pub name: String,
    /// Strategy kind, e.g. `spread`; the strategy room validates `params` for its kind.
    pub kind: String,
    /// Its main market: the venue and instrument whose book it is called with.
    pub venue: VenueId,
    pub instrument: InstrumentId,
    /// Further markets it sees and trades (`markets = [...]`), any number per venue, each
    /// instrument once and never the main one.
    pub markets: Vec<(VenueId, InstrumentId)>,
    /// Kind-specific parameters, validated by the strategy when it is built or reloaded.
    pub params: toml::Table,
    /// Limits for this strategy's orders, on top of the global ones (each venue's gateway
    /// applies them to the strategy's orders on that venue).
    pub risk: RiskLimits,
    /// `[strategies.paper]`: base and quote it starts with on each paper market (kinds that
    /// allot their own, the spread maker's `base_allocation`/`quote_allocation`, need none).
    pub paper: Option<(crate::types::Qty, crate::types::Price)>,
}

impl StrategyConfig {
    /// Base and quote it starts with on each paper market: its `[strategies.paper]`, else
    /// what its kind allots from its parameters (the spread maker's allocations).
    pub fn allocation(&self) -> (crate::types::Qty, crate::types::Price) {
        self.paper.unwrap_or_else(|| {
            crate::strategy::registry::kind(&self.kind)
                .map_or((crate::types::Qty::ZERO, crate::types::Price::ZERO), |k| {
                    (k.allocation)(&self.params)
                })
        })
    }

    /// Every market it declared, the main one first.
    pub fn all_markets(&self) -> impl Iterator<Item = (VenueId, InstrumentId)> + '_ {
        std::iter::once((self.venue, self.instrument)).chain(self.markets.iter().copied())
    }

    /// Every instrument it declared on `venue`, in declaration order (the main one first).
    pub fn instruments_on(&self, venue: VenueId) -> impl Iterator<Item = InstrumentId> + '_ {
        self.all_markets()
            .filter(move |(v, _)| *v == venue)
            .map(|(_, i)| i)
    }

    /// Its first instrument on `venue`, if it declared one there.
    pub fn instrument_on(&self, venue: VenueId) -> Option<InstrumentId> {
        self.all_markets()
            .find(|(v, _)| *v == venue)
            .map(|(_, i)| i)
    }

    /// Whether it trades on `venue`.
    pub fn trades_on(&self, venue: VenueId) -> bool {
        self.instrument_on(venue).is_some()
    }
}

#[derive(Debug, Clone)]
pub struct PersistenceConfig {
    pub enabled: bool,
    /// SQLite file; relative paths are under `engine.data_dir`.
    pub path: PathBuf,
    /// Longest a record waits before its batch is committed.
    pub batch_window: Duration,
    /// Capacity of the bounded channel into the writer.
    pub queue_capacity: usize,
}

#[derive(Debug, Clone)]
pub struct StatusConfig {
    /// `None`: no status endpoint.
    pub bind: Option<SocketAddr>,
    /// Bearer token for control calls; without one every control call is refused.
    pub token: Option<SecretSource>,
    /// How often actors publish the snapshots the endpoint serves.
    pub publish_interval: Duration,
    /// Terminal status line interval (`None`: no status line).
    pub console_interval: Option<Duration>,
}

#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    pub telegram: Option<TelegramConfig>,
}

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// `https://api.telegram.org` unless a test points it at a local fake.
    pub base_url: String,
    pub bot_token: SecretSource,
    pub chat_id: String,
    /// Whether each fill is notified (start/stop, kill, band changes and errors always are).
    pub notify_fills: bool,
    /// Messages are batched so at most one is sent per interval.
    pub min_interval: Duration,
}

/// `[paper]`: how the paper gateway charges fees (only read with `mode = "paper"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperConfig {
    /// Fee rate of fills that rested on the book (0.001 = 0.1 %, Binance's default).
    pub maker_fee: Price,
    /// Fee rate of fills that took liquidity.
    pub taker_fee: Price,
}

/// `[sim]`: settings of the in-process simulator, validated by `sim/`.
#[derive(Debug, Clone)]
pub struct SimSection {
    pub table: toml::Table,
    pub config: Box<crate::sim::SimConfig>,
}
