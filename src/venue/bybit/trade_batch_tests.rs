//! The batch frames byte for byte, and their answers (Bybit's documented shape: `data.list`
//! and `retExtInfo.list`, one item per order) mapped per order.

use super::super::BybitTrade;
use super::*;
use crate::net::ws::Connector;
use crate::types::order::{OrderKind, TimeInForce};
use crate::types::{Price, Qty, Side};
use crate::venue::rest::{Answer, Method, RateHeaders, RestCodec};

fn codec(category: Category) -> BybitTrade {
    let connector = Connector::with_public_roots(std::time::Duration::from_secs(1)).unwrap();
    BybitTrade::new(
        category,
        crate::venue::bybit::sign::BybitSigner::from_bytes("XXXXXXXXXX", b"XXXXXXXXXX"),
        5000,
        connector,
        "wss://stream.bybit.com/v5/trade",
    )
    .unwrap()
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::parse(s).unwrap()
}

fn order<'a>(c: &'a ClientOrderId, side: Side, kind: OrderKind, price: &str) -> PlaceOrder<'a> {
    PlaceOrder {
        symbol: "BTCUSDT",
        cid: c,
        side,
        kind,
        tif: TimeInForce::Gtc,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse("0.001").unwrap(),
        price_decimals: 2,
        qty_decimals: 3,
        reduce_only: false,
    }
}

fn ok(body: &str) -> Answer<'_> {
    Answer::Http {
        status: 200,
        headers: RateHeaders::default(),
        body: body.as_bytes(),
    }
}

const T: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

#[test]
fn batch_frames_are_the_documented_requests() {
    let mut c = codec(Category::Linear);
    assert_eq!(c.batch_limit(), 20);
    assert_eq!(codec(Category::Spot).batch_limit(), 10);
    let (a, b) = (cid("mk0a"), cid("mk0b"));
    let mut ro = order(&b, Side::Sell, OrderKind::LimitMaker, "95100");
    ro.reduce_only = true;
    let orders = [order(&a, Side::Buy, OrderKind::Limit, "95000.5"), ro];
    let mut buf = Vec::new();
    let h = c.place_batch(&orders, 1_711_001_595_207, &mut buf).unwrap();
    assert_eq!((h.method, h.path), (Method::WsText, "/v5/trade"));
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        format!(
            r#"{{"reqId":"{}","header":{{"X-BAPI-TIMESTAMP":"1711001595207","X-BAPI-RECV-WINDOW":"5000"}},"op":"order.create-batch","args":[{{"category":"linear","request":[{{"symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"95000.50","timeInForce":"GTC","orderLinkId":"mk0a"}},{{"symbol":"BTCUSDT","side":"Sell","orderType":"Limit","qty":"0.001","price":"95100.00","reduceOnly":true,"timeInForce":"PostOnly","orderLinkId":"mk0b"}}]}}]}}"#,
            h.id
        )
    );
    assert_eq!(
        crate::venue::bybit::trade::answer_id(std::str::from_utf8(&buf).unwrap()),
        Some(h.id)
    );
    let h = c
        .cancel_batch("BTCUSDT", &[a, b], 1_711_001_595_300, &mut buf)
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        format!(
            r#"{{"reqId":"{}","header":{{"X-BAPI-TIMESTAMP":"1711001595300","X-BAPI-RECV-WINDOW":"5000"}},"op":"order.cancel-batch","args":[{{"category":"linear","request":[{{"symbol":"BTCUSDT","orderLinkId":"mk0a"}},{{"symbol":"BTCUSDT","orderLinkId":"mk0b"}}]}}]}}"#,
            h.id
        )
    );
    // Over the cap, or two symbols: no request, nothing written.
    let mut spot = codec(Category::Spot);
    let ids: Vec<ClientOrderId> = (0..11).map(|k| cid(&format!("mk{k}"))).collect();
    let many: Vec<PlaceOrder<'_>> = ids
        .iter()
        .map(|c| order(c, Side::Buy, OrderKind::Limit, "1"))
        .collect();
    buf.clear();
    assert!(spot.place_batch(&many, 1, &mut buf).is_none());
    assert!(spot.place_batch(&many[..10], 1, &mut buf).is_some());
    let mut other = order(&b, Side::Buy, OrderKind::Limit, "1");
    other.symbol = "ETHUSDT";
    let mixed = [order(&a, Side::Buy, OrderKind::Limit, "1"), other];
    buf.clear();
    assert!(spot.place_batch(&mixed, 1, &mut buf).is_none());
    assert!(buf.is_empty());
    assert!(spot.cancel_batch("BTCUSDT", &ids, 1, &mut buf).is_none());
}

#[test]
fn batch_answers_settle_each_order_by_its_item() {
    let mut c = codec(Category::Linear);
    let (a, b, d) = (cid("mk0a"), cid("mk0b"), cid("mk0d"));
    let orders = [
        order(&a, Side::Buy, OrderKind::Limit, "95000"),
        order(&b, Side::Buy, OrderKind::Limit, "94000"),
        order(&d, Side::Buy, OrderKind::Limit, "93000"),
    ];
    let mut buf = Vec::new();
    let h = c.place_batch(&orders, 1, &mut buf).unwrap();
    // The first accepted, the second refused (110007: balance), the third's item missing.
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.create-batch","data":{{"list":[{{"category":"linear","symbol":"BTCUSDT","orderId":"1666800494330512128","orderLinkId":"mk0a","createAt":"1711001595207"}},{{"category":"linear","symbol":"BTCUSDT","orderId":"","orderLinkId":"mk0b","createAt":""}}]}},"retExtInfo":{{"list":[{{"code":0,"msg":"OK"}},{{"code":110007,"msg":"Insufficient available balance"}}]}},"header":{{}},"connId":"x"}}"#,
        h.id
    );
    let mut out = Vec::new();
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::Order {
                cid: a,
                event: OrderEvent::Accepted {
                    venue_order_id: VenueOrderId::new(b"1666800494330512128").unwrap(),
                    at: T
                }
            },
            SessionEvent::PlaceRejected {
                cid: b,
                error: VenueError {
                    code: 110007,
                    msg: "Insufficient available balance".into()
                }
            },
            SessionEvent::Uncertain { cid: d },
        ]
    );
    // No answer: every order of the batch unknown.
    let h = c.place_batch(&orders, 1, &mut buf).unwrap();
    out.clear();
    c.on_answer(h.id, Answer::Timeout, T, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::Uncertain { cid: a },
            SessionEvent::Uncertain { cid: b },
            SessionEvent::Uncertain { cid: d },
        ]
    );
    // Refused whole (10001: nothing placed, not a documented refusal): each unknown; 10004
    // (a documented refusal) refuses each.
    let h = c.place_batch(&orders[..2], 1, &mut buf).unwrap();
    out.clear();
    let body = format!(
        r#"{{"reqId":"{}","retCode":10004,"retMsg":"Invalid sign","op":"order.create-batch","data":{{}},"retExtInfo":{{}}}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert!(
        matches!(out.as_slice(), [SessionEvent::PlaceRejected { cid: x, error: e1 }, SessionEvent::PlaceRejected { cid: y, .. }] if *x == a && *y == b && e1.code == 10004),
        "{out:?}"
    );
    // An item naming another order: the lists are not in the order sent, that order unknown.
    let h = c.place_batch(&orders[..2], 1, &mut buf).unwrap();
    out.clear();
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.create-batch","data":{{"list":[{{"orderId":"1","orderLinkId":"mk0b"}},{{"orderId":"2","orderLinkId":"mk0b"}}]}},"retExtInfo":{{"list":[{{"code":0,"msg":"OK"}},{{"code":0,"msg":"OK"}}]}}}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(out[0], SessionEvent::Uncertain { cid: a });
    assert!(matches!(&out[1], SessionEvent::Order { cid, .. } if *cid == b));
    // Cancels: accepted items say nothing (the end comes on the stream), a refused one is
    // that order's `CancelRejected`.
    let h = c.cancel_batch("BTCUSDT", &[a, b], 1, &mut buf).unwrap();
    out.clear();
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.cancel-batch","data":{{"list":[{{"category":"linear","symbol":"BTCUSDT","orderId":"1","orderLinkId":"mk0a"}},{{"category":"linear","symbol":"BTCUSDT","orderId":"","orderLinkId":"mk0b"}}]}},"retExtInfo":{{"list":[{{"code":0,"msg":"OK"}},{{"code":110001,"msg":"Order does not exist."}}]}}}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::CancelRejected {
            cid: b,
            error: VenueError {
                code: 110001,
                msg: "Order does not exist.".into()
            }
        }]
    );
}

#[test]
fn amend_batches_are_the_documented_request_and_settle_each_order() {
    let mut c = codec(Category::Linear);
    assert!(c.amends_in_batch());
    let (a, b, d) = (cid("mk0a"), cid("mk0b"), cid("mk0d"));
    let mut two = order(&b, Side::Buy, OrderKind::Limit, "94000.25");
    two.qty = Qty::parse("0.002").unwrap();
    let orders = [
        order(&a, Side::Buy, OrderKind::Limit, "95000"),
        two,
        order(&d, Side::Buy, OrderKind::Limit, "93000"),
    ];
    let mut buf = Vec::new();
    let h = c.amend_batch(&orders, 1_711_001_595_400, &mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        format!(
            r#"{{"reqId":"{}","header":{{"X-BAPI-TIMESTAMP":"1711001595400","X-BAPI-RECV-WINDOW":"5000"}},"op":"order.amend-batch","args":[{{"category":"linear","request":[{{"symbol":"BTCUSDT","orderLinkId":"mk0a","qty":"0.001","price":"95000.00"}},{{"symbol":"BTCUSDT","orderLinkId":"mk0b","qty":"0.002","price":"94000.25"}},{{"symbol":"BTCUSDT","orderLinkId":"mk0d","qty":"0.001","price":"93000.00"}}]}}]}}"#,
            h.id
        )
    );
    // The first amended (its sent terms hold), the second refused as documented (110001:
    // gone), the third an unlisted code (left to a query).
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.amend-batch","data":{{"list":[{{"category":"linear","symbol":"BTCUSDT","orderId":"1","orderLinkId":"mk0a"}},{{"category":"linear","symbol":"BTCUSDT","orderId":"","orderLinkId":"mk0b"}},{{"category":"linear","symbol":"BTCUSDT","orderId":"","orderLinkId":"mk0d"}}]}},"retExtInfo":{{"list":[{{"code":0,"msg":"OK"}},{{"code":110001,"msg":"Order does not exist."}},{{"code":10016,"msg":"Server error"}}]}}}}"#,
        h.id
    );
    let mut out = Vec::new();
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::Order {
                cid: a,
                event: OrderEvent::Amended {
                    price: Price::parse("95000").unwrap(),
                    qty: Qty::parse("0.001").unwrap(),
                    at: T
                }
            },
            SessionEvent::Order {
                cid: b,
                event: OrderEvent::AmendRejected {
                    code: 110001,
                    at: T
                }
            },
            SessionEvent::Uncertain { cid: d },
        ]
    );
    // No answer: every amend unknown (queried; the order's terms settle it).
    let h = c.amend_batch(&orders[..2], 1, &mut buf).unwrap();
    out.clear();
    c.on_answer(h.id, Answer::Timeout, T, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::Uncertain { cid: a },
            SessionEvent::Uncertain { cid: b },
        ]
    );
    // Refused whole with a documented code: each amend refused, each order as it was.
    let h = c.amend_batch(&orders[..2], 1, &mut buf).unwrap();
    out.clear();
    let body = format!(
        r#"{{"reqId":"{}","retCode":10004,"retMsg":"Invalid sign","op":"order.amend-batch","data":{{}},"retExtInfo":{{}}}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert!(
        matches!(out.as_slice(), [SessionEvent::Order { cid: x, event: OrderEvent::AmendRejected { code: 10004, .. } }, SessionEvent::Order { cid: y, event: OrderEvent::AmendRejected { code: 10004, .. } }] if *x == a && *y == b),
        "{out:?}"
    );
    // An item naming another order: that amend unknown.
    let h = c.amend_batch(&orders[..2], 1, &mut buf).unwrap();
    out.clear();
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.amend-batch","data":{{"list":[{{"orderId":"1","orderLinkId":"mk0b"}},{{"orderId":"2","orderLinkId":"mk0b"}}]}},"retExtInfo":{{"list":[{{"code":0,"msg":"OK"}},{{"code":0,"msg":"OK"}}]}}}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(out[0], SessionEvent::Uncertain { cid: a });
    assert!(
        matches!(&out[1], SessionEvent::Order { cid, event: OrderEvent::Amended { .. } } if *cid == b)
    );
    // Over the cap or two symbols: nothing written.
    let mut spot = codec(Category::Spot);
    let ids: Vec<ClientOrderId> = (0..11).map(|k| cid(&format!("mk{k}"))).collect();
    let many: Vec<PlaceOrder<'_>> = ids
        .iter()
        .map(|c| order(c, Side::Buy, OrderKind::Limit, "1"))
        .collect();
    buf.clear();
    assert!(spot.amend_batch(&many, 1, &mut buf).is_none());
    assert!(buf.is_empty());
}
