//! BitMart (exchanges.md §5.2–5.3): `mako sign --venue bitmart-spot`, signed with the key's
//! memo: a REST request (`--method/--path/--timestamp`) or the private WebSocket's login
//! (`--ws --timestamp`), the latter printed as the exact message the session sends.

use std::process::ExitCode;

use super::{Args, Request, Signed, USAGE, load};
use crate::config::Secret;

/// Printed in place of a BitMart key's memo: it is part of the secret material.
const MEMO_HIDDEN: &str = "<the value of --memo-env>";

/// BitMart (exchanges.md §5.2): `X-BM-SIGN = hex(HMAC-SHA256(secret, timestamp#memo#payload))`,
/// the payload a POST's (or PUT's) body exactly as sent, empty for a GET or DELETE (as
/// BitMart's official SDK signs them; the docs say the query string: unconfirmed). The
/// memo is shown as a placeholder in `signed`.
pub fn bitmart_sign(
    req: &Request,
    secret: &Secret,
    memo: &Secret,
    key: Option<&str>,
) -> Result<Signed, String> {
    let ms: u64 = req.timestamp.parse().map_err(|_| {
        format!(
            "--timestamp {:?}: BitMart wants Unix milliseconds",
            req.timestamp
        )
    })?;
    let payload = if matches!(req.method.as_str(), "POST" | "PUT") {
        req.body.as_str()
    } else {
        ""
    };
    let sig =
        crate::venue::bitmart::sign::BitmartSigner::new(secret, memo).sign(ms, payload.as_bytes());
    let signature = String::from_utf8_lossy(&sig).into_owned();
    let mut headers = vec![
        (
            "X-BM-KEY".to_owned(),
            key.unwrap_or("<the value of --key-env>").to_owned(),
        ),
        ("X-BM-SIGN".to_owned(), signature.clone()),
        ("X-BM-TIMESTAMP".to_owned(), ms.to_string()),
    ];
    if payload.is_empty() {
        headers.push((
            "note".to_owned(),
            "a GET/DELETE signs an empty payload, as the official SDK does".to_owned(),
        ));
    }
    Ok(Signed {
        signed: format!("{ms}#{MEMO_HIDDEN}#{payload}"),
        headers,
        signature,
    })
}

/// The private WebSocket login at `--timestamp`: what is signed (memo hidden), the signature,
/// and the message mako's session writes (`BitmartSession::on_connected`, so the printed
/// bytes are the sent bytes).
pub struct BitmartWsLogin {
    pub signed: String,
    pub signature: String,
    pub message: String,
}

/// BitMart's login: `sign = hex(HMAC-SHA256(secret, timestamp#memo#bitmart.WebSocket))`, sent
/// as `{"op":"login","args":[key, timestamp, sign]}` (exchanges.md §5.6).
pub fn bitmart_ws_login(
    secret: &Secret,
    memo: &Secret,
    key: Option<&str>,
    timestamp: &str,
) -> Result<BitmartWsLogin, String> {
    use crate::venue::bitmart::session::BitmartSession;
    use crate::venue::bitmart::sign::WS_LOGIN_PAYLOAD;
    use crate::venue::order::OrderSession;
    let ms: u64 = timestamp.parse().map_err(|_| {
        format!("--timestamp {timestamp:?}: BitMart wants Unix milliseconds (valid 60 s)")
    })?;
    let key = Secret::new(key.unwrap_or("<the value of --key-env>"));
    let mut out = Vec::new();
    BitmartSession::new(&key, secret, memo, Vec::new()).on_connected(ms, &mut out);
    let message = String::from_utf8(out).map_err(|e| format!("login message: {e}"))?;
    let args = serde_json::from_str::<serde_json::Value>(&message)
        .ok()
        .and_then(|v| v["args"][2].as_str().map(str::to_owned))
        .ok_or_else(|| format!("the session wrote no login with a sign: {message}"))?;
    Ok(BitmartWsLogin {
        signed: format!(
            "{ms}#{MEMO_HIDDEN}#{}",
            String::from_utf8_lossy(WS_LOGIN_PAYLOAD)
        ),
        signature: args,
        message,
    })
}

fn run_ws(a: &Args, secret: &Secret, memo: &Secret, key: Option<&Secret>) -> ExitCode {
    let Some(timestamp) = &a.timestamp else {
        eprintln!("mako sign: bitmart-spot --ws: give --timestamp (Unix ms)\n{USAGE}");
        return ExitCode::from(2);
    };
    match bitmart_ws_login(secret, memo, key.map(Secret::expose), timestamp) {
        Ok(l) => {
            println!("signed: {}", l.signed);
            println!("signature: {}", l.signature);
            println!("send: {}", l.message);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mako sign: {e}");
            ExitCode::from(2)
        }
    }
}

pub(super) fn run(a: &Args, secret: &Secret, key: Option<&Secret>) -> ExitCode {
    let memo = match load(&a.memo_env) {
        Ok(Some(m)) => m,
        Ok(None) => {
            eprintln!("mako sign: bitmart-spot needs --memo-env (the memo the key was made with)");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("mako sign: {e}");
            return ExitCode::from(1);
        }
    };
    if a.ws {
        return run_ws(a, secret, &memo, key);
    }
    let (Some(method), Some(path), Some(timestamp)) = (&a.method, &a.path, &a.timestamp) else {
        eprintln!(
            "mako sign: bitmart-spot: give --method, --path and --timestamp (or --ws \
             --timestamp)\n{USAGE}"
        );
        return ExitCode::from(2);
    };
    let req = Request {
        method: method.clone(),
        path: path.clone(),
        body: a.body.clone().unwrap_or_default(),
        timestamp: timestamp.clone(),
    };
    match bitmart_sign(&req, secret, &memo, key.map(Secret::expose)) {
        Ok(s) => {
            println!("signed: {}", s.signed);
            for (k, v) in &s.headers {
                println!("header: {k}: {v}");
            }
            println!("signature: {}", s.signature);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mako sign: {e}");
            ExitCode::from(2)
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmart_signs_the_documentations_vector_with_the_memo_hidden() {
        let req = Request {
            method: "POST".into(),
            path: "/spot/v1/test-post".into(),
            body: r#"{"symbol":"BTC_USDT","price":"8600","count":"100"}"#.into(),
            timestamp: "1589793796145".into(),
        };
        let secret =
            Secret::new("6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9");
        let memo = Secret::new("test001");
        let s = bitmart_sign(&req, &secret, &memo, Some("k")).unwrap();
        assert_eq!(
            s.signature,
            "c31dc326bf87f38bfb49a3f8494961abfa291bd549d0d98d9578e87516cee46d"
        );
        assert_eq!(
            s.signed,
            r#"1589793796145#<the value of --memo-env>#{"symbol":"BTC_USDT","price":"8600","count":"100"}"#
        );
        assert!(!s.signed.contains("test001"));
        assert_eq!(s.headers[1], ("X-BM-SIGN".to_owned(), s.signature.clone()));
        let bad = Request {
            timestamp: "2020-05-18".into(),
            ..req
        };
        assert!(bitmart_sign(&bad, &secret, &memo, None).is_err());
    }

    #[test]
    fn bitmart_ws_login_is_the_documentations_request() {
        // exchanges.md §5.3, WebSocket login: the docs' key, secret, memo and timestamp; the
        // request compared with the docs' sample as JSON values.
        let secret =
            Secret::new("6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9");
        let memo = Secret::new("test001");
        let key = "80618e45710812162b04892c7ee5ead4a3cc3e56";
        let l = bitmart_ws_login(&secret, &memo, Some(key), "1589267764859").unwrap();
        assert_eq!(
            l.signature,
            "3ceeb7e1b8cb165a975e28a2e2dfaca4d30b358873c0351c1a071d8c83314556"
        );
        assert_eq!(
            l.signed,
            "1589267764859#<the value of --memo-env>#bitmart.WebSocket"
        );
        let sample = std::fs::read(format!(
            "{}/tests/fixtures/bitmart/samples/bitmart_ws_login_request.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let want: serde_json::Value = serde_json::from_slice(&sample).unwrap();
        let got: serde_json::Value = serde_json::from_str(&l.message).unwrap();
        assert_eq!(got, want);
        assert!(!l.message.contains("test001") && !l.message.contains("6c6c9854"));
        // Another memo is another signature; a timestamp not in ms is refused.
        let other = bitmart_ws_login(&secret, &Secret::new("test002"), Some(key), "1589267764859");
        assert_ne!(other.unwrap().signature, l.signature);
        assert!(bitmart_ws_login(&secret, &memo, None, "2020-05-12").is_err());
    }
}
