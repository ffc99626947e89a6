//! The Prometheus endpoint, scraped by a real Prometheus server: every metric that
//! docs/operations.md lists is queryable through Prometheus's HTTP API after a few RPCs, the
//! exposition passes `promtool check metrics`, and the counters count what happened.

use docstokg_catalog::{
    Catalog, ContentHeader, ContentRequest, ContentSelector, NewDocument, RecordFilter,
};
use docstokg_catalog_tests::{
    data::chunked,
    harness::development_env,
    process::{ServerProcess, free_port},
    prometheus::{PrometheusServer, http_get, tool},
    services::skip,
};
use futures::TryStreamExt;

/// (name, type) of every metric in the table of docs/operations.md.
fn documented_metrics() -> Vec<(String, String)> {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md"),
    )
    .expect("docs/operations.md");
    guide
        .lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix("| `catalog_")?.split('|');
            let name = format!("catalog_{}", cells.next()?.trim().trim_end_matches('`'));
            Some((name, cells.next()?.trim().to_owned()))
        })
        .collect()
}

/// The sample name a metric of `kind` is queried by (a histogram by its `_count`).
fn queried(name: &str, kind: &str) -> String {
    if kind == "histogram" {
        format!("{name}_count")
    } else {
        name.to_owned()
    }
}

/// The summed value of `query` in Prometheus, 0 when absent.
async fn value_of(prometheus: &PrometheusServer, query: &str) -> f64 {
    prometheus
        .query(&format!("sum({query})"))
        .await
        .first()
        .and_then(|sample| sample["value"][1].as_str()?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_prometheus_scrapes_every_documented_metric() {
    let test = "test_prometheus_scrapes_every_documented_metric";
    let (Some(prometheus_bin), Some(promtool)) = (
        tool("DOCSTOKG_PROMETHEUS_BIN", "prometheus"),
        tool("DOCSTOKG_PROMTOOL_BIN", "promtool"),
    ) else {
        return skip(
            test,
            "no prometheus and promtool (Debian package prometheus)",
        );
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let metrics_address = format!("127.0.0.1:{}", free_port());
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_METRICS_LISTEN", metrics_address.clone()));
    let server = ServerProcess::start(dir.path(), &env).await;
    let client = server.client().await;

    let document = NewDocument::new("W1", "https://example.org/w1.pdf", "unpaywall");
    client
        .register_or_get(document.clone())
        .await
        .expect("register");
    client
        .register_or_get(document)
        .await
        .expect("register again");
    assert!(client.get_record(424_242).await.is_err(), "unknown id");
    let listed: Vec<_> = client
        .list_records(RecordFilter::default())
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(listed.len(), 1);
    let header = |n: u32| ContentHeader {
        artifact_id: format!("P{n}"),
        source_url: format!("https://example.org/p{n}"),
        resolver: "manual".into(),
        ..ContentHeader::default()
    };
    let bytes = b"the same bytes twice".to_vec();
    let first = client
        .put_content(header(1), chunked(bytes.clone(), 4))
        .await
        .expect("upload");
    let second = client
        .put_content(header(2), chunked(bytes.clone(), 4))
        .await
        .expect("upload again");
    assert!(second.deduplicated);
    let download = client
        .get_content(ContentRequest {
            selector: ContentSelector::RecordId(first.registration.record.id),
            offset: 0,
            length: None,
        })
        .await
        .expect("download");
    let body: Vec<_> = download.body.try_collect().await.expect("bytes");
    assert_eq!(body.concat(), bytes);
    client.stats().await.expect("stats");

    let exposition = http_get(&metrics_address, "/metrics").await;
    let checked = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(exposition.as_bytes())?;
            child.wait_with_output()
        })
        .expect("promtool runs");
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    let prometheus = PrometheusServer::start(&prometheus_bin, dir.path(), &metrics_address).await;
    let documented = documented_metrics();
    assert!(documented.len() >= 16, "the docs list {documented:?}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut missing = documented.clone();
    while !missing.is_empty() && tokio::time::Instant::now() < deadline {
        let mut still = Vec::new();
        for (name, kind) in missing {
            if prometheus.query(&queried(&name, &kind)).await.is_empty() {
                still.push((name, kind));
            }
        }
        missing = still;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(missing.is_empty(), "Prometheus never saw {missing:?}");

    let requests = |method: &str, code: &str| {
        format!("catalog_rpc_requests_total{{method=\"{method}\",code=\"{code}\"}}")
    };
    assert_eq!(
        value_of(&prometheus, &requests("RegisterOrGet", "OK")).await,
        2.0
    );
    assert_eq!(
        value_of(&prometheus, &requests("GetRecord", "NOT_FOUND")).await,
        1.0
    );
    assert_eq!(
        value_of(&prometheus, &requests("ListRecords", "OK")).await,
        1.0
    );
    assert_eq!(value_of(&prometheus, "catalog_dedup_hits_total").await, 1.0);
    let uploaded = value_of(&prometheus, "catalog_upload_bytes_total").await;
    assert_eq!(uploaded, 2.0 * bytes.len() as f64);
    let downloaded = value_of(&prometheus, "catalog_download_bytes_total").await;
    assert_eq!(downloaded, bytes.len() as f64);
    assert_eq!(value_of(&prometheus, "catalog_streams_open").await, 0.0);
    assert_eq!(value_of(&prometheus, "catalog_rpc_in_flight").await, 0.0);
    assert_eq!(value_of(&prometheus, "catalog_backend_up").await, 2.0);
    let hits = value_of(&prometheus, "catalog_cache_requests_total{result=\"hit\"}").await;
    assert!(hits >= 1.0, "the second registration is a cache hit");
}
