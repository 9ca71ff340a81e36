//! Ed25519 keys as venues hand them out, shared by the venues that take them (Binance's API
//! keys, Coinbase's CDP keys): the private key as base64 of the 32-byte seed or of seed ‖
//! public key (64 bytes), or as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what
//! `openssl genpkey -algorithm ed25519` and Binance's key generator write); the public key as
//! base64 of its 32 bytes or an SPKI PEM (`-----BEGIN PUBLIC KEY-----`). Signatures are
//! `ed25519-dalek`'s (RustCrypto's, pure Rust).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, Verifier as _};

/// The DER of a PKCS#8 v1 Ed25519 private key before its 32-byte seed (RFC 8410).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The DER of an SPKI Ed25519 public key before its 32 bytes (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a key could not be read. Never shows the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ed25519KeyError {
    #[error(
        "not an Ed25519 private key: give base64 of the 32-byte seed (or seed and public key, \
         64 bytes), or a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)"
    )]
    Unrecognised,
    #[error("a 64-byte Ed25519 key whose second half is not the public key of its first half")]
    Mismatch,
}

/// The body of a PEM block labelled `label`, decoded; `None` if `text` is not one.
fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    // PEMs pasted into environment variables often carry `\n` escapes instead of newlines.
    let text = text.replace("\\n", "\n");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    let b64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// Reads a private key (see the module docs).
pub fn signing_key(text: &str) -> Result<ed25519_dalek::SigningKey, Ed25519KeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let der = pem_body(text, "PRIVATE KEY").ok_or(Ed25519KeyError::Unrecognised)?;
        let seed: [u8; 32] = der
            .strip_prefix(&PKCS8_PREFIX[..])
            .and_then(|s| s.try_into().ok())
            .ok_or(Ed25519KeyError::Unrecognised)?;
        return Ok(ed25519_dalek::SigningKey::from_bytes(&seed));
    }
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| Ed25519KeyError::Unrecognised)?;
    match bytes.len() {
        32 => {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&bytes);
            Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
        }
        64 => {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&bytes[..32]);
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            if key.verifying_key().as_bytes()[..] != bytes[32..] {
                return Err(Ed25519KeyError::Mismatch);
            }
            Ok(key)
        }
        _ => Err(Ed25519KeyError::Unrecognised),
    }
}

/// Reads a public key: base64 of 32 bytes or an SPKI PEM.
pub fn verifying_key(text: &str) -> Option<ed25519_dalek::VerifyingKey> {
    let text = text.trim();
    let bytes: [u8; 32] = if text.starts_with("-----BEGIN") {
        pem_body(text, "PUBLIC KEY")?
            .strip_prefix(&SPKI_PREFIX[..])?
            .try_into()
            .ok()?
    } else {
        STANDARD.decode(text).ok()?.try_into().ok()?
    };
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()
}

/// Appends the base64 of `key`'s signature over `payload` to `out` (88 characters).
pub fn sign_base64(key: &ed25519_dalek::SigningKey, payload: &[u8], out: &mut Vec<u8>) {
    let sig = key.sign(payload).to_bytes();
    let mut buf = [0u8; 88];
    let n = STANDARD
        .encode_slice(sig, &mut buf)
        .unwrap_or_else(|_| unreachable!("64 bytes fit 88 base64 characters"));
    out.extend_from_slice(&buf[..n]);
}

/// Whether `sig_b64` is `key`'s base64 signature over `payload`.
pub fn verify_base64(key: &ed25519_dalek::VerifyingKey, payload: &[u8], sig_b64: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(sig_b64) else {
        return false;
    };
    let Ok(bytes) = <[u8; 64]>::try_from(bytes) else {
        return false;
    };
    key.verify(payload, &ed25519_dalek::Signature::from_bytes(&bytes))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 test 1: the secret seed, its public key, and the signature of the empty
    /// message.
    const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC_HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const SIG_HEX: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn reads_every_form_and_signs_as_rfc_8032() {
        let seed = unhex(SEED_HEX);
        let public = unhex(PUBLIC_HEX);
        let b64_32 = STANDARD.encode(&seed);
        let b64_64 = STANDARD.encode([seed.clone(), public.clone()].concat());
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode([PKCS8_PREFIX.to_vec(), seed.clone()].concat())
        );
        let pub_pem = format!(
            "-----BEGIN PUBLIC KEY-----\\n{}\\n-----END PUBLIC KEY-----",
            STANDARD.encode([SPKI_PREFIX.to_vec(), public.clone()].concat())
        );
        for text in [&b64_32, &b64_64, &pem] {
            let k = signing_key(text).unwrap();
            assert_eq!(k.verifying_key().as_bytes()[..], public[..]);
            let mut sig = Vec::new();
            sign_base64(&k, b"", &mut sig);
            assert_eq!(STANDARD.decode(&sig).unwrap(), unhex(SIG_HEX));
        }
        let vk = verifying_key(&pub_pem).unwrap();
        let vk2 = verifying_key(&STANDARD.encode(&public)).unwrap();
        assert_eq!(vk, vk2);
        let sig = STANDARD.encode(unhex(SIG_HEX));
        assert!(verify_base64(&vk, b"", &sig));
        assert!(!verify_base64(&vk, b"x", &sig));
        assert!(!verify_base64(&vk, b"", "not base64"));
    }

    #[test]
    fn refuses_what_is_not_a_key_without_showing_it() {
        let seed = unhex(SEED_HEX);
        let wrong_half = STANDARD.encode([seed.clone(), seed].concat());
        assert_eq!(signing_key(&wrong_half), Err(Ed25519KeyError::Mismatch));
        assert_eq!(signing_key("c2hvcnQ="), Err(Ed25519KeyError::Unrecognised));
        assert_eq!(
            signing_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            Err(Ed25519KeyError::Unrecognised)
        );
        assert!(
            !Ed25519KeyError::Unrecognised
                .to_string()
                .contains("c2hvcnQ")
        );
        assert!(verifying_key("c2hvcnQ=").is_none());
    }
}
