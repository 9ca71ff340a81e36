//! Request authentication as Binance documents it (exchanges.md §1.4): HMAC-SHA256 over the
//! REST query string + body (no separator) or over the WS API's sorted parameters, and the
//! `timestamp` / `recvWindow` window.

use hmac::{KeyInit, Mac};
use serde_json::{Map, Value};

use super::exchange::ApiError;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub fn hmac_hex(secret: &str, payload: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(), // HMAC takes keys of any length; unreachable
    };
    mac.update(payload);
    let out = mac.finalize().into_bytes();
    out.iter().map(|b| format!("{b:02x}")).collect()
}

fn without_signature(s: &str) -> (String, Option<String>) {
    let mut sig = None;
    let kept: Vec<&str> = s
        .split('&')
        .filter(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if k == "signature" {
                sig = Some(v.to_string());
                false
            } else {
                true
            }
        })
        .collect();
    (kept.join("&"), sig)
}

/// The signed payload of a REST request and the signature it carries: the query string and
/// the body, each without their `signature` pair, concatenated without a separator.
pub fn rest_payload(query: &str, body: &str) -> (String, Option<String>) {
    let (q, s1) = without_signature(query);
    let (b, s2) = without_signature(body);
    (q + &b, s1.or(s2))
}

/// A WS API parameter value as it is signed: strings as they are, other JSON as written.
pub fn ws_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The signed payload of WS API params: every param but `signature`, sorted by name.
pub fn ws_payload(params: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = params.keys().filter(|k| *k != "signature").collect();
    keys.sort();
    keys.iter()
        .map(|k| format!("{k}={}", ws_value(&params[k.as_str()])))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks a hex HMAC signature (case-insensitive) against the payload.
pub fn verify(secret: &str, payload: &str, signature: Option<&str>) -> Result<(), ApiError> {
    let sig = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::mandatory("signature"))?;
    if hmac_hex(secret, payload.as_bytes()).eq_ignore_ascii_case(sig) {
        Ok(())
    } else {
        Err(ApiError::bad(
            -1022,
            "Signature for this request is not valid.",
        ))
    }
}

/// The documented timing rule: `timestamp < now + 1000 && now - timestamp <= recvWindow`.
/// `timestamp` may be in ms or µs; `recvWindow` is ms (up to three decimals), at most 60000.
pub fn check_timestamp(
    timestamp: Option<&str>,
    recv_window: Option<&str>,
    now_ms: u64,
) -> Result<(), ApiError> {
    let ts = timestamp
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::mandatory("timestamp"))?;
    let ts: u64 = ts.parse().map_err(|_| {
        ApiError::bad(
            -1100,
            "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.",
        )
    })?;
    // Microsecond timestamps have 16 digits; compare everything in µs.
    let ts_us = if ts >= 10_000_000_000_000 {
        ts
    } else {
        ts.saturating_mul(1000)
    };
    let window_us: u64 = match recv_window {
        None | Some("") => 5_000_000,
        Some(w) => {
            let p = crate::types::Price::parse(w).map_err(|_| {
                ApiError::bad(-1100, "Illegal characters found in parameter 'recvWindow'.")
            })?;
            let us = p.units() / 100_000; // units are 1e-8 ms; 1 µs = 1e-3 ms = 1e5 units
            if us > 60_000_000 {
                return Err(ApiError::bad(-1131, "recvWindow must be less than 60000"));
            }
            us as u64
        }
    };
    let now_us = now_ms * 1000;
    if ts_us >= now_us + 1_000_000 {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if now_us.saturating_sub(ts_us) > window_us {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::DOC_SECRET;

    #[test]
    fn official_rest_vectors() {
        let (p, s) = rest_payload(
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
            "",
        );
        assert_eq!(
            p,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert!(verify(DOC_SECRET, &p, s.as_deref()).is_ok());
        // Mixed query + body (legacy example 3): concatenated without '&'.
        let (p, _) = rest_payload(
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
            "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=x",
        );
        assert_eq!(
            hmac_hex(DOC_SECRET, p.as_bytes()),
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
        assert_eq!(verify(DOC_SECRET, &p, Some("00")).unwrap_err().code, -1022);
    }

    #[test]
    fn timestamp_window() {
        let now = 1_700_000_000_000;
        assert!(check_timestamp(Some(&now.to_string()), None, now).is_ok());
        assert!(check_timestamp(Some(&(now - 4_000).to_string()), None, now).is_ok());
        assert_eq!(
            check_timestamp(Some(&(now - 6_000).to_string()), None, now)
                .unwrap_err()
                .code,
            -1021
        );
        assert!(check_timestamp(Some(&(now - 6_000).to_string()), Some("10000"), now).is_ok());
        assert_eq!(
            check_timestamp(Some(&(now + 1_000).to_string()), None, now)
                .unwrap_err()
                .code,
            -1021
        );
        assert!(check_timestamp(Some(&(now * 1000).to_string()), None, now).is_ok());
        assert_eq!(
            check_timestamp(Some("1"), Some("70000"), now)
                .unwrap_err()
                .code,
            -1131
        );
        assert_eq!(check_timestamp(None, None, now).unwrap_err().code, -1102);
    }
}
