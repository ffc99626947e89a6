//! Stats and ProviderHealth answers.

use crate::{BackendHealth, CatalogStats, HealthReport, HealthState, StorageBackend, proto};

mirror_conversions!(StorageBackend, proto::StorageBackend; fields: role, kind, location);
mirror_conversions!(
    CatalogStats, proto::StatsResponse;
    fields: provider, total_records, total_bytes, unique_sha256, unique_artifacts, duplicate_groups;
    collections: by_resolver, storage_backends, details
);

impl From<HealthState> for proto::HealthState {
    fn from(s: HealthState) -> Self {
        match s {
            HealthState::Healthy => Self::Healthy,
            HealthState::Degraded => Self::Degraded,
            HealthState::Unhealthy => Self::Unhealthy,
        }
    }
}

impl From<proto::HealthState> for HealthState {
    fn from(s: proto::HealthState) -> Self {
        match s {
            proto::HealthState::Healthy => Self::Healthy,
            proto::HealthState::Degraded => Self::Degraded,
            proto::HealthState::Unhealthy | proto::HealthState::Unspecified => Self::Unhealthy,
        }
    }
}

impl From<HealthReport> for proto::ProviderHealthResponse {
    fn from(h: HealthReport) -> Self {
        Self {
            state: proto::HealthState::from(h.state) as i32,
            message: h.message,
            backends: h
                .backends
                .into_iter()
                .map(|b| proto::BackendHealth {
                    name: b.name,
                    state: proto::HealthState::from(b.state) as i32,
                    message: b.message,
                    latency_ms: b.latency_ms,
                })
                .collect(),
        }
    }
}

impl From<proto::ProviderHealthResponse> for HealthReport {
    fn from(h: proto::ProviderHealthResponse) -> Self {
        Self {
            state: h.state().into(),
            message: h.message.clone(),
            backends: h
                .backends
                .into_iter()
                .map(|b| BackendHealth {
                    state: b.state().into(),
                    name: b.name,
                    message: b.message,
                    latency_ms: b.latency_ms,
                })
                .collect(),
        }
    }
}
