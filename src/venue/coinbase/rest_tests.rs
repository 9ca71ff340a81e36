//! Coinbase REST codec tests: every request's JWT verified with the SDK's published test key
//! (its `uri` naming the request), bodies and queries as sent, and answers in the shapes of
//! exchanges.md §4.2 and the `user` sample mapped into session events.

use super::*;
use crate::types::order::{OrderEvent, SnapshotStatus};
use crate::types::{Price, Qty};
use crate::venue::coinbase::jwt;

const KEY_NAME: &str = "organizations/test-organization/apiKeys/test-api-key";
const EC_SECRET: &str = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\\n-----END EC PRIVATE KEY-----\\n";
const NOW_MS: u64 = 1_765_000_000_123;
const AT: UnixNanos = UnixNanos(1_765_000_000_000_000_000);

fn codec() -> CoinbaseRest {
    CoinbaseRest::with_signer(
        JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap(),
        "api.coinbase.com",
    )
}

/// Mints the token the REST worker would for `h` (the codec itself writes none), verifies it
/// for `uri`, and returns the request's query or body.
fn split<'b>(c: &CoinbaseRest, h: &RestHead, buf: &'b [u8], uri: &str) -> &'b str {
    assert!(h.bearer, "a Coinbase request carries a bearer token");
    let mut token = String::new();
    let mint = c.plan().bearer.expect("the plan mints the bearer token");
    assert!(mint.mint(h.method, h.path, NOW_MS / 1000, &mut token));
    let d = jwt::verify(
        &token,
        KEY_NAME,
        &c.public_key(),
        NOW_MS / 1000 + 1,
        Some(uri),
    )
    .unwrap();
    assert_eq!(d.claims["nbf"], NOW_MS / 1000);
    assert_eq!(d.claims["exp"], NOW_MS / 1000 + 120);
    std::str::from_utf8(buf).unwrap()
}

fn order(kind: OrderKind, tif: TimeInForce) -> PlaceOrder<'static> {
    static CID: std::sync::OnceLock<ClientOrderId> = std::sync::OnceLock::new();
    PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USD",
        cid: CID.get_or_init(|| ClientOrderId::parse("sb-42").unwrap()),
        side: Side::Buy,
        kind,
        tif,
        price: Price::parse("30000.5").unwrap(),
        qty: Qty::parse("0.015").unwrap(),
        price_decimals: 2,
        qty_decimals: 8,
    }
}

fn http(status: u16, body: &str) -> Answer<'_> {
    Answer::Http {
        status,
        headers: RateHeaders::default(),
        body: body.as_bytes(),
    }
}

fn cid() -> ClientOrderId {
    ClientOrderId::parse("sb-42").unwrap()
}

#[test]
fn each_configuration_is_a_signed_post_of_its_own() {
    let cases = [
        (
            OrderKind::LimitMaker,
            TimeInForce::Gtc,
            r#""limit_limit_gtc":{"base_size":"0.01500000","limit_price":"30000.50","post_only":true}"#,
        ),
        (
            OrderKind::Limit,
            TimeInForce::Gtc,
            r#""limit_limit_gtc":{"base_size":"0.01500000","limit_price":"30000.50","post_only":false}"#,
        ),
        (
            OrderKind::Limit,
            TimeInForce::Fok,
            r#""limit_limit_fok":{"base_size":"0.01500000","limit_price":"30000.50"}"#,
        ),
        (
            OrderKind::Limit,
            TimeInForce::Ioc,
            r#""sor_limit_ioc":{"base_size":"0.01500000","limit_price":"30000.50"}"#,
        ),
        (
            OrderKind::Market,
            TimeInForce::Ioc,
            r#""market_market_ioc":{"base_size":"0.01500000"}"#,
        ),
    ];
    for (kind, tif, conf) in cases {
        let mut c = codec();
        let mut buf = Vec::new();
        let h = c.place(&order(kind, tif), NOW_MS, &mut buf);
        assert_eq!(
            (h.method, h.path, h.class),
            (Method::Post, "/api/v3/brokerage/orders", Class::Order)
        );
        assert_eq!(h.signed.iter().count(), 0);
        let body = split(
            &c,
            &h,
            &buf,
            "POST api.coinbase.com/api/v3/brokerage/orders",
        );
        assert_eq!(
            body,
            format!(
                r#"{{"client_order_id":"sb-42","product_id":"BTC-USD","side":"BUY","order_configuration":{{{conf}}}}}"#
            )
        );
        let _: Value = serde_json::from_str(body).unwrap();
    }
}

#[test]
fn accepted_then_cancel_by_the_order_id_it_was_given() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.place(
        &order(OrderKind::LimitMaker, TimeInForce::Gtc),
        NOW_MS,
        &mut buf,
    );
    let mut out = Vec::new();
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"success":true,"success_response":{"order_id":"11111-00000-000000",
                "product_id":"BTC-USD","side":"BUY","client_order_id":"sb-42"},
                "order_configuration":{"limit_limit_gtc":{"base_size":"0.015","limit_price":"30000.5","post_only":true}}}"#,
        ),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: cid(),
            event: OrderEvent::Accepted {
                venue_order_id: VenueOrderId::new(b"11111-00000-000000").unwrap(),
                at: AT
            }
        }]
    );
    let h = c.cancel("BTC-USD", &cid(), NOW_MS, &mut buf);
    assert_eq!((h.method, h.path), (Method::Post, BATCH_CANCEL));
    let body = split(
        &c,
        &h,
        &buf,
        "POST api.coinbase.com/api/v3/brokerage/orders/batch_cancel",
    );
    assert_eq!(body, r#"{"order_ids":["11111-00000-000000"]}"#);
    out.clear();
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"results":[{"success":false,"failure_reason":"UNKNOWN_CANCEL_ORDER","order_id":"11111-00000-000000"}]}"#,
        ),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::CancelRejected {
            cid: cid(),
            error: VenueError {
                code: 0,
                msg: "UNKNOWN_CANCEL_ORDER".into()
            }
        }]
    );
    // The order's status is asked by its id.
    let h = c.status("BTC-USD", &cid(), NOW_MS, &mut buf);
    let q = split(
        &c,
        &h,
        &buf,
        "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch",
    );
    assert_eq!(q, "order_ids=11111-00000-000000");
}

#[test]
fn insufficient_fund_is_a_rejection_and_5xx_or_timeouts_are_unknown() {
    let mut c = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let h = c.place(&order(OrderKind::Limit, TimeInForce::Gtc), NOW_MS, &mut buf);
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"success":false,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"",
                "error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance in source account",
                "error_details":"","preview_failure_reason":"PREVIEW_INSUFFICIENT_FUND"}}"#,
        ),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::PlaceRejected {
            cid: cid(),
            error: VenueError {
                code: 0,
                msg: "INSUFFICIENT_FUND: Insufficient balance in source account".into()
            }
        }]
    );
    for answer in [
        http(503, "upstream"),
        http(500, r#"{"error":"INTERNAL"}"#),
        Answer::Timeout,
        Answer::Transport,
        http(
            200,
            r#"{"success":false,"error_response":{"error":"UNKNOWN_FAILURE_REASON"}}"#,
        ),
    ] {
        out.clear();
        let h = c.place(&order(OrderKind::Limit, TimeInForce::Gtc), NOW_MS, &mut buf);
        c.on_answer(h.id, answer, AT, &mut out);
        assert_eq!(
            out,
            vec![SessionEvent::Uncertain { cid: cid() }],
            "{answer:?}"
        );
    }
    // A refused token: nothing was placed.
    out.clear();
    let h = c.place(&order(OrderKind::Limit, TimeInForce::Gtc), NOW_MS, &mut buf);
    c.on_answer(
        h.id,
        http(
            401,
            r#"{"error":"UNAUTHENTICATED","message":"jwt expired"}"#,
        ),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::PlaceRejected {
            cid: cid(),
            error: VenueError {
                code: 401,
                msg: "HTTP 401 UNAUTHENTICATED: jwt expired".into()
            }
        }]
    );
    // A 429 waits and leaves the order unknown.
    out.clear();
    let h = c.place(&order(OrderKind::Limit, TimeInForce::Gtc), NOW_MS, &mut buf);
    c.on_answer(
        h.id,
        Answer::Http {
            status: 429,
            headers: RateHeaders {
                retry_after_s: Some(2),
                ..RateHeaders::default()
            },
            body: b"{}",
        },
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![
            SessionEvent::RateLimited {
                retry_after_ms: 2000
            },
            SessionEvent::Uncertain { cid: cid() }
        ]
    );
    assert_eq!(
        rate_headers(&[("Retry-After", b"7"), ("x-ratelimit-remaining", b"3")]).retry_after_s,
        Some(7)
    );
}

#[test]
fn an_order_whose_create_answer_was_lost_is_found_by_client_id() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.status("BTC-USD", &cid(), NOW_MS, &mut buf);
    let q = split(
        &c,
        &h,
        &buf,
        "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch",
    );
    assert_eq!(q, "product_ids=BTC-USD&limit=250");
    let answer = r#"{"orders":[
        {"order_id":"o-other","client_order_id":"someone-else","product_id":"BTC-USD","side":"BUY",
         "status":"OPEN","filled_size":"0","average_filled_price":"0",
         "order_configuration":{"limit_limit_gtc":{"base_size":"1","limit_price":"1","post_only":false}}},
        {"order_id":"o-42","client_order_id":"sb-42","product_id":"BTC-USD","side":"BUY",
         "status":"FILLED","filled_size":"0.015","average_filled_price":"30000",
         "order_configuration":{"limit_limit_gtc":{"base_size":"0.015","limit_price":"30000.5","post_only":true}}}
        ],"has_next":false,"cursor":""}"#;
    let mut out = Vec::new();
    c.on_answer(h.id, http(200, answer), AT, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: cid(),
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::new(b"o-42").unwrap(),
                status: SnapshotStatus::Filled,
                cum_qty: Qty::parse("0.015").unwrap(),
                cum_quote: crate::types::Notional::of(
                    Price::from_int(30000),
                    Qty::parse("0.015").unwrap()
                ),
                terms: Some((
                    Price::parse("30000.5").unwrap(),
                    Qty::parse("0.015").unwrap()
                )),
                at: AT,
            }
        }]
    );
    assert_eq!(c.order_id(&cid()), VenueOrderId::new(b"o-42"));
    // Not in the list: not found.
    let h = c.status(
        "ETH-USD",
        &ClientOrderId::parse("sb-9").unwrap(),
        NOW_MS,
        &mut buf,
    );
    out.clear();
    c.on_answer(
        h.id,
        http(200, r#"{"orders":[],"has_next":false}"#),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::NotFound {
            cid: ClientOrderId::parse("sb-9").unwrap()
        }]
    );
}

#[test]
fn a_cancel_before_the_order_id_is_known_looks_the_order_up() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.cancel("BTC-USD", &cid(), NOW_MS, &mut buf);
    assert_eq!((h.method, h.path), (Method::Get, LIST_ORDERS));
    let mut out = Vec::new();
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"orders":[{"order_id":"o-42","client_order_id":"sb-42","product_id":"BTC-USD",
            "side":"BUY","status":"OPEN","filled_size":"0","order_configuration":
            {"limit_limit_gtc":{"base_size":"0.015","limit_price":"30000.5","post_only":true}}}]}"#,
        ),
        AT,
        &mut out,
    );
    assert_eq!(out.len(), 2);
    assert!(matches!(
        out[0],
        SessionEvent::Order {
            event: OrderEvent::Snapshot {
                status: SnapshotStatus::Open,
                ..
            },
            ..
        }
    ));
    assert!(matches!(out[1], SessionEvent::CancelRejected { .. }));
    // Now the id is known: the next cancel goes.
    let h = c.cancel("BTC-USD", &cid(), NOW_MS, &mut buf);
    assert_eq!(h.path, BATCH_CANCEL);
}

#[test]
fn open_orders_fills_and_accounts() {
    let mut c = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let h = c.open_orders("BTC-USD", NOW_MS, &mut buf);
    assert_eq!(h.class, Class::Sweep);
    let q = split(
        &c,
        &h,
        &buf,
        "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch",
    );
    assert_eq!(q, "order_status=OPEN&product_ids=BTC-USD&limit=250");
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"orders":[{"order_id":"o-1","client_order_id":"sb-1","product_id":"BTC-USD",
            "side":"SELL","status":"OPEN","filled_size":"0.5","average_filled_price":"100",
            "order_configuration":{"limit_limit_gtc":{"base_size":"2","limit_price":"100","post_only":false}}},
            {"order_id":"o-2","client_order_id":"","product_id":"BTC-USD","side":"BUY",
            "status":"OPEN","filled_size":"0","order_configuration":{"limit_limit_gtc":
            {"base_size":"1","limit_price":"90","post_only":false}}}]}"#,
        ),
        AT,
        &mut out,
    );
    let SessionEvent::OpenOrders { symbol, orders } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(symbol, "BTC-USD");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].cid, ClientOrderId::parse("sb-1").unwrap());
    assert_eq!(orders[0].side, Side::Sell);
    assert_eq!(orders[0].cum_qty, Qty::parse("0.5").unwrap());
    assert_eq!(orders[0].orig_qty, Qty::from_int(2));
    assert_eq!(orders[0].price, Price::from_int(100));

    out.clear();
    let h = c.trades(
        "BTC-USD",
        &cid(),
        VenueOrderId::new(b"o-42").unwrap(),
        NOW_MS,
        &mut buf,
    );
    let q = split(
        &c,
        &h,
        &buf,
        "GET api.coinbase.com/api/v3/brokerage/orders/historical/fills",
    );
    assert_eq!(q, "order_ids=o-42&limit=100");
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"fills":[{"entry_id":"e-1","trade_id":"t-1","order_id":"o-42","trade_time":"2024-06-21T18:29:13.909347Z",
            "trade_type":"FILL","price":"30000","size":"0.015","commission":"2.7","product_id":"BTC-USD",
            "liquidity_indicator":"MAKER","side":"BUY"}],"cursor":""}"#,
        ),
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![SessionEvent::Trades {
            cid: cid(),
            trades: vec![(
                crate::types::TradeId::new(b"t-1").unwrap(),
                Qty::parse("2.7").unwrap(),
                crate::types::order::AssetCode::new(b"USD").unwrap()
            )]
        }]
    );

    out.clear();
    let h = c.account(NOW_MS, &mut buf);
    let q = split(
        &c,
        &h,
        &buf,
        "GET api.coinbase.com/api/v3/brokerage/accounts",
    );
    assert_eq!(q, "limit=250");
    c.on_answer(
        h.id,
        http(
            200,
            r#"{"accounts":[{"uuid":"a1","name":"USD Wallet","currency":"USD",
            "available_balance":{"value":"1000.25","currency":"USD"},"hold":{"value":"450","currency":"USD"}}],
            "has_next":false,"cursor":"","size":1}"#,
        ),
        AT,
        &mut out,
    );
    let SessionEvent::Balances(b) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(b[0].free, Qty::parse("1000.25").unwrap());
    assert_eq!(b[0].locked, Qty::from_int(450));
}

#[test]
fn bad_answers_are_counted_and_leave_the_order_unknown() {
    let mut c = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for body in [
        "not json",
        r#"{"success":true}"#,
        r#"{"orders":[{"order_id":""}]}"#,
    ] {
        out.clear();
        let h = c.place(&order(OrderKind::Limit, TimeInForce::Gtc), NOW_MS, &mut buf);
        c.on_answer(h.id, http(200, body), AT, &mut out);
        assert!(
            matches!(out[0], SessionEvent::Undecodable(_)),
            "{body}: {out:?}"
        );
        assert_eq!(out[1], SessionEvent::Uncertain { cid: cid() });
    }
    out.clear();
    c.on_answer(999_999, http(200, "{}"), AT, &mut out);
    assert!(matches!(out[0], SessionEvent::Undecodable(_)));
}

#[test]
fn ratelimit_headers_become_a_window_the_policy_holds_sweeps_by() {
    let now_ms = 1_700_000_000_250;
    let h = read_rate_headers(
        &[
            ("X-RateLimit-Limit", b"30"),
            ("x-ratelimit-remaining", b"5"),
            ("x-ratelimit-reset", b"1700000001"),
        ],
        now_ms,
    );
    assert_eq!(
        h.window,
        Some(RateWindow {
            limit: 30,
            remaining: 5,
            reset_in_ms: 750
        })
    );
    // Seconds from now, fractions allowed; no reset: a second; no limit: no window.
    let rel = read_rate_headers(
        &[
            ("x-ratelimit-limit", b"30"),
            ("x-ratelimit-remaining", b"29"),
            ("x-ratelimit-reset", b"0.5"),
        ],
        now_ms,
    );
    assert_eq!(rel.window.unwrap().reset_in_ms, 500);
    let none = read_rate_headers(
        &[
            ("x-ratelimit-limit", b"30"),
            ("x-ratelimit-remaining", b"29"),
        ],
        now_ms,
    );
    assert_eq!(none.window.unwrap().reset_in_ms, 1000);
    assert_eq!(
        read_rate_headers(&[("x-ratelimit-remaining", b"3")], now_ms).window,
        None
    );
    // 25 of 30 used: sweeps wait (80 %), queries still go; 28 used: queries wait too.
    let at = UnixNanos(now_ms * 1_000_000);
    let mut p = RatePolicy::new(u32::MAX);
    p.note(200, &h, at);
    assert_eq!(
        p.admit(Class::Sweep, at),
        Err(crate::venue::rest::Hold::Busy)
    );
    assert_eq!(p.admit(Class::Query, at), Ok(()));
    assert_eq!(p.admit(Class::Order, at), Ok(()));
    let h2 = read_rate_headers(
        &[
            ("x-ratelimit-limit", b"30"),
            ("x-ratelimit-remaining", b"2"),
        ],
        now_ms,
    );
    p.note(200, &h2, at);
    assert_eq!(
        p.admit(Class::Query, at),
        Err(crate::venue::rest::Hold::Busy)
    );
    // The window over, everything goes again.
    let later = at.plus_nanos(1_000_000_001);
    assert_eq!(p.admit(Class::Sweep, later), Ok(()));
}

#[test]
fn the_codec_counts_its_own_requests_per_second() {
    let mut c = codec();
    let now_ms = 1_700_000_000_000;
    let mut buf = Vec::new();
    // 23 requests in one second: below 80 % of 30, sweeps go; the 24th reaches it.
    for _ in 0..23 {
        c.account(now_ms, &mut buf);
    }
    let at = UnixNanos(now_ms * 1_000_000);
    assert_eq!(c.policy().admit(Class::Sweep, at), Ok(()));
    c.account(now_ms, &mut buf);
    assert_eq!(
        c.policy().admit(Class::Sweep, at),
        Err(crate::venue::rest::Hold::Busy)
    );
    // The next second starts afresh.
    c.account(now_ms + 1000, &mut buf);
    let next = UnixNanos((now_ms + 1000) * 1_000_000);
    assert_eq!(c.policy().admit(Class::Sweep, next), Ok(()));
}

/// An order of the product's list, as `GET /orders/historical/batch` gives it.
fn listed(order_id: &str, client_id: &str) -> String {
    format!(
        r#"{{"order_id":"{order_id}","client_order_id":"{client_id}","product_id":"BTC-USD",
        "side":"BUY","status":"OPEN","filled_size":"0","order_configuration":
        {{"limit_limit_gtc":{{"base_size":"0.015","limit_price":"30000.5","post_only":true}}}}}}"#
    )
}

fn page(orders: &[String], next: Option<&str>) -> String {
    format!(
        r#"{{"orders":[{}],"has_next":{},"cursor":"{}"}}"#,
        orders.join(","),
        next.is_some(),
        next.unwrap_or("")
    )
}

#[test]
fn a_lookup_by_client_id_follows_the_pages_until_it_finds_the_order() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.status("BTC-USD", &cid(), NOW_MS, &mut buf);
    let mut out = Vec::new();
    // The first page holds others only, and says there is more.
    let first = page(&[listed("o-1", "x-1"), listed("o-2", "x-2")], Some("c/2+"));
    c.on_answer(h.id, http(200, &first), AT, &mut out);
    assert!(out.is_empty(), "no answer before the last page: {out:?}");
    let h2 = c
        .next_page(NOW_MS, &mut buf)
        .expect("the next page is asked");
    assert_eq!(
        (h2.method, h2.path, h2.class),
        (Method::Get, LIST_ORDERS, Class::Query)
    );
    let q = split(
        &c,
        &h2,
        &buf,
        "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch",
    );
    assert_eq!(q, "product_ids=BTC-USD&limit=250&cursor=c%2F2%2B");
    assert!(c.next_page(NOW_MS, &mut buf).is_none());
    // The second page holds it (and says there is more: not followed, it is found).
    let second = page(&[listed("o-3", "x-3"), listed("o-42", "sb-42")], Some("c3"));
    c.on_answer(h2.id, http(200, &second), AT, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(matches!(
        out[0],
        SessionEvent::Order {
            event: OrderEvent::Snapshot {
                status: SnapshotStatus::Open,
                ..
            },
            ..
        }
    ));
    assert_eq!(c.order_id(&cid()), VenueOrderId::new(b"o-42"));
    assert!(c.next_page(NOW_MS, &mut buf).is_none());
    assert_eq!(c.paging(), (0, 1));
}

#[test]
fn a_lookup_says_not_found_only_after_the_last_page() {
    let mut c = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    // A cancel whose order id is not known looks the order up the same way.
    let mut h = c.cancel("BTC-USD", &cid(), NOW_MS, &mut buf);
    for k in 0..3 {
        let more = format!("c{k}");
        let p = page(&[listed(&format!("o-{k}"), &format!("x-{k}"))], Some(&more));
        c.on_answer(h.id, http(200, &p), AT, &mut out);
        assert!(out.is_empty(), "page {k}: {out:?}");
        h = c.next_page(NOW_MS, &mut buf).expect("a next page");
        assert!(std::str::from_utf8(&buf).unwrap().ends_with(&more));
    }
    c.on_answer(h.id, http(200, &page(&[], None)), AT, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::NotFound { cid: cid() },
            SessionEvent::CancelRejected {
                cid: cid(),
                error: VenueError {
                    code: 0,
                    msg: "order id not known yet: looked up, cancel not sent".into()
                }
            }
        ]
    );
    // A lookup by the order's id is one page: its answer is final.
    c.learn(cid(), VenueOrderId::new(b"o-42").unwrap());
    let h = c.status("BTC-USD", &cid(), NOW_MS, &mut buf);
    assert_eq!(std::str::from_utf8(&buf).unwrap(), "order_ids=o-42");
    out.clear();
    c.on_answer(h.id, http(200, &page(&[], Some("zz"))), AT, &mut out);
    assert_eq!(out, vec![SessionEvent::NotFound { cid: cid() }]);
    assert!(c.next_page(NOW_MS, &mut buf).is_none());
}

#[test]
fn a_lookup_whose_venue_repeats_a_cursor_fails_instead_of_looping() {
    let mut c = codec();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let h = c.status("BTC-USD", &cid(), NOW_MS, &mut buf);
    let same = page(&[listed("o-1", "x-1")], Some("again"));
    c.on_answer(h.id, http(200, &same), AT, &mut out);
    let h = c.next_page(NOW_MS, &mut buf).unwrap();
    c.on_answer(h.id, http(200, &same), AT, &mut out);
    assert!(
        matches!(&out[..], [SessionEvent::Failed { purpose: Purpose::Status(x), .. }] if *x == cid()),
        "{out:?}"
    );
    assert!(c.next_page(NOW_MS, &mut buf).is_none());
    assert_eq!(c.paging().0, 1);
}

#[test]
fn every_private_request_takes_a_slot_in_one_window_of_30_per_second() {
    let mut c = codec();
    let w = c.windows().expect("Coinbase keeps a request window");
    let t = NOW_MS;
    // Orders, cancels and queries share it.
    for k in 0..30u64 {
        let path = [ORDERS, BATCH_CANCEL, LIST_ORDERS][(k % 3) as usize];
        assert!(w.take(path, t + k), "request {k}");
    }
    assert!(
        !w.room_for_order(t + 999),
        "30 in the last second: no new order"
    );
    assert!(!w.take(BATCH_CANCEL, t + 999), "nor a cancel");
    assert!(!w.take(ACCOUNTS, t + 999), "nor a sweep");
    // Sliding: the first slot frees 1000 ms after it was taken, the next a ms later.
    assert!(w.room_for_order(t + 1000));
    assert!(w.take(ORDERS, t + 1000));
    assert!(!w.take(ORDERS, t + 1000));
    assert!(w.take(ORDERS, t + 1001));
    assert_eq!(w.refused, 3);
}
