//! TLS and mutual TLS against real `catalog-server` processes, with certificates made at test
//! time: the Rust client, catalogctl and grpcurl over TLS; plaintext to a TLS port fails clearly;
//! mutual TLS refuses a client without a certificate or with one from another CA; certificates
//! reload on SIGHUP and when their files change, without dropping open connections; the
//! plaintext health-only listener answers probes and nothing else.

use std::{path::Path, process::Command, time::Duration};

use docstokg_catalog::{Catalog, ErrorKind};
use docstokg_catalog_client::{CatalogClient, ClientOptions, ClientTls};
use docstokg_catalog_tests::{
    certs::{Identity, TestCa},
    data::doc,
    process::{ServerProcess, free_port, workspace_binary},
    reliability::Observation,
    services,
};

fn tls_env(server: &Identity, client_ca: Option<&TestCa>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        (
            "DOCSTOKG_TLS_CERT_FILE",
            server.cert_file.display().to_string(),
        ),
        (
            "DOCSTOKG_TLS_KEY_FILE",
            server.key_file.display().to_string(),
        ),
    ];
    if let Some(ca) = client_ca {
        env.push((
            "DOCSTOKG_TLS_CLIENT_CA_FILE",
            ca.cert_file.display().to_string(),
        ));
    }
    env
}

fn trusting(ca: &TestCa) -> ClientOptions {
    ClientOptions::default().with_tls(ClientTls::new(ca.cert_pem.clone()))
}

fn trusting_as(ca: &TestCa, identity: &Identity) -> ClientOptions {
    let tls = ClientTls::from_files(
        &ca.cert_file,
        Some(&identity.cert_file),
        Some(&identity.key_file),
    )
    .expect("client identity");
    ClientOptions::default().with_tls(tls)
}

/// A client of `server` with `options`, and whether a catalog call through it succeeds.
async fn call_succeeds(server: &ServerProcess, options: ClientOptions) -> Result<(), String> {
    let client = CatalogClient::connect_with(server.address.clone(), options)
        .await
        .map_err(|error| format!("connect {:?}: {}", error.kind, error.message))?;
    client
        .stats()
        .await
        .map(|_| ())
        .map_err(|error| format!("{:?}: {}", error.kind, error.message))
}

fn sighup(server: &ServerProcess) {
    let status = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn test_tls_serves_the_catalog_and_refuses_plaintext_and_untrusted_servers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new(dir.path(), "main");
    let identity = ca.server(dir.path(), "server");
    let server =
        ServerProcess::start_with(dir.path(), &tls_env(&identity, None), trusting(&ca)).await;
    assert!(server.endpoint.starts_with("https://"));

    let client = server.client().await;
    let outcome = client
        .register_or_get(doc("tls-1", "https://example.org/tls.pdf", "test"))
        .await
        .expect("register over TLS");
    assert!(outcome.created);
    assert!(client.health_check("").await.expect("health over TLS"));

    let plaintext = CatalogClient::connect_with(
        format!("http://{}", server.address),
        ClientOptions::default(),
    )
    .await;
    let refused = match plaintext {
        Err(error) => error,
        Ok(client) => client
            .stats()
            .await
            .expect_err("plaintext to a TLS port fails"),
    };
    assert_eq!(refused.kind, ErrorKind::Unavailable, "{}", refused.message);
    assert!(refused.message.contains("TLS"), "{}", refused.message);

    let stranger = TestCa::new(dir.path(), "stranger");
    let untrusted = call_succeeds(&server, trusting(&stranger)).await;
    let message = untrusted.expect_err("a server certificate from another CA is refused");
    assert!(
        message.contains("Unavailable") && message.contains("certificate"),
        "{message}"
    );
    Observation::new(
        "plaintext client on the TLS port; server certificate from an unknown CA",
        "all",
        2,
    )
    .answered("UNAVAILABLE naming TLS; UNAVAILABLE: invalid peer certificate (UnknownIssuer)")
    .record();
}

#[tokio::test]
async fn test_mutual_tls_refuses_clients_without_a_certificate_from_the_client_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new(dir.path(), "main");
    let clients = TestCa::new(dir.path(), "clients");
    let identity = ca.server(dir.path(), "server");
    let alice = clients.client(dir.path(), "alice");
    let server = ServerProcess::start_with(
        dir.path(),
        &tls_env(&identity, Some(&clients)),
        trusting_as(&ca, &alice),
    )
    .await;

    call_succeeds(&server, trusting_as(&ca, &alice))
        .await
        .expect("a client certificate from the client CA is accepted");
    let without = call_succeeds(&server, trusting(&ca)).await;
    assert!(
        without.is_err(),
        "a client without a certificate is refused"
    );
    let mallory = TestCa::new(dir.path(), "other").client(dir.path(), "mallory");
    let foreign = call_succeeds(&server, trusting_as(&ca, &mallory)).await;
    assert!(
        foreign.is_err(),
        "a client certificate from another CA is refused"
    );
    Observation::new(
        "mutual TLS: no client certificate; one from another CA",
        "all",
        2,
    )
    .answered("handshake refused, no call served")
    .record();
}

#[tokio::test]
async fn test_certificates_reload_on_sighup_and_on_change_without_dropping_connections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = TestCa::new(dir.path(), "first");
    let live = first.server(dir.path(), "live");
    let server =
        ServerProcess::start_with(dir.path(), &tls_env(&live, None), trusting(&first)).await;
    let open = server.client().await;
    open.stats().await.expect("first certificate");

    // A certificate from a new CA replaces the files; SIGHUP reloads them.
    let second = TestCa::new(dir.path(), "second");
    let renewed = second.server(dir.path(), "renewed");
    std::fs::copy(&renewed.cert_file, &live.cert_file).expect("replace certificate");
    std::fs::copy(&renewed.key_file, &live.key_file).expect("replace key");
    sighup(&server);
    let mut reloaded = Err(String::new());
    for _ in 0..50 {
        reloaded = call_succeeds(&server, trusting(&second)).await;
        if reloaded.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    reloaded.expect("new connections get the renewed certificate after SIGHUP");
    assert!(
        call_succeeds(&server, trusting(&first)).await.is_err(),
        "new connections no longer get the old certificate"
    );
    open.stats()
        .await
        .expect("the connection opened before the reload still works");

    // Without a signal: the server notices the files changed within its check interval.
    let third = TestCa::new(dir.path(), "third");
    let rotated = third.server(dir.path(), "rotated");
    std::fs::copy(&rotated.cert_file, &live.cert_file).expect("replace certificate");
    std::fs::copy(&rotated.key_file, &live.key_file).expect("replace key");
    let mut noticed = Err(String::new());
    for _ in 0..60 {
        noticed = call_succeeds(&server, trusting(&third)).await;
        if noticed.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    noticed.expect("changed files are picked up without a signal");

    // A broken file keeps what is in force.
    std::fs::write(&live.cert_file, "not a certificate").expect("break");
    sighup(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    call_succeeds(&server, trusting(&third))
        .await
        .expect("an unusable certificate file leaves the previous one in force");
    Observation::new("certificate rotation (SIGHUP, file change) and an unusable certificate file", "all", 3)
        .answered("new connections get the new certificate, open ones are kept; a broken file keeps the previous one")
        .record();
}

#[tokio::test]
async fn test_health_only_listener_is_plaintext_and_serves_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new(dir.path(), "main");
    let identity = ca.server(dir.path(), "server");
    let health_address = format!("127.0.0.1:{}", free_port());
    let mut env = tls_env(&identity, None);
    env.push(("DOCSTOKG_HEALTH_LISTEN", health_address.clone()));
    let _server = ServerProcess::start_with(dir.path(), &env, trusting(&ca)).await;

    let probe = CatalogClient::connect(health_address.clone())
        .await
        .expect("plaintext connection to the health listener");
    assert!(probe.health_check("").await.expect("health check"));
    assert!(
        probe
            .health_check(docstokg_catalog::SERVICE_NAME)
            .await
            .expect("catalog health")
    );
    let refused = probe
        .stats()
        .await
        .expect_err("the health listener serves only health");
    // UNIMPLEMENTED, which the client's error kinds fold into Internal.
    assert_eq!(refused.kind, ErrorKind::Internal, "{}", refused.message);
}

fn grpcurl(tool: &Path, tls: &[String], address: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(tls)
        .arg(address)
        .args(args)
        .output()
        .expect("grpcurl runs")
}

#[tokio::test]
async fn test_grpcurl_and_catalogctl_work_over_mutual_tls() {
    let Some(tool) = services::grpcurl() else {
        services::skip("grpcurl over TLS", "grpcurl is not installed");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new(dir.path(), "main");
    let identity = ca.server(dir.path(), "server");
    let operator = ca.client(dir.path(), "operator");
    let server = ServerProcess::start_with(
        dir.path(),
        &tls_env(&identity, Some(&ca)),
        trusting_as(&ca, &operator),
    )
    .await;
    let address = server.address.as_str();
    let path = |p: &Path| p.display().to_string();

    let with_cert = [
        "-cacert".to_owned(),
        path(&ca.cert_file),
        "-cert".to_owned(),
        path(&operator.cert_file),
        "-key".to_owned(),
        path(&operator.key_file),
    ];
    let health = grpcurl(&tool, &with_cert, address, &["grpc.health.v1.Health/Check"]);
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    assert!(String::from_utf8_lossy(&health.stdout).contains("SERVING"));
    let listed = grpcurl(&tool, &with_cert, address, &["list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("docstokg.catalog.v1.CatalogService"));

    let without_cert = ["-cacert".to_owned(), path(&ca.cert_file)];
    let refused = grpcurl(
        &tool,
        &without_cert,
        address,
        &["grpc.health.v1.Health/Check"],
    );
    assert!(
        !refused.status.success(),
        "mTLS refuses grpcurl without -cert"
    );
    let plaintext = grpcurl(&tool, &["-plaintext".to_owned()], address, &["list"]);
    assert!(!plaintext.status.success(), "plaintext grpcurl fails");

    let catalogctl = |extra: &[&str]| {
        Command::new(workspace_binary("catalogctl"))
            .args(["--endpoint", address, "--tls-ca-file"])
            .arg(&ca.cert_file)
            .args(extra)
            .args(["--json", "stats"])
            .output()
            .expect("catalogctl runs")
    };
    let stats = catalogctl(&[
        "--tls-cert-file",
        &path(&operator.cert_file),
        "--tls-key-file",
        &path(&operator.key_file),
    ]);
    assert!(
        stats.status.success(),
        "{}",
        String::from_utf8_lossy(&stats.stderr)
    );
    assert!(String::from_utf8_lossy(&stats.stdout).contains("total_records"));
    let anonymous = catalogctl(&[]);
    assert!(
        !anonymous.status.success(),
        "catalogctl without a certificate is refused"
    );
}
