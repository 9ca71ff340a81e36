//! The simulator's Bybit v5 private front end for spot, written from Bybit's documentation
//! (exchanges.md §3.4–3.9), not from the engine's Bybit codec: the signed REST endpoints
//! (`X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`, `X-BAPI-RECV-WINDOW` and `X-BAPI-SIGN`, the lowercase
//! hex HMAC-SHA256 over `timestamp + api_key + recv_window + (query string | body as sent)`):
//! `POST /v5/order/create`, `POST /v5/order/cancel`, `GET /v5/order/realtime`,
//! `GET /v5/execution/list` and `GET /v5/account/wallet-balance`; and the private WebSocket
//! `/v5/private` (`auth` with `[api_key, expires, hex HMAC("GET/realtime" + expires)]`, the
//! `order`, `execution` and `wallet` topics, categorised or all-in-one, and `ping`).
//!
//! Orders go to the simulator's one matching core through its shared operations; its private
//! events become Bybit's pushes here. Only `category=spot` trades: the simulator's accounts
//! are spot wallets, so a linear order is refused with 10001 (parameter error) and the lead's
//! paper margin account is what trades perpetuals. Faults are the simulator's: 5xx before or
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

/// Lowercase hex HMAC-SHA256 of `msg` with `secret` (§3.4, §3.5).
fn sign(secret: &str, msg: &str) -> String {
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
fn answer(code: i64, msg: &str, result: Value) -> Value {
    json!({"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms()})
}

/// A Bybit refusal: `retCode` and `retMsg`.
type Refusal = (i64, String);

/// Bybit's spot code for a core refusal (§3.9).
fn bybit_code(e: &ApiError) -> Refusal {
    let code = match e.code {
        -2010 if e.msg.contains("balance") => 170131,
        -2011 | -2013 => 170213,
        -1003 | -1015 => 10006,
        -1013 if e.msg.contains("NOTIONAL") => 170140,
        -1013 => 170136,
        -1121 => 170121,
        _ => 10001,
    };
    (code, e.msg.clone())
}

fn symbol_of(shared: &Shared, symbol: &str) -> Option<usize> {
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

/// An order as `/v5/order/realtime` lists it and the `order` topic pushes it (the fields the
/// docs' order sample carries that spot fills in).
fn order_json(o: &Order, status: Status, cum_qty: i64, cum_value: i64, fee: i64) -> Value {
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
        "category": "spot", "symbol": o.symbol_name, "orderId": o.order_id.to_string(),
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
    if s("category") != "spot" {
        return Err(bad("the simulator trades category spot only"));
    }
    let sym = symbol_of(shared, s("symbol")).ok_or((170121, "Invalid symbol.".to_owned()))?;
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
    // A spot market buy spends `qty` of the quote coin unless `marketUnit` says baseCoin.
    if kind == "MARKET" && side == "BUY" && s("marketUnit") != "baseCoin" {
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

/// `POST /v5/order/create` for `account`: the envelope, and whether the order was placed.
fn create(shared: &Shared, account: usize, body: &Value) -> (Value, bool) {
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
            let (code, msg) = bybit_code(&e);
            (answer(code, &msg, json!({})), false)
        }
    }
}

/// `POST /v5/order/cancel` by `orderLinkId` or `orderId`.
fn cancel(shared: &Shared, account: usize, body: &Value) -> Value {
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
        || req.path.starts_with("/v5/execution/");
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
        ("GET", "/v5/order/realtime") => {
            if get("category") != Some("spot") {
                return Some((200, answer(10001, "params error: category", json!({}))));
            }
            let sym = get("symbol").and_then(|s| symbol_of(shared, s));
            let ex = shared.ex.lock();
            let one = get("orderLinkId").is_some() || get("orderId").is_some();
            let list: Vec<Value> = if one {
                let ord = get("orderId").and_then(|o| o.parse().ok());
                let found = sym.and_then(|s| ex.find(account, s, ord, get("orderLinkId")));
                found
                    .and_then(|id| ex.orders.get(&id))
                    .map(|o| {
                        order_json(
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
                // `openOnly=0` (the default): the open orders.
                let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(20usize);
                ex.open_orders(account, sym)
                    .into_iter()
                    .take(limit.clamp(1, 50))
                    .map(|o| {
                        order_json(
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
                    json!({"category": "spot", "list": list, "nextPageCursor": ""}),
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
                    json!({"category": "spot", "symbol": shared.cfg.symbols[f.symbol].symbol,
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
                    json!({"category": "spot", "list": list, "nextPageCursor": ""}),
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
            (200, answer(0, "OK", wallet(&ex.accounts[account])))
        }
        _ => (404, answer(10001, "Not Found", json!({}))),
    })
}

/// A unified account's coins: `walletBalance` (free + locked) and `locked`.
fn wallet(a: &super::accounts::Account) -> Value {
    let coins: Vec<Value> = a
        .balances
        .iter()
        .map(|(k, b)| {
            json!({"coin": k, "walletBalance": dec(b.free + b.locked), "locked": dec(b.locked),
                   "equity": dec(b.free + b.locked)})
        })
        .collect();
    json!({"list": [{"accountType": "UNIFIED", "coin": coins}]})
}

/// One `/v5/private` connection.
pub struct BybitPrivateSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    orders: bool,
    executions: bool,
    wallet: bool,
    /// The push counter (each push's `id`).
    pushes: u64,
    /// Pushes made from one core event after the first (an order and its execution).
    pending: std::collections::VecDeque<String>,
}

impl BybitPrivateSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            shared,
            conn,
            mailbox,
            account: None,
            orders: false,
            executions: false,
            wallet: false,
            pushes: 0,
            pending: std::collections::VecDeque::new(),
        }
    }

    fn conn_id(&self) -> String {
        format!("sim{:08x}", self.conn)
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    /// `{"op":"auth","args":[key, expires, signature]}`: the account, or Bybit's message.
    fn auth(&self, args: &[Value]) -> Result<usize, &'static str> {
        let key = args.first().and_then(Value::as_str).unwrap_or("");
        let expires = args
            .get(1)
            .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
            .ok_or("Params Error")?;
        let sig = args.get(2).and_then(Value::as_str).unwrap_or("");
        let ex = self.shared.ex.lock();
        let account = ex.account_by_key(key).ok_or("Invalid apikey")?;
        if expires <= self.shared.faults.server_ms() {
            return Err("Params Error: request expired");
        }
        if sig
            != sign(
                &ex.accounts[account].secret,
                &format!("GET/realtime{expires}"),
            )
        {
            return Err("Signature for this request is not valid.");
        }
        Ok(account)
    }

    fn push(&mut self, topic: &str, data: Value) -> String {
        self.pushes += 1;
        json!({"id": format!("{}-{}", self.conn_id(), self.pushes), "topic": topic,
               "creationTime": now_ms(), "data": [data]})
        .to_string()
    }

    /// An `executionReport` of the core as an `order` push (and an `execution` push when it
    /// is a trade): the report's own status and cumulative figures.
    fn order_pushes(&mut self, e: &Value) -> Option<Vec<String>> {
        let id: u64 = e.get("i")?.as_u64()?;
        let num =
            |k: &str| -> Option<i64> { Some(Price::parse(e.get(k)?.as_str()?).ok()?.units()) };
        let status = match e.get("X")?.as_str()? {
            "NEW" => Status::New,
            "PARTIALLY_FILLED" => Status::PartiallyFilled,
            "FILLED" => Status::Filled,
            "EXPIRED" => Status::Expired,
            _ => Status::Canceled,
        };
        let (cum_qty, cum_value) = (num("z")?, num("Z")?);
        let trade = e.get("x")?.as_str()? == "TRADE";
        let mut out = Vec::new();
        let (order, execution) = {
            let ex = self.shared.ex.lock();
            let o = ex.orders.get(&id)?;
            let mut order = order_json(o, status, cum_qty, cum_value, fees_of(&ex, id));
            // The report's client id (a cancel's original id).
            if let Some(c) = e.get("C").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                order["orderLinkId"] = json!(c);
            }
            let execution = trade.then(|| {
                let (qty, price, fee) = (num("l"), num("L"), num("n"));
                json!({"category": "spot", "symbol": o.symbol_name, "orderId": id.to_string(),
                    "orderLinkId": order["orderLinkId"],
                    "side": if o.side == Side::Buy { "Buy" } else { "Sell" },
                    "execId": exec_id(e.get("t").and_then(Value::as_u64).unwrap_or(0)),
                    "execPrice": dec(price.unwrap_or(0)), "execQty": dec(qty.unwrap_or(0)),
                    "execValue": dec((i128::from(price.unwrap_or(0)) * i128::from(qty.unwrap_or(0)) / 100_000_000) as i64),
                    "execFee": dec(fee.unwrap_or(0)),
                    "feeCurrency": e.get("N").and_then(Value::as_str).unwrap_or(""),
                    "execType": "Trade", "isMaker": e.get("m").and_then(Value::as_bool).unwrap_or(false),
                    "leavesQty": dec(o.orig_qty.units() - cum_qty),
                    "orderPrice": order["price"], "orderQty": order["qty"], "orderType": order["orderType"],
                    "execTime": e.get("T").map(|t| t.to_string()).unwrap_or_default()})
            });
            (order, execution)
        };
        if self.orders {
            out.push(self.push("order.spot", order));
        }
        if let (true, Some(x)) = (self.executions, execution) {
            out.push(self.push("execution.spot", x));
        }
        Some(out)
    }

    fn wallet_push(&mut self) -> Option<String> {
        let account = self.account?;
        let w = {
            let ex = self.shared.ex.lock();
            wallet(&ex.accounts[account])
        };
        let item = w.get("list")?.get(0)?.clone();
        Some(self.push("wallet", item))
    }
}

impl Session for BybitPrivateSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::reply(
                q,
                json!({"success": false, "ret_msg": format!("Invalid request: {text}"), "conn_id": self.conn_id()}),
            );
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let req_id = v.get("req_id").cloned().unwrap_or(json!(""));
        let args = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match (op, self.account) {
            ("ping", _) => Self::reply(
                q,
                json!({"req_id": req_id, "op": "pong", "args": [now_ms().to_string()], "conn_id": self.conn_id()}),
            ),
            ("auth", _) => {
                let r = self.auth(&args);
                let ok = r.is_ok();
                if let Ok(a) = r {
                    self.account = Some(a);
                }
                Self::reply(
                    q,
                    json!({"success": ok, "ret_msg": r.err().unwrap_or(""), "op": "auth", "conn_id": self.conn_id()}),
                );
            }
            ("subscribe", Some(account)) => {
                let mut ok = !args.is_empty();
                let (mut orders, mut executions, mut wallet) = (false, false, false);
                for a in &args {
                    match a.as_str().unwrap_or("") {
                        "order" | "order.spot" => orders = true,
                        "execution" | "execution.spot" => executions = true,
                        "wallet" => wallet = true,
                        _ => ok = false,
                    }
                }
                if ok {
                    if !(self.orders || self.executions || self.wallet) {
                        self.shared.hub.add_user(
                            self.conn,
                            account,
                            self.conn,
                            self.mailbox.clone(),
                        );
                    }
                    self.orders |= orders;
                    self.executions |= executions;
                    self.wallet |= wallet;
                }
                Self::reply(
                    q,
                    json!({"success": ok, "ret_msg": if ok { "" } else { "Invalid topic" }, "conn_id": self.conn_id(), "req_id": req_id, "op": "subscribe"}),
                );
            }
            (_, None) => Self::reply(
                q,
                json!({"success": false, "ret_msg": "Request not authorized", "conn_id": self.conn_id(), "req_id": req_id, "op": op}),
            ),
            _ => Self::reply(
                q,
                json!({"success": false, "ret_msg": format!("Invalid op: {op}"), "conn_id": self.conn_id(), "req_id": req_id, "op": op}),
            ),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => {
                let w: Value = serde_json::from_str(&t).ok()?;
                let e = w.get("event")?;
                let texts = match e.get("e")?.as_str()? {
                    "executionReport" => self.order_pushes(e)?,
                    "outboundAccountPosition" if self.wallet => vec![self.wallet_push()?],
                    _ => return None,
                };
                // One core event can make two pushes (order and execution): the second
                // waits in `pending` for `render_more`.
                let mut it = texts.into_iter();
                let first = it.next()?;
                self.pending.extend(it);
                Some((Instant::now(), Some(first)))
            }
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn render_more(&mut self) -> Option<(Instant, Option<String>)> {
        self.pending.pop_front().map(|t| (Instant::now(), Some(t)))
    }

    fn idle_timeout(&self) -> Option<std::time::Duration> {
        // Bybit closes a connection that sends no ping for 10 minutes; the client pings
        // every 20 s (§3.2).
        Some(std::time::Duration::from_secs(600))
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
