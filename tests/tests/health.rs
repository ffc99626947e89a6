//! grpc.health.v1 follows the provider's real probes: NOT_SERVING while a backend fails, SERVING
//! again once it recovers, without a restart.

use std::time::Duration;

use docstokg_catalog::{Catalog, HealthState};
use docstokg_catalog_tests::harness::development_over_grpc;

async fn wait_for_health(client: &docstokg_catalog_client::CatalogClient, serving: bool) -> bool {
    for _ in 0..100 {
        if client.health_check("").await.expect("health answers") == serving {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_health_flips_with_the_blob_store_and_recovers() {
    let subject = development_over_grpc().await.expect("development provider");
    let client = docstokg_catalog_client::CatalogClient::connect(
        subject.endpoint.clone().expect("endpoint"),
    )
    .await
    .expect("connect");
    assert!(wait_for_health(&client, true).await);
    let blobs = subject.local_root().expect("local blobs").to_path_buf();
    // Take the blob store away: its write-read probe fails.
    std::fs::rename(&blobs, blobs.with_extension("away")).expect("move the blob root away");
    assert!(
        wait_for_health(&client, false).await,
        "health never reported NOT_SERVING"
    );
    assert!(
        !client
            .health_check("docstokg.catalog.v1.CatalogService")
            .await
            .expect("health")
    );
    assert!(
        client.health_check("liveness").await.expect("health"),
        "liveness stays SERVING while a backend is down: a restart would not help"
    );
    let report = client
        .provider_health()
        .await
        .expect("ProviderHealth still answers");
    assert_eq!(report.state, HealthState::Unhealthy);
    let blob_backend = report
        .backends
        .iter()
        .find(|b| b.name == "blobs")
        .expect("blobs backend");
    assert_eq!(blob_backend.state, HealthState::Unhealthy);
    std::fs::rename(blobs.with_extension("away"), &blobs).expect("bring it back");
    assert!(
        wait_for_health(&client, true).await,
        "health never returned to SERVING"
    );
    assert_eq!(
        client.provider_health().await.expect("health").state,
        HealthState::Healthy
    );
}
