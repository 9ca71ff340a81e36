//! The simulator's Coinbase Advanced Trade private front end, written from Coinbase's
//! documentation (exchanges.md §4.1–4.4), not from the engine's Coinbase codec.
//!
//! **REST** under `/api/v3/brokerage`: every private call carries `Authorization: Bearer
//! <JWT>`, checked as Coinbase does (§4.1): the signature with the account's public key
//! (ES256 or EdDSA), `kid` = `sub` = the key name, `iss = "cdp"`, `nbf <= now < exp`, and
//! `uri` = `"<METHOD> <host><path>"` of this very request (the `Host` it was sent to); any
//! failure is a 401. Endpoints: create order (`limit_limit_gtc` with `post_only`,
//! `limit_limit_fok`, `sor_limit_ioc`, `market_market_ioc`), batch cancel, get order by id,
//! list orders (`order_ids`, `product_ids`, `order_status`), fills, accounts, products and
//! time (no token).
//!
//! **The `user` channel** at `/ws/coinbase-user` (the venue's user-data host has no path):
//! `heartbeats` and `user` subscriptions (the latter with a JWT without `uri`), a snapshot of
//! the open orders in batches of 50 (the first batch with fewer than 50 ends it), then an
//! `update` per order change with cumulative figures and fees. Every message carries the
//! connection's `sequence_num`; a dropped event (the fault) costs one, as a message lost
//! on the way would.
//!
//! Accounts are the simulator's, found by key name (`api_key`); their `secret` is the CDP
//! private key (EC PEM or Ed25519 base64), whose public half checks the tokens. Orders go
//! to the one matching core through its shared operations. The core charges a buy's fee in
//! the base asset (Binance's rule); Coinbase charges fees in the quote currency: fills here
//! report the fee as charged, in `commission`, whatever its asset.
//!
//! A `heartbeats` subscription gets one `heartbeats` message a second (with its counter and
//! the connection's `sequence_num`), and a connection that has subscribed to nothing within
//! the window (5 s) is closed (`super::coinbase_keep`).
//!
//! Lists are paged as the docs describe: the orders list answers at most `limit` orders
//! (or `[sim] list_page_size`, if smaller) newest first with `has_next` and a `cursor` the
//! next request passes as `cursor`; fills likewise (`cursor`, and `has_next` here too). The
//! cursor is the simulator's own opaque token (the last item's sequence: later pages never
//! skip an item when orders come or go between pages).

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::Shared;
use super::exchange::{ApiError, Exchange};
use super::hub::{Mailbox, Outbound};
use super::okx_public::symbol_of;
use super::orders::{Order, OrderType, Status, Tif};
use super::ws::{Queue, Session};
use crate::types::{Price, Side};
use crate::venue::coinbase::jwt::{self, JwtSigner, PublicKey};

mod session;
pub use session::CoinbaseUserSession;

const PREFIX: &str = "/api/v3/brokerage";
/// Orders per `user` snapshot message.
const SNAPSHOT_BATCH: usize = 50;

fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

/// The simulator's numeric order id as a Coinbase-style UUID string.
pub fn order_uuid(id: u64) -> String {
    format!("00000000-0000-4000-8000-{id:012x}")
}

/// The numeric id back from an [`order_uuid`]; `None` for any other string.
fn order_num(s: &str) -> Option<u64> {
    let hex = s.strip_prefix("00000000-0000-4000-8000-")?;
    (hex.len() == 12)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

fn product_of(shared: &Shared, symbol: usize) -> String {
    let c = &shared.cfg.symbols[symbol];
    format!("{}-{}", c.base, c.quote)
}

/// RFC 3339 UTC of Unix milliseconds.
fn rfc3339(ms: u64) -> String {
    let (days, rem) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    let (y, m, d) = super::coinbase_public::civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem % 3_600_000 / 60_000,
        rem % 60_000 / 1000,
        rem % 1000
    )
}

/// The REST status of an order (`OPEN`, `FILLED`, `CANCELLED`, `EXPIRED`).
fn status_of(s: Status) -> &'static str {
    match s {
        Status::New | Status::PartiallyFilled => "OPEN",
        Status::Filled => "FILLED",
        Status::Canceled => "CANCELLED",
        Status::Expired => "EXPIRED",
    }
}

/// The configuration name an order was placed with.
fn configuration_of(o: &Order) -> &'static str {
    match (o.kind, o.tif) {
        (OrderType::Market, _) => "market_market_ioc",
        (OrderType::LimitMaker, _) | (OrderType::Limit, Tif::Gtc) => "limit_limit_gtc",
        (OrderType::Limit, Tif::Ioc) => "sor_limit_ioc",
        (OrderType::Limit, Tif::Fok) => "limit_limit_fok",
    }
}

/// Fees charged on order `id` so far, and the number of its fills.
fn fees_of(ex: &Exchange, id: u64) -> (i64, usize) {
    ex.fills
        .iter()
        .filter(|f| f.order_id == id)
        .fold((0, 0), |(fee, n), f| (fee + f.commission, n + 1))
}

/// Average fill price, exact enough for a report (Coinbase rounds its own).
fn avg_of(o: &Order) -> String {
    if o.executed.is_zero() {
        return "0".into();
    }
    let q = i128::from(o.cum_quote) * 100_000_000 / i128::from(o.executed.units());
    dec(q as i64)
}

/// An order as `GET /orders/historical/…` lists it.
fn rest_order(shared: &Shared, ex: &Exchange, o: &Order) -> Value {
    let (fees, fills) = fees_of(ex, o.order_id);
    let mut conf = Map::new();
    conf.insert("base_size".into(), json!(dec(o.orig_qty.units())));
    if o.kind != OrderType::Market {
        conf.insert("limit_price".into(), json!(dec(o.price.units())));
    }
    if configuration_of(o) == "limit_limit_gtc" {
        conf.insert("post_only".into(), json!(o.kind == OrderType::LimitMaker));
    }
    let done = if o.orig_qty.is_zero() {
        0
    } else {
        i128::from(o.executed.units()) * 100 * 100_000_000 / i128::from(o.orig_qty.units())
    };
    json!({
        "order_id": order_uuid(o.order_id), "product_id": product_of(shared, o.symbol),
        "user_id": format!("sim-user-{}", o.account), "client_order_id": o.client_order_id,
        "order_configuration": {configuration_of(o): conf},
        "side": if o.side == Side::Buy { "BUY" } else { "SELL" },
        "status": status_of(o.status),
        "time_in_force": match o.tif { Tif::Ioc => "IMMEDIATE_OR_CANCEL", Tif::Fok => "FILL_OR_KILL", Tif::Gtc => "GOOD_UNTIL_CANCELLED" },
        "created_time": rfc3339(o.time_ms), "completion_percentage": dec(done as i64),
        "filled_size": dec(o.executed.units()), "average_filled_price": avg_of(o),
        "number_of_fills": fills.to_string(), "filled_value": dec(o.cum_quote),
        "total_fees": dec(fees), "order_type": if o.kind == OrderType::Market { "MARKET" } else { "LIMIT" },
        "product_type": "SPOT", "settled": !o.status.is_open(), "reject_reason": "",
        "outstanding_hold_amount": dec(o.locked),
    })
}

/// An order as the `user` channel reports it, with the report's own status and cumulative
/// quantity (the order may have moved on since).
fn user_order(
    shared: &Shared,
    ex: &Exchange,
    o: &Order,
    status: Status,
    cum: i64,
    cum_quote: i64,
) -> Value {
    let (fees, fills) = fees_of(ex, o.order_id);
    let leaves = if status.is_open() {
        o.orig_qty.units() - cum
    } else {
        0
    };
    let avg = if cum == 0 {
        "0".to_owned()
    } else {
        dec((i128::from(cum_quote) * 100_000_000 / i128::from(cum)) as i64)
    };
    let status = match status {
        Status::New | Status::PartiallyFilled => "OPEN",
        s => status_of(s),
    };
    json!({
        "avg_price": avg, "cancel_reason": "", "client_order_id": o.client_order_id,
        "completion_percentage": dec(if o.orig_qty.is_zero() { 0 } else { (i128::from(cum) * 100 * 100_000_000 / i128::from(o.orig_qty.units())) as i64 }),
        "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
        "cumulative_quantity": dec(cum), "filled_value": dec(cum_quote),
        "leaves_quantity": dec(leaves),
        "limit_price": if o.kind == OrderType::Market { String::new() } else { dec(o.price.units()) },
        "number_of_fills": fills.to_string(), "order_id": order_uuid(o.order_id),
        "order_side": if o.side == Side::Buy { "BUY" } else { "SELL" },
        "order_type": if o.kind == OrderType::Market { "Market" } else { "Limit" },
        "outstanding_hold_amount": dec(o.locked),
        "post_only": if o.kind == OrderType::LimitMaker { "true" } else { "false" },
        "product_id": product_of(shared, o.symbol), "product_type": "SPOT",
        "reject_reason": "", "retail_portfolio_id": format!("sim-portfolio-{}", o.account),
        "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE", "status": status,
        "stop_price": "",
        "time_in_force": match o.tif { Tif::Ioc => "IMMEDIATE_OR_CANCEL", Tif::Fok => "FILL_OR_KILL", Tif::Gtc => "GOOD_UNTIL_CANCELLED" },
        "total_fees": dec(fees), "total_value_after_fees": dec(if o.side == Side::Buy { cum_quote + fees } else { cum_quote - fees }),
        "trigger_status": "INVALID_ORDER_TYPE", "creation_time": rfc3339(o.time_ms),
        "end_time": "0001-01-01T00:00:00Z", "start_time": "0001-01-01T00:00:00Z",
    })
}

/// The public key of `account`'s CDP secret, if it is one.
fn public_key(ex: &Exchange, account: usize) -> Option<PublicKey> {
    let a = &ex.accounts[account];
    JwtSigner::from_parts(&a.api_key, &a.secret)
        .ok()
        .map(|s| s.public_key())
}

/// Checks a token as Coinbase does; the account it names, or why not.
fn authenticate(shared: &Shared, token: &str, want_uri: Option<&str>) -> Result<usize, String> {
    let d = jwt::decode(token).map_err(|e| e.to_string())?;
    let kid = d.header.get("kid").and_then(Value::as_str).unwrap_or("");
    let ex = shared.ex.lock();
    let account = ex
        .account_by_key(kid)
        .ok_or_else(|| "unknown key".to_owned())?;
    let key = public_key(&ex, account).ok_or_else(|| "the key is not a CDP key".to_owned())?;
    drop(ex);
    let now_s = shared.faults.server_ms() / 1000;
    jwt::verify(token, kid, &key, now_s, want_uri).map_err(|e| e.to_string())?;
    Ok(account)
}

/// Coinbase's error body (gRPC-gateway style).
fn error(status: u16, kind: &str, msg: &str) -> (u16, Value) {
    (
        status,
        json!({"error": kind, "code": status, "message": msg, "error_details": msg}),
    )
}

/// The create-order failure reason of a core refusal.
fn failure_reason(e: &ApiError) -> &'static str {
    match e.code {
        -2010 if e.msg.contains("balance") => "INSUFFICIENT_FUND",
        -1013 if e.msg.contains("PRICE") => "INVALID_PRICE_PRECISION",
        -1013 | -1111 => "INVALID_SIZE_PRECISION",
        -1121 => "INVALID_PRODUCT_ID",
        -2010 => "INVALID_LIMIT_PRICE_POST_ONLY",
        _ => "UNKNOWN_FAILURE_REASON",
    }
}

/// The core's parameters for a Coinbase create-order body.
fn core_params(shared: &Shared, b: &Value) -> Result<Map<String, Value>, &'static str> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let product = s(b, "product_id").ok_or("INVALID_PRODUCT_ID")?;
    let sym = symbol_of(shared, &product).ok_or("INVALID_PRODUCT_ID")?;
    let side = match s(b, "side").as_deref() {
        Some("BUY") => "BUY",
        Some("SELL") => "SELL",
        _ => return Err("INVALID_SIDE"),
    };
    let conf = b
        .get("order_configuration")
        .and_then(Value::as_object)
        .filter(|c| c.len() == 1)
        .ok_or("UNSUPPORTED_ORDER_CONFIGURATION")?;
    let (name, c) = conf
        .iter()
        .next()
        .ok_or("UNSUPPORTED_ORDER_CONFIGURATION")?;
    let post_only = c.get("post_only").and_then(Value::as_bool).unwrap_or(false);
    let (kind, tif) = match name.as_str() {
        "limit_limit_gtc" if post_only => ("LIMIT_MAKER", None),
        "limit_limit_gtc" => ("LIMIT", Some("GTC")),
        "limit_limit_fok" => ("LIMIT", Some("FOK")),
        "sor_limit_ioc" => ("LIMIT", Some("IOC")),
        "market_market_ioc" => ("MARKET", None),
        _ => return Err("UNSUPPORTED_ORDER_CONFIGURATION"),
    };
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    p.insert("type".into(), json!(kind));
    if let Some(t) = tif {
        p.insert("timeInForce".into(), json!(t));
    }
    match (s(c, "base_size"), s(c, "quote_size")) {
        (Some(q), _) => {
            p.insert("quantity".into(), json!(q));
        }
        (None, Some(q)) if kind == "MARKET" => {
            p.insert("quoteOrderQty".into(), json!(q));
        }
        _ => return Err("INVALID_SIZE_PRECISION"),
    }
    if kind != "MARKET" {
        let px = s(c, "limit_price").ok_or("INVALID_LIMIT_PRICE")?;
        p.insert("price".into(), json!(px));
    }
    if let Some(c) = s(b, "client_order_id").filter(|c| !c.is_empty()) {
        p.insert("newClientOrderId".into(), json!(c));
    }
    Ok(p)
}

/// `POST /orders`: `success_response`, or `error_response` with the failure reason.
fn create(shared: &Shared, account: usize, b: &Value) -> Value {
    let cl = b.get("client_order_id").cloned().unwrap_or(json!(""));
    let failed = |reason: &str, msg: &str| {
        json!({"success": false, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
            "error_response": {"error": reason, "message": msg, "error_details": msg,
                "new_order_failure_reason": reason}})
    };
    let p = match core_params(shared, b) {
        Ok(p) => p,
        Err(reason) => return failed(reason, "the order is not valid"),
    };
    // A client order id seen before answers with the order it placed (Coinbase's rule: the
    // same id is the same order).
    if let Some(c) = b.get("client_order_id").and_then(Value::as_str) {
        let ex = shared.ex.lock();
        if let Some(o) = ex
            .orders
            .values()
            .find(|o| o.account == account && o.client_order_id == c)
        {
            return json!({"success": true, "success_response": {"order_id": order_uuid(o.order_id),
                "product_id": product_of(shared, o.symbol), "side": b.get("side"), "client_order_id": cl}});
        }
    }
    // Coinbase limits requests per second (the 429 fault), not new orders per instrument.
    match super::api::place_counted(shared, account, &p, |_, _, _| Ok(())) {
        Ok(v) => json!({"success": true, "success_response": {
            "order_id": order_uuid(v["orderId"].as_u64().unwrap_or_default()),
            "product_id": b.get("product_id"), "side": b.get("side"), "client_order_id": cl},
            "order_configuration": b.get("order_configuration")}),
        Err(e) => failed(failure_reason(&e), &e.msg),
    }
}

/// `POST /orders/batch_cancel`: one result per id.
fn batch_cancel(shared: &Shared, account: usize, b: &Value) -> Value {
    let ids: Vec<String> = b
        .get("order_ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut ex = shared.ex.lock();
    let results: Vec<Value> = ids
        .iter()
        .map(|id| {
            let found = order_num(id)
                .and_then(|n| ex.orders.get(&n))
                .filter(|o| o.account == account)
                .map(|o| o.symbol);
            let res = match found {
                Some(sym) => ex.cancel(account, sym, order_num(id), None, None).ok(),
                None => None,
            };
            match (found, res) {
                (_, Some(_)) => json!({"success": true, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": id}),
                (None, None) => json!({"success": false, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": id}),
                (Some(_), None) => json!({"success": false, "failure_reason": "DUPLICATE_CANCEL_REQUEST", "order_id": id}),
            }
        })
        .collect();
    shared.hub.dispatch(&mut ex, &shared.faults);
    json!({"results": results})
}

/// The values of a query parameter that may repeat (`order_ids=a&order_ids=b`, or one
/// comma-separated value).
/// The position a `cursor` names (`o<n>`, the simulator's own token); none (the first page)
/// when absent or not one of ours.
fn cursor_of(q: &[(String, String)]) -> Option<u64> {
    q.iter()
        .find(|(k, _)| k == "cursor")
        .and_then(|(_, v)| v.strip_prefix('o'))
        .and_then(|v| v.parse().ok())
}

/// Items per page: the client's `limit`, or the simulator's page size if smaller.
fn page_size(shared: &Shared, limit: usize) -> usize {
    let limit = limit.max(1);
    shared.cfg.list_page_size.map_or(limit, |n| n.min(limit))
}

fn many<'a>(q: &'a [(String, String)], k: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(n, _)| n == k || n.strip_suffix("[]") == Some(k))
        .flat_map(|(_, v)| v.split(','))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Private requests per second per user (the number exchanges.md §4.4 gives, unverified).
pub const REQUESTS_PER_S: u32 = 30;

/// Counts `account`'s private request in the current second: whether it is within the limit,
/// and the answer's `x-ratelimit-*` headers (the limit, what is left of this second's, and
/// the Unix time in seconds the next second starts: the docs do not say the reset's unit).
fn count_request(shared: &Shared, account: usize) -> (bool, Vec<(String, String)>) {
    let now_s = shared.faults.server_ms() / 1000;
    let mut ex = shared.ex.lock();
    let w = ex.requests_per_s.entry(account).or_insert((now_s, 0, 0));
    if w.0 != now_s {
        (w.0, w.1) = (now_s, 0);
    }
    w.1 += 1;
    w.2 = w.2.max(w.1);
    let used = w.1;
    drop(ex);
    let headers = vec![
        ("x-ratelimit-limit".into(), REQUESTS_PER_S.to_string()),
        (
            "x-ratelimit-remaining".into(),
            REQUESTS_PER_S.saturating_sub(used).to_string(),
        ),
        ("x-ratelimit-reset".into(), (now_s + 1).to_string()),
    ];
    (used <= REQUESTS_PER_S, headers)
}

/// An answer: status, body and extra headers.
pub type Answer = (u16, Value, Vec<(String, String)>);

/// The private REST endpoints and `/time`, with the answer's `x-ratelimit-*` headers;
/// `None` for paths outside `/api/v3/brokerage`.
pub fn rest(shared: &Shared, req: &crate::net::http::Request) -> Option<Answer> {
    let path = req.path.strip_prefix(PREFIX)?;
    if (req.method.as_str(), path) == ("GET", "/time") {
        let (status, body) = rest_inner(shared, req, path, None)?;
        return Some((status, body, Vec::new()));
    }
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    let host = req.header("host").unwrap_or("");
    let uri = format!("{} {host}{}", req.method, req.path);
    let account = match authenticate(shared, token, Some(&uri)) {
        Ok(a) => a,
        Err(why) => {
            let (status, body) = error(401, "UNAUTHENTICATED", &why);
            return Some((status, body, Vec::new()));
        }
    };
    // The count is reported, not enforced: 429s come from the fault settings only.
    let (_within, headers) = count_request(shared, account);
    let (status, body) = rest_inner(shared, req, path, Some(account))?;
    Some((status, body, headers))
}

fn rest_inner(
    shared: &Shared,
    req: &crate::net::http::Request,
    path: &str,
    account: Option<usize>,
) -> Option<(u16, Value)> {
    let Some(account) = account else {
        let ms = shared.faults.server_ms();
        return Some((
            200,
            json!({"iso": rfc3339(ms), "epochSeconds": (ms / 1000).to_string(), "epochMillis": ms.to_string()}),
        ));
    };
    let q = crate::net::http::parse_pairs(&req.query);
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return Some(error(400, "INVALID_ARGUMENT", "body is not JSON")),
        }
    };
    Some(match (req.method.as_str(), path) {
        ("POST", "/orders") => {
            let r = create(shared, account, &body);
            if r["success"] == true && shared.faults.http_5xx_after() {
                // Executed, but the client learns only that the outcome is unknown.
                return Some(error(503, "UNAVAILABLE", "upstream connect error"));
            }
            (200, r)
        }
        ("POST", "/orders/batch_cancel") => (200, batch_cancel(shared, account, &body)),
        ("GET", "/orders/historical/batch") => {
            let ids = many(&q, "order_ids");
            let products = many(&q, "product_ids");
            let statuses = many(&q, "order_status");
            let limit: usize = q
                .iter()
                .find(|(k, _)| k == "limit")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1000);
            let ex = shared.ex.lock();
            let mut list: Vec<&Order> = ex
                .orders
                .values()
                .filter(|o| o.account == account)
                .filter(|o| ids.is_empty() || ids.contains(&order_uuid(o.order_id).as_str()))
                .filter(|o| {
                    products.is_empty() || products.contains(&product_of(shared, o.symbol).as_str())
                })
                .filter(|o| statuses.is_empty() || statuses.contains(&status_of(o.status)))
                .collect();
            // Newest first, as Coinbase lists them; after the cursor's order when one is given.
            list.sort_by_key(|o| std::cmp::Reverse(o.seq));
            let after = cursor_of(&q);
            list.retain(|o| after.is_none_or(|c| o.seq < c));
            let size = page_size(shared, limit);
            let has_next = list.len() > size;
            list.truncate(size);
            let cursor = match (has_next, list.last()) {
                (true, Some(o)) => format!("o{}", o.seq),
                _ => String::new(),
            };
            let orders: Vec<Value> = list.iter().map(|o| rest_order(shared, &ex, o)).collect();
            (
                200,
                json!({"orders": orders, "sequence": "0", "has_next": has_next, "cursor": cursor}),
            )
        }
        ("GET", "/orders/historical/fills") => {
            let ids = many(&q, "order_ids");
            let limit: usize = q
                .iter()
                .find(|(k, _)| k == "limit")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1000);
            let skip = cursor_of(&q).unwrap_or(0) as usize;
            let size = page_size(shared, limit);
            let ex = shared.ex.lock();
            let mine: Vec<_> = ex
                .fills
                .iter()
                .filter(|f| f.account == account)
                .filter(|f| ids.is_empty() || ids.contains(&order_uuid(f.order_id).as_str()))
                .collect();
            let has_next = mine.len() > skip + size;
            let cursor = if has_next {
                format!("o{}", skip + size)
            } else {
                String::new()
            };
            let fills: Vec<Value> = mine
                .into_iter()
                .skip(skip)
                .take(size)
                .map(|f| {
                    json!({"entry_id": format!("sim-fill-{}-{}", f.trade_id, f.order_id),
                        "trade_id": f.trade_id.to_string(), "order_id": order_uuid(f.order_id),
                        "trade_time": rfc3339(f.time_ms), "trade_type": "FILL",
                        "price": dec(f.price.units()), "size": dec(f.qty.units()),
                        "commission": dec(f.commission), "product_id": product_of(shared, f.symbol),
                        "sequence_timestamp": rfc3339(f.time_ms),
                        "liquidity_indicator": if f.maker { "MAKER" } else { "TAKER" },
                        "size_in_quote": false, "user_id": format!("sim-user-{}", f.account),
                        "side": if f.side == Side::Buy { "BUY" } else { "SELL" }})
                })
                .collect();
            (
                200,
                json!({"fills": fills, "cursor": cursor, "has_next": has_next}),
            )
        }
        ("GET", "/accounts") => {
            let ex = shared.ex.lock();
            let accounts: Vec<Value> = ex.accounts[account]
                .balances
                .iter()
                .map(|(ccy, b)| {
                    json!({"uuid": format!("sim-{account}-{ccy}"), "name": format!("{ccy} Wallet"),
                        "currency": ccy, "available_balance": {"value": dec(b.free), "currency": ccy},
                        "default": true, "active": true, "type": "ACCOUNT_TYPE_CRYPTO", "ready": true,
                        "hold": {"value": dec(b.locked), "currency": ccy}})
                })
                .collect();
            let n = accounts.len();
            (
                200,
                json!({"accounts": accounts, "has_next": false, "cursor": "", "size": n}),
            )
        }
        ("GET", "/products") => {
            let products: Vec<Value> = (0..shared.cfg.symbols.len())
                .map(|i| product_json(shared, i))
                .collect();
            let n = products.len();
            (200, json!({"products": products, "num_products": n}))
        }
        ("GET", p) if p.starts_with("/products/") => {
            match symbol_of(shared, &p["/products/".len()..]) {
                Some(i) => (200, product_json(shared, i)),
                None => error(404, "NOT_FOUND", "product not found"),
            }
        }
        ("GET", p) if p.starts_with("/orders/historical/") => {
            let id = &p["/orders/historical/".len()..];
            let ex = shared.ex.lock();
            match order_num(id)
                .and_then(|n| ex.orders.get(&n))
                .filter(|o| o.account == account)
            {
                Some(o) => (200, json!({"order": rest_order(shared, &ex, o)})),
                None => error(404, "NOT_FOUND", "order with this orderID was not found"),
            }
        }
        _ => error(404, "NOT_FOUND", "Not Found"),
    })
}

/// One product's filters as `/products` lists them.
fn product_json(shared: &Shared, i: usize) -> Value {
    let c = &shared.cfg.symbols[i];
    let ex = shared.ex.lock();
    let mid = ex.symbols[i]
        .book
        .top(Side::Buy, 1)
        .first()
        .map_or(c.start_price, |(p, _)| *p);
    drop(ex);
    json!({"product_id": format!("{}-{}", c.base, c.quote), "price": dec(mid.units()),
        "base_increment": dec(c.step_size.units()), "quote_increment": dec(c.tick_size.units()),
        "price_increment": dec(c.tick_size.units()),
        "base_min_size": dec(c.min_qty.units()), "base_max_size": dec(c.max_qty.units()),
        "quote_min_size": dec(c.min_notional.units()), "quote_max_size": dec(c.max_notional.units()),
        "status": "online", "trading_disabled": false, "is_disabled": false, "cancel_only": false,
        "limit_only": false, "post_only": false, "base_currency_id": c.base,
        "quote_currency_id": c.quote, "product_type": "SPOT"})
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_ids_are_uuids_that_read_back() {
        let s = super::order_uuid(0x1234);
        assert_eq!(s, "00000000-0000-4000-8000-000000001234");
        assert_eq!(super::order_num(&s), Some(0x1234));
        assert_eq!(super::order_num("YYY"), None);
        assert_eq!(
            super::order_num("00000000-0000-4000-8000-00000000123"),
            None
        );
    }

    #[test]
    fn list_parameters_repeat_or_split() {
        let q = crate::net::http::parse_pairs("order_ids=a&order_ids=b,c&limit=2");
        assert_eq!(super::many(&q, "order_ids"), vec!["a", "b", "c"]);
        assert!(super::many(&q, "product_ids").is_empty());
    }
}
