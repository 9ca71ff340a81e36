//! OKX REST codec tests: requests signed over the bytes sent (checked against a signature
//! computed outside mako), answers mapped from the documentation's samples.

use super::*;
use crate::types::order::{OrderEvent, SnapshotStatus, TimeInForce};
use crate::types::{Price, Qty, StrategyId};

fn codec() -> OkxRest {
    OkxRest::new(
        &Secret::new("key-1"),
        &Secret::new("22582BD0CFF14C41EDBF1AB98506286D"),
        &Secret::new("pass-1"),
        true,
    )
}

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/okx/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(p).unwrap();
    crate::venue::decode::strip_comments(&text).into_bytes()
}

fn http(body: &[u8]) -> Answer<'_> {
    Answer::Http {
        status: 200,
        headers: RateHeaders::default(),
        body,
    }
}

const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

#[test]
fn requests_are_signed_over_what_is_sent() {
    let mut c = codec();
    let plan = c.plan();
    assert!(
        plan.headers
            .contains(&("OK-ACCESS-KEY", "key-1".to_owned()))
    );
    assert!(
        plan.headers
            .contains(&("x-simulated-trading", "1".to_owned()))
    );
    let cid = ClientOrderId::parse("b15").unwrap();
    let mut buf = Vec::new();
    let h = c.place(
        &PlaceOrder {
            reduce_only: false,
            symbol: "BTC-USDT",
            cid: &cid,
            side: Side::Buy,
            kind: OrderKind::Limit,
            tif: TimeInForce::Gtc,
            price: Price::parse("2.15").unwrap(),
            qty: Qty::from_int(2),
            price_decimals: 2,
            qty_decimals: 0,
        },
        1_764_907_200_000,
        &mut buf,
    );
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy","ordType":"limit","sz":"2","px":"2.15"}"#
    );
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Post, "/api/v5/trade/order", Class::Order)
    );
    let signed: Vec<(&str, &str)> = h.signed.iter().collect();
    assert_eq!(
        signed[1],
        ("OK-ACCESS-TIMESTAMP", "2025-12-05T04:00:00.000Z")
    );
    // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
    //   b"22582BD0CFF14C41EDBF1AB98506286D", b"2025-12-05T04:00:00.000ZPOST/api/v5/trade/order"
    //   + b'<the body above>', hashlib.sha256).digest()).decode())'
    assert_eq!(signed[0], ("OK-ACCESS-SIGN", PY_SIG));
    // A GET signs its path with the query.
    let h = c.status("BTC-USDT", &cid, 1_764_907_200_000, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        "instId=BTC-USDT&clOrdId=b15"
    );
    assert_eq!(h.method, Method::Get);
    let mut pre = Vec::new();
    super::super::sign::prehash(
        &mut pre,
        b"2025-12-05T04:00:00.000Z",
        "GET",
        "/api/v5/trade/order?instId=BTC-USDT&clOrdId=b15",
        b"",
    );
    let want = crate::venue::sign::HmacSigner::from_bytes(b"22582BD0CFF14C41EDBF1AB98506286D")
        .sign_base64(&pre);
    assert_eq!(
        h.signed.iter().next().map(|x| x.1),
        std::str::from_utf8(&want).ok()
    );
}

const PY_SIG: &str = "aj3eIMVvIhWiLHzjSLQY13p4FhpsktxLDvDe8phSisI=";

#[test]
fn an_amend_is_signed_over_its_body_and_a_refusal_leaves_the_order() {
    let mut c = codec();
    assert!(c.amends_in_place());
    let cid = ClientOrderId::parse("b15").unwrap();
    let mut buf = Vec::new();
    let order = PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USDT",
        cid: &cid,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse("2.16").unwrap(),
        qty: Qty::from_int(3),
        price_decimals: 2,
        qty_decimals: 0,
    };
    let h = c
        .amend(&order, 1_764_907_200_000, &mut buf)
        .expect("OKX amends over REST");
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"instId":"BTC-USDT","clOrdId":"b15","newSz":"3","newPx":"2.16"}"#
    );
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Post, "/api/v5/trade/amend-order", Class::Order)
    );
    // python3: base64(hmac_sha256(secret, "2025-12-05T04:00:00.000ZPOST/api/v5/trade/
    //   amend-order" + the body above))
    assert_eq!(
        h.signed.iter().next(),
        Some((
            "OK-ACCESS-SIGN",
            "V+tH3a9Nhcmi2jB1hskF4dDcEOYFyuiQYcI3K5OTSgM="
        ))
    );
    // Taken: the orders channel will report the amended order; nothing to apply yet.
    let mut out = vec![];
    let ok = br#"{"code":"0","msg":"","data":[{"clOrdId":"b15","ordId":"2510789768709120","reqId":"","sCode":"0","sMsg":""}]}"#;
    c.on_answer(h.id, http(ok), AT, &mut out);
    assert_eq!(out, vec![]);
    // Refused (the order ended first): the order is as it was.
    let h = c.amend(&order, 1_764_907_200_000, &mut buf).unwrap();
    let no = br#"{"code":"1","msg":"","data":[{"clOrdId":"b15","ordId":"2510789768709120","reqId":"","sCode":"51503","sMsg":"Order modification failed as the order has been filled, canceled or does not exist."}]}"#;
    c.on_answer(h.id, http(no), AT, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected {
                code: 51503,
                at: AT
            }
        }]
    );
}

#[test]
fn answers_from_the_documentation() {
    let mut c = codec();
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let place = PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USDT",
        cid: &cid,
        side: Side::Sell,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::from_int(100),
        qty: Qty::from_int(1),
        price_decimals: 1,
        qty_decimals: 1,
    };
    let h = c.place(&place, 0, &mut buf);
    let body = sample("okx_place_order_response.json");
    c.on_answer(h.id, http(&body), AT, &mut out);
    assert!(
        matches!(&out[..], [SessionEvent::Order { event: OrderEvent::Accepted { venue_order_id, .. }, .. }]
        if venue_order_id.as_str() == "312269865356374016")
    );
    out.clear();
    let h = c.status("BTC-USDT", &cid, 0, &mut buf);
    let body = sample("okx_order_details_response.json");
    c.on_answer(h.id, http(&body), AT, &mut out);
    assert!(
        matches!(&out[..], [SessionEvent::Order { event: OrderEvent::Snapshot { status: SnapshotStatus::Filled, cum_qty, .. }, .. }]
        if *cum_qty == Qty::parse("0.00192834").unwrap())
    );
    out.clear();
    let h = c.account(0, &mut buf);
    let body = sample("okx_account_balance_response.json");
    c.on_answer(h.id, http(&body), AT, &mut out);
    assert!(matches!(&out[..], [SessionEvent::Balances(b)] if b[0].asset.as_str() == "USDT"));
    out.clear();
    let h = c.open_orders("BTC-USDT", 0, &mut buf);
    let body = sample("okx_orders_pending_response.json");
    c.on_answer(h.id, http(&body), AT, &mut out);
    // The sample's order has no clOrdId: not the engine's, so not listed.
    assert!(matches!(&out[..], [SessionEvent::OpenOrders { orders, .. }] if orders.is_empty()));
}

#[test]
fn errors_unknown_outcomes_and_rate_limits() {
    let mut c = codec();
    let cid = ClientOrderId::mint(1, StrategyId(0), 2).unwrap();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let h = c.cancel("BTC-USDT", &cid, 0, &mut buf);
    c.on_answer(h.id, http(br#"{"code":"1","msg":"","data":[{"clOrdId":"x","ordId":"1","sCode":"51400","sMsg":"Cancellation failed as the order has been filled, canceled or does not exist."}]}"#), AT, &mut out);
    assert!(
        matches!(&out[..], [SessionEvent::CancelRejected { error, .. }] if error.code == 51400)
    );
    out.clear();
    let h = c.status("BTC-USDT", &cid, 0, &mut buf);
    c.on_answer(
        h.id,
        http(br#"{"code":"51603","msg":"Order does not exist","data":[]}"#),
        AT,
        &mut out,
    );
    assert!(matches!(&out[..], [SessionEvent::NotFound { .. }]));
    out.clear();
    let h = c.status("BTC-USDT", &cid, 0, &mut buf);
    c.on_answer(
        h.id,
        Answer::Http {
            status: 503,
            headers: RateHeaders::default(),
            body: b"",
        },
        AT,
        &mut out,
    );
    assert!(matches!(&out[..], [SessionEvent::Uncertain { .. }]));
    out.clear();
    let h = c.status("BTC-USDT", &cid, 0, &mut buf);
    c.on_answer(
        h.id,
        Answer::Http {
            status: 429,
            headers: RateHeaders::default(),
            body: br#"{"code":"50011","msg":"Too Many Requests","data":[]}"#,
        },
        AT,
        &mut out,
    );
    assert!(
        matches!(
            &out[..],
            [
                SessionEvent::RateLimited { .. },
                SessionEvent::RateLimited { .. },
                SessionEvent::Uncertain { .. }
            ]
        ),
        "{out:?}"
    );
    assert!(c.policy().admit(Class::Query, AT).is_err());
    out.clear();
    let h = c.account(0, &mut buf);
    c.on_answer(h.id, Answer::Timeout, AT, &mut out);
    assert!(matches!(
        &out[..],
        [SessionEvent::Failed {
            purpose: Purpose::Account,
            ..
        }]
    ));
}
