//! The simulator's Bybit trade WebSocket (`/v5/trade`), written from Bybit's "WebSocket Trade
//! Guideline" (exchanges.md §3.5–3.6), not from the engine's codec: `auth` with
//! `[api_key, expires, hex HMAC-SHA256("GET/realtime" + expires)]` checked with hmac/sha2
//! directly (answer `retCode` 0, 10004 invalid sign, 10001 parameter error, 20001 repeat
//! auth, 10003 unknown key), `ping` → `pong`, and `order.create` / `order.amend` /
//! `order.cancel` with one order in `args` and a `header` whose `X-BAPI-TIMESTAMP` must fall
//! in `server_time − X-BAPI-RECV-WINDOW (default 5000) ≤ ts < server_time + 1000` (else
//! 10002). Each answer echoes `reqId` (a `reqId` used twice on a connection: 20006) and
//! carries `data` {`orderId`, `orderLinkId`} and a `header` with the create endpoint's
//! `X-Bapi-Limit` (20 per second), `X-Bapi-Limit-Status` (left in this connection's current
//! second) and `X-Bapi-Limit-Reset-Timestamp`.
//!
//! Orders reach the one matching core through the private front end's own create and cancel
//! (`bybit_private.rs`), so their pushes come on `/v5/private`. Amends use the core's amend
//! (`bybit_amend.rs`, as `POST /v5/order/amend`: spot and linear). Faults: a dropped
//! answer (`drop_ack_rate`, after the order executed) and the user connections' disconnect
//! (the connection is registered with the hub for it; it renders no pushes).
//!
//! Batches, from Bybit's v5 batch-order docs (the trade WebSocket carries the REST
//! endpoints' parameters): `order.create-batch` / `order.cancel-batch` /
//! `order.amend-batch` with one argument `{"category","request":[…]}` of at most 10 (spot)
//! or 20 (linear) items of one category, each placed, cancelled or amended as its single op
//! would be, in the order sent; the answer's `data.list` holds one `{category, symbol,
//! orderId, orderLinkId}` per item (and `createAt` for a create; `orderId` empty when
//! refused) and `retExtInfo.list` one `{code, msg}` per item. A request over the cap,
//! without a list or of another category is refused whole (10001). Every order op of the
//! trade socket is written in
//! the simulator's request log (`SimHandle::rest_log`) as method `WS`, path the op, status
//! 200 (0 when its answer was dropped): tests count the requests the venue saw.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::Shared;
use super::bybit_private::{answer, cancel, category, create, sign, symbol_of};
use super::exchange::now_ms;
use super::hub::{Mailbox, Outbound};
use super::ws::{Queue, Session};

/// The create endpoint's per-UID limit the answers report (spot: 20 per second, §3.7).
const LIMIT: u32 = 20;

/// One `/v5/trade` connection.
pub struct BybitTradeSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    req_ids: HashSet<String>,
    /// This connection's requests in the current second: (second, count).
    window: (u64, u32),
}

impl BybitTradeSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            shared,
            conn,
            mailbox,
            account: None,
            req_ids: HashSet::new(),
            window: (0, 0),
        }
    }

    fn conn_id(&self) -> String {
        format!("simtrade{:08x}", self.conn)
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    /// `args`: `[key, expires, signature]`; the account, or Bybit's code and message.
    fn auth(&self, args: &[Value]) -> Result<usize, (i64, &'static str)> {
        let key = args.first().and_then(Value::as_str).unwrap_or("");
        let expires = args
            .get(1)
            .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
            .ok_or((10001, "Params Error"))?;
        let sig = args.get(2).and_then(Value::as_str).unwrap_or("");
        let ex = self.shared.ex.lock();
        let account = ex
            .account_by_key(key)
            .ok_or((10003, "API key is invalid."))?;
        if expires <= self.shared.faults.server_ms() {
            return Err((10001, "Params Error: request expired"));
        }
        let want = sign(
            &ex.accounts[account].secret,
            &format!("GET/realtime{expires}"),
        );
        if sig != want {
            return Err((10004, "Invalid sign"));
        }
        Ok(account)
    }

    /// The request header's timestamp inside the receive window, or Bybit's refusal.
    fn check_header(&self, h: Option<&Value>) -> Result<(), (i64, String)> {
        let s = |k: &str| h.and_then(|h| h.get(k)).and_then(Value::as_str);
        let window: u64 = match s("X-BAPI-RECV-WINDOW") {
            None => 5000,
            Some(w) => w
                .parse()
                .map_err(|_| (10001, "params error: X-BAPI-RECV-WINDOW".to_owned()))?,
        };
        let ts: u64 = s("X-BAPI-TIMESTAMP")
            .and_then(|t| t.parse().ok())
            .ok_or((10001, "params error: X-BAPI-TIMESTAMP".to_owned()))?;
        let server = self.shared.faults.server_ms();
        if ts + window < server || ts >= server + 1000 {
            return Err((
                10002,
                format!(
                    "invalid request, please check your server timestamp or recv_window param. \
                     req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]"
                ),
            ));
        }
        Ok(())
    }

    /// The answer's `header`: the limit, what is left of this second, when it resets.
    fn limit_header(&mut self) -> Value {
        let now = self.shared.faults.server_ms();
        let second = now / 1000;
        if self.window.0 != second {
            self.window = (second, 0);
        }
        self.window.1 += 1;
        json!({"X-Bapi-Limit": LIMIT.to_string(),
               "X-Bapi-Limit-Status": LIMIT.saturating_sub(self.window.1).to_string(),
               "X-Bapi-Limit-Reset-Timestamp": ((second + 1) * 1000).to_string(),
               "Traceid": format!("sim{now:x}"), "Timenow": now.to_string()})
    }

    /// `order.amend` by `orderLinkId` or `orderId` to `price` and/or `qty`: the REST
    /// amend's (`bybit_amend.rs`), spot and linear.
    fn amend(&self, account: usize, a: &Value) -> Value {
        super::bybit_amend::amend(&self.shared, account, a)
    }
}

/// Items per batch request (Bybit's batch-order docs: spot 10, linear 20).
fn batch_cap(category: &str) -> usize {
    if category == "spot" { 10 } else { 20 }
}

impl BybitTradeSession {
    /// The trade socket's order op in the simulator's request log.
    fn log_op(&self, op: &str, status: u16) {
        let mut log = self.shared.rest_log.lock();
        if log.len() == super::REST_LOG {
            log.pop_front();
        }
        log.push_back(super::RestLogEntry {
            at: Instant::now(),
            method: "WS".into(),
            path: op.into(),
            status,
        });
    }

    /// `order.create-batch` / `order.cancel-batch` / `order.amend-batch`: the request's code
    /// and message, and its
    /// `data` and `retExtInfo` (one item each per order, in the order sent).
    fn batch(&self, op: &str, account: usize, args: &[Value]) -> (i64, String, Value, Value) {
        let refuse = |msg: &str| (10001, msg.to_owned(), json!({}), json!({}));
        let [arg] = args else {
            return refuse("params error: args holds one object");
        };
        let Some(cat) = arg.get("category").and_then(Value::as_str) else {
            return refuse("params error: category");
        };
        let Some(items) = arg.get("request").and_then(Value::as_array) else {
            return refuse("params error: request must be a list");
        };
        if items.is_empty() || items.len() > batch_cap(cat) {
            return refuse("params error: too many or no orders in the batch");
        }
        let mut data = Vec::with_capacity(items.len());
        let mut ext = Vec::with_capacity(items.len());
        for item in items {
            let mut one = item.clone();
            if let Some(m) = one.as_object_mut() {
                m.insert("category".into(), json!(cat));
            }
            let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
            // Each item is its category's symbol, as the single op checks it.
            let wrong = symbol_of(&self.shared, s("symbol"))
                .is_some_and(|sym| category(&self.shared, sym) != cat);
            let body = if wrong {
                answer(
                    10001,
                    "params error: category does not match the symbol",
                    json!({}),
                )
            } else if op == "order.create-batch" {
                create(&self.shared, account, &one).0
            } else if op == "order.amend-batch" {
                super::bybit_amend::amend(&self.shared, account, &one)
            } else {
                cancel(&self.shared, account, &one)
            };
            let code = body.get("retCode").and_then(Value::as_i64).unwrap_or(0);
            let r = |k: &str| body.pointer(&format!("/result/{k}")).cloned();
            let mut d = json!({
                "category": cat,
                "symbol": s("symbol"),
                "orderId": r("orderId").unwrap_or(json!("")),
                "orderLinkId": r("orderLinkId").unwrap_or_else(|| json!(s("orderLinkId"))),
            });
            // Only the create batch's items carry the creation time.
            if op == "order.create-batch" {
                d["createAt"] = json!(if code == 0 {
                    now_ms().to_string()
                } else {
                    String::new()
                });
            }
            data.push(d);
            ext.push(
                json!({"code": code, "msg": body.get("retMsg").cloned().unwrap_or(json!(""))}),
            );
        }
        (0, "OK".into(), json!({"list": data}), json!({"list": ext}))
    }
}

impl Session for BybitTradeSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => {
                Self::reply(
                    q,
                    json!({"retCode": 10001, "retMsg": "Params Error: not JSON", "op": "", "connId": self.conn_id()}),
                );
                return true;
            }
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("").to_owned();
        let req_id = v.get("reqId").and_then(Value::as_str).map(str::to_owned);
        let args = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let envelope = |code: i64, msg: &str, conn: String| {
            let mut e = json!({"retCode": code, "retMsg": msg, "op": op, "connId": conn});
            if let Some(r) = &req_id {
                e["reqId"] = json!(r);
            }
            e
        };
        match (op.as_str(), self.account) {
            ("ping", _) => {
                let mut e = envelope(0, "OK", self.conn_id());
                e["op"] = json!("pong");
                e["data"] = json!([now_ms().to_string()]);
                Self::reply(q, e);
            }
            ("auth", Some(_)) => Self::reply(q, envelope(20001, "Repeat auth", self.conn_id())),
            ("auth", None) => match self.auth(&args) {
                Ok(a) => {
                    self.account = Some(a);
                    // Registered for the disconnect fault only: no pushes go out here.
                    self.shared
                        .hub
                        .add_user(self.conn, a, self.conn, self.mailbox.clone());
                    Self::reply(q, envelope(0, "OK", self.conn_id()));
                }
                Err((code, msg)) => Self::reply(q, envelope(code, msg, self.conn_id())),
            },
            ("order.create-batch" | "order.cancel-batch" | "order.amend-batch", None) => {
                Self::reply(q, envelope(10003, "Request not authorized", self.conn_id()));
            }
            ("order.create-batch" | "order.cancel-batch" | "order.amend-batch", Some(account)) => {
                if let Some(r) = &req_id
                    && !self.req_ids.insert(r.clone())
                {
                    Self::reply(q, envelope(20006, "reqId is duplicated", self.conn_id()));
                    return true;
                }
                let header = self.limit_header();
                let (code, msg, data, ext) = match self.check_header(v.get("header")) {
                    Err((code, msg)) => (code, msg, json!({}), json!({})),
                    Ok(()) => self.batch(&op, account, &args),
                };
                let dropped = self.shared.faults.drop_ack();
                self.log_op(&op, if dropped { 0 } else { 200 });
                if dropped {
                    return true;
                }
                let mut e = envelope(code, &msg, self.conn_id());
                e["data"] = data;
                e["retExtInfo"] = ext;
                e["header"] = header;
                Self::reply(q, e);
            }
            ("order.create" | "order.amend" | "order.cancel", None) => {
                Self::reply(q, envelope(10003, "Request not authorized", self.conn_id()));
            }
            ("order.create" | "order.amend" | "order.cancel", Some(account)) => {
                if let Some(r) = &req_id
                    && !self.req_ids.insert(r.clone())
                {
                    Self::reply(q, envelope(20006, "reqId is duplicated", self.conn_id()));
                    return true;
                }
                let header = self.limit_header();
                let body = match (self.check_header(v.get("header")), args.as_slice()) {
                    (Err((code, msg)), _) => answer(code, &msg, json!({})),
                    (Ok(()), [one]) => match op.as_str() {
                        "order.create" => create(&self.shared, account, one).0,
                        "order.cancel" => cancel(&self.shared, account, one),
                        _ => self.amend(account, one),
                    },
                    (Ok(()), _) => answer(10001, "params error: args holds one order", json!({})),
                };
                // The order executed; its answer is lost (the fault).
                let dropped = self.shared.faults.drop_ack();
                self.log_op(&op, if dropped { 0 } else { 200 });
                if dropped {
                    return true;
                }
                let code = body.get("retCode").and_then(Value::as_i64).unwrap_or(0);
                let msg = body.get("retMsg").and_then(Value::as_str).unwrap_or("");
                let mut e = envelope(code, msg, self.conn_id());
                e["data"] = body.get("result").cloned().unwrap_or(json!({}));
                e["retExtInfo"] = json!({});
                e["header"] = header;
                Self::reply(q, e);
            }
            _ => Self::reply(
                q,
                envelope(10001, &format!("Invalid op: {op}"), self.conn_id()),
            ),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Close => Some((Instant::now(), None)),
            _ => None,
        }
    }

    fn idle_timeout(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(600))
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
