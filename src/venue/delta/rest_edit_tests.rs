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
