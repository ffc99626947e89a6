//! A real Prometheus server on loopback that scrapes a catalog's `/metrics`, and plain HTTP GETs
//! for its query API and for the endpoint itself.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::{Child, Command},
};

use crate::process::free_port;

/// A tool from `$env_var`, else from PATH (Debian's `prometheus` package puts both there).
pub fn tool(env_var: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| p.is_file())
}

/// The body of `GET http://{address}{path}` (HTTP/1.0, so the server closes when done); panics
/// unless the status is 200.
pub async fn http_get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address)
        .await
        .expect("connect over HTTP");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "GET {path}: {head}"
    );
    body.to_owned()
}

/// A Prometheus server scraping one target every second; killed when dropped.
pub struct PrometheusServer {
    child: Child,
    /// `127.0.0.1:PORT` of its HTTP API.
    pub address: String,
}

impl PrometheusServer {
    /// Starts `binary` in `dir`, scraping `http://{target}/metrics`, and waits until it is ready.
    pub async fn start(binary: &Path, dir: &Path, target: &str) -> Self {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
                 scrape_configs:\n  - job_name: catalog\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let address = format!("127.0.0.1:{}", free_port());
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts");
        for _ in 0..300 {
            if let Ok(mut stream) = TcpStream::connect(&address).await {
                let request = format!("GET /-/ready HTTP/1.0\r\nHost: {address}\r\n\r\n");
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).await.is_ok()
                    && stream.read_to_string(&mut answer).await.is_ok()
                    && answer.contains(" 200 ")
                {
                    return Self { child, address };
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "prometheus never became ready; see {}",
            dir.join("prometheus.log").display()
        );
    }

    /// The result of the instant query `query`, as Prometheus's JSON `data.result` array.
    pub async fn query(&self, query: &str) -> Vec<serde_json::Value> {
        let encoded: String = query
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        let body = http_get(&self.address, &format!("/api/v1/query?query={encoded}")).await;
        let answer: serde_json::Value = serde_json::from_str(&body).expect("a JSON answer");
        assert_eq!(answer["status"], "success", "{query}: {body}");
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
