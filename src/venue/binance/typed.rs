//! The typed fast path for the frames a Binance WebSocket API session meets on the order
//! path: the user-stream events (`executionReport`, `outboundAccountPosition`,
//! `balanceUpdate`, `listStatus`) and the answers to `order.place`, `order.cancel`,
//! `order.status`, `order.cancelReplace` and `order.amend.keepPriority`, successful or
//! not (an error answer's `{code, msg}`, and a cancel-replace's error `data` with its two
//! halves), each with its `rateLimits`. They are read with serde's derive into borrowed
//! structs (`&str` fields point into the frame, numbers are `serde_json::Number`s), in one
//! pass, without building a `serde_json::Value` and without allocating (an event that
//! carries a venue's message to the gateway, `PlaceRejected` / `CancelRejected`, owns a
//! copy of its text: that is the one allocation left, and only on those answers).
//!
//! The fast path only answers when it is sure it means what the `Value` path
//! (`user::ws_api_message` + `Session::on_response`) means: `decode` returns `None` for
//! anything else, and the session then takes the `Value` path, which gives the same events
//! and the same errors as before. `None` covers: the answers to other requests (queries of
//! open orders, trades, the account, the subscription, the logon), any other event type, a
//! bare event outside `{"event": …}`, strings with JSON escapes (a borrowed `&str` cannot
//! hold them), a field present twice, `null` where the `Value` path would see a present
//! field, a field of an unexpected type, more balances in one `outboundAccountPosition`
//! than [`BalanceList::CAP`], and any field the decode needs that is missing or malformed.
//! So a frame decodes the same on both paths by construction; `tests/binance_typed.rs` and
//! the fuzz target `binance_private` check it. One difference is kept (found by that
//! target): a number too large for an `f64` (`1E64034571073`) in a field the fast path does
//! not read is valid JSON and skipped here, while the `Value` path refuses the whole frame
//! (`not JSON: number out of range`); the fuzz comparison accepts exactly that.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::types::order::{AssetCode, OrderEvent, VenueFinal};
use crate::types::{ClientOrderId, Notional, Price, Qty, TradeId, UnixNanos, VenueOrderId};
use crate::venue::order::{Balance, VenueError};

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

/// The fields mako reads of a user-stream event: an `executionReport`'s and an
/// `outboundAccountPosition`'s (which share no key but `e` and `E`); the other types are
/// read for their type alone.
#[derive(Deserialize)]
struct Event<'a> {
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
    /// `outboundAccountPosition`'s balances.
    #[serde(rename = "B", default)]
    balances: Slot<BalanceList>,
}

/// The balances of one `outboundAccountPosition`, parsed, in a fixed-capacity array: the
/// assets the event's change touched (a fill: base, quote and the fee's asset).
#[derive(Clone, Copy)]
pub struct BalanceList {
    /// Past `len`: defaults, never read.
    items: [Balance; BalanceList::CAP],
    len: usize,
}

impl BalanceList {
    /// The most balances the fast path reads from one event; more go to the `Value` path.
    pub const CAP: usize = 8;

    pub fn as_slice(&self) -> &[Balance] {
        &self.items[..self.len]
    }
}

/// One entry of `B`.
#[derive(Deserialize)]
struct BalanceEntry<'a> {
    #[serde(borrow)]
    a: Option<&'a str>,
    #[serde(borrow)]
    f: Option<&'a str>,
    #[serde(borrow)]
    l: Option<&'a str>,
}

impl<'de> Deserialize<'de> for BalanceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BalanceList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of balances")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BalanceList, A::Error> {
                let blank = Balance {
                    asset: AssetCode::default(),
                    free: Qty::ZERO,
                    locked: Qty::ZERO,
                };
                let mut list = BalanceList {
                    items: [blank; BalanceList::CAP],
                    len: 0,
                };
                while let Some(Obj(b)) = seq.next_element::<Obj<BalanceEntry<'de>>>()? {
                    // As `user::balances` reads an entry; what it refuses, the `Value` path
                    // reports.
                    let balance = (|| {
                        Some(Balance {
                            asset: AssetCode::new(b.a?.as_bytes())?,
                            free: qty(b.f)?,
                            locked: qty(b.l)?,
                        })
                    })();
                    let (Some(balance), true) = (balance, list.len < BalanceList::CAP) else {
                        return Err(de::Error::custom("not for the fast path"));
                    };
                    list.items[list.len] = balance;
                    list.len += 1;
                }
                Ok(list)
            }
        }
        d.deserialize_seq(V)
    }
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
    /// A failed cancel-replace half's error (`{code, msg}` in place of the order).
    code: Option<Number>,
    #[serde(borrow)]
    msg: Option<&'a str>,
}

type Half<'a> = Order<'a, IgnoredAny>;

#[derive(Deserialize)]
struct Amended<'a> {
    #[serde(borrow)]
    price: Option<&'a str>,
    #[serde(borrow)]
    qty: Option<&'a str>,
}

/// An error answer's `error`: the venue's code and message, and for a cancel-replace the
/// outcome of its two halves (`data`, `replace::cancel_replace_events`).
#[derive(Deserialize)]
struct ErrorBody<'a> {
    code: Option<Number>,
    #[serde(borrow)]
    msg: Option<&'a str>,
    #[serde(borrow)]
    data: Option<Obj<Order<'a, Half<'a>>>>,
}

/// One WebSocket API frame: a wrapped user-stream event or an answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame<'a> {
    #[serde(default, borrow)]
    event: Slot<Obj<Event<'a>>>,
    #[serde(default)]
    e: Present,
    #[serde(default)]
    id: Slot<Id>,
    status: Option<Number>,
    #[serde(default, borrow)]
    error: Slot<Obj<ErrorBody<'a>>>,
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
    /// An `outboundAccountPosition`: the balances it states (each applied on its own, as
    /// the event lists only the assets that changed).
    Balances(BalanceList),
    /// An event of a type the gateway does not act on (`user::ignored_event`).
    Ignored(&'static str),
    /// The answer to request `id`, to be read for what the request was for.
    Answer {
        id: u64,
        status: u16,
        /// `(count, limit)` of the frame's `REQUEST_WEIGHT` rate limit, if it has one.
        weight: Option<(u32, u32)>,
        result: AnswerResult<'a>,
    },
}

/// The `result` of a successful answer, or the `error` of a failed one (borrowed from the
/// frame).
pub struct AnswerResult<'a> {
    ok: Option<Order<'a, Half<'a>>>,
    error: Option<ErrorBody<'a>>,
}

/// Decodes a frame on the fast path, or `None` when the `Value` path must read it.
pub fn decode(frame: &[u8]) -> Option<Typed<'_>> {
    // The whole frame must be UTF-8, as the `Value` path requires: serde skips the fields it
    // does not read without checking their bytes.
    let text = std::str::from_utf8(frame).ok()?;
    let Obj(f) = serde_json::from_str::<Obj<Frame<'_>>>(text).ok()?;
    if let Slot(Some(Obj(ev))) = f.event {
        return match ev.e? {
            "executionReport" => exec_update(&ev).map(Typed::Order),
            "outboundAccountPosition" => ev.balances.0.map(Typed::Balances),
            other => super::user::ignored_event(other).map(Typed::Ignored),
        };
    }
    if f.e.0 {
        return None;
    }
    let id = f.id.0?.0?;
    let status = u16::try_from(f.status.as_ref()?.as_u64()?).ok()?;
    // An error answer: its `result`, if any, is not read (as on the `Value` path).
    let error = f.error.0.map(|Obj(e)| e);
    Some(Typed::Answer {
        id,
        status,
        weight: f.rate_limits.0,
        result: AnswerResult {
            ok: f.result.filter(|_| error.is_none()).map(|Obj(r)| r),
            error,
        },
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

/// `user::execution_report` on the typed fields; `None` where it fails.
fn exec_update(e: &Event<'_>) -> Option<OrderUpdate> {
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

/// `{code, msg}` of an error or a failed half: the code (`venue_error_of`, `half_error`
/// want an integer that fits an `i32`) and the message (`""` when absent or `null`).
fn code_msg<'a>(code: &Option<Number>, msg: Option<&'a str>) -> Option<(i32, &'a str)> {
    let code = i32::try_from(code.as_ref()?.as_i64()?).ok()?;
    Some((code, msg.unwrap_or("")))
}

/// `replace::cancel_replace_events` on the typed halves: the events of a cancel-replace's
/// `result` or error `data` `r`, `outer` the answer's error code if any; `None` (and `out`
/// as it was) where that returns an error.
fn replace_events(
    r: &Order<'_, Half<'_>>,
    old: ClientOrderId,
    new: ClientOrderId,
    outer: Option<i32>,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) -> Option<()> {
    let cancelled = r.cancel_response.as_ref().map(|Obj(h)| h);
    let placed = r.new_order_response.as_ref().map(|Obj(h)| h);
    let first = match r.cancel_result? {
        "SUCCESS" => SessionEvent::Order {
            cid: old,
            event: snapshot(cancelled?, at)?,
        },
        "FAILURE" => {
            let c = cancelled?;
            let (code, msg) = code_msg(&c.code, c.msg)?;
            SessionEvent::CancelRejected {
                cid: old,
                error: VenueError {
                    code,
                    msg: msg.to_owned(),
                },
            }
        }
        _ => return None,
    };
    let second = match r.new_order_result? {
        "SUCCESS" => SessionEvent::Order {
            cid: new,
            event: accepted(placed?)?,
        },
        "FAILURE" => {
            let p = placed?;
            let (code, msg) = code_msg(&p.code, p.msg)?;
            SessionEvent::PlaceRejected {
                cid: new,
                error: VenueError {
                    code,
                    msg: msg.to_owned(),
                },
            }
        }
        "NOT_ATTEMPTED" => super::replace::not_attempted(new, outer),
        _ => return None,
    };
    out.push(first);
    out.push(second);
    Some(())
}

impl AnswerResult<'_> {
    /// The error answer's `(code, msg)`, `None` for a successful answer; `Some(None)` for an
    /// error the fast path does not read (a code that is not an `i32`).
    pub fn error(&self) -> Option<Option<(i32, &str)>> {
        let e = self.error.as_ref()?;
        Some(code_msg(&e.code, e.msg))
    }

    /// The answer to `order.place`: the order accepted.
    pub fn accepted(&self) -> Option<OrderEvent> {
        accepted(self.ok.as_ref()?)
    }

    /// The answer to `order.cancel` / `order.status`: the order's state.
    pub fn snapshot(&self, at: UnixNanos) -> Option<OrderEvent> {
        snapshot(self.ok.as_ref()?, at)
    }

    /// The answer to `order.amend.keepPriority` (`replace::amend_event`).
    pub fn amended(&self) -> Option<OrderEvent> {
        let r = self.ok.as_ref()?;
        let Obj(a) = r.amended_order.as_ref()?;
        Some(OrderEvent::Amended {
            price: price(a.price)?,
            qty: qty(a.qty)?,
            at: UnixNanos::from_millis(num(&r.transact_time)?),
        })
    }

    /// The successful answer to `order.cancelReplace` of `old` by `new`: both orders'
    /// events (`replace::cancel_replace_events` on the `result`). `None`: nothing pushed.
    pub fn replaced(
        &self,
        old: ClientOrderId,
        new: ClientOrderId,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) -> Option<()> {
        replace_events(self.ok.as_ref()?, old, new, None, at, out)
    }

    /// The error answer to `order.cancelReplace` when it carries its halves (`data`, an
    /// object): both orders' events, `outer` the answer's code. `Some(false)`: no `data`
    /// object (the request was refused as a whole); `None`: `data` the fast path does not
    /// read (nothing pushed).
    pub fn replace_failed(
        &self,
        old: ClientOrderId,
        new: ClientOrderId,
        outer: i32,
        at: UnixNanos,
        out: &mut Vec<SessionEvent>,
    ) -> Option<bool> {
        match self.error.as_ref()?.data.as_ref() {
            None => Some(false),
            Some(Obj(d)) => replace_events(d, old, new, Some(outer), at, out).map(|()| true),
        }
    }
}
