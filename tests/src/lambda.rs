//! The function binaries (`update-contact-pool`, `patch-guardrail-pool`) as real processes
//! under a [`FakeRuntimeApi`](crate::runtime_api::FakeRuntimeApi), as Lambda runs them, with all
//! they print kept for the test to read.
//!
//! The binaries are the ones cargo builds beside this test executable, built and fresh by
//! [`crate::processes::bin`].

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The function binaries.
pub const FUNCTIONS: [&str; 2] = ["update-contact-pool", "patch-guardrail-pool"];

/// The path of a function binary, built and fresh.
pub fn function_bin(name: &str) -> PathBuf {
    crate::processes::bin(name)
}

/// A running function binary.
pub struct FunctionProcess {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// All a stopped function printed.
#[derive(Debug)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

fn drain(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    })
}

impl FunctionProcess {
    /// Starts function `name` against the Runtime API at `runtime_api`, with the Lambda
    /// environment (name `name`, version `$LATEST`), the test command's DynamoDB Local
    /// environment, no log level settings, and then `configure`'s changes.
    pub fn start(name: &str, runtime_api: &str, configure: impl FnOnce(&mut Command)) -> Self {
        let mut cmd = Command::new(function_bin(name));
        cmd.env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/02/[$LATEST]0123456789abcdef",
            )
            .env_remove("AWS_LAMBDA_LOG_LEVEL")
            .env_remove("RUST_LOG")
            .env_remove("METRICS_NAMESPACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        configure(&mut cmd);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().expect("stdout"), stdout.clone()),
            drain(child.stderr.take().expect("stderr"), stderr.clone()),
        ];
        Self {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Kills the process (Lambda freezes or ends an environment without notice) and returns
    /// everything it printed.
    pub fn stop(mut self) -> Output {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let text = |b: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&b.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
        };
        Output {
            stdout: text(&self.stdout),
            stderr: text(&self.stderr),
        }
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
