//! BitMart REST codec tests: requests signed over the bytes sent (checked against an HMAC
//! computed here with the `hmac` crate, outside mako's signer), answers mapped from the
//! documentation's samples with literal values.

use super::*;
use crate::types::order::TimeInForce;

/// The documentation's example key (exchanges.md §5.3).
fn codec() -> BitmartRest {
    BitmartRest::new(
        &Secret::new("80618e45710812162b04892c7ee5ead4a3cc3e56"),
        &Secret::new("6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9"),
        &Secret::new("test001"),
        5000,
    )
}

fn hmac_hex(msg: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(
        b"6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9",
    )
    .unwrap();
    m.update(msg);
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/bitmart/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(p).unwrap()
}

fn http(status: u16, body: &[u8]) -> Answer<'_> {
    Answer::Http {
        status,
        headers: RateHeaders::default(),
        body,
    }
}

const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);
const TS: u64 = 1_589_793_796_145;

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::parse(s).unwrap()
}

fn order(
    kind: OrderKind,
    tif: TimeInForce,
    side: Side,
    price: &str,
    qty: &str,
) -> PlaceOrder<'static> {
    static CID: std::sync::OnceLock<ClientOrderId> = std::sync::OnceLock::new();
    PlaceOrder {
        reduce_only: false,
        symbol: "BTC_USDT",
        cid: CID.get_or_init(|| cid("mk0abc")),
        side,
        kind,
        tif,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse(qty).unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
    }
}

fn signed(h: &RestHead) -> Vec<(&'static str, String)> {
    h.signed.iter().map(|(k, v)| (k, v.to_owned())).collect()
}

#[test]
fn orders_are_signed_over_exactly_the_body_sent() {
    let mut c = codec();
    assert_eq!(
        c.plan().headers,
        vec![(
            "X-BM-KEY",
            "80618e45710812162b04892c7ee5ead4a3cc3e56".to_owned()
        )]
    );
    let mut buf = Vec::new();
    let cases: &[(PlaceOrder<'_>, &str)] = &[
        (
            order(OrderKind::Limit, TimeInForce::Gtc, Side::Buy, "7000", "10"),
            r#"{"symbol":"BTC_USDT","side":"buy","type":"limit","client_order_id":"mk0abc","size":"10.00000","price":"7000.00"}"#,
        ),
        (
            order(
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                Side::Sell,
                "23200.5",
                "0.59959",
            ),
            r#"{"symbol":"BTC_USDT","side":"sell","type":"limit_maker","client_order_id":"mk0abc","size":"0.59959","price":"23200.50"}"#,
        ),
        (
            order(OrderKind::Limit, TimeInForce::Ioc, Side::Buy, "1", "2"),
            r#"{"symbol":"BTC_USDT","side":"buy","type":"ioc","client_order_id":"mk0abc","size":"2.00000","price":"1.00"}"#,
        ),
        (
            order(OrderKind::Market, TimeInForce::Ioc, Side::Sell, "1", "0.5"),
            r#"{"symbol":"BTC_USDT","side":"sell","type":"market","client_order_id":"mk0abc","size":"0.50000"}"#,
        ),
        // A market buy spends a quote amount: 0.3 × 23105.99 = 6931.797, cut to 6931.79.
        (
            order(
                OrderKind::Market,
                TimeInForce::Ioc,
                Side::Buy,
                "23105.99",
                "0.3",
            ),
            r#"{"symbol":"BTC_USDT","side":"buy","type":"market","client_order_id":"mk0abc","notional":"6931.79"}"#,
        ),
    ];
    for (o, want) in cases {
        let h = c.place(o, TS, &mut buf);
        assert_eq!(std::str::from_utf8(&buf).unwrap(), *want);
        assert_eq!((h.method, h.path), (Method::Post, "/spot/v2/submit_order"));
        let msg = format!("{TS}#test001#{want}");
        assert_eq!(
            signed(&h),
            vec![
                ("X-BM-SIGN", hmac_hex(msg.as_bytes())),
                ("X-BM-TIMESTAMP", TS.to_string())
            ]
        );
    }
    // The reference's submit body has these keys (and stpMode, which mako leaves out).
    let doc: Value =
        serde_json::from_slice(&sample("bitmart_submit_order_request_body.json")).unwrap();
    let ours: Value = serde_json::from_str(cases[0].1).unwrap();
    for k in ["symbol", "side", "type", "size", "price"] {
        assert!(doc.get(k).is_some() && ours.get(k).is_some(), "{k}");
    }
}

#[test]
fn cancels_queries_and_sweeps_are_signed_or_keyed() {
    let mut c = codec();
    let mut buf = Vec::new();
    let id = cid("mk0abc");
    let h = c.cancel("BTC_USDT", &id, TS, &mut buf);
    let body = r#"{"symbol":"BTC_USDT","client_order_id":"mk0abc"}"#;
    assert_eq!(std::str::from_utf8(&buf).unwrap(), body);
    assert_eq!((h.method, h.path), (Method::Post, "/spot/v3/cancel_order"));
    assert_eq!(
        signed(&h)[0].1,
        hmac_hex(format!("{TS}#test001#{body}").as_bytes())
    );

    let h = c.status("BTC_USDT", &id, TS, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"clientOrderId":"mk0abc","recvWindow":5000}"#
    );
    assert_eq!(
        (h.path, h.class),
        ("/spot/v4/query/client-order", Class::Query)
    );

    let h = c.open_orders("BTC_USDT", TS, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"symbol":"BTC_USDT","orderMode":"spot","limit":200,"recvWindow":5000}"#
    );
    assert_eq!(
        (h.path, h.class),
        ("/spot/v4/query/open-orders", Class::Sweep)
    );

    // The wallet is KEYED: the key header only, nothing signed, nothing sent.
    let h = c.account(TS, &mut buf);
    assert_eq!((h.method, h.path), (Method::Get, "/spot/v1/wallet"));
    assert!(buf.is_empty() && signed(&h).is_empty());
}

#[test]
fn answers_from_the_documentation_samples() {
    let mut c = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let id = cid("mk0abc");
    let o = order(OrderKind::Limit, TimeInForce::Gtc, Side::Buy, "7000", "10");
    let h = c.place(&o, TS, &mut buf);
    c.on_answer(
        h.id,
        http(200, &sample("bitmart_submit_order_response.json")),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Accepted {
                venue_order_id: VenueOrderId::new(b"1223181").unwrap(),
                at: AT
            }
        }]
    );

    out.clear();
    let h = c.cancel("BTC_USDT", &id, TS, &mut buf);
    c.on_answer(
        h.id,
        http(200, &sample("bitmart_cancel_order_response.json")),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![],
        "an accepted cancel: the order's end comes later"
    );
    let h = c.cancel("BTC_USDT", &id, TS, &mut buf);
    c.on_answer(
        h.id,
        http(
            200,
            br#"{"code":1000,"message":"OK","data":{"result":false}}"#,
        ),
        AT,
        &mut out,
    );
    assert!(matches!(out[..], [SessionEvent::CancelRejected { cid, .. }] if cid == id));

    // The query sample: a filled order (its client id is BitMart's digits).
    out.clear();
    let theirs = cid("118100034543076010");
    let h = c.status("BTC_USDT", &theirs, TS, &mut buf);
    c.on_answer(
        h.id,
        http(200, &sample("bitmart_query_order_response.json")),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: theirs,
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::new(b"118100034543076010").unwrap(),
                status: SnapshotStatus::Filled,
                cum_qty: Qty::parse("0.1").unwrap(),
                cum_quote: Notional::from_price(Price::parse("3999.9").unwrap()),
                terms: Some((Price::parse("48800").unwrap(), Qty::parse("0.1").unwrap())),
                at: AT,
            }
        }]
    );

    out.clear();
    let h = c.open_orders("BTC_USDT", TS, &mut buf);
    c.on_answer(
        h.id,
        http(200, &sample("bitmart_open_orders_response.json")),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::OpenOrders {
            symbol: "BTC_USDT".into(),
            orders: vec![OrderSnapshot {
                cid: cid("125213058731346056"),
                symbol: "BTC_USDT".into(),
                venue_order_id: VenueOrderId::new(b"125213058731346056").unwrap(),
                status: SnapshotStatus::Open,
                cum_qty: Qty::ZERO,
                cum_quote: Notional::from_price(Price::ZERO),
                price: Price::parse("800").unwrap(),
                orig_qty: Qty::parse("0.1").unwrap(),
                side: Side::Buy,
            }]
        }]
    );

    // The wallet sample without the docs' `...` and trailing comma.
    out.clear();
    let h = c.account(TS, &mut buf);
    let wallet = br#"{"code":1000,"trace":"886fb6ae-456b-4654-b4e0-d681ac05cea1","message":"OK","data":{"wallet":[{"id":"BTC","available":"10.000000","name":"Bitcoin","frozen":"10.000000"}]}}"#;
    c.on_answer(h.id, http(200, wallet), AT, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Balances(vec![Balance {
            asset: AssetCode::new(b"BTC").unwrap(),
            free: Qty::parse("10").unwrap(),
            locked: Qty::parse("10").unwrap(),
        }])]
    );
}

#[test]
fn refusals_are_rejections_and_the_rest_is_unknown() {
    let mut c = codec();
    let mut buf = Vec::new();
    let id = cid("mk0abc");
    let o = order(OrderKind::Limit, TimeInForce::Gtc, Side::Buy, "7000", "10");
    let mut place = |c: &mut BitmartRest, answer: Answer<'_>| {
        let h = c.place(&o, TS, &mut buf);
        let mut out = Vec::new();
        c.on_answer(h.id, answer, AT, &mut out);
        out
    };
    let body = |code: i32, msg: &str| {
        format!(r#"{{"code":{code},"trace":"t","message":"{msg}","data":{{}}}}"#).into_bytes()
    };
    // Documented refusals: nothing was placed.
    for (code, msg) in [
        (50020, "Balance not enough"),
        (30005, "Header X-BM-SIGN is wrong"),
        (50006, "Minimum size"),
    ] {
        let b = body(code, msg);
        assert_eq!(
            place(&mut c, http(400, &b)),
            vec![SessionEvent::PlaceRejected {
                cid: id,
                error: VenueError {
                    code,
                    msg: msg.into()
                }
            }]
        );
    }
    // A duplicate client id, an undocumented code, 1000 without order_id, a 5xx, a timeout:
    // the order may exist, so it is queried.
    let uncertain = vec![SessionEvent::Uncertain { cid: id }];
    assert_eq!(
        place(&mut c, http(400, &body(50042, "clientOrderId duplicate"))),
        uncertain
    );
    assert_eq!(place(&mut c, http(400, &body(59999, "?"))), uncertain);
    assert_eq!(place(&mut c, http(200, &body(1000, "OK"))), uncertain);
    assert_eq!(place(&mut c, http(503, b"")), uncertain);
    assert_eq!(place(&mut c, Answer::Timeout), uncertain);
    assert_eq!(place(&mut c, http(200, b"<html>")).last(), uncertain.last());
    // 429 (30013): back off, and the order is queried.
    let out = place(&mut c, http(429, &body(30013, "Request too many requests")));
    assert!(
        matches!(out[0], SessionEvent::RateLimited { .. }),
        "{out:?}"
    );
    assert_eq!(out.last(), uncertain.last());
    assert!(c.policy().admit(Class::Order, AT).is_err());
    // 418 (30017): banned.
    let mut c = codec();
    let out = place(&mut c, http(418, &body(30017, "rejected")));
    assert_eq!(out[0], SessionEvent::Banned);
    assert!(c.policy().banned_until(AT).is_some());
    // A query for an order BitMart does not have.
    let mut c = codec();
    let h = c.status("BTC_USDT", &id, TS, &mut buf);
    let mut out = Vec::new();
    c.on_answer(
        h.id,
        http(400, &body(50005, "Order Id not found")),
        AT,
        &mut out,
    );
    assert_eq!(out, vec![SessionEvent::NotFound { cid: id }]);
    // A cancel that came too late.
    let h = c.cancel("BTC_USDT", &id, TS, &mut buf);
    out.clear();
    c.on_answer(
        h.id,
        http(400, &body(50031, "Order already completed")),
        AT,
        &mut out,
    );
    assert!(matches!(out[..], [SessionEvent::CancelRejected { .. }]));
    assert_eq!(classify(50031), ErrorClass::AlreadyFinal);
}

#[test]
fn an_order_trades_answer_gives_each_trade_its_fee() {
    let mut c = codec();
    let mut buf = Vec::new();
    let vid = VenueOrderId::new(b"118100034543076010").unwrap();
    let h = c.trades("BTC_USDT", &cid("mk0abc"), vid, TS, &mut buf);
    assert_eq!(h.path, "/spot/v4/query/order-trades");
    assert_eq!(
        buf,
        br#"{"orderId":"118100034543076010","recvWindow":5000}"#
    );
    let body = br#"{"code":1000,"message":"success","trace":"t","data":[
        {"tradeId":"7001","orderId":"118100034543076010","clientOrderId":"mk0abc",
         "symbol":"BTC_USDT","side":"buy","orderMode":"spot","type":"limit","price":"48800.00",
         "size":"0.05000","notional":"2440.00000","fee":"2.44000000","feeCoinName":"USDT",
         "tradeRole":"taker","createTime":1681701557927,"updateTime":1681701557927},
        {"tradeId":"7002","orderId":"118100034543076010","clientOrderId":"mk0abc",
         "symbol":"BTC_USDT","side":"buy","orderMode":"spot","type":"limit","price":"48800.00",
         "size":"0.05000","notional":"2440.00000","fee":"-0.24400000","feeCoinName":"USDT",
         "tradeRole":"maker","createTime":1681701557999,"updateTime":1681701557999}]}"#;
    let mut out = Vec::new();
    c.on_answer(h.id, http(200, body), AT, &mut out);
    let usdt = AssetCode::new(b"USDT").unwrap();
    assert_eq!(
        out,
        vec![SessionEvent::Trades {
            cid: cid("mk0abc"),
            trades: vec![
                (
                    TradeId::new(b"7001").unwrap(),
                    Qty::parse("2.44").unwrap(),
                    usdt
                ),
                (
                    TradeId::new(b"7002").unwrap(),
                    Qty::from_units(-Qty::parse("0.244").unwrap().units()),
                    usdt
                ),
            ],
        }]
    );
    // A trade without its fee is undecodable, and the fees stay wanted.
    let h = c.trades("BTC_USDT", &cid("mk0abc"), vid, TS, &mut buf);
    out.clear();
    c.on_answer(
        h.id,
        http(
            200,
            br#"{"code":1000,"data":[{"tradeId":"1","feeCoinName":"USDT"}]}"#,
        ),
        AT,
        &mut out,
    );
    assert!(matches!(
        out[..],
        [
            SessionEvent::Undecodable(_),
            SessionEvent::Failed {
                purpose: Purpose::Trades(_),
                ..
            }
        ]
    ));
}
