//! HMAC-SHA256 request signing shared by venues (Binance prints it in hex, OKX in Base64),
//! pre-keyed so a signature costs one pass of SHA-256 over the payload.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

/// A signer holding the HMAC state already keyed with the secret. Cloning it per signature
/// skips re-hashing the key. `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct HmacSigner {
    keyed: HmacSha256,
}

impl std::fmt::Debug for HmacSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacSigner(***)")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of a 32-byte tag.
fn hex(tag: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, b) in tag.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    out
}

impl HmacSigner {
    pub fn new(secret: &Secret) -> Self {
        Self::from_bytes(secret.expose().as_bytes())
    }

    /// From raw key bytes (tests with the documentation's published key).
    pub fn from_bytes(key: &[u8]) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self { keyed }
    }

    /// The HMAC-SHA256 of `payload`.
    #[inline]
    pub fn sign_raw(&self, payload: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }

    /// Lowercase hex HMAC-SHA256 of `payload` (Binance).
    #[inline]
    pub fn sign_hex(&self, payload: &[u8]) -> [u8; 64] {
        hex(&self.sign_raw(payload))
    }

    /// Lowercase hex HMAC-SHA256 of `parts` joined, without joining them (BitMart's
    /// `timestamp#memo#payload`).
    #[inline]
    pub fn sign_hex_parts(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut mac = self.keyed.clone();
        for p in parts {
            mac.update(p);
        }
        hex(&mac.finalize().into_bytes().into())
    }

    /// Base64 (standard, padded) HMAC-SHA256 of `payload` (OKX): 44 ASCII bytes.
    #[inline]
    pub fn sign_base64(&self, payload: &[u8]) -> [u8; 44] {
        use base64::Engine as _;
        let tag = self.sign_raw(payload);
        let mut out = [0u8; 44];
        // 32 bytes always encode to exactly 44: the slice is the right size.
        let _ = base64::engine::general_purpose::STANDARD.encode_slice(tag, &mut out);
        out
    }
}
