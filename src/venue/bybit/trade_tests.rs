use super::*;
use crate::types::Side;
use crate::types::order::{OrderKind, TimeInForce};

fn codec() -> BybitTrade {
    let connector = Connector::with_public_roots(std::time::Duration::from_secs(1)).unwrap();
    BybitTrade::new(
        Category::Spot,
        BybitSigner::from_bytes("XXXXXXXXXX", b"XXXXXXXXXX"),
        5000,
        connector,
        "wss://stream.bybit.com/v5/trade",
    )
    .unwrap()
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::parse(s).unwrap()
}

fn order<'a>(c: &'a ClientOrderId, price: &str, qty: &str) -> PlaceOrder<'a> {
    PlaceOrder {
        symbol: "BTCUSDT",
        cid: c,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse(qty).unwrap(),
        price_decimals: 2,
        qty_decimals: 6,
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

/// The frames are the docs' envelope around the REST body, byte for byte.
#[test]
fn requests_are_the_documented_frames() {
    let mut c = codec();
    let id = cid("m1a2b3c4d5e6f7");
    let mut buf = Vec::new();
    let h = c.place(&order(&id, "95000.5", "0.001"), 1_711_001_595_207, &mut buf);
    assert_eq!(
        (h.method, h.class, h.path),
        (Method::WsText, Class::Order, "/v5/trade")
    );
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        format!(
            r#"{{"reqId":"{}","header":{{"X-BAPI-TIMESTAMP":"1711001595207","X-BAPI-RECV-WINDOW":"5000"}},"op":"order.create","args":[{{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001000","price":"95000.50","timeInForce":"GTC","orderLinkId":"m1a2b3c4d5e6f7"}}]}}"#,
            h.id
        )
    );
    assert_eq!(answer_id(std::str::from_utf8(&buf).unwrap()), Some(h.id));
    let h2 = c
        .amend(&order(&id, "95001", "0.002"), 1_711_001_595_300, &mut buf)
        .unwrap();
    assert!(h2.id > h.id);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        format!(
            r#"{{"reqId":"{}","header":{{"X-BAPI-TIMESTAMP":"1711001595300","X-BAPI-RECV-WINDOW":"5000"}},"op":"order.amend","args":[{{"category":"spot","symbol":"BTCUSDT","orderLinkId":"m1a2b3c4d5e6f7","qty":"0.002000","price":"95001.00"}}]}}"#,
            h2.id
        )
    );
    let h3 = c.cancel("BTCUSDT", &id, 1_711_001_595_400, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        format!(
            r#"{{"reqId":"{}","header":{{"X-BAPI-TIMESTAMP":"1711001595400","X-BAPI-RECV-WINDOW":"5000"}},"op":"order.cancel","args":[{{"category":"spot","symbol":"BTCUSDT","orderLinkId":"m1a2b3c4d5e6f7"}}]}}"#,
            h3.id
        )
    );
    // Queries stay on signed REST.
    let q = c.status("BTCUSDT", &id, 1_711_001_595_400, &mut buf);
    assert_eq!((q.method, q.path), (Method::Get, "/v5/order/realtime"));
    assert!(c.amends_in_place());
}

/// The login frame's signature is the reference's COMPUTED vector (secret `XXXXXXXXXX`,
/// `GET/realtime1662350400000`, computed with Python's hmac, not by mako).
#[test]
fn the_login_is_signed_as_documented() {
    let signer = BybitSigner::from_bytes("XXXXXXXXXX", b"XXXXXXXXXX");
    assert_eq!(
        login_frame(&signer, 1_662_350_400_000),
        r#"{"reqId":"auth","op":"auth","args":["XXXXXXXXXX",1662350400000,"3d6cbbfa4569aab894f661add824ff3f06090d0edba388f1e47dc15e6a7b5a8b"]}"#
    );
    let s = codec().trade_socket().unwrap();
    assert_eq!(
        s.login_answer(
            r#"{"retCode":0,"retMsg":"OK","op":"auth","connId":"cnt5leec0hvan15eukcg-2t"}"#
        ),
        Some(LoginAnswer::Accepted)
    );
    assert!(matches!(
        s.login_answer(r#"{"retCode":10004,"retMsg":"Invalid sign","op":"auth"}"#),
        Some(LoginAnswer::Refused(m)) if m.contains("10004")
    ));
    assert_eq!(s.login_answer(r#"{"retCode":0,"op":"pong"}"#), None);
    assert_eq!(
        s.answer_id(r#"{"retCode":0,"op":"pong","data":["1"]}"#),
        None
    );
}

/// Answers: accepted with the venue's id, an amend's new terms, the documented refusals,
/// 10006 and lost answers left unknown, the limit header noted.
#[test]
fn answers_map_to_the_order_state_machine() {
    let mut c = codec();
    let id = cid("m1a2b3c4d5e6f7");
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let h = c.place(&order(&id, "95000.5", "0.001"), 1, &mut buf);
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.create","data":{{"orderId":"1321003749386327552","orderLinkId":"m1a2b3c4d5e6f7"}},"header":{{"X-Bapi-Limit":"20","X-Bapi-Limit-Status":"3","X-Bapi-Limit-Reset-Timestamp":"{}"}},"retExtInfo":{{}}}}"#,
        h.id,
        wall_ms() + 800
    );
    let now = UnixNanos(wall_ms() * 1_000_000);
    c.on_answer(h.id, ok(&body), now, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Accepted {
                venue_order_id: VenueOrderId::new(b"1321003749386327552").unwrap(),
                at: now
            }
        }]
    );
    // 17 of 20 used: sweeps wait (from 80 %), orders still go.
    assert_eq!(c.policy().window(now), Some((20, 3)));
    assert!(c.policy().admit(Class::Sweep, now).is_err());
    assert!(c.policy().admit(Class::Order, now).is_ok());

    out.clear();
    let h = c.amend(&order(&id, "95001", "0.002"), 1, &mut buf).unwrap();
    let body = format!(
        r#"{{"reqId":"{}","retCode":0,"retMsg":"OK","op":"order.amend","data":{{}}}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::Amended {
                price: Price::parse("95001").unwrap(),
                qty: Qty::parse("0.002").unwrap(),
                at: T
            }
        }]
    );
    out.clear();
    let h = c.amend(&order(&id, "95001", "0.002"), 1, &mut buf).unwrap();
    let body = format!(
        r#"{{"reqId":"{}","retCode":170213,"retMsg":"Order does not exist.","op":"order.amend"}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: id,
            event: OrderEvent::AmendRejected {
                code: 170213,
                at: T
            }
        }]
    );

    out.clear();
    let h = c.place(&order(&id, "95000.5", "0.001"), 1, &mut buf);
    let body = format!(
        r#"{{"reqId":"{}","retCode":170131,"retMsg":"Insufficient balance.","op":"order.create"}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert!(
        matches!(&out[..], [SessionEvent::PlaceRejected { cid: c2, error }] if *c2 == id && error.code == 170131),
        "{out:?}"
    );

    out.clear();
    let h = c.place(&order(&id, "95000.5", "0.001"), 1, &mut buf);
    let body = format!(
        r#"{{"reqId":"{}","retCode":10006,"retMsg":"Too many visits!","op":"order.create"}}"#,
        h.id
    );
    c.on_answer(h.id, ok(&body), T, &mut out);
    assert_eq!(
        out,
        vec![
            SessionEvent::RateLimited {
                retry_after_ms: 1_000
            },
            SessionEvent::Uncertain { cid: id }
        ]
    );

    for lost in [Answer::Timeout, Answer::Transport] {
        out.clear();
        let h = c.amend(&order(&id, "95001", "0.002"), 1, &mut buf).unwrap();
        c.on_answer(h.id, lost, T, &mut out);
        assert_eq!(out, vec![SessionEvent::Uncertain { cid: id }]);
        out.clear();
        let h = c.cancel("BTCUSDT", &id, 1, &mut buf);
        c.on_answer(h.id, lost, T, &mut out);
        assert_eq!(out, vec![SessionEvent::Uncertain { cid: id }]);
    }
    // Garbage is counted, never a panic; the order is queried.
    out.clear();
    let h = c.place(&order(&id, "95000.5", "0.001"), 1, &mut buf);
    c.on_answer(h.id, ok("{not json"), T, &mut out);
    assert!(
        matches!(
            &out[..],
            [SessionEvent::Undecodable(_), SessionEvent::Uncertain { .. }]
        ),
        "{out:?}"
    );
    // An answer nobody asked for.
    out.clear();
    c.on_answer(WS_IDS + 999_999, ok("{}"), T, &mut out);
    assert!(matches!(&out[..], [SessionEvent::Undecodable(_)]));
}

/// `X-Bapi-Limit*` read from REST answers' headers too.
#[test]
fn rest_answers_limit_headers_are_read() {
    let now = wall_ms();
    let reset = (now + 500).to_string();
    let h = (c_plan().rate_headers)(&[
        ("X-Bapi-Limit", b"20"),
        ("X-Bapi-Limit-Status", b"19"),
        ("X-Bapi-Limit-Reset-Timestamp", reset.as_bytes()),
    ]);
    let w = h.window.expect("a window");
    assert_eq!((w.limit, w.remaining), (20, 19));
    assert!(w.reset_in_ms <= 500 && w.reset_in_ms > 0, "{w:?}");
    assert_eq!(limit_window(Some("x"), Some("1"), None, now), None);
    assert_eq!(
        limit_window(Some("10"), Some("0"), None, now),
        Some(RateWindow {
            limit: 10,
            remaining: 0,
            reset_in_ms: 1000
        })
    );
}

fn c_plan() -> RestPlan {
    codec().plan()
}
