//! The workspace's binaries as real processes: `poolctl` runs and `local-api` servers (the
//! function binaries under a fake Runtime API are [`crate::lambda`]'s).
//!
//! The binaries are the ones cargo builds beside this test executable (`<target>/<profile>/`);
//! the first use in a test binary runs one `cargo build` of all of them ([`BINARIES`]) so they
//! are never stale (a no-op when `make test` already built them).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binaries [`bin`] builds: the tools and the functions.
const BINARIES: [&str; 4] = [
    "poolctl",
    "local-api",
    crate::lambda::FUNCTIONS[0],
    crate::lambda::FUNCTIONS[1],
];

/// `<target>/<profile>`: this test executable lives in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable is in <target>/<profile>/deps")
        .to_owned()
}

fn build_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = profile_dir();
        let target = dir.parent().expect("the target directory");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
        cmd.arg("build")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(workspace.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target);
        // What cargo set for this test process describes this package, not the build: some
        // build scripts watch such variables (ring: CARGO_MANIFEST_DIR), and a changed value
        // would rebuild them here and again in the next `cargo test`.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("CARGO_PKG_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&k.as_ref())
            {
                cmd.env_remove(k.as_ref());
            }
        }
        for b in BINARIES {
            cmd.args(["-p", b]);
        }
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
            None => {}
        }
        let out = cmd.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build of {BINARIES:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// The path of a workspace binary, built and fresh.
pub fn bin(name: &str) -> PathBuf {
    build_once();
    let path = profile_dir().join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// What one `poolctl` run did.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or(Value::Null)
    }

    /// stdout as JSON, after checking the run succeeded.
    pub fn ok(&self) -> Value {
        assert!(self.status.success(), "poolctl failed: {self:?}");
        let v = self.json();
        assert!(!v.is_null(), "poolctl printed no JSON: {self:?}");
        v
    }
}

/// Runs `poolctl <args>` against `table` (DynamoDB Local's endpoint and credentials come from
/// the environment the test command exported).
pub fn poolctl(table: &str, args: &[&str]) -> Run {
    run("poolctl", args, |cmd| {
        cmd.env("TABLE_NAME", table);
    })
    .0
}

/// Runs the workspace binary `name <args>` to its end, its command first changed by
/// `configure` (environment), and how long it took; killed and failed after [`PATIENCE`].
pub fn run(name: &str, args: &[&str], configure: impl FnOnce(&mut Command)) -> (Run, Duration) {
    let mut cmd = Command::new(bin(name));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    configure(&mut cmd);
    let started = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(PATIENCE) {
        Ok(out) => out.unwrap_or_else(|e| panic!("wait for {name}: {e}")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{name} {args:?} did not exit within {PATIENCE:?}");
        }
    };
    let took = started.elapsed();
    let run = Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, took)
}

/// A running `local-api` process on an ephemeral loopback port (`PORT=0`).
pub struct LocalApi {
    child: Child,
    /// `http://127.0.0.1:<port>`, from its `listening on` line.
    pub base_url: String,
    /// What it printed before `listening on`.
    pub banner: Vec<String>,
    later: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

/// How a `local-api` process ended.
#[derive(Debug)]
pub struct Stopped {
    pub status: ExitStatus,
    /// What it printed on stdout after `listening on`.
    pub stdout: Vec<String>,
    pub stderr: String,
}

/// How long a process gets to start listening or to stop.
const PATIENCE: Duration = Duration::from_secs(60);

impl LocalApi {
    /// Starts `local-api`: with `table: None` it runs the embedded default (the test command's
    /// `TABLE_NAME` is removed), else on that DynamoDB table. Returns once it printed
    /// `listening on`.
    pub fn start(table: Option<&str>) -> Self {
        Self::start_with(table, |_| {})
    }

    /// [`LocalApi::start`] with its command first changed by `configure` (environment).
    pub fn start_with(table: Option<&str>, configure: impl FnOnce(&mut Command)) -> Self {
        let mut cmd = Command::new(bin("local-api"));
        cmd.env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match table {
            Some(t) => cmd.env("TABLE_NAME", t),
            None => cmd.env_remove("TABLE_NAME"),
        };
        configure(&mut cmd);
        let mut child = cmd.spawn().expect("start local-api");

        // Both pipes are drained for the process's whole life, so it never blocks on a full pipe.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_str(&text);
            }
        });
        let (tx, rx) = mpsc::channel();
        let out_pipe = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });

        let deadline = Instant::now() + PATIENCE;
        let mut banner = Vec::new();
        let base_url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => match line.strip_prefix("listening on ") {
                    Some(url) => break url.trim().to_owned(),
                    None => banner.push(line),
                },
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let why = match e {
                        RecvTimeoutError::Timeout => "did not print `listening on` in time",
                        RecvTimeoutError::Disconnected => "exited before `listening on`",
                    };
                    panic!(
                        "local-api {why}; stdout:\n{}\nstderr:\n{}",
                        banner.join("\n"),
                        stderr.lock().unwrap_or_else(|p| p.into_inner())
                    );
                }
            }
        };
        Self {
            child,
            base_url,
            banner,
            later: rx,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// Sends a signal (`TERM`, `INT`) and waits for the process to exit.
    pub fn stop(mut self, signal: &str) -> Stopped {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait for local-api") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "local-api did not stop on SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The process is gone, so both pipes end: this collects everything it printed.
        let stdout = self.later.iter().collect();
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        Stopped {
            status,
            stdout,
            stderr: self.stderr(),
        }
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for LocalApi {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
