//! Configuration: flags > environment > YAML file > defaults, every key in [`settings::SETTINGS`].
//! Unknown keys, missing required values and values out of range stop start-up with a message
//! naming both the environment variable and the YAML key.
//!
//! One file per concern:
//! - [`settings`]: the table of every key (YAML path, env vars, default, secret, meaning).
//! - `load`: the layering of defaults, YAML file, environment and flags; YAML flattening and
//!   unknown-key errors; [`load()`] itself.
//! - `resolve`: the layered strings parsed and checked into the typed [`Config`].
//! - `preset`: the named providers and the one rule for which section (`catalog.dev`,
//!   `catalog.enterprise`, `catalog.cloud`) a store's settings come from.
//! - `model`: the typed configuration ([`Config`], [`ProviderConfig`], [`ServerConfig`], ...).
//! - `render`: `catalog-server config` ([`Config::render`]) and `config --reference`
//!   ([`reference_markdown`]).
//! - `redact`: hiding secrets before they are printed or logged ([`redact()`]).

mod load;
mod model;
mod preset;
mod redact;
mod render;
mod resolve;
pub mod settings;

pub use load::{Source, load};
pub use model::{
    BlobConfig, Config, ConfigError, LogFormat, MetadataConfig, ProviderConfig, S3Config,
    ServerConfig, TlsConfig,
};
pub use preset::ProviderName;
pub use redact::redact;
pub use render::reference_markdown;

#[cfg(test)]
mod tests;
