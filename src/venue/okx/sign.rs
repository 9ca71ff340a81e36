//! OKX v5 signing (exchanges.md §2.5–2.6): `Base64(HMAC-SHA256(secret, prehash))` with
//! `prehash = timestamp + METHOD + requestPath (with its query) + body`; REST timestamps are
//! ISO-8601 UTC with milliseconds, the WebSocket login's are Unix seconds over
//! `GET /users/self/verify`.

use crate::config::Secret;
use crate::venue::sign::HmacSigner;

/// `2020-12-08T09:08:57.715Z` for Unix milliseconds `ms`, written into `out` (24 bytes).
pub fn iso_millis(ms: u64, out: &mut [u8; 24]) {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut w = Writer { out, at: 0 };
    w.num(y as u64, 4);
    w.byte(b'-');
    w.num(u64::from(m), 2);
    w.byte(b'-');
    w.num(u64::from(d), 2);
    w.byte(b'T');
    w.num(hh, 2);
    w.byte(b':');
    w.num(mm, 2);
    w.byte(b':');
    w.num(ss, 2);
    w.byte(b'.');
    w.num(ms % 1000, 3);
    w.byte(b'Z');
}

struct Writer<'a> {
    out: &'a mut [u8; 24],
    at: usize,
}

impl Writer<'_> {
    fn byte(&mut self, b: u8) {
        self.out[self.at] = b;
        self.at += 1;
    }
    fn num(&mut self, mut v: u64, width: usize) {
        for k in (0..width).rev() {
            self.out[self.at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.at += width;
    }
}

/// The proleptic Gregorian date of day `z` since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An OKX key: the pre-keyed signer, the key and its passphrase. `Debug` shows none of them.
#[derive(Clone)]
pub struct OkxSigner {
    signer: HmacSigner,
    api_key: String,
    passphrase: String,
    /// Reused prehash buffer.
    prehash: Vec<u8>,
}

impl std::fmt::Debug for OkxSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OkxSigner(***)")
    }
}

impl OkxSigner {
    pub fn new(api_key: &Secret, secret: &Secret, passphrase: &Secret) -> Self {
        Self {
            signer: HmacSigner::new(secret),
            api_key: api_key.expose().to_owned(),
            passphrase: passphrase.expose().to_owned(),
            prehash: Vec::with_capacity(512),
        }
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn passphrase(&self) -> &str {
        &self.passphrase
    }

    /// The signature of a request: `timestamp` as sent in `OK-ACCESS-TIMESTAMP`, `method`
    /// upper case, `path` with its query, `body` exactly as sent (empty for GET).
    pub fn sign(&mut self, timestamp: &[u8], method: &str, path: &str, body: &[u8]) -> [u8; 44] {
        prehash(&mut self.prehash, timestamp, method, path, body);
        self.signer.sign_base64(&self.prehash)
    }

    /// The login signature for Unix seconds `ts` (`ts + "GET" + "/users/self/verify"`).
    pub fn login_sign(&mut self, ts: u64) -> [u8; 44] {
        let d = itoa_u64(ts);
        self.sign(&d.bytes[..d.len], "GET", "/users/self/verify", b"")
    }
}

/// The exact bytes signed: `timestamp + method + path + body`.
pub fn prehash(out: &mut Vec<u8>, timestamp: &[u8], method: &str, path: &str, body: &[u8]) {
    out.clear();
    out.extend_from_slice(timestamp);
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(body);
}

/// Decimal digits of `v`, inline.
pub struct Digits {
    pub bytes: [u8; 20],
    pub len: usize,
}

pub fn itoa_u64(mut v: u64) -> Digits {
    let mut tmp = [0u8; 20];
    let mut at = 20;
    loop {
        at -= 1;
        tmp[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let len = 20 - at;
    let mut bytes = [0u8; 20];
    bytes[..len].copy_from_slice(&tmp[at..]);
    Digits { bytes, len }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> OkxSigner {
        OkxSigner::new(
            &Secret::new("key"),
            &Secret::new("22582BD0CFF14C41EDBF1AB98506286D"),
            &Secret::new("pass"),
        )
    }

    #[test]
    fn iso_timestamps() {
        let mut b = [0u8; 24];
        iso_millis(1_607_418_537_715, &mut b);
        assert_eq!(&b, b"2020-12-08T09:08:57.715Z");
        iso_millis(0, &mut b);
        assert_eq!(&b, b"1970-01-01T00:00:00.000Z");
        iso_millis(951_782_400_001, &mut b);
        assert_eq!(&b, b"2000-02-29T00:00:00.001Z");
    }

    /// The vectors of exchanges.md §2.5, computed outside mako with Python's standard
    /// library, e.g. `python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
    /// b"22582BD0CFF14C41EDBF1AB98506286D", b"<prehash>", hashlib.sha256).digest()).decode())'`.
    #[test]
    fn documented_prehashes_sign_to_the_independent_vectors() {
        let mut s = signer();
        let sig = s.sign(
            b"2020-12-08T09:08:57.715Z",
            "GET",
            "/api/v5/account/balance?ccy=BTC",
            b"",
        );
        assert_eq!(&sig, b"HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=");
        let sig = s.sign(
            b"2020-12-08T09:08:57.715Z",
            "POST",
            "/api/v5/account/set-leverage",
            br#"{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}"#,
        );
        assert_eq!(&sig, b"eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8=");
        assert_eq!(
            &s.login_sign(1_538_054_050),
            b"+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="
        );
    }

    #[test]
    fn an_order_body_signs_as_python_computes_it() {
        // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
        //   b"22582BD0CFF14C41EDBF1AB98506286D", b"2026-12-05T04:00:00.000ZPOST/api/v5/trade/order"
        //   b"{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"b15\",\"side\":\"buy\","
        //   b"\"ordType\":\"limit\",\"px\":\"2.15\",\"sz\":\"2\"}", hashlib.sha256).digest()).decode())'
        let mut s = signer();
        let sig = s.sign(
            b"2026-12-05T04:00:00.000Z",
            "POST",
            "/api/v5/trade/order",
            br#"{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy","ordType":"limit","px":"2.15","sz":"2"}"#,
        );
        assert_eq!(std::str::from_utf8(&sig).unwrap(), PY_ORDER_SIG);
    }

    const PY_ORDER_SIG: &str = "MmjRpwQRX6P3CE5KMK/kLnZA19Mhuu4Fg0gq2wPGpDw=";
}
