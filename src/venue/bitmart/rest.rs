//! BitMart spot order entry and queries over REST as pure code (exchanges.md §5.2, §5.4,
//! §5.7, §5.8): each request's JSON body built into the caller's buffer and signed over
//! exactly those bytes (`X-BM-SIGN = hex(HMAC-SHA256(secret, timestamp#memo#body))`, sent with
//! `X-BM-TIMESTAMP`; `X-BM-KEY` on every request), and the answers (`{"code":1000,
//! "message","data"}`) mapped into the gateway's `SessionEvent`s. The gateway's REST side for
//! `bitmart-spot` (`engine/venues.rs`).
//!
//! Endpoints, as the reference lists them: new order `POST /spot/v2/submit_order` (BitMart's
//! only single-order endpoint; `recvWindow` exists on the v4 endpoints only, and goes into
//! their bodies), cancel `POST /spot/v3/cancel_order` by `client_order_id`, order by client
//! id `POST /spot/v4/query/client-order`, open orders `POST /spot/v4/query/open-orders`,
//! balances `GET /spot/v1/wallet` (KEYED: the key header only, no signature, as the official
//! SDK sends it). The one signed GET form (empty payload, as the SDK signs) is in `sign.rs`;
//! none of these requests uses it.
//!
//! Outcomes: code 1000 with an `order_id` is an accepted order (the docs: a new order
//! succeeds *only* if `order_id` is returned, so 1000 without one is unknown); the documented
//! refusals (size, price, balance, auth, timestamp) are rejections; a duplicate client id
//! (50042), any code the docs do not list, a 5xx, a timeout or a lost connection leave the
//! order unknown: it is queried by client id, never assumed rejected. 429 (30013) backs
//! off; 418 (30017) is a ban.

use std::fmt::Write as _;

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::{OrderEvent, OrderKind, SnapshotStatus};
use crate::types::{
    AssetCode, ClientOrderId, Notional, Price, Qty, Side, TimeInForce, TradeId, UnixNanos,
    VenueOrderId,
};
use crate::venue::decimal::floor8;
use crate::venue::order::{Balance, OrderSnapshot, PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::rest::{
    Answer, Class, Inflight, Method, RateHeaders, RatePolicy, RestCodec, RestHead, RestPlan,
    SignedHeaders, unknown_outcome as unknown,
};

use super::sign::BitmartSigner;
use crate::venue::windows::RateWindows;

/// BitMart's per-endpoint request limits, per 2 s window (exchanges.md §5.4): kept on the
/// engine's side (`RestCodec::windows`: a request with no room in its endpoint's window is
/// refused before it leaves, counted as `window_refused`); the venue's 429/30013 answers
/// still hold requests back. The order-trades endpoint has no figure in the reference and
/// is not counted.
pub const LIMITS_PER_2S: [(&str, u32); 6] = [
    ("/spot/v2/submit_order", 40),
    ("/spot/v3/cancel_order", 40),
    ("/spot/v4/query/order", 50),
    ("/spot/v4/query/client-order", 50),
    ("/spot/v4/query/open-orders", 12),
    ("/spot/v1/wallet", 12),
];

/// What a BitMart error code means for the request (exchanges.md §5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Refused, nothing done: sizes, prices, balance, auth, timestamps, unknown currency.
    Rejected,
    /// The order does not exist (or is completed or cancelled).
    NotFound,
    /// Already cancelled or completed: a cancel that came too late.
    AlreadyFinal,
    /// Too many requests (30013).
    RateLimited,
    /// Blocked for repeated rate-limit violations (30017).
    Banned,
    /// Not known to refuse: the request may have been executed (50042 duplicate client id,
    /// codes the docs do not list).
    Unknown,
}

pub fn classify(code: i32) -> ErrorClass {
    match code {
        30013 => ErrorClass::RateLimited,
        30017 => ErrorClass::Banned,
        50005 | 50032 => ErrorClass::NotFound,
        50030 | 50031 => ErrorClass::AlreadyFinal,
        30001..=30008 | 30010 | 50006 | 50008 | 50009 | 50020 | 51000 => ErrorClass::Rejected,
        _ => ErrorClass::Unknown,
    }
}

/// The REST side of one BitMart key.
pub struct BitmartRest {
    signer: BitmartSigner,
    api_key: Secret,
    recv_window_ms: u64,
    inflight: Inflight,
    policy: RatePolicy,
    /// `LIMITS_PER_2S`, counted.
    windows: RateWindows,
}

/// `Retry-After`, if BitMart sends it. BitMart's own `X-BM-RateLimit-*` headers count
/// requests per endpoint window (`Remaining` is the count *used*, despite its name); they are
/// not read yet: 429s and 418s hold requests back.
fn rate_headers(pairs: &[(&str, &[u8])]) -> RateHeaders {
    let mut h = RateHeaders::default();
    for &(name, value) in pairs {
        if name.eq_ignore_ascii_case("retry-after") {
            h.retry_after_s = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.trim().parse().ok());
        }
    }
    h
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl BitmartRest {
    /// `recv_window_ms` goes into the v4 bodies (BitMart: default 5000, at most 60000).
    pub fn new(api_key: &Secret, secret: &Secret, memo: &Secret, recv_window_ms: u64) -> Self {
        Self {
            signer: BitmartSigner::new(secret, memo),
            api_key: api_key.clone(),
            recv_window_ms: recv_window_ms.clamp(1, 60_000),
            inflight: Inflight::default(),
            // BitMart reports no weight: only 429s and 418s hold requests back.
            policy: RatePolicy::new(u32::MAX),
            windows: LIMITS_PER_2S
                .iter()
                .fold(RateWindows::default(), |w, &(path, n)| {
                    w.with(Some(path), n, 2_000)
                })
                .orders_on("/spot/v2/submit_order"),
        }
    }

    /// Signs the body in `buf` (POST) at `now_ms`, or nothing (a KEYED GET), and remembers
    /// the request.
    fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        buf: &[u8],
        now_ms: u64,
    ) -> RestHead {
        let mut signed = SignedHeaders::default();
        if method == Method::Post {
            let sign = self.signer.sign(now_ms, buf);
            let mut ts = [0u8; 20];
            let n = super::sign::digits(now_ms, &mut ts);
            signed.push("X-BM-SIGN", &sign);
            signed.push("X-BM-TIMESTAMP", &ts[..n]);
        }
        let id = self.inflight.insert(p);
        RestHead {
            id,
            method,
            path,
            class,
            signed,
            bearer: false,
        }
    }
}

impl RestCodec for BitmartRest {
    fn plan(&self) -> RestPlan {
        RestPlan {
            headers: vec![("X-BM-KEY", self.api_key.expose().to_owned())],
            content_type: "application/json",
            warm_path: "/system/time",
            keepalive_path: "/system/time",
            rate_headers,
            bearer: None,
        }
    }

    /// `POST /spot/v2/submit_order`: `type` limit (GTC), `limit_maker` (post-only), `ioc`, or
    /// `market` (a market sell by `size`; a market buy by `notional`, the quote amount
    /// `qty × price`, BitMart's rule). BitMart spot has no fill-or-kill: a FOK order is sent as
    /// `"type":"fok"`, which BitMart refuses (a rejection, not a silent change of terms).
    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        let side = match o.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let kind = match (o.kind, o.tif) {
            (OrderKind::Market, _) => "market",
            (OrderKind::LimitMaker, _) => "limit_maker",
            (OrderKind::Limit, TimeInForce::Gtc) => "limit",
            (OrderKind::Limit, TimeInForce::Ioc) => "ioc",
            (OrderKind::Limit, TimeInForce::Fok) => "fok",
        };
        let mut n = [0u8; 48];
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"symbol":"{}","side":"{side}","type":"{kind}","client_order_id":"{}","#,
            o.symbol,
            o.cid.as_str()
        );
        if o.kind == OrderKind::Market && o.side == Side::Buy {
            let notional = Notional::of(o.price, o.qty);
            let _ = write!(
                Buf(buf),
                r#""notional":"{}""#,
                notional_str(notional, o.price_decimals)
            );
        } else {
            buf.extend_from_slice(br#""size":""#);
            let k = o.qty.write_fixed(o.qty_decimals, &mut n);
            buf.extend_from_slice(&n[..k]);
            buf.push(b'"');
            if o.kind != OrderKind::Market {
                buf.extend_from_slice(br#","price":""#);
                let k = o.price.write_fixed(o.price_decimals, &mut n);
                buf.extend_from_slice(&n[..k]);
                buf.push(b'"');
            }
        }
        buf.push(b'}');
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            "/spot/v2/submit_order",
            Class::Order,
            buf,
            now_ms,
        )
    }

    fn cancel(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"symbol":"{symbol}","client_order_id":"{}"}}"#,
            cid.as_str()
        );
        self.finish(
            Purpose::Cancel(*cid),
            Method::Post,
            "/spot/v3/cancel_order",
            Class::Order,
            buf,
            now_ms,
        )
    }

    /// `POST /spot/v4/query/client-order`. `queryState` (open/history) is left out: the
    /// engine does not know which the order is in (whether BitMart requires it is
    /// unconfirmed against the live venue).
    fn status(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"clientOrderId":"{}","recvWindow":{}}}"#,
            cid.as_str(),
            self.recv_window_ms
        );
        self.finish(
            Purpose::Status(*cid),
            Method::Post,
            "/spot/v4/query/client-order",
            Class::Query,
            buf,
            now_ms,
        )
    }

    /// `POST /spot/v4/query/order-trades` by the venue's order id: the order's trades with
    /// their fees. The reference holds no sample of the answer: it is read as a `data` list
    /// of v4 trade objects with `tradeId`, `fee` and `feeCoinName` (the field names of
    /// BitMart's v4 trade pages; unconfirmed against the live venue). The private stream's
    /// `dealFee` is not read (whether it is a fill's fee or the order's total is unsaid).
    fn trades(
        &mut self,
        _symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"orderId":"{venue_order_id}","recvWindow":{}}}"#,
            self.recv_window_ms
        );
        self.finish(
            Purpose::Trades(*cid),
            Method::Post,
            "/spot/v4/query/order-trades",
            Class::Query,
            buf,
            now_ms,
        )
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"symbol":"{symbol}","orderMode":"spot","limit":200,"recvWindow":{}}}"#,
            self.recv_window_ms
        );
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Post,
            "/spot/v4/query/open-orders",
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    fn account(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        self.finish(
            Purpose::Account,
            Method::Get,
            "/spot/v1/wallet",
            Class::Sweep,
            buf,
            now_ms,
        )
    }

    fn abandon(&mut self, id: u64) -> Option<Purpose> {
        self.inflight.take(id)
    }

    fn on_answer(
        &mut self,
        id: u64,
        answer: Answer<'_>,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) {
        if let Answer::Http {
            status, headers, ..
        } = answer
            && let Some(ms) = self.policy.note(status, &headers, at)
        {
            out.push(if status == 418 {
                SessionEvent::Banned
            } else {
                SessionEvent::RateLimited { retry_after_ms: ms }
            });
        }
        if id == 0 {
            return;
        }
        let Some(purpose) = self.abandon(id) else {
            out.push(SessionEvent::Undecodable(format!(
                "answer to unknown REST request {id}"
            )));
            return;
        };
        let body = match answer {
            Answer::Http { status, .. } if status >= 500 => return unknown(purpose, out),
            Answer::Http { body, .. } => body,
            Answer::Timeout | Answer::Transport => return unknown(purpose, out),
            Answer::NotSent => {
                let error = VenueError {
                    code: 30013,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                return refused(purpose, error, out);
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return unknown(purpose, out);
            }
        };
        // A missing or out-of-range code reads as 0: not documented, so the outcome is unknown.
        let code = v
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(0);
        if code != 1000 {
            let error = VenueError {
                code,
                msg: v
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            };
            match classify(code) {
                ErrorClass::RateLimited => {
                    self.policy.note(429, &RateHeaders::default(), at);
                    out.push(SessionEvent::RateLimited {
                        retry_after_ms: 1_000,
                    });
                    return unknown(purpose, out);
                }
                ErrorClass::Banned => {
                    self.policy.note(418, &RateHeaders::default(), at);
                    out.push(SessionEvent::Banned);
                    return unknown(purpose, out);
                }
                _ => return refused(purpose, error, out),
            }
        }
        let data = v.get("data").unwrap_or(&Value::Null);
        let decoded: Result<Vec<SessionEvent>, String> = match &purpose {
            Purpose::Place(cid) => match data
                .get("order_id")
                .and_then(Value::as_str)
                .and_then(|s| VenueOrderId::new(s.as_bytes()))
            {
                Some(venue_order_id) => Ok(vec![SessionEvent::Order {
                    cid: *cid,
                    event: OrderEvent::Accepted { venue_order_id, at },
                }]),
                // "Succeeds only if order_id is returned": anything else is unknown.
                None => Ok(vec![SessionEvent::Uncertain { cid: *cid }]),
            },
            Purpose::Cancel(cid) => match data.get("result").and_then(Value::as_bool) {
                // Accepted: the order's end comes from the private stream or a query.
                Some(true) => Ok(Vec::new()),
                Some(false) => Ok(vec![SessionEvent::CancelRejected {
                    cid: *cid,
                    error: VenueError {
                        code: 0,
                        msg: "result false: already filled or cancelled".into(),
                    },
                }]),
                None => Err("cancel answer without result".into()),
            },
            Purpose::Status(cid) => order(data).map(|o| match o {
                Some(o) => vec![SessionEvent::Order {
                    cid: *cid,
                    event: o.event(at),
                }],
                None => vec![SessionEvent::NotFound { cid: *cid }],
            }),
            Purpose::Trades(cid) => data
                .as_array()
                .ok_or_else(|| "order-trades answer without a data list".to_owned())
                .and_then(|list| list.iter().map(trade_fee).collect::<Result<Vec<_>, _>>())
                .map(|trades| vec![SessionEvent::Trades { cid: *cid, trades }]),
            Purpose::OpenOrders(symbol) => data
                .as_array()
                .ok_or_else(|| "open orders answer without a data list".to_owned())
                .and_then(|list| {
                    list.iter()
                        .map(order)
                        .collect::<Result<Vec<_>, _>>()
                        .map(|orders| {
                            vec![SessionEvent::OpenOrders {
                                symbol: symbol.clone(),
                                orders: orders.into_iter().flatten().collect(),
                            }]
                        })
                }),
            Purpose::Account => balances(data).map(|b| vec![SessionEvent::Balances(b)]),
            Purpose::Amend(_)
            | Purpose::Subscribe
            | Purpose::Logon
            | Purpose::Positions(_)
            | Purpose::SetLeverage { .. }
            | Purpose::PlaceBatch(_)
            | Purpose::CancelBatch(_)
            | Purpose::AmendBatch(_) => Ok(Vec::new()),
        };
        match decoded {
            Ok(evs) => out.extend(evs),
            Err(e) => {
                out.push(SessionEvent::Undecodable(e));
                unknown(purpose, out);
            }
        }
    }

    fn windows(&mut self) -> Option<&mut RateWindows> {
        Some(&mut self.windows)
    }
    fn windows_ref(&self) -> Option<&RateWindows> {
        Some(&self.windows)
    }

    fn policy(&self) -> &RatePolicy {
        &self.policy
    }
}

/// A quote amount with the price's decimals (cut, never rounded up: the venue is never
/// asked to spend more than `qty × price`).
fn notional_str(n: Notional, decimals: u32) -> String {
    let scale = Notional::SCALE;
    let whole = n.0 / scale;
    let frac = n.0 % scale;
    let d = decimals.min(16);
    let frac = frac / 10i128.pow(16 - d);
    if d == 0 {
        format!("{whole}")
    } else {
        format!("{whole}.{frac:0width$}", width = d as usize)
    }
}

/// A v4 order object (query and open-orders answers, exchanges.md §5.4) as a snapshot;
/// `Ok(None)` for an empty answer or an order that is not ours (its client id is not one
/// mako could have minted).
fn order(d: &Value) -> Result<Option<OrderSnapshot>, String> {
    if d.is_null() || d.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(None);
    }
    let s = |k: &str| -> Result<&str, String> {
        d.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("order without {k:?}"))
    };
    let dec = |k: &str| -> Result<Qty, String> {
        floor8(s(k)?)
            .filter(|(neg, _)| !neg)
            .map(|(_, q)| q)
            .ok_or_else(|| format!("{k}: not a decimal"))
    };
    let Ok(cid) = ClientOrderId::parse(s("clientOrderId")?) else {
        return Ok(None);
    };
    let status = match s("state")? {
        "new" | "partially_filled" => SnapshotStatus::Open,
        "filled" => SnapshotStatus::Filled,
        "canceled" | "partially_canceled" => SnapshotStatus::Cancelled,
        other => return Err(format!("unknown order state {other:?}")),
    };
    let price = Price::from_units(dec("price")?.units());
    Ok(Some(OrderSnapshot {
        cid,
        symbol: s("symbol")?.to_owned(),
        venue_order_id: VenueOrderId::new(s("orderId")?.as_bytes())
            .ok_or("orderId is not an id")?,
        status,
        cum_qty: dec("filledSize")?,
        cum_quote: Notional::from_price(Price::from_units(dec("filledNotional")?.units())),
        price,
        orig_qty: dec("size")?,
        side: match s("side")? {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(format!("unknown side {other:?}")),
        },
    }))
}

/// One v4 trade object as `(trade id, fee, fee currency)`.
fn trade_fee(t: &Value) -> Result<(TradeId, Qty, AssetCode), String> {
    let s = |k: &str| -> Result<&str, String> {
        t.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("trade without {k:?}"))
    };
    let id = TradeId::new(s("tradeId")?.as_bytes()).ok_or("tradeId is not an id")?;
    // A negative fee is a rebate.
    let fee = floor8(s("fee")?)
        .map(|(neg, q)| if neg { Qty::from_units(-q.units()) } else { q })
        .ok_or("fee: not a decimal")?;
    let asset =
        AssetCode::new(s("feeCoinName")?.as_bytes()).ok_or("feeCoinName is not an asset")?;
    Ok((id, fee, asset))
}

/// `GET /spot/v1/wallet`'s `data.wallet[]`: `id`, `available`, `frozen`.
fn balances(d: &Value) -> Result<Vec<Balance>, String> {
    let list = d
        .get("wallet")
        .and_then(Value::as_array)
        .ok_or("wallet answer without data.wallet")?;
    list.iter()
        .map(|w| {
            let s = |k: &str| -> Result<&str, String> {
                w.get(k)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("wallet entry without {k:?}"))
            };
            let q = |k: &str| -> Result<Qty, String> {
                floor8(s(k)?)
                    .filter(|(neg, _)| !neg)
                    .map(|(_, q)| q)
                    .ok_or_else(|| format!("{k}: not a decimal"))
            };
            Ok(Balance {
                asset: AssetCode::new(s("id")?.as_bytes()).ok_or("asset id too long")?,
                free: q("available")?,
                locked: q("frozen")?,
            })
        })
        .collect()
}

fn refused(purpose: Purpose, error: VenueError, out: &mut Vec<SessionEvent>) {
    let class = classify(error.code);
    out.push(match purpose {
        Purpose::Place(cid) if class == ErrorClass::Unknown => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == ErrorClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
