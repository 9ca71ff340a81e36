//! Coinbase Advanced Trade (exchanges.md §4.1): the JWT mako would send, decoded.

use std::process::ExitCode;

use super::{Args, USAGE};
use crate::config::Secret;

/// What `mako sign --venue coinbase` prints: the token, then its decoded header and claims.
pub struct CoinbaseSigned {
    pub jwt: String,
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
}

/// The JWT Coinbase would receive for `METHOD path` on `host` (REST), or for a WebSocket
/// subscribe when `request` is `None`, signed at Unix second `now_s`.
pub fn coinbase_jwt(
    key_name: &Secret,
    secret: &Secret,
    request: Option<(&str, &str)>,
    host: &str,
    now_s: u64,
) -> Result<CoinbaseSigned, String> {
    use crate::venue::coinbase::jwt;
    let signer = jwt::JwtSigner::new(key_name, secret).map_err(|e| e.to_string())?;
    let token = match request {
        Some((method, path)) => {
            if !path.starts_with('/') {
                return Err(format!(
                    "--path {path:?}: give the request path, e.g. /api/v3/brokerage/accounts"
                ));
            }
            signer.rest_token(now_s, method, host, path)
        }
        None => signer.ws_token(now_s),
    }
    .map_err(|e| e.to_string())?;
    let d = jwt::decode(&token).map_err(|e| e.to_string())?;
    Ok(CoinbaseSigned {
        jwt: token,
        header: d.header,
        claims: d.claims,
    })
}
pub(super) fn run(a: &Args, secret: &Secret, key: Option<&Secret>) -> ExitCode {
    let Some(key) = key else {
        eprintln!("mako sign: coinbase needs --key-env (the key name, organizations/…/apiKeys/…)");
        return ExitCode::from(2);
    };
    let request = match (&a.method, &a.path, a.ws) {
        (Some(m), Some(p), false) => Some((m.as_str(), p.as_str())),
        (None, None, true) => None,
        _ => {
            eprintln!(
                "mako sign: coinbase: give --method and --path (a REST request), or --ws (a \
                 WebSocket subscribe token)\n{USAGE}"
            );
            return ExitCode::from(2);
        }
    };
    let now_s = match &a.timestamp {
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        Some(t) => match t.parse::<u64>() {
            Ok(s) => s,
            Err(_) => {
                eprintln!("mako sign: --timestamp {t:?}: coinbase wants Unix seconds (nbf)");
                return ExitCode::from(2);
            }
        },
    };
    let host = a
        .host
        .as_deref()
        .unwrap_or(crate::venue::coinbase::jwt::REST_HOST);
    match coinbase_jwt(key, secret, request, host, now_s) {
        Ok(s) => {
            println!("jwt: {}", s.jwt);
            println!("header: {}", s.header);
            println!("claims: {}", s.claims);
            println!(
                "send: {}",
                if request.is_some() {
                    "Authorization: Bearer <jwt> (valid 120 s, for this method and path only)"
                } else {
                    "the subscribe message's \"jwt\" field (valid 120 s)"
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mako sign: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Request, sign_request};
    use super::*;
    use crate::config::VenueKind;

    #[test]
    fn coinbase_prints_a_token_that_verifies() {
        use crate::venue::coinbase::jwt;
        let name = "organizations/test-organization/apiKeys/test-api-key";
        let secret = Secret::new(
            "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==",
        );
        let s = coinbase_jwt(
            &Secret::new(name),
            &secret,
            Some(("POST", "/api/v3/brokerage/orders")),
            jwt::REST_HOST,
            1_700_000_000,
        )
        .unwrap();
        assert_eq!(s.header["alg"], "EdDSA");
        assert_eq!(
            s.claims["uri"],
            "POST api.coinbase.com/api/v3/brokerage/orders"
        );
        assert_eq!(s.claims["exp"], 1_700_000_120u64);
        let pk = jwt::JwtSigner::new(&Secret::new(name), &secret)
            .unwrap()
            .public_key();
        jwt::verify(
            &s.jwt,
            name,
            &pk,
            1_700_000_000,
            Some("POST api.coinbase.com/api/v3/brokerage/orders"),
        )
        .unwrap();
        let ws = coinbase_jwt(&Secret::new(name), &secret, None, jwt::REST_HOST, 5).unwrap();
        assert!(ws.claims.get("uri").is_none());
        assert!(
            coinbase_jwt(
                &Secret::new(name),
                &secret,
                Some(("GET", "accounts")),
                "h",
                5
            )
            .is_err()
        );
        let req = Request {
            method: "GET".into(),
            path: "/".into(),
            body: String::new(),
            timestamp: "1".into(),
        };
        assert!(sign_request(VenueKind::Coinbase, &req, &secret, None, false).is_err());
    }
}
