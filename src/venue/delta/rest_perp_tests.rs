//! Delta's leverage and position requests on the gateway's seam: the product lookup first,
//! then the requests by id, each signed over the bytes sent (signatures computed with
//! Python's `hmac`: `hmac.new(secret, prehash, hashlib.sha256).hexdigest()`), and the
//! answers mapped to the gateway's events.

use super::*;
use crate::types::UnixNanos;
use crate::types::order::AssetCode;
use crate::venue::delta::sign::DeltaSigner;
use crate::venue::rest::{Answer, RateHeaders, RestCodec};

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

fn sig(h: &RestHead) -> &str {
    h.signed
        .iter()
        .find(|(k, _)| *k == "signature")
        .map(|(_, v)| v)
        .unwrap_or("")
}

fn answer(c: &mut DeltaRest, id: u64, status: u16, body: &str) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    let a = Answer::Http {
        status,
        headers: RateHeaders::default(),
        body: body.as_bytes(),
    };
    c.on_answer(id, a, AT, &mut out);
    out
}

const PRODUCT: &str = r#"{"success":true,"result":{"id":27,"symbol":"BTCUSD","contract_type":"perpetual_futures","contract_value":"0.001","tick_size":"0.5"}}"#;

fn five() -> Rate {
    Rate::parse("5").unwrap()
}

#[test]
fn the_leverage_waits_for_the_product_id_then_goes_by_id() {
    let mut c = codec();
    let mut buf = Vec::new();
    // No id yet: the documented per-symbol lookup goes instead, signed as a GET path.
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    assert_eq!((h.method, h.path), (Method::GetPath, "/v2/products/"));
    assert_eq!(buf, b"BTCUSD");
    assert_eq!(
        sig(&h),
        "de9f684dd2b26445c2c47b1446e9c78609953c15e507e4fb58691e47aa24f6f1"
    );
    let ev = answer(&mut c, h.id, 200, PRODUCT);
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { purpose: Purpose::SetLeverage { symbol, .. }, error }]
            if symbol == "BTCUSD" && error.code == LEVERAGE_SEND_AGAIN),
        "{ev:?}"
    );
    assert_eq!(c.product_id("BTCUSD"), Some(27));
    // Then the leverage by id, the number as the docs' sample writes it.
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    assert_eq!(
        (h.method, h.path),
        (Method::Post, "/v2/products/27/orders/leverage")
    );
    assert_eq!(buf, br#"{"leverage":5}"#);
    assert_eq!(
        sig(&h),
        "4f9ccae40b9ae39c800909c4de0ca4bb5d5e7b189a8f48dbe933c7538f2fb448"
    );
    let ev = answer(
        &mut c,
        h.id,
        200,
        r#"{"success":true,"result":{"leverage":5,"order_margin":"0","product_id":27}}"#,
    );
    assert_eq!(
        ev,
        vec![SessionEvent::LeverageSet {
            symbol: "BTCUSD".into(),
            leverage: five()
        }]
    );
    // An answer naming another leverage is a refusal, not a confirmation.
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    let ev = answer(
        &mut c,
        h.id,
        200,
        r#"{"success":true,"result":{"leverage":"10","order_margin":"0","product_id":27}}"#,
    );
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { error, .. }] if error.code == 400 && error.msg.contains("10")),
        "{ev:?}"
    );
    // A documented refusal stays a refusal (the gateway stops new exposure).
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    let ev = answer(
        &mut c,
        h.id,
        400,
        r#"{"success":false,"error":{"code":"bad_schema","context":{}}}"#,
    );
    assert!(
        matches!(&ev[..], [SessionEvent::Failed { purpose: Purpose::SetLeverage { .. }, error }] if error.code == 400),
        "{ev:?}"
    );
}

#[test]
fn positions_by_product_id() {
    let mut c = codec();
    let mut buf = Vec::new();
    // Unknown id: the lookup; its answer is only learned (the position is asked next sweep).
    let h = c.positions("BTCUSD", NOW_MS, &mut buf).unwrap();
    assert_eq!((h.method, h.path), (Method::GetPath, "/v2/products/"));
    let ev = answer(&mut c, h.id, 200, PRODUCT);
    assert!(matches!(&ev[..], [SessionEvent::Other(_)]), "{ev:?}");
    let h = c.positions("BTCUSD", NOW_MS, &mut buf).unwrap();
    assert_eq!((h.method, h.path), (Method::Get, "/v2/positions"));
    assert_eq!(buf, b"product_id=27");
    assert_eq!(
        sig(&h),
        "bf1a3fa515e0d09f6f9882fcd1298c135c878851cf344992069fe74cbae3d751"
    );
    let ev = answer(
        &mut c,
        h.id,
        200,
        r#"{"success":true,"result":{"size":-12,"entry_price":"60000.5"}}"#,
    );
    assert_eq!(
        ev,
        vec![SessionEvent::Position(VenuePosition {
            symbol: "BTCUSD".into(),
            size: -12 * 100_000_000,
            entry: Some(crate::types::Price::parse("60000.5").unwrap()),
            leverage: None,
        })]
    );
    // Flat: size 0 and no entry.
    let h = c.positions("BTCUSD", NOW_MS, &mut buf).unwrap();
    let ev = answer(
        &mut c,
        h.id,
        200,
        r#"{"success":true,"result":{"size":0,"entry_price":null}}"#,
    );
    assert!(
        matches!(&ev[..], [SessionEvent::Position(p)] if p.size == 0 && p.entry.is_none()),
        "{ev:?}"
    );
    // Not a size: undecodable, and the request's outcome unknown (no panic).
    let h = c.positions("BTCUSD", NOW_MS, &mut buf).unwrap();
    let ev = answer(
        &mut c,
        h.id,
        200,
        r#"{"success":true,"result":{"size":"lots"}}"#,
    );
    assert!(matches!(ev[0], SessionEvent::Undecodable(_)), "{ev:?}");
}

#[test]
fn a_lookup_answered_for_another_symbol_or_lost_teaches_nothing() {
    let mut c = codec();
    let mut buf = Vec::new();
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    let ev = answer(
        &mut c,
        h.id,
        200,
        r#"{"success":true,"result":{"id":3136,"symbol":"ETHUSD"}}"#,
    );
    assert!(matches!(ev[0], SessionEvent::Undecodable(_)), "{ev:?}");
    assert_eq!(c.product_id("BTCUSD"), None);
    // A lookup that never left is forgotten with its request.
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    assert!(c.abandon(h.id).is_some());
    assert!(c.products.lookups.is_empty());
    // A 5xx: no answer, sent again at the next sweep (code 0).
    let h = c.set_leverage("BTCUSD", five(), NOW_MS, &mut buf).unwrap();
    let mut out = Vec::new();
    c.on_answer(h.id, Answer::Timeout, AT, &mut out);
    assert!(
        matches!(&out[..], [SessionEvent::Failed { error, .. }] if error.code == 0),
        "{out:?}"
    );
    assert!(c.products.lookups.is_empty());
}
