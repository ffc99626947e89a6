//! Real `catalog-server` processes, for tests of what only a process shows: crashes, signals,
//! command-line tools.

use std::{path::PathBuf, process::Stdio, time::Duration};

use docstokg_catalog_client::{CatalogClient, ClientOptions};
use tokio::process::{Child, Command};

/// The workspace's build directory (`target/debug`), found from the running test binary.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/<test> -> target/debug
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

/// A binary of the workspace, built by `cargo test --workspace` before any test runs.
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` (the test command does)",
        path.display()
    );
    path
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The resident memory (VmRSS) of process `pid` in KiB, `None` once it is gone.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A running sample of a process's peak resident memory.
pub struct PeakMemory {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakMemory {
    /// Stops sampling and returns the peak in KiB.
    pub fn stop(self) -> u64 {
        self.task.abort();
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A `catalog-server serve` child process on loopback.
pub struct ServerProcess {
    child: Child,
    options: ClientOptions,
    /// `http://127.0.0.1:PORT` (`https://` over TLS).
    pub endpoint: String,
    /// `127.0.0.1:PORT`, as grpcurl wants it.
    pub address: String,
}

impl ServerProcess {
    /// Starts `catalog-server serve` with `env` on a free port in `dir` and waits until it serves.
    pub async fn start(dir: &std::path::Path, env: &[(&str, String)]) -> Self {
        Self::start_with(dir, env, ClientOptions::default()).await
    }

    /// Like [`ServerProcess::start`], for a server that clients reach with `options` (TLS).
    pub async fn start_with(
        dir: &std::path::Path,
        env: &[(&str, String)],
        options: ClientOptions,
    ) -> Self {
        let address = format!("127.0.0.1:{}", free_port());
        let mut command = Command::new(workspace_binary("catalog-server"));
        command
            .args(["serve", "--listen", &address])
            .current_dir(dir)
            .env("DOCSTOKG_HEALTH_PROBE_INTERVAL_SECS", "1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("catalog-server starts");
        let scheme = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let mut server = Self {
            child,
            options,
            endpoint: format!("{scheme}://{address}"),
            address,
        };
        server.wait_until_serving().await;
        server
    }

    /// A client of this server.
    pub async fn client(&self) -> CatalogClient {
        CatalogClient::connect_with(self.endpoint.clone(), self.options.clone())
            .await
            .expect("connect")
    }

    async fn wait_until_serving(&mut self) {
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("catalog-server exited during start-up with {status}");
            }
            if let Ok(client) =
                CatalogClient::connect_with(self.endpoint.clone(), self.options.clone()).await
                && client.health_check("").await.unwrap_or(false)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("catalog-server at {} never reported SERVING", self.endpoint);
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory in KiB (VmRSS).
    pub fn resident_kib(&self) -> u64 {
        resident_kib(self.pid()).expect("VmRSS of a running process")
    }

    /// Samples the resident memory every 20 ms until the returned sampler is stopped.
    pub fn sample_peak_memory(&self) -> PeakMemory {
        let pid = self.pid();
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
            resident_kib(pid).unwrap_or(0),
        ));
        let sampled = peak.clone();
        let task = tokio::spawn(async move {
            while let Some(kib) = resident_kib(pid) {
                sampled.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        PeakMemory { peak, task }
    }

    /// Kills the process with SIGKILL: no shutdown code runs.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited successfully.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("exits after SIGTERM");
        exit.expect("wait").success()
    }
}

/// What a catalogctl run printed and how it exited.
pub struct CliRun {
    /// Its exit code.
    pub code: i32,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `catalogctl --endpoint ENDPOINT ARGS...` to completion, with stdin closed.
pub async fn catalogctl(endpoint: &str, args: &[&str]) -> CliRun {
    let output = Command::new(workspace_binary("catalogctl"))
        .arg("--endpoint")
        .arg(endpoint)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("catalogctl runs");
    CliRun {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}
