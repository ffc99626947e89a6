//! Provider health, from real probes of each backend.

use serde::{Deserialize, Serialize};

/// Health of a provider or one of its backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthState {
    /// Every probe succeeded.
    Healthy,
    /// Working, with a problem worth attention.
    Degraded,
    /// A probe failed.
    Unhealthy,
}

/// Health of one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendHealth {
    /// "metadata" or "blobs".
    pub name: String,
    /// Healthy when its last probe succeeded.
    pub state: HealthState,
    /// What the probe found.
    pub message: String,
    /// Probe latency in milliseconds.
    pub latency_ms: f64,
}

/// Health of a provider: the worst of its backends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// Worst backend state.
    pub state: HealthState,
    /// One line naming the backends that are not healthy (or saying all are).
    pub message: String,
    /// One entry per backend.
    pub backends: Vec<BackendHealth>,
}

impl HealthReport {
    /// The report of a provider whose backends reported `backends`.
    pub fn from_backends(backends: Vec<BackendHealth>) -> Self {
        let state = backends
            .iter()
            .map(|b| b.state)
            .max()
            .unwrap_or(HealthState::Healthy);
        let message = match state {
            HealthState::Healthy => "all backends healthy".to_owned(),
            _ => backends
                .iter()
                .filter(|b| b.state != HealthState::Healthy)
                .map(|b| format!("{}: {}", b.name, b.message))
                .collect::<Vec<_>>()
                .join("; "),
        };
        Self {
            state,
            message,
            backends,
        }
    }
}
