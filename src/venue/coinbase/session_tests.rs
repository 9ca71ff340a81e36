//! `user` channel session tests: the subscribe messages (one channel each, a JWT without a
//! `uri` claim verified with the SDK's test key), the documented `user` sample as a snapshot
//! with literal values, copies and gaps of `sequence_num`.

use super::*;
use crate::types::Qty;
use crate::types::order::SnapshotStatus;
use crate::venue::coinbase::jwt;

const KEY_NAME: &str = "organizations/test-organization/apiKeys/test-api-key";
const ED_SECRET: &str =
    "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==";
const NOW_MS: u64 = 1_765_000_000_500;
const AT: UnixNanos = UnixNanos(1_765_000_000_000_000_000);

fn session() -> CoinbaseUserSession {
    CoinbaseUserSession::new(
        JwtSigner::from_parts(KEY_NAME, ED_SECRET).unwrap(),
        vec!["BTC-USD".into(), "ETH-USD".into()],
    )
}

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/coinbase/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(p).unwrap();
    crate::venue::decode::strip_comments(&text).into_bytes()
}

fn frames(s: &mut CoinbaseUserSession, frame: &str) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    s.on_frame(frame.as_bytes(), AT, &mut out);
    out
}

#[test]
fn heartbeats_then_user_each_with_a_ws_jwt() {
    let mut s = session();
    let mut out = Vec::new();
    s.on_connected(NOW_MS, &mut out);
    let hb: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(hb["type"], "subscribe");
    assert_eq!(hb["channel"], "heartbeats");
    assert_eq!(hb["product_ids"], serde_json::json!(["BTC-USD", "ETH-USD"]));
    let ev = frames(
        &mut s,
        r#"{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:32:50Z","sequence_num":0,
           "events":[{"subscriptions":{"heartbeats":["heartbeats"]}}]}"#,
    );
    assert_eq!(ev, vec![SessionEvent::LoggedIn]);
    assert!(s.after_login(NOW_MS, &mut out));
    let user: Value = serde_json::from_slice(&out).unwrap();
    let want: Value =
        serde_json::from_slice(&sample("coinbase_subscribe_user_request.json")).unwrap();
    assert_eq!(user["type"], want["type"]);
    assert_eq!(user["channel"], want["channel"]);
    assert_eq!(
        user.as_object().unwrap().len(),
        want.as_object().unwrap().len()
    );
    let token = user["jwt"].as_str().unwrap();
    let d = jwt::verify(token, KEY_NAME, &s.signer.public_key(), NOW_MS / 1000, None).unwrap();
    assert_eq!(d.header["alg"], "EdDSA");
    assert!(d.claims.get("uri").is_none());
    let ev = frames(
        &mut s,
        r#"{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,
           "events":[{"subscriptions":{"heartbeats":["heartbeats"],"user":["BTC-USD","ETH-USD"]}}]}"#,
    );
    assert_eq!(ev, vec![SessionEvent::Subscribed]);
    // Orders never go over this connection.
    assert!(!s.queries_over_ws());
    s.cancel(
        "BTC-USD",
        &ClientOrderId::parse("x").unwrap(),
        NOW_MS,
        &mut out,
    );
    assert!(out.is_empty());
}

#[test]
fn the_documented_user_event_is_a_filled_snapshot() {
    let mut s = session();
    let mut out = Vec::new();
    s.on_frame(&sample("coinbase_user.json"), AT, &mut out);
    assert_eq!(
        out,
        vec![SessionEvent::Order {
            cid: ClientOrderId::parse("XXX").unwrap(),
            event: OrderEvent::Snapshot {
                venue_order_id: VenueOrderId::new(b"YYY").unwrap(),
                status: SnapshotStatus::Filled,
                cum_qty: Qty::parse("0.01").unwrap(),
                // filled_value "500".
                cum_quote: Notional::of(Price::from_int(500), Qty::from_int(1)),
                terms: Some((Price::from_int(50000), Qty::parse("0.01").unwrap())),
                at: AT,
            }
        }]
    );
    // The same message again (sequence 0 repeated) is a copy: nothing.
    out.clear();
    s.on_frame(&sample("coinbase_user.json"), AT, &mut out);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn gaps_errors_and_bad_frames_are_reported() {
    let mut s = session();
    assert_eq!(
        frames(
            &mut s,
            r#"{"channel":"heartbeats","sequence_num":5,"events":[]}"#
        ),
        vec![]
    );
    let ev = frames(
        &mut s,
        r#"{"channel":"heartbeats","sequence_num":7,"events":[]}"#,
    );
    assert_eq!(
        ev,
        vec![SessionEvent::StreamGap(
            "user stream gap: sequence 7 after 5".into()
        )]
    );
    let ev = frames(
        &mut s,
        r#"{"type":"error","message":"authentication failure"}"#,
    );
    assert_eq!(
        ev,
        vec![SessionEvent::Failed {
            purpose: Purpose::Subscribe,
            error: VenueError {
                code: 0,
                msg: "authentication failure".into()
            }
        }]
    );
    assert!(matches!(
        frames(&mut s, "{")[0],
        SessionEvent::Undecodable(_)
    ));
    let ev = frames(
        &mut s,
        r#"{"channel":"user","sequence_num":8,"events":[{"type":"update","orders":[{"order_id":"o"}]}]}"#,
    );
    assert!(matches!(ev[0], SessionEvent::Undecodable(_)), "{ev:?}");
    // A reconnect starts the sequence again.
    s.on_connected(NOW_MS, &mut Vec::new());
    assert_eq!(
        frames(
            &mut s,
            r#"{"channel":"heartbeats","sequence_num":0,"events":[]}"#
        ),
        vec![]
    );
}
