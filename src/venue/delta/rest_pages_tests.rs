//! The open orders' pages (followed by `meta.after`, merged, capped) and the weight budget.
//! The follow-up's signature was computed with Python's `hmac`, independently of mako:
//! `hmac.new(secret, b"GET1700000000/v2/orders?states=open,pending&page_size=50&after=o%2B12",
//! hashlib.sha256).hexdigest()`.

use super::super::*;
use super::*;
use crate::venue::pages::MAX_PAGES;

const DOC_SECRET: &[u8] = b"7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f";
const NOW_MS: u64 = 1_700_000_000_400;
const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn codec() -> DeltaRest {
    DeltaRest::new(
        DeltaSigner::from_bytes("mako-test-key", DOC_SECRET),
        vec![("BTCUSD".into(), AssetCode::new(b"USD").unwrap())],
    )
}

/// A page of open orders named by client id (`other` on another product), and its cursor.
fn page_body(cids: &[&str], after: Option<&str>) -> String {
    let items: Vec<String> = cids
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let symbol = if c.starts_with("other") { "ETHUSD" } else { "BTCUSD" };
            format!(
                r#"{{"id":{},"product_id":27,"product_symbol":"{symbol}","size":2,"unfilled_size":2,"side":"buy","order_type":"limit_order","limit_price":"60000","state":"open","client_order_id":"{c}","average_fill_price":null,"paid_commission":"0"}}"#,
                100 + k
            )
        })
        .collect();
    let after = after.map_or("null".to_owned(), |a| format!("\"{a}\""));
    format!(
        r#"{{"success":true,"result":[{}],"meta":{{"after":{after},"before":null}}}}"#,
        items.join(",")
    )
}

fn answer(c: &mut DeltaRest, id: u64, body: &str) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    c.on_answer(
        id,
        Answer::Http {
            status: 200,
            headers: RateHeaders::default(),
            body: body.as_bytes(),
        },
        AT,
        &mut out,
    );
    out
}

fn listed(ev: &[SessionEvent]) -> Vec<String> {
    match ev {
        [SessionEvent::OpenOrders { symbol, orders }] => {
            assert_eq!(symbol, "BTCUSD");
            orders.iter().map(|o| o.cid.as_str().to_owned()).collect()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn open_orders_follow_meta_after_and_are_merged() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.open_orders("BTCUSD", NOW_MS, &mut buf);
    assert_eq!(buf, b"states=open,pending&page_size=50");
    assert!(c.next_page(NOW_MS, &mut buf).is_none());
    let ev = answer(&mut c, h.id, &page_body(&["mk1", "other1"], Some("o+12")));
    assert!(ev.is_empty(), "{ev:?}");
    let h = c.next_page(NOW_MS, &mut buf).expect("page 2");
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        "states=open,pending&page_size=50&after=o%2B12"
    );
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Get, "/v2/orders", Class::Sweep)
    );
    assert_eq!(
        h.signed.iter().find(|(k, _)| *k == "signature").unwrap().1,
        "245d94512cc88f64ca705ff5aa4dfc7e5a4fbdda36082ebb02080a100bbcedc4"
    );
    assert!(answer(&mut c, h.id, &page_body(&["mk2"], Some("o13"))).is_empty());
    let h = c.next_page(NOW_MS, &mut buf).expect("page 3");
    // `after: null` ends the list: every page's orders of the symbol, in order.
    assert_eq!(
        listed(&answer(&mut c, h.id, &page_body(&["mk3"], None))),
        ["mk1", "mk2", "mk3"]
    );
    assert!(c.next_page(NOW_MS, &mut buf).is_none());
    assert_eq!(c.page_counts(), (0, 2));
    // A one-page list, as before.
    let h = c.open_orders("BTCUSD", NOW_MS, &mut buf);
    assert_eq!(
        listed(&answer(&mut c, h.id, &page_body(&["mk9"], None))),
        ["mk9"]
    );
}

#[test]
fn a_repeated_cursor_or_endless_pages_fail_the_list() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.open_orders("BTCUSD", NOW_MS, &mut buf);
    assert!(answer(&mut c, h.id, &page_body(&["mk1"], Some("a"))).is_empty());
    let h = c.next_page(NOW_MS, &mut buf).unwrap();
    let ev = answer(&mut c, h.id, &page_body(&["mk2"], Some("a")));
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { purpose: Purpose::OpenOrders(_), error }] if error.msg.contains("repeated")),
        "{ev:?}"
    );
    let h = c.open_orders("BTCUSD", NOW_MS, &mut buf);
    let mut ev = answer(&mut c, h.id, &page_body(&["mk0"], Some("c0")));
    let mut pages = 1;
    while let Some(h) = c.next_page(NOW_MS, &mut buf) {
        ev = answer(
            &mut c,
            h.id,
            &page_body(&["mk0"], Some(&format!("c{pages}"))),
        );
        pages += 1;
    }
    assert_eq!(pages, MAX_PAGES);
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { error, .. }] if error.msg.contains("pages")),
        "{ev:?}"
    );
    assert_eq!(c.page_counts().0, 2);
}

#[test]
fn the_documented_weights_and_the_budget() {
    assert_eq!(weight(Method::Post, "/v2/orders"), 5);
    assert_eq!(weight(Method::Put, "/v2/orders"), 5);
    assert_eq!(weight(Method::DeleteJson, "/v2/orders"), 5);
    assert_eq!(weight(Method::Get, "/v2/orders"), 3);
    assert_eq!(weight(Method::GetPath, "/v2/orders/client_order_id/"), 1);
    assert_eq!(weight(Method::GetPath, "/v2/products/"), 3);
    assert_eq!(weight(Method::Get, "/v2/wallet/balances"), 3);
    assert_eq!(weight(Method::Get, "/v2/positions"), 3);
    assert_eq!(weight(Method::Get, "/v2/fills"), 10);
    assert_eq!(weight(Method::Post, "/v2/orders/batch"), 25);
    assert_eq!(weight(Method::Post, "/v2/products/27/orders/leverage"), 1);

    // 1,999 orders (5 each) take 9,995 of the 10,000: a 2,000th would fit, but after an
    // open-orders page (3) it has no room; status lookups (1) fill the rest. Five minutes
    // after the first order, its weight has left the window.
    let mut c = codec();
    let w = c.windows().expect("Delta counts its budget");
    for k in 0..1999 {
        assert!(w.take_request(Method::Post, "/v2/orders", 1_000 + k), "{k}");
    }
    assert!(w.room_for_order(3_000));
    assert!(w.take_request(Method::Get, "/v2/orders", 3_000));
    assert!(!w.room_for_order(3_000));
    assert!(!w.take_request(Method::Post, "/v2/orders", 3_000));
    assert!(w.take_request(Method::GetPath, "/v2/orders/client_order_id/", 3_000));
    assert!(w.take_request(Method::GetPath, "/v2/orders/client_order_id/", 3_000));
    assert!(!w.take_request(Method::GetPath, "/v2/orders/client_order_id/", 3_000));
    assert_eq!(w.refused, 2);
    assert!(!c.windows_ref().unwrap().room_for_order(300_999));
    assert!(c.windows_ref().unwrap().room_for_order(301_000));
    assert_eq!(c.weight_used(3_000), 10_000);
}
