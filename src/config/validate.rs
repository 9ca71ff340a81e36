//! The semantic pass: `RawConfig` → `Config`. Runs over everything the structural pass could
//! read, reports every problem it finds, and builds the `Config` only if there were none.

use std::path::PathBuf;
use std::time::Duration;

use crate::types::{Instrument, InstrumentId, VenueId};

use super::bands;
use super::error::ConfigErrors;
use super::fields::{self, Checked, Reported, UrlKind, join};
use super::model::*;
use super::placement::{self, Actors};
use super::raw::*;
use super::services::{notifications, paper, persistence, risk_limits, status};
use super::venue_keys::{fills_poll, keys_fit_kind, margin_currency, url_fits_mode};

/// Binance rejects a `recvWindow` above 60 000 ms.
const BINANCE_MAX_RECV_WINDOW: Duration = Duration::from_secs(60);
const DEFAULT_RECV_WINDOW: Duration = Duration::from_secs(5);
const DEFAULT_LOG_FILTER: &str = "info";

/// Checks everything; `Some` only if nothing was reported (before or during this pass).
pub(super) fn validate(raw: &RawConfig, errors: &mut ConfigErrors) -> Option<Config> {
    let engine = match &raw.engine {
        RawSection::Absent => {
            errors.push(
                "engine",
                "is missing: add [engine] with name, mode and data_dir",
            );
            Err(Reported)
        }
        RawSection::Broken => Err(Reported),
        RawSection::Ok(e) => engine(e, errors),
    };
    let mode = raw.engine.ok().map(|e| e.mode).or(raw.mode);
    let venues = venues(raw, mode, errors);
    let instruments = instruments(raw, errors);
    let strategies = super::strategies::strategies(raw, errors);
    let latency = match &raw.latency {
        RawSection::Broken => Err(Reported),
        section => bands::latency(section.ok(), raw.bands.as_ref(), errors),
    };
    let risk = match &raw.risk {
        RawSection::Broken => Err(Reported),
        section => risk_limits(section.ok().unwrap_or(&RawRisk::default()), "risk", errors)
            .map(|global| RiskConfig { global }),
    };
    let persistence = persistence(&raw.persistence, errors);
    let paper = paper(&raw.paper, mode, errors);
    let status = status(&raw.status, errors);
    let notifications = notifications(&raw.notifications, errors);
    let sim = match (&raw.sim, mode) {
        (RawSection::Ok(_), Some(RawMode::Live)) => {
            errors.push(
                "sim",
                "a live config has no simulator: remove [sim], or set mode = \"sim\"",
            );
            Err(Reported)
        }
        (RawSection::Ok(table), _) => match crate::sim::SimConfig::from_table(table) {
            Ok(config) => Ok(Some(SimSection {
                table: table.clone(),
                config: Box::new(config),
            })),
            Err(e) => {
                for m in e.0 {
                    // The simulator's messages read `sim.key: what is wrong`.
                    match m.split_once(": ") {
                        Some((path, msg)) if path.starts_with("sim") => errors.push(path, msg),
                        _ => errors.push("sim", m),
                    }
                }
                Err(Reported)
            }
        },
        (RawSection::Absent, _) => Ok(None),
        (RawSection::Broken, _) => Err(Reported),
    };
    let actors = implied_actors(raw);
    let runtime = match &raw.runtime {
        RawSection::Broken => Err(Reported),
        section => placement::runtime(section.ok(), raw.hosts.as_ref(), &actors, errors),
    };
    if !errors.is_empty() {
        return None;
    }
    Some(Config {
        engine: engine.ok()?,
        runtime: runtime.ok()?,
        venues: venues.ok()?,
        instruments: instruments.ok()?,
        latency: latency.ok()?,
        risk: risk.ok()?,
        strategies: strategies.ok()?,
        persistence: persistence.ok()?,
        paper: paper.ok()?,
        status: status.ok()?,
        notifications: notifications.ok()?,
        sim: sim.ok()?,
        bots: Default::default(),
    })
}

fn engine(e: &RawEngine, errors: &mut ConfigErrors) -> Checked<EngineConfig> {
    let name = fields::name(errors, "engine.name", &e.name);
    let data_dir = if e.data_dir.trim().is_empty() {
        errors.push(
            "engine.data_dir",
            "must not be empty: give a directory, e.g. \"data/demo\"",
        );
        Err(Reported)
    } else {
        Ok(PathBuf::from(&e.data_dir))
    };
    let log_filter = e
        .log_filter
        .clone()
        .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned());
    let filter_ok = match tracing_subscriber::EnvFilter::builder().parse(&log_filter) {
        Ok(_) => Ok(()),
        Err(err) => {
            errors.push(
                "engine.log_filter",
                format!("{log_filter:?} is not a log filter ({err}); write e.g. \"info\" or \"info,mako::feed=debug\""),
            );
            Err(Reported)
        }
    };
    name?;
    filter_ok?;
    Ok(EngineConfig {
        name: e.name.clone(),
        mode: match e.mode {
            RawMode::Live => Mode::Live,
            RawMode::Paper => Mode::Paper,
            RawMode::Sim => Mode::Sim,
        },
        data_dir: data_dir?,
        log_format: match e.log_format {
            RawLogFormat::Human => LogFormat::Human,
            RawLogFormat::Json => LogFormat::Json,
        },
        log_filter,
    })
}

/// A dense id from a position, or an error if there are more entries than the id holds.
pub(super) fn dense<T: TryFrom<usize>>(
    errors: &mut ConfigErrors,
    path: &str,
    index: usize,
) -> Checked<T> {
    T::try_from(index).map_err(|_| {
        errors.push(path, "too many entries for the engine's dense ids");
        Reported
    })
}

/// Reports a second entry with the same key; returns whether `i` is the first.
pub(super) fn first_of<'a, T>(
    errors: &mut ConfigErrors,
    list: &'a RawList<T>,
    i: usize,
    path: String,
    key: impl Fn(&'a T) -> (&'a str, &'a str),
    what: &str,
) -> bool {
    let Some(me) = list.items.get(i).and_then(Option::as_ref) else {
        return true;
    };
    let mine = key(me);
    match list.ok().find(|(j, other)| *j < i && key(other) == mine) {
        Some((j, _)) => {
            errors.push(
                path,
                format!("{what} is already defined at [{j}]; names must be unique"),
            );
            false
        }
        None => true,
    }
}

fn venues(
    raw: &RawConfig,
    mode: Option<RawMode>,
    errors: &mut ConfigErrors,
) -> Checked<Vec<VenueConfig>> {
    let list = &raw.venues;
    let mut ok = list.all_ok();
    let mut out = Vec::with_capacity(list.items.len());
    for (i, v) in list.ok() {
        let path = format!("venues[{i}]");
        let p = |k: &str| join(&path, k);
        let mut good = fields::name(errors, &p("name"), &v.name).is_ok();
        good &= first_of(
            errors,
            list,
            i,
            p("name"),
            |v| (v.name.as_str(), ""),
            &format!("venue {:?}", v.name),
        );
        let id = dense::<u16>(errors, &p("name"), i);
        let urls = [
            (p("ws_url"), Some(&v.ws_url), UrlKind::WebSocket),
            (p("rest_url"), Some(&v.rest_url), UrlKind::Http),
            (p("ws_api_url"), v.ws_api_url.as_ref(), UrlKind::WebSocket),
            (
                p("private_ws_url"),
                v.private_ws_url.as_ref(),
                UrlKind::WebSocket,
            ),
        ];
        good &= keys_fit_kind(errors, &path, v).is_ok();
        for (at, url, kind) in urls {
            let Some(url) = url else { continue };
            let Ok(host) = fields::url(errors, &at, url, kind) else {
                good = false;
                continue;
            };
            good &= url_fits_mode(errors, &at, url, host, mode).is_ok();
        }
        let order_transport = match v.order_transport {
            RawOrderTransport::Rest => OrderTransport::Rest,
            RawOrderTransport::WsApi => OrderTransport::WsApi,
        };
        if v.kind == RawVenueKind::Coinbase && order_transport == OrderTransport::WsApi {
            errors.push(
                p("order_transport"),
                "Coinbase Advanced Trade takes orders over REST only (it has no WebSocket order \
                 entry): use order_transport = \"rest\" or leave it out",
            );
            good = false;
        }
        // Live runs on the readings listed in `venue::coinbase::UNCONFIRMED` (none checked
        // against the real venue); like sim, it needs the `user` channel for fills.
        if v.kind == RawVenueKind::Coinbase
            && v.private_ws_url.is_none()
            && !list.ok().any(|(j, o)| j < i && o.name == v.name)
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("private_ws_url"),
                "Coinbase order changes and fills arrive on its user channel: set \
                 private_ws_url, e.g. \"wss://advanced-trade-ws-user.coinbase.com\"",
            );
            good = false;
        }
        if v.kind == RawVenueKind::CoinstoreSpot
            && v.private_ws_url.is_some()
            && matches!(mode, Some(RawMode::Live))
        {
            errors.push(
                p("kind"),
                "coinstore-spot with private_ws_url speaks the 2022 docs' private WebSocket, \
                 which only the simulator is known to serve, so live trading is refused with \
                 it: leave private_ws_url out to trade live with fills polled over REST",
            );
            good = false;
        }
        if matches!(v.kind, RawVenueKind::DeltaIndia | RawVenueKind::DeltaGlobal)
            && v.private_ws_url.is_none()
            && !list.ok().any(|(j, o)| j < i && o.name == v.name)
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("private_ws_url"),
                "Delta order changes, fills and margins arrive on Delta's private WebSocket: \
                 set private_ws_url, e.g. \"wss://socket.india.delta.exchange\"",
            );
            good = false;
        }
        if matches!(v.kind, RawVenueKind::BybitSpot | RawVenueKind::BybitLinear)
            && order_transport == OrderTransport::WsApi
            && v.ws_api_url.is_none()
        {
            errors.push(
                p("order_transport"),
                "\"ws-api\" sends Bybit orders over the trade WebSocket: set ws_api_url, e.g. \
                 \"wss://stream.bybit.com/v5/trade\", or use \"rest\"",
            );
            good = false;
        }
        if v.kind == RawVenueKind::BinanceSpot
            && order_transport == OrderTransport::WsApi
            && v.ws_api_url.is_none()
        {
            errors.push(
                p("order_transport"),
                "\"ws-api\" sends orders over the WebSocket API: set ws_api_url, e.g. \
                 \"wss://ws-api.binance.com:443/ws-api/v3\", or use \"rest\"",
            );
            good = false;
        }
        let streams = match &v.streams {
            None => vec![StreamKind::BookTicker, StreamKind::Depth],
            Some(s) if s.is_empty() => {
                errors.push(
                    p("streams"),
                    "is empty: subscribe to at least one of \"bookTicker\", \"depth\", \"trade\"",
                );
                good = false;
                Vec::new()
            }
            Some(s) => {
                let mut kinds = Vec::with_capacity(s.len());
                for (k, st) in s.iter().enumerate() {
                    let kind = match st {
                        RawStream::BookTicker => StreamKind::BookTicker,
                        RawStream::Depth => StreamKind::Depth,
                        RawStream::Trade => StreamKind::Trade,
                    };
                    if kinds.contains(&kind) {
                        errors.push(format!("{}[{k}]", p("streams")), "is listed twice");
                        good = false;
                    }
                    kinds.push(kind);
                }
                kinds
            }
        };
        let recv_window = fields::bounded_duration(
            errors,
            &p("recv_window"),
            v.recv_window.as_ref(),
            DEFAULT_RECV_WINDOW,
            BINANCE_MAX_RECV_WINDOW,
            "Binance's",
        );
        let book_stale_after = match &v.book_stale_after {
            None => Ok(None),
            Some(_) if v.kind != RawVenueKind::CoindcxFutures => {
                errors.push(
                    p("book_stale_after"),
                    "applies to coindcx-futures only (its books are snapshots, not diffs)",
                );
                Err(Reported)
            }
            Some(d) => {
                fields::positive_duration(errors, &p("book_stale_after"), Some(d), Duration::ZERO)
                    .map(Some)
            }
        };
        if book_stale_after.is_err() {
            good = false;
        }
        let margin_currency = margin_currency(errors, &p("margin_currency"), v, mode);
        if margin_currency.is_err() {
            good = false;
        }
        let credentials = credentials(errors, &path, v);
        let fills_poll = fills_poll(errors, &p("fills_poll"), v);
        let first_of_name = !list.ok().any(|(j, o)| j < i && o.name == v.name);
        if let Ok(None) = credentials
            && first_of_name
            && let Some(mode @ (RawMode::Live | RawMode::Sim)) = mode
            // An in-process simulator ([sim]) hands the engine its own test account.
            && !(mode == RawMode::Sim && matches!(raw.sim, RawSection::Ok(_)))
            && let Some((_, s)) = raw.strategies.ok().find(|(_, s)| s.venue == v.name)
        {
            let mode = if mode == RawMode::Live { "live" } else { "sim" };
            errors.push(
                path.clone(),
                format!(
                    "mode = {mode:?} trades on this venue (strategy {:?}), so it needs credentials: \
                     set api_key_env (or api_key_file) and api_secret_env (or api_secret_file)",
                    s.id
                ),
            );
            good = false;
        }
        if v.kind == RawVenueKind::BinanceSpot
            && order_transport == OrderTransport::Rest
            && v.ws_api_url.is_none()
            && first_of_name
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("ws_api_url"),
                "order_transport = \"rest\" sends orders over REST (rest_url), but fills and \
                 balances still arrive on the WebSocket API user data stream: set ws_api_url, \
                 e.g. \"wss://ws-api.binance.com:443/ws-api/v3\"",
            );
            good = false;
        }
        if matches!(v.kind, RawVenueKind::BybitSpot | RawVenueKind::BybitLinear)
            && v.private_ws_url.is_none()
            && first_of_name
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("private_ws_url"),
                "Bybit order changes and fills arrive on Bybit's private WebSocket: set \
                 private_ws_url, e.g. \"wss://stream.bybit.com/v5/private\"",
            );
            good = false;
        }
        if v.kind == RawVenueKind::BitmartSpot
            && v.private_ws_url.is_none()
            && first_of_name
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("private_ws_url"),
                "bitmart-spot order changes and fills arrive on BitMart's private WebSocket: \
                 set private_ws_url, e.g. \"wss://ws-manager-compress.bitmart.com/user?protocol=1.1\"",
            );
            good = false;
        }
        // coinstore-spot without private_ws_url polls its fills over REST (every 500 ms).
        if v.kind == RawVenueKind::CoindcxFutures
            && v.private_ws_url.is_none()
            && first_of_name
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("private_ws_url"),
                "CoinDCX order changes and balances arrive on its Socket.IO private channel: set \
                 private_ws_url, e.g. \"wss://stream.coindcx.com/socket.io/?EIO=3&transport=websocket\"",
            );
            good = false;
        }
        if v.kind == RawVenueKind::OkxSpot
            && v.private_ws_url.is_none()
            && first_of_name
            && matches!(mode, Some(RawMode::Live | RawMode::Sim))
            && raw.strategies.ok().any(|(_, s)| s.venue == v.name)
        {
            errors.push(
                p("private_ws_url"),
                "okx-spot orders, fills and balances go over OKX's private WebSocket: set \
                 private_ws_url, e.g. \"wss://ws.okx.com:8443/ws/v5/private\"",
            );
            good = false;
        }
        if raw.instruments.all_ok() && !raw.instruments.ok().any(|(_, ins)| ins.venue == v.name) {
            errors.push(
                path.clone(),
                format!(
                    "venue {:?} has no instruments: add an [[instruments]] with venue = {:?}, or \
                     remove the venue",
                    v.name, v.name
                ),
            );
            good = false;
        }
        match (good, id, recv_window, credentials, fills_poll) {
            (true, Ok(id), Ok(recv_window), Ok(credentials), Ok(fills_poll)) => {
                out.push(VenueConfig {
                    id: VenueId(id),
                    name: v.name.clone(),
                    kind: match v.kind {
                        RawVenueKind::BinanceSpot => VenueKind::BinanceSpot,
                        RawVenueKind::OkxSpot => VenueKind::OkxSpot,
                        RawVenueKind::Coinbase => VenueKind::Coinbase,
                        RawVenueKind::BitmartSpot => VenueKind::BitmartSpot,
                        RawVenueKind::BybitSpot => VenueKind::BybitSpot,
                        RawVenueKind::BybitLinear => VenueKind::BybitLinear,
                        RawVenueKind::DeltaIndia => VenueKind::DeltaIndia,
                        RawVenueKind::DeltaGlobal => VenueKind::DeltaGlobal,
                        RawVenueKind::CoindcxFutures => VenueKind::CoindcxFutures,
                        RawVenueKind::CoinstoreSpot => VenueKind::CoinstoreSpot,
                    },
                    ws_url: v.ws_url.clone(),
                    rest_url: v.rest_url.clone(),
                    ws_api_url: v.ws_api_url.clone(),
                    order_transport,
                    streams,
                    credentials,
                    recv_window,
                    cancel_unknown_orders: v.cancel_unknown_orders,
                    private_ws_url: v.private_ws_url.clone(),
                    demo_trading: v.demo_trading.unwrap_or(false),
                    fills_poll,
                    book_stale_after: book_stale_after.unwrap_or(None),
                    margin_currency: margin_currency.unwrap_or(None),
                })
            }
            _ => ok = false,
        }
    }
    if ok { Ok(out) } else { Err(Reported) }
}

fn credentials(
    errors: &mut ConfigErrors,
    path: &str,
    v: &RawVenue,
) -> Checked<Option<Credentials>> {
    let key = fields::secret_source(
        errors,
        path,
        "api_key",
        v.api_key_env.as_deref(),
        v.api_key_file.as_deref(),
    );
    let secret = fields::secret_source(
        errors,
        path,
        "api_secret",
        v.api_secret_env.as_deref(),
        v.api_secret_file.as_deref(),
    );
    let passphrase = fields::secret_source(
        errors,
        path,
        "passphrase",
        v.passphrase_env.as_deref(),
        v.passphrase_file.as_deref(),
    );
    let memo = fields::secret_source(
        errors,
        path,
        "memo",
        v.memo_env.as_deref(),
        v.memo_file.as_deref(),
    );
    // A key or secret written inline was already reported, with what to write instead.
    let inline = |k: &str| errors.has(&join(path, k));
    if inline("api_key") || inline("api_secret") || inline("secret") || inline("passphrase") {
        return Err(Reported);
    }
    let passphrase = passphrase?;
    let memo = memo?;
    if v.kind == RawVenueKind::BitmartSpot
        && key.as_ref().is_ok_and(Option::is_some)
        && memo.is_none()
    {
        errors.push(
            join(path, "memo_env"),
            "is missing: a BitMart API key needs the memo chosen with it, which is signed into \
             every request (memo_env or memo_file)",
        );
        return Err(Reported);
    }
    if v.kind == RawVenueKind::OkxSpot
        && key.as_ref().is_ok_and(Option::is_some)
        && passphrase.is_none()
    {
        errors.push(
            join(path, "passphrase_env"),
            "is missing: an OKX API key needs the passphrase chosen with it (passphrase_env \
             or passphrase_file)",
        );
        return Err(Reported);
    }
    let ed25519 = match v.api_key_type.as_deref() {
        None | Some("hmac") => false,
        Some("ed25519") if v.kind != RawVenueKind::BinanceSpot => {
            errors.push(
                join(path, "api_key_type"),
                "\"ed25519\" is built for binance-spot only (Coinbase reads the key type from the key itself)",
            );
            return Err(Reported);
        }
        Some("ed25519") if v.order_transport != super::raw::RawOrderTransport::WsApi => {
            errors.push(
                join(path, "api_key_type"),
                "\"ed25519\" needs order_transport = \"ws-api\" (REST orders are signed with HMAC only)",
            );
            return Err(Reported);
        }
        Some("ed25519") => true,
        Some(other) => {
            errors.push(
                join(path, "api_key_type"),
                format!("{other:?} is not \"hmac\" or \"ed25519\""),
            );
            return Err(Reported);
        }
    };
    if v.user_id.is_some() && v.kind != RawVenueKind::CoinstoreSpot {
        errors.push(
            join(path, "user_id"),
            "applies to coinstore-spot only (its private WebSocket's LOGIN names the user id)",
        );
        return Err(Reported);
    }
    match (key?, secret?) {
        (Some(api_key), Some(api_secret)) => Ok(Some(Credentials {
            api_key,
            api_secret,
            passphrase,
            memo,
            ed25519,
            user_id: v.user_id,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => {
            errors.push(
                join(path, "api_secret_env"),
                "is missing: an API key needs its secret (api_secret_env or api_secret_file)",
            );
            Err(Reported)
        }
        (None, Some(_)) => {
            errors.push(
                join(path, "api_key_env"),
                "is missing: an API secret needs its key (api_key_env or api_key_file)",
            );
            Err(Reported)
        }
    }
}

fn instruments(raw: &RawConfig, errors: &mut ConfigErrors) -> Checked<Vec<Instrument>> {
    let list = &raw.instruments;
    let mut ok = list.all_ok();
    let mut out = Vec::with_capacity(list.items.len());
    for (i, r) in list.ok() {
        let path = format!("instruments[{i}]");
        let p = |k: &str| join(&path, k);
        let mut good = true;
        let venue = raw
            .venues
            .ok()
            .find(|(_, v)| v.name == r.venue)
            .map(|(j, _)| j);
        if venue.is_none() && !raw.venues.is_broken(&r.venue) {
            let names: Vec<&str> = raw.venues.ok().map(|(_, v)| v.name.as_str()).collect();
            errors.push(
                p("venue"),
                format!("no venue {:?}; the venues are {names:?}", r.venue),
            );
            good = false;
        }
        for (k, value) in [
            ("symbol", &r.symbol),
            ("base", &r.base),
            ("quote", &r.quote),
        ] {
            good &= fields::non_empty(errors, &p(k), value).is_ok();
        }
        good &= first_of(
            errors,
            list,
            i,
            p("symbol"),
            |r| (r.venue.as_str(), r.symbol.as_str()),
            &format!("{:?} on venue {:?}", r.symbol, r.venue),
        );
        let id = dense::<u32>(errors, &path, i);
        let tick = fields::positive_price(errors, &p("tick_size"), &r.tick_size);
        let lot = fields::positive_qty(errors, &p("lot_size"), &r.lot_size);
        let min_qty = fields::opt_qty(errors, &p("min_qty"), r.min_qty.as_ref());
        let max_qty = fields::opt_qty(errors, &p("max_qty"), r.max_qty.as_ref());
        let min_price = fields::opt_price(errors, &p("min_price"), r.min_price.as_ref());
        let max_price = fields::opt_price(errors, &p("max_price"), r.max_price.as_ref());
        let min_notional = fields::opt_price(errors, &p("min_notional"), r.min_notional.as_ref());
        let (
            Some(venue),
            Ok(id),
            Ok(tick),
            Ok(lot),
            Ok(min_qty),
            Ok(max_qty),
            Ok(min_price),
            Ok(max_price),
            Ok(min_notional),
        ) = (
            venue,
            id,
            tick,
            lot,
            min_qty,
            max_qty,
            min_price,
            max_price,
            min_notional,
        )
        else {
            ok = false;
            continue;
        };
        let Ok(venue) = u16::try_from(venue) else {
            ok = false;
            continue;
        };
        let mut ins = match Instrument::new(
            InstrumentId(id),
            VenueId(venue),
            &r.symbol,
            &r.base,
            &r.quote,
            tick,
            lot,
        ) {
            Ok(ins) => ins,
            Err(e) => {
                errors.push(&path, e.to_string());
                ok = false;
                continue;
            }
        };
        // Limits sit on the grid, and maxima above minima.
        let mut limit = |key: &str, on_grid: bool, above_min: bool, what: &str| {
            if !on_grid {
                errors.push(p(key), format!("must be a multiple of {what}"));
                good = false;
            }
            if !above_min {
                errors.push(
                    p(key),
                    format!("must not be below {}", key.replace("max", "min")),
                );
                good = false;
            }
        };
        if let Some(q) = min_qty {
            limit("min_qty", q.is_multiple_of(lot), true, "lot_size");
            ins.min_qty = q;
        }
        if let Some(q) = max_qty {
            limit(
                "max_qty",
                q.is_multiple_of(lot),
                q >= ins.min_qty,
                "lot_size",
            );
            ins.max_qty = q;
        }
        if let Some(px) = min_price {
            limit("min_price", px.is_multiple_of(tick), true, "tick_size");
            ins.min_price = px;
        }
        if let Some(px) = max_price {
            limit(
                "max_price",
                px.is_multiple_of(tick),
                px >= ins.min_price,
                "tick_size",
            );
            ins.max_price = px;
        }
        if let Some(n) = min_notional {
            ins.min_notional = n;
        }
        good &= super::contract::read(r, &path, errors, &mut ins);
        if good {
            out.push(ins);
        } else {
            ok = false;
        }
    }
    if ok { Ok(out) } else { Err(Reported) }
}

/// The actors the config implies, as far as the raw sections say.
fn implied_actors(raw: &RawConfig) -> Actors<'_> {
    // A section that failed to read may have implied its actor: accept its placement.
    let persist = match &raw.persistence {
        RawSection::Ok(p) => p.enabled.unwrap_or(true),
        RawSection::Absent | RawSection::Broken => true,
    };
    let status = match &raw.status {
        RawSection::Ok(s) => s.bind.is_some() || s.console_interval.is_some(),
        RawSection::Absent => false,
        RawSection::Broken => true,
    };
    let notify = match &raw.notifications {
        RawSection::Ok(n) => n.telegram.is_some(),
        RawSection::Absent => false,
        RawSection::Broken => true,
    };
    let mut broken: Vec<&str> = raw.venues.broken_names.iter().map(String::as_str).collect();
    broken.extend(raw.strategies.broken_names.iter().map(String::as_str));
    Actors {
        venues: raw
            .venues
            .items
            .iter()
            .map(|v| v.as_ref().map_or("", |v| v.name.as_str()))
            .collect(),
        strategies: raw
            .strategies
            .items
            .iter()
            .map(|s| s.as_ref().map_or("", |s| s.id.as_str()))
            .collect(),
        broken,
        incomplete: !raw.venues.all_ok()
            || !raw.strategies.all_ok()
            || matches!(raw.persistence, RawSection::Broken)
            || matches!(raw.status, RawSection::Broken)
            || matches!(raw.notifications, RawSection::Broken),
        persist,
        status,
        notify,
    }
}
