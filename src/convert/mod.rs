//! The one conversion edge between the generated protobuf messages and the domain types, used by
//! the server (decoding requests, encoding responses) and the Rust client (the reverse). Every
//! request default of the contract is applied here: empty strings on the wire mean "unset" and
//! become `None`, 0 means "the default" where the proto says so, and timestamps are UTC.
//!
//! - `records`: documents, records and registration outcomes;
//! - `queries`: filters, FindDuplicates;
//! - `verification`: Verify and VerifyAll;
//! - `content`: PutContent and GetContent messages;
//! - `reports`: Stats and ProviderHealth;
//! - `lifecycle`: DeleteRecords, ApplyRetention and AuditStorage.

/// Both `From` conversions between a domain struct and a wire message whose fields have the same
/// names: `fields` move as they are, `collections` are converted item by item (a `Vec` of
/// convertible items, or a map collected into the other side's map type).
macro_rules! mirror_conversions {
    ($domain:ty, $wire:ty; fields: $($field:ident),* $(; collections: $($collection:ident),+)?) => {
        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                Self {
                    $($field: value.$field,)*
                    $($($collection: value.$collection.into_iter().map(Into::into).collect(),)+)?
                }
            }
        }

        impl From<$wire> for $domain {
            fn from(value: $wire) -> Self {
                Self {
                    $($field: value.$field,)*
                    $($($collection: value.$collection.into_iter().map(Into::into).collect(),)+)?
                }
            }
        }
    };
}

mod content;
mod lifecycle;
mod queries;
mod records;
mod reports;
mod verification;

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::{CatalogError, Result};

pub use content::{DownloadPart, UploadPart};
pub use records::{imported_record, required_record};

fn none_if_empty(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

/// A domain instant as a protobuf timestamp.
pub fn to_timestamp(instant: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: instant.timestamp(),
        nanos: instant.timestamp_subsec_nanos() as i32,
    }
}

/// A protobuf timestamp as a domain instant; `field` names it in the error.
pub fn from_timestamp(field: &str, timestamp: Timestamp) -> Result<DateTime<Utc>> {
    u32::try_from(timestamp.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(timestamp.seconds, nanos))
        .ok_or_else(|| CatalogError::invalid(field, "is not a valid timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_invalid_timestamp_names_the_field() {
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(
            from_timestamp("filter.created_after", bad)
                .expect_err("bad")
                .field
                .as_deref(),
            Some("filter.created_after")
        );
    }
}
