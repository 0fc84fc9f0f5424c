//! Real TLS in front of DynamoDB Local, for the tests of which roots the DynamoDB client trusts
//! (`TLS_ROOTS`, shared/src/store/https.rs).
//!
//! [`TestCa`] is a throwaway certificate authority made at test time (rcgen, aws-lc-rs): its
//! certificate is written to a PEM file for `SSL_CERT_FILE`, beside an empty directory for
//! `SSL_CERT_DIR`, so a client trusting "the system's roots" trusts that CA and nothing else.
//! [`TlsProxy`] listens on loopback with a certificate for `localhost` and `127.0.0.1` signed by
//! it, and forwards the decrypted bytes to DynamoDB Local's plain HTTP port; it counts the TLS
//! handshakes that completed and keeps the errors of those that did not.
//!
//! The proxy runs on a thread and runtime of its own, so a test may block on a child process
//! (`poolctl`) while the proxy serves that process. [`environment`] gives the binaries that
//! [`crate::processes`] starts the variables of a test.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{crypto::aws_lc_rs, ServerConfig};
use tokio_rustls::TlsAcceptor;
use uuid::Uuid;

/// Variables of the test command's environment that would change which roots or which route
/// the client under test uses; removed from every child this module starts.
const CLEARED: [&str; 9] = [
    "TLS_ROOTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A throwaway CA and a server certificate it signed, with the CA's PEM on disk.
pub struct TestCa {
    dir: PathBuf,
    /// The CA's certificate (PEM), for `SSL_CERT_FILE`.
    pub pem_file: PathBuf,
    /// An empty directory, for `SSL_CERT_DIR`.
    pub empty_dir: PathBuf,
    server: Arc<ServerConfig>,
}

impl TestCa {
    /// A new CA, and a certificate for `localhost` and `127.0.0.1` (ECDSA P-256, server
    /// authentication) signed by it; the files in a fresh temporary directory, removed on drop.
    pub fn new() -> Self {
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.distinguished_name
            .push(DnType::CommonName, "pool-tests throwaway CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key"))
            .expect("self-sign the CA");

        let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server parameters");
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf = leaf
            .signed_by(&leaf_key, &ca)
            .expect("sign the server cert");

        let provider = Arc::new(aws_lc_rs::default_provider());
        let server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .expect("server certificate and key");

        let dir = std::env::temp_dir().join(format!("pool-tests-tls-{}", Uuid::new_v4().simple()));
        let empty_dir = dir.join("empty");
        std::fs::create_dir_all(&empty_dir).expect("create the temp dirs");
        let pem_file = dir.join("test-ca.pem");
        std::fs::write(&pem_file, ca.pem()).expect("write the CA's PEM");
        Self {
            dir,
            pem_file,
            empty_dir,
            server: Arc::new(server),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Default)]
struct Stats {
    accepted: AtomicUsize,
    handshakes: AtomicUsize,
    refused: Mutex<Vec<String>>,
}

/// A TLS-terminating proxy on `127.0.0.1:<port>` in front of DynamoDB Local.
pub struct TlsProxy {
    pub port: u16,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long a client gets to finish its handshake.
const HANDSHAKE_PATIENCE: Duration = Duration::from_secs(10);

impl TlsProxy {
    /// Starts a proxy presenting `ca`'s server certificate and forwarding to `upstream`
    /// (`http://host:port`, DynamoDB Local's endpoint).
    pub fn start(ca: &TestCa, upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("a plain HTTP upstream, not {upstream:?}"))
            .trim_end_matches('/')
            .to_owned();
        let acceptor = TlsAcceptor::from(ca.server.clone());
        let stats = Arc::new(Stats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, port) = mpsc::channel();
        let shared = stats.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the proxy's runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                let _ = ready.send(listener.local_addr().expect("addr").port());
                let serve = async {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            return;
                        };
                        shared.accepted.fetch_add(1, Ordering::SeqCst);
                        let (acceptor, stats, upstream) =
                            (acceptor.clone(), shared.clone(), upstream.clone());
                        tokio::spawn(async move {
                            let handshake =
                                tokio::time::timeout(HANDSHAKE_PATIENCE, acceptor.accept(tcp))
                                    .await;
                            let mut tls = match handshake {
                                Ok(Ok(tls)) => tls,
                                Ok(Err(e)) => return refused(&stats, e.to_string()),
                                Err(_) => return refused(&stats, "handshake timed out".into()),
                            };
                            stats.handshakes.fetch_add(1, Ordering::SeqCst);
                            let Ok(mut plain) = TcpStream::connect(&upstream).await else {
                                return;
                            };
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        let port = port
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy is listening");
        Self {
            port,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `https://localhost:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.accepted.load(Ordering::SeqCst)
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.stats.handshakes.load(Ordering::SeqCst)
    }

    /// Waits (up to 5 s) until every connection accepted so far has finished its handshake,
    /// one way or the other: a client gives up before the server has read its alert.
    pub fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.handshakes() + self.refused().len() < self.connections()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Why the handshakes that failed failed, as the server side saw it.
    pub fn refused(&self) -> Vec<String> {
        self.stats
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn refused(stats: &Stats, why: String) {
    stats
        .refused
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(why);
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// For [`crate::processes::run`] and [`crate::processes::LocalApi::start_with`]: the variables in
/// [`CLEARED`] removed and `env` set.
pub fn environment<'a>(env: &'a [(&'a str, &'a str)]) -> impl FnOnce(&mut Command) + 'a {
    move |cmd| {
        for k in CLEARED {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
    }
}
