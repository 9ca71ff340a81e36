//! The simulator's BitMart spot private front end, written from BitMart's documentation
//! (exchanges.md §5.2–5.8), not from the engine's BitMart codec.
//!
//! **REST.** Signed endpoints take `X-BM-KEY`, `X-BM-TIMESTAMP` and `X-BM-SIGN`, the lowercase
//! hex HMAC-SHA256 with the account's secret of `timestamp + "#" + memo + "#" + body`, the
//! body exactly as its bytes arrived (the memo is the account's, `[[sim.accounts]] memo`,
//! default BitMart's example `test001`): `POST /spot/v2/submit_order`,
//! `POST /spot/v3/cancel_order`, `POST /spot/v4/query/order`, `/spot/v4/query/client-order`,
//! `/spot/v4/query/open-orders` and `/spot/v4/query/order-trades`. `GET /spot/v1/wallet` is
//! KEYED (the key alone), as the docs class it. Answers are `{"code":1000,"trace","message",
//! "data"}`; refusals carry BitMart's codes: 30001/30002 (key empty / not found), 30004/30005
//! (sign empty / wrong), 30006 (timestamp empty or not a number), 30007 (timestamp outside
//! the window, or a bad `recvWindow`), 50005 (order not found), 50006/50008/50009 (size,
//! price, notional filters), 50020 (balance not enough), 50042 (client id used before).
//! Each endpoint counts its requests per account in 2-second windows at the documented
//! limits (40 for orders and cancels, 50 for single-order queries, 12 for open orders, trade
//! lists and the wallet); over it, HTTP 429 with code 30013. Every answer carries
//! `X-BM-RateLimit-Remaining` (requests *used*, as BitMart counts), `-Limit` and `-Reset`.
//!
//! **Private WebSocket** (`/user`, the venue's `/user?protocol=1.1`): `{"op":"login","args":
//! [key, timestamp, sign]}` with `sign = hex(HMAC(secret, timestamp#memo#bitmart.WebSocket))`
//! and a timestamp within 60 s (failures 91002, 91011, 91022 close the connection), then
//! `spot/user/order:<SYMBOL>`, `spot/user/orders:ALL_SYMBOLS` and
//! `spot/user/balance:BALANCE_UPDATE`; the text `ping` is answered `pong`. Order pushes carry
//! the report's state and cumulative figures with the last fill (`last_fill_*`, `detail_id`,
//! `exec_type`, `dealFee`). Pushes go out raw-DEFLATE compressed in binary frames, as the
//! public ones do; replies as text.
//!
//! **Readings the reference leaves open (unconfirmed against the live venue):** outside v4,
//! "within a minute" is read as `|server − timestamp| ≤ 60 s`; the v4 rule is the documented
//! `timestamp < server + 1000 && server − timestamp ≤ recvWindow`. The docs give no code for
//! a malformed request, an unknown symbol or a `limit_maker` order that would take: those
//! answer HTTP 400 with 50000 "Bad Request" ([`BAD_REQUEST`]). A cancel of an order that has
//! ended answers `result: false` (the docs' meaning of false); of an order never seen, 50005.
//! `dealFee` is given as the last fill's fee. The order-trades answer (no sample in the
//! reference) is a `data` list of `{tradeId, orderId, clientOrderId, symbol, side, orderMode,
//! type, price, size, notional, fee, feeCoinName, tradeRole, createTime, updateTime}`, the v4
//! trade fields as BitMart's API pages name them. The table of an `ALL_SYMBOLS` push is
//! `spot/user/orders`. A subscribe before login is refused with 90004.
//!
//! Faults are the simulator's: 5xx before or after an order executed, 429s (30013), dropped
//! answers, dropped pushes, disconnects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tungstenite::Message;

use super::Shared;
use super::bitmart_public::symbol_of;
use super::exchange::{ApiError, Exchange, now_ms};
use super::hub::{Mailbox, Outbound};
use super::orders::{Order, OrderType, Status, Tif};
use super::ws::{Queue, Session};
use crate::net::http::{Request, Response};
use crate::types::{Price, Side};

/// The docs list no code for a malformed request; see the module doc.
pub const BAD_REQUEST: i64 = 50000;

/// The WebSocket login signs this in place of a body.
const WS_LOGIN_PAYLOAD: &str = "bitmart.WebSocket";

/// Lowercase hex HMAC-SHA256 of `msg` with `secret`.
fn sign(secret: &str, msg: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

/// A BitMart refusal: HTTP status, code, message.
type Refusal = (u16, i64, String);

fn refusal(status: u16, code: i64, msg: &str) -> Refusal {
    (status, code, msg.to_owned())
}

/// BitMart's envelope.
fn envelope(code: i64, msg: &str, data: Value) -> Value {
    json!({"code": code, "trace": format!("sim-{}", now_ms()), "message": msg, "data": data})
}

/// A path's documented limit per 2 s (exchanges.md §5.4); `None`: not a private path here.
fn limit_of(path: &str) -> Option<(&'static str, u32)> {
    Some(match path {
        "/spot/v2/submit_order" => ("/spot/v2/submit_order", 40),
        "/spot/v3/cancel_order" => ("/spot/v3/cancel_order", 40),
        "/spot/v4/query/order" => ("/spot/v4/query/order", 50),
        "/spot/v4/query/client-order" => ("/spot/v4/query/client-order", 50),
        "/spot/v4/query/open-orders" => ("/spot/v4/query/open-orders", 12),
        "/spot/v4/query/order-trades" => ("/spot/v4/query/order-trades", 12),
        "/spot/v1/wallet" => ("/spot/v1/wallet", 12),
        _ => return None,
    })
}

/// Whether `path` is one of this front end's REST endpoints.
pub fn is_private_path(path: &str) -> bool {
    limit_of(path).is_some()
}

/// The account a request's key names, checked as BitMart documents: the key always; for a
/// SIGNED request the timestamp (inside the window) and the signature over the body's bytes.
fn authenticate(shared: &Shared, req: &Request, signed: bool) -> Result<usize, Refusal> {
    let h = |k: &str| req.header(k).unwrap_or("");
    let key = h("x-bm-key");
    if key.is_empty() {
        return Err(refusal(401, 30001, "Header X-BM-KEY is empty"));
    }
    let ex = shared.ex.lock();
    let account = ex
        .account_by_key(key)
        .ok_or_else(|| refusal(401, 30002, "Header X-BM-KEY not found"))?;
    if !signed {
        return Ok(account);
    }
    let ts_text = h("x-bm-timestamp");
    let ts: u64 = ts_text
        .parse()
        .map_err(|_| refusal(401, 30006, "Header X-BM-TIMESTAMP is empty or not a number"))?;
    let theirs = h("x-bm-sign");
    if theirs.is_empty() {
        return Err(refusal(401, 30004, "Header X-BM-SIGN is empty"));
    }
    let server = shared.faults.server_ms();
    if req.path.starts_with("/spot/v4/") {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let window = match body.get("recvWindow") {
            None => 5000,
            Some(w) => match w.as_u64().or_else(|| w.as_str()?.parse().ok()) {
                Some(w) if (1..=60_000).contains(&w) => w,
                _ => return Err(refusal(401, 30007, "recvWindow is invalid")),
            },
        };
        if ts >= server + 1000 || server.saturating_sub(ts) > window {
            return Err(refusal(
                401,
                30007,
                "Header X-BM-TIMESTAMP range. Timestamp is outside of the recvWindow.",
            ));
        }
    } else if ts.abs_diff(server) > 60_000 {
        return Err(refusal(
            401,
            30007,
            "Header X-BM-TIMESTAMP range. Within a minute",
        ));
    }
    // POST bodies are signed as sent; a signed GET or DELETE signs an empty payload, as the
    // official SDK does (the docs say the query string; see exchanges.md §5.2).
    let payload: &[u8] = if req.method == "POST" { &req.body } else { b"" };
    let a = &ex.accounts[account];
    let mut msg = Vec::with_capacity(ts_text.len() + a.memo.len() + payload.len() + 2);
    msg.extend_from_slice(ts_text.as_bytes());
    msg.push(b'#');
    msg.extend_from_slice(a.memo.as_bytes());
    msg.push(b'#');
    msg.extend_from_slice(payload);
    if theirs != sign(&a.secret, &msg) {
        return Err(refusal(401, 30005, "Header X-BM-SIGN is wrong"));
    }
    Ok(account)
}

/// BitMart's code for a refusal of the matching core.
fn bitmart_code(e: &ApiError) -> Refusal {
    let code = match e.code {
        -2010 if e.msg.contains("balance") => 50020,
        -2011 | -2013 => 50005,
        -1013 if e.msg.contains("NOTIONAL") => 50009,
        -1013 if e.msg.contains("PRICE") => 50008,
        -1013 => 50006,
        -1003 | -1015 => 30013,
        _ => BAD_REQUEST,
    };
    let msg = match code {
        50020 => "Balance not enough".to_owned(),
        50005 => "Order Id not found".to_owned(),
        _ => e.msg.clone(),
    };
    (if code == 30013 { 429 } else { 400 }, code, msg)
}

/// BitMart's `state` of a simulator order in a given status.
fn state_of(status: Status, executed: i64) -> &'static str {
    match status {
        Status::New => "new",
        Status::PartiallyFilled => "partially_filled",
        Status::Filled => "filled",
        Status::Canceled | Status::Expired if executed > 0 => "partially_canceled",
        Status::Canceled | Status::Expired => "canceled",
    }
}

/// BitMart's `type` of a simulator order.
fn type_of(o: &Order) -> &'static str {
    match (o.kind, o.tif) {
        (OrderType::Market, _) => "market",
        (OrderType::LimitMaker, _) => "limit_maker",
        (OrderType::Limit, Tif::Ioc) => "ioc",
        (OrderType::Limit, _) => "limit",
    }
}

fn side_of(side: Side) -> &'static str {
    if side == Side::Buy { "buy" } else { "sell" }
}

/// The BitMart name of simulator symbol `o.symbol` (`BTCUSDT` → `BTC_USDT`).
fn bitmart_symbol(shared: &Shared, symbol: usize) -> String {
    let s = &shared.cfg.symbols[symbol];
    format!("{}_{}", s.base, s.quote)
}

/// A v4 order object (query, open orders; the sample `bitmart_query_order_response.json`).
fn order_json(shared: &Shared, o: &Order) -> Value {
    let executed = o.executed.units();
    let avg = if executed == 0 {
        0
    } else {
        (i128::from(o.cum_quote) * 100_000_000 / i128::from(executed)) as i64
    };
    let notional = if o.kind == OrderType::Market {
        o.quote_order_qty.units()
    } else {
        (i128::from(o.price.units()) * i128::from(o.orig_qty.units()) / 100_000_000) as i64
    };
    json!({
        "orderId": o.order_id.to_string(), "clientOrderId": o.client_order_id,
        "symbol": bitmart_symbol(shared, o.symbol), "side": side_of(o.side),
        "orderMode": "spot", "type": type_of(o), "state": state_of(o.status, executed),
        "cancelSource": if matches!(o.status, Status::Canceled) { "user" } else { "" },
        "stpMode": "none", "price": dec(o.price.units()), "priceAvg": dec(avg),
        "size": dec(o.orig_qty.units()), "filledSize": dec(executed),
        "notional": dec(notional), "filledNotional": dec(o.cum_quote),
        "createTime": o.time_ms, "updateTime": o.update_ms,
    })
}

/// The core's parameters for a `submit_order` body.
fn core_params(shared: &Shared, b: &Value) -> Result<Map<String, Value>, Refusal> {
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("");
    let bad = |what: &str| refusal(400, BAD_REQUEST, &format!("Bad Request: {what}"));
    let sym = symbol_of(shared, s("symbol")).ok_or_else(|| bad("symbol"))?;
    let side = match s("side") {
        "buy" => "BUY",
        "sell" => "SELL",
        _ => return Err(bad("side")),
    };
    let (kind, tif) = match s("type") {
        "limit" => ("LIMIT", Some("GTC")),
        "ioc" => ("LIMIT", Some("IOC")),
        "limit_maker" => ("LIMIT_MAKER", None),
        "market" => ("MARKET", None),
        _ => return Err(bad("type")),
    };
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    p.insert("type".into(), json!(kind));
    if let Some(t) = tif {
        p.insert("timeInForce".into(), json!(t));
    }
    if kind == "MARKET" && side == "BUY" {
        // A market buy spends `notional` of the quote currency.
        if s("notional").is_empty() {
            return Err(bad("notional"));
        }
        p.insert("quoteOrderQty".into(), json!(s("notional")));
    } else {
        if s("size").is_empty() {
            return Err(bad("size"));
        }
        p.insert("quantity".into(), json!(s("size")));
    }
    if kind != "MARKET" {
        if s("price").is_empty() {
            return Err(bad("price"));
        }
        p.insert("price".into(), json!(s("price")));
    }
    let cid = s("client_order_id");
    if !cid.is_empty() {
        if cid.len() > 32 || !cid.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad("client_order_id must be at most 32 letters and digits"));
        }
        p.insert("newClientOrderId".into(), json!(cid));
    }
    Ok(p)
}

/// `POST /spot/v2/submit_order`: the answer and whether the order was placed.
fn submit(shared: &Shared, account: usize, body: &Value) -> (Result<Value, Refusal>, bool) {
    let p = match core_params(shared, body) {
        Ok(p) => p,
        Err(r) => return (Err(r), false),
    };
    if let Some(cid) = p.get("newClientOrderId").and_then(Value::as_str) {
        let ex = shared.ex.lock();
        if ex
            .orders
            .values()
            .any(|o| o.account == account && o.client_order_id == cid)
        {
            return (
                Err(refusal(400, 50042, "clientOrderId is duplicate")),
                false,
            );
        }
    }
    match super::api::place_counted(shared, account, &p, |_, _, _| Ok(())) {
        Ok(v) => (Ok(json!({"order_id": v["orderId"].to_string()})), true),
        Err(e) => (Err(bitmart_code(&e)), false),
    }
}

/// `POST /spot/v3/cancel_order` by `order_id` or `client_order_id`.
fn cancel(shared: &Shared, account: usize, b: &Value) -> Result<Value, Refusal> {
    let s = |k: &str| b.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let sym = s("symbol")
        .and_then(|x| symbol_of(shared, x))
        .ok_or_else(|| refusal(400, BAD_REQUEST, "Bad Request: symbol"))?;
    let ord = s("order_id").and_then(|o| o.parse::<u64>().ok());
    let cid = s("client_order_id");
    if ord.is_none() && cid.is_none() {
        return Err(refusal(
            400,
            BAD_REQUEST,
            "Bad Request: order_id or client_order_id",
        ));
    }
    let mut ex = shared.ex.lock();
    let Some(id) = ex.find(account, sym, ord, cid) else {
        return Err(refusal(400, 50005, "Order Id not found"));
    };
    let open = ex.orders.get(&id).is_some_and(|o| o.status.is_open());
    if !open {
        // Already filled or cancelled: BitMart answers result false.
        return Ok(json!({"result": false}));
    }
    let r = ex.cancel(account, sym, Some(id), None, None);
    shared.hub.dispatch(&mut ex, &shared.faults);
    Ok(json!({"result": r.is_ok()}))
}

/// The order of a v4 single-order query, if it is the account's and in `queryState`.
fn query(shared: &Shared, account: usize, b: &Value, by_client: bool) -> Result<Value, Refusal> {
    let s = |k: &str| b.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let ex = shared.ex.lock();
    let found = if by_client {
        let cid = s("clientOrderId")
            .ok_or_else(|| refusal(400, BAD_REQUEST, "Bad Request: clientOrderId"))?;
        ex.orders
            .values()
            .filter(|o| o.account == account && o.client_order_id == cid)
            .max_by_key(|o| o.seq)
    } else {
        let id: u64 = s("orderId")
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| refusal(400, BAD_REQUEST, "Bad Request: orderId"))?;
        ex.orders.get(&id).filter(|o| o.account == account)
    };
    let o = found.ok_or_else(|| refusal(400, 50005, "Order Id not found"))?;
    let in_state = match s("queryState") {
        None => true,
        Some("open") => o.status.is_open(),
        Some("history") => !o.status.is_open(),
        Some(_) => return Err(refusal(400, BAD_REQUEST, "Bad Request: queryState")),
    };
    if !in_state {
        return Err(refusal(400, 50005, "Order Id not found"));
    }
    Ok(order_json(shared, o))
}

/// `POST /spot/v4/query/order-trades`: the trades of one order (see the module doc).
fn order_trades(shared: &Shared, account: usize, b: &Value) -> Result<Value, Refusal> {
    let id: u64 = b
        .get("orderId")
        .and_then(Value::as_str)
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| refusal(400, BAD_REQUEST, "Bad Request: orderId"))?;
    let ex = shared.ex.lock();
    let Some(o) = ex.orders.get(&id).filter(|o| o.account == account) else {
        return Err(refusal(400, 50005, "Order Id not found"));
    };
    let list: Vec<Value> = ex
        .fills
        .iter()
        .filter(|f| f.order_id == id)
        .map(|f| {
            json!({"tradeId": f.trade_id.to_string(), "orderId": id.to_string(),
                "clientOrderId": o.client_order_id, "symbol": bitmart_symbol(shared, f.symbol),
                "side": side_of(f.side), "orderMode": "spot", "type": type_of(o),
                "price": dec(f.price.units()), "size": dec(f.qty.units()),
                "notional": dec(f.quote), "fee": dec(f.commission),
                "feeCoinName": f.commission_asset,
                "tradeRole": if f.maker { "maker" } else { "taker" },
                "createTime": f.time_ms, "updateTime": f.time_ms})
        })
        .collect();
    Ok(Value::Array(list))
}

/// `GET /spot/v1/wallet`: every currency the account holds.
fn wallet(ex: &Exchange, account: usize) -> Value {
    let list: Vec<Value> = ex.accounts[account]
        .balances
        .iter()
        .map(
            |(k, b)| json!({"id": k, "name": k, "available": dec(b.free), "frozen": dec(b.locked)}),
        )
        .collect();
    json!({"wallet": list})
}

/// The BitMart REST endpoints. `None` for other paths; otherwise the response and whether it
/// answers an order that was placed (for the "5xx after execution" fault).
pub fn rest(shared: &Shared, req: &Request) -> Option<(Response, bool)> {
    let (endpoint, limit) = limit_of(&req.path)?;
    let wallet_call = endpoint == "/spot/v1/wallet";
    let method_ok = if wallet_call {
        req.method == "GET"
    } else {
        req.method == "POST"
    };
    if !method_ok {
        let body = envelope(BAD_REQUEST, "Bad Request: method", json!({}));
        return Some((Response::json(405, body.to_string()), false));
    }
    let account = match authenticate(shared, req, !wallet_call) {
        Ok(a) => a,
        Err((status, code, msg)) => {
            let body = envelope(code, &msg, json!({}));
            return Some((Response::json(status, body.to_string()), false));
        }
    };
    let headers = |used: u32| {
        vec![
            ("X-BM-RateLimit-Remaining".to_owned(), used.to_string()),
            ("X-BM-RateLimit-Limit".to_owned(), limit.to_string()),
            ("X-BM-RateLimit-Reset".to_owned(), "2".to_owned()),
        ]
    };
    let used = match shared.limits.bitmart_request(account, endpoint, limit) {
        Ok(used) => used,
        Err(used) => {
            let body = envelope(30013, "Request too many requests", json!({}));
            let mut r = Response::json(429, body.to_string());
            r.headers.extend(headers(used));
            return Some((r, false));
        }
    };
    let body: Value = if wallet_call || req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                let body = envelope(BAD_REQUEST, "Bad Request: body is not JSON", json!({}));
                return Some((Response::json(400, body.to_string()), false));
            }
        }
    };
    let (result, placed) = match endpoint {
        "/spot/v2/submit_order" => submit(shared, account, &body),
        "/spot/v3/cancel_order" => (cancel(shared, account, &body), false),
        "/spot/v4/query/order" => (query(shared, account, &body, false), false),
        "/spot/v4/query/client-order" => (query(shared, account, &body, true), false),
        "/spot/v4/query/open-orders" => {
            let sym = body.get("symbol").and_then(Value::as_str);
            let sym = match sym {
                None => Ok(None),
                Some(s) => symbol_of(shared, s)
                    .map(Some)
                    .ok_or_else(|| refusal(400, BAD_REQUEST, "Bad Request: symbol")),
            };
            let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(200);
            let r = sym.map(|sym| {
                let ex = shared.ex.lock();
                Value::Array(
                    ex.open_orders(account, sym)
                        .into_iter()
                        .take(limit.clamp(1, 200) as usize)
                        .map(|o| order_json(shared, o))
                        .collect(),
                )
            });
            (r, false)
        }
        "/spot/v4/query/order-trades" => (order_trades(shared, account, &body), false),
        _ => {
            let ex = shared.ex.lock();
            (Ok(wallet(&ex, account)), false)
        }
    };
    let mut r = match result {
        Ok(data) => Response::json(200, envelope(1000, "OK", data).to_string()),
        Err((status, code, msg)) => {
            Response::json(status, envelope(code, &msg, json!({})).to_string())
        }
    };
    r.headers.extend(headers(used));
    Some((r, placed))
}

/// A private channel this front end serves, parsed from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Channel {
    /// `spot/user/order:<SYMBOL>`: the simulator symbol index.
    Order(usize),
    /// `spot/user/orders:ALL_SYMBOLS`.
    AllOrders,
    /// `spot/user/balance:BALANCE_UPDATE`.
    Balance,
}

/// Topics one subscribe may carry, and messages a connection may send per 10 s.
const MAX_TOPICS: usize = 20;
const MAX_MESSAGES: u32 = 100;

/// One private connection.
pub struct BitmartPrivateSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    channels: Vec<Channel>,
    /// Messages received in the current 10 s window.
    window: (Instant, u32),
}

impl BitmartPrivateSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            shared,
            conn,
            mailbox,
            account: None,
            channels: Vec::new(),
            window: (Instant::now(), 0),
        }
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    fn error(q: &mut Queue, event: &str, code: &str, msg: &str) {
        Self::reply(
            q,
            json!({"event": event, "errorCode": code, "errorMessage": msg}),
        );
    }

    /// `{"op":"login","args":[key, timestamp, sign]}`: the account, or BitMart's error.
    fn login(&self, args: &[Value]) -> Result<usize, (&'static str, &'static str)> {
        let arg = |i: usize| args.get(i).and_then(Value::as_str).unwrap_or("");
        let ex = self.shared.ex.lock();
        let account = ex
            .account_by_key(arg(0))
            .ok_or(("91002", "API KEY not found"))?;
        let ts: u64 = arg(1)
            .parse()
            .map_err(|_| ("91022", "timestamp range within a minute"))?;
        if ts.abs_diff(self.shared.faults.server_ms()) > 60_000 {
            return Err(("91022", "timestamp range within a minute"));
        }
        let a = &ex.accounts[account];
        let msg = format!("{}#{}#{WS_LOGIN_PAYLOAD}", arg(1), a.memo);
        if arg(2) != sign(&a.secret, msg.as_bytes()) {
            return Err(("91011", "Param sign is wrong"));
        }
        Ok(account)
    }

    fn channel(&self, topic: &str) -> Option<Channel> {
        match topic.split_once(':')? {
            ("spot/user/order", sym) => symbol_of(&self.shared, sym).map(Channel::Order),
            ("spot/user/orders", "ALL_SYMBOLS") => Some(Channel::AllOrders),
            ("spot/user/balance", "BALANCE_UPDATE") => Some(Channel::Balance),
            _ => None,
        }
    }

    /// Over BitMart's message limit (100 per 10 s, pings included)?
    fn over_limit(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window.0) >= Duration::from_secs(10) {
            self.window = (now, 0);
        }
        self.window.1 += 1;
        self.window.1 > MAX_MESSAGES
    }

    /// An `executionReport` of the core as a `spot/user/order` push: the report's state and
    /// cumulative figures, and its fill as the last one.
    fn order_push(&self, e: &Value) -> Option<String> {
        let id = e.get("i")?.as_u64()?;
        let num =
            |k: &str| -> Option<i64> { Some(Price::parse(e.get(k)?.as_str()?).ok()?.units()) };
        let status = match e.get("X")?.as_str()? {
            "NEW" => Status::New,
            "PARTIALLY_FILLED" => Status::PartiallyFilled,
            "FILLED" => Status::Filled,
            "EXPIRED" => Status::Expired,
            _ => Status::Canceled,
        };
        let (cum_qty, cum_quote) = (num("z")?, num("Z")?);
        let trade = e.get("x")?.as_str()? == "TRADE";
        let ex = self.shared.ex.lock();
        let o = ex.orders.get(&id)?;
        let table = if self.channels.contains(&Channel::Order(o.symbol)) {
            "spot/user/order"
        } else if self.channels.contains(&Channel::AllOrders) {
            "spot/user/orders"
        } else {
            return None;
        };
        let (last_qty, last_px, fee) = if trade {
            (num("l")?, num("L")?, num("n")?)
        } else {
            (0, 0, 0)
        };
        let ms = e.get("E").and_then(Value::as_u64).unwrap_or_else(now_ms);
        let item = json!({
            "symbol": bitmart_symbol(&self.shared, o.symbol), "side": side_of(o.side),
            "type": if o.kind == OrderType::Market { "market" } else { "limit" },
            "notional": if o.kind == OrderType::Market { dec(o.quote_order_qty.units()) } else { String::new() },
            "size": dec(o.orig_qty.units()), "ms_t": ms.to_string(),
            "price": dec(o.price.units()), "filled_notional": dec(cum_quote),
            "filled_size": dec(cum_qty), "margin_trading": "0",
            "order_id": id.to_string(), "client_order_id": o.client_order_id,
            "last_fill_time": if trade { ms.to_string() } else { String::new() },
            "last_fill_price": dec(last_px), "last_fill_count": dec(last_qty),
            "exec_type": if e.get("m").and_then(Value::as_bool) == Some(true) { "M" } else { "T" },
            "detail_id": if trade { e.get("t").map(|t| t.to_string()).unwrap_or_default() } else { String::new() },
            "create_time": o.time_ms.to_string(), "update_time": ms.to_string(),
            "order_mode": "0",
            "entrust_type": match type_of(o) { "limit_maker" => "LIMIT_MAKER", "ioc" => "IOC", _ => "normal" },
            "order_state": state_of(status, cum_qty),
            "dealFee": dec(fee),
            "deal_fee_coin_name": e.get("N").and_then(Value::as_str).unwrap_or(""),
        });
        Some(json!({"data": [item], "table": table}).to_string())
    }

    /// An `outboundAccountPosition` as a `spot/user/balance` push.
    fn balance_push(&self, e: &Value) -> Option<String> {
        if !self.channels.contains(&Channel::Balance) {
            return None;
        }
        let details: Vec<Value> = e
            .get("B")?
            .as_array()?
            .iter()
            .map(|b| json!({"ccy": b["a"], "av_bal": b["f"], "fz_bal": b["l"]}))
            .collect();
        Some(
            json!({"data": [{"event_type": "TRANSACTION_COMPLETED",
                "event_time": e.get("E").map(|t| t.to_string()).unwrap_or_default(),
                "balance_details": details}], "table": "spot/user/balance"})
            .to_string(),
        )
    }
}

impl Session for BitmartPrivateSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        if self.over_limit() {
            return false;
        }
        if text == "ping" {
            q.push_back((Instant::now(), Some("pong".into())));
            return true;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::error(q, "", "90004", "Invalid request");
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let args: Vec<Value> = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if args.len() > MAX_TOPICS {
            return false;
        }
        match (op, self.account) {
            ("login", _) => match self.login(&args) {
                Ok(a) => {
                    self.account = Some(a);
                    Self::reply(q, json!({"event": "login"}));
                }
                Err((code, msg)) => {
                    // A failed login closes the connection (the docs).
                    Self::error(q, "login", code, msg);
                    q.push_back((Instant::now(), None));
                }
            },
            ("subscribe", Some(account)) if !args.is_empty() => {
                for topic in args.iter().map(|a| a.as_str().unwrap_or("")) {
                    match self.channel(topic) {
                        Some(c) => {
                            if self.channels.is_empty() {
                                self.shared.hub.add_user(
                                    self.conn,
                                    account,
                                    self.conn,
                                    self.mailbox.clone(),
                                );
                            }
                            if !self.channels.contains(&c) {
                                self.channels.push(c);
                            }
                            Self::reply(q, json!({"event": "subscribe", "topic": topic}));
                        }
                        None => Self::error(q, "subscribe", "90004", "Invalid channel param"),
                    }
                }
            }
            ("subscribe", None) => Self::error(q, "subscribe", "90004", "Not logged in"),
            _ => Self::error(q, op, "90004", "Invalid channel param"),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => {
                let w: Value = serde_json::from_str(&t).ok()?;
                let e = w.get("event")?;
                let text = match e.get("e")?.as_str()? {
                    "executionReport" => self.order_push(e)?,
                    "outboundAccountPosition" => self.balance_push(e)?,
                    _ => return None,
                };
                Some((Instant::now(), Some(text)))
            }
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn wire(&mut self, text: String) -> Message {
        super::bitmart_public::wire(text)
    }

    fn idle_timeout(&self) -> Option<Duration> {
        Some(self.shared.cfg.bitmart_idle_timeout)
    }

    fn limits_incoming(&self) -> bool {
        // BitMart's own limit (100 messages per 10 s) is kept by the session.
        false
    }
}
