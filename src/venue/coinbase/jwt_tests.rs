//! JWTs from the official SDK's published test credentials (exchanges.md §4.1), checked by
//! verification with the public key and field by field: ECDSA signatures are randomised,
//! so bytes are never compared.

use super::*;
use base64::engine::general_purpose::STANDARD;

const KEY_NAME: &str = "organizations/test-organization/apiKeys/test-api-key";
/// The SDK's EC test secret, one line with `\n` escapes as an environment variable holds it.
const EC_SECRET: &str = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\\n-----END EC PRIVATE KEY-----\\n";
const ED_SECRET: &str =
    "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==";
const NOW: u64 = 1_765_000_000;

fn check_fields(d: &Decoded, alg: &str, uri: Option<&str>) {
    let h = d.header.as_object().unwrap();
    assert_eq!(h.len(), 4, "{h:?}");
    assert_eq!(h["alg"], alg);
    assert_eq!(h["kid"], KEY_NAME);
    assert_eq!(h["typ"], "JWT");
    let nonce = h["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 64);
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()), "{nonce}");
    let c = d.claims.as_object().unwrap();
    assert_eq!(c.len(), if uri.is_some() { 5 } else { 4 }, "{c:?}");
    assert_eq!(c["sub"], KEY_NAME);
    assert_eq!(c["iss"], "cdp");
    assert_eq!(c["nbf"], NOW);
    assert_eq!(c["exp"], NOW + 120);
    assert_eq!(c.get("uri").and_then(|u| u.as_str()), uri);
}

#[test]
fn es256_rest_token_verifies_with_the_sdk_test_key() {
    let s = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    assert_eq!(s.alg(), "ES256");
    let t = s
        .rest_token(NOW, "GET", REST_HOST, "/api/v3/brokerage/accounts?limit=5")
        .unwrap();
    let uri = "GET api.coinbase.com/api/v3/brokerage/accounts";
    let d = verify(&t, KEY_NAME, &s.public_key(), NOW + 1, Some(uri)).unwrap();
    check_fields(&d, "ES256", Some(uri));
    assert_eq!(d.signature.len(), 64);
    // Two tokens for the same request differ (nonce, randomised or not) and both verify.
    let t2 = s
        .rest_token(NOW, "GET", REST_HOST, "/api/v3/brokerage/accounts")
        .unwrap();
    assert_ne!(t, t2);
    verify(&t2, KEY_NAME, &s.public_key(), NOW, Some(uri)).unwrap();
}

#[test]
fn es256_public_key_is_the_one_in_the_sdk_pem() {
    // The PEM carries the public point too (the BIT STRING after the private scalar): the
    // key read from the scalar must derive exactly it.
    let der = STANDARD
        .decode(
            "MHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\
             AwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\
             qDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==",
        )
        .unwrap();
    let point = &der[der.len() - 65..];
    assert_eq!(point[0], 0x04);
    let s = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    let PublicKey::Es256(k) = s.public_key() else {
        panic!("not ES256")
    };
    assert_eq!(k.to_encoded_point(false).as_bytes(), point);
}

#[test]
fn eddsa_ws_token_verifies_with_the_sdk_test_key() {
    let s = JwtSigner::from_parts(KEY_NAME, ED_SECRET).unwrap();
    assert_eq!(s.alg(), "EdDSA");
    let t = s.ws_token(NOW).unwrap();
    let d = verify(&t, KEY_NAME, &s.public_key(), NOW + 119, None).unwrap();
    check_fields(&d, "EdDSA", None);
    // The 64-byte secret's second half is its public key.
    let raw = STANDARD.decode(ED_SECRET).unwrap();
    let PublicKey::EdDsa(k) = s.public_key() else {
        panic!("not EdDSA")
    };
    assert_eq!(k.as_bytes()[..], raw[32..]);
}

#[test]
fn eddsa_rest_token_verifies_and_32_byte_seed_is_the_same_key() {
    let raw = STANDARD.decode(ED_SECRET).unwrap();
    let seed_only = STANDARD.encode(&raw[..32]);
    let a = JwtSigner::from_parts(KEY_NAME, ED_SECRET).unwrap();
    let b = JwtSigner::from_parts(KEY_NAME, &seed_only).unwrap();
    assert_eq!(a.public_key(), b.public_key());
    let t = b
        .rest_token(NOW, "POST", "127.0.0.1:9000", "/api/v3/brokerage/orders")
        .unwrap();
    let uri = "POST 127.0.0.1:9000/api/v3/brokerage/orders";
    let d = verify(&t, KEY_NAME, &a.public_key(), NOW, Some(uri)).unwrap();
    check_fields(&d, "EdDSA", Some(uri));
}

#[test]
fn refused_tokens_say_why() {
    let s = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    let pk = s.public_key();
    let uri = "GET api.coinbase.com/api/v3/brokerage/accounts";
    let t = s
        .rest_token(NOW, "GET", REST_HOST, "/api/v3/brokerage/accounts")
        .unwrap();
    // Expired at nbf + 120, not yet valid before nbf.
    assert_eq!(
        verify(&t, KEY_NAME, &pk, NOW + 120, Some(uri)),
        Err(VerifyError::Expired {
            nbf: NOW,
            exp: NOW + 120,
            now: NOW + 120
        })
    );
    assert!(matches!(
        verify(&t, KEY_NAME, &pk, NOW - 1, Some(uri)),
        Err(VerifyError::Expired { .. })
    ));
    // Another request's uri, or a WebSocket use of a REST token.
    assert!(matches!(
        verify(
            &t,
            KEY_NAME,
            &pk,
            NOW,
            Some("POST api.coinbase.com/api/v3/brokerage/orders")
        ),
        Err(VerifyError::WrongUri { .. })
    ));
    assert!(matches!(
        verify(&t, KEY_NAME, &pk, NOW, None),
        Err(VerifyError::WrongUri { .. })
    ));
    // Another key name.
    assert_eq!(
        verify(&t, "organizations/o/apiKeys/other", &pk, NOW, Some(uri)),
        Err(VerifyError::UnknownKid(KEY_NAME.into()))
    );
    // Claims tampered with (exp pushed out): the signature no longer covers them.
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    let forged = claims.replace(&format!("{}", NOW + 120), &format!("{}", NOW + 9999));
    assert_ne!(forged, claims);
    parts[1] = URL_SAFE_NO_PAD.encode(forged);
    assert_eq!(
        verify(&parts.join("."), KEY_NAME, &pk, NOW, Some(uri)),
        Err(VerifyError::BadSignature)
    );
    // A token signed by another key.
    let ed = JwtSigner::from_parts(KEY_NAME, ED_SECRET).unwrap();
    let t = ed
        .rest_token(NOW, "GET", REST_HOST, "/api/v3/brokerage/accounts")
        .unwrap();
    assert_eq!(
        verify(&t, KEY_NAME, &pk, NOW, Some(uri)),
        Err(VerifyError::WrongAlg("EdDSA".into()))
    );
    assert_eq!(
        verify("a.b", KEY_NAME, &pk, NOW, None),
        Err(VerifyError::Malformed)
    );
}

#[test]
fn bad_keys_are_clear_errors_that_show_no_key() {
    let cases: &[(&str, &str, KeyError)] = &[
        (KEY_NAME, "not a key", KeyError::Unrecognised),
        (KEY_NAME, "AAAA", KeyError::Unrecognised),
        ("", ED_SECRET, KeyError::EmptyKeyName),
    ];
    for (name, secret, want) in cases {
        assert_eq!(JwtSigner::from_parts(name, secret).unwrap_err(), *want);
    }
    let bad_pem = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    let e = JwtSigner::from_parts(KEY_NAME, bad_pem).unwrap_err();
    assert!(matches!(e, KeyError::BadPem(_)), "{e:?}");
    // A 64-byte secret whose halves do not belong together.
    let mut raw = STANDARD.decode(ED_SECRET).unwrap();
    raw[40] ^= 1;
    assert_eq!(
        JwtSigner::from_parts(KEY_NAME, &STANDARD.encode(raw)).unwrap_err(),
        KeyError::Ed25519Mismatch
    );
    let s = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    assert_eq!(format!("{s:?}"), "JwtSigner(ES256, ***)");
}
