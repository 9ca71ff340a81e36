//! OKX (exchanges.md §2.5): timestamp + METHOD + path (with its query) + body, signed as
//! base64; the login path takes Unix seconds.

use super::{Request, Signed};
use crate::config::Secret;
use crate::venue::binance::sign::HmacSigner;

/// Printed in place of the passphrase: it is a secret.
const HIDDEN: &str = "<the value of --passphrase-env>";

pub(super) fn sign(
    req: &Request,
    secret: &Secret,
    key: String,
    passphrase: bool,
) -> Result<Signed, String> {
    let ts = req.timestamp.as_str();
    let login = req.path == "/users/self/verify";
    let well_formed = if login {
        !ts.is_empty() && ts.bytes().all(|b| b.is_ascii_digit())
    } else {
        iso_millis_form(ts)
    };
    if !well_formed {
        return Err(format!(
            "--timestamp {ts:?}: OKX wants ISO-8601 with milliseconds \
             (2020-12-08T09:08:57.715Z), or Unix seconds for the login path"
        ));
    }
    let mut signed = Vec::new();
    crate::venue::okx::sign::prehash(
        &mut signed,
        ts.as_bytes(),
        &req.method,
        &req.path,
        req.body.as_bytes(),
    );
    let sig = HmacSigner::new(secret).sign_base64(&signed);
    let signature = String::from_utf8_lossy(&sig).into_owned();
    let mut headers = vec![
        ("OK-ACCESS-KEY".into(), key),
        ("OK-ACCESS-SIGN".into(), signature.clone()),
        ("OK-ACCESS-TIMESTAMP".into(), ts.to_owned()),
    ];
    if passphrase {
        headers.push(("OK-ACCESS-PASSPHRASE".into(), HIDDEN.into()));
    }
    if req.method == "POST" {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(Signed {
        signed: String::from_utf8_lossy(&signed).into_owned(),
        headers,
        signature,
    })
}

/// `2020-12-08T09:08:57.715Z`.
fn iso_millis_form(ts: &str) -> bool {
    let b = ts.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            23 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::super::sign_request;
    use super::*;
    use crate::config::VenueKind;

    #[test]
    fn okx_request_form_signs_the_independent_vectors() {
        // exchanges.md §2.5; computed outside mako (Python's hmac, hashlib and base64).
        let secret = Secret::new("22582BD0CFF14C41EDBF1AB98506286D");
        let req = Request {
            method: "GET".into(),
            path: "/api/v5/account/balance?ccy=BTC".into(),
            body: String::new(),
            timestamp: "2020-12-08T09:08:57.715Z".into(),
        };
        let s = sign_request(VenueKind::OkxSpot, &req, &secret, Some("k"), true).unwrap();
        assert_eq!(
            s.signed,
            "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
        );
        assert_eq!(s.signature, "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=");
        assert!(
            s.headers
                .contains(&("OK-ACCESS-SIGN".into(), s.signature.clone()))
        );
        assert!(
            s.headers
                .iter()
                .any(|(k, v)| k == "OK-ACCESS-PASSPHRASE" && v == HIDDEN)
        );
        let login = Request {
            method: "GET".into(),
            path: "/users/self/verify".into(),
            body: String::new(),
            timestamp: "1538054050".into(),
        };
        let s = sign_request(VenueKind::OkxSpot, &login, &secret, None, false).unwrap();
        assert_eq!(s.signature, "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=");
        let bad = Request {
            timestamp: "1538054050".into(),
            ..req
        };
        assert!(sign_request(VenueKind::OkxSpot, &bad, &secret, None, false).is_err());
    }
}
