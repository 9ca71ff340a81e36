//! TLS for the simulator's second listener: a self-signed certificate for 127.0.0.1 and
//! localhost generated at start (rcgen), served with rustls' ring provider.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A generated server identity: the rustls config and the certificate in PEM and DER, which a
/// test client adds to its trust roots.
pub struct TlsIdentity {
    pub config: Arc<rustls::ServerConfig>,
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
}

pub fn self_signed() -> Result<TlsIdentity, String> {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let cert_der = ck.cert.der().to_vec();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    Ok(TlsIdentity {
        config: Arc::new(config),
        cert_pem: ck.cert.pem(),
        cert_der,
    })
}
