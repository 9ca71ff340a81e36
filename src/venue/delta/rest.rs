//! Delta Exchange order entry and queries over REST as pure code (reference/delta.md §2, §4,
//! §6): each request's JSON body, query string or path parameter built into the caller's
//! buffer and signed over exactly those bytes (`signature` = hex HMAC-SHA256 of `METHOD +
//! timestamp + path + query + body`, with `api-key`, `timestamp` and a `User-Agent` on every
//! request), and the answers (`{"success":true,"result":…}` or `{"success":false,"error":…}`,
//! the error an object with a `code` or a flat string) mapped into the gateway's
//! `SessionEvent`s. The gateway of a `delta-india` or `delta-global` venue sends its orders
//! here; fills, order changes and margins arrive on the private WebSocket (`session.rs`).
//!
//! Endpoints the gateway drives: `POST /v2/orders` (by `product_symbol`, `size` in whole
//! contracts, `limit_order` with `time_in_force` `gtc`/`ioc` and `post_only`, or
//! `market_order`; `reduce_only`; `client_order_id` is mako's client id), `DELETE /v2/orders`
//! with the JSON body `{"client_order_id","product_symbol"}`, `GET
//! /v2/orders/client_order_id/{id}` (status; also the order's fees: see below), `GET
//! /v2/orders?states=open,pending` (open orders), `GET /v2/wallet/balances`, and for
//! perpetuals (`rest_perp.rs`) `GET /v2/products/{symbol}` (the product id, learned once),
//! `POST /v2/products/{id}/orders/leverage` (the configured leverage at start) and `GET
//! /v2/positions?product_id=` (the sweep's position). Encoded and decoded here but not called
//! by the gateway: `DELETE /v2/orders/all`, `GET /v2/positions/margined` and `GET /v2/fills`
//! ([`DeltaRest::cancel_all`], [`DeltaRest::margined_positions`], [`DeltaRest::fills`], each
//! with its decoder).
//!
//! Quantities: Delta counts derivatives in whole contracts, and so does a mako instrument
//! with `qty_unit = "contracts"` (its `contract_size` converts to base exactly, in
//! `types::perp`): `size` is the engine's quantity written as an integer. A fractional
//! quantity is written as it is and the venue refuses it (`bad_schema`).
//!
//! Outcomes: the documented refusals (§6.1: margin, liquidity, risk limits, contract,
//! liquidation, post-only, schema, key, signature, expiry, IP whitelist, CDN 403) reject;
//! `open_order_not_found` (and an HTTP 404 on the order lookup) mean no such order; HTTP 429
//! backs off for `X-RATE-LIMIT-RESET` ms and leaves the request's outcome unknown; any code
//! the reference does not list (`unavailable` included), a 5xx, a timeout or a lost
//! connection leave the order unknown: it is queried by client id, never assumed rejected.
//!
//! **Unconfirmed against the live venue** (kept here, repeated in the README's venue row):
//! - Orders, cancels and queries name the product by symbol (`product_symbol`), never by id:
//!   the docs allow it on orders; on a cancel their sample sends `product_id`, so the symbol
//!   there is a reading. Product ids are needed only by the leverage and position requests,
//!   which learn them from the venue (`rest_perp.rs`).
//! - Cancel by `client_order_id` alone (no `id`): implied by the schema, not described.
//! - `GET /v2/orders/client_order_id/{id}` is read as finding closed and cancelled orders
//!   too ("latest state"); a 404 or `open_order_not_found` there is read as no such order.
//! - Fees: `GET /v2/fills` documents no order filter, so an order's fees are its own
//!   `paid_commission` ("Commission paid for filled order"), in the product's settling asset
//!   (the instrument's `settle`), handed to the gateway as one entry for the whole order.
//! - Open orders: pages of 50 (the cap since 2026-01) followed by `meta.after` and merged
//!   (`rest_pages.rs`), filtered by symbol here.
//! - `average_fill_price` is the only cumulative price Delta reports: the order's quote is
//!   `filled × average_fill_price`, exact when the average is (a venue rounding it makes the
//!   quote off by that rounding).
//! - An IOC order's unfilled remainder: read from the order's `state` as `cancelled` (the
//!   docs do not say how Delta reports it), so the engine holds it as cancelled.
//! - The weight budget (10,000 per 5 minutes) is counted on the engine's side from the
//!   documented weights (`rest_pages.rs`); the venue reports no usage.

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::{OrderEvent, OrderKind, SnapshotStatus};
use crate::types::{
    AssetCode, ClientOrderId, Notional, Price, Qty, Side, TimeInForce, TradeId, UnixNanos,
    VenueOrderId,
};
use crate::venue::decimal::floor8;
use crate::venue::order::{Balance, OrderSnapshot, PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::pages::Pager;
use crate::venue::rest::{
    Answer, Class, Inflight, Method, RateHeaders, RatePolicy, RestCodec, RestHead, RestPlan,
    SignedHeaders, unknown_outcome as unknown,
};
use crate::venue::windows::RateWindows;

use super::sign::{DeltaSigner, USER_AGENT};

/// What a Delta error code means for the request (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Refused, nothing done.
    Rejected,
    /// No such (open) order.
    NotFound,
    /// Not known to refuse: the request may have been executed.
    Unknown,
}

/// The class of an error code as the reference lists it; anything else is unknown.
pub fn classify(code: &str) -> ErrorClass {
    match code {
        "open_order_not_found" => ErrorClass::NotFound,
        "insufficient_margin"
        | "order_size_exceed_available"
        | "risk_limits_breached"
        | "invalid_contract"
        | "immediate_liquidation"
        | "out_of_bankruptcy"
        | "self_matching_disrupted_post_only"
        | "immediate_execution_post_only"
        | "bad_schema"
        | "invalid_api_key"
        | "InvalidApiKey"
        | "invalid_signature"
        | "Signature Mismatch"
        | "SignatureExpired"
        | "expired_signature"
        | "ip_not_whitelisted_for_api_key"
        | "UnauthorizedApiAccess"
        | "unauthorized"
        | "Forbidden" => ErrorClass::Rejected,
        _ => ErrorClass::Unknown,
    }
}

/// Numeric stand-ins for Delta's string codes in `VenueError.code` (the text is in `msg`).
fn code_number(code: &str) -> i32 {
    match classify(code) {
        ErrorClass::Rejected => 400,
        ErrorClass::NotFound => 404,
        ErrorClass::Unknown => 0,
    }
}

/// `X-RATE-LIMIT-RESET`: milliseconds until the quota refills (§6.2), read as whole seconds
/// rounded up.
fn rate_headers(pairs: &[(&str, &[u8])]) -> RateHeaders {
    let mut h = RateHeaders::default();
    for &(name, value) in pairs {
        if name.eq_ignore_ascii_case("x-rate-limit-reset") {
            h.retry_after_s = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|ms| ms.div_ceil(1000).max(1));
        }
    }
    h
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The REST side of one Delta key.
pub struct DeltaRest {
    signer: DeltaSigner,
    /// Settling asset of each symbol traded (the instrument's `settle`): an order's fees.
    settle: Vec<(String, AssetCode)>,
    /// Product ids learned from the venue (`rest_perp.rs`).
    products: perp::Products,
    /// Venue order ids learned from answers: the edit names the order by id (`rest_edit.rs`).
    venue_ids: edit::VenueIds,
    /// Batch requests' client ids, reused (`rest_edit.rs`).
    batches: crate::venue::order::BatchPool,
    inflight: Inflight,
    policy: RatePolicy,
    /// The open orders' pages and the weight budget (`rest_pages.rs`).
    pages: Pager<OrderSnapshot>,
    windows: RateWindows,
}

const ORDERS: &str = "/v2/orders";
const BY_CLIENT_ID: &str = "/v2/orders/client_order_id/";
const BALANCES: &str = "/v2/wallet/balances";

impl DeltaRest {
    /// `settle`: each symbol's settling asset (fees are charged in it).
    pub fn new(signer: DeltaSigner, settle: Vec<(String, AssetCode)>) -> Self {
        Self {
            signer,
            settle,
            products: perp::Products::default(),
            venue_ids: edit::VenueIds::default(),
            batches: Default::default(),
            inflight: Inflight::default(),
            // Delta reports no usage: the weights are counted in `windows`.
            policy: RatePolicy::new(u32::MAX),
            pages: Pager::default(),
            windows: pages::budget(),
        }
    }

    /// The `signature` and `timestamp` headers of a request at `now_ms`: `path` is the
    /// static path, `tail` what follows it (a `GetPath` segment, `?` + query, or the body).
    fn sign(&self, method: Method, path: &str, buf: &[u8], now_ms: u64) -> SignedHeaders {
        let ts = now_ms / 1000;
        let sig = match method {
            Method::Get | Method::Delete if !buf.is_empty() => {
                self.signer
                    .sign_segments(method.as_str(), ts, &[path.as_bytes(), b"?", buf])
            }
            _ => self
                .signer
                .sign_segments(method.as_str(), ts, &[path.as_bytes(), buf]),
        };
        let mut t = [0u8; 20];
        let mut signed = SignedHeaders::default();
        signed.push("signature", &sig);
        signed.push("timestamp", super::sign::digits(ts, &mut t));
        signed
    }

    fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        buf: &[u8],
        now_ms: u64,
    ) -> RestHead {
        let signed = self.sign(method, path, buf, now_ms);
        RestHead {
            id: self.inflight.insert(p),
            method,
            path,
            class,
            signed,
            bearer: false,
        }
    }

    fn settle_of(&self, symbol: &str) -> Option<AssetCode> {
        self.settle
            .iter()
            .find(|(s, _)| s == symbol)
            .map(|(_, a)| *a)
    }
}

impl RestCodec for DeltaRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: vec![
                ("api-key", self.signer.api_key().to_owned()),
                ("User-Agent", USER_AGENT.to_owned()),
            ],
            content_type: "application/json",
            // Public and cheap (weight 1): the venue's clock (CCXT's fetchTime).
            warm_path: "/v2/settings",
            keepalive_path: "/v2/settings",
            rate_headers,
            bearer: None,
        }
    }

    /// `POST /v2/orders` (weight 5).
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        let side = match o.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let mut n = [0u8; 48];
        buf.clear();
        let _ = write!(Buf(buf), r#"{{"product_symbol":"{}","size":"#, o.symbol);
        // Whole contracts as an integer; anything else as it is (the venue refuses it).
        let decimals = if o.qty.units() % crate::types::SCALE == 0 {
            0
        } else {
            o.qty.decimals_needed()
        };
        let k = o.qty.write_fixed(decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        let _ = write!(Buf(buf), r#","side":"{side}""#);
        if o.kind == OrderKind::Market {
            buf.extend_from_slice(br#","order_type":"market_order""#);
        } else {
            buf.extend_from_slice(br#","order_type":"limit_order","limit_price":""#);
            let k = o.price.write_fixed(o.price_decimals, &mut n);
            buf.extend_from_slice(&n[..k]);
            // FOK was removed (changelog 01.05.2024): sent as asked, the venue refuses it.
            let tif = match (o.kind, o.tif) {
                (OrderKind::Limit, TimeInForce::Ioc) => "ioc",
                (OrderKind::Limit, TimeInForce::Fok) => "fok",
                _ => "gtc",
            };
            let _ = write!(Buf(buf), r#"","time_in_force":"{tif}""#);
            if o.kind == OrderKind::LimitMaker {
                buf.extend_from_slice(br#","post_only":true"#);
            }
        }
        if o.reduce_only {
            buf.extend_from_slice(br#","reduce_only":true"#);
        }
        let _ = write!(Buf(buf), r#","client_order_id":"{}"}}"#, o.cid.as_str());
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            ORDERS,
            Class::Order,
            buf,
            now_ms,
        )
    }

    /// `DELETE /v2/orders` `{"client_order_id":…,"product_symbol":…}` (weight 5).
    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"client_order_id":"{}","product_symbol":"{symbol}"}}"#,
            cid.as_str()
        );
        self.finish(
            Purpose::Cancel(*cid),
            Method::DeleteJson,
            ORDERS,
            Class::Order,
            buf,
            now_ms,
        )
    }

    /// `GET /v2/orders/client_order_id/{cid}` (weight 1).
    fn status(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        buf.extend_from_slice(cid.as_str().as_bytes());
        self.finish(
            Purpose::Status(*cid),
            Method::GetPath,
            BY_CLIENT_ID,
            Class::Query,
            buf,
            now_ms,
        )
    }

    /// The order's fees: the same lookup as `status`, read for its `paid_commission`.
    fn trades(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        _venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        buf.extend_from_slice(cid.as_str().as_bytes());
        self.finish(
            Purpose::Trades(*cid),
            Method::GetPath,
            BY_CLIENT_ID,
            Class::Query,
            buf,
            now_ms,
        )
    }

    /// `GET /v2/orders?states=open,pending&page_size=50` (weight 3), filtered by symbol.
    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        pages::write_open_query(buf, None);
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            ORDERS,
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    /// `GET /v2/wallet/balances` (weight 3).
    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        self.finish(
            Purpose::Account,
            Method::Get,
            BALANCES,
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    /// `GET /v2/positions?product_id=` (weight 3), after the product's lookup.
    fn amends_in_place(&self) -> bool {
        true
    }

    /// `PUT /v2/orders` by venue id to the new price and total size (weight 5); a status
    /// query instead while the venue id is not known (`rest_edit.rs`).
    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        match self.venue_ids.get(o.cid) {
            Some(id) => {
                edit::write_edit(buf, id, o);
                Some(self.finish(
                    Purpose::Amend(*o.cid),
                    Method::Put,
                    ORDERS,
                    Class::Order,
                    buf,
                    now_ms,
                ))
            }
            None => Some(self.status(o.symbol, o.cid, now_ms, buf)),
        }
    }

    fn batch_limit(&self) -> usize {
        self.batch_cap()
    }

    fn batchable(&self, o: &PlaceOrder<'_>) -> bool {
        Self::fits_batch(o)
    }

    /// `POST /v2/orders/batch` (weight 25; `rest_edit.rs`).
    fn place_batch(
        &mut self,
        o: &[PlaceOrder<'_>],
        ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        self.place_batch_request(o, ms, buf)
    }

    /// `DELETE /v2/orders/batch` (weight 25; `rest_edit.rs`).
    fn cancel_batch(
        &mut self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        self.cancel_batch_request(symbol, cids, now_ms, buf)
    }

    fn positions(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        Some(self.position_request(symbol, now_ms, buf))
    }

    /// `POST /v2/products/{id}/orders/leverage` (weight 1), after the product's lookup.
    fn set_leverage(
        &mut self,
        symbol: &str,
        leverage: crate::types::Rate,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<RestHead> {
        Some(self.leverage_request(symbol, leverage, now_ms, buf))
    }

    fn next_page(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        self.next_open_page(now_ms, buf)
    }

    fn windows(&mut self) -> Option<&mut RateWindows> {
        Some(&mut self.windows)
    }

    fn windows_ref(&self) -> Option<&RateWindows> {
        Some(&self.windows)
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        self.products.take_lookup(id);
        self.inflight.take(id)
    }

    fn on_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        if let Answer::Http {
            status, headers, ..
        } = answer
            && let Some(ms) = self.policy.note(status, &headers, at)
        {
            out.push(SessionEvent::RateLimited { retry_after_ms: ms });
        }
        if id == 0 {
            return;
        }
        let lookup = self.products.take_lookup(id);
        let Some(purpose) = self.inflight.take(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let (status, body) = match answer {
            Answer::Http { status, .. } if status >= 500 || status == 429 => {
                return unknown(purpose, out);
            }
            Answer::Http { status, body, .. } => (status, body),
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => {
                let error = VenueError {
                    code: 429,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                return refused(purpose, error, "", at, out);
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            // The CDN's 403 is an HTML page (3P-NOTES): blocked, nothing done.
            Err(_) if status == 403 => {
                let error = VenueError {
                    code: 403,
                    msg: "Forbidden: request blocked by CDN".into(),
                };
                return refused(purpose, error, "Forbidden", at, out);
            }
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return unknown(purpose, out);
            }
        };
        if v.get("success").and_then(Value::as_bool) != Some(true) {
            let code = error_code(&v);
            // The order lookup answers an unknown client id with a 404 (a reading).
            let code = if code.is_empty() && status == 404 {
                "open_order_not_found".to_owned()
            } else {
                code
            };
            let error = VenueError {
                code: code_number(&code),
                msg: if code.is_empty() {
                    format!("HTTP {status} without an error code")
                } else {
                    code.clone()
                },
            };
            return refused(purpose, error, &code, at, out);
        }
        let result = v.get("result").unwrap_or(&Value::Null);
        let decoded: Result<Vec<SessionEvent>, String> = match &purpose {
            _ if lookup.is_some() => {
                let symbol = lookup.unwrap_or_default();
                self.on_product(&symbol, &purpose, result)
            }
            Purpose::Place(cid) => match result.get("id").and_then(Value::as_u64) {
                // The answer is the order as it stands: an IOC may already be filled.
                Some(id) => venue_id(id)
                    .inspect(|_| self.venue_ids.learn(*cid, id))
                    .map(|venue_order_id| match order(result) {
                        Ok(Some(o)) if o.cid == *cid && o.status != SnapshotStatus::Open => {
                            vec![SessionEvent::Order {
                                cid: *cid,
                                event: o.event(at),
                            }]
                        }
                        _ => vec![SessionEvent::Order {
                            cid: *cid,
                            event: OrderEvent::Accepted { venue_order_id, at },
                        }],
                    }),
                None => Ok(vec![SessionEvent::Uncertain { cid: *cid }]),
            },
            // Accepted: the order's end comes from the private stream or a query.
            Purpose::Cancel(_) => Ok(Vec::new()),
            Purpose::Status(cid) | Purpose::Amend(cid) => order(result).map(|o| {
                if let (Some(o), Some(id)) = (&o, result.get("id").and_then(Value::as_u64))
                    && o.cid == *cid
                {
                    self.venue_ids.learn(*cid, id);
                }
                vec![match o {
                    Some(o) if o.cid == *cid => SessionEvent::Order {
                        cid: *cid,
                        event: o.event(at),
                    },
                    _ => SessionEvent::NotFound { cid: *cid },
                }]
            }),
            Purpose::Trades(cid) => fees(
                result,
                self.settle_of(text(result, "product_symbol").unwrap_or("")),
            )
            .map(|t| {
                vec![SessionEvent::Trades {
                    cid: *cid,
                    trades: t,
                }]
            }),
            Purpose::OpenOrders(symbol) => self.open_page(id, symbol, result, v.get("meta")),
            Purpose::Account => balances(result).map(|b| vec![SessionEvent::Balances(b)]),
            Purpose::Positions(symbol) => perp::position_answer(symbol, result),
            Purpose::SetLeverage { symbol, leverage } => {
                perp::leverage_answer(symbol, *leverage, result)
            }
            Purpose::Subscribe | Purpose::Logon | Purpose::AmendBatch(_) => Ok(Vec::new()),
            Purpose::PlaceBatch(_) | Purpose::CancelBatch(_) => {
                self.batch_answer(&purpose, result, at)
            }
        };
        match decoded {
            Ok(evs) => {
                out.extend(evs);
                self.recycle(purpose);
            }
            Err(e) => {
                out.push(SessionEvent::Undecodable(e));
                unknown(purpose, out);
            }
        }
    }

    fn policy(&self) -> &RatePolicy {
        &self.policy
    }
}

#[path = "rest_admin.rs"]
mod admin;
#[path = "rest_edit.rs"]
mod edit;
#[path = "rest_pages.rs"]
pub mod pages;
#[path = "rest_perp.rs"]
mod perp;
pub use admin::{
    OwnRequest, VenueFill, VenuePosition, decode_fills, decode_leverage, decode_positions,
};
pub use edit::{BATCH_MAX, BatchError};
pub use perp::Product;
#[path = "rest_fields.rs"]
mod fields;
use fields::*;
pub(super) use fields::{balance, balances, order};

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
