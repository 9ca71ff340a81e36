//! Delta Exchange (reference/delta.md §2.4): METHOD + timestamp + path + ?query + body.

use super::{Request, Signed};
use crate::config::Secret;

pub(super) fn sign(req: &Request, secret: &Secret, key: String) -> Result<Signed, String> {
    use crate::venue::delta::sign::DeltaSigner;
    let secs: u64 = req
        .timestamp
        .parse()
        .map_err(|_| format!("--timestamp {:?}: Delta wants Unix seconds", req.timestamp))?;
    // METHOD + timestamp + path + ?query + body, each exactly as sent.
    let (path, query) = match req.path.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (req.path.as_str(), String::new()),
    };
    let signer = DeltaSigner::from_bytes(&key, secret.expose().as_bytes());
    let headers = signer
        .headers(&req.method, secs, path, &query, req.body.as_bytes())
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<Vec<_>>();
    let signature = headers[1].1.clone();
    Ok(Signed {
        signed: format!("{}{secs}{path}{query}{}", req.method, req.body),
        headers,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::super::sign_request;
    use super::*;
    use crate::config::VenueKind;

    #[test]
    fn delta_signs_method_time_path_query_and_body() {
        // The India docs' sample secret and the reference's vectors (reference/delta.md §2.4,
        // computed with Python's hmac).
        let secret = Secret::new("7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f");
        let get = Request {
            method: "GET".into(),
            path: "/v2/orders?product_id=1&state=open".into(),
            body: String::new(),
            timestamp: "1542110948".into(),
        };
        for kind in [VenueKind::DeltaIndia, VenueKind::DeltaGlobal] {
            let s = sign_request(kind, &get, &secret, Some("k"), false).unwrap();
            assert_eq!(s.signed, "GET1542110948/v2/orders?product_id=1&state=open");
            assert_eq!(
                s.signature,
                "4e38dda3e6477092f360ba70399266d8145630b22bcc34c0ec7f804d5746877a"
            );
            assert_eq!(s.headers[0], ("api-key".to_owned(), "k".to_owned()));
            assert_eq!(
                s.headers[2],
                ("timestamp".to_owned(), "1542110948".to_owned())
            );
        }
        let del = Request {
            method: "DELETE".into(),
            path: "/v2/orders".into(),
            body: r#"{"id":13452112,"product_id":27}"#.into(),
            timestamp: "1542110948".into(),
        };
        let s = sign_request(VenueKind::DeltaIndia, &del, &secret, None, false).unwrap();
        assert_eq!(
            s.signature,
            "cfa1ca2b474e7c2d71ef63b974b070a2330aaa554d84e01b3fe3d387bae2b51d"
        );
        let ms = Request {
            timestamp: "1542110948000x".into(),
            ..del
        };
        assert!(sign_request(VenueKind::DeltaIndia, &ms, &secret, None, false).is_err());
    }
}
