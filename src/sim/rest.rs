//! The REST API: routes, request weights and their headers, the HTTP-level faults, and the
//! admin endpoints (`/sim/state`, `/sim/faults`) that tests use to look inside.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::Shared;
use super::api::{self, Params};
use super::auth;
use super::exchange::ApiError;
use super::limits::WeightCheck;
use crate::net::http::{Request, Response, parse_pairs};

/// What the connection should do with a handled request.
pub enum Reply {
    Send(Response),
    /// Drop the connection without answering (the dropped-ack fault).
    Drop,
}

fn error(e: &ApiError) -> Response {
    Response::json(e.status, e.json().to_string())
}

/// Request parameters: query pairs first (the query string wins on duplicates), then body.
fn params(req: &Request) -> Vec<(String, String)> {
    let mut p = parse_pairs(&req.query);
    let body = String::from_utf8_lossy(&req.body);
    for (k, v) in parse_pairs(&body) {
        if !p.iter().any(|(q, _)| *q == k) {
            p.push((k, v));
        }
    }
    p
}

pub fn handle(shared: &Shared, req: &Request, ip: IpAddr) -> Reply {
    if req.path.starts_with("/sim/") {
        return Reply::Send(admin(shared, req));
    }
    let slow = shared.faults.slow_response();
    if !slow.is_zero() {
        std::thread::sleep(slow);
    }
    if req.path.starts_with("/api/v3/brokerage/") {
        return coinbase(shared, req);
    }
    if super::coinstore_private::serves(&req.path) {
        return coinstore(shared, req, ip);
    }
    if req.path.starts_with("/api/v5/") {
        let slow = shared.faults.slow_okx_response();
        if !slow.is_zero() {
            std::thread::sleep(slow);
        }
        return Reply::Send(okx(shared, req));
    }
    if req.path.starts_with("/v5/order/")
        || req.path.starts_with("/v5/account/")
        || req.path.starts_with("/v5/execution/")
        || req.path.starts_with("/v5/position/")
    {
        return bybit(shared, req);
    }
    if req.path.starts_with(super::coindcx_private::PREFIX) {
        return coindcx(shared, req);
    }
    if super::bitmart_private::is_private_path(&req.path) {
        return bitmart(shared, req);
    }
    if req.path.starts_with("/v2/") {
        return delta(shared, req);
    }
    if req.path == "/system/time" {
        // BitMart's clock (exchanges.md §5.4), for the latency probe.
        return Reply::Send(Response::json(
            200,
            json!({"code": 1000, "trace": "sim", "message": "OK",
                   "data": {"server_time": shared.faults.server_ms()}})
            .to_string(),
        ));
    }
    if let Some(rest) = req.path.strip_prefix("/market_data/v3/orderbook/") {
        // CoinDCX's public order book (exchanges.md §7.3), also the latency probe's clock.
        return Reply::Send(super::coindcx_public::rest_orderbook(shared, rest));
    }
    if req.path == "/v5/market/time" {
        // Bybit's clock (exchanges.md §3.7), for the latency probe.
        let ms = shared.faults.server_ms();
        return Reply::Send(Response::json(
            200,
            json!({"retCode": 0, "retMsg": "OK",
                   "result": {"timeSecond": (ms / 1000).to_string(),
                              "timeNano": (u128::from(ms) * 1_000_000).to_string()},
                   "retExtInfo": {}, "time": ms})
            .to_string(),
        ));
    }
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(503, json!({"code": -1008, "msg": "Server is currently overloaded with other requests. Please try again in a few minutes."}).to_string()));
    }
    if shared.faults.http_429() {
        let mut r = error(&ApiError::new(
            429,
            -1003,
            "Too many requests; current limit of IP is exceeded.",
        ));
        r.headers.push(("Retry-After".into(), "1".into()));
        return Reply::Send(r);
    }
    let p = params(req);
    let route = (req.method.as_str(), req.path.as_str());
    let weight = match route {
        ("GET", "/api/v3/depth") => {
            api::depth_weight(p.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100))
        }
        ("GET", "/api/v3/exchangeInfo")
        | ("GET", "/api/v3/account")
        | ("GET", "/api/v3/myTrades") => 20,
        ("GET", "/api/v3/order") | ("PUT", "/api/v3/order/amend/keepPriority") => 4,
        ("GET", "/api/v3/openOrders") => {
            if p.get("symbol").is_some() {
                6
            } else {
                80
            }
        }
        ("GET", "/api/v3/ticker/bookTicker") => {
            if p.get("symbol").is_some() {
                2
            } else {
                4
            }
        }
        ("GET", "/api/v3/rateLimit/order") => 40,
        _ => 1,
    };
    let used = match shared.limits.charge(ip, weight) {
        WeightCheck::Ok(used) => used,
        WeightCheck::Refused(_, e, retry, used) => {
            let mut r = error(&e);
            r.headers.push(("Retry-After".into(), retry.to_string()));
            r.headers
                .push(("X-MBX-USED-WEIGHT-1M".into(), used.to_string()));
            return Reply::Send(r);
        }
    };
    let is_order_ack = matches!(
        route,
        ("POST", "/api/v3/order")
            | ("DELETE", "/api/v3/order")
            | ("DELETE", "/api/v3/openOrders")
            | ("POST", "/api/v3/order/cancelReplace")
            | ("PUT", "/api/v3/order/amend/keepPriority")
    );
    let mut account_for_count = None;
    let result = route_call(shared, req, &p, route, &mut account_for_count);
    let mut resp = match result {
        Ok(v) => Response::json(200, v.to_string()),
        Err(e) => error(&e),
    };
    resp.headers
        .push(("X-MBX-USED-WEIGHT-1M".into(), used.to_string()));
    if let Some(a) = account_for_count
        && route == ("POST", "/api/v3/order")
    {
        resp.headers.push((
            "X-MBX-ORDER-COUNT-10S".into(),
            shared.limits.order_count(a).to_string(),
        ));
    }
    if is_order_ack {
        if shared.faults.drop_ack() {
            return Reply::Drop;
        }
        if shared.faults.http_5xx_after() {
            // Executed, but the client learns only that the outcome is unknown.
            return Reply::Send(Response::json(503, json!({"code": -1006, "msg": "An unexpected response was received from the message bus. Execution status unknown."}).to_string()));
        }
        let d = shared.faults.ack_delay();
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }
    Reply::Send(resp)
}

fn route_call(
    shared: &Shared,
    req: &Request,
    p: &Vec<(String, String)>,
    route: (&str, &str),
    acct: &mut Option<usize>,
) -> Result<Value, ApiError> {
    let signed = |acct: &mut Option<usize>| -> Result<usize, ApiError> {
        let body = String::from_utf8_lossy(&req.body);
        let (payload, sig) = auth::rest_payload(&req.query, &body);
        let a = api::authenticate(
            shared,
            req.header("X-MBX-APIKEY"),
            &payload,
            sig.as_deref(),
            p,
        )?;
        *acct = Some(a);
        Ok(a)
    };
    match route {
        ("GET", "/api/v3/ping") => Ok(json!({})),
        ("GET", "/api/v3/time") => Ok(json!({"serverTime": shared.faults.server_ms()})),
        ("GET", "/api/v3/exchangeInfo") => {
            let only = match (p.get("symbol"), p.get("symbols")) {
                (Some(s), _) => Some(vec![s]),
                (None, Some(list)) => {
                    Some(serde_json::from_str::<Vec<String>>(&list).map_err(|_| {
                        ApiError::bad(-1100, "Illegal characters found in parameter 'symbols'.")
                    })?)
                }
                (None, None) => None,
            };
            api::exchange_info(shared, only)
        }
        ("GET", "/api/v3/depth") => {
            let sym = api::symbol(shared, p)?;
            let limit: usize = match p.get("limit") {
                Some(l) => l.parse().map_err(|_| {
                    ApiError::bad(-1100, "Illegal characters found in parameter 'limit'.")
                })?,
                None => 100,
            };
            if limit == 0 || limit > 5000 {
                return Err(ApiError::bad(
                    -1100,
                    "Illegal characters found in parameter 'limit'; legal range is '1-5000'.",
                ));
            }
            Ok(shared.ex.lock().depth_json(sym, limit))
        }
        ("GET", "/api/v3/ticker/bookTicker") => match p.get("symbol") {
            Some(_) => Ok(api::book_ticker(shared, api::symbol(shared, p)?)),
            None => {
                let n = shared.ex.lock().symbols.len();
                Ok(Value::Array(
                    (0..n).map(|i| api::book_ticker(shared, i)).collect(),
                ))
            }
        },
        ("POST", "/api/v3/order") => {
            let a = signed(acct)?;
            api::place(shared, a, p)
        }
        ("POST", "/api/v3/order/test") => {
            signed(acct)?;
            api::test_order(shared, p)
        }
        ("DELETE", "/api/v3/order") => {
            let a = signed(acct)?;
            api::cancel(shared, a, p)
        }
        ("POST", "/api/v3/order/cancelReplace") => {
            let a = signed(acct)?;
            api::cancel_replace(shared, a, p)
        }
        ("PUT", "/api/v3/order/amend/keepPriority") => {
            let a = signed(acct)?;
            api::amend_keep_priority(shared, a, p)
        }
        ("GET", "/api/v3/order") => {
            let a = signed(acct)?;
            api::query(shared, a, p)
        }
        ("GET", "/api/v3/openOrders") => {
            let a = signed(acct)?;
            api::open_orders(shared, a, p)
        }
        ("DELETE", "/api/v3/openOrders") => {
            let a = signed(acct)?;
            api::cancel_all(shared, a, p)
        }
        ("GET", "/api/v3/account") => {
            let a = signed(acct)?;
            api::account(shared, a, p)
        }
        ("GET", "/api/v3/myTrades") => {
            let a = signed(acct)?;
            api::my_trades(shared, a, p)
        }
        ("GET", "/api/v3/rateLimit/order") => {
            let a = signed(acct)?;
            let l = shared.limits.config();
            Ok(
                json!([{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": l.orders_per_10s, "count": shared.limits.order_count(a)}]),
            )
        }
        (_, path) if path.starts_with("/api/") => {
            Err(ApiError::new(404, -1000, "Unknown endpoint."))
        }
        _ => Err(ApiError::new(404, -1000, "Not found.")),
    }
}

/// `/sim/state` (GET), `/sim/faults` (GET, POST a JSON object of fault settings),
/// `/sim/limits/reset` (POST), `/sim/bench` (GET: tick-to-trade stamps), `/sim/path` (POST a
/// symbol's next prices, with `source = "path"`).
fn admin(shared: &Shared, req: &Request) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/sim/state") => Response::json(200, shared.ex.lock().state_json().to_string()),
        ("GET", "/sim/faults") => Response::json(200, shared.faults.to_json().to_string()),
        ("GET", "/sim/bench") => Response::json(200, shared.bench.to_json().to_string()),
        ("POST", "/sim/faults") => {
            let body: Result<Value, _> = serde_json::from_slice(&req.body);
            match body
                .map_err(|e| e.to_string())
                .and_then(|v| shared.faults.update_from_json(&v))
            {
                Ok(()) => Response::json(200, shared.faults.to_json().to_string()),
                Err(e) => Response::json(400, json!({"error": e}).to_string()),
            }
        }
        ("POST", "/sim/path") => {
            if !matches!(shared.cfg.source, super::config::SourceConfig::Path { .. }) {
                let e = "/sim/path needs sim.source = \"path\"";
                return Response::json(409, json!({"error": e}).to_string());
            }
            let body: Result<Value, _> = serde_json::from_slice(&req.body);
            match body
                .map_err(|e| e.to_string())
                .and_then(|v| super::path::post(&mut shared.ex.lock(), &v))
            {
                Ok(n) => Response::json(200, json!({"steps": n}).to_string()),
                Err(e) => Response::json(400, json!({"error": e}).to_string()),
            }
        }
        ("POST", "/sim/limits/reset") => {
            shared.limits.reset();
            shared.coinstore.reset();
            Response::json(200, "{}".into())
        }
        _ => Response::json(404, json!({"error": "unknown admin endpoint"}).to_string()),
    }
}

/// Bybit's private REST paths (`/v5/order/…`, `/v5/account/…`, `/v5/execution/…`,
/// `/v5/position/…`) with the
/// HTTP faults in Bybit's shape: a 5xx before execution, the per-UID limit (HTTP 200 with
/// `retCode` 10006 "Too many visits!" and `X-Bapi-Limit-Status: 0`), and a dropped connection
/// instead of an order's answer.
fn bybit(shared: &Shared, req: &Request) -> Reply {
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(
            503,
            json!({"retCode": 10016, "retMsg": "Server error"}).to_string(),
        ));
    }
    if shared.faults.http_429() {
        let mut r = Response::json(
            200,
            json!({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {},
                   "time": shared.faults.server_ms()})
            .to_string(),
        );
        r.headers.push(("X-Bapi-Limit".into(), "20".into()));
        r.headers.push(("X-Bapi-Limit-Status".into(), "0".into()));
        r.headers.push((
            "X-Bapi-Limit-Reset-Timestamp".into(),
            (shared.faults.server_ms() + 1000).to_string(),
        ));
        return Reply::Send(r);
    }
    let order_call = req.method == "POST" && req.path.starts_with("/v5/order/");
    let answer = super::bybit_private::rest(shared, req);
    if order_call && shared.faults.drop_ack() {
        return Reply::Drop;
    }
    match answer {
        Some((status, body)) => Reply::Send(Response::json(status, body.to_string())),
        None => Reply::Send(Response::json(
            404,
            json!({"retCode": 10001, "retMsg": "Not Found"}).to_string(),
        )),
    }
}

/// BitMart's private REST paths (`/spot/v2/submit_order`, `/spot/v4/query/…`, the wallet…)
/// with the HTTP faults in BitMart's shape: a 5xx before execution, HTTP 429 with code 30013,
/// a 5xx after an order was placed, and a dropped connection instead of an order's answer.
fn bitmart(shared: &Shared, req: &Request) -> Reply {
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(
            503,
            json!({"code": 503, "message": "Service Unavailable"}).to_string(),
        ));
    }
    if shared.faults.http_429() {
        let mut r = Response::json(
            429,
            json!({"code": 30013, "trace": "sim", "message": "Request too many requests",
                   "data": {}})
            .to_string(),
        );
        r.headers.push(("X-BM-RateLimit-Reset".into(), "2".into()));
        return Reply::Send(r);
    }
    let order_call = req.method == "POST"
        && (req.path == "/spot/v2/submit_order" || req.path == "/spot/v3/cancel_order");
    let Some((resp, placed)) = super::bitmart_private::rest(shared, req) else {
        return Reply::Send(Response::json(
            404,
            json!({"code": 404, "message": "Not Found"}).to_string(),
        ));
    };
    if order_call && shared.faults.drop_ack() {
        return Reply::Drop;
    }
    if placed && shared.faults.http_5xx_after() {
        return Reply::Send(Response::json(
            503,
            json!({"code": 503, "message": "Service Unavailable"}).to_string(),
        ));
    }
    Reply::Send(resp)
}

/// Coinstore's private REST paths (`/api/trade/…`, `/api/v2/trade/…`, `/api/spot/accountList`)
/// with the HTTP faults: a 5xx before execution, a 429, and a dropped connection instead of
/// an order's answer (the 5xx after execution is the front end's).
fn coinstore(shared: &Shared, req: &Request, ip: IpAddr) -> Reply {
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(
            503,
            json!({"code": 503, "message": "Service Unavailable"}).to_string(),
        ));
    }
    if shared.faults.http_429() {
        return Reply::Send(Response::json(
            429,
            json!({"code": 429, "message": "too many requests"}).to_string(),
        ));
    }
    let order_call = req.method == "POST" && req.path.starts_with("/api/trade/order/");
    let answer = super::coinstore_private::rest(shared, req, ip);
    if order_call && shared.faults.drop_ack() {
        return Reply::Drop;
    }
    match answer {
        Some((status, body)) => Reply::Send(Response::json(status, body.to_string())),
        None => Reply::Send(Response::json(
            404,
            json!({"code": 404, "message": "Not Found"}).to_string(),
        )),
    }
}

/// Delta's REST paths (`/v2/…`) with the HTTP faults in Delta's shape: a 503 before
/// execution, a 429 with `X-RATE-LIMIT-RESET` (ms until the quota refills), and a dropped
/// connection instead of an order's or cancel's answer.
fn delta(shared: &Shared, req: &Request) -> Reply {
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(
            503,
            json!({"success": false, "error": {"code": "unavailable"}}).to_string(),
        ));
    }
    if shared.faults.http_429() {
        let mut r = Response::json(429, json!({"success": false}).to_string());
        r.headers.push(("X-RATE-LIMIT-RESET".into(), "1000".into()));
        return Reply::Send(r);
    }
    let order_call = matches!(req.path.as_str(), "/v2/orders" | "/v2/orders/batch")
        && matches!(req.method.as_str(), "POST" | "DELETE" | "PUT");
    let answer = super::delta_private::rest(shared, req);
    if order_call && shared.faults.drop_ack() {
        return Reply::Drop;
    }
    match answer {
        Some((status, body)) => Reply::Send(Response::json(status, body.to_string())),
        None => Reply::Send(Response::json(
            404,
            json!({"success": false, "error": {"code": "not_found"}}).to_string(),
        )),
    }
}

/// CoinDCX futures' REST paths (`/exchange/v1/derivatives/futures/…`) with the HTTP faults
/// in CoinDCX's shape: a 5xx before execution, a 502 after a create executed, 429, and a
/// dropped connection instead of an order's answer. `data/active_instruments` (public)
/// answers the perpetual pairs of the margin currency asked for.
fn coindcx(shared: &Shared, req: &Request) -> Reply {
    use super::coindcx_private as dcx;
    if req.path.ends_with("/data/active_instruments") {
        let pairs = dcx::active_instruments(shared, &parse_pairs(&req.query));
        return Reply::Send(Response::json(200, pairs.to_string()));
    }
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(
            503,
            json!({"code": 503, "message": "Service Unavailable", "status": "error"}).to_string(),
        ));
    }
    if shared.faults.http_429() {
        return Reply::Send(Response::json(
            429,
            json!({"code": 429, "message": "Too many requests", "status": "error"}).to_string(),
        ));
    }
    let order_call = req.method == "POST" && req.path.contains("/orders");
    let answer = dcx::rest(shared, req);
    if order_call && shared.faults.drop_ack() {
        return Reply::Drop;
    }
    match answer {
        Some((_, true)) if shared.faults.http_5xx_after() => Reply::Send(Response::json(
            502,
            json!({"code": 502, "message": "Bad Gateway", "status": "error"}).to_string(),
        )),
        Some(((status, body), _)) => Reply::Send(Response::json(status, body.to_string())),
        None => Reply::Send(Response::json(
            404,
            json!({"code": 404, "message": "Not found", "status": "error"}).to_string(),
        )),
    }
}

/// OKX's REST paths (`/api/v5/…`), with the 5xx and 429 faults answered in OKX's shape.
/// Coinbase Advanced Trade (`/api/v3/brokerage/…`) with the HTTP faults: 5xx before
/// execution, 429 (with `Retry-After`), and a dropped connection instead of an order's answer.
fn coinbase(shared: &Shared, req: &Request) -> Reply {
    if shared.faults.http_5xx() {
        return Reply::Send(Response::json(
            503,
            json!({"error": "UNAVAILABLE", "code": 503, "message": "service unavailable"})
                .to_string(),
        ));
    }
    if shared.faults.http_429() {
        let mut r = Response::json(
            429,
            json!({"error": "RESOURCE_EXHAUSTED", "code": 429, "message": "Too many requests"})
                .to_string(),
        );
        r.headers.push(("Retry-After".into(), "1".into()));
        return Reply::Send(r);
    }
    let order_call = req.method == "POST" && req.path.starts_with("/api/v3/brokerage/orders");
    let answer = super::coinbase_private::rest(shared, req);
    if order_call && shared.faults.drop_ack() {
        return Reply::Drop;
    }
    match answer {
        Some((status, body, headers)) => {
            let mut r = Response::json(status, body.to_string());
            r.headers.extend(headers);
            Reply::Send(r)
        }
        None => Reply::Send(Response::json(
            404,
            json!({"error": "NOT_FOUND", "code": 404, "message": "Not Found"}).to_string(),
        )),
    }
}

fn okx(shared: &Shared, req: &Request) -> Response {
    if shared.faults.http_5xx() {
        return Response::json(
            503,
            json!({"code": "50001", "msg": "Service temporarily unavailable", "data": []})
                .to_string(),
        );
    }
    if shared.faults.http_429() {
        let mut r = Response::json(
            429,
            json!({"code": "50011", "msg": "Too Many Requests", "data": []}).to_string(),
        );
        r.headers.push(("Retry-After".into(), "1".into()));
        return r;
    }
    let q = parse_pairs(&req.query);
    match super::okx_public::rest(shared, &req.method, &req.path, &q)
        .or_else(|| super::okx_private::rest(shared, req))
    {
        Some((status, body)) => Response::json(status, body.to_string()),
        None => Response::json(
            404,
            json!({"code": "50000", "msg": "Not Found", "data": []}).to_string(),
        ),
    }
}
