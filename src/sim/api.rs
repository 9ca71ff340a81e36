//! The venue operations both order-entry transports share (REST and WS API): parameter
//! parsing and validation, signed-request authentication, and the order, query and account
//! calls with their Binance response shapes.

use serde_json::{Value, json};

use super::Shared;
use super::auth;
use super::exchange::{ApiError, NewOrder};
use super::orders::{OrderType, Tif};
use crate::types::{Price, Qty, Side};

/// Parameter access for one request, whatever the transport.
pub trait Params {
    fn get(&self, name: &str) -> Option<String>;
}

impl Params for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }
}

impl Params for serde_json::Map<String, Value> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.is_null())
            .map(auth::ws_value)
            .filter(|v| !v.is_empty())
    }
}

fn required(p: &dyn Params, name: &str) -> Result<String, ApiError> {
    p.get(name).ok_or_else(|| ApiError::mandatory(name))
}

fn decimal(p: &dyn Params, name: &str) -> Result<Option<Price>, ApiError> {
    match p.get(name) {
        None => Ok(None),
        Some(s) => match Price::parse(&s) {
            Ok(v) => Ok(Some(v)),
            Err(crate::types::DecimalError::TooPrecise) => Err(ApiError::bad(
                -1111,
                format!("Parameter '{name}' has too much precision."),
            )),
            Err(_) => Err(ApiError::bad(
                -1100,
                format!(
                    "Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
                ),
            )),
        },
    }
}

fn id_param(p: &dyn Params, name: &str) -> Result<Option<u64>, ApiError> {
    p.get(name)
        .map(|s| s.parse().map_err(|_| ApiError::bad(-1100, format!("Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."))))
        .transpose()
}

/// The symbol index named by `symbol`.
pub fn symbol(shared: &Shared, p: &dyn Params) -> Result<usize, ApiError> {
    let s = required(p, "symbol")?;
    shared
        .ex
        .lock()
        .symbol_index(&s)
        .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))
}

/// Authenticates a signed request: API key, HMAC signature over `payload`, timestamp window.
pub fn authenticate(
    shared: &Shared,
    api_key: Option<&str>,
    payload: &str,
    signature: Option<&str>,
    p: &dyn Params,
) -> Result<usize, ApiError> {
    let key = api_key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::new(401, -2014, "API-key format invalid."))?;
    let (account, secret, ed25519) = {
        let ex = shared.ex.lock();
        let a = ex.account_by_key(key).ok_or_else(|| {
            ApiError::new(
                401,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            )
        })?;
        (
            a,
            ex.accounts[a].secret.clone(),
            ex.accounts[a].ed25519_public_key,
        )
    };
    match ed25519 {
        // An Ed25519 key signs in base64 (case-sensitive), the payload as for HMAC.
        Some(key) => {
            let sig = signature
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::mandatory("signature"))?;
            if !crate::venue::ed25519::verify_base64(&key, payload.as_bytes(), sig) {
                return Err(ApiError::bad(
                    -1022,
                    "Signature for this request is not valid.",
                ));
            }
        }
        None => auth::verify(&secret, payload, signature)?,
    }
    auth::check_timestamp(
        p.get("timestamp").as_deref(),
        p.get("recvWindow").as_deref(),
        shared.faults.server_ms(),
    )?;
    Ok(account)
}

/// Parses and validates a new order's parameters (mandatory fields per type).
pub fn parse_new_order(shared: &Shared, p: &dyn Params) -> Result<(NewOrder, String), ApiError> {
    let symbol = symbol(shared, p)?;
    let side = match required(p, "side")?.as_str() {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(ApiError::bad(-1117, "Invalid side.")),
    };
    let kind = OrderType::parse(&required(p, "type")?)
        .ok_or_else(|| ApiError::bad(-1116, "Invalid orderType."))?;
    let tif = match p.get("timeInForce") {
        Some(t) => {
            Some(Tif::parse(&t).ok_or_else(|| ApiError::bad(-1115, "Invalid timeInForce."))?)
        }
        None => None,
    };
    let qty = decimal(p, "quantity")?.map(|v| Qty::from_units(v.units()));
    let quote_qty = decimal(p, "quoteOrderQty")?;
    let price = decimal(p, "price")?;
    let (tif, qty, quote_qty, price) = match kind {
        OrderType::Limit => {
            let tif = tif.ok_or_else(|| ApiError::mandatory("timeInForce"))?;
            let qty = qty.ok_or_else(|| ApiError::mandatory("quantity"))?;
            (
                tif,
                qty,
                Price::ZERO,
                price.ok_or_else(|| ApiError::mandatory("price"))?,
            )
        }
        OrderType::LimitMaker => {
            let qty = qty.ok_or_else(|| ApiError::mandatory("quantity"))?;
            (
                Tif::Gtc,
                qty,
                Price::ZERO,
                price.ok_or_else(|| ApiError::mandatory("price"))?,
            )
        }
        OrderType::Market => match (qty, quote_qty) {
            (Some(q), None) => (Tif::Gtc, q, Price::ZERO, Price::ZERO),
            (None, Some(b)) if b.is_positive() => (Tif::Gtc, Qty::ZERO, b, Price::ZERO),
            (Some(_), Some(_)) => {
                return Err(ApiError::bad(
                    -1106,
                    "Parameter 'quoteOrderQty' sent when not required.",
                ));
            }
            _ => {
                return Err(ApiError::bad(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                ));
            }
        },
    };
    // Binance's futures parameter; spot symbols refuse it in the core.
    let reduce_only = match p.get("reduceOnly").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::bad(
                -1102,
                "Parameter 'reduceOnly' was not true or false.",
            ));
        }
    };
    let client_order_id = p.get("newClientOrderId");
    if client_order_id.as_ref().is_some_and(|c| {
        c.len() > 36
            || !c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    }) {
        return Err(ApiError::bad(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_.]{1,36}$'.",
        ));
    }
    let resp = p.get("newOrderRespType").unwrap_or_else(|| {
        if kind == OrderType::LimitMaker {
            "ACK".into()
        } else {
            "FULL".into()
        }
    });
    if !["ACK", "RESULT", "FULL"].contains(&resp.as_str()) {
        return Err(ApiError::bad(
            -1100,
            "Illegal characters found in parameter 'newOrderRespType'.",
        ));
    }
    Ok((
        NewOrder {
            symbol,
            side,
            kind,
            tif,
            price,
            qty,
            quote_qty,
            client_order_id,
            reduce_only,
        },
        resp,
    ))
}

/// `POST /api/v3/order` / `order.place`.
pub fn place(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    place_counted(shared, account, p, |l, a, _| l.order(a).map(|_| ()))
}

/// `place` with the venue's own order-rate rule (`count`: the limits, the account and the
/// instrument), checked once the order is valid.
pub fn place_counted(
    shared: &Shared,
    account: usize,
    p: &dyn Params,
    count: impl FnOnce(&super::limits::Limits, usize, usize) -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    let (req, resp) = parse_new_order(shared, p)?;
    count(&shared.limits, account, req.symbol)?;
    let mut ex = shared.ex.lock();
    let result = ex.place(account, req);
    shared.hub.dispatch(&mut ex, &shared.faults);
    let (id, fills) = result?;
    let o = ex.orders.get(&id).ok_or_else(|| {
        ApiError::new(
            500,
            -1000,
            "An unknown error occurred while processing the request.",
        )
    })?;
    Ok(match resp.as_str() {
        "ACK" => o.ack_json(),
        "RESULT" => o.result_json(),
        _ => {
            let mut v = o.result_json();
            if let Some(m) = v.as_object_mut() {
                m.insert(
                    "fills".into(),
                    Value::Array(fills.iter().map(|f| f.full_json()).collect()),
                );
            }
            v
        }
    })
}

/// An order's answer in the shape `newOrderRespType` asks for (ACK, RESULT, FULL).
fn order_answer(o: &super::orders::Order, fills: &[super::orders::Fill], resp: &str) -> Value {
    match resp {
        "ACK" => o.ack_json(),
        "RESULT" => o.result_json(),
        _ => {
            let mut v = o.result_json();
            if let Some(m) = v.as_object_mut() {
                m.insert(
                    "fills".into(),
                    Value::Array(fills.iter().map(|f| f.full_json()).collect()),
                );
            }
            v
        }
    }
}

/// `POST /api/v3/order/cancelReplace` / `order.cancelReplace`, as web-socket-api.md and
/// rest-api.md document it: the new order is validated (filters) and counted against the
/// unfilled order count before anything happens (a new order not attempted still counts);
/// then the cancel (`cancelOrderId` / `cancelOrigClientOrderId`), then, unless the cancel
/// failed in `STOP_ON_FAILURE` mode, the new order. Both succeed: 200 with `cancelResult`,
/// `newOrderResult`, `cancelResponse`, `newOrderResponse`. One fails: 409, -2021 "Order
/// cancel-replace partially failed." with the same four in `data`. Nothing succeeds: 400,
/// -2022 "Order cancel-replace failed." (a new order not attempted is `NOT_ATTEMPTED` with
/// `newOrderResponse: null`). Not the document's: `orderRateLimitExceededMode=CANCEL_ONLY`,
/// `cancelRestrictions` and order lists (refused or ignored).
pub fn cancel_replace(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let stop_on_failure = match required(p, "cancelReplaceMode")?.as_str() {
        "STOP_ON_FAILURE" => true,
        "ALLOW_FAILURE" => false,
        _ => {
            return Err(ApiError::bad(
                -1100,
                "Illegal characters found in parameter 'cancelReplaceMode'.",
            ));
        }
    };
    let cancel_id = id_param(p, "cancelOrderId")?;
    let cancel_cid = p.get("cancelOrigClientOrderId");
    if cancel_id.is_none() && cancel_cid.is_none() {
        return Err(ApiError::bad(
            -1102,
            "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!",
        ));
    }
    let (req, resp) = parse_new_order(shared, p)?;
    let sym = req.symbol;
    shared.limits.order(account).map(|_| ())?;
    let mut ex = shared.ex.lock();
    let cancelled = ex.cancel(
        account,
        sym,
        cancel_id,
        cancel_cid.as_deref(),
        p.get("cancelNewClientOrderId"),
    );
    let placed = match (&cancelled, stop_on_failure) {
        (Err(_), true) => None,
        _ => Some(ex.place(account, req).and_then(|(id, fills)| {
            ex.orders
                .get(&id)
                .map(|o| order_answer(o, &fills, &resp))
                .ok_or_else(|| ApiError::new(500, -1000, "An unknown error occurred."))
        })),
    };
    shared.hub.dispatch(&mut ex, &shared.faults);
    drop(ex);
    let half = |r: &Result<Value, ApiError>| match r {
        Ok(v) => ("SUCCESS", v.clone()),
        Err(e) => ("FAILURE", e.json()),
    };
    let (cancel_result, cancel_response) = half(&cancelled);
    let (new_result, new_response) = match &placed {
        Some(r) => half(r),
        None => ("NOT_ATTEMPTED", Value::Null),
    };
    let body = json!({
        "cancelResult": cancel_result,
        "newOrderResult": new_result,
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    });
    let cancel_ok = cancelled.is_ok();
    let new_ok = matches!(placed, Some(Ok(_)));
    match (cancel_ok, new_ok) {
        (true, true) => Ok(body),
        (false, false) => Err(ApiError {
            data: Some(body),
            ..ApiError::bad(-2022, "Order cancel-replace failed.")
        }),
        _ => Err(ApiError {
            data: Some(body),
            ..ApiError::new(409, -2021, "Order cancel-replace partially failed.")
        }),
    }
}

/// `PUT /api/v3/order/amend/keepPriority` / `order.amend.keepPriority`: reduces an open
/// order's quantity in place (`newQty` above 0 and below the order's quantity); the order
/// keeps its place in the queue, and takes `newClientOrderId` as its client id (a generated
/// one if not sent). Answers `transactTime`, `executionId` and `amendedOrder`; the account
/// gets a `REPLACED` execution report. A `newQty` not below the order's quantity is refused
/// with -2038 (the simulator's reading: the documents give the rule, not its error code).
pub fn amend_keep_priority(
    shared: &Shared,
    account: usize,
    p: &dyn Params,
) -> Result<Value, ApiError> {
    let sym = symbol(shared, p)?;
    let id = id_param(p, "orderId")?;
    let cid = p.get("origClientOrderId");
    if id.is_none() && cid.is_none() {
        return Err(ApiError::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    let new_qty = match decimal(p, "newQty")? {
        Some(q) if q.is_positive() => Qty::from_units(q.units()),
        Some(_) => return Err(ApiError::bad(-1013, "newQty must be greater than 0.")),
        None => return Err(ApiError::mandatory("newQty")),
    };
    let mut ex = shared.ex.lock();
    let gone = || ApiError::bad(-2011, "Unknown order sent.");
    let found = ex.find(account, sym, id, cid.as_deref()).ok_or_else(gone)?;
    let (price, orig_qty, orig_cid) = {
        let o = ex.orders.get(&found).ok_or_else(gone)?;
        (o.price, o.orig_qty, o.client_order_id.clone())
    };
    if new_qty >= orig_qty {
        return Err(ApiError::bad(
            -2038,
            "Order amend (quantity increase) is not supported.",
        ));
    }
    let new_cid = p
        .get("newClientOrderId")
        .unwrap_or_else(|| format!("simamend{found}x{}", super::exchange::now_ms()));
    if let Some(o) = ex.orders.get_mut(&found) {
        o.client_order_id = new_cid;
    }
    let r = ex.amend(account, sym, Some(found), None, price, new_qty);
    if r.is_err()
        && let Some(o) = ex.orders.get_mut(&found)
    {
        o.client_order_id = orig_cid.clone();
    }
    shared.hub.dispatch(&mut ex, &shared.faults);
    r?;
    let o = ex.orders.get(&found).ok_or_else(gone)?;
    let mut order = o.result_json();
    if let Some(m) = order.as_object_mut() {
        m.insert("origClientOrderId".into(), json!(orig_cid));
        let qty = m.remove("origQty").unwrap_or(Value::Null);
        m.insert("qty".into(), qty);
        let quote = m.remove("cummulativeQuoteQty").unwrap_or(Value::Null);
        m.insert("cumulativeQuoteQty".into(), quote);
        m.insert("preventedQty".into(), json!("0.00000000"));
        m.remove("transactTime");
        m.remove("origQuoteOrderQty");
        m.insert("quoteOrderQty".into(), json!("0.00000000"));
    }
    Ok(json!({
        "transactTime": o.update_ms,
        "executionId": o.update_ms,
        "amendedOrder": order,
    }))
}

/// `POST /api/v3/order/test`: validation only.
pub fn test_order(shared: &Shared, p: &dyn Params) -> Result<Value, ApiError> {
    parse_new_order(shared, p)?;
    Ok(json!({}))
}

/// `DELETE /api/v3/order` / `order.cancel`.
pub fn cancel(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let sym = symbol(shared, p)?;
    let id = id_param(p, "orderId")?;
    let cid = p.get("origClientOrderId");
    if id.is_none() && cid.is_none() {
        return Err(ApiError::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    let mut ex = shared.ex.lock();
    let r = ex.cancel(account, sym, id, cid.as_deref(), p.get("newClientOrderId"));
    shared.hub.dispatch(&mut ex, &shared.faults);
    r
}

/// `DELETE /api/v3/openOrders` / `openOrders.cancelAll`.
pub fn cancel_all(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let sym = symbol(shared, p)?;
    let mut ex = shared.ex.lock();
    let r = ex.cancel_all(account, sym);
    shared.hub.dispatch(&mut ex, &shared.faults);
    r
}

/// `GET /api/v3/order` / `order.status`.
pub fn query(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let sym = symbol(shared, p)?;
    let id = id_param(p, "orderId")?;
    let cid = p.get("origClientOrderId");
    if id.is_none() && cid.is_none() {
        return Err(ApiError::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    let ex = shared.ex.lock();
    let found = ex
        .find(account, sym, id, cid.as_deref())
        .and_then(|i| ex.orders.get(&i));
    found
        .map(|o| o.query_json())
        .ok_or_else(|| ApiError::bad(-2013, "Order does not exist."))
}

/// `GET /api/v3/openOrders` / `openOrders.status`.
pub fn open_orders(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let sym = match p.get("symbol") {
        Some(_) => Some(symbol(shared, p)?),
        None => None,
    };
    let ex = shared.ex.lock();
    Ok(Value::Array(
        ex.open_orders(account, sym)
            .iter()
            .map(|o| o.query_json())
            .collect(),
    ))
}

/// `GET /api/v3/account` / `account.status`.
pub fn account(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let omit = p.get("omitZeroBalances").is_some_and(|v| v == "true");
    let ex = shared.ex.lock();
    Ok(ex.accounts[account].account_json(ex.maker_fee, ex.taker_fee, omit))
}

/// `GET /api/v3/myTrades`.
pub fn my_trades(shared: &Shared, account: usize, p: &dyn Params) -> Result<Value, ApiError> {
    let sym = symbol(shared, p)?;
    let order_id = id_param(p, "orderId")?;
    let ex = shared.ex.lock();
    let v: Vec<Value> = ex
        .fills
        .iter()
        .filter(|f| f.account == account && f.symbol == sym && order_id.is_none_or(|o| o == f.order_id))
        .map(|f| {
            json!({
                "symbol": ex.symbols[sym].cfg.symbol, "id": f.trade_id, "orderId": f.order_id, "orderListId": -1,
                "price": super::orders::fx(f.price.units()), "qty": super::orders::fx(f.qty.units()),
                "quoteQty": super::orders::fx(f.quote), "commission": super::orders::fx(f.commission),
                "commissionAsset": f.commission_asset, "time": f.time_ms, "isBuyer": f.side == Side::Buy,
                "isMaker": f.maker, "isBestMatch": true,
            })
        })
        .collect();
    Ok(Value::Array(v))
}

/// `GET /api/v3/exchangeInfo` body for all symbols or the named ones.
pub fn exchange_info(shared: &Shared, only: Option<Vec<String>>) -> Result<Value, ApiError> {
    let ex = shared.ex.lock();
    if let Some(names) = &only
        && names.iter().any(|n| ex.symbol_index(n).is_none())
    {
        return Err(ApiError::bad(-1121, "Invalid symbol."));
    }
    let fx = super::orders::fx;
    let symbols: Vec<Value> = ex
        .symbols
        .iter()
        .filter(|s| only.as_ref().is_none_or(|n| n.contains(&s.cfg.symbol)))
        .map(|s| {
            let c = &s.cfg;
            json!({
                "symbol": c.symbol, "status": "TRADING",
                "baseAsset": c.base, "baseAssetPrecision": 8,
                "quoteAsset": c.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "icebergAllowed": false, "ocoAllowed": false, "otoAllowed": false, "opoAllowed": false,
                "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": false,
                "cancelReplaceAllowed": true, "amendAllowed": true, "pegInstructionsAllowed": false,
                "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": fx(c.min_price.units()), "maxPrice": fx(c.max_price.units()), "tickSize": fx(c.tick_size.units())},
                    {"filterType": "LOT_SIZE", "minQty": fx(c.min_qty.units()), "maxQty": fx(c.max_qty.units()), "stepSize": fx(c.step_size.units())},
                    {"filterType": "NOTIONAL", "minNotional": fx(c.min_notional.units()), "applyMinToMarket": false, "maxNotional": fx(c.max_notional.units()), "applyMaxToMarket": false, "avgPriceMins": 5},
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"],
            })
        })
        .collect();
    let l = shared.limits.config();
    Ok(json!({
        "timezone": "UTC",
        "serverTime": shared.faults.server_ms(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": l.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": l.orders_per_10s},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }))
}

/// `GET /api/v3/ticker/bookTicker` entry of one symbol.
pub fn book_ticker(shared: &Shared, sym: usize) -> Value {
    let ex = shared.ex.lock();
    let s = &ex.symbols[sym];
    let fx = super::orders::fx;
    let (b, a) = s.book.top_of_book();
    let lv =
        |l: Option<(Price, Qty)>| l.map_or((fx(0), fx(0)), |(p, q)| (fx(p.units()), fx(q.units())));
    let ((bp, bq), (ap, aq)) = (lv(b), lv(a));
    json!({"symbol": s.cfg.symbol, "bidPrice": bp, "bidQty": bq, "askPrice": ap, "askQty": aq})
}

/// Weight of a depth request by its limit (exchanges.md §1.2).
pub fn depth_weight(limit: usize) -> u32 {
    match limit {
        0..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}
