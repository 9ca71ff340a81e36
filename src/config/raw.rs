//! Raw config: serde structs that mirror the TOML file key for key. Unknown keys and wrong
//! types are rejected here; values are checked and converted into the model in `validate`.
//!
//! Decimals and durations stay strings at this stage so every bad one is reported with its
//! key path, not just the first one serde meets.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A string that must be written as a TOML string; `expecting` says what it should look
/// like when something else (a float, an integer) was written instead.
macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident, $expecting:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name(v.to_owned()))
                    }
                }
                d.deserialize_str(V)
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(
    /// A decimal written as a string (`"0.01"`), read exactly by `Price`/`Qty::parse`.
    DecimalStr,
    "a decimal in quotes, e.g. \"0.01\" (quoted so it is read exactly, never as a float)"
);
string_value!(
    /// A duration written as a string with a unit (`"500ms"`).
    DurationStr,
    "a duration in quotes with a unit, e.g. \"500ms\", \"30s\", \"5m\""
);

/// Telegram chat ids are integers (negative for groups); either spelling is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatId(pub String);

impl<'de> Deserialize<'de> for ChatId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ChatId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a chat id, e.g. -1001234567890 or \"@channel\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ChatId, E> {
                Ok(ChatId(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ChatId, E> {
                Ok(ChatId(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ChatId, E> {
                Ok(ChatId(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[engine]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    pub name: String,
    pub mode: RawMode,
    pub data_dir: String,
    #[serde(default)]
    pub log_format: RawLogFormat,
    pub log_filter: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawMode {
    Live,
    Paper,
    Sim,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawLogFormat {
    #[default]
    Human,
    Json,
}

/// `[runtime]` without its hosts, which are read one by one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    pub shutdown_timeout: Option<DurationStr>,
    pub warm_send_us: Option<u64>,
}

/// `[[runtime.hosts]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    pub name: String,
    pub core: Option<usize>,
    pub idle: RawIdle,
    pub priority: RawPriority,
    pub actors: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawIdle {
    Spin,
    Backoff,
    Park,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawPriority {
    Hot,
    Low,
}

/// `[[venues]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVenue {
    pub name: String,
    pub kind: RawVenueKind,
    pub ws_url: String,
    pub rest_url: String,
    pub ws_api_url: Option<String>,
    #[serde(default)]
    pub order_transport: RawOrderTransport,
    /// Default: `["bookTicker", "depth"]`, what a book needs.
    pub streams: Option<Vec<RawStream>>,
    pub api_key_env: Option<String>,
    pub api_key_file: Option<String>,
    pub api_secret_env: Option<String>,
    pub api_secret_file: Option<String>,
    /// `hmac` (default) or `ed25519` (Binance: the secret is the Ed25519 private key).
    pub api_key_type: Option<String>,
    /// The account's user id, which Coinstore's private WebSocket LOGIN names (coinstore-spot
    /// only; not a secret).
    pub user_id: Option<u64>,
    /// The key's passphrase (OKX only).
    pub passphrase_env: Option<String>,
    pub passphrase_file: Option<String>,
    /// The memo chosen with the key (BitMart only: part of every signature).
    pub memo_env: Option<String>,
    pub memo_file: Option<String>,
    /// The private WebSocket: login, order entry and the orders/account channels (OKX only,
    /// e.g. `wss://ws.okx.com:8443/ws/v5/private`).
    pub private_ws_url: Option<String>,
    /// OKX demo trading: every private request carries `x-simulated-trading: 1` (OKX only).
    pub demo_trading: Option<bool>,
    /// Default `5s`, Binance's own default.
    pub recv_window: Option<DurationStr>,
    /// CoinDCX futures only: how long a book may go without a depth snapshot before it is
    /// marked stale (default `5s`).
    pub book_stale_after: Option<DurationStr>,
    /// CoinDCX futures only: the margin currency of the venue block's orders, positions and
    /// wallet, `"USDT"` (default) or `"INR"`.
    pub margin_currency: Option<String>,
    /// Default `false`: open orders on the venue that the engine has no record of are
    /// reported, and cancelled only when this is `true` (they may be someone's manual orders).
    #[serde(default)]
    pub cancel_unknown_orders: bool,
    /// Coinstore without `private_ws_url`: how often fills, open orders and balances are
    /// polled over REST (default `500ms`).
    pub fills_poll: Option<DurationStr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawVenueKind {
    BinanceSpot,
    OkxSpot,
    Coinbase,
    BitmartSpot,
    BybitSpot,
    BybitLinear,
    DeltaIndia,
    DeltaGlobal,
    CoindcxFutures,
    CoinstoreSpot,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawOrderTransport {
    #[default]
    Rest,
    WsApi,
}

/// Stream names as Binance spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RawStream {
    #[serde(rename = "bookTicker")]
    BookTicker,
    #[serde(rename = "depth")]
    Depth,
    #[serde(rename = "trade")]
    Trade,
}

/// `[[instruments]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstrument {
    pub venue: String,
    pub symbol: String,
    pub base: String,
    pub quote: String,
    pub tick_size: DecimalStr,
    pub lot_size: DecimalStr,
    /// Default: one lot.
    pub min_qty: Option<DecimalStr>,
    /// Default: no maximum.
    pub max_qty: Option<DecimalStr>,
    /// Default: one tick.
    pub min_price: Option<DecimalStr>,
    /// Default: no maximum.
    pub max_price: Option<DecimalStr>,
    /// Default: no minimum.
    pub min_notional: Option<DecimalStr>,
    /// `spot` (default), `linear-perpetual` or `inverse-perpetual`.
    pub kind: Option<String>,
    /// `base` (default for spot and linear) or `contracts` (inverse: always).
    pub qty_unit: Option<String>,
    /// Base per contract (linear) or quote per contract (inverse); with `qty_unit = "contracts"`.
    pub contract_size: Option<DecimalStr>,
    /// Settlement asset. Default: the quote (spot, linear), the base (inverse).
    pub settle: Option<String>,
    /// Perpetuals: the leverage (required), e.g. `"10"`.
    pub leverage: Option<DecimalStr>,
    /// Perpetuals: `isolated` (default) or `cross`.
    pub margin_mode: Option<String>,
    /// Perpetuals: the maintenance-margin rate. Default `"0.005"`.
    pub maintenance_margin: Option<DecimalStr>,
    /// Perpetuals: time between fundings from 00:00 UTC. Default `8h`.
    pub funding_interval: Option<DurationStr>,
}

/// `[latency]` without its bands, which are read one by one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub window: Option<DurationStr>,
    pub statistic: Option<RawStatistic>,
    pub evaluate_every: Option<DurationStr>,
    pub degrade_after: Option<u32>,
    pub recover_after: Option<u32>,
    pub stale_after: Option<DurationStr>,
    pub probe_interval: Option<DurationStr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawStatistic {
    P50,
    P90,
    P99,
    Mean,
}

/// `[[latency.bands]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBand {
    pub name: String,
    pub max_latency: Option<DurationStr>,
    pub min_spread_bps: u32,
    pub size_multiplier: f64,
    /// Default `0ms`.
    pub throttle: Option<DurationStr>,
}

/// `[risk]` and `[strategies.risk]`: every limit optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRisk {
    pub max_order_qty: Option<DecimalStr>,
    pub max_order_notional: Option<DecimalStr>,
    pub max_position: Option<DecimalStr>,
    pub max_open_orders: Option<u32>,
    pub price_collar_bps: Option<u32>,
    pub max_daily_loss: Option<DecimalStr>,
    pub max_trades_per_day: Option<u32>,
    pub max_orders_per_sec: Option<u32>,
    pub max_position_notional: Option<DecimalStr>,
    pub max_leverage: Option<DecimalStr>,
    pub min_liquidation_distance_bps: Option<u32>,
}

/// `[[strategies]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub id: String,
    pub kind: String,
    pub venue: String,
    pub instrument: String,
    /// Further markets it sees and trades, on any of the venues, each listed once.
    #[serde(default)]
    pub markets: Vec<RawMarket>,
    #[serde(default)]
    pub params: toml::Table,
    #[serde(default)]
    pub risk: RawRisk,
    /// `[strategies.paper]`: the balances it starts with in paper mode.
    pub paper: Option<RawPaperBalances>,
}

/// `[strategies.paper]`: base and quote a strategy starts with on each of its paper markets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaperBalances {
    pub base: Option<DecimalStr>,
    pub quote: Option<DecimalStr>,
}

/// `markets = [{ venue = "okx", instrument = "SOL-USDT" }]` in a `[[strategies]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMarket {
    pub venue: String,
    pub instrument: String,
}

/// `[persistence]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPersistence {
    pub enabled: Option<bool>,
    pub path: Option<String>,
    pub batch_window: Option<DurationStr>,
    pub queue_capacity: Option<usize>,
}

/// `[paper]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaper {
    pub maker_fee: Option<DecimalStr>,
    pub taker_fee: Option<DecimalStr>,
}

/// `[status]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatus {
    pub bind: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<String>,
    pub publish_interval: Option<DurationStr>,
    pub console_interval: Option<DurationStr>,
}

/// `[notifications]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifications {
    pub telegram: Option<RawTelegram>,
}

/// `[notifications.telegram]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelegram {
    pub base_url: Option<String>,
    pub bot_token_env: Option<String>,
    pub bot_token_file: Option<String>,
    pub chat_id: ChatId,
    pub notify_fills: Option<bool>,
    pub min_interval: Option<DurationStr>,
}

/// An array section read element by element: `None` marks an element that failed to
/// deserialize (its error is already reported).
#[derive(Debug)]
pub struct RawList<T> {
    pub items: Vec<Option<T>>,
    /// Names (`name`, `id` or `symbol`) of the failed elements, where they could be read, so
    /// references to them are not reported a second time as dangling.
    pub broken_names: Vec<String>,
}

impl<T> Default for RawList<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            broken_names: Vec::new(),
        }
    }
}

impl<T> RawList<T> {
    /// The elements that deserialized, with their index in the file.
    pub fn ok(&self) -> impl Iterator<Item = (usize, &T)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (i, t)))
    }

    pub fn all_ok(&self) -> bool {
        self.items.iter().all(Option::is_some)
    }

    pub fn is_broken(&self, name: &str) -> bool {
        self.broken_names.iter().any(|n| n == name)
    }
}

/// A section that may be absent, present, or present but unreadable.
#[derive(Debug)]
pub enum RawSection<T> {
    Absent,
    Ok(T),
    /// Failed to deserialize; its error is already reported.
    Broken,
}

impl<T> RawSection<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            RawSection::Ok(t) => Some(t),
            _ => None,
        }
    }
}

/// The whole file after the structural pass.
#[derive(Debug)]
pub struct RawConfig {
    pub engine: RawSection<RawEngine>,
    /// `engine.mode`, read on its own so the checks that depend on the mode still run when
    /// another key of `[engine]` is wrong.
    pub mode: Option<RawMode>,
    pub runtime: RawSection<RawRuntime>,
    /// `None`: no `[[runtime.hosts]]` at all (the defaults apply).
    pub hosts: Option<RawList<RawHost>>,
    pub venues: RawList<RawVenue>,
    pub instruments: RawList<RawInstrument>,
    pub latency: RawSection<RawLatency>,
    /// `None`: no `[[latency.bands]]` (the defaults apply).
    pub bands: Option<RawList<RawBand>>,
    pub risk: RawSection<RawRisk>,
    pub strategies: RawList<RawStrategy>,
    pub persistence: RawSection<RawPersistence>,
    pub paper: RawSection<RawPaper>,
    pub status: RawSection<RawStatus>,
    pub notifications: RawSection<RawNotifications>,
    pub sim: RawSection<toml::Table>,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            engine: RawSection::Absent,
            mode: None,
            runtime: RawSection::Absent,
            hosts: None,
            venues: RawList::default(),
            instruments: RawList::default(),
            latency: RawSection::Absent,
            bands: None,
            risk: RawSection::Absent,
            strategies: RawList::default(),
            persistence: RawSection::Absent,
            paper: RawSection::Absent,
            status: RawSection::Absent,
            notifications: RawSection::Absent,
            sim: RawSection::Absent,
        }
    }
}
