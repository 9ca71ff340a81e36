//! Delta's edit and batch requests (reference/delta.md §4.3): `PUT /v2/orders` as the
//! gateway's in-place amend, and the batch create / cancel encoders and decoders.
//!
//! **Edit.** `PUT /v2/orders` `{"id","product_symbol","limit_price","size"}`, `size` being
//! the "total size after editing order". The docs name the order only by its venue `id`, so
//! the codec keeps the venue id of each order it learned one for (the place answer, a status
//! or open-orders answer; at most [`VenueIds::CAP`], oldest forgotten). An amend of an order
//! whose id is not known yet is sent as a status query instead: the query's answer carries
//! the venue's terms, which settle the amend as not made. The answer is the Order object
//! (its new `limit_price` and `size`): a snapshot with those terms, which settles the amend;
//! a refusal (`open_order_not_found`, `bad_schema`, margin) is `AmendRejected`.
//!
//! **Batch** (the seam's batch hook, `RestCodec::place_batch` / `cancel_batch`, driven by the
//! gateway's burst: a poll's GTC limit orders on one product go as one request): `POST
//! /v2/orders/batch` `{"product_symbol","orders":[…]}` with limit items only (`limit_price`,
//! `size`, `side`, `order_type`, `post_only`, `client_order_id`; no `time_in_force`, the docs
//! saying both "assumed gtc" and "ioc is not valid"; no `reduce_only`: a reduce-only order
//! goes alone), at most 50 (the documented cap, refused here beyond it) and one product;
//! `DELETE /v2/orders/batch` `{"product_symbol","orders":[{"client_order_id"}]}`. Each
//! order of the answer is settled by its own item; a 5xx, a timeout or a lost connection
//! leaves every order of the batch unknown (queried by client id).
//!
//! **Unconfirmed against the live venue:** the edit body naming the product by symbol (the
//! docs allow `product_id|product_symbol`); the batch answer's `result` read as a list with
//! one item per order in the order sent, each an Order object or an item with an `error`
//! (the reference: "per-item error reporting inside a batch response is undocumented"); an
//! item missing from the list leaves its order unknown (queried).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use serde_json::Value;

use crate::types::order::OrderKind;
use crate::types::{ClientOrderId, Side, UnixNanos};
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent, VenueError};

use super::{Buf, classify, error_code, order};

/// `PUT /v2/orders` and the batch path.
pub(super) const BATCH: &str = "/v2/orders/batch";
/// The documented batch cap.
pub const BATCH_MAX: usize = 50;

/// Venue order ids by client id, learned from answers (bounded).
#[derive(Debug, Default)]
pub(super) struct VenueIds {
    ids: HashMap<ClientOrderId, u64>,
    order: VecDeque<ClientOrderId>,
}

impl VenueIds {
    pub(super) const CAP: usize = 4096;

    pub(super) fn learn(&mut self, cid: ClientOrderId, id: u64) {
        if self.ids.insert(cid, id).is_none() {
            self.order.push_back(cid);
            if self.order.len() > Self::CAP
                && let Some(old) = self.order.pop_front()
            {
                self.ids.remove(&old);
            }
        }
    }

    pub(super) fn get(&self, cid: &ClientOrderId) -> Option<u64> {
        self.ids.get(cid).copied()
    }
}

fn write_num(buf: &mut Vec<u8>, q: crate::types::Qty) {
    let mut n = [0u8; 48];
    let decimals = if q.units() % crate::types::SCALE == 0 {
        0
    } else {
        q.decimals_needed()
    };
    let k = q.write_fixed(decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
}

fn write_price(buf: &mut Vec<u8>, o: &PlaceOrder<'_>) {
    let mut n = [0u8; 48];
    let k = o.price.write_fixed(o.price_decimals, &mut n);
    buf.extend_from_slice(&n[..k]);
}

/// The edit body: `{"id":…,"product_symbol":…,"limit_price":"…","size":…}`.
pub(super) fn write_edit(buf: &mut Vec<u8>, id: u64, o: &PlaceOrder<'_>) {
    buf.clear();
    let _ = write!(
        Buf(buf),
        r#"{{"id":{id},"product_symbol":"{}","limit_price":""#,
        o.symbol
    );
    write_price(buf, o);
    buf.extend_from_slice(br#"","size":"#);
    write_num(buf, o.qty);
    buf.push(b'}');
}

/// Why a batch cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    Empty,
    TooMany(usize),
    /// Orders of more than one product.
    MixedProducts,
    /// Batch create takes limit orders only (GTC, optionally post-only).
    NotLimit(ClientOrderId),
}

/// The batch create body: one product, limit orders only, at most 50.
pub(super) fn write_batch_create(
    buf: &mut Vec<u8>,
    orders: &[PlaceOrder<'_>],
) -> Result<(), BatchError> {
    let first = orders.first().ok_or(BatchError::Empty)?;
    if orders.len() > BATCH_MAX {
        return Err(BatchError::TooMany(orders.len()));
    }
    if orders.iter().any(|o| o.symbol != first.symbol) {
        return Err(BatchError::MixedProducts);
    }
    if let Some(o) = orders.iter().find(|o| {
        o.kind == OrderKind::Market || o.tif != crate::types::TimeInForce::Gtc || o.reduce_only
    }) {
        return Err(BatchError::NotLimit(*o.cid));
    }
    buf.clear();
    let _ = write!(
        Buf(buf),
        r#"{{"product_symbol":"{}","orders":["#,
        first.symbol
    );
    for (k, o) in orders.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(br#"{"limit_price":""#);
        write_price(buf, o);
        buf.extend_from_slice(br#"","size":"#);
        write_num(buf, o.qty);
        let side = if o.side == Side::Buy { "buy" } else { "sell" };
        let _ = write!(Buf(buf), r#","side":"{side}","order_type":"limit_order""#);
        if o.kind == OrderKind::LimitMaker {
            buf.extend_from_slice(br#","post_only":true"#);
        }
        let _ = write!(Buf(buf), r#","client_order_id":"{}"}}"#, o.cid.as_str());
    }
    buf.extend_from_slice(b"]}");
    Ok(())
}

/// The batch cancel body, by client id.
pub(super) fn write_batch_cancel(
    buf: &mut Vec<u8>,
    symbol: &str,
    cids: &[ClientOrderId],
) -> Result<(), BatchError> {
    if cids.is_empty() {
        return Err(BatchError::Empty);
    }
    if cids.len() > BATCH_MAX {
        return Err(BatchError::TooMany(cids.len()));
    }
    buf.clear();
    let _ = write!(Buf(buf), r#"{{"product_symbol":"{symbol}","orders":["#);
    for (k, c) in cids.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        let _ = write!(Buf(buf), r#"{{"client_order_id":"{}"}}"#, c.as_str());
    }
    buf.extend_from_slice(b"]}");
    Ok(())
}

/// A batch create answer's `result` as one outcome per order sent (`cids`, in order): an
/// Order item is the order's snapshot, an item with an `error` its refusal (or, for a code
/// not known to refuse, an unknown outcome), a missing item an unknown outcome.
pub(super) fn batch_create_answer(
    cids: &[ClientOrderId],
    result: &Value,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) -> Result<(), String> {
    let items = result.as_array().ok_or("batch result is not a list")?;
    for (k, cid) in cids.iter().enumerate() {
        let Some(item) = items.get(k) else {
            out.push(SessionEvent::Uncertain { cid: *cid });
            continue;
        };
        if item.get("error").is_some() {
            let code = error_code(item);
            out.push(match classify(&code) {
                super::ErrorClass::Rejected => SessionEvent::PlaceRejected {
                    cid: *cid,
                    error: VenueError {
                        code: super::code_number(&code),
                        msg: code,
                    },
                },
                _ => SessionEvent::Uncertain { cid: *cid },
            });
            continue;
        }
        match order(item)? {
            Some(o) if o.cid == *cid => out.push(SessionEvent::Order {
                cid: *cid,
                event: o.event(at),
            }),
            // An item for another order: the list is not in the order sent.
            _ => out.push(SessionEvent::Uncertain { cid: *cid }),
        }
    }
    Ok(())
}

/// A batch cancel answer's `result`: an item with an `error` is that order's refusal; any
/// other item (or none) accepts the cancel, whose end comes from the private stream or a
/// query, as a single cancel's does.
pub(super) fn batch_cancel_answer(
    cids: &[ClientOrderId],
    result: &Value,
    out: &mut Vec<SessionEvent>,
) -> Result<(), String> {
    let items = result.as_array().ok_or("batch result is not a list")?;
    for (k, cid) in cids.iter().enumerate() {
        if let Some(item) = items.get(k).filter(|i| i.get("error").is_some()) {
            let code = error_code(item);
            out.push(SessionEvent::CancelRejected {
                cid: *cid,
                error: VenueError {
                    code: super::code_number(&code),
                    msg: code,
                },
            });
        }
    }
    Ok(())
}

/// A batch refused as a whole (`success: false`): each order refused with the batch's code
/// where the code is known to refuse, else each left unknown; each cancel refused.
pub(super) fn batch_refused(
    ids: &crate::venue::order::CidBatch,
    cancel: bool,
    error: VenueError,
    class: super::ErrorClass,
    out: &mut Vec<SessionEvent>,
) {
    for &cid in ids.as_slice() {
        out.push(match (cancel, class) {
            (true, _) => SessionEvent::CancelRejected {
                cid,
                error: error.clone(),
            },
            (false, super::ErrorClass::Rejected) => SessionEvent::PlaceRejected {
                cid,
                error: error.clone(),
            },
            (false, _) => SessionEvent::Uncertain { cid },
        });
    }
}

impl super::DeltaRest {
    /// The most orders the gateway puts in one batch: Delta's documented 50.
    pub(super) fn batch_cap(&self) -> usize {
        BATCH_MAX.min(crate::venue::order::CidBatch::CAP)
    }

    /// What batch create takes: GTC limit orders (post-only or not), not reduce-only.
    pub(super) fn fits_batch(o: &PlaceOrder<'_>) -> bool {
        o.kind != OrderKind::Market && o.tif == crate::types::TimeInForce::Gtc && !o.reduce_only
    }

    /// `POST /v2/orders/batch` as a gateway request (`Purpose::PlaceBatch`); `None`, the
    /// buffer untouched, for orders a batch cannot hold.
    pub(super) fn place_batch_request(
        &mut self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<crate::venue::rest::RestHead> {
        write_batch_create(buf, orders).ok()?;
        let ids = self.batches.take(orders.iter().map(|o| *o.cid));
        let (m, c) = (
            crate::venue::rest::Method::Post,
            crate::venue::rest::Class::Order,
        );
        Some(self.finish(Purpose::PlaceBatch(ids), m, BATCH, c, buf, now_ms))
    }

    /// `DELETE /v2/orders/batch` by client id as a gateway request (`Purpose::CancelBatch`).
    pub(super) fn cancel_batch_request(
        &mut self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Option<crate::venue::rest::RestHead> {
        write_batch_cancel(buf, symbol, cids).ok()?;
        let ids = self.batches.take(cids.iter().copied());
        let (m, c) = (
            crate::venue::rest::Method::DeleteJson,
            crate::venue::rest::Class::Order,
        );
        Some(self.finish(Purpose::CancelBatch(ids), m, BATCH, c, buf, now_ms))
    }

    /// A successful batch answer's `result`, for its purpose: the venue ids of the orders
    /// placed are learned (the edit names orders by them).
    pub(super) fn batch_answer(
        &mut self,
        purpose: &Purpose,
        result: &Value,
        at: UnixNanos,
    ) -> Result<Vec<SessionEvent>, String> {
        let mut out = Vec::new();
        match purpose {
            Purpose::PlaceBatch(ids) => {
                batch_create_answer(ids.as_slice(), result, at, &mut out)?;
                for item in result.as_array().into_iter().flatten() {
                    if let (Some(id), Some(c)) = (
                        item.get("id").and_then(Value::as_u64),
                        item.get("client_order_id")
                            .and_then(Value::as_str)
                            .and_then(|c| ClientOrderId::parse(c).ok()),
                    ) {
                        self.venue_ids.learn(c, id);
                    }
                }
            }
            Purpose::CancelBatch(ids) => batch_cancel_answer(ids.as_slice(), result, &mut out)?,
            _ => {}
        }
        Ok(out)
    }

    /// Gives a batch purpose's ids back to the pool (after its answer was read).
    pub(super) fn recycle(&mut self, purpose: Purpose) {
        if let Purpose::PlaceBatch(b) | Purpose::CancelBatch(b) = purpose {
            self.batches.give(b);
        }
    }

    /// `POST /v2/orders/batch` (weight 25): one product's limit orders, at most 50, as a
    /// request of its own (the gateway's is [`Self::place_batch_request`]); its answer is
    /// read by [`Self::batch_create_outcomes`].
    pub fn batch_create(
        &self,
        orders: &[PlaceOrder<'_>],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Result<super::admin::OwnRequest, BatchError> {
        write_batch_create(buf, orders)?;
        Ok(self.own(crate::venue::rest::Method::Post, BATCH.into(), buf, now_ms))
    }

    /// `DELETE /v2/orders/batch` (weight 25) by client id, one product, at most 50.
    pub fn batch_cancel(
        &self,
        symbol: &str,
        cids: &[ClientOrderId],
        now_ms: u64,
        buf: &mut Vec<u8>,
    ) -> Result<super::admin::OwnRequest, BatchError> {
        write_batch_cancel(buf, symbol, cids)?;
        Ok(self.own(
            crate::venue::rest::Method::DeleteJson,
            BATCH.into(),
            buf,
            now_ms,
        ))
    }

    /// The outcome of a batch create for each of `cids` (in the order sent) from the
    /// answer's body: a refused batch refuses every order with its code (or leaves them
    /// unknown for a code not known to refuse); a body that is not the envelope leaves them
    /// unknown (and says why).
    pub fn batch_create_outcomes(
        cids: &[ClientOrderId],
        status: u16,
        body: &[u8],
        at: UnixNanos,
    ) -> Vec<SessionEvent> {
        let mut out = Vec::new();
        let unknown = |out: &mut Vec<SessionEvent>| {
            out.extend(cids.iter().map(|c| SessionEvent::Uncertain { cid: *c }));
        };
        if status >= 500 || status == 429 {
            unknown(&mut out);
            return out;
        }
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(SessionEvent::Undecodable(e.to_string()));
                unknown(&mut out);
                return out;
            }
        };
        if v.get("success").and_then(Value::as_bool) != Some(true) {
            let code = error_code(&v);
            if classify(&code) == super::ErrorClass::Rejected {
                out.extend(cids.iter().map(|c| SessionEvent::PlaceRejected {
                    cid: *c,
                    error: VenueError {
                        code: super::code_number(&code),
                        msg: code.clone(),
                    },
                }));
            } else {
                unknown(&mut out);
            }
            return out;
        }
        let result = v.get("result").unwrap_or(&Value::Null);
        if let Err(e) = batch_create_answer(cids, result, at, &mut out) {
            out.clear();
            out.push(SessionEvent::Undecodable(e));
            unknown(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! Bytes and signatures (computed with Python's `hmac`, independently of mako:
    //! `hmac.new(secret, METHOD + ts + path + body, hashlib.sha256).hexdigest()`), and the
    //! answers mapped to the gateway's events.

    use super::super::*;
    use super::*;

    const DOC_SECRET: &[u8] = b"7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f";
    const NOW_MS: u64 = 1_700_000_000_400;
    const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

    fn codec() -> DeltaRest {
        DeltaRest::new(
            DeltaSigner::from_bytes("mako-test-key", DOC_SECRET),
            vec![("BTCUSD".into(), AssetCode::new(b"USD").unwrap())],
        )
    }

    fn cid(s: &str) -> ClientOrderId {
        ClientOrderId::parse(s).unwrap()
    }

    fn order<'a>(id: &'a ClientOrderId, side: Side, kind: OrderKind, qty: &str) -> PlaceOrder<'a> {
        PlaceOrder {
            symbol: "BTCUSD",
            cid: id,
            side,
            kind,
            tif: TimeInForce::Gtc,
            price: Price::parse("60000.5").unwrap(),
            qty: Qty::parse(qty).unwrap(),
            price_decimals: 1,
            qty_decimals: 0,
            reduce_only: false,
        }
    }

    fn sig(signed: &SignedHeaders) -> String {
        signed
            .iter()
            .find(|(k, _)| *k == "signature")
            .map(|(_, v)| v.to_owned())
            .unwrap()
    }

    #[test]
    fn an_edit_names_the_venue_id_learned_from_the_place_answer() {
        let mut c = codec();
        let id = cid("mk0abc");
        let mut buf = Vec::new();
        // Not known yet: a status query goes instead (its answer settles the amend).
        let mut o = order(&id, Side::Buy, OrderKind::Limit, "3");
        o.price = Price::parse("59990.5").unwrap();
        let h = c.amend(&o, NOW_MS, &mut buf).unwrap();
        assert_eq!((h.method, h.path), (Method::GetPath, BY_CLIENT_ID));
        assert_eq!(buf, b"mk0abc");
        // The place answer names id 12345.
        let place = c.place(
            &order(&id, Side::Buy, OrderKind::Limit, "2"),
            NOW_MS,
            &mut buf,
        );
        let answer = br#"{"success":true,"result":{"id":12345,"client_order_id":"mk0abc","product_symbol":"BTCUSD","size":2,"unfilled_size":2,"state":"open","side":"buy","limit_price":"60000.5"}}"#;
        let mut out = Vec::new();
        c.on_answer(
            place.id,
            Answer::Http {
                status: 200,
                headers: RateHeaders::default(),
                body: answer,
            },
            AT,
            &mut out,
        );
        let h = c.amend(&o, NOW_MS, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            r#"{"id":12345,"product_symbol":"BTCUSD","limit_price":"59990.5","size":3}"#
        );
        assert_eq!(
            (h.method, h.path, h.class),
            (Method::Put, ORDERS, Class::Order)
        );
        assert_eq!(
            sig(&h.signed),
            "3ac6d44a2c6dab398f1fee9f8a3ca46cfe7e45bae220497c3d1488620010d013"
        );
        // The answer: the order with its new terms, as a snapshot that settles the amend.
        let edited = br#"{"success":true,"result":{"id":12345,"client_order_id":"mk0abc","product_symbol":"BTCUSD","size":3,"unfilled_size":3,"state":"open","side":"buy","limit_price":"59990.5"}}"#;
        let mut out = Vec::new();
        c.on_answer(
            h.id,
            Answer::Http {
                status: 200,
                headers: RateHeaders::default(),
                body: edited,
            },
            AT,
            &mut out,
        );
        assert_eq!(
            out,
            vec![SessionEvent::Order {
                cid: id,
                event: OrderEvent::Snapshot {
                    venue_order_id: VenueOrderId::from_u64(12345),
                    status: SnapshotStatus::Open,
                    cum_qty: Qty::ZERO,
                    cum_quote: Notional::default(),
                    terms: Some((Price::parse("59990.5").unwrap(), Qty::parse("3").unwrap())),
                    at: AT,
                },
            }]
        );
        // A refusal leaves the order as it was.
        let h = c.amend(&o, NOW_MS, &mut buf).unwrap();
        let mut out = Vec::new();
        let refused = br#"{"success":false,"error":{"code":"open_order_not_found","context":{}}}"#;
        c.on_answer(
            h.id,
            Answer::Http {
                status: 400,
                headers: RateHeaders::default(),
                body: refused,
            },
            AT,
            &mut out,
        );
        assert!(
            matches!(out.as_slice(), [SessionEvent::Order { cid: c, event: OrderEvent::AmendRejected { .. } }] if *c == id),
            "{out:?}"
        );
    }

    #[test]
    fn batches_are_one_product_of_limit_orders_signed_as_sent() {
        let c = codec();
        let (a, b) = (cid("mk0abc"), cid("mk0abd"));
        let orders = [
            order(&a, Side::Buy, OrderKind::LimitMaker, "3"),
            order(&b, Side::Sell, OrderKind::Limit, "2"),
        ];
        let mut buf = Vec::new();
        let r = c.batch_create(&orders, NOW_MS, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            r#"{"product_symbol":"BTCUSD","orders":[{"limit_price":"60000.5","size":3,"side":"buy","order_type":"limit_order","post_only":true,"client_order_id":"mk0abc"},{"limit_price":"60000.5","size":2,"side":"sell","order_type":"limit_order","client_order_id":"mk0abd"}]}"#
        );
        assert_eq!((r.method, r.path.as_str()), (Method::Post, BATCH));
        assert_eq!(
            sig(&r.signed),
            "83bcfd9d6381f17d8342763bc47bf12a417c183352b7d7b126c184e3c8b20ed8"
        );
        // One byte changed after signing: not the signature of what would be sent.
        let mut spoiled = buf.clone();
        spoiled[30] ^= 1;
        let again = c.own(Method::Post, BATCH.into(), &spoiled, NOW_MS);
        assert_ne!(sig(&again.signed), sig(&r.signed));

        let r = c.batch_cancel("BTCUSD", &[a, b], NOW_MS, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            r#"{"product_symbol":"BTCUSD","orders":[{"client_order_id":"mk0abc"},{"client_order_id":"mk0abd"}]}"#
        );
        assert_eq!((r.method, r.path.as_str()), (Method::DeleteJson, BATCH));
        assert_eq!(
            sig(&r.signed),
            "df08e4555eb939e6bf23f0dacbbdeffc582e71682bfc925e019bab5f0b4a673f"
        );

        // What a batch cannot hold.
        let market = [order(&a, Side::Buy, OrderKind::Market, "1")];
        assert_eq!(
            c.batch_create(&market, NOW_MS, &mut buf),
            Err(BatchError::NotLimit(a))
        );
        let mut ioc = order(&a, Side::Buy, OrderKind::Limit, "1");
        ioc.tif = TimeInForce::Ioc;
        assert_eq!(
            c.batch_create(&[ioc], NOW_MS, &mut buf),
            Err(BatchError::NotLimit(a))
        );
        let mut other = order(&b, Side::Buy, OrderKind::Limit, "1");
        other.symbol = "ETHUSD";
        let mixed = [order(&a, Side::Buy, OrderKind::Limit, "1"), other];
        assert_eq!(
            c.batch_create(&mixed, NOW_MS, &mut buf),
            Err(BatchError::MixedProducts)
        );
        assert_eq!(
            c.batch_create(&[], NOW_MS, &mut buf),
            Err(BatchError::Empty)
        );
        let many: Vec<PlaceOrder<'_>> = (0..51)
            .map(|_| order(&a, Side::Buy, OrderKind::Limit, "1"))
            .collect();
        assert_eq!(
            c.batch_create(&many, NOW_MS, &mut buf),
            Err(BatchError::TooMany(51))
        );
    }

    #[test]
    fn a_batch_answer_is_one_outcome_per_order() {
        let (a, b, d) = (cid("mk0abc"), cid("mk0abd"), cid("mk0abe"));
        let body = br#"{"success":true,"result":[
            {"id":7,"client_order_id":"mk0abc","product_symbol":"BTCUSD","size":3,"unfilled_size":3,"state":"open","side":"buy","limit_price":"60000.5"},
            {"client_order_id":"mk0abd","error":{"code":"insufficient_margin"}}]}"#;
        let out = DeltaRest::batch_create_outcomes(&[a, b, d], 200, body, AT);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(
            matches!(&out[0], SessionEvent::Order { cid, event: OrderEvent::Snapshot { venue_order_id, .. } } if *cid == a && *venue_order_id == VenueOrderId::from_u64(7))
        );
        assert!(
            matches!(&out[1], SessionEvent::PlaceRejected { cid, error } if *cid == b && error.msg == "insufficient_margin")
        );
        assert_eq!(out[2], SessionEvent::Uncertain { cid: d });
        // A refused batch refuses each order; a 5xx or a body that is not JSON leaves them unknown.
        let refused = br#"{"success":false,"error":{"code":"bad_schema","context":{}}}"#;
        let out = DeltaRest::batch_create_outcomes(&[a, b], 400, refused, AT);
        assert!(
            out.iter()
                .all(|e| matches!(e, SessionEvent::PlaceRejected { .. })),
            "{out:?}"
        );
        let out = DeltaRest::batch_create_outcomes(&[a], 503, b"", AT);
        assert_eq!(out, vec![SessionEvent::Uncertain { cid: a }]);
        let out = DeltaRest::batch_create_outcomes(&[a], 200, b"<html>", AT);
        assert!(
            matches!(
                out.as_slice(),
                [SessionEvent::Undecodable(_), SessionEvent::Uncertain { .. }]
            ),
            "{out:?}"
        );
    }

    fn http(status: u16, body: &[u8]) -> Answer<'_> {
        Answer::Http {
            status,
            headers: RateHeaders::default(),
            body,
        }
    }

    /// The gateway's batch hook: the same bytes and signatures as `batch_create` /
    /// `batch_cancel` (the Python-computed vectors above), each order settled by its item,
    /// the venue ids learned, a 5xx leaving every order unknown.
    #[test]
    fn the_batch_hook_signs_the_body_sent_and_settles_each_order() {
        let mut c = codec();
        assert_eq!(c.batch_limit(), 50);
        let (a, b, d) = (cid("mk0abc"), cid("mk0abd"), cid("mk0abe"));
        let mut ioc = order(&a, Side::Buy, OrderKind::Limit, "1");
        ioc.tif = TimeInForce::Ioc;
        let mut reducing = order(&a, Side::Buy, OrderKind::Limit, "1");
        reducing.reduce_only = true;
        assert!(!c.batchable(&ioc) && !c.batchable(&reducing));
        assert!(!c.batchable(&order(&a, Side::Buy, OrderKind::Market, "1")));
        assert!(c.batchable(&order(&a, Side::Buy, OrderKind::LimitMaker, "1")));
        let orders = [
            order(&a, Side::Buy, OrderKind::LimitMaker, "3"),
            order(&b, Side::Sell, OrderKind::Limit, "2"),
        ];
        let mut buf = Vec::new();
        let h = c.place_batch(&orders, NOW_MS, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            r#"{"product_symbol":"BTCUSD","orders":[{"limit_price":"60000.5","size":3,"side":"buy","order_type":"limit_order","post_only":true,"client_order_id":"mk0abc"},{"limit_price":"60000.5","size":2,"side":"sell","order_type":"limit_order","client_order_id":"mk0abd"}]}"#
        );
        assert_eq!(
            (h.method, h.path, h.class),
            (Method::Post, BATCH, Class::Order)
        );
        assert_eq!(
            sig(&h.signed),
            "83bcfd9d6381f17d8342763bc47bf12a417c183352b7d7b126c184e3c8b20ed8"
        );
        let body = br#"{"success":true,"result":[
            {"id":7,"client_order_id":"mk0abc","product_symbol":"BTCUSD","size":3,"unfilled_size":3,"state":"open","side":"buy","limit_price":"60000.5"},
            {"client_order_id":"mk0abd","error":{"code":"immediate_execution_post_only"}}]}"#;
        let mut out = Vec::new();
        c.on_answer(h.id, http(200, body), AT, &mut out);
        assert_eq!(
            out,
            vec![
                SessionEvent::Order {
                    cid: a,
                    event: OrderEvent::Snapshot {
                        venue_order_id: VenueOrderId::from_u64(7),
                        status: SnapshotStatus::Open,
                        cum_qty: Qty::ZERO,
                        cum_quote: Notional::default(),
                        terms: Some((Price::parse("60000.5").unwrap(), Qty::parse("3").unwrap())),
                        at: AT,
                    },
                },
                SessionEvent::PlaceRejected {
                    cid: b,
                    error: VenueError {
                        code: 400,
                        msg: "immediate_execution_post_only".into()
                    },
                },
            ]
        );
        // The venue id came with the batch answer: an edit names it.
        c.amend(
            &order(&a, Side::Buy, OrderKind::Limit, "4"),
            NOW_MS,
            &mut buf,
        )
        .unwrap();
        assert!(
            String::from_utf8(buf.clone())
                .unwrap()
                .starts_with(r#"{"id":7,"#)
        );
        // A 5xx after the batch: every order of it unknown.
        let three = [
            order(&a, Side::Buy, OrderKind::Limit, "1"),
            order(&b, Side::Buy, OrderKind::Limit, "1"),
            order(&d, Side::Buy, OrderKind::Limit, "1"),
        ];
        let h = c.place_batch(&three, NOW_MS, &mut buf).unwrap();
        out.clear();
        c.on_answer(h.id, http(500, br#"{"success":false}"#), AT, &mut out);
        assert_eq!(
            out,
            vec![
                SessionEvent::Uncertain { cid: a },
                SessionEvent::Uncertain { cid: b },
                SessionEvent::Uncertain { cid: d },
            ]
        );
        // Refused as a whole with a known refusal: each order refused.
        let h = c.place_batch(&three[..2], NOW_MS, &mut buf).unwrap();
        out.clear();
        let bad = br#"{"success":false,"error":{"code":"bad_schema","context":{}}}"#;
        c.on_answer(h.id, http(400, bad), AT, &mut out);
        assert!(
            matches!(out.as_slice(), [SessionEvent::PlaceRejected { cid: x, .. }, SessionEvent::PlaceRejected { cid: y, .. }] if *x == a && *y == b),
            "{out:?}"
        );
        // The cancel: the documented body, signed as sent; an item's error refuses that cancel.
        let h = c.cancel_batch("BTCUSD", &[a, b], NOW_MS, &mut buf).unwrap();
        assert_eq!((h.method, h.path), (Method::DeleteJson, BATCH));
        assert_eq!(
            sig(&h.signed),
            "df08e4555eb939e6bf23f0dacbbdeffc582e71682bfc925e019bab5f0b4a673f"
        );
        out.clear();
        let body = br#"{"success":true,"result":[{"id":7,"client_order_id":"mk0abc","product_symbol":"BTCUSD","size":3,"unfilled_size":0,"state":"cancelled","side":"buy","limit_price":"60000.5"},{"client_order_id":"mk0abd","error":{"code":"open_order_not_found"}}]}"#;
        c.on_answer(h.id, http(200, body), AT, &mut out);
        assert_eq!(
            out,
            vec![SessionEvent::CancelRejected {
                cid: b,
                error: VenueError {
                    code: 404,
                    msg: "open_order_not_found".into()
                },
            }]
        );
        // A batch the venue cannot take is not written.
        buf.clear();
        assert!(c.place_batch(&[ioc], NOW_MS, &mut buf).is_none());
        assert!(buf.is_empty());
    }
}
