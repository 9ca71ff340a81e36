//! REST amends: the body and its signature (expected values computed independently of mako
//! with Python's `hmac`: `python3 -c 'import hmac,hashlib; print(hmac.new(b"mako-test-secret",
//! b"1700000000000mako-test-key5000" + BODY, hashlib.sha256).hexdigest())'`), and the answers
//! (written in the shape of Bybit's "Amend Order" page: the reference holds no sample).

use crate::types::order::{OrderEvent, OrderKind, TimeInForce};
use crate::types::{ClientOrderId, Price, Qty, Side, UnixNanos};
use crate::venue::bybit::Category;
use crate::venue::bybit::rest::BybitRest;
use crate::venue::bybit::sign::BybitSigner;
use crate::venue::order::{PlaceOrder, SessionEvent};
use crate::venue::rest::{Answer, Class, Method, RateHeaders, RestCodec};

const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);
const TS: u64 = 1_700_000_000_000;

fn codec(category: Category) -> BybitRest {
    BybitRest::new(
        category,
        BybitSigner::from_bytes("mako-test-key", b"mako-test-secret"),
        5000,
    )
}

fn cid() -> ClientOrderId {
    ClientOrderId::parse("mk0abc").unwrap()
}

fn amend_to<'a>(cid: &'a ClientOrderId, price: &str) -> PlaceOrder<'a> {
    PlaceOrder {
        symbol: "BTCUSDT",
        cid,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse("0.002").unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    }
}

fn http(body: &[u8]) -> Answer<'_> {
    Answer::Http {
        status: 200,
        headers: RateHeaders::default(),
        body,
    }
}

fn answer(c: &mut BybitRest, id: u64, a: Answer<'_>) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    c.on_answer(id, a, AT, &mut out);
    out
}

fn sign_of(c: &mut BybitRest, o: &PlaceOrder<'_>) -> (String, String, u64) {
    let mut buf = Vec::new();
    let h = c.amend(o, TS, &mut buf).expect("Bybit amends over REST");
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Post, "/v5/order/amend", Class::Order)
    );
    let sign = h
        .signed
        .iter()
        .find(|(k, _)| *k == "X-BAPI-SIGN")
        .map(|(_, v)| v.to_owned())
        .unwrap();
    (String::from_utf8(buf).unwrap(), sign, h.id)
}

#[test]
fn an_amend_is_its_new_terms_by_order_link_id_signed_over_the_body_sent() {
    let mut c = codec(Category::Spot);
    assert!(c.amends_in_place());
    let id = cid();
    let (body, sign, _) = sign_of(&mut c, &amend_to(&id, "30100"));
    assert_eq!(
        body,
        r#"{"category":"spot","symbol":"BTCUSDT","orderLinkId":"mk0abc","qty":"0.00200","price":"30100.00"}"#
    );
    assert_eq!(
        sign,
        "ad94254f3ff965636aa37fe49d197a096dbf2d659e8de85b876a66fca8c07813"
    );
    // One byte more in the price: another signature (also Python's).
    let (body, sign, _) = sign_of(&mut c, &amend_to(&id, "30100.01"));
    assert!(body.contains(r#""price":"30100.01""#), "{body}");
    assert_eq!(
        sign,
        "bfd5f84ec9a4f5240f5200d93dde052616fcee1efd60ad1a85bf414a2a1b3490"
    );
    // Linear: the category is the codec's.
    let (body, sign, _) = sign_of(&mut codec(Category::Linear), &amend_to(&id, "30100"));
    assert!(body.starts_with(r#"{"category":"linear","#), "{body}");
    assert_eq!(
        sign,
        "840a1f25cc81c015fe1745c757b6c71197b2b01bdcaafc3308ab998599a7635a"
    );
}

#[test]
fn zero_applies_the_terms_sent_and_refusals_leave_the_order() {
    let id = cid();
    let o = amend_to(&id, "30100");
    let mut c = codec(Category::Linear);
    // retCode 0: the terms this request sent hold (the answer carries only the ids).
    let (_, _, h) = sign_of(&mut c, &o);
    assert_eq!(
        answer(
            &mut c,
            h,
            http(br#"{"retCode":0,"retMsg":"OK","result":{"orderId":"c6f055d9-7f21-4079-913d-e6523a9cfffa","orderLinkId":"mk0abc"},"retExtInfo":{},"time":1672217093461}"#)
        ),
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Amended {
                price: Price::parse("30100").unwrap(),
                qty: Qty::parse("0.002").unwrap(),
                at: AT,
            }
        }]
    );
    // Documented refusals: the order does not exist (linear and spot), insufficient margin.
    for (body, code) in [
        (&br#"{"retCode":110001,"retMsg":"order not exists or too late to replace","result":{},"retExtInfo":{},"time":1}"#[..], 110001),
        (br#"{"retCode":170213,"retMsg":"Order does not exist.","result":{},"retExtInfo":{},"time":1}"#, 170213),
        (br#"{"retCode":110007,"retMsg":"ab not enough for new order","result":{},"retExtInfo":{},"time":1}"#, 110007),
    ] {
        let (_, _, h) = sign_of(&mut c, &o);
        assert_eq!(
            answer(&mut c, h, http(body)),
            vec![SessionEvent::Order {
                cid: id,
                event: OrderEvent::AmendRejected { code, at: AT }
            }]
        );
    }
    // Never sent (a rate-limit wait): the order is as it was.
    let (_, _, h) = sign_of(&mut c, &o);
    assert_eq!(
        answer(&mut c, h, Answer::NotSent),
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::AmendRejected {
                code: 10006,
                at: AT
            }
        }]
    );
}

#[test]
fn no_answer_or_an_unknown_code_queries_the_order() {
    let id = cid();
    let o = amend_to(&id, "30100");
    for a in [
        http(br#"{"retCode":10016,"retMsg":"Server error","result":{}}"#),
        http(br#"{"retCode":12345,"retMsg":"?","result":{}}"#),
        http(b"not json"),
        Answer::Http {
            status: 502,
            headers: RateHeaders::default(),
            body: b"bad gateway",
        },
        Answer::Timeout,
        Answer::Transport,
    ] {
        let mut c = codec(Category::Spot);
        let (_, _, h) = sign_of(&mut c, &o);
        let evs = answer(&mut c, h, a);
        assert_eq!(
            evs.last(),
            Some(&SessionEvent::Uncertain { cid: id }),
            "{a:?}: {evs:?}"
        );
    }
    // 10006: backs off; whether the amend took is read from the order.
    let mut c = codec(Category::Spot);
    let (_, _, h) = sign_of(&mut c, &o);
    assert_eq!(
        answer(
            &mut c,
            h,
            http(br#"{"retCode":10006,"retMsg":"Too many visits!","result":{}}"#)
        ),
        vec![
            SessionEvent::RateLimited {
                retry_after_ms: 1_000
            },
            SessionEvent::Uncertain { cid: id }
        ]
    );
}

#[test]
fn an_abandoned_amend_leaves_nothing_behind() {
    let id = cid();
    let mut c = codec(Category::Spot);
    let (_, _, first) = sign_of(&mut c, &amend_to(&id, "30100"));
    assert_eq!(
        c.abandon(first),
        Some(crate::venue::order::Purpose::Amend(id))
    );
    // Its answer, arriving late, is for an unknown request; the next amend's terms are its own.
    assert!(matches!(
        answer(
            &mut c,
            first,
            http(br#"{"retCode":0,"retMsg":"OK","result":{}}"#)
        )
        .as_slice(),
        [SessionEvent::Undecodable(_)]
    ));
    let (_, _, second) = sign_of(&mut c, &amend_to(&id, "30200"));
    assert!(matches!(
        answer(&mut c, second, http(br#"{"retCode":0,"retMsg":"OK","result":{}}"#)).as_slice(),
        [SessionEvent::Order { event: OrderEvent::Amended { price, .. }, .. }] if *price == Price::parse("30200").unwrap()
    ));
}
