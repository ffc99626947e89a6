//! The conformance suite: the observable behaviour every provider must show, in-process and over
//! gRPC alike. [`conformance_suite!`](crate::conformance_suite) expands it into one test per case.

use std::collections::HashSet;

use bytes::Bytes;
use docstokg_catalog::{
    ContentHeader, ContentRequest, ContentSelector, DuplicateQuery, ErrorKind, HealthState,
    NewDocument, RecordFilter, VerificationStatus, VerifyAllEvent, VerifyAllOptions,
};
use futures::{StreamExt, TryStreamExt, future::join_all};

use crate::{data::*, harness::Subject};

mod content;
mod field_names;
mod import;
mod lifecycle;
mod queries;
mod registration;
mod verification;

pub use content::*;
pub use field_names::*;
pub use import::*;
pub use lifecycle::*;
pub use queries::*;
pub use registration::*;
pub use verification::*;

/// Expands into a `#[tokio::test]` per conformance case, each on a fresh subject from `$factory`
/// (an `async fn() -> Option<Subject>`; `None` means its services are missing).
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_cases!($factory;
            register_twice_returns_same_id,
            register_twice_reports_differing_fields,
            different_resolver_is_a_different_record,
            lookups_return_expected_counts_newest_first,
            find_duplicates_empty_on_empty_catalog,
            find_duplicates_empty_on_unique_hashes,
            find_duplicates_groups_three_records_sharing_a_hash,
            find_duplicates_orders_by_count_then_hash,
            stats_on_empty_catalog_are_zero,
            stats_on_three_records,
            concurrent_distinct_registrations_get_distinct_ids,
            concurrent_registrations_of_one_key_get_one_id,
            batch_returns_one_outcome_per_item_in_order,
            invalid_input_is_rejected_naming_the_field,
            invalid_batch_registers_nothing,
            longest_allowed_fields_are_accepted,
            unknown_record_id_is_not_found,
            list_records_streams_by_id_with_filters,
            injection_strings_are_stored_verbatim,
            put_content_round_trips_and_deduplicates,
            get_content_returns_a_range,
            upload_with_wrong_hash_leaves_nothing,
            upload_with_wrong_size_leaves_nothing,
            interrupted_upload_leaves_nothing,
            verify_detects_changed_and_missing_bytes,
            verify_outside_storage_is_out_of_scope,
            verify_without_hash_is_no_hash,
            verify_all_reports_every_record_and_a_summary,
            provider_health_is_healthy,
            import_keeps_fields_timestamps_and_free_ids,
            import_rejects_bad_records_naming_the_field,
            bad_reads_and_queries_name_their_field,
            bad_content_requests_name_their_field,
            delete_by_ids_is_idempotent_and_frees_the_key,
            delete_by_filter_deletes_only_matches,
            stats_report_dedup_savings,
            find_duplicates_limit_returns_the_largest_groups,
            audit_finds_orphans_missing_mismatches_and_out_of_scope,
            registration_pointing_at_missing_stored_bytes_is_refused,
        );
    };
}

/// Expands the named cases of [`conformance_suite!`](crate::conformance_suite).
#[macro_export]
macro_rules! conformance_cases {
    ($factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(subject) = $factory().await else { return };
                $crate::conformance::$case(&subject).await;
            }
        )*
    };
}

/// The error kind and field of a failed call.
fn rejection<T: std::fmt::Debug>(
    result: docstokg_catalog::Result<T>,
) -> (ErrorKind, Option<String>) {
    let error = result.expect_err("the call must fail");
    (error.kind, error.field)
}

/// An upload header for `artifact_id`.
fn header(artifact_id: &str) -> ContentHeader {
    ContentHeader {
        artifact_id: artifact_id.to_owned(),
        source_url: format!("https://x/{artifact_id}.pdf"),
        resolver: "unpaywall".to_owned(),
        content_type: Some("application/pdf".to_owned()),
        ..ContentHeader::default()
    }
}
