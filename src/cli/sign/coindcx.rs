//! CoinDCX futures (exchanges.md §7.2): the compact JSON body exactly as sent.

use super::{Request, Signed};
use crate::config::Secret;

/// CoinDCX (exchanges.md §7.2): the signed string is the body exactly as sent, a compact JSON
/// object holding `timestamp` (Unix ms, equal to `--timestamp`); or the private channel's
/// fixed `{"channel":"coindcx"}` (any `--timestamp`).
pub(super) fn sign(req: &Request, secret: &Secret, key: String) -> Result<Signed, String> {
    use crate::venue::coindcx::sign::{
        API_KEY_HEADER, CoindcxSigner, SIGNATURE_HEADER, WS_AUTH_BODY,
    };
    let body = req.body.as_str();
    if body != WS_AUTH_BODY {
        let ms: u64 = req.timestamp.parse().map_err(|_| {
            format!(
                "--timestamp {:?}: CoinDCX wants Unix milliseconds",
                req.timestamp
            )
        })?;
        let v: serde_json::Value = serde_json::from_str(body)
            .map_err(|e| format!("--body: CoinDCX signs a JSON body: {e}"))?;
        if v.get("timestamp").and_then(serde_json::Value::as_u64) != Some(ms) {
            return Err(format!(
                "--body: CoinDCX's body must hold \"timestamp\":{ms} (the --timestamp given)"
            ));
        }
        if has_space_outside_strings(body) {
            return Err(
                "--body: CoinDCX signs the compact JSON sent (no spaces between tokens, as \
                 json.dumps(body, separators=(',', ':')) writes it)"
                    .into(),
            );
        }
    }
    let sig = CoindcxSigner::from_bytes(secret.expose().as_bytes()).sign(body.as_bytes());
    let signature = String::from_utf8_lossy(&sig).into_owned();
    Ok(Signed {
        signed: body.to_owned(),
        headers: vec![
            (API_KEY_HEADER.into(), key),
            (SIGNATURE_HEADER.into(), signature.clone()),
            ("Content-Type".into(), "application/json".into()),
        ],
        signature,
    })
}

/// Whether `json` has white space between tokens.
fn has_space_outside_strings(json: &str) -> bool {
    let (mut in_str, mut escaped) = (false, false);
    for c in json.chars() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if c.is_whitespace() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::sign_request;
    use super::*;
    use crate::config::VenueKind;

    #[test]
    fn coindcx_signs_the_body_as_sent() {
        // The reference's COMPUTED vectors (secret "YYYY", the docs' placeholder), which
        // Python's hmac gives too (independent of mako).
        let secret = Secret::new("YYYY");
        let cancel = Request {
            method: "POST".into(),
            path: "/exchange/v1/derivatives/futures/orders/cancel".into(),
            body: r#"{"timestamp":1705565256365,"id":"c87ca633-6218-44ea-900b-e86981358cbd"}"#
                .into(),
            timestamp: "1705565256365".into(),
        };
        let s = sign_request(
            VenueKind::CoindcxFutures,
            &cancel,
            &secret,
            Some("k"),
            false,
        )
        .unwrap();
        assert_eq!(s.signed, cancel.body);
        assert_eq!(
            s.signature,
            "40526f5c54ffdacffd8ee8ed43b12cbd25e015d1a33ee2501faf71f60a4266bf"
        );
        assert!(s.headers.contains(&("X-AUTH-APIKEY".into(), "k".into())));
        let ws = Request {
            body: r#"{"channel":"coindcx"}"#.into(),
            timestamp: "0".into(),
            ..cancel.clone()
        };
        let s = sign_request(VenueKind::CoindcxFutures, &ws, &secret, None, false).unwrap();
        assert_eq!(
            s.signature,
            "c8f94ab0ff0372da5b20dfa616c8a1abd06341fa2c0ea19559decc4c8485b989"
        );
        // A body that is not what was sent with this timestamp, or not compact, is refused.
        for (body, ts) in [
            (r#"{"timestamp":1705565256366,"id":"x"}"#, "1705565256365"),
            (r#"{"id":"x"}"#, "1705565256365"),
            (r#"{"timestamp": 1705565256365}"#, "1705565256365"),
            ("id=x", "1705565256365"),
            (r#"{"timestamp":1705565256365}"#, "2024-01-18"),
        ] {
            let bad = Request {
                body: body.into(),
                timestamp: ts.into(),
                ..cancel.clone()
            };
            assert!(
                sign_request(VenueKind::CoindcxFutures, &bad, &secret, None, false).is_err(),
                "{body}"
            );
        }
    }
}
