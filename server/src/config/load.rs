//! Layering: defaults < YAML file < environment < flags, each layer replacing the values of the
//! one below, every key one of [`SETTINGS`]. Reads the YAML file and flattens it into dotted keys;
//! an unknown key is an error that lists the known keys of its section. The layered strings are
//! then handed to [`super::resolve`].

use std::{collections::BTreeMap, fmt, path::Path};

use serde_yaml_ng::Value;

use super::{
    model::{Config, ConfigError},
    resolve::resolve,
    settings::{self, SETTINGS},
};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The YAML file.
    File,
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File => f.write_str("config file"),
            Self::Env(name) => write!(f, "env {name}"),
            Self::Flag => f.write_str("flag"),
        }
    }
}

/// Every set key's winning value (as text) and the layer it came from.
pub(super) type Layers = BTreeMap<&'static str, (String, Source)>;

/// Loads the configuration: `flags` (key, value) over the environment (read through `env`) over
/// the YAML `file` over defaults, then resolves and checks every value.
pub fn load(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    flags: &[(&'static str, String)],
) -> Result<Config, ConfigError> {
    let mut values = Layers::new();
    for setting in SETTINGS {
        if let Some(default) = setting.default {
            values.insert(setting.key, (default.to_owned(), Source::Default));
        }
    }
    if let Some(path) = file {
        for (key, value) in read_file(path)? {
            values.insert(key, (value, Source::File));
        }
    }
    for setting in SETTINGS {
        if let Some((name, value)) = setting
            .env
            .iter()
            .find_map(|name| env(name).map(|value| (*name, value)))
        {
            values.insert(setting.key, (value, Source::Env(name)));
        }
    }
    for (key, value) in flags {
        values.insert(key, (value.clone(), Source::Flag));
    }
    resolve(values)
}

fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
    let document: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
        ConfigError(format!(
            "config file {} is not valid YAML: {e}",
            path.display()
        ))
    })?;
    let mut flat = Vec::new();
    if !document.is_null() {
        flatten("", &document, &mut flat)?;
    }
    Ok(flat)
}

/// Appends the leaves of `value` (the mapping at `prefix`) as (setting key, text); a list
/// becomes one string, its items joined by the setting's separator (`:` unless it says otherwise).
fn flatten(
    prefix: &str,
    value: &Value,
    out: &mut Vec<(&'static str, String)>,
) -> Result<(), ConfigError> {
    let Value::Mapping(mapping) = value else {
        return Err(ConfigError(format!("{prefix} must be a mapping of keys")));
    };
    for (name, child) in mapping {
        let name = name
            .as_str()
            .ok_or_else(|| ConfigError(format!("keys under {prefix} must be strings")))?;
        let key = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        match child {
            Value::Mapping(_)
                if SETTINGS
                    .iter()
                    .any(|s| s.key.starts_with(&format!("{key}."))) =>
            {
                flatten(&key, child, out)?
            }
            Value::Sequence(items) if settings::find(&key).is_some() => {
                let setting = settings::find(&key).ok_or_else(|| unknown_key(&key))?;
                let parts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
                let parts =
                    parts.ok_or_else(|| ConfigError(format!("{key} must be a list of strings")))?;
                out.push((setting.key, parts.join(setting.list_separator)));
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
                let setting = settings::find(&key).ok_or_else(|| unknown_key(&key))?;
                if let Some(text) = scalar_text(child) {
                    out.push((setting.key, text));
                }
            }
            _ => return Err(unknown_key(&key)),
        }
    }
    Ok(())
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The error for a key not in [`SETTINGS`], listing the known keys of its section.
pub(super) fn unknown_key(key: &str) -> ConfigError {
    let hint = match key.rsplit_once('.') {
        None => " (top-level keys: catalog, server)".to_owned(),
        Some((section, _)) => {
            let known: Vec<&str> = SETTINGS
                .iter()
                .filter_map(|s| s.key.strip_prefix(section)?.strip_prefix('.'))
                .filter(|rest| !rest.contains('.'))
                .collect();
            format!(" (known keys under {section}: {})", known.join(", "))
        }
    };
    ConfigError(format!("unknown configuration key {key}{hint}"))
}
