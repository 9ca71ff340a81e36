//! The simulator's OKX v5 private front end, written from OKX's documentation
//! (exchanges.md §2.5–2.9), not from the engine's OKX codec: `/ws/v5/private` (login with
//! the Base64 HMAC-SHA256 over `timestamp + GET + /users/self/verify`, the `orders` and
//! `account` channels, the `order` and `cancel-order` ops) and the signed REST endpoints
//! (`OK-ACCESS-*` headers over `timestamp + METHOD + path(+query) + body`): place, cancel,
//! order details, pending orders, fills and balance. Orders go to the simulator's one matching
//! core through its shared operations; its private events are turned into OKX's pushes here.
//!
//! Accounts are the simulator's, found by API key; their passphrase is
//! [`OKX_SIM_PASSPHRASE`]. `x-simulated-trading: 1` (OKX demo trading) is accepted and
//! changes nothing: everything here is simulated.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::Shared;
use super::exchange::ApiError;
use super::hub::{Mailbox, Outbound};
use super::orders::{Order, Status};
use super::ws::{Queue, Session};
use crate::types::{Price, Side};

/// The passphrase of every simulator account on its OKX front end.
pub const OKX_SIM_PASSPHRASE: &str = "mako-sim-passphrase";

/// Base64 HMAC-SHA256 of `msg` with `secret` (OKX's signature, §2.5).
fn sign(secret: &str, msg: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

/// `BTCUSDT` → `BTC-USDT`, from the symbol's configured base and quote.
fn inst_of(shared: &Shared, symbol: usize) -> String {
    let c = &shared.cfg.symbols[symbol];
    format!("{}-{}", c.base, c.quote)
}

fn state(s: Status) -> &'static str {
    match s {
        Status::New => "live",
        Status::PartiallyFilled => "partially_filled",
        Status::Filled => "filled",
        Status::Canceled | Status::Expired => "canceled",
    }
}

/// OKX's error for a core refusal (§2.9).
fn okx_code(e: &ApiError) -> &'static str {
    match e.code {
        -2010 if e.msg.contains("balance") => "51008",
        -2010 => "51000",
        -2011 | -2013 => "51603",
        -1003 | -1015 => "50011",
        _ => "51000",
    }
}

/// An order in the shape of OKX's order answers and pushes.
fn order_json(shared: &Shared, o: &Order, fee: i64, fee_ccy: &str) -> Value {
    let avg = if o.executed.is_zero() {
        String::new()
    } else {
        // cum_quote is in price units per 1 unit of quantity: avg = quote / qty, exactly
        // enough for a report (OKX rounds its own).
        let q = i128::from(o.cum_quote) * 100_000_000 / i128::from(o.executed.units());
        dec(q as i64)
    };
    json!({
        "instType": "SPOT", "instId": inst_of(shared, o.symbol), "ordId": o.order_id.to_string(),
        "clOrdId": o.client_order_id, "side": if o.side == Side::Buy { "buy" } else { "sell" },
        "ordType": match (o.kind.as_str(), o.tif.as_str()) {
            ("MARKET", _) => "market", ("LIMIT_MAKER", _) => "post_only",
            (_, "IOC") => "ioc", (_, "FOK") => "fok", _ => "limit",
        },
        "px": if o.price.is_zero() { String::new() } else { dec(o.price.units()) },
        "sz": dec(o.orig_qty.units()), "state": state(o.status),
        "accFillSz": dec(o.executed.units()), "avgPx": avg,
        "fee": if fee == 0 { "0".to_owned() } else { format!("-{}", dec(fee)) }, "feeCcy": fee_ccy,
        "tdMode": "cash", "cTime": o.time_ms.to_string(), "uTime": o.update_ms.to_string(),
        "code": "0", "msg": "",
    })
}

/// An OKX refusal: its code and message.
type Refusal = (&'static str, String);

/// Binance-style core parameters for an OKX order request.
fn core_params(shared: &Shared, a: &Value) -> Result<(usize, Map<String, Value>), Refusal> {
    let inst = a.get("instId").and_then(Value::as_str).unwrap_or("");
    let sym = super::okx_public::symbol_of(shared, inst)
        .ok_or(("51001", "Instrument ID doesn't exist".to_owned()))?;
    if a.get("tdMode").and_then(Value::as_str) != Some("cash") {
        return Err(("51000", "Parameter tdMode error".into()));
    }
    let side = match a.get("side").and_then(Value::as_str) {
        Some("buy") => "BUY",
        Some("sell") => "SELL",
        _ => return Err(("51000", "Parameter side error".into())),
    };
    let (kind, tif) = match a.get("ordType").and_then(Value::as_str) {
        Some("limit") => ("LIMIT", Some("GTC")),
        Some("post_only") => ("LIMIT_MAKER", None),
        Some("ioc") => ("LIMIT", Some("IOC")),
        Some("fok") => ("LIMIT", Some("FOK")),
        Some("market") => ("MARKET", None),
        _ => return Err(("51000", "Parameter ordType error".into())),
    };
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    p.insert("type".into(), json!(kind));
    if let Some(t) = tif {
        p.insert("timeInForce".into(), json!(t));
    }
    let sz = a
        .get("sz")
        .and_then(Value::as_str)
        .ok_or(("51000", "Parameter sz error".to_owned()))?;
    if kind == "MARKET" && a.get("tgtCcy").and_then(Value::as_str) == Some("quote_ccy") {
        p.insert("quoteOrderQty".into(), json!(sz));
    } else {
        p.insert("quantity".into(), json!(sz));
    }
    if kind != "MARKET" {
        let px = a
            .get("px")
            .and_then(Value::as_str)
            .ok_or(("51000", "Parameter px error".to_owned()))?;
        p.insert("price".into(), json!(px));
    }
    if let Some(c) = a
        .get("clOrdId")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    {
        if c.len() > 32 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(("51000", "Parameter clOrdId error".into()));
        }
        p.insert("newClientOrderId".into(), json!(c));
    }
    Ok((sym, p))
}

/// Places an OKX order for `account`: the answer item (`sCode` 0, or the refusal).
fn place(shared: &Shared, account: usize, a: &Value) -> Value {
    let cl = a.get("clOrdId").cloned().unwrap_or(json!(""));
    let item = |ord: String, code: &str, msg: String| json!({"clOrdId": cl, "ordId": ord, "tag": "", "ts": super::exchange::now_ms().to_string(), "sCode": code, "sMsg": msg});
    let (_, p) = match core_params(shared, a) {
        Ok(x) => x,
        Err((code, msg)) => return item(String::new(), code, msg),
    };
    // OKX's own limit: 60 new orders per 2 s per instrument (not Binance's 10 s count).
    match super::api::place_counted(shared, account, &p, |l, a, sym| l.okx_order(a, sym)) {
        Ok(v) => item(v["orderId"].to_string(), "0", String::new()),
        Err(e) => item(String::new(), okx_code(&e), e.msg),
    }
}

/// Cancels by `clOrdId` or `ordId`: the answer item.
fn cancel(shared: &Shared, account: usize, a: &Value) -> Value {
    let inst = a.get("instId").and_then(Value::as_str).unwrap_or("");
    let cl = a
        .get("clOrdId")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    let ord = a
        .get("ordId")
        .and_then(Value::as_str)
        .and_then(|o| o.parse::<u64>().ok());
    let item = |ord: String, code: &str, msg: &str| json!({"clOrdId": cl.unwrap_or(""), "ordId": ord, "ts": super::exchange::now_ms().to_string(), "sCode": code, "sMsg": msg});
    let Some(sym) = super::okx_public::symbol_of(shared, inst) else {
        return item(String::new(), "51001", "Instrument ID doesn't exist");
    };
    let mut ex = shared.ex.lock();
    let res = ex.cancel(account, sym, ord, cl, None);
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(v) => item(v["orderId"].to_string(), "0", ""),
        Err(_) => item(
            ord.map(|o| o.to_string()).unwrap_or_default(),
            "51400",
            "Cancellation failed as the order has been filled, canceled or does not exist.",
        ),
    }
}

/// Amends by `clOrdId` or `ordId` to `newPx`/`newSz` (either may be left out): the answer
/// item, with the request's `reqId`.
fn amend(shared: &Shared, account: usize, a: &Value) -> Value {
    let s = |k: &str| a.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let (cl, req) = (s("clOrdId"), s("reqId").unwrap_or(""));
    let ord = s("ordId").and_then(|o| o.parse::<u64>().ok());
    let item = |ord: String, code: &str, msg: &str| json!({"clOrdId": cl.unwrap_or(""), "ordId": ord, "reqId": req, "ts": super::exchange::now_ms().to_string(), "sCode": code, "sMsg": msg});
    let Some(sym) = super::okx_public::symbol_of(shared, s("instId").unwrap_or("")) else {
        return item(String::new(), "51001", "Instrument ID doesn't exist");
    };
    if s("newPx").is_none() && s("newSz").is_none() {
        return item(String::new(), "51000", "Parameter newSz or newPx error");
    }
    let mut ex = shared.ex.lock();
    let Some(id) = ex.find(account, sym, ord, cl) else {
        return item(
            String::new(),
            "51503",
            "Order modification failed as the order has been filled, canceled or does not exist.",
        );
    };
    let Some(o) = ex.orders.get(&id) else {
        return item(
            String::new(),
            "51503",
            "Order modification failed as the order has been filled, canceled or does not exist.",
        );
    };
    let parse = |k: &str, was: i64| match s(k) {
        None => Some(was),
        Some(v) => Price::parse(v).ok().map(|p| p.units()),
    };
    let (Some(px), Some(sz)) = (
        parse("newPx", o.price.units()),
        parse("newSz", o.orig_qty.units()),
    ) else {
        return item(id.to_string(), "51000", "Parameter newSz or newPx error");
    };
    let res = ex.amend(
        account,
        sym,
        Some(id),
        None,
        Price::from_units(px),
        crate::types::Qty::from_units(sz),
    );
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(id) => item(id.to_string(), "0", ""),
        Err(e) if e.code == -2011 => item(
            id.to_string(),
            "51503",
            "Order modification failed as the order has been filled, canceled or does not exist.",
        ),
        Err(e) => item(id.to_string(), okx_code(&e), &e.msg),
    }
}

/// One `/ws/v5/private` connection.
pub struct OkxPrivateSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    orders: bool,
    balances: bool,
    /// Fee charged so far per order (OKX's accumulated `fee`).
    fees: HashMap<String, i64>,
}

impl OkxPrivateSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            shared,
            conn,
            mailbox,
            account: None,
            orders: false,
            balances: false,
            fees: HashMap::new(),
        }
    }

    fn login(&mut self, a: &Value) -> Result<usize, (&'static str, &'static str)> {
        let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("");
        let ex = self.shared.ex.lock();
        let account = ex
            .account_by_key(s("apiKey"))
            .ok_or(("60005", "Invalid apiKey"))?;
        if s("passphrase") != OKX_SIM_PASSPHRASE {
            return Err(("60024", "Wrong passphrase"));
        }
        let ts: u64 = s("timestamp")
            .parse()
            .map_err(|_| ("60004", "Invalid timestamp"))?;
        let now = self.shared.faults.server_ms() / 1000;
        // The request expires 30 s after its timestamp.
        if now > ts + 30 || ts > now + 30 {
            return Err(("60006", "Timestamp request expired"));
        }
        let want = sign(
            &ex.accounts[account].secret,
            &format!("{ts}GET/users/self/verify"),
        );
        if s("sign") != want {
            return Err(("60007", "Invalid sign"));
        }
        Ok(account)
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    /// An `executionReport` of the core as an OKX `orders` push.
    fn order_push(&mut self, e: &Value) -> Option<String> {
        let ex = self.shared.ex.lock();
        let id: u64 = e.get("i")?.as_u64()?;
        let o = ex.orders.get(&id)?;
        let fee = self.fees.entry(o.order_id.to_string()).or_default();
        let trade = e.get("x")?.as_str()? == "TRADE";
        let fee_ccy = e.get("N").and_then(Value::as_str).unwrap_or("").to_owned();
        if trade {
            *fee += Price::parse(e.get("n")?.as_str()?).ok()?.units();
        }
        let mut item = order_json(&self.shared, o, *fee, &fee_ccy);
        // The report's own status (the order may have moved on since).
        item["state"] = json!(match e.get("X")?.as_str()? {
            "NEW" => "live",
            "PARTIALLY_FILLED" => "partially_filled",
            "FILLED" => "filled",
            _ => "canceled",
        });
        item["accFillSz"] = json!(dec(Price::parse(e.get("z")?.as_str()?).ok()?.units()));
        let cl = match e.get("C").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => c,
            _ => e.get("c")?.as_str()?,
        };
        item["clOrdId"] = json!(cl);
        // An amend in place: OKX's `amendResult` 0 (succeeded) on the order's push.
        item["amendResult"] = json!(if e.get("x")?.as_str()? == "REPLACED" {
            "0"
        } else {
            ""
        });
        if trade {
            let n = Price::parse(e.get("n")?.as_str()?).ok()?.units();
            item["tradeId"] = json!(e.get("t")?.to_string());
            item["fillPx"] = json!(dec(Price::parse(e.get("L")?.as_str()?).ok()?.units()));
            item["fillSz"] = json!(dec(Price::parse(e.get("l")?.as_str()?).ok()?.units()));
            item["fillFee"] = json!(if n == 0 {
                "0".to_owned()
            } else {
                format!("-{}", dec(n))
            });
            item["fillFeeCcy"] = json!(fee_ccy);
            item["execType"] = json!(if e.get("m")?.as_bool()? { "M" } else { "T" });
            item["fillTime"] = json!(e.get("T")?.to_string());
        } else {
            for k in [
                "tradeId",
                "fillPx",
                "fillSz",
                "fillFee",
                "fillFeeCcy",
                "execType",
                "fillTime",
            ] {
                item[k] = json!("");
            }
        }
        Some(json!({"arg": {"channel": "orders", "instType": "SPOT"}, "data": [item]}).to_string())
    }

    fn balance_push(&self, e: &Value) -> Option<String> {
        let details: Vec<Value> = e
            .get("B")?
            .as_array()?
            .iter()
            .filter_map(|b| {
                let f = Price::parse(b.get("f")?.as_str()?).ok()?.units();
                let l = Price::parse(b.get("l")?.as_str()?).ok()?.units();
                Some(json!({"ccy": b.get("a")?, "availBal": dec(f), "frozenBal": dec(l), "cashBal": dec(f + l)}))
            })
            .collect();
        Some(json!({"arg": {"channel": "account"}, "data": [{"uTime": super::exchange::now_ms().to_string(), "details": details}]}).to_string())
    }
}

impl Session for OkxPrivateSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        if text == "ping" {
            q.push_back((Instant::now(), Some("pong".into())));
            return true;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::reply(
                q,
                json!({"event": "error", "code": "60012", "msg": format!("Invalid request: {text}")}),
            );
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let args = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let id = v.get("id").cloned();
        match (op, self.account) {
            ("login", _) => match args.first().map(|a| self.login(a)) {
                Some(Ok(account)) => {
                    self.account = Some(account);
                    Self::reply(
                        q,
                        json!({"event": "login", "code": "0", "msg": "", "connId": format!("{:08x}", self.conn)}),
                    );
                }
                Some(Err((code, msg))) => {
                    Self::reply(q, json!({"event": "error", "code": code, "msg": msg}))
                }
                None => Self::reply(
                    q,
                    json!({"event": "error", "code": "60012", "msg": "Invalid request"}),
                ),
            },
            (_, None) => Self::reply(
                q,
                json!({"event": "error", "code": "60011", "msg": "Please log in"}),
            ),
            ("subscribe", Some(account)) => {
                for a in &args {
                    match a.get("channel").and_then(Value::as_str) {
                        Some("orders") => {
                            if !self.orders && !self.balances {
                                self.shared.hub.add_user(
                                    self.conn,
                                    account,
                                    self.conn,
                                    self.mailbox.clone(),
                                );
                            }
                            self.orders = true;
                        }
                        Some("account") => {
                            if !self.orders && !self.balances {
                                self.shared.hub.add_user(
                                    self.conn,
                                    account,
                                    self.conn,
                                    self.mailbox.clone(),
                                );
                            }
                            self.balances = true;
                        }
                        _ => {
                            Self::reply(
                                q,
                                json!({"event": "error", "code": "60018", "msg": format!("Wrong URL or channel:{a} doesn't exist.")}),
                            );
                            continue;
                        }
                    }
                    Self::reply(
                        q,
                        json!({"event": "subscribe", "arg": a, "connId": format!("{:08x}", self.conn)}),
                    );
                }
            }
            ("order" | "cancel-order" | "amend-order", Some(account)) => {
                let Some(a) = args.first() else {
                    Self::reply(
                        q,
                        json!({"id": id, "op": op, "code": "60012", "msg": "Invalid request", "data": []}),
                    );
                    return true;
                };
                let item = match op {
                    "order" => place(&self.shared, account, a),
                    "amend-order" => amend(&self.shared, account, a),
                    _ => cancel(&self.shared, account, a),
                };
                let ok = item["sCode"] == "0";
                let resp = json!({"id": id, "op": op, "code": if ok { "0" } else { "1" }, "msg": "", "data": [item],
                    "inTime": "0", "outTime": "0"});
                if !self.shared.faults.drop_ack() {
                    q.push_back((
                        Instant::now() + self.shared.faults.ack_delay(),
                        Some(resp.to_string()),
                    ));
                }
            }
            _ => Self::reply(
                q,
                json!({"id": id, "op": op, "code": "60012", "msg": format!("Invalid request: {text}"), "data": []}),
            ),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => {
                let w: Value = serde_json::from_str(&t).ok()?;
                let e = w.get("event")?;
                let text = match e.get("e")?.as_str()? {
                    "executionReport" if self.orders => self.order_push(e)?,
                    "outboundAccountPosition" if self.balances => self.balance_push(e)?,
                    _ => return None,
                };
                Some((Instant::now(), Some(text)))
            }
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn idle_timeout(&self) -> Option<std::time::Duration> {
        Some(self.shared.cfg.okx_idle_timeout)
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}

/// The signed REST endpoints; `None` for other paths. Checks the four `OK-ACCESS-*` headers
/// as OKX does (§2.5): key, passphrase, a timestamp within 30 s, and the signature over
/// `timestamp + METHOD + path(?query) + body`.
pub fn rest(shared: &Shared, req: &crate::net::http::Request) -> Option<(u16, Value)> {
    let private =
        req.path.starts_with("/api/v5/trade/") || req.path.starts_with("/api/v5/account/");
    if !private {
        return None;
    }
    let err = |status: u16, code: &str, msg: &str| {
        Some((status, json!({"code": code, "msg": msg, "data": []})))
    };
    let h = |k: &str| req.header(k).unwrap_or("");
    let account = {
        let ex = shared.ex.lock();
        let Some(a) = ex.account_by_key(h("ok-access-key")) else {
            return err(401, "50111", "Invalid OK-ACCESS-KEY");
        };
        if h("ok-access-passphrase") != OKX_SIM_PASSPHRASE {
            return err(401, "50105", "OK-ACCESS-PASSPHRASE incorrect");
        }
        let ts = h("ok-access-timestamp");
        let Some(ms) = iso_ms(ts) else {
            return err(401, "50112", "Invalid OK-ACCESS-TIMESTAMP");
        };
        if shared.faults.server_ms().abs_diff(ms) > 30_000 {
            return err(401, "50102", "Timestamp request expired");
        }
        let path = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let body = String::from_utf8_lossy(&req.body);
        let want = sign(
            &ex.accounts[a].secret,
            &format!("{ts}{}{path}{body}", req.method),
        );
        if h("ok-access-sign") != want {
            return err(401, "50113", "Invalid signature");
        }
        a
    };
    let q = crate::net::http::parse_pairs(&req.query);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return err(400, "50002", "JSON syntax error"),
        }
    };
    let answer = |item: Value| {
        let ok = item["sCode"] == "0";
        Some((
            200,
            json!({"code": if ok { "0" } else { "1" }, "msg": "", "data": [item]}),
        ))
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/v5/trade/order") => {
            let item = place(shared, account, &body);
            if item["sCode"] == "0" && shared.faults.http_5xx_after() {
                return Some((
                    503,
                    json!({"code": "50001", "msg": "Service temporarily unavailable", "data": []}),
                ));
            }
            answer(item)
        }
        ("POST", "/api/v5/trade/cancel-order") => answer(cancel(shared, account, &body)),
        ("POST", "/api/v5/trade/amend-order") => answer(amend(shared, account, &body)),
        ("GET", "/api/v5/trade/order") => {
            let sym = get("instId").and_then(|i| super::okx_public::symbol_of(shared, i));
            let Some(sym) = sym else {
                return err(200, "51001", "Instrument ID doesn't exist");
            };
            let ex = shared.ex.lock();
            let ord = get("ordId").and_then(|o| o.parse().ok());
            let Some(id) = ex.find(account, sym, ord, get("clOrdId")) else {
                return err(200, "51603", "Order does not exist");
            };
            let o = ex.orders.get(&id)?;
            let (fee, ccy) = fees_of(&ex, id);
            Some((
                200,
                json!({"code": "0", "msg": "", "data": [order_json(shared, o, fee, &ccy)]}),
            ))
        }
        ("GET", "/api/v5/trade/orders-pending") => {
            let ex = shared.ex.lock();
            let sym = get("instId").and_then(|i| super::okx_public::symbol_of(shared, i));
            let data: Vec<Value> = ex
                .open_orders(account, sym)
                .into_iter()
                .map(|o| {
                    let (fee, ccy) = fees_of(&ex, o.order_id);
                    order_json(shared, o, fee, &ccy)
                })
                .collect();
            Some((200, json!({"code": "0", "msg": "", "data": data})))
        }
        ("GET", "/api/v5/trade/fills") => {
            let ex = shared.ex.lock();
            let ord: Option<u64> = get("ordId").and_then(|o| o.parse().ok());
            let data: Vec<Value> = ex
                .fills
                .iter()
                .filter(|f| f.account == account && ord.is_none_or(|o| f.order_id == o))
                .map(|f| {
                    json!({"instType": "SPOT", "instId": inst_of(shared, f.symbol), "tradeId": f.trade_id.to_string(),
                        "ordId": f.order_id.to_string(), "clOrdId": ex.orders.get(&f.order_id).map(|o| o.client_order_id.clone()).unwrap_or_default(),
                        "fillPx": dec(f.price.units()), "fillSz": dec(f.qty.units()),
                        "side": if f.side == Side::Buy { "buy" } else { "sell" },
                        "fee": if f.commission == 0 { "0".to_owned() } else { format!("-{}", dec(f.commission)) },
                        "feeCcy": f.commission_asset, "execType": if f.maker { "M" } else { "T" }, "ts": f.time_ms.to_string()})
                })
                .collect();
            Some((200, json!({"code": "0", "msg": "", "data": data})))
        }
        ("GET", "/api/v5/account/balance") => {
            let ex = shared.ex.lock();
            let details: Vec<Value> = ex.accounts[account]
                .balances
                .iter()
                .map(|(k, b)| json!({"ccy": k, "availBal": dec(b.free), "frozenBal": dec(b.locked), "cashBal": dec(b.free + b.locked)}))
                .collect();
            Some((
                200,
                json!({"code": "0", "msg": "", "data": [{"uTime": super::exchange::now_ms().to_string(), "details": details}]}),
            ))
        }
        _ => err(404, "50000", "Not Found"),
    }
}

/// Fees charged on order `id` so far, and their asset.
fn fees_of(ex: &super::exchange::Exchange, id: u64) -> (i64, String) {
    let mut ccy = String::new();
    let total = ex
        .fills
        .iter()
        .filter(|f| f.order_id == id)
        .map(|f| {
            ccy.clone_from(&f.commission_asset);
            f.commission
        })
        .sum();
    (total, ccy)
}

/// `2020-12-08T09:08:57.715Z` as Unix milliseconds.
fn iso_ms(ts: &str) -> Option<u64> {
    let b = ts.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[10] != b'T' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss, ms) = (n(11..13)?, n(14..16)?, n(17..19)?, n(20..23)?);
    // Days from the civil date (Howard Hinnant's algorithm, the other direction).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_timestamps_read_back() {
        assert_eq!(
            super::iso_ms("2020-12-08T09:08:57.715Z"),
            Some(1_607_418_537_715)
        );
        assert_eq!(super::iso_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(super::iso_ms("2020-12-08 09:08:57"), None);
    }
}
