//! Real PostgreSQL for tests: a fresh database per test in the cluster the test command started
//! (`DOCSTOKG_TEST_POSTGRES_URL`), or a private throwaway cluster for tests that stop the server.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use crate::{process::free_port, services};

/// A new, empty database in the test cluster, or `None` (after a loud SKIPPED) without one.
pub async fn fresh_database(test: &str) -> Option<String> {
    let Ok(admin_url) = std::env::var("DOCSTOKG_TEST_POSTGRES_URL") else {
        services::skip(
            test,
            "no PostgreSQL (set DOCSTOKG_TEST_POSTGRES_URL; scripts/test starts one)",
        );
        return None;
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "catalog_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("connect to the test cluster");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    Some(replace_database(&admin_url, &name))
}

/// `url` with its database name replaced by `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// The directory of PostgreSQL's server binaries: `$DOCSTOKG_TEST_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn pg_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCSTOKG_TEST_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// A private PostgreSQL cluster on a loopback port, removed on drop. As root, initdb and the
/// server run as the `postgres` user, since PostgreSQL refuses to run as root.
pub struct PgCluster {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

fn as_postgres_user(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl PgCluster {
    /// Creates and starts a cluster, or `None` (after a loud SKIPPED) without PostgreSQL binaries.
    pub fn start(test: &str) -> Option<Self> {
        let Some(bindir) = pg_bindir() else {
            services::skip(
                test,
                "PostgreSQL server binaries not found (set DOCSTOKG_TEST_PG_BINDIR)",
            );
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("catalog-pg-")
            .tempdir()
            .expect("temp dir");
        let _ = Command::new("chown")
            .args(["postgres:", &dir.path().display().to_string()])
            .status();
        let data = dir.path().join("data");
        let status = as_postgres_user(&bindir.join("initdb"))
            .args([
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb failed");
        let cluster = Self {
            bindir,
            dir,
            port: free_port(),
        };
        cluster.start_server();
        Some(cluster)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        as_postgres_user(&self.bindir.join("pg_ctl"))
            .args(["-D", &self.dir.path().join("data").display().to_string()])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs")
            .success()
    }

    /// Starts the server (again) on the same port and data, and waits until it accepts connections.
    pub fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        assert!(
            self.pg_ctl(&["-w", "-t", "30", "-o", &options, "-l", &log, "start"]),
            "pg_ctl start failed"
        );
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("PostgreSQL did not start on port {}", self.port);
    }

    /// Stops the server (fast mode: connections are cut, as in an outage).
    pub fn stop_server(&self) {
        assert!(
            self.pg_ctl(&["-w", "-m", "fast", "stop"]),
            "pg_ctl stop failed"
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}
