use super::*;
use crate::config::Secret;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;

const SECRET: &str = "your_secret_key";
const NOW: u64 = 1_627_384_801_051;

/// The docs' two-step HMAC, computed here with hmac/sha2 directly (not `CoinstoreSigner`).
fn doc_sign(secret: &str, expires: u64, payload: &[u8]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    m.update((expires / 30_000).to_string().as_bytes());
    let key = hex(&m.finalize().into_bytes());
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    m.update(payload);
    hex(&m.finalize().into_bytes())
}

fn codec() -> (CoinstoreRest, Ids) {
    let ids: Ids = Arc::default();
    let signer = CoinstoreSigner::new(&Secret::new(SECRET));
    (
        CoinstoreRest::new(&Secret::new("key-1"), signer, ids.clone()),
        ids,
    )
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::parse(s).unwrap()
}

fn header<'h>(h: &'h RestHead, name: &str) -> &'h str {
    h.signed
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .unwrap()
}

fn place(
    c: &mut CoinstoreRest,
    id: &ClientOrderId,
    kind: OrderKind,
    buf: &mut Vec<u8>,
) -> RestHead {
    let o = PlaceOrder {
        symbol: "BTCUSDT",
        cid: id,
        side: Side::Buy,
        kind,
        tif: TimeInForce::Gtc,
        price: Price::parse("30000.5").unwrap(),
        qty: Qty::parse("0.0012").unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    };
    c.place(&o, NOW, buf)
}

fn http(status: u16, body: &str) -> Answer<'_> {
    Answer::Http {
        status,
        headers: RateHeaders::default(),
        body: body.as_bytes(),
    }
}

#[test]
fn a_place_is_signed_over_the_exact_body_and_a_changed_byte_fails() {
    let (mut c, _) = codec();
    let mut buf = Vec::new();
    let h = place(&mut c, &cid("mk1a"), OrderKind::Limit, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"symbol":"BTCUSDT","side":"BUY","ordType":"LIMIT","timeInForce":"GTC","ordPrice":"30000.50","ordQty":"0.00120","clOrdId":"mk1a","timestamp":1627384801051}"#
    );
    assert_eq!((h.method, h.path), (Method::Post, "/api/trade/order/place"));
    assert_eq!(header(&h, "X-CS-EXPIRES"), "1627384801051");
    assert_eq!(header(&h, "X-CS-SIGN"), doc_sign(SECRET, NOW, &buf));
    let mut tampered = buf.clone();
    let at = tampered.iter().position(|&b| b == b'5').unwrap();
    tampered[at] = b'6';
    assert_ne!(header(&h, "X-CS-SIGN"), doc_sign(SECRET, NOW, &tampered));
    assert_eq!(c.plan().headers, vec![("X-CS-APIKEY", "key-1".to_owned())]);
    assert_eq!(c.plan().content_type, "application/json");
    // Post-only and market orders.
    place(&mut c, &cid("mk1b"), OrderKind::LimitMaker, &mut buf);
    assert!(
        std::str::from_utf8(&buf)
            .unwrap()
            .contains(r#""ordType":"POST_ONLY""#)
    );
    place(&mut c, &cid("mk1c"), OrderKind::Market, &mut buf);
    let s = std::str::from_utf8(&buf).unwrap();
    assert!(
        s.contains(r#""ordType":"MARKET""#) && !s.contains("ordPrice"),
        "{s}"
    );
}

#[test]
fn gets_sign_their_query_and_the_bucket_decides_the_key() {
    let (mut c, ids) = codec();
    let mut buf = Vec::new();
    let id = cid("mk1a");
    let h = c.status("BTCUSDT", &id, NOW, &mut buf);
    assert_eq!(buf, b"clOrdId=mk1a");
    assert_eq!(
        (h.method, h.path),
        (Method::Get, "/api/v2/trade/order/orderInfo")
    );
    assert_eq!(header(&h, "X-CS-SIGN"), doc_sign(SECRET, NOW, &buf));
    // The last ms of the bucket signs alike; the next bucket does not.
    let inside = c.status("BTCUSDT", &id, 1_627_384_829_999, &mut buf);
    assert_eq!(header(&inside, "X-CS-SIGN"), header(&h, "X-CS-SIGN"));
    let next = c.status("BTCUSDT", &id, 1_627_384_830_000, &mut buf);
    assert_ne!(header(&next, "X-CS-SIGN"), header(&h, "X-CS-SIGN"));
    assert_eq!(
        header(&next, "X-CS-SIGN"),
        doc_sign(SECRET, 1_627_384_830_000, &buf)
    );
    let h = c.open_orders("BTCUSDT", NOW, &mut buf);
    assert_eq!(
        (buf.as_slice(), h.path),
        (&b"symbol=BTCUSDT"[..], "/api/v2/trade/order/active")
    );
    let h = c.account(NOW, &mut buf);
    assert_eq!(
        (buf.as_slice(), h.method, h.path),
        (&b"{}"[..], Method::Post, "/api/spot/accountList")
    );
    // A cancel names the venue id once known, else the client id.
    c.cancel("BTCUSDT", &id, NOW, &mut buf);
    assert_eq!(buf, br#"{"symbol":"BTCUSDT","clOrdId":"mk1a"}"#);
    let _ = ids.lock().learn(1722364585836586, id);
    let h = c.cancel("BTCUSDT", &id, NOW, &mut buf);
    assert_eq!(buf, br#"{"symbol":"BTCUSDT","ordId":1722364585836586}"#);
    assert_eq!(h.path, "/api/trade/order/cancel");
    let h = c.cancel_all("BTCUSDT", NOW, &mut buf);
    assert_eq!(
        (buf.as_slice(), h.path),
        (
            &br#"{"symbol":"BTCUSDT"}"#[..],
            "/api/trade/order/cancelAll"
        )
    );
    let mut out = Vec::new();
    c.on_answer(
        h.id,
        http(200, r#"{"code":0,"data":null}"#),
        UnixNanos(1),
        &mut out,
    );
    assert_eq!(out, vec![SessionEvent::Other("cancel all accepted".into())]);
}

#[test]
fn place_answers_accept_reject_or_stay_unknown() {
    let (mut c, ids) = codec();
    let mut buf = Vec::new();
    let id = cid("mk1a");
    let mut out = Vec::new();
    // The docs' sample: a string code and `order_id`.
    let h = place(&mut c, &id, OrderKind::Limit, &mut buf);
    let sample = include_str!(
        "../../../tests/fixtures/coinstore/samples/coinstore_order_place_response.json"
    );
    c.on_answer(h.id, http(200, sample), UnixNanos(5), &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Accepted {
                venue_order_id: VenueOrderId::from_u64(11594964764657880),
                at: UnixNanos(5)
            }
        }]
    );
    assert_eq!(ids.lock().ord_of(&id), Some(11594964764657880));
    let cases = [
        (
            200,
            r#"{"code":3113,"message":"account-insufficient"}"#,
            "rejected",
        ),
        (200, r#"{"code":"1401","msg":"unauthorized"}"#, "rejected"),
        (
            200,
            r#"{"code":3111,"message":"duplicate-order"}"#,
            "rejected",
        ),
        (200, r#"{"code":9999,"message":"?"}"#, "unknown"),
        (200, r#"{"data":{"ordId":1}}"#, "unknown"),
        (200, r#"{"code":0,"data":{}}"#, "unknown"),
        (200, "not json", "unknown"),
        (503, r#"{"code":500}"#, "unknown"),
        (429, "", "unknown"),
    ];
    for (status, body, want) in cases {
        out.clear();
        let h = place(&mut c, &id, OrderKind::Limit, &mut buf);
        c.on_answer(h.id, http(status, body), UnixNanos(5), &mut out);
        let got = match out.last() {
            Some(SessionEvent::PlaceRejected { .. }) => "rejected",
            Some(SessionEvent::Uncertain { .. }) => "unknown",
            _ => "other",
        };
        assert_eq!(got, want, "{status} {body}: {out:?}");
    }
    assert!(
        matches!(out[0], SessionEvent::RateLimited { .. }),
        "{out:?}"
    );
    for a in [Answer::Timeout, Answer::Transport] {
        out.clear();
        let h = place(&mut c, &id, OrderKind::Limit, &mut buf);
        c.on_answer(h.id, a, UnixNanos(5), &mut out);
        assert_eq!(out, vec![SessionEvent::Uncertain { cid: id }]);
    }
}

#[test]
fn order_info_open_orders_balances_and_matches_decode_from_the_samples() {
    let (mut c, ids) = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let id = cid("d0344830639d4f6d94be4110bf98c759");
    let h = c.status("LUFFYUSDT", &id, NOW, &mut buf);
    let info = include_str!(
        "../../../tests/fixtures/coinstore/samples/coinstore_order_info_response.json"
    );
    c.on_answer(h.id, http(200, info), UnixNanos(9), &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::from_u64(1722364585836586),
                status: SnapshotStatus::Cancelled,
                cum_qty: Qty::ZERO,
                cum_quote: Notional::from_price(Price::ZERO),
                terms: Some((Price::ZERO, Qty::parse("1").unwrap())),
                at: UnixNanos(9),
            }
        }]
    );
    assert_eq!(ids.lock().ord_of(&id), Some(1722364585836586));
    // 3103 and NOT_FOUND: no such order.
    for body in [
        r#"{"code":3103,"message":"order-not-found"}"#,
        r#"{"code":0,"data":{"ordState":"NOT_FOUND"}}"#,
    ] {
        out.clear();
        let h = c.status("BTCUSDT", &id, NOW, &mut buf);
        c.on_answer(h.id, http(200, body), UnixNanos(9), &mut out);
        assert_eq!(out, vec![SessionEvent::NotFound { cid: id }], "{body}");
    }
    out.clear();
    let h = c.open_orders("LUFFYUSDT", NOW, &mut buf);
    let active = include_str!(
        "../../../tests/fixtures/coinstore/samples/coinstore_order_active_response.json"
    );
    c.on_answer(h.id, http(200, active), UnixNanos(9), &mut out);
    let [SessionEvent::OpenOrders { symbol, orders }] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(symbol, "LUFFYUSDT");
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.cid.as_str(), "b1b2ea5e00a84b888d419cb73f8eb203");
    assert_eq!(o.venue_order_id.as_u64(), Some(1722183748419690));
    assert_eq!((o.status, o.side), (SnapshotStatus::Open, Side::Buy));
    // 9.1E-10 cut to 8 places.
    assert_eq!(
        (o.price, o.orig_qty),
        (Price::ZERO, Qty::parse("1").unwrap())
    );
    out.clear();
    let h = c.account(NOW, &mut buf);
    let accounts = include_str!(
        "../../../tests/fixtures/coinstore/samples/coinstore_account_list_response.json"
    );
    c.on_answer(h.id, http(200, accounts), UnixNanos(9), &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Balances(vec![Balance {
            asset: AssetCode::new(b"USDT").unwrap(),
            free: Qty::parse("13297.94999").unwrap(),
            locked: Qty::parse("0.05001").unwrap(),
        }])]
    );
    // The match list: this order's items only.
    out.clear();
    let h = c.trades(
        "LUFFYUSDT",
        &id,
        VenueOrderId::from_u64(1722364585836586),
        NOW,
        &mut buf,
    );
    assert_eq!(
        (buf.as_slice(), h.path),
        (
            &b"symbol=LUFFYUSDT&ordId=1722364585836586"[..],
            "/api/trade/match/accountMatches"
        )
    );
    let matches = r#"{"code":0,"data":[
        {"orderId":1722364585836586,"tradeId":51,"fee":"0.002","feeCurrency":"LUFFY"},
        {"orderId":5,"tradeId":52,"fee":"1","feeCurrency":"USDT"}]}"#;
    c.on_answer(h.id, http(200, matches), UnixNanos(9), &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Trades {
            cid: id,
            trades: vec![(
                TradeId::from_u64(51),
                Qty::parse("0.002").unwrap(),
                AssetCode::new(b"LUFFY").unwrap()
            )]
        }]
    );
    // A malformed answer is counted and leaves the query's outcome unknown.
    out.clear();
    let h = c.status("BTCUSDT", &id, NOW, &mut buf);
    c.on_answer(
        h.id,
        http(200, r#"{"code":0,"data":{"ordState":"WAT"}}"#),
        UnixNanos(9),
        &mut out,
    );
    assert!(
        matches!(
            out[..],
            [SessionEvent::Undecodable(_), SessionEvent::Uncertain { .. }]
        ),
        "{out:?}"
    );
}

#[test]
fn the_requests_signed_count_as_the_minutes_weight() {
    let (mut c, _) = codec();
    let mut buf = Vec::new();
    let now = UnixNanos(NOW * 1_000_000);
    assert_eq!(c.policy().admit(Class::Sweep, now), Ok(()));
    for _ in 0..(USER_REQUESTS_PER_3S * 20 * 8 / 10) {
        c.account(NOW, &mut buf);
    }
    assert_eq!(
        c.policy().admit(Class::Sweep, now),
        Err(crate::venue::rest::Hold::Busy)
    );
    assert_eq!(c.policy().admit(Class::Order, now), Ok(()));
    // A new minute starts from nothing.
    c.account(NOW + 60_000, &mut buf);
    assert_eq!(
        c.policy()
            .admit(Class::Sweep, UnixNanos((NOW + 60_000) * 1_000_000)),
        Ok(())
    );
}
