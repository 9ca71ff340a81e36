//! The simulator's CoinDCX futures private front end, written from CoinDCX's documentation
//! (exchanges.md §7.2, §7.3, §7.5, §7.6), not from the engine's CoinDCX codec.
//!
//! **REST** (under `/exchange/v1/derivatives/futures/`): every call carries a JSON body with
//! `timestamp` (ms), `X-AUTH-APIKEY` and `X-AUTH-SIGNATURE` = hex HMAC-SHA256 of the body's
//! bytes as received; a wrong signature or key is refused with HTTP 401, a `timestamp` more
//! than 10 s behind the simulator's clock with 400 (the docs state the 10 s rule for orders
//! and name no code; the simulator applies it to every call). `orders/create` (limit and
//! market orders, `time_in_force`, `post_only`, `reduce_only`, `leverage` checked against the
//! position's: 422), `orders/cancel` by `id`, `orders` (the list, by `status` and `side`, newest
//! first, `page`/`size`, at most `[sim] list_page_size` a page when set), `orders/edit`
//! (`id`, `price`, `total_quantity`: the core's `Exchange::amend`, answered with the order
//! item; an order not open 400, a quantity not above the filled one 422; the docs' Python
//! clients give the body and say edit is for USDT-margined futures only),
//! `positions`, `positions/update_leverage`, `positions/cancel_all_open_orders` and `wallets`
//! (a GET with a signed body). Answers are the docs' shapes: order items as in the create
//! sample, `{"message":"success","status":200,"code":200}`, errors as
//! `{"code":<status>,"message":…,"status":"error"}` with the documented statuses (400
//! "Insufficient funds" and the price and size rules, 422, 401, 429). Faults (routed in
//! `sim/rest.rs`): 5xx before execution, 502 after a create executed, 429, a dropped answer.
//!
//! **Private channel** on the Socket.IO stream ([`super::coindcx_public`] hosts it): `join`
//! of `coindcx` with `authSignature` = hex HMAC-SHA256 of `{"channel":"coindcx"}` and
//! `apiKey`; a bad one gets `44{"message":…}` (the docs document no refusal: the simulator's
//! choice). Then `df-order-update` per order change, `df-position-update` after each fill and
//! `balance-update` on wallet changes, as `42["<event>",{"channel":"coindcx","event":…,
//! "data":"<JSON list>"}]`. Dropped pushes and disconnects are the simulator's user-stream
//! faults.
//!
//! Orders trade the simulator's linear perpetuals (`kind = "linear-perpetual"`) on its
//! perpetual accounts; pairs map as the public front end maps them (`B-BTC_USDT` →
//! `BTCUSDT`). Order ids are UUID-shaped renderings of the core's numeric ids
//! ([`order_uuid`]).
//!
//! **Margin currency** (`margin_currency_short_name`, exchanges.md §7.3): a pair is margined
//! in USDT, or in INR when its `[[sim.symbols]]` says `margin_currency = "INR"`: prices and
//! quantities stay in USDT, and the margin held, fees, PnL and funding are in INR at `[sim]
//! coindcx_inr_per_usdt` (`sim/settle.rs`), on the account's INR wallet. A create names the
//! margin currency (none: USDT) and is refused 400 when it is not the pair's (the simulator
//! margins each pair in one currency, where CoinDCX offers both wallets); the order list,
//! the positions and `data/active_instruments` answer the margin currencies asked for (none:
//! USDT); order and position items carry `margin_currency_short_name` and
//! `settlement_currency_conversion_price` / `settlement_currency_avg_price` (1 for USDT, the
//! conversion price for INR); `wallets` and `balance-update` list every currency of the
//! account, INR included; an edit of an INR-margined order is refused 400 (the docs: edit is
//! for USDT-margined futures only).

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::Shared;
use super::exchange::{ApiError, Exchange, now_ms};
use super::orders::{Order, OrderType, Status};
use crate::types::{Price, Side};

/// The futures REST prefix.
pub const PREFIX: &str = "/exchange/v1/derivatives/futures/";
/// The private channel and the text its join signs.
pub const CHANNEL: &str = "coindcx";
pub const WS_AUTH_TEXT: &str = r#"{"channel":"coindcx"}"#;
/// How old a request's `timestamp` may be.
pub const MAX_AGE_MS: u64 = 10_000;

/// Lowercase hex HMAC-SHA256.
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

/// The UUID-shaped id of core order `id`.
pub fn order_uuid(id: u64) -> String {
    format!(
        "{:08x}-dcx0-4000-8000-{:012x}",
        id >> 48,
        id & 0xffff_ffff_ffff
    )
}

fn uuid_order(s: &str) -> Option<u64> {
    let (hi, rest) = s.split_once("-dcx0-4000-8000-")?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(rest, 16).ok()?;
    Some((hi << 48) | lo)
}

/// A decimal as a JSON number (as the docs' order items carry them).
fn num(units: i64) -> Value {
    serde_json::from_str(&Price::from_units(units).to_string()).unwrap_or(json!(0))
}

fn dec(units: i64) -> String {
    Price::from_units(units).to_string()
}

fn error(status: u16, msg: &str) -> (u16, Value) {
    (
        status,
        json!({"code": status, "message": msg, "status": "error"}),
    )
}

fn success() -> Value {
    json!({"message": "success", "status": 200, "code": 200})
}

/// The simulator symbol of a perpetual pair (`B-BTC_USDT` → `BTCUSDT`).
pub fn symbol_of(shared: &Shared, pair: &str) -> Option<usize> {
    let plain: String = pair
        .strip_prefix("B-")?
        .chars()
        .filter(|&c| c != '_')
        .collect();
    shared
        .cfg
        .symbols
        .iter()
        .position(|s| s.symbol == plain && s.perp.is_some())
}

fn pair_name(shared: &Shared, sym: usize) -> String {
    let s = &shared.cfg.symbols[sym];
    match s.symbol.strip_suffix(s.quote.as_str()) {
        Some(base) => format!("B-{base}_{}", s.quote),
        None => format!("B-{}", s.symbol),
    }
}

/// The margin currency of a pair (`USDT`, or `INR` for a symbol margined in INR:
/// `sim/settle.rs`).
pub fn margin_currency(shared: &Shared, sym: usize) -> &str {
    &shared.cfg.symbols[sym].margin_asset
}

/// The `settlement_currency_conversion_price` of a pair: margin-asset units per USDT (1 for
/// USDT margin; `[sim] coindcx_inr_per_usdt` for INR).
fn conversion_price(shared: &Shared, sym: usize) -> Value {
    num(shared.cfg.symbols[sym]
        .perp
        .map_or(crate::types::SCALE, |p| p.settle_rate))
}

/// The margin currencies a list or positions body asks for (`margin_currency_short_name`, a
/// list or one name); `USDT` when the body names none.
fn margin_filter(body: &Value) -> Vec<String> {
    match body.get("margin_currency_short_name") {
        Some(Value::Array(l)) => l
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(m)) => m.split(',').map(|m| m.trim().to_owned()).collect(),
        _ => vec!["USDT".to_owned()],
    }
}

/// `data/active_instruments?margin_currency_short_name[]=…` (public): the perpetual pairs
/// margined in a currency asked for (`USDT` when the query names none).
pub fn active_instruments(shared: &Shared, query: &[(String, String)]) -> Value {
    let mut margins: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k.trim_end_matches("[]") == "margin_currency_short_name")
        .map(|(_, v)| v.as_str())
        .collect();
    if margins.is_empty() {
        margins.push("USDT");
    }
    let pairs: Vec<String> = (0..shared.cfg.symbols.len())
        .filter(|s| shared.cfg.symbols[*s].perp.is_some())
        .filter(|s| {
            shared.cfg.symbols[*s]
                .symbol
                .ends_with(&shared.cfg.symbols[*s].quote)
        })
        .filter(|s| margins.contains(&margin_currency(shared, *s)))
        .map(|s| pair_name(shared, s))
        .collect();
    json!(pairs)
}

/// CoinDCX's status of a core order in `status` with `executed` filled.
fn status_name(status: Status, executed: i64) -> &'static str {
    match status {
        Status::New => "open",
        Status::PartiallyFilled => "partially_filled",
        Status::Filled => "filled",
        Status::Canceled | Status::Expired if executed > 0 => "partially_cancelled",
        Status::Canceled | Status::Expired => "cancelled",
    }
}

/// Fees charged on order `id` so far.
fn fees_of(ex: &Exchange, id: u64) -> i64 {
    ex.fills
        .iter()
        .filter(|f| f.order_id == id)
        .map(|f| f.commission)
        .sum()
}

/// An order item in the create sample's shape, in `status` with `cum_qty` / `cum_quote`
/// (quote units) filled; `initial` for the create answer.
pub fn order_item(
    shared: &Shared,
    ex: &Exchange,
    o: &Order,
    status: &str,
    cum_qty: i64,
    cum_quote: i64,
) -> Value {
    let avg = if cum_qty == 0 {
        0
    } else {
        (i128::from(cum_quote) * 100_000_000 / i128::from(cum_qty)) as i64
    };
    let open = matches!(status, "initial" | "open" | "partially_filled");
    let left = o.orig_qty.units() - cum_qty;
    let leverage = ex.leverage(o.account, o.symbol).unwrap_or(100_000_000);
    json!({
        "id": order_uuid(o.order_id), "pair": pair_name(shared, o.symbol),
        "side": if o.side == Side::Buy { "buy" } else { "sell" }, "status": status,
        "order_type": if o.kind == OrderType::Market { "market_order" } else { "limit_order" },
        "notification": "no_notification", "leverage": num(leverage),
        "fee_amount": num(fees_of(ex, o.order_id)), "price": num(o.price.units()),
        "avg_price": num(avg), "total_quantity": num(o.orig_qty.units()),
        "remaining_quantity": num(if open { left } else { 0 }),
        "cancelled_quantity": num(if open { 0 } else { left }),
        "ideal_margin": num(o.locked), "order_category": null, "stage": "default",
        "group_id": null, "liquidation_fee": null, "position_margin_type": "isolated",
        "display_message": null, "group_status": null,
        "margin_currency_short_name": margin_currency(shared, o.symbol),
        "settlement_currency_conversion_price": conversion_price(shared, o.symbol),
        "take_profit_price": null, "stop_loss_price": null,
        "created_at": o.time_ms, "updated_at": o.update_ms,
    })
}

/// A position in the positions sample's shape (`active_pos` signed, isolated margin).
pub fn position_item(shared: &Shared, ex: &Exchange, account: usize, sym: usize) -> Value {
    let p = ex.position(account, sym);
    let avg = ex.entry_price(account, sym);
    let order_margin: i64 = ex
        .open_orders(account, Some(sym))
        .iter()
        .map(|o| o.locked)
        .sum();
    json!({
        "id": format!("{:08x}-dcx0-4000-8000-{:012x}", account, sym),
        "pair": pair_name(shared, sym), "active_pos": num(p.size),
        "inactive_pos_buy": 0.0, "inactive_pos_sell": 0.0, "avg_price": num(avg),
        "liquidation_price": num(ex.liquidation_price(account, sym).map_or(0, |l| l.units())),
        "locked_margin": num(p.margin), "locked_user_margin": num(p.margin),
        "locked_order_margin": num(order_margin), "take_profit_trigger": null,
        "stop_loss_trigger": null,
        "leverage": num(ex.leverage(account, sym).unwrap_or(100_000_000)),
        "maintenance_margin": 0.0,
        "mark_price": num(ex.mark_price(sym).map_or(0, |m| m.units())),
        "margin_type": "isolated",
        "settlement_currency_avg_price": conversion_price(shared, sym),
        "margin_currency_short_name": margin_currency(shared, sym),
        "updated_at": now_ms(),
    })
}

/// The wallet list (`balance` the total, `locked_balance` the margin held within it).
pub fn wallet_items(ex: &Exchange, account: usize) -> Value {
    let items: Vec<Value> = ex.accounts[account]
        .balances
        .iter()
        .map(|(k, b)| {
            json!({"id": format!("{account:08x}-dcx0-4000-8000-{:012x}", k.len()),
                "currency_short_name": k, "balance": dec(b.free + b.locked),
                "locked_balance": dec(b.locked), "cross_order_margin": "0.0",
                "cross_user_margin": "0.0"})
        })
        .collect();
    Value::Array(items)
}

/// The account of a signed request, or its refusal.
fn authenticate(
    shared: &Shared,
    req: &crate::net::http::Request,
) -> Result<(usize, Value), (u16, Value)> {
    let key = req.header("x-auth-apikey").unwrap_or("");
    let ex = shared.ex.lock();
    let account = ex
        .account_by_key(key)
        .ok_or_else(|| error(401, "Invalid API key"))?;
    let want = sign(&ex.accounts[account].secret, &req.body);
    if req.header("x-auth-signature") != Some(want.as_str()) {
        return Err(error(401, "Invalid signature"));
    }
    drop(ex);
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|_| error(400, "Invalid request body"))?;
    let ts = body
        .get("timestamp")
        .and_then(Value::as_u64)
        .ok_or_else(|| error(400, "timestamp is required"))?;
    if ts + MAX_AGE_MS < shared.faults.server_ms() {
        return Err(error(
            400,
            "Request expired: timestamp is more than 10 seconds old",
        ));
    }
    Ok((account, body))
}

/// A CoinDCX answer for a core refusal.
fn refusal(e: &ApiError) -> (u16, Value) {
    match e.code {
        -1003 | -1015 => error(429, "Too many requests"),
        -2010 if e.msg.contains("balance") => error(400, "Insufficient funds"),
        -2010 => error(400, "Post only order would be executed immediately"),
        -2022 => error(400, "Reduce only order would increase the position"),
        -1013 if e.msg.contains("NOTIONAL") => {
            error(400, &format!("Order value is out of range ({})", e.msg))
        }
        -1013 if e.msg.contains("PRICE") => error(400, "Price should be divisible by the tick"),
        -1013 => error(422, &format!("Quantity is out of range ({})", e.msg)),
        _ => error(400, &e.msg),
    }
}

fn text_or_number(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `orders/create`: the core's parameters for `order`, or the refusal.
fn create_params(
    shared: &Shared,
    account: usize,
    o: &Value,
) -> Result<Map<String, Value>, (u16, Value)> {
    let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
    let sym = symbol_of(shared, s("pair")).ok_or_else(|| error(400, "Invalid pair"))?;
    let margin = match s("margin_currency_short_name") {
        "" => "USDT",
        m @ ("USDT" | "INR") => m,
        _ => return Err(error(400, "Invalid margin currency")),
    };
    if shared.cfg.symbols[sym].quote != "USDT" {
        return Err(error(400, "Invalid pair"));
    }
    if margin != margin_currency(shared, sym) {
        // A simulator limit: each pair is margined in one currency here.
        return Err(error(
            400,
            &format!(
                "Invalid margin currency: the simulator margins {} in {} only",
                s("pair"),
                margin_currency(shared, sym)
            ),
        ));
    }
    if let Some(l) = text_or_number(o.get("leverage")) {
        let want = Price::parse(&l).map_err(|_| error(400, "Invalid leverage"))?;
        let have = shared.ex.lock().leverage(account, sym);
        if have != Some(want.units()) {
            return Err(error(
                422,
                "Order leverage must be equal to position leverage",
            ));
        }
    }
    let side = match s("side") {
        "buy" => "BUY",
        "sell" => "SELL",
        _ => return Err(error(400, "Invalid side")),
    };
    let post_only = o.get("post_only").and_then(Value::as_bool).unwrap_or(false);
    let mut p = Map::new();
    p.insert("symbol".into(), json!(shared.cfg.symbols[sym].symbol));
    p.insert("side".into(), json!(side));
    let qty = text_or_number(o.get("total_quantity"))
        .ok_or_else(|| error(422, "Quantity should be greater than 0"))?;
    p.insert("quantity".into(), json!(qty));
    match s("order_type") {
        "market_order" => {
            p.insert("type".into(), json!("MARKET"));
        }
        "limit_order" => {
            let price =
                text_or_number(o.get("price")).ok_or_else(|| error(400, "Price is required"))?;
            p.insert("price".into(), json!(price));
            let tif = match s("time_in_force") {
                "" | "good_till_cancel" => "GTC",
                "immediate_or_cancel" => "IOC",
                "fill_or_kill" => "FOK",
                _ => return Err(error(400, "Invalid time_in_force")),
            };
            if post_only {
                p.insert("type".into(), json!("LIMIT_MAKER"));
            } else {
                p.insert("type".into(), json!("LIMIT"));
                p.insert("timeInForce".into(), json!(tif));
            }
        }
        other => return Err(error(400, &format!("Unsupported order type {other}"))),
    }
    if o.get("reduce_only").and_then(Value::as_bool) == Some(true) {
        p.insert("reduceOnly".into(), json!("true"));
    }
    Ok(p)
}

/// `orders/create` for `account`: the answer, and whether an order was placed.
fn create(shared: &Shared, account: usize, body: &Value) -> ((u16, Value), bool) {
    let Some(o) = body.get("order") else {
        return (error(400, "order is required"), false);
    };
    let p = match create_params(shared, account, o) {
        Ok(p) => p,
        Err(e) => return (e, false),
    };
    match super::api::place_counted(shared, account, &p, |l, a, sym| l.okx_order(a, sym)) {
        Ok(v) => {
            let Some(id) = v.get("orderId").and_then(Value::as_u64) else {
                return (error(500, "Internal error"), true);
            };
            let ex = shared.ex.lock();
            let Some(o) = ex.orders.get(&id) else {
                return (error(500, "Internal error"), true);
            };
            // The docs' create answer: the order as accepted (`initial`).
            (
                (200, json!([order_item(shared, &ex, o, "initial", 0, 0)])),
                true,
            )
        }
        Err(e) => (refusal(&e), false),
    }
}

/// `orders`: the account's orders on perpetual pairs, newest first, by `status`, `side` and
/// `margin_currency_short_name`.
fn list(shared: &Shared, account: usize, body: &Value) -> (u16, Value) {
    let statuses: Vec<&str> = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("open")
        .split(',')
        .map(str::trim)
        .collect();
    let side = body.get("side").and_then(Value::as_str);
    let margins = margin_filter(body);
    let page: usize = text_or_number(body.get("page"))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let size: usize = text_or_number(body.get("size"))
        .and_then(|p| p.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let size = shared.cfg.list_page_size.map_or(size, |n| n.min(size));
    let ex = shared.ex.lock();
    let mut mine: Vec<&Order> = ex
        .orders
        .values()
        .filter(|o| o.account == account && shared.cfg.symbols[o.symbol].perp.is_some())
        .filter(|o| statuses.contains(&status_name(o.status, o.executed.units())))
        .filter(|o| side.is_none_or(|s| (s == "buy") == (o.side == Side::Buy)))
        .filter(|o| {
            margins
                .iter()
                .any(|m| m == margin_currency(shared, o.symbol))
        })
        .collect();
    mine.sort_by_key(|o| std::cmp::Reverse(o.order_id));
    let items: Vec<Value> = mine
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|o| {
            order_item(
                shared,
                &ex,
                o,
                status_name(o.status, o.executed.units()),
                o.executed.units(),
                o.cum_quote,
            )
        })
        .collect();
    (200, Value::Array(items))
}

/// `orders/edit`: a new `price` and `total_quantity` for the open order `id`, in place.
fn edit(shared: &Shared, account: usize, body: &Value) -> (u16, Value) {
    let Some(id) = body.get("id").and_then(Value::as_str).and_then(uuid_order) else {
        return error(400, "Invalid order id");
    };
    let Some(price) = text_or_number(body.get("price")).and_then(|p| Price::parse(&p).ok()) else {
        return error(400, "Price is required");
    };
    let Some(qty) =
        text_or_number(body.get("total_quantity")).and_then(|q| crate::types::Qty::parse(&q).ok())
    else {
        return error(422, "Quantity should be greater than 0");
    };
    let mut ex = shared.ex.lock();
    let Some(sym) = ex
        .orders
        .get(&id)
        .filter(|o| o.account == account)
        .map(|o| o.symbol)
    else {
        return error(400, "Order not found");
    };
    if margin_currency(shared, sym) != "USDT" {
        return error(400, "Edit is supported for USDT margined futures only");
    }
    let res = ex.amend(account, sym, Some(id), None, price, qty);
    shared.hub.dispatch(&mut ex, &shared.faults);
    match res {
        Ok(id) => match ex.orders.get(&id) {
            Some(o) => {
                let item = order_item(
                    shared,
                    &ex,
                    o,
                    status_name(o.status, o.executed.units()),
                    o.executed.units(),
                    o.cum_quote,
                );
                (200, json!([item]))
            }
            None => error(500, "Internal error"),
        },
        Err(e) if e.code == -2011 => error(400, "Order is not open"),
        Err(e) if e.code == -1013 && e.msg.contains("filled") => error(422, &e.msg),
        Err(e) => refusal(&e),
    }
}

/// The signed futures endpoints: the answer, and whether it placed an order (the "5xx after
/// execution" fault answers 502 for those); `None` for other paths (the public `data/` ones
/// included).
pub fn rest(shared: &Shared, req: &crate::net::http::Request) -> Option<((u16, Value), bool)> {
    let tail = req.path.strip_prefix(PREFIX)?;
    if tail.starts_with("data/") {
        return None;
    }
    let (account, body) = match authenticate(shared, req) {
        Ok(a) => a,
        Err(e) => return Some((e, false)),
    };
    if (req.method.as_str(), tail) == ("POST", "orders/create") {
        return Some(create(shared, account, &body));
    }
    Some((
        signed_call(shared, account, req.method.as_str(), tail, &body),
        false,
    ))
}

/// The signed endpoints other than create.
fn signed_call(
    shared: &Shared,
    account: usize,
    method: &str,
    tail: &str,
    body: &Value,
) -> (u16, Value) {
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
    match (method, tail) {
        ("POST", "orders/cancel") => {
            let Some(id) = uuid_order(s("id")) else {
                return error(400, "Invalid order id");
            };
            let mut ex = shared.ex.lock();
            let Some(sym) = ex
                .orders
                .get(&id)
                .filter(|o| o.account == account)
                .map(|o| o.symbol)
            else {
                return error(400, "Order not found");
            };
            let res = ex.cancel(account, sym, Some(id), None, None);
            shared.hub.dispatch(&mut ex, &shared.faults);
            match res {
                Ok(_) => (200, success()),
                Err(_) => error(400, "Order is not open"),
            }
        }
        ("POST", "orders") => list(shared, account, body),
        ("POST", "orders/edit") => edit(shared, account, body),
        ("POST", "positions") => {
            // By `margin_currency_short_name` and, when given, `pairs` (comma-separated).
            let margins = margin_filter(body);
            let pairs: Vec<&str> = s("pairs").split(',').map(str::trim).collect();
            let ex = shared.ex.lock();
            let items: Vec<Value> = (0..shared.cfg.symbols.len())
                .filter(|s| shared.cfg.symbols[*s].perp.is_some())
                .filter(|s| margins.iter().any(|m| m == margin_currency(shared, *s)))
                .filter(|s| pairs == [""] || pairs.contains(&pair_name(shared, *s).as_str()))
                .map(|s| position_item(shared, &ex, account, s))
                .collect();
            (200, Value::Array(items))
        }
        ("POST", "positions/update_leverage") => {
            let Some(sym) = symbol_of(shared, s("pair")) else {
                return error(400, "Invalid pair");
            };
            // The wallet's position, when named (the reference's body names none).
            if !matches!(s("margin_currency_short_name"), "")
                && s("margin_currency_short_name") != margin_currency(shared, sym)
            {
                return error(400, "Invalid margin currency");
            }
            let Some(l) = text_or_number(body.get("leverage")).and_then(|l| Price::parse(&l).ok())
            else {
                return error(400, "Invalid leverage");
            };
            match shared.ex.lock().set_leverage(account, sym, l.units()) {
                Ok(()) => (200, success()),
                Err(e) => error(422, &e.msg),
            }
        }
        ("POST", "positions/cancel_all_open_orders") => {
            let mut ex = shared.ex.lock();
            for sym in 0..shared.cfg.symbols.len() {
                if shared.cfg.symbols[sym].perp.is_some() {
                    let _ = ex.cancel_all(account, sym);
                }
            }
            shared.hub.dispatch(&mut ex, &shared.faults);
            (200, success())
        }
        ("GET", "wallets") => (200, wallet_items(&shared.ex.lock(), account)),
        _ => error(404, "Not found"),
    }
}

/// The private channel of one Socket.IO session: which account joined it.
#[derive(Default)]
pub struct PrivateChannel {
    pub account: Option<usize>,
}

fn event(name: &str, items: &Value) -> String {
    let arg = json!({"channel": CHANNEL, "event": name, "data": items.to_string()});
    format!("42{}", json!([name, arg]))
}

impl PrivateChannel {
    /// A `join` of `coindcx`: the account, or the `44` refusal to send.
    pub fn join(&mut self, shared: &Shared, arg: &Value) -> Result<usize, String> {
        let key = arg.get("apiKey").and_then(Value::as_str).unwrap_or("");
        let sig = arg
            .get("authSignature")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ex = shared.ex.lock();
        let Some(account) = ex.account_by_key(key) else {
            return Err(format!("44{}", json!({"message": "Invalid API key"})));
        };
        if sig != sign(&ex.accounts[account].secret, WS_AUTH_TEXT.as_bytes()) {
            return Err(format!("44{}", json!({"message": "Invalid authSignature"})));
        }
        self.account = Some(account);
        Ok(account)
    }

    /// The pushes of one user event of the core (`{"event":{…}}`): `df-order-update` (and
    /// `df-position-update` after a fill) for an `executionReport`, `balance-update` for an
    /// `outboundAccountPosition`. `None`: not a user event.
    pub fn pushes(&self, shared: &Shared, text: &str) -> Option<Vec<String>> {
        let account = self.account?;
        let w: Value = serde_json::from_str(text).ok()?;
        let e = w.get("event")?;
        let ex = shared.ex.lock();
        match e.get("e")?.as_str()? {
            "executionReport" => {
                let id = e.get("i")?.as_u64()?;
                let o = ex.orders.get(&id)?;
                if shared.cfg.symbols[o.symbol].perp.is_none() {
                    return Some(Vec::new());
                }
                let units = |k: &str| -> Option<i64> {
                    Some(Price::parse(e.get(k)?.as_str()?).ok()?.units())
                };
                let (cum_qty, cum_quote) = (units("z")?, units("Z")?);
                let status = match e.get("X")?.as_str()? {
                    "NEW" => Status::New,
                    "PARTIALLY_FILLED" => Status::PartiallyFilled,
                    "FILLED" => Status::Filled,
                    "EXPIRED" => Status::Expired,
                    _ => Status::Canceled,
                };
                let item = order_item(
                    shared,
                    &ex,
                    o,
                    status_name(status, cum_qty),
                    cum_qty,
                    cum_quote,
                );
                let mut out = vec![event("df-order-update", &json!([item]))];
                if e.get("x")?.as_str()? == "TRADE" {
                    let p = position_item(shared, &ex, account, o.symbol);
                    out.push(event("df-position-update", &json!([p])));
                }
                Some(out)
            }
            "outboundAccountPosition" => {
                Some(vec![event("balance-update", &wallet_items(&ex, account))])
            }
            _ => Some(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_round_trip_as_uuids() {
        for id in [0u64, 1, 42, u64::from(u32::MAX) + 7] {
            let u = order_uuid(id);
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!(uuid_order(&u), Some(id));
        }
        assert_eq!(uuid_order("c87ca633-6218-44ea-900b-e86981358cbd"), None);
        assert_eq!(status_name(Status::Canceled, 5), "partially_cancelled");
        assert_eq!(status_name(Status::Expired, 0), "cancelled");
    }
}
