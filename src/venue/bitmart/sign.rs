//! BitMart signing (exchanges.md §5.2–5.3): `X-BM-SIGN = hex(HMAC-SHA256(secret,
//! timestamp + "#" + memo + "#" + payload))`, where the payload is a POST's JSON body exactly
//! as sent. The documentation and the official SDK disagree on what a signed GET signs: the
//! docs say its query string, the official Python SDK (and bitmart-skills) sign an empty
//! payload. This follows the SDK, the code BitMart ships (`get_payload`); nearly every signed
//! spot endpoint is a POST, and the engine sends none of the few signed GETs. The WebSocket
//! login signs the fixed payload `bitmart.WebSocket`.

use crate::config::Secret;
use crate::venue::sign::HmacSigner;

/// What a private WebSocket's login signs in place of a body.
pub const WS_LOGIN_PAYLOAD: &[u8] = b"bitmart.WebSocket";

/// One BitMart key: the secret pre-keyed, and the memo the key was created with (part of
/// every signature). `Debug` shows neither.
#[derive(Clone)]
pub struct BitmartSigner {
    hmac: HmacSigner,
    memo: Secret,
}

impl std::fmt::Debug for BitmartSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BitmartSigner(***)")
    }
}

/// The decimal digits of `ms` (at most 20), and how many.
pub(super) fn digits(ms: u64, buf: &mut [u8; 20]) -> usize {
    let mut n = 0;
    let mut v = ms;
    loop {
        buf[19 - n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.copy_within(20 - n.., 0);
    n
}

impl BitmartSigner {
    pub fn new(secret: &Secret, memo: &Secret) -> Self {
        Self {
            hmac: HmacSigner::new(secret),
            memo: memo.clone(),
        }
    }

    /// `X-BM-SIGN` of a request at `timestamp_ms` whose payload is `payload` (a POST's body
    /// as sent; empty for a GET or DELETE, as the SDK signs them).
    pub fn sign(&self, timestamp_ms: u64, payload: &[u8]) -> [u8; 64] {
        let mut ts = [0u8; 20];
        let n = digits(timestamp_ms, &mut ts);
        self.hmac
            .sign_hex_parts(&[&ts[..n], b"#", self.memo.expose().as_bytes(), b"#", payload])
    }

    /// The private WebSocket login's `sign` at `timestamp_ms`.
    pub fn ws_login(&self, timestamp_ms: u64) -> [u8; 64] {
        self.sign(timestamp_ms, WS_LOGIN_PAYLOAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's example key (exchanges.md §5.3).
    fn signer() -> BitmartSigner {
        BitmartSigner::new(
            &Secret::new("6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9"),
            &Secret::new("test001"),
        )
    }

    #[test]
    fn the_documentations_vectors() {
        let s = signer();
        // REST POST (Signature section), the body exactly as sent.
        let body = br#"{"symbol":"BTC_USDT","price":"8600","count":"100"}"#;
        assert_eq!(
            &s.sign(1_589_793_796_145, body),
            b"c31dc326bf87f38bfb49a3f8494961abfa291bd549d0d98d9578e87516cee46d"
        );
        // WebSocket login.
        assert_eq!(
            &s.ws_login(1_589_267_764_859),
            b"3ceeb7e1b8cb165a975e28a2e2dfaca4d30b358873c0351c1a071d8c83314556"
        );
        // A byte more or less in the body is another signature.
        let spaced = br#"{"symbol": "BTC_USDT","price":"8600","count":"100"}"#;
        assert_ne!(
            &s.sign(1_589_793_796_145, spaced),
            &s.sign(1_589_793_796_145, body)
        );
    }

    #[test]
    fn a_signed_get_signs_an_empty_payload_as_the_sdk_does() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"6c6c…9df9",
        //   b"1589267764859#test001#", hashlib.sha256).hexdigest())'
        let want = {
            use hmac::{Hmac, KeyInit, Mac};
            let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(
                b"6c6c98544461bbe71db2bca4c6d7fd0021e0ba9efc215f9c6ad41852df9d9df9",
            )
            .unwrap();
            m.update(b"1589267764859#test001#");
            m.finalize().into_bytes()
        };
        let got = signer().sign(1_589_267_764_859, b"");
        let hex: String = want.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(std::str::from_utf8(&got).unwrap(), hex);
        assert_eq!(digits(0, &mut [0; 20]), 1);
    }
}
