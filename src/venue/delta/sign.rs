//! Delta Exchange signing (reference/delta.md §2, §3.3). REST: `signature = lowercase hex
//! HMAC-SHA256(secret, METHOD + timestamp + path + query + body)`, the path with its `/v2`, the
//! query with its leading `?` (empty without one), the body exactly as sent (empty without
//! one), the timestamp Unix seconds; sent as the headers `api-key`, `signature`, `timestamp`,
//! with `User-Agent` (the CDN refuses requests without) and `Content-Type: application/json`.
//! A signature is accepted for 5 seconds. WebSocket auth: the same HMAC of
//! `"GET" + timestamp + "/live"` in `{"type":"key-auth","payload":{"api-key":…,"timestamp":…,
//! "signature":…}}` (India since 2025-10; global documents only `"type":"auth"` with the same
//! payload, which is what is sent there — unconfirmed which one global accepts now).
//! Pre-keyed: a signature costs one SHA-256 pass over its parts, fed without being joined.

use crate::config::Secret;
use crate::venue::sign::HmacSigner;

use super::Platform;

/// How long a signature is accepted (§2.3).
pub const SIGNATURE_WINDOW_S: u64 = 5;

/// The `User-Agent` sent with every request (§2.1: required by Delta's CDN).
pub const USER_AGENT: &str = concat!("mako/", env!("CARGO_PKG_VERSION"));

/// Digits of a `u64` into `buf`, returning the written slice.
pub(super) fn digits(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = buf.len();
    let mut v = v;
    loop {
        n -= 1;
        buf[n] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[n..]
}

/// A Delta API key's signer. `Debug` shows nothing of the secret.
#[derive(Clone)]
pub struct DeltaSigner {
    hmac: HmacSigner,
    api_key: String,
}

impl std::fmt::Debug for DeltaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeltaSigner({}, ***)", self.api_key)
    }
}

impl DeltaSigner {
    pub fn new(api_key: &str, secret: &Secret) -> Self {
        Self::from_bytes(api_key, secret.expose().as_bytes())
    }

    /// From raw key bytes (tests).
    pub fn from_bytes(api_key: &str, secret: &[u8]) -> Self {
        Self {
            hmac: HmacSigner::from_bytes(secret),
            api_key: api_key.to_owned(),
        }
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The `signature` header of a request: `method` upper case (`GET`), `path` with `/v2`,
    /// `query` with its `?` or empty, `body` as sent or empty, `timestamp_s` Unix seconds.
    #[inline]
    pub fn sign_rest(
        &self,
        method: &str,
        timestamp_s: u64,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> [u8; 64] {
        let mut t = [0u8; 20];
        self.hmac.sign_hex_parts(&[
            method.as_bytes(),
            digits(timestamp_s, &mut t),
            path.as_bytes(),
            query.as_bytes(),
            body,
        ])
    }

    /// The `signature` of `method + timestamp + segments…`, the segments being the path and
    /// whatever follows it as sent (`?` and the query, a path parameter, or the body), fed to
    /// the HMAC without being joined.
    #[inline]
    pub fn sign_segments(&self, method: &str, timestamp_s: u64, segments: &[&[u8]]) -> [u8; 64] {
        let mut t = [0u8; 20];
        let mut parts: [&[u8]; 6] = [b""; 6];
        parts[0] = method.as_bytes();
        parts[1] = digits(timestamp_s, &mut t);
        debug_assert!(segments.len() <= 4, "Invariant: at most four segments");
        let n = segments.len().min(4);
        parts[2..2 + n].copy_from_slice(&segments[..n]);
        self.hmac.sign_hex_parts(&parts[..2 + n])
    }

    /// The headers of a signed request, in the order sent.
    pub fn headers(
        &self,
        method: &str,
        timestamp_s: u64,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        let sig = self.sign_rest(method, timestamp_s, path, query, body);
        vec![
            ("api-key", self.api_key.clone()),
            ("signature", String::from_utf8_lossy(&sig).into_owned()),
            ("timestamp", timestamp_s.to_string()),
            ("User-Agent", USER_AGENT.to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ]
    }

    /// The signature of a WebSocket auth at `timestamp_s`.
    pub fn sign_ws(&self, timestamp_s: u64) -> [u8; 64] {
        let mut t = [0u8; 20];
        self.hmac
            .sign_hex_parts(&[b"GET", digits(timestamp_s, &mut t), b"/live"])
    }

    /// The private WebSocket's auth message at `timestamp_s`: `key-auth` on India, `auth` on
    /// global (its docs show only that); the timestamp as a string, as the official sample
    /// code sends it.
    pub fn ws_auth(&self, platform: Platform, timestamp_s: u64) -> String {
        let sig = self.sign_ws(timestamp_s);
        let kind = match platform {
            Platform::India => "key-auth",
            Platform::Global => "auth",
        };
        serde_json::json!({
            "type": kind,
            "payload": {
                "api-key": self.api_key,
                "signature": String::from_utf8_lossy(&sig),
                "timestamp": timestamp_s.to_string(),
            }
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The India docs' shell sample's secret (a published example, not a secret).
    const SECRET: &[u8] = b"7b6f39dcf660ec1c7c664f612c60410a2bd0c258416b498bf0311f94228f";
    const TS: u64 = 1_542_110_948;

    fn s() -> DeltaSigner {
        DeltaSigner::from_bytes("a207900b7693435a8fa9230a38195d", SECRET)
    }

    fn hex(b: [u8; 64]) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    /// The reference's table (§2.4, COMPUTED with Python's hmac), including the docs' printed
    /// signature, which was made over the pre-`/v2` path.
    #[test]
    fn the_reference_vectors() {
        let s = s();
        for (method, path, query, body, want) in [
            (
                "GET",
                "/v2/orders",
                "?product_id=1&state=open",
                "",
                "4e38dda3e6477092f360ba70399266d8145630b22bcc34c0ec7f804d5746877a",
            ),
            (
                "GET",
                "/orders",
                "?product_id=1&state=open",
                "",
                "ad767fead0bdbe91ba1e4feb142079245fecd66aa5e47a70b40ba1a4c9b4e3db",
            ),
            (
                "POST",
                "/v2/orders",
                "",
                r#"{"order_type":"limit_order","size":3,"side":"buy","limit_price":"0.0005","product_id":16}"#,
                "21227523c4a51990f857251a8397466b975c46d9afecc62db9abbe5a92f43964",
            ),
            (
                "DELETE",
                "/v2/orders",
                "",
                r#"{"id":13452112,"product_id":27}"#,
                "cfa1ca2b474e7c2d71ef63b974b070a2330aaa554d84e01b3fe3d387bae2b51d",
            ),
            (
                "GET",
                "/v2/wallet/balances",
                "",
                "",
                "43df1e451b33a8ccc5789a00d6543784430665533f6b1a837ef67035f14aed4c",
            ),
        ] {
            assert_eq!(
                hex(s.sign_rest(method, TS, path, query, body.as_bytes())),
                want,
                "{method} {path}{query}"
            );
        }
        assert_eq!(
            hex(s.sign_ws(TS)),
            "ded5dbc0ebdbfba13e67d156ae2ed86a674396b933d27b3062b43848e3d6cf61"
        );
    }

    /// Computed here, independently of mako and of the reference, with:
    /// `python3 -c 'import hmac,hashlib; print(hmac.new(b"mako-test-secret", b"PUT1767225600/v2/orders{\"id\":42,\"product_id\":27,\"limit_price\":\"60000.5\",\"size\":7}", hashlib.sha256).hexdigest())'`
    #[test]
    fn an_edit_signed_independently_with_python() {
        let s = DeltaSigner::from_bytes("k", b"mako-test-secret");
        assert_eq!(
            hex(s.sign_rest(
                "PUT",
                1_767_225_600,
                "/v2/orders",
                "",
                br#"{"id":42,"product_id":27,"limit_price":"60000.5","size":7}"#
            )),
            "ef5534fab1bc3c8d84b7ea7aac967c977f7c5360e360ca5853d6c45043f1e9f9"
        );
    }

    #[test]
    fn the_ws_auth_message_per_platform() {
        let s = s();
        let india: serde_json::Value =
            serde_json::from_str(&s.ws_auth(Platform::India, TS)).unwrap();
        assert_eq!(
            india,
            serde_json::json!({"type": "key-auth", "payload": {
                "api-key": "a207900b7693435a8fa9230a38195d",
                "signature": "ded5dbc0ebdbfba13e67d156ae2ed86a674396b933d27b3062b43848e3d6cf61",
                "timestamp": "1542110948"}})
        );
        let global: serde_json::Value =
            serde_json::from_str(&s.ws_auth(Platform::Global, TS)).unwrap();
        assert_eq!(global["type"], "auth");
        assert_eq!(global["payload"], india["payload"]);
        // Debug shows no secret.
        assert_eq!(
            format!("{s:?}"),
            "DeltaSigner(a207900b7693435a8fa9230a38195d, ***)"
        );
    }

    #[test]
    fn headers_carry_the_user_agent() {
        let h = s().headers("GET", TS, "/v2/wallet/balances", "", b"");
        let names: Vec<&str> = h.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "api-key",
                "signature",
                "timestamp",
                "User-Agent",
                "Content-Type"
            ]
        );
        assert_eq!(
            h[1].1,
            "43df1e451b33a8ccc5789a00d6543784430665533f6b1a837ef67035f14aed4c"
        );
        assert_eq!(h[2].1, "1542110948");
    }
}
