//! CDP API key JWTs (exchanges.md §4.1): every private REST call carries a fresh
//! `Authorization: Bearer <JWT>`, and the `user` channel's subscribe message carries one in
//! its `jwt` field. ES256 over an EC P-256 key (the SEC1 PEM CDP hands out) or EdDSA over an
//! Ed25519 key (base64 of 32 or 64 bytes, as the official SDK accepts); header
//! `{alg, kid = key name, nonce, typ}`, claims `{sub = key name, iss = "cdp", nbf, exp =
//! nbf + 120, uri?}` where REST's `uri` is `"<METHOD> <host><path>"` (no query).
//!
//! Signing allocates and costs tens of microseconds (`benches/coinbase.rs`): it runs where
//! REST requests are built, on the gateway's REST worker thread, never on a hot thread.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;

use crate::config::Secret;

/// How long a token is valid, in seconds (the SDK's and the docs' two minutes).
pub const LIFETIME_S: u64 = 120;
/// The host the live venue's `uri` claim names.
pub const REST_HOST: &str = "api.coinbase.com";

/// Why a CDP key could not be used. Never shows the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "the API secret is neither an EC P-256 PEM (-----BEGIN EC PRIVATE KEY-----) nor base64 \
         of a 32- or 64-byte Ed25519 key"
    )]
    Unrecognised,
    #[error("the API secret looks like an EC PEM but does not parse as a P-256 key: {0}")]
    BadPem(String),
    #[error(
        "the API secret is a 64-byte Ed25519 key whose second half is not the public key of \
         its first half"
    )]
    Ed25519Mismatch,
    #[error(
        "the API key name is empty: it has the form organizations/{{org_id}}/apiKeys/{{key_id}}"
    )]
    EmptyKeyName,
    #[error("the OS random source failed: {0}")]
    Random(String),
}

/// The signing key, by algorithm.
#[derive(Clone)]
enum Key {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

/// A CDP key ready to sign JWTs. `Debug` shows the key name's algorithm only.
#[derive(Clone)]
pub struct JwtSigner {
    key: Key,
    /// The key name as a JSON string literal (quotes included), for `kid` and `sub`.
    kid_json: String,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtSigner({}, ***)", self.alg())
    }
}

/// The public half of a CDP key: what the simulator (and the tests) verify tokens with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
}

/// The PEM as it arrives from an environment variable or a file: a one-line copy with
/// `\n` escapes becomes the multi-line PEM again.
fn unescape_pem(s: &str) -> String {
    s.trim().replace("\\n", "\n")
}

impl JwtSigner {
    /// Reads the key `secret` (PEM or Ed25519 base64) for key name `key_name`.
    pub fn new(key_name: &Secret, secret: &Secret) -> Result<Self, KeyError> {
        Self::from_parts(key_name.expose(), secret.expose())
    }

    /// As [`JwtSigner::new`], from plain strings (tests with the SDK's published test key).
    pub fn from_parts(key_name: &str, secret: &str) -> Result<Self, KeyError> {
        let key_name = key_name.trim();
        if key_name.is_empty() {
            return Err(KeyError::EmptyKeyName);
        }
        let pem = unescape_pem(secret);
        let key = if pem.starts_with("-----BEGIN") {
            Key::Es256(es256_key(&pem)?)
        } else {
            Key::EdDsa(ed25519_key(pem.trim())?)
        };
        // serde_json writes a string literal with every escape JSON needs.
        let kid_json = serde_json::Value::from(key_name).to_string();
        Ok(Self { key, kid_json })
    }

    /// `ES256` or `EdDSA`.
    pub fn alg(&self) -> &'static str {
        match self.key {
            Key::Es256(_) => "ES256",
            Key::EdDsa(_) => "EdDSA",
        }
    }

    /// The key's public half.
    pub fn public_key(&self) -> PublicKey {
        match &self.key {
            Key::Es256(k) => PublicKey::Es256(*k.verifying_key()),
            Key::EdDsa(k) => PublicKey::EdDsa(k.verifying_key()),
        }
    }

    /// A REST request's token: `uri` = `"<method> <host><path>"`, the path without its
    /// query. `now_s` is Unix seconds (`nbf`).
    pub fn rest_token(
        &self,
        now_s: u64,
        method: &str,
        host: &str,
        path: &str,
    ) -> Result<String, KeyError> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        self.token(now_s, Some(&format!("{method} {host}{path}")))
    }

    /// A WebSocket subscribe message's token: no `uri` claim.
    pub fn ws_token(&self, now_s: u64) -> Result<String, KeyError> {
        self.token(now_s, None)
    }

    /// header.claims.signature, each base64url without padding.
    fn token(&self, now_s: u64, uri: Option<&str>) -> Result<String, KeyError> {
        let mut nonce = [0u8; 32];
        getrandom::getrandom(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
        let nonce = hex(&nonce);
        let header = format!(
            r#"{{"alg":"{}","kid":{},"nonce":"{nonce}","typ":"JWT"}}"#,
            self.alg(),
            self.kid_json
        );
        let mut claims = format!(
            r#"{{"sub":{},"iss":"cdp","nbf":{now_s},"exp":{}"#,
            self.kid_json,
            now_s + LIFETIME_S
        );
        if let Some(uri) = uri {
            claims.push_str(r#","uri":"#);
            claims.push_str(&serde_json::Value::from(uri).to_string());
        }
        claims.push('}');
        let mut jwt = String::with_capacity(400);
        URL_SAFE_NO_PAD.encode_string(header, &mut jwt);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut jwt);
        let sig = self.sign(jwt.as_bytes());
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut jwt);
        Ok(jwt)
    }

    /// The JWS signature of `signing_input`: r‖s (64 bytes) for ES256, 64 bytes for EdDSA.
    fn sign(&self, signing_input: &[u8]) -> [u8; 64] {
        match &self.key {
            Key::Es256(k) => {
                let sig: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::sign(k, signing_input);
                sig.to_bytes().into()
            }
            Key::EdDsa(k) => k.sign(signing_input).to_bytes(),
        }
    }
}

fn es256_key(pem: &str) -> Result<p256::ecdsa::SigningKey, KeyError> {
    use p256::pkcs8::DecodePrivateKey as _;
    // CDP keys are SEC1 (`EC PRIVATE KEY`); a PKCS#8 export (`PRIVATE KEY`) is read too.
    let secret = if pem.contains("BEGIN EC PRIVATE KEY") {
        p256::SecretKey::from_sec1_pem(pem).map_err(|e| KeyError::BadPem(e.to_string()))?
    } else {
        p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| KeyError::BadPem(e.to_string()))?
    };
    Ok(p256::ecdsa::SigningKey::from(secret))
}

fn ed25519_key(b64: &str) -> Result<ed25519_dalek::SigningKey, KeyError> {
    crate::venue::ed25519::signing_key(b64).map_err(|e| match e {
        crate::venue::ed25519::Ed25519KeyError::Mismatch => KeyError::Ed25519Mismatch,
        crate::venue::ed25519::Ed25519KeyError::Unrecognised => KeyError::Unrecognised,
    })
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// Why a token was refused (the simulator answers 401 for each).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("not three base64url parts")]
    Malformed,
    #[error("header or claims are not the JSON a CDP token carries: {0}")]
    BadJson(String),
    #[error("alg {0:?} does not match the key")]
    WrongAlg(String),
    #[error("kid {0:?} is not a known key")]
    UnknownKid(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("sub does not equal kid, or iss is not \"cdp\"")]
    BadSubject,
    #[error("not valid at this time (nbf {nbf}, exp {exp}, now {now})")]
    Expired { nbf: u64, exp: u64, now: u64 },
    #[error("uri {got:?} does not match the request ({want:?})")]
    WrongUri {
        got: Option<String>,
        want: Option<String>,
    },
}

/// A token's decoded header and claims (what `mako sign` prints, what the simulator checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    /// The signing input (`header.claims`) and the raw signature.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Splits and decodes a token without checking its signature.
pub fn decode(token: &str) -> Result<Decoded, VerifyError> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let b64 = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| VerifyError::Malformed)
    };
    let json = |b: Vec<u8>| {
        serde_json::from_slice::<serde_json::Value>(&b)
            .map_err(|e| VerifyError::BadJson(e.to_string()))
    };
    Ok(Decoded {
        header: json(b64(h)?)?,
        claims: json(b64(c)?)?,
        signing_input: format!("{h}.{c}"),
        signature: b64(s)?,
    })
}

/// Checks `token` as Coinbase does: the signature with `key`, `kid` = `key_name` = `sub`,
/// `iss = "cdp"`, `nbf <= now < exp`, and `uri` equal to `want_uri` (`None`: a WebSocket
/// token, which must carry none). Returns the decoded token.
pub fn verify(
    token: &str,
    key_name: &str,
    key: &PublicKey,
    now_s: u64,
    want_uri: Option<&str>,
) -> Result<Decoded, VerifyError> {
    let d = decode(token)?;
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let alg = text(&d.header, "alg").unwrap_or_default();
    let want_alg = match key {
        PublicKey::Es256(_) => "ES256",
        PublicKey::EdDsa(_) => "EdDSA",
    };
    if alg != want_alg {
        return Err(VerifyError::WrongAlg(alg));
    }
    let kid = text(&d.header, "kid").unwrap_or_default();
    if kid != key_name {
        return Err(VerifyError::UnknownKid(kid));
    }
    let ok = match key {
        PublicKey::Es256(k) => p256::ecdsa::Signature::from_slice(&d.signature)
            .ok()
            .is_some_and(|sig| {
                p256::ecdsa::signature::Verifier::verify(k, d.signing_input.as_bytes(), &sig)
                    .is_ok()
            }),
        PublicKey::EdDsa(k) => <[u8; 64]>::try_from(d.signature.as_slice())
            .ok()
            .is_some_and(|b| {
                k.verify_strict(
                    d.signing_input.as_bytes(),
                    &ed25519_dalek::Signature::from_bytes(&b),
                )
                .is_ok()
            }),
    };
    if !ok {
        return Err(VerifyError::BadSignature);
    }
    if text(&d.claims, "sub").as_deref() != Some(key_name)
        || text(&d.claims, "iss").as_deref() != Some("cdp")
    {
        return Err(VerifyError::BadSubject);
    }
    let num = |k: &str| d.claims.get(k).and_then(serde_json::Value::as_u64);
    let (Some(nbf), Some(exp)) = (num("nbf"), num("exp")) else {
        return Err(VerifyError::BadJson(
            "nbf and exp must be whole seconds".into(),
        ));
    };
    if now_s < nbf || now_s >= exp {
        return Err(VerifyError::Expired {
            nbf,
            exp,
            now: now_s,
        });
    }
    let got = text(&d.claims, "uri");
    if got.as_deref() != want_uri {
        return Err(VerifyError::WrongUri {
            got,
            want: want_uri.map(str::to_owned),
        });
    }
    Ok(d)
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
