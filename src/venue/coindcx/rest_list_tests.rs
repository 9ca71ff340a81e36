//! The edit as the gateway's amend and the order list's pages: bodies signed over the bytes
//! sent (expected signatures computed independently of mako with Python's `hmac`:
//! `hmac.new(b"mako-test-secret", BODY, hashlib.sha256).hexdigest()`), answers in the shape
//! of the reference's order items mapped to the gateway's events.

use crate::types::order::{OrderEvent, OrderKind, SnapshotStatus};
use crate::types::{
    ClientOrderId, Price, Qty, Side, StrategyId, TimeInForce, UnixNanos, VenueOrderId,
};
use crate::venue::coindcx::ids::SharedIds;
use crate::venue::coindcx::rest::{CoindcxRest, EDIT, LIST};
use crate::venue::coindcx::sign::CoindcxSigner;
use crate::venue::order::{PlaceOrder, Purpose, SessionEvent};
use crate::venue::pages::MAX_PAGES;
use crate::venue::rest::{Answer, Class, Method, RateHeaders, RestCodec, RestHead};

const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);
const TS: u64 = 1_700_000_000_000;

fn codec(margin: &str) -> (CoindcxRest, SharedIds) {
    let ids = SharedIds::default();
    let c = CoindcxRest::new(
        "mako-test-key",
        CoindcxSigner::from_bytes(b"mako-test-secret"),
        margin,
        ids.clone(),
    );
    (c, ids)
}

fn cid(n: u64) -> ClientOrderId {
    ClientOrderId::mint(TS, StrategyId(0), n).unwrap()
}

fn order<'a>(c: &'a ClientOrderId, price: &str, qty: &str) -> PlaceOrder<'a> {
    PlaceOrder {
        symbol: "B-BTC_USDT",
        cid: c,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse(qty).unwrap(),
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    }
}

fn http(status: u16, body: &[u8]) -> Answer<'_> {
    Answer::Http {
        status,
        headers: RateHeaders::default(),
        body,
    }
}

fn answer(c: &mut CoindcxRest, id: u64, a: Answer<'_>) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    c.on_answer(id, a, AT, &mut out);
    out
}

fn sig(h: &RestHead) -> String {
    let s: Vec<(&str, &str)> = h.signed.iter().collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, "X-AUTH-SIGNATURE");
    s[0].1.to_owned()
}

/// A venue order item in the create answer's shape.
fn item(id: &str, status: &str, price: &str, qty: &str) -> String {
    format!(
        r#"{{"id":"{id}","pair":"B-BTC_USDT","side":"buy","status":"{status}","order_type":"limit_order","leverage":10.0,"fee_amount":0.0,"price":{price},"avg_price":0.0,"total_quantity":{qty},"remaining_quantity":{qty},"cancelled_quantity":0.0,"margin_currency_short_name":"USDT","created_at":{},"updated_at":{}}}"#,
        TS + 40,
        TS + 90
    )
}

/// Places `n` and binds it to venue id `venue` (the create answer's work).
fn placed(c: &mut CoindcxRest, ids: &SharedIds, n: u64, venue: &str) -> ClientOrderId {
    let id = cid(n);
    let mut buf = Vec::new();
    c.place(&order(&id, "30000.5", "0.001"), TS, &mut buf);
    assert!(
        ids.lock()
            .bind(&id, VenueOrderId::new(venue.as_bytes()).unwrap())
    );
    id
}

#[test]
fn an_amend_is_one_signed_edit_by_the_venue_id() {
    let (mut c, ids) = codec("USDT");
    assert!(c.amends_in_place());
    let id = placed(&mut c, &ids, 1, "v-1");
    let mut buf = Vec::new();
    let h = c
        .amend(&order(&id, "30001", "0.002"), TS, &mut buf)
        .expect("an edit");
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"timestamp":1700000000000,"id":"v-1","price":"30001.00","total_quantity":0.00200}"#
    );
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Post, EDIT, Class::Order)
    );
    assert_eq!(
        sig(&h),
        "e30ffa46e31a69711186e06ac2df49d275925a507a48c9756d450b91f6bb6f3d"
    );
    // The signature is over these bytes: one byte different, another signature.
    let mut other = buf.clone();
    other[40] ^= 1;
    assert_ne!(
        CoindcxSigner::from_bytes(b"mako-test-secret").sign(&other),
        CoindcxSigner::from_bytes(b"mako-test-secret").sign(&buf)
    );

    // The answer lists the order with its new terms: a snapshot that settles the amend.
    let body = format!("[{}]", item("v-1", "open", "30001.0", "0.002"));
    let ev = answer(&mut c, h.id, http(200, body.as_bytes()));
    match &ev[..] {
        [
            SessionEvent::Order {
                cid: got,
                event:
                    OrderEvent::Snapshot {
                        venue_order_id,
                        status: SnapshotStatus::Open,
                        cum_qty,
                        terms: Some((price, qty)),
                        ..
                    },
            },
        ] => {
            assert_eq!(*got, id);
            assert_eq!(venue_order_id.as_str(), "v-1");
            assert!(cum_qty.is_zero());
            assert_eq!(
                (*price, *qty),
                (Price::parse("30001").unwrap(), Qty::parse("0.002").unwrap())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_edit_refused_or_lost_leaves_the_order_and_an_unknown_id_asks_first() {
    let (mut c, ids) = codec("USDT");
    let id = placed(&mut c, &ids, 1, "v-1");
    let mut buf = Vec::new();
    for (status, code) in [(400u16, 400), (422, 422), (404, 404), (401, 401)] {
        let h = c
            .amend(&order(&id, "30001", "0.002"), TS, &mut buf)
            .unwrap();
        let body = format!(r#"{{"code":{code},"message":"no","status":"error"}}"#);
        assert_eq!(
            answer(&mut c, h.id, http(status, body.as_bytes())),
            vec![SessionEvent::Order {
                cid: id,
                event: OrderEvent::AmendRejected { code, at: AT }
            }],
            "{status}"
        );
    }
    // Not sent (a rate limit waited out): refused, nothing changed.
    let h = c
        .amend(&order(&id, "30001", "0.002"), TS, &mut buf)
        .unwrap();
    assert!(matches!(
        &answer(&mut c, h.id, Answer::NotSent)[..],
        [SessionEvent::Order {
            event: OrderEvent::AmendRejected { code: 429, .. },
            ..
        }]
    ));
    // 5xx, 429, a timeout, or an answer not naming the order: unknown (the gateway queries).
    for a in [
        http(502, b"{}"),
        http(429, b"{}"),
        Answer::Timeout,
        http(200, b"[]"),
    ] {
        let h = c
            .amend(&order(&id, "30001", "0.002"), TS, &mut buf)
            .unwrap();
        let mut ev = answer(&mut c, h.id, a);
        // A 429 also tells the gateway to back off.
        ev.retain(|e| !matches!(e, SessionEvent::RateLimited { .. }));
        assert!(
            matches!(&ev[..], [SessionEvent::Failed { purpose: Purpose::Amend(got), .. }] if *got == id),
            "{ev:?}"
        );
    }
    // An order whose venue id is not known yet: asked for instead of edited.
    let fresh = cid(2);
    c.place(&order(&fresh, "30000.5", "0.001"), TS, &mut buf);
    let h = c
        .amend(&order(&fresh, "30001", "0.002"), TS, &mut buf)
        .unwrap();
    assert_eq!((h.path, h.class), (LIST, Class::Query));
    assert!(
        std::str::from_utf8(&buf)
            .unwrap()
            .contains(r#""status":"open,partially_filled,filled"#)
    );
}

#[test]
fn inr_margined_orders_are_not_edited_in_place() {
    let (mut c, ids) = codec("INR");
    assert!(
        !c.amends_in_place(),
        "the docs: edit is for USDT-margined futures"
    );
    let id = placed(&mut c, &ids, 1, "v-1");
    let mut buf = Vec::new();
    assert!(
        c.amend(&order(&id, "30001", "0.002"), TS, &mut buf)
            .is_none()
    );
}

/// Answers the page request `h` with `items` and returns the events.
fn page(c: &mut CoindcxRest, h: &RestHead, ids: &[&str]) -> Vec<SessionEvent> {
    let items: Vec<String> = ids
        .iter()
        .map(|v| item(v, "open", "100.0", "1.0"))
        .collect();
    let body = format!("[{}]", items.join(","));
    answer(c, h.id, http(200, body.as_bytes()))
}

fn listed(ev: &[SessionEvent]) -> Vec<String> {
    match ev {
        [SessionEvent::OpenOrders { symbol, orders }] => {
            assert_eq!(symbol, "B-BTC_USDT");
            orders
                .iter()
                .map(|o| o.venue_order_id.as_str().to_owned())
                .collect()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn open_orders_are_followed_page_by_page_until_a_short_page() {
    let (c, _) = codec("USDT");
    let mut c = c.with_page_size(2);
    let mut buf = Vec::new();
    let h = c.open_orders("B-BTC_USDT", TS, &mut buf);
    assert!(
        std::str::from_utf8(&buf)
            .unwrap()
            .contains(r#""page":"1","size":"2""#)
    );
    assert!(
        c.next_page(TS, &mut buf).is_none(),
        "nothing due before an answer"
    );
    assert!(
        page(&mut c, &h, &["a", "b"]).is_empty(),
        "a full page: more to come"
    );
    let h = c.next_page(TS, &mut buf).expect("page 2");
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"timestamp":1700000000000,"status":"open,partially_filled,untriggered","page":"2","size":"2","margin_currency_short_name":["USDT"]}"#
    );
    assert_eq!(
        sig(&h),
        "d752f14ea5ed693c0f034c391c6c46c348afd807b776a4540b990e330a143443"
    );
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Post, LIST, Class::Sweep)
    );
    assert!(page(&mut c, &h, &["c", "d"]).is_empty());
    let h = c.next_page(TS, &mut buf).expect("page 3");
    assert!(std::str::from_utf8(&buf).unwrap().contains(r#""page":"3""#));
    // A short page ends the list: every page's orders, once, in order (foreign orders go
    // by their own ids).
    assert_eq!(listed(&page(&mut c, &h, &["e"])), ["a", "b", "c", "d", "e"]);
    assert!(c.next_page(TS, &mut buf).is_none());
    assert_eq!(c.page_counts(), (0, 2));

    // A full page followed by an empty one: the list is the first page.
    let h = c.open_orders("B-BTC_USDT", TS, &mut buf);
    assert!(page(&mut c, &h, &["a", "b"]).is_empty());
    let h = c.next_page(TS, &mut buf).unwrap();
    assert_eq!(listed(&page(&mut c, &h, &[])), ["a", "b"]);
}

#[test]
fn a_repeated_page_or_too_many_pages_fail_the_list() {
    let (c, _) = codec("USDT");
    let mut c = c.with_page_size(2);
    let mut buf = Vec::new();
    // The venue sends page 1 again as page 2: failed, never a partial list.
    let h = c.open_orders("B-BTC_USDT", TS, &mut buf);
    assert!(page(&mut c, &h, &["a", "b"]).is_empty());
    let h = c.next_page(TS, &mut buf).unwrap();
    let ev = page(&mut c, &h, &["a", "b"]);
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { purpose: Purpose::OpenOrders(_), error }] if error.msg.contains("repeats")),
        "{ev:?}"
    );
    assert!(c.next_page(TS, &mut buf).is_none());
    // A list shifted by one new order: the order page 1 showed last comes again, once.
    let h = c.open_orders("B-BTC_USDT", TS, &mut buf);
    assert!(page(&mut c, &h, &["n", "a"]).is_empty());
    let h = c.next_page(TS, &mut buf).unwrap();
    assert!(page(&mut c, &h, &["a", "b"]).is_empty());
    let h = c.next_page(TS, &mut buf).unwrap();
    assert_eq!(listed(&page(&mut c, &h, &["c"])), ["n", "a", "b", "c"]);
    // Pages that never end: given up at the cap.
    let h = c.open_orders("B-BTC_USDT", TS, &mut buf);
    let mut ev = page(&mut c, &h, &["p0a", "p0b"]);
    let mut pages = 1;
    while let Some(h) = c.next_page(TS, &mut buf) {
        let a = format!("p{pages}a");
        let b = format!("p{pages}b");
        ev = page(&mut c, &h, &[&a, &b]);
        pages += 1;
    }
    assert_eq!(pages, MAX_PAGES);
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { error, .. }] if error.msg.contains("pages")),
        "{ev:?}"
    );
    assert_eq!(c.page_counts().0, 2, "two lists given up");
}

#[test]
fn a_status_query_follows_full_pages_until_the_order_or_a_short_page() {
    let (c, ids) = codec("USDT");
    let mut c = c.with_page_size(2);
    let id = placed(&mut c, &ids, 1, "v-1");
    let mut buf = Vec::new();
    let h = c.status("B-BTC_USDT", &id, TS, &mut buf);
    assert!(
        std::str::from_utf8(&buf)
            .unwrap()
            .contains(r#""side":"buy","page":"1""#)
    );
    assert!(
        page(&mut c, &h, &["x", "y"]).is_empty(),
        "not on a full page: ask on"
    );
    let h = c.next_page(TS, &mut buf).expect("page 2");
    assert_eq!((h.path, h.class), (LIST, Class::Query));
    assert!(
        std::str::from_utf8(&buf)
            .unwrap()
            .contains(r#""status":"open,partially_filled,filled"#)
    );
    assert!(
        std::str::from_utf8(&buf)
            .unwrap()
            .contains(r#""side":"buy","page":"2""#)
    );
    let ev = page(&mut c, &h, &["z", "v-1"]);
    assert!(
        matches!(&ev[..], [SessionEvent::Order { cid, event: OrderEvent::Snapshot { .. } }] if *cid == id),
        "{ev:?}"
    );
    assert!(c.next_page(TS, &mut buf).is_none());
    // Not on any page: a short page ends the search.
    let h = c.status("B-BTC_USDT", &id, TS, &mut buf);
    assert!(page(&mut c, &h, &["x", "y"]).is_empty());
    let h = c.next_page(TS, &mut buf).unwrap();
    assert_eq!(
        page(&mut c, &h, &["w"]),
        vec![SessionEvent::NotFound { cid: id }]
    );
    // Fees the same way.
    let h = c.trades(
        "B-BTC_USDT",
        &id,
        VenueOrderId::new(b"v-1").unwrap(),
        TS,
        &mut buf,
    );
    assert!(page(&mut c, &h, &["x", "y"]).is_empty());
    let h = c.next_page(TS, &mut buf).unwrap();
    let ev = page(&mut c, &h, &["v-1"]);
    assert!(
        matches!(&ev[..], [SessionEvent::Trades { cid, .. }] if *cid == id),
        "{ev:?}"
    );
}
