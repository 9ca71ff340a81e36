//! The simulator's Delta Exchange private REST front end (India and global speak the same
//! protocol), written from Delta's documentation (reference/delta.md §2, §4–§7), not from the
//! engine's Delta codec. Every private request is checked as the docs describe: a
//! `User-Agent` (else the CDN's 403), the `api-key`, a `timestamp` in Unix seconds no more than
//! 5 s old (else `{"error":"SignatureExpired",…}`, the documented flat shape) and the
//! `signature`, lowercase hex HMAC-SHA256 of `METHOD + timestamp + path + ("?" + query) +
//! body` over the bytes received (else 401 `Signature Mismatch`).
//!
//! Endpoints (`/v2/…`): `POST /orders` (`product_id` or `product_symbol`, integer `size` in
//! contracts, `limit_order` / `market_order`, `time_in_force` `gtc`/`ioc`, `post_only`,
//! `reduce_only`, `client_order_id` ≤ 32 characters), `DELETE /orders` (by `id` or
//! `client_order_id`, JSON body), `DELETE /orders/all`, `GET /orders` (open orders, oldest
//! first, `page_size` — at most 50, and `[sim] list_page_size` when set — a page, with
//! `meta.after` the simulator's cursor of the next page and `after=` following it),
//! `GET /orders/client_order_id/{id}` (any state), `GET /fills`, `GET /positions` and
//! `/positions/margined`, `GET`/`POST /products/{id}/orders/leverage`, `GET /wallet/balances`,
//! and the public `GET /v2/settings` (`server_time` in µs). Answers use the documented
//! envelope `{"success":true,"result":…}` / `{"success":false,"error":{"code":…}}` and the
//! documented codes: `insufficient_margin`, `immediate_execution_post_only`,
//! `invalid_contract`, `bad_schema` (with `context.schema_errors`), `open_order_not_found`.
//!
//! Orders go to the simulator's one matching core; its perpetual symbols (`kind =
//! "linear-perpetual"`) are Delta's perpetual futures, traded on the core's perpetual accounts.
//! Product ids are the symbol's position in `[[sim.symbols]]` plus one.
//!
//! A contract is one unit of the core's quantity (the core counts in contracts, as the public
//! front end publishes sizes), valued at the symbol's `contract_value` in base (`[[sim.symbols]]
//! contract_value = "0.001"` for Delta's BTCUSD): margins, PnL, fees and funding are `price ×
//! contracts × contract_value`. The public `GET /v2/products/{symbol}` answers the product
//! with its id and contract value.
//!
//! **Simulator simplifications** (not Delta facts): a reduce-only order that would open is
//! refused with `reduce_only_order_rejected`, a client id already used with
//! `duplicate_client_order_id`, and a leverage change while orders or a
//! position are open with `leverage_update_not_allowed` (the docs name no codes for either).
//! Edit (`PUT /orders`) and batch create / cancel (`/orders/batch`) are in
//! `sim/delta_orders.rs`. Not simulated: batch edit, brackets and stops, the dead-man switch,
//! cursors on lists other than open orders, the weight budget (its 429 comes from the rate-limit fault, with
//! `X-RATE-LIMIT-RESET`), IP whitelists.

use serde_json::{Map, Value, json};

use super::Shared;
use super::exchange::{ApiError, Exchange};
use super::orders::{Order, OrderType, Status, Tif};
use crate::types::{Price, SCALE, Side};

pub use super::delta_private_ws::DeltaPrivateSession;

/// Lowercase hex HMAC-SHA256 of `msg` with `secret` (§2.2).
pub(super) fn sign(secret: &str, msg: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

/// A refusal: HTTP status and body.
pub(super) type Refusal = (u16, Value);

pub(super) fn ok(result: Value) -> Value {
    json!({"success": true, "result": result})
}

/// The documented error envelope.
pub(super) fn fail(code: &str, context: Value) -> Value {
    json!({"success": false, "error": {"code": code, "context": context}})
}

pub(super) fn bad_schema(what: &str) -> Refusal {
    (
        400,
        fail(
            "bad_schema",
            json!({"schema_errors": [{"code": "validation_error", "message": what}]}),
        ),
    )
}

pub(super) fn symbol_of(shared: &Shared, symbol: &str) -> Option<usize> {
    shared.cfg.symbols.iter().position(|s| s.symbol == symbol)
}

/// The product a request names by `product_id` (position + 1) or `product_symbol`.
pub(super) fn product(shared: &Shared, v: &Value) -> Result<usize, Refusal> {
    let by_id = v
        .get("product_id")
        .and_then(Value::as_u64)
        .and_then(|id| usize::try_from(id).ok()?.checked_sub(1))
        .filter(|i| *i < shared.cfg.symbols.len());
    let by_symbol = v
        .get("product_symbol")
        .and_then(Value::as_str)
        .and_then(|s| symbol_of(shared, s));
    let named = v.get("product_id").is_some() || v.get("product_symbol").is_some();
    match (by_id, by_symbol) {
        (Some(a), Some(b)) if a != b => Err(bad_schema("product_id and product_symbol differ")),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) if named => Err((400, fail("invalid_contract", json!({})))),
        (None, None) => Err(bad_schema("product_id or product_symbol is required")),
    }
}

/// Whole contracts of a core quantity.
pub(super) fn contracts(units: i64) -> i64 {
    units / SCALE
}

/// Delta's state of a simulator order: no partially-filled or rejected states (§5).
fn state_of(s: Status) -> &'static str {
    match s {
        Status::New | Status::PartiallyFilled => "open",
        Status::Filled => "closed",
        Status::Canceled | Status::Expired => "cancelled",
    }
}

/// Fees charged on order `id` so far (quote units).
pub(super) fn fees_of(ex: &Exchange, id: u64) -> i64 {
    ex.fills
        .iter()
        .filter(|f| f.order_id == id)
        .map(|f| f.commission)
        .sum()
}

/// An Order object (§5) with the given state and cumulative figures.
pub(super) fn order_json(
    ex: &Exchange,
    o: &Order,
    status: Status,
    cum_qty: i64,
    cum_quote: i64,
) -> Value {
    let avg = if cum_qty == 0 {
        Value::Null
    } else {
        json!(dec(
            (i128::from(cum_quote) * i128::from(SCALE) / i128::from(cum_qty)) as i64
        ))
    };
    let cancelled = matches!(status, Status::Canceled | Status::Expired);
    json!({
        "id": o.order_id, "user_id": o.account, "product_id": o.symbol + 1,
        "product_symbol": o.symbol_name, "size": contracts(o.orig_qty.units()),
        "unfilled_size": contracts(o.orig_qty.units() - cum_qty),
        "side": if o.side == Side::Buy { "buy" } else { "sell" },
        "order_type": if o.kind == OrderType::Market { "market_order" } else { "limit_order" },
        "limit_price": if o.price.is_zero() { Value::Null } else { json!(dec(o.price.units())) },
        "time_in_force": if o.tif == Tif::Ioc || o.kind == OrderType::Market { "ioc" } else { "gtc" },
        "post_only": o.kind == OrderType::LimitMaker,
        "client_order_id": if o.client_order_id.is_empty() { Value::Null } else { json!(o.client_order_id) },
        "state": state_of(status),
        "cancellation_reason": if cancelled { json!("cancelled_by_user") } else { Value::Null },
        "average_fill_price": avg,
        "paid_commission": dec(fees_of(ex, o.order_id)),
        "commission": "0",
        "created_at": (o.time_ms * 1000).to_string(),
        "meta_data": {"source": "api"},
    })
}

/// The core's parameters for a Delta place-order body.
fn core_params(shared: &Shared, b: &Value) -> Result<Map<String, Value>, Refusal> {
    let sym = product(shared, b)?;
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("");
    let flag = |k: &str| -> Result<bool, Refusal> {
        match b.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(x)) => Ok(*x),
            Some(_) => Err(bad_schema(&format!("{k} must be a boolean"))),
        }
    };
    let size = b
        .get("size")
        .and_then(Value::as_i64)
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad_schema("size must be an integer of at least 1 contract"))?;
    let side = match s("side") {
        "buy" => "BUY",
        "sell" => "SELL",
        _ => return Err(bad_schema("side must be buy or sell")),
    };
    let post_only = flag("post_only")?;
    let reduce_only = flag("reduce_only")?;
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    p.insert("quantity".into(), json!(size.to_string()));
    match s("order_type") {
        "market_order" => {
            p.insert("type".into(), json!("MARKET"));
        }
        "limit_order" => {
            let price = s("limit_price");
            if !Price::parse(price).is_ok_and(|x| x.is_positive()) {
                return Err(bad_schema("limit_price must be a positive decimal string"));
            }
            p.insert("price".into(), json!(price));
            let tif = match b.get("time_in_force").and_then(Value::as_str) {
                None | Some("gtc") => "GTC",
                Some("ioc") => "IOC",
                // `fok` was removed (changelog 01.05.2024).
                Some(_) => return Err(bad_schema("time_in_force must be gtc or ioc")),
            };
            if post_only {
                p.insert("type".into(), json!("LIMIT_MAKER"));
            } else {
                p.insert("type".into(), json!("LIMIT"));
                p.insert("timeInForce".into(), json!(tif));
            }
        }
        _ => return Err(bad_schema("order_type must be limit_order or market_order")),
    }
    if reduce_only {
        if shared.cfg.symbols[sym].perp.is_none() {
            return Err(bad_schema("reduce_only applies to derivatives"));
        }
        p.insert("reduceOnly".into(), json!("true"));
    }
    let cid = s("client_order_id");
    if cid.len() > 32 {
        return Err(bad_schema("client_order_id is longer than 32 characters"));
    }
    if !cid.is_empty() {
        p.insert("newClientOrderId".into(), json!(cid));
    }
    Ok(p)
}

/// Delta's answer to a core refusal.
pub(super) fn refusal(e: &ApiError) -> Refusal {
    let code = match e.code {
        -2010 if e.msg.contains("immediately match") => "immediate_execution_post_only",
        -2010 if e.msg.contains("Duplicate") => "duplicate_client_order_id",
        -2010 => "insufficient_margin",
        -2022 => "reduce_only_order_rejected",
        -1121 => "invalid_contract",
        -1003 | -1015 => {
            return (429, json!({"success": false}));
        }
        _ => return bad_schema(&e.msg),
    };
    (400, fail(code, json!({"message": e.msg})))
}

/// `POST /v2/orders`: the answer, and whether an order was placed.
pub(super) fn create(shared: &Shared, account: usize, body: &Value) -> ((u16, Value), bool) {
    let p = match core_params(shared, body) {
        Ok(p) => p,
        Err(r) => return (r, false),
    };
    // 500 operations per second per product (§6.2): the core's per-instrument window is
    // stricter, and is what is counted.
    match super::api::place_counted(shared, account, &p, |l, a, sym| l.okx_order(a, sym)) {
        Ok(v) => {
            let ex = shared.ex.lock();
            let id = v["orderId"].as_u64().unwrap_or(0);
            match ex.orders.get(&id) {
                Some(o) => (
                    (
                        200,
                        ok(order_json(
                            &ex,
                            o,
                            o.status,
                            o.executed.units(),
                            o.cum_quote,
                        )),
                    ),
                    true,
                ),
                None => ((500, fail("unavailable", json!({}))), true),
            }
        }
        Err(e) => (refusal(&e), false),
    }
}

/// `DELETE /v2/orders` by `id` or `client_order_id`.
pub(super) fn cancel(shared: &Shared, account: usize, body: &Value) -> (u16, Value) {
    let sym = match product(shared, body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = body.get("id").and_then(Value::as_u64);
    let cid = body
        .get("client_order_id")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    if id.is_none() && cid.is_none() {
        return bad_schema("id or client_order_id is required");
    }
    let mut ex = shared.ex.lock();
    let res = ex.cancel(account, sym, id, cid, None);
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(v) => match v["orderId"].as_u64().and_then(|i| ex.orders.get(&i)) {
            Some(o) => (
                200,
                ok(order_json(
                    &ex,
                    o,
                    o.status,
                    o.executed.units(),
                    o.cum_quote,
                )),
            ),
            None => (200, ok(json!({}))),
        },
        Err(_) => (400, fail("open_order_not_found", json!({}))),
    }
}

/// Query pairs of a request.
fn query(req: &crate::net::http::Request) -> impl Fn(&str) -> Option<String> {
    let q = crate::net::http::parse_pairs(&req.query);
    move |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }
}

/// The headers checked as the docs describe: the account, or the documented refusal.
fn authenticate(shared: &Shared, req: &crate::net::http::Request) -> Result<usize, Refusal> {
    let h = |k: &str| req.header(k).unwrap_or("");
    if h("user-agent").is_empty() {
        return Err((
            403,
            json!({"error": "Forbidden", "message": "Request blocked by CDN"}),
        ));
    }
    let ex = shared.ex.lock();
    let account = ex.account_by_key(h("api-key")).ok_or((
        401,
        json!({"error": "InvalidApiKey", "message": "Api Key not found"}),
    ))?;
    let ts_text = h("timestamp");
    let ts: u64 = ts_text
        .parse()
        .map_err(|_| bad_schema("timestamp must be Unix seconds"))?;
    let server_s = shared.faults.server_ms() / 1000;
    // "Signature created in the last 5 seconds is allowed"; the future is not documented:
    // the simulator allows the same 5 s ahead.
    if ts + super::delta_private_ws::WINDOW_S < server_s
        || ts > server_s + super::delta_private_ws::WINDOW_S
    {
        return Err((
            401,
            json!({"error": "SignatureExpired", "message": "your signature has expired",
                   "request_time": ts, "server_time": server_s}),
        ));
    }
    let q = if req.query.is_empty() {
        String::new()
    } else {
        format!("?{}", req.query)
    };
    let body = String::from_utf8_lossy(&req.body);
    let want = sign(
        &ex.accounts[account].secret,
        &format!("{}{ts_text}{}{q}{body}", req.method, req.path),
    );
    if h("signature") != want {
        return Err((401, fail("Signature Mismatch", json!({}))));
    }
    Ok(account)
}

/// Delta's REST paths (`/v2/…`); `None` for other paths. The "5xx after execution" fault
/// answers 500 for an order that was placed.
pub fn rest(shared: &Shared, req: &crate::net::http::Request) -> Option<(u16, Value)> {
    if !req.path.starts_with("/v2/") {
        return None;
    }
    if (req.method.as_str(), req.path.as_str()) == ("GET", "/v2/settings") {
        let us = shared.faults.server_ms() * 1000;
        return Some((200, ok(json!({"server_time": us}))));
    }
    // The public per-symbol product (§4.1): answered without a signature, as on Delta. A path
    // with more segments is the private leverage endpoint below.
    if req.method.as_str() == "GET"
        && let Some(name) = req.path.strip_prefix("/v2/products/")
        && !name.contains('/')
    {
        return Some(match symbol_of(shared, name) {
            Some(sym) => (200, ok(product_json(shared, sym))),
            None => (404, fail("not_found", json!({}))),
        });
    }
    let account = match authenticate(shared, req) {
        Ok(a) => a,
        Err(r) => return Some(r),
    };
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return Some(bad_schema("the body is not JSON")),
        }
    };
    let get = query(req);
    let path = req.path.as_str();
    Some(match (req.method.as_str(), path) {
        ("POST", "/v2/orders") => {
            let (a, placed) = create(shared, account, &body);
            if placed && shared.faults.http_5xx_after() {
                (500, fail("unavailable", json!({})))
            } else {
                a
            }
        }
        ("DELETE", "/v2/orders") => cancel(shared, account, &body),
        ("PUT", "/v2/orders") => super::delta_orders::edit(shared, account, &body),
        ("POST", "/v2/orders/batch") => {
            let (a, placed) = super::delta_orders::batch_create(shared, account, &body);
            if placed && shared.faults.http_5xx_after() {
                (500, fail("unavailable", json!({})))
            } else {
                a
            }
        }
        ("DELETE", "/v2/orders/batch") => super::delta_orders::batch_cancel(shared, account, &body),
        ("DELETE", "/v2/orders/all") => {
            let only = body.get("product_id").map(|_| product(shared, &body));
            let only = match only.transpose() {
                Ok(o) => o,
                Err(r) => return Some(r),
            };
            let mut ex = shared.ex.lock();
            let open: Vec<(usize, u64)> = ex
                .open_orders(account, only)
                .into_iter()
                .map(|o| (o.symbol, o.order_id))
                .collect();
            for (sym, id) in open {
                let _ = ex.cancel(account, sym, Some(id), None, None);
            }
            shared.hub.dispatch(&mut ex, &shared.faults);
            (200, json!({"success": true}))
        }
        ("GET", "/v2/orders") => {
            let ex = shared.ex.lock();
            let products: Option<Vec<usize>> = get("product_ids").map(|l| {
                l.split(',')
                    .filter_map(|x| x.parse::<usize>().ok()?.checked_sub(1))
                    .collect()
            });
            let page = get("page_size")
                .and_then(|p| p.parse().ok())
                .unwrap_or(50usize)
                .clamp(1, 50);
            let page = shared.cfg.list_page_size.map_or(page, |n| n.min(page));
            // Oldest first; `after` is the simulator's own cursor (the last id of a page).
            let after: Option<u64> = get("after").and_then(|a| a.strip_prefix("o")?.parse().ok());
            let mut open: Vec<_> = ex
                .open_orders(account, None)
                .into_iter()
                .filter(|o| products.as_ref().is_none_or(|p| p.contains(&o.symbol)))
                .filter(|o| after.is_none_or(|a| o.order_id > a))
                .collect();
            open.sort_by_key(|o| o.order_id);
            let more = open.len() > page;
            open.truncate(page);
            let next = more
                .then(|| open.last().map(|o| format!("o{}", o.order_id)))
                .flatten();
            let list: Vec<Value> = open
                .into_iter()
                .map(|o| order_json(&ex, o, o.status, o.executed.units(), o.cum_quote))
                .collect();
            (
                200,
                json!({"success": true, "result": list, "meta": {"after": next, "before": null}}),
            )
        }
        ("GET", p) if p.starts_with("/v2/orders/client_order_id/") => {
            let cid = &p["/v2/orders/client_order_id/".len()..];
            let ex = shared.ex.lock();
            let found = (0..shared.cfg.symbols.len())
                .find_map(|s| ex.find(account, s, None, Some(cid)))
                .and_then(|id| ex.orders.get(&id));
            match found {
                Some(o) => (
                    200,
                    ok(order_json(
                        &ex,
                        o,
                        o.status,
                        o.executed.units(),
                        o.cum_quote,
                    )),
                ),
                None => (404, fail("open_order_not_found", json!({}))),
            }
        }
        ("GET", "/v2/fills") => {
            let ex = shared.ex.lock();
            let page = get("page_size")
                .and_then(|p| p.parse().ok())
                .unwrap_or(50usize)
                .clamp(1, 50);
            let list: Vec<Value> = ex
                .fills
                .iter()
                .rev()
                .filter(|f| f.account == account)
                .take(page)
                .map(|f| {
                    json!({"id": f.trade_id, "size": contracts(f.qty.units()), "fill_type": "normal",
                        "side": if f.side == Side::Buy { "buy" } else { "sell" },
                        "price": dec(f.price.units()), "role": if f.maker { "maker" } else { "taker" },
                        "commission": dec(f.commission), "created_at": (f.time_ms * 1000).to_string(),
                        "product_id": f.symbol + 1, "product_symbol": shared.cfg.symbols[f.symbol].symbol,
                        "order_id": f.order_id, "settling_asset_symbol": f.commission_asset})
                })
                .collect();
            (
                200,
                json!({"success": true, "result": list, "meta": {"after": null, "before": null}}),
            )
        }
        ("GET", "/v2/positions/margined") => {
            let ex = shared.ex.lock();
            let list: Vec<Value> = (0..shared.cfg.symbols.len())
                .filter(|s| shared.cfg.symbols[*s].perp.is_some())
                .map(|s| super::delta_private_ws::position_json(shared, &ex, account, s))
                .collect();
            (200, ok(json!(list)))
        }
        ("GET", "/v2/positions") => {
            let Some(sym) = get("product_id")
                .and_then(|i| i.parse::<usize>().ok()?.checked_sub(1))
                .filter(|s| *s < shared.cfg.symbols.len())
            else {
                return Some(bad_schema("product_id is required"));
            };
            let ex = shared.ex.lock();
            let p = super::delta_private_ws::position_json(shared, &ex, account, sym);
            (
                200,
                ok(json!({"size": p["size"], "entry_price": p["entry_price"]})),
            )
        }
        (m, p) if p.starts_with("/v2/products/") && p.ends_with("/orders/leverage") => {
            leverage(shared, account, m, p, &body)
        }
        ("GET", "/v2/wallet/balances") => {
            let ex = shared.ex.lock();
            (200, wallet(shared, &ex, account))
        }
        _ => (404, fail("not_found", json!({}))),
    })
}

/// A Product object (§4.1) with the fields an engine reads: `id` (the symbol's position in
/// `[[sim.symbols]]` plus one), `symbol`, `contract_type`, `state`, `tick_size`,
/// `contract_value` (the symbol's `contract_value`), `notional_type`, the assets and
/// commission rates.
fn product_json(shared: &Shared, sym: usize) -> Value {
    let c = &shared.cfg.symbols[sym];
    let ex = shared.ex.lock();
    let contract_type = if c.perp.is_some() {
        "perpetual_futures"
    } else {
        "spot"
    };
    json!({
        "id": sym + 1, "symbol": c.symbol, "contract_type": contract_type,
        "state": "live", "trading_status": "operational",
        "tick_size": dec(c.tick_size.units()),
        "contract_value": dec(ex.contract_value(sym)),
        "contract_unit_currency": c.base, "notional_type": "vanilla", "is_quanto": false,
        "default_leverage": dec(c.perp.map_or(SCALE, |p| p.leverage)),
        "maker_commission_rate": dec(ex.maker_fee), "taker_commission_rate": dec(ex.taker_fee),
        "underlying_asset": {"symbol": c.base}, "quoting_asset": {"symbol": c.quote},
        "settling_asset": {"symbol": c.quote},
    })
}

/// `GET`/`POST /v2/products/{product_id}/orders/leverage`.
fn leverage(
    shared: &Shared,
    account: usize,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let id = path
        .trim_start_matches("/v2/products/")
        .trim_end_matches("/orders/leverage");
    let Some(sym) = id
        .parse::<usize>()
        .ok()
        .and_then(|i| i.checked_sub(1))
        .filter(|s| *s < shared.cfg.symbols.len() && shared.cfg.symbols[*s].perp.is_some())
    else {
        return (400, fail("invalid_contract", json!({})));
    };
    let mut ex = shared.ex.lock();
    if method == "POST" {
        let lev = match body.get("leverage") {
            Some(Value::Number(n)) => Price::parse(&n.to_string()).ok(),
            Some(Value::String(s)) => Price::parse(s).ok(),
            _ => None,
        };
        let Some(lev) = lev else {
            return bad_schema("leverage is required");
        };
        if ex.leverage(account, sym) != Some(lev.units())
            && let Err(e) = ex.set_leverage(account, sym, lev.units())
        {
            let code = if e.code == -4047 {
                "leverage_update_not_allowed"
            } else {
                "bad_schema"
            };
            return (400, fail(code, json!({"message": e.msg})));
        }
    } else if method != "GET" {
        return (404, fail("not_found", json!({})));
    }
    let order_margin: i64 = ex
        .orders
        .values()
        .filter(|o| o.account == account && o.symbol == sym && o.status.is_open())
        .map(|o| o.locked)
        .sum();
    let lev = ex.leverage(account, sym).unwrap_or(SCALE);
    (
        200,
        ok(json!({"leverage": dec(lev), "order_margin": dec(order_margin), "product_id": sym + 1})),
    )
}

/// One asset's wallet (§4.8): `balance` (free + locked), `available_balance` (free),
/// `blocked_margin` (locked), with the order and position margins held for perpetuals.
pub(super) fn wallet_item(shared: &Shared, ex: &Exchange, account: usize, asset: &str) -> Value {
    let a = &ex.accounts[account];
    let (free, locked) = a.balances.get(asset).map_or((0, 0), |b| (b.free, b.locked));
    let order_margin: i64 = ex
        .orders
        .values()
        .filter(|o| {
            o.account == account
                && o.status.is_open()
                && shared.cfg.symbols[o.symbol].perp.is_some()
                && shared.cfg.symbols[o.symbol].quote == asset
        })
        .map(|o| o.locked)
        .sum();
    let position_margin: i64 = a
        .positions
        .iter()
        .filter(|(s, _)| shared.cfg.symbols[**s].quote == asset)
        .map(|(_, p)| p.margin)
        .sum();
    let asset_id = ex.accounts[account]
        .balances
        .keys()
        .position(|k| k == asset)
        .map_or(0, |i| i + 1);
    json!({"asset_id": asset_id, "asset_symbol": asset, "balance": dec(free + locked),
           "available_balance": dec(free), "blocked_margin": dec(locked),
           "order_margin": dec(order_margin), "position_margin": dec(position_margin),
           "commission": "0", "portfolio_margin": "0", "trading_fee_credit": "0"})
}

fn wallet(shared: &Shared, ex: &Exchange, account: usize) -> Value {
    let items: Vec<Value> = ex.accounts[account]
        .balances
        .keys()
        .map(|k| wallet_item(shared, ex, account, k))
        .collect();
    let equity: i64 = ex.accounts[account]
        .balances
        .values()
        .map(|b| b.free + b.locked)
        .sum();
    json!({"success": true, "result": items,
           "meta": {"net_equity": dec(equity), "robo_trading_equity": "0"}})
}
