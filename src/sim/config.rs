//! `SimConfig`: the simulator's settings, read from a `[sim]` table or a standalone file and
//! validated with every error naming its key.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::types::{Price, Qty};

/// The Binance documentation's public example API key (see exchanges.md §1.5).
pub const DOC_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
/// The Binance documentation's public example secret (a published test value, not a secret).
pub const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// The memo of BitMart's documented example key (exchanges.md §5.3): a simulator account's
/// memo unless `[[sim.accounts]] memo` sets another.
pub const DOC_MEMO: &str = "test001";

/// Why a simulator config was refused: every problem found, each naming its key.
#[derive(Debug, thiserror::Error)]
#[error("invalid simulator config:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

/// Where market data comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceConfig {
    /// A seeded random walk per symbol.
    Walk { seed: u64, interval: Duration },
    /// Replay of a recording (`<receive ns> <frame>` per line, gzip allowed).
    Replay {
        file: PathBuf,
        /// 1.0 = real time, 10.0 = ten times faster, 0.0 = as fast as possible.
        speed: f64,
        /// Start again from the top when the file ends.
        repeat: bool,
        /// Hold the first frame until a market-data client has subscribed to something.
        wait_for_subscriber: bool,
        /// Serve one recorded line every `interval`, ignoring the recorded times and the
        /// speed (benchmarks: evenly spaced frames).
        interval: Option<Duration>,
    },
    /// Each symbol's bid steps through its `path` prices, one every `interval`.
    Path {
        interval: Duration,
        /// Start the path again after its last price (otherwise hold it).
        repeat: bool,
    },
}

/// One tradable symbol and its filters (exchangeInfo), plus random-walk parameters.
#[derive(Debug, Clone)]
pub struct SymbolConfig {
    pub symbol: String,
    pub base: String,
    pub quote: String,
    pub tick_size: Price,
    pub min_price: Price,
    pub max_price: Price,
    pub step_size: Qty,
    pub min_qty: Qty,
    pub max_qty: Qty,
    /// Minimum price × quantity in quote units (scaled like `Price`).
    pub min_notional: Price,
    pub max_notional: Price,
    /// Where the random walk starts.
    pub start_price: Price,
    /// Price levels kept on each side by the random walk.
    pub levels: usize,
    /// The bids the `path` source steps through (empty: hold `start_price`).
    pub path: Vec<Price>,
    /// A linear perpetual's margin rules (`kind = "linear-perpetual"`); `None`: spot.
    pub perp: Option<super::perp::PerpSpec>,
    /// The asset a perpetual is margined and settled in (`margin_currency`: the quote, or
    /// `INR` at `coindcx_inr_per_usdt`, `sim/settle.rs`); the quote on spot.
    pub margin_asset: String,
}

/// One account: its API key, HMAC secret and starting balances.
#[derive(Debug, Clone)]
pub struct AccountConfig {
    pub api_key: String,
    pub secret: String,
    /// The account's Ed25519 public key, as Binance registers one with an API key: requests
    /// and `session.logon` are then signed with its private key (base64 signatures) instead
    /// of the HMAC secret.
    pub ed25519_public_key: Option<ed25519_dalek::VerifyingKey>,
    /// The memo BitMart keys carry (signed into every BitMart request); default [`DOC_MEMO`].
    pub memo: String,
    pub balances: BTreeMap<String, Qty>,
}

/// Faults active from the start; all can be changed at run time through `SimHandle::faults`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// Fraction (0..=1) of order acknowledgements (REST and WS API responses) never sent.
    pub drop_ack_rate: f64,
    /// Extra delay before an order acknowledgement is sent.
    pub ack_delay: Duration,
    /// Extra delay before each market-data frame is sent.
    pub market_delay: Duration,
    /// Fraction (0..=1) of private user-data events never sent.
    pub drop_user_event_rate: f64,
    /// Close every market-data connection this often (zero = never).
    pub disconnect_every: Duration,
    /// Skip update ids in the diff stream every this many depth events (0 = never).
    pub depth_gap_every: u64,
    /// Fraction (0..=1) of REST requests answered with HTTP 503 before anything is done.
    pub http_5xx_rate: f64,
    /// Fraction (0..=1) of REST order requests (new order, cancel) executed and then answered
    /// with HTTP 503, "execution status unknown" (Binance's 5xx: the outcome is unknown).
    pub http_5xx_after_rate: f64,
    /// Fraction (0..=1) of REST requests answered with HTTP 429.
    pub http_429_rate: f64,
    /// Extra delay before every REST response.
    pub slow_response: Duration,
    /// Extra delay before REST responses of OKX's endpoints only (`/api/v5/`): one simulator
    /// serves both venues, and this slows one of them.
    pub slow_okx_response: Duration,
}

/// Request-weight and order-rate limits (Binance's published defaults unless configured).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitConfig {
    pub weight_per_minute: u32,
    pub orders_per_10s: u32,
    /// 429 answers before the IP is "banned" with 418.
    pub bans_after: u32,
    pub ban_duration: Duration,
}

/// The validated simulator configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub host: String,
    /// Plain HTTP + WS port, 0 = ephemeral.
    pub port: u16,
    /// TLS (HTTPS + WSS) port with a generated self-signed certificate; `None` = no TLS.
    pub tls_port: Option<u16>,
    pub source: SourceConfig,
    pub symbols: Vec<SymbolConfig>,
    pub accounts: Vec<AccountConfig>,
    /// Commission rates as fractions scaled like `Price` (0.001 = 0.1 %).
    pub maker_fee: Price,
    pub taker_fee: Price,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    /// A connection is closed after this long (Binance: 24 h).
    pub max_connection_age: Duration,
    /// An OKX connection (public or private) is closed when nothing was pushed to it for
    /// this long (OKX: 30 s; a client keeps it with text `ping`, answered `pong`).
    pub okx_idle_timeout: Duration,
    /// A BitMart connection is closed when nothing was pushed to it for this long (BitMart:
    /// 20 s; a client keeps it with text `ping`, answered `pong`).
    pub bitmart_idle_timeout: Duration,
    /// A Coinbase connection that has subscribed to nothing this long after opening is
    /// closed (Coinbase: 5 s).
    pub coinbase_subscribe_window: Duration,
    /// Coinstore's server ping rule: a ping frame every `coinstore_ping_interval` (3 min), the
    /// connection closed when no pong (a pong frame, solicited or not, or the JSON
    /// `{"op":"pong"}`) came within `coinstore_pong_timeout` (10 min) of an unanswered ping.
    pub coinstore_ping_interval: Duration,
    pub coinstore_pong_timeout: Duration,
    /// Lists answered in pages of at most this many items (Coinbase's order and fill lists,
    /// Bybit's open orders), whatever `limit` the client asks; `None`: the client's limit.
    pub list_page_size: Option<usize>,
    /// The funding rate of every simulated perpetual: the Bybit linear front end's tickers
    /// state it (Bybit's `fundingRate`) and the core charges it at each funding time.
    pub bybit_funding_rate: crate::types::FundingRate,
    /// Perpetuals fund every this many milliseconds from the epoch (8 h).
    pub funding_interval_ms: u64,
    /// The funding rate per 8 hours the Delta front end's `funding_rate` states, as a fraction
    /// (Delta publishes it in percent).
    pub delta_funding_rate: crate::types::FundingRate,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Stamp market frames written and orders read (`GET /sim/bench`, `mako bench`).
    pub bench: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        // The default raw table always validates (tested below).
        match SimConfig::from_table(&toml::Table::new()) {
            Ok(c) => c,
            Err(e) => unreachable!("default simulator config is valid: {e}"),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    host: Option<String>,
    port: Option<u16>,
    tls_port: Option<u16>,
    source: Option<String>,
    seed: Option<u64>,
    walk_interval_ms: Option<u64>,
    replay_file: Option<PathBuf>,
    replay_speed: Option<f64>,
    replay_repeat: Option<bool>,
    replay_wait_for_subscriber: Option<bool>,
    replay_interval_us: Option<u64>,
    path_interval_ms: Option<u64>,
    path_repeat: Option<bool>,
    bench: Option<bool>,
    maker_fee: Option<String>,
    taker_fee: Option<String>,
    ping_interval_ms: Option<u64>,
    pong_timeout_ms: Option<u64>,
    max_connection_age_ms: Option<u64>,
    okx_idle_timeout_ms: Option<u64>,
    bitmart_idle_timeout_ms: Option<u64>,
    coinbase_subscribe_window_ms: Option<u64>,
    coinstore_ping_interval_ms: Option<u64>,
    coinstore_pong_timeout_ms: Option<u64>,
    list_page_size: Option<usize>,
    bybit_funding_rate: Option<String>,
    funding_interval_ms: Option<u64>,
    delta_funding_rate: Option<String>,
    coindcx_inr_per_usdt: Option<String>,
    symbols: Option<Vec<RawSymbol>>,
    accounts: Option<Vec<RawAccount>>,
    limits: Option<RawLimits>,
    faults: Option<RawFaults>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawSymbol {
    symbol: Option<String>,
    base: Option<String>,
    quote: Option<String>,
    tick_size: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    step_size: Option<String>,
    min_qty: Option<String>,
    max_qty: Option<String>,
    min_notional: Option<String>,
    max_notional: Option<String>,
    start_price: Option<String>,
    levels: Option<usize>,
    path: Option<Vec<String>>,
    kind: Option<String>,
    leverage: Option<String>,
    maintenance_margin: Option<String>,
    /// Base units per unit of quantity (a contract): `"1"` (default) when quantities count
    /// base, `"0.001"` for Delta's BTCUSD contracts.
    contract_value: Option<String>,
    /// A perpetual's margin and settlement asset: the quote (default) or `"INR"` (a USDT
    /// perpetual margined in INR at `coindcx_inr_per_usdt`, as CoinDCX's INR futures).
    margin_currency: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawAccount {
    api_key: Option<String>,
    secret: Option<String>,
    ed25519_public_key: Option<String>,
    memo: Option<String>,
    balances: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawLimits {
    weight_per_minute: Option<u32>,
    orders_per_10s: Option<u32>,
    bans_after: Option<u32>,
    ban_duration_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawFaults {
    drop_ack_rate: f64,
    ack_delay_ms: u64,
    market_delay_ms: u64,
    drop_user_event_rate: f64,
    disconnect_every_ms: u64,
    depth_gap_every: u64,
    http_5xx_rate: f64,
    http_5xx_after_rate: f64,
    http_429_rate: f64,
    slow_response_ms: u64,
    slow_okx_response_ms: u64,
}

struct Errors(Vec<String>);

impl Errors {
    fn price(&mut self, key: &str, v: Option<&str>, default: &str) -> Price {
        let s = v.unwrap_or(default);
        match Price::parse(s) {
            Ok(p) => p,
            Err(e) => {
                self.0.push(format!("{key}: {s:?} is not a decimal ({e})"));
                Price::ZERO
            }
        }
    }
    fn qty(&mut self, key: &str, v: Option<&str>, default: &str) -> Qty {
        Qty::from_units(self.price(key, v, default).units())
    }
    fn rate(&mut self, key: &str, v: f64) -> f64 {
        if !(0.0..=1.0).contains(&v) {
            self.0
                .push(format!("{key}: {v} must be a fraction between 0 and 1"));
        }
        v
    }
}

impl SimConfig {
    /// Reads a standalone simulator file: either a bare table or one with a `[sim]` section.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(vec![format!("{}: cannot read: {e}", path.display())]))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| ConfigError(vec![format!("{}: {e}", path.display())]))?;
        match table.get("sim") {
            Some(toml::Value::Table(t)) => Self::from_table(t),
            Some(_) => Err(ConfigError(vec!["sim: must be a table".into()])),
            None => Self::from_table(&table),
        }
    }

    /// Reads and validates the contents of a `[sim]` table.
    pub fn from_table(table: &toml::Table) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(vec![format!("sim: {}", e.message())]))?;
        let mut e = Errors(Vec::new());
        let seed = raw.seed.unwrap_or(42);
        let source = match raw.source.as_deref().unwrap_or("walk") {
            "walk" => {
                let ms = raw.walk_interval_ms.unwrap_or(50);
                if ms == 0 {
                    e.0.push("sim.walk_interval_ms: must be at least 1".into());
                }
                SourceConfig::Walk {
                    seed,
                    interval: Duration::from_millis(ms),
                }
            }
            "replay" => {
                let speed = raw.replay_speed.unwrap_or(1.0);
                if !speed.is_finite() || speed < 0.0 {
                    e.0.push(format!(
                        "sim.replay_speed: {speed} must be >= 0 (0 = as fast as possible)"
                    ));
                }
                match raw.replay_file {
                    Some(file) => SourceConfig::Replay {
                        file,
                        speed,
                        repeat: raw.replay_repeat.unwrap_or(false),
                        wait_for_subscriber: raw.replay_wait_for_subscriber.unwrap_or(false),
                        interval: match raw.replay_interval_us {
                            Some(0) => {
                                e.0.push("sim.replay_interval_us: must be at least 1".into());
                                None
                            }
                            us => us.map(Duration::from_micros),
                        },
                    },
                    None => {
                        e.0.push("sim.replay_file: required when sim.source = \"replay\"".into());
                        SourceConfig::Walk {
                            seed,
                            interval: Duration::from_millis(50),
                        }
                    }
                }
            }
            "path" => {
                let ms = raw.path_interval_ms.unwrap_or(100);
                if ms == 0 {
                    e.0.push("sim.path_interval_ms: must be at least 1".into());
                }
                SourceConfig::Path {
                    interval: Duration::from_millis(ms),
                    repeat: raw.path_repeat.unwrap_or(false),
                }
            }
            other => {
                e.0.push(format!(
                    "sim.source: {other:?} must be \"walk\", \"replay\" or \"path\""
                ));
                SourceConfig::Walk {
                    seed,
                    interval: Duration::from_millis(50),
                }
            }
        };
        let raw_symbols = raw.symbols.unwrap_or_else(|| vec![RawSymbol::default()]);
        if raw_symbols.is_empty() {
            e.0.push("sim.symbols: at least one symbol is needed".into());
        }
        let inr_per_usdt = e.price(
            "sim.coindcx_inr_per_usdt",
            raw.coindcx_inr_per_usdt.as_deref(),
            super::settle::DEFAULT_INR_PER_USDT,
        );
        if !inr_per_usdt.is_positive() {
            e.0.push("sim.coindcx_inr_per_usdt: must be positive (INR per USDT)".into());
        }
        let mut symbols = Vec::new();
        for (i, s) in raw_symbols.iter().enumerate() {
            let k = |f: &str| format!("sim.symbols[{i}].{f}");
            let symbol = s.symbol.clone().unwrap_or_else(|| "BTCUSDT".into());
            if symbol.is_empty()
                || !symbol
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                e.0.push(format!(
                    "{}: {symbol:?} must be upper-case letters and digits",
                    k("symbol")
                ));
            }
            let base = s.base.clone().unwrap_or_else(|| "BTC".into());
            let quote = s.quote.clone().unwrap_or_else(|| "USDT".into());
            if base == quote {
                e.0.push(format!("{}: base and quote must differ", k("base")));
            }
            let perp = s.kind.as_deref() == Some("linear-perpetual");
            // A perpetual's margin asset, and its settlement units per quote unit.
            let (margin_asset, settle_rate) = match s.margin_currency.as_deref() {
                None => (quote.clone(), crate::types::SCALE),
                Some(m) if m == quote => (quote.clone(), crate::types::SCALE),
                Some("INR") if perp && quote == "USDT" => ("INR".into(), inr_per_usdt.units()),
                Some(other) => {
                    e.0.push(format!(
                        "{}: {other:?} is not the quote ({quote}) or \"INR\" (a linear \
                         perpetual quoted in USDT, margined at sim.coindcx_inr_per_usdt)",
                        k("margin_currency")
                    ));
                    (quote.clone(), crate::types::SCALE)
                }
            };
            let c = SymbolConfig {
                tick_size: e.price(&k("tick_size"), s.tick_size.as_deref(), "0.01"),
                min_price: e.price(&k("min_price"), s.min_price.as_deref(), "0.01"),
                max_price: e.price(&k("max_price"), s.max_price.as_deref(), "1000000"),
                step_size: e.qty(&k("step_size"), s.step_size.as_deref(), "0.00001"),
                min_qty: e.qty(&k("min_qty"), s.min_qty.as_deref(), "0.00001"),
                max_qty: e.qty(&k("max_qty"), s.max_qty.as_deref(), "9000"),
                min_notional: e.price(&k("min_notional"), s.min_notional.as_deref(), "5"),
                max_notional: e.price(&k("max_notional"), s.max_notional.as_deref(), "9000000"),
                start_price: e.price(&k("start_price"), s.start_price.as_deref(), "60000"),
                levels: s.levels.unwrap_or(100),
                path: s
                    .path
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(j, p)| e.price(&format!("{}[{j}]", k("path")), Some(p), "0"))
                    .collect(),
                perp: match s.kind.as_deref().unwrap_or("spot") {
                    "spot" => {
                        for (key, set) in [
                            ("leverage", s.leverage.is_some()),
                            ("maintenance_margin", s.maintenance_margin.is_some()),
                            ("contract_value", s.contract_value.is_some()),
                        ] {
                            if set {
                                e.0.push(format!(
                                    "{}: only for kind = \"linear-perpetual\"",
                                    k(key)
                                ));
                            }
                        }
                        None
                    }
                    "linear-perpetual" => {
                        let leverage = e.price(&k("leverage"), s.leverage.as_deref(), "10");
                        let maintenance = e.price(
                            &k("maintenance_margin"),
                            s.maintenance_margin.as_deref(),
                            "0.005",
                        );
                        if leverage.units() < crate::types::SCALE
                            || leverage.units() > 100 * crate::types::SCALE
                        {
                            e.0.push(format!("{}: {leverage} must be 1 to 100", k("leverage")));
                        }
                        if !maintenance.is_positive() || maintenance.units() >= crate::types::SCALE
                        {
                            e.0.push(format!(
                                "{}: {maintenance} must be above 0 and below 1",
                                k("maintenance_margin")
                            ));
                        }
                        let contract_value =
                            e.price(&k("contract_value"), s.contract_value.as_deref(), "1");
                        if !contract_value.is_positive() {
                            e.0.push(format!("{}: must be positive", k("contract_value")));
                        }
                        Some(super::perp::PerpSpec {
                            leverage: leverage.units(),
                            maintenance: maintenance.units(),
                            contract_value: contract_value.units(),
                            settle_rate,
                        })
                    }
                    other => {
                        e.0.push(format!(
                            "{}: {other:?} is not \"spot\" or \"linear-perpetual\"",
                            k("kind")
                        ));
                        None
                    }
                },
                symbol,
                base,
                quote,
                margin_asset,
            };
            if !c.tick_size.is_positive() {
                e.0.push(format!("{}: must be positive", k("tick_size")));
            }
            if !c.step_size.is_positive() {
                e.0.push(format!("{}: must be positive", k("step_size")));
            }
            if c.tick_size.is_positive() && !c.start_price.is_multiple_of(c.tick_size) {
                e.0.push(format!(
                    "{}: {} is not a multiple of tick_size {}",
                    k("start_price"),
                    c.start_price,
                    c.tick_size
                ));
            }
            for (j, p) in c.path.iter().enumerate() {
                if c.tick_size.is_positive()
                    && (!p.is_multiple_of(c.tick_size)
                        || p.units() / c.tick_size.units() <= c.levels as i64 + 10)
                {
                    e.0.push(format!(
                        "{}[{j}]: {p} must be a multiple of tick_size above {} levels of it",
                        k("path"),
                        c.levels
                    ));
                }
            }
            if !c.path.is_empty() && !matches!(source, SourceConfig::Path { .. }) {
                e.0.push(format!(
                    "{}: only used with sim.source = \"path\"",
                    k("path")
                ));
            }
            if c.levels == 0 || c.levels > 5000 {
                e.0.push(format!("{}: {} must be 1..=5000", k("levels"), c.levels));
            }
            if c.tick_size.is_positive()
                && c.start_price.units() / c.tick_size.units() <= c.levels as i64 + 10
            {
                e.0.push(format!(
                    "{}: too low for {} levels of tick_size",
                    k("start_price"),
                    c.levels
                ));
            }
            if symbols.iter().any(|o: &SymbolConfig| o.symbol == c.symbol) {
                e.0.push(format!("{}: {} is listed twice", k("symbol"), c.symbol));
            }
            symbols.push(c);
        }
        let raw_accounts = raw.accounts.unwrap_or_else(|| {
            vec![RawAccount {
                api_key: None,
                secret: None,
                ed25519_public_key: None,
                memo: None,
                balances: [("BTC", "10"), ("USDT", "1000000")]
                    .map(|(a, q)| (a.to_string(), q.to_string()))
                    .into(),
            }]
        });
        let mut accounts = Vec::new();
        for (i, a) in raw_accounts.iter().enumerate() {
            let api_key = a.api_key.clone().unwrap_or_else(|| DOC_API_KEY.into());
            let secret = a.secret.clone().unwrap_or_else(|| DOC_SECRET.into());
            if api_key.is_empty() || secret.is_empty() {
                e.0.push(format!(
                    "sim.accounts[{i}]: api_key and secret must not be empty"
                ));
            }
            if accounts
                .iter()
                .any(|o: &AccountConfig| o.api_key == api_key)
            {
                e.0.push(format!(
                    "sim.accounts[{i}].api_key: used by another account"
                ));
            }
            let mut balances = BTreeMap::new();
            for (asset, q) in &a.balances {
                let q = e.qty(&format!("sim.accounts[{i}].balances.{asset}"), Some(q), "0");
                balances.insert(asset.clone(), q);
            }
            let ed25519_public_key = a.ed25519_public_key.as_deref().and_then(|k| {
                let key = crate::venue::ed25519::verifying_key(k);
                if key.is_none() {
                    e.0.push(format!(
                        "sim.accounts[{i}].ed25519_public_key: not an Ed25519 public key (base64 of 32 bytes, or a PEM -----BEGIN PUBLIC KEY-----)"
                    ));
                }
                key
            });
            let memo = a.memo.clone().unwrap_or_else(|| DOC_MEMO.into());
            if memo.is_empty() || memo.contains('#') {
                // `#` separates the memo from the timestamp and body in what is signed.
                e.0.push(format!(
                    "sim.accounts[{i}].memo: must not be empty or contain '#'"
                ));
            }
            accounts.push(AccountConfig {
                api_key,
                secret,
                ed25519_public_key,
                memo,
                balances,
            });
        }
        let lim = raw.limits.unwrap_or_default();
        let limits = LimitConfig {
            weight_per_minute: lim.weight_per_minute.unwrap_or(6000),
            orders_per_10s: lim.orders_per_10s.unwrap_or(50),
            bans_after: lim.bans_after.unwrap_or(5),
            ban_duration: Duration::from_millis(lim.ban_duration_ms.unwrap_or(120_000)),
        };
        let f = raw.faults.unwrap_or_default();
        let faults = FaultConfig {
            drop_ack_rate: e.rate("sim.faults.drop_ack_rate", f.drop_ack_rate),
            ack_delay: Duration::from_millis(f.ack_delay_ms),
            market_delay: Duration::from_millis(f.market_delay_ms),
            drop_user_event_rate: e.rate("sim.faults.drop_user_event_rate", f.drop_user_event_rate),
            disconnect_every: Duration::from_millis(f.disconnect_every_ms),
            depth_gap_every: f.depth_gap_every,
            http_5xx_rate: e.rate("sim.faults.http_5xx_rate", f.http_5xx_rate),
            http_5xx_after_rate: e.rate("sim.faults.http_5xx_after_rate", f.http_5xx_after_rate),
            http_429_rate: e.rate("sim.faults.http_429_rate", f.http_429_rate),
            slow_response: Duration::from_millis(f.slow_response_ms),
            slow_okx_response: Duration::from_millis(f.slow_okx_response_ms),
        };
        let ping_interval = Duration::from_millis(raw.ping_interval_ms.unwrap_or(20_000));
        let pong_timeout = Duration::from_millis(raw.pong_timeout_ms.unwrap_or(60_000));
        if ping_interval.is_zero() {
            e.0.push("sim.ping_interval_ms: must be at least 1".into());
        }
        if pong_timeout.is_zero() {
            e.0.push("sim.pong_timeout_ms: must be at least 1".into());
        }
        let max_connection_age =
            Duration::from_millis(raw.max_connection_age_ms.unwrap_or(86_400_000));
        if max_connection_age.is_zero() {
            e.0.push("sim.max_connection_age_ms: must be at least 1".into());
        }
        let okx_idle_timeout = Duration::from_millis(raw.okx_idle_timeout_ms.unwrap_or(30_000));
        if okx_idle_timeout.is_zero() {
            e.0.push("sim.okx_idle_timeout_ms: must be at least 1".into());
        }
        let bitmart_idle_timeout =
            Duration::from_millis(raw.bitmart_idle_timeout_ms.unwrap_or(20_000));
        if bitmart_idle_timeout.is_zero() {
            e.0.push("sim.bitmart_idle_timeout_ms: must be at least 1".into());
        }
        let coinstore_ping_interval =
            Duration::from_millis(raw.coinstore_ping_interval_ms.unwrap_or(180_000));
        let coinstore_pong_timeout =
            Duration::from_millis(raw.coinstore_pong_timeout_ms.unwrap_or(600_000));
        if coinstore_ping_interval.is_zero() {
            e.0.push("sim.coinstore_ping_interval_ms: must be at least 1".into());
        }
        if coinstore_pong_timeout.is_zero() {
            e.0.push("sim.coinstore_pong_timeout_ms: must be at least 1".into());
        }
        let bybit_funding_rate = match crate::types::FundingRate::parse(
            raw.bybit_funding_rate.as_deref().unwrap_or("0.0001"),
        ) {
            Ok(r) => r,
            Err(err) => {
                e.0.push(format!(
                    "sim.bybit_funding_rate: {err} (a signed decimal such as \"0.0001\")"
                ));
                crate::types::FundingRate::ZERO
            }
        };
        let funding_interval_ms = raw.funding_interval_ms.unwrap_or(8 * 3600 * 1000);
        if funding_interval_ms == 0 {
            e.0.push("sim.funding_interval_ms: must be at least 1".into());
        }
        let delta_funding_rate = match crate::types::FundingRate::parse(
            raw.delta_funding_rate.as_deref().unwrap_or("0.0001"),
        ) {
            Ok(r) => r,
            Err(err) => {
                e.0.push(format!(
                    "sim.delta_funding_rate: {err} (a signed fraction such as \"0.0001\")"
                ));
                crate::types::FundingRate::ZERO
            }
        };
        let maker_fee = e.price("sim.maker_fee", raw.maker_fee.as_deref(), "0.001");
        let taker_fee = e.price("sim.taker_fee", raw.taker_fee.as_deref(), "0.001");
        for (k, v) in [("sim.maker_fee", maker_fee), ("sim.taker_fee", taker_fee)] {
            if v.units() >= crate::types::SCALE {
                e.0.push(format!("{k}: {v} must be below 1"));
            }
        }
        if !e.0.is_empty() {
            return Err(ConfigError(e.0));
        }
        Ok(SimConfig {
            host: raw.host.unwrap_or_else(|| "127.0.0.1".into()),
            port: raw.port.unwrap_or(0),
            tls_port: raw.tls_port,
            source,
            symbols,
            accounts,
            maker_fee,
            taker_fee,
            ping_interval,
            pong_timeout,
            max_connection_age,
            okx_idle_timeout,
            bitmart_idle_timeout,
            coinbase_subscribe_window: Duration::from_millis(
                raw.coinbase_subscribe_window_ms.unwrap_or(5_000),
            ),
            coinstore_ping_interval,
            coinstore_pong_timeout,
            list_page_size: raw.list_page_size.filter(|&n| n > 0),
            bybit_funding_rate,
            funding_interval_ms,
            delta_funding_rate,
            limits,
            faults,
            bench: raw.bench.unwrap_or(false),
        })
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
