//! WebSocket API sessions (`/ws-api/v3`): `session.logon`, signed requests (per-request HMAC
//! over the sorted params, or a logged-on session), order entry and queries, and the user
//! data stream subscription that delivers wrapped executionReport / outboundAccountPosition.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::Shared;
use super::api::{self, Params};
use super::auth;
use super::exchange::{ApiError, now_ms};
use super::hub::{Mailbox, Outbound};
use super::limits::WeightCheck;
use super::ws::{Queue, Session};

pub struct ApiSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    connected_ms: u64,
    /// The account `session.logon` authenticated, with the time it did.
    logon: Option<(usize, u64)>,
    next_subscription: u64,
}

impl ApiSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        ApiSession {
            shared,
            conn,
            mailbox,
            connected_ms: now_ms(),
            logon: None,
            next_subscription: 0,
        }
    }

    /// Authenticates a signed request: its own signature if it carries one, else the session.
    fn signed(&self, params: &Map<String, Value>) -> Result<usize, ApiError> {
        if params.contains_key("signature") {
            let key = Params::get(params, "apiKey");
            return api::authenticate(
                &self.shared,
                key.as_deref(),
                &auth::ws_payload(params),
                Params::get(params, "signature").as_deref(),
                params,
            );
        }
        match self.logon {
            Some((account, _)) => {
                auth::check_timestamp(
                    Params::get(params, "timestamp").as_deref(),
                    Params::get(params, "recvWindow").as_deref(),
                    self.shared.faults.server_ms(),
                )?;
                Ok(account)
            }
            None => Err(ApiError::mandatory("apiKey")),
        }
    }

    fn session_json(&self) -> Value {
        let ex = self.shared.ex.lock();
        let (key, since) = match self.logon {
            Some((a, t)) => (json!(ex.accounts[a].api_key), json!(t)),
            None => (Value::Null, Value::Null),
        };
        json!({
            "apiKey": key, "authorizedSince": since, "connectedSince": self.connected_ms,
            "returnRateLimits": true, "serverTime": self.shared.faults.server_ms(),
            "userDataStream": !self.shared.hub.user_subscriptions(self.conn).is_empty(),
        })
    }

    fn subscribe(&mut self, account: usize) -> Value {
        let id = self.next_subscription;
        self.next_subscription += 1;
        self.shared
            .hub
            .add_user(self.conn, account, id, self.mailbox.clone());
        json!({"subscriptionId": id})
    }

    fn call(&mut self, method: &str, params: &Map<String, Value>) -> Result<Value, ApiError> {
        let s = self.shared.clone();
        match method {
            "ping" => Ok(json!({})),
            "time" => Ok(json!({"serverTime": self.shared.faults.server_ms()})),
            "exchangeInfo" => {
                let only = match (Params::get(params, "symbol"), params.get("symbols")) {
                    (Some(x), _) => Some(vec![x]),
                    (None, Some(Value::Array(a))) => Some(
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect(),
                    ),
                    _ => None,
                };
                api::exchange_info(&s, only)
            }
            "depth" => {
                let sym = api::symbol(&s, params)?;
                let limit = Params::get(params, "limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(100usize);
                if limit == 0 || limit > 5000 {
                    return Err(ApiError::bad(
                        -1100,
                        "Illegal characters found in parameter 'limit'; legal range is '1-5000'.",
                    ));
                }
                Ok(s.ex.lock().depth_json(sym, limit))
            }
            "ticker.book" => Ok(api::book_ticker(&s, api::symbol(&s, params)?)),
            "session.logon" => {
                let key = Params::get(params, "apiKey");
                let account = api::authenticate(
                    &s,
                    key.as_deref(),
                    &auth::ws_payload(params),
                    Params::get(params, "signature").as_deref(),
                    params,
                )?;
                self.logon = Some((account, now_ms()));
                Ok(self.session_json())
            }
            "session.status" => Ok(self.session_json()),
            "session.logout" => {
                self.logon = None;
                Ok(self.session_json())
            }
            "order.place" => {
                let a = self.signed(params)?;
                api::place(&s, a, params)
            }
            "order.test" => {
                self.signed(params)?;
                api::test_order(&s, params)
            }
            "order.cancel" => {
                let a = self.signed(params)?;
                api::cancel(&s, a, params)
            }
            "order.cancelReplace" => {
                let a = self.signed(params)?;
                api::cancel_replace(&s, a, params)
            }
            "order.amend.keepPriority" => {
                let a = self.signed(params)?;
                api::amend_keep_priority(&s, a, params)
            }
            "order.status" => {
                let a = self.signed(params)?;
                api::query(&s, a, params)
            }
            "openOrders.status" => {
                let a = self.signed(params)?;
                api::open_orders(&s, a, params)
            }
            "openOrders.cancelAll" => {
                let a = self.signed(params)?;
                api::cancel_all(&s, a, params)
            }
            "account.status" => {
                let a = self.signed(params)?;
                api::account(&s, a, params)
            }
            "myTrades" => {
                let a = self.signed(params)?;
                api::my_trades(&s, a, params)
            }
            "userDataStream.subscribe" => match self.logon {
                Some((a, _)) => Ok(self.subscribe(a)),
                None => Err(ApiError::new(
                    401,
                    -2015,
                    "Invalid API-key, IP, or permissions for action.",
                )),
            },
            "userDataStream.subscribe.signature" => {
                let key = Params::get(params, "apiKey");
                let a = api::authenticate(
                    &s,
                    key.as_deref(),
                    &auth::ws_payload(params),
                    Params::get(params, "signature").as_deref(),
                    params,
                )?;
                Ok(self.subscribe(a))
            }
            "userDataStream.unsubscribe" => {
                let id = params.get("subscriptionId").and_then(Value::as_u64);
                if self.shared.hub.remove_user(self.conn, id) == 0 && id.is_some() {
                    return Err(ApiError::bad(-2011, "Unknown subscription."));
                }
                Ok(json!({}))
            }
            "session.subscriptions" => Ok(Value::Array(
                self.shared
                    .hub
                    .user_subscriptions(self.conn)
                    .into_iter()
                    .map(|id| json!({"subscriptionId": id}))
                    .collect(),
            )),
            other => Err(ApiError::bad(-1000, format!("Unknown method {other:?}."))),
        }
    }
}

fn weight(method: &str, params: &Map<String, Value>) -> u32 {
    match method {
        "depth" => {
            api::depth_weight(params.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize)
        }
        "exchangeInfo" | "account.status" => 20,
        "myTrades" if params.contains_key("orderId") => 5,
        "myTrades" => 20,
        "order.status" | "order.amend.keepPriority" => 4,
        "openOrders.status" => {
            if params.contains_key("symbol") {
                6
            } else {
                80
            }
        }
        "userDataStream.subscribe" | "userDataStream.subscribe.signature" | "ticker.book" => 2,
        _ => 1,
    }
}

impl Session for ApiSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let now = Instant::now();
        let req: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => {
                let e = json!({"id": null, "status": 400, "error": {"code": -1000, "msg": "Malformed request: not valid JSON."}});
                q.push_back((now, Some(e.to_string())));
                return true;
            }
        };
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let params = req
            .get("params")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        let (status, body, used) = match self.shared.limits.charge(ip, weight(&method, &params)) {
            WeightCheck::Refused(st, e, _, used) => (st, Err(e), used),
            WeightCheck::Ok(used) => {
                let r = self.call(&method, &params);
                (r.as_ref().map_or_else(|e| e.status, |_| 200), r, used)
            }
        };
        let l = self.shared.limits.config();
        let mut rate_limits = vec![
            json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": l.weight_per_minute, "count": used}),
        ];
        let is_order = matches!(
            method.as_str(),
            "order.place"
                | "order.cancel"
                | "openOrders.cancelAll"
                | "order.cancelReplace"
                | "order.amend.keepPriority"
        );
        let places = matches!(method.as_str(), "order.place" | "order.cancelReplace");
        if is_order {
            self.shared.bench.order_read(places, now);
        }
        if places
            && let Some((a, _)) = self.logon.or_else(|| {
                Params::get(&params, "apiKey")
                    .and_then(|k| self.shared.ex.lock().account_by_key(&k))
                    .map(|a| (a, 0))
            })
        {
            rate_limits.insert(0, json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": l.orders_per_10s, "count": self.shared.limits.order_count(a)}));
        }
        let resp = match body {
            Ok(result) => {
                json!({"id": id, "status": status, "result": result, "rateLimits": rate_limits})
            }
            Err(e) => {
                json!({"id": id, "status": status, "error": e.json(), "rateLimits": rate_limits})
            }
        };
        if is_order {
            if self.shared.faults.drop_ack() {
                return true;
            }
            q.push_back((now + self.shared.faults.ack_delay(), Some(resp.to_string())));
        } else {
            q.push_back((now, Some(resp.to_string())));
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => Some((Instant::now(), Some(t))),
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
