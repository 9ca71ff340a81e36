//! The typed fast path for the frames a Binance WebSocket API session meets on the order
//! path: `executionReport` events and the answers to `order.place`, `order.cancel`,
//! `order.status`, `order.cancelReplace` (both halves succeeded) and
//! `order.amend.keepPriority`, each with its `rateLimits`. They are read with serde's derive
//! into borrowed structs (`&str` fields point into the frame, numbers are
//! `serde_json::Number`s), in one pass, without building a `serde_json::Value` and without
//! allocating.
//!
//! The fast path only answers when it is sure it means what the `Value` path
//! (`user::ws_api_message` + `Session::on_response`) means: `decode` returns `None` for
//! anything else, and the session then takes the `Value` path, which gives the same events
//! and the same errors as before. `None` covers: any error answer, any other event type
//! (`outboundAccountPosition`, `balanceUpdate`, `listStatus`, …), a bare event outside
//! `{"event": …}`, strings with JSON escapes (a borrowed `&str` cannot hold them), a
//! field present twice, `null` where the `Value` path would see a present field, a
//! field of an unexpected type, and any field the decode needs that is missing or malformed.
//! So a frame decodes the same on both paths by construction; `session_typed_tests` and the
//! fuzz target `binance_private` check it.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::types::order::{AssetCode, OrderEvent, VenueFinal};
use crate::types::{ClientOrderId, Notional, Price, Qty, TradeId, UnixNanos, VenueOrderId};

use super::user::{OrderUpdate, snapshot_status};
use crate::venue::order::SessionEvent;

/// A `T` that must be a JSON object: serde's derive would also take an array (fields by
/// position), which the `Value` path reads as no fields at all.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A field whose presence counts, whatever its value (also `null`).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// A field that, when present, must hold a `T` (`null` included: no `Option` shortcut).
struct Slot<T>(Option<T>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Slot<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|t| Slot(Some(t)))
    }
}

/// A request id: the request number when it is one (`"7"` or `7`), else `None` (the `Value`
/// path reports such an answer as one to an unknown request).
struct Id(Option<u64>);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a request id")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Id, E> {
                Ok(Id(s.parse().ok()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id, E> {
                Ok(Id(Some(n)))
            }
            // A negative or fractional id never names a request (`Value`: its text does not
            // parse as u64).
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Id, E> {
                Ok(Id(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Id, E> {
                Ok(Id(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Id, E> {
                Ok(Id(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The last `REQUEST_WEIGHT` entry of `rateLimits`: `(count, limit)`.
#[derive(Default)]
struct Weight(Option<(u32, u32)>);

#[derive(Deserialize)]
struct RateLimit<'a> {
    #[serde(rename = "rateLimitType", borrow)]
    kind: Option<&'a str>,
    count: Option<Number>,
    limit: Option<Number>,
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Weight;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of rate limits")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Weight, A::Error> {
                let mut w = None;
                while let Some(Obj(l)) = seq.next_element::<Obj<RateLimit<'de>>>()? {
                    if l.kind == Some("REQUEST_WEIGHT") {
                        let n = |x: &Option<Number>| x.as_ref().and_then(Number::as_u64);
                        w = Some((
                            n(&l.count).unwrap_or(0) as u32,
                            n(&l.limit).unwrap_or(6000) as u32,
                        ));
                    }
                }
                Ok(Weight(w))
            }
        }
        d.deserialize_seq(V)
    }
}

/// An `executionReport`'s fields that mako reads.
#[derive(Deserialize)]
struct Exec<'a> {
    #[serde(borrow)]
    e: Option<&'a str>,
    #[serde(rename = "E")]
    event_time: Option<Number>,
    #[serde(borrow)]
    x: Option<&'a str>,
    #[serde(borrow)]
    c: Option<&'a str>,
    #[serde(rename = "C", borrow)]
    orig: Option<&'a str>,
    i: Option<Number>,
    t: Option<Number>,
    #[serde(borrow)]
    z: Option<&'a str>,
    #[serde(rename = "Z", borrow)]
    cum_quote: Option<&'a str>,
    #[serde(borrow)]
    l: Option<&'a str>,
    #[serde(rename = "L", borrow)]
    last_price: Option<&'a str>,
    #[serde(borrow)]
    n: Option<&'a str>,
    #[serde(rename = "N", borrow)]
    fee_asset: Option<&'a str>,
    m: Option<bool>,
}

/// An order object (place ACK, cancel, status, a cancel-replace half) or the `result` of a
/// keep-priority amend or a cancel-replace: the union of what mako reads from them. `H` is
/// the type of a cancel-replace's halves (`Order<IgnoredAny>`: a half holds no halves).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order<'a, H> {
    #[serde(borrow)]
    client_order_id: Option<&'a str>,
    #[serde(borrow)]
    orig_client_order_id: Option<&'a str>,
    order_id: Option<Number>,
    transact_time: Option<Number>,
    #[serde(borrow)]
    symbol: Option<&'a str>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    status: Option<&'a str>,
    #[serde(borrow)]
    executed_qty: Option<&'a str>,
    #[serde(borrow)]
    cummulative_quote_qty: Option<&'a str>,
    #[serde(borrow)]
    price: Option<&'a str>,
    #[serde(borrow)]
    orig_qty: Option<&'a str>,
    #[serde(borrow)]
    amended_order: Option<Obj<Amended<'a>>>,
    #[serde(borrow)]
    cancel_result: Option<&'a str>,
    #[serde(borrow)]
    new_order_result: Option<&'a str>,
    cancel_response: Option<Obj<H>>,
    new_order_response: Option<Obj<H>>,
}

type Half<'a> = Order<'a, IgnoredAny>;

#[derive(Deserialize)]
struct Amended<'a> {
    #[serde(borrow)]
    price: Option<&'a str>,
    #[serde(borrow)]
    qty: Option<&'a str>,
}

/// One WebSocket API frame: a wrapped user-stream event or an answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame<'a> {
    #[serde(default, borrow)]
    event: Slot<Obj<Exec<'a>>>,
    #[serde(default)]
    e: Present,
    #[serde(default)]
    id: Slot<Id>,
    status: Option<Number>,
    #[serde(default)]
    error: Present,
    #[serde(borrow)]
    result: Option<Obj<Order<'a, Half<'a>>>>,
    #[serde(default)]
    rate_limits: Weight,
}

/// What the fast path read from a frame.
// A stack temporary, gone before the next frame: boxing the answer would allocate per frame.
#[allow(clippy::large_enum_variant)]
pub enum Typed<'a> {
    /// An `executionReport`, decoded.
    Order(OrderUpdate),
    /// A successful answer to request `id`, to be read for what the request was for.
    Answer {
        id: u64,
        /// `(count, limit)` of the frame's `REQUEST_WEIGHT` rate limit, if it has one.
        weight: Option<(u32, u32)>,
        result: AnswerResult<'a>,
    },
}

/// The `result` of a successful answer (borrowed from the frame).
pub struct AnswerResult<'a>(Option<Order<'a, Half<'a>>>);

/// Decodes a frame on the fast path, or `None` when the `Value` path must read it.
pub fn decode(frame: &[u8]) -> Option<Typed<'_>> {
    // The whole frame must be UTF-8, as the `Value` path requires: serde skips the fields it
    // does not read without checking their bytes.
    let text = std::str::from_utf8(frame).ok()?;
    let Obj(f) = serde_json::from_str::<Obj<Frame<'_>>>(text).ok()?;
    if let Slot(Some(Obj(ev))) = f.event {
        return exec_update(&ev).map(Typed::Order);
    }
    if f.e.0 || f.error.0 {
        return None;
    }
    let id = f.id.0?.0?;
    let status = f.status.as_ref()?.as_u64()?;
    u16::try_from(status).ok()?;
    Some(Typed::Answer {
        id,
        weight: f.rate_limits.0,
        result: AnswerResult(f.result.map(|Obj(r)| r)),
    })
}

fn num(n: &Option<Number>) -> Option<u64> {
    n.as_ref()?.as_u64()
}
fn qty(s: Option<&str>) -> Option<Qty> {
    Qty::parse(s?).ok()
}
fn price(s: Option<&str>) -> Option<Price> {
    Price::parse(s?).ok()
}
fn cid(s: Option<&str>) -> Option<ClientOrderId> {
    ClientOrderId::parse(s?).ok()
}

/// `user::execution_report` on the typed fields; `None` where it fails (or the event is not
/// an `executionReport`).
fn exec_update(e: &Exec<'_>) -> Option<OrderUpdate> {
    if e.e? != "executionReport" {
        return None;
    }
    let exec = e.x?;
    let at = UnixNanos::from_millis(num(&e.event_time)?);
    let venue_order_id = VenueOrderId::from_u64(num(&e.i)?);
    let cum_qty = qty(e.z)?;
    let cum_quote = Notional::from_price(price(e.cum_quote)?);
    let cid = match e.orig {
        Some(orig) if exec == "CANCELED" && !orig.is_empty() => cid(Some(orig))?,
        _ => cid(e.c)?,
    };
    let ended = |kind| OrderEvent::Ended {
        kind,
        venue_order_id: Some(venue_order_id),
        cum_qty,
        cum_quote,
        at,
    };
    let event = match exec {
        "NEW" | "REPLACED" => OrderEvent::Accepted { venue_order_id, at },
        "TRADE" => OrderEvent::Trade {
            venue_order_id,
            trade_id: TradeId::from_u64(num(&e.t)?),
            last_qty: qty(e.l)?,
            last_price: price(e.last_price)?,
            cum_qty,
            cum_quote,
            fee: qty(e.n)?,
            fee_asset: match e.fee_asset {
                Some(a) => AssetCode::new(a.as_bytes())?,
                None => AssetCode::default(),
            },
            is_maker: e.m?,
            at,
        },
        "CANCELED" => ended(VenueFinal::Cancelled),
        "EXPIRED" | "TRADE_PREVENTION" => ended(VenueFinal::Expired),
        "REJECTED" => ended(VenueFinal::Rejected),
        _ => return None,
    };
    Some(OrderUpdate { cid, event })
}

/// `user::new_order_ack` → `Accepted`.
fn accepted<H>(o: &Order<'_, H>) -> Option<OrderEvent> {
    cid(o.client_order_id)?;
    Some(OrderEvent::Accepted {
        venue_order_id: VenueOrderId::from_u64(num(&o.order_id)?),
        at: UnixNanos::from_millis(num(&o.transact_time)?),
    })
}

/// `user::order_snapshot(o)?.event(at)`.
fn snapshot<H>(o: &Order<'_, H>, at: UnixNanos) -> Option<OrderEvent> {
    match o.orig_client_order_id {
        Some(orig) if !orig.is_empty() => cid(Some(orig))?,
        _ => cid(o.client_order_id)?,
    };
    if !matches!(o.side?, "BUY" | "SELL") {
        return None;
    }
    o.symbol?;
    Some(OrderEvent::Snapshot {
        venue_order_id: VenueOrderId::from_u64(num(&o.order_id)?),
        status: snapshot_status(o.status?).ok()?,
        cum_qty: qty(o.executed_qty)?,
        cum_quote: Notional::from_price(price(o.cummulative_quote_qty)?),
        terms: Some((price(o.price)?, qty(o.orig_qty)?)),
        at,
    })
}

impl AnswerResult<'_> {
    /// The answer to `order.place`: the order accepted.
    pub fn accepted(&self) -> Option<OrderEvent> {
        accepted(self.0.as_ref()?)
    }

    /// The answer to `order.cancel` / `order.status`: the order's state.
    pub fn snapshot(&self, at: UnixNanos) -> Option<OrderEvent> {
        snapshot(self.0.as_ref()?, at)
    }

    /// The answer to `order.amend.keepPriority` (`replace::amend_event`).
    pub fn amended(&self) -> Option<OrderEvent> {
        let r = self.0.as_ref()?;
        let Obj(a) = r.amended_order.as_ref()?;
        Some(OrderEvent::Amended {
            price: price(a.price)?,
            qty: qty(a.qty)?,
            at: UnixNanos::from_millis(num(&r.transact_time)?),
        })
    }

    /// The answer to `order.cancelReplace` when both halves succeeded: `old` cancelled,
    /// `new` accepted (`replace::cancel_replace_events`). Other outcomes: `None`.
    pub fn replaced(
        &self,
        old: ClientOrderId,
        new: ClientOrderId,
        at: UnixNanos,
    ) -> Option<[SessionEvent; 2]> {
        let r = self.0.as_ref()?;
        if r.cancel_result? != "SUCCESS" || r.new_order_result? != "SUCCESS" {
            return None;
        }
        let Obj(cancelled) = r.cancel_response.as_ref()?;
        let Obj(placed) = r.new_order_response.as_ref()?;
        Some([
            SessionEvent::Order {
                cid: old,
                event: snapshot(cancelled, at)?,
            },
            SessionEvent::Order {
                cid: new,
                event: accepted(placed)?,
            },
        ])
    }
}
