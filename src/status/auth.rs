//! The bearer token of the control calls: kept as its SHA-256 and compared in constant time.

use sha2::{Digest, Sha256};

use crate::config::Secret;

/// The bearer token's SHA-256, compared in constant time. Hashing first means the
/// comparison takes the same time whatever the length of the presented token.
#[derive(Clone)]
pub struct TokenCheck {
    digest: Option<[u8; 32]>,
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.digest.is_some() {
            "TokenCheck(set)"
        } else {
            "TokenCheck(none)"
        })
    }
}

/// Why a control call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer` header (401).
    Missing,
    /// Wrong token, or no token configured (403).
    Forbidden,
}

impl TokenCheck {
    pub fn new(token: Option<&Secret>) -> Self {
        Self {
            digest: token.map(|t| Sha256::digest(t.expose().as_bytes()).into()),
        }
    }

    pub fn check(&self, authorization: Option<&str>) -> Result<(), AuthError> {
        let presented = authorization
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let Some(want) = self.digest else {
            return Err(AuthError::Forbidden);
        };
        let got: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let diff = want
            .iter()
            .zip(got.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}
