//! Secrets never reach the logs or `catalog-server config`: a cloud-provider server with a bearer
//! token, a database password and S3 keys runs a full round of calls (good and bad) at debug
//! level, and its whole log is searched for each secret.

use std::{process::Stdio, time::Duration};

use docstokg_catalog::{Catalog, ContentHeader, NewDocument};
use docstokg_catalog_client::{CatalogClient, ClientOptions};
use docstokg_catalog_tests::{
    data::chunked,
    postgres::fresh_database,
    process::{free_port, workspace_binary},
    reliability::Observation,
    s3::{S3Settings, fresh_prefix},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_no_secret_appears_in_the_logs_of_a_full_run_or_in_config() {
    let test = "secrets stay out of the logs";
    let Some(s3) = S3Settings::from_env(test) else {
        return;
    };
    let Some(url) = fresh_database(test).await else {
        return;
    };
    // The test cluster trusts loopback, so a password in the URL is carried but never checked.
    let password = "Pw-never-logged-7731";
    let url = url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://postgres:{password}@"),
        1,
    );
    assert!(
        url.contains(password),
        "the URL carries the password: {url}"
    );
    let token = "tok-never-logged-5519";
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("tokens");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");
    let address = format!("127.0.0.1:{}", free_port());
    let mut env = s3.provider_env(&fresh_prefix());
    env.extend([
        ("DOCSTOKG_CATALOG_PROVIDER", "cloud".to_owned()),
        ("DOCSTOKG_RDS_URL", url.clone()),
        ("DOCSTOKG_AUTH_TOKEN_FILE", token_file.display().to_string()),
        ("DOCSTOKG_HEALTH_PROBE_INTERVAL_SECS", "1".to_owned()),
        ("RUST_LOG", "debug".to_owned()),
    ]);
    let log_path = dir.path().join("server.log");
    let mut server = tokio::process::Command::new(workspace_binary("catalog-server"))
        .args(["serve", "--listen", &address])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).expect("log file"))
        .kill_on_drop(true)
        .spawn()
        .expect("catalog-server starts");

    let endpoint = format!("http://{address}");
    let options = ClientOptions::default().with_token(token);
    let mut client = None;
    for _ in 0..200 {
        if let Ok(connected) = CatalogClient::connect_with(endpoint.clone(), options.clone()).await
            && connected.health_check("").await.unwrap_or(false)
        {
            client = Some(connected);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = client.expect("the server reports SERVING");
    client
        .register_or_get(NewDocument::new("S1", "https://example.org/s1", "r"))
        .await
        .expect("register");
    let header = ContentHeader {
        artifact_id: "S2".into(),
        source_url: "https://example.org/s2".into(),
        resolver: "r".into(),
        ..ContentHeader::default()
    };
    client
        .put_content(header, chunked(b"secret-free bytes".to_vec(), 5))
        .await
        .expect("upload");
    assert!(client.get_record(777_777).await.is_err(), "NOT_FOUND");
    client.stats().await.expect("stats");
    let intruder =
        CatalogClient::connect_with(endpoint, ClientOptions::default().with_token("guess"))
            .await
            .expect("connect");
    assert!(intruder.stats().await.is_err(), "UNAUTHENTICATED");

    let config = std::process::Command::new(workspace_binary("catalog-server"))
        .arg("config")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("catalog-server config runs");
    assert!(config.status.success());
    let printed = String::from_utf8_lossy(&config.stdout).into_owned();
    assert!(
        printed.contains("postgresql://postgres:****@"),
        "redacted:
{printed}"
    );

    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().expect("pid").to_string()])
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(10), server.wait()).await;
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        log.contains("DEBUG"),
        "the run logged at debug level:\n{log}"
    );
    for (name, secret) in [
        ("the bearer token", token),
        ("the database password", password),
        ("the S3 secret key", s3.secret_access_key.as_str()),
    ] {
        assert!(!log.contains(secret), "{name} appears in the server's log");
        assert!(
            !printed.contains(secret),
            "{name} appears in `catalog-server config`"
        );
    }
    Observation::new("secrets (token, database password, S3 keys) searched in a debug-level log and in catalog-server config", "cloud", 1)
        .answered("none found")
        .record();
}
