//! The HTTPS client of the DynamoDB SDK client, and the root certificates it trusts.
//!
//! The SDK's default client trusts the system's roots, which it reads from disk (every file under
//! `/etc/ssl/certs`) while the configuration loads: three quarters of the functions' cold start
//! above the hello-world floor (BENCHMARKS.md). DynamoDB's public endpoints chain to Amazon Trust
//! Services, so by default the client trusts only its five roots, embedded in the binary
//! (`amazon-trust-services.pem`). `TLS_ROOTS=system` trusts the system's instead: behind a
//! TLS-inspecting proxy, or for an endpoint with other certificates. In the China regions
//! (`cn-*`), whose endpoints this repository has not checked, `system` is the default.
//!
//! Otherwise the client is the SDK's default one: rustls on aws-lc-rs with the SDK's cipher
//! suites, its connector settings and sleep, and `HTTPS_PROXY`/`NO_PROXY` from the environment.

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

/// The variable that chooses the roots.
pub const TLS_ROOTS_VAR: &str = "TLS_ROOTS";

/// The Amazon Trust Services roots: Amazon Root CA 1–4 and Starfield Services Root CA G2.
pub const AMAZON_TRUST_SERVICES_PEM: &[u8] = include_bytes!("amazon-trust-services.pem");

/// Which root certificates the HTTPS client trusts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustRoots {
    /// The embedded Amazon Trust Services roots; nothing read from disk.
    Amazon,
    /// The system's roots (`rustls-native-certs`: `SSL_CERT_FILE`, `SSL_CERT_DIR`, then the
    /// platform's store), read when the client is built.
    System,
}

/// `TLS_ROOTS` holds something other than `amazon` or `system`.
#[derive(Debug, thiserror::Error)]
#[error("{TLS_ROOTS_VAR}={0:?} is not a choice: use \"amazon\" (Amazon Trust Services roots, embedded) or \"system\" (the system's roots)")]
pub struct InvalidTrustRoots(pub String);

/// The DynamoDB client could not be set up: the cold start fails with this, rather than run
/// with other roots than the ones asked for.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error(transparent)]
    InvalidTrustRoots(#[from] InvalidTrustRoots),
    #[error("the TLS context for the {0:?} roots could not be built: {1}")]
    Tls(TrustRoots, String),
}

impl TrustRoots {
    /// `amazon` or `system`, case-insensitive, surrounding blanks ignored.
    pub fn parse(value: &str) -> Result<Self, InvalidTrustRoots> {
        match value.trim().to_ascii_lowercase().as_str() {
            "amazon" => Ok(Self::Amazon),
            "system" => Ok(Self::System),
            _ => Err(InvalidTrustRoots(value.to_owned())),
        }
    }

    /// The choice when `TLS_ROOTS` is unset or empty: `preferred`, except `System` in the China
    /// regions.
    pub fn default_for(region: Option<&str>, preferred: Self) -> Self {
        match region {
            Some(r) if r.starts_with("cn-") => Self::System,
            _ => preferred,
        }
    }

    /// `TLS_ROOTS` when set, else [`TrustRoots::default_for`].
    pub fn from_env(region: Option<&str>, preferred: Self) -> Result<Self, InvalidTrustRoots> {
        match std::env::var(TLS_ROOTS_VAR) {
            Ok(v) if !v.trim().is_empty() => Self::parse(&v),
            _ => Ok(Self::default_for(region, preferred)),
        }
    }

    fn trust_store(self) -> TrustStore {
        match self {
            Self::Amazon => TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(AMAZON_TRUST_SERVICES_PEM),
            Self::System => TrustStore::default(),
        }
    }
}

/// The SDK's default HTTPS client, trusting `roots` and nothing else. A TLS context that cannot
/// be built is an error (the cold start fails), never a quiet fall back to other roots.
pub fn https_client(roots: TrustRoots) -> Result<SharedHttpClient, ClientSetupError> {
    let context = tls_context(
        roots,
        TlsContext::builder()
            .with_trust_store(roots.trust_store())
            .build(),
    )?;
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(context.clone());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        }),
    )
}

/// The built context, or the error that stops the cold start.
fn tls_context<E: std::fmt::Display>(
    roots: TrustRoots,
    built: Result<TlsContext, E>,
) -> Result<TlsContext, ClientSetupError> {
    built.map_err(|e| ClientSetupError::Tls(roots, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_context_that_cannot_be_built_is_an_error_not_the_system_roots() {
        let failed: Result<TlsContext, &str> = Err("no usable certificate");
        let err = tls_context(TrustRoots::Amazon, failed).unwrap_err();
        assert!(
            matches!(err, ClientSetupError::Tls(TrustRoots::Amazon, _)),
            "{err:?}"
        );
        assert!(err.to_string().contains("no usable certificate"), "{err}");
        assert!(https_client(TrustRoots::Amazon).is_ok());
        assert!(https_client(TrustRoots::System).is_ok());
    }

    #[test]
    fn choices_parse_and_anything_else_is_refused_by_name() {
        assert_eq!(TrustRoots::parse("amazon").unwrap(), TrustRoots::Amazon);
        assert_eq!(TrustRoots::parse(" System ").unwrap(), TrustRoots::System);
        let err = TrustRoots::parse("amazn").unwrap_err().to_string();
        assert!(err.contains("TLS_ROOTS=\"amazn\""), "{err}");
        assert!(
            err.contains("\"amazon\"") && err.contains("\"system\""),
            "{err}"
        );
    }

    #[test]
    fn china_regions_default_to_the_system_roots() {
        use TrustRoots::*;
        assert_eq!(TrustRoots::default_for(Some("us-east-1"), Amazon), Amazon);
        assert_eq!(
            TrustRoots::default_for(Some("us-gov-west-1"), Amazon),
            Amazon
        );
        assert_eq!(TrustRoots::default_for(None, Amazon), Amazon);
        assert_eq!(TrustRoots::default_for(Some("cn-north-1"), Amazon), System);
        assert_eq!(TrustRoots::default_for(Some("eu-west-1"), System), System);
    }

    #[test]
    fn the_embedded_roots_are_the_five_amazon_trust_services_certificates() {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::CertificateDer;
        use sha2::{Digest, Sha256};
        let fingerprints: Vec<String> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_PEM)
            .map(|cert| hex::encode_upper(Sha256::digest(cert.expect("the embedded PEM parses"))))
            .collect();
        // As published at https://www.amazontrust.com/repository/.
        assert_eq!(
            fingerprints,
            [
                // Amazon Root CA 1
                "8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E",
                // Amazon Root CA 2
                "1BA5B2AA8C65401A82960118F80BEC4F62304D83CEC4713A19C39C011EA46DB4",
                // Amazon Root CA 3
                "18CE6CFE7BF14E60B2E347B8DFE868CB31D02EBB3ADA271569F50343B46DB3A4",
                // Amazon Root CA 4
                "E35D28419ED02025CFA69038CD623962458DA5C695FBDEA3C22B0BFB25897092",
                // Starfield Services Root Certificate Authority - G2
                "568D6905A2C88708A4B3025190EDCFEDB1974A606A13C6E5290FCB2AE63EDAB5",
            ]
        );
        // The comments in the file name the same certificates.
        let text = std::str::from_utf8(AMAZON_TRUST_SERVICES_PEM).unwrap();
        for fp in &fingerprints {
            let colons: Vec<&str> = (0..fp.len()).step_by(2).map(|i| &fp[i..i + 2]).collect();
            assert!(
                text.contains(&format!("# SHA-256 {}\n", colons.join(":"))),
                "{fp}"
            );
        }
    }
}
