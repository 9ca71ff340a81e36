//! Coinstore signing (exchanges.md §6.2): a key for the 30-second bucket of `X-CS-EXPIRES`,
//! `hex(HMAC-SHA256(secret, floor(expires / 30000)))`, whose lowercase hex text (as ASCII
//! bytes, not the digest) keys `X-CS-SIGN = hex(HMAC-SHA256(key, payload))`. The payload is
//! the bytes sent: a GET's query string without `?`, a POST's JSON body, or both in that
//! order. A signature is valid only inside its bucket. The bucket's key is derived once and
//! kept, so a request costs one HMAC, not two.

use crate::config::Secret;
use crate::venue::sign::HmacSigner;

/// Milliseconds per signing bucket.
pub const BUCKET_MS: u64 = 30_000;

/// One Coinstore key: the secret pre-keyed, and the last bucket's derived signer.
pub struct CoinstoreSigner {
    secret: HmacSigner,
    /// The bucket `keyed` was derived for.
    bucket: u64,
    keyed: Option<HmacSigner>,
}

impl std::fmt::Debug for CoinstoreSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CoinstoreSigner(***)")
    }
}

impl CoinstoreSigner {
    pub fn new(secret: &Secret) -> Self {
        Self::from_bytes(secret.expose().as_bytes())
    }

    fn from_bytes(secret: &[u8]) -> Self {
        Self {
            secret: HmacSigner::from_bytes(secret),
            bucket: u64::MAX,
            keyed: None,
        }
    }

    /// The derived key of the bucket of `expires_ms`: 64 lowercase hex characters.
    pub fn bucket_key(&self, expires_ms: u64) -> [u8; 64] {
        let bucket = (expires_ms / BUCKET_MS).to_string();
        self.secret.sign_hex(bucket.as_bytes())
    }

    /// `X-CS-SIGN` of `payload` sent with `X-CS-EXPIRES = expires_ms`.
    pub fn sign(&mut self, expires_ms: u64, payload: &[u8]) -> [u8; 64] {
        let bucket = expires_ms / BUCKET_MS;
        let keyed = match self.keyed.take() {
            Some(k) if self.bucket == bucket => k,
            _ => HmacSigner::from_bytes(&self.bucket_key(expires_ms)),
        };
        self.bucket = bucket;
        let sign = keyed.sign_hex(payload);
        self.keyed = Some(keyed);
        sign
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed with Python's hmac (exchanges.md §6.2 gives the same, marked COMPUTED: the
    // docs publish no vector):
    //   tk = str(expires // 30000); key = hmac.new(secret, tk, sha256).hexdigest()
    //   hmac.new(key.encode(), payload, sha256).hexdigest()
    const SECRET: &[u8] = b"your_secret_key";
    const GET: &[u8] = b"symbol=aaaa88&size=10";

    #[test]
    fn the_computed_vectors() {
        let mut s = CoinstoreSigner::from_bytes(SECRET);
        assert_eq!(
            &s.bucket_key(1_627_384_801_051),
            b"0d222f1ef8e2ecd955dbe429fff57553e2a3bcc2108b956af186acbec5362cab"
        );
        let post = br#"{"symbol":"aaaa88","side":"SELL","ordType":"LIMIT","ordPrice":2,"ordQty":1,"timestamp":1627384801051}"#;
        assert_eq!(
            &s.sign(1_627_384_801_051, post),
            b"3ddc2fb3ef509a93f98f354f807c7dc622301fffd70a9590771eff0c50dcca33"
        );
        assert_eq!(
            &s.sign(1_627_384_801_051, GET),
            b"3936071e042f74ad163c53769627d8205480aed6246667b5df458cdb69fd4d41"
        );
    }

    #[test]
    fn a_signature_holds_inside_its_30_second_bucket_and_changes_on_both_sides_of_it() {
        let mut s = CoinstoreSigner::from_bytes(SECRET);
        let inside = b"3936071e042f74ad163c53769627d8205480aed6246667b5df458cdb69fd4d41";
        // The bucket 54246160 runs from 1627384800000 to 1627384829999 inclusive.
        assert_eq!(&s.sign(1_627_384_800_000, GET), inside);
        assert_eq!(&s.sign(1_627_384_829_999, GET), inside);
        assert_eq!(
            &s.sign(1_627_384_799_999, GET),
            b"9ce0706b82627c960f7f9a1db954f90c73725049e1f16f14f2debc3ff57febac"
        );
        assert_eq!(
            &s.sign(1_627_384_830_000, GET),
            b"c467c4fa9260773026f5be45e6b67c05bc0c465d9e7b4bbb1057f845aa2d8d68"
        );
        // Back in the first bucket: the kept key is re-derived, not reused.
        assert_eq!(&s.sign(1_627_384_801_051, GET), inside);
    }
}
