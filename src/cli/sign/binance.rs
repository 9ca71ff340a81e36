//! Binance (exchanges.md §1.4): the request form of `mako sign` (the `--payload` form is in
//! the module's `run`).

use super::{Request, Signed, encode_non_ascii};
use crate::config::Secret;
use crate::venue::binance::sign::HmacSigner;

/// The query (with `timestamp=<ts>` added when it has none) followed by the body.
pub(super) fn sign(req: &Request, secret: &Secret, key: String) -> Result<Signed, String> {
    let ms: u64 = req.timestamp.parse().map_err(|_| {
        format!(
            "--timestamp {:?}: Binance wants Unix milliseconds",
            req.timestamp
        )
    })?;
    let query = req.path.split_once('?').map_or("", |(_, q)| q);
    let mut signed = encode_non_ascii(query);
    if !signed.split('&').any(|kv| kv.starts_with("timestamp=")) {
        if !signed.is_empty() {
            signed.push('&');
        }
        signed.push_str(&format!("timestamp={ms}"));
    }
    signed.push_str(&encode_non_ascii(&req.body));
    let sig = HmacSigner::new(secret).sign_hex(signed.as_bytes());
    let signature = String::from_utf8_lossy(&sig).into_owned();
    Ok(Signed {
        signed,
        headers: vec![("X-MBX-APIKEY".into(), key)],
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::super::sign_request;
    use super::*;
    use crate::config::VenueKind;

    #[test]
    fn binance_request_form_signs_the_documented_vector() {
        // Binance's documented HMAC example (exchanges.md §1.5).
        let secret =
            Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j");
        let req = Request {
            method: "POST".into(),
            path: "/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000".into(),
            body: String::new(),
            timestamp: "1499827319559".into(),
        };
        let s = sign_request(VenueKind::BinanceSpot, &req, &secret, Some("k"), false).unwrap();
        assert_eq!(
            s.signed,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            s.signature,
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        assert_eq!(s.headers, vec![("X-MBX-APIKEY".to_owned(), "k".to_owned())]);
        let bad = Request {
            timestamp: "2020-12-08T09:08:57.715Z".into(),
            ..req
        };
        assert!(sign_request(VenueKind::BinanceSpot, &bad, &secret, None, false).is_err());
    }
}
