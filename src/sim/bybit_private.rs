//! The simulator's Bybit v5 private front end for spot, written from Bybit's documentation
//! (exchanges.md §3.4–3.9), not from the engine's Bybit codec: the signed REST endpoints
//! (`X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`, `X-BAPI-RECV-WINDOW` and `X-BAPI-SIGN`, the lowercase
//! hex HMAC-SHA256 over `timestamp + api_key + recv_window + (query string | body as sent)`):
//! `POST /v5/order/create`, `POST /v5/order/cancel`, `POST /v5/order/amend`
//! (`bybit_amend.rs`), `GET /v5/order/realtime`,
//! `GET /v5/execution/list` and `GET /v5/account/wallet-balance`; and the private WebSocket
//! `/v5/private` (`auth` with `[api_key, expires, hex HMAC("GET/realtime" + expires)]`, the
//! `order`, `execution` and `wallet` topics, categorised or all-in-one, and `ping`).
//!
//! Orders go to the simulator's one matching core through its shared operations; its private
//! events become Bybit's pushes here. `category=spot` trades the simulator's spot symbols and
//! `category=linear` its linear perpetuals (`kind = "linear-perpetual"`, the core's perpetual
//! accounts: `reduceOnly`, `GET /v5/position/list`, `POST /v5/position/set-leverage`, the
//! `position` topic, and the wallet's `totalOrderIM` / `totalPositionIM`); a category that
//! does not match the symbol is refused with 10001. Faults are the simulator's: 5xx before or
//! after an order executed, 429s, dropped answers, dropped pushes, disconnects.

use std::sync::Arc;
use std::time::Instant;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::Shared;
use super::exchange::{ApiError, now_ms};
use super::hub::{Mailbox, Outbound};
use super::orders::{Order, OrderType, Status, Tif};
use super::ws::{Queue, Session};
use crate::types::{Price, Side};

mod session;
pub use session::BybitPrivateSession;

/// Lowercase hex HMAC-SHA256 of `msg` with `secret` (§3.4, §3.5).
pub(super) fn sign(secret: &str, msg: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

/// Bybit's answer envelope.
pub(super) fn answer(code: i64, msg: &str, result: Value) -> Value {
    json!({"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms()})
}

/// A Bybit refusal: `retCode` and `retMsg`.
pub(super) type Refusal = (i64, String);

/// Bybit's code for a core refusal (§3.9; 110017, "reduce-only rule not satisfied", is
/// from Bybit's error page, not the reference's table).
pub(super) fn bybit_code(e: &ApiError, linear: bool) -> Refusal {
    let code = match e.code {
        -2010 if e.msg.contains("balance") && linear => 110007,
        -2010 if e.msg.contains("balance") => 170131,
        -2011 | -2013 if linear => 110001,
        -2022 => 110017,
        -2011 | -2013 => 170213,
        -1003 | -1015 => 10006,
        -1013 if e.msg.contains("NOTIONAL") => 170140,
        -1013 => 170136,
        -1121 => 170121,
        _ => 10001,
    };
    (code, e.msg.clone())
}

pub(super) fn symbol_of(shared: &Shared, symbol: &str) -> Option<usize> {
    shared.cfg.symbols.iter().position(|s| s.symbol == symbol)
}

/// Bybit's status of a simulator order (spot: a partly filled order cancelled is
/// `PartiallyFilledCanceled`).
fn status_of(o: &Order, s: Status) -> &'static str {
    match s {
        Status::New => "New",
        Status::PartiallyFilled => "PartiallyFilled",
        Status::Filled => "Filled",
        Status::Canceled | Status::Expired if !o.executed.is_zero() => "PartiallyFilledCanceled",
        Status::Canceled | Status::Expired => "Cancelled",
    }
}

/// The category of a simulator symbol: `linear` for a perpetual.
pub(super) fn category(shared: &Shared, symbol: usize) -> &'static str {
    if shared.cfg.symbols[symbol].perp.is_some() {
        "linear"
    } else {
        "spot"
    }
}

/// An order as `/v5/order/realtime` lists it and the `order` topic pushes it (the fields the
/// docs' order sample carries that spot and linear fill in).
fn order_json(
    cat: &str,
    o: &Order,
    status: Status,
    cum_qty: i64,
    cum_value: i64,
    fee: i64,
) -> Value {
    let avg = if cum_qty == 0 {
        String::new()
    } else {
        dec((i128::from(cum_value) * 100_000_000 / i128::from(cum_qty)) as i64)
    };
    let (kind, tif) = match (o.kind, o.tif) {
        (OrderType::Market, _) => ("Market", "IOC"),
        (OrderType::LimitMaker, _) => ("Limit", "PostOnly"),
        (OrderType::Limit, Tif::Gtc) => ("Limit", "GTC"),
        (OrderType::Limit, Tif::Ioc) => ("Limit", "IOC"),
        (OrderType::Limit, Tif::Fok) => ("Limit", "FOK"),
    };
    let open = matches!(status, Status::New | Status::PartiallyFilled);
    json!({
        "category": cat, "symbol": o.symbol_name, "orderId": o.order_id.to_string(),
        "orderLinkId": o.client_order_id, "side": if o.side == Side::Buy { "Buy" } else { "Sell" },
        "orderType": kind, "timeInForce": tif,
        "price": if o.price.is_zero() { "0".to_owned() } else { dec(o.price.units()) },
        "qty": dec(o.orig_qty.units()), "orderStatus": status_of(o, status),
        "cancelType": if matches!(status, Status::Canceled) { "CancelByUser" } else { "UNKNOWN" },
        "rejectReason": "EC_NoError",
        "leavesQty": if open { dec(o.orig_qty.units() - cum_qty) } else { "0".to_owned() },
        "cumExecQty": dec(cum_qty), "cumExecValue": dec(cum_value), "avgPrice": avg,
        "cumExecFee": dec(fee), "reduceOnly": false,
        "createdTime": o.time_ms.to_string(), "updatedTime": o.update_ms.to_string(),
    })
}

/// A UUID-shaped execution id for trade `id` (Bybit's `execId`s are UUIDs, §3.6).
fn exec_id(id: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        id >> 48,
        id & 0xffff_ffff_ffff
    )
}

/// The core's parameters for a Bybit create-order body.
fn core_params(shared: &Shared, a: &Value) -> Result<Map<String, Value>, Refusal> {
    let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("");
    let bad = |what: &str| (10001, format!("params error: {what}"));
    let sym = symbol_of(shared, s("symbol")).ok_or((170121, "Invalid symbol.".to_owned()))?;
    if s("category") != category(shared, sym) {
        return Err(bad("category does not match the symbol"));
    }
    let linear = category(shared, sym) == "linear";
    match a.get("reduceOnly") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) if linear => {
            return core_params_reduce(shared, a);
        }
        Some(_) => return Err(bad("reduceOnly")),
    }
    let side = match s("side") {
        "Buy" => "BUY",
        "Sell" => "SELL",
        _ => return Err(bad("side")),
    };
    let (kind, tif) = match (s("orderType"), s("timeInForce")) {
        ("Market", _) => ("MARKET", None),
        ("Limit", "PostOnly") => ("LIMIT_MAKER", None),
        ("Limit", "" | "GTC") => ("LIMIT", Some("GTC")),
        ("Limit", "IOC") => ("LIMIT", Some("IOC")),
        ("Limit", "FOK") => ("LIMIT", Some("FOK")),
        _ => return Err(bad("orderType or timeInForce")),
    };
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    p.insert("type".into(), json!(kind));
    if let Some(t) = tif {
        p.insert("timeInForce".into(), json!(t));
    }
    if s("qty").is_empty() {
        return Err(bad("qty"));
    }
    // A spot market buy spends `qty` of the quote coin unless `marketUnit` says baseCoin
    // (derivatives quantities are always in the base coin).
    if kind == "MARKET" && side == "BUY" && !linear && s("marketUnit") != "baseCoin" {
        p.insert("quoteOrderQty".into(), json!(s("qty")));
    } else {
        p.insert("quantity".into(), json!(s("qty")));
    }
    if kind != "MARKET" {
        if s("price").is_empty() {
            return Err(bad("price"));
        }
        p.insert("price".into(), json!(s("price")));
    }
    let link = s("orderLinkId");
    if !link.is_empty() {
        if link.len() > 36 {
            return Err(bad("orderLinkId is longer than 36 characters"));
        }
        p.insert("newClientOrderId".into(), json!(link));
    }
    Ok(p)
}

/// A linear order with `reduceOnly: true`: its core parameters, marked reduce-only.
fn core_params_reduce(shared: &Shared, a: &Value) -> Result<Map<String, Value>, Refusal> {
    let mut plain = a.clone();
    if let Some(m) = plain.as_object_mut() {
        m.remove("reduceOnly");
    }
    let mut p = core_params(shared, &plain)?;
    p.insert("reduceOnly".into(), json!("true"));
    Ok(p)
}

/// `POST /v5/order/create` for `account`: the envelope, and whether the order was placed.
pub(super) fn create(shared: &Shared, account: usize, body: &Value) -> (Value, bool) {
    let p = match core_params(shared, body) {
        Ok(p) => p,
        Err((code, msg)) => return (answer(code, &msg, json!({})), false),
    };
    // Bybit's own limit: 20 new spot orders per second per UID (§3.7); the simulator counts
    // OKX's per-instrument window, which is within it.
    match super::api::place_counted(shared, account, &p, |l, a, sym| l.okx_order(a, sym)) {
        Ok(v) => (
            answer(
                0,
                "OK",
                json!({"orderId": v["orderId"].to_string(),
                       "orderLinkId": body.get("orderLinkId").cloned().unwrap_or(json!(""))}),
            ),
            true,
        ),
        Err(e) => {
            let linear = body.get("category").and_then(Value::as_str) == Some("linear");
            let (code, msg) = bybit_code(&e, linear);
            (answer(code, &msg, json!({})), false)
        }
    }
}

/// `POST /v5/order/cancel` by `orderLinkId` or `orderId`.
pub(super) fn cancel(shared: &Shared, account: usize, body: &Value) -> Value {
    let s = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(sym) = s("symbol").and_then(|x| symbol_of(shared, x)) else {
        return answer(170121, "Invalid symbol.", json!({}));
    };
    let ord = s("orderId").and_then(|o| o.parse::<u64>().ok());
    let link = s("orderLinkId");
    if ord.is_none() && link.is_none() {
        return answer(10001, "params error: orderId or orderLinkId", json!({}));
    }
    let mut ex = shared.ex.lock();
    let res = ex.cancel(account, sym, ord, link, None);
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(v) => answer(
            0,
            "OK",
            json!({"orderId": v["orderId"].to_string(), "orderLinkId": link.unwrap_or("")}),
        ),
        Err(_) if category(shared, sym) == "linear" => {
            answer(110001, "Order does not exist.", json!({}))
        }
        Err(_) => answer(170213, "Order does not exist.", json!({})),
    }
}

/// Fees charged on order `id` so far.
fn fees_of(ex: &super::exchange::Exchange, id: u64) -> i64 {
    ex.fills
        .iter()
        .filter(|f| f.order_id == id)
        .map(|f| f.commission)
        .sum()
}

/// The `X-BAPI-*` headers checked as Bybit does: key, a timestamp inside the receive window
/// (`server_time − recv_window ≤ timestamp < server_time + 1000`) and the signature. The
/// account, or Bybit's refusal.
fn authenticate(shared: &Shared, req: &crate::net::http::Request) -> Result<usize, Refusal> {
    let h = |k: &str| req.header(k).unwrap_or("");
    let ex = shared.ex.lock();
    let account = ex
        .account_by_key(h("x-bapi-api-key"))
        .ok_or((10003, "API key is invalid.".to_owned()))?;
    let recv = h("x-bapi-recv-window");
    let window: u64 = if recv.is_empty() {
        5000
    } else {
        recv.parse()
            .map_err(|_| (10001, "params error: X-BAPI-RECV-WINDOW".to_owned()))?
    };
    let ts_text = h("x-bapi-timestamp");
    let ts: u64 = ts_text.parse().map_err(|_| {
        (
            10002,
            "invalid request, please check your server timestamp or recv_window param".to_owned(),
        )
    })?;
    let server = shared.faults.server_ms();
    if ts + window < server || ts >= server + 1000 {
        return Err((
            10002,
            format!(
                "invalid request, please check your server timestamp or recv_window param. \
                 req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]"
            ),
        ));
    }
    let payload = if req.method == "GET" {
        req.query.clone()
    } else {
        String::from_utf8_lossy(&req.body).into_owned()
    };
    let want = sign(
        &ex.accounts[account].secret,
        &format!("{ts_text}{}{recv}{payload}", h("x-bapi-api-key")),
    );
    if h("x-bapi-sign") != want {
        return Err((10004, "error sign! please check your signature".to_owned()));
    }
    Ok(account)
}

/// The signed REST endpoints; `None` for other paths. HTTP status 200 with a `retCode` for
/// every refusal, as Bybit answers; the "5xx after execution" fault answers 502 for an order
/// that was placed.
pub fn rest(shared: &Shared, req: &crate::net::http::Request) -> Option<(u16, Value)> {
    let private = req.path.starts_with("/v5/order/")
        || req.path.starts_with("/v5/account/")
        || req.path.starts_with("/v5/execution/")
        || req.path.starts_with("/v5/position/");
    if !private {
        return None;
    }
    let account = match authenticate(shared, req) {
        Ok(a) => a,
        Err((code, msg)) => return Some((200, answer(code, &msg, json!({})))),
    };
    let q = crate::net::http::parse_pairs(&req.query);
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return Some((
                    200,
                    answer(10001, "params error: body is not JSON", json!({})),
                ));
            }
        }
    };
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v5/order/create") => {
            let (a, placed) = create(shared, account, &body);
            if placed && shared.faults.http_5xx_after() {
                (502, json!({"retCode": 10016, "retMsg": "Server error"}))
            } else {
                (200, a)
            }
        }
        ("POST", "/v5/order/cancel") => (200, cancel(shared, account, &body)),
        ("POST", "/v5/order/amend") => (200, super::bybit_amend::amend(shared, account, &body)),
        ("GET", "/v5/order/realtime") => {
            let sym = get("symbol").and_then(|s| symbol_of(shared, s));
            let cat = get("category").unwrap_or("");
            if sym.is_none_or(|s| category(shared, s) != cat) {
                return Some((
                    200,
                    answer(10001, "params error: category or symbol", json!({})),
                ));
            }
            let ex = shared.ex.lock();
            let one = get("orderLinkId").is_some() || get("orderId").is_some();
            let mut next_cursor = String::new();
            let list: Vec<Value> = if one {
                let ord = get("orderId").and_then(|o| o.parse().ok());
                let found = sym.and_then(|s| ex.find(account, s, ord, get("orderLinkId")));
                found
                    .and_then(|id| ex.orders.get(&id))
                    .map(|o| {
                        order_json(
                            cat,
                            o,
                            o.status,
                            o.executed.units(),
                            o.cum_quote,
                            fees_of(&ex, o.order_id),
                        )
                    })
                    .into_iter()
                    .collect()
            } else {
                // `openOnly=0` (the default): the open orders, `limit` (1–50, default 20) a
                // page, after the order the `cursor` names (the simulator's own token; an
                // empty `nextPageCursor` ends the list).
                let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(20usize);
                let size = shared
                    .cfg
                    .list_page_size
                    .map_or(limit.clamp(1, 50), |n| n.min(limit.clamp(1, 50)));
                let after: Option<u64> = get("cursor")
                    .and_then(|c| c.strip_prefix("page_args="))
                    .and_then(|c| c.parse().ok());
                let mut open = ex.open_orders(account, sym);
                open.retain(|o| after.is_none_or(|a| o.seq > a));
                if open.len() > size {
                    open.truncate(size);
                    if let Some(o) = open.last() {
                        next_cursor = format!("page_args={}", o.seq);
                    }
                }
                open.into_iter()
                    .map(|o| {
                        order_json(
                            cat,
                            o,
                            o.status,
                            o.executed.units(),
                            o.cum_quote,
                            fees_of(&ex, o.order_id),
                        )
                    })
                    .collect()
            };
            (
                200,
                answer(
                    0,
                    "OK",
                    json!({"category": cat, "list": list, "nextPageCursor": next_cursor}),
                ),
            )
        }
        ("GET", "/v5/execution/list") => {
            let ex = shared.ex.lock();
            let ord: Option<u64> = get("orderId").and_then(|o| o.parse().ok());
            let list: Vec<Value> = ex
                .fills
                .iter()
                .filter(|f| f.account == account && ord.is_none_or(|o| f.order_id == o))
                .map(|f| {
                    let o = ex.orders.get(&f.order_id);
                    json!({"category": category(shared, f.symbol), "symbol": shared.cfg.symbols[f.symbol].symbol,
                        "orderId": f.order_id.to_string(),
                        "orderLinkId": o.map(|o| o.client_order_id.clone()).unwrap_or_default(),
                        "side": if f.side == Side::Buy { "Buy" } else { "Sell" },
                        "execId": exec_id(f.trade_id), "execPrice": dec(f.price.units()),
                        "execQty": dec(f.qty.units()), "execValue": dec(f.quote),
                        "execFee": dec(f.commission), "feeCurrency": f.commission_asset,
                        "execType": "Trade", "isMaker": f.maker, "execTime": f.time_ms.to_string()})
                })
                .collect();
            (
                200,
                answer(
                    0,
                    "OK",
                    json!({"category": get("category").unwrap_or(""), "list": list, "nextPageCursor": ""}),
                ),
            )
        }
        ("GET", "/v5/account/wallet-balance") => {
            if get("accountType") != Some("UNIFIED") {
                return Some((
                    200,
                    answer(10001, "accountType only support UNIFIED.", json!({})),
                ));
            }
            let ex = shared.ex.lock();
            (200, answer(0, "OK", wallet(shared, &ex, account)))
        }
        ("GET", "/v5/position/list") => {
            let sym = get("symbol").and_then(|s| symbol_of(shared, s));
            if get("category") != Some("linear")
                || sym.is_some_and(|s| category(shared, s) != "linear")
            {
                return Some((
                    200,
                    answer(10001, "params error: category or symbol", json!({})),
                ));
            }
            let ex = shared.ex.lock();
            let list: Vec<Value> = (0..shared.cfg.symbols.len())
                .filter(|s| category(shared, *s) == "linear" && sym.is_none_or(|x| x == *s))
                .map(|s| position_json(shared, &ex, account, s))
                .collect();
            (
                200,
                answer(
                    0,
                    "OK",
                    json!({"category": "linear", "list": list, "nextPageCursor": ""}),
                ),
            )
        }
        ("POST", "/v5/position/set-leverage") => {
            let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
            let Some(sym) =
                symbol_of(shared, s("symbol")).filter(|x| category(shared, *x) == "linear")
            else {
                return Some((200, answer(10001, "params error: symbol", json!({}))));
            };
            let (Ok(buy), Ok(sell)) = (
                Price::parse(s("buyLeverage")),
                Price::parse(s("sellLeverage")),
            ) else {
                return Some((200, answer(10001, "params error: leverage", json!({}))));
            };
            if buy != sell {
                // One-way mode: both sides carry one leverage.
                return Some((
                    200,
                    answer(10001, "buyLeverage must equal sellLeverage", json!({})),
                ));
            }
            let mut ex = shared.ex.lock();
            if ex.leverage(account, sym) == Some(buy.units()) {
                return Some((200, answer(110043, "leverage not modified", json!({}))));
            }
            match ex.set_leverage(account, sym, buy.units()) {
                Ok(()) => (200, answer(0, "OK", json!({}))),
                Err(e) => (200, answer(10001, &e.msg, json!({}))),
            }
        }
        _ => (404, answer(10001, "Not Found", json!({}))),
    })
}

/// A unified account's coins: `walletBalance` (free + locked), `locked` (held by spot
/// orders), and for the perpetuals' settlement coin `totalOrderIM` and `totalPositionIM`
/// (margin held by linear orders and positions).
fn wallet(shared: &Shared, ex: &super::exchange::Exchange, account: usize) -> Value {
    let a = &ex.accounts[account];
    let coins: Vec<Value> = a
        .balances
        .iter()
        .map(|(k, b)| {
            let mut order_im = 0;
            for o in ex.orders.values() {
                if o.account == account
                    && o.status.is_open()
                    && category(shared, o.symbol) == "linear"
                    && shared.cfg.symbols[o.symbol].quote == *k
                {
                    order_im += o.locked;
                }
            }
            let position_im: i64 = a
                .positions
                .iter()
                .filter(|(s, _)| shared.cfg.symbols[**s].quote == *k)
                .map(|(_, p)| p.margin)
                .sum();
            json!({"coin": k, "walletBalance": dec(b.free + b.locked),
                   "locked": dec(b.locked - order_im - position_im),
                   "totalOrderIM": dec(order_im), "totalPositionIM": dec(position_im),
                   "equity": dec(b.free + b.locked)})
        })
        .collect();
    json!({"list": [{"accountType": "UNIFIED", "coin": coins}]})
}

/// A linear position as `/v5/position/list` lists it and the `position` topic pushes it
/// (one-way mode: `positionIdx` 0; `side` empty when flat).
fn position_json(
    shared: &Shared,
    ex: &super::exchange::Exchange,
    account: usize,
    symbol: usize,
) -> Value {
    let p = ex.position(account, symbol);
    let size = p.size.abs();
    let avg = if size == 0 {
        0
    } else {
        (i128::from(p.cost) * 100_000_000 / i128::from(size)) as i64
    };
    let mark = ex.mark_price(symbol);
    let unrealised = mark.map_or(0, |m| {
        let v = (i128::from(m.units()) * i128::from(size) / 100_000_000) as i64;
        if p.size > 0 { v - p.cost } else { p.cost - v }
    });
    json!({
        "category": "linear", "symbol": shared.cfg.symbols[symbol].symbol, "positionIdx": 0,
        "side": match p.size.signum() { 1 => "Buy", -1 => "Sell", _ => "" },
        "size": dec(size), "avgPrice": dec(avg), "positionValue": dec(p.cost),
        "leverage": dec(ex.leverage(account, symbol).unwrap_or(100_000_000)),
        "markPrice": mark.map_or_else(String::new, |m| dec(m.units())),
        "liqPrice": ex.liquidation_price(account, symbol).map_or_else(String::new, |l| dec(l.units())),
        "positionIM": dec(p.margin), "unrealisedPnl": dec(unrealised),
        "cumRealisedPnl": dec(p.realized), "tradeMode": 0, "positionStatus": "Normal",
        "updatedTime": now_ms().to_string(),
    })
}
