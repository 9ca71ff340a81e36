//! Binance request signing (HMAC-SHA256, hex), pre-keyed so a signature costs one pass of
//! SHA-256 over the payload, and a query builder whose signed bytes are the sent bytes.
//!
//! REST: the payload is the query string followed by the body with no separator, signed
//! exactly as sent (non-ASCII percent-encoded first). WebSocket API: parameters sorted by
//! name, joined `k=v&…`, not percent-encoded (reference/exchanges.md §1.4).

use crate::types::{Price, Qty};

pub use crate::venue::sign::HmacSigner;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Builds a REST query string (or form body) in a reused buffer, then signs exactly those
/// bytes and appends `signature=`. There is no way to obtain the signed request other than
/// through [`QueryBuilder::sign`], which returns the one buffer that was signed.
pub struct QueryBuilder<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> QueryBuilder<'a> {
    /// Starts a query in `buf` (cleared; its capacity is reused).
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.clear();
        Self { buf }
    }

    fn key(&mut self, k: &str) {
        if !self.buf.is_empty() {
            self.buf.push(b'&');
        }
        self.buf.extend_from_slice(k.as_bytes());
        self.buf.push(b'=');
    }

    /// A text value, percent-encoded where needed (Binance: encode before signing).
    pub fn str(mut self, k: &str, v: &str) -> Self {
        self.key(k);
        percent_encode_into(v.as_bytes(), self.buf);
        self
    }

    pub fn u64(mut self, k: &str, v: u64) -> Self {
        self.key(k);
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
        self
    }

    /// A price written with exactly `decimals` fractional digits.
    pub fn price(mut self, k: &str, v: Price, decimals: u32) -> Self {
        self.key(k);
        let mut tmp = [0u8; 32];
        let n = v.write_fixed(decimals, &mut tmp);
        self.buf.extend_from_slice(&tmp[..n]);
        self
    }

    /// A quantity written with exactly `decimals` fractional digits.
    pub fn qty(mut self, k: &str, v: Qty, decimals: u32) -> Self {
        self.key(k);
        let mut tmp = [0u8; 32];
        let n = v.write_fixed(decimals, &mut tmp);
        self.buf.extend_from_slice(&tmp[..n]);
        self
    }

    /// Signs everything written so far and appends `&signature=<hex>`; returns the full
    /// query, which is exactly the signed bytes plus the signature.
    pub fn sign(mut self, signer: &HmacSigner) -> &'a [u8] {
        let sig = signer.sign_hex(self.buf);
        self.key("signature");
        self.buf.extend_from_slice(&sig);
        self.buf
    }

    /// The unsigned query (public endpoints).
    pub fn finish(self) -> &'a [u8] {
        self.buf
    }
}

/// Percent-encodes the bytes that are not unreserved in a query value (RFC 3986), which is
/// what Binance signs for non-ASCII symbols.
pub fn percent_encode_into(v: &[u8], out: &mut Vec<u8>) {
    for &b in v {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.push(b'%');
            out.push(HEX[usize::from(b >> 4)].to_ascii_uppercase());
            out.push(HEX[usize::from(b & 0xf)].to_ascii_uppercase());
        }
    }
}

/// The WebSocket API's string to sign: parameters sorted by name, `k=v` joined by `&`,
/// values as they are (UTF-8, not percent-encoded).
pub fn ws_api_payload(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().filter(|(k, _)| *k != "signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = String::new();
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn builder_signs_exactly_what_it_sends() {
        let signer = HmacSigner::from_bytes(SECRET.as_bytes());
        let mut buf = Vec::new();
        let q = QueryBuilder::new(&mut buf)
            .str("symbol", "LTCBTC")
            .str("side", "BUY")
            .str("type", "LIMIT")
            .str("timeInForce", "GTC")
            .qty("quantity", Qty::from_int(1), 0)
            .price("price", Price::parse("0.1").unwrap(), 1)
            .u64("recvWindow", 5000)
            .u64("timestamp", 1_499_827_319_559)
            .sign(&signer);
        assert_eq!(
            std::str::from_utf8(q).unwrap(),
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000\
             &timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn non_ascii_symbols_are_encoded_before_signing() {
        let signer = HmacSigner::from_bytes(SECRET.as_bytes());
        let mut buf = Vec::new();
        let q = QueryBuilder::new(&mut buf)
            .str("symbol", "１２３４５６")
            .str("side", "BUY")
            .str("type", "LIMIT")
            .str("timeInForce", "GTC")
            .u64("quantity", 1)
            .str("price", "0.1")
            .u64("recvWindow", 5000)
            .u64("timestamp", 1_499_827_319_559)
            .sign(&signer);
        let q = std::str::from_utf8(q).unwrap();
        assert!(
            q.starts_with("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY")
        );
        assert!(q.ends_with(
            "signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        ));
    }

    #[test]
    fn ws_api_payload_sorts_and_skips_signature() {
        let p = ws_api_payload(&[
            ("timestamp", "1"),
            ("apiKey", "k"),
            ("signature", "x"),
            ("symbol", "BTCUSDT"),
        ]);
        assert_eq!(p, "apiKey=k&symbol=BTCUSDT&timestamp=1");
    }

    #[test]
    fn signer_debug_hides_the_key() {
        let s = HmacSigner::from_bytes(SECRET.as_bytes());
        assert_eq!(format!("{s:?}"), "HmacSigner(***)");
    }
}
