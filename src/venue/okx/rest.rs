//! OKX v5 order entry and queries over REST as pure code (exchanges.md §2.5, §2.7): each
//! request's body or query built into the caller's buffer and signed over exactly those bytes
//! (`timestamp + METHOD + path(+query) + body`, the signature and timestamp in the request's
//! signed headers), and the answers (`{"code","msg","data":[…]}` with per-item `sCode`)
//! mapped into the gateway's `SessionEvent`s. 5xx, timeouts and lost answers leave an order's
//! outcome unknown: it is queried, never assumed rejected.

use std::fmt::Write as _;

use serde_json::Value;

use crate::config::Secret;
use crate::types::order::OrderKind;
use crate::types::{ClientOrderId, Side, UnixNanos, VenueOrderId};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};
use crate::venue::rest::{
    Answer, Class, Inflight, Method, RateHeaders, RatePolicy, RestCodec, RestHead, RestPlan,
    SignedHeaders, unknown_outcome as unknown,
};

use super::private::{self, ErrorClass};
use super::sign::{OkxSigner, iso_millis};

/// The REST side of one OKX account.
pub struct OkxRest {
    signer: OkxSigner,
    /// Demo trading: every request carries `x-simulated-trading: 1`.
    demo: bool,
    inflight: Inflight,
    policy: RatePolicy,
    /// Reused: the path with its query, as signed.
    path: String,
}

/// OKX reports no request weight: only `Retry-After`, if anything, is read.
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

impl OkxRest {
    pub fn new(api_key: &Secret, secret: &Secret, passphrase: &Secret, demo: bool) -> Self {
        Self {
            signer: OkxSigner::new(api_key, secret, passphrase),
            demo,
            inflight: Inflight::default(),
            // No weight is ever reported, so only 429s hold requests back.
            policy: RatePolicy::new(u32::MAX),
            path: String::with_capacity(256),
        }
    }

    /// Signs `method path(+query in buf for GET) body(buf for POST)` at `now_ms` and
    /// remembers the request.
    fn finish(
        &mut self,
        p: Purpose,
        method: Method,
        path: &'static str,
        class: Class,
        buf: &[u8],
        now_ms: u64,
    ) -> RestHead {
        let mut ts = [0u8; 24];
        iso_millis(now_ms, &mut ts);
        self.path.clear();
        self.path.push_str(path);
        let body: &[u8] = if method == Method::Get {
            if !buf.is_empty() {
                self.path.push('?');
                self.path.push_str(std::str::from_utf8(buf).unwrap_or(""));
            }
            b""
        } else {
            buf
        };
        let sign = self.signer.sign(&ts, method.as_str(), &self.path, body);
        let mut signed = SignedHeaders::default();
        signed.push("OK-ACCESS-SIGN", &sign);
        signed.push("OK-ACCESS-TIMESTAMP", &ts);
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

impl RestCodec for OkxRest {
    fn plan(&self) -> RestPlan {
        let mut headers = vec![
            ("OK-ACCESS-KEY", self.signer.api_key().to_owned()),
            ("OK-ACCESS-PASSPHRASE", self.signer.passphrase().to_owned()),
        ];
        if self.demo {
            headers.push(("x-simulated-trading", "1".to_owned()));
        }
        RestPlan {
            headers,
            content_type: "application/json",
            warm_path: "/api/v5/public/time",
            keepalive_path: "/api/v5/public/time",
            rate_headers,
            bearer: None,
        }
    }

    fn place(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        let side = match o.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let ord = match (o.kind, o.tif) {
            (OrderKind::Market, _) => "market",
            (OrderKind::LimitMaker, _) => "post_only",
            (OrderKind::Limit, crate::types::TimeInForce::Gtc) => "limit",
            (OrderKind::Limit, crate::types::TimeInForce::Ioc) => "ioc",
            (OrderKind::Limit, crate::types::TimeInForce::Fok) => "fok",
        };
        let mut n = [0u8; 32];
        buf.clear();
        let mut w = Buf(buf);
        let _ = write!(
            w,
            r#"{{"instId":"{}","tdMode":"cash","clOrdId":"{}","side":"{side}","ordType":"{ord}","sz":""#,
            o.symbol,
            o.cid.as_str()
        );
        let k = o.qty.write_fixed(o.qty_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        if o.kind == OrderKind::Market {
            buf.extend_from_slice(br#"","tgtCcy":"base_ccy"}"#);
        } else {
            buf.extend_from_slice(br#"","px":""#);
            let k = o.price.write_fixed(o.price_decimals, &mut n);
            buf.extend_from_slice(&n[..k]);
            buf.extend_from_slice(br#""}"#);
        }
        self.finish(
            Purpose::Place(*o.cid),
            Method::Post,
            "/api/v5/trade/order",
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
            r#"{{"instId":"{symbol}","clOrdId":"{}"}}"#,
            cid.as_str()
        );
        self.finish(
            Purpose::Cancel(*cid),
            Method::Post,
            "/api/v5/trade/cancel-order",
            Class::Order,
            buf,
            now_ms,
        )
    }

    fn status(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(Buf(buf), "instId={symbol}&clOrdId={}", cid.as_str());
        self.finish(
            Purpose::Status(*cid),
            Method::Get,
            "/api/v5/trade/order",
            Class::Query,
            buf,
            now_ms,
        )
    }

    fn trades(
        &mut self,
        symbol: &str,
        cid: &ClientOrderId,
        venue_order_id: VenueOrderId,
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> RestHead {
        buf.clear();
        let _ = write!(
            Buf(buf),
            "instType=SPOT&instId={symbol}&ordId={venue_order_id}"
        );
        self.finish(
            Purpose::Trades(*cid),
            Method::Get,
            "/api/v5/trade/fills",
            Class::Query,
            buf,
            now_ms,
        )
    }

    fn amends_in_place(&self) -> bool {
        true
    }

    /// `POST /api/v5/trade/amend-order` by client id with the new price and total size (OKX's
    /// `newPx`, `newSz`): an accepted answer means the request was taken; the `orders` channel
    /// reports the amended order (`amendResult`), or a query settles it.
    fn amend(&mut self, o: &PlaceOrder<'_>, now_ms: u64, buf: &mut Vec<u8>) -> Option<RestHead> {
        let mut n = [0u8; 32];
        buf.clear();
        let _ = write!(
            Buf(buf),
            r#"{{"instId":"{}","clOrdId":"{}","newSz":""#,
            o.symbol,
            o.cid.as_str()
        );
        let k = o.qty.write_fixed(o.qty_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        buf.extend_from_slice(br#"","newPx":""#);
        let k = o.price.write_fixed(o.price_decimals, &mut n);
        buf.extend_from_slice(&n[..k]);
        buf.extend_from_slice(br#""}"#);
        Some(self.finish(
            Purpose::Amend(*o.cid),
            Method::Post,
            "/api/v5/trade/amend-order",
            Class::Order,
            buf,
            now_ms,
        ))
    }

    fn open_orders(&mut self, symbol: &str, now_ms: u64, buf: &mut Vec<u8>) -> RestHead {
        buf.clear();
        let _ = write!(Buf(buf), "instType=SPOT&instId={symbol}");
        self.finish(
            Purpose::OpenOrders(symbol.to_owned()),
            Method::Get,
            "/api/v5/trade/orders-pending",
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
            "/api/v5/account/balance",
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
            out.push(SessionEvent::RateLimited { retry_after_ms: ms });
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
                    code: 50011,
                    msg: "not sent: waiting out a rate limit".into(),
                };
                return refused(purpose, error, at, out);
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                return unknown(purpose, out);
            }
        };
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let error = data
            .first()
            .and_then(private::item_error)
            .or_else(|| private::item_error(&v));
        if let Some(error) = error {
            if private::classify(error.code) == ErrorClass::RateLimited {
                self.policy.note(429, &RateHeaders::default(), at);
                out.push(SessionEvent::RateLimited {
                    retry_after_ms: 1_000,
                });
                return unknown(purpose, out);
            }
            return refused(purpose, error, at, out);
        }
        let decoded: Result<Vec<SessionEvent>, String> = match &purpose {
            Purpose::Place(cid) => data
                .first()
                .and_then(|d| d.get("ordId"))
                .and_then(Value::as_str)
                .and_then(|s| VenueOrderId::new(s.as_bytes()))
                .map(|venue_order_id| {
                    vec![SessionEvent::Order {
                        cid: *cid,
                        event: crate::types::OrderEvent::Accepted { venue_order_id, at },
                    }]
                })
                .ok_or_else(|| "place answer without ordId".into()),
            // Accepted: the orders channel reports the order's end.
            // Amends go over the private WebSocket only.
            Purpose::Cancel(_) | Purpose::Amend(_) => Ok(Vec::new()),
            Purpose::Status(cid) => match data.first() {
                None => Ok(vec![SessionEvent::NotFound { cid: *cid }]),
                Some(d) => private::order_item(d)
                    .map(|o| {
                        vec![SessionEvent::Order {
                            cid: *cid,
                            event: crate::types::OrderEvent::Snapshot {
                                venue_order_id: o.ord_id,
                                status: o.state,
                                cum_qty: o.acc_fill,
                                cum_quote: o.quote_from_avg(),
                                terms: o.price.map(|p| (p, o.qty)),
                                at,
                            },
                        }]
                    })
                    .map_err(|e| e.to_string()),
            },
            Purpose::Trades(cid) => private::fill_fees(data)
                .map(|trades| vec![SessionEvent::Trades { cid: *cid, trades }])
                .map_err(|e| e.to_string()),
            Purpose::OpenOrders(symbol) => data
                .iter()
                .map(|d| private::order_item(d).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
                .map(|items| {
                    vec![SessionEvent::OpenOrders {
                        symbol: symbol.clone(),
                        // Orders placed elsewhere (no clOrdId) are not ours to reconcile.
                        orders: items.iter().filter_map(|o| o.snapshot(symbol)).collect(),
                    }]
                }),
            Purpose::Account => data
                .iter()
                .map(|d| private::balances(d).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
                .map(|b| vec![SessionEvent::Balances(b.concat())]),
            Purpose::Subscribe
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

    fn policy(&self) -> &RatePolicy {
        &self.policy
    }
}

fn refused(purpose: Purpose, error: VenueError, at: UnixNanos, out: &mut Vec<SessionEvent>) {
    let class = private::classify(error.code);
    out.push(match purpose {
        // An amend refused leaves the order as it was.
        Purpose::Amend(cid) => SessionEvent::Order {
            cid,
            event: crate::types::OrderEvent::AmendRejected {
                code: error.code,
                at,
            },
        },
        Purpose::Place(cid) if class == ErrorClass::Unknown => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected { cid, error },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected { cid, error },
        Purpose::Status(cid) if class == ErrorClass::NotFound => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        p => SessionEvent::Failed { purpose: p, error },
    });
}

/// `fmt::Write` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
