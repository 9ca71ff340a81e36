//! CoinDCX order session tests: the join (its signature computed independently of mako with
//! Python: `hmac.new(b"mako-test-secret", b'{"channel":"coindcx"}', hashlib.sha256)
//! .hexdigest()`), Socket.IO packets, and the reference's private samples with literal values.

use super::*;
use crate::types::order::{AssetCode, OrderEvent, SnapshotStatus};
use crate::types::{Notional, Price, Qty, Side, StrategyId, TradeId};
use crate::venue::coindcx::ids::Sent;
use crate::venue::decode::strip_comments;
use crate::venue::order::Balance;

const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn session() -> (CoindcxSession, SharedIds) {
    let ids = SharedIds::default();
    let s = CoindcxSession::new(
        "mako-test-key",
        CoindcxSigner::from_bytes(b"mako-test-secret"),
        ids.clone(),
    );
    (s, ids)
}

fn frames(s: &mut CoindcxSession, f: &str) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    s.on_frame(f.as_bytes(), AT, &mut out);
    out
}

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/coindcx/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    strip_comments(&std::fs::read_to_string(p).unwrap())
}

/// An event as the simulator and mako's reading of the docs send it: the payload as a JSON
/// string in `data`.
fn event(name: &str, payload: &str) -> String {
    let arg = serde_json::json!({"channel": "coindcx", "event": name, "data": payload});
    format!("42[\"{name}\",{arg}]")
}

#[test]
fn joins_on_connecting_and_is_subscribed_when_the_namespace_connects() {
    let (mut s, _) = session();
    let mut out = Vec::new();
    s.on_connected(0, &mut out);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"42["join",{"channelName":"coindcx","authSignature":"98d41e569192440a5a277f86fc6fc0856f65d389273d6c4826637e43e384e76b","apiKey":"mako-test-key"}]"#
    );
    assert!(
        frames(
            &mut s,
            r#"0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        )
        .is_empty()
    );
    assert_eq!(frames(&mut s, "40"), vec![SessionEvent::Subscribed]);
    assert!(frames(&mut s, "40").is_empty());
    assert!(frames(&mut s, "3").is_empty());
    assert!(matches!(
        frames(&mut s, "7").as_slice(),
        [SessionEvent::Undecodable(e)] if e == "unknown Engine.IO packet type"
    ));
    assert!(matches!(
        frames(&mut s, r#"44{"message":"invalid signature"}"#).as_slice(),
        [SessionEvent::Failed { purpose: Purpose::Subscribe, error }] if error.msg.contains("invalid signature")
    ));
    assert_eq!(
        frames(&mut s, "41"),
        vec![SessionEvent::Other("the server ended the session".into())]
    );
    // After the server ended it, the next connect subscribes again.
    assert_eq!(frames(&mut s, "40"), vec![SessionEvent::Subscribed]);
    assert_eq!(
        s.keepalive(),
        Keepalive::Text {
            ping: "2",
            pong: "3",
            idle: std::time::Duration::from_secs(20)
        }
    );
    assert!(!s.queries_over_ws());
}

#[test]
fn order_updates_become_snapshots_of_mako_orders() {
    let (mut s, ids) = session();
    // The reference's sample is an order mako never sent.
    assert_eq!(
        frames(
            &mut s,
            &event(
                "df-order-update",
                &sample("coindcx_ws_df_order_update.jsonc")
            )
        ),
        // The sample is an INR-margined order: not this (USDT) session's wallet.
        vec![SessionEvent::Other("order on the INR wallet".into())]
    );
    let cid = ClientOrderId::mint(1_700_000_000_000, StrategyId(0), 1).unwrap();
    ids.lock().on_place(Sent {
        cid,
        pair: "B-BTC_USDT".into(),
        side: Side::Sell,
        price: Price::parse("60000.5").unwrap(),
        qty: Qty::parse("0.002").unwrap(),
        market: false,
        sent_ms: 1_700_000_000_000,
        venue_id: None,
    });
    // The sample's shape with mako's terms, partly filled then cancelled.
    let ours = r#"[{"id":"ff5a645f-84b7-4d63-b513-9e2f960855fc","pair":"B-BTC_USDT","side":"sell","status":"partially_cancelled","order_type":"limit_order","leverage":5,"fee_amount":0.045,"price":60000.5,"avg_price":60000.5,"total_quantity":0.002,"remaining_quantity":0,"cancelled_quantity":0.0005,"created_at":1700000000040,"updated_at":1700000000900,"trades":[],"margin_currency_short_name":"USDT"}]"#;
    let want = vec![
        SessionEvent::Order {
            cid,
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::new(b"ff5a645f-84b7-4d63-b513-9e2f960855fc").unwrap(),
                status: SnapshotStatus::Cancelled,
                cum_qty: Qty::parse("0.0015").unwrap(),
                cum_quote: Notional::of(
                    Price::parse("60000.5").unwrap(),
                    Qty::parse("0.0015").unwrap(),
                ),
                terms: Some((
                    Price::parse("60000.5").unwrap(),
                    Qty::parse("0.002").unwrap(),
                )),
                at: AT,
            },
        },
        SessionEvent::Trades {
            cid,
            trades: vec![(
                TradeId::new(b"ff5a645f-84b7-4d63-b513-9e2f960855fc").unwrap(),
                Qty::parse("0.045").unwrap(),
                AssetCode::new(b"USDT").unwrap(),
            )],
        },
    ];
    assert_eq!(frames(&mut s, &event("df-order-update", ours)), want);
    // The bare list (no envelope) reads the same, now by the bound id.
    assert_eq!(
        frames(&mut s, &format!("42[\"df-order-update\",{ours}]")),
        want
    );
    assert!(matches!(
        frames(&mut s, &event("df-order-update", "[{\"id\":1}]")).as_slice(),
        [SessionEvent::Undecodable(_)]
    ));
    assert!(matches!(
        frames(&mut s, r#"42["df-order-update",{"data":5}]"#).as_slice(),
        [SessionEvent::Undecodable(_)]
    ));
}

#[test]
fn balance_and_position_samples() {
    let (mut s, _) = session();
    assert_eq!(
        frames(
            &mut s,
            &event("balance-update", &sample("coindcx_ws_balance_update.json"))
        ),
        vec![SessionEvent::Balances(vec![Balance {
            asset: AssetCode::new(b"USDT").unwrap(),
            free: Qty::parse("0.02735495").unwrap(),
            locked: Qty::parse("0.99478995").unwrap(),
        }])]
    );
    // The sample is the INR wallet's position: another wallet for this USDT session, the
    // position of an INR session.
    let inr_sample = event(
        "df-position-update",
        &sample("coindcx_ws_df_position_update.jsonc"),
    );
    assert_eq!(
        frames(&mut s, &inr_sample),
        vec![SessionEvent::Other("position on the INR wallet".into())]
    );
    let (inr, _) = session();
    let mut inr = inr.with_margin_currency("INR");
    assert_eq!(
        frames(&mut inr, &inr_sample),
        vec![SessionEvent::Position(crate::venue::order::VenuePosition {
            symbol: "B-BNB_USDT".into(),
            size: 0,
            entry: None,
            leverage: Some(crate::types::Rate::parse("10").unwrap()),
        })]
    );
    // An open short, in the sample's shape.
    let short = r#"[{"id":"p1","pair":"B-BTC_USDT","active_pos":-0.015,"avg_price":60010.5,"liquidation_price":70000,"mark_price":60000,"leverage":5,"locked_margin":180.03,"updated_at":1717754279737}]"#;
    assert_eq!(
        frames(&mut s, &event("df-position-update", short)),
        vec![SessionEvent::Position(crate::venue::order::VenuePosition {
            symbol: "B-BTC_USDT".into(),
            size: -1_500_000,
            entry: Some(Price::parse("60010.5").unwrap()),
            leverage: Some(crate::types::Rate::parse("5").unwrap()),
        })]
    );
    assert!(matches!(
        frames(&mut s, &event("df-position-update", "[{\"id\":\"x\"}]")).as_slice(),
        [SessionEvent::Undecodable(_)]
    ));
    assert_eq!(
        frames(&mut s, &event("candlestick", "[]")),
        vec![SessionEvent::Other("event candlestick".into())]
    );
    assert_eq!(
        s.order_limits().per_account,
        Some((16, std::time::Duration::from_secs(1)))
    );
}

/// The Engine.IO ping goes every pingInterval whatever the traffic: 25 s until the server's
/// open packet names its own interval (never longer than 25 s).
#[test]
fn the_periodic_ping_follows_the_open_packets_interval() {
    let (mut s, _) = session();
    assert_eq!(
        s.periodic_ping(),
        Some(("2", std::time::Duration::from_secs(25)))
    );
    let ev = frames(
        &mut s,
        r#"0{"sid":"abc","upgrades":[],"pingInterval":10000,"pingTimeout":5000}"#,
    );
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(
        s.periodic_ping(),
        Some(("2", std::time::Duration::from_secs(10)))
    );
    frames(
        &mut s,
        r#"0{"sid":"abc","upgrades":[],"pingInterval":60000,"pingTimeout":5000}"#,
    );
    assert_eq!(
        s.periodic_ping(),
        Some(("2", std::time::Duration::from_secs(25)))
    );
}
