//! The simulator's Coinstore spot private front end, written from Coinstore's documentation
//! (exchanges.md §6.1–6.3, §6.5–6.6, and the 2022 docs' private WebSocket), not from the
//! engine's Coinstore codec.
//!
//! **REST** under `/api` (`X-CS-APIKEY`, `X-CS-EXPIRES`, `X-CS-SIGN`: the key of the 30-second
//! bucket `hex(HMAC-SHA256(secret, floor(expires / 30000)))`, its lowercase hex text keying
//! `hex(HMAC-SHA256(key, query string + body as sent))`). `X-CS-EXPIRES` must fall in the
//! server's current bucket or the one before (a request signed just before a boundary may
//! arrive after it: the docs state no other window, so this tolerance is the simulator's
//! reading). Endpoints: `POST /api/trade/order/place`, `POST /api/trade/order/cancel` (by
//! `ordId`; by `clOrdId` too, which the docs do not list), `POST /api/trade/order/cancelAll`,
//! `GET /api/v2/trade/order/orderInfo` (`ordId` or `clOrdId`), `GET /api/v2/trade/order/active`,
//! `GET /api/trade/match/accountMatches` (the account's matches on the symbol, newest first,
//! filtered by `ordId`, in pages of `pageSize` (default 20) numbered by `pageNum`; items as the
//! docs' field table: `matchRole` 1 / -1, `feeCurrencyId` the pair's base or quote id, no
//! price), `POST /api/spot/accountList`. The
//! answers are `{"code", "message", "data"}` with the documented codes: 401 (key), 1401
//! (signature, bucket), 3011 (symbol), 3103 (no such order), 3111 (duplicate), 3113
//! (balance); refusals the docs give no code for (a post-only that would cross, filters, a
//! market buy without `ordAmt`, a 51st active order) answer code 400 with the reason, an
//! assumption. Not simulated: `placeBatch`/`cancelBatch`. Rate limits:
//! 300 requests per 3 s per IP and 120 per 3 s per user, over which HTTP 429. Faults: 5xx
//! before execution, 5xx after an order executed, 429s, and a dropped connection instead of
//! an order's answer.
//!
//! **Private WebSocket** (2022 docs), on the public session of `/s/ws` (`coinstore_public`
//! forwards to [`Private`]): `LOGIN` with `auth: {"user-id", "token": <api key>, "type":
//! "api"}` and the channels `!@order` / `<symbol>@order` and `!@account` / `<currency>@account`,
//! answered `{"T":"resp","C":200,"M":"login.success"}` (or `C` 401 with the reason: the docs
//! show no login answer, so this form is the simulator's); then order pushes (`T` order: the
//! 2022 push fields, `ordId` with no client id, `version` rising per order, the match fields
//! when a trade happened, `fee` in the currency numbered `feeCurrencyId`) and account pushes
//! (`T` account, one per currency changed). Every message carries the session's `S`; a push
//! lost to the dropped-push fault spends its `S`, so the client sees the jump. The disconnect
//! fault closes the connection; the simulator's own ping interval stands in for the
//! 3-minute ping and 10-minute pong rule.
//!
//! A simulator account's user id is [`user_id_for_key`] of its API key. Not simulated: batch orders,
//! the 50-active-orders cap, the V1 queries, `REQ`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::Shared;
use super::exchange::{ApiError, now_ms};
use crate::net::http::Request;
use crate::types::{Price, Side};

/// The user id of the simulator account whose API key is `api_key` (what its LOGIN names):
/// derived from the key, so an engine trading on a simulator account without configured
/// credentials knows it too.
pub fn user_id_for_key(api_key: &str) -> u64 {
    use sha2::Digest;
    let d = Sha256::digest(api_key.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    10_000 + u64::from_be_bytes(b) % 1_000_000_000
}

const WINDOW_MS: u64 = 3_000;
const PER_IP: u32 = 300;
const PER_USER: u32 = 120;

/// Requests per 3-second window, per IP and per user.
#[derive(Default)]
pub struct Windows {
    ip: Mutex<HashMap<IpAddr, (u64, u32)>>,
    user: Mutex<HashMap<usize, (u64, u32)>>,
}

fn count<K: std::hash::Hash + Eq>(m: &Mutex<HashMap<K, (u64, u32)>>, k: K, limit: u32) -> bool {
    let w = now_ms() / WINDOW_MS;
    let mut m = m.lock();
    let e = m.entry(k).or_insert((w, 0));
    if e.0 != w {
        *e = (w, 0);
    }
    e.1 += 1;
    e.1 <= limit
}

impl Windows {
    /// Counts a request from `ip`; false over 300 in the window.
    pub fn ip(&self, ip: IpAddr) -> bool {
        count(&self.ip, ip, PER_IP)
    }
    /// Counts a request of `account`; false over 120 in the window.
    pub fn user(&self, account: usize) -> bool {
        count(&self.user, account, PER_USER)
    }
    pub fn reset(&self) {
        self.ip.lock().clear();
        self.user.lock().clear();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(msg);
    hex(&m.finalize().into_bytes())
}

/// `X-CS-SIGN` of `payload` with `secret` for `expires` (exchanges.md §6.2).
pub fn doc_sign(secret: &str, expires: u64, payload: &[u8]) -> String {
    let key = hmac_hex(secret.as_bytes(), (expires / 30_000).to_string().as_bytes());
    hmac_hex(key.as_bytes(), payload)
}

fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

fn answer(code: i64, msg: &str, data: Value) -> Value {
    json!({"code": code, "message": msg, "data": data})
}

fn refusal(code: i64, msg: &str) -> (u16, Value) {
    (200, answer(code, msg, Value::Null))
}

/// Coinstore's code for a core refusal.
fn code_of(e: &ApiError) -> (i64, String) {
    let code = match e.code {
        -2010 if e.msg.contains("balance") => 3113,
        -2010 if e.msg.contains("Duplicate") => 3111,
        -2011 | -2013 => 3103,
        -1121 => 3011,
        _ => 400,
    };
    (code, e.msg.clone())
}

fn symbol_of(shared: &Shared, s: &str) -> Option<usize> {
    shared.cfg.symbols.iter().position(|c| c.symbol == s)
}

/// Coinstore's `ordState` of a core order status.
fn state_of(s: &str) -> &'static str {
    match s {
        "NEW" => "SUBMITTED",
        "PARTIALLY_FILLED" => "PARTIAL_FILLED",
        "FILLED" => "FILLED",
        "EXPIRED" | "EXPIRED_IN_MATCH" => "EXPIRED",
        "REJECTED" => "REJECTED",
        _ => "CANCELED",
    }
}

/// The currency number the simulator gives `asset` (its place among every symbol's assets).
fn currency_id(shared: &Shared, asset: &str) -> u64 {
    let mut all: Vec<&str> = shared
        .cfg
        .symbols
        .iter()
        .flat_map(|s| [s.base.as_str(), s.quote.as_str()])
        .collect();
    all.sort_unstable();
    all.dedup();
    all.iter()
        .position(|a| *a == asset)
        .map_or(0, |p| p as u64 + 1)
}

/// The account of the `X-CS-*` headers, or the refusal.
fn authenticate(shared: &Shared, req: &Request) -> Result<usize, (i64, &'static str)> {
    let h = |k: &str| req.header(k).unwrap_or("");
    let ex = shared.ex.lock();
    let account = ex
        .account_by_key(h("x-cs-apikey"))
        .ok_or((401, "signature-failed"))?;
    let expires: u64 = h("x-cs-expires")
        .parse()
        .map_err(|_| (1401, "unauthorized"))?;
    let now = shared.faults.server_ms() / 30_000;
    let bucket = expires / 30_000;
    if bucket != now && bucket + 1 != now {
        return Err((1401, "unauthorized"));
    }
    let mut payload = req.query.as_bytes().to_vec();
    payload.extend_from_slice(&req.body);
    let want = doc_sign(&ex.accounts[account].secret, expires, &payload);
    if h("x-cs-sign") != want {
        return Err((1401, "unauthorized"));
    }
    Ok(account)
}

/// Whether a path is this front end's.
pub fn serves(path: &str) -> bool {
    path.starts_with("/api/trade/")
        || path.starts_with("/api/v2/trade/")
        || path == "/api/spot/accountList"
}

/// The private REST endpoints (after the HTTP faults `sim::rest` applies): the HTTP status
/// and answer; `None` for other paths. A placed order may be answered 502 (the 5xx-after
/// fault): it exists, its answer is lost.
pub fn rest(shared: &Shared, req: &Request, ip: IpAddr) -> Option<(u16, Value)> {
    if !serves(&req.path) {
        return None;
    }
    if !shared.coinstore.ip(ip) {
        return Some((429, answer(429, "too many requests", Value::Null)));
    }
    let account = match authenticate(shared, req) {
        Ok(a) => a,
        Err((code, msg)) => return Some(refusal(code, msg)),
    };
    if !shared.coinstore.user(account) {
        return Some((429, answer(429, "too many requests", Value::Null)));
    }
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
            Err(_) => return Some(refusal(400, "body is not JSON")),
        }
    };
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/trade/order/place") => match place(shared, account, &body) {
            Ok(_) if shared.faults.http_5xx_after() => {
                (502, json!({"code": 500, "message": "Bad Gateway"}))
            }
            // The docs' sample: a string code and `order_id`.
            Ok(id) => (200, json!({"code": "0", "data": {"order_id": id}})),
            Err((code, msg)) => refusal(code, &msg),
        },
        ("POST", "/api/trade/order/cancel") => cancel(shared, account, &body),
        ("POST", "/api/trade/order/cancelAll") => {
            let Some(sym) = body
                .get("symbol")
                .and_then(Value::as_str)
                .and_then(|s| symbol_of(shared, s))
            else {
                return Some(refusal(3011, "symbol not found"));
            };
            let mut ex = shared.ex.lock();
            let ids: Vec<u64> = ex
                .open_orders(account, Some(sym))
                .iter()
                .map(|o| o.order_id)
                .collect();
            for id in &ids {
                let _ = ex.cancel(account, sym, Some(*id), None, None);
            }
            shared.hub.dispatch(&mut ex, &shared.faults);
            (200, answer(0, "Success", json!(ids)))
        }
        ("GET", "/api/v2/trade/order/orderInfo") => {
            let ex = shared.ex.lock();
            let ord: Option<u64> = get("ordId").and_then(|o| o.parse().ok());
            let cl = get("clOrdId");
            let found = ex.orders.values().find(|o| {
                o.account == account
                    && (ord == Some(o.order_id)
                        || (ord.is_none() && cl == Some(o.client_order_id.as_str())))
            });
            match found {
                Some(o) => (200, answer(0, "Success", order_json(shared, o, "ordState"))),
                None => refusal(3103, "order-not-found"),
            }
        }
        ("GET", "/api/v2/trade/order/active") => {
            let sym = get("symbol").map(|s| symbol_of(shared, s));
            if sym == Some(None) {
                return Some(refusal(3011, "symbol not found"));
            }
            let ex = shared.ex.lock();
            let list: Vec<Value> = ex
                .open_orders(account, sym.flatten())
                .into_iter()
                .map(|o| {
                    let mut v = order_json(shared, o, "ordStatus");
                    // The sample gives the active list's ordId as a string.
                    v["ordId"] = json!(o.order_id.to_string());
                    v
                })
                .collect();
            (200, answer(0, "Success", json!(list)))
        }
        ("GET", "/api/trade/match/accountMatches") => {
            let Some(sym) = get("symbol").and_then(|s| symbol_of(shared, s)) else {
                return Some(refusal(3011, "symbol not found"));
            };
            // The documented filters and pages: `ordId`, `pageNum` (from 1), `pageSize`
            // (default 20); newest first.
            let ord: Option<u64> = get("ordId").and_then(|o| o.parse().ok());
            let num: usize = get("pageNum").and_then(|n| n.parse().ok()).unwrap_or(1);
            let size: usize = get("pageSize").and_then(|n| n.parse().ok()).unwrap_or(20);
            let ex = shared.ex.lock();
            let mine: Vec<&super::orders::Fill> = ex
                .fills
                .iter()
                .filter(|f| f.account == account && f.symbol == sym)
                .filter(|f| ord.is_none_or(|o| f.order_id == o))
                .collect();
            let s = &shared.cfg.symbols[sym];
            let (base, quote) = (currency_id(shared, &s.base), currency_id(shared, &s.quote));
            let list: Vec<Value> = mine
                .iter()
                .rev()
                .skip(num.max(1).saturating_sub(1).saturating_mul(size))
                .take(size)
                .map(|f| {
                    // The docs' field table: matchRole and role TAKER(1) / MAKER(-1), side
                    // BUY(1) / SELL(-1), amounts as strings, the fee's currency by number.
                    let role = if f.maker { -1 } else { 1 };
                    json!({"id": f.trade_id, "orderId": f.order_id, "tradeId": f.trade_id,
                        "matchId": f.trade_id, "accountId": account + 1,
                        "instrumentId": sym + 1, "baseCurrencyId": base,
                        "quoteCurrencyId": quote,
                        "feeCurrencyId": currency_id(shared, &f.commission_asset),
                        "side": if f.side == Side::Buy { 1 } else { -1 },
                        "matchRole": role, "role": role,
                        "execQty": dec(f.qty.units()), "execAmt": dec(f.quote),
                        "fee": dec(f.commission), "selfDealingQty": "0",
                        "matchTime": f.time_ms / 1000, "seq": null})
                })
                .collect();
            (200, answer(0, "Success", json!(list)))
        }
        ("POST", "/api/spot/accountList") => {
            let ex = shared.ex.lock();
            let uid = user_id_for_key(&ex.accounts[account].api_key);
            let mut rows = Vec::new();
            for (asset, b) in &ex.accounts[account].balances {
                for (kind, name, v) in [(1, "AVAILABLE", b.free), (4, "FROZEN", b.locked)] {
                    rows.push(json!({"uid": uid, "accountId": account + 1,
                        "currency": asset, "balance": dec(v), "type": kind, "typeName": name}));
                }
            }
            (200, answer(0, "Success", json!(rows)))
        }
        _ => (404, answer(404, "Not Found", Value::Null)),
    })
}

/// An order as the order info (`ordState`) or active list (`ordStatus`) gives it.
fn order_json(shared: &Shared, o: &super::orders::Order, state_key: &str) -> Value {
    let cfg = &shared.cfg.symbols[o.symbol];
    let kind = match o.kind {
        super::orders::OrderType::Market => "MARKET",
        super::orders::OrderType::LimitMaker => "POST_ONLY",
        super::orders::OrderType::Limit => "LIMIT",
    };
    let mut v = json!({
        "baseCurrency": cfg.base, "quoteCurrency": cfg.quote, "symbol": cfg.symbol,
        "timestamp": o.time_ms, "side": if o.side == Side::Buy { "BUY" } else { "SELL" },
        "accountId": o.account + 1, "ordId": o.order_id, "clOrdId": o.client_order_id,
        "ordType": kind, "ordPrice": dec(o.price.units()), "ordQty": dec(o.orig_qty.units()),
        "ordAmt": dec((i128::from(o.price.units()) * i128::from(o.orig_qty.units()) / 100_000_000) as i64),
        "cumAmt": dec(o.cum_quote), "cumQty": dec(o.executed.units()),
        "leavesQty": dec(if o.status.is_open() { o.leaves().units() } else { 0 }),
        "avgPrice": dec(if o.executed.is_zero() { 0 } else {
            (i128::from(o.cum_quote) * 100_000_000 / i128::from(o.executed.units())) as i64 }),
        "feeCurrency": if o.side == Side::Buy { &cfg.base } else { &cfg.quote },
        "timeInForce": o.tif.as_str(),
    });
    v[state_key] = json!(state_of(o.status.as_str()));
    v
}

/// `POST /api/trade/order/place`: the order's id, or Coinstore's refusal.
/// Active orders an account may hold (exchanges.md §6: regular accounts).
pub const MAX_ACTIVE_ORDERS: usize = 50;

fn place(shared: &Shared, account: usize, b: &Value) -> Result<u64, (i64, String)> {
    let s = |k: &str| match b.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let bad = |what: &str| (400, format!("param error: {what}"));
    if s("timestamp").is_empty() {
        return Err(bad("timestamp is required"));
    }
    let sym = symbol_of(shared, &s("symbol")).ok_or((3011, "symbol not found".to_owned()))?;
    // "Regular accounts may hold at most 50 active orders" (the docs give no code for it:
    // 400 with the reason, as for the other undocumented refusals).
    if shared.ex.lock().open_orders(account, None).len() >= MAX_ACTIVE_ORDERS {
        return Err((400, format!("at most {MAX_ACTIVE_ORDERS} active orders")));
    }
    let side = match s("side").as_str() {
        "BUY" => "BUY",
        "SELL" => "SELL",
        _ => return Err(bad("side")),
    };
    let tif = match s("timeInForce").as_str() {
        "" | "GTC" => "GTC",
        "IOC" => "IOC",
        "FOK" => "FOK",
        _ => return Err(bad("timeInForce")),
    };
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    match s("ordType").as_str() {
        "LIMIT" | "POST_ONLY" => {
            let maker = s("ordType") == "POST_ONLY";
            p.insert(
                "type".into(),
                json!(if maker { "LIMIT_MAKER" } else { "LIMIT" }),
            );
            if !maker {
                p.insert("timeInForce".into(), json!(tif));
            }
            if s("ordPrice").is_empty() || s("ordQty").is_empty() {
                return Err(bad("ordPrice and ordQty are required"));
            }
            p.insert("price".into(), json!(s("ordPrice")));
            p.insert("quantity".into(), json!(s("ordQty")));
        }
        "MARKET" if side == "BUY" => {
            if s("ordAmt").is_empty() {
                return Err(bad("a market buy needs ordAmt"));
            }
            p.insert("type".into(), json!("MARKET"));
            p.insert("quoteOrderQty".into(), json!(s("ordAmt")));
        }
        "MARKET" => {
            if s("ordQty").is_empty() {
                return Err(bad("a market sell needs ordQty"));
            }
            p.insert("type".into(), json!("MARKET"));
            p.insert("quantity".into(), json!(s("ordQty")));
        }
        _ => return Err(bad("ordType")),
    }
    let cl = s("clOrdId");
    if !cl.is_empty() {
        p.insert("newClientOrderId".into(), json!(cl));
    }
    match super::api::place_counted(shared, account, &p, |_, _, _| Ok(())) {
        Ok(v) => v["orderId"].as_u64().ok_or((400, "no order id".to_owned())),
        Err(e) => Err(code_of(&e)),
    }
}

/// `POST /api/trade/order/cancel` by `ordId` (number or string), or by `clOrdId`.
fn cancel(shared: &Shared, account: usize, b: &Value) -> (u16, Value) {
    let Some(sym) = b
        .get("symbol")
        .and_then(Value::as_str)
        .and_then(|s| symbol_of(shared, s))
    else {
        return refusal(3011, "symbol not found");
    };
    let ord = match b.get("ordId") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let cl = b
        .get("clOrdId")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    if ord.is_none() && cl.is_none() {
        return refusal(400, "param error: ordId is required");
    }
    let mut ex = shared.ex.lock();
    let res = ex.cancel(account, sym, ord, cl, None);
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(v) => {
            let id = v["orderId"].as_u64().unwrap_or(0);
            let cid = ex
                .orders
                .get(&id)
                .map(|o| o.client_order_id.clone())
                .unwrap_or_default();
            (
                200,
                answer(
                    0,
                    "Success",
                    json!({"clientOrderId": cid, "state": "CANCELED", "ordId": id}),
                ),
            )
        }
        Err(_) => refusal(3103, "order-not-found"),
    }
}

/// The private half of one `/s/ws` connection, after its LOGIN.
pub struct Private {
    account: usize,
    /// `None`: every symbol (`!@order`); else the symbols subscribed.
    order_symbols: Option<Vec<String>>,
    /// `None`: every currency (`!@account`); else those subscribed; `Some(empty)`: none.
    currencies: Option<Vec<String>>,
    /// The `version` of each order's pushes.
    versions: HashMap<u64, u64>,
    /// Further pushes one core event made.
    pub pending: VecDeque<Value>,
}

/// A LOGIN: the account and channels, or the refusal's message.
pub fn login(shared: &Shared, v: &Value) -> Result<Private, String> {
    let auth = v.get("auth").ok_or("login without auth")?;
    if auth.get("type").and_then(Value::as_str) != Some("api") {
        return Err("auth type must be api".into());
    }
    let token = auth.get("token").and_then(Value::as_str).unwrap_or("");
    let uid = auth
        .get("user-id")
        .and_then(Value::as_u64)
        .ok_or("auth without user-id")?;
    let account = shared
        .ex
        .lock()
        .account_by_key(token)
        .ok_or("invalid token")?;
    if uid != user_id_for_key(token) {
        return Err("user-id does not match the token".into());
    }
    let names: Vec<&str> = match v.get("channel") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut p = Private {
        account,
        order_symbols: Some(Vec::new()),
        currencies: Some(Vec::new()),
        versions: HashMap::new(),
        pending: VecDeque::new(),
    };
    for n in names {
        match n.split_once('@') {
            Some(("!", "order")) => p.order_symbols = None,
            Some(("!", "account")) => p.currencies = None,
            Some((s, "order")) => {
                let sym = shared
                    .cfg
                    .symbols
                    .iter()
                    .find(|c| c.symbol.eq_ignore_ascii_case(s))
                    .ok_or(format!("unknown channel {n}"))?;
                if let Some(l) = &mut p.order_symbols {
                    l.push(sym.symbol.clone());
                }
            }
            Some((c, "account")) => {
                if let Some(l) = &mut p.currencies {
                    l.push(c.to_ascii_uppercase());
                }
            }
            _ => return Err(format!("unknown channel {n}")),
        }
    }
    Ok(p)
}

impl Private {
    pub fn account(&self) -> usize {
        self.account
    }

    /// The pushes (payloads with `T`) one core user event makes; the first is returned, the
    /// rest wait in `pending`.
    pub fn render(&mut self, shared: &Shared, e: &Value) -> Option<Value> {
        let mut out: Vec<Value> = match e.get("e")?.as_str()? {
            "executionReport" => self.order_push(shared, e).into_iter().collect(),
            "outboundAccountPosition" => e
                .get("B")?
                .as_array()?
                .iter()
                .filter_map(|b| {
                    let asset = b.get("a")?.as_str()?;
                    if self
                        .currencies
                        .as_ref()
                        .is_some_and(|l| !l.iter().any(|c| c == asset))
                    {
                        return None;
                    }
                    Some(json!({"T": "account", "accountId": self.account + 1,
                        "currency": asset, "available": b.get("f")?, "frozen": b.get("l")?,
                        "timestamp": now_ms() / 1000}))
                })
                .collect(),
            _ => return None,
        };
        if out.is_empty() {
            return None;
        }
        let first = out.remove(0);
        self.pending.extend(out);
        Some(first)
    }

    fn order_push(&mut self, shared: &Shared, e: &Value) -> Option<Value> {
        let id = e.get("i")?.as_u64()?;
        let units =
            |k: &str| -> Option<i64> { Some(Price::parse(e.get(k)?.as_str()?).ok()?.units()) };
        let ex = shared.ex.lock();
        let o = ex.orders.get(&id)?;
        if o.account != self.account {
            return None;
        }
        let cfg = &shared.cfg.symbols[o.symbol];
        if self
            .order_symbols
            .as_ref()
            .is_some_and(|l| !l.contains(&cfg.symbol))
        {
            return None;
        }
        let version = self.versions.entry(id).or_insert(0);
        *version += 1;
        let (cum_qty, cum_amt) = (units("z")?, units("Z")?);
        let kind = match o.kind {
            super::orders::OrderType::Market => "MARKET",
            super::orders::OrderType::LimitMaker => "POST_ONLY",
            super::orders::OrderType::Limit => "LIMIT",
        };
        let mut v = json!({"T": "order", "version": *version, "accountId": o.account + 1,
            "ordId": id, "symbol": cfg.symbol, "side": if o.side == Side::Buy { "BUY" } else { "SELL" },
            "ordType": kind, "timeInForce": o.tif.as_str(), "ordPrice": dec(o.price.units()),
            "ordQty": dec(o.orig_qty.units()),
            "ordAmt": dec((i128::from(o.price.units()) * i128::from(o.orig_qty.units()) / 100_000_000) as i64),
            "ordState": state_of(e.get("X")?.as_str()?),
            "execQty": dec(cum_qty), "execAmt": dec(cum_amt),
            "remainingQty": dec((o.orig_qty.units() - cum_qty).max(0)),
            "matchQty": "0", "timestamp": e.get("E").and_then(Value::as_u64).unwrap_or(0) / 1000});
        if e.get("x").and_then(Value::as_str) == Some("TRADE") {
            let (qty, price) = (units("l")?, units("L")?);
            let asset = e.get("N").and_then(Value::as_str).unwrap_or("");
            let t = e.get("t").and_then(Value::as_u64).unwrap_or(0);
            let m = v.as_object_mut()?;
            m.insert("matchId".into(), json!(t));
            m.insert("tradeId".into(), json!(t));
            m.insert(
                "matchRole".into(),
                json!(if e.get("m").and_then(Value::as_bool) == Some(true) {
                    "MAKER"
                } else {
                    "TAKER"
                }),
            );
            m.insert("matchQty".into(), json!(dec(qty)));
            m.insert(
                "matchAmt".into(),
                json!(dec(
                    (i128::from(qty) * i128::from(price) / 100_000_000) as i64
                )),
            );
            m.insert("selfDealingQty".into(), json!("0"));
            m.insert("feeCurrencyId".into(), json!(currency_id(shared, asset)));
            m.insert(
                "fee".into(),
                json!(e.get("n").and_then(Value::as_str).unwrap_or("0")),
            );
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_computed_vectors_of_the_reference() {
        let post = br#"{"symbol":"aaaa88","side":"SELL","ordType":"LIMIT","ordPrice":2,"ordQty":1,"timestamp":1627384801051}"#;
        assert_eq!(
            doc_sign("your_secret_key", 1_627_384_801_051, post),
            "3ddc2fb3ef509a93f98f354f807c7dc622301fffd70a9590771eff0c50dcca33"
        );
        assert_eq!(
            doc_sign(
                "your_secret_key",
                1_627_384_801_051,
                b"symbol=aaaa88&size=10"
            ),
            "3936071e042f74ad163c53769627d8205480aed6246667b5df458cdb69fd4d41"
        );
    }
}
