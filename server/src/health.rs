//! Health: timed probes of each backend, and the watcher that flips the standard
//! `grpc.health.v1` status with them, without a restart.

use std::{future::Future, sync::Arc, time::Duration};

use docstokg_catalog::{BackendHealth, Catalog, HealthState, Result, SERVICE_NAME};
use tokio::{sync::watch, time::Instant};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::metering;

/// The longest a probe may take before its backend counts as down.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `probe` with a deadline and reports its outcome and latency as the health of `name`.
pub async fn timed_probe(name: &str, probe: impl Future<Output = Result<String>>) -> BackendHealth {
    let started = Instant::now();
    let outcome = tokio::time::timeout(PROBE_TIMEOUT, probe).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (state, message) = match outcome {
        Ok(Ok(message)) => (HealthState::Healthy, message),
        Ok(Err(error)) => (HealthState::Unhealthy, error.message),
        Err(_) => (
            HealthState::Unhealthy,
            format!("no answer within {PROBE_TIMEOUT:?}"),
        ),
    };
    BackendHealth {
        name: name.to_owned(),
        state,
        message,
        latency_ms,
    }
}

/// A `grpc.health.v1` service name that reports whether the process serves at all, whatever its
/// backends: SERVING from start-up until shutdown. Kubernetes' liveness probe asks for it, since a
/// restart cannot cure a database outage (readiness asks for the catalog service instead).
pub const LIVENESS_SERVICE: &str = "liveness";

/// Sets the liveness service's status.
pub async fn set_alive(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status(LIVENESS_SERVICE, status).await;
}

/// Sets the serving status of "" (the whole server) and of the catalog service.
pub async fn set_status(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter.set_service_status(SERVICE_NAME, status).await;
}

/// Probes the provider every `interval` and keeps `grpc.health.v1` in step: NOT_SERVING while a
/// backend is unhealthy, SERVING once it answers again. Stops when `shutdown` turns true.
pub async fn watch_provider(
    catalog: Arc<dyn Catalog>,
    reporter: HealthReporter,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last: Option<ServingStatus> = None;
    loop {
        let report = catalog.provider_health().await;
        if let Ok(report) = &report {
            for backend in &report.backends {
                metering::backend_up(&backend.name, backend.state == HealthState::Healthy);
            }
        }
        let status = match report {
            Ok(report) if report.state != HealthState::Unhealthy => ServingStatus::Serving,
            Ok(report) => {
                if last != Some(ServingStatus::NotServing) {
                    tracing::warn!(message = %report.message, "provider unhealthy: reporting NOT_SERVING");
                }
                ServingStatus::NotServing
            }
            Err(error) => {
                tracing::warn!(%error, "provider health probe failed: reporting NOT_SERVING");
                ServingStatus::NotServing
            }
        };
        if *shutdown.borrow() {
            return;
        }
        if last != Some(status) {
            if status == ServingStatus::Serving && last.is_some() {
                tracing::info!("provider healthy again: reporting SERVING");
            }
            set_status(&reporter, status).await;
            last = Some(status);
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}
