//! Delta's REST codec: the bytes of every request and their signatures (computed with
//! Python's `hmac`, independently of mako: `hmac.new(secret, prehash, hashlib.sha256)
//! .hexdigest()`, or taken from reference/delta.md §2.4's table), and every answer mapped to
//! the gateway's events.

use super::*;
use crate::types::order::SnapshotStatus;

/// The India docs' published example secret (reference §2.4): not a secret.
const DOC_SECRET: &[u8] = b"7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f";
const NOW_MS: u64 = 1_700_000_000_400;
const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn codec() -> DeltaRest {
    DeltaRest::new(
        DeltaSigner::from_bytes("mako-test-key", DOC_SECRET),
        vec![("BTCUSD".into(), AssetCode::new(b"USD").unwrap())],
    )
}

fn cid() -> ClientOrderId {
    ClientOrderId::parse("mk0abc").unwrap()
}

fn header(h: &RestHead, name: &str) -> String {
    h.signed
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

fn place(kind: OrderKind, tif: TimeInForce, qty: &str, reduce_only: bool) -> (RestHead, String) {
    let mut c = codec();
    let id = cid();
    let o = PlaceOrder {
        symbol: "BTCUSD",
        cid: &id,
        side: Side::Buy,
        kind,
        tif,
        price: Price::parse("60000.5").unwrap(),
        qty: Qty::parse(qty).unwrap(),
        price_decimals: 1,
        qty_decimals: 0,
        reduce_only,
    };
    let mut buf = Vec::new();
    let h = c.place(&o, NOW_MS, &mut buf);
    (h, String::from_utf8(buf).unwrap())
}

#[test]
fn a_post_only_order_is_signed_over_the_body_sent() {
    let (h, body) = place(OrderKind::LimitMaker, TimeInForce::Gtc, "3", false);
    assert_eq!(
        body,
        r#"{"product_symbol":"BTCUSD","size":3,"side":"buy","order_type":"limit_order","limit_price":"60000.5","time_in_force":"gtc","post_only":true,"client_order_id":"mk0abc"}"#
    );
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Post, "/v2/orders", Class::Order)
    );
    assert_eq!(header(&h, "timestamp"), "1700000000");
    assert_eq!(
        header(&h, "signature"),
        "81f81d933b7da597971f9494c2039e67460f5ef57d289df54ca5f767f70e96f5"
    );
}

#[test]
fn order_kinds_and_flags() {
    let (_, b) = place(OrderKind::Limit, TimeInForce::Ioc, "2", true);
    assert_eq!(
        b,
        r#"{"product_symbol":"BTCUSD","size":2,"side":"buy","order_type":"limit_order","limit_price":"60000.5","time_in_force":"ioc","reduce_only":true,"client_order_id":"mk0abc"}"#
    );
    let (_, b) = place(OrderKind::Market, TimeInForce::Ioc, "1", false);
    assert_eq!(
        b,
        r#"{"product_symbol":"BTCUSD","size":1,"side":"buy","order_type":"market_order","client_order_id":"mk0abc"}"#
    );
    // A fractional quantity is written as it is: the venue refuses it (integer contracts).
    let (_, b) = place(OrderKind::Limit, TimeInForce::Gtc, "1.5", false);
    assert!(b.contains(r#""size":1.5,"#), "{b}");
}

#[test]
fn cancel_status_and_queries_are_signed_as_sent() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.cancel("BTCUSD", &cid(), NOW_MS, &mut buf);
    assert_eq!((h.method, h.path), (Method::DeleteJson, "/v2/orders"));
    assert_eq!(
        buf,
        br#"{"client_order_id":"mk0abc","product_symbol":"BTCUSD"}"#
    );
    assert_eq!(
        header(&h, "signature"),
        "8c05471de34586ba20daba49495529e82988073ddb81327398a19fac9d435af6"
    );
    let h = c.status("BTCUSD", &cid(), NOW_MS, &mut buf);
    assert_eq!(
        (h.method, h.path, buf.as_slice()),
        (
            Method::GetPath,
            "/v2/orders/client_order_id/",
            &b"mk0abc"[..]
        )
    );
    assert_eq!(
        header(&h, "signature"),
        "ca66984977fdb8a5a541dc74cebb3184067f9712dcf7dbda4e061d62c731bfbe"
    );
    let h = c.open_orders("BTCUSD", NOW_MS, &mut buf);
    assert_eq!(
        (h.method, h.path, h.class),
        (Method::Get, "/v2/orders", Class::Sweep)
    );
    assert_eq!(buf, b"states=open,pending&page_size=50");
    assert_eq!(
        header(&h, "signature"),
        "095adb2e0e3e257c68325b09f72607f1ad585f5c44f124ee68e111df26cebea2"
    );
    // The reference's own vector (§2.4): GET /v2/wallet/balances at 1542110948.
    let h = c.account(1_542_110_948_000, &mut buf);
    assert!(buf.is_empty());
    assert_eq!(
        header(&h, "signature"),
        "43df1e451b33a8ccc5789a00d6543784430665533f6b1a837ef67035f14aed4c"
    );
    let r = c.leverage_by_id(27, Price::parse("10").unwrap(), NOW_MS, &mut buf);
    assert_eq!(r.path, "/v2/products/27/orders/leverage");
    assert_eq!(buf, br#"{"leverage":"10"}"#);
    assert_eq!(
        r.signed.iter().find(|(k, _)| *k == "signature").unwrap().1,
        "49ceeaaf34d34969ad905b842a7ba75cf4ae5b74157d164fe6e717484bd4c822"
    );
}

/// The reference's COMPUTED table (§2.4), through the segments the codec signs.
#[test]
fn the_references_vectors() {
    let s = DeltaSigner::from_bytes("k", DOC_SECRET);
    let hex = |m: &str, segs: &[&[u8]]| {
        String::from_utf8(s.sign_segments(m, 1_542_110_948, segs).to_vec()).unwrap()
    };
    assert_eq!(
        hex("GET", &[b"/v2/orders", b"?", b"product_id=1&state=open"]),
        "4e38dda3e6477092f360ba70399266d8145630b22bcc34c0ec7f804d5746877a"
    );
    assert_eq!(
        hex(
            "DELETE",
            &[b"/v2/orders", br#"{"id":13452112,"product_id":27}"#]
        ),
        "cfa1ca2b474e7c2d71ef63b974b070a2330aaa554d84e01b3fe3d387bae2b51d"
    );
    assert_eq!(
        hex("POST", &[b"/v2/orders", br#"{"order_type":"limit_order","size":3,"side":"buy","limit_price":"0.0005","product_id":16}"#]),
        "21227523c4a51990f857251a8397466b975c46d9afecc62db9abbe5a92f43964"
    );
    // One byte of the body changed: another signature.
    assert_ne!(
        hex("POST", &[b"/v2/orders", br#"{"order_type":"limit_order","size":4,"side":"buy","limit_price":"0.0005","product_id":16}"#]),
        "21227523c4a51990f857251a8397466b975c46d9afecc62db9abbe5a92f43964"
    );
}

fn answer(c: &mut DeltaRest, id: u64, status: u16, body: &str) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    c.on_answer(
        id,
        Answer::Http {
            status,
            headers: RateHeaders::default(),
            body: body.as_bytes(),
        },
        AT,
        &mut out,
    );
    out
}

fn placed(c: &mut DeltaRest) -> u64 {
    let id = cid();
    let o = PlaceOrder {
        symbol: "BTCUSD",
        cid: &id,
        side: Side::Sell,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse("60000").unwrap(),
        qty: Qty::from_int(2),
        price_decimals: 1,
        qty_decimals: 0,
        reduce_only: false,
    };
    c.place(&o, NOW_MS, &mut Vec::new()).id
}

const OPEN: &str = r#"{"success":true,"result":{"id":13452112,"product_id":27,"product_symbol":"BTCUSD","size":2,"unfilled_size":2,"side":"sell","order_type":"limit_order","limit_price":"60000","state":"open","client_order_id":"mk0abc","average_fill_price":null,"paid_commission":"0"}}"#;

#[test]
fn placement_answers() {
    let mut c = codec();
    let id = placed(&mut c);
    assert_eq!(
        answer(&mut c, id, 200, OPEN),
        vec![SessionEvent::Order {
            cid: cid(),
            event: OrderEvent::Accepted {
                venue_order_id: VenueOrderId::new(b"13452112").unwrap(),
                at: AT
            }
        }]
    );
    // An order already filled when answered: its figures at once.
    let id = placed(&mut c);
    let filled = OPEN
        .replace(r#""unfilled_size":2"#, r#""unfilled_size":0"#)
        .replace(r#""state":"open""#, r#""state":"closed""#)
        .replace(
            r#""average_fill_price":null"#,
            r#""average_fill_price":"60000.25""#,
        );
    assert_eq!(
        answer(&mut c, id, 200, &filled),
        vec![SessionEvent::Order {
            cid: cid(),
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::new(b"13452112").unwrap(),
                status: SnapshotStatus::Filled,
                cum_qty: Qty::from_int(2),
                cum_quote: Notional::from_price(Price::parse("120000.5").unwrap()),
                terms: Some((Price::parse("60000").unwrap(), Qty::from_int(2))),
                at: AT,
            }
        }]
    );
    // CCXT's live refusal sample (reference §6.1).
    let id = placed(&mut c);
    let refusal = r#"{"error":{"code":"insufficient_margin","context":{"available_balance":"0.000000000000000000","required_additional_balance":"1.618626000000000000000000000"}},"success":false}"#;
    match answer(&mut c, id, 400, refusal).as_slice() {
        [SessionEvent::PlaceRejected { error, .. }] => {
            assert_eq!(
                (error.code, error.msg.as_str()),
                (400, "insufficient_margin")
            )
        }
        other => panic!("{other:?}"),
    }
    // The flat auth shape and the third-party one both refuse.
    for body in [
        r#"{ "error": "SignatureExpired", "message": "your signature has expired" }"#,
        r#"{"error":{"code":"expired_signature","context":{"request_time":1,"server_time":9}},"success":false}"#,
    ] {
        let id = placed(&mut c);
        assert!(
            matches!(
                answer(&mut c, id, 401, body).as_slice(),
                [SessionEvent::PlaceRejected { .. }]
            ),
            "{body}"
        );
    }
    // The CDN's HTML 403: blocked, nothing done.
    let id = placed(&mut c);
    assert!(matches!(
        answer(&mut c, id, 403, "<html>blocked</html>").as_slice(),
        [SessionEvent::PlaceRejected { .. }]
    ));
    // `unavailable`, an unlisted code, a 5xx and a timeout: unknown, queried.
    for (status, body) in [
        (400, r#"{"success":false,"error":{"code":"unavailable"}}"#),
        (400, r#"{"success":false,"error":{"code":"something_new"}}"#),
        (503, "maintenance"),
    ] {
        let id = placed(&mut c);
        assert_eq!(
            answer(&mut c, id, status, body),
            vec![SessionEvent::Uncertain { cid: cid() }],
            "{body}"
        );
    }
    let id = placed(&mut c);
    let mut out = Vec::new();
    c.on_answer(id, Answer::Timeout, AT, &mut out);
    assert_eq!(out, vec![SessionEvent::Uncertain { cid: cid() }]);
}

#[test]
fn a_429_backs_off_for_the_reset_and_leaves_the_order_unknown() {
    let mut c = codec();
    let id = placed(&mut c);
    let headers = rate_headers(&[("X-RATE-LIMIT-RESET", b"2500")]);
    assert_eq!(headers.retry_after_s, Some(3));
    let mut out = Vec::new();
    c.on_answer(
        id,
        Answer::Http {
            status: 429,
            headers,
            body: b"{}",
        },
        AT,
        &mut out,
    );
    assert_eq!(
        out,
        vec![
            SessionEvent::RateLimited {
                retry_after_ms: 3000
            },
            SessionEvent::Uncertain { cid: cid() }
        ]
    );
}

#[test]
fn status_cancel_open_orders_fees_and_balances() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.status("BTCUSD", &cid(), NOW_MS, &mut buf);
    let partly = OPEN
        .replace(r#""unfilled_size":2"#, r#""unfilled_size":1"#)
        .replace(
            r#""average_fill_price":null"#,
            r#""average_fill_price":"60000""#,
        );
    match answer(&mut c, h.id, 200, &partly).as_slice() {
        [
            SessionEvent::Order {
                event:
                    OrderEvent::Snapshot {
                        status, cum_qty, ..
                    },
                ..
            },
        ] => assert_eq!(
            (*status, *cum_qty),
            (SnapshotStatus::Open, Qty::from_int(1))
        ),
        other => panic!("{other:?}"),
    }
    let h = c.status("BTCUSD", &cid(), NOW_MS, &mut buf);
    assert_eq!(
        answer(&mut c, h.id, 404, r#"{"success":false,"error":{}}"#),
        vec![SessionEvent::NotFound { cid: cid() }]
    );
    let h = c.cancel("BTCUSD", &cid(), NOW_MS, &mut buf);
    assert!(matches!(
        answer(
            &mut c,
            h.id,
            400,
            r#"{"success":false,"error":{"code":"open_order_not_found"}}"#
        )
        .as_slice(),
        [SessionEvent::CancelRejected { .. }]
    ));
    let h = c.cancel("BTCUSD", &cid(), NOW_MS, &mut buf);
    assert!(answer(&mut c, h.id, 200, OPEN).is_empty());
    // Open orders: ours on the symbol asked for; another symbol's and foreign ones left out.
    let h = c.open_orders("BTCUSD", NOW_MS, &mut buf);
    let other = r#"{"id":5,"product_symbol":"ETHUSD","size":1,"unfilled_size":1,"side":"buy","limit_price":"3000","state":"open","client_order_id":"mk0xyz"}"#;
    let foreign = r#"{"id":6,"product_symbol":"BTCUSD","size":1,"unfilled_size":1,"side":"buy","limit_price":"3000","state":"open","client_order_id":""}"#;
    let mine = r#"{"id":7,"product_symbol":"BTCUSD","size":4,"unfilled_size":4,"side":"buy","limit_price":"59000.5","state":"open","client_order_id":"mk0abc"}"#;
    let body = format!(r#"{{"success":true,"result":[{other},{foreign},{mine}]}}"#);
    match answer(&mut c, h.id, 200, &body).as_slice() {
        [SessionEvent::OpenOrders { symbol, orders }] => {
            assert_eq!(symbol, "BTCUSD");
            assert_eq!(orders.len(), 1);
            assert_eq!(orders[0].orig_qty, Qty::from_int(4));
            assert_eq!(orders[0].price, Price::parse("59000.5").unwrap());
        }
        other => panic!("{other:?}"),
    }
    // Fees: the order's paid_commission in the symbol's settling asset.
    let h = c.trades(
        "BTCUSD",
        &cid(),
        VenueOrderId::new(b"13452112").unwrap(),
        NOW_MS,
        &mut buf,
    );
    let paid = OPEN.replace(
        r#""paid_commission":"0""#,
        r#""paid_commission":"0.0360003""#,
    );
    assert_eq!(
        answer(&mut c, h.id, 200, &paid),
        vec![SessionEvent::Trades {
            cid: cid(),
            trades: vec![(
                TradeId::new(b"o13452112").unwrap(),
                Qty::parse("0.0360003").unwrap(),
                AssetCode::new(b"USD").unwrap()
            )]
        }]
    );
    // CCXT-FIX's real wallet figures (reference §4.8).
    let h = c.account(NOW_MS, &mut buf);
    let wallet = r#"{"success":true,"result":[{"asset_id":5,"asset_symbol":"USDT","balance":"19.29152659","available_balance":"16.27058905","blocked_margin":"3.01527414","position_margin":"3.01527414","order_margin":"0"}],"meta":{"net_equity":"19.29"}}"#;
    assert_eq!(
        answer(&mut c, h.id, 200, wallet),
        vec![SessionEvent::Balances(vec![Balance {
            asset: AssetCode::new(b"USDT").unwrap(),
            free: Qty::parse("16.27058905").unwrap(),
            // balance − available_balance (its blocked margin).
            locked: Qty::parse("3.02093754").unwrap(),
        }])]
    );
    // A malformed answer is counted and the request's outcome left unknown.
    let h = c.status("BTCUSD", &cid(), NOW_MS, &mut buf);
    let bad = OPEN.replace(r#""unfilled_size":2"#, r#""unfilled_size":9"#);
    let out = answer(&mut c, h.id, 200, &bad);
    assert!(
        matches!(
            out.as_slice(),
            [SessionEvent::Undecodable(_), SessionEvent::Uncertain { .. }]
        ),
        "{out:?}"
    );
}

#[test]
fn positions_fills_and_leverage_answers() {
    let p = decode_positions(br#"{"success":true,"result":[{"user_id":1,"size":-12,"entry_price":"60000.5","margin":"144.01","liquidation_price":"71400","bankruptcy_price":"72000","adl_level":1,"product_id":27,"product_symbol":"BTCUSD","commission":"0.36","realized_pnl":"0","realized_funding":"0"}]}"#).unwrap();
    assert_eq!(
        p,
        vec![VenuePosition {
            symbol: "BTCUSD".into(),
            size: -12,
            entry_price: Some(Price::parse("60000.5").unwrap()),
            margin: Qty::parse("144.01").unwrap(),
            liquidation_price: Some(Price::parse("71400").unwrap()),
        }]
    );
    let f = decode_fills(br#"{"success":true,"result":[{"id":77,"size":3,"fill_type":"normal","side":"sell","price":"60001.5","role":"maker","commission":"-0.0036","created_at":"1725865012000000","product_id":27,"product_symbol":"BTCUSD","order_id":13452112}]}"#).unwrap();
    assert_eq!(f[0].size, Qty::from_int(3));
    assert_eq!(f[0].commission, Qty::from_units(-360_000));
    assert!(f[0].maker);
    assert_eq!(
        decode_leverage(
            br#"{"success":true,"result":{"leverage":10,"order_margin":"563.2","product_id":27}}"#
        ),
        Ok(Price::parse("10").unwrap())
    );
    assert!(decode_leverage(br#"{"success":false,"error":{"code":"bad_schema"}}"#).is_err());
    assert!(decode_positions(b"not json").is_err());
}
