//! The one place that matches on venue kind: which `MarketData` (codec and book-sync rule) a
//! venue's feed runs, and which `OrderSession` its gateway runs. The feed and gateway actors
//! are written once, generic over the seam (statically dispatched).

use std::sync::Arc;

use crate::config::{OrderTransport, VenueKind};
use crate::feed::actor::{FeedActor, FeedError, FeedSpec, FeedStats};
use crate::gateway::{EventSender, Gateway, GatewaySpec};
use crate::latency::{ClockOffset, Recorder};
use crate::runtime::{Actor, Tx};
use crate::status::StatusUpdate;
use crate::venue::binance::handler::SpotMdHandler;
use crate::venue::binance::rest::BinanceRest;
use crate::venue::binance::session::Session;
use crate::venue::binance::sign::HmacSigner;
use crate::venue::bitmart::BitmartMd;
use crate::venue::bitmart::rest::BitmartRest;
use crate::venue::bitmart::session::BitmartSession;
use crate::venue::bybit::rest::BybitRest;
use crate::venue::bybit::session::BybitSession;
use crate::venue::bybit::sign::BybitSigner;
use crate::venue::bybit::{BybitMd, Category};
use crate::venue::coinbase::CoinbaseMd;
use crate::venue::coinbase::jwt::JwtSigner;
use crate::venue::coinbase::rest::CoinbaseRest;
use crate::venue::coinbase::session::CoinbaseUserSession;
use crate::venue::coindcx::CoindcxMd;
use crate::venue::coinstore::CoinstoreMd;
use crate::venue::coinstore::rest::CoinstoreRest;
use crate::venue::coinstore::session::CoinstoreSession;
use crate::venue::coinstore::sign::CoinstoreSigner;
use crate::venue::delta::rest::DeltaRest;
use crate::venue::delta::session::DeltaSession;
use crate::venue::delta::sign::DeltaSigner;
use crate::venue::delta::{DeltaMd, Platform};
use crate::venue::md::MarketData;
use crate::venue::okx::{OkxMd, OkxRest, OkxSession};
use crate::venue::order::AmendLimits;
use crate::venue::order::OrderSession;
use crate::venue::rest::RestCodec;

/// The feed of `spec.venue`, boxed for its host, and its counters.
pub fn feed(spec: FeedSpec) -> Result<(Box<dyn Actor>, Arc<FeedStats>), FeedError> {
    let limits = spec.options.sync_limits;
    match spec.venue.kind {
        VenueKind::BinanceSpot => {
            let md = SpotMdHandler::for_venue(&spec.venue, &spec.instruments, limits)
                .map_err(|e| FeedError::Venue(e.to_string()))?;
            boxed(spec, md)
        }
        VenueKind::OkxSpot => {
            let md = OkxMd::for_venue(&spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
        VenueKind::Coinbase => {
            let md = CoinbaseMd::for_venue(&spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
        VenueKind::BitmartSpot => {
            let md = BitmartMd::for_venue(&spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
        VenueKind::CoinstoreSpot => {
            let md = CoinstoreMd::for_venue(&spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
        VenueKind::BybitSpot | VenueKind::BybitLinear => {
            let category = match spec.venue.kind {
                VenueKind::BybitLinear => Category::Linear,
                _ => Category::Spot,
            };
            let md = BybitMd::for_venue(category, &spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => {
            let platform = match spec.venue.kind {
                VenueKind::DeltaGlobal => Platform::Global,
                _ => Platform::India,
            };
            let md = DeltaMd::for_venue(platform, &spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
        VenueKind::CoindcxFutures => {
            let md = CoindcxMd::for_venue(&spec.venue, &spec.instruments, limits);
            boxed(spec, md)
        }
    }
}

fn boxed<M: MarketData>(
    spec: FeedSpec,
    md: M,
) -> Result<(Box<dyn Actor>, Arc<FeedStats>), FeedError> {
    let feed = FeedActor::new(spec, md)?;
    let stats = feed.stats();
    Ok((Box::new(feed), stats))
}

/// Whether this build can send orders to a venue of `kind` (live or against the simulator).
pub fn order_gateway_built(kind: VenueKind) -> bool {
    match kind {
        VenueKind::BinanceSpot => true,
        VenueKind::OkxSpot => true,
        VenueKind::Coinbase => true,
        VenueKind::BitmartSpot => true,
        VenueKind::BybitSpot | VenueKind::BybitLinear => true,
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => true,
        VenueKind::CoindcxFutures => true,
        VenueKind::CoinstoreSpot => true,
    }
}

/// Which amends the gateway of `venue` makes in place (`None`: none, a strategy's amend is
/// cancel + new): OKX any, over its private WebSocket or REST; Bybit any over its trade
/// WebSocket or REST; Delta and CoinDCX any over REST; Binance a smaller quantity at the same
/// price, keeping the order's queue place.
pub fn amends_in_place(venue: &crate::config::VenueConfig) -> Option<AmendLimits> {
    match venue.kind {
        // Only a smaller quantity at the same price (`order.amend.keepPriority`); any other
        // amend is a cancel-replace.
        VenueKind::BinanceSpot => Some(AmendLimits::QuantityDownOnly),
        VenueKind::OkxSpot => Some(AmendLimits::Any),
        VenueKind::Coinbase => None,
        VenueKind::BitmartSpot => None,
        // Over the trade WebSocket (`order.amend`) or REST (`POST /v5/order/amend`).
        VenueKind::BybitSpot | VenueKind::BybitLinear => Some(AmendLimits::Any),
        // `PUT /v2/orders`: a new price and total size (venue/delta/rest_edit.rs).
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => Some(AmendLimits::Any),
        // `POST /orders/edit` by the venue id: a new price and total quantity, for USDT margin
        // only as the docs say (venue/coindcx/rest_list.rs); INR-margined orders are re-priced
        // by cancel + new.
        VenueKind::CoindcxFutures => {
            crate::venue::coindcx::edits_margin(venue.margin_currency.as_deref())
                .then_some(AmendLimits::Any)
        }
        VenueKind::CoinstoreSpot => None,
    }
}

/// What the engine attaches to every gateway.
pub struct GatewayHooks {
    pub events: EventSender,
    pub clock_offset: Option<ClockOffset>,
    pub status: Option<Tx<StatusUpdate>>,
    pub latency: Option<Recorder>,
}

/// The order gateway of `spec.venue`, boxed for its host.
pub fn gateway(spec: GatewaySpec, hooks: GatewayHooks) -> Result<Box<dyn Actor>, String> {
    let v = &spec.venue;
    match v.kind {
        VenueKind::BinanceSpot => {
            let ws = v.ws_api_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs ws_api_url (the user data stream, and orders \
                     too with order_transport = \"ws-api\")",
                    v.name
                )
            })?;
            let ed25519 = v.credentials.as_ref().is_some_and(|c| c.ed25519);
            let session = if ed25519 {
                Session::new_ed25519(
                    &spec.api_key,
                    &spec.api_secret,
                    v.recv_window.as_millis() as u64,
                )
                .map_err(|e| format!("venue {}: api_key_type = \"ed25519\": {e}", v.name))?
            } else {
                Session::new(
                    &spec.api_key,
                    &spec.api_secret,
                    v.recv_window.as_millis() as u64,
                )
            };
            let rest = (v.order_transport == OrderTransport::Rest).then(|| {
                BinanceRest::new(
                    &spec.api_key,
                    HmacSigner::new(&spec.api_secret),
                    v.recv_window.as_millis() as u64,
                    spec.options.rest.weight_limit,
                )
            });
            finish(Gateway::new(spec, session, &ws, rest)?, hooks)
        }
        VenueKind::OkxSpot => {
            let ws = v.private_ws_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs private_ws_url (login, orders and the orders \
                     channel)",
                    v.name
                )
            })?;
            let passphrase = spec
                .passphrase
                .clone()
                .ok_or_else(|| format!("venue {}: an OKX key needs its passphrase", v.name))?;
            let session = OkxSession::new(&spec.api_key, &spec.api_secret, &passphrase);
            // OKX answers queries only over REST: the REST side is always there, and takes
            // orders too with order_transport = "rest".
            let rest = OkxRest::new(&spec.api_key, &spec.api_secret, &passphrase, v.demo_trading);
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
        VenueKind::Coinbase => {
            let ws = v.private_ws_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs private_ws_url (Coinbase's user channel, \
                     wss://advanced-trade-ws-user.coinbase.com)",
                    v.name
                )
            })?;
            let key = |e: crate::venue::coinbase::jwt::KeyError| {
                format!("venue {}: the CDP key: {e}", v.name)
            };
            let signer = JwtSigner::new(&spec.api_key, &spec.api_secret).map_err(key)?;
            let products = spec
                .instruments
                .iter()
                .filter(|i| i.venue == spec.venue.id)
                .map(|i| i.symbol.to_string())
                .collect();
            let session = CoinbaseUserSession::new(signer.clone(), products);
            // Orders, cancels and queries go over REST; the JWT's uri names the REST host.
            let host = host_of(&v.rest_url);
            let rest = CoinbaseRest::with_signer(signer, host);
            // The instruments checked against the venue's products before the gateway runs.
            let (name, url, id, plan) = (v.name.clone(), v.rest_url.clone(), v.id, rest.plan());
            let mut spec = spec;
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let get = |path, query: &str| {
                let t = std::time::Duration::from_secs(10);
                crate::gateway::rest::get_once(&url, plan, t, path, query, now_ms)
                    .map_err(str::to_owned)
            };
            let warnings =
                crate::venue::coinbase::products::at_start(&mut spec.instruments, id, get)
                    .map_err(|e| format!("venue {name}: the products check at start: {e}"))?;
            for w in warnings {
                tracing::warn!(venue = %name, "{w}");
            }
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
        VenueKind::BitmartSpot => {
            let ws = v.private_ws_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs private_ws_url (BitMart's private WebSocket, \
                     wss://ws-manager-compress.bitmart.com/user?protocol=1.1: login, then \
                     spot/user/order)",
                    v.name
                )
            })?;
            // The key's memo travels in the spec's third credential.
            let memo = spec.passphrase.clone().ok_or_else(|| {
                format!(
                    "venue {}: a BitMart key needs its memo (memo_env or memo_file)",
                    v.name
                )
            })?;
            let symbols = spec
                .instruments
                .iter()
                .filter(|i| i.venue == spec.venue.id)
                .map(|i| i.symbol.to_string())
                .collect();
            let session = BitmartSession::new(&spec.api_key, &spec.api_secret, &memo, symbols);
            // Orders, cancels and queries go over signed REST (BitMart has no WebSocket order
            // entry); order changes and fills arrive on the private WebSocket, whose pushes
            // may come as raw-DEFLATE binary frames (the session inflates them).
            let rest = BitmartRest::new(
                &spec.api_key,
                &spec.api_secret,
                &memo,
                v.recv_window.as_millis() as u64,
            );
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
        VenueKind::BybitSpot | VenueKind::BybitLinear => {
            let category = if v.kind == VenueKind::BybitLinear {
                Category::Linear
            } else {
                Category::Spot
            };
            let ws = v.private_ws_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs private_ws_url (Bybit's private WebSocket, \
                     wss://stream.bybit.com/v5/private: auth, then the order and execution \
                     topics)",
                    v.name
                )
            })?;
            let signer = BybitSigner::new(spec.api_key.expose(), &spec.api_secret);
            let session = BybitSession::new(category, signer.clone());
            let rw = v.recv_window.as_millis() as u64;
            if v.order_transport == OrderTransport::WsApi {
                // Orders, amends and cancels over the trade WebSocket (ws_api_url, opened by
                // the REST worker), queries over signed REST: the gateway sees one REST-side
                // codec, so its transport is REST.
                let url = v.ws_api_url.clone().ok_or_else(|| {
                    format!(
                        "venue {}: order_transport = \"ws-api\" needs ws_api_url (Bybit's \
                         trade WebSocket, wss://stream.bybit.com/v5/trade)",
                        v.name
                    )
                })?;
                let connector = spec.connector.clone();
                let trade = crate::venue::bybit::trade::BybitTrade::new(
                    category, signer, rw, connector, &url,
                )
                .map_err(|e| format!("venue {}: {e}", v.name))?;
                let mut spec = spec;
                spec.venue.order_transport = OrderTransport::Rest;
                return finish(Gateway::new(spec, session, &ws, Some(trade))?, hooks);
            }
            // Orders, cancels and queries go over signed REST; order changes and fills
            // arrive on the private WebSocket.
            let rest = BybitRest::new(category, signer, rw);
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => {
            let platform = if v.kind == VenueKind::DeltaGlobal {
                Platform::Global
            } else {
                Platform::India
            };
            let ws = v.private_ws_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs private_ws_url (Delta's private WebSocket, {}: \
                     auth, then the orders, v2/user_trades, positions and margins channels)",
                    v.name,
                    platform.private_ws()
                )
            })?;
            let mine = || spec.instruments.iter().filter(|i| i.venue == v.id);
            let symbols = mine().map(|i| i.symbol.clone()).collect();
            let settle = mine()
                .map(|i| {
                    crate::types::AssetCode::new(i.settle.as_bytes())
                        .map(|a| (i.symbol.clone(), a))
                        .ok_or_else(|| format!("venue {}: settle asset {:?}", v.name, i.settle))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let signer = DeltaSigner::new(spec.api_key.expose(), &spec.api_secret);
            let values = mine()
                .map(|i| (i.symbol.clone(), i.contract.size))
                .collect();
            let session =
                DeltaSession::new(platform, signer.clone(), symbols).with_contract_values(values);
            // Orders, cancels and queries go over signed REST; order changes, fills and
            // margins arrive on the private WebSocket.
            let rest = DeltaRest::new(signer, settle);
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
        VenueKind::CoindcxFutures => {
            let ws = v.private_ws_url.clone().ok_or_else(|| {
                format!(
                    "venue {}: the gateway needs private_ws_url (CoinDCX's Socket.IO stream, \
                     wss://stream.coindcx.com/socket.io/?EIO=3&transport=websocket: the \
                     coindcx channel)",
                    v.name
                )
            })?;
            // Orders, cancels and queries over signed REST; order and balance updates on the
            // private channel. Both share the book of which venue order is which of mako's.
            let ids = crate::venue::coindcx::ids::SharedIds::default();
            // Orders of a previous run, as the store recovered them: found by the sweep.
            ids.lock().adopt_recovered(&spec.recovered, |i| {
                let inst = spec
                    .instruments
                    .iter()
                    .find(|x| x.id == i && x.venue == v.id)?;
                Some(inst.symbol.clone())
            });
            let signer = crate::venue::coindcx::sign::CoindcxSigner::new(&spec.api_secret);
            let key = spec.api_key.expose();
            // The wallet every private call names (`margin_currency`, default USDT).
            let margin = v
                .margin_currency
                .as_deref()
                .unwrap_or(crate::venue::coindcx::DEFAULT_MARGIN);
            let session = crate::venue::coindcx::session::CoindcxSession::new(
                key,
                signer.clone(),
                ids.clone(),
            )
            .with_margin_currency(margin);
            let rest = crate::venue::coindcx::rest::CoindcxRest::new(key, signer, margin, ids);
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
        VenueKind::CoinstoreSpot => {
            // Without private_ws_url, fills and order changes are polled over REST
            // (venue::coinstore::fills); the private link is never opened.
            let ws = v.private_ws_url.clone();
            // Without configured credentials the engine trades on the simulator's account,
            // whose user id follows from its key. Only the private LOGIN names it.
            let user_id = match &v.credentials {
                Some(c) if ws.is_some() => c.user_id.ok_or_else(|| {
                    format!(
                        "venue {}: the gateway needs user_id (the account's user id, which \
                         Coinstore's private LOGIN names)",
                        v.name
                    )
                })?,
                Some(c) => c.user_id.unwrap_or(0),
                None => crate::sim::coinstore_private::user_id_for_key(spec.api_key.expose()),
            };
            let every = v
                .fills_poll
                .unwrap_or(crate::venue::coinstore::fills::POLL_EVERY);
            let mut spec = spec;
            if ws.is_none() {
                spec.options.fills_poll = Some(every);
            }
            let ws = ws.unwrap_or_default();
            let ids = crate::venue::coinstore::session::Ids::default();
            let session = CoinstoreSession::new(user_id, &spec.api_key, ids.clone());
            // Coinstore takes orders over REST only, whatever order_transport says.
            spec.venue.order_transport = OrderTransport::Rest;
            // Orders, cancels and queries go over signed REST; order changes arrive on the
            // private WebSocket (only the simulator is known to serve it), or by polling.
            let signer = CoinstoreSigner::new(&spec.api_secret);
            let pairs = spec
                .instruments
                .iter()
                .filter(|i| i.venue == spec.venue.id)
                .filter_map(|i| {
                    let asset = |a: &str| crate::types::AssetCode::new(a.as_bytes());
                    Some((i.symbol.clone(), asset(&i.base)?, asset(&i.quote)?))
                })
                .collect();
            let rest = CoinstoreRest::new(&spec.api_key, signer, ids).with_pairs(pairs);
            finish(Gateway::new(spec, session, &ws, Some(rest))?, hooks)
        }
    }
}

/// `host[:port]` of a base URL (`https://api.coinbase.com` → `api.coinbase.com`).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

fn finish<S: OrderSession, C: RestCodec>(
    g: Gateway<S, C>,
    h: GatewayHooks,
) -> Result<Box<dyn Actor>, String> {
    let g = g.with_events(h.events);
    let g = match h.clock_offset {
        Some(o) => g.with_clock_offset(o),
        None => g,
    };
    let g = match h.status {
        Some(tx) => g.with_status(tx),
        None => g,
    };
    let g = match h.latency {
        Some(r) => g.with_latency(r),
        None => g,
    };
    Ok(Box::new(g))
}
