//! OKX session tests: the frames it writes, and the events it makes of OKX's answers and
//! pushes (shapes from exchanges.md §2.6 and its samples).

use super::*;
use crate::types::order::AssetCode;
use crate::types::{Price, StrategyId, TradeId};

fn session() -> OkxSession {
    OkxSession::new(
        &Secret::new("key-1"),
        &Secret::new("22582BD0CFF14C41EDBF1AB98506286D"),
        &Secret::new("pass-1"),
    )
}

fn cid(n: u64) -> ClientOrderId {
    ClientOrderId::mint(1_700_000_000_000, StrategyId(0), n).unwrap()
}

fn text(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap()
}

fn events(s: &mut OkxSession, frame: &str) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    s.on_frame(frame.as_bytes(), UnixNanos::from_millis(5), &mut out);
    out
}

fn push(cid: &ClientOrderId, state: &str, acc: &str, fill: Option<(&str, &str, &str)>) -> String {
    let (trade, px, sz) = fill.unwrap_or(("", "", "0"));
    format!(
        r#"{{"arg":{{"channel":"orders","instType":"SPOT"}},"data":[{{"instId":"BTC-USDT","ordId":"900","clOrdId":"{}","side":"buy","ordType":"limit","px":"100","sz":"2","state":"{state}","accFillSz":"{acc}","avgPx":"","tradeId":"{trade}","fillPx":"{px}","fillSz":"{sz}","fillFee":"-0.001","fillFeeCcy":"BTC","fillTime":"7","execType":"T","uTime":"8","cTime":"1"}}]}}"#,
        cid.as_str()
    )
}

#[test]
fn login_then_subscribe() {
    let mut s = session();
    let mut out = Vec::new();
    s.on_connected(1_538_054_050_123, &mut out);
    let v = text(&out);
    assert_eq!(v["op"], "login");
    let a = &v["args"][0];
    assert_eq!(
        (a["apiKey"].as_str(), a["passphrase"].as_str()),
        (Some("key-1"), Some("pass-1"))
    );
    assert_eq!(a["timestamp"], "1538054050");
    // exchanges.md §2.5's login vector (computed outside mako).
    assert_eq!(a["sign"], "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=");
    assert!(matches!(
        events(
            &mut s,
            r#"{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}"#
        )[..],
        [SessionEvent::LoggedIn]
    ));
    assert!(s.after_login(0, &mut out));
    let v = text(&out);
    assert_eq!(v["args"][0]["channel"], "orders");
    assert_eq!(v["args"][1]["channel"], "account");
    assert!(matches!(
        events(
            &mut s,
            r#"{"event":"subscribe","arg":{"channel":"orders","instType":"SPOT"},"connId":"a"}"#
        )[..],
        [SessionEvent::Subscribed]
    ));
    let bad = events(
        &mut s,
        r#"{"event":"error","code":"60009","msg":"Login failed."}"#,
    );
    assert!(matches!(&bad[..], [SessionEvent::Failed { error, .. }] if error.code == 60009));
}

#[test]
fn orders_are_written_as_okx_documents_them() {
    let mut s = session();
    let mut out = Vec::new();
    let c = cid(1);
    // OKX takes clOrdId of up to 32 letters and digits: the engine's minted ids fit.
    assert!(c.as_str().len() <= 32 && c.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
    let o = PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USDT",
        cid: &c,
        side: Side::Buy,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("2.15").unwrap(),
        qty: Qty::parse("2").unwrap(),
        price_decimals: 2,
        qty_decimals: 3,
    };
    s.place(&o, 0, &mut out);
    let v = text(&out);
    assert_eq!(v["op"], "order");
    assert_eq!(v["id"], "1");
    let a = &v["args"][0];
    assert_eq!(a["instId"], "BTC-USDT");
    assert_eq!(a["tdMode"], "cash");
    assert_eq!(a["clOrdId"], c.as_str());
    assert_eq!(
        (a["ordType"].as_str(), a["px"].as_str(), a["sz"].as_str()),
        (Some("post_only"), Some("2.15"), Some("2.000"))
    );
    s.place(
        &PlaceOrder {
            reduce_only: false,
            kind: OrderKind::Market,
            ..o
        },
        0,
        &mut out,
    );
    let a = text(&out)["args"][0].clone();
    assert_eq!(
        (a["ordType"].as_str(), a["tgtCcy"].as_str()),
        (Some("market"), Some("base_ccy"))
    );
    assert!(a.get("px").is_none());
    s.place(
        &PlaceOrder {
            reduce_only: false,
            kind: OrderKind::Limit,
            tif: TimeInForce::Ioc,
            ..o
        },
        0,
        &mut out,
    );
    assert_eq!(text(&out)["args"][0]["ordType"], "ioc");
    s.cancel("BTC-USDT", &c, 0, &mut out);
    let v = text(&out);
    assert_eq!(
        (v["op"].as_str(), v["args"][0]["clOrdId"].as_str()),
        (Some("cancel-order"), Some(c.as_str()))
    );
    assert!(!s.status("BTC-USDT", &c, 0, &mut out) && !s.queries_over_ws());
}

#[test]
fn answers_become_acks_rejections_and_uncertainty() {
    let mut s = session();
    let mut out = Vec::new();
    let (a, b, c) = (cid(1), cid(2), cid(3));
    for x in [&a, &b, &c] {
        s.place(
            &PlaceOrder {
                reduce_only: false,
                symbol: "BTC-USDT",
                cid: x,
                side: Side::Sell,
                kind: OrderKind::Limit,
                tif: TimeInForce::Gtc,
                price: Price::from_int(100),
                qty: Qty::from_int(1),
                price_decimals: 2,
                qty_decimals: 2,
            },
            0,
            &mut out,
        );
    }
    let ok = events(
        &mut s,
        &format!(
            r#"{{"id":"1","op":"order","code":"0","msg":"","data":[{{"clOrdId":"{}","ordId":"312269865356374016","tag":"","sCode":"0","sMsg":""}}]}}"#,
            a.as_str()
        ),
    );
    assert!(
        matches!(&ok[..], [SessionEvent::Order { cid, event: OrderEvent::Accepted { venue_order_id, .. } }]
        if *cid == a && venue_order_id.as_str() == "312269865356374016")
    );
    let no = events(
        &mut s,
        r#"{"id":"2","op":"order","code":"1","msg":"","data":[{"clOrdId":"","ordId":"","sCode":"51008","sMsg":"Order failed. Insufficient USDT balance in account."}]}"#,
    );
    assert!(
        matches!(&no[..], [SessionEvent::PlaceRejected { cid, error }] if *cid == b && error.code == 51008)
    );
    let busy = events(
        &mut s,
        r#"{"id":"3","op":"order","code":"1","msg":"","data":[{"sCode":"50011","sMsg":"Rate limit reached"}]}"#,
    );
    assert!(
        matches!(&busy[..], [SessionEvent::RateLimited { .. }, SessionEvent::Uncertain { cid }] if *cid == c)
    );
    // An answer to nothing asked.
    assert!(matches!(
        events(&mut s, r#"{"id":"99","op":"order","code":"0","data":[]}"#)[..],
        [SessionEvent::Undecodable(_)]
    ));
    assert_eq!(s.reset_inflight().len(), 0);
}

#[test]
fn fills_accumulate_the_quote_exactly() {
    let mut s = session();
    let c = cid(7);
    let ev = events(&mut s, &push(&c, "live", "0", None));
    assert!(matches!(
        &ev[..],
        [SessionEvent::Order {
            event: OrderEvent::Accepted { .. },
            ..
        }]
    ));
    let ev = events(
        &mut s,
        &push(&c, "partially_filled", "0.5", Some(("11", "100.1", "0.5"))),
    );
    let [
        SessionEvent::Order {
            event:
                OrderEvent::Trade {
                    trade_id,
                    last_qty,
                    cum_qty,
                    cum_quote,
                    fee,
                    fee_asset,
                    ..
                },
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*trade_id, TradeId::new(b"11").unwrap());
    assert_eq!(
        (*last_qty, *cum_qty),
        (Qty::parse("0.5").unwrap(), Qty::parse("0.5").unwrap())
    );
    assert_eq!(
        *cum_quote,
        Notional::of(Price::parse("100.1").unwrap(), Qty::parse("0.5").unwrap())
    );
    assert_eq!(
        (*fee, fee_asset.as_str()),
        (Qty::parse("0.001").unwrap(), "BTC")
    );
    let ev = events(
        &mut s,
        &push(&c, "filled", "2", Some(("12", "100.3", "1.5"))),
    );
    let [
        SessionEvent::Order {
            event: OrderEvent::Trade {
                cum_qty, cum_quote, ..
            },
            ..
        },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    let want = Notional::of(Price::parse("100.1").unwrap(), Qty::parse("0.5").unwrap()).0
        + Notional::of(Price::parse("100.3").unwrap(), Qty::parse("1.5").unwrap()).0;
    assert_eq!((*cum_qty, cum_quote.0), (Qty::from_int(2), want));
    // The same push again (a resend): nothing new.
    assert!(
        events(
            &mut s,
            &push(&c, "filled", "2", Some(("12", "100.3", "1.5")))
        )
        .is_empty()
    );
}

#[test]
fn cancels_and_balances() {
    let mut s = session();
    let c = cid(8);
    let _ = events(
        &mut s,
        &push(&c, "partially_filled", "0.5", Some(("21", "100", "0.5"))),
    );
    let ev = events(&mut s, &push(&c, "canceled", "0.5", None));
    assert!(
        matches!(&ev[..], [SessionEvent::Order { event: OrderEvent::Ended { kind: VenueFinal::Cancelled, cum_qty, cum_quote, .. }, .. }]
        if *cum_qty == Qty::parse("0.5").unwrap() && *cum_quote == Notional::of(Price::from_int(100), Qty::parse("0.5").unwrap()))
    );
    let ev = events(
        &mut s,
        r#"{"arg":{"channel":"account"},"data":[{"details":[{"ccy":"USDT","availBal":"10.123456789","frozenBal":"2"}]}]}"#,
    );
    let [SessionEvent::Balances(b)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(b[0].asset, AssetCode::new(b"USDT").unwrap());
    assert_eq!(
        (b[0].free, b[0].locked),
        (Qty::parse("10.12345678").unwrap(), Qty::from_int(2))
    );
    assert!(matches!(
        events(&mut s, "not json")[..],
        [SessionEvent::Undecodable(_)]
    ));
    assert!(events(&mut s, "pong").is_empty());
}

#[test]
fn amends_are_written_and_answered_as_okx_documents_them() {
    use crate::types::order::{OrderKind, TimeInForce};
    let mut s = session();
    assert!(s.amends_in_place());
    let c = cid(4);
    let order = PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USDT",
        cid: &c,
        side: Side::Buy,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("101.5").unwrap(),
        qty: Qty::parse("0.25").unwrap(),
        price_decimals: 1,
        qty_decimals: 4,
    };
    let mut out = Vec::new();
    assert!(s.amend(&order, 0, &mut out));
    let v = text(&out);
    assert_eq!(v["op"], "amend-order");
    let a = &v["args"][0];
    assert_eq!(
        (
            a["instId"].as_str(),
            a["clOrdId"].as_str(),
            a["newPx"].as_str(),
            a["newSz"].as_str()
        ),
        (
            Some("BTC-USDT"),
            Some(c.as_str()),
            Some("101.5"),
            Some("0.2500")
        )
    );
    // Accepted: nothing until the `orders` push of the amended order.
    let id = v["id"].as_str().unwrap().to_owned();
    let ok = format!(
        r#"{{"id":"{id}","op":"amend-order","code":"0","msg":"","data":[{{"clOrdId":"{}","ordId":"900","reqId":"","sCode":"0","sMsg":""}}]}}"#,
        c.as_str()
    );
    assert!(events(&mut s, &ok).is_empty());
    let amended = push(&c, "live", "0", None)
        .replace(r#""px":"100","sz":"2""#, r#""px":"101.5","sz":"0.25""#)
        .replace(r#""uTime":"8""#, r#""uTime":"8","amendResult":"0""#);
    let ev = events(&mut s, &amended);
    assert!(
        ev.iter().any(|e| matches!(e, SessionEvent::Order { cid, event: OrderEvent::Amended { price, qty, .. } }
            if *cid == c && *price == Price::parse("101.5").unwrap() && *qty == Qty::parse("0.25").unwrap())),
        "{ev:?}"
    );
    // Refused (the order had filled): the order stays as it was.
    s.amend(&order, 0, &mut out);
    let id = text(&out)["id"].as_str().unwrap().to_owned();
    let refused = format!(
        r#"{{"id":"{id}","op":"amend-order","code":"1","msg":"","data":[{{"clOrdId":"{}","ordId":"900","reqId":"","sCode":"51503","sMsg":"Order modification failed as the order has been filled, canceled or does not exist."}}]}}"#,
        c.as_str()
    );
    assert!(matches!(
        &events(&mut s, &refused)[..],
        [SessionEvent::Order { cid, event: OrderEvent::AmendRejected { code: 51503, .. } }] if *cid == c
    ));
    // A push saying an amend failed (`amendResult` -1) says the same.
    let failed =
        push(&c, "live", "0", None).replace(r#""uTime":"8""#, r#""uTime":"8","amendResult":"-1""#);
    assert!(events(&mut s, &failed).iter().any(|e| matches!(
        e,
        SessionEvent::Order {
            event: OrderEvent::AmendRejected { .. },
            ..
        }
    )));
}
