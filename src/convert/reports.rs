//! Stats and ProviderHealth answers.

use crate::{BackendHealth, CatalogStats, HealthReport, HealthState, StorageBackend, proto};

mirror_conversions!(StorageBackend, proto::StorageBackend; fields: role, kind, location);
impl From<CatalogStats> for proto::StatsResponse {
    fn from(s: CatalogStats) -> Self {
        Self {
            dedup_ratio: s.dedup_ratio(),
            provider: s.provider,
            total_records: s.total_records,
            total_bytes: s.total_bytes,
            unique_sha256: s.unique_sha256,
            unique_artifacts: s.unique_artifacts,
            duplicate_groups: s.duplicate_groups,
            by_resolver: s.by_resolver.into_iter().collect(),
            storage_backends: s.storage_backends.into_iter().map(Into::into).collect(),
            details: s.details.into_iter().collect(),
            hashed_bytes: s.hashed_bytes,
            unique_bytes: s.unique_bytes,
            dedup_saved_bytes: s.dedup_saved_bytes,
            duplicate_groups_by_resolver: s.duplicate_groups_by_resolver.into_iter().collect(),
        }
    }
}

impl From<proto::StatsResponse> for CatalogStats {
    /// The ratio is not carried: [`CatalogStats::dedup_ratio`] recomputes it from the sizes.
    fn from(s: proto::StatsResponse) -> Self {
        Self {
            provider: s.provider,
            total_records: s.total_records,
            total_bytes: s.total_bytes,
            unique_sha256: s.unique_sha256,
            unique_artifacts: s.unique_artifacts,
            duplicate_groups: s.duplicate_groups,
            by_resolver: s.by_resolver.into_iter().collect(),
            storage_backends: s.storage_backends.into_iter().map(Into::into).collect(),
            details: s.details.into_iter().collect(),
            hashed_bytes: s.hashed_bytes,
            unique_bytes: s.unique_bytes,
            dedup_saved_bytes: s.dedup_saved_bytes,
            duplicate_groups_by_resolver: s.duplicate_groups_by_resolver.into_iter().collect(),
        }
    }
}

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
