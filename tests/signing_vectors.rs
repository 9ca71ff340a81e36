//! Every official Binance signature vector (the exchange's own documentation examples) is
//! reproduced by mako's signer, and every WebSocket API payload is what `ws_api_payload`
//! builds from its parameters.

use mako::venue::binance::sign::{HmacSigner, ws_api_payload};

#[test]
fn official_binance_vectors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/signature_test_vectors.json"
    ))
    .expect("fixture present");
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).expect("fixture is JSON");
    let mut checked = 0;
    for v in &vectors {
        if v["venue"] != "binance" || v["official"] != true {
            continue;
        }
        assert_eq!(v["algorithm"], "hmac-sha256-hex");
        let secret = v["secret"].as_str().unwrap();
        let message = v["message"].as_str().unwrap();
        let expected = v["expected"].as_str().unwrap();
        let sig = HmacSigner::from_bytes(secret.as_bytes()).sign_hex(message.as_bytes());
        assert_eq!(
            std::str::from_utf8(&sig).unwrap(),
            expected.to_ascii_lowercase(),
            "{}",
            v["name"]
        );
        if v["name"].as_str().unwrap().starts_with("WebSocket API") {
            // Re-sorting the vector's own parameters gives back the documented payload.
            let mut params: Vec<(&str, &str)> = message
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            params.reverse();
            assert_eq!(ws_api_payload(&params), message, "{}", v["name"]);
        }
        checked += 1;
    }
    assert_eq!(
        checked, 19,
        "every official Binance vector in the fixture was checked"
    );
}
