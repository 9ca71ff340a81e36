//! `mako sign`: prints the exact string mako signs for a request and its signature, so an
//! operator can debug a rejected key (-1022) by comparing with what they send.

use std::process::ExitCode;

use crate::config::SecretSource;
use crate::venue::binance::sign::{HmacSigner, ws_api_payload};

const USAGE: &str =
    "usage: mako sign --venue binance-spot --secret-env VAR --payload '<query>' [--ws-api]
  REST: the payload is the query string followed by the body (no separator), as sent;
        non-ASCII characters are percent-encoded before signing.
  --ws-api: the payload's parameters are sorted by name (WebSocket API rule), not encoded.";

pub fn run(args: &[String]) -> ExitCode {
    let mut venue = None;
    let mut secret_env = None;
    let mut payload = None;
    let mut ws_api = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--venue" => venue = it.next().cloned(),
            "--secret-env" => secret_env = it.next().cloned(),
            "--payload" => payload = it.next().cloned(),
            "--ws-api" => ws_api = true,
            other => {
                eprintln!("mako sign: unexpected argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(venue), Some(secret_env), Some(payload)) = (venue, secret_env, payload) else {
        eprintln!("mako sign: --venue, --secret-env and --payload are required\n{USAGE}");
        return ExitCode::from(2);
    };
    if venue != "binance-spot" {
        eprintln!("mako sign: unsupported venue {venue:?} (supported: binance-spot)");
        return ExitCode::from(2);
    }
    let secret = match SecretSource::Env(secret_env).load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mako sign: {e}");
            return ExitCode::from(1);
        }
    };
    let to_sign = if ws_api {
        let params: Vec<(&str, &str)> = payload
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .collect();
        ws_api_payload(&params)
    } else {
        encode_non_ascii(&payload)
    };
    let sig = HmacSigner::new(&secret).sign_hex(to_sign.as_bytes());
    println!("string to sign: {to_sign}");
    println!("signature:      {}", String::from_utf8_lossy(&sig));
    ExitCode::SUCCESS
}

/// Percent-encodes only non-ASCII bytes, leaving the query's own `&` and `=` as they are.
fn encode_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut b = [0u8; 4];
            for byte in ch.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_only_non_ascii() {
        assert_eq!(
            encode_non_ascii("symbol=１&side=BUY"),
            "symbol=%EF%BC%91&side=BUY"
        );
    }
}
